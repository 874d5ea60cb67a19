"""Action follow-up: every SMART action of every Final audit, with its owner and due date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Action
from .records import AuditRecord

DUE_SOON_DAYS = 28


@dataclass(frozen=True)
class TrackedAction:
    """One audit-plan action and where it stands on ``as_of``."""

    audit_ref: str
    team: str
    section: str
    action: str
    owner: str
    due: dt.date | None
    status: str  # "Overdue" | "Due soon" | "Not yet due" | "No due date"


def status_of(due: dt.date | None, as_of: dt.date) -> str:
    """Return where an action due on ``due`` stands on ``as_of``."""
    if due is None:
        return "No due date"
    if due < as_of:
        return "Overdue"
    if due <= as_of + dt.timedelta(days=DUE_SOON_DAYS):
        return "Due soon"
    return "Not yet due"


def is_open(item: Action, as_of: dt.date) -> bool:
    """Return True while an audit-plan action is still to be done on ``as_of``.

    An action cannot yet be marked done, so every action that says something is open, past
    its due date or not (:func:`status_of`). This is the one place that decides it: retention
    keeps every record of an audit with an open action.
    """
    return bool(item.action.strip()) and status_of(item.due, as_of) in (
        "Overdue",
        "Due soon",
        "Not yet due",
        "No due date",
    )


def has_open_actions(record: AuditRecord, as_of: dt.date) -> bool:
    """Return True when any action of ``record``'s plan is open on ``as_of``."""
    return any(is_open(item, as_of) for item in record.submission.actions)


def tracked(
    records: Iterable[AuditRecord],
    as_of: dt.date,
    *,
    team: str | None = None,
    overdue_only: bool = False,
) -> list[TrackedAction]:
    """Return the actions of ``records``, earliest due first; ``team`` matches part of a name."""
    wanted = team.casefold().strip() if team else ""
    found = []
    for record in records:
        sub = record.submission
        if wanted and wanted not in sub.team.casefold():
            continue
        for item in sub.actions:
            if not item.action.strip():
                continue
            status = status_of(item.due, as_of)
            if overdue_only and status != "Overdue":
                continue
            found.append(
                TrackedAction(
                    sub.audit_ref, sub.team, item.section, item.action, item.owner, item.due, status
                )
            )
    found.sort(key=lambda a: (a.due is None, a.due or dt.date.max, a.audit_ref))
    return found
