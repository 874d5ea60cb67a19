"""Make the blank intake workbook an auditor fills, and fill one from a Submission.

The contract (defined names, tables, allowed values) lives in ``layout.py``; this module
decides where each input sits and how the workbook looks. The parser finds everything by
defined name and table name, so cells may move freely between template versions.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..models import SECTION_KEYS, Submission
from ..rubric import GRADES, Rubric
from . import layout
from .layout import Field

# --- sheet names, in the order an auditor works ---
START = "Start here"
DETAILS = "Audit details"
RATINGS = "Ratings"
DESCRIPTORS = "Descriptors"
PLAN = "Audit plan"
FEEDBACK = "Family feedback"
GAPS = "Compliance gaps"
AREAS = "Practice areas"
SUMMARY = "Summary & feedback"
STORYBOARD = "Storyboard"
LISTS = "Lists"

# Empty rows given to each table in a blank workbook (the parser ignores empty rows).
TABLE_ROWS = {"AuditPlan": 30, "FamilyFeedback": 20, "ComplianceGaps": 15}

DATE_FORMAT = "dd/mm/yyyy"
# Excel serial numbers of 01/01/2000 and 31/12/2099: the range a date cell accepts.
_DATE_MIN, _DATE_MAX = "36526", "73050"
_INLINE_LIST_LIMIT = 255  # Excel refuses inline dropdown lists longer than this

# --- look ---
FONT_NAME = "Arial"
_NAVY = "1F3864"
_INK = "262626"
_GREY = "595959"
_INPUT_FILL = PatternFill("solid", fgColor="FFF7D6")
_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_BAND_FILL = PatternFill("solid", fgColor="D9E2F3")
_HEADER_FILL = PatternFill("solid", fgColor=_NAVY)
_GRADE_FILLS = {
    "Good": PatternFill("solid", fgColor="E2EFDA"),
    "Requires improvement": PatternFill("solid", fgColor="FFF2CC"),
    "Inadequate": PatternFill("solid", fgColor="FBE2D5"),
}
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_LINE_PT = 13.0  # height of one line of 10pt Arial, in points
_PAD_PT = 5.0
_DEFAULT_ROW_PT = 12.8


def _font(size: float = 10, *, bold: bool = False, italic: bool = False, color: str = _INK) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic, color=color)


class GenerateError(ValueError):
    """The workbook cannot be made as asked; the message says why in plain words."""


@dataclass
class _Book:
    """The workbook being built, and what the builder remembers about where things are."""

    wb: Workbook
    rubric: Rubric
    min_heights: dict[tuple[str, int], float] = field(default_factory=dict)
    tables: dict[str, tuple[str, int, int]] = field(
        default_factory=dict
    )  # name -> sheet, first, last data row
    list_refs: dict[str, str] = field(default_factory=dict)
    # Row ranges to keep on one printed page, by sheet title.
    blocks: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def sheet(self, title: str) -> Worksheet:
        return self.wb[title]

    def height(self, ws: Worksheet, row: int, points: float) -> None:
        """Remember that ``row`` should be at least ``points`` tall."""
        key = (ws.title, row)
        self.min_heights[key] = max(points, self.min_heights.get(key, 0.0))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def new_workbook(path: Path, rubric: Rubric, audit_type: str | None = None) -> Path:
    """Write the blank intake workbook to ``path`` and return ``path``.

    ``audit_type`` (one of the rubric's audit types, any case) is pre-filled when given.
    """
    book = _build(rubric, _canonical_type(rubric, audit_type))
    return _save(book, Path(path))


def write_submission(sub: Submission, path: Path, rubric: Rubric) -> Path:
    """Write a workbook filled with every value of ``sub`` to ``path`` and return ``path``.

    Used to make the example workbooks and test fixtures; the parser reading it back
    returns the same audit.
    """
    rows = {
        "AuditPlan": max(TABLE_ROWS["AuditPlan"], len(sub.actions) + 5),
        "FamilyFeedback": max(TABLE_ROWS["FamilyFeedback"], len(sub.feedback) + 5),
        "ComplianceGaps": max(TABLE_ROWS["ComplianceGaps"], len(sub.gaps) + 5),
    }
    known_areas = {_norm(a) for a in rubric.core_areas}
    extra_areas = [n for n in sub.practice_areas if _norm(n.area) not in known_areas]
    book = _build(rubric, None, rows=rows, extra_area_rows=len(extra_areas))
    _fill(book, sub, extra_areas)
    return _save(book, Path(path))


def sheet_order() -> tuple[str, ...]:
    """Return the visible sheets' names in the order an auditor works through them."""
    return (START, DETAILS, RATINGS, DESCRIPTORS, PLAN, FEEDBACK, GAPS, AREAS, SUMMARY, STORYBOARD)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def _canonical_type(rubric: Rubric, audit_type: str | None) -> str | None:
    if not audit_type:
        return None
    found = rubric.audit_type(audit_type)
    if found is None:
        names = ", ".join(t.name for t in rubric.audit_types)
        raise GenerateError(f"'{audit_type}' is not a type of audit. Choose one of: {names}.")
    return found.name


def _build(
    rubric: Rubric,
    audit_type: str | None,
    *,
    rows: dict[str, int] | None = None,
    extra_area_rows: int = 0,
) -> _Book:
    wb = Workbook()
    wb.remove(wb.active)
    for title in (*sheet_order(), LISTS):
        wb.create_sheet(title)
    book = _Book(wb, rubric)
    fields = {f.name: f for f in layout.all_fields(rubric)}
    rows = {**TABLE_ROWS, **(rows or {})}

    _lists_sheet(book)
    _start_sheet(book, fields["template_version"])
    _details_sheet(book, fields)
    _ratings_sheet(book, fields)
    _descriptors_sheet(book)
    _plan_sheet(book, rows["AuditPlan"])
    _feedback_sheet(book, fields, rows["FamilyFeedback"])
    _gaps_sheet(book, rows["ComplianceGaps"])
    _areas_sheet(book, extra_area_rows)
    _summary_sheet(book, fields)
    _storyboard_sheet(book, fields)

    _cell(book, "template_version").value = layout.TEMPLATE_VERSION
    if audit_type:
        _cell(book, "audit_type").value = audit_type
    for ws in wb.worksheets:
        _finish_sheet(ws)
    wb[START].sheet_properties.tabColor = _NAVY
    wb.active = 0
    return book


def _lists_sheet(book: _Book) -> None:
    """The hidden sheet holding every dropdown list, for lists too long to write inline."""
    ws = book.sheet(LISTS)
    ws.sheet_state = "hidden"
    keys = sorted({f.choices for f in layout.all_fields(book.rubric) if f.kind == "choice"})
    lists = {key: layout.choices_for(key, book.rubric) for key in keys}
    lists["sections"] = tuple(s.name for s in book.rubric.sections)
    lists["questions"] = tuple(
        str(i) for i in range(1, len(book.rubric.family_feedback_questions) + 1)
    )
    for col, (key, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        ws.cell(1, col, key).font = _font(bold=True)
        for row, value in enumerate(values, start=2):
            ws.cell(row, col, value)
        ws.column_dimensions[letter].width = 32
        book.list_refs[key] = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(values) + 1}"
    ws.protection.sheet = True


def _start_sheet(book: _Book, version_field: Field) -> None:
    ws = book.sheet(START)
    r = book.rubric
    _widths(ws, {"A": 2, "B": 4, "C": 30, "D": 62})
    _title(ws, book, "Case audit workbook", "Camden Safeguarding and Social Work", span="B1:D1")
    row = 4
    row = _para(
        ws,
        book,
        row,
        "Use this workbook for one case audit. Fill the yellow cells, sheet by sheet from left "
        "to right. Grey text and the notes that appear when you click a cell explain each "
        "field. Cells with a small arrow have a drop-down list. Type dates as dd/mm/yyyy.",
    )
    row += 1
    ws.cell(row, 2, "Steps").font = _font(12, bold=True, color=_NAVY)
    row += 1
    steps = (
        (
            DETAILS,
            "Who and what: the audit, the child, the people involved, the case "
            "discussion and, for Practice Week, the practice you observed.",
        ),
        (
            RATINGS,
            "Rate each of the six sections using the descriptors beside it, and write "
            "the evidence for your rating. Outstanding needs a written justification.",
        ),
        (DESCRIPTORS, "Mark Evidenced Yes for each descriptor the case shows."),
        (
            PLAN,
            "The SMART audit plan: what, which section it serves, who, by when, and how "
            "success will be measured. Every section rated Requires improvement or Inadequate "
            "needs at least one action.",
        ),
        (
            FEEDBACK,
            "Whether the family agreed to speak to you, and their answers to the five "
            "standard questions.",
        ),
        (
            GAPS,
            "Compliance gaps you raised before finalising (supervision, case notes, "
            "chronology, visits) and whether each was addressed.",
        ),
        (AREAS, "Notes on the eleven core areas of practice, where relevant."),
        (
            SUMMARY,
            "Your overall rating and summary; at Final, the practitioner's view and feedback.",
        ),
        (
            STORYBOARD,
            "Only for Good or Outstanding practice at Final. No names, MOSAIC ID, "
            "dates of birth, phone numbers, emails or postcodes.",
        ),
    )
    for number, (sheet, text) in enumerate(steps, start=1):
        ws.cell(row, 2, number).font = _font(bold=True)
        ws.cell(row, 2).alignment = Alignment(vertical="top", horizontal="right")
        link = ws.cell(row, 3, sheet)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(sheet)}!A1")
        link.font = Font(name=FONT_NAME, size=10, bold=True, color="0563C1", underline="single")
        link.alignment = _WRAP_TOP
        ws.cell(row, 4, text).alignment = _WRAP_TOP
        ws.cell(row, 4).font = _font()
        row += 1
    row += 1
    ws.cell(row, 2, "The ratings").font = _font(12, bold=True, color=_NAVY)
    row += 1
    scale = (
        ("Outstanding", r.outstanding_meaning + " " + r.outstanding_justification),
        ("Good", "The case shows what the Good descriptors describe."),
        (
            "Requires improvement",
            "Practice is not yet good; the plan must say how it will improve.",
        ),
        (
            "Inadequate",
            "Serious gaps that leave the child's needs unmet; a robust action plan is needed.",
        ),
        (
            r.not_applicable,
            "The section does not apply to this case (for example, no referral in the period).",
        ),
    )
    for grade, text in scale:
        c = ws.cell(row, 3, grade)
        c.font = _font(bold=True)
        c.alignment = _WRAP_TOP
        if grade in _GRADE_FILLS:
            c.fill = _GRADE_FILLS[grade]
        ws.cell(row, 4, text).alignment = _WRAP_TOP
        ws.cell(row, 4).font = _font()
        row += 1
    row += 1
    ws.cell(row, 2, "When you have finished").font = _font(12, bold=True, color=_NAVY)
    row += 1
    row = _para(
        ws,
        book,
        row,
        "Save the workbook as .xlsx (keep the file type) and put it in the audit intake "
        "folder, or run `cssw-docs validate` on it. If anything needs correcting you get the "
        "workbook back with an Errors sheet first and each problem cell marked.",
    )
    row += 1
    ws.cell(row, 2, "Keep it safe").font = _font(12, bold=True, color=_NAVY)
    row += 1
    row = _para(
        ws,
        book,
        row,
        "This workbook holds personal information about a child. Store it only in the places "
        "your service allows, and never put the child's name in the file name or an email "
        "subject.",
    )
    row += 1
    _label(ws, book, row, version_field, col=3)
    c = ws.cell(row, 4)
    c.font = _font(color=_GREY)
    c.alignment = Alignment(horizontal="left")
    _define(book, version_field.name, ws, c.coordinate)
    _page(ws, landscape=False)


