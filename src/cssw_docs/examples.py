"""Fictional example audits, used by ``make demo``, the template preview and the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from .models import (
    Action,
    Agreement,
    ComplianceGap,
    Consent,
    DescriptorMark,
    FeedbackResponse,
    PracticeAreaNote,
    Rating,
    SectionAssessment,
    Stage,
    Submission,
)
from .rubric import Rubric
from .workbook.layout import TEMPLATE_VERSION


def _marks(rubric: Rubric, evidenced: dict[str, dict[str, set[int]]]) -> tuple[DescriptorMark, ...]:
    """Return every rubric descriptor, marked evidenced where ``evidenced[key][grade]`` says."""
    marks = []
    for section in rubric.sections:
        for grade, texts in section.descriptors.items():
            chosen = evidenced.get(section.key, {}).get(grade, set())
            for i, text in enumerate(texts):
                marks.append(
                    DescriptorMark(
                        section=section.name, grade=grade, descriptor=text, evidenced=i in chosen
                    )
                )
    return tuple(marks)


def _areas(rubric: Rubric, notes: dict[int, str]) -> tuple[PracticeAreaNote, ...]:
    return tuple(
        PracticeAreaNote(area=a, notes=notes.get(i, "")) for i, a in enumerate(rubric.core_areas)
    )


def good(rubric: Rubric) -> Submission:
    """Return a Final Thematic audit rated Good overall, with a storyboard."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0142",
        audit_type="Thematic",
        audit_stage=Stage.FINAL,
        audit_theme="Neglect and the lived experience of the child",
        audit_date=d(2026, 10, 14),
        child_name="Amara Okafor",
        child_mosaic_id="M1234567",
        team="Family Support & Intervention Team 3",
        auditor_name="Priya Natarajan",
        auditor_email="priya.natarajan@camden.gov.uk",
        auditor_role="Independent QA auditor (QAU)",
        practitioner_name="Tom Baxter",
        practitioner_email="tom.baxter@camden.gov.uk",
        manager_name="Grace Mensah",
        manager_email="grace.mensah@camden.gov.uk",
        review_period_start=d(2025, 10, 1),
        review_period_end=d(2026, 9, 30),
        discussion_date=d(2026, 10, 7),
        discussion_mode="MS Teams",
        discussion_minutes=55,
        family_consent=Consent.YES,
        overall_rating=Rating.GOOD,
        overall_summary=(
            "A, aged 9, and her younger brother were referred by their school because of poor "
            "attendance and concerns about home conditions.\n"
            "Over the twelve months the worker built a trusting relationship with mother, "
            "brought the family network together and the plan has made a visible difference: "
            "attendance is now 94% and the home is safe and warm."
        ),
        good_practice=(
            "Direct work with A using the 'three houses' tool is vivid and her words shape the "
            "plan.\nThe family network meeting brought in maternal grandmother as a daily support."
        ),
        areas_for_development=(
            "The chronology has not been updated since the spring.\n"
            "Father's views are not recorded in the assessment."
        ),
        practitioner_agreement=Agreement.AGREE,
        practitioner_feedback=(
            "The discussion was supportive and helped me step back from the case. I agree with "
            "the findings, particularly about involving dad."
        ),
        practitioner_plan_feedback="The actions are realistic and I have already contacted dad.",
        storyboard_title="Three houses, one plan: putting a child's words at the centre",
        storyboard_context=(
            "A primary-school child and her younger brother were referred by their school "
            "because of poor attendance and worries about the home."
        ),
        storyboard_what_we_did=(
            "The social worker used the 'three houses' tool so the child could say what "
            "worried her, what was going well and what she hoped for.\n"
            "A family network meeting brought grandmother in as a daily support, with clear "
            "actions for the school run and evening meals."
        ),
        storyboard_impact=(
            "School attendance rose from 71% to 94%. The home is safe and warm, and mother "
            "says she feels 'listened to, not judged'."
        ),
        storyboard_voice=(
            '"My worried house is smaller now." (child, aged 9)\n'
            '"You helped me ask my mum for help." (mother)'
        ),
        storyboard_learning=(
            "Simple direct-work tools, used early, give children a voice that changes the plan. "
            "Family network meetings work best when actions name who does what each day."
        ),
        storyboard_consent=True,
        sections=(
            SectionAssessment(
                "referral",
                Rating.GOOD,
                "School referral was clear and on the agreed format; the Front Door decision "
                "was made within 24 hours and took account of two earlier contacts.",
                "Clear manager rationale for the decision.",
                "",
            ),
            SectionAssessment(
                "basic_information",
                Rating.REQUIRES_IMPROVEMENT,
                "Demographics are recorded, but the chronology stops in April 2026 and "
                "some case notes were entered weeks after visits.",
                "Case notes are written in plain language.",
                "Bring the chronology up to date and record visits within two working days.",
            ),
            SectionAssessment(
                "assessment",
                Rating.GOOD,
                "The single assessment analyses strengths and worries and includes the "
                "child's own words. Father's views are missing.",
                "Excellent direct work with the child; clear analysis of neglect.",
                "Seek and record father's views.",
            ),
            SectionAssessment(
                "planning",
                Rating.GOOD,
                "The child in need plan names who does what each day and has been reviewed "
                "as the family's circumstances changed.",
                "The plan was shared with the child using words and pictures.",
                "",
            ),
            SectionAssessment(
                "review",
                Rating.GOOD,
                "CIN reviews held every three months with school and health attending; "
                "the child's views were brought to each review.",
                "Reviews are well attended and the records are detailed.",
                "",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.GOOD,
                "Monthly supervision is recorded and reflective, using the Camden Model; "
                "actions from previous supervision are followed up.",
                "Case mapping used in supervision in July.",
                "",
            ),
        ),
        actions=(
            Action(
                "Update the chronology to cover April to October 2026, using the chronology "
                "template.",
                "Basic information",
                "Tom Baxter",
                d(2026, 11, 13),
                "Chronology up to date on MOSAIC and checked by the manager in supervision.",
            ),
            Action(
                "Meet the children's father, seek his views on the plan and record them in an "
                "updated assessment.",
                "Assessment",
                "Tom Baxter",
                d(2026, 12, 4),
                "Father's views recorded on MOSAIC and reflected in the next CIN review.",
            ),
            Action(
                "Review recording timeliness in supervision for the next three months.",
                "Management oversight",
                "Grace Mensah",
                d(2027, 1, 29),
                "Supervision notes show visits recorded within two working days.",
            ),
        ),
        feedback=(
            FeedbackResponse("Mother", 1, "She really listened to me and didn't judge."),
            FeedbackResponse("Mother", 2, "Yes, she explained it and wrote it down for me."),
            FeedbackResponse("Mother", 3, "I chose who came to the family meeting."),
            FeedbackResponse("Mother", 4, "The kids are going to school and I've got my mum back."),
            FeedbackResponse("Mother", 5, "Sometimes visits were moved at short notice."),
            FeedbackResponse(
                "Child (aged 9)", 1, "She played games with me and asked about school."
            ),
        ),
        gaps=(
            ComplianceGap(
                "Chronology", "Chronology not updated since April 2026.", d(2026, 9, 30), False
            ),
            ComplianceGap("Supervision", "August supervision not recorded.", d(2026, 9, 30), True),
        ),
        descriptors=_marks(
            rubric,
            {
                "referral": {"Good": {0, 1, 2, 3, 4}},
                "basic_information": {"Good": {4}, "Requires improvement": {2}},
                "assessment": {"Good": {0, 1, 5, 8}},
                "planning": {"Good": {0, 1, 2, 7}},
                "review": {"Good": {0, 1, 3}},
                "management_oversight": {"Good": {0, 1, 3}},
            },
        ),
        practice_areas=_areas(
            rubric,
            {
                3: "Strong relationship with mother; father not yet engaged.",
                4: "Good joint working with school and the school nurse.",
                8: "Attendance up from 71% to 94% over two terms.",
            },
        ),
    )


def variant(base: Submission, **changes: object) -> Submission:
    """Return ``base`` with some fields changed (a convenience for tests and examples)."""
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
