"""Hostile recipients: addresses that try to reach someone outside the allowlist, or break email.

Every route is attacked (a pack, a rejection, the notices) through a real SMTP server on
loopback (aiosmtpd); workbooks go through the real pipeline, one job step after another.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cssw_docs import examples, pipeline
from cssw_docs.cli import cli
from cssw_docs.deliver import compose
from cssw_docs.deliver import outbox as deliver
from cssw_docs.folders import Folders
from cssw_docs.models import Attachment, DocKind, FileFormat, JobState, Report, Route, Stage
from cssw_docs.service import claim
from cssw_docs.store import db as ledger_db
from cssw_docs.store import jobs
from cssw_docs.validate import validate
from cssw_docs.workbook.generate import write_submission
from deliver_support import mail_settings, make_pack, start_server
from service_support import run_once

INSIDE = "camden.gov.uk"
QA_ADMIN = "qa.admin@camden.gov.uk"
AUDITOR = "priya.natarajan@camden.gov.uk"

# Each tries to smuggle outside@example.org past an allowlist of camden.gov.uk.
HOSTILE = {
    "comma": "outside@example.org, priya.natarajan@camden.gov.uk",
    "semicolon": "outside@example.org; priya.natarajan@camden.gov.uk",
    "named list": "Name <outside@example.org>, priya.natarajan@camden.gov.uk",
    "bracket then address": "<outside@example.org> priya.natarajan@camden.gov.uk",
    "two at signs": "outside@example.org@camden.gov.uk",
    "line feed": "outside@example.org\npriya.natarajan@camden.gov.uk",
    "line separator": "outside@example.org\u2028@camden.gov.uk",
}
HOSTILE_IDS = list(HOSTILE)
HOSTILE_VALUES = list(HOSTILE.values())


@pytest.fixture
def server():
    """A plain SMTP server on 127.0.0.1 recording what it accepts."""
    controller, recorder = start_server()
    yield controller, recorder
    controller.stop()


def _smtp(controller, tmp_path, **mail):
    """Settings that send to the test server, allowlist camden.gov.uk, files under tmp_path."""
    mail.setdefault("allowed_domains", [INSIDE])
    return mail_settings(
        host="127.0.0.1", port=controller.port, security="none", **mail
    ).with_changes(
        **{
            "service.intake": tmp_path / "intake",
            "service.outbox": tmp_path / "outbox",
            "service.state_dir": tmp_path / "state",
            "render.pdf": False,
            "render.storyboard_pdf": False,
        }
    )


def _db(settings):
    return deliver.outbox_db(settings)


def _recipients(recorder) -> list[str]:
    """Return every envelope recipient the server accepted, across all messages."""
    return [r for message in recorder.received for r in message.rcpt_tos]


def _header_addresses(recorder) -> str:
    return " ".join(
        f"{m.message.get('To', '')} {m.message.get('Cc', '')}" for m in recorder.received
    )


def _nobody_outside(recorder) -> None:
    outside = [r for r in _recipients(recorder) if not r.lower().endswith("@" + INSIDE)]
    assert outside == []
    assert "example.org" not in _header_addresses(recorder)


def _body(received) -> str:
    return " ".join(received.message.get_body(("plain",)).get_content().split())


# --- Each route ----------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_hostile_auditor_address_on_the_rejection_route_reaches_only_the_qa_admin(
    tmp_path, server, hostile
):
    """A rejection whose auditor address is not one plain address goes to the QA admin only."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    problems = tmp_path / "problems.txt"
    problems.write_text("Fill in the audit date.", "utf-8")
    deliver.enqueue_rejection(
        _db(settings),
        job_id="job-r",
        audit_ref=None,
        auditor_email=hostile,
        report=Report(),
        attachments=[Attachment(problems, DocKind.PROBLEMS_TEXT, FileFormat.TEXT)],
        settings=settings,
    )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    _nobody_outside(recorder)
    (message,) = recorder.received
    assert message.rcpt_tos == [QA_ADMIN]
    assert "cannot email its auditor" in _body(message)


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_hostile_configured_address_on_the_pack_route_is_blocked_and_the_qa_admin_told(
    tmp_path, server, good_audit, hostile
):
    """The storyboard and good-practice notice for a hostile SMT address go to nobody; the QA
    admin is told of each."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, smt=[hostile], qa_admin=[QA_ADMIN])
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-p",
        submission=good_audit,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    _nobody_outside(recorder)
    assert recorder.by_subject("storyboard") == []
    assert recorder.by_subject("Good practice found") == []
    notices = recorder.by_subject("not sent")
    assert len(notices) == 2  # the storyboard and the good-practice notice
    for notice in notices:
        assert notice.rcpt_tos == [QA_ADMIN]
        assert "not one plain email address" in _body(notice)


def test_retrying_a_message_to_an_unusable_address_sends_nothing(tmp_path, server, good_audit):
    """`mail retry` of an email blocked for an unusable address blocks it again, sends nothing."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, smt=[HOSTILE["comma"]], qa_admin=[QA_ADMIN])
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-t",
        submission=good_audit,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    _, waiting = deliver.status(_db(settings))
    (blocked,) = [
        r["message_id"] for r in waiting if r["state"] == "blocked" and r["route"] == "storyboard"
    ]
    requeued, summary = deliver.retry(
        _db(settings), settings, outbox=tmp_path / "outbox", message_ids=[blocked]
    )
    assert requeued == [blocked]
    assert summary.blocked == 1
    _nobody_outside(recorder)
    assert recorder.by_subject("storyboard") == []


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_hostile_configured_address_on_the_moderation_notice_is_blocked(
    tmp_path, server, good_audit, hostile
):
    """The moderation notice to a hostile coordinator address is sent to nobody."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, moderation_coordinator=[hostile], qa_admin=[QA_ADMIN])
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-m",
        submission=good_audit,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
        moderation_selected=True,
    )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    _nobody_outside(recorder)
    assert recorder.by_subject("moderation panel") == []
    assert [m.rcpt_tos for m in recorder.by_subject("not sent")] == [[QA_ADMIN]]


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_hostile_qa_admin_entry_does_not_receive_the_blocked_notice(
    tmp_path, server, good_audit, hostile
):
    """With a hostile entry in mail.qa_admin, the blocked notice goes to the usable admin only."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[hostile, QA_ADMIN])
    outsider = examples.variant(good_audit, practitioner_email="tom.baxter@gmail.com")
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-n",
        submission=outsider,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    _nobody_outside(recorder)
    (notice,) = recorder.by_subject("not sent")
    assert notice.rcpt_tos == [QA_ADMIN]


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_only_a_hostile_qa_admin_gets_nothing_and_the_pack_still_goes_out(
    tmp_path, server, good_audit, hostile
):
    """With mail.qa_admin unusable, the notice is blocked too; the rest of the pack is sent."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[hostile])
    outsider = examples.variant(good_audit, practitioner_email="tom.baxter@gmail.com")
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-o",
        submission=outsider,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    _nobody_outside(recorder)
    assert recorder.by_subject("not sent") == []
    assert recorder.by_subject("Supervision insert")  # the manager's message is not held up
    counts, _ = deliver.status(_db(settings))
    assert counts["blocked"] == 2  # the final pack and the notice about it


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_hostile_workbook_address_on_the_pack_route_queues_nothing(
    tmp_path, server, good_audit, hostile
):
    """A pack whose manager address slipped past validation is not composed, nothing queued."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    sub = examples.variant(good_audit, manager_email=hostile)
    with pytest.raises(deliver.NotComposable):
        deliver.enqueue_pack(
            _db(settings),
            job_id="job-w",
            submission=sub,
            pack=make_pack(tmp_path / "outbox"),
            settings=settings,
        )
    deliver.send_pending(_db(settings), settings, outbox=tmp_path / "outbox")
    assert recorder.received == []


