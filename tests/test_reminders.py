"""Reminders: each due on the right working day, sent once per occasion, off per kind."""

from __future__ import annotations

import datetime as dt
import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cssw_docs import clock, examples, rules
from cssw_docs import rubric as rubric_mod
from cssw_docs.cli import cli
from cssw_docs.models import AuditState, PlannedAudit, ReminderKind, Route, submission_to_dict
from cssw_docs.oversight import progress
from cssw_docs.service import daily, settings_check
from cssw_docs.store import audits, db
from cssw_docs.store import programme as store
from cssw_docs.workbook import programme as sheet
from cssw_docs.year import reminders
from programme_support import year_settings

SENT = "2027-03-01T10:00:00+00:00"  # a Monday: the Draft and the referral went out
FEEDBACK_DUE = dt.date(2027, 3, 15)  # ten working days later
FIRST = dt.date(2027, 3, 16)  # the first working day after it
SECOND = dt.date(2027, 3, 23)  # five working days after the first reminder


@pytest.fixture(scope="module")
def the_rubric():
    return rubric_mod.load()


@pytest.fixture
def ledger(tmp_path, the_rubric):
    """A ledger with a Draft, a disputed Final waiting, an agreed Final and an issued plan."""
    settings = year_settings(tmp_path)
    conn = db.open_ledger(settings.service.state_dir)
    for name, issue in (("draft", "pack"), ("disagree", "awaiting"), ("good", "pack")):
        sub = examples.example(name, the_rubric)
        audits.record_audit(
            conn,
            audit_ref=sub.audit_ref,
            stage=str(sub.audit_stage),
            version=1,
            job_id=f"job-{name}",
            source_sha256=name,
            audit_date=None,
            data=submission_to_dict(sub),
            pack_dir=tmp_path / name,
            moderation_selected=None,
            processed_at=SENT,
            issue=issue,
        )
    plan = PlannedAudit(
        "QA-2027-001", "Thematic", dt.date(2027, 3, 1), "Priya Shah",
        "priya.shah@camden.gov.uk", "Team A", "Worker One", "worker.one@camden.gov.uk",
        "Manager One", "manager.one@camden.gov.uk", theme="Neglect",
        child_name="Leo Brennan", child_mosaic_id="M2222",
    )  # fmt: skip
    values = {c: getattr(plan, c, "") for c in store.PLAN_COLUMNS if c != "ref"}
    values |= {"ref": plan.audit_ref, "planned_month": "2027-03"}
    store.save_plan(conn, {"QA-2027-001": values}, ())
    store.mark_issued(conn, "QA-2027-001", "2027-03-01", "")
    yield settings, conn
    conn.close()


def _due(ledger, the_rubric, day):
    settings, conn = ledger
    return reminders.due(conn, settings, the_rubric, day)


def _kinds(found) -> list[tuple[ReminderKind, str]]:
    return sorted((r.kind, r.occasion.rsplit(":", 1)[-1]) for r in found)


def test_the_states_follow_what_arrived(ledger):
    _settings, conn = ledger
    found = progress.states(conn, FIRST, 10)
    assert found["CSSW-2026-0178"].state is AuditState.AWAITING_FEEDBACK
    assert found["CSSW-2026-0178"].feedback_due == FEEDBACK_DUE
    assert progress.states(conn, FEEDBACK_DUE, 10)["CSSW-2026-0178"].state is AuditState.DRAFT
    assert found["CSSW-2026-0184"].state is AuditState.REFERRED
    assert found["CSSW-2026-0142"].state is AuditState.FINAL
    assert found["QA-2027-001"].state is AuditState.ISSUED


def test_nothing_is_due_before_its_day(ledger, the_rubric):
    """The day before: no referral or not-started reminder; on the deadline, no feedback one."""
    friday = dt.date(2027, 3, 12)
    before = [r for r in _due(ledger, the_rubric, friday) if r.kind is not ReminderKind.DIGEST]
    assert before == []
    on_deadline = {r.kind for r in _due(ledger, the_rubric, FEEDBACK_DUE)}
    assert ReminderKind.FEEDBACK not in on_deadline
    assert {ReminderKind.REFERRAL, ReminderKind.NOT_STARTED} <= on_deadline


