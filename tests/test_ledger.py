"""The ledger's integrity: checked at start, backed up daily, restored, rebuilt after loss."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cssw_docs.cli import cli
from cssw_docs.config import Settings
from cssw_docs.models import JobState, MailState
from cssw_docs.service.watch import Watcher
from cssw_docs.store import backup, db, jobs, mail
from service_support import drop, env, example_bytes, packs, run_once
from service_support import jobs as job_rows

REF_OF = {"good": "CSSW-2026-0142", "outstanding": "CSSW-2026-0157"}
T0 = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)


def _ledger_with_jobs(state: Path, n: int = 3000) -> Path:
    """Return a ledger holding ``n`` finished jobs (many pages), checkpointed into the file."""
    conn = db.open_ledger(state)
    for i in range(n):
        jobs.insert_finished_job(
            conn,
            f"job-{i:05d}",
            sha256=f"{i:064x}",
            state=JobState.PROCESSED,
            source_name="x.xlsx",
            finished_at="2026-11-26T03:00:00+00:00",
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db.db_path(state)


def _corrupt(path: Path, offset: int, size: int = 4096) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(size))


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cssw_docs", *args],
        cwd=tmp,
        env=env(tmp),
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- integrity at start -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_ledger_with_a_broken_header_stops_the_service_plainly_with_status_4(tmp_path):
    """Not "DatabaseError, exit 3" (restarted every 30 s): the reason and the recovery steps."""
    path = _ledger_with_jobs(tmp_path / "state", 10)
    _corrupt(path, 0, 100)
    (tmp_path / "intake").mkdir()
    done = run_once(tmp_path)
    assert done.returncode == 4, done.stderr
    assert "is damaged" in done.stderr and "cssw-docs ledger restore" in done.stderr
    assert "cssw-docs ledger rebuild" in done.stderr and "did not expect" not in done.stderr
    status = _cli(tmp_path, "status")
    assert status.returncode == 4 and "cssw-docs ledger restore" in status.stderr


@pytest.mark.slow
def test_corruption_in_the_middle_of_the_ledger_is_found_before_anything_runs(tmp_path):
    """A damaged page deep in the file (the ledger still opens) is caught by quick_check."""
    path = _ledger_with_jobs(tmp_path / "state")
    pages = path.stat().st_size // 4096
    _corrupt(path, 4096 * (pages // 2))
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] >= 1  # opens without complaint
    raw.close()
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
    done = run_once(tmp_path)
    assert done.returncode == 4, done.stderr
    assert "is damaged" in done.stderr and "cssw-docs ledger restore" in done.stderr
    assert (tmp_path / "intake" / "good.xlsx").exists()  # not touched
    check = _cli(tmp_path, "ledger", "check")
    assert check.returncode == 4 and "SQLite's check found" in check.stderr


def test_the_ledger_going_bad_while_running_stops_the_watcher(tmp_path, the_rubric):
    """SQLite reporting corruption mid-run stops the loop with the recovery steps."""
    settings = Settings().with_changes(**{"service.state_dir": tmp_path / "state"})
    watcher = Watcher(settings, the_rubric)
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    assert not watcher._stop_if_damaged(busy) and not watcher.stopping
    bad = sqlite3.DatabaseError("database disk image is malformed")
    bad.sqlite_errorname = "SQLITE_CORRUPT"
    assert watcher._stop_if_damaged(bad) and watcher.stopping
    assert isinstance(watcher.fatal, db.LedgerDamaged)
    assert "cssw-docs ledger restore" in str(watcher.fatal)


# --- backups ----------------------------------------------------------------------------------


def test_backups_are_consistent_copies_and_only_the_newest_are_kept(tmp_path):
    """Each backup is a sound SQLite file with the rows; older ones beyond ``keep`` go."""
    path = _ledger_with_jobs(tmp_path / "state", 50)
    made = [backup.make(path, keep=3, now=T0 + dt.timedelta(days=n)) for n in range(5)]
    kept = backup.backups(backup.folder_for(path))
    assert kept == made[:1:-1]  # the three newest, newest first
    for copy in kept:
        assert copy.stat().st_mode & 0o777 == 0o600
        assert db.problems(copy) == []
        raw = sqlite3.connect(copy)
        assert raw.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 50
        raw.close()
    assert not backup.due(backup.folder_for(path), T0 + dt.timedelta(days=4, hours=23))
    assert backup.due(backup.folder_for(path), T0 + dt.timedelta(days=5))


def test_a_damaged_ledger_is_never_backed_up_over_good_copies(tmp_path):
    """Backing up a damaged ledger is refused, and the good backups stay."""
    path = _ledger_with_jobs(tmp_path / "state", 10)
    good = backup.make(path, keep=1, now=T0)
    _corrupt(path, 0, 100)
    with pytest.raises(db.LedgerDamaged):
        backup.make(path, keep=1, now=T0 + dt.timedelta(days=1))
    assert backup.backups(backup.folder_for(path)) == [good]


@pytest.mark.slow
def test_the_watcher_backs_the_ledger_up_once_a_day(tmp_path):
    """`watch --once` makes the day's backup; a second run the same day adds none."""
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
    assert run_once(tmp_path).returncode == 0
    assert run_once(tmp_path).returncode == 0
    (copy,) = backup.backups(tmp_path / "state" / "backups")
    assert db.problems(copy) == []


