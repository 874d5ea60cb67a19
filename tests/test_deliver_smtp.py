"""End-to-end tests of delivery against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import collections
import datetime as dt
import io
import os
import stat
import subprocess
import sys
import textwrap
from email import policy
from email.parser import BytesParser

import docx
import openpyxl
import pytest

from cssw_docs import examples
from cssw_docs.config import RenderSettings
from cssw_docs.deliver import outbox as deliver
from cssw_docs.models import (
    Agreement,
    Attachment,
    DocKind,
    FileFormat,
    Finding,
    Location,
    MailState,
    Report,
    Severity,
    Stage,
)
from cssw_docs.render import render_pack
from cssw_docs.store import db as ledger_db
from cssw_docs.store import mail as outbox_table
from deliver_support import (
    Credentials,
    mail_settings,
    make_certificate,
    make_pack,
    server_tls_context,
    start_server,
)

LATER = dt.timedelta(hours=2)
GOOD_PW = {"CSSW_DOCS_SMTP_PASSWORD": Credentials.password}


@pytest.fixture
def server(smtp_server):
    """A plain SMTP server on 127.0.0.1 recording what it accepts (shared, emptied per test)."""
    return smtp_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


def _plain(controller, **mail):
    return mail_settings(host="127.0.0.1", port=controller.port, security="none", **mail)


def _db(tmp_path):
    return tmp_path / "state" / "ledger.sqlite3"


def _states(db) -> dict[str, str]:
    conn = ledger_db.connect(db)
    try:
        return {r["message_id"]: r["state"] for r in outbox_table.rows(conn)}
    finally:
        conn.close()


def _final_audit(good_audit):
    return examples.variant(good_audit, practitioner_agreement=Agreement.PARTLY_AGREE)


def _assert_no_child_identifiers(text: str, sub) -> None:
    assert sub.child_mosaic_id not in text
    for word in sub.child_name.split():
        assert word.lower() not in text.lower()


@pytest.mark.slow
def test_final_pack_reaches_each_route(tmp_path, server, good_audit):
    """Each route's message reaches exactly its recipients, safely titled, documents openable."""
    controller, recorder = server
    sub = _final_audit(good_audit)
    pack = make_pack(tmp_path / "outbox")
    settings = _plain(controller)
    ids = deliver.enqueue_pack(
        _db(tmp_path),
        job_id="job-1",
        submission=sub,
        pack=pack,
        settings=settings,
        moderation_selected=True,
    )
    summary = deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    assert (summary.sent, summary.pending, summary.failed) == (5, 0, 0)
    expected = {
        "Audit pack CSSW-2026-0142 (final)": [
            "priya.natarajan@camden.gov.uk",
            "tom.baxter@camden.gov.uk",
            "grace.mensah@camden.gov.uk",
        ],
        "Supervision insert CSSW-2026-0142": ["grace.mensah@camden.gov.uk"],
        "Good practice storyboard CSSW-2026-0142": [
            "smt@camden.gov.uk",
            "learning@camden.gov.uk",
        ],
        "Good practice found in audit CSSW-2026-0142": ["smt@camden.gov.uk"],
        "Audit CSSW-2026-0142 selected for the moderation panel": ["moderation@camden.gov.uk"],
    }
    got = {r.subject.removeprefix("OFFICIAL-SENSITIVE: "): r.rcpt_tos for r in recorder.received}
    assert got == expected
    assert sorted(r.message_id for r in recorder.received) == sorted(ids)
    for received in recorder.received:
        assert received.mail_from == "cssw-docs@camden.gov.uk"
        _assert_no_child_identifiers(received.subject, sub)
        for part in received.message.iter_attachments():
            if part.get_filename().endswith(".docx"):
                opened = docx.Document(io.BytesIO(part.get_content()))
                assert opened.paragraphs[0].text.startswith("CSSW-2026-0142 ")
    (final,) = recorder.by_subject("(final)")
    assert sorted(p.get_filename() for p in final.message.iter_attachments()) == [
        "CSSW-2026-0142 Audit plan.docx",
        "CSSW-2026-0142 Audit report.docx",
    ]
    (good,) = recorder.by_subject("Good practice found")
    assert "Allocated worker: Tom Baxter" in good.message.get_body(("plain",)).get_content()
    conn = ledger_db.connect(_db(tmp_path))
    replies = {r["server_reply"] for r in outbox_table.rows(conn)}
    conn.close()
    assert replies == {"250 2.0.0 OK queued as test"}


