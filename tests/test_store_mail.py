"""Tests for store.mail: the mail_outbox table's states, claims and backoff."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import stat

import pytest

from cssw_docs.models import MailState
from cssw_docs.store import db, mail
from store_support import RELEASE_MAIL, release_ledger

T0 = dt.datetime(2026, 10, 16, 9, 0, tzinfo=dt.UTC)


def _out(n: int = 1) -> mail.Outgoing:
    return mail.Outgoing(
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
    """A fresh ledger."""
    c = db.connect(tmp_path / "state" / "ledger.sqlite3")
    yield c
    c.close()


def test_ledger_file_is_private(tmp_path, conn):
    """The ledger holding whole messages is readable by the service account only."""
    mode = stat.S_IMODE(os.stat(tmp_path / "state" / "ledger.sqlite3").st_mode)
    assert mode == 0o600


def test_add_is_idempotent(conn):
    """The same Message-ID is stored once; adding it again changes nothing."""
    assert mail.add(conn, _out(), when=T0) is True
    assert mail.add(conn, _out(), when=T0 + dt.timedelta(hours=1)) is False
    assert mail.counts(conn)[MailState.PENDING] == 1
    assert mail.message_bytes(conn, _out().message_id) == _out().data


def test_claim_is_exclusive_until_the_lease_ends(conn):
    """Two senders cannot take the same message; a lapsed claim (a crash) can be taken again."""
    mail.add(conn, _out(), when=T0)
    assert mail.claim(conn, _out().message_id, T0, lease=60)
    assert not mail.claim(conn, _out().message_id, T0 + dt.timedelta(seconds=30), lease=60)
    assert mail.due(conn, T0 + dt.timedelta(seconds=30)) == []
    later = T0 + dt.timedelta(seconds=61)
    assert [r["message_id"] for r in mail.due(conn, later)] == [_out().message_id]
    assert mail.claim(conn, _out().message_id, later, lease=60)
    assert mail.get(conn, _out().message_id)["attempts"] == 2


def test_retry_waits_then_sent_is_final(conn):
    """A temporary failure waits for its delay; a sent message is never due again."""
    msg_id = _out().message_id
    mail.add(conn, _out(), when=T0)
    mail.claim(conn, msg_id, T0, lease=60)
    mail.mark_retry(conn, msg_id, "server down", T0, delay=120)
    row = mail.get(conn, msg_id)
    assert (row["state"], row["last_error"], row["attempts"]) == (
        MailState.PENDING,
        "server down",
        1,
    )
    assert mail.due(conn, T0 + dt.timedelta(seconds=119)) == []
    assert len(mail.due(conn, T0 + dt.timedelta(seconds=120))) == 1
    mail.claim(conn, msg_id, T0 + dt.timedelta(seconds=120), lease=60)
    mail.mark_sent(conn, msg_id, "250 OK", T0 + dt.timedelta(seconds=121))
    row = mail.get(conn, msg_id)
    assert (row["state"], row["server_reply"], row["last_error"]) == (
        MailState.SENT,
        "250 OK",
        None,
    )
    assert mail.due(conn, T0 + dt.timedelta(days=30)) == []


def test_requeue_brings_back_failed_and_blocked_not_sent(conn):
    """Retry makes failed and blocked messages due now, and leaves sent ones alone."""
    states = (MailState.FAILED, MailState.BLOCKED, MailState.SENT)
    for n, state in enumerate(states, start=1):
        mail.add(conn, _out(n), when=T0)
        mail.mark(conn, _out(n).message_id, state, "why", T0)
    ids = [_out(n).message_id for n in (1, 2, 3)]
    assert mail.requeue(conn, ids, T0) == 2
    assert mail.counts(conn) == {
        MailState.PENDING: 2,
        MailState.SENDING: 0,
        MailState.SENT: 1,
        MailState.FAILED: 0,
        MailState.BLOCKED: 0,
        MailState.POSSIBLY_DELIVERED: 0,
    }


def test_requeue_brings_back_a_possibly_delivered_message_only_when_forced(conn):
    """A possibly delivered message is sent again only when a person names it (force)."""
    mail.add(conn, _out(1), when=T0)
    msg = _out(1).message_id
    assert mail.claim(conn, msg, T0, 60)
    mail.mark(conn, msg, MailState.POSSIBLY_DELIVERED, "no reply to the data", T0)
    assert mail.requeue(conn, [msg], T0) == 0
    assert mail.requeue(conn, [msg], T0, force=True) == 1
    row = mail.get(conn, msg)
    assert (row["state"], row["deliveries"], row["allowed_deliveries"]) == ("pending", 1, 2)


def test_rows_filter_by_state_and_job(conn):
    """Listing by state and job returns just those rows, without the message bytes."""
    mail.add(conn, _out(1), when=T0)
    mail.add(conn, _out(2), when=T0)
    mail.mark(conn, _out(2).message_id, MailState.FAILED, "refused", T0)
    rows = mail.rows(conn, states=(MailState.FAILED,), job_id="job-1")
    assert [r["message_id"] for r in rows] == [_out(2).message_id]
    assert "message" not in rows[0].keys()  # noqa: SIM118 (sqlite3.Row: `in` tests values)


def test_release_ledger_outbox_reads_back_and_sends_on(tmp_path):
    """The outbox of a release 0.1.0 ledger keeps its states, and its waiting mail is still due."""
    conn = db.connect(release_ledger(tmp_path))
    assert {state: n for state, n in mail.counts(conn).items() if n} == RELEASE_MAIL
    for row in mail.rows(conn):
        parsed = email.message_from_bytes(mail.message_bytes(conn, row["message_id"]))
        assert parsed["Message-ID"] == row["message_id"]
        assert " ".join(parsed["Subject"].split()) == row["subject"]
        assert json.loads(row["recipients"])
    later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    due = mail.due(conn, later)
    assert len(due) == RELEASE_MAIL["pending"]
    assert mail.claim(conn, due[0]["message_id"], later, lease=60)
    conn.close()