def _details_sheet(book: _Book, fields: dict[str, Field]) -> None:
    ws = book.sheet(DETAILS)
    _widths(ws, {"A": 2, "B": 32, "C": 44, "D": 50})
    _title(ws, book, "Audit details", "Who and what this audit is about.", span="B1:D1")
    groups = (
        ("The audit", ("audit_ref", "audit_type", "audit_stage", "audit_theme", "audit_date")),
        ("The child", ("child_name", "child_mosaic_id", "team")),
        (
            "People",
            (
                "auditor_name",
                "auditor_email",
                "auditor_role",
                "practitioner_name",
                "practitioner_email",
                "manager_name",
                "manager_email",
            ),
        ),
        (
            "Case review and discussion",
            (
                "review_period_start",
                "review_period_end",
                "discussion_date",
                "discussion_mode",
                "discussion_minutes",
            ),
        ),
        ("Practice Week only", ("observation_activity", "observation_consent")),
    )
    _field_groups(ws, book, fields, groups)


def _ratings_sheet(book: _Book, fields: dict[str, Field]) -> None:
    ws = book.sheet(RATINGS)
    r = book.rubric
    _widths(ws, {"A": 2, "B": 16, "C": 46, "D": 40, "E": 40, "F": 40})
    _title(
        ws,
        book,
        "Ratings",
        "Rate each section using the descriptors beside it, then write the evidence. "
        "For Outstanding, "
        + r.outstanding_justification[:1].lower()
        + r.outstanding_justification[1:],
        span="B1:F1",
    )
    row = 4
    for number, key in enumerate(SECTION_KEYS, start=1):
        section = r.section(key)
        top = row
        row = _band(ws, book, row, f"{number}. {section.name}", "B", "F")
        heads = ("", "Your judgement", *(f"{g} looks like" for g in GRADES))
        for col, text in enumerate(heads, start=2):
            c = ws.cell(row, col, text or None)
            c.font = _font(9, bold=True, color=_GREY if col < 4 else _INK)
            if col >= 4:
                c.fill = _GRADE_FILLS[GRADES[col - 4]]
                c.border = _BOX
        row += 1
        first = row
        for suffix, _label_text, _kind, _choices in layout.SECTION_FIELD_SUFFIXES:
            f = fields[f"{key}_{suffix}"]
            short = _label_text if suffix != "development" else "Areas for development"
            _label(ws, book, row, f, text=short)
            _input(ws, book, row, 3, f)
            book.height(ws, row, 24 if suffix == "rating" else 70)
            row += 1
        last = row - 1
        for col, grade in enumerate(GRADES, start=4):
            ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
            c = ws.cell(first, col, "\n".join(f"• {d}" for d in section.of_grade(grade)))
            c.font = _font(9)
            c.alignment = _WRAP_TOP
            c.fill = _GRADE_FILLS[grade]
            for rr in range(first, last + 1):
                ws.cell(rr, col).border = _BOX
        book.blocks.setdefault(ws.title, []).append((top, last))
        row += 1
    _page(ws, landscape=True)


