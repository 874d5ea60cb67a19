"""The intake workbook's public contract: its defined names, tables and allowed values."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import (
    SECTION_KEYS,
    Agreement,
    Consent,
    NoObservation,
    Rating,
    Stage,
    StoryboardStatus,
)
from ..rubric import Rubric, in_words
from ..rules import REFERENCE_HELP

# 1.1 added the storyboard's status, consent to share outside the service, the auditor's
# confirmation that nothing identifies the family, and why a Practice Week had no observation.
# 1.2 added the details of a storyboard the auditor checked for sharing outside the service,
# and each action's Status and Completed on to the audit plan (actions followed to done).
TEMPLATE_VERSION = "1.2"
# Workbooks whose template_version has this major number can be read.
SUPPORTED_MAJOR = "1"
# The version a workbook is read as when its template_version cell holds only "1" or junk.
FIRST_VERSION = "1.0"


@dataclass(frozen=True)
class Field:
    """One single-value input: a workbook-scoped defined name pointing at one cell.

    ``kind`` is one of text, long_text, date, integer, email, choice; for a choice,
    ``choices`` names where the allowed values come from (see ``choices_for``). ``since`` is
    the template version that added the name: a workbook of an earlier version lacks it, and
    the reader leaves the value empty without complaint (see ``in_version``).
    """

    name: str
    label: str
    kind: str
    help: str
    choices: str = ""
    since: str = FIRST_VERSION

    def meaning(self, rubric: Rubric) -> str:
        """Return ``help`` with the rubric's limits and counts filled in."""
        return fill_in(self.help, rubric)


YES_NO = ("Yes", "No")
# An action's Status in the audit plan, as the dropdown spells it (models.ActionStatus).
ACTION_STATUS_WORDS = ("Open", "Done", "Dropped")

