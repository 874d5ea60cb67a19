"""The oversight view of the ledger: audits as records, moderation outcomes and resolutions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..models import Agreement, Rating, Stage, Submission, submission_from_dict
from ..privacy import redact, redacted
from ..rules import referred_to_head_of_qa
from ..store import audits, db
from .moderation import normalise_ref


class OversightError(Exception):
    """Something the user asked for cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class ModerationOutcome:
    """The moderation panel's view of one audit."""

    audit_ref: str
    recorded_at: str
    moderator: str
    rating: Rating
    note: str


@dataclass(frozen=True)
class AuditRecord:
    """One audit as oversight sees it: its latest Final version and what followed from it.

    The submission's free text has the child's name and MOSAIC ID replaced by "the child"
    (``privacy.redacted``), as have the panel's and the Head of QA's notes.
    """

    submission: Submission
    version: int
    processed_at: str
    pack_dir: str
    moderation_selected: bool | None
    moderation: ModerationOutcome | None = None
    referred: bool = False  # some Final version had the practitioner disagreeing
    referral_open: bool = False  # ... and the latest one still does, with nothing recorded
    resolution_note: str = ""

    @property
    def audit_ref(self) -> str:
        """Return the audit reference as the auditor wrote it."""
        return self.submission.audit_ref

    @property
    def finalised_on(self) -> dt.date:
        """Return the date the Final version was processed."""
        return dt.date.fromisoformat(self.processed_at[:10])

    @property
    def when(self) -> dt.date:
        """Return the date the audit counts on in a period: the audit date, else finalised."""
        return self.submission.audit_date or self.finalised_on


@dataclass(frozen=True)
class Ledger:
    """Every audit in a period: Final records, and the references still only at Draft stage."""

    audits: tuple[AuditRecord, ...]
    drafts_only: tuple[str, ...]


def ledger_path(settings: Settings) -> Path:
    """Return where the ledger lives: ``<service.state_dir>/ledger.sqlite3``."""
    return db.db_path(Path(settings.service.state_dir))


def open_existing(path: Path) -> sqlite3.Connection:
    """Return a connection to a ledger that must already exist (reading never creates one)."""
    if not Path(path).is_file():
        raise OversightError(
            f"There is no ledger at {path}: no audit has been processed yet, or the setting "
            "service.state_dir points at the wrong folder."
        )
    return db.connect(Path(path))


def _stage_order(stage: str) -> int:
    return 1 if stage == Stage.FINAL else 0


def outcomes(conn: sqlite3.Connection) -> dict[str, ModerationOutcome]:
    """Return the latest moderation outcome of each normalised reference."""
    found: dict[str, ModerationOutcome] = {}
    for row in audits.moderation_outcome_rows(conn):
        found[row["audit_ref"]] = ModerationOutcome(
            row["audit_ref"],
            row["recorded_at"],
            row["moderator"],
            Rating(row["rating"]),
            row["note"],
        )
    return found


def _resolutions(conn: sqlite3.Connection) -> dict[tuple[str, int], str]:
    return {(row["audit_ref"], row["version"]): row["note"] for row in audits.resolution_rows(conn)}


def load(
    conn: sqlite3.Connection, start: dt.date | None = None, end: dt.date | None = None
) -> Ledger:
    """Return the audits whose date falls in ``start``..``end`` (inclusive; None = open).

    Each reference appears once, as its latest Final version; a reference with only Draft
    versions is listed in ``drafts_only``.
    """
    latest_final: dict[str, sqlite3.Row] = {}
    latest_any: dict[str, sqlite3.Row] = {}
    disagreed: set[str] = set()
    for row in audits.audit_rows(conn):
        ref = normalise_ref(row["audit_ref"])
        key = (_stage_order(row["stage"]), row["version"], row["processed_at"])
        held = latest_any.get(ref)
        if held is None or key > (
            _stage_order(held["stage"]),
            held["version"],
            held["processed_at"],
        ):
            latest_any[ref] = row
        if row["stage"] != Stage.FINAL:
            continue
        # A cheap text pre-check first; the rule is asked of the parsed audit.
        if Agreement.DISAGREE in row["data"] and referred_to_head_of_qa(
            submission_from_dict(json.loads(row["data"]))
        ):
            disagreed.add(ref)
        held = latest_final.get(ref)
        if held is None or (row["version"], row["processed_at"]) > (
            held["version"],
            held["processed_at"],
        ):
            latest_final[ref] = row
    moderated = outcomes(conn)
    resolved = _resolutions(conn)
    records = []
    for ref, row in latest_final.items():
        record = _record(row, ref, moderated, resolved, disagreed)
        if _in_period(record.when, start, end):
            records.append(record)
    drafts = []
    for ref, row in latest_any.items():
        if ref in latest_final:
            continue
        when = row["audit_date"] or row["processed_at"][:10]
        if _in_period(dt.date.fromisoformat(when), start, end):
            drafts.append(row["audit_ref"])
    records.sort(key=lambda r: (r.when, normalise_ref(r.audit_ref)))
    return Ledger(tuple(records), tuple(sorted(drafts)))


