"""Rules on the family and the practitioner: consent, feedback rows, the practitioner's view."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Consent, FeedbackResponse, Finding, NoObservation
from ..rules import referred_to_head_of_qa
from .check import ERROR, WARNING, Check, filled


def observation_has_consent(c: Check) -> Iterator[Finding]:
    """Direct practice is observed only with the family's consent; without one, say why."""
    consent = c.sub.observation_consent
    reason = c.sub.observation_none_reason
    observed = filled(c.sub.observation_activity)
    if observed and reason is not None:
        yield c.at(
            "observation.both",
            ERROR,
            f"{c.label('observation_activity')} is filled in, and so is "
            f"{c.label('observation_none_reason')}. Keep the one that is true: the practice "
            "observed, or why there was none.",
            "observation_none_reason",
        )
    elif observed and consent is not None and consent is not Consent.YES:
        how = (
            f"or, if no practice was observed, empty {c.label('observation_activity')} and "
            f"choose why in {c.label('observation_none_reason')}"
            if c.has("observation_none_reason")
            else "or remove the observation"
        )
        yield c.at(
            "observation.no_consent",
            ERROR,
            f"{c.label('observation_consent')} is “{consent}”. Practice can be observed only "
            f"with the family's consent: record their consent, {how}.",
            "observation_consent",
        )
    elif reason is NoObservation.DECLINED and consent is Consent.YES:
        yield c.at(
            "observation.consent_contradicts",
            ERROR,
            f"{c.label('observation_none_reason')} is “Declined”, but "
            f"{c.label('observation_consent')} is “Yes”. Correct whichever is wrong.",
            "observation_consent",
        )


def practitioner_view(c: Check) -> Iterator[Finding]:
    """A Final audit the practitioner disagrees with goes to the Head of Quality Assurance."""
    if c.final and referred_to_head_of_qa(c.sub):
        yield c.at(
            "agreement.disagree",
            WARNING,
            "The practitioner disagrees with the audit. The audit and its plan will be referred "
            "to the Head of Quality Assurance for review before any final decision.",
            "practitioner_agreement",
        )


def family_feedback(c: Check) -> Iterator[Finding]:
    """Feedback is recorded when, and only when, the family consented."""
    responses = [r for r in c.sub.feedback if filled(r.response) or filled(r.respondent)]
    consent = c.sub.family_consent
    if consent is Consent.YES and not responses:
        yield Finding(
            "feedback.none_with_consent",
            ERROR,
            "The family consented to give feedback, but no feedback is recorded. Write their "
            f"answers in the Family feedback table, or change {c.label('family_consent')}.",
            c.sub.where("FamilyFeedback") or c.sub.where("family_consent"),
        )
    if consent is not None and consent is not Consent.YES and responses:
        yield c.at(
            "feedback.without_consent",
            ERROR,
            f"Family feedback is recorded, but {c.label('family_consent')} is “{consent}”. "
            "Feedback can be included only with the family's consent: record their consent, "
            "or remove the feedback.",
            "family_consent",
        )
    for number, r in enumerate(responses, start=1):
        yield from _one_response(c, number, r)


def _one_response(c: Check, number: int, r: FeedbackResponse) -> Iterator[Finding]:
    questions = len(c.rubric.family_feedback_questions)
    row, question = r.row, r.question
    which = f"Family feedback row {number}"
    if question is None or not 1 <= question <= questions:
        yield c.in_table(
            "feedback.question",
            ERROR,
            f"{which} has no question number. Write the number (1 to {questions}) of the "
            "standard question answered.",
            "FamilyFeedback",
            row,
            "Question",
        )
    if not filled(r.response):
        yield c.in_table(
            "feedback.no_response",
            ERROR,
            f"{which} has no response. Write the answer given, or remove the row.",
            "FamilyFeedback",
            row,
            "Response",
        )
    if not filled(r.respondent):
        yield c.in_table(
            "feedback.no_respondent",
            WARNING,
            f"{which} does not say who answered. Write, e.g., Mother or Child (aged 9), "
            "without names.",
            "FamilyFeedback",
            row,
            "Respondent",
        )