def _descriptors_sheet(book: _Book) -> None:
    ws = book.sheet(DESCRIPTORS)
    _widths(ws, {"A": 22, "B": 20, "C": 90, "D": 13})
    _title(
        ws,
        book,
        "Descriptors",
        "Every 'what good looks like' descriptor. Mark Evidenced Yes where the case shows it. "
        "Each rated section needs at least one; a section rated Good or Outstanding cannot have "
        "an Inadequate descriptor evidenced.",
        span="A1:D1",
    )
    data = [
        (s.name, grade, text)
        for s in book.rubric.sections
        for grade in GRADES
        for text in s.of_grade(grade)
    ]
    header, first, last = _table(ws, book, layout.table("Descriptors"), 3, len(data))
    for i, (name, grade, text) in enumerate(data):
        row = first + i
        for col, value in enumerate((name, grade, text), start=1):
            c = ws.cell(row, col, value)
            c.font = _font(9)
            c.alignment = _WRAP_TOP
            c.border = _BOX
        ws.cell(row, 2).fill = _GRADE_FILLS[grade]
    _table_inputs(ws, ("D",), first, last)
    _centre(ws, "D", first, last)
    _list_validation(
        ws, book, "yes_no", f"D{first}:D{last}", "Evidenced", "Yes if the case shows this."
    )
    _yes_colour(ws, f"D{first}:D{last}")
    _page(ws, landscape=False, title_row=header)


