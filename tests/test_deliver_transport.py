"""Tests for deliver.transport: .eml files, SMTP security choices and plain-English errors."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

import pytest

import cssw_docs
from cssw_docs.deliver import outbox, transport
from cssw_docs.models import MailState
from cssw_docs.store import db, mail
from deliver_support import mail_settings, start_server

TODAY = dt.date(2026, 10, 16)
MESSAGE = b"Message-ID: <abc@cssw-docs.local>\r\nSubject: x\r\n\r\nbody\r\n"


def test_only_transport_imports_smtplib():
    """smtplib is confined to deliver/transport.py."""
    root = Path(cssw_docs.__file__).parent
    importers = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if re.search(r"^\s*(import smtplib|from smtplib)", p.read_text("utf-8"), re.M)
    }
    assert importers == {"deliver/transport.py"}


@pytest.mark.parametrize(
    ("message_id", "name"),
    [
        ("<3f2a@cssw-docs.local>", "3f2a@cssw-docs.local.eml"),
        ("<../../etc/passwd@x>", ".._.._etc_passwd@x.eml"),
        ("<a b\\c@x>", "a_b_c@x.eml"),
    ],
)
def test_eml_name_is_a_safe_file_name(message_id, name):
    """A Message-ID becomes a file name with no folder separators."""
    assert transport.eml_name(message_id) == name


def test_eml_writer_writes_a_private_file_per_message(tmp_path):
    """Each message is one file under outbox/mail/<date>/, readable by this account only."""
    writer = transport.EmlWriter(tmp_path, TODAY)
    reply = writer.send(MESSAGE, "a@x", ["b@y"], "<abc@cssw-docs.local>")
    path = tmp_path / "mail" / "2026-10-16" / "abc@cssw-docs.local.eml"
    assert path.read_bytes() == MESSAGE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert str(path) in reply
    writer.send(MESSAGE, "a@x", ["b@y"], "<abc@cssw-docs.local>")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # rewritten, not duplicated


def test_eml_writer_unwritable_outbox_is_a_temporary_error(tmp_path):
    """An outbox that cannot be written is reported plainly and retried later."""
    (tmp_path / "mail").write_text("not a folder", "utf-8")
    with pytest.raises(transport.TransportError) as caught:
        transport.EmlWriter(tmp_path, TODAY).send(MESSAGE, "a@x", ["b@y"], "<abc@x>")
    assert caught.value.connection and not caught.value.permanent
    assert "Could not write the email file" in str(caught.value)


def test_open_sender_chooses_eml_without_a_host(tmp_path):
    """No mail.host: the .eml writer; a host: SMTP."""
    with transport.open_sender(mail_settings().mail, tmp_path, today=TODAY) as sender:
        assert isinstance(sender, transport.EmlWriter)
    smtp_mail = mail_settings(host="smtp.office365.com").mail
    with transport.open_sender(smtp_mail, tmp_path, today=TODAY, environ={}) as sender:
        assert isinstance(sender, transport.SmtpSender)


@pytest.mark.parametrize(
    ("mail", "words"),
    [
        ({"security": "ssl3"}, "is not one of starttls, tls or none"),
        ({"ca_file": "/nonexistent/ca.pem"}, "mail.ca_file = /nonexistent/ca.pem does not exist"),
        ({"username": "svc@camden.gov.uk"}, "CSSW_DOCS_SMTP_PASSWORD"),
    ],
)
def test_configuration_mistakes_are_explained(mail, words):
    """A wrong setting stops sending with a sentence that says what to fix."""
    settings = mail_settings(host="127.0.0.1", port=9, **mail).mail
    sender = transport.SmtpSender(settings, environ={})
    with pytest.raises(transport.TransportError) as caught:
        sender.send(MESSAGE, "a@x", ["b@y"], "<abc@x>")
    assert words in str(caught.value)
    assert caught.value.connection


def test_refuses_to_send_unencrypted_when_starttls_is_missing():
    """A server without STARTTLS gets nothing when STARTTLS is asked for (the default)."""
    controller, recorder = start_server()
    try:
        settings = mail_settings(host="127.0.0.1", port=controller.port).mail
        sender = transport.SmtpSender(settings, environ={})
        with pytest.raises(transport.TransportError) as caught:
            sender.send(MESSAGE, "a@camden.gov.uk", ["b@camden.gov.uk"], "<abc@x>")
        sender.close()
    finally:
        controller.stop()
    assert "does not offer STARTTLS" in str(caught.value)
    assert recorder.received == []


def test_connection_refused_is_temporary_and_plain():
    """Nothing listening: a temporary, connection-level error naming host and port."""
    from deliver_support import free_port

    port = free_port()
    settings = mail_settings(host="127.0.0.1", port=port, security="none", timeout_seconds=5).mail
    sender = transport.SmtpSender(settings, environ={})
    with pytest.raises(transport.TransportError) as caught:
        sender.send(MESSAGE, "a@x", ["b@y"], "<abc@x>")
    error = caught.value
    assert error.connection and not error.permanent
    assert f"127.0.0.1:{port} (connection refused)" in str(error)
    with pytest.raises(transport.TransportError):  # no second connection attempt in one run
        sender.send(MESSAGE, "a@x", ["b@y"], "<def@x>")


def _queue(conn, job_id: str, n: int) -> None:
    """Queue one plain message of ``job_id`` (numbered ``n``)."""
    from_ = "cssw-docs@camden.gov.uk"
    out = mail.Outgoing(
        f"<m{n}@cssw-docs.local>", job_id, "CSSW-2026-0142", "final", from_,
        ("a@camden.gov.uk",), "OFFICIAL-SENSITIVE: x", b"Subject: x\r\n\r\nbody\r\n",
    )  # fmt: skip
    mail.add(conn, out, when=mail.utcnow() - dt.timedelta(seconds=5))


def test_a_worker_writes_only_its_own_jobs_files_once_and_only_without_a_server(tmp_path):
    """Without a mail server a job's messages become .eml files at once, recorded as sent;
    another job's wait for the sender; with a server configured nothing is written here."""
    conn = db.open_ledger(tmp_path / "state")
    try:
        _queue(conn, "job-a", 1)
        _queue(conn, "job-a", 2)
        _queue(conn, "job-b", 3)
        settings = mail_settings()
        written = outbox.write_job_files(conn, settings, outbox=tmp_path, job_id="job-a")
        assert written == 2
        assert sorted(p.name for p in tmp_path.glob("mail/*/*.eml")) == [
            "m1@cssw-docs.local.eml",
            "m2@cssw-docs.local.eml",
        ]
        states = {r["message_id"]: r["state"] for r in mail.rows(conn)}
        assert states["<m3@cssw-docs.local>"] == MailState.PENDING
        assert outbox.write_job_files(conn, settings, outbox=tmp_path, job_id="job-a") == 0
        smtp = mail_settings(host="smtp.camden.gov.uk")
        assert outbox.write_job_files(conn, smtp, outbox=tmp_path, job_id="job-b") == 0
        assert mail.get(conn, "<m3@cssw-docs.local>")["state"] == MailState.PENDING
    finally:
        conn.close()
