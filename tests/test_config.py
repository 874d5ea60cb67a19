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


# --- list settings: the JSON form `config show` prints, or comma-separated -------------------


def test_a_list_from_the_environment_in_json_form_is_a_list():
    """`CSSW_DOCS_MAIL__SMT='["smt@camden.gov.uk"]'` (config show's form) gives one address."""
    s = config.load(environ={"CSSW_DOCS_MAIL__SMT": '["smt@camden.gov.uk", "l@camden.gov.uk"]'})
    assert s.mail.smt == ("smt@camden.gov.uk", "l@camden.gov.uk")


def test_a_list_from_the_environment_may_be_comma_separated():
    """`a, b` gives two addresses, spaces trimmed, empty items left out."""
    s = config.load(environ={"CSSW_DOCS_MAIL__HEAD_OF_QA": "hq@camden.gov.uk, dep@camden.gov.uk,"})
    assert s.mail.head_of_qa == ("hq@camden.gov.uk", "dep@camden.gov.uk")


def test_what_config_show_prints_for_a_list_reads_back_the_same():
    """The line `config show` prints for a list, put in the environment, gives the same list."""
    s = config.Settings().with_changes(**{"mail.smt": ["smt@camden.gov.uk", "x@camden.gov.uk"]})
    shown = next(ln for ln in config.to_toml(s, environ={}).splitlines() if ln.startswith("smt"))
    value = shown.split("=", 1)[1].strip()
    assert config.load(environ={"CSSW_DOCS_MAIL__SMT": value}).mail.smt == s.mail.smt


@pytest.mark.parametrize(
    ("toml", "complaint"),
    [
        ("[mail]\nsmt = [1, 2]\n", r"mail\.smt must be a list of text"),
        ("[mail]\nsmt = 5\n", r"mail\.smt must be a list"),
        ('[render]\npdf = "sometimes"\n', r"render\.pdf must be true or false"),
        ("[service]\nworkers = 2.5\n", r"service\.workers must be a whole number"),
        ("[service]\nsettle_seconds = true\n", r"service\.settle_seconds must be a number"),
        ('[render]\nmarking = ["x"]\n', r"render\.marking must be text"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_refused(tmp_path, toml, complaint):
    """A list must be a list of text, a switch true or false, a number a number."""
    f = tmp_path / "c.toml"
    f.write_text(toml)
    with pytest.raises(config.ConfigError, match=complaint):
        config.load(f, environ={})


def test_a_list_that_starts_like_json_but_is_not_is_refused():
    """A broken JSON list is not read as one odd address: it is refused with an example."""
    with pytest.raises(config.ConfigError, match=r"mail\.smt starts with \[ but is not a list"):
        config.load(environ={"CSSW_DOCS_MAIL__SMT": '["smt@camden.gov.uk"'})


def test_a_misspelt_switch_in_the_environment_is_refused_not_read_as_false():
    """`CSSW_DOCS_RENDER__PDF=ture` used to mean false without a word; now it is refused."""
    with pytest.raises(config.ConfigError, match=r"render\.pdf must be true or false"):
        config.load(environ={"CSSW_DOCS_RENDER__PDF": "ture"})


def test_every_unusable_setting_is_named_at_once(tmp_path):
    """Two wrong settings give one error naming both, so they can be fixed in one go."""
    f = tmp_path / "c.toml"
    f.write_text('[service]\nworkers = "two"\nsettle = 1\n[render]\npdf = "maybe"\n')
    with pytest.raises(config.ConfigError) as caught:
        config.load(f, environ={})
    text = str(caught.value)
    assert "service.workers" in text and "service.settle" in text and "render.pdf" in text


def test_the_child_is_named_on_case_documents_unless_switched_off():
    """render.name_child is on by default and can be turned off."""
    assert config.Settings().render.name_child is True
    assert config.load(environ={"CSSW_DOCS_RENDER__NAME_CHILD": "false"}).render.name_child is False
