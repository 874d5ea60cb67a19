"""The plain frozen dataclasses passed along parse -> validate -> render -> deliver (no I/O)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Rating(StrEnum):
    """The Ofsted grades an auditor gives a section or the case overall."""

    OUTSTANDING = "Outstanding"
    GOOD = "Good"
    REQUIRES_IMPROVEMENT = "Requires improvement"
    INADEQUATE = "Inadequate"
    NOT_APPLICABLE = "Not applicable"

    @property
    def rank(self) -> int | None:
        """Return 1 (Outstanding) .. 4 (Inadequate); None for Not applicable."""
        return _RANK.get(self)

    @property
    def good_or_better(self) -> bool:
        """Return True for Good and Outstanding."""
        return self in (Rating.GOOD, Rating.OUTSTANDING)


_RANK = {
    Rating.OUTSTANDING: 1,
    Rating.GOOD: 2,
    Rating.REQUIRES_IMPROVEMENT: 3,
    Rating.INADEQUATE: 4,
}


# The fill every document uses for a rating: the audit pack, the activity report and its
# charts. Chosen to stay distinct in greyscale (dark, light, pale, mid) as well as in colour.
RATING_FILLS: dict[str, str] = {
    Rating.OUTSTANDING.value: "14532D",  # dark green
    Rating.GOOD.value: "8BC48A",  # light green
    Rating.REQUIRES_IMPROVEMENT.value: "FFE08A",  # amber
    Rating.INADEQUATE.value: "D93025",  # red
    Rating.NOT_APPLICABLE.value: "FFFFFF",  # no fill: nothing was graded
}


class Stage(StrEnum):
    """Draft: sent to the practitioner for feedback. Final: feedback received, audit finalised."""

    DRAFT = "Draft"
    FINAL = "Final"


class Agreement(StrEnum):
    """The practitioner's view of the audit."""

    AGREE = "Agree"
    PARTLY_AGREE = "Partly agree"
    DISAGREE = "Disagree"


class Consent(StrEnum):
    """Whether the family agreed to give feedback (or to be observed)."""

    YES = "Yes"
    DECLINED = "Declined"
    NOT_SOUGHT = "Not sought"


class DocKind(StrEnum):
    """What a file is (a pack's document, a rejection's file); set by its writer, never guessed."""

    REPORT = "report"
    PLAN = "plan"
    SUPERVISION_INSERT = "supervision_insert"
    ACTIONS_CSV = "actions_csv"
    STORYBOARD = "storyboard"
    AUDIT_JSON = "audit_json"
    MARKED_WORKBOOK = "marked_workbook"  # a rejected workbook with its problems marked
    PROBLEMS_TEXT = "problems_text"  # a rejected workbook's problems in plain words
    AUDIT_WORKBOOK = "audit_workbook"  # the audit workbook pre-filled from the programme


class FileFormat(StrEnum):
    """The format of a file: a Word document, its PDF copy, a CSV, JSON, a workbook or text."""

    DOCX = "docx"
    PDF = "pdf"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"
    TEXT = "txt"


class JobState(StrEnum):
    """The last step a watcher job completed; the terminal states end the job."""

    CLAIMED = "claimed"
    VALIDATED = "validated"
    RENDERED = "rendered"
    DELIVERED = "delivered"
    PROCESSED = "processed"
    INVALID = "invalid"  # rejection files written
    NOTIFIED = "notified"  # rejection handed to delivery
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """Return True for the states that end a job."""
        return self in (JobState.PROCESSED, JobState.REJECTED, JobState.DUPLICATE, JobState.FAILED)


class MailState(StrEnum):
    """Where one queued email stands."""

    PENDING = "pending"  # waiting to be sent (first time or after a temporary failure)
    SENDING = "sending"  # claimed by a sender; if it crashed, taken again when the lease ends
    SENT = "sent"
    FAILED = "failed"  # the server refused it for good: `cssw-docs mail retry` after fixing
    BLOCKED = "blocked"  # an address is outside mail.allowed_domains: never sent
    # Handed to the server but not confirmed (the connection dropped after the data, or
    # mail.max_deliveries reached): not sent again by itself; `cssw-docs mail retry ID` forces it.
    POSSIBLY_DELIVERED = "possibly-delivered"


