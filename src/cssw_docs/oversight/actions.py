"""Action follow-up: every SMART action of every Final audit, its owner, due date and status.

An action is open until it is done (with the date and who) or no longer needed (dropped, with
a reason). Its status comes from the latest of: ``actions done|dropped``, a returned
supervision CSV (both in the ledger's ``action_status``), and the Status column of a later
version of the audit workbook. Overdue means open and past its due date.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..models import Action, ActionStatus
from ..rules import plan_order
from ..store import programme as store
from .moderation import normalise_ref
from .records import AuditRecord

DUE_SOON_DAYS = 28
OVERDUE = "Overdue"
# Where an action stands on a day: the open ones by their due date, then the closed ones.
OPEN_STATUSES: tuple[str, ...] = (OVERDUE, "Due soon", "Not yet due", "No due date")
CLOSED_STATUSES: tuple[str, ...] = ("Done on time", "Done late", "Dropped")
STATUSES: tuple[str, ...] = OPEN_STATUSES + CLOSED_STATUSES


@dataclass(frozen=True)
class Closed:
    """How an action was closed (or reopened): its status, the day, by whom, why, and when
    this was recorded (UTC ISO, to let the latest word win)."""

    status: ActionStatus
    on: dt.date | None
    by: str = ""
    note: str = ""
    recorded_at: str = ""
    source: str = ""


@dataclass(frozen=True)
class TrackedAction:
    """One audit-plan action and where it stands on ``as_of``."""

    audit_ref: str
    team: str
    section: str
    action: str
    owner: str
    due: dt.date | None
    status: str  # one of STATUSES
    number: int = 0  # its place in the audit plan (1, 2 ...): `actions done REF N`
    closed: Closed | None = None
    practitioner: str = ""
    practitioner_email: str = ""
    manager: str = ""
    manager_email: str = ""

    @property
    def is_open(self) -> bool:
        """Return True while the action is neither done nor dropped."""
        return self.status in OPEN_STATUSES


def status_of(due: dt.date | None, as_of: dt.date, closed: Closed | None = None) -> str:
    """Return where an action due on ``due`` stands on ``as_of`` (closed: how it closed)."""
    if closed is not None and closed.status is ActionStatus.DROPPED:
        return "Dropped"
    if closed is not None and closed.status is ActionStatus.DONE:
        late = due is not None and closed.on is not None and closed.on > due
        return "Done late" if late else "Done on time"
    if due is None:
        return "No due date"
    if due < as_of:
        return OVERDUE
    if due <= as_of + dt.timedelta(days=DUE_SOON_DAYS):
        return "Due soon"
    return "Not yet due"


Statuses = Mapping[tuple[str, int], Closed]


def recorded(conn: sqlite3.Connection) -> dict[tuple[str, int], Closed]:
    """Return the statuses recorded in the ledger, by (normalised reference, number)."""
    return {
        (row["audit_ref"], row["number"]): Closed(
            ActionStatus(row["status"]),
            dt.date.fromisoformat(row["on_date"]) if row["on_date"] else None,
            row["by_whom"],
            row["note"],
            row["recorded_at"],
            row["source"],
        )
        for row in store.action_status_rows(conn)
    }


def closed_of(record: AuditRecord, number: int, item: Action, statuses: Statuses) -> Closed | None:
    """Return how action ``number`` of ``record`` stands closed, or None while open: the later
    of the ledger's record and the workbook's own Status column."""
    held = statuses.get((normalise_ref(record.audit_ref), number))
    from_workbook = None
    if item.status is not None:
        from_workbook = Closed(
            item.status, item.completed_on, "", "", record.processed_at, "workbook"
        )
    found = max(
        (c for c in (held, from_workbook) if c is not None),
        key=lambda c: c.recorded_at,
        default=None,
    )
    return None if found is None or found.status is ActionStatus.OPEN else found


def tracked(
    records: Iterable[AuditRecord],
    as_of: dt.date,
    *,
    team: str | None = None,
    overdue_only: bool = False,
    statuses: Statuses | None = None,
) -> list[TrackedAction]:
    """Return the actions of ``records``, earliest due first; ``team`` matches part of a name."""
    wanted = team.casefold().strip() if team else ""
    statuses = statuses or {}
    found = []
    for record in records:
        sub = record.submission
        if wanted and wanted not in sub.team.casefold():
            continue
        for number, item in numbered(record):
            closed = closed_of(record, number, item, statuses)
            status = status_of(item.due, as_of, closed)
            if overdue_only and status != OVERDUE:
                continue
            found.append(
                TrackedAction(
                    sub.audit_ref,
                    sub.team,
                    item.section,
                    item.action,
                    item.owner,
                    item.due,
                    status,
                    number,
                    closed,
                    sub.practitioner_name,
                    sub.practitioner_email,
                    sub.manager_name,
                    sub.manager_email,
                )
            )
    found.sort(key=lambda a: (a.due is None, a.due or dt.date.max, a.audit_ref, a.number))
    return found


def numbered(record: AuditRecord) -> list[tuple[int, Action]]:
    """Return the audit plan's actions with the numbers its documents give them (1, 2 ...)."""
    ordered = enumerate(plan_order(record.submission.actions), start=1)
    return [(n, a) for n, a in ordered if a.action.strip()]


def has_open_actions(record: AuditRecord, statuses: Statuses | None = None) -> bool:
    """Return True when any action of ``record``'s plan is still open: neither done nor
    dropped (``statuses``: the ledger's, from :func:`recorded`). Retention keeps every record
    of an audit with an open action."""
    statuses = statuses or {}
    return any(
        closed_of(record, number, item, statuses) is None for number, item in numbered(record)
    )


def counts(actions: Iterable[TrackedAction]) -> dict[str, int]:
    """Return how many actions stand in each of STATUSES."""
    out = dict.fromkeys(STATUSES, 0)
    for a in actions:
        out[a.status] += 1
    return out
