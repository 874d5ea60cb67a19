"""The oversight view of the ledger: audits as records, with the panel's and the Head of QA's
decisions.

The moderation panel's chair has the final word: where the panel changed a rating, that rating
is the audit's rating of record in every record this module returns (so in every figure, list
and report), and the auditor's own ratings are kept beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..models import (
    SECTION_KEYS,
    Agreement,
    Decision,
    Rating,
    ReferralOutcome,
    Stage,
    Submission,
    stored_audit_date,
    submission_from_dict,
)
from ..privacy import redact, redacted
from ..rubric import Rubric
from ..rules import referred_to_head_of_qa
from ..store import audits, db
from ..store import retention as retention_store
from .moderation import normalise_ref


class OversightError(Exception):
    """Something the user asked for cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class ModerationOutcome:
    """The moderation panel's decision on one audit: its chair's word is final.

    ``rating`` is the overall rating of record after the panel (the auditor's when the panel
    did not change it); ``sections`` the section ratings the panel changed, by key;
    ``moderator`` the chair; ``panel_date`` the day the panel sat, when known.
    """

    audit_ref: str
    recorded_at: str
    moderator: str
    rating: Rating
    note: str
    sections: dict[str, Rating] = field(default_factory=dict)
    panel_date: dt.date | None = None

    @property
    def decided_on(self) -> dt.date:
        """Return the day of the decision: the panel's date, else the day it was recorded."""
        return self.panel_date or dt.date.fromisoformat(self.recorded_at[:10])


def with_panel_ratings(sub: Submission, outcome: ModerationOutcome | None) -> Submission:
    """Return ``sub`` with the panel's ratings as its ratings of record (unchanged without)."""
    if outcome is None:
        return sub
    sections = tuple(
        dataclasses.replace(s, rating=outcome.sections[s.key]) if s.key in outcome.sections else s
        for s in sub.sections
    )
    return dataclasses.replace(sub, overall_rating=outcome.rating, sections=sections)


@dataclass(frozen=True)
class AuditRecord:
    """One audit as oversight sees it: its latest Final version and what followed from it.

    The submission's free text has the child's name and MOSAIC ID replaced by "the child"
    (``privacy.redacted``), as have the panel's and the Head of QA's notes.
    """

    submission: Submission  # with the panel's ratings, when it changed any (of record)
    version: int
    processed_at: str
    pack_dir: str
    moderation_selected: bool | None
    moderation: ModerationOutcome | None = None
    referred: bool = False  # some Final version had the practitioner disagreeing
    referral_open: bool = False  # ... and the latest one still does, with nothing recorded
    resolution_note: str = ""
    auditor_overall: Rating | None = None  # the auditor's own ratings, kept beside the panel's
    auditor_sections: tuple[tuple[str, Rating | None], ...] = ()
    panel_date: dt.date | None = None  # the panel it is scheduled for (moderation schedule)
    decision: Decision | None = None  # the Head of QA's, on a referral
    awaiting_decision: bool = False  # the latest Final version waits for the Head of QA

    @property
    def auditor_rating(self) -> Rating | None:
        """Return the auditor's own overall rating (of record unless the panel changed it)."""
        return self.auditor_overall if self.auditor_sections else self.submission.overall_rating

    def auditor_section(self, key: str) -> Rating | None:
        """Return the auditor's own rating of section ``key``."""
        found = dict(self.auditor_sections)
        return found[key] if key in found else self.submission.section(key).rating

    @property
    def panel_changed(self) -> bool:
        """Return True when the panel changed the overall rating or any section's."""
        outcome = self.moderation
        if outcome is None:
            return False
        return outcome.rating != self.auditor_rating or any(
            outcome.sections.get(k, self.auditor_section(k)) != self.auditor_section(k)
            for k in SECTION_KEYS
        )

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
        return counts_on(self.submission.audit_date, self.processed_at)


