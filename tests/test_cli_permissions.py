"""Files the command line writes that hold case data are the account's own (0600), whatever
the umask; the SMTP password's variable and the settings file are guarded too."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cssw_docs import config
from cssw_docs.cli import cli
from cssw_docs.workbook.generate import write_submission
from oversight_support import build_ledger


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run with the usual login umask (files 0644 unless the program says otherwise)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(folder: Path) -> dict[str, int]:
    """Return the permission bits of every file under ``folder`` (relative names)."""
    return {
        p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.slow
def test_render_writes_the_pack_for_the_owner_only(tmp_path, umask_022, good_audit, the_rubric):
    """`cssw-docs render` under umask 022: every file of the pack is 0600, folders 0700."""
    workbook = tmp_path / "audit.xlsx"
    write_submission(good_audit, workbook, the_rubric)
    outbox = tmp_path / "outbox"
    result = CliRunner().invoke(cli, ["render", str(workbook), "-o", str(outbox)])
    assert result.exit_code == 0, result.output
    modes = _modes(outbox)
    assert any(name.endswith("Audit report.docx") for name in modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
    for folder in (p for p in outbox.rglob("*") if p.is_dir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(os.umask(0o022)) == 0o022  # the test process's umask is given back


@pytest.mark.slow
def test_validate_annotate_writes_the_marked_copy_for_the_owner_only(
    tmp_path, umask_022, good_audit, the_rubric
):
    """The marked copy (`validate --annotate`) names the child: 0600 too."""
    workbook = tmp_path / "audit.xlsx"
    write_submission(good_audit, workbook, the_rubric)
    marked = tmp_path / "marked.xlsx"
    CliRunner().invoke(cli, ["validate", str(workbook), "--annotate", str(marked)])
    assert stat.S_IMODE(marked.stat().st_mode) == 0o600


@pytest.mark.slow
def test_report_and_moderation_workbook_are_for_the_owner_only(tmp_path, umask_022, the_rubric):
    """`cssw-docs report` and `moderation list --xlsx` write 0600 files."""
    state = tmp_path / "state"
    state.mkdir()
    build_ledger(state, the_rubric)
    settings = tmp_path / "cssw-docs.toml"
    settings.write_text(f'[service]\nstate_dir = "{state.as_posix()}"\n', "utf-8")
    runner = CliRunner()
    base = ["--config", str(settings)]
    dest = tmp_path / "reports" / "2026"
    report = runner.invoke(cli, [*base, "report", "--from", "01/01/2026", "--to", "31/12/2026",
                                 "-o", str(dest)])  # fmt: skip
    assert report.exit_code == 0, report.output
    panel = tmp_path / "panel.xlsx"
    listed = runner.invoke(cli, [*base, "moderation", "list", "--xlsx", str(panel)])
    assert listed.exit_code == 0, listed.output
    written = [dest.with_name("2026.xlsx"), dest.with_name("2026.docx"), panel]
    assert [stat.S_IMODE(p.stat().st_mode) for p in written] == [0o600] * 3


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["HOME", "AWS_SECRET_ACCESS_KEY", "cssw_docs_smtp_password", "CSSW_DOCS_MAIL__HOST"]
)
def test_password_env_must_name_a_cssw_docs_variable(tmp_path, name):
    """The password cannot be read from any other variable (it would go to the mail server)."""
    path = tmp_path / "cssw-docs.toml"
    path.write_text(f'[mail]\npassword_env = "{name}"\n', "utf-8")
    path.chmod(0o600)
    with pytest.raises(config.ConfigError, match="must come from a variable whose name starts"):
        config.load(path, environ={})


def test_password_env_named_in_the_environment_is_checked_too():
    """`CSSW_DOCS_MAIL__PASSWORD_ENV=HOME` is refused like the settings file would be."""
    with pytest.raises(config.ConfigError, match="CSSW_DOCS_"):
        config.load(None, environ={"CSSW_DOCS_MAIL__PASSWORD_ENV": "HOME"})


def test_a_settings_file_everyone_can_read_that_names_the_smtp_login_is_warned(tmp_path, caplog):
    """World-readable and naming the password variable: a warning saying how to fix it."""
    path = tmp_path / "cssw-docs.toml"
    path.write_text('[mail]\nusername = "svc"\npassword_env = "CSSW_DOCS_SMTP_PASSWORD"\n', "utf-8")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="cssw_docs"):
        settings = config.load(path, environ={})
    assert settings.mail.password_env == "CSSW_DOCS_SMTP_PASSWORD"
    assert any("chmod o-rwx" in r.getMessage() for r in caplog.records)
    caplog.clear()
    path.chmod(0o640)  # readable by the service's group only, as the systemd setup installs it
    with caplog.at_level(logging.WARNING, logger="cssw_docs"):
        config.load(path, environ={})
    assert not caplog.records
