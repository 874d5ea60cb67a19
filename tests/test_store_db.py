"""The ledger file: private files, WAL, one connection per caller without lost writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from cssw_docs.store import db, jobs


def test_connect_makes_private_wal_files(tmp_path):
    """The folder is 0700, the file 0600, and the journal is WAL with a busy timeout."""
    conn = db.open_ledger(tmp_path / "state")
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "state" / db.DB_NAME).st_mode) == 0o600
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    conn.close()


COUNT = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
conn.close()
"""


def count_elsewhere(path) -> int:
    out = subprocess.run([sys.executable, "-c", COUNT, str(path)], capture_output=True, text=True)
    return int(out.stdout)


def add(conn, job_id: str) -> None:
    jobs.insert_job(conn, job_id, source_name="x.xlsx", work_name="x", size=1, sha256=job_id)


def test_a_second_connection_does_not_lose_the_first_ones_writes(tmp_path):
    """Opening the ledger again in one process keeps SQLite's locks, so no write goes missing."""
    first = db.open_ledger(tmp_path)
    add(first, "j1")
    second = db.open_ledger(tmp_path)  # e.g. delivery opening it inside the watcher
    assert count_elsewhere(tmp_path / db.DB_NAME) == 1  # another process reads and closes
    add(first, "j2")
    assert count_elsewhere(tmp_path / db.DB_NAME) == 2
    assert jobs.get_job(second, "j2") is not None
    first.close()
    second.close()


def test_transaction_rolls_back_on_error(tmp_path):
    """A failure inside the block leaves nothing of it behind."""
    conn = db.open_ledger(tmp_path)
    with pytest.raises(RuntimeError), db.transaction(conn):
        conn.execute(
            "INSERT INTO jobs (job_id, source_name, work_name, state, created_at, updated_at)"
            " VALUES ('j', 's', 'w', 'claimed', 'now', 'now')"
        )
        raise RuntimeError("stop")
    assert jobs.get_job(conn, "j") is None
    conn.close()


def test_db_path_is_in_the_state_folder(tmp_path):
    """The ledger is one named file in the service's state folder."""
    assert db.db_path(tmp_path) == tmp_path / "ledger.sqlite3"
