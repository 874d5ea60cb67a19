"""What follows an issued pack: the Head of QA's decision, the panel's date and its decision.

The command line's ``escalations decide``, ``moderation schedule`` and ``moderation record``
call these. Each records its fact in the ledger first and then queues its emails by
deterministic Message-IDs (the intake service, or ``cssw-docs mail send``, sends them), so a
command stopped half-way is finished by running it again, without a second pack or email.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import clock, rules
from .config import Settings
from .deliver import outbox, routes
from .deliver.compose import decision_words, long_date
from .deliver.routes import Issue
from .folders import locks_in
from .models import (
    SECTION_KEYS,
    Decision,
    Pack,
    Rating,
    ReferralOutcome,
    Stage,
    Submission,
    submission_from_dict,
)
from .oversight import records
from .oversight.moderation import normalise_ref
from .oversight.records import AuditRecord, ModerationOutcome, OversightError
from .privacy import redact
from .render import render_pack
from .rubric import Rubric
from .store import audits, db


@dataclass(frozen=True)
class Decided:
    """What ``escalations decide`` did: the decision, the final pack (None when replaced)."""

    audit_ref: str
    version: int  # the Final version the referral was about
    decision: Decision
    pack: Pack | None
    queued: int  # emails queued


def _latest_final(conn: sqlite3.Connection, audit_ref: str) -> sqlite3.Row:
    """Return the ledger row of the latest Final version of ``audit_ref`` (raw: for its people)."""
    finals = [r for r in audits.audit_rows(conn, audit_ref) if r["stage"] == Stage.FINAL]
    if not finals:
        raise OversightError(
            f"There is no Final audit {audit_ref} in the ledger. Check the reference: only a "
            "Final audit the practitioner disputes waits for the Head of QA's decision."
        )
    return max(finals, key=lambda r: (r["version"], r["processed_at"]))


def _decision_on(conn: sqlite3.Connection, audit_ref: str, version: int) -> sqlite3.Row | None:
    wanted = normalise_ref(audit_ref)
    for row in audits.resolution_rows(conn):
        if normalise_ref(row["audit_ref"]) == wanted and row["version"] == version:
            return row
    return None


def _awaiting_row(conn: sqlite3.Connection, audit_ref: str) -> sqlite3.Row:
    """Return the version that waits for (or, after a crash, got) the Head of QA's decision.

    A disputed Final version issued before decisions were recorded (release 0.1.0 sent it as
    final) waits too: its decision closes the referral without a new pack.
    """
    row = _latest_final(conn, audit_ref)
    disputed = rules.referred_to_head_of_qa(submission_from_dict(json.loads(row["data"])))
    if row["issue"] == audits.ISSUE_AWAITING or (row["issue"] == audits.ISSUE_PACK and disputed):
        return row
    for earlier in audits.resolution_rows(conn):
        if (
            normalise_ref(earlier["audit_ref"]) == normalise_ref(audit_ref)
            and earlier["issued_version"] == row["version"]
        ):
            found = records.decision_of(earlier)
            said = f": {found.outcome.value} on {long_date(found.decided_on)}" if found else ""
            raise OversightError(f"Audit {row['audit_ref']} is already decided{said}.")
    raise OversightError(
        f"Audit {row['audit_ref']} is not waiting for the Head of QA's decision: the "
        "practitioner does not disagree with its latest version."
    )


def decide_referral(
    settings: Settings,
    rubric: Rubric,
    audit_ref: str,
    outcome: ReferralOutcome,
    note: str,
    decided_by: str = "",
    *,
    today: dt.date | None = None,
) -> Decided:
    """Record the Head of QA's decision on a disputed audit, then issue what follows from it.

    Upheld or amended: the final pack (the next version of the Final pack, made from the same
    workbook, with the decision in it) is rendered and queued by the Final routes. Replaced:
    the auditor, practitioner and manager are told a revised audit is needed; the revised
    workbook, when it arrives, is issued as final with the decision. A disputed version that
    release 0.1.0 already sent as final only has its referral closed (``pack`` None, nothing
    queued). Running it again after a crash finishes the same decision; a different decision
    on a decided referral is refused.
    """
    note = note.strip()
    if not note:
        raise OversightError("Write the decision's reasons with --note.")
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        row = _awaiting_row(conn, audit_ref)
        ref, version = row["audit_ref"], row["version"]
        decision = _record_decision(conn, ref, version, outcome, note, decided_by, today)
        sub = submission_from_dict(json.loads(row["data"]))
        key = f"decision:{normalise_ref(ref)}:v{version}"
        issued_before = row["issue"] == audits.ISSUE_PACK  # sent as final by release 0.1.0
        if issued_before and rules.issues_final_pack(decision.outcome):
            audits.mark_decision_issued(
                conn, audit_ref=normalise_ref(ref), version=version, issued_version=version
            )
            return Decided(ref, version, decision, None, 0)
        if not rules.issues_final_pack(decision.outcome):
            delivery = routes.replacement_due_route(sub, settings.mail)
            context = {"decision": decision_words(decision, sub)}
            ids = _notices(settings, key, sub, [(delivery, context)])
            return Decided(ref, version, decision, None, len(ids))
        selected = row["moderation_selected"]
        selected = None if selected is None else bool(selected)
        pack = render_pack(
            sub,
            rubric,
            Path(settings.service.outbox),
            settings=settings.render,
            source_sha256=row["source_sha256"],
            moderation_selected=selected,
            decision=decision,
            lock_dir=locks_in(settings.service.state_dir),
        )
        audits.record_audit(
            conn,
            audit_ref=pack.audit_ref,
            stage=str(pack.stage),
            version=pack.version,
            job_id=key,
            source_sha256=row["source_sha256"],
            audit_date=row["audit_date"],
            data=json.loads(row["data"]),
            pack_dir=pack.directory,
            moderation_selected=selected,
            issue=audits.ISSUE_DECIDED,
        )
        ids = _queue_pack(settings, rubric, key, sub, pack, selected, decision)
        audits.mark_decision_issued(
            conn, audit_ref=normalise_ref(ref), version=version, issued_version=pack.version
        )
        return Decided(ref, version, decision, pack, len(ids))
    finally:
        conn.close()


def _record_decision(
    conn: sqlite3.Connection,
    ref: str,
    version: int,
    outcome: ReferralOutcome,
    note: str,
    decided_by: str,
    today: dt.date | None,
) -> Decision:
    """Store the decision (once); return it, or the one stored before for the same words."""
    by = decided_by.strip() or "Head of Quality Assurance"
    decision = Decision(outcome, note, today or clock.today(), by)
    stored = _decision_on(conn, ref, version)
    if stored is None:
        audits.record_decision(
            conn,
            audit_ref=normalise_ref(ref),
            version=version,
            outcome=outcome.value,
            note=note,
            decided_on=decision.decided_on.isoformat(),
            decided_by=by,
        )
        return decision
    before = records.decision_of(stored)
    if before is None or (before.outcome, before.note) != (outcome, note):
        said = f" ({before.outcome.value}, {long_date(before.decided_on)})" if before else ""
        raise OversightError(
            f"Audit {ref} (version {version}) already has the Head of QA's decision{said}. "
            "A decision is recorded once; a revised workbook can still replace the audit."
        )
    return before  # the same decision again: finish issuing it


def _queue_pack(
    settings: Settings,
    rubric: Rubric,
    key: str,
    sub: Submission,
    pack: Pack,
    selected: bool | None,
    decision: Decision,
) -> list[str]:
    try:
        return outbox.enqueue_pack(
            db.db_path(Path(settings.service.state_dir)),
            job_id=key,
            submission=sub,
            pack=pack,
            settings=settings,
            moderation_selected=selected,
            issue=Issue(decision=decision),
            section_names={s.key: s.name for s in rubric.sections},
        )
    except outbox.NotComposable as exc:
        raise OversightError(_not_composable(sub.audit_ref, exc)) from exc


def _notices(
    settings: Settings,
    key: str,
    sub: Submission,
    notices: Iterable[tuple[routes.Delivery, Mapping[str, object]]],
) -> list[str]:
    try:
        return outbox.enqueue_notices(
            db.db_path(Path(settings.service.state_dir)),
            key=key,
            submission=sub,
            notices=list(notices),
            settings=settings,
        )
    except outbox.NotComposable as exc:
        raise OversightError(_not_composable(sub.audit_ref, exc)) from exc


def _not_composable(ref: str, exc: outbox.NotComposable) -> str:
    return (
        f"The emails for audit {ref} cannot be written: an address or name in its workbook is "
        f"not usable ({exc}). Ask the auditor to correct the workbook and save it into the "
        "intake folder again."
    )


# --- the moderation panel ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scheduled:
    """One audit given a panel date, and the invitation queued for it."""

    audit_ref: str
    panel_date: dt.date
    selected: bool
    queued: int


def schedule_panel(
    settings: Settings,
    audit_refs: Iterable[str],
    panel_date: dt.date,
    *,
    all_selected: bool = False,
) -> list[Scheduled]:
    """Record the panel date of each audit and invite its auditor, worker and line manager.

    With ``all_selected`` every audit selected for the panel that has neither a date nor an
    outcome yet is scheduled too. A new date for an audit replaces the old one and sends a new
    invitation; the same date again sends nothing new.
    """
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        chosen = [records.find(conn, ref) for ref in audit_refs]
        if all_selected:
            known = {normalise_ref(r.audit_ref) for r in chosen}
            for record in records.load(conn).audits:
                waiting = record.moderation is None and record.panel_date is None
                new = normalise_ref(record.audit_ref) not in known
                if record.moderation_selected and waiting and new:
                    chosen.append(record)
        done = []
        for record in chosen:
            ref = normalise_ref(record.audit_ref)
            audits.schedule_panel(
                conn, audit_ref=ref, panel_date=panel_date.isoformat(), scheduled_at=db.now()
            )
            sub = _raw(conn, record.audit_ref)
            delivery = routes.moderation_invitation_route(sub, settings.mail)
            context = {"panel_date": long_date(panel_date)}
            key = f"moderation-invitation:{ref}:{panel_date.isoformat()}"
            ids = _notices(settings, key, sub, [(delivery, context)])
            done.append(
                Scheduled(record.audit_ref, panel_date, bool(record.moderation_selected), len(ids))
            )
        return done
    finally:
        conn.close()


def _raw(conn: sqlite3.Connection, audit_ref: str) -> Submission:
    """Return the latest Final version of the audit as stored (its people's own addresses)."""
    return submission_from_dict(json.loads(_latest_final(conn, audit_ref)["data"]))


@dataclass(frozen=True)
class Moderated:
    """What ``moderation record`` did: the audit as it stood, the outcome, what changed."""

    before: AuditRecord
    outcome: ModerationOutcome
    changes: tuple[str, ...]
    corrected_good_practice: bool
    queued: int


def record_panel_outcome(
    settings: Settings,
    rubric: Rubric,
    audit_ref: str,
    *,
    rating: str | None,
    sections: Iterable[str] = (),
    note: str,
    chair: str = "",
    panel_date: dt.date | None = None,
) -> Moderated:
    """Record the panel chair's decision (final) and tell the people it concerns.

    The panel's ratings become the audit's ratings of record everywhere (oversight.records);
    the auditor, practitioner and manager receive the outcome; when the decision changes
    whether, or how, the audit counts as good practice, SMT receive a corrected notice.
    """
    changed = records.parse_section_ratings(sections, rubric)
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        before, outcome = records.record_moderation(
            conn, audit_ref, rating, note, chair, sections=changed, panel_date=panel_date
        )
        sub = _raw(conn, before.audit_ref)
    finally:
        conn.close()
    changes = tuple(_changes(before, outcome, rubric))
    context = {
        "panel_date": long_date(outcome.panel_date) if outcome.panel_date else "",
        "chair": outcome.moderator,
        "decided_on": long_date(outcome.decided_on),
        "changes": list(changes),
        "unchanged": len(changes) < 1 + len(SECTION_KEYS),
        "note": redact(outcome.note, sub),
    }
    notices: list[tuple[routes.Delivery, Mapping[str, object]]] = [
        (routes.moderation_outcome_route(sub, settings.mail), context)
    ]
    was, now = before.submission.overall_rating, outcome.rating
    correct = _counts_as_good(before, was) or _counts_as_good(before, now)
    correct = correct and was != now
    if correct:
        notices.append(
            (
                routes.good_practice_correction_route(settings.mail),
                {
                    "chair": outcome.moderator,
                    "decided_on": long_date(outcome.decided_on),
                    "panel_rating": now.value,
                    "auditor_rating": _word(before.auditor_rating),
                    "still_good": bool(was and was.good_or_better and now.good_or_better),
                    "now_good": bool(now.good_or_better and not (was and was.good_or_better)),
                    "storyboard": redact(sub.storyboard_title, sub)
                    if rules.storyboard_due(sub)
                    else "",
                },
            )
        )
    key = f"moderation-outcome:{outcome.audit_ref}:{outcome.recorded_at}"
    ids = _notices(settings, key, sub, notices)
    return Moderated(before, outcome, changes, correct, len(ids))


def _counts_as_good(record: AuditRecord, rating: Rating | None) -> bool:
    """Return True when ``rating`` on this Final audit is good practice (SMT are told)."""
    sub = dataclasses.replace(record.submission, overall_rating=rating)
    return rules.good_practice(sub) and not record.awaiting_decision


def _word(rating: Rating | None) -> str:
    return rating.value if rating is not None else "not rated"


def _changes(record: AuditRecord, outcome: ModerationOutcome, rubric: Rubric) -> list[str]:
    """Return a line for each rating the panel changed, with the auditor's beside it."""
    lines = []
    if outcome.rating != record.auditor_rating:
        lines.append(
            f"Overall: {outcome.rating.value} (the auditor rated it {_word(record.auditor_rating)})"
        )
    for key in SECTION_KEYS:
        after, before = outcome.sections.get(key), record.auditor_section(key)
        if after is not None and after != before:
            lines.append(
                f"{rubric.section_name(key)}: {after.value} (the auditor rated it {_word(before)})"
            )
    return lines