FIELDS: tuple[Field, ...] = (
    Field("template_version", "Template version", "text", "Filled in by cssw-docs. Do not change."),
    Field("audit_ref", "Audit reference", "text", f"The audit's reference. {REFERENCE_HELP}"),
    Field("audit_type", "Type of audit", "choice", "Choose the kind of audit.", "audit_types"),
    Field(
        "audit_stage",
        "Stage",
        "choice",
        "Draft: sending to the practitioner for feedback. Final: feedback received, "
        "audit finalised.",
        "stages",
    ),
    Field(
        "audit_theme",
        "Theme",
        "text",
        "The theme or area of interest (needed for Thematic and Practice Week audits).",
    ),
    Field("audit_date", "Date of audit", "date", "The date the audit was completed (dd/mm/yyyy)."),
    Field(
        "child_name",
        "Child's name",
        "text",
        "As recorded on MOSAIC. Never shown in file names, email subjects or storyboards.",
    ),
    Field("child_mosaic_id", "MOSAIC ID", "text", "The child's MOSAIC person ID."),
    Field("team", "Team", "text", "The allocated worker's team."),
    Field("auditor_name", "Auditor", "text", "Your name."),
    Field("auditor_email", "Auditor's email", "email", "Your work email address."),
    Field("auditor_role", "Auditor's role", "choice", "Your role in this audit.", "auditor_roles"),
    Field(
        "practitioner_name", "Allocated worker", "text", "The practitioner whose work is audited."
    ),
    Field("practitioner_email", "Allocated worker's email", "email", "Their work email address."),
    Field("manager_name", "Line manager", "text", "The allocated worker's line manager."),
    Field("manager_email", "Line manager's email", "email", "Their work email address."),
    Field(
        "review_period_start",
        "Case files reviewed from",
        "date",
        "Start of the period of case records reviewed (normally the last {review_months} months).",
    ),
    Field("review_period_end", "Case files reviewed to", "date", "End of that period."),
    Field(
        "discussion_date",
        "Date of case discussion",
        "date",
        "The reflective case discussion with the worker.",
    ),
    Field(
        "discussion_mode",
        "How the discussion took place",
        "choice",
        "Face to face or MS Teams.",
        "discussion_modes",
    ),
    Field(
        "discussion_minutes",
        "Length of discussion (minutes)",
        "integer",
        "The guide asks for no longer than {discussion_minutes} minutes.",
    ),
    Field(
        "family_consent",
        "Family consent to give feedback",
        "choice",
        "Yes if the child or parents/carers agreed to speak to you.",
        "consent",
    ),
    Field(
        "observation_activity",
        "Practice observed",
        "long_text",
        "Practice Week only: the activity observed (home visit, review conference, ...).",
    ),
    Field(
        "observation_consent",
        "Family consent to observation",
        "choice",
        "Practice Week only: did the family consent to the observation?",
        "consent",
    ),
    Field(
        "observation_none_reason",
        "No observation because",
        "choice",
        "Practice Week only, when no practice was observed: Declined (the family said no), Not "
        "possible (none could be arranged) or Not appropriate. Leave “Practice observed” empty.",
        "no_observation",
        since="1.1",
    ),
    Field(
        "observation_none_detail",
        "Why there was no observation",
        "long_text",
        "Practice Week only, when no practice was observed: the reason, in a sentence or two.",
        since="1.1",
    ),
    Field(
        "overall_rating",
        "Overall rating",
        "choice",
        "Your overall judgement of practice on this case.",
        "overall_ratings",
    ),
    Field(
        "overall_summary",
        "Overall summary",
        "long_text",
        "Your triangulated view of practice and its impact on the child.",
    ),
    Field(
        "good_practice",
        "Good or outstanding practice",
        "long_text",
        "What worked well and should be celebrated.",
    ),
    Field(
        "areas_for_development",
        "Areas for development",
        "long_text",
        "Learning and development for the worker and the service.",
    ),
    Field(
        "practitioner_agreement",
        "Practitioner's view of the audit",
        "choice",
        "Does the practitioner agree with the audit? Needed at Final.",
        "agreement",
    ),
    Field(
        "practitioner_feedback",
        "Practitioner's feedback",
        "long_text",
        "The practitioner's feedback on the audit and its recommendations.",
    ),
    Field(
        "practitioner_plan_feedback",
        "Practitioner's feedback on the plan",
        "long_text",
        "The practitioner's feedback on the proposed audit plan.",
    ),
    Field(
        "storyboard_status",
        "Storyboard status",
        "choice",
        "Good or Outstanding at Final only. Not yet; Invited (the worker is invited to write "
        "one with you); Declined (the worker or family said no); Completed (written below). "
        "A Final audit is complete without one; a storyboard can follow in a revised workbook.",
        "storyboard_status",
        since="1.1",
    ),
    Field(
        "storyboard_title",
        "Storyboard title",
        "text",
        "Needed when the status is Completed. No names or identifying details.",
    ),
    Field(
        "storyboard_context",
        "The context",
        "long_text",
        "Who the family are in general terms, and why we were involved. No names.",
    ),
    Field(
        "storyboard_what_we_did", "What we did", "long_text", "The practice that made a difference."
    ),
    Field("storyboard_impact", "The difference it made", "long_text", "The impact for the child."),
    Field(
        "storyboard_voice",
        "The voice of the child and family",
        "long_text",
        "Their words, without names (e.g. 'child, aged 9').",
    ),
    Field(
        "storyboard_learning",
        "Learning for the service",
        "long_text",
        "What others can take from this.",
    ),
    Field(
        "storyboard_consent",
        "Consent to share within the service",
        "choice",
        "Have the worker and family agreed to the storyboard being shared across the service? "
        "Without it no storyboard is produced.",
        "yes_no",
    ),
    Field(
        "storyboard_consent_external",
        "Consent to share outside the service",
        "choice",
        "Have they also agreed to it being shared outside the service (other agencies, "
        "Ofsted)? Only then is the storyboard marked for sharing outside.",
        "yes_no",
        since="1.1",
    ),
    Field(
        "storyboard_anonymised",
        "Nothing identifies the child or family",
        "choice",
        "Your confirmation as the auditor: you have read the storyboard and nothing in it "
        "identifies the child or the family. Needed (Yes) before a storyboard is produced.",
        "yes_no",
        since="1.1",
    ),
    Field(
        "storyboard_details_confirmed",
        "Details checked for sharing outside",
        "long_text",
        "Only when it may be shared outside the service. cssw-docs warns on names, schools, "
        "streets, estates, places, ages with dates and rare conditions with dates. Copy here, "
        "one a line, each such detail you have checked and that does not identify the family "
        "(e.g. a public place); change or remove the others.",
        since="1.2",
    ),
)

# The choice fields read as Yes/No (True/False) rather than as one of their words.
YES_NO_FIELDS: frozenset[str] = frozenset(
    {"storyboard_consent", "storyboard_consent_external", "storyboard_anonymised"}
)


def version_number(text: str | None) -> tuple[int, ...]:
    """Return a template version as numbers ("1.1" -> (1, 1)); unreadable parts count as 0."""
    parts = []
    for part in (text or FIRST_VERSION).strip().split(".")[:2]:
        parts.append(int(part) if part.strip().isdigit() else 0)
    return tuple(parts) if len(parts) == 2 else (*parts, 0)


def in_version(name: str, version: str | None) -> bool:
    """Return True when a workbook of template ``version`` has the defined name ``name``.

    Names not in ``FIELDS`` (section fields, tables) are in every version.
    """
    for f in FIELDS:
        if f.name == name:
            return version_number(version) >= version_number(f.since)
    return True


SECTION_FIELD_SUFFIXES: tuple[tuple[str, str, str, str], ...] = (
    ("rating", "Rating", "choice", "section_ratings"),
    ("evidence", "Evidence", "long_text", ""),
    ("strengths", "Strengths", "long_text", ""),
    ("development", "Areas for development", "long_text", ""),
)


