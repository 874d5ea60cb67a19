"""The annual audit programme: load the QA unit's plan, issue each audit's workbook, report.

``programme load`` records the planned audits (rows matched by reference; an audit that has
started is never dropped); ``issue`` writes each audit's workbook pre-filled from its row and
queues it to the auditor, with the notice the guide describes to the practitioner and
manager; ``status`` counts planned against done. The service issues the month's audits on its
first working day (a daily task).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import clock, rules
from ..config import Settings
from ..deliver import outbox, routes
from ..deliver.compose import long_date
from ..folders import fit_name, make_private_dir
from ..models import (
    Attachment,
    AuditState,
    DocKind,
    FileFormat,
    PlannedAudit,
    Report,
    Stage,
    Submission,
)
from ..oversight import progress
from ..oversight.moderation import normalise_ref
from ..oversight.records import OversightError
from ..pipeline import JobContext
from ..rubric import Rubric, in_words
from ..store import db
from ..store import programme as store
from ..validate import programme as judge
from ..workbook import programme as sheet
from ..workbook.annotate import annotate
from ..workbook.generate import write_prefilled

log = logging.getLogger(__name__)
FOLDER = "programme"  # <service.outbox>/programme/<REF>/: each issued audit workbook


@dataclass(frozen=True)
class Loaded:
    """What ``programme load`` did: counts, or the findings and the marked copy."""

    report: Report
    added: int = 0
    updated: int = 0
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # missing from the new programme, but started: kept
    marked: Path | None = None

    @property
    def ok(self) -> bool:
        """Return True when the programme was recorded."""
        return self.report.ok


def load(settings: Settings, rubric: Rubric, path: Path, *, today: dt.date | None = None) -> Loaded:
    """Validate the programme workbook at ``path`` and, when it has no errors, record it.

    Rows are matched by audit reference: new ones are added, changed ones updated. An audit
    missing from the new programme is removed only while it has not started (no workbook of
    it has arrived). A programme with errors records nothing: a marked copy
    (``<name> - marked.xlsx``, beside it) shows each problem at its cell.
    """
    today = today or clock.today()
    path = Path(path)
    found = sheet.read_programme(path, settings.validation)
    if found.problem is not None:
        return Loaded(Report((found.problem,)))
    planned, report = judge.judge(found.rows, rubric, settings.validation, today)
    if not report.ok:
        marked = annotate(path, report, path.with_name(fit_name(path.stem, " - marked.xlsx")))
        return Loaded(report, marked=marked)
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        held = progress.states(conn, today, settings.mail.feedback_working_days)
        rows = {normalise_ref(p.audit_ref): _columns(p) for p in planned}
        gone = [ref for ref in store.plan_rows(conn) if ref["audit_ref"] not in rows]
        started = {r for r, p in held.items() if p.state.started}
        remove = tuple(r["audit_ref"] for r in gone if r["audit_ref"] not in started)
        kept = tuple(r["ref"] for r in gone if r["audit_ref"] in started)
        added, updated = store.save_plan(conn, rows, remove)
    finally:
        conn.close()
    removed = tuple(r["ref"] for r in gone if r["audit_ref"] in remove)
    return Loaded(report, added, updated, removed, kept)


def _columns(plan: PlannedAudit) -> dict[str, str]:
    values = {c: getattr(plan, c, "") for c in store.PLAN_COLUMNS if c != "ref"}
    values["ref"] = plan.audit_ref
    values["planned_month"] = plan.planned_month.strftime("%Y-%m")
    return values


# --- issuing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """One planned audit issued: its reference, workbook and the emails queued."""

    audit_ref: str
    workbook: Path
    queued: int


def planned(conn: sqlite3.Connection) -> list[PlannedAudit]:
    """Return every planned audit, by month then reference."""
    return [progress.plan_of(r) for r in store.plan_rows(conn)]


def issue(
    settings: Settings,
    rubric: Rubric,
    *,
    ref: str | None = None,
    today: dt.date | None = None,
) -> list[Issued]:
    """Issue the planned audits due: those of this month or earlier not issued and not started
    (or, with ``ref``, that one audit whatever its month). Safe to run again."""
    today = today or clock.today()
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        return issue_due(conn, settings, rubric, today, ref=ref)
    finally:
        conn.close()


def issue_due(
    conn: sqlite3.Connection,
    settings: Settings,
    rubric: Rubric,
    today: dt.date,
    *,
    ref: str | None = None,
) -> list[Issued]:
    """Issue what :func:`issue` says, on an open ledger."""
    month = today.replace(day=1)
    if ref is None and not any(
        p.issued_on is None and p.planned_month <= month for p in planned(conn)
    ):
        return []  # none of this month or earlier waits for its workbook: no need to read more
    states = progress.states(conn, today, settings.mail.feedback_working_days)
    chosen = []
    for item in states.values():
        plan = item.plan
        if plan is None:
            continue
        if ref is not None:
            if normalise_ref(ref) == normalise_ref(plan.audit_ref):
                if item.state is not AuditState.PLANNED:
                    raise OversightError(_not_plannable(plan, item.state))
                chosen.append(plan)
            continue
        if plan.planned_month <= month and item.state is AuditState.PLANNED:
            chosen.append(plan)
    if ref is not None and not chosen:
        raise OversightError(
            f"Audit {ref} is not in the programme. Check the reference, or load the programme "
            "again with its row."
        )
    subs = [dataclasses.replace(p.submission(), audit_stage=Stage.DRAFT) for p in chosen]
    paths = [_workbook_path(settings, p) for p in chosen]
    write_prefilled(list(zip(subs, paths, strict=True)), rubric)
    return [
        _issue_one(conn, settings, rubric, plan, sub, path, today)
        for plan, sub, path in zip(chosen, subs, paths, strict=True)
    ]


def _workbook_path(settings: Settings, plan: PlannedAudit) -> Path:
    """Return where the audit's pre-filled workbook goes (its folder made, private)."""
    folder = make_private_dir(Path(settings.service.outbox) / FOLDER / plan.audit_ref)
    return folder / f"Audit workbook {plan.audit_ref}.xlsx"