def test_mail_status_shows_a_line_break_in_an_address_as_an_escape(tmp_path, good_audit):
    """A blocked address with a line break cannot forge a line in `mail status`."""
    settings = mail_settings(smt=["outside@example.org\nforged line"]).with_changes(
        **{"service.state_dir": tmp_path / "state", "service.outbox": tmp_path / "outbox"}
    )
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-s",
        submission=good_audit,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    config = tmp_path / "cssw-docs.toml"
    config.write_text(
        f'[service]\nstate_dir = "{tmp_path / "state"}"\noutbox = "{tmp_path / "outbox"}"\n',
        "utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "mail", "status"])
    assert result.exit_code == 0
    assert "outside@example.org\\nforged line" in result.output
    assert not any(line.startswith("forged line") for line in result.output.splitlines())


# --- Workbooks through the pipeline ----------------------------------------------------------


def _claimed(tmp_path, sub, the_rubric):
    """Return (ledger, job id, folders) for a workbook made from ``sub``, claimed as a job."""
    folders = Folders(tmp_path / "intake", tmp_path / "outbox", tmp_path / "state")
    folders.create()
    path = folders.intake / "audit.xlsx"
    write_submission(sub, path, the_rubric)
    found = claim.claim(path, folders.work)
    conn = ledger_db.open_ledger(folders.state)
    jobs.insert_job(
        conn,
        found.job_id,
        source_name=found.source_name,
        work_name=f"{found.job_id}/{found.source_name}",
        size=found.path.stat().st_size,
        sha256=pipeline.sha256_of(found.path),
    )
    return conn, found.job_id, folders


def _process(tmp_path, sub, the_rubric, settings):
    """Run a workbook made from ``sub`` through every job step; return (row, folders)."""
    conn, job_id, folders = _claimed(tmp_path, sub, the_rubric)
    try:
        row = pipeline.run_job(conn, job_id, pipeline.JobContext(settings, the_rubric, folders))
    finally:
        conn.close()
    return row, folders


@pytest.mark.slow
@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_workbook_with_hostile_auditor_address_is_rejected_to_the_qa_admin(
    tmp_path, server, good_audit, the_rubric, hostile
):
    """The workbook is rejected (not failed) and its problems reach the QA admin, nobody else."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    row, folders = _process(
        tmp_path, examples.variant(good_audit, auditor_email=hostile), the_rubric, settings
    )
    assert row["state"] == JobState.REJECTED
    assert "email.invalid" in json.loads(row["findings"])
    deliver.send_pending(_db(settings), settings, outbox=folders.outbox)
    _nobody_outside(recorder)
    (message,) = recorder.received
    assert message.rcpt_tos == [QA_ADMIN]
    body = _body(message)
    assert "cannot email its auditor" in body
    assert "example.org" not in body  # the reason is said without quoting the address


@pytest.mark.parametrize(
    ("field", "value", "to", "code"),
    [
        ("practitioner_name", "Tom\u2028Baxter", AUDITOR, "name.invalid"),
        ("manager_name", "Grace\u2029Mensah", AUDITOR, "name.invalid"),
        ("practitioner_name", "Tom\u0085Baxter", AUDITOR, "name.invalid"),
        ("manager_name", "Grace\nMensah", AUDITOR, "name.invalid"),
        ("auditor_email", "priya.natarajan\n@camden.gov.uk", QA_ADMIN, "email.invalid"),
    ],
    ids=["U+2028", "U+2029", "U+0085", "line feed", "line feed in the auditor address"],
)
@pytest.mark.slow
def test_workbook_whose_email_cannot_be_written_is_rejected_not_failed(
    tmp_path, server, good_audit, the_rubric, field, value, to, code
):
    """A line break in a name or an address rejects the workbook with a plain reason."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    row, folders = _process(
        tmp_path, examples.variant(good_audit, **{field: value}), the_rubric, settings
    )
    assert row["state"] == JobState.REJECTED
    assert json.loads(row["findings"]) == [code]
    assert not list((folders.intake / "failed").glob("**/*.xlsx"))
    deliver.send_pending(_db(settings), settings, outbox=folders.outbox)
    _nobody_outside(recorder)
    (message,) = recorder.received
    assert message.rcpt_tos == [to]
    body = _body(message)
    assert f"[{code}]" in body
    assert "line break" in body
    assert value not in body  # the cell is named, its value not quoted


