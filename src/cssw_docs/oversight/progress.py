"""Where each audit stands, derived from what the ledger holds: the one home of audit states.

``states`` is the only place an audit's state (``models.AuditState``) is decided; ``programme
status``, the reminders and the activity report's Programme sheet all read it. Nothing is
stored: the state follows from the programme, the packs issued, the Head of QA's decisions and
the panel's outcomes, so it can never disagree with them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..models import AuditState, PlannedAudit, ReferralOutcome, Stage
from ..rules import add_working_days
from ..store import audits
from ..store import programme as store
from . import records
from .moderation import normalise_ref


@dataclass(frozen=True)
class Progress:
    """One audit (planned, or only arrived) and where it stands on ``as_of``."""

    audit_ref: str
    state: AuditState
    plan: PlannedAudit | None = None
    draft_version: int | None = None  # the latest Draft pack's version
    draft_sent_on: dt.date | None = None
    feedback_due: dt.date | None = None  # the reply-by date the draft pack gave
    referred_version: int | None = None  # the Final version waiting for the Head of QA
    referred_on: dt.date | None = None
    final_on: dt.date | None = None
    team: str = ""
    audit_type: str = ""
    auditor: str = ""

    def late(self, as_of: dt.date) -> bool:
        """Return True for a planned audit not completed by the end of its planned month."""
        if self.plan is None or self.state.completed:
            return False
        return as_of > month_end(self.plan.planned_month)

    def category(self, as_of: dt.date) -> str:
        """Return completed, late, in progress or not started (each audit counts once)."""
        if self.state.completed:
            return "completed"
        if self.late(as_of):
            return "late"
        return "in progress" if self.state.started else "not started"


CATEGORIES: tuple[str, ...] = ("completed", "in progress", "late", "not started")


def month_end(first: dt.date) -> dt.date:
    """Return the last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def local_day(stamp: str) -> dt.date:
    """Return the local date of a UTC ISO time the ledger stores."""
    return dt.datetime.fromisoformat(stamp).astimezone().date()


def plan_of(row: sqlite3.Row) -> PlannedAudit:
    """Return the planned audit a ``programme`` row holds."""
    return PlannedAudit(
        audit_ref=row["ref"],
        audit_type=row["audit_type"],
        planned_month=dt.date.fromisoformat(row["planned_month"] + "-01"),
        auditor_name=row["auditor_name"],
        auditor_email=row["auditor_email"],
        team=row["team"],
        practitioner_name=row["practitioner_name"],
        practitioner_email=row["practitioner_email"],
        manager_name=row["manager_name"],
        manager_email=row["manager_email"],
        theme=row["theme"],
        auditor_role=row["auditor_role"],
        child_name=row["child_name"],
        child_mosaic_id=row["child_mosaic_id"],
        issued_on=dt.date.fromisoformat(row["issued_on"]) if row["issued_on"] else None,
    )


def states(
    conn: sqlite3.Connection,
    as_of: dt.date,
    feedback_working_days: int,
    *,
    ledger: records.Ledger | None = None,
) -> dict[str, Progress]:
    """Return every audit the ledger knows (planned or arrived) by normalised reference.

    Planned: in the programme, workbook not issued. Issued: sent to the auditor, nothing back.
    Draft: a Draft pack out, its reply-by date (``feedback_working_days`` after it was sent)
    not passed. Awaiting feedback: that date passed with no Final. Referred: the latest Final
    waits for the Head of QA (or a revised audit the Head of QA asked for). Final: issued.
    Moderated: the panel recorded its decision.

    ``ledger`` is ``records.load(conn)`` when the caller has it already (read once, not twice).
    """
    plans = {r["audit_ref"]: plan_of(r) for r in store.plan_rows(conn)}
    drafts: dict[str, sqlite3.Row] = {}
    for row in audits.audit_rows(conn):
        if row["stage"] != Stage.DRAFT:
            continue
        ref = normalise_ref(row["audit_ref"])
        held = drafts.get(ref)
        if held is None or (row["version"], row["processed_at"]) > (
            held["version"],
            held["processed_at"],
        ):
            drafts[ref] = row
    ledger = records.load(conn) if ledger is None else ledger
    finals = {normalise_ref(r.audit_ref): r for r in ledger.audits}
    replaced = _replaced_versions(conn)
    out: dict[str, Progress] = {}
    for ref in sorted({*plans, *drafts, *finals}):
        plan, draft, final = plans.get(ref), drafts.get(ref), finals.get(ref)
        sent = local_day(draft["processed_at"]) if draft is not None else None
        due = add_working_days(sent, feedback_working_days) if sent is not None else None
        if plan is not None:
            ref_as_written = plan.audit_ref
        elif final is not None:
            ref_as_written = final.audit_ref
        else:
            ref_as_written = draft["audit_ref"]
        known = _known(plan, final, draft)
        found: dict[str, object] = dict(
            audit_ref=ref_as_written,
            plan=plan,
            draft_version=draft["version"] if draft is not None else None,
            draft_sent_on=sent,
            feedback_due=due,
            team=known.get("team", ""),
            audit_type=known.get("audit_type", ""),
            auditor=known.get("auditor_name", ""),
        )
        if final is not None:
            waiting = final.awaiting_decision or (
                final.decision is not None
                and final.decision.outcome is ReferralOutcome.REPLACED
                and final.version <= replaced.get(ref, 0)
            )
            if final.moderation is not None:
                state = AuditState.MODERATED
            elif waiting:
                state = AuditState.REFERRED
                found["referred_version"] = final.version
                found["referred_on"] = local_day(final.processed_at)
            else:
                state = AuditState.FINAL
            found["final_on"] = final.finalised_on
        elif draft is not None:
            assert due is not None
            state = AuditState.AWAITING_FEEDBACK if as_of > due else AuditState.DRAFT
        elif plan is not None and plan.issued_on is not None:
            state = AuditState.ISSUED
        else:
            state = AuditState.PLANNED
        out[ref] = Progress(state=state, **found)  # type: ignore[arg-type]
    return out


