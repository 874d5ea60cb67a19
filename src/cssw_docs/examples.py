"""Fictional example audits, used by ``make demo``, the template preview and the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

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


def _with_section(base: Submission, section: SectionAssessment) -> tuple[SectionAssessment, ...]:
    """Return ``base``'s sections with the one of the same key replaced by ``section``."""
    return tuple(section if s.key == section.key else s for s in base.sections)


def outstanding(rubric: Rubric) -> Submission:
    """Return a Final Practice Week audit rated Outstanding, with an observed home visit."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0157",
        audit_type="Practice Week",
        audit_stage=Stage.FINAL,
        audit_theme="Working with fathers and paternal family networks",
        audit_date=d(2026, 6, 18),
        child_name="Daniel Osei",
        child_mosaic_id="M2468135",
        team="Child in Need Team 2",
        auditor_name="Helen Crawford",
        auditor_email="helen.crawford@camden.gov.uk",
        auditor_role="Senior manager",
        practitioner_name="Aisha Rahman",
        practitioner_email="aisha.rahman@camden.gov.uk",
        manager_name="Mark Fitzgerald",
        manager_email="mark.fitzgerald@camden.gov.uk",
        review_period_start=d(2025, 6, 1),
        review_period_end=d(2026, 5, 31),
        discussion_date=d(2026, 6, 10),
        discussion_mode="Face to face",
        discussion_minutes=50,
        family_consent=Consent.YES,
        observation_activity=(
            "Joint home visit on 4 June 2026: a family safety-planning session with D, his "
            "father and his paternal aunt. The social worker used a 'words and pictures' "
            "story to explain why we are involved and let D draw his own 'safety circle'."
        ),
        observation_consent=Consent.YES,
        overall_rating=Rating.OUTSTANDING,
        overall_summary=(
            "D, aged 7, came to Children's Social Work after his mother's hospital admission "
            "left him without a safe carer. Practice on this case is outstanding: the worker "
            "went well beyond what Good describes by finding and engaging a father who had "
            "not been in D's life for three years, and by building a paternal family network "
            "that now cares for D every day.\n"
            "The impact for D is exceptional. He lives safely with his father, attends school "
            "every day, and told me he has 'two houses full of people who love me'."
        ),
        good_practice=(
            "Exemplary work with a father who had been written out of the records: the worker "
            "traced him within two weeks and met him six times before the first network "
            "meeting.\n"
            "The family network meeting produced a day-by-day plan with named people for each "
            "school run and weekend.\n"
            "Direct work with D is vivid, creative and recorded in his own words."
        ),
        areas_for_development=(
            "Demographic details for D's father were added late.\n"
            "The learning from this case should be shared across the Child in Need service."
        ),
        practitioner_agreement=Agreement.AGREE,
        practitioner_feedback=(
            "I found the audit affirming and the observation felt natural for the family. It "
            "was good to reflect on how much persistence it took to find dad."
        ),
        practitioner_plan_feedback=(
            "Happy to present at the practice forum; my manager has agreed the time."
        ),
        storyboard_title="Finding dad: a family network built around one boy",
        storyboard_context=(
            "A boy aged 7 needed a safe home when his mother became unwell and went into "
            "hospital. His father had not seen him for three years and was not on the records."
        ),
        storyboard_what_we_did=(
            "The social worker traced the father within two weeks and met him six times to "
            "build trust before any plan was made.\n"
            "A family network meeting brought together the father, an aunt and two family "
            "friends, who wrote a day-by-day plan for school runs, meals and weekends.\n"
            "The boy drew his own 'safety circle' and chose who was in it."
        ),
        storyboard_impact=(
            "The boy now lives safely with his father, has 100% school attendance this term "
            "and keeps regular contact with his mother as she recovers."
        ),
        storyboard_voice=(
            '"I have two houses full of people who love me." (child, aged 7)\n'
            '"Nobody had ever asked me to be his dad before." (father)'
        ),
        storyboard_learning=(
            "Never assume a father cannot be found or will not step up. Early, persistent "
            "work with paternal family can change a child's whole plan."
        ),
        storyboard_consent=True,
        sections=(
            SectionAssessment(
                "referral",
                Rating.NOT_APPLICABLE,
                "The referral was made in 2024, before the period reviewed.",
            ),
            SectionAssessment(
                "basic_information",
                Rating.GOOD,
                "Case notes are up to date, written to D and easy to follow. Demographics for "
                "D are complete; his father's details were added three months late.",
                "Records are written to the child, in plain language.",
                "Record family members' details as soon as they are known.",
            ),
            SectionAssessment(
                "assessment",
                Rating.OUTSTANDING,
                "Outstanding. The assessment goes beyond everything Good describes: it analyses "
                "the strengths and risks of both parents' households, includes the father and "
                "paternal aunt in detail, and is built around D's own words and drawings. The "
                "worker's persistence in tracing the father turned the assessment from a search "
                "for a foster placement into a plan to live with family, with exceptional "
                "impact on D's life.",
                "Exceptional analysis of both households; D's voice runs through it.",
                "",
            ),
            SectionAssessment(
                "planning",
                Rating.OUTSTANDING,
                "Outstanding. The plan is exemplary: written with the family at a network "
                "meeting, it names who does what for D each day of the week, and it is written "
                "in words and pictures D can read. It has been revised twice as his mother's "
                "health changed, and it has delivered an exceptional outcome: D lives safely "
                "with his father and his attendance is 100% this term.",
                "A day-by-day plan owned by the family network.",
                "",
            ),
            SectionAssessment(
                "review",
                Rating.GOOD,
                "CIN reviews are held every six weeks at times the father can attend after "
                "work; D's views are brought to each review in his own words.",
                "Reviews arranged around the family.",
                "",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.OUTSTANDING,
                "Outstanding. Supervision is reflective and uses the Camden Model throughout: "
                "the manager used case mapping to test the decision to look for the father, "
                "set clear timescales, and followed up every action. The management footprint "
                "on the file is exceptional and explains each key decision, so that anyone "
                "reading it understands why D lives where he does.",
                "Case mapping used to test the key decision.",
                "",
            ),
        ),
        actions=(
            Action(
                "Present the approach to tracing and engaging fathers at the Child in Need "
                "practice learning forum.",
                "Planning",
                "Aisha Rahman",
                d(2026, 9, 30),
                "Presentation delivered and slides shared on the practice learning hub.",
            ),
            Action(
                "Add the full demographic details of every adult in the family network to MOSAIC.",
                "Basic information",
                "Aisha Rahman",
                d(2026, 7, 17),
                "Demographics complete on MOSAIC, checked by the manager in July supervision.",
            ),
        ),
        feedback=(
            FeedbackResponse("Father", 1, "She kept coming back even when I wasn't sure."),
            FeedbackResponse("Father", 2, "Yes. She drew it out for me and for him."),
            FeedbackResponse("Father", 3, "We wrote the plan ourselves at my sister's."),
            FeedbackResponse("Father", 4, "I've got my son. That's the difference."),
            FeedbackResponse("Paternal aunt", 5, "Nothing. Maybe tell us sooner about meetings."),
            FeedbackResponse("Child (aged 7)", 1, "She liked my drawings."),
        ),
        gaps=(
            ComplianceGap(
                "Basic information",
                "Father's demographic details missing.",
                d(2026, 5, 28),
                True,
            ),
        ),
        descriptors=_marks(
            rubric,
            {
                "basic_information": {"Good": {0, 1, 2, 4}},
                "assessment": {"Good": {0, 1, 2, 4, 5, 7, 8}},
                "planning": {"Good": {0, 1, 2, 3, 4, 6, 7}},
                "review": {"Good": {0, 1, 2, 3}},
                "management_oversight": {"Good": {0, 1, 2, 3, 4}},
            },
        ),
        practice_areas=_areas(
            rubric,
            {
                0: "Move from mother's care to father's handled gently, with D's views central.",
                3: "Persistent, respectful engagement of a father who had been absent.",
                8: "D lives safely with family; school attendance 100% this term.",
            },
        ),
    )


def requires_improvement(rubric: Rubric) -> Submission:
    """Return a Final Dip sample audit rated Requires improvement, with a plan for each gap."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0163",
        audit_type="Dip sample",
        audit_stage=Stage.FINAL,
        audit_theme="Children on a second Child in Need plan within two years",
        audit_date=d(2026, 3, 12),
        child_name="Jayden Clarke",
        child_mosaic_id="M3579246",
        team="Child in Need Team 1",
        auditor_name="Samuel Adeyemi",
        auditor_email="samuel.adeyemi@camden.gov.uk",
        auditor_role="Peer auditor",
        practitioner_name="Rachel Hughes",
        practitioner_email="rachel.hughes@camden.gov.uk",
        manager_name="Imran Siddiqui",
        manager_email="imran.siddiqui@camden.gov.uk",
        review_period_start=d(2025, 3, 1),
        review_period_end=d(2026, 2, 28),
        discussion_date=d(2026, 3, 5),
        discussion_mode="MS Teams",
        discussion_minutes=45,
        family_consent=Consent.YES,
        overall_rating=Rating.REQUIRES_IMPROVEMENT,
        overall_summary=(
            "J, aged 14, is on a second Child in Need plan because of conflict at home and "
            "missed school. The worker knows J well and he trusts her, but the assessment does "
            "not explore his father's household, the plan is a list of services rather than "
            "who does what, and supervision has not prevented drift between January and "
            "June 2025."
        ),
        good_practice=(
            "J's views are recorded in his own words after each visit.\n"
            "The referral was dealt with promptly and took account of the first CIN plan."
        ),
        areas_for_development=(
            "Assess father's household and involve him in the plan.\n"
            "Rewrite the plan so it says who does what each day.\n"
            "Supervision should track actions from one month to the next."
        ),
        practitioner_agreement=Agreement.AGREE,
        practitioner_feedback=(
            "I agree with the findings. The period from January to June 2025 was when I had a "
            "caseload of 24 and I know the plan drifted then."
        ),
        practitioner_plan_feedback="The actions are fair and the dates are achievable.",
        sections=(
            SectionAssessment(
                "referral",
                Rating.GOOD,
                "The school's referral was clear; the Front Door decided within a day and the "
                "manager's rationale refers to the first CIN plan in 2024.",
                "Good use of history in the decision.",
                "",
            ),
            SectionAssessment(
                "basic_information",
                Rating.REQUIRES_IMPROVEMENT,
                "Case notes are readable, but the danger statement is general ('risk of harm') "
                "and there is little sign that records were checked by a manager.",
                "Case notes record J's words.",
                "Rewrite the danger statement to name the specific worries.",
            ),
            SectionAssessment(
                "assessment",
                Rating.REQUIRES_IMPROVEMENT,
                "The assessment identifies the conflict at home but does not include J's father, "
                "who has J every other weekend. The family network is mentioned but not explored.",
                "J was seen alone and his views recorded.",
                "Assess father's household and the wider family network.",
            ),
            SectionAssessment(
                "planning",
                Rating.REQUIRES_IMPROVEMENT,
                "The plan lists services (youth club, CAMHS referral, parenting course) but not "
                "what the family will do day to day. Progress stalled between January and "
                "June 2025.",
                "The plan was shared with J.",
                "Write the plan with the family so it names who does what each day.",
            ),
            SectionAssessment(
                "review",
                Rating.GOOD,
                "CIN reviews were held on time and J attended two of the three.",
                "J attended and spoke at his reviews.",
                "",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.REQUIRES_IMPROVEMENT,
                "Supervision took place monthly except in March and April 2025, but records "
                "list decisions without reflection and actions are repeated month to month.",
                "Supervision is regular since June 2025.",
                "Use the Camden Model in supervision and close actions off.",
            ),
        ),
        actions=(
            Action(
                "Rewrite the danger statement with the family so it names the specific "
                "behaviours that worry us.",
                "Basic information",
                "Rachel Hughes",
                d(2026, 4, 10),
                "New danger statement on MOSAIC, agreed with J and his mother.",
            ),
            Action(
                "Visit J's father, assess his household and add the findings to an updated "
                "single assessment.",
                "Assessment",
                "Rachel Hughes",
                d(2026, 5, 8),
                "Updated assessment signed off by the manager, including father's household.",
            ),
            Action(
                "Hold a family network meeting and rewrite the CIN plan so it says who does "
                "what each day.",
                "Planning",
                "Rachel Hughes",
                d(2026, 5, 29),
                "Revised plan on MOSAIC naming people and days, reviewed at the next CIN review.",
            ),
            Action(
                "Use the Camden Model supervision template for this case and review open "
                "actions at each session.",
                "Management oversight",
                "Imran Siddiqui",
                d(2026, 6, 30),
                "Three consecutive supervision records show actions reviewed and closed.",
            ),
        ),
        feedback=(
            FeedbackResponse("Young person (aged 14)", 1, "She's alright. She actually listens."),
            FeedbackResponse("Young person (aged 14)", 4, "Home's calmer. School's still hard."),
            FeedbackResponse("Mother", 2, "I understood it the second time round."),
            FeedbackResponse("Mother", 5, "Fewer changes of worker would help."),
        ),
        gaps=(
            ComplianceGap(
                "Supervision",
                "No supervision recorded in March and April 2025.",
                d(2026, 2, 20),
                True,
            ),
        ),
        descriptors=_marks(
            rubric,
            {
                "referral": {"Good": {0, 2, 3, 4}},
                "basic_information": {"Requires improvement": {0, 1, 2}},
                "assessment": {"Requires improvement": {0, 2, 4}},
                "planning": {"Requires improvement": {0, 1, 3}},
                "review": {"Good": {0, 2}},
                "management_oversight": {"Requires improvement": {1, 2, 4}},
            },
        ),
        practice_areas=_areas(
            rubric,
            {
                2: "Assessment and plan need to include father's household.",
                6: "Danger statement too general.",
                7: "Drift in early 2025 not picked up in supervision.",
            },
        ),
    )


