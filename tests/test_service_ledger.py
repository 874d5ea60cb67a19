"""The ledger: private files, WAL, the jobs/audits tables and the queries the watcher relies on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from cssw_docs.service import ledger


def test_connect_makes_private_wal_files(tmp_path):
    """The folder is 0700, the file 0600, and the journal is WAL with a busy timeout."""
    conn = ledger.open_ledger(tmp_path / "state")
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "state" / ledger.DB_NAME).st_mode) == 0o600
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    conn.close()


COUNT = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
conn.close()
"""


def count_elsewhere(db) -> int:
    out = subprocess.run([sys.executable, "-c", COUNT, str(db)], capture_output=True, text=True)
    return int(out.stdout)


def test_a_second_connection_does_not_lose_the_first_ones_writes(tmp_path):
    """Opening the ledger again in one process keeps SQLite's locks, so no write goes missing."""
    first = ledger.open_ledger(tmp_path)
    add(first, "j1", "a")
    second = ledger.open_ledger(tmp_path)  # e.g. delivery opening it inside the watcher
    assert count_elsewhere(tmp_path / ledger.DB_NAME) == 1  # another process reads and closes
    add(first, "j2", "b")
    assert count_elsewhere(tmp_path / ledger.DB_NAME) == 2
    assert ledger.get_job(second, "j2") is not None
    first.close()
    second.close()


def add(conn, job_id: str, sha: str, state: str = ledger.CLAIMED) -> None:
    ledger.insert_job(conn, job_id, source_name="x.xlsx", work_name="x", size=1, sha256=sha)
    if state != ledger.CLAIMED:
        ledger.update_job(conn, job_id, state=state)


def test_duplicates_are_judged_by_claim_order(tmp_path):
    """Only a job claimed earlier with the same bytes makes a job a duplicate."""
    conn = ledger.open_ledger(tmp_path)
    add(conn, "z-first", "same")
    add(conn, "a-second", "same")
    add(conn, "failed", "other", ledger.FAILED)
    add(conn, "retry", "other")
    assert ledger.earlier_job_with_content(conn, "same", "z-first") is None
    assert ledger.earlier_job_with_content(conn, "same", "a-second")["job_id"] == "z-first"
    assert (
        ledger.earlier_job_with_content(conn, "other", "retry") is None
    )  # a failure does not count


def test_unfinished_jobs_exclude_terminal_states(tmp_path):
    """Jobs still to finish are listed oldest first; processed, rejected etc. are not."""
    conn = ledger.open_ledger(tmp_path)
    for job_id, state in [
        ("1", ledger.RENDERED),
        ("2", ledger.PROCESSED),
        ("3", ledger.CLAIMED),
        ("4", ledger.REJECTED),
        ("5", ledger.NOTIFIED),
    ]:
        add(conn, job_id, job_id, state)
    assert [r["job_id"] for r in ledger.unfinished_jobs(conn)] == ["1", "3", "5"]


def test_audit_rows_are_rewritten_not_duplicated(tmp_path):
    """Recording the same pack version twice (a retried step) leaves one row."""
    conn = ledger.open_ledger(tmp_path)
    for _ in range(2):
        ledger.record_audit(
            conn,
            audit_ref="CSSW-2026-0142",
            stage="Final",
            version=1,
            job_id="j",
            source_sha256="s",
            audit_date="2026-10-14",
            data={"audit_ref": "CSSW-2026-0142"},
            pack_dir=tmp_path / "p",
            moderation_selected=True,
        )
    rows = conn.execute("SELECT audit_ref, version, moderation_selected FROM audits").fetchall()
    assert [tuple(r) for r in rows] == [("CSSW-2026-0142", 1, 1)]
