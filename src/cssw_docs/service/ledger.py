"""The ledger: one SQLite file on local disk recording every job and every rendered audit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DB_NAME = "ledger.sqlite3"

# A job's state is the last step it completed. Terminal states end the job.
CLAIMED = "claimed"
VALIDATED = "validated"
RENDERED = "rendered"
DELIVERED = "delivered"
PROCESSED = "processed"
INVALID = "invalid"  # rejection files written
NOTIFIED = "notified"  # rejection handed to delivery
REJECTED = "rejected"
DUPLICATE = "duplicate"
FAILED = "failed"
TERMINAL = (PROCESSED, REJECTED, DUPLICATE, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  source_name TEXT NOT NULL,        -- the auditor's file name (may hold a name: never log it)
  work_name TEXT NOT NULL,          -- the file's name in intake/.work/
  size INTEGER,
  sha256 TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT,             -- UTC ISO 8601; NULL = now
  audit_ref TEXT,
  stage TEXT,
  version INTEGER,
  pack_dir TEXT,
  pack TEXT,                        -- JSON of the rendered Pack
  data TEXT,                        -- JSON: models.submission_to_dict(submission)
  moderation_selected INTEGER,
  error_count INTEGER,
  findings TEXT,                    -- JSON list of finding codes (no free text)
  rejection TEXT,                   -- JSON: auditor email, files written, findings (for delivery)
  dest_dir TEXT,                    -- where the source goes when the job ends (decided once)
  out_stem TEXT,                    -- stem of the rejection files (audit_ref or job id)
  final_path TEXT,                  -- where the source ended up
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_sha256 ON jobs (sha256);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS audits (
  audit_ref TEXT NOT NULL,
  stage TEXT NOT NULL,
  version INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  processed_at TEXT NOT NULL,
  audit_date TEXT,
  data TEXT NOT NULL,
  pack_dir TEXT NOT NULL,
  moderation_selected INTEGER,
  PRIMARY KEY (audit_ref, stage, version)
);
"""

_JOB_COLUMNS = {
    "source_name",
    "work_name",
    "size",
    "sha256",
    "state",
    "attempts",
    "last_error",
    "next_attempt_at",
    "audit_ref",
    "stage",
    "version",
    "pack_dir",
    "pack",
    "data",
    "moderation_selected",
    "error_count",
    "findings",
    "rejection",
    "dest_dir",
    "out_stem",
    "final_path",
    "finished_at",
}


def now() -> str:
    """Return the current UTC time as ISO 8601 (seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def db_path(state_dir: Path) -> Path:
    """Return the ledger file inside ``state_dir``."""
    return Path(state_dir) / DB_NAME


def connect(db_path: Path) -> sqlite3.Connection:
    """Return a connection to the SQLite file at ``db_path`` (WAL, 30 s busy timeout, Row).

    The parent folder is made 0700 and the file 0600; only the caller's tables are created
    by the caller (see :func:`ensure_schema` for the service's own).
    """
    db_path = Path(db_path)
    parent = db_path.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(parent, 0o700)
    if not db_path.exists():
        # Create it 0600. Only when missing: closing a descriptor of a file this process has
        # open in SQLite would drop SQLite's POSIX locks on it (and let another process
        # checkpoint and delete the WAL under our feet).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    with contextlib.suppress(OSError):
        os.chmod(db_path, 0o600)
    conn = sqlite3.connect(str(db_path), timeout=30.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the service's tables (``jobs`` and ``audits``) when missing."""
    conn.executescript(_SCHEMA)


def open_ledger(state_dir: Path) -> sqlite3.Connection:
    """Return a connection to the ledger in ``state_dir`` with the service's tables present."""
    conn = connect(db_path(state_dir))
    ensure_schema(conn)
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one immediate (write-locked) transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def insert_job(
    conn: sqlite3.Connection,
    job_id: str,
    *,
    source_name: str,
    work_name: str,
    size: int | None,
    sha256: str | None,
) -> None:
    """Record a newly claimed job (does nothing when the job is already recorded)."""
    stamp = now()
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO jobs (job_id, source_name, work_name, size, sha256, state,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, source_name, work_name, size, sha256, CLAIMED, stamp, stamp),
        )


def update_job(conn: sqlite3.Connection, job_id: str, **fields: Any) -> None:
    """Set the given columns of a job and its ``updated_at``."""
    unknown = set(fields) - _JOB_COLUMNS
    if unknown:
        raise ValueError(f"unknown job columns: {sorted(unknown)}")
    fields["updated_at"] = now()
    names = ", ".join(f"{k} = ?" for k in fields)
    with conn:
        conn.execute(f"UPDATE jobs SET {names} WHERE job_id = ?", (*fields.values(), job_id))


def get_job(conn: sqlite3.Connection, job_id: str) -> sqlite3.Row | None:
    """Return the job's row, or None."""
    return conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()


def unfinished_jobs(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return the jobs not yet in a terminal state, oldest first."""
    marks = ", ".join("?" for _ in TERMINAL)
    return conn.execute(
        f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY rowid", TERMINAL
    ).fetchall()


def earlier_job_with_content(
    conn: sqlite3.Connection, sha256: str, job_id: str
) -> sqlite3.Row | None:
    """Return a job claimed before ``job_id`` with the same content, not a duplicate or failure."""
    return conn.execute(
        "SELECT * FROM jobs WHERE sha256 = ? AND state NOT IN (?, ?)"
        " AND rowid < (SELECT rowid FROM jobs WHERE job_id = ?) ORDER BY rowid LIMIT 1",
        (sha256, DUPLICATE, FAILED, job_id),
    ).fetchone()


def record_audit(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    stage: str,
    version: int,
    job_id: str,
    source_sha256: str,
    audit_date: str | None,
    data: dict[str, Any],
    pack_dir: Path,
    moderation_selected: bool | None,
) -> None:
    """Write (or rewrite, after a crash) the ``audits`` row of a rendered pack."""
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO audits (audit_ref, stage, version, job_id, source_sha256,"
            " processed_at, audit_date, data, pack_dir, moderation_selected)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                audit_ref,
                stage,
                version,
                job_id,
                source_sha256,
                now(),
                audit_date,
                json.dumps(data, ensure_ascii=False),
                str(pack_dir),
                None if moderation_selected is None else int(moderation_selected),
            ),
        )
