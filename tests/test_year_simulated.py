"""A test year: 40 planned audits, a real watcher following a controllable clock.

The QA unit loads a programme of 40 audits (eight a month, January to May 2027). A real
``watch`` process runs across the simulated days while the test moves the clock file on:
it issues each month's workbooks on the month's first working day and sends the reminders.
Drafts, finals (some late, some disputed) arrive on scripted days: three as real files through
the intake folder (a Draft, a Final and the returned supervision CSV), the rest written into
the ledger as the pipeline records them. The watcher is SIGKILLed in the middle of a busy day
and restarted. Every reminder must then have been sent exactly once, on the working day an
independent count says, and the programme's figures must match that count too.

The days visited are those on which something is due (and, to show nothing goes early, the
working day before each reminder, a bank holiday and a Saturday); a skipped day could only
make a reminder late, which the test would see.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import email
import email.policy
import io
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import holidays
import pytest
from click.testing import CliRunner

from cssw_docs import clock, examples
from cssw_docs import rubric as rubric_mod
from cssw_docs.cli import cli
from cssw_docs.models import Agreement, Stage, submission_to_dict
from cssw_docs.oversight import report
from cssw_docs.store import audits
from cssw_docs.year import programme
from programme_support import CHILDREN, planned_rows, write_programme, year_settings
from service_support import (
    REMINDERS_ON,
    drop,
    example_bytes,
    kill_group,
    start,
    stop,
    wait_for,
    with_ref,
)

pytestmark = pytest.mark.slow

YEAR = 2027
FIRST_MONTH = dt.date(YEAR, 1, 1)
END = dt.date(YEAR, 6, 30)
FEEDBACK_DAYS = 10  # mail.feedback_working_days (default)
AGAIN_AFTER = 5  # reminders.feedback_again_after_working_days (default)
REFERRAL_AFTER = 10  # reminders.referral_working_days (default)
DIGEST_AHEAD = 14
REAL = "CSSW-2027-0001"  # the audit whose Draft, Final and CSV arrive as real files
KILL_DAY = dt.date(YEAR, 3, 1)  # a Monday and a month's first day: issue, digest, reminders

# --- an independent calendar (the holidays package directly, not cssw_docs.rules) -------------

_HOLIDAYS = {d for d in holidays.country_holidays("GB", subdiv="ENG", years=[YEAR])}


def working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _HOLIDAYS


def later(day: dt.date, n: int) -> dt.date:
    while n:
        day += dt.timedelta(days=1)
        n -= working(day)
    return day


def on_or_after(day: dt.date) -> dt.date:
    while not working(day):
        day += dt.timedelta(days=1)
    return day


# --- the script ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Audit:
    ref: str
    month: dt.date
    kind: str  # on time | one reminder | two reminders | disputed | started late | never
    manager: str
    practitioner: str
    draft: dt.date | None = None
    final: dt.date | None = None
    reminders: dict[str, dt.date] = dataclasses.field(default_factory=dict)
    dues: tuple[dt.date, ...] = ()


KINDS = ("on time", "one reminder", "two reminders", "disputed", "started late")


def script(rows) -> list[Audit]:
    out = []
    for i, row in enumerate(rows):
        month = row.values["Planned month"].date()
        kind = "never" if i >= 38 else KINDS[i % 5]
        a = Audit(row.ref, month, kind, row.values["Line manager's email"],
                  row.values["Allocated worker's email"])  # fmt: skip
        issued = on_or_after(month)
        mid = on_or_after(month.replace(day=15))
        if kind == "never":
            a.reminders["not-started"] = mid
            out.append(a)
            continue
        if kind == "started late":
            a.reminders["not-started"] = mid
            a.draft = on_or_after(month.replace(day=20))
            a.final = later(a.draft, 2)
        else:
            a.draft = later(issued, {"on time": 5, "one reminder": 6}.get(kind, 4 if kind ==
                            "two reminders" else 3))  # fmt: skip
            deadline = later(a.draft, FEEDBACK_DAYS)
            first, second = later(deadline, 1), later(later(deadline, 1), AGAIN_AFTER)
            if kind == "on time":
                a.final = later(a.draft, 3)
            elif kind == "one reminder":
                a.reminders["feedback 1"] = first
                a.final = later(first, 1)
            elif kind == "two reminders":
                a.reminders["feedback 1"] = first
                a.reminders["feedback 2"] = second
                a.final = later(second, 2)
            else:  # disputed: the Head of QA never decides within the test
                a.final = later(a.draft, 4)
                a.reminders["referral"] = later(a.final, REFERRAL_AFTER)
        a.dues = (a.final + dt.timedelta(days=20), a.final + dt.timedelta(days=60))
        out.append(a)
    return out


def digest_days(until: dt.date) -> list[dt.date]:
    """Each week's first working day (the digest goes on Monday or the next working day)."""
    days, day = [], FIRST_MONTH
    while day <= until:
        monday = day - dt.timedelta(days=day.weekday())
        first = on_or_after(monday)
        if first - monday < dt.timedelta(days=5) and FIRST_MONTH <= first <= until:
            days.append(first)
        day = monday + dt.timedelta(days=7)
    return sorted(set(days))


