"""The tables of the audit year: the programme, each action's status, the reminders sent."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from .db import now

# The programme's columns a load writes (everything but the times and what issuing records).
PLAN_COLUMNS: tuple[str, ...] = (
    "ref",
    "audit_type",
    "theme",
    "planned_month",
    "auditor_name",
    "auditor_email",
    "auditor_role",
    "team",
    "practitioner_name",
    "practitioner_email",
    "manager_name",
    "manager_email",
    "child_name",
    "child_mosaic_id",
)


# --- the programme -----------------------------------------------------------------------------


def plan_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every planned audit, by planned month then reference."""
    return list(conn.execute("SELECT * FROM programme ORDER BY planned_month, audit_ref"))


def plan_row(conn: sqlite3.Connection, audit_ref: str) -> sqlite3.Row | None:
    """Return the planned audit with the normalised reference ``audit_ref``, or None."""
    return conn.execute("SELECT * FROM programme WHERE audit_ref = ?", (audit_ref,)).fetchone()


def save_plan(
    conn: sqlite3.Connection, rows: Mapping[str, Mapping[str, Any]], remove: Iterable[str]
) -> tuple[int, int]:
    """Add or update each row (by normalised reference) and remove ``remove``, in one
    transaction; return (added, updated)."""
    added = updated = 0
    stamp = now()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for ref, values in rows.items():
            data = [values.get(c, "") or "" for c in PLAN_COLUMNS]
            held = plan_row(conn, ref)
            if held is None:
                conn.execute(
                    f"INSERT INTO programme (audit_ref, {', '.join(PLAN_COLUMNS)}, loaded_at,"
                    f" updated_at) VALUES ({', '.join('?' * (len(PLAN_COLUMNS) + 3))})",
                    (ref, *data, stamp, stamp),
                )
                added += 1
            elif [held[c] for c in PLAN_COLUMNS] != data:
                sets = ", ".join(f"{c} = ?" for c in PLAN_COLUMNS)
                conn.execute(
                    f"UPDATE programme SET {sets}, updated_at = ? WHERE audit_ref = ?",
                    (*data, stamp, ref),
                )
                updated += 1
        for ref in remove:
            conn.execute("DELETE FROM programme WHERE audit_ref = ?", (ref,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return added, updated


def mark_issued(conn: sqlite3.Connection, audit_ref: str, issued_on: str, workbook: str) -> None:
    """Record that the audit's workbook was written and its emails queued on ``issued_on``."""
    with conn:
        conn.execute(
            "UPDATE programme SET issued_on = ?, workbook = ?, updated_at = ? WHERE audit_ref = ?",
            (issued_on, workbook, now(), audit_ref),
        )


# --- actions -------------------------------------------------------------------------------------


def set_action_status(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    number: int,
    status: str,
    on_date: str | None,
    by_whom: str,
    note: str,
    source: str,
) -> None:
    """Record where action ``number`` of ``audit_ref`` stands (replacing what was there)."""
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO action_status (audit_ref, number, status, on_date, by_whom,"
            " note, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (audit_ref, number, status, on_date, by_whom, note, source, now()),
        )


def action_status_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every recorded action status."""
    return list(conn.execute("SELECT * FROM action_status ORDER BY audit_ref, number"))


# --- reminders ---------------------------------------------------------------------------------


def reminder_sent(conn: sqlite3.Connection, occasion: str) -> bool:
    """Return True when the reminder ``occasion`` was already sent (or superseded)."""
    found = conn.execute("SELECT 1 FROM reminders_sent WHERE occasion = ?", (occasion,))
    return found.fetchone() is not None


def record_reminder(
    conn: sqlite3.Connection,
    *,
    occasion: str,
    kind: str,
    audit_ref: str,
    sent_on: str,
    messages: int,
) -> None:
    """Record the reminder ``occasion`` (once); the caller holds the transaction."""
    conn.execute(
        "INSERT OR IGNORE INTO reminders_sent (occasion, kind, audit_ref, sent_on, messages,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
        (occasion, kind, audit_ref, sent_on, messages, now()),
    )


def reminder_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every reminder occasion recorded, oldest first."""
    return list(conn.execute("SELECT * FROM reminders_sent ORDER BY recorded_at, occasion"))