def _plan_sheet(book: _Book, n: int) -> None:
    ws = book.sheet(PLAN)
    _widths(ws, {"A": 50, "B": 22, "C": 22, "D": 13, "E": 46})
    _title(
        ws,
        book,
        "Audit plan",
        "SMART actions: what exactly will be done, the section it serves, who will do it, by "
        "when (on or after the audit date, normally within six months) and how success will be "
        "measured. Avoid vague wording such as 'continue to monitor'.",
        span="A1:E1",
    )
    _, first, last = _table(ws, book, layout.table("AuditPlan"), 3, n)
    _table_inputs(ws, "ABCDE", first, last)
    _list_validation(
        ws,
        book,
        "sections",
        f"B{first}:B{last}",
        "Section",
        "The rated section this action serves.",
    )
    _date_validation(ws, f"D{first}:D{last}", "Due date", "When it must be done by (dd/mm/yyyy).")
    _date_format(ws, "D", first, last)
    _page(ws, landscape=True, title_row=first - 1)


def _feedback_sheet(book: _Book, fields: dict[str, Field], n: int) -> None:
    ws = book.sheet(FEEDBACK)
    _widths(ws, {"A": 24, "B": 11, "C": 100})
    _title(
        ws,
        book,
        "Family feedback",
        "Ask the child or young person and their parents or carers the five standard "
        "questions, with their consent. Write one row per answer: who answered, the question's "
        "number and what they said, in their words.",
        span="A1:C1",
    )
    row = 3
    _label(ws, book, row, fields["family_consent"], col=1)
    _input(ws, book, row, 2, fields["family_consent"])
    _help(ws, row, 3, fields["family_consent"].help)
    book.height(ws, row, 24)
    row += 2
    ws.cell(row, 1, "The five questions").font = _font(11, bold=True, color=_NAVY)
    row += 1
    for i, question in enumerate(book.rubric.family_feedback_questions, start=1):
        c = ws.cell(row, 2, i)
        c.font = _font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="top")
        q = ws.cell(row, 3, question)
        q.font = _font()
        q.alignment = _WRAP_TOP
        row += 1
    row += 1
    _, first, last = _table(ws, book, layout.table("FamilyFeedback"), row, n)
    _table_inputs(ws, "ABC", first, last)
    _list_validation(
        ws,
        book,
        "questions",
        f"B{first}:B{last}",
        "Question",
        "The number of the question above (1 to 5).",
    )
    _centre(ws, "B", first, last)
    _page(ws, landscape=False, title_row=first - 1)


def _gaps_sheet(book: _Book, n: int) -> None:
    ws = book.sheet(GAPS)
    _widths(ws, {"A": 24, "B": 66, "C": 13, "D": 13})
    _title(
        ws,
        book,
        "Compliance gaps",
        "Gaps you raised with the worker before finalising the audit (for example supervision, "
        "case notes, chronology or visits), the date you raised each, and whether it was "
        "addressed before the audit was finalised.",
        span="A1:D1",
    )
    _, first, last = _table(ws, book, layout.table("ComplianceGaps"), 3, n)
    _table_inputs(ws, "ABCD", first, last)
    _date_validation(ws, f"C{first}:C{last}", "Raised on", "The date you raised it (dd/mm/yyyy).")
    _date_format(ws, "C", first, last)
    _list_validation(
        ws, book, "yes_no", f"D{first}:D{last}", "Addressed", "Was it addressed before finalising?"
    )
    _centre(ws, "D", first, last)
    _page(ws, landscape=False, title_row=first - 1)


def _areas_sheet(book: _Book, extra_rows: int) -> None:
    ws = book.sheet(AREAS)
    _widths(ws, {"A": 44, "B": 80})
    _title(
        ws,
        book,
        "Practice areas",
        "The eleven core areas of practice the audit explores. Add notes where they help tell "
        "the story of this case; leave the others blank.",
        span="A1:B1",
    )
    areas = book.rubric.core_areas
    _, first, last = _table(ws, book, layout.table("PracticeAreas"), 3, len(areas) + extra_rows)
    for i, area in enumerate(areas):
        c = ws.cell(first + i, 1, area)
        c.font = _font()
        c.alignment = _WRAP_TOP
        c.border = _BOX
        book.height(ws, first + i, 30)
    _table_inputs(ws, "B", first, last)
    if extra_rows:
        _table_inputs(ws, "A", first + len(areas), last)
    _page(ws, landscape=False, title_row=first - 1)