def test_draft_pack_asks_practitioner_with_auditor_copied(tmp_path, server, good_audit):
    """A draft goes to the practitioner and manager, with the auditor in the envelope as Cc."""
    controller, recorder = server
    sub = examples.variant(good_audit, audit_stage=Stage.DRAFT)
    settings = _plain(controller)
    deliver.enqueue_pack(
        _db(tmp_path),
        job_id="job-d",
        submission=sub,
        pack=make_pack(tmp_path / "outbox", stage=Stage.DRAFT),
        settings=settings,
    )
    deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    (draft,) = recorder.received
    assert draft.subject == "OFFICIAL-SENSITIVE: Audit pack CSSW-2026-0142 (draft for feedback)"
    assert draft.rcpt_tos == [
        "tom.baxter@camden.gov.uk",
        "grace.mensah@camden.gov.uk",
        "priya.natarajan@camden.gov.uk",
    ]
    assert "Priya Natarajan" in draft.message["Cc"]


@pytest.mark.slow
def test_starttls_with_self_signed_certificate_and_auth(tmp_path, certificate, good_audit):
    """STARTTLS to a relay whose certificate is trusted through ca_file, then AUTH, delivers."""
    cert, key = certificate
    credentials = Credentials()
    controller, recorder = start_server(
        tls_context=server_tls_context(cert, key),
        require_starttls=True,
        authenticator=credentials,
        auth_required=True,
        auth_require_tls=True,
    )
    try:
        settings = mail_settings(
            host="127.0.0.1",
            port=controller.port,
            security="starttls",
            username=credentials.username,
            ca_file=str(cert),
        )
        environ = {"CSSW_DOCS_SMTP_PASSWORD": credentials.password}
        deliver.enqueue_pack(
            _db(tmp_path),
            job_id="job-tls",
            submission=good_audit,
            pack=make_pack(tmp_path / "outbox"),
            settings=settings,
        )
        summary = deliver.send_pending(
            _db(tmp_path), settings, outbox=tmp_path / "outbox", environ=environ
        )
    finally:
        controller.stop()
    assert summary.sent == 4, summary
    assert {tuple(r.rcpt_tos) for r in recorder.received} >= {("grace.mensah@camden.gov.uk",)}
    (supervision,) = recorder.by_subject("Supervision insert")
    names = [p.get_filename() for p in supervision.message.iter_attachments()]
    assert names == ["CSSW-2026-0142 Supervision insert.docx", "supervision_actions.csv"]


@pytest.mark.parametrize(
    ("change", "environ", "words"),
    [
        ({"ca_file": None}, GOOD_PW, "could not be verified"),
        ({}, {"CSSW_DOCS_SMTP_PASSWORD": "wrong"}, "refused the login"),
        ({}, {}, "environment variable CSSW_DOCS_SMTP_PASSWORD"),
        ({"security": "none"}, GOOD_PW, "never sent without encryption"),
    ],
)  # fmt: skip
def test_tls_or_login_problems_send_nothing_and_say_why(
    tmp_path, certificate, good_audit, change, environ, words
):
    """An untrusted certificate, a wrong or missing password, or AUTH without TLS sends nothing."""
    cert, key = certificate
    controller, recorder = start_server(
        tls_context=server_tls_context(cert, key),
        require_starttls=True,
        authenticator=Credentials(),
        auth_required=True,
        auth_require_tls=True,
    )
    try:
        settings = mail_settings(
            host="127.0.0.1",
            port=controller.port,
            security="starttls",
            username=Credentials.username,
            ca_file=str(cert),
        ).with_changes(**{f"mail.{k}": v for k, v in change.items()})
        deliver.enqueue_pack(
            _db(tmp_path),
            job_id="job-x",
            submission=good_audit,
            pack=make_pack(tmp_path / "outbox"),
            settings=settings,
        )
        summary = deliver.send_pending(
            _db(tmp_path), settings, outbox=tmp_path / "outbox", environ=environ
        )
    finally:
        controller.stop()
    assert recorder.received == []
    assert (summary.sent, summary.retrying, summary.pending) == (0, 4, 4)
    assert words in summary.last_error


