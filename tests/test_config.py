"""Settings come from a TOML file, overridden by CSSW_DOCS_* variables; secrets never from file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cssw_docs import config


def test_defaults_without_a_file(tmp_path, monkeypatch):
    """With no file and no variables the defaults apply."""
    monkeypatch.chdir(tmp_path)
    s = config.load(environ={})
    assert s.service.intake == Path("intake") and s.render.marking == "OFFICIAL-SENSITIVE"


def test_file_then_environment(tmp_path):
    """The file sets values; an environment variable overrides the file."""
    f = tmp_path / "c.toml"
    f.write_text('[service]\nsettle_seconds = 3\n[mail]\nallowed_domains = ["camden.gov.uk"]\n')
    s = config.load(f, environ={"CSSW_DOCS_SERVICE__SETTLE_SECONDS": "0.5"})
    assert s.service.settle_seconds == 0.5
    assert s.mail.allowed_domains == ("camden.gov.uk",)


def test_password_in_file_is_refused(tmp_path):
    """A password in the config file is refused with a message saying where it belongs."""
    f = tmp_path / "c.toml"
    f.write_text('[mail]\npassword = "hunter2"\n')
    with pytest.raises(config.ConfigError, match="environment"):
        config.load(f, environ={})


def test_unknown_setting_is_named(tmp_path):
    """A misspelt setting is named in the error."""
    f = tmp_path / "c.toml"
    f.write_text("[service]\nsettle = 3\n")
    with pytest.raises(config.ConfigError, match=r"service\.settle"):
        config.load(f, environ={})


def test_a_limit_moved_to_the_rubric_says_where_it_went(tmp_path):
    """The guide's limits are no longer settings; the old name points at the rubric's [rules]."""
    f = tmp_path / "c.toml"
    f.write_text("[validation]\nplan_horizon_months = 3\n")
    with pytest.raises(
        config.ConfigError, match=r"action_due_within_months in the rubric's \[rules\]"
    ):
        config.load(f, environ={})