def _summary_sheet(book: _Book, fields: dict[str, Field]) -> None:
    ws = book.sheet(SUMMARY)
    _widths(ws, {"A": 2, "B": 30, "C": 72, "D": 38})
    _title(
        ws,
        book,
        "Summary & feedback",
        "Your overall judgement, then the practitioner's response before the audit is finalised.",
        span="B1:D1",
    )
    groups = (
        (
            "Your judgement",
            ("overall_rating", "overall_summary", "good_practice", "areas_for_development"),
        ),
        (
            "The practitioner's response (needed at Final)",
            ("practitioner_agreement", "practitioner_feedback", "practitioner_plan_feedback"),
        ),
    )
    _field_groups(ws, book, fields, groups)


def _storyboard_sheet(book: _Book, fields: dict[str, Field]) -> None:
    ws = book.sheet(STORYBOARD)
    _widths(ws, {"A": 2, "B": 30, "C": 72, "D": 38})
    _title(
        ws,
        book,
        "Storyboard",
        "Only when practice is Good or Outstanding, at Final. The storyboard is shared across "
        "the service and outside it: write about 'the child' or 'a boy aged 12', never names, "
        "MOSAIC IDs, dates of birth, phone numbers, emails or postcodes.",
        span="B1:D1",
    )
    row = _band(ws, book, 4, "The storyboard", "B", "D")
    for name in (
        "storyboard_title",
        "storyboard_context",
        "storyboard_what_we_did",
        "storyboard_impact",
        "storyboard_voice",
        "storyboard_learning",
        "storyboard_consent",
    ):
        row = _field_row(ws, book, row, fields[name])
    _page(ws, landscape=False)


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def _title(ws: Worksheet, book: _Book, title: str, subtitle: str, *, span: str) -> None:
    """A large title on row 1 and a grey subtitle on row 2, across ``span``'s columns."""
    first, last = span.split(":")
    ws.merge_cells(span)
    c = ws[first]
    c.value = title
    c.font = _font(16, bold=True, color=_NAVY)
    c.alignment = Alignment(vertical="center")
    book.height(ws, 1, 28)
    second = f"{first[:-1]}2:{last[:-1]}2"
    ws.merge_cells(second)
    s = ws[f"{first[:-1]}2"]
    s.value = subtitle
    s.font = _font(italic=True, color=_GREY)
    s.alignment = _WRAP_TOP


def _para(ws: Worksheet, book: _Book, row: int, text: str) -> int:
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
    c = ws.cell(row, 2, text)
    c.font = _font()
    c.alignment = _WRAP_TOP
    return row + 1


def _field_groups(
    ws: Worksheet,
    book: _Book,
    fields: dict[str, Field],
    groups: tuple[tuple[str, tuple[str, ...]], ...],
) -> None:
    """Lay out headed bands of label/input rows from row 4 down, then set up the page."""
    row = 4
    for heading, names in groups:
        row = _band(ws, book, row, heading, "B", "D")
        for name in names:
            row = _field_row(ws, book, row, fields[name])
        row += 1
    _page(ws, landscape=False)


def _band(ws: Worksheet, book: _Book, row: int, text: str, first: str, last: str) -> int:
    """A coloured heading across ``first``..``last``; returns the next row."""
    ws.merge_cells(f"{first}{row}:{last}{row}")
    c = ws[f"{first}{row}"]
    c.value = text
    c.font = _font(11, bold=True, color=_NAVY)
    c.alignment = Alignment(vertical="center")
    for col in range(ws[f"{first}{row}"].column, ws[f"{last}{row}"].column + 1):
        ws.cell(row, col).fill = _BAND_FILL
    book.height(ws, row, 22)
    return row + 1


def _label(
    ws: Worksheet, book: _Book, row: int, f: Field, *, col: int = 2, text: str | None = None
) -> None:
    c = ws.cell(row, col, text or f.label)
    c.font = _font(bold=True)
    c.alignment = _WRAP_TOP


def _help(ws: Worksheet, row: int, col: int, text: str) -> None:
    c = ws.cell(row, col, text)
    c.font = _font(9, italic=True, color=_GREY)
    c.alignment = _WRAP_TOP


def _field_row(ws: Worksheet, book: _Book, row: int, f: Field) -> int:
    """Label in B, the input in C, guidance in D; returns the next row."""
    _label(ws, book, row, f)
    _input(ws, book, row, 3, f)
    _help(ws, row, 4, f.help)
    book.height(ws, row, 90 if f.kind == "long_text" else 20)
    return row + 1