def test_restore_puts_the_newest_backup_back_and_holds_unsent_mail(tmp_path):
    """`ledger restore`: the damaged file is kept aside, waiting mail is held for a person."""
    state = tmp_path / "state"
    path = _ledger_with_jobs(state, 5)
    conn = db.connect(path)
    mail.add(
        conn,
        mail.Outgoing("<m1@x>", "job-00001", "CSSW-2026-0142", "final", "a@b", ("c@d",), "s", b"x"),
        when=T0,
    )
    conn.close()
    backup.make(path, keep=7, now=T0)
    _corrupt(path, 0, 100)
    config = tmp_path / "cssw-docs.toml"
    folders = {"state_dir": state, "outbox": tmp_path / "outbox", "intake": tmp_path / "intake"}
    lines = [f'{key} = "{path.as_posix()}"' for key, path in folders.items()]
    config.write_text("[service]\n" + "\n".join(lines) + "\n", "utf-8")
    runner = CliRunner()
    check = runner.invoke(cli, ["--config", str(config), "ledger", "check"])
    assert check.exit_code == 4 and "cssw-docs ledger restore" in check.output
    result = runner.invoke(cli, ["--config", str(config), "ledger", "restore"])
    assert result.exit_code == 0, result.output
    assert "1 email(s) the backup listed as not sent are held" in result.output
    assert runner.invoke(cli, ["--config", str(config), "ledger", "check"]).exit_code == 0
    aside = [p for p in state.iterdir() if p.name.startswith("ledger.sqlite3.replaced-")]
    assert len(aside) == 1 and db.problems(aside[0])  # the damaged one, kept
    conn = db.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 5
    assert mail.get(conn, "<m1@x>")["state"] == MailState.POSSIBLY_DELIVERED
    conn.close()


# --- a deleted ledger ---------------------------------------------------------------------------


def _eml(tmp: Path) -> list[Path]:
    return sorted((tmp / "outbox" / "mail").rglob("*.eml"))


def _delete_ledger(state: Path) -> None:
    for p in state.glob("ledger.sqlite3*"):
        p.unlink()
    shutil.rmtree(state / "backups", ignore_errors=True)


@pytest.mark.slow
def test_a_deleted_ledger_refuses_to_start_and_rebuild_recognises_every_workbook(tmp_path):
    """Ledger deleted, workbooks dropped again: no start, no email; rebuilt: all duplicates."""
    intake = tmp_path / "intake"
    intake.mkdir()
    names = {
        "good.xlsx": "good",
        "outstanding.xlsx": "outstanding",
        "bad.xlsx": "invalid-incomplete",
    }
    for name, example in names.items():
        drop(intake, name, example_bytes(example))
    assert run_once(tmp_path).returncode == 0
    sent = _eml(tmp_path)
    assert packs(tmp_path / "outbox") == [
        f"{REF_OF['good']}/final-v1",
        f"{REF_OF['outstanding']}/final-v1",
    ]
    _delete_ledger(tmp_path / "state")
    for name, example in names.items():
        drop(intake, name, example_bytes(example))  # the same workbooks, saved in again
    refused = run_once(tmp_path)
    assert refused.returncode == 4, refused.stderr
    assert "already holds audit packs" in refused.stderr and "--new-ledger" in refused.stderr
    assert sorted(p.name for p in intake.glob("*.xlsx")) == sorted(names)  # left alone
    assert _eml(tmp_path) == sent
    rebuilt = _cli(tmp_path, "ledger", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "2 pack(s) found in the outbox: 2 audit record(s)" in rebuilt.stdout
    assert run_once(tmp_path).returncode == 0
    states = [j["state"] for j in job_rows(tmp_path) if not j["job_id"].startswith("rebuilt-")]
    assert states == ["duplicate"] * 3
    assert _eml(tmp_path) == sent  # not one email more
    conn = db.open_ledger(tmp_path / "state")
    refs = sorted(r[0] for r in conn.execute("SELECT audit_ref FROM audits"))
    conn.close()
    assert refs == sorted(REF_OF.values())


@pytest.mark.slow
def test_new_ledger_flag_starts_on_purpose_and_is_remembered(tmp_path):
    """`watch --new-ledger` starts beside old packs; later starts need no flag."""
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
    assert run_once(tmp_path).returncode == 0
    _delete_ledger(tmp_path / "state")
    assert run_once(tmp_path).returncode == 4
    assert run_once(tmp_path, "--new-ledger").returncode == 0
    assert run_once(tmp_path).returncode == 0
