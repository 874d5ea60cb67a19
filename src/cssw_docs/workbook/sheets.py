"""Lays out each sheet of the intake workbook, in the order an auditor works through them.

The contract (defined names, tables, allowed values) lives in ``layout.py``; this module
decides where each input sits. The parser finds everything by defined name and table name,
so cells may move freely between template versions.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from ..models import SECTION_KEYS
from ..rubric import GRADES, Rubric, in_words
from . import blocks, layout, styles
from .blocks import Builder
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


def sheet_order() -> tuple[str, ...]:
    """Return the visible sheets' names in the order an auditor works through them."""
    return (START, DETAILS, RATINGS, DESCRIPTORS, PLAN, FEEDBACK, GAPS, AREAS, SUMMARY, STORYBOARD)


def build(
    rubric: Rubric,
    audit_type: str | None,
    *,
    rows: dict[str, int] | None = None,
    extra_area_rows: int = 0,
) -> Builder:
    """Return the laid-out workbook; ``rows`` overrides TABLE_ROWS' empty rows per table."""
    wb = Workbook()
    wb.remove(wb.active)
    for name in (*sheet_order(), LISTS):
        wb.create_sheet(name)
    book = Builder(wb, rubric)
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

    book.cell("template_version").value = layout.TEMPLATE_VERSION
    if audit_type:
        book.cell("audit_type").value = audit_type
    for ws in wb.worksheets:
        ws.sheet_view.showGridLines = ws.title in (DESCRIPTORS,)
        styles.protect(ws)
        styles.default_fonts(ws)
    wb[START].sheet_properties.tabColor = styles.NAVY
    wb.active = 0
    return book


def _lists_sheet(book: Builder) -> None:
    """The hidden sheet holding every dropdown list, for lists too long to write inline."""
    ws = book.sheet(LISTS)
    ws.sheet_state = "hidden"
    keys = sorted({f.choices for f in layout.all_fields(book.rubric) if f.kind == "choice"})
    for col, key in enumerate((*keys, "sections", "questions"), start=1):
        values = blocks.list_values(book, key)
        letter = get_column_letter(col)
        ws.cell(1, col, key).font = styles.font(bold=True)
        for row, value in enumerate(values, start=2):
            ws.cell(row, col, value)
        ws.column_dimensions[letter].width = 32
        book.list_refs[key] = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(values) + 1}"
    ws.protection.sheet = True