def counts_on(audit_date: dt.date | None, processed_at: str) -> dt.date:
    """Return the day an audit counts on in a period: its audit date, else the day its Final
    version was processed (``processed_at``, as the ledger stores it)."""
    return audit_date or dt.date.fromisoformat(processed_at[:10])


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
        sections = {k: Rating(v) for k, v in json.loads(row["sections"] or "{}").items()}
        found[row["audit_ref"]] = ModerationOutcome(
            row["audit_ref"],
            row["recorded_at"],
            row["moderator"],
            Rating(row["rating"]),
            row["note"],
            sections,
            dt.date.fromisoformat(row["panel_date"]) if row["panel_date"] else None,
        )
    return found


def panel_dates(conn: sqlite3.Connection) -> dict[str, dt.date]:
    """Return the scheduled panel date of each normalised reference."""
    return {
        normalise_ref(r["audit_ref"]): dt.date.fromisoformat(r["panel_date"])
        for r in audits.panel_rows(conn)
    }


def decision_of(row: sqlite3.Row) -> Decision | None:
    """Return the Head of QA's decision a resolution row holds (None for release 0.1.0's)."""
    if not row["outcome"]:
        return None
    return Decision(
        ReferralOutcome(row["outcome"]),
        row["note"],
        dt.date.fromisoformat(row["decided_on"] or row["resolved_at"][:10]),
        row["resolved_by"],
    )


def _resolutions(conn: sqlite3.Connection) -> dict[tuple[str, int], sqlite3.Row]:
    """Return each decision by (normalised reference, the version it decided), and by the
    version it issued, so the final pack finds the decision it carries."""
    found: dict[tuple[str, int], sqlite3.Row] = {}
    for row in audits.resolution_rows(conn):
        ref = normalise_ref(row["audit_ref"])
        found[(ref, row["version"])] = row
        if row["issued_version"] is not None:
            found.setdefault((ref, row["issued_version"]), row)
    return found


def load(
    conn: sqlite3.Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    refs: Collection[str] | None = None,
) -> Ledger:
    """Return the audits whose date falls in ``start``..``end`` (inclusive; None = open).

    Each reference appears once, as its latest Final version; a reference with only Draft
    versions is listed in ``drafts_only``. ``refs`` (normalised) keeps only those audits.
    """
    # The latest Final row of each reference, and its audit when it was read already.
    latest_final: dict[str, tuple[sqlite3.Row, Submission | None]] = {}
    latest_any: dict[str, sqlite3.Row] = {}
    disagreed: set[str] = set()
    for row in audits.audit_rows(conn):
        ref = normalise_ref(row["audit_ref"])
        if refs is not None and ref not in refs:
            continue
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
        sub: Submission | None = None
        if Agreement.DISAGREE in row["data"]:
            sub = submission_from_dict(json.loads(row["data"]))
            if referred_to_head_of_qa(sub):
                disagreed.add(ref)
        held = latest_final.get(ref)
        if held is None or (row["version"], row["processed_at"]) > (
            held[0]["version"],
            held[0]["processed_at"],
        ):
            latest_final[ref] = (row, sub)
    moderated = outcomes(conn)
    resolved = _resolutions(conn)
    panels = panel_dates(conn)
    records = []
    for ref, (row, sub) in latest_final.items():
        if sub is None:
            data = json.loads(row["data"])
            # The period is decided before the audit is read in full: an audit outside it is
            # never built (nor redacted).
            if not _in_period(counts_on(stored_audit_date(data), row["processed_at"]), start, end):
                continue
            sub = submission_from_dict(data)
        elif not _in_period(counts_on(sub.audit_date, row["processed_at"]), start, end):
            continue
        records.append(_record(row, sub, ref, moderated, resolved, disagreed, panels))
    drafts = []
    for ref, row in latest_any.items():
        if ref in latest_final:
            continue
        when = row["audit_date"] or row["processed_at"][:10]
        if _in_period(dt.date.fromisoformat(when), start, end):
            drafts.append(row["audit_ref"])
    for ref, kept in tombstones(conn).items():
        # An audit that came back after its detail was removed counts as it is now.
        if ref in latest_any or (refs is not None and ref not in refs):
            continue
        if isinstance(kept, AuditRecord):
            if _in_period(kept.when, start, end):
                records.append(kept)
        elif _in_period(kept[1], start, end):
            drafts.append(kept[0])
    records.sort(key=lambda r: (r.when, normalise_ref(r.audit_ref)))
    return Ledger(tuple(records), tuple(sorted(drafts)))