class Route(StrEnum):
    """One recipient group, and so one message (and Message-ID) per job, stage and version."""

    DRAFT = "draft"
    FINAL = "final"
    SUPERVISION = "supervision"
    STORYBOARD = "storyboard"
    HEAD_OF_QA = "head-of-qa"
    MODERATION = "moderation"
    REJECTION = "rejection"
    REJECTION_ADMIN = "rejection-admin"
    BLOCKED_NOTICE = "blocked-notice"
    UNCONFIRMED_NOTICE = "unconfirmed-notice"  # to the QA admin: an email possibly delivered
    REFUSED_NOTICE = "refused-notice"  # to the QA admin: the server refused some recipients
    FAILED_NOTICE = "failed-notice"  # to the QA admin: a workbook set aside in failed/
    UNDER_REVIEW = "under-review"  # practitioner and manager: the Head of QA is reviewing it
    GOOD_PRACTICE = "good-practice"  # SMT: a Good or Outstanding Final audit (no documents)
    GOOD_PRACTICE_CORRECTION = "good-practice-correction"  # SMT: the panel changed that rating
    REPLACEMENT_DUE = "replacement-due"  # the Head of QA decided a revised audit replaces it
    MODERATION_INVITATION = "moderation-invitation"  # auditor, worker, manager: the panel date
    MODERATION_OUTCOME = "moderation-outcome"  # auditor, worker, manager: the chair's decision
    # The annual programme (followup/programme.py) and its reminders (followup/reminders.py).
    PROGRAMME_WORKBOOK = "programme-workbook"  # auditor: the pre-filled audit workbook
    IDENTIFIED = "identified"  # practitioner and manager: "your work has been identified"
    FEEDBACK_REMINDER = "feedback-reminder"  # practitioner (auditor, then manager, copied)
    REFERRAL_REMINDER = "referral-reminder"  # Head of QA: a referral still undecided
    ACTIONS_DIGEST = "actions-digest"  # manager (or practitioner): actions due and overdue
    NOT_STARTED_REMINDER = "not-started-reminder"  # auditor: a planned audit not started


class StoryboardStatus(StrEnum):
    """Where the good-practice storyboard stands: the worker is invited, never obliged."""

    NOT_YET = "Not yet"
    INVITED = "Invited"
    DECLINED = "Declined"
    COMPLETED = "Completed"


class NoObservation(StrEnum):
    """Why a Practice Week audit has no observation of practice."""

    DECLINED = "Declined"
    NOT_POSSIBLE = "Not possible"
    NOT_APPROPRIATE = "Not appropriate"


class ReferralOutcome(StrEnum):
    """The Head of Quality Assurance's decision on an audit the practitioner disagreed with."""

    UPHELD = "upheld"  # the audit stands as the auditor wrote it
    AMENDED = "amended"  # the audit stands with the changes in the note
    REPLACED = "replaced"  # a revised audit replaces it


class AuditState(StrEnum):
    """Where a planned audit stands, derived from what has arrived (oversight.progress)."""

    PLANNED = "planned"  # in the programme; its workbook not issued yet
    ISSUED = "issued"  # the pre-filled workbook sent to the auditor; nothing back yet
    DRAFT = "draft"  # a Draft pack issued; the practitioner's feedback not yet due
    AWAITING_FEEDBACK = "awaiting feedback"  # the feedback deadline passed without a Final
    REFERRED = "referred"  # the practitioner disagrees: waiting for the Head of QA
    FINAL = "final"  # the Final pack issued
    MODERATED = "moderated"  # the moderation panel recorded its decision

    @property
    def started(self) -> bool:
        """Return True once a workbook of the audit has arrived."""
        return self not in (AuditState.PLANNED, AuditState.ISSUED)

    @property
    def completed(self) -> bool:
        """Return True for a Final audit (moderated or not)."""
        return self in (AuditState.FINAL, AuditState.MODERATED)


