"""Judge a Submission against the rubric: (Submission, Rubric) -> Report, pure (no I/O).

Each rule is a small function taking a ``_Check`` and yielding ``Finding`` objects. The rules
run in the order an auditor meets the workbook (details, ratings, plan, feedback, storyboard);
``validate`` then puts errors before warnings. Messages use the field labels of
``workbook/layout.py``, never the defined names, and never quote the child's name, MOSAIC ID or
other identifying text (findings travel by email).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from .config import ValidationSettings
from .models import (
    SECTION_KEYS,
    Action,
    Agreement,
    Consent,
    FeedbackResponse,
    Finding,
    Rating,
    Report,
    SectionAssessment,
    Severity,
    Stage,
    Submission,
)
from .rubric import AuditType, Rubric
from .workbook.layout import Field, all_fields

ERROR = Severity.ERROR
WARNING = Severity.WARNING

# --- Tunable rule data (documented in the README's validation section) ---

# Fields every audit needs, whatever its type and stage.
ALWAYS_REQUIRED: tuple[str, ...] = (
    "audit_ref",
    "audit_type",
    "audit_stage",
    "audit_date",
    "child_name",
    "child_mosaic_id",
    "team",
    "auditor_name",
    "auditor_email",
    "auditor_role",
    "practitioner_name",
    "practitioner_email",
    "manager_name",
    "manager_email",
    "review_period_start",
    "review_period_end",
    "discussion_date",
    "discussion_mode",
    "discussion_minutes",
    "family_consent",
    "overall_rating",
    "overall_summary",
)
# Fields a Final audit needs: the practitioner has given their view.
FINAL_REQUIRED: tuple[str, ...] = ("practitioner_agreement", "practitioner_feedback")
# Fields the report reads badly without: a warning when empty.
RECOMMENDED: tuple[str, ...] = ("good_practice", "areas_for_development")

EMAIL_FIELDS: tuple[str, ...] = ("auditor_email", "practitioner_email", "manager_email")
DATE_FIELDS: tuple[str, ...] = (
    "review_period_start",
    "review_period_end",
    "discussion_date",
    "audit_date",
)
STORYBOARD_TEXT_FIELDS: tuple[str, ...] = (
    "storyboard_title",
    "storyboard_context",
    "storyboard_what_we_did",
    "storyboard_impact",
    "storyboard_voice",
    "storyboard_learning",
)

# Outstanding must be justified in words: at least this many words, and at least one word
# saying why the practice goes beyond Good.
OUTSTANDING_MIN_WORDS = 40
EXCEPTIONAL_WORDS = re.compile(
    r"\b(exceptional\w*|outstanding|beyond|exemplary|excellen\w*|innovat\w*|remarkabl\w*"
    r"|inspir\w*|sector[- ]leading|best practice)\b",
    re.IGNORECASE,
)

# A plan action is vague when it has fewer than this many words or uses one of these phrases.
ACTION_MIN_WORDS = 5
VAGUE_PHRASES: tuple[str, ...] = (
    "continue to monitor",
    "continue to support",
    "continue to work",
    "ongoing",
    "as needed",
    "as and when",
    "as appropriate",
    "keep under review",
    "to be confirmed",
    "tbc",
)

# audit_ref becomes part of file and folder names.
SAFE_REF = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,39}")
RESERVED_FILE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)

EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)

# What a storyboard must not contain. Each pattern is searched case-insensitively.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE_OF_BIRTH = re.compile(
    "|".join(
        (
            r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:\d{4}|\d{2})\b",  # 31/01/2015, 3-1-15
            r"\b\d{4}-\d{1,2}-\d{1,2}\b",  # 2015-01-31
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{2,4}}\b",  # 3 March 2015
            rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b",  # March 3, 2015
            rf"\bborn\s+(?:on\s+|in\s+)?(?:the\s+)?(?:\d|{_MONTH}\b)",  # born on 3 March
            r"\bd\.?o\.?b\b",
            r"\bdate\s+of\s+birth\b",
        )
    ),
    re.IGNORECASE,
)
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+\s?44|\(?0)[\d\s().-]{8,17}\d")
STORYBOARD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s*(\d[ABD-HJLNP-UW-Z]{2}))\b", re.IGNORECASE
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)", re.IGNORECASE)

_DEFAULT_SETTINGS = ValidationSettings()


def validate(
    sub: Submission,
    rubric: Rubric,
    settings: ValidationSettings = _DEFAULT_SETTINGS,
    *,
    today: dt.date | None = None,
) -> Report:
    """Return every finding about ``sub``: the parser's first, then each rule's; errors first."""
    check = _Check(sub, rubric, settings, today or dt.date.today())
    own = [finding for rule in RULES for finding in rule(check)]
    findings = [*sub.parse_findings, *_not_already_reported(own, sub.parse_findings)]
    errors = [f for f in findings if f.severity is ERROR]
    warnings = [f for f in findings if f.severity is not ERROR]
    return Report(tuple(errors + warnings))


def _not_already_reported(own: list[Finding], parsed: Iterable[Finding]) -> list[Finding]:
    """Drop findings about cells the parser already reported as unreadable.

    The rules saw an empty value there (not what the auditor typed), so anything they say
    about that cell ("has no section", "has no due date") would be wrong or a repeat.
    """
    flagged = {f.location for f in parsed if f.location is not None}
    return [f for f in own if f.location not in flagged]


@dataclass(frozen=True)
class _Check:
    """What every rule reads: the submission, the rubric, the settings and today's date."""

    sub: Submission
    rubric: Rubric
    settings: ValidationSettings
    today: dt.date

    @cached_property
    def fields(self) -> dict[str, Field]:
        """Return the workbook's single-value fields by defined name."""
        return {f.name: f for f in all_fields(self.rubric)}

    def label(self, name: str) -> str:
        """Return the label the auditor sees beside the defined name ``name``, in quotes."""
        field = self.fields.get(name)
        return f"“{field.label if field else name}”"

    @cached_property
    def audit_type(self) -> AuditType | None:
        """Return the rubric's audit type for the submission, or None when unknown or blank."""
        return self.rubric.audit_type(self.sub.audit_type) if self.sub.audit_type else None

    @property
    def final(self) -> bool:
        """Return True when the audit is at stage Final."""
        return self.sub.audit_stage is Stage.FINAL

    def at(self, code: str, severity: Severity, message: str, name: str) -> Finding:
        """Return a finding located at the cell of the defined name ``name``."""
        return Finding(code, severity, message, self.sub.where(name))

    def in_table(
        self, code: str, severity: Severity, message: str, table: str, row: int | None, header: str
    ) -> Finding:
        """Return a finding located at column ``header`` of sheet row ``row`` of ``table``."""
        return Finding(code, severity, message, self.sub.cell_of(table, row, header))

    def section_name(self, key: str) -> str:
        """Return the display name of the section ``key`` (Referral, Assessment ...)."""
        return self.rubric.section_name(key)

    def past(self, name: str) -> dt.date | None:
        """Return the date field ``name`` when it is set and not in the future, else None."""
        value = getattr(self.sub, name)
        return value if value is not None and value <= self.today else None