def _not_plannable(plan: PlannedAudit, state: AuditState) -> str:
    if state is AuditState.ISSUED and plan.issued_on is not None:
        return (
            f"Audit {plan.audit_ref} was issued on {long_date(plan.issued_on)}; its workbook is "
            "not sent twice. The auditor can ask the QA unit for the copy in the outbox."
        )
    return f"Audit {plan.audit_ref} has started ({state.value}): its workbook is not sent again."


def _issue_one(
    conn: sqlite3.Connection,
    settings: Settings,
    rubric: Rubric,
    plan: PlannedAudit,
    sub: Submission,
    path: Path,
    today: dt.date,
) -> Issued:
    """Queue the written workbook to the auditor and the notice, then record it issued."""
    os.chmod(path, 0o600)
    workbook = Attachment(path, DocKind.AUDIT_WORKBOOK, FileFormat.XLSX)
    context = notice_words(plan, rubric, settings)
    ids = outbox.enqueue_notices(
        db.db_path(Path(settings.service.state_dir)),
        key=f"programme:{normalise_ref(plan.audit_ref)}",
        submission=sub,
        notices=[
            (routes.programme_workbook_route(sub, workbook), context),
            (routes.identified_route(sub), context),
        ],
        settings=settings,
    )
    store.mark_issued(conn, normalise_ref(plan.audit_ref), today.isoformat(), str(path))
    log.info("planned audit %s issued to its auditor", plan.audit_ref)
    return Issued(plan.audit_ref, path, len(ids))


def start_by(plan: PlannedAudit, settings: Settings) -> dt.date:
    """Return the day an audit not started reminds its auditor: the first working day on or
    after ``reminders.not_started_day`` of its planned month."""
    day = plan.planned_month.replace(day=settings.reminders.not_started_day)
    while not rules.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def notice_words(plan: PlannedAudit, rubric: Rubric, settings: Settings) -> dict[str, object]:
    """Return the variables of the programme's notices (no child identifier among them)."""
    minutes = rubric.rules.discussion_max_minutes
    return {
        "month": plan.planned_month.strftime("%B %Y"),
        "start_by": long_date(start_by(plan, settings)),
        "review_months": rubric.rules.review_period_months,
        "discussion": "an hour" if minutes == 60 else f"{minutes} minutes",
        "areas": "; ".join(a[:1].lower() + a[1:] for a in rubric.core_areas),
        "questions": in_words(len(rubric.family_feedback_questions)),
        "auditor_role": plan.auditor_role,
    }


def daily_issue(conn: sqlite3.Connection, ctx: JobContext, day: dt.date) -> str:
    """The service's daily task: issue the planned audits whose month has come."""
    done = issue_due(conn, ctx.settings, ctx.rubric, day)
    return f"{len(done)} planned audit(s) issued" if done else "no planned audit to issue"


# --- status ----------------------------------------------------------------------------------


def status(settings: Settings, *, today: dt.date | None = None) -> progress.ProgrammeFigures:
    """Return planned against done for the whole programme on ``today``."""
    today = today or clock.today()
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        states = progress.states(conn, today, settings.mail.feedback_working_days)
    finally:
        conn.close()
    return progress.figures(states.values(), today)
