"""The ``mail_outbox`` table: every message, fully built, and where it stands (``MailState``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from .. import clock
from ..models import MailState

STATES: tuple[MailState, ...] = tuple(MailState)


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the outbox."""

    message_id: str
    job_id: str
    audit_ref: str
    route: str  # a models.Route value
    sender: str
    recipients: tuple[str, ...]
    subject: str
    data: bytes


def stamp(when: dt.datetime) -> str:
    """Return ``when`` as the UTC ISO 8601 text stored in the table."""
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def utcnow() -> dt.datetime:
    """Return the current time (UTC, aware)."""
    return clock.now()


def _committing(conn: sqlite3.Connection) -> contextlib.AbstractContextManager:
    """Return ``conn`` (commit at the end) unless the caller holds a transaction: then that
    transaction commits the write, with whatever else the caller records beside it."""
    return contextlib.nullcontext() if conn.in_transaction else conn


def exists(conn: sqlite3.Connection, message_id: str) -> bool:
    """Return True when the message is already in the outbox (in any state)."""
    row = conn.execute("SELECT 1 FROM mail_outbox WHERE message_id = ?", (message_id,))
    return row.fetchone() is not None


def add(
    conn: sqlite3.Connection,
    out: Outgoing,
    *,
    when: dt.datetime,
    state: MailState = MailState.PENDING,
    error: str | None = None,
) -> bool:
    """Store a message unless its Message-ID is already there; return True when stored."""
    now = stamp(when)
    with _committing(conn):
        cur = conn.execute(
            "INSERT OR IGNORE INTO mail_outbox (message_id, job_id, audit_ref, route, sender,"
            " recipients, subject, message, size, state, last_error, created_at, updated_at,"
            " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                out.message_id,
                out.job_id,
                out.audit_ref,
                str(out.route),
                out.sender,
                json.dumps(list(out.recipients)),
                out.subject,
                out.data,
                len(out.data),
                state,
                error,
                now,
                now,
                now,
            ),
        )
    return cur.rowcount == 1


def get(conn: sqlite3.Connection, message_id: str) -> sqlite3.Row | None:
    """Return the outbox row of one message, or None."""
    return conn.execute("SELECT * FROM mail_outbox WHERE message_id = ?", (message_id,)).fetchone()


def due(conn: sqlite3.Connection, when: dt.datetime, job_id: str = "") -> list[sqlite3.Row]:
    """Return the messages to send now: pending ones whose wait is over, and lapsed claims
    (only those of ``job_id`` when given)."""
    columns = (
        "SELECT message_id, job_id, audit_ref, route, sender, recipients, subject, attempts,"
        " deliveries, allowed_deliveries FROM mail_outbox"
    )
    order = " ORDER BY created_at, message_id"
    if job_id:
        return conn.execute(
            f"{columns} WHERE job_id = ? AND state IN (?, ?) AND next_attempt_at <= ?{order}",
            (job_id, MailState.PENDING, MailState.SENDING, stamp(when)),
        ).fetchall()
    return conn.execute(
        f"{columns} WHERE state IN (?, ?) AND next_attempt_at <= ?{order}",
        (MailState.PENDING, MailState.SENDING, stamp(when)),
    ).fetchall()


def message_bytes(conn: sqlite3.Connection, message_id: str) -> bytes:
    """Return the stored message."""
    row = conn.execute("SELECT message FROM mail_outbox WHERE message_id = ?", (message_id,))
    return bytes(row.fetchone()[0])


def claim(conn: sqlite3.Connection, message_id: str, when: dt.datetime, lease: float) -> bool:
    """Mark the message as being sent by us for ``lease`` seconds; False if someone else has it.

    The attempt counts as a delivery from here on (a crash after the server accepted the
    message leaves it counted); :func:`not_delivered` takes it back when the server clearly
    did not take the message.
    """
    with conn:
        cur = conn.execute(
            "UPDATE mail_outbox SET state = ?, attempts = attempts + 1,"
            " deliveries = deliveries + 1, updated_at = ?,"
            " next_attempt_at = ? WHERE message_id = ? AND state IN (?, ?)"
            " AND next_attempt_at <= ?",
            (
                MailState.SENDING,
                stamp(when),
                stamp(when + dt.timedelta(seconds=lease)),
                message_id,
                MailState.PENDING,
                MailState.SENDING,
                stamp(when),
            ),
        )
    return cur.rowcount == 1


def not_delivered(conn: sqlite3.Connection, message_id: str) -> None:
    """Take back the delivery :func:`claim` counted: the server did not take the message."""
    with conn:
        conn.execute(
            "UPDATE mail_outbox SET deliveries = MAX(deliveries - 1, 0) WHERE message_id = ?",
            (message_id,),
        )


