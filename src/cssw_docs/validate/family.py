"""Rules on the family and the practitioner: consent, feedback rows, the practitioner's view."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Consent, FeedbackResponse, Finding
from ..rules import referred_to_head_of_qa
from .check import ERROR, WARNING, Check, filled


def observation_has_consent(c: Check) -> Iterator[Finding]:
    """Direct practice is observed only with the family's consent."""
    consent = c.sub.observation_consent
    observed = filled(c.sub.observation_activity)
    required = c.audit_type is not None and c.audit_type.requires_observation
    if (observed or required) and consent is not None and consent is not Consent.YES:
        yield c.at(
            "observation.no_consent",
            ERROR,
            f"{c.label('observation_consent')} is “{consent}”. Practice can be observed only "
            "with the family's consent: record their consent, or remove the observation.",
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