def inadequate(rubric: Rubric) -> Submission:
    """Return a Final Early Help/Front Door audit rated Inadequate, with a robust action plan."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0171",
        audit_type="Early Help/Front Door",
        audit_stage=Stage.FINAL,
        audit_theme="",
        audit_date=d(2026, 5, 7),
        child_name="Sofia Ahmed",
        child_mosaic_id="M4826153",
        team="Front Door (MASH)",
        auditor_name="Eleanor Whitfield",
        auditor_email="eleanor.whitfield@camden.gov.uk",
        auditor_role="Independent QA auditor (QAU)",
        practitioner_name="Callum Price",
        practitioner_email="callum.price@camden.gov.uk",
        manager_name="Nadia Karim",
        manager_email="nadia.karim@camden.gov.uk",
        review_period_start=d(2025, 5, 1),
        review_period_end=d(2026, 4, 30),
        discussion_date=d(2026, 4, 29),
        discussion_mode="Face to face",
        discussion_minutes=60,
        family_consent=Consent.DECLINED,
        overall_rating=Rating.INADEQUATE,
        overall_summary=(
            "S, aged 4, was the subject of three police notifications of domestic abuse in "
            "six months. The third notification waited five working days for a decision, the "
            "two earlier contacts were not considered, and the assessment was closed with no "
            "further action without S being seen. She was re-referred six weeks later after a "
            "further incident. Practice left S at risk and is inadequate."
        ),
        good_practice=(
            "Once re-referred, the case was allocated the same day and a strategy discussion "
            "held within 24 hours."
        ),
        areas_for_development=(
            "Screening of police notifications must take account of contact history.\n"
            "Children under five must be seen during an assessment.\n"
            "Managers must record their rationale when closing a case."
        ),
        practitioner_agreement=Agreement.PARTLY_AGREE,
        practitioner_feedback=(
            "I accept S should have been seen. At the time the Front Door had four vacancies "
            "and I was screening over forty contacts a week; I would like that recognised."
        ),
        practitioner_plan_feedback=(
            "The actions are right. I would welcome the screening refresher for the whole team."
        ),
        sections=(
            SectionAssessment(
                "referral",
                Rating.INADEQUATE,
                "The third police notification waited five working days for a decision. The "
                "screening record does not mention the two earlier notifications, there is no "
                "risk analysis and the manager's rationale is one line.",
                "",
                "Screen every notification against the contact history within 24 hours.",
            ),
            SectionAssessment(
                "basic_information",
                Rating.REQUIRES_IMPROVEMENT,
                "Demographics are partly recorded (no language or religion). Case notes are "
                "readable but there is no danger statement.",
                "Case notes are concise.",
                "Complete demographics and record a danger statement.",
            ),
            SectionAssessment(
                "assessment",
                Rating.INADEQUATE,
                "The assessment was completed by phone with mother. S was not seen, the "
                "father's role in the incidents is not analysed, and the police and nursery "
                "were not contacted. Closed NFA without a manager's sign-off.",
                "",
                "See every child under five in person and seek agency checks before closing.",
            ),
            SectionAssessment(
                "planning",
                Rating.NOT_APPLICABLE,
                "No plan: the case was closed after the assessment.",
            ),
            SectionAssessment(
                "review",
                Rating.NOT_APPLICABLE,
                "No plan to review in the period.",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.INADEQUATE,
                "No management footprint on the screening or the closure; the case was not "
                "discussed in supervision and no one checked the decision to close.",
                "",
                "Managers sign off every closure with a recorded rationale.",
            ),
        ),
        actions=(
            Action(
                "Re-screen every police domestic abuse notification received by the Front "
                "Door since 1 February 2026 against its contact history.",
                "Referral",
                "Nadia Karim",
                d(2026, 6, 5),
                "Spreadsheet of re-screened notifications, with any new decisions recorded on "
                "MOSAIC, sent to the Head of Service.",
            ),
            Action(
                "Deliver a screening refresher for all Front Door workers on using contact "
                "history and recording risk analysis.",
                "Referral",
                "Nadia Karim",
                d(2026, 6, 26),
                "Every Front Door worker attended; a dip sample of 20 screenings in July shows "
                "history considered in all of them.",
            ),
            Action(
                "Record S's language, religion and ethnicity and a danger statement on MOSAIC.",
                "Basic information",
                "Callum Price",
                d(2026, 5, 21),
                "Demographics complete and danger statement recorded, checked by the manager.",
            ),
            Action(
                "Complete a new assessment in which S is seen at home and at nursery, and "
                "police and nursery checks are recorded.",
                "Assessment",
                "Callum Price",
                d(2026, 6, 12),
                "Assessment signed off by the manager, recording where and when S was seen.",
            ),
            Action(
                "Introduce manager sign-off with a written rationale for every Front Door "
                "closure, and audit ten closures a month for three months.",
                "Management oversight",
                "Nadia Karim",
                d(2026, 8, 28),
                "Monthly audit reports show a recorded rationale on every closure sampled.",
            ),
        ),
        gaps=(
            ComplianceGap(
                "Assessment",
                "Assessment closed without manager's sign-off.",
                d(2026, 4, 20),
                False,
            ),
            ComplianceGap(
                "Case notes",
                "No case note of the phone call with mother on the day of closure.",
                d(2026, 4, 20),
                True,
            ),
        ),
        descriptors=_marks(
            rubric,
            {
                "referral": {"Inadequate": {0, 3, 4}},
                "basic_information": {"Requires improvement": {2, 3}, "Inadequate": {1}},
                "assessment": {"Inadequate": {0, 4, 5, 6}},
                "management_oversight": {"Inadequate": {0, 3, 4, 6}},
            },
        ),
        practice_areas=_areas(
            rubric,
            {
                1: "Domestic abuse; a child under five not seen.",
                4: "Police and nursery not contacted before closure.",
                7: "No management oversight of the closure.",
                10: "Screening timescales missed during a period of Front Door vacancies.",
            },
        ),
    )


def draft(rubric: Rubric) -> Submission:
    """Return a Draft Thematic audit sent to the practitioner, before their feedback."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0178",
        audit_type="Thematic",
        audit_stage=Stage.DRAFT,
        audit_theme="Criminal exploitation and missing episodes",
        audit_date=d(2026, 9, 9),
        child_name="Tyrell Bennett",
        child_mosaic_id="M5937162",
        team="Adolescent Service",
        auditor_name="Fiona MacLeod",
        auditor_email="fiona.macleod@camden.gov.uk",
        auditor_role="Child protection chair",
        practitioner_name="Joseph Adebayo",
        practitioner_email="joseph.adebayo@camden.gov.uk",
        manager_name="Hannah Kowalski",
        manager_email="hannah.kowalski@camden.gov.uk",
        review_period_start=d(2025, 9, 1),
        review_period_end=d(2026, 8, 31),
        discussion_date=d(2026, 9, 3),
        discussion_mode="MS Teams",
        discussion_minutes=60,
        family_consent=Consent.YES,
        overall_rating=Rating.GOOD,
        overall_summary=(
            "T, aged 15, went missing nine times last autumn and was found in another county "
            "with drugs. Since January the worker has seen him weekly, the contextual "
            "safety plan is working and there has been one missing episode since March."
        ),
        good_practice=(
            "Return home interviews were completed within 72 hours every time.\n"
            "The worker kept visiting when T would not talk, and now T calls him when he is "
            "worried."
        ),
        areas_for_development=(
            "The chronology does not bring the missing episodes together.\n"
            "Mother's own support needs are not yet assessed."
        ),
        sections=(
            SectionAssessment(
                "referral",
                Rating.GOOD,
                "Police referral after the first missing episode was screened the same day "
                "with contact history considered.",
                "Prompt, well-reasoned decision.",
                "",
            ),
            SectionAssessment(
                "basic_information",
                Rating.REQUIRES_IMPROVEMENT,
                "Records are up to date, but the chronology lists events without bringing "
                "the missing episodes together, so the pattern is hard to see.",
                "Case notes are prompt.",
                "Add a missing-episodes summary to the chronology.",
            ),
            SectionAssessment(
                "assessment",
                Rating.GOOD,
                "The assessment uses a contextual safeguarding lens (places, peers, online) and "
                "records T's own account of how he was groomed.",
                "Strong contextual analysis.",
                "Assess mother's support needs.",
            ),
            SectionAssessment(
                "planning",
                Rating.GOOD,
                "The safety plan names trusted adults, safe places and what happens if T does "
                "not come home, and it is working.",
                "Plan written with T.",
                "",
            ),
            SectionAssessment(
                "review",
                Rating.GOOD,
                "CP reviews held on time; T attended the last two and spoke for himself.",
                "",
                "",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.GOOD,
                "Fortnightly supervision during the crisis period; clear contingency plans.",
                "Responsive supervision during the crisis.",
                "",
            ),
        ),
        actions=(
            Action(
                "Add a summary of every missing episode, with dates, places and return "
                "interviews, to the chronology.",
                "Basic information",
                "Joseph Adebayo",
                d(2026, 10, 9),
                "Chronology shows the missing-episode summary, checked in supervision.",
            ),
            Action(
                "Offer mother a carer's assessment and a place on the parents' exploitation "
                "support group.",
                "Assessment",
                "Joseph Adebayo",
                d(2026, 10, 30),
                "Carer's assessment offered and recorded, with mother's decision noted.",
            ),
        ),
        feedback=(
            FeedbackResponse("Young person (aged 15)", 1, "He didn't give up on me."),
            FeedbackResponse("Mother", 4, "I know where he is at night now."),
        ),
        descriptors=_marks(
            rubric,
            {
                "referral": {"Good": {0, 2, 3}},
                "basic_information": {"Good": {0}, "Requires improvement": {2}},
                "assessment": {"Good": {0, 1, 5}},
                "planning": {"Good": {0, 1, 3}},
                "review": {"Good": {0, 2}},
                "management_oversight": {"Good": {0, 1}},
            },
        ),
        practice_areas=_areas(rubric, {1: "Criminal exploitation; county lines."}),
    )