def test_each_reminder_falls_due_on_its_working_day_and_is_sent_once(ledger, the_rubric):
    """Feedback the day after the deadline, then again; referral after ten working days;
    not started from the 15th; each queued once however often it runs."""
    settings, conn = ledger
    found = [r for r in _due(ledger, the_rubric, FIRST) if r.kind is not ReminderKind.DIGEST]
    assert {r.kind for r in found} == {
        ReminderKind.FEEDBACK,
        ReminderKind.REFERRAL,
        ReminderKind.NOT_STARTED,
    }
    assert rules.add_working_days(dt.date(2027, 3, 1), 10) == dt.date(2027, 3, 15)
    queued = reminders.send(conn, settings, found, FIRST)
    assert queued == 3
    again = [r for r in _due(ledger, the_rubric, FIRST) if r.kind is not ReminderKind.DIGEST]
    assert again == []
    assert reminders.send(conn, settings, found, FIRST) == 3  # the same IDs: nothing new stored
    assert conn.execute("SELECT count(*) FROM mail_outbox").fetchone()[0] == 3
    second = [r for r in _due(ledger, the_rubric, SECOND) if r.kind is ReminderKind.FEEDBACK]
    assert [r.occasion for r in second] == ["feedback:CSSW-2026-0178:v1:2"]


def test_the_second_feedback_reminder_copies_the_manager(ledger, the_rubric):
    settings, conn = ledger
    found = [r for r in _due(ledger, the_rubric, SECOND) if r.kind is ReminderKind.FEEDBACK]
    assert found[0].supersedes == ("feedback:CSSW-2026-0178:v1:1",)
    reminders.send(conn, settings, found, SECOND)
    row = conn.execute("SELECT message FROM mail_outbox").fetchone()
    msg = BytesParser(policy=policy.default).parsebytes(row["message"])
    assert "hannah.kowalski@camden.gov.uk" in msg["Cc"]  # the manager
    assert "fiona.macleod@camden.gov.uk" in msg["Cc"]  # the auditor
    body = msg.get_body(("plain",)).get_content()
    assert "second reminder" in body
    sent = {r["occasion"]: r["messages"] for r in store.reminder_rows(conn)}
    assert sent == {"feedback:CSSW-2026-0178:v1:1": 0, "feedback:CSSW-2026-0178:v1:2": 1}


def test_the_referral_reminder_says_how_many_working_days_it_waited(ledger, the_rubric):
    """Referred on Monday 1 March, reminded on Tuesday 16 March: eleven working days."""
    settings, conn = ledger
    found = [r for r in _due(ledger, the_rubric, FIRST) if r.kind is ReminderKind.REFERRAL]
    reminders.send(conn, settings, found, FIRST)
    row = conn.execute("SELECT message FROM mail_outbox").fetchone()
    body = BytesParser(policy=policy.default).parsebytes(row["message"]).get_body(("plain",))
    assert "waited 11 working days" in " ".join(body.get_content().split())


def test_the_weekly_digest_goes_once_a_week_to_managers_and_practitioners(ledger, the_rubric):
    """Monday's digest lists the open actions due or overdue, without the child's name;
    Tuesday has nothing new; the next Monday a new one."""
    settings, conn = ledger
    monday = dt.date(2027, 1, 11)
    found = [r for r in _due(ledger, the_rubric, monday) if r.kind is ReminderKind.DIGEST]
    # The good audit's manager and practitioner; the disputed audit's plan is not agreed yet.
    assert len(found) == 2
    reminders.send(conn, settings, found, monday)
    rows = conn.execute("SELECT route, subject, message FROM mail_outbox").fetchall()
    assert {r["route"] for r in rows} == {Route.ACTIONS_DIGEST}
    good = examples.example("good", the_rubric)
    for r in rows:
        body = BytesParser(policy=policy.default).parsebytes(r["message"]).get_body(("plain",))
        text = r["subject"] + body.get_content()
        assert good.child_name.split()[0] not in text and good.child_mosaic_id not in text
        assert "Overdue (2)" in text and "CSSW-2026-0142 action 1" in text
        assert "3 open (2 overdue), 0 done on time, 0 done late and 0 dropped" in text
    tuesday = monday + dt.timedelta(days=1)
    assert [r for r in _due(ledger, the_rubric, tuesday) if r.kind is ReminderKind.DIGEST] == []
    sunday = monday - dt.timedelta(days=1)
    assert reminders.digest_day(sunday, "Monday")  # Sunday closes the ISO week ...
    assert daily.due(conn, settings, now=dt.datetime(2027, 1, 10, 9, 0)) == []  # ... but no
    # daily task runs at the weekend
    next_week = [
        r for r in _due(ledger, the_rubric, monday + dt.timedelta(days=7))
        if r.kind is ReminderKind.DIGEST
    ]  # fmt: skip
    assert len(next_week) == 2


