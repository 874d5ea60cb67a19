"""Reads a filled intake workbook into a Submission, by defined names and table names."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.utils.datetime import from_excel

from ..config import ValidationSettings
from ..models import (
    SECTION_KEYS,
    Action,
    ActionStatus,
    Agreement,
    ComplianceGap,
    Consent,
    DescriptorMark,
    FeedbackResponse,
    Finding,
    Location,
    NoObservation,
    PracticeAreaNote,
    Rating,
    SectionAssessment,
    Severity,
    Stage,
    StoryboardStatus,
    Submission,
)
from ..rubric import GRADES, Rubric
from . import layout
from .safety import NEW_BLANK, UnreadableWorkbook, open_workbook, truncated, unreadable
from .sheets import LISTS, sheet_order
from .xlsx import Book, Table, TooManyCells, read_book

__all__ = ["UnreadableWorkbook", "parse_date", "read_workbook", "submission_of"]

log = logging.getLogger(__name__)

DATE_HINT = "Enter the date as dd/mm/yyyy, for example 31/01/2026."
_GATE_NAMES = ("template_version", "audit_ref")
_ENUM_FIELDS: dict[str, Any] = {
    "audit_stage": Stage,
    "family_consent": Consent,
    "observation_consent": Consent,
    "overall_rating": Rating,
    "practitioner_agreement": Agreement,
    "observation_none_reason": NoObservation,
    "storyboard_status": StoryboardStatus,
}
# The storyboard's text fields: a 1.0 workbook with any of them filled has a Completed one.
_STORYBOARD_TEXT = (
    "storyboard_title",
    "storyboard_context",
    "storyboard_what_we_did",
    "storyboard_impact",
    "storyboard_voice",
    "storyboard_learning",
)
# Other words auditors use for an allowed value, by normalised text.
_ALIASES = {
    "requires improvement to be good": "requires improvement",
    "ri": "requires improvement",
    "n/a": "not applicable",
    "na": "not applicable",
    "y": "yes",
    "n": "no",
    "true": "yes",
    "false": "no",
}
_CONSENT_ALIASES = {"no": "declined", "n": "declined", "false": "declined"}
_TRUE = {"yes", "y", "true", "1", "x", "✓", "✔"}
_FALSE = {"no", "n", "false", "0"}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            *("jan january", "feb february", "mar march", "apr april", "may", "jun june"),
            *("jul july", "aug august", "sep sept september", "oct october"),
            *("nov november", "dec december"),
        )
    )
    for m in names.split()
}
_TIME = r"(?:,?\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY = re.compile(r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})" + _TIME)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_D_MONTH_Y = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([a-z]+)\.?,?[\s\-]+(\d{4}|\d{2})")
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?)?")
_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*(h|hr|hrs|hours?)")
_QUESTION = re.compile(r"(?:q|question|no\.?)?\s*(\d+)(?:\.0*)?")
_MAX_SERIAL = 2958465  # 31/12/9999
_FIRST_DAY = dt.date(1900, 1, 1)


DEFAULT_LIMITS = ValidationSettings()


def read_workbook(
    path: Path, rubric: Rubric, limits: ValidationSettings = DEFAULT_LIMITS
) -> Submission:
    """Return the audit in the workbook at ``path``.

    Raises UnreadableWorkbook (with one plain-English finding) when the file is not a
    readable, safe cssw-docs intake workbook. Values that cannot be understood are left
    empty and described in ``Submission.parse_findings``.
    """
    with contextlib.closing(open_workbook(Path(path), limits)) as parts:
        book = _open(parts, limits, rubric)
    try:
        return submission_of(book, rubric)
    except (UnreadableWorkbook, MemoryError):
        raise
    except Exception as exc:
        log.warning("could not read workbook contents: %s", type(exc).__name__)
        log.debug("workbook read failure", exc_info=True)
        raise _generic() from None


def submission_of(book: Book, rubric: Rubric) -> Submission:
    """Return the audit in a workbook already read, finding every input by name.

    Raises UnreadableWorkbook when ``book`` is not a cssw-docs intake workbook of a
    version this reader knows.
    """
    return _Reader(book, rubric).submission()


def _open(
    parts: Mapping[str, bytes],
    limits: ValidationSettings = DEFAULT_LIMITS,
    rubric: Rubric | None = None,
) -> Book:
    """Return the workbook's names, tables and saved values (formulas never evaluated).

    With ``rubric``, only the sheets holding the audit form's named cells and tables are
    read; every other sheet is only measured against ``limits.max_cells_per_sheet``.
    """
    names = tables = None
    if rubric is not None:
        names = [f.name for f in layout.all_fields(rubric)]
        tables = [t.name for t in layout.TABLES]
    try:
        return read_book(parts, max_cells=limits.max_cells_per_sheet, names=names, tables=tables)
    except (UnreadableWorkbook, MemoryError):
        raise  # a part declaring a DOCTYPE: entity_bomb; or out of memory: for the worker
    except TooManyCells as exc:
        raise too_many_cells(exc) from None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise truncated() from None  # a damaged sheet, found as it was streamed
    except Exception as exc:
        log.warning("could not open the workbook: %s", type(exc).__name__)
        log.debug("workbook open failure", exc_info=True)
        raise _generic() from None


def too_many_cells(exc: TooManyCells) -> UnreadableWorkbook:
    """Return the exception for a sheet over the cell limit, naming it only if it is ours.

    The name of a sheet the auditor added is not repeated: it may be anything, a child's
    name included.
    """
    if exc.sheet in (*sheet_order(), LISTS):
        which = f"The sheet '{exc.sheet}'"
        fix = (
            "Delete the rows or columns pasted below or beside the form on that sheet (or copy "
            "your answers into a new blank workbook from `cssw-docs workbook new`)"
        )
    else:
        which = f"Sheet {exc.position} of this workbook, which is not part of the audit form,"
        fix = "Delete that sheet (keep a copy elsewhere if you need it)"
    return unreadable(
        "too_many_cells",
        f"{which} has more cells than an audit workbook can have (more than "
        f"{exc.limit:,}), so the workbook was not read. {fix}, save it and drop it in again.",
    )


def _generic() -> UnreadableWorkbook:
    return unreadable(
        "corrupt",
        "This workbook could not be read: part of it is damaged or in a form cssw-docs does not "
        "understand. Open it in Excel, check your answers are there, save it as 'Excel Workbook "
        "(.xlsx)' and drop it in again. If that does not help, "
        + NEW_BLANK[0].lower()
        + NEW_BLANK[1:],
    )


# --- reading values ---------------------------------------------------------------------


def _norm(text: str) -> str:
    """Return ``text`` folded for loose matching: case, spaces, dashes, spaces around '/'."""
    text = text.replace("-", " ").replace("_", " ")
    text = re.sub(r"\s*/\s*", "/", " ".join(text.split()))
    return text.casefold().rstrip(".")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """Return a cell value as stripped text with line breaks kept as ``\\n``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def parse_date(value: Any, epoch: dt.datetime | None = None) -> dt.date | None:
    """Return ``value`` as a date (a real date, an Excel serial or UK text); raise ValueError."""
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if day < _FIRST_DAY:  # a zero or negative number in a date-formatted cell
            raise ValueError("before 1900")
        return day
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, int | float):
        return _serial(value, epoch)
    text = " ".join(_text(value).split()).lower()
    if not text:
        return None
    if text.isdigit() and len(text) == 5:
        return _serial(int(text), epoch)
    if m := _YMD.fullmatch(text):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.fullmatch(text):
        return dt.date(_year(m[3]), int(m[2]), int(m[1]))
    if (m := _D_MONTH_Y.fullmatch(text)) and m[2] in _MONTHS:
        return dt.date(_year(m[3]), _MONTHS[m[2]], int(m[1]))
    raise ValueError("not a date")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _serial(value: float, epoch: dt.datetime | None) -> dt.date:
    if not 1 <= value <= _MAX_SERIAL:
        raise ValueError("not a date serial")
    kwargs = {"epoch": epoch} if epoch is not None else {}
    result = from_excel(value, **kwargs)
    return result.date() if isinstance(result, dt.datetime) else result


