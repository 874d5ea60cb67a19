"""The validator judges an audit against the rubric: one table row per rule, from a valid audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import docs_support
from cssw_docs import examples
from cssw_docs.config import ValidationSettings
from cssw_docs.models import (
    Agreement,
    Consent,
    FeedbackResponse,
    Finding,
    Location,
    NoObservation,
    Rating,
    Severity,
    Stage,
    StoryboardStatus,
    Submission,
)
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate

TODAY = dt.date(2026, 10, 20)  # a few days after the good example's audit
EXAMPLES_TODAY = dt.date(2027, 6, 30)  # after every built-in example's audit
E, W = Severity.ERROR, Severity.WARNING
d = dt.date

Change = Callable[[Submission], Submission]


def put(**changes: object) -> Change:
    """Return a change setting top-level fields of the audit."""
    return lambda s: dataclasses.replace(s, **changes)  # type: ignore[arg-type]


def section(key: str, **changes: object) -> Change:
    """Return a change to one section's assessment."""

    def change(s: Submission) -> Submission:
        sections = tuple(
            dataclasses.replace(x, **changes) if x.key == key else x  # type: ignore[arg-type]
            for x in s.sections
        )
        return dataclasses.replace(s, sections=sections)

    return change


def action(index: int, **changes: object) -> Change:
    """Return a change to one audit-plan action (0-based)."""

    def change(s: Submission) -> Submission:
        actions = list(s.actions)
        actions[index] = dataclasses.replace(actions[index], **changes)  # type: ignore[arg-type]
        return dataclasses.replace(s, actions=tuple(actions))

    return change


def evidenced(section_name: str, grade: str, index: int = 0, value: bool = True) -> Change:
    """Return a change marking the ``index``-th descriptor of a section and grade."""

    def change(s: Submission) -> Submission:
        marks, seen = [], -1
        for m in s.descriptors:
            if m.section == section_name and m.grade == grade:
                seen += 1
                if seen == index:
                    m = dataclasses.replace(m, evidenced=value)
            marks.append(m)
        return dataclasses.replace(s, descriptors=tuple(marks))

    return change


def unmark(section_name: str) -> Change:
    """Return a change marking none of a section's descriptors evidenced."""

    def change(s: Submission) -> Submission:
        marks = tuple(
            dataclasses.replace(m, evidenced=False) if m.section == section_name else m
            for m in s.descriptors
        )
        return dataclasses.replace(s, descriptors=marks)

    return change


def both(*changes: Change) -> Change:
    """Return the changes applied in turn."""

    def change(s: Submission) -> Submission:
        for c in changes:
            s = c(s)
        return s

    return change


def story(text: str, field: str = "storyboard_what_we_did") -> Change:
    """Return a change appending ``text`` to a storyboard field."""
    return lambda s: dataclasses.replace(s, **{field: f"{getattr(s, field)} {text}"})


# The storyboard's text and consents emptied (the status says where it stands).
NO_STORYBOARD: dict[str, object] = {
    "storyboard_title": "",
    "storyboard_context": "",
    "storyboard_what_we_did": "",
    "storyboard_impact": "",
    "storyboard_voice": "",
    "storyboard_learning": "",
    "storyboard_consent": None,
    "storyboard_consent_external": None,
    "storyboard_anonymised": None,
}

EXCEPTIONAL = (
    "The worker went far beyond what Good describes: exceptional, creative direct work over "
    "many months, with the child's own drawings shaping every decision, a family network that "
    "now meets without us, attendance up from 71% to 94%, and a child who says she feels safe "
    "at home and proud at school. This impact is rare and should be shared."
)


# (id, change to the valid example, {code: severity} expected: exactly these findings' codes)
# A reference naming the child and not in the format; one in the format naming the child; a theme
IDENTIFYING_REF = {"ref.format": E, "ref.identifying": E}
IDENTIFYING = {"ref.identifying": E}
THEME = {"theme.identifying": E}