def section_fields(rubric: Rubric) -> tuple[Field, ...]:
    """Return the four defined names of each rated section (``<key>_rating`` ...)."""
    out = []
    for key in SECTION_KEYS:
        name = rubric.section_name(key)
        for suffix, label, kind, choices in SECTION_FIELD_SUFFIXES:
            out.append(
                Field(
                    f"{key}_{suffix}",
                    f"{name}: {label.lower()}",
                    kind,
                    _SECTION_HELP[suffix].format(name=name),
                    choices,
                )
            )
    return tuple(out)


_SECTION_HELP = {
    "rating": "Your rating of {name}, using the descriptors beside it. "
    "Not applicable if the section does not apply to this case.",
    "evidence": "The evidence for your rating of {name}: what you found in the records, "
    "the discussion and the family's feedback.",
    "strengths": "Strengths in {name}.",
    "development": "Areas for development in {name}.",
}


@dataclass(frozen=True)
class Table:
    """A repeating-row input: an Excel table (ListObject) with fixed header texts.

    ``help`` may name the rubric's counts as ``{questions}`` and ``{areas}``; ``meaning``
    fills them in.
    """

    name: str
    headers: tuple[str, ...]
    help: str
    # Columns added after the first version, with the version that added each: a workbook
    # of an earlier version lacks them, and the reader leaves them empty without complaint.
    since: tuple[tuple[str, str], ...] = ()

    def meaning(self, rubric: Rubric) -> str:
        """Return ``help`` with the rubric's counts filled in."""
        return fill_in(self.help, rubric)

    def has(self, header: str, version: str | None) -> bool:
        """Return True when a workbook of template ``version`` has the column ``header``."""
        added = dict(self.since).get(header)
        return added is None or version_number(version) >= version_number(added)


TABLES: tuple[Table, ...] = (
    Table(
        "AuditPlan",
        ("Action", "Section", "Owner", "Due date", "Success measure", "Status", "Completed on"),
        "The SMART audit plan: what, which section it serves, who, by when, and how "
        "success will be measured. In a later version of the workbook, Status (Open, Done, "
        "Dropped) and Completed on record how each action ended.",
        since=(("Status", "1.2"), ("Completed on", "1.2")),
    ),
    Table(
        "FamilyFeedback",
        ("Respondent", "Question", "Response"),
        "The family's answers; Question is the number (1-{questions}) of the standard question.",
    ),
    Table(
        "ComplianceGaps",
        ("Area", "Gap", "Raised on", "Addressed"),
        "Compliance gaps raised before finalising, and whether each was addressed (Yes/No).",
    ),
    Table(
        "Descriptors",
        ("Section", "Grade", "Descriptor", "Evidenced"),
        "Every rubric descriptor, pre-filled; mark Evidenced Yes where the case shows it.",
    ),
    Table(
        "PracticeAreas",
        ("Area", "Notes"),
        "The {areas} core areas of practice, pre-filled; add notes where relevant.",
    ),
)


def fill_in(text: str, rubric: Rubric) -> str:
    """Return ``text`` with ``{questions}``, ``{areas}``, ``{review_months}``,
    ``{discussion_minutes}`` and ``{due_within}`` taken from the rubric."""
    return text.format(
        questions=len(rubric.family_feedback_questions),
        areas=in_words(len(rubric.core_areas)),
        review_months=rubric.rules.review_period_months,
        discussion_minutes=rubric.rules.discussion_max_minutes,
        due_within=in_words(rubric.rules.action_due_within_months),
    )


def table(name: str) -> Table:
    """Return the table called ``name``."""
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(name)


def all_fields(rubric: Rubric) -> tuple[Field, ...]:
    """Return every single-value defined name, general fields first then section fields."""
    return FIELDS + section_fields(rubric)


def choices_for(key: str, rubric: Rubric) -> tuple[str, ...]:
    """Return the allowed values of a choice field (the dropdown's list)."""
    if key == "audit_types":
        return tuple(t.name for t in rubric.audit_types)
    if key == "auditor_roles":
        return rubric.auditor_roles
    if key == "discussion_modes":
        return rubric.discussion_modes
    if key == "stages":
        return tuple(s.value for s in Stage)
    if key == "consent":
        return tuple(c.value for c in Consent)
    if key == "agreement":
        return tuple(a.value for a in Agreement)
    if key == "overall_ratings":
        return rubric.ratings
    if key == "section_ratings":
        return (*rubric.ratings, Rating.NOT_APPLICABLE.value)
    if key == "yes_no":
        return YES_NO
    if key == "storyboard_status":
        return tuple(s.value for s in StoryboardStatus)
    if key == "no_observation":
        return tuple(r.value for r in NoObservation)
    if key == "action_status":
        return ACTION_STATUS_WORDS
    raise KeyError(key)