def parse_bool(value: Any) -> bool | None:
    """Return Yes/No/Y/N/True/False (any case) as a bool, None when blank; raise ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _norm(_text(value))
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not yes or no")


def parse_minutes(value: Any) -> int | None:
    """Return a whole number of minutes ("55", 55.0, "55 mins", "1 hour"); raise ValueError."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _norm(_text(value))
        if not text:
            return None
        if m := _HOURS.fullmatch(text):
            number = float(m[1]) * 60
        elif m := _MINUTES.fullmatch(text):
            number = float(m[1])
        else:
            raise ValueError("not a number")
    if number < 0:
        raise ValueError("negative")
    return round(number)


def match_choice(value: Any, allowed: tuple[str, ...], *, consent: bool = False) -> str | None:
    """Return the allowed value ``value`` means (stray case and spaces allowed), or None."""
    wanted = _norm(_text(value))
    if consent:
        wanted = _CONSENT_ALIASES.get(wanted, wanted)
    wanted = _ALIASES.get(wanted, wanted)
    for choice in allowed:
        if _norm(choice) == wanted:
            return choice
    return None


def _one_of(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed[:-1]) + " or " + allowed[-1] if len(allowed) > 1 else allowed[0]


def _camel_words(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()


# --- the reader -------------------------------------------------------------------------


class _Reader:
    """Reads one loaded workbook; collects locations and findings as it goes."""

    def __init__(self, book: Book, rubric: Rubric) -> None:
        self.book = book
        self.rubric = rubric
        self.names = _defined_cells(book)
        self.findings: list[Finding] = []
        self.locations: dict[str, Location] = {}
        self.table_columns: dict[str, dict[str, str]] = {}
        self.version = layout.FIRST_VERSION

    def submission(self) -> Submission:
        self._check_identity()
        kwargs: dict[str, Any] = {}
        for f in layout.FIELDS:
            kwargs[f.name] = self._field(f)
        kwargs.update(_earlier_version_values(kwargs, self.version))
        sections = []
        fields = {f.name: f for f in layout.section_fields(self.rubric)}
        for key in SECTION_KEYS:
            rating = self._field(fields[f"{key}_rating"])
            sections.append(
                SectionAssessment(
                    key=key,
                    rating=rating,
                    evidence=self._field(fields[f"{key}_evidence"]),
                    strengths=self._field(fields[f"{key}_strengths"]),
                    development=self._field(fields[f"{key}_development"]),
                )
            )
        kwargs["template_version"] = kwargs["template_version"] or None
        return Submission(
            **kwargs,
            sections=tuple(sections),
            actions=tuple(self._actions()),
            feedback=tuple(self._feedback()),
            gaps=tuple(self._gaps()),
            descriptors=tuple(self._descriptors()),
            practice_areas=tuple(self._practice_areas()),
            locations=dict(self.locations),
            table_columns={k: dict(v) for k, v in self.table_columns.items()},
            parse_findings=tuple(self.findings),
        )

    # identity ---------------------------------------------------------------------------

    def _check_identity(self) -> None:
        if any(name not in self.names for name in _GATE_NAMES):
            raise unreadable(
                "not_intake_workbook",
                "This Excel workbook is not a cssw-docs audit workbook (it lacks the named cells "
                "the audit form has). Fill in the audit workbook instead: get a blank one with "
                "`cssw-docs workbook new` or from the QA unit, and drop that in.",
            )
        version = _text(self._value("template_version"))
        self.version = version
        major = version.split(".")[0].strip()
        if major != layout.SUPPORTED_MAJOR:
            shown = f"version {version}" if version else "a version with no number"
            raise unreadable(
                "template_version",
                f"This audit workbook is from {shown} of the template, which this cssw-docs "
                f"cannot read (it reads version {layout.SUPPORTED_MAJOR}.x). " + NEW_BLANK,
            )

    # single cells -----------------------------------------------------------------------

    def _value(self, name: str) -> Any:
        sheet, cell = self.names[name]
        return self.book.value(sheet, *coordinate_to_tuple(cell))

    def _field(self, f: layout.Field) -> Any:
        default = _default_for(f)
        if f.name not in self.names and not layout.in_version(f.name, self.version):
            return default  # a workbook of an earlier template version: not an error
        if f.name not in self.names:
            self._error(
                "parse.missing_name",
                f"The workbook has lost its '{f.label}' cell (the named cell {f.name}), perhaps "
                "because rows or sheets were deleted. " + NEW_BLANK,
                None,
            )
            return default
        sheet, cell = self.names[f.name]
        location = Location(sheet, cell)
        self.locations[f.name] = location
        raw = self.book.value(sheet, *coordinate_to_tuple(cell))
        if _blank(raw):
            return default
        return self._convert(f, raw, location, default)

    def _convert(self, f: layout.Field, raw: Any, where: Location, default: Any) -> Any:
        if f.kind == "date":
            try:
                return parse_date(raw, self.book.epoch)
            except (ValueError, OverflowError):
                self._error(
                    "parse.date",
                    f"{f.label}: the entry is not a date. {DATE_HINT}",
                    where,
                )
                return None
        if f.kind == "integer":
            try:
                return parse_minutes(raw)
            except ValueError:
                self._error(
                    "parse.number",
                    f"{f.label}: the entry is not a number. Enter a whole number of "
                    "minutes, for example 45.",
                    where,
                )
                return None
        if f.kind == "choice":
            return self._choice(f, raw, where, default)
        return _text(raw)

    def _choice(self, f: layout.Field, raw: Any, where: Location, default: Any) -> Any:
        allowed = layout.choices_for(f.choices, self.rubric)
        if f.name in layout.YES_NO_FIELDS:
            try:
                return parse_bool(raw)
            except ValueError:
                chosen = None
        else:
            chosen = match_choice(raw, allowed, consent=f.choices == "consent")
        if chosen is None:
            self._error(
                "parse.choice",
                f"{f.label}: the entry is not one of the choices. Pick one from the "
                f"cell's list: {_one_of(allowed)}.",
                where,
            )
            return default
        if f.name in _ENUM_FIELDS:
            return _ENUM_FIELDS[f.name](chosen)
        if f.choices == "section_ratings":
            return Rating(chosen)
        return chosen

    def _error(self, code: str, message: str, where: Location | None) -> None:
        self.findings.append(Finding(code, Severity.ERROR, message, where))

    # tables -----------------------------------------------------------------------------

    def _rows(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        """Return (sheet row, {header: value}) for each non-empty row of table ``name``."""
        spec = layout.table(name)
        found = _find_table(self.book, name)
        if found is None:
            self._error(
                "parse.missing_table",
                f"The workbook has lost its {_camel_words(name)} table ({name}), perhaps because "
                "it was deleted or converted to a plain range. " + NEW_BLANK,
                None,
            )
            return []
        sheet, table = found
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        self.locations[name] = Location(sheet, f"{get_column_letter(min_col)}{min_row}")
        headers = {}
        for col in range(min_col, max_col + 1):
            text = _norm(_text(self.book.value(sheet, min_row, col)))
            headers.setdefault(text, col)
        columns: dict[str, int] = {}
        for header in spec.headers:
            col = headers.get(_norm(header))
            if col is None and not spec.has(header, self.version):
                continue  # a column of a later template version: empty, no complaint
            if col is None:
                self._error(
                    "parse.table_header",
                    f"The {_camel_words(name)} table has lost its '{header}' column heading. "
                    f"Type the heading '{header}' back into the table's top row.",
                    self.locations[name],
                )
                continue
            columns[header] = col
        self.table_columns[name] = {h: get_column_letter(c) for h, c in columns.items()}
        last = max_row - table.totals_rows
        out = []
        # Only the rows holding values: a table stretched to a million rows costs nothing.
        for r in range(min_row + 1, min(last, self.book.last_row(sheet)) + 1):
            values = {h: self.book.value(sheet, r, c) for h, c in columns.items()}
            if all(_blank(v) for v in values.values()):
                continue
            out.append((r, values))
        self._check_below(sheet, name, last, min_col, max_col)
        return out

    def _check_below(self, sheet: str, name: str, last: int, min_col: int, max_col: int) -> None:
        """Warn when something was typed just under the table, where it is not read."""
        below = last + 1
        cells = range(min_col, max_col + 1)
        if not any(not _blank(self.book.value(sheet, below, c)) for c in cells):
            return
        for other in self.book.tables(sheet).values():
            c1, r1, c2, r2 = range_boundaries(other.ref)
            if r1 <= below <= r2 and c1 <= max_col and min_col <= c2:
                return
        self.findings.append(
            Finding(
                "parse.below_table",
                Severity.WARNING,
                f"Row {below} is just below the end of the {_camel_words(name)} table, so it was "
                "not read. Right-click inside the table, choose Insert > Table Rows Above, and "
                "move the entry into the table.",
                Location(sheet, f"{get_column_letter(min_col)}{below}"),
            )
        )

    def _cell(self, table: str, row: int, header: str) -> Location:
        loc = self.locations[table]
        return Location(loc.sheet, f"{self.table_columns[table][header]}{row}")

    def _t_date(self, table: str, row: int, header: str, raw: Any) -> dt.date | None:
        try:
            return parse_date(raw, self.book.epoch)
        except (ValueError, OverflowError):
            self._error(
                "parse.date",
                f"{header} in the {_camel_words(table)} table (row {row}): the entry is not "
                f"a date. {DATE_HINT}",
                self._cell(table, row, header),
            )
            return None

    def _t_action_status(self, row: int, raw: Any) -> ActionStatus | None:
        if _blank(raw):
            return None
        found = match_choice(raw, layout.ACTION_STATUS_WORDS)
        if found is None:
            self._error(
                "parse.choice",
                f"Status in the audit plan table (row {row}): the entry should be one of "
                f"{', '.join(layout.ACTION_STATUS_WORDS)}.",
                self._cell("AuditPlan", row, "Status"),
            )
            return None
        return ActionStatus(found.lower())

    def _t_bool(self, table: str, row: int, header: str, raw: Any) -> bool | None:
        try:
            return parse_bool(raw)
        except ValueError:
            self._error(
                "parse.choice",
                f"{header} in the {_camel_words(table)} table (row {row}): the entry should "
                "be Yes or No.",
                self._cell(table, row, header),
            )
            return None

    def _t_section(self, table: str, row: int, header: str, raw: Any) -> str:
        text = _text(raw)
        if not text:
            return ""
        key = self.rubric.section_key_for(text.replace("-", " "))
        if key is None:
            names = tuple(s.name for s in self.rubric.sections)
            self._error(
                "parse.choice",
                f"{header} in the {_camel_words(table)} table (row {row}): the entry is not "
                f"one of the rated sections. Choose one of: {_one_of(names)}.",
                self._cell(table, row, header),
            )
            return ""
        return self.rubric.section_name(key)

    def _actions(self) -> list[Action]:
        out = []
        for r, v in self._rows("AuditPlan"):
            out.append(
                Action(
                    action=_text(v.get("Action")),
                    section=self._t_section("AuditPlan", r, "Section", v.get("Section")),
                    owner=_text(v.get("Owner")),
                    due=self._t_date("AuditPlan", r, "Due date", v.get("Due date")),
                    measure=_text(v.get("Success measure")),
                    row=r,
                    status=self._t_action_status(r, v.get("Status")),
                    completed_on=self._t_date(
                        "AuditPlan", r, "Completed on", v.get("Completed on")
                    ),
                )
            )
        return out

    def _feedback(self) -> list[FeedbackResponse]:
        out = []
        count = len(self.rubric.family_feedback_questions)
        for r, v in self._rows("FamilyFeedback"):
            raw = v.get("Question")
            question = _question_number(raw, count)
            if question is None and not _blank(raw):
                self._error(
                    "parse.number",
                    f"Question in the family feedback table (row {r}): the entry is not a "
                    f"question number. Enter the number of the standard question, 1 to {count}.",
                    self._cell("FamilyFeedback", r, "Question"),
                )
            out.append(
                FeedbackResponse(
                    respondent=_text(v.get("Respondent")),
                    question=question,
                    response=_text(v.get("Response")),
                    row=r,
                )
            )
        return out

    def _gaps(self) -> list[ComplianceGap]:
        out = []
        for r, v in self._rows("ComplianceGaps"):
            out.append(
                ComplianceGap(
                    area=_text(v.get("Area")),
                    gap=_text(v.get("Gap")),
                    raised_on=self._t_date("ComplianceGaps", r, "Raised on", v.get("Raised on")),
                    addressed=self._t_bool("ComplianceGaps", r, "Addressed", v.get("Addressed")),
                    row=r,
                )
            )
        return out

    def _descriptors(self) -> list[DescriptorMark]:
        out = []
        for r, v in self._rows("Descriptors"):
            raw_grade = v.get("Grade")
            grade = match_choice(raw_grade, GRADES) if not _blank(raw_grade) else ""
            if grade is None:
                self._error(
                    "parse.choice",
                    f"Grade in the descriptors table (row {r}): the entry is not one "
                    f"of {_one_of(GRADES)}. Put the descriptor's grade back.",
                    self._cell("Descriptors", r, "Grade"),
                )
                grade = ""
            out.append(
                DescriptorMark(
                    section=self._t_section("Descriptors", r, "Section", v.get("Section")),
                    grade=grade,
                    descriptor=_text(v.get("Descriptor")),
                    evidenced=bool(self._t_bool("Descriptors", r, "Evidenced", v.get("Evidenced"))),
                    row=r,
                )
            )
        return out

    def _practice_areas(self) -> list[PracticeAreaNote]:
        return [
            PracticeAreaNote(area=_text(v.get("Area")), notes=_text(v.get("Notes")), row=r)
            for r, v in self._rows("PracticeAreas")
        ]


def _question_number(raw: Any, count: int) -> int | None:
    if _blank(raw) or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = int(raw) if float(raw).is_integer() else None
    else:
        m = _QUESTION.fullmatch(_norm(_text(raw)))
        number = int(m[1]) if m else None
    return number if number is not None and 1 <= number <= count else None


def _earlier_version_values(values: Mapping[str, Any], version: str) -> dict[str, Any]:
    """Return what a workbook of template 1.0 means by the fields it does not have.

    Its storyboard is Completed when any of its text is filled (consent, as 1.0 asked it, is
    consent to share within the service; the auditor's confirmation that nothing identifies
    the family is not given, so no storyboard is produced from it). A Practice Week with the
    family's consent to observation Declined and no activity had no observation because the
    family declined. Values the workbook has are never changed.
    """
    out: dict[str, Any] = {}
    if not layout.in_version("storyboard_status", version):
        written = any(values.get(name) for name in _STORYBOARD_TEXT)
        out["storyboard_status"] = StoryboardStatus.COMPLETED if written else None
    if not layout.in_version("observation_none_reason", version) and (
        values.get("observation_consent") is Consent.DECLINED
        and not values.get("observation_activity")
    ):
        out["observation_none_reason"] = NoObservation.DECLINED
    return out


_SUBMISSION_DEFAULTS = {
    f.name: f.default
    for f in dataclasses.fields(Submission)
    if f.default is not dataclasses.MISSING
}


def _default_for(f: layout.Field) -> Any:
    """Return the Submission default of a field: "" for text, None for the rest."""
    if f.name in _SUBMISSION_DEFAULTS:
        return _SUBMISSION_DEFAULTS[f.name]
    return "" if f.kind in ("text", "long_text", "email") else None


def _defined_cells(book: Book) -> dict[str, tuple[str, str]]:
    """Return {name in lower case: (sheet, top-left cell)}; workbook scope wins over sheet's."""
    out: dict[str, tuple[str, str]] = {}
    for defined in book.defined_names():  # each sheet's names first, then the workbook's
        target = _first_cell(book, defined.destinations)
        if target is not None:
            out[defined.name.casefold()] = target
    return out


def _first_cell(book: Book, destinations: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """Return the first (sheet, cell) a name points at; None for #REF!, formulas, columns."""
    for sheet, ref in destinations:
        if sheet in book.sheet_names:
            cell = ref.replace("$", "").split(":")[0]
            if re.fullmatch(r"[A-Z]{1,3}\d+", cell):
                return sheet, cell
    return None


def _find_table(book: Book, name: str) -> tuple[str, Table] | None:
    """Return (sheet, table) for the table called ``name`` (any case), or None."""
    wanted = name.casefold()
    for sheet in book.sheet_names:
        for table in book.tables(sheet).values():
            if table.name.casefold() == wanted:
                return sheet, table
    return None