def _start_sheet(book: Builder, version_field: Field) -> None:
    ws = book.sheet(START)
    r = book.rubric
    blocks.widths(ws, {"A": 2, "B": 4, "C": 30, "D": 62})
    blocks.title(
        ws, book, "Case audit workbook", "Camden Safeguarding and Social Work", span="B1:D1"
    )
    row = 4
    row = blocks.para(
        ws,
        row,
        "Use this workbook for one case audit. Fill the yellow cells, sheet by sheet from left "
        "to right. Grey text and the notes that appear when you click a cell explain each "
        "field. Cells with a small arrow have a drop-down list. Type dates as dd/mm/yyyy.",
    )
    row += 1
    blocks.heading(ws, row, 2, "Steps")
    row += 1
    steps = (
        (
            DETAILS,
            "Who and what: the audit, the child, the people involved, the case "
            "discussion and, for Practice Week, the practice you observed.",
        ),
        (
            RATINGS,
            f"Rate each of the {in_words(len(r.sections))} sections using the descriptors "
            "beside it, and write the evidence for your rating. Outstanding needs a written "
            "justification.",
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
            "Whether the family agreed to speak to you, and their answers to the "
            f"{in_words(len(r.family_feedback_questions))} standard questions.",
        ),
        (
            GAPS,
            "Compliance gaps you raised before finalising (supervision, case notes, "
            "chronology, visits) and whether each was addressed.",
        ),
        (
            AREAS,
            f"Notes on the {in_words(len(r.core_areas))} core areas of practice, where relevant.",
        ),
        (
            SUMMARY,
            "Your overall rating and summary; at Final, the practitioner's view and feedback.",
        ),
        (
            STORYBOARD,
            "Only for Good or Outstanding practice at Final: its status, and when Completed "
            "the storyboard, the consents and your confirmation. No names, MOSAIC ID, dates of "
            "birth, phone numbers, emails or postcodes.",
        ),
    )
    for number, (sheet, text) in enumerate(steps, start=1):
        ws.cell(row, 2, number).font = styles.font(bold=True)
        ws.cell(row, 2).alignment = Alignment(vertical="top", horizontal="right")
        link = ws.cell(row, 3, sheet)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(sheet)}!A1")
        link.font = styles.link_font()
        link.alignment = styles.WRAP_TOP
        ws.cell(row, 4, text).alignment = styles.WRAP_TOP
        ws.cell(row, 4).font = styles.font()
        row += 1
    row += 1
    blocks.heading(ws, row, 2, "The ratings")
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
        c.font = styles.font(bold=True)
        c.alignment = styles.WRAP_TOP
        if grade in styles.GRADE_FILLS:
            c.fill = styles.GRADE_FILLS[grade]
        ws.cell(row, 4, text).alignment = styles.WRAP_TOP
        ws.cell(row, 4).font = styles.font()
        row += 1
    row += 1
    blocks.heading(ws, row, 2, "When you have finished")
    row += 1
    row = blocks.para(
        ws,
        row,
        "Save the workbook as .xlsx (keep the file type) and put it in the audit intake "
        "folder, or run `cssw-docs validate` on it. If anything needs correcting you get the "
        "workbook back with an Errors sheet first and each problem cell marked.",
    )
    row += 1
    blocks.heading(ws, row, 2, "Keep it safe")
    row += 1
    row = blocks.para(
        ws,
        row,
        "This workbook holds personal information about a child. Store it only in the places "
        "your service allows, and never put the child's name in the file name or an email "
        "subject.",
    )
    row += 1
    blocks.label(ws, row, version_field, col=3)
    c = ws.cell(row, 4)
    c.font = styles.font(color=styles.GREY)
    c.alignment = Alignment(horizontal="left")
    blocks.define(book, version_field.name, ws, c.coordinate)
    styles.page(ws, landscape=False)


def _details_sheet(book: Builder, fields: dict[str, Field]) -> None:
    ws = book.sheet(DETAILS)
    blocks.widths(ws, {"A": 2, "B": 32, "C": 44, "D": 50})
    blocks.title(ws, book, "Audit details", "Who and what this audit is about.", span="B1:D1")
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
        (
            "Practice Week only",
            (
                "observation_activity",
                "observation_consent",
                "observation_none_reason",
                "observation_none_detail",
            ),
        ),
    )
    blocks.field_groups(ws, book, fields, groups)