def _input(ws: Worksheet, book: _Book, row: int, col: int, f: Field) -> None:
    """Make ``(row, col)`` the unlocked input cell of ``f``, with its dropdown and note."""
    c = ws.cell(row, col)
    c.fill = _INPUT_FILL
    c.border = _BOX
    c.protection = Protection(locked=False)
    c.font = _font()
    c.alignment = _WRAP_TOP
    _define(book, f.name, ws, c.coordinate)
    ref = c.coordinate
    if f.kind == "choice":
        _list_validation(ws, book, f.choices, ref, f.label, f.help)
        if f.choices in ("section_ratings", "overall_ratings"):
            _rating_colours(ws, ref)
    elif f.kind == "date":
        _date_validation(ws, ref, f.label, f.help)
        c.number_format = DATE_FORMAT
        c.alignment = Alignment(horizontal="left", vertical="top")
    elif f.kind == "integer":
        dv = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2="600",
            showErrorMessage=True,
            errorTitle="Whole minutes",
            error="Type the length in whole minutes, for example 45.",
        )
        _prompt(dv, f.label, f.help)
        dv.add(ref)
        ws.add_data_validation(dv)
        c.alignment = Alignment(horizontal="left", vertical="top")
    else:
        dv = DataValidation(type=None, showErrorMessage=False)
        _prompt(dv, f.label, f.help)
        dv.add(ref)
        ws.add_data_validation(dv)


def _define(book: _Book, name: str, ws: Worksheet, coordinate: str) -> None:
    col = "".join(ch for ch in coordinate if ch.isalpha())
    row = "".join(ch for ch in coordinate if ch.isdigit())
    ref = f"{quote_sheetname(ws.title)}!${col}${row}"
    book.wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _prompt(dv: DataValidation, title: str, text: str) -> None:
    dv.showInputMessage = True
    dv.promptTitle = title[:32]
    dv.prompt = text[:255]


def _list_validation(
    ws: Worksheet, book: _Book, key: str, ref: str, title: str, help_text: str
) -> None:
    """A dropdown of the list ``key``: inline when short enough, else from the Lists sheet."""
    values = _list_values(book, key)
    inline = ",".join(values)
    if len(inline) + 2 <= _INLINE_LIST_LIMIT and not any("," in v or '"' in v for v in values):
        formula = f'"{inline}"'
    else:
        formula = book.list_refs[key]
    shown = "; ".join(values)
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showDropDown=False,  # (sic) False means the arrow IS shown
        showErrorMessage=True,
        errorTitle="Choose from the list",
        error=f"Choose one of: {shown}"[:255],
    )
    _prompt(dv, title, help_text)
    dv.add(ref)
    ws.add_data_validation(dv)


def _list_values(book: _Book, key: str) -> tuple[str, ...]:
    if key == "sections":
        return tuple(s.name for s in book.rubric.sections)
    if key == "questions":
        return tuple(str(i) for i in range(1, len(book.rubric.family_feedback_questions) + 1))
    return layout.choices_for(key, book.rubric)


def _date_validation(ws: Worksheet, ref: str, title: str, help_text: str) -> None:
    dv = DataValidation(
        type="date",
        operator="between",
        formula1=_DATE_MIN,
        formula2=_DATE_MAX,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a date",
        error="Type a date as dd/mm/yyyy, for example 31/01/2026.",
    )
    _prompt(dv, title, help_text)
    dv.add(ref)
    ws.add_data_validation(dv)


def _date_format(ws: Worksheet, col: str, first: int, last: int) -> None:
    for row in range(first, last + 1):
        c = ws[f"{col}{row}"]
        c.number_format = DATE_FORMAT
        c.alignment = Alignment(horizontal="left", vertical="top")


def _centre(ws: Worksheet, col: str, first: int, last: int) -> None:
    for row in range(first, last + 1):
        ws[f"{col}{row}"].alignment = Alignment(horizontal="center", vertical="top")


def _yes_colour(ws: Worksheet, ref: str) -> None:
    fill = PatternFill("solid", fgColor="C6E0B4", bgColor="C6E0B4")
    ws.conditional_formatting.add(
        ref, CellIsRule(operator="equal", formula=['"Yes"'], fill=fill, font=Font(bold=True))
    )


def _rating_colours(ws: Worksheet, ref: str) -> None:
    for grade, fill in (
        ("Outstanding", "C6E0B4"),
        *((g, f.fgColor.rgb[-6:]) for g, f in _GRADE_FILLS.items()),
    ):
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[f'"{grade}"'],
                fill=PatternFill("solid", fgColor=fill, bgColor=fill),
                font=Font(bold=True),
            ),
        )


def _table(
    ws: Worksheet, book: _Book, spec: layout.Table, header_row: int, n: int
) -> tuple[int, int, int]:
    """An Excel table named ``spec.name`` with ``n`` data rows; returns header, first, last rows."""
    n = max(n, 1)
    for col, text in enumerate(spec.headers, start=1):
        c = ws.cell(header_row, col, text)
        c.font = _font(bold=True, color="FFFFFF")
        c.fill = _HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
        c.border = _BOX
    book.height(ws, header_row, 20)
    first, last = header_row + 1, header_row + n
    ref = f"A{header_row}:{get_column_letter(len(spec.headers))}{last}"
    t = ExcelTable(displayName=spec.name, ref=ref)
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(t)
    book.tables[spec.name] = (ws.title, first, last)
    ws.freeze_panes = f"A{first}"
    return header_row, first, last


def _table_inputs(ws: Worksheet, columns: Iterable[str], first: int, last: int) -> None:
    for col in columns:
        for row in range(first, last + 1):
            c = ws[f"{col}{row}"]
            c.fill = _INPUT_FILL
            c.border = _BOX
            c.protection = Protection(locked=False)
            c.alignment = _WRAP_TOP
            c.font = _font()