CASES: list[tuple[str, Change, dict[str, Severity]]] = [
    # Required fields by stage and audit type
    ("no audit ref", put(audit_ref=""), {"required.audit_ref": E}),
    ("no audit date", put(audit_date=None), {"required.audit_date": E}),
    ("blank auditor email", put(auditor_email="  "), {"required.auditor_email": E}),
    ("no family consent", put(family_consent=None), {"required.family_consent": E}),
    ("no overall summary", put(overall_summary=""), {"required.overall_summary": E}),
    ("thematic needs theme", put(audit_theme=""), {"required.audit_theme": E}),
    ("dip sample needs no theme", put(audit_type="Dip sample", audit_theme=""), {}),
    (
        "practice week needs observation",
        put(audit_type="Practice Week"),
        {"required.observation_activity": E, "required.observation_consent": E},
    ),
    (
        "practice week observed with consent",
        put(
            audit_type="Practice Week",
            observation_activity="Home visit with the family",
            observation_consent=Consent.YES,
        ),
        {},
    ),
    (
        "practice week observation declined",
        put(
            audit_type="Practice Week",
            observation_activity="Home visit with the family",
            observation_consent=Consent.DECLINED,
        ),
        {"observation.no_consent": E},
    ),
    (
        "observation recorded without consent",
        put(observation_activity="Review conference", observation_consent=Consent.NOT_SOUGHT),
        {"observation.no_consent": E},
    ),
    # Practice Week without an observation: why, and accepted
    (
        "practice week, family declined observation",
        put(
            audit_type="Practice Week",
            observation_consent=Consent.DECLINED,
            observation_none_reason=NoObservation.DECLINED,
            observation_none_detail="Mother did not want a visitor at home during the review.",
        ),
        {},
    ),
    (
        "practice week, observation not possible",
        put(
            audit_type="Practice Week",
            observation_none_reason=NoObservation.NOT_POSSIBLE,
            observation_none_detail="No visit or meeting fell within Practice Week.",
        ),
        {},
    ),
    (
        "practice week without observation needs the reason",
        put(audit_type="Practice Week", observation_none_reason=NoObservation.NOT_APPROPRIATE),
        {"required.observation_none_detail": E},
    ),
    (
        "observed and also a reason for none",
        put(
            audit_type="Practice Week",
            observation_activity="Home visit with the family",
            observation_consent=Consent.YES,
            observation_none_reason=NoObservation.NOT_POSSIBLE,
            observation_none_detail="None arranged.",
        ),
        {"observation.both": E},
    ),
    (
        "declined observation but consent yes",
        put(
            audit_type="Practice Week",
            observation_consent=Consent.YES,
            observation_none_reason=NoObservation.DECLINED,
            observation_none_detail="Mother said no.",
        ),
        {"observation.consent_contradicts": E},
    ),
    (
        "final needs agreement and feedback",
        put(practitioner_agreement=None, practitioner_feedback=""),
        {"required.practitioner_agreement": E, "required.practitioner_feedback": E},
    ),
    (
        "draft needs no practitioner response",
        put(
            audit_stage=Stage.DRAFT,
            practitioner_agreement=None,
            practitioner_feedback="",
            practitioner_plan_feedback="",
        ),
        {},
    ),
    (
        "final without plan feedback",
        put(practitioner_plan_feedback=""),
        {"recommended.practitioner_plan_feedback": W},
    ),
    ("no good practice", put(good_practice=""), {"recommended.good_practice": W}),
    (
        "practitioner disagrees",
        put(practitioner_agreement=Agreement.DISAGREE),
        {"agreement.disagree": W},
    ),
    (
        "disputed plan's action due before the Head of QA can decide",
        both(
            put(practitioner_agreement=Agreement.DISAGREE),
            action(0, due=d(2026, 10, 30)),  # the decision is asked for by 3 November
        ),
        {"agreement.disagree": W, "plan.due_before_decision": W},
    ),
    (
        "agreed plan's early action is fine",
        action(0, due=d(2026, 10, 30)),
        {},
    ),
    ("unknown audit type", put(audit_type="Deep dive"), {"choice.audit_type": E}),
    ("audit type in stray case", put(audit_type="  thematic "), {}),
    ("unknown auditor role", put(auditor_role="Volunteer"), {"choice.auditor_role": E}),
    ("unknown discussion mode", put(discussion_mode="Phone"), {"choice.discussion_mode": E}),
    # Early Help/Front Door must rate Referral
    (
        "front door with referral not applicable",
        both(
            put(audit_type="Early Help/Front Door"),
            section("referral", rating=Rating.NOT_APPLICABLE),
        ),
        {"section.required": E},
    ),
    (
        "thematic with referral not applicable",
        section("referral", rating=Rating.NOT_APPLICABLE),
        {},
    ),
    ("section not rated", section("review", rating=None), {"required.review_rating": E}),
    (
        "every section not applicable",
        both(
            *(
                section(k, rating=Rating.NOT_APPLICABLE)
                for k in (
                    "referral",
                    "basic_information",
                    "assessment",
                    "planning",
                    "review",
                    "management_oversight",
                )
            )
        ),
        {"section.none_rated": E},
    ),
    # Emails and the audit reference
    ("malformed email", put(manager_email="grace.mensah@camden"), {"email.invalid": E}),
    (
        "two emails in one",
        put(auditor_email="a@camden.gov.uk; b@camden.gov.uk"),
        {"email.invalid": E},
    ),
    ("email with spaces", put(practitioner_email="tom baxter@camden.gov.uk"), {"email.invalid": E}),
    ("ref with a slash", put(audit_ref="CSSW/2026/0142"), {"ref.unsafe": E}),
    ("ref with a leading dot", put(audit_ref=".hidden"), {"ref.unsafe": E}),
    ("ref with a trailing dot", put(audit_ref="CSSW-1."), {"ref.unsafe": E}),
    ("ref too long", put(audit_ref="A" * 41), {"ref.unsafe": E}),
    ("ref of 40 characters", put(audit_ref="A" * 40), {"ref.format": E}),
    ("ref with a dot inside", put(audit_ref="CSSW-2026.1"), {"ref.unsafe": E}),
    ("ref with underscores", put(audit_ref="CSSW_2026_0142"), {"ref.format": E}),
    ("ref in lower case", put(audit_ref="cssw-2026-0142"), {"ref.format": E}),
    ("ref without a serial", put(audit_ref="CSSW-2026"), {"ref.format": E}),
    ("ref another team's", put(audit_ref="FD-2026-001"), {}),
    ("ref starting with an underscore", put(audit_ref="_CSSW-2026"), {"ref.unsafe": E}),
    ("ref with a letter outside A-Z", put(audit_ref="CSSW-2026-Ä"), {"ref.unsafe": E}),
    ("ref a device name in lower case", put(audit_ref="com1"), {"ref.unsafe": E}),
    ("ref with spaces", put(audit_ref="CSSW 2026"), {"ref.unsafe": E}),
    ("ref with a line break", put(audit_ref="CSSW-2026-0142\nforged"), {"ref.unsafe": E}),
    ("ref a device name", put(audit_ref="CON"), {"ref.unsafe": E}),
    ("ref holding the MOSAIC ID", put(audit_ref="CSSW-M1234567"), IDENTIFYING_REF),
    ("ref holding the child's name", put(audit_ref="Okafor-2026"), IDENTIFYING_REF),
    ("ref with the name run into it", put(audit_ref="CSSWOKAFOR26"), IDENTIFYING_REF),
    ("ref of the whole name run together", put(audit_ref="AmaraOkafor"), IDENTIFYING_REF),
    ("ref of the name and a year", put(audit_ref="OKAFOR2026-01"), IDENTIFYING_REF),
    ("ref in the format, naming the child", put(audit_ref="OKAFOR-2026-001"), IDENTIFYING),
    ("ref in the format, with MOSAIC digits", put(audit_ref="CSSW-1234-567"), IDENTIFYING),
    ("ref in the format, a short name part", put(audit_ref="AMARA-2026-0142"), IDENTIFYING),
    ("theme naming the child", put(audit_theme="Neglect: Amara's lived experience"), THEME),
    ("theme with the surname in the plural", put(audit_theme="Working with the Okafors"), THEME),
    ("theme with lookalike letters", put(audit_theme="Neglect (Οkаfоr family)"), THEME),
    ("theme with a zero-width space", put(audit_theme="Am\u200bara and school"), THEME),
    ("theme holding the MOSAIC ID", put(audit_theme="Neglect, case M1234567"), THEME),
    ("theme with a word containing the name", put(audit_theme="Amaranth project"), {}),
    ("ref holding the MOSAIC digits", put(audit_ref="CSSW-1234567"), IDENTIFYING_REF),
    # Dates
    ("audit date in the future", put(audit_date=d(2026, 10, 21)), {"dates.audit_future": E}),
    (
        "discussion in the future",
        put(discussion_date=d(2027, 1, 1)),
        {"dates.future": E},
    ),
    (
        "review period of 8 months",
        put(review_period_start=d(2026, 2, 1)),
        {"dates.review_period": W},
    ),
    (
        "review period of 18 months",
        put(review_period_start=d(2025, 4, 1)),
        {"dates.review_period": W},
    ),
    ("review period of 11 months", put(review_period_start=d(2025, 11, 1)), {}),
    (
        "review period backwards",
        put(review_period_start=d(2026, 10, 1), review_period_end=d(2025, 9, 30)),
        {"dates.review_order": E},
    ),
    (
        "review period ends after the audit",
        put(review_period_start=d(2025, 10, 15), review_period_end=d(2026, 10, 15)),
        {"dates.review_after_audit": E},
    ),
    (
        "discussion before the period",
        put(discussion_date=d(2025, 9, 1)),
        {"dates.discussion_outside": E},
    ),
    (
        "discussion after the audit",
        put(discussion_date=d(2026, 10, 15)),
        {"dates.discussion_outside": E},
    ),
    ("discussion on the audit day", put(discussion_date=d(2026, 10, 14)), {}),
    ("discussion of 61 minutes", put(discussion_minutes=61), {"dates.discussion_long": W}),
    ("discussion of 60 minutes", put(discussion_minutes=60), {}),
    ("discussion of 0 minutes", put(discussion_minutes=0), {"dates.discussion_minutes": E}),
    # Sections, evidence and Outstanding
    ("section without evidence", section("assessment", evidence=" "), {"section.no_evidence": E}),
    (
        "not applicable needs no evidence",
        both(section("referral", rating=Rating.NOT_APPLICABLE, evidence="")),
        {},
    ),
    (
        "outstanding section without justification",
        section("planning", rating=Rating.OUTSTANDING),
        {"section.outstanding_unjustified": E},
    ),
    (
        "outstanding section with a long but plain text",
        section("planning", rating=Rating.OUTSTANDING, evidence=" ".join(["good"] * 60)),
        {"section.outstanding_unjustified": E},
    ),
    (
        "outstanding section with a short exceptional text",
        section("planning", rating=Rating.OUTSTANDING, evidence="Exceptional practice."),
        {"section.outstanding_unjustified": E},
    ),
    (
        "outstanding section justified",
        section("planning", rating=Rating.OUTSTANDING, evidence=EXCEPTIONAL),
        {},
    ),
    (
        "requires improvement without development",
        section("basic_information", development=""),
        {"section.no_development": W},
    ),
    # Descriptors
    (
        "inadequate descriptor on a good section",
        evidenced("Assessment", "Inadequate", 2),
        {"descriptor.inadequate_on_good": E},
    ),
    (
        "inadequate descriptor on a requires improvement section",
        evidenced("Basic information", "Inadequate", 1),
        {},
    ),
    (
        "rated section with no descriptor evidenced",
        unmark("Review"),
        {"descriptor.none_evidenced": W},
    ),
    # Overall rating
    (
        "good overall with an inadequate section",
        both(
            section("assessment", rating=Rating.INADEQUATE),
            action(1, section="Assessment"),
        ),
        {"overall.good_with_inadequate": E},
    ),
    (
        "inadequate overall, sections mostly good",
        put(overall_rating=Rating.INADEQUATE),
        {"overall.far_from_sections": W},
    ),
    (
        "requires improvement overall, sections mostly good",
        put(overall_rating=Rating.REQUIRES_IMPROVEMENT),
        {},
    ),
    (
        "overall not applicable",
        put(overall_rating=Rating.NOT_APPLICABLE),
        {"overall.not_applicable": E},
    ),
    (
        "outstanding overall without justification",
        put(overall_rating=Rating.OUTSTANDING),
        {"overall.outstanding_unjustified": E},
    ),
    (
        "outstanding overall justified in the summary",
        put(overall_rating=Rating.OUTSTANDING, overall_summary=EXCEPTIONAL),
        {},
    ),
    # The SMART plan
    ("action without owner", action(0, owner=""), {"plan.no_owner": E}),
    ("action without due date", action(0, due=None), {"plan.no_due": E}),
    ("action due before the audit", action(0, due=d(2026, 10, 13)), {"plan.due_before_audit": E}),
    ("action due on the audit day", action(0, due=d(2026, 10, 14)), {}),
    ("action due in six months", action(0, due=d(2027, 4, 14)), {}),
    ("action due past six months", action(0, due=d(2027, 4, 15)), {"plan.due_far": W}),
    ("action without measure", action(0, measure=""), {"plan.no_measure": E}),
    ("action without section", action(1, section=""), {"plan.no_section": E}),
    ("action for an unknown section", action(1, section="Housing"), {"plan.no_section": E}),
    ("action section in stray case", action(1, section=" assessment "), {}),
    ("action with no text", action(1, action=""), {"plan.no_action": E}),
    ("vague: continue to monitor", action(1, action="Continue to monitor."), {"plan.vague": W}),
    (
        "vague: ongoing",
        action(1, action="Ongoing direct work with the child and the family"),
        {"plan.vague": W},
    ),
    (
        "vague: keep under review",
        action(1, action="Keep the family's situation under review with school"),
        {},
    ),
    (
        "vague: keep under review (phrase)",
        action(1, action="Keep under review the child's school attendance at every visit"),
        {"plan.vague": W},
    ),
    ("vague: four words", action(1, action="Speak to the father."), {"plan.vague": W}),
    (
        "requires improvement section without an action",
        action(0, section="Planning"),
        {"plan.missing_for_section": E},
    ),
    (
        "no plan at all",
        put(actions=()),
        {"plan.missing_for_section": E, "gaps.unaddressed": W},
    ),
    # Compliance gaps
    (
        "unaddressed gap at final not in the plan",
        action(0, action="Bring all case recording up to date with the manager in supervision."),
        {"gaps.unaddressed": W},
    ),
    (
        "unaddressed gap at draft",
        both(
            put(audit_stage=Stage.DRAFT),
            action(
                0, action="Bring all case recording up to date with the manager in supervision."
            ),
        ),
        {},
    ),
    # Family feedback
    ("consent but no feedback", put(feedback=()), {"feedback.none_with_consent": E}),
    (
        "feedback without consent",
        put(family_consent=Consent.DECLINED),
        {"feedback.without_consent": E},
    ),
    ("no consent, no feedback", put(family_consent=Consent.NOT_SOUGHT, feedback=()), {}),
    (
        "feedback row without a question",
        lambda s: dataclasses.replace(
            s, feedback=(*s.feedback, FeedbackResponse("Father", None, "Nobody asked me."))
        ),
        {"feedback.question": E},
    ),
    (
        "feedback row with question 6",
        lambda s: dataclasses.replace(
            s, feedback=(*s.feedback, FeedbackResponse("Father", 6, "Nobody asked me."))
        ),
        {"feedback.question": E},
    ),
    (
        "feedback row without a response",
        lambda s: dataclasses.replace(s, feedback=(*s.feedback, FeedbackResponse("Father", 2, ""))),
        {"feedback.no_response": E},
    ),
    (
        "feedback row without a respondent",
        lambda s: dataclasses.replace(
            s, feedback=(*s.feedback, FeedbackResponse("", 2, "It was explained well."))
        ),
        {"feedback.no_respondent": W},
    ),
    # Storyboard completeness
    ("storyboard missing its impact", put(storyboard_impact=""), {"storyboard.missing": E}),
    ("storyboard consent unanswered", put(storyboard_consent=None), {"storyboard.missing": E}),
    ("storyboard without consent", put(storyboard_consent=False), {"storyboard.no_consent": W}),
    (
        "storyboard declined: a Final audit is complete without one",
        put(storyboard_status=StoryboardStatus.DECLINED, **NO_STORYBOARD),
        {},
    ),
    ("storyboard invited", put(storyboard_status=StoryboardStatus.INVITED, **NO_STORYBOARD), {}),
    (
        "storyboard status left empty",
        put(storyboard_status=None, **NO_STORYBOARD),
        {"storyboard.status": W},
    ),
    (
        "storyboard written but not completed",
        put(storyboard_status=StoryboardStatus.NOT_YET),
        {"storyboard.not_completed": W},
    ),
    (
        "storyboard not confirmed as identifying no one",
        put(storyboard_anonymised=False),
        {"storyboard.unconfirmed": E},
    ),
    (
        "storyboard confirmation left empty",
        put(storyboard_anonymised=None),
        {"storyboard.unconfirmed": E},
    ),
    (
        "storyboard outside consent unanswered",
        put(storyboard_consent_external=None),
        {"storyboard.missing": E},
    ),
    (
        "storyboard outside consent without inside consent",
        put(storyboard_consent=False, storyboard_consent_external=True),
        {"storyboard.no_consent": W, "storyboard.consent_contradicts": E},
    ),
    (
        "template 1.0 storyboard has no confirmation: warned, not produced",
        put(template_version="1.0", storyboard_anonymised=None, storyboard_consent_external=None),
        {"storyboard.unconfirmed": W},
    ),
    (
        "no storyboard needed at draft",
        put(
            audit_stage=Stage.DRAFT,
            storyboard_title="",
            storyboard_context="",
            storyboard_what_we_did="",
            storyboard_impact="",
            storyboard_voice="",
            storyboard_learning="",
            storyboard_consent=None,
        ),
        {},
    ),
    (
        "no storyboard needed for requires improvement",
        put(
            overall_rating=Rating.REQUIRES_IMPROVEMENT,
            storyboard_title="",
            storyboard_impact="",
            storyboard_consent=None,
        ),
        {},
    ),
    # Storyboard identifying details
    ("storyboard first name", story("Amara smiled."), {"storyboard.child_name": E}),
    ("storyboard last name, other case", story("The OKAFOR family."), {"storyboard.child_name": E}),
    ("storyboard name inside a word", story("Amaranth flowers and Okaforville."), {}),
    ("storyboard possessive name", story("It was Amara's idea."), {"storyboard.child_name": E}),
    ("storyboard family name, plural", story("We met the Okafors."), {"storyboard.child_name": E}),
    ("storyboard first name, plural", story("Two Amaras in class."), {"storyboard.child_name": E}),
    ("storyboard name run together", story("AmaraOkafor drew"), {"storyboard.child_name": E}),
    ("storyboard name with underscore", story("File Amara_Okafor"), {"storyboard.child_name": E}),
    ("storyboard Cyrillic lookalikes", story("Аmаrа drew"), {"storyboard.child_name": E}),
    ("storyboard full-width letters", story("Ｏｋａｆｏｒ"), {"storyboard.child_name": E}),
    ("storyboard zero-width space", story("Am\u200bara drew"), {"storyboard.child_name": E}),
    ("storyboard joiner inside", story("Oka\u200dfor"), {"storyboard.child_name": E}),
    ("storyboard accent added", story("Ámara drew"), {"storyboard.child_name": E}),
    ("storyboard MOSAIC ID", story("Case m1234567."), {"storyboard.mosaic_id": E}),
    ("storyboard MOSAIC digits", story("Case 1234567 closed."), {"storyboard.mosaic_id": E}),
    ("storyboard dd/mm/yyyy", story("On 03/04/2017 she"), {"storyboard.dob": E}),
    ("storyboard d-m-yy", story("On 3-4-17 she"), {"storyboard.dob": E}),
    ("storyboard born on", story("She was born on 3rd April."), {"storyboard.dob": E}),
    ("storyboard born in a year", story("born in 2017"), {"storyboard.dob": E}),
    ("storyboard date of birth", story("Date of birth given."), {"storyboard.dob": E}),
    ("storyboard written date", story("since 3 April 2017"), {"storyboard.dob": E}),
    ("storyboard month and year", story("since April 2026, Year 5"), {}),
    ("storyboard age and month", story("since April 2026, aged 9"), {"storyboard.age_date": W}),
    ("storyboard another name", story("Her aunt Hodan helped."), {"storyboard.person": W}),
    ("storyboard a school", story("At Oakfield Primary School."), {"storyboard.place": W}),
    (
        "storyboard condition, date",
        story("Rett syndrome, May 2025."),
        {"storyboard.condition_date": W},
    ),
    (
        "storyboard place, shared outside",
        both(put(storyboard_consent_external=True), story("On Malden Road.")),
        {"storyboard.place": E},
    ),
    (
        "storyboard place, shared outside, checked",
        both(
            put(storyboard_consent_external=True, storyboard_details_confirmed="Malden Road"),
            story("On Malden Road."),
        ),
        {},
    ),
    ("storyboard mobile", story("Call 07700 900123."), {"storyboard.phone": E}),
    ("storyboard landline", story("Ring 020 7974 4444."), {"storyboard.phone": E}),
    ("storyboard +44", story("Ring +44 (0)20 7974 4444."), {"storyboard.phone": E}),
    ("storyboard numbers not a phone", story("From 71% to 94%, 12 visits in 2026."), {}),
    ("storyboard email", story("Write to mum@example.com"), {"storyboard.email": E}),
    ("storyboard postcode", story("They live in NW1 2DB."), {"storyboard.postcode": E}),
    ("storyboard postcode lower", story("they live in nw12db"), {"storyboard.postcode": E}),
    ("storyboard key stage ordinals", story("In KS2 3rd year and Y6 2nd term."), {}),
    (
        "storyboard detail in the title",
        story("for Amara", field="storyboard_title"),
        {"storyboard.child_name": E},
    ),
]