@pytest.mark.slow
def test_email_that_cannot_be_written_after_rendering_rejects_the_job(
    tmp_path, server, good_audit, the_rubric
):
    """A job rendered before an upgrade, with a name no email can hold, is rejected, not failed.

    The job's stored submission is what the previous release validated; its pack emails cannot
    be written, so nothing of the pack is sent and the auditor gets the reason instead.
    """
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    conn, job_id, folders = _claimed(tmp_path, good_audit, the_rubric)
    try:
        ctx = pipeline.JobContext(settings, the_rubric, folders)
        pipeline.STEPS[JobState.CLAIMED](conn, jobs.get_job(conn, job_id), ctx, lambda name: None)
        row = jobs.get_job(conn, job_id)
        assert row["state"] == JobState.DELIVERED  # pack and messages in one transaction now
        # As an earlier release left it: rendered, and nothing of the pack queued yet.
        with conn:
            conn.execute("DELETE FROM mail_outbox WHERE job_id = ?", (job_id,))
        jobs.update_job(conn, job_id, state=JobState.RENDERED)
        data = json.loads(row["data"])
        data["practitioner_name"] = "Tom\u2028Baxter"
        jobs.update_job(conn, job_id, data=json.dumps(data))
        row = pipeline.run_job(conn, job_id, ctx)
        row = pipeline.run_job(conn, job_id, ctx)  # running it again changes nothing
    finally:
        conn.close()
    assert row["state"] == JobState.REJECTED
    assert "email.not_composable" in json.loads(row["findings"])
    assert list((folders.intake / "rejected").glob("*/audit.xlsx"))
    assert not (folders.intake / "processed").exists()
    deliver.send_pending(_db(settings), settings, outbox=folders.outbox)
    (message,) = recorder.received
    assert message.rcpt_tos == [AUDITOR]
    body = _body(message)
    assert "“Allocated worker” cannot be used in an email" in body
    assert "[email.not_composable]" in body
    assert "Tom\u2028Baxter" not in body