def _replaced_versions(conn: sqlite3.Connection) -> dict[str, int]:
    """Return the latest version the Head of QA decided should be replaced, by normalised
    reference (absent: none)."""
    found: dict[str, int] = {}
    for r in audits.resolution_rows(conn):
        if r["outcome"] == ReferralOutcome.REPLACED:
            ref = normalise_ref(r["audit_ref"])
            found[ref] = max(found.get(ref, 0), r["version"])
    return found


def _known(
    plan: PlannedAudit | None, final: records.AuditRecord | None, draft: sqlite3.Row | None
) -> dict[str, str]:
    """Return the team, type and auditor: as planned, else as the latest workbook says."""
    if plan is not None:
        return {"team": plan.team, "audit_type": plan.audit_type, "auditor_name": plan.auditor_name}
    if final is not None:
        sub = final.submission
        return {"team": sub.team, "audit_type": sub.audit_type, "auditor_name": sub.auditor_name}
    data = json.loads(draft["data"]) if draft is not None else {}
    return {k: str(data.get(k) or "") for k in ("team", "audit_type", "auditor_name")}


# --- planned against done -------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    """Planned audits of one month, team, type or auditor, by where they stand."""

    group: str
    planned: int = 0
    completed: int = 0
    in_progress: int = 0
    late: int = 0
    not_started: int = 0


@dataclass(frozen=True)
class ProgrammeFigures:
    """Planned against done: the whole programme and by month, team, type and auditor."""

    as_of: dt.date
    total: GroupRow
    by_month: tuple[GroupRow, ...]
    by_team: tuple[GroupRow, ...]
    by_type: tuple[GroupRow, ...]
    by_auditor: tuple[GroupRow, ...]
    audits: tuple[Progress, ...]

    @property
    def empty(self) -> bool:
        """Return True when no audit is planned (in the period)."""
        return self.total.planned == 0


def figures(
    progress: Iterable[Progress],
    as_of: dt.date,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ProgrammeFigures:
    """Return planned against done for the planned audits whose month falls in the period."""
    planned = [
        p
        for p in progress
        if p.plan is not None
        and (start is None or month_end(p.plan.planned_month) >= start)
        and (end is None or p.plan.planned_month <= end)
    ]
    planned.sort(key=lambda p: (p.plan.planned_month, p.audit_ref))  # type: ignore[union-attr]

    def month(p: Progress) -> str:
        return p.plan.planned_month.strftime("%Y-%m")  # type: ignore[union-attr]

    def group(key: Callable[[Progress], str], label=lambda k: k) -> tuple[GroupRow, ...]:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
        for p in planned:
            counts[key(p)][p.category(as_of)] += 1
        return tuple(_row(label(k), c) for k, c in sorted(counts.items()))

    total = dict.fromkeys(CATEGORIES, 0)
    for p in planned:
        total[p.category(as_of)] += 1
    return ProgrammeFigures(
        as_of=as_of,
        total=_row("All planned audits", total),
        by_month=group(month, lambda k: dt.date.fromisoformat(k + "-01").strftime("%b %Y")),
        by_team=group(lambda p: p.team or "Not recorded"),
        by_type=group(lambda p: p.audit_type or "Not recorded"),
        by_auditor=group(lambda p: p.auditor or "Not recorded"),
        audits=tuple(planned),
    )


def _row(label: str, counts: dict[str, int]) -> GroupRow:
    return GroupRow(
        label,
        sum(counts.values()),
        counts["completed"],
        counts["in progress"],
        counts["late"],
        counts["not started"],
    )