def _record(
    row: sqlite3.Row,
    sub: Submission,
    ref: str,
    moderated: dict[str, ModerationOutcome],
    resolved: dict[tuple[str, int], sqlite3.Row],
    disagreed: set[str],
    panels: Mapping[str, dt.date],
) -> AuditRecord:
    selected = row["moderation_selected"]
    referred = ref in disagreed
    issue = row["issue"]
    awaiting = issue == audits.ISSUE_AWAITING
    found = resolved.get((ref, row["version"]))
    decision = decision_of(found) if found is not None else None
    if decision is not None:
        decision = dataclasses.replace(decision, note=redact(decision.note, sub))
    note = redact(found["note"], sub) if found is not None else ""
    if referred and not referred_to_head_of_qa(sub):
        note = note or "A later version of the audit was received."
    # Open while the practitioner still disputes the latest Final version and nothing decided
    # it: a pack awaiting the Head of QA, or (release 0.1.0) a Final pack sent while referred.
    still_open = referred_to_head_of_qa(sub) and issue in (audits.ISSUE_AWAITING, audits.ISSUE_PACK)
    outcome = moderated.get(ref)
    if outcome is not None:
        outcome = dataclasses.replace(outcome, note=redact(outcome.note, sub))
    return AuditRecord(
        # Every view of the ledger crosses audits: the child's name and MOSAIC ID are replaced
        # by "the child" in all free text (actions, themes, titles, notes) from here on. The
        # panel's ratings, where it changed any, are the ratings of record.
        submission=with_panel_ratings(redacted(sub), outcome),
        version=row["version"],
        processed_at=row["processed_at"],
        pack_dir=row["pack_dir"],
        moderation_selected=None if selected is None else bool(selected),
        moderation=outcome,
        referred=referred,
        referral_open=still_open and found is None,
        resolution_note=note,
        auditor_overall=sub.overall_rating,
        auditor_sections=tuple((s.key, s.rating) for s in sub.sections),
        panel_date=panels.get(ref),
        decision=decision,
        awaiting_decision=awaiting and found is None,
    )


def tombstones(conn: sqlite3.Connection) -> dict[str, AuditRecord | tuple[str, dt.date]]:
    """Return what the ledger keeps of each audit whose case detail was removed (retention or
    erasure), by normalised reference: its anonymous record when it reached Final, else its
    reference and date (an audit that never went beyond Draft).

    The one place the activity report, and every view built on :func:`load`, reads them.
    """
    found: dict[str, AuditRecord | tuple[str, dt.date]] = {}
    for row in retention_store.tombstone_rows(conn):
        summary = json.loads(row["summary"])
        if summary.get("stage") != Stage.FINAL:
            found[row["audit_ref"]] = (summary["audit_ref"], dt.date.fromisoformat(summary["date"]))
            continue
        found[row["audit_ref"]] = from_summary(summary)
    return found


