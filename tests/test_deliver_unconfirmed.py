"""Mail that may have arrived is never sent blindly again; refused recipients reach a person.

A real SMTP server on loopback (aiosmtpd) that takes a message and then drops the connection,
never answers, or refuses one recipient.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from cssw_docs.cli import cli
from cssw_docs.deliver import outbox as deliver
from cssw_docs.models import Attachment, DocKind, FileFormat, MailState, Report
from cssw_docs.store import db as ledger_db
from cssw_docs.store import mail as outbox_table
from deliver_support import Received, Recorder, free_port, mail_settings, make_pack

LATER = dt.timedelta(hours=2)
QA_ADMIN = "qa.admin@camden.gov.uk"
CHILD = ("Amara", "Okafor", "M1234567")


@dataclass
class Dropper(Recorder):
    """Takes the whole message, then drops the connection instead of answering (or, with
    ``silent``, never answers). Messages to the QA admin are answered as usual."""

    drop: bool = True
    silent: float = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        if self.drop and QA_ADMIN not in envelope.rcpt_tos:
            if self.silent:
                await asyncio.sleep(self.silent)
            else:
                server.transport.close()
        return "250 2.0.0 OK queued as test"


def _serve(handler: Recorder) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def _states(db) -> dict[str, str]:
    conn = ledger_db.connect(db)
    try:
        return {r["message_id"]: r["state"] for r in outbox_table.rows(conn)}
    finally:
        conn.close()


def _no_child(text: str) -> None:
    for word in CHILD:
        assert word not in text


def test_server_dropping_the_connection_after_the_data_gets_each_message_once(tmp_path, good_audit):
    """Accepted then dropped: held as possibly delivered, the QA admin told, no second copy."""
    handler = Dropper()
    controller = _serve(handler)
    settings = mail_settings(host="127.0.0.1", port=controller.port, security="none")
    db, outbox = tmp_path / "state" / "ledger.sqlite3", tmp_path / "outbox"
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    try:
        ids = deliver.enqueue_pack(
            db, job_id="job-1", submission=good_audit, pack=make_pack(outbox), settings=settings
        )
        runs = [
            deliver.send_pending(db, settings, outbox=outbox, now=t0 + n * LATER) for n in range(4)
        ]
        copies = collections.Counter(r.message_id for r in handler.received)
        assert len(ids) == 4  # final, supervision, storyboard, the SMT good-practice notice
        assert [copies[i] for i in ids] == [1] * len(ids)  # not once per retry
        assert runs[0].unconfirmed == len(ids) and sum(r.unconfirmed for r in runs[1:]) == 0
        states = _states(db)
        assert [states[i] for i in ids] == [MailState.POSSIBLY_DELIVERED] * len(ids)
        notices = handler.by_subject("may not have been delivered")
        assert len(notices) == len(ids) and all(n.rcpt_tos == [QA_ADMIN] for n in notices)
        body = " ".join(notices[0].message.get_body(("plain",)).get_content().split())
        assert "cssw-docs mail retry" in body and "ended before it confirmed it" in body
        _no_child(body + notices[0].subject)
        # A person checked: the final pack never arrived. Naming it sends it once more.
        handler.drop = False
        requeued, summary = deliver.retry(
            db, settings, outbox=outbox, message_ids=[ids[0]], now=t0 + 5 * LATER
        )
        all_failed, _ = deliver.retry(db, settings, outbox=outbox, all_failed=True)
    finally:
        controller.stop()
    assert requeued == [ids[0]] and summary.sent == 1 and all_failed == []
    assert collections.Counter(r.message_id for r in handler.received)[ids[0]] == 2
    assert _states(db)[ids[0]] == MailState.SENT


@pytest.mark.slow
def test_a_reply_that_never_comes_means_possibly_delivered(tmp_path):
    """The server takes the data and says nothing until the timeout: not sent again."""
    handler = Dropper(silent=5.0)
    controller = _serve(handler)
    settings = mail_settings(
        host="127.0.0.1", port=controller.port, security="none", timeout_seconds=1
    )
    db = tmp_path / "state" / "ledger.sqlite3"
    marked = tmp_path / "rejected" / "CSSW-2026-0190 - problems.txt"
    marked.parent.mkdir(parents=True)
    marked.write_text("1. Give the audit date.\n", "utf-8")
    try:
        (msg_id,) = deliver.enqueue_rejection(
            db,
            job_id="job-r",
            audit_ref=None,
            auditor_email="priya.natarajan@camden.gov.uk",
            report=Report(()),
            attachments=[Attachment(marked, DocKind.PROBLEMS_TEXT, FileFormat.TEXT)],
            settings=settings,
        )
        first = deliver.send_pending(db, settings, outbox=tmp_path / "outbox")
        later = deliver.send_pending(
            db, settings, outbox=tmp_path / "outbox", now=dt.datetime.now(dt.UTC) + LATER
        )
    finally:
        controller.stop()
    assert len([r for r in handler.received if r.message_id == msg_id]) == 1
    assert later.sent == 0 and _states(db)[msg_id] == MailState.POSSIBLY_DELIVERED
    assert first.unconfirmed == 1 and "no answer in time" in first.last_error


@pytest.mark.slow
def test_deliveries_per_message_are_capped_across_crashes(tmp_path, good_audit):
    """Killed after the server accepted it, with mail.max_deliveries = 1: never sent again."""
    handler = Recorder()
    controller = _serve(handler)
    settings = mail_settings(
        host="127.0.0.1", port=controller.port, security="none", max_deliveries=1
    )
    db, outbox = tmp_path / "state" / "ledger.sqlite3", tmp_path / "outbox"
    ids = deliver.enqueue_pack(
        db, job_id="job-1", submission=good_audit, pack=make_pack(outbox), settings=settings
    )
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from cssw_docs.config import Settings
        from cssw_docs.deliver import outbox
        from cssw_docs.store import mail

        def crash(*args, **kwargs):  # the server has the message; the ledger never hears of it
            os.kill(os.getpid(), signal.SIGKILL)

        mail.mark_sent = crash
        settings = Settings().with_changes(**{
            "mail.host": "127.0.0.1", "mail.port": int(sys.argv[3]), "mail.security": "none",
            "mail.allowed_domains": ["camden.gov.uk"],
        })
        outbox.send_pending(Path(sys.argv[1]), settings, outbox=Path(sys.argv[2]))
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(db), str(outbox), str(controller.port)],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == -9, done.stderr
        (crashed,) = [r.message_id for r in handler.received]
        after = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)  # the claim has lapsed
        summary = deliver.send_pending(db, settings, outbox=outbox, now=after)
    finally:
        controller.stop()
    copies = collections.Counter(r.message_id for r in handler.received)
    assert copies[crashed] == 1 and all(copies[i] == 1 for i in ids)
    assert _states(db)[crashed] == MailState.POSSIBLY_DELIVERED
    assert summary.unconfirmed == 1 and "mail.max_deliveries = 1" in summary.last_error
    assert len(handler.by_subject("may not have been delivered")) == 1


def test_one_refused_recipient_of_three_is_shown_and_the_qa_admin_told(tmp_path, good_audit):
    """The server refuses one of three: `mail status` shows who, and the QA admin is told."""
    handler = Recorder(refuse={"grace.mensah@camden.gov.uk"})
    controller = _serve(handler)
    settings = mail_settings(host="127.0.0.1", port=controller.port, security="none")
    state = tmp_path / "state"
    db, outbox = state / "ledger.sqlite3", tmp_path / "outbox"
    try:
        ids = deliver.enqueue_pack(
            db, job_id="job-1", submission=good_audit, pack=make_pack(outbox), settings=settings
        )
        deliver.send_pending(db, settings, outbox=outbox)
    finally:
        controller.stop()
    (final,) = handler.by_subject("(final)")
    assert final.rcpt_tos == ["priya.natarajan@camden.gov.uk", "tom.baxter@camden.gov.uk"]
    notices = handler.by_subject("refused by the mail server")
    assert {n.rcpt_tos[0] for n in notices} == {QA_ADMIN}
    texts = [" ".join(n.message.get_body(("plain",)).get_content().split()) for n in notices]
    partly = [t for t in texts if "the others did" in t]
    assert len(partly) == 1 and "grace.mensah@camden.gov.uk" in partly[0]
    assert "550 5.1.1 Mailbox unavailable" in partly[0]
    _no_child(" ".join(texts))
    config = tmp_path / "cssw-docs.toml"
    config.write_text(f'[service]\nstate_dir = "{state.as_posix()}"\n', "utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "mail", "status"])
    assert result.exit_code == 0, result.output
    assert "Sent, but refused by the server for some recipients:" in result.output
    assert (
        "not delivered to grace.mensah@camden.gov.uk: 550 5.1.1 Mailbox unavailable"
        in result.output
    )
    assert ids[0].strip("<>")[:16] in result.output