def disagree(rubric: Rubric) -> Submission:
    """Return a Final Thematic audit rated Requires improvement that the practitioner disputes."""
    d = dt.date
    return Submission(
        template_version=TEMPLATE_VERSION,
        audit_ref="CSSW-2026-0184",
        audit_type="Thematic",
        audit_stage=Stage.FINAL,
        audit_theme="Domestic abuse and safety planning",
        audit_date=d(2026, 11, 19),
        child_name="Ella Thompson",
        child_mosaic_id="M6048273",
        team="Child Protection Team 4",
        auditor_name="Peter Lindqvist",
        auditor_email="peter.lindqvist@camden.gov.uk",
        auditor_role="Peer auditor",
        practitioner_name="Zainab Yusuf",
        practitioner_email="zainab.yusuf@camden.gov.uk",
        manager_name="Oliver Grant",
        manager_email="oliver.grant@camden.gov.uk",
        review_period_start=d(2025, 11, 1),
        review_period_end=d(2026, 10, 31),
        discussion_date=d(2026, 11, 12),
        discussion_mode="Face to face",
        discussion_minutes=55,
        family_consent=Consent.YES,
        overall_rating=Rating.REQUIRES_IMPROVEMENT,
        overall_summary=(
            "E, aged 11, lives with her mother, who left an abusive relationship in 2025. The "
            "worker has a warm relationship with both, but the safety plan on file has not "
            "been updated since the ex-partner was released from prison in August, and the "
            "assessment does not analyse the risk he now poses."
        ),
        good_practice=(
            "E's direct work is recorded in her words and shows she feels safe at home.\n"
            "Reviews are well attended by school and the domestic abuse service."
        ),
        areas_for_development=(
            "Update the assessment and the safety plan for the ex-partner's release."
        ),
        practitioner_agreement=Agreement.DISAGREE,
        practitioner_feedback=(
            "I disagree with the ratings for assessment and planning. The safety plan was "
            "revised with mother and E in October, after the release, and the revision is "
            "recorded in my case note of 14 October and the core group minutes rather than in "
            "the plan document. I would ask for the audit to be reviewed by the Head of "
            "Quality Assurance."
        ),
        practitioner_plan_feedback=(
            "I will move the October revision into the plan document, but I do not think a new "
            "assessment is needed."
        ),
        sections=(
            SectionAssessment(
                "referral",
                Rating.NOT_APPLICABLE,
                "The referral was in 2024, before the period reviewed.",
            ),
            SectionAssessment(
                "basic_information",
                Rating.GOOD,
                "Records are up to date, plain and written to E.",
                "Case notes written to E.",
                "",
            ),
            SectionAssessment(
                "assessment",
                Rating.REQUIRES_IMPROVEMENT,
                "The last assessment (April 2026) predates the ex-partner's release and does "
                "not analyse the risk he now poses to E and her mother.",
                "E's voice is clear.",
                "Update the assessment with a risk analysis since the release.",
            ),
            SectionAssessment(
                "planning",
                Rating.REQUIRES_IMPROVEMENT,
                "The CP plan on file has not changed since June; the October revision exists "
                "only in a case note and the core group minutes, so others cannot rely on it.",
                "Plan written with mother.",
                "Keep one current safety plan on file.",
            ),
            SectionAssessment(
                "review",
                Rating.GOOD,
                "Core groups and conferences held on time with good attendance.",
                "Strong multi-agency attendance.",
                "",
            ),
            SectionAssessment(
                "management_oversight",
                Rating.GOOD,
                "Monthly reflective supervision; the release was discussed in August.",
                "Reflective supervision.",
                "",
            ),
        ),
        actions=(
            Action(
                "Update the assessment with an analysis of the risk the ex-partner poses since "
                "his release, informed by probation.",
                "Assessment",
                "Zainab Yusuf",
                d(2026, 12, 18),
                "Updated assessment signed off by the manager and shared with mother.",
            ),
            Action(
                "Bring the October safety-plan revision into the CP plan document and share it "
                "with the core group.",
                "Planning",
                "Zainab Yusuf",
                d(2026, 12, 4),
                "Current safety plan on MOSAIC, confirmed by core group members at the next "
                "meeting.",
            ),
        ),
        feedback=(
            FeedbackResponse("Mother", 1, "She has been brilliant, really."),
            FeedbackResponse("Mother", 3, "We did the safety plan together at my kitchen table."),
            FeedbackResponse("Child (aged 11)", 4, "I feel safe at home now."),
        ),
        descriptors=_marks(
            rubric,
            {
                "basic_information": {"Good": {0, 2}},
                "assessment": {"Requires improvement": {0, 1}},
                "planning": {"Good": {2}, "Requires improvement": {3}},
                "review": {"Good": {0, 1}},
                "management_oversight": {"Good": {0, 1}},
            },
        ),
        practice_areas=_areas(rubric, {1: "Domestic abuse; perpetrator released in August."}),
    )


