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


def test_the_reference_pattern_has_a_strict_default():
    """Out of the box a reference is 2-8 capitals, the year and a number: CSSW-2026-0142."""
    s = config.Settings()
    assert s.validation.reference_pattern == r"^[A-Z]{2,8}-\d{4}-\d{3,6}$"
    assert s.validation.reference_example == "CSSW-2026-0142"


def test_a_council_can_set_its_own_reference_pattern(tmp_path):
    """A pattern of letters, digits and dashes with an example that fits it is accepted."""
    f = tmp_path / "c.toml"
    f.write_text(
        '[validation]\nreference_pattern = "FD[0-9]{6}(-[A-Z])?"\nreference_example = "FD123456"\n'
    )
    s = config.load(f, environ={})
    assert s.validation.reference_pattern == "FD[0-9]{6}(-[A-Z])?"


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("[A-Z", "not a valid regular expression"),
        (".+", "cannot be used in a file name"),
        (r"\S+", "cannot be used in a file name"),
        ("[^x]+", "cannot be used in a file name"),
        ("[A-Z]+(/[0-9]+)?", r"'/'"),
        ("[A-Z]+[.][0-9]+", r"'\.'"),
        ("[+-9A-Z]+", r"'\.' '/'"),  # a range that runs over . and /
        (r"[A-Z]+\s[0-9]+", "' '"),
        (r"[A-Z]+\\[0-9]+", r"'\\\\'"),
        (r"(CSSW)-\1", "cannot check"),
    ],
)
def test_a_reference_pattern_that_could_name_a_path_is_refused_at_load(
    tmp_path, pattern, complaint
):
    """The pattern must compile and must not let a separator, dot or space into a reference."""
    with pytest.raises(config.ConfigError, match=complaint):
        config.load(environ={"CSSW_DOCS_VALIDATION__REFERENCE_PATTERN": pattern})


def test_a_reference_example_must_fit_the_pattern():
    """The example shown in messages is checked against the pattern at load."""
    with pytest.raises(config.ConfigError, match="reference_example"):
        config.load(
            environ={
                "CSSW_DOCS_VALIDATION__REFERENCE_PATTERN": "FD[0-9]{6}",
                "CSSW_DOCS_VALIDATION__REFERENCE_EXAMPLE": "CSSW-2026-0142",
            }
        )