def _page(ws: Worksheet, *, landscape: bool, title_row: int | None = None) -> None:
    """A4, fit to the page width, with a footer marking the contents as sensitive."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = False
    ws.oddFooter.left.text = "OFFICIAL-SENSITIVE: case audit"
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "&A, page &P of &N"
    ws.oddFooter.right.size = 8
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"


def _finish_sheet(ws: Worksheet) -> None:
    """Protect the sheet without a password, letting people resize rows and filter tables."""
    ws.sheet_view.showGridLines = ws.title in (DESCRIPTORS,)
    p = ws.protection
    p.sheet = True
    p.formatRows = False
    p.formatColumns = False
    p.autoFilter = False
    p.sort = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.font is not None and c.font.name != FONT_NAME:
                c.font = _font()


# ---------------------------------------------------------------------------------------------
# Filling from a Submission
# ---------------------------------------------------------------------------------------------


def _cell(book: _Book, name: str) -> Cell:
    """Return the one cell the defined name ``name`` points at."""
    ((sheet, coordinate),) = tuple(book.wb.defined_names[name].destinations)
    return book.wb[sheet][coordinate.replace("$", "")]


def _fill(book: _Book, sub: Submission, extra_areas: Sequence) -> None:
    rubric = book.rubric
    for f in layout.FIELDS:
        value = getattr(sub, f.name)
        if f.name == "template_version" and value is None:
            continue
        _put(_cell(book, f.name), value)
    for section in sub.sections:
        if section.key not in SECTION_KEYS:
            continue
        _put(_cell(book, f"{section.key}_rating"), section.rating)
        for suffix in ("evidence", "strengths", "development"):
            _put(_cell(book, f"{section.key}_{suffix}"), getattr(section, suffix))

    _rows(
        book, "AuditPlan", [(a.action, a.section, a.owner, a.due, a.measure) for a in sub.actions]
    )
    _rows(book, "FamilyFeedback", [(f.respondent, f.question, f.response) for f in sub.feedback])
    _rows(book, "ComplianceGaps", [(g.area, g.gap, g.raised_on, g.addressed) for g in sub.gaps])

    # Descriptors: pre-filled by the generator; mark the ones the submission says are evidenced.
    evidenced = {
        (_section_norm(rubric, m.section), _norm(m.grade), _norm(m.descriptor))
        for m in sub.descriptors
        if m.evidenced
    }
    sheet, first, last = book.tables["Descriptors"]
    ws = book.wb[sheet]
    for row in range(first, last + 1):
        key = (
            _section_norm(rubric, ws.cell(row, 1).value),
            _norm(ws.cell(row, 2).value),
            _norm(ws.cell(row, 3).value),
        )
        if key in evidenced:
            ws.cell(row, 4).value = "Yes"

    # Practice areas: notes beside the pre-filled areas, unknown areas on the spare rows.
    sheet, first, last = book.tables["PracticeAreas"]
    ws = book.wb[sheet]
    by_area = {_norm(n.area): n.notes for n in sub.practice_areas}
    for row in range(first, first + len(rubric.core_areas)):
        notes = by_area.get(_norm(ws.cell(row, 1).value))
        if notes:
            ws.cell(row, 2).value = notes
    for i, note in enumerate(extra_areas):
        ws.cell(first + len(rubric.core_areas) + i, 1).value = note.area
        ws.cell(first + len(rubric.core_areas) + i, 2).value = note.notes or None


def _rows(book: _Book, table: str, rows: list[tuple]) -> None:
    sheet, first, _last = book.tables[table]
    ws = book.wb[sheet]
    for i, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            _put(ws.cell(first + i, col), value)


def _put(c: Cell, value: object) -> None:
    """Write ``value`` as the workbook shows it: enums as text, booleans Yes/No, real dates."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        c.value = "Yes" if value else "No"
    elif isinstance(value, dt.datetime):
        c.value = value
        c.number_format = DATE_FORMAT
    elif isinstance(value, dt.date):
        c.value = dt.datetime(value.year, value.month, value.day)
        c.number_format = DATE_FORMAT
    elif isinstance(value, int | float):
        c.value = value
    else:
        c.value = str(value)


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _section_norm(rubric: Rubric, text: object) -> str:
    return rubric.section_key_for(str(text or "")) or _norm(text)


# ---------------------------------------------------------------------------------------------
# Row heights and saving
# ---------------------------------------------------------------------------------------------