def _ratings_sheet(book: Builder, fields: dict[str, Field]) -> None:
    ws = book.sheet(RATINGS)
    r = book.rubric
    blocks.widths(ws, {"A": 2, "B": 16, "C": 64, "D": 34, "E": 34, "F": 34})
    blocks.title(
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
        row = blocks.band(ws, book, row, f"{number}. {section.name}", "B", "F")
        heads = ("", "Your judgement", *(f"{g} looks like" for g in GRADES))
        for col, text in enumerate(heads, start=2):
            c = ws.cell(row, col, text or None)
            c.font = styles.font(9, bold=True, color=styles.GREY if col < 4 else styles.INK)
            if col >= 4:
                c.fill = styles.GRADE_FILLS[GRADES[col - 4]]
                c.border = styles.BOX
        row += 1
        first = row
        for suffix, label_text, _kind, _choices in layout.SECTION_FIELD_SUFFIXES:
            f = fields[f"{key}_{suffix}"]
            blocks.label(ws, row, f, text=label_text)
            blocks.input_cell(ws, book, row, 3, f)
            book.height(ws, row, 24 if suffix == "rating" else 70)
            row += 1
        # The descriptors run one row further down: that row, holding no input, takes the
        # height they need, so the input rows above keep no fixed height and grow as typed.
        last = row
        for col, grade in enumerate(GRADES, start=4):
            ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
            c = ws.cell(first, col, "\n".join(f"• {d}" for d in section.of_grade(grade)))
            c.font = styles.font(9)
            c.alignment = styles.WRAP_TOP
            c.fill = styles.GRADE_FILLS[grade]
            for rr in range(first, last + 1):
                ws.cell(rr, col).border = styles.BOX
        book.blocks.setdefault(ws.title, []).append((top, last))
        row += 1
    styles.page(ws, landscape=True)


def _descriptors_sheet(book: Builder) -> None:
    ws = book.sheet(DESCRIPTORS)
    blocks.widths(ws, {"A": 22, "B": 20, "C": 90, "D": 13})
    blocks.title(
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
    header, first, last = blocks.table(ws, book, layout.table("Descriptors"), 3, len(data))
    for i, (name, grade, text) in enumerate(data):
        row = first + i
        for col, value in enumerate((name, grade, text), start=1):
            c = ws.cell(row, col, value)
            c.font = styles.font(9)
            c.alignment = styles.WRAP_TOP
            c.border = styles.BOX
        ws.cell(row, 2).fill = styles.GRADE_FILLS[grade]
    blocks.table_inputs(ws, ("D",), first, last)
    blocks.centre(ws, "D", first, last)
    blocks.list_validation(
        ws, book, "yes_no", f"D{first}:D{last}", "Evidenced", "Yes if the case shows this."
    )
    styles.yes_colour(ws, f"D{first}:D{last}")
    styles.page(ws, landscape=False, title_row=header)


def _plan_sheet(book: Builder, n: int) -> None:
    ws = book.sheet(PLAN)
    blocks.widths(ws, {"A": 46, "B": 20, "C": 20, "D": 12, "E": 40, "F": 11, "G": 13})
    blocks.title(
        ws,
        book,
        "Audit plan",
        "SMART actions: what exactly will be done, the section it serves, who will do it, by "
        "when (on or after the audit date, normally within "
        f"{in_words(book.rubric.rules.action_due_within_months)} months) and how success will "
        "be measured. Avoid vague wording such as 'continue to monitor'. Status and Completed "
        "on stay empty until an action is done or dropped.",
        span="A1:G1",
    )
    _, first, last = blocks.table(ws, book, layout.table("AuditPlan"), 3, n)
    blocks.table_inputs(ws, "ABCDEFG", first, last)
    blocks.list_validation(
        ws,
        book,
        "action_status",
        f"F{first}:F{last}",
        "Status",
        "Leave empty (Open) until the action is Done, or Dropped as no longer needed.",
    )
    blocks.date_validation(
        ws, f"G{first}:G{last}", "Completed on", "The day it was done (dd/mm/yyyy)."
    )
    blocks.date_format(ws, "G", first, last)
    blocks.list_validation(
        ws,
        book,
        "sections",
        f"B{first}:B{last}",
        "Section",
        "The rated section this action serves.",
    )
    blocks.date_validation(
        ws, f"D{first}:D{last}", "Due date", "When it must be done by (dd/mm/yyyy)."
    )
    blocks.date_format(ws, "D", first, last)
    styles.page(ws, landscape=True, title_row=first - 1)


def _feedback_sheet(book: Builder, fields: dict[str, Field], n: int) -> None:
    ws = book.sheet(FEEDBACK)
    questions = book.rubric.family_feedback_questions
    blocks.widths(ws, {"A": 24, "B": 11, "C": 100})
    blocks.title(
        ws,
        book,
        "Family feedback",
        "Ask the child or young person and their parents or carers the "
        f"{in_words(len(questions))} standard questions, with their consent. Write one row per "
        "answer: who answered, the question's number and what they said, in their words.",
        span="A1:C1",
    )
    row = 3
    consent = fields["family_consent"]
    blocks.label(ws, row, consent, col=1)
    blocks.input_cell(ws, book, row, 2, consent)
    blocks.help_text(ws, row, 3, consent.meaning(book.rubric))
    book.height(ws, row, 24)
    row += 2
    blocks.heading(ws, row, 1, f"The {in_words(len(questions))} questions", size=11)
    row += 1
    for i, question in enumerate(questions, start=1):
        c = ws.cell(row, 2, i)
        c.font = styles.font(bold=True)
        c.alignment = styles.CENTRE_TOP
        q = ws.cell(row, 3, question)
        q.font = styles.font()
        q.alignment = styles.WRAP_TOP
        row += 1
    row += 1
    _, first, last = blocks.table(ws, book, layout.table("FamilyFeedback"), row, n)
    blocks.table_inputs(ws, "ABC", first, last)
    blocks.list_validation(
        ws,
        book,
        "questions",
        f"B{first}:B{last}",
        "Question",
        f"The number of the question above (1 to {len(questions)}).",
    )
    blocks.centre(ws, "B", first, last)
    styles.page(ws, landscape=False, title_row=first - 1)


def _gaps_sheet(book: Builder, n: int) -> None:
    ws = book.sheet(GAPS)
    blocks.widths(ws, {"A": 24, "B": 66, "C": 13, "D": 13})
    blocks.title(
        ws,
        book,
        "Compliance gaps",
        "Gaps you raised with the worker before finalising the audit (for example supervision, "
        "case notes, chronology or visits), the date you raised each, and whether it was "
        "addressed before the audit was finalised.",
        span="A1:D1",
    )
    _, first, last = blocks.table(ws, book, layout.table("ComplianceGaps"), 3, n)
    blocks.table_inputs(ws, "ABCD", first, last)
    blocks.date_validation(
        ws, f"C{first}:C{last}", "Raised on", "The date you raised it (dd/mm/yyyy)."
    )
    blocks.date_format(ws, "C", first, last)
    blocks.list_validation(
        ws, book, "yes_no", f"D{first}:D{last}", "Addressed", "Was it addressed before finalising?"
    )
    blocks.centre(ws, "D", first, last)
    styles.page(ws, landscape=False, title_row=first - 1)


def _areas_sheet(book: Builder, extra_rows: int) -> None:
    ws = book.sheet(AREAS)
    areas = book.rubric.core_areas
    blocks.widths(ws, {"A": 44, "B": 80})
    blocks.title(
        ws,
        book,
        "Practice areas",
        f"The {in_words(len(areas))} core areas of practice the audit explores. Add notes where "
        "they help tell the story of this case; leave the others blank.",
        span="A1:B1",
    )
    spec = layout.table("PracticeAreas")
    _, first, last = blocks.table(ws, book, spec, 3, len(areas) + extra_rows)
    for i, area in enumerate(areas):
        c = ws.cell(first + i, 1, area)
        c.font = styles.font()
        c.alignment = styles.WRAP_TOP
        c.border = styles.BOX
        book.height(ws, first + i, 30)
    blocks.table_inputs(ws, "B", first, last)
    if extra_rows:
        blocks.table_inputs(ws, "A", first + len(areas), last)
    styles.page(ws, landscape=False, title_row=first - 1)


def _summary_sheet(book: Builder, fields: dict[str, Field]) -> None:
    ws = book.sheet(SUMMARY)
    blocks.widths(ws, {"A": 2, "B": 30, "C": 72, "D": 38})
    blocks.title(
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
    blocks.field_groups(ws, book, fields, groups)


def _storyboard_sheet(book: Builder, fields: dict[str, Field]) -> None:
    ws = book.sheet(STORYBOARD)
    blocks.widths(ws, {"A": 2, "B": 30, "C": 72, "D": 38})
    blocks.title(
        ws,
        book,
        "Storyboard",
        "Only when practice is Good or Outstanding, at Final. The worker is invited to write "
        "one with you; a Final audit is complete without it. A storyboard is shared across the "
        "service, and outside it only with the family's consent: write about 'the child' or "
        "'a boy aged 12', never names, MOSAIC IDs, dates of birth, phone numbers, emails or "
        "postcodes.",
        span="B1:D1",
    )
    row = blocks.band(ws, book, 4, "Where it stands", "B", "D")
    row = blocks.field_row(ws, book, row, fields["storyboard_status"])
    row = blocks.band(ws, book, row + 1, "The storyboard (when Completed)", "B", "D")
    for name in (
        "storyboard_title",
        "storyboard_context",
        "storyboard_what_we_did",
        "storyboard_impact",
        "storyboard_voice",
        "storyboard_learning",
    ):
        row = blocks.field_row(ws, book, row, fields[name])
    row = blocks.band(ws, book, row + 1, "Sharing and your confirmation", "B", "D")
    for name in (
        "storyboard_consent",
        "storyboard_consent_external",
        "storyboard_anonymised",
        "storyboard_details_confirmed",
    ):
        row = blocks.field_row(ws, book, row, fields[name])
    styles.page(ws, landscape=False)