class ActionStatus(StrEnum):
    """Where one SMART action stands: open until done, or no longer needed."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"  # no longer needed (with a reason)


class ReminderKind(StrEnum):
    """The reminders the service sends; each can be turned off in [reminders]."""

    FEEDBACK = "feedback"  # the practitioner's feedback on a Draft is late
    REFERRAL = "referral"  # a referral to the Head of QA is undecided
    DIGEST = "digest"  # the weekly digest of actions due and overdue
    NOT_STARTED = "not_started"  # a planned audit not started by the middle of its month


class Severity(StrEnum):
    """Error blocks the pack; warning is shown but does not block."""

    ERROR = "error"
    WARNING = "warning"


SECTION_KEYS: tuple[str, ...] = (
    "referral",
    "basic_information",
    "assessment",
    "planning",
    "review",
    "management_oversight",
)


@dataclass(frozen=True)
class Location:
    """Where something is in the workbook: a sheet and a cell such as ``C12``."""

    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass(frozen=True)
class Finding:
    """One problem found in a workbook, in words an auditor understands."""

    code: str
    severity: Severity
    message: str
    location: Location | None = None

    @property
    def where(self) -> str:
        """Return the location as ``Sheet!C12``, or an empty string when there is none."""
        return str(self.location) if self.location else ""


@dataclass(frozen=True)
class Report:
    """Every finding about one workbook, errors first."""

    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Return the findings that block the pack."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Return the findings that are shown but do not block."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Return True when nothing blocks the pack."""
        return not self.errors

    def codes(self) -> set[str]:
        """Return the set of finding codes (handy in tests and logs)."""
        return {f.code for f in self.findings}


@dataclass(frozen=True)
class SectionAssessment:
    """The auditor's judgement of one of the rubric's practice sections."""

    key: str
    rating: Rating | None = None
    evidence: str = ""
    strengths: str = ""
    development: str = ""


@dataclass(frozen=True)
class Action:
    """One SMART audit-plan action (a row of the ``AuditPlan`` table)."""

    action: str = ""
    section: str = ""
    owner: str = ""
    due: dt.date | None = None
    measure: str = ""
    row: int | None = None
    # From template 1.2's Status and Completed on columns (empty: not said in the workbook).
    status: ActionStatus | None = None
    completed_on: dt.date | None = None


@dataclass(frozen=True)
class FeedbackResponse:
    """One family member's answer to one of the rubric's standard questions."""

    respondent: str = ""
    question: int | None = None
    response: str = ""
    row: int | None = None


@dataclass(frozen=True)
class ComplianceGap:
    """A compliance gap the auditor raised before finalising (supervision, visits...)."""

    area: str = ""
    gap: str = ""
    raised_on: dt.date | None = None
    addressed: bool | None = None
    row: int | None = None


@dataclass(frozen=True)
class DescriptorMark:
    """A rubric descriptor and whether the auditor found it evidenced on this case."""

    section: str = ""
    grade: str = ""
    descriptor: str = ""
    evidenced: bool = False
    row: int | None = None


@dataclass(frozen=True)
class PracticeAreaNote:
    """The auditor's notes on one of the rubric's core areas of practice."""

    area: str = ""
    notes: str = ""
    row: int | None = None


