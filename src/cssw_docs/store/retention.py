"""Retention and erasure in the ledger: tombstones, the purge log, erasures, removing detail."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from .db import now

RETENTION = "retention"  # tombstones.cause: the retention schedule removed the detail
ERASURE = "erasure"  # ... a subject's records were erased on request


def tombstone_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every tombstone (the anonymous summary of an audit whose detail was removed)."""
    return conn.execute(
        "SELECT audit_ref, stage, summary, removed_at, cause FROM tombstones ORDER BY audit_ref"
    ).fetchall()


def remove_audit_detail(
    conn: sqlite3.Connection,
    audit_ref: str,
    *,
    stage: str,
    summary: Mapping[str, Any] | None,
    cause: str = RETENTION,
) -> int:
    """Replace every ledger row holding ``audit_ref``'s case detail by one tombstone.

    Removes its ``audits``, ``jobs``, panel, decision and moderation rows (the mail rows
    stay: their copies are a kind of their own) in the caller's transaction; returns how many
    rows went. ``summary`` None writes no tombstone (an audit that was never in the report).
    """
    ref = audit_ref.strip().upper()
    if summary is not None:
        conn.execute(
            "INSERT OR REPLACE INTO tombstones (audit_ref, stage, summary, removed_at, cause)"
            " VALUES (?, ?, ?, ?, ?)",
            (ref, stage, json.dumps(summary, ensure_ascii=False, sort_keys=True), now(), cause),
        )
    removed = 0
    for table in (
        "audits",
        "jobs",
        "moderation_outcomes",
        "escalation_resolutions",
        "moderation_panels",
    ):
        cursor = conn.execute(f"DELETE FROM {table} WHERE upper(trim(audit_ref)) = ?", (ref,))
        removed += cursor.rowcount
    return removed


def remove_jobs(conn: sqlite3.Connection, job_ids: Iterable[str]) -> int:
    """Remove the ``jobs`` rows of ``job_ids`` (in the caller's transaction); return how many."""
    removed = 0
    for job_id in job_ids:
        removed += conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount
    return removed


def clear_message(conn: sqlite3.Connection, message_id: str) -> bool:
    """Remove the stored copy of a message (its bytes); the row stays, so it is never resent.

    Returns False when it was already cleared.
    """
    cursor = conn.execute(
        "UPDATE mail_outbox SET message = X'', size = 0, purged_at = ?"
        " WHERE message_id = ? AND purged_at IS NULL",
        (now(), message_id),
    )
    return cursor.rowcount == 1


def remove_message(conn: sqlite3.Connection, message_id: str) -> int:
    """Remove a message's row altogether (subject erase); return how many rows went."""
    return conn.execute("DELETE FROM mail_outbox WHERE message_id = ?", (message_id,)).rowcount


# --- the purge log ---------------------------------------------------------------------------


def log_started(
    conn: sqlite3.Connection,
    *,
    kind: str,
    token: str,
    audit_ref: str,
    items: int,
    record_date: str,
    run: str,
) -> None:
    """Record that a record is about to be removed (before it is); done later by :func:`log_done`.

    A row already there (a purge stopped half way) is kept as it is.
    """
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO purge_log (kind, token, audit_ref, items, record_date,"
            " started_at, run) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, token, audit_ref, items, record_date, now(), run),
        )


def log_done(conn: sqlite3.Connection, kind: str, token: str) -> None:
    """Record that the record logged as ``kind``/``token`` is gone."""
    conn.execute(
        "UPDATE purge_log SET done_at = ? WHERE kind = ? AND token = ? AND done_at IS NULL",
        (now(), kind, token),
    )


def unfinished(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return the purge log rows whose removal was started but not recorded as done."""
    return conn.execute(
        "SELECT kind, token, audit_ref FROM purge_log WHERE done_at IS NULL ORDER BY started_at"
    ).fetchall()


def log_rows(conn: sqlite3.Connection, since: str = "") -> list[sqlite3.Row]:
    """Return the purge log (oldest first), from ``since`` (UTC ISO 8601) when given."""
    return conn.execute(
        "SELECT kind, token, audit_ref, items, record_date, started_at, done_at, run"
        " FROM purge_log WHERE started_at >= ? ORDER BY started_at, kind, token",
        (since,),
    ).fetchall()


# --- erasures --------------------------------------------------------------------------------


def record_erasure(
    conn: sqlite3.Connection,
    *,
    erasure_id: str,
    erased_by: str,
    reason: str,
    audit_refs: Iterable[str],
    files: int,
    rows: int,
) -> None:
    """Record who erased a subject's records, why, and how many (never whose)."""
    conn.execute(
        "INSERT OR REPLACE INTO erasures (erasure_id, erased_at, erased_by, reason, audit_refs,"
        " files, rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (erasure_id, now(), erased_by, reason, json.dumps(sorted(audit_refs)), files, rows),
    )


def erasure_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every erasure, oldest first."""
    return conn.execute(
        "SELECT erasure_id, erased_at, erased_by, reason, audit_refs, files, rows FROM erasures"
        " ORDER BY erased_at"
    ).fetchall()