@pytest.fixture
def check(the_rubric: Rubric) -> Callable[[Submission], dict[str, Severity]]:
    """Return a function validating an audit and giving {code: severity} of its findings."""

    def run(sub: Submission) -> dict[str, Severity]:
        report = validate(sub, the_rubric, today=TODAY)
        return {f.code: f.severity for f in report.findings}

    return run


def test_the_good_example_is_valid(good_audit: Submission, check) -> None:
    """The built-in Final Thematic audit rated Good has no errors and no warnings."""
    assert check(good_audit) == {}


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(good_audit: Submission, check, change: Change, expected: dict) -> None:
    """Each change to the valid audit gives exactly the expected findings and severities."""
    assert check(change(good_audit)) == expected


def test_codes_are_unique_per_case() -> None:
    """The rule table has no duplicate case names (pytest ids must be unique)."""
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_email_outside_allowed_domains(good_audit: Submission, the_rubric: Rubric) -> None:
    """An address outside the configured domains is a warning; subdomains are inside."""
    settings = ValidationSettings(email_domains=("camden.gov.uk",))
    sub = dataclasses.replace(
        good_audit,
        auditor_email="priya@qa.camden.gov.uk",
        manager_email="grace@gmail.com",
    )
    report = validate(sub, the_rubric, settings, today=TODAY)
    assert [(f.code, f.severity) for f in report.findings] == [("email.outside_domain", W)]
    assert "Line manager's email" in report.findings[0].message