def invalid_incomplete(rubric: Rubric) -> Submission:
    """Return an audit with errors: no evidence, an action without owner or date, bad email."""
    base = requires_improvement(rubric)
    planning = base.section("planning")
    first = base.actions[0]
    return variant(
        base,
        audit_ref="CSSW-2026-0190",
        practitioner_email="rachel.hughes@camden",
        sections=_with_section(base, dataclasses.replace(planning, evidence="")),
        actions=(
            dataclasses.replace(first, owner="", due=None),
            *base.actions[1:],
        ),
    )


def invalid_storyboard(rubric: Rubric) -> Submission:
    """Return a Good Final audit whose storyboard names the child and gives a postcode."""
    base = good(rubric)
    return variant(
        base,
        audit_ref="CSSW-2026-0195",
        storyboard_context=(
            "Amara, aged 9, and her younger brother live with their mother near NW5 1TL. They "
            "were referred by their school because of poor attendance and worries about the "
            "home."
        ),
    )


EXAMPLES: dict[str, Callable[[Rubric], Submission]] = {
    "good": good,
    "outstanding": outstanding,
    "requires-improvement": requires_improvement,
    "inadequate": inadequate,
    "draft": draft,
    "disagree": disagree,
    "invalid-incomplete": invalid_incomplete,
    "invalid-storyboard": invalid_storyboard,
}
# The examples meant to pass validation (no errors); the others show what gets rejected.
VALID: frozenset[str] = frozenset(EXAMPLES) - {"invalid-incomplete", "invalid-storyboard"}


def example(name: str, rubric: Rubric) -> Submission:
    """Return the example audit called ``name`` (KeyError when there is none)."""
    return EXAMPLES[name](rubric)