def mark_sent(
    conn: sqlite3.Connection,
    message_id: str,
    reply: str,
    when: dt.datetime,
    refused: dict[str, str] | None = None,
) -> None:
    """Record that the server accepted the message, with its reply and any refused recipients."""
    with conn:
        conn.execute(
            "UPDATE mail_outbox SET state = ?, server_reply = ?, last_error = NULL,"
            " refused = ?, sent_at = ?, updated_at = ? WHERE message_id = ?",
            (
                MailState.SENT,
                reply,
                json.dumps(refused) if refused else None,
                stamp(when),
                stamp(when),
                message_id,
            ),
        )


def mark_retry(
    conn: sqlite3.Connection, message_id: str, error: str, when: dt.datetime, delay: float
) -> None:
    """Record a temporary failure; the message is tried again after ``delay`` seconds."""
    with conn:
        conn.execute(
            "UPDATE mail_outbox SET state = ?, last_error = ?, updated_at = ?,"
            " next_attempt_at = ? WHERE message_id = ?",
            (
                MailState.PENDING,
                error,
                stamp(when),
                stamp(when + dt.timedelta(seconds=delay)),
                message_id,
            ),
        )


def mark(
    conn: sqlite3.Connection, message_id: str, state: MailState, error: str, when: dt.datetime
) -> None:
    """Record a final state (``failed``, ``blocked``, ``possibly-delivered``) with the reason."""
    with _committing(conn):
        conn.execute(
            "UPDATE mail_outbox SET state = ?, last_error = ?, updated_at = ? WHERE message_id = ?",
            (state, error, stamp(when), message_id),
        )


def requeue(
    conn: sqlite3.Connection, message_ids: list[str], when: dt.datetime, *, force: bool = False
) -> int:
    """Make the given messages due now (not sent ones); return how many changed.

    With ``force`` (a person named the message) it may be handed over once more even when it
    has reached ``mail.max_deliveries`` or was possibly delivered.
    """
    states = (MailState.PENDING, MailState.FAILED, MailState.BLOCKED)
    if force:
        states += (MailState.POSSIBLY_DELIVERED,)
    marks = ", ".join("?" for _ in states)
    allowance = "deliveries + 1" if force else "allowed_deliveries"
    changed = 0
    with conn:
        for message_id in message_ids:
            cur = conn.execute(
                "UPDATE mail_outbox SET state = ?, next_attempt_at = ?, updated_at = ?,"
                f" allowed_deliveries = {allowance} WHERE message_id = ? AND state IN ({marks})"
                # a message whose copy the retention schedule removed cannot be sent again
                " AND purged_at IS NULL",
                (MailState.PENDING, stamp(when), stamp(when), message_id, *states),
            )
            changed += cur.rowcount
    return changed


def counts(conn: sqlite3.Connection) -> dict[MailState, int]:
    """Return how many messages are in each state (every state present, zero when none)."""
    found = dict(conn.execute("SELECT state, COUNT(*) FROM mail_outbox GROUP BY state"))
    return {state: int(found.get(state, 0)) for state in STATES}


def rows(
    conn: sqlite3.Connection,
    *,
    states: tuple[MailState, ...] = STATES,
    job_id: str | None = None,
) -> list[sqlite3.Row]:
    """Return the outbox rows (without the message bytes) in ``states``, oldest first."""
    marks = ", ".join("?" for _ in states)
    sql = (
        "SELECT message_id, job_id, audit_ref, route, recipients, subject, size, state,"
        " attempts, deliveries, refused, last_error, server_reply, created_at, updated_at,"
        f" next_attempt_at, sent_at FROM mail_outbox WHERE state IN ({marks})"
    )
    params: list[object] = list(states)
    if job_id is not None:
        sql += " AND job_id = ?"
        params.append(job_id)
    return conn.execute(sql + " ORDER BY created_at, message_id", params).fetchall()


def partly_refused(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return the sent messages the server refused for some recipients, oldest first."""
    return conn.execute(
        "SELECT message_id, job_id, audit_ref, route, recipients, refused, server_reply, sent_at"
        " FROM mail_outbox WHERE state = ? AND refused IS NOT NULL ORDER BY created_at",
        (MailState.SENT,),
    ).fetchall()


def hold_unsent(conn: sqlite3.Connection, why: str, when: dt.datetime) -> int:
    """Hold every message not recorded as sent as possibly delivered; return how many.

    Used after the ledger is restored from a backup: what the backup calls waiting may have
    been sent since it was taken.
    """
    reason = (
        f"{why}: this email may have been sent since, so it is not sent by itself. Check with "
        "its recipients, then send it with `cssw-docs mail retry ID` if it never arrived."
    )
    with conn:
        cur = conn.execute(
            "UPDATE mail_outbox SET state = ?, last_error = ?, updated_at = ?"
            " WHERE state IN (?, ?)",
            (
                MailState.POSSIBLY_DELIVERED,
                reason,
                stamp(when),
                MailState.PENDING,
                MailState.SENDING,
            ),
        )
    return cur.rowcount