@pytest.mark.slow
def test_implicit_tls(tmp_path, certificate, good_audit):
    """Implicit TLS (port 465 style) delivers when the certificate is trusted."""
    cert, key = certificate
    controller, recorder = start_server(ssl_context=server_tls_context(cert, key))
    try:
        settings = mail_settings(
            host="127.0.0.1", port=controller.port, security="tls", ca_file=str(cert)
        )
        deliver.enqueue_pack(
            _db(tmp_path),
            job_id="job-465",
            submission=good_audit,
            pack=make_pack(tmp_path / "outbox"),
            settings=settings,
        )
        summary = deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    finally:
        controller.stop()
    assert summary.sent == 4
    assert len(recorder.received) == 4


def test_smtp_down_then_up_delivers_each_message_once(tmp_path, good_audit):
    """Down: every message waits with its error and attempt; up: each is delivered exactly once."""
    from deliver_support import free_port

    port = free_port()
    settings = mail_settings(host="127.0.0.1", port=port, security="none")
    db, outbox = _db(tmp_path), tmp_path / "outbox"
    ids = deliver.enqueue_pack(
        db, job_id="job-1", submission=good_audit, pack=make_pack(outbox), settings=settings
    )
    t0 = dt.datetime.now(dt.UTC)
    down = deliver.send_pending(db, settings, outbox=outbox, now=t0)
    assert (down.sent, down.retrying, down.pending) == (0, 4, 4)
    assert "connection refused" in down.last_error
    conn = ledger_db.connect(db)
    rows = outbox_table.rows(conn)
    conn.close()
    assert {(r["state"], r["attempts"]) for r in rows} == {(MailState.PENDING, 1)}
    controller, recorder = start_server(port=port)
    try:
        early = deliver.send_pending(db, settings, outbox=outbox, now=t0)
        assert early.sent == 0  # the backoff is honoured
        up = deliver.send_pending(db, settings, outbox=outbox, now=t0 + LATER)
        again = deliver.send_pending(db, settings, outbox=outbox, now=t0 + 2 * LATER)
    finally:
        controller.stop()
    assert (up.sent, up.pending, again.sent) == (4, 0, 0)
    assert sorted(r.message_id for r in recorder.received) == sorted(ids)
    assert set(_states(db).values()) == {MailState.SENT}


@pytest.mark.slow
def test_crash_between_send_and_record_gives_one_duplicate_with_same_id(tmp_path, good_audit):
    """Killed right after the server accepted a message: the resend is its only duplicate."""
    controller, recorder = start_server()
    settings = _plain(controller)
    db, outbox = _db(tmp_path), tmp_path / "outbox"
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
        assert len(recorder.received) == 1
        assert list(_states(db).values()).count(MailState.SENDING) == 1
        # Restarted later (after the claim's lease): the unrecorded message goes again.
        after = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        summary = deliver.send_pending(db, settings, outbox=outbox, now=after)
        more = deliver.send_pending(db, settings, outbox=outbox, now=after + LATER)
    finally:
        controller.stop()
    assert (summary.sent, more.sent) == (4, 0)
    copies = collections.Counter(r.message_id for r in recorder.received)
    assert sorted(copies) == sorted(ids)
    assert sorted(copies.values()) == [1, 1, 1, 2]
    twice = [r for r in recorder.received if copies[r.message_id] == 2]
    assert twice[0].data == twice[1].data  # the very same message, same Message-ID
    assert set(_states(db).values()) == {MailState.SENT}