@dataclass(frozen=True)
class Submission:
    """One filled audit workbook, read by defined names and table names.

    Values the parser could not understand are ``None`` here and described in
    ``parse_findings``; ``locations`` maps each defined name (and each table
    name) to where it lives, so findings can point at the cell.
    """

    template_version: str | None = None
    audit_ref: str = ""
    audit_type: str = ""
    audit_stage: Stage | None = None
    audit_theme: str = ""
    audit_date: dt.date | None = None
    child_name: str = ""
    child_mosaic_id: str = ""
    team: str = ""
    auditor_name: str = ""
    auditor_email: str = ""
    auditor_role: str = ""
    practitioner_name: str = ""
    practitioner_email: str = ""
    manager_name: str = ""
    manager_email: str = ""
    review_period_start: dt.date | None = None
    review_period_end: dt.date | None = None
    discussion_date: dt.date | None = None
    discussion_mode: str = ""
    discussion_minutes: int | None = None
    family_consent: Consent | None = None
    observation_activity: str = ""
    observation_consent: Consent | None = None
    observation_none_reason: NoObservation | None = None  # Practice Week without observation
    observation_none_detail: str = ""
    overall_rating: Rating | None = None
    overall_summary: str = ""
    good_practice: str = ""
    areas_for_development: str = ""
    practitioner_agreement: Agreement | None = None
    practitioner_feedback: str = ""
    practitioner_plan_feedback: str = ""
    storyboard_title: str = ""
    storyboard_context: str = ""
    storyboard_what_we_did: str = ""
    storyboard_impact: str = ""
    storyboard_voice: str = ""
    storyboard_learning: str = ""
    storyboard_consent: bool | None = None  # consent to share within the service
    storyboard_consent_external: bool | None = None  # ... and outside it (agencies, Ofsted)
    storyboard_status: StoryboardStatus | None = None
    storyboard_anonymised: bool | None = None  # the auditor confirms nothing identifies anyone
    # The details the anonymity check flagged that the auditor checked and found safe, one a
    # line; for sharing outside the service each flagged detail must be listed here.
    storyboard_details_confirmed: str = ""
    sections: tuple[SectionAssessment, ...] = ()
    actions: tuple[Action, ...] = ()
    feedback: tuple[FeedbackResponse, ...] = ()
    gaps: tuple[ComplianceGap, ...] = ()
    descriptors: tuple[DescriptorMark, ...] = ()
    practice_areas: tuple[PracticeAreaNote, ...] = ()
    locations: dict[str, Location] = field(default_factory=dict, compare=False, repr=False)
    table_columns: dict[str, dict[str, str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    parse_findings: tuple[Finding, ...] = field(default=(), compare=False, repr=False)

    def section(self, key: str) -> SectionAssessment:
        """Return the assessment of the section ``key`` (an empty one when absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        return SectionAssessment(key=key)

    def where(self, name: str) -> Location | None:
        """Return where the defined name ``name`` lives in the workbook."""
        return self.locations.get(name)

    def cell_of(self, table: str, row: int | None, header: str) -> Location | None:
        """Return the cell of column ``header`` on sheet row ``row`` of ``table``."""
        table_loc = self.locations.get(table)
        column = self.table_columns.get(table, {}).get(header)
        if table_loc is None or column is None or row is None:
            return table_loc
        return Location(table_loc.sheet, f"{column}{row}")

    @property
    def rated_sections(self) -> tuple[SectionAssessment, ...]:
        """Return the sections given a grade (not blank, not Not applicable)."""
        return tuple(s for s in self.sections if s.rating is not None and s.rating.rank is not None)


@dataclass(frozen=True)
class PlannedAudit:
    """One audit of the annual programme: what the QA unit planned, and when it was issued."""

    audit_ref: str
    audit_type: str
    planned_month: dt.date  # the first day of the month
    auditor_name: str
    auditor_email: str
    team: str
    practitioner_name: str
    practitioner_email: str
    manager_name: str
    manager_email: str
    theme: str = ""
    auditor_role: str = ""
    child_name: str = field(default="", repr=False)  # never in a log line
    child_mosaic_id: str = field(default="", repr=False)
    issued_on: dt.date | None = None

    def submission(self) -> Submission:
        """Return what the programme knows as an audit (to pre-fill its workbook and write
        its notices)."""
        return Submission(
            audit_ref=self.audit_ref,
            audit_type=self.audit_type,
            audit_theme=self.theme,
            child_name=self.child_name,
            child_mosaic_id=self.child_mosaic_id,
            team=self.team,
            auditor_name=self.auditor_name,
            auditor_email=self.auditor_email,
            auditor_role=self.auditor_role,
            practitioner_name=self.practitioner_name,
            practitioner_email=self.practitioner_email,
            manager_name=self.manager_name,
            manager_email=self.manager_email,
        )


@dataclass(frozen=True)
class PackFile:
    """One file of a rendered pack: what it is (``kind``) and in which ``format``."""

    name: str
    kind: DocKind
    sha256: str
    size: int
    format: FileFormat = FileFormat.DOCX


@dataclass(frozen=True)
class Decision:
    """The Head of Quality Assurance's decision on a referred audit (``escalations decide``)."""

    outcome: ReferralOutcome
    note: str
    decided_on: dt.date
    decided_by: str = ""


@dataclass(frozen=True)
class Pack:
    """A rendered pack on disk: ``directory`` holds every file in ``files``."""

    audit_ref: str
    stage: Stage
    version: int
    directory: Path
    files: tuple[PackFile, ...]

    def path(self, kind: DocKind, format: FileFormat = FileFormat.DOCX) -> Path | None:
        """Return the path of the pack's ``kind`` document in ``format``, or None without one."""
        for f in self.files:
            if f.kind == kind and f.format == format:
                return self.directory / f.name
        return None


@dataclass(frozen=True)
class Attachment:
    """A file an email carries: where it is, what it is (``kind``) and its ``format``."""

    path: Path
    kind: DocKind
    format: FileFormat

    @property
    def name(self) -> str:
        """Return the file's name on disk."""
        return self.path.name


# --- JSON form: the structured audit every later feature reads (audit.json, the ledger) ---


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


def submission_to_dict(sub: Submission) -> dict[str, Any]:
    """Return the audit as JSON-ready data (no workbook locations or parse findings)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(sub):
        if f.name in ("locations", "table_columns", "parse_findings"):
            continue
        value = getattr(sub, f.name)
        if f.name in ("sections", "actions", "feedback", "gaps", "descriptors", "practice_areas"):
            out[f.name] = [
                {k: _to_jsonable(v) for k, v in dataclasses.asdict(item).items() if k != "row"}
                for item in value
            ]
        else:
            out[f.name] = _to_jsonable(value)
    return out


def _date(value: Any) -> dt.date | None:
    """Return the date ``value`` (ISO text) names; None when empty or not a date."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _enum(kind: type[StrEnum], value: Any) -> Any:
    """Return the member of ``kind`` with ``value``; None when empty or not a member."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


_ITEM_TYPES: dict[str, type] = {
    "sections": SectionAssessment,
    "actions": Action,
    "feedback": FeedbackResponse,
    "gaps": ComplianceGap,
    "descriptors": DescriptorMark,
    "practice_areas": PracticeAreaNote,
}
_NOT_STORED = {"locations", "table_columns", "parse_findings"}

# How each stored value becomes a field again, per dataclass; other fields are taken as stored.
_READERS: dict[type, dict[str, Any]] = {
    Submission: {
        "audit_date": _date,
        "review_period_start": _date,
        "review_period_end": _date,
        "discussion_date": _date,
        "audit_stage": lambda v: _enum(Stage, v),
        "family_consent": lambda v: _enum(Consent, v),
        "observation_consent": lambda v: _enum(Consent, v),
        "overall_rating": lambda v: _enum(Rating, v),
        "practitioner_agreement": lambda v: _enum(Agreement, v),
        "observation_none_reason": lambda v: _enum(NoObservation, v),
        "storyboard_status": lambda v: _enum(StoryboardStatus, v),
    },
    SectionAssessment: {"rating": lambda v: _enum(Rating, v)},
    Action: {
        "due": _date,
        "completed_on": _date,
        "status": lambda v: _enum(ActionStatus, v),
    },
    ComplianceGap: {"raised_on": _date},
}


@dataclass(frozen=True)
class _FieldPlan:
    """How one stored field is read: its reader, or the kind of its items (a list field)."""

    name: str
    required: bool  # no default of its own: a missing one is empty text
    reader: Any = None
    items: type | None = None


@functools.cache
def _plan(kind: type) -> tuple[_FieldPlan, ...]:
    """Return how each stored field of the dataclass ``kind`` is read (worked out once)."""
    readers = _READERS.get(kind, {})
    return tuple(
        _FieldPlan(
            f.name,
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            readers.get(f.name),
            _ITEM_TYPES.get(f.name),
        )
        for f in dataclasses.fields(kind)
        if f.init and f.name not in _NOT_STORED
    )


def _read(kind: type, data: Mapping[str, Any]) -> Any:
    """Return a ``kind`` made from stored ``data``: unknown keys ignored, missing ones defaulted.

    A field with no default of its own (e.g. a section's ``key``) defaults to empty text.
    """
    kwargs: dict[str, Any] = {}
    for f in _plan(kind):
        if f.name not in data:
            if f.required:
                kwargs[f.name] = ""
            continue
        value = data[f.name]
        if f.items is not None:
            items = value if isinstance(value, list | tuple) else ()
            value = tuple(_read(f.items, i) for i in items if isinstance(i, Mapping))
        elif f.reader is not None:
            value = f.reader(value)
        kwargs[f.name] = value
    return kind(**kwargs)


def submission_from_dict(data: Mapping[str, Any]) -> Submission:
    """Return the Submission that ``submission_to_dict`` produced ``data`` from.

    Tolerant, so every audit ever stored stays readable: keys it does not know are ignored,
    missing ones take their defaults (also inside sections, actions and the other lists),
    and a value a choice list does not know (a rating, stage, consent...) becomes None.
    """
    return _read(Submission, data)


def stored_audit_date(data: Mapping[str, Any]) -> dt.date | None:
    """Return the audit date ``submission_from_dict(data)`` would hold, reading nothing else."""
    return _READERS[Submission]["audit_date"](data.get("audit_date"))


# --- Pack JSON form (the ledger's jobs.pack) ------------------------------------------------

# Release 0.1.0's kind strings that are not DocKind values ("report", "plan" and "storyboard"
# are); it wrote no format, and "pdf-<kind>" was the PDF copy of a document.
_RELEASE_KINDS: dict[str, tuple[DocKind, FileFormat]] = {
    "insert": (DocKind.SUPERVISION_INSERT, FileFormat.DOCX),
    "csv": (DocKind.ACTIONS_CSV, FileFormat.CSV),
    "audit": (DocKind.AUDIT_JSON, FileFormat.JSON),
}
_USUAL_FORMAT = {DocKind.ACTIONS_CSV: FileFormat.CSV, DocKind.AUDIT_JSON: FileFormat.JSON}


def _file_kind(kind: str, fmt: str | None = None) -> tuple[DocKind, FileFormat] | None:
    """Return the kind and format a stored pack file names (release strings accepted).

    ``fmt`` counts with a ``DocKind`` value (missing: the kind's usual format); a release
    string implies its own. None when the kind is unknown.
    """
    kind = str(kind)
    if kind.startswith("pdf-"):
        found = _file_kind(kind.removeprefix("pdf-"))
        return None if found is None else (found[0], FileFormat.PDF)
    if kind in _RELEASE_KINDS:
        return _RELEASE_KINDS[kind]
    doc = _enum(DocKind, kind)
    if doc is None:
        return None
    return doc, _enum(FileFormat, fmt) or _USUAL_FORMAT.get(doc, FileFormat.DOCX)


def pack_to_dict(pack: Pack) -> dict[str, Any]:
    """Return the pack as JSON-ready data for the ledger."""
    return {
        "audit_ref": pack.audit_ref,
        "stage": str(pack.stage),
        "version": pack.version,
        "directory": str(pack.directory),
        "files": [
            {
                "name": f.name,
                "kind": str(f.kind),
                "sha256": f.sha256,
                "size": f.size,
                "format": str(f.format),
            }
            for f in pack.files
        ],
    }


def pack_from_dict(data: Mapping[str, Any]) -> Pack:
    """Return the Pack that :func:`pack_to_dict` (of this or an earlier release) made ``data`` from.

    A file's kind may be a release 0.1.0 string (``insert``, ``csv``, ``pdf-storyboard`` ...)
    or a ``DocKind`` value; a file of a kind not known is left out. Unknown keys are ignored.
    """
    files = []
    for item in data.get("files") or ():
        found = _file_kind(item.get("kind", ""), item.get("format"))
        if found is None:
            continue
        kind, fmt = found
        files.append(
            PackFile(
                name=str(item.get("name", "")),
                kind=kind,
                sha256=str(item.get("sha256", "")),
                size=int(item.get("size") or 0),
                format=fmt,
            )
        )
    return Pack(
        audit_ref=data.get("audit_ref", ""),
        stage=Stage(data["stage"]),
        version=int(data["version"]),
        directory=Path(data.get("directory", "")),
        files=tuple(files),
    )


def report_to_dict(report: Report) -> list[dict[str, Any]]:
    """Return the findings as JSON-ready data (for a rejection waiting to be emailed)."""
    return [
        {
            "code": f.code,
            "severity": str(f.severity),
            "message": f.message,
            "location": dataclasses.asdict(f.location) if f.location else None,
        }
        for f in report.findings
    ]


def report_from_dict(items: Sequence[Mapping[str, Any]]) -> Report:
    """Return the Report that :func:`report_to_dict` made ``items`` from."""
    findings = []
    for item in items:
        loc = item.get("location")
        findings.append(
            Finding(
                str(item.get("code", "")),
                _enum(Severity, item.get("severity")) or Severity.ERROR,
                str(item.get("message", "")),
                Location(str(loc.get("sheet", "")), str(loc.get("cell", "")))
                if isinstance(loc, Mapping)
                else None,
            )
        )
    return Report(tuple(findings))


def attachment_to_dict(attachment: Attachment) -> dict[str, str]:
    """Return the attachment as JSON-ready data."""
    return {
        "path": str(attachment.path),
        "kind": str(attachment.kind),
        "format": str(attachment.format),
    }


def attachment_from_dict(item: Mapping[str, Any] | str) -> Attachment:
    """Return the Attachment :func:`attachment_to_dict` made ``item`` from.

    Release 0.1.0 stored a rejection's files as bare paths: ``... - problems.txt`` and
    ``... - marked.xlsx``, the only two files a rejection has, so the suffix tells them apart.
    """
    if isinstance(item, str):
        path = Path(item)
        if path.suffix == ".txt":
            return Attachment(path, DocKind.PROBLEMS_TEXT, FileFormat.TEXT)
        return Attachment(path, DocKind.MARKED_WORKBOOK, FileFormat.XLSX)
    return Attachment(Path(item["path"]), DocKind(item["kind"]), FileFormat(item["format"]))
