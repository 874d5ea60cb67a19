"""The ``jobs`` table: one row per claimed workbook, holding the last step it completed."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..models import JobState
from .db import now

TERMINAL: tuple[JobState, ...] = tuple(s for s in JobState if s.terminal)

# The columns update_job may set (job_id and created_at are fixed; updated_at is automatic).
_JOB_COLUMNS = frozenset(
    {
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
        "issue",
        "error_count",
        "findings",
        "rejection",
        "dest_dir",
        "out_stem",
        "final_path",
        "finished_at",
    }
)


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
            (job_id, source_name, work_name, size, sha256, JobState.CLAIMED, stamp, stamp),
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
        (sha256, JobState.DUPLICATE, JobState.FAILED, job_id),
    ).fetchone()


def job_with_content(conn: sqlite3.Connection, sha256: str) -> sqlite3.Row | None:
    """Return the first job whose workbook had this SHA-256 (in any state), or None."""
    return conn.execute(
        "SELECT * FROM jobs WHERE sha256 = ? ORDER BY rowid LIMIT 1", (sha256,)
    ).fetchone()


def insert_finished_job(
    conn: sqlite3.Connection,
    job_id: str,
    *,
    sha256: str,
    state: JobState,
    source_name: str,
    finished_at: str,
    audit_ref: str | None = None,
    stage: str | None = None,
    version: int | None = None,
    pack_dir: str | None = None,
    final_path: str | None = None,
) -> bool:
    """Record a job already finished (rebuilding the ledger); False when the id is taken."""
    with conn:
        cur = conn.execute(
            "INSERT OR IGNORE INTO jobs (job_id, source_name, work_name, sha256, state,"
            " audit_ref, stage, version, pack_dir, final_path, created_at, updated_at,"
            " finished_at) VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                source_name,
                sha256,
                state,
                audit_ref,
                stage,
                version,
                pack_dir,
                final_path,
                finished_at,
                now(),
                finished_at,
            ),
        )
    return cur.rowcount == 1


def finished_jobs(conn: sqlite3.Connection, limit: int) -> list[sqlite3.Row]:
    """Return the ``limit`` most recently finished jobs, newest first."""
    return conn.execute(
        "SELECT * FROM jobs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, job_id"
        " DESC LIMIT ?",
        (limit,),
    ).fetchall()


def jobs_in_state(conn: sqlite3.Connection, state: JobState, limit: int) -> list[sqlite3.Row]:
    """Return up to ``limit`` jobs in ``state``, the most recently finished first."""
    return conn.execute(
        "SELECT * FROM jobs WHERE state = ? ORDER BY finished_at DESC LIMIT ?", (state, limit)
    ).fetchall()