def test_address_outside_allowlist_is_never_sent_to(tmp_path, server, good_audit):
    """A message with an outside address is held back, and the QA admin gets a notice only."""
    controller, recorder = server
    sub = examples.variant(good_audit, practitioner_email="tom.baxter@gmail.com")
    settings = _plain(controller, allowed_domains=["camden.gov.uk"])
    db = _db(tmp_path)
    deliver.enqueue_pack(
        db, job_id="job-1", submission=sub, pack=make_pack(tmp_path / "outbox"), settings=settings
    )
    deliver.send_pending(db, settings, outbox=tmp_path / "outbox")
    everyone = [a for r in recorder.received for a in r.rcpt_tos]
    assert "tom.baxter@gmail.com" not in everyone
    assert not recorder.by_subject("(final)")
    (notice,) = recorder.by_subject("not sent (address not allowed)")
    assert notice.rcpt_tos == ["qa.admin@camden.gov.uk"]
    assert list(notice.message.iter_attachments()) == []
    body = notice.message.get_body(("plain",)).get_content()
    assert "tom.baxter@gmail.com" in body
    _assert_no_child_identifiers(body, sub)
    assert sorted(_states(db).values()) == [
        MailState.BLOCKED,
        MailState.SENT,
        MailState.SENT,
        MailState.SENT,
        MailState.SENT,
    ]
    assert deliver.job_states(db, "job-1") == {
        "pending": 0,
        "sending": 0,
        "sent": 4,
        "failed": 0,
        "blocked": 1,
        "possibly-delivered": 0,
    }


def test_allowlist_tightened_after_queueing_still_holds_back(tmp_path, server, good_audit):
    """A message queued under an open allowlist is checked again when it is sent."""
    controller, recorder = server
    sub = examples.variant(good_audit, manager_email="grace@partner.org.uk")
    db = _db(tmp_path)
    deliver.enqueue_pack(
        db,
        job_id="job-1",
        submission=sub,
        pack=make_pack(tmp_path / "outbox"),
        settings=_plain(controller),
    )
    strict = _plain(controller, allowed_domains=["camden.gov.uk"])
    summary = deliver.send_pending(db, strict, outbox=tmp_path / "outbox")
    assert summary.blocked == 2  # final (manager among the recipients) and supervision
    assert "grace@partner.org.uk" not in [a for r in recorder.received for a in r.rcpt_tos]
    assert len(recorder.by_subject("not sent (address not allowed)")) == 2


def _marked_workbook(folder):
    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.active.title = "Errors"
    book.active["A1"] = "Problems to fix"
    path = folder / "Amara Okafor audit - marked.xlsx"
    book.save(path)
    return path


REPORT = Report(
    (
        Finding("date.missing", Severity.ERROR, "Give the audit date.", Location("Audit", "C5")),
        Finding("rating.missing", Severity.ERROR, "Rate the assessment section.", None),
    )
)


def test_rejection_goes_to_the_auditor_with_marked_workbook(tmp_path, server):
    """The auditor alone gets the marked workbook and the problems, first error first."""
    controller, recorder = server
    settings = _plain(controller)
    marked = _marked_workbook(tmp_path / "rejected")
    deliver.enqueue_rejection(
        _db(tmp_path),
        job_id="job-r",
        audit_ref=None,
        auditor_email="priya.natarajan@camden.gov.uk",
        report=REPORT,
        attachments=[Attachment(marked, DocKind.MARKED_WORKBOOK, FileFormat.XLSX)],
        settings=settings,
    )
    deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    (msg,) = recorder.received
    assert msg.rcpt_tos == ["priya.natarajan@camden.gov.uk"]
    assert msg.subject == "OFFICIAL-SENSITIVE: Audit workbook returned: problems to fix"
    (part,) = msg.message.iter_attachments()
    assert part.get_filename() == "Audit workbook - marked.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(part.get_content())).sheetnames == ["Errors"]
    text = msg.message.get_body(("plain",)).get_content()
    assert text.index("Give the audit date.") < text.index("Rate the assessment section.")
    assert "job job-r" in text  # the workbook is named by its job, never by its file name


