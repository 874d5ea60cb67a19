"""The storyboards of a period, from the ledger: what a booklet holds and what a poster shows.

Each audit counts once, as its latest Final version (a storyboard that followed its pack on
its own is that version), with the panel's rating of record. Text is redacted as in every
cross-audit output, and a storyboard never carries the child's name or MOSAIC ID.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from .. import wordlists
from ..models import Submission
from ..rules import anonymity_clues, shared_outside, storyboard_due
from .moderation import normalise_ref
from .records import AuditRecord, OversightError, load


@dataclass(frozen=True)
class Selection:
    """Which storyboards: a period, optionally one team and one theme, and for whom."""

    start: dt.date | None = None
    end: dt.date | None = None
    team: str = ""
    theme: str = ""
    external: bool = False  # only those consented (and fit) to share outside the service

    def filters(self) -> str:
        """Return the team and theme filters in words (empty when none)."""
        parts = [
            f"Team: {self.team}" if self.team else "",
            f"Theme: {self.theme}" if self.theme else "",
        ]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Gathered:
    """The storyboards selected, and those left out of an external booklet with the reason."""

    selection: Selection
    records: tuple[AuditRecord, ...]
    internal_only: tuple[str, ...] = ()  # references: consented within the service only
    unsettled: tuple[str, ...] = ()  # references: shared outside, but details not confirmed

    @property
    def entries(self) -> list[tuple[Submission, dt.date]]:
        """Return each storyboard's audit (redacted, with the rating of record) and the day its
        Final version was processed, in order."""
        return [(r.submission, r.finalised_on) for r in self.records]


def _matches(wanted: str, value: str) -> bool:
    return not wanted.strip() or " ".join(wanted.split()).casefold() in value.casefold()


def gather(
    conn: sqlite3.Connection,
    selection: Selection,
    local: wordlists.LocalList = wordlists.LocalList(),  # noqa: B008 - frozen, never changed
) -> Gathered:
    """Return the completed storyboards of ``selection``'s period, oldest first.

    A storyboard counts when it was produced (Completed, consented to within the service and
    confirmed by the auditor). ``team`` and ``theme`` match any part of the audit's team and
    theme, ignoring case. ``external`` keeps only those consented to share outside the service
    whose anonymity warnings are all settled (an audit stored before the check existed is held
    to it too); the others are named in ``internal_only`` and ``unsettled``.
    """
    chosen: list[AuditRecord] = []
    internal: list[str] = []
    unsettled: list[str] = []
    for record in load(conn, selection.start, selection.end).audits:
        sub = record.submission
        if not storyboard_due(sub):
            continue
        if not (_matches(selection.team, sub.team) and _matches(selection.theme, sub.audit_theme)):
            continue
        if selection.external:
            if not shared_outside(sub):
                internal.append(record.audit_ref)
                continue
            if anonymity_clues(sub, local):
                unsettled.append(record.audit_ref)
                continue
        chosen.append(record)
    return Gathered(selection, tuple(chosen), tuple(internal), tuple(unsettled))


def find(conn: sqlite3.Connection, audit_ref: str) -> AuditRecord:
    """Return the audit whose storyboard ``audit_ref`` names, or say plainly why there is none."""
    wanted = normalise_ref(audit_ref)
    for record in load(conn).audits:
        if normalise_ref(record.audit_ref) != wanted:
            continue
        if not storyboard_due(record.submission):
            raise OversightError(
                f"Audit {record.audit_ref} has no storyboard: one is produced only when it is "
                "Completed, consented to and confirmed by the auditor in the workbook."
            )
        return record
    raise OversightError(
        f"There is no Final audit {audit_ref} in the ledger. Check the reference "
        "(`cssw-docs storyboards list` shows every storyboard)."
    )
