"""The template context: every variable the Word templates are rendered with (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .. import clock, rules
from ..models import (
    RATING_FILLS,
    Action,
    Consent,
    Decision,
    DocKind,
    NoObservation,
    Rating,
    Stage,
    Submission,
)
from ..rubric import GRADES, Rubric
from ..rules import DECISION_MEANING, partly_agreed, referred_to_head_of_qa, shared_outside

NOT_RATED_FILL = "FFFFFF"
_GAP_FILLS = {"Yes": "E2F0D9", "Not yet": "FFE08A", "Not recorded": "FFFFFF"}

_REFLECTIVE_QUESTIONS = (
    "What is getting in the way, and what would help?",
    "What would the child and family notice if this changed?",
    "What support do you need from your manager or the service?",
    "How will we both know that it has happened?",
)
MAX_PROMPTS = 5
_NO_OBSERVATION = {
    NoObservation.DECLINED: "No practice was observed: the family declined.",
    NoObservation.NOT_POSSIBLE: "No practice was observed: an observation could not be arranged.",
    NoObservation.NOT_APPROPRIATE: "No practice was observed: it was not appropriate.",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- text and dates as the documents show them ---------------------------------------------


def rating_fill(rating: str | Rating | None) -> str:
    """Return the hex cell fill for a rating (white when there is none)."""
    return RATING_FILLS.get(str(rating), NOT_RATED_FILL) if rating else NOT_RATED_FILL


def line(text: str | None) -> str:
    """Return ``text`` as one clean line (names, short fields)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def paragraphs(text: str | None) -> str:
    r"""Return ``text`` with each typed line as its own Word paragraph (docxtpl's ``\a``)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    parts = [" ".join(p.split()) for p in text.split("\n")]
    return "\a".join(p for p in parts if p)


def long_date(value: dt.date | None) -> str:
    """Return a date as ``14 October 2026`` (empty when missing)."""
    return f"{value.day} {value:%B %Y}" if value else ""


def short_date(value: dt.date | None) -> str:
    """Return a date as ``14 Oct 2026`` for narrow table columns."""
    return f"{value.day} {value:%b %Y}" if value else "Not set"


# --- the context every template is rendered with ----------------------------------------------


def sorted_actions(actions: tuple[Action, ...]) -> list[Action]:
    """Return the actions by due date, undated ones last, keeping the workbook order on ties."""
    return rules.plan_order(actions)


def status_lines(
    sub: Submission,
    moderation_selected: bool | None,
    *,
    awaiting_decision: bool = False,
    decision: Decision | None = None,
) -> list[str]:
    """Return the status lines shown at the top of the report."""
    lines = []
    if awaiting_decision:
        pass  # the documents carry the awaiting-decision banner and marking instead
    elif decision is not None:
        by = f" ({line(decision.decided_by)})" if line(decision.decided_by) else ""
        lines.append(
            f"Reviewed by the Head of Quality Assurance{by}, who decided on "
            f"{long_date(decision.decided_on)}: {decision.outcome.value.capitalize()}. "
            f"{DECISION_MEANING[decision.outcome]}"
        )
    elif referred_to_head_of_qa(sub):
        lines.append(
            "Referred to the Head of Quality Assurance: the practitioner disagrees with the "
            "audit, so the audit and plan are reviewed before a final decision."
        )
    if partly_agreed(sub):
        lines.append(
            "The practitioner partly agrees with the audit: their feedback is recorded below."
        )
    if moderation_selected:
        lines.append("Selected for the moderation panel.")
    return lines


def _section_name(rubric: Rubric, text: str) -> str:
    key = rubric.section_key_for(text) if text else None
    return rubric.section_name(key) if key else line(text)


def _descriptor_groups(sub: Submission, rubric: Rubric, key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for mark in sub.descriptors:
        if mark.evidenced and rubric.section_key_for(mark.section) == key:
            groups.setdefault(line(mark.grade) or "Other", []).append(line(mark.descriptor))
    order = [g for g in GRADES if g in groups] + [g for g in groups if g not in GRADES]
    return [{"grade": g, "texts": groups[g]} for g in order]


def _sections(sub: Submission, rubric: Rubric) -> list[dict[str, Any]]:
    out = []
    for number, rs in enumerate(rubric.sections, start=1):
        s = sub.section(rs.key)
        groups = _descriptor_groups(sub, rubric, rs.key)
        summary = ", ".join(f"{len(g['texts'])} {g['grade']}" for g in groups)
        applicable = s.rating is not Rating.NOT_APPLICABLE
        out.append(
            {
                "number": number,
                "key": rs.key,
                "name": rs.name,
                "rating": s.rating.value if s.rating else "Not rated",
                "fill": rating_fill(s.rating),
                "applicable": applicable,
                "evidence": paragraphs(s.evidence),
                "strengths": paragraphs(s.strengths),
                "development": paragraphs(s.development),
                "descriptors": groups,
                "evidenced_summary": summary if applicable and summary else "None marked",
            }
        )
    return out


def _family(sub: Submission, rubric: Rubric) -> dict[str, Any]:
    questions = list(rubric.family_feedback_questions)
    by_question: dict[int, list[dict[str, str]]] = {}
    for r in sub.feedback:
        if not line(r.response):
            continue
        n = r.question if r.question and 1 <= r.question <= len(questions) else 0
        by_question.setdefault(n, []).append(
            {
                "respondent": line(r.respondent) or "Family member",
                "response": paragraphs(r.response),
            }
        )
    items = [
        {"number": i, "text": q, "responses": by_question.get(i, [])}
        for i, q in enumerate(questions, start=1)
    ]
    if 0 in by_question:
        items.append(
            {"number": len(questions) + 1, "text": "Other comments", "responses": by_question[0]}
        )
    consent = sub.family_consent
    reasons = {
        Consent.DECLINED: "The family declined to give feedback.",
        Consent.NOT_SOUGHT: "Feedback was not sought from the family.",
        Consent.YES: "The family agreed to give feedback, but none was recorded.",
        None: "The audit does not record whether the family's feedback was sought.",
    }
    has_feedback = consent is Consent.YES and bool(by_question)
    return {
        "consent": consent.value if consent else "Not recorded",
        "has_feedback": has_feedback,
        "none_reason": "" if has_feedback else reasons[consent],
        "questions": items if has_feedback else [],
    }


def _development_points(sub: Submission, rubric: Rubric) -> list[str]:
    points = [line(p) for p in paragraphs(sub.areas_for_development).split("\a") if line(p)]
    if not points:
        for rs in rubric.sections:
            dev = sub.section(rs.key).development
            points += [line(p) for p in paragraphs(dev).split("\a") if line(p)]
    seen: list[str] = []
    for p in points:
        p = p.lstrip("-•*· ").strip()
        if p and p not in seen:
            seen.append(p if p[-1] in ".?!" else p + ".")
    return seen[:MAX_PROMPTS]


def child_details(sub: Submission, *, name_child: bool = True) -> dict[str, str]:
    """Return who the case documents are about: name (empty when not shown) and MOSAIC ID.

    Only the report, the plan and the supervision insert use these; the storyboard is
    rendered with them empty (see ``without_child``).
    """
    name = line(sub.child_name) if name_child else ""
    mosaic = line(sub.child_mosaic_id)
    parts = [name, f"MOSAIC ID {mosaic}" if mosaic else ""]
    return {"name": name, "mosaic_id": mosaic, "heading": " · ".join(p for p in parts if p)}


def without_child(context: dict[str, Any]) -> dict[str, Any]:
    """Return ``context`` with the child's name and MOSAIC ID emptied (for the storyboard)."""
    return context | {"child": {"name": "", "mosaic_id": "", "heading": ""}}


