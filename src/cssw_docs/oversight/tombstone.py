"""The anonymous tombstone of an audit: what the activity report needs, and nothing of the child.

When an audit's case detail leaves the ledger (the retention schedule, or a subject's erasure)
this summary stays: reference, type, theme, team, auditor, dates, ratings, agreement, the
panel's and the Head of QA's outcomes (without their notes), the due dates of its actions,
how many family responses it had, whether it had a storyboard, and its recurring theme words.
No name of the child, the family or the practitioner, no MOSAIC ID, no free text.
:func:`records.tombstones` reads it back, so every figure of the report for a past year stays
the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..models import Action, FeedbackResponse, SectionAssessment, Submission, submission_to_dict
from ..rules import identifying_tokens
from .figures import development_text, themes_of
from .records import AuditRecord

STORYBOARD = "A storyboard (its text was removed under the retention schedule)"
ACTION = "An action (its text was removed under the retention schedule)"


def anonymous(record: AuditRecord) -> Submission:
    """Return the part of ``record``'s audit the report counts, without anything identifying."""
    sub = record.submission
    excluded = frozenset(identifying_tokens(sub))
    words, phrases = themes_of(development_text(record), excluded)
    return Submission(
        audit_ref=sub.audit_ref,
        audit_type=sub.audit_type,
        audit_stage=sub.audit_stage,
        audit_theme=sub.audit_theme,
        audit_date=sub.audit_date,
        team=sub.team,
        auditor_name=sub.auditor_name,
        discussion_date=sub.discussion_date,
        overall_rating=sub.overall_rating,
        practitioner_agreement=sub.practitioner_agreement,
        # Each theme word and phrase on a line of its own: the report finds exactly them again.
        areas_for_development="\n".join(sorted(words | phrases)),
        storyboard_title=STORYBOARD if sub.storyboard_title.strip() else "",
        sections=tuple(SectionAssessment(s.key, s.rating) for s in sub.sections),
        actions=tuple(
            Action(ACTION, a.section, "", a.due) for a in sub.actions if a.action.strip()
        ),
        feedback=tuple(FeedbackResponse() for _ in sub.feedback),
    )


def summary_of(record: AuditRecord) -> dict[str, Any]:
    """Return the tombstone of a Final audit (plain JSON data)."""
    outcome = record.moderation
    decision = record.decision
    return {
        "stage": "Final",
        "submission": submission_to_dict(anonymous(record)),
        "version": record.version,
        "processed_at": record.processed_at,
        "moderation_selected": record.moderation_selected,
        "moderation": None
        if outcome is None
        else {
            "rating": outcome.rating.value,
            "sections": {k: v.value for k, v in outcome.sections.items()},
            "recorded_at": outcome.recorded_at,
            "panel_date": outcome.panel_date.isoformat() if outcome.panel_date else None,
        },
        "referred": record.referred,
        "referral_open": record.referral_open,
        "auditor_overall": record.auditor_overall.value if record.auditor_overall else None,
        "auditor_sections": [[k, r.value if r else None] for k, r in record.auditor_sections],
        "panel_date": record.panel_date.isoformat() if record.panel_date else None,
        "decision": None
        if decision is None
        else {"outcome": decision.outcome.value, "decided_on": decision.decided_on.isoformat()},
        "awaiting_decision": record.awaiting_decision,
    }


def draft_summary(audit_ref: str, day: dt.date) -> dict[str, Any]:
    """Return the tombstone of an audit that never went beyond Draft: its reference and date."""
    return {"stage": "Draft", "audit_ref": audit_ref, "date": day.isoformat()}