# --- the ledger, as the pipeline writes it -------------------------------------------------------


def _at(day: dt.date, hour: int = 10) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, 0).astimezone(dt.UTC).isoformat()


def record(conn, the_rubric, a: Audit, stage: Stage) -> None:
    base = examples.example("good", the_rubric)
    day = a.draft if stage is Stage.DRAFT else a.final
    assert day is not None
    actions = tuple(
        dataclasses.replace(x, due=due) for x, due in zip(base.actions, a.dues, strict=False)
    )
    disputed = a.kind == "disputed" and stage is Stage.FINAL
    sub = dataclasses.replace(
        base,
        audit_ref=a.ref,
        audit_stage=stage,
        manager_email=a.manager,
        practitioner_email=a.practitioner,
        actions=actions[:2],
        practitioner_agreement=Agreement.DISAGREE if disputed else Agreement.AGREE,
    )
    audits.record_audit(
        conn,
        audit_ref=a.ref,
        stage=str(stage),
        version=1,
        job_id=f"sim-{a.ref}-{stage}",
        source_sha256=f"{a.ref}-{stage}",
        audit_date=None,
        data=submission_to_dict(sub),
        pack_dir="",
        moderation_selected=None,
        processed_at=_at(day),
        issue="awaiting" if disputed else "pack",
    )


def returned_csv(pack_csv: Path) -> bytes:
    """Return the pack's supervision CSV with action 1 marked Done."""
    table = list(csv.reader(io.StringIO(pack_csv.read_text("utf-8-sig"))))
    table[1][-3:] = ["Done", "10/03/2027", ""]
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8")


# --- the test -----------------------------------------------------------------------------------