def for_document(kind: DocKind, context: dict[str, Any]) -> dict[str, Any]:
    """Return the context a document of ``kind`` is rendered with.

    The storyboard goes beyond the case (learning events, other teams), so it never gets the
    child's name or MOSAIC ID, whatever an edited template asks for.
    """
    return without_child(context) if kind is DocKind.STORYBOARD else context


def version_line(
    stage: Stage, version: int, issued: dt.date, supersedes: tuple[int, dt.date | None] | None
) -> str:
    """Return the version and issue date every document shows, e.g. ``Final, version 2 ...``."""
    text = f"{stage.value}, version {version}, issued {long_date(issued)}"
    if supersedes is not None:
        old, old_issued = supersedes
        text += f". Supersedes version {old}"
        text += f" issued {long_date(old_issued)}" if old_issued else ""
    return text + "."


def _observation_none(sub: Submission) -> str:
    """Return why no practice was observed, with the auditor's reason (empty when observed)."""
    if sub.observation_none_reason is None or line(sub.observation_activity):
        return ""
    detail = line(sub.observation_none_detail)
    return _NO_OBSERVATION[sub.observation_none_reason] + (f" {detail}" if detail else "")


def _storyboard_lines(sub: Submission, issued: dt.date) -> dict[str, str]:
    """Return the storyboard's printed confirmation and sharing lines (empty when not given)."""
    confirmation = ""
    if sub.storyboard_anonymised is True:
        who = line(sub.auditor_name) or "the auditor"
        confirmation = (
            "The auditor has checked that nothing in this storyboard names or could identify "
            f"the child or family. Confirmed by {who}, auditor, on {long_date(issued)}."
        )
    sharing = ""
    if sub.storyboard_consent is True:
        sharing = (
            "The worker and family agreed to it being shared within the service and outside it "
            "(other agencies, Ofsted)."
            if shared_outside(sub)
            else "The worker and family agreed to it being shared within the service only."
        )
    status = sub.storyboard_status.value if sub.storyboard_status else ""
    return {"confirmation": confirmation, "sharing": sharing, "status": status}