def test_a_bank_holiday_monday_sends_the_digest_on_tuesday(ledger, the_rubric):
    settings, conn = ledger
    easter_monday = dt.date(2027, 3, 29)
    assert not rules.is_working_day(easter_monday)
    assert daily.due(conn, settings, now=dt.datetime(2027, 3, 29, 9, 0)) == []
    tuesday = [r for r in _due(ledger, the_rubric, easter_monday + dt.timedelta(days=1))]
    assert any(r.kind is ReminderKind.DIGEST for r in tuesday)


def test_a_kind_turned_off_is_not_due(ledger, the_rubric):
    settings, conn = ledger
    off = settings.with_changes(**{"reminders.feedback": False, "reminders.digest": False})
    found = reminders.due(conn, off, the_rubric, FIRST)
    assert {r.kind for r in found} == {ReminderKind.REFERRAL, ReminderKind.NOT_STARTED}
    none = off.with_changes(**{"reminders.referral": False, "reminders.not_started": False})
    assert not reminders.any_enabled(none)


def test_the_reminder_and_its_emails_are_one_transaction(ledger, the_rubric):
    """When recording the occasion fails, its email is not left queued either."""
    settings, conn = ledger
    found = [r for r in _due(ledger, the_rubric, FIRST) if r.kind is ReminderKind.REFERRAL]

    def broken(c, ids):
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        found[0].queue(settings, broken)
    assert conn.execute("SELECT count(*) FROM mail_outbox").fetchone()[0] == 0
    assert [r.kind for r in _due(ledger, the_rubric, FIRST)].count(ReminderKind.REFERRAL) == 1


def test_referral_reminder_goes_to_the_head_of_qa(ledger, the_rubric):
    settings, conn = ledger
    found = [r for r in _due(ledger, the_rubric, FIRST) if r.kind is ReminderKind.REFERRAL]
    reminders.send(conn, settings, found, FIRST)
    row = conn.execute("SELECT recipients, message FROM mail_outbox").fetchone()
    assert json.loads(row["recipients"]) == ["head.of.qa@camden.gov.uk"]
    body = BytesParser(policy=policy.default).parsebytes(row["message"]).get_body(("plain",))
    assert "escalations decide CSSW-2026-0184" in body.get_content()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"reminders.digest_weekday": "Sunday"}, "reminders.digest_weekday"),
        ({"reminders.not_started_day": 31}, "reminders.not_started_day"),
        ({"reminders.referral_working_days": 0}, "reminders.referral_working_days"),
    ],
)
def test_config_check_refuses_unusable_reminder_settings(tmp_path, changes, words):
    """`config check` (and watch at start) names a reminder setting it cannot use."""
    settings = year_settings(tmp_path).with_changes(**changes)
    found = settings_check.check(settings, mounts="")
    assert any(words in p for p in found.problems), found.problems


def test_the_docs_show_the_programme_workbook_reference(the_rubric):
    """docs/programme.md holds programme_markdown()'s output verbatim."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "programme.md").read_text("utf-8")
    assert sheet.programme_markdown(the_rubric).strip() in docs


def test_remind_dry_run_prints_what_it_would_send_and_sends_nothing(ledger, monkeypatch, tmp_path):
    settings, conn = ledger
    clock_file = tmp_path / "clock.txt"
    clock.set_file(clock_file, dt.datetime(2027, 3, 16, 9, 0))
    monkeypatch.setenv(clock.ENV, str(clock_file))
    monkeypatch.setenv("CSSW_DOCS_SERVICE__STATE_DIR", str(settings.service.state_dir))
    monkeypatch.setenv("CSSW_DOCS_MAIL__HEAD_OF_QA", '["head.of.qa@camden.gov.uk"]')
    monkeypatch.setenv("CSSW_DOCS_MAIL__SENDER", "cssw-docs@camden.gov.uk")
    runner = CliRunner()
    result = runner.invoke(cli, ["remind", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would send feedback reminder 1 for CSSW-2026-0178" in result.output
    assert "nothing sent" in result.output
    assert conn.execute("SELECT count(*) FROM mail_outbox").fetchone()[0] == 0
    result = runner.invoke(cli, ["remind"])
    assert result.exit_code == 0 and "email(s) queued" in result.output
    sent = conn.execute("SELECT count(*) FROM mail_outbox").fetchone()[0]
    assert sent > 0
    assert "No reminder is due" in runner.invoke(cli, ["remind"]).output
    assert conn.execute("SELECT count(*) FROM mail_outbox").fetchone()[0] == sent