def _fit_rows(book: _Book) -> None:
    """Set each row tall enough for its wrapped text (Excel does not do this on opening)."""
    for ws in book.wb.worksheets:
        if ws.title == LISTS:
            continue
        merged = {}
        for rng in ws.merged_cells.ranges:
            merged[(rng.min_row, rng.min_col)] = rng
        needed: dict[int, float] = {}
        vertical = []
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c.value, str) or not c.value or not c.alignment.wrap_text:
                    continue
                rng = merged.get((c.row, c.column))
                cols = range(c.column, (rng.max_col if rng else c.column) + 1)
                width = sum(_col_width(ws, col) for col in cols)
                lines = _lines(c.value, width, c.font.size if c.font and c.font.size else 10)
                size = (c.font.size if c.font and c.font.size else 10) / 10
                points = lines * _LINE_PT * size + _PAD_PT
                if rng and rng.max_row > rng.min_row:
                    vertical.append((rng.min_row, rng.max_row, points))
                else:
                    needed[c.row] = max(needed.get(c.row, 0.0), points)
        heights = {}
        for (title, row), points in book.min_heights.items():
            if title == ws.title:
                heights[row] = points
        for row, points in needed.items():
            if points > 16 or row in heights:
                heights[row] = max(heights.get(row, 15.0), points)
        for top, bottom, points in vertical:
            have = sum(heights.get(r, 15.0) for r in range(top, bottom + 1))
            if points > have:
                # Grow the rows after the first (on Ratings: evidence, strengths, development).
                grow = range(top + 1, bottom + 1) if bottom > top else range(top, top + 1)
                extra = (points - have) / len(grow)
                for r in grow:
                    heights[r] = heights.get(r, 15.0) + extra
        for row, points in heights.items():
            ws.row_dimensions[row].height = round(min(points, 409.0), 1)
        _keep_together(ws, heights, book.blocks.get(ws.title, []))


def _keep_together(ws: Worksheet, heights: dict[int, float], blocks: list[tuple[int, int]]) -> None:
    """Add page breaks so that no block of rows is split across printed pages."""
    if not blocks:
        return
    landscape = ws.page_setup.orientation == "landscape"
    page_w, page_h = (842.0, 595.0) if landscape else (595.0, 842.0)
    printable_w = page_w - 72 * (ws.page_margins.left + ws.page_margins.right)
    printable_h = page_h - 72 * (ws.page_margins.top + ws.page_margins.bottom) - 10
    sheet_w = sum((_col_width(ws, c) * 7 + 5) * 0.75 for c in range(1, ws.max_column + 1))
    available = printable_h / min(1.0, printable_w / sheet_w)

    def tall(first: int, last: int) -> float:
        return sum(heights.get(r, _DEFAULT_ROW_PT) for r in range(first, last + 1))

    page_top = 1
    for top, bottom in blocks:
        if tall(page_top, bottom) > available and top > page_top:
            ws.row_breaks.append(Break(id=top - 1))
            page_top = top


def _col_width(ws: Worksheet, col: int) -> float:
    width = ws.column_dimensions[get_column_letter(col)].width
    return width if width else 8.43


def _lines(text: str, width: float, size: float) -> int:
    """Estimate the wrapped lines ``text`` takes in a column ``width`` characters wide."""
    per_line = max(1.0, width * 1.3 * 10 / size)
    return sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))


def _save(book: _Book, path: Path) -> Path:
    """Save atomically: a half-written workbook never appears at ``path``."""
    _fit_rows(book)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cssw-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book.wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# ---------------------------------------------------------------------------------------------
# The README's workbook reference
# ---------------------------------------------------------------------------------------------

_KIND_VALUES = {
    "text": "text",
    "long_text": "text (several lines)",
    "date": "a date, dd/mm/yyyy",
    "integer": "a whole number",
    "email": "an email address",
}
# Allowed values of the table columns that have a dropdown or a format.
_COLUMN_VALUES = {
    ("AuditPlan", "Section"): "one of the six section names",
    ("AuditPlan", "Due date"): "a date, dd/mm/yyyy",
    ("FamilyFeedback", "Question"): "1 to 5",
    ("ComplianceGaps", "Raised on"): "a date, dd/mm/yyyy",
    ("ComplianceGaps", "Addressed"): "Yes, No",
    ("Descriptors", "Evidenced"): "Yes, No (blank means No)",
}


def reference_markdown(rubric: Rubric) -> str:
    """Return the README's "Workbook reference": every defined name and table, with meanings."""
    book = _build(rubric, None)
    lines = [
        "Single values (workbook-scoped defined names, each pointing at one cell):",
        "",
        "| Defined name | Sheet | Label | Meaning | Allowed values |",
        "|---|---|---|---|---|",
    ]
    for f in layout.all_fields(rubric):
        ((sheet, _),) = tuple(book.wb.defined_names[f.name].destinations)
        if f.kind == "choice":
            allowed = ", ".join(layout.choices_for(f.choices, rubric))
        else:
            allowed = _KIND_VALUES[f.kind]
        lines.append(f"| `{f.name}` | {sheet} | {f.label} | {_md(f.help)} | {_md(allowed)} |")
    lines += [
        "",
        "Repeating rows (Excel tables; empty rows are ignored):",
        "",
        "| Table | Sheet | Headers | Meaning | Allowed values |",
        "|---|---|---|---|---|",
    ]
    for t in layout.TABLES:
        sheet = book.tables[t.name][0]
        headers = ", ".join(f"`{h}`" for h in t.headers)
        allowed = "; ".join(
            f"{h}: {_COLUMN_VALUES[(t.name, h)]}"
            for h in t.headers
            if (t.name, h) in _COLUMN_VALUES
        )
        lines.append(f"| `{t.name}` | {sheet} | {headers} | {_md(t.help)} | {allowed or 'text'} |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