def test_a_simulated_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    the_rubric = rubric_mod.load()
    clock_file = tmp_path / "clock.txt"
    clock.set_file(clock_file, dt.datetime(YEAR - 1, 12, 1, 9, 0))
    monkeypatch.setenv(clock.ENV, str(clock_file))
    settings = year_settings(tmp_path)
    rows = planned_rows(40, FIRST_MONTH, per_month=8)
    for i, row in enumerate(rows):  # references the same length as the examples'
        row.values["Audit reference"] = f"CSSW-{YEAR}-{i + 1:04d}"
    plan = script(rows)
    path = write_programme(tmp_path / "programme.xlsx", the_rubric, rows)
    loaded = programme.load(settings, the_rubric, path)
    assert loaded.ok and loaded.added == 40

    env = {
        **REMINDERS_ON,
        clock.ENV: str(clock_file),
        "CSSW_DOCS_SERVICE__RESCAN_SECONDS": "0.1",
        "CSSW_DOCS_SERVICE__SEND_SECONDS": "0.3",
        "CSSW_DOCS_MAIL__SENDER": "cssw-docs@camden.gov.uk",
        "CSSW_DOCS_MAIL__ALLOWED_DOMAINS": '["camden.gov.uk"]',
        "CSSW_DOCS_MAIL__HEAD_OF_QA": '["head.of.qa@camden.gov.uk"]',
        "CSSW_DOCS_MAIL__QA_ADMIN": '["qa.admin@camden.gov.uk"]',
    }
    ledger = tmp_path / "state" / "ledger.sqlite3"

    def query(sql: str, *args):
        conn = sqlite3.connect(ledger, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def arrived(stage: Stage) -> bool:
        return bool(query("SELECT 1 FROM audits WHERE audit_ref = ? AND stage = ?", REAL, stage))

    def ran(day: dt.date) -> bool:
        found = query("SELECT value FROM ledger_meta WHERE key = 'daily:reminders'")
        return bool(found) and found[0][0] == day.isoformat()

    real = next(a for a in plan if a.ref == REAL)
    reminder_days = {d for a in plan for d in a.reminders.values()}
    visits = {
        *reminder_days,
        *{d - dt.timedelta(days=1) for d in reminder_days if working(d - dt.timedelta(days=1))},
        *(on_or_after(dt.date(YEAR, m, 1)) for m in range(1, 7)),
        *digest_days(END),
        real.draft,
        real.final,
        dt.date(YEAR, 3, 10),  # the returned CSV
        dt.date(YEAR, 4, 2),  # Good Friday, a bank holiday
        dt.date(YEAR, 4, 3),  # a Saturday
        END,
    }
    visits = sorted(d for d in visits if d is not None and FIRST_MONTH <= d <= END)

    proc = start(tmp_path, **env)
    recorded: set[tuple[str, Stage]] = set()
    conn = None
    try:
        wait_for(ledger.exists, "the ledger")
        conn = sqlite3.connect(ledger, timeout=30)

        def arrive(until: dt.date, *, today: bool) -> None:
            """Record what the pipeline processed before ``until`` (or on it, at 10:00)."""
            for a in plan:
                for stage, when in ((Stage.DRAFT, a.draft), (Stage.FINAL, a.final)):
                    due = when is not None and (when <= until if today else when < until)
                    if due and (a.ref, stage) not in recorded:
                        record(conn, the_rubric, a, stage)
                        recorded.add((a.ref, stage))
            conn.commit()

        for day in visits:
            arrive(day, today=False)
            clock.set_file(clock_file, dt.datetime(day.year, day.month, day.day, 9, 0))
            if day == KILL_DAY:  # stop it hard in the middle of the day's work, start again
                before = query("SELECT count(*) FROM mail_outbox")[0][0]
                wait_for(
                    lambda b=before: query("SELECT count(*) FROM mail_outbox")[0][0] > b,
                    "the first email of the day",
                )
                kill_group(proc)  # wherever it was: the restart finishes the day's work
                proc = start(tmp_path, **env)
            if working(day):
                wait_for(lambda d=day: ran(d), f"the daily run of {day}")
            else:
                time.sleep(0.4)  # a chance to (wrongly) run: nothing may be sent today
            if day == real.draft:
                data = with_ref(example_bytes("draft"), "CSSW-2026-0178", REAL)
                drop(tmp_path / "intake", "draft.xlsx", data)
                wait_for(lambda: arrived(Stage.DRAFT), "the real Draft")
                recorded.add((REAL, Stage.DRAFT))
            if day == real.final:
                data = with_ref(example_bytes("good"), "CSSW-2026-0142", REAL)
                drop(tmp_path / "intake", "final.xlsx", data)
                wait_for(lambda: arrived(Stage.FINAL), "the real Final")
                recorded.add((REAL, Stage.FINAL))
            if day == dt.date(YEAR, 3, 10):
                (pack_csv,) = (tmp_path / "outbox").rglob("supervision_actions.csv")
                drop(tmp_path / "intake", "actions back.csv", returned_csv(pack_csv))
                wait_for(lambda: query("SELECT 1 FROM action_status"), "the CSV recorded")
            arrive(day, today=True)  # what arrived today, after the morning's run (at 10:00)
        wait_for(
            lambda: not query("SELECT 1 FROM mail_outbox WHERE state = 'pending'"),
            "every email sent",
        )
    finally:
        if conn is not None:
            conn.close()
        stop(proc)

    # Every reminder once, on the day the independent count says.
    sent = query("SELECT occasion, kind, audit_ref, sent_on, messages FROM reminders_sent")
    assert len({r["occasion"] for r in sent}) == len(sent)
    assert all(working(dt.date.fromisoformat(r["sent_on"])) for r in sent)
    got = {
        (r["audit_ref"], r["kind"], r["occasion"].rsplit(":", 1)[-1] if r["kind"] == "feedback"
         else ""): dt.date.fromisoformat(r["sent_on"])
        for r in sent if r["kind"] != "digest" and r["messages"]
    }  # fmt: skip
    names = {"feedback 1": ("feedback", "1"), "feedback 2": ("feedback", "2"),
             "referral": ("referral", ""), "not-started": ("not_started", "")}  # fmt: skip
    expected = {
        (a.ref, *names[what]): when for a in plan for what, when in a.reminders.items()
        if when <= END
    }  # fmt: skip
    assert got == expected

    # Each month's workbooks went out on its first working day, each audit once.
    issued = query("SELECT ref, planned_month, issued_on FROM programme")
    assert all(
        r["issued_on"] == on_or_after(dt.date.fromisoformat(r["planned_month"] + "-01")).isoformat()
        for r in issued
    )
    routes = Counter(r["route"] for r in query("SELECT route FROM mail_outbox"))
    assert routes["programme-workbook"] == routes["identified"] == 40

    # The weekly digest: each week's first working day, once to each person with open
    # actions overdue or due within two weeks (action 1 of the real audit closed on 10 March).
    digests = Counter((r["sent_on"]) for r in sent if r["kind"] == "digest" and r["messages"])
    good = examples.example("good", the_rubric)
    for day in digest_days(END):
        people = set()
        for a in plan:
            if a.final is None or a.final >= day or a.kind == "disputed":
                continue
            if a.ref == REAL:
                dues = sorted(x.due for x in good.actions)
                dues = dues[1:] if day > dt.date(YEAR, 3, 10) else dues
                who = (good.manager_email, good.practitioner_email)
            else:
                dues = list(a.dues)
                who = (a.manager, a.practitioner)
            if any(d <= day + dt.timedelta(days=DIGEST_AHEAD) for d in dues):
                people.update(w.lower() for w in who)
        assert digests[day.isoformat()] == len(people), day
    assert sum(digests.values()) == routes["actions-digest"]

    # The programme's figures match the script, on the last day.
    figures = programme.status(settings, today=END)
    late = sum(a.kind in ("never", "disputed") for a in plan)
    total = figures.total
    assert (total.planned, total.completed, total.late) == (40, 40 - late, late)
    assert figures.total.in_progress == figures.total.not_started == 0
    by_month = {r.group: (r.planned, r.completed) for r in figures.by_month}
    for m in range(1, 6):
        label = dt.date(YEAR, m, 1).strftime("%b %Y")
        month = [a for a in plan if a.month.month == m]
        assert by_month[label] == (8, sum(a.kind not in ("never", "disputed") for a in month))

    # The report: its Programme figures, and an action closed by command lowers the overdue.
    written = report.build(ledger, the_rubric, settings, start=dt.date(YEAR - 1, 1, 1), end=END,
                           dest=tmp_path / "report", as_of=END, docx=False)  # fmt: skip
    assert written.programme is not None and written.programme.total == figures.total
    before = written.figures.actions["Overdue"]
    assert written.figures.actions["Done on time"] + written.figures.actions["Done late"] == 1
    result = CliRunner().invoke(
        cli, ["actions", "done", REAL, "2", "--by", "Grace Mensah"],
        env={"CSSW_DOCS_SERVICE__STATE_DIR": str(tmp_path / "state")},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    after = report.build(ledger, the_rubric, settings, start=dt.date(YEAR - 1, 1, 1), end=END,
                         dest=tmp_path / "report2", as_of=END, docx=False)  # fmt: skip
    assert after.figures.actions["Overdue"] == before - 1
    subjects = " ".join(r["subject"] for r in query("SELECT subject FROM mail_outbox"))
    assert not any(name.split()[1] in subjects for name in CHILDREN)

    # No child's name or MOSAIC ID in any email's own words (subject and text; the workbook
    # attached for the auditor is a case document), the service's log or `programme status`.
    status = CliRunner().invoke(
        cli, ["programme", "status"], env={"CSSW_DOCS_SERVICE__STATE_DIR": str(tmp_path / "state")}
    )
    assert status.exit_code == 0, status.output
    texts = {"programme status": status.output}
    texts["log"] = (tmp_path / "state" / "service.log").read_text("utf-8")
    emails = sorted((tmp_path / "outbox" / "mail").rglob("*.eml"))
    assert len(emails) >= 80  # the workbooks and notices issued, reminders, digests, packs
    for path in emails:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        words = [str(msg["Subject"])]
        words += [
            part.get_content()
            for part in msg.walk()
            if part.get_content_maintype() == "text" and not part.is_attachment()
        ]
        texts[path.name] = "\n".join(words)
    names = {n for child in (*CHILDREN, good.child_name) for n in child.split()}
    ids = {row.values["MOSAIC ID"] for row in rows} | {good.child_mosaic_id}
    for where, text in texts.items():
        found = {w for w in re.findall(r"[A-Za-z0-9']+", text) if w in names or w in ids}
        assert not found, f"{where}: {found}"