def from_summary(summary: Mapping[str, object]) -> AuditRecord:
    """Return the anonymous audit record a tombstone's summary holds (see oversight.tombstone)."""
    data: dict = dict(summary)  # type: ignore[arg-type]
    moderation = data.get("moderation")
    decision = data.get("decision")
    day = dt.date.fromisoformat
    return AuditRecord(
        submission=submission_from_dict(data["submission"]),
        version=int(data["version"]),
        processed_at=str(data["processed_at"]),
        pack_dir="",
        moderation_selected=data.get("moderation_selected"),
        moderation=None
        if not moderation
        else ModerationOutcome(
            data["submission"]["audit_ref"],
            moderation["recorded_at"],
            "",
            Rating(moderation["rating"]),
            "",
            {k: Rating(v) for k, v in moderation["sections"].items()},
            day(moderation["panel_date"]) if moderation.get("panel_date") else None,
        ),
        referred=bool(data.get("referred")),
        referral_open=bool(data.get("referral_open")),
        resolution_note="",
        auditor_overall=Rating(data["auditor_overall"]) if data.get("auditor_overall") else None,
        auditor_sections=tuple(
            (k, Rating(r) if r else None) for k, r in data.get("auditor_sections", [])
        ),
        panel_date=day(data["panel_date"]) if data.get("panel_date") else None,
        decision=None
        if not decision
        else Decision(ReferralOutcome(decision["outcome"]), "", day(decision["decided_on"]), ""),
        awaiting_decision=bool(data.get("awaiting_decision")),
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
        f"There is no Final audit {audit_ref} in the ledger. Check the reference: only a Final "
        "audit is followed up (moderation, referrals, actions, storyboards), not a Draft."
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


def parse_section_ratings(items: Iterable[str], rubric: Rubric) -> dict[str, Rating]:
    """Return {section key: rating} from "Section=Rating" items ("Assessment=Good")."""
    found: dict[str, Rating] = {}
    names = ", ".join(s.name for s in rubric.sections)
    for item in items:
        name, sep, rating = item.partition("=")
        key = rubric.section_key_for(name.strip()) if sep else None
        if key is None:
            raise OversightError(
                f"{item!r} does not name a section and a rating. Write it as "
                f'"Assessment=Good"; the sections are: {names}.'
            )
        found[key] = parse_rating(rating)
    return found


def record_moderation(
    conn: sqlite3.Connection,
    audit_ref: str,
    rating: str | None,
    note: str,
    moderator: str = "",
    *,
    sections: Mapping[str, Rating] | None = None,
    panel_date: dt.date | None = None,
) -> tuple[AuditRecord, ModerationOutcome]:
    """Record the panel chair's decision on ``audit_ref``; return the audit as it stood before
    and the outcome.

    ``rating`` is the panel's overall rating (None: the overall rating stands); ``sections``
    the section ratings it changed. The panel date defaults to the scheduled one.
    """
    record = find(conn, audit_ref)
    sections = dict(sections or {})
    if rating is None and not sections:
        raise OversightError(
            "Give the panel's overall rating (--rating) or the sections it changed (--section "
            '"Assessment=Good"), or both.'
        )
    overall = parse_rating(rating) if rating is not None else record.submission.overall_rating
    if overall is None or overall.rank is None:
        raise OversightError(
            f"Audit {record.audit_ref} has no overall rating to keep: give the panel's with "
            "--rating."
        )
    outcome = ModerationOutcome(
        normalise_ref(record.audit_ref),
        db.now(),
        moderator.strip() or "Chair of the moderation panel",
        overall,
        note.strip(),
        sections,
        panel_date or record.panel_date,
    )
    audits.record_moderation_outcome(
        conn,
        audit_ref=outcome.audit_ref,
        recorded_at=outcome.recorded_at,
        moderator=outcome.moderator,
        rating=outcome.rating,
        note=outcome.note,
        sections=outcome.sections,
        panel_date=outcome.panel_date.isoformat() if outcome.panel_date else None,
    )
    return record, outcome


def open_referrals(records: Iterable[AuditRecord]) -> list[AuditRecord]:
    """Return the audits whose referral to the Head of Quality Assurance is still open."""
    return [r for r in records if r.referral_open]