@pytest.mark.parametrize(
    ("audit_ref", "subject"),
    [
        (
            "CSSW-2026-0190",
            "OFFICIAL-SENSITIVE: Audit workbook CSSW-2026-0190 returned: problems to fix",
        ),
        (None, "OFFICIAL-SENSITIVE: Audit workbook returned: problems to fix"),
    ],
)
def test_rejection_subject_names_the_audit_only_by_a_checked_reference(
    tmp_path, server, audit_ref, subject
):
    """An auditor with several audits in flight sees which came back; an unchecked one never."""
    controller, recorder = server
    settings = _plain(controller)
    deliver.enqueue_rejection(
        _db(tmp_path),
        job_id="job-s",
        audit_ref=audit_ref,
        auditor_email="priya.natarajan@camden.gov.uk",
        report=REPORT,
        attachments=[],
        settings=settings,
    )
    deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    (msg,) = recorder.received
    assert msg.subject == subject


def test_rejection_with_unknown_auditor_tells_the_qa_admin(tmp_path, server):
    """An unreadable workbook has no auditor address: the QA admin is told instead."""
    controller, recorder = server
    settings = _plain(controller)
    deliver.enqueue_rejection(
        _db(tmp_path),
        job_id="job-u",
        audit_ref=None,
        auditor_email=None,
        report=REPORT,
        attachments=[],
        settings=settings,
    )
    deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    (msg,) = recorder.received
    assert msg.rcpt_tos == ["qa.admin@camden.gov.uk"]
    assert "does not know which auditor" in " ".join(
        msg.message.get_body(("plain",)).get_content().split()
    )


def test_server_refusing_a_message_for_good_marks_it_failed(tmp_path, good_audit):
    """A 5xx refusal is recorded as failed with the server's words and not retried by itself."""
    controller, recorder = start_server()
    recorder.refuse = {"grace.mensah@camden.gov.uk"}
    settings = _plain(controller)
    db = _db(tmp_path)
    try:
        deliver.enqueue_pack(
            db,
            job_id="job-1",
            submission=good_audit,
            pack=make_pack(tmp_path / "outbox"),
            settings=settings,
        )
        first = deliver.send_pending(db, settings, outbox=tmp_path / "outbox")
        later = deliver.send_pending(
            db, settings, outbox=tmp_path / "outbox", now=dt.datetime.now(dt.UTC) + LATER
        )
    finally:
        controller.stop()
    # Two pack messages, the SMT good-practice notice, and the QA admin's two notices (one
    # refused outright, one in part).
    assert (first.sent, first.failed, later.sent, later.failed) == (5, 1, 0, 0)
    assert len(recorder.by_subject("refused by the mail server")) == 2
    assert "550" in first.last_error
    (final,) = recorder.by_subject("(final)")
    assert "grace.mensah@camden.gov.uk" not in final.rcpt_tos  # partly refused, still sent


def test_no_smtp_host_writes_eml_files_that_parse(tmp_path, good_audit):
    """With no mail.host each message becomes a private .eml file that Python's email reads."""
    settings = mail_settings()
    db, outbox = _db(tmp_path), tmp_path / "outbox"
    ids = deliver.enqueue_pack(
        db, job_id="job-1", submission=good_audit, pack=make_pack(outbox), settings=settings
    )
    summary = deliver.send_pending(db, settings, outbox=outbox)
    again = deliver.send_pending(db, settings, outbox=outbox)
    files = sorted((outbox / "mail").rglob("*.eml"))
    assert (summary.sent, again.sent, len(files)) == (4, 0, 4)
    parsed = {}
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with path.open("rb") as fh:
            msg = BytesParser(policy=policy.default).parse(fh)
        parsed[str(msg["Message-ID"])] = msg
    assert sorted(parsed) == sorted(ids)
    subjects = sorted(str(m["Subject"]) for m in parsed.values())
    assert subjects == [
        "OFFICIAL-SENSITIVE: Audit pack CSSW-2026-0142 (final)",
        "OFFICIAL-SENSITIVE: Good practice found in audit CSSW-2026-0142",
        "OFFICIAL-SENSITIVE: Good practice storyboard CSSW-2026-0142",
        "OFFICIAL-SENSITIVE: Supervision insert CSSW-2026-0142",
    ]
    for msg in parsed.values():
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


