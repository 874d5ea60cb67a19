"""`cssw-docs status`, `watch --once` and `config show`: plain text for the people running it."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cssw_docs.cli import cli
from service_support import FAST, drop, example_bytes, run_once


def use_folders(monkeypatch, tmp) -> None:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CSSW_DOCS_SERVICE__INTAKE", str(tmp / "intake"))
    monkeypatch.setenv("CSSW_DOCS_SERVICE__OUTBOX", str(tmp / "outbox"))
    monkeypatch.setenv("CSSW_DOCS_SERVICE__STATE_DIR", str(tmp / "state"))
    monkeypatch.chdir(tmp)


@pytest.mark.slow
def test_watch_once_then_status(tmp_path, monkeypatch, good_audit):
    """A --once run prints its summary; status then lists the outcomes without names."""
    use_folders(monkeypatch, tmp_path)
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", f"{good_audit.child_name}.xlsx", example_bytes("good"))
    drop(tmp_path / "intake", "bad.xlsx", example_bytes("invalid-incomplete"))
    result = run_once(tmp_path)
    assert result.stdout.startswith("1 pack(s) made, 1 workbook(s) rejected, 0 duplicate(s)")
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 0, status.output
    assert "Watcher: not running" in status.output
    assert "pack Final v1 in" in status.output
    assert "rejected, 4 problems; see" in status.output
    assert good_audit.child_name not in status.output
    assert "Workbooks waiting to be processed: 0" in status.output
    # No mail server is set: the emails were written as .eml files, not sent.
    assert "written, not sent (no mail server set)" in status.output
    assert " sent (see" not in status.output and "sent," not in status.output
    mail_status = CliRunner().invoke(cli, ["mail", "status"])
    assert "written, not sent (no mail server set)" in mail_status.output, mail_status.output


@pytest.mark.slow
def test_status_lists_retries(tmp_path, monkeypatch):
    """A workbook that hit a temporary problem is listed with its attempt count and reason."""
    use_folders(monkeypatch, tmp_path)
    (tmp_path / "intake").mkdir()
    (tmp_path / "outbox").write_text("not a folder")
    drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
    result = run_once(tmp_path)
    assert result.returncode == 0
    assert "1 workbook(s) hit a temporary problem" in result.stdout
    status = CliRunner().invoke(cli, ["status"])
    assert "Waiting for a retry:" in status.output
    assert "attempt 1 of 5 failed: RenderError: Cannot create the pack folder" in status.output
    assert "Jobs in progress: 1 (1 validated)" in status.output


def test_status_before_anything_ran(tmp_path, monkeypatch):
    """With no ledger yet, status says so plainly rather than failing."""
    use_folders(monkeypatch, tmp_path)
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 0 and "No finished jobs yet." in status.output


def test_config_show_masks_secrets(tmp_path, monkeypatch):
    """config show prints the effective settings as TOML; the password is never shown."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CSSW_DOCS_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("CSSW_DOCS_SERVICE__SETTLE_SECONDS", "2.5")
    (tmp_path / "cssw-docs.toml").write_text('[mail]\nhost = "smtp.example.gov.uk"\n')
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "# password: ******** (set; read only from $CSSW_DOCS_SMTP_PASSWORD)" in result.output
    assert 'host = "smtp.example.gov.uk"' in result.output
    assert "settle_seconds = 2.5" in result.output
    assert result.output.startswith("# Effective settings: cssw-docs.toml")


def test_config_show_output_loads_back(tmp_path, monkeypatch):
    """What config show prints can be saved as cssw-docs.toml and gives the same settings."""
    from cssw_docs import config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSSW_DOCS_SMTP_PASSWORD", raising=False)
    result = CliRunner().invoke(cli, ["config", "show"])
    (tmp_path / "saved.toml").write_text(result.output)
    assert config.load(tmp_path / "saved.toml", environ={}) == config.load(environ={})


@pytest.mark.slow
def test_watch_takes_its_folders_from_a_config_file(tmp_path, monkeypatch):
    """`watch --once --config FILE` uses the folders the file names."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("CSSW_DOCS_"):
            monkeypatch.delenv(key)
    conf = tmp_path / "site.toml"
    conf.write_text(
        '[service]\nintake = "in"\noutbox = "out"\nstate_dir = "st"\nsettle_seconds = 0.2\n'
        "[render]\nstoryboard_pdf = false\n"
    )
    (tmp_path / "in").mkdir()
    drop(tmp_path / "in", "a.xlsx", example_bytes("invalid-incomplete"))
    result = CliRunner().invoke(cli, ["watch", "--once", "--config", str(conf)])
    assert result.exit_code == 0, result.output
    assert "0 pack(s) made, 1 workbook(s) rejected" in result.output
    assert len(list((tmp_path / "in" / "rejected").rglob("a.xlsx"))) == 1
    assert (tmp_path / "st" / "ledger.sqlite3").exists()