def test_the_rubric_rules_change_the_limits(good_audit: Submission, the_rubric: Rubric) -> None:
    """Plan horizon, review period and discussion length come from the rubric's [rules]."""
    limits = dataclasses.replace(
        the_rubric.rules,
        action_due_within_months=2,
        review_period_months=15,
        discussion_max_minutes=45,
    )
    report = validate(good_audit, dataclasses.replace(the_rubric, rules=limits), today=TODAY)
    assert report.codes() == {"plan.due_far", "dates.review_period", "dates.discussion_long"}
    assert report.ok
    messages = " ".join(f.message for f in report.findings)
    assert "the last 15 months (14 to 16 months is accepted)" in messages
    assert "no longer than 45" in messages and "more than 2 months after" in messages


def test_the_rubric_rules_change_the_word_limits(good_audit: Submission, the_rubric) -> None:
    """Vague wording and the words that justify Outstanding come from the rubric's [rules]."""
    first = good_audit.actions[0].action
    sub = both(
        put(overall_rating=Rating.OUTSTANDING, overall_summary=EXCEPTIONAL),
        action(0, action=f"{first} Review it monthly."),
    )(good_audit)
    assert validate(sub, the_rubric, today=TODAY).codes() == set()
    limits = dataclasses.replace(
        the_rubric.rules,
        vague_phrases=("review it monthly",),
        outstanding_words=("sparkl*",),
        outstanding_min_words=10,
    )
    rubric = dataclasses.replace(the_rubric, rules=limits)
    report = validate(sub, rubric, today=TODAY)
    assert report.codes() == {"plan.vague", "overall.outstanding_unjustified"}
    assert "at least 10 words" in " ".join(f.message for f in report.findings)