def test_enqueue_twice_queues_once(tmp_path, good_audit):
    """Handing the same job to delivery again (after a crash) queues nothing new."""
    settings = mail_settings()
    kwargs = {
        "job_id": "job-1",
        "submission": good_audit,
        "pack": make_pack(tmp_path / "outbox"),
        "settings": settings,
    }
    first = deliver.enqueue_pack(_db(tmp_path), **kwargs)
    second = deliver.enqueue_pack(_db(tmp_path), **kwargs)
    assert first == second and len(_states(_db(tmp_path))) == 4


def _render(sub, the_rubric, outbox, **render):
    return render_pack(
        sub, the_rubric, outbox, settings=RenderSettings(**render), source_sha256="0" * 64
    )


@pytest.mark.slow
def test_real_rendered_pack_over_smtp(tmp_path, server, good_audit, the_rubric):
    """A pack from the real renderer arrives whole: every Word document opens and reads right."""
    controller, recorder = server
    settings = _plain(controller)
    pack = _render(good_audit, the_rubric, tmp_path / "outbox", storyboard_pdf=False)
    deliver.enqueue_pack(
        _db(tmp_path), job_id="job-1", submission=good_audit, pack=pack, settings=settings
    )
    summary = deliver.send_pending(_db(tmp_path), settings, outbox=tmp_path / "outbox")
    assert summary.sent == 4
    attached = {}
    for received in recorder.received:
        _assert_no_child_identifiers(received.subject, good_audit)
        for part in received.message.iter_attachments():
            attached[part.get_filename()] = (received.rcpt_tos, part)
    assert sorted(attached) == sorted(f.name for f in pack.files)
    rcpts, report = attached["CSSW-2026-0142 Audit report.docx"]
    assert rcpts == [
        "priya.natarajan@camden.gov.uk",
        "tom.baxter@camden.gov.uk",
        "grace.mensah@camden.gov.uk",
    ]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.get_content())).paragraphs)
    assert "CSSW-2026-0142" in text
    rcpts, insert = attached["CSSW-2026-0142 Supervision insert.docx"]
    assert rcpts == ["grace.mensah@camden.gov.uk"]
    assert docx.Document(io.BytesIO(insert.get_content())).paragraphs
    rcpts, csv = attached["supervision_actions.csv"]
    assert csv.get_content_type() == "text/csv"
    assert rcpts == ["grace.mensah@camden.gov.uk"]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_real_storyboard_goes_as_pdf(tmp_path, good_audit, the_rubric, soffice):
    """With LibreOffice the storyboard PDF, not the DOCX, goes to SMT and L&D (.eml default)."""
    settings = mail_settings()
    outbox = tmp_path / "outbox"
    pack = _render(good_audit, the_rubric, outbox, storyboard_pdf=True)
    deliver.enqueue_pack(
        _db(tmp_path), job_id="job-1", submission=good_audit, pack=pack, settings=settings
    )
    deliver.send_pending(_db(tmp_path), settings, outbox=outbox)
    for path in (outbox / "mail").rglob("*.eml"):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if "storyboard" in str(msg["Subject"]):
            break
    (part,) = msg.iter_attachments()
    assert (part.get_filename(), part.get_content_type()) == (
        "CSSW-2026-0142 Storyboard.pdf",
        "application/pdf",
    )
    assert part.get_content().startswith(b"%PDF")