@pytest.mark.slow
def test_any_failure_to_write_a_pack_email_rejects_the_job_and_sends_none_of_it(
    tmp_path, server, good_audit, the_rubric, monkeypatch
):
    """If writing one pack email raises, none is queued and the job is rejected, not failed."""
    controller, recorder = server
    settings = _smtp(controller, tmp_path, qa_admin=[QA_ADMIN])
    real = compose.build_message

    def broken_supervision(**kwargs):
        if kwargs["delivery"].route == Route.SUPERVISION:
            raise ValueError("simulated: this message cannot be written")
        return real(**kwargs)

    monkeypatch.setattr(compose, "build_message", broken_supervision)
    row, folders = _process(tmp_path, good_audit, the_rubric, settings)
    assert row["state"] == JobState.REJECTED
    assert json.loads(row["findings"]) == ["email.not_composable"]
    deliver.send_pending(_db(settings), settings, outbox=folders.outbox)
    (message,) = recorder.received  # the rejection only: no part of the pack went out
    assert message.rcpt_tos == [AUDITOR]
    assert "The supervision email could not be written, so nothing was emailed" in _body(message)


# --- Sending by SMTP needs an allowlist --------------------------------------------------


def _config(tmp_path, controller=None, extra: str = "") -> str:
    host = (
        f'host = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n' if controller else ""
    )
    path = tmp_path / "cssw-docs.toml"
    path.write_text(
        f'[service]\nstate_dir = "{tmp_path / "state"}"\noutbox = "{tmp_path / "outbox"}"\n'
        f'[mail]\n{host}sender = "cssw-docs@camden.gov.uk"\n{extra}',
        "utf-8",
    )
    return str(path)


def _queue_one(tmp_path, good_audit) -> None:
    """Queue a Final pack's messages in the ledger the config files above name."""
    settings = mail_settings().with_changes(
        **{"service.state_dir": tmp_path / "state", "service.outbox": tmp_path / "outbox"}
    )
    deliver.enqueue_pack(
        _db(settings),
        job_id="job-g",
        submission=good_audit,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )


@pytest.mark.parametrize("command", [["mail", "send"], ["mail", "retry", "--all-failed"]])
def test_smtp_with_an_empty_allowlist_refuses_to_send(tmp_path, server, good_audit, command):
    """`mail send` and `mail retry` by SMTP with no allowed_domains send nothing, and say why."""
    controller, recorder = server
    _queue_one(tmp_path, good_audit)
    config = _config(tmp_path, controller)
    result = CliRunner().invoke(cli, ["--config", config, *command])
    assert result.exit_code == 1
    assert "allowed_domains" in result.output
    assert "allow_any_domain = true" in result.output
    assert recorder.received == []


@pytest.mark.parametrize("transport", ["smtp-oauth", "graph"])
def test_microsoft_365_with_an_empty_allowlist_refuses_to_send(tmp_path, good_audit, transport):
    """Sending through Microsoft 365 (no mail.host needed) also needs an allowlist."""
    _queue_one(tmp_path, good_audit)
    extra = f'transport = "{transport}"\ntenant_id = "t"\nclient_id = "c"\n'
    result = CliRunner().invoke(cli, ["--config", _config(tmp_path, None, extra), "mail", "send"])
    assert result.exit_code == 1
    assert "allowed_domains" in result.output
    assert not (tmp_path / "outbox" / "mail").exists()


def test_smtp_with_allow_any_domain_sends_without_an_allowlist(tmp_path, server, good_audit):
    """`allow_any_domain = true` is the explicit way to send by SMTP with no allowlist."""
    controller, recorder = server
    _queue_one(tmp_path, good_audit)
    config = _config(tmp_path, controller, "allow_any_domain = true\n")
    result = CliRunner().invoke(cli, ["--config", config, "mail", "send"])
    assert result.exit_code == 0, result.output
    assert len(recorder.received) >= 2


def test_eml_mode_needs_no_allowlist(tmp_path, good_audit):
    """With no mail.host the messages become .eml files, allowlist or not."""
    _queue_one(tmp_path, good_audit)
    result = CliRunner().invoke(cli, ["--config", _config(tmp_path), "mail", "send"])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "outbox" / "mail").glob("*/*.eml"))


@pytest.mark.slow
def test_watch_by_smtp_with_an_empty_allowlist_refuses_to_start(tmp_path, server):
    """The intake service will not start sending by SMTP with an empty allowlist."""
    controller, recorder = server
    done = run_once(
        tmp_path,
        CSSW_DOCS_MAIL__HOST="127.0.0.1",
        CSSW_DOCS_MAIL__PORT=str(controller.port),
        CSSW_DOCS_MAIL__SECURITY="none",
    )
    assert done.returncode == 1
    assert "will not start" in done.stderr
    assert "allowed_domains" in done.stderr
    assert not (tmp_path / "state").exists()
    assert recorder.received == []


# --- Validation uses the same parser ---------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_validation_refuses_a_hostile_address_at_its_cell(good_audit, the_rubric, hostile):
    """A hostile auditor address is refused at its cell, with a reason that does not quote it."""
    sub = examples.variant(good_audit, auditor_email=hostile)
    findings = [f for f in validate(sub, the_rubric).findings if f.code == "email.invalid"]
    assert [f.location for f in findings] == [sub.where("auditor_email")]
    assert "example.org" not in findings[0].message


@pytest.mark.parametrize("name", ["Tom\u2028Baxter", "Tom\u2029Baxter", "Tom\u0085Baxter"])
def test_validation_refuses_a_name_with_a_line_separator(good_audit, the_rubric, name):
    """A name with a line or paragraph separator is refused at its cell: no email could hold it."""
    sub = examples.variant(good_audit, practitioner_name=name, audit_stage=Stage.FINAL)
    findings = [f for f in validate(sub, the_rubric).findings if f.code == "name.invalid"]
    assert [f.location for f in findings] == [sub.where("practitioner_name")]