def test_today_defaults_to_the_real_date(good_audit: Submission, the_rubric: Rubric) -> None:
    """Without ``today`` an audit dated tomorrow is in the future."""
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    sub = dataclasses.replace(good_audit, audit_date=tomorrow)
    assert "dates.audit_future" in validate(sub, the_rubric).codes()


def test_errors_come_before_warnings_in_workbook_order(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """Parser findings first, then rules; every error before every warning."""
    parsed = Finding("value.date", Severity.ERROR, "Unreadable date.", Location("Details", "C9"))
    parsed_warning = Finding("value.odd", Severity.WARNING, "Odd.", Location("Details", "C4"))
    sub = dataclasses.replace(
        good_audit,
        discussion_minutes=90,  # warning
        audit_ref="",  # error, early in the workbook
        storyboard_impact="",  # error, late in the workbook
        parse_findings=(parsed_warning, parsed),
    )
    report = validate(sub, the_rubric, today=TODAY)
    assert [f.code for f in report.findings] == [
        "value.date",
        "required.audit_ref",
        "storyboard.missing",
        "value.odd",
        "dates.discussion_long",
    ]


def test_a_value_the_parser_reported_is_not_reported_again(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """An unreadable date is reported once (by the parser), not again as missing."""
    where = Location("Details", "C9")
    parsed = Finding("value.date", Severity.ERROR, "The date could not be read.", where)
    sub = dataclasses.replace(
        good_audit,
        audit_date=None,
        locations={"audit_date": where},
        parse_findings=(parsed,),
    )
    assert [f.code for f in validate(sub, the_rubric, today=TODAY).findings] == ["value.date"]


def test_a_table_cell_the_parser_reported_is_not_reported_again(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """An unknown section typed in a plan row is reported once, not again as "no section"."""
    plan = Location("Audit plan", "A3")
    parsed = Finding(
        "parse.choice", Severity.ERROR, "'Housing' is not a section.", Location("Audit plan", "B4")
    )
    sub = dataclasses.replace(
        good_audit,
        locations={"AuditPlan": plan},
        table_columns={"AuditPlan": {"Section": "B"}},
        actions=(
            dataclasses.replace(good_audit.actions[0], section="", row=4),
            *good_audit.actions[1:],
        ),
        parse_findings=(parsed,),
    )
    codes = [f.code for f in validate(sub, the_rubric, today=TODAY).findings]
    assert codes.count("parse.choice") == 1 and "plan.no_section" not in codes


def test_findings_point_at_cells(good_audit: Submission, the_rubric: Rubric) -> None:
    """Findings carry the location of the field or table cell they are about."""
    plan = Location("Audit plan", "A5:E24")
    sub = dataclasses.replace(
        good_audit,
        locations={"assessment_evidence": Location("Ratings", "C12"), "AuditPlan": plan},
        table_columns={"AuditPlan": {"Owner": "C"}},
        actions=(dataclasses.replace(good_audit.actions[0], owner="", row=7),),
    )
    sub = section("assessment", evidence="")(sub)
    report = validate(sub, the_rubric, today=TODAY)
    where = {f.code: f.where for f in report.findings}
    assert where["section.no_evidence"] == "Ratings!C12"
    assert where["plan.no_owner"] == "Audit plan!C7"


def test_messages_are_plain_and_never_identify_the_child(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """Messages use field labels, not defined names, and never quote the child's details."""
    sub = story("Amara (M1234567) lives at NW1 2DB, phone 07700 900123.")(good_audit)
    sub = dataclasses.replace(sub, audit_ref="Amara-M1234567", practitioner_feedback="")
    report = validate(sub, the_rubric, today=TODAY)
    assert report.codes() >= {
        "storyboard.child_name",
        "storyboard.mosaic_id",
        "storyboard.postcode",
        "storyboard.phone",
        "ref.identifying",
        "required.practitioner_feedback",
    }
    for f in report.findings:
        assert "Amara" not in f.message and "1234567" not in f.message
        assert "_" not in f.message, f.message  # no defined names such as storyboard_what_we_did
    messages = " ".join(f.message for f in report.findings)
    assert "“What we did”" in messages and "“Practitioner's feedback”" in messages


def test_section_evidence_message(good_audit: Submission, the_rubric: Rubric) -> None:
    """A missing-evidence message names the section, its rating and where to write."""
    report = validate(section("assessment", evidence="")(good_audit), the_rubric, today=TODAY)
    (finding,) = report.findings
    assert finding.message == (
        "The Assessment section is rated Good but has no evidence. Write the evidence for your "
        "rating in “Assessment: evidence”."
    )


def test_validate_does_not_change_the_submission(good_audit: Submission, the_rubric) -> None:
    """Validation is pure: the submission is the same afterwards."""
    before = dataclasses.replace(good_audit)
    validate(good_audit, the_rubric, today=TODAY)
    assert good_audit == before


# Every built-in example: the findings it is meant to produce (valid ones: warnings only).
EXAMPLE_FINDINGS: dict[str, dict[str, Severity]] = {
    "good": {},
    "outstanding": {},
    "requires-improvement": {},
    "inadequate": {},
    "draft": {},
    # Judged on EXAMPLES_TODAY, long after the audit: its actions fall due before the Head of
    # QA could decide a referral made that day.
    "disagree": {"agreement.disagree": W, "plan.due_before_decision": W},
    "invalid-incomplete": {
        "email.invalid": E,
        "section.no_evidence": E,
        "plan.no_owner": E,
        "plan.no_due": E,
    },
    "invalid-storyboard": {"storyboard.child_name": E, "storyboard.postcode": E},
}


@pytest.mark.parametrize("name", sorted(examples.EXAMPLES))
def test_examples(name: str, the_rubric: Rubric) -> None:
    """Each built-in example gives exactly its intended findings; the valid ones no errors."""
    report = validate(examples.example(name, the_rubric), the_rubric, today=EXAMPLES_TODAY)
    found = {f.code: f.severity for f in report.findings}
    assert found == EXAMPLE_FINDINGS[name]
    assert (E not in found.values()) == (name in examples.VALID)


def test_every_example_is_listed() -> None:
    """The table above covers every built-in example."""
    assert set(EXAMPLE_FINDINGS) == set(examples.EXAMPLES)


ROOT = Path(__file__).resolve().parents[1]
LITERAL_CODE = re.compile(
    r'"((?:ref|email|dates|observation|agreement|section|descriptor|overall|plan|gaps|feedback'
    r'|storyboard|theme)\.[a-z_]+)"'
)


def _tested_codes() -> set[str]:
    codes = {code for _, _, expected in CASES for code in expected}
    codes |= {code for expected in EXAMPLE_FINDINGS.values() for code in expected}
    # tested with settings: above, and in test_anonymity.py
    return codes | {"email.outside_domain", "storyboard.anonymity_list"}


def test_every_rule_code_is_tested() -> None:
    """Each finding code written in the validate package appears in a test above."""
    package = ROOT / "src" / "cssw_docs" / "validate"
    source = "\n".join(p.read_text("utf-8") for p in sorted(package.glob("*.py")))
    assert "required_fields" in source  # the package was found
    assert set(LITERAL_CODE.findall(source)) - _tested_codes() == set()


def test_readme_documents_every_code() -> None:
    """The documented validation section names every code the tests produce."""
    section = docs_support.section("validation")

    def documented(code: str) -> bool:
        family, rest = code.split(".", 1)
        return (
            f"`{code}`" in section
            or f"`{family}.<name>`" in section
            or (family == "storyboard" and f"`.{rest}`" in section)
        )

    assert sorted(c for c in _tested_codes() if not documented(c)) == []