def _record(
    row: sqlite3.Row,
    ref: str,
    moderated: dict[str, ModerationOutcome],
    resolved: dict[tuple[str, int], str],
    disagreed: set[str],
) -> AuditRecord:
    sub = submission_from_dict(json.loads(row["data"]))
    selected = row["moderation_selected"]
    referred = ref in disagreed
    now_disagrees = referred_to_head_of_qa(sub)
    note = redact(resolved.get((ref, row["version"]), ""), sub)
    if referred and not now_disagrees:
        note = note or "A later version of the audit was received."
    outcome = moderated.get(ref)
    if outcome is not None:
        outcome = dataclasses.replace(outcome, note=redact(outcome.note, sub))
    return AuditRecord(
        # Every view of the ledger crosses audits: the child's name and MOSAIC ID are replaced
        # by "the child" in all free text (actions, themes, titles, notes) from here on.
        submission=redacted(sub),
        version=row["version"],
        processed_at=row["processed_at"],
        pack_dir=row["pack_dir"],
        moderation_selected=None if selected is None else bool(selected),
        moderation=outcome,
        referred=referred,
        referral_open=now_disagrees and (ref, row["version"]) not in resolved,
        resolution_note=note,
    )


def _in_period(when: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or when >= start) and (end is None or when <= end)


def find(conn: sqlite3.Connection, audit_ref: str) -> AuditRecord:
    """Return the latest Final version of ``audit_ref``, or say plainly that there is none."""
    wanted = normalise_ref(audit_ref)
    for record in load(conn).audits:
        if normalise_ref(record.audit_ref) == wanted:
            return record
    raise OversightError(
        f"There is no Final audit {audit_ref} in the ledger. Check the reference; a Draft "
        "audit cannot be moderated or have its referral resolved."
    )


def parse_rating(text: str) -> Rating:
    """Return the overall rating named by ``text`` (case-insensitive; "RI" is accepted)."""
    wanted = " ".join(text.split()).casefold()
    if wanted == "ri":
        return Rating.REQUIRES_IMPROVEMENT
    for rating in Rating:
        if rating.rank is not None and rating.value.casefold() == wanted:
            return rating
    choices = ", ".join(r.value for r in Rating if r.rank is not None)
    raise OversightError(f"{text!r} is not a rating. Use one of: {choices}.")


def record_moderation(
    conn: sqlite3.Connection, audit_ref: str, rating: str, note: str, moderator: str = ""
) -> tuple[AuditRecord, ModerationOutcome]:
    """Record the panel's rating of ``audit_ref`` and return the audit with the outcome."""
    record = find(conn, audit_ref)
    outcome = ModerationOutcome(
        normalise_ref(record.audit_ref),
        db.now(),
        moderator.strip() or "Moderation panel",
        parse_rating(rating),
        note.strip(),
    )
    audits.record_moderation_outcome(
        conn,
        audit_ref=outcome.audit_ref,
        recorded_at=outcome.recorded_at,
        moderator=outcome.moderator,
        rating=outcome.rating,
        note=outcome.note,
    )
    return record, outcome


def resolve_referral(
    conn: sqlite3.Connection, audit_ref: str, note: str, resolved_by: str = ""
) -> AuditRecord:
    """Record that the open referral of ``audit_ref`` is resolved; return the audit."""
    record = find(conn, audit_ref)
    if not record.referral_open:
        reason = (
            "it is already resolved" if record.referred else "the practitioner did not disagree"
        )
        raise OversightError(f"Audit {record.audit_ref} has no open referral: {reason}.")
    audits.record_resolution(
        conn,
        audit_ref=normalise_ref(record.audit_ref),
        version=record.version,
        resolved_at=db.now(),
        resolved_by=resolved_by.strip() or "Head of Quality Assurance",
        note=note.strip(),
    )
    return record


def open_referrals(records: Iterable[AuditRecord]) -> list[AuditRecord]:
    """Return the audits whose referral to the Head of Quality Assurance is still open."""
    return [r for r in records if r.referral_open]