def decision_context(decision: Decision | None) -> dict[str, str] | None:
    """Return the Head of QA's decision as the templates show it (None when there is none)."""
    if decision is None:
        return None
    meaning = DECISION_MEANING[decision.outcome]
    return {
        "outcome": f"{decision.outcome.value.capitalize()}: {meaning[0].lower()}{meaning[1:]}",
        "meaning": meaning,
        "note": paragraphs(decision.note),
        "decided_on": long_date(decision.decided_on),
        "decided_by": line(decision.decided_by) or "Head of Quality Assurance",
    }


def build_context(
    sub: Submission,
    rubric: Rubric,
    *,
    marking: str = "OFFICIAL-SENSITIVE",
    version: int = 1,
    moderation_selected: bool | None = None,
    awaiting_decision: bool = False,
    decision: Decision | None = None,
    now: dt.datetime | None = None,
    name_child: bool = True,
    supersedes: tuple[int, dt.date | None] | None = None,
) -> dict[str, Any]:
    """Return the variables every template is rendered with.

    ``child`` names the child for the case documents (``name_child`` False leaves the name
    out); the storyboard is rendered with ``without_child``. ``supersedes`` is the (version,
    issue date) of the pack this one replaces. Multi-line text holds ``\\a`` between
    paragraphs, which docxtpl turns into new paragraphs. ``cssw-docs templates fields`` lists
    every key.
    """
    now = now or clock.now()
    stage = sub.audit_stage or Stage.DRAFT
    overall = sub.overall_rating
    period = " to ".join(
        d for d in (long_date(sub.review_period_start), long_date(sub.review_period_end)) if d
    )
    minutes = f"{sub.discussion_minutes} minutes" if sub.discussion_minutes else ""
    discussion = ", ".join(
        p for p in (long_date(sub.discussion_date), line(sub.discussion_mode), minutes) if p
    )
    actions = [
        {
            "number": i,
            "action": paragraphs(a.action),
            "section": _section_name(rubric, a.section),
            "owner": line(a.owner),
            "due": short_date(a.due),
            "due_date": a.due.strftime("%d/%m/%Y") if a.due else "",
            "measure": paragraphs(a.measure),
        }
        for i, a in enumerate(sorted_actions(sub.actions), start=1)
    ]
    addressed = {True: "Yes", False: "Not yet", None: "Not recorded"}
    gaps = [
        {
            "area": line(g.area),
            "gap": paragraphs(g.gap),
            "raised_on": short_date(g.raised_on) if g.raised_on else "Not recorded",
            "addressed": addressed[g.addressed],
            "fill": _GAP_FILLS[addressed[g.addressed]],
        }
        for g in sub.gaps
    ]
    points = _development_points(sub, rubric)
    rating_word = overall.value if overall else "Not rated"
    issued = now.date()
    return {
        "marking": line(marking),
        "audit_ref": line(sub.audit_ref),
        "child": child_details(sub, name_child=name_child),
        "stage": stage.value,
        "is_draft": stage is Stage.DRAFT,
        "version": version,
        "generated_on": long_date(issued),
        "supersedes": (
            {"version": supersedes[0], "issued_on": long_date(supersedes[1])}
            if supersedes
            else None
        ),
        "version_line": version_line(stage, version, issued, supersedes),
        "referred": referred_to_head_of_qa(sub),
        "moderation_selected": bool(moderation_selected),
        # The Head of QA's review: the pack is marked until the decision, which it then shows.
        "awaiting_decision": bool(awaiting_decision),
        "decision": decision_context(decision),
        "status_lines": status_lines(
            sub, moderation_selected, awaiting_decision=awaiting_decision, decision=decision
        ),
        "audit": {
            "type": line(sub.audit_type),
            "theme": line(sub.audit_theme),
            "date": long_date(sub.audit_date),
            "team": line(sub.team),
            "auditor_name": line(sub.auditor_name),
            "auditor_role": line(sub.auditor_role),
            "practitioner_name": line(sub.practitioner_name),
            "manager_name": line(sub.manager_name),
            "review_period": period,
            "discussion_date": long_date(sub.discussion_date),
            "discussion_mode": line(sub.discussion_mode),
            "discussion_minutes": sub.discussion_minutes or 0,
            "discussion": discussion,
            "observation_activity": paragraphs(sub.observation_activity),
            "observation_consent": (
                sub.observation_consent.value if sub.observation_consent else "Not recorded"
            ),
            "observation_none": _observation_none(sub),
        },
        "overall": {
            "rating": rating_word,
            "fill": rating_fill(overall),
            "summary": paragraphs(sub.overall_summary),
            "good_practice": paragraphs(sub.good_practice),
            "areas_for_development": paragraphs(sub.areas_for_development),
        },
        "sections": _sections(sub, rubric),
        "gaps": gaps,
        "family": _family(sub, rubric),
        "practice_areas": [
            {"area": line(a.area), "notes": paragraphs(a.notes)}
            for a in sub.practice_areas
            if line(a.notes)
        ],
        "practitioner": {
            "agreement": sub.practitioner_agreement.value if sub.practitioner_agreement else "",
            "feedback": paragraphs(sub.practitioner_feedback),
            "plan_feedback": paragraphs(sub.practitioner_plan_feedback),
        },
        "actions": actions,
        "prompts": [
            {"point": p, "question": _REFLECTIVE_QUESTIONS[i % len(_REFLECTIVE_QUESTIONS)]}
            for i, p in enumerate(points)
        ],
        "storyboard": storyboard_context(sub, issued),
    }


def storyboard_context(sub: Submission, issued: dt.date) -> dict[str, Any]:
    """Return what a storyboard shows (the pack's, a poster's, each of a booklet's).

    Only what a storyboard may show: never the child's name or MOSAIC ID.
    """
    rating_word = sub.overall_rating.value if sub.overall_rating else "Not rated"
    return {
        "title": line(sub.storyboard_title) or "Good practice in social work",
        "rating": rating_word,
        "rating_label": f"{rating_word} practice" if sub.overall_rating else rating_word,
        "fill": rating_fill(sub.overall_rating),
        "team": line(sub.team),
        "practitioner": line(sub.practitioner_name),
        "auditor": line(sub.auditor_name),
        "month": f"{sub.audit_date:%B %Y}" if sub.audit_date else "",
        "context": paragraphs(sub.storyboard_context) or "Not provided.",
        "what_we_did": paragraphs(sub.storyboard_what_we_did) or "Not provided.",
        "impact": paragraphs(sub.storyboard_impact) or "Not provided.",
        "voice": paragraphs(sub.storyboard_voice) or "Not provided.",
        "learning": paragraphs(sub.storyboard_learning) or "Not provided.",
        "shared_outside": shared_outside(sub),
        **_storyboard_lines(sub, issued),
    }