Rule = Callable[[_Check], Iterator[Finding]]


def _filled(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text)


def _date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` moved on by ``months`` (31 August + 6 months = 28 or 29 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Audit details ---


def _requirements(c: _Check) -> Iterator[tuple[str, str]]:
    """Yield (defined name, why it is needed) for each field this audit must fill in."""
    for name in ALWAYS_REQUIRED:
        yield name, "every audit needs it"
    kind = c.audit_type
    if kind is not None and kind.requires_theme:
        yield "audit_theme", f"a {kind.name} audit needs a theme"
    if kind is not None and kind.requires_observation:
        yield "observation_activity", f"a {kind.name} audit observes direct practice"
        yield "observation_consent", f"a {kind.name} observation needs the family's consent"
    if c.final:
        for name in FINAL_REQUIRED:
            yield name, "a Final audit records the practitioner's response"


def required_fields(c: _Check) -> Iterator[Finding]:
    """Every field the audit's type and stage need is filled in."""
    for name, why in _requirements(c):
        if _filled(getattr(c.sub, name)):
            continue
        field = c.fields.get(name)
        verb = "Choose a value for" if field and field.kind == "choice" else "Fill in"
        yield c.at(f"required.{name}", ERROR, f"{verb} {c.label(name)}: {why}.", name)


def recommended_fields(c: _Check) -> Iterator[Finding]:
    """Fields the report reads badly without are filled in (a warning)."""
    names = list(RECOMMENDED)
    if c.final and c.sub.actions:
        names.append("practitioner_plan_feedback")
    for name in names:
        if not _filled(getattr(c.sub, name)):
            yield c.at(
                f"recommended.{name}",
                WARNING,
                f"{c.label(name)} is empty. The audit report is clearer with it: fill it in.",
                name,
            )


def known_choices(c: _Check) -> Iterator[Finding]:
    """Dropdown fields hold one of the rubric's values."""
    allowed = {
        "audit_type": tuple(t.name for t in c.rubric.audit_types),
        "auditor_role": c.rubric.auditor_roles,
        "discussion_mode": c.rubric.discussion_modes,
    }
    for name, values in allowed.items():
        value = " ".join(str(getattr(c.sub, name)).split())
        if value and value.casefold() not in {v.casefold() for v in values}:
            yield c.at(
                f"choice.{name}",
                ERROR,
                f"{c.label(name)} is not one of the values in its list. "
                f"Choose one of: {', '.join(values)}.",
                name,
            )


def audit_ref_is_safe(c: _Check) -> Iterator[Finding]:
    """The audit reference can be used in a file name and identifies no child."""
    ref = c.sub.audit_ref.strip()
    if not ref:
        return
    unsafe = (
        not SAFE_REF.fullmatch(ref)
        or ref.endswith(".")
        or ref.split(".")[0].casefold() in RESERVED_FILE_NAMES
    )
    if unsafe:
        yield c.at(
            "ref.unsafe",
            ERROR,
            f"{c.label('audit_ref')} cannot be used as a file name. Use up to 40 letters, "
            "digits, dashes or underscores (a dot is allowed, but not first or last), "
            "e.g. CSSW-2026-0142.",
            "audit_ref",
        )
    if _identifying_tokens(c.sub) & {t.casefold() for t in re.split(r"[^A-Za-z0-9]+", ref)}:
        yield c.at(
            "ref.identifying",
            ERROR,
            f"{c.label('audit_ref')} contains the child's name or MOSAIC ID. The reference is "
            "used in file names and email subjects: use a reference that does not identify "
            "the child, e.g. CSSW-2026-0142.",
            "audit_ref",
        )


def _identifying_tokens(sub: Submission) -> set[str]:
    tokens = {w.casefold() for w in _words(sub.child_name) if len(w) >= 2}
    if sub.child_mosaic_id.strip():
        tokens.add(sub.child_mosaic_id.strip().casefold())
    return tokens


def emails_are_valid(c: _Check) -> Iterator[Finding]:
    """Email addresses are well formed, and inside the allowed domains when configured."""
    domains = tuple(d.strip().lstrip("@").casefold() for d in c.settings.email_domains if d)
    for name in EMAIL_FIELDS:
        address = getattr(c.sub, name).strip()
        if not address:
            continue
        if not EMAIL.fullmatch(address):
            yield c.at(
                "email.invalid",
                ERROR,
                f"{c.label(name)} is not a valid email address. Write one address only, "
                "like firstname.lastname@camden.gov.uk.",
                name,
            )
            continue
        domain = address.rsplit("@", 1)[1].casefold()
        if domains and not any(domain == d or domain.endswith("." + d) for d in domains):
            yield c.at(
                "email.outside_domain",
                WARNING,
                f"{c.label(name)} is outside the council's email domains "
                f"({', '.join(domains)}). Check it: the pack will not be emailed to an "
                "outside address.",
                name,
            )


def observation_has_consent(c: _Check) -> Iterator[Finding]:
    """Direct practice is observed only with the family's consent."""
    consent = c.sub.observation_consent
    observed = _filled(c.sub.observation_activity)
    required = c.audit_type is not None and c.audit_type.requires_observation
    if (observed or required) and consent is not None and consent is not Consent.YES:
        yield c.at(
            "observation.no_consent",
            ERROR,
            f"{c.label('observation_consent')} is “{consent}”. Practice can be observed only "
            "with the family's consent: record their consent, or remove the observation.",
            "observation_consent",
        )


def practitioner_view(c: _Check) -> Iterator[Finding]:
    """A Final audit the practitioner disagrees with goes to the Head of Quality Assurance."""
    if c.final and c.sub.practitioner_agreement is Agreement.DISAGREE:
        yield c.at(
            "agreement.disagree",
            WARNING,
            "The practitioner disagrees with the audit. The audit and its plan will be referred "
            "to the Head of Quality Assurance for review before any final decision.",
            "practitioner_agreement",
        )


# --- Dates ---


def dates_not_in_future(c: _Check) -> Iterator[Finding]:
    """No audit date lies after today."""
    for name in DATE_FIELDS:
        value = getattr(c.sub, name)
        if value is not None and value > c.today:
            code = "dates.audit_future" if name == "audit_date" else "dates.future"
            yield c.at(
                code,
                ERROR,
                f"{c.label(name)} is {_date(value)}, which is in the future. "
                "Check the day, month and year.",
                name,
            )


def review_period(c: _Check) -> Iterator[Finding]:
    """The case files reviewed cover about twelve months, before the audit."""
    start, end, audit = (
        c.past("review_period_start"),
        c.past("review_period_end"),
        c.past("audit_date"),
    )
    if start and end and start > end:
        yield c.at(
            "dates.review_order",
            ERROR,
            f"{c.label('review_period_start')} ({_date(start)}) is after "
            f"{c.label('review_period_end')} ({_date(end)}). Check both dates.",
            "review_period_end",
        )
        return
    if end and audit and end > audit:
        yield c.at(
            "dates.review_after_audit",
            ERROR,
            f"{c.label('review_period_end')} ({_date(end)}) is after the "
            f"{c.label('audit_date')} ({_date(audit)}). The period reviewed must end on or "
            "before the audit.",
            "review_period_end",
        )
    if start and end:
        months = ((end - start).days + 1) / (365.25 / 12)
        low, high = c.settings.review_period_min_months, c.settings.review_period_max_months
        if not low - 0.05 <= months <= high + 0.05:
            yield c.at(
                "dates.review_period",
                WARNING,
                f"The case files reviewed cover about {round(months)} months "
                f"({_date(start)} to {_date(end)}). The guide asks for the last 12 months "
                f"({low} to {high} months is accepted): check the two dates.",
                "review_period_start",
            )


def discussion(c: _Check) -> Iterator[Finding]:
    """The case discussion falls between the period start and the audit, and lasts an hour."""
    when, start, audit = (
        c.past("discussion_date"),
        c.past("review_period_start"),
        c.past("audit_date"),
    )
    if when and ((start and when < start) or (audit and when > audit)):
        yield c.at(
            "dates.discussion_outside",
            ERROR,
            f"{c.label('discussion_date')} ({_date(when)}) should fall between "
            f"{c.label('review_period_start')} and the {c.label('audit_date')}. "
            "Check the dates.",
            "discussion_date",
        )
    minutes = c.sub.discussion_minutes
    if minutes is not None and minutes <= 0:
        yield c.at(
            "dates.discussion_minutes",
            ERROR,
            f"{c.label('discussion_minutes')} must be a number of minutes above 0.",
            "discussion_minutes",
        )
    elif minutes is not None and minutes > c.settings.discussion_max_minutes:
        yield c.at(
            "dates.discussion_long",
            WARNING,
            f"The case discussion lasted {minutes} minutes. The guide asks for no longer than "
            f"{c.settings.discussion_max_minutes}: check the length is right.",
            "discussion_minutes",
        )


# --- Ratings ---


def _justified(text: str) -> bool:
    """Return True when ``text`` says in enough words why practice is Outstanding."""
    return len(_words(text)) >= OUTSTANDING_MIN_WORDS and bool(EXCEPTIONAL_WORDS.search(text))


_OUTSTANDING_HELP = (
    f"Say in at least {OUTSTANDING_MIN_WORDS} words what makes the practice exceptional, "
    "beyond everything Good describes, and the impact it had for the child."
)


def section_ratings(c: _Check) -> Iterator[Finding]:
    """Each section is rated, and the sections the audit type needs are not Not applicable."""
    required = c.audit_type.required_sections if c.audit_type else ()
    kind = c.audit_type.name if c.audit_type else ""
    for key in SECTION_KEYS:
        rating = c.sub.section(key).rating
        name = c.section_name(key)
        if rating is None:
            yield c.at(
                f"required.{key}_rating",
                ERROR,
                f"Choose a rating for {name} (or Not applicable if it does not apply).",
                f"{key}_rating",
            )
        elif rating is Rating.NOT_APPLICABLE and key in required:
            yield c.at(
                "section.required",
                ERROR,
                f"{name} cannot be Not applicable here: {kind} audits must rate it. "
                "Choose a rating.",
                f"{key}_rating",
            )
    ratings = [c.sub.section(k).rating for k in SECTION_KEYS]
    if all(r is not None for r in ratings) and not c.sub.rated_sections:
        yield c.at(
            "section.none_rated",
            ERROR,
            "Every section is Not applicable. Rate at least one section.",
            f"{SECTION_KEYS[0]}_rating",
        )


def section_evidence(c: _Check) -> Iterator[Finding]:
    """Rated sections have evidence; Outstanding is justified; low ratings say what to improve."""
    for s in c.sub.rated_sections:
        yield from _one_section(c, s)


def _one_section(c: _Check, s: SectionAssessment) -> Iterator[Finding]:
    name, rating = c.section_name(s.key), s.rating
    evidence = f"{s.key}_evidence"
    if not s.evidence.strip():
        yield c.at(
            "section.no_evidence",
            ERROR,
            f"The {name} section is rated {rating} but has no evidence. Write the evidence "
            f"for your rating in {c.label(evidence)}.",
            evidence,
        )
    elif rating is Rating.OUTSTANDING and not _justified(s.evidence):
        yield c.at(
            "section.outstanding_unjustified",
            ERROR,
            f"The {name} section is rated Outstanding, but the evidence does not say why. "
            f"{_OUTSTANDING_HELP} Write it in {c.label(evidence)}.",
            evidence,
        )
    if rating is not None and (rating.rank or 0) >= 3 and not s.development.strip():
        development = f"{s.key}_development"
        yield c.at(
            "section.no_development",
            WARNING,
            f"The {name} section is rated {rating} but its {c.label(development)} is empty. "
            "Say what needs to change.",
            development,
        )


def descriptors_match_ratings(c: _Check) -> Iterator[Finding]:
    """Descriptors marked evidenced agree with each section's rating."""
    for s in c.sub.rated_sections:
        marks = [m for m in c.sub.descriptors if c.rubric.section_key_for(m.section) == s.key]
        evidenced = [m for m in marks if m.evidenced]
        name = c.section_name(s.key)
        for m in evidenced:
            if s.rating is not None and s.rating.good_or_better and _is_inadequate(m.grade):
                yield c.in_table(
                    "descriptor.inadequate_on_good",
                    ERROR,
                    f"{name} is rated {s.rating}, but the Inadequate descriptor “{m.descriptor}” "
                    "is marked as evidenced. Change the rating, or set Evidenced to No.",
                    "Descriptors",
                    m.row,
                    "Evidenced",
                )
        if not evidenced:
            yield c.in_table(
                "descriptor.none_evidenced",
                WARNING,
                f"{name} is rated {s.rating}, but none of its descriptors is marked as "
                "evidenced. In the Descriptors table, set Evidenced to Yes for those the case "
                "shows.",
                "Descriptors",
                marks[0].row if marks else None,
                "Evidenced",
            )


def _is_inadequate(grade: str) -> bool:
    return grade.strip().casefold() == Rating.INADEQUATE.value.casefold()


def _typical(ranks: list[int]) -> str:
    """Return the typical (median) section rating in words."""
    middle = statistics.median(ranks)
    names = {r.rank: r.value for r in Rating if r.rank is not None}
    if middle in names:
        return names[int(middle)]
    return f"between {names[int(middle)]} and {names[int(middle) + 1]}"


def overall_rating(c: _Check) -> Iterator[Finding]:
    """The overall rating fits the sections and, when Outstanding, is justified."""
    overall = c.sub.overall_rating
    if overall is None:
        return
    if overall is Rating.NOT_APPLICABLE:
        yield c.at(
            "overall.not_applicable",
            ERROR,
            f"{c.label('overall_rating')} cannot be Not applicable. Choose Outstanding, Good, "
            "Requires improvement or Inadequate.",
            "overall_rating",
        )
        return
    ranks = [s.rating.rank for s in c.sub.rated_sections if s.rating and s.rating.rank]
    inadequate = [c.section_name(s.key) for s in c.sub.rated_sections if s.rating.rank == 4]
    if overall.good_or_better and inadequate:
        yield c.at(
            "overall.good_with_inadequate",
            ERROR,
            f"The overall rating is {overall}, but {' and '.join(inadequate)} "
            f"{'is' if len(inadequate) == 1 else 'are'} rated Inadequate. "
            "The overall rating cannot be Good or Outstanding when a section is Inadequate.",
            "overall_rating",
        )
    elif ranks and abs((overall.rank or 0) - statistics.median(ranks)) > 1:
        yield c.at(
            "overall.far_from_sections",
            WARNING,
            f"The overall rating is {overall}, but the sections are typically rated "
            f"{_typical(ranks)}. Check the overall rating, or explain the difference in "
            f"{c.label('overall_summary')}.",
            "overall_rating",
        )
    if overall is Rating.OUTSTANDING and not _justified(
        f"{c.sub.overall_summary}\n{c.sub.good_practice}"
    ):
        yield c.at(
            "overall.outstanding_unjustified",
            ERROR,
            "The overall rating is Outstanding, but the summary does not say why. "
            f"{_OUTSTANDING_HELP} Write it in {c.label('overall_summary')} or "
            f"{c.label('good_practice')}.",
            "overall_summary",
        )


# --- The SMART audit plan ---


def _is_blank(a: Action) -> bool:
    return not any(_filled(v) for v in (a.action, a.section, a.owner, a.due, a.measure))


def plan_actions(c: _Check) -> Iterator[Finding]:
    """Every action is specific, has a section, an owner, a due date and a success measure."""
    actions = [a for a in c.sub.actions if not _is_blank(a)]
    for number, a in enumerate(actions, start=1):
        yield from _one_action(c, number, a)


def _one_action(c: _Check, number: int, a: Action) -> Iterator[Finding]:
    which = f"Action {number} in the audit plan"

    def at(code: str, severity: Severity, message: str, header: str) -> Finding:
        return c.in_table(code, severity, f"{which} {message}", "AuditPlan", a.row, header)

    if not a.action.strip():
        yield at("plan.no_action", ERROR, "says nothing to do. Write the action.", "Action")
    elif _is_vague(a.action):
        yield at(
            "plan.vague",
            WARNING,
            "is vague. Say exactly what will be done, so it can be checked "
            "(not “continue to monitor” or “ongoing”).",
            "Action",
        )
    if not a.section.strip():
        yield at(
            "plan.no_section", ERROR, "has no section. Choose the section it improves.", "Section"
        )
    elif c.rubric.section_key_for(a.section) is None:
        yield at(
            "plan.no_section",
            ERROR,
            "names a section that is not one of the rated sections. Choose one of: "
            f"{', '.join(s.name for s in c.rubric.sections)}.",
            "Section",
        )
    if not a.owner.strip():
        yield at("plan.no_owner", ERROR, "has no owner. Write who will do it.", "Owner")
    yield from _action_due(c, a, at)
    if not a.measure.strip():
        yield at(
            "plan.no_measure",
            ERROR,
            "has no success measure. Write how everyone will know it is done.",
            "Success measure",
        )


def _action_due(c: _Check, a: Action, at: Callable[..., Finding]) -> Iterator[Finding]:
    audit = c.sub.audit_date
    if a.due is None:
        yield at("plan.no_due", ERROR, "has no due date. Write when it will be done.", "Due date")
    elif audit is not None and a.due < audit:
        yield at(
            "plan.due_before_audit",
            ERROR,
            f"is due on {_date(a.due)}, before the {c.label('audit_date')} ({_date(audit)}). "
            "Choose a due date on or after the audit.",
            "Due date",
        )
    elif audit is not None and a.due > _add_months(audit, c.settings.plan_horizon_months):
        yield at(
            "plan.due_far",
            WARNING,
            f"is due on {_date(a.due)}, more than {c.settings.plan_horizon_months} months after "
            "the audit. Check the date, or split the action into nearer steps.",
            "Due date",
        )


def _is_vague(text: str) -> bool:
    """Return True when an action is too short or uses wording that cannot be checked."""
    folded = " ".join(text.casefold().split())
    if len(_words(text)) < ACTION_MIN_WORDS:
        return True
    return any(re.search(rf"\b{re.escape(p)}\b", folded) for p in VAGUE_PHRASES)


def plan_covers_sections(c: _Check) -> Iterator[Finding]:
    """Every section rated Requires improvement or Inadequate has at least one action."""
    served = {c.rubric.section_key_for(a.section) for a in c.sub.actions if a.section.strip()}
    for s in c.sub.rated_sections:
        if s.rating is not None and (s.rating.rank or 0) >= 3 and s.key not in served:
            name = c.section_name(s.key)
            yield Finding(
                "plan.missing_for_section",
                ERROR,
                f"{name} is rated {s.rating}, but the audit plan has no action for it. Add at "
                f"least one action to the audit plan with Section “{name}”.",
                c.sub.where("AuditPlan"),
            )


def gaps_followed_up(c: _Check) -> Iterator[Finding]:
    """At Final, a compliance gap not yet addressed is picked up by an action in the plan."""
    if not c.final:
        return
    plan_text = " ".join(a.action for a in c.sub.actions).casefold()
    gaps = [g for g in c.sub.gaps if _filled(g.area) or _filled(g.gap)]
    for number, g in enumerate(gaps, start=1):
        mentioned = bool(g.area.strip()) and g.area.strip().casefold() in plan_text
        if g.addressed is not True and not mentioned:
            yield c.in_table(
                "gaps.unaddressed",
                WARNING,
                f"Compliance gap {number} is not marked as addressed and no action in the audit "
                "plan mentions it. The guide expects gaps to be addressed before the audit is "
                "finalised: set Addressed to Yes, or add an action for it to the audit plan.",
                "ComplianceGaps",
                g.row,
                "Addressed",
            )


# --- Family feedback ---


def family_feedback(c: _Check) -> Iterator[Finding]:
    """Feedback is recorded when, and only when, the family consented."""
    responses = [r for r in c.sub.feedback if _filled(r.response) or _filled(r.respondent)]
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


def _one_response(c: _Check, number: int, r: FeedbackResponse) -> Iterator[Finding]:
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
    if not _filled(r.response):
        yield c.in_table(
            "feedback.no_response",
            ERROR,
            f"{which} has no response. Write the answer given, or remove the row.",
            "FamilyFeedback",
            row,
            "Response",
        )
    if not _filled(r.respondent):
        yield c.in_table(
            "feedback.no_respondent",
            WARNING,
            f"{which} does not say who answered. Write, e.g., Mother or Child (aged 9), "
            "without names.",
            "FamilyFeedback",
            row,
            "Respondent",
        )


# --- Storyboard ---


def storyboard_complete(c: _Check) -> Iterator[Finding]:
    """A Final audit rated Good or Outstanding has a complete storyboard."""
    rating = c.sub.overall_rating
    if not (c.final and rating is not None and rating.good_or_better):
        return
    for name in (*STORYBOARD_TEXT_FIELDS, "storyboard_consent"):
        if not _filled(getattr(c.sub, name)):
            yield c.at(
                "storyboard.missing",
                ERROR,
                f"Fill in the storyboard's {c.label(name)}: a Final audit rated {rating} needs "
                "a complete storyboard to share the good practice across the service.",
                name,
            )
    if c.sub.storyboard_consent is False:
        yield c.at(
            "storyboard.no_consent",
            WARNING,
            f"{c.label('storyboard_consent')} is No. The storyboard must not be shared until "
            "the worker and the family agree.",
            "storyboard_consent",
        )


def storyboard_identifies_no_one(c: _Check) -> Iterator[Finding]:
    """The storyboard, shared outside the child's record, holds no identifying detail."""
    detectors = _identity_detectors(c.sub)
    for name in STORYBOARD_TEXT_FIELDS:
        text = getattr(c.sub, name)
        if not text.strip():
            continue
        for code, what, found in detectors:
            if found(text):
                yield c.at(
                    f"storyboard.{code}",
                    ERROR,
                    f"The storyboard's {c.label(name)} contains {what}. Storyboards are shared "
                    f"outside the child's record: {_IDENTITY_FIX[code]}.",
                    name,
                )


_IDENTITY_FIX = {
    "child_name": "write “the child”, or the child's age, instead of the name",
    "mosaic_id": "remove the MOSAIC ID",
    "dob": "remove the date and give the child's age instead",
    "phone": "remove the phone number",
    "email": "remove the email address",
    "postcode": "remove the postcode and any address",
}

Detector = tuple[str, str, Callable[[str], bool]]


def _identity_detectors(sub: Submission) -> list[Detector]:
    """Return (code, what it is in words, test) for each kind of identifying detail."""
    detectors: list[Detector] = []
    for what, parts in _name_parts(sub.child_name):
        detectors.append(("child_name", f"the child's {what}", _whole_words(parts)))
    mosaic = sub.child_mosaic_id.strip()
    if mosaic:
        digits = re.sub(r"\D", "", mosaic)
        forms = [mosaic] + ([digits] if len(digits) >= 5 and digits != mosaic else [])
        detectors.append(("mosaic_id", "the child's MOSAIC ID", _whole_words(forms)))
    detectors += [
        ("dob", "what looks like a date of birth", lambda t: bool(DATE_OF_BIRTH.search(t))),
        ("phone", "what looks like a phone number", _has_uk_phone),
        ("email", "an email address", lambda t: bool(STORYBOARD_EMAIL.search(t))),
        ("postcode", "what looks like a postcode", _has_postcode),
    ]
    return detectors


def _name_parts(child_name: str) -> list[tuple[str, list[str]]]:
    """Return ("first name", [pieces]) ... for each word of the child's name."""
    words = child_name.split()
    out = []
    for i, word in enumerate(words):
        pieces = [p for p in _words(word) if len(p) >= 2]
        if "-" in word and len(pieces) > 1:
            pieces.append(word.strip(",.;"))
        if not pieces:
            continue
        what = "first name" if i == 0 else "last name" if i == len(words) - 1 else "middle name"
        out.append((what, pieces))
    return out


def _whole_words(forms: list[str]) -> Callable[[str], bool]:
    pattern = re.compile(
        "|".join(rf"(?<![\w]){re.escape(f)}(?![\w])" for f in forms), re.IGNORECASE
    )
    return lambda text: bool(pattern.search(text))


def _has_uk_phone(text: str) -> bool:
    for match in _PHONE_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if digits.startswith("44"):
            digits = "0" + digits[2:].removeprefix("0")
        if digits.startswith("0") and not digits.startswith("00") and len(digits) in (10, 11):
            return True
    return False


def _has_postcode(text: str) -> bool:
    for match in _POSTCODE.finditer(text):
        inward = match.group(1) or ""
        if not _ORDINAL.fullmatch(inward):
            return True
    return False


# The rules in the order an auditor meets the workbook.
RULES: tuple[Rule, ...] = (
    required_fields,
    known_choices,
    audit_ref_is_safe,
    emails_are_valid,
    dates_not_in_future,
    review_period,
    discussion,
    observation_has_consent,
    section_ratings,
    section_evidence,
    descriptors_match_ratings,
    overall_rating,
    gaps_followed_up,
    plan_actions,
    plan_covers_sections,
    family_feedback,
    practitioner_view,
    recommended_fields,
    storyboard_complete,
    storyboard_identifies_no_one,
)
