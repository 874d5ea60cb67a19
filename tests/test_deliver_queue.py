"""Tests for deliver.queue: the mail_outbox table's states, claims and backoff."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from cssw_docs.deliver import queue

T0 = dt.datetime(2026, 10, 16, 9, 0, tzinfo=dt.UTC)


def _out(n: int = 1) -> queue.Outgoing:
    return queue.Outgoing(
        f"<m{n}@cssw-docs.local>",
        "job-1",
        "CSSW-2026-0142",
        "final",
        "cssw-docs@camden.gov.uk",
        ("a@camden.gov.uk",),
        "OFFICIAL-SENSITIVE: Audit pack CSSW-2026-0142 (final)",
        b"Subject: x\r\n\r\nbody\r\n",
    )


@pytest.fixture
def conn(tmp_path):
    """A fresh ledger holding only the outbox table."""
    c = queue.connect(tmp_path / "state" / "ledger.sqlite3")
    yield c
    c.close()


def test_ledger_file_is_private(tmp_path, conn):
    """The ledger holding whole messages is readable by the service account only."""
    mode = stat.S_IMODE(os.stat(tmp_path / "state" / "ledger.sqlite3").st_mode)
    assert mode == 0o600


def test_add_is_idempotent(conn):
    """The same Message-ID is stored once; adding it again changes nothing."""
    assert queue.add(conn, _out(), when=T0) is True
    assert queue.add(conn, _out(), when=T0 + dt.timedelta(hours=1)) is False
    assert queue.counts(conn)[queue.PENDING] == 1
    assert queue.message_bytes(conn, _out().message_id) == _out().data


def test_claim_is_exclusive_until_the_lease_ends(conn):
    """Two senders cannot take the same message; a lapsed claim (a crash) can be taken again."""
    queue.add(conn, _out(), when=T0)
    assert queue.claim(conn, _out().message_id, T0, lease=60)
    assert not queue.claim(conn, _out().message_id, T0 + dt.timedelta(seconds=30), lease=60)
    assert queue.due(conn, T0 + dt.timedelta(seconds=30)) == []
    later = T0 + dt.timedelta(seconds=61)
    assert [r["message_id"] for r in queue.due(conn, later)] == [_out().message_id]
    assert queue.claim(conn, _out().message_id, later, lease=60)
    assert queue.get(conn, _out().message_id)["attempts"] == 2


def test_retry_waits_then_sent_is_final(conn):
    """A temporary failure waits for its delay; a sent message is never due again."""
    msg_id = _out().message_id
    queue.add(conn, _out(), when=T0)
    queue.claim(conn, msg_id, T0, lease=60)
    queue.mark_retry(conn, msg_id, "server down", T0, delay=120)
    row = queue.get(conn, msg_id)
    assert (row["state"], row["last_error"], row["attempts"]) == ("pending", "server down", 1)
    assert queue.due(conn, T0 + dt.timedelta(seconds=119)) == []
    assert len(queue.due(conn, T0 + dt.timedelta(seconds=120))) == 1
    queue.claim(conn, msg_id, T0 + dt.timedelta(seconds=120), lease=60)
    queue.mark_sent(conn, msg_id, "250 OK", T0 + dt.timedelta(seconds=121))
    row = queue.get(conn, msg_id)
    assert (row["state"], row["server_reply"], row["last_error"]) == ("sent", "250 OK", None)
    assert queue.due(conn, T0 + dt.timedelta(days=30)) == []


def test_requeue_brings_back_failed_and_blocked_not_sent(conn):
    """Retry makes failed and blocked messages due now, and leaves sent ones alone."""
    for n, state in enumerate(("failed", "blocked", "sent"), start=1):
        queue.add(conn, _out(n), when=T0)
        queue.mark(conn, _out(n).message_id, state, "why", T0)
    ids = [_out(n).message_id for n in (1, 2, 3)]
    assert queue.requeue(conn, ids, T0) == 2
    assert queue.counts(conn) == {
        "pending": 2,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "blocked": 0,
    }


def test_rows_filter_by_state_and_job(conn):
    """Listing by state and job returns just those rows, without the message bytes."""
    queue.add(conn, _out(1), when=T0)
    queue.add(conn, _out(2), when=T0)
    queue.mark(conn, _out(2).message_id, queue.FAILED, "refused", T0)
    rows = queue.rows(conn, states=(queue.FAILED,), job_id="job-1")
    assert [r["message_id"] for r in rows] == [_out(2).message_id]
    assert "message" not in rows[0].keys()  # noqa: SIM118 (sqlite3.Row: `in` tests values)
