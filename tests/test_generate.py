"""Tests of the intake workbook generator: the layout contract, its look, and filling it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from cssw_docs import examples
from cssw_docs.models import Action, Submission
from cssw_docs.rubric import GRADES, Rubric
from cssw_docs.rules import REFERENCE_HELP
from cssw_docs.workbook import generate, layout, sheets

# --- helpers: read a generated workbook through its contract ---


def _cell(wb: Workbook, name: str):
    """Return the cell the defined name ``name`` points at."""
    ((sheet, coordinate),) = tuple(wb.defined_names[name].destinations)
    return wb[sheet][coordinate.replace("$", "")]


def _table(wb: Workbook, name: str) -> tuple[Worksheet, object]:
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    raise KeyError(name)


def _data_rows(wb: Workbook, name: str) -> list[tuple]:
    """Return the values of every data row of table ``name``."""
    ws, t = _table(wb, name)
    min_col, min_row, max_col, max_row = range_boundaries(t.ref)
    return [
        tuple(ws.cell(r, c).value for c in range(min_col, max_col + 1))
        for r in range(min_row + 1, max_row + 1)
    ]


def _column_cells(wb: Workbook, table: str, header: str) -> tuple[Worksheet, list[str]]:
    ws, t = _table(wb, table)
    min_col, min_row, _, max_row = range_boundaries(t.ref)
    col = min_col + [c.name for c in t.tableColumns].index(header)
    letter = openpyxl.utils.get_column_letter(col)
    return ws, [f"{letter}{r}" for r in range(min_row + 1, max_row + 1)]


def _validation(ws: Worksheet, coordinate: str):
    """Return the one data validation covering ``coordinate``."""
    found = [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(found) == 1, f"{ws.title}!{coordinate} has {len(found)} validations"
    return found[0]


def _list_values(wb: Workbook, dv) -> tuple[str, ...]:
    """Return the values a list validation offers, inline or from a sheet range."""
    formula = dv.formula1
    if formula.startswith('"'):
        return tuple(formula.strip('"').split(","))
    sheet, ref = formula.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return tuple(str(c.value) for row in ws[ref.replace("$", "")] for c in row)


@pytest.fixture(scope="module")
def blank_path(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> Path:
    """A blank workbook written once for the module."""
    return generate.new_workbook(tmp_path_factory.mktemp("blank") / "audit.xlsx", the_rubric)


@pytest.fixture(scope="module")
def blank(blank_path: Path) -> Workbook:
    """The blank workbook, opened with openpyxl."""
    return openpyxl.load_workbook(blank_path)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> Workbook:
    """The good example audit written with write_submission, opened with openpyxl."""
    path = tmp_path_factory.mktemp("filled") / "good.xlsx"
    generate.write_submission(examples.good(the_rubric), path, the_rubric)
    return openpyxl.load_workbook(path)


# --- the contract: defined names and tables ---


@pytest.mark.slow
def test_every_field_is_one_workbook_scoped_name_on_one_cell(
    blank: Workbook, the_rubric: Rubric
) -> None:
    """Each layout field is defined exactly once, at workbook scope, pointing at one cell."""
    wanted = [f.name for f in layout.all_fields(the_rubric)]
    assert sorted(blank.defined_names) == sorted(wanted)
    cells = set()
    for name in wanted:
        destinations = list(blank.defined_names[name].destinations)
        assert len(destinations) == 1
        sheet, coordinate = destinations[0]
        assert ":" not in coordinate
        cells.add((sheet, coordinate))
    assert len(cells) == len(wanted), "two names share a cell"
    for ws in blank.worksheets:
        assert not ws.defined_names, f"{ws.title} has sheet-scoped names"


@pytest.mark.parametrize("spec", layout.TABLES, ids=lambda t: t.name)
def test_tables_have_exact_headers(blank: Workbook, spec: layout.Table) -> None:
    """Each layout table is an Excel table whose header cells are exactly the contract's."""
    ws, t = _table(blank, spec.name)
    assert tuple(c.name for c in t.tableColumns) == spec.headers
    min_col, min_row, max_col, _ = range_boundaries(t.ref)
    assert tuple(ws.cell(min_row, c).value for c in range(min_col, max_col + 1)) == spec.headers


@pytest.mark.parametrize(("name", "rows"), sorted(sheets.TABLE_ROWS.items()))
def test_tables_have_empty_rows_to_type_into(blank: Workbook, name: str, rows: int) -> None:
    """The input tables start empty with enough rows to fill."""
    data = _data_rows(blank, name)
    assert len(data) == rows
    assert all(v is None for row in data for v in row)


def test_descriptors_table_holds_every_rubric_descriptor(
    blank: Workbook, the_rubric: Rubric
) -> None:
    """The Descriptors table lists every descriptor, by section name and grade, Evidenced blank."""
    expected = [
        (s.name, grade, text, None)
        for s in the_rubric.sections
        for grade in GRADES
        for text in s.of_grade(grade)
    ]
    assert _data_rows(blank, "Descriptors") == expected


def test_practice_areas_are_prefilled(blank: Workbook, the_rubric: Rubric) -> None:
    """The PracticeAreas table lists the eleven core areas with blank notes."""
    assert _data_rows(blank, "PracticeAreas") == [(a, None) for a in the_rubric.core_areas]


def test_template_version_is_filled_and_type_blank(blank: Workbook) -> None:
    """The generator writes the template version; the audit type is left to the auditor."""
    assert _cell(blank, "template_version").value == layout.TEMPLATE_VERSION
    assert _cell(blank, "audit_type").value is None


@pytest.mark.slow
def test_audit_type_is_prefilled_in_its_own_spelling(tmp_path: Path, the_rubric: Rubric) -> None:
    """--type is matched without regard to case and written as the rubric spells it."""
    path = generate.new_workbook(tmp_path / "a.xlsx", the_rubric, "  practice WEEK ")
    assert _cell(openpyxl.load_workbook(path), "audit_type").value == "Practice Week"


def test_unknown_audit_type_is_refused_in_plain_words(tmp_path: Path, the_rubric: Rubric) -> None:
    """An unknown type raises GenerateError listing the types, and writes nothing."""
    with pytest.raises(generate.GenerateError, match="Choose one of: Early Help/Front Door"):
        generate.new_workbook(tmp_path / "a.xlsx", the_rubric, "Deep dive")
    assert not (tmp_path / "a.xlsx").exists()


def test_sheets_come_in_the_order_an_auditor_works(blank: Workbook) -> None:
    """Visible sheets follow sheet_order(); the Lists sheet is hidden at the end."""
    assert blank.sheetnames == [*sheets.sheet_order(), sheets.LISTS]
    assert blank[sheets.LISTS].sheet_state == "hidden"
    assert all(blank[s].sheet_state == "visible" for s in sheets.sheet_order())
    assert blank.active.title == sheets.START


def _all_text(wb: Workbook) -> str:
    return "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
    )


@pytest.mark.slow
def test_guidance_counts_come_from_the_rubric(tmp_path: Path, the_rubric: Rubric) -> None:
    """A rubric with twelve core areas makes the guidance say twelve, never eleven."""
    areas = (*the_rubric.core_areas, "Transitions to adulthood")
    rubric = dataclasses.replace(the_rubric, core_areas=areas)
    text = _all_text(openpyxl.load_workbook(generate.new_workbook(tmp_path / "a.xlsx", rubric)))
    assert text.count("twelve core areas") == 2  # the Start here step and the sheet's subtitle
    assert "eleven" not in text
    assert "the six sections" in text and "The five questions" in text


@pytest.mark.parametrize(("n", "words"), [(5, "five"), (11, "eleven"), (20, "twenty"), (21, "21")])
def test_counts_are_written_in_words_up_to_twenty(n: int, words: str) -> None:
    """in_words spells small counts and leaves large ones as digits."""
    assert layout.in_words(n) == words


# --- dropdowns, notes and formats ---


def _choice_fields(rubric: Rubric) -> list[layout.Field]:
    return [f for f in layout.all_fields(rubric) if f.kind == "choice"]


def test_every_choice_field_has_the_contract_dropdown(blank: Workbook, the_rubric: Rubric) -> None:
    """Each choice cell offers exactly choices_for(...) and refuses other values with a message."""
    for f in _choice_fields(the_rubric):
        c = _cell(blank, f.name)
        dv = _validation(c.parent, c.coordinate)
        assert dv.type == "list", f.name
        assert _list_values(blank, dv) == layout.choices_for(f.choices, the_rubric), f.name
        assert dv.showErrorMessage and dv.error, f.name
        assert not dv.showDropDown, f"{f.name}: the in-cell arrow is hidden"


def test_every_input_explains_itself(blank: Workbook, the_rubric: Rubric) -> None:
    """Every single-value input shows its help text as an input message when selected."""
    for f in layout.all_fields(the_rubric):
        if f.name == "template_version":
            continue
        c = _cell(blank, f.name)
        dv = _validation(c.parent, c.coordinate)
        assert dv.showInputMessage, f.name
        assert dv.prompt == f.meaning(the_rubric)[:255], f.name
        assert dv.promptTitle and len(dv.promptTitle) <= 32, f.name


def test_date_fields_are_formatted_and_validated_as_dates(
    blank: Workbook, the_rubric: Rubric
) -> None:
    """Date cells show dd/mm/yyyy and accept only dates."""
    dates = [f for f in layout.all_fields(the_rubric) if f.kind == "date"]
    assert len(dates) == 4
    for f in dates:
        c = _cell(blank, f.name)
        assert c.number_format == "dd/mm/yyyy", f.name
        dv = _validation(c.parent, c.coordinate)
        assert dv.type == "date" and dv.showErrorMessage, f.name


def test_minutes_accept_whole_numbers_only(blank: Workbook) -> None:
    """The discussion length is validated as a whole number."""
    c = _cell(blank, "discussion_minutes")
    assert _validation(c.parent, c.coordinate).type == "whole"


@pytest.mark.parametrize(
    ("table", "header", "expected"),
    [
        ("AuditPlan", "Section", "sections"),
        ("FamilyFeedback", "Question", ("1", "2", "3", "4", "5")),
        ("ComplianceGaps", "Addressed", ("Yes", "No")),
        ("Descriptors", "Evidenced", ("Yes", "No")),
    ],
)
def test_table_columns_have_dropdowns(
    blank: Workbook, the_rubric: Rubric, table: str, header: str, expected
) -> None:
    """Enumerated table columns offer their list on every row."""
    if expected == "sections":
        expected = tuple(s.name for s in the_rubric.sections)
    ws, cells = _column_cells(blank, table, header)
    for coordinate in (cells[0], cells[-1]):
        dv = _validation(ws, coordinate)
        assert dv.type == "list"
        assert _list_values(blank, dv) == expected


@pytest.mark.parametrize(
    ("table", "header"), [("AuditPlan", "Due date"), ("ComplianceGaps", "Raised on")]
)
def test_table_date_columns_are_dates(blank: Workbook, table: str, header: str) -> None:
    """Date columns of tables are formatted dd/mm/yyyy and validated as dates."""
    ws, cells = _column_cells(blank, table, header)
    for coordinate in cells:
        assert ws[coordinate].number_format == "dd/mm/yyyy"
    assert _validation(ws, cells[-1]).type == "date"


@pytest.mark.slow
def test_long_lists_come_from_the_hidden_lists_sheet(tmp_path: Path, the_rubric: Rubric) -> None:
    """A dropdown longer than Excel's 255-character limit, or with commas, uses a sheet range."""
    roles = tuple(f"Role number {i}, with a long description of who they are" for i in range(12))
    rubric = dataclasses.replace(the_rubric, auditor_roles=roles)
    wb = openpyxl.load_workbook(generate.new_workbook(tmp_path / "a.xlsx", rubric))
    c = _cell(wb, "auditor_role")
    dv = _validation(c.parent, c.coordinate)
    assert dv.formula1.startswith("'Lists'!") or dv.formula1.startswith("Lists!")
    assert _list_values(wb, dv) == roles


# --- protection ---


def _input_cells(wb: Workbook, rubric: Rubric) -> set[tuple[str, str]]:
    cells = {
        (_cell(wb, f.name).parent.title, _cell(wb, f.name).coordinate)
        for f in layout.all_fields(rubric)
        if f.name != "template_version"
    }
    typed = {
        "AuditPlan": layout.table("AuditPlan").headers,
        "FamilyFeedback": layout.table("FamilyFeedback").headers,
        "ComplianceGaps": layout.table("ComplianceGaps").headers,
        "Descriptors": ("Evidenced",),
        "PracticeAreas": ("Notes",),
    }
    for table, headers in typed.items():
        for header in headers:
            ws, coords = _column_cells(wb, table, header)
            cells |= {(ws.title, c) for c in coords}
    return cells


def test_sheets_are_protected_without_a_password(blank: Workbook) -> None:
    """Every sheet is protected, with no password, and rows can still be resized."""
    for ws in blank.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title
        assert not ws.protection.formatRows, ws.title


def test_inputs_are_unlocked_and_everything_else_is_locked(
    blank: Workbook, the_rubric: Rubric
) -> None:
    """Auditors can type in every input cell and in nothing else (labels, descriptors...)."""
    inputs = _input_cells(blank, the_rubric)
    for sheet, coordinate in inputs:
        assert not blank[sheet][coordinate].protection.locked, f"{sheet}!{coordinate}"
    labelled = 0
    for ws in blank.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and (ws.title, c.coordinate) not in inputs:
                    assert c.protection.locked, f"{ws.title}!{c.coordinate} ({c.value!r})"
                    labelled += 1
    assert labelled > 200  # labels, help text, headers and the pre-filled descriptors


def test_template_version_cell_is_locked(blank: Workbook) -> None:
    """The template version is the generator's, not the auditor's."""
    assert _cell(blank, "template_version").protection.locked


# --- printing ---


def test_every_sheet_prints_on_a4_fitted_to_width(blank: Workbook) -> None:
    """Each visible sheet is set to A4, one page wide, as many pages tall as needed."""
    for title in sheets.sheet_order():
        ws = blank[title]
        assert int(ws.page_setup.paperSize) == 9, title  # 9 is A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, title


def test_rating_sections_are_not_split_across_pages(blank: Workbook) -> None:
    """The Ratings sheet breaks pages between sections, never inside one."""
    ws = blank[sheets.RATINGS]
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks, "six sections do not fit on one landscape page"
    section_heads = {
        c.row
        for c in ws["B"]
        if isinstance(c.value, str) and c.value[:2] in {"2.", "3.", "4.", "5.", "6."}
    }
    assert all(b + 1 in section_heads for b in breaks)


@pytest.mark.slow
def test_wrapped_text_rows_are_tall_enough(filled: Workbook) -> None:
    """Rows holding long wrapped text get a height (Excel does not fit rows on opening)."""
    c = _cell(filled, "overall_summary")
    height = c.parent.row_dimensions[c.row].height
    assert height is not None and height >= 4 * 12


# --- write_submission ---


def _shown(value: object) -> object:
    """Return ``value`` as write_submission stores it in a cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int):
        return value
    return str(value)


def test_write_submission_fills_every_field(filled: Workbook, the_rubric: Rubric) -> None:
    """Every single value of the Submission is in the cell its defined name points at."""
    sub = examples.good(the_rubric)
    for f in layout.FIELDS:
        assert _cell(filled, f.name).value == _shown(getattr(sub, f.name)), f.name
    for section in sub.sections:
        for suffix in ("rating", "evidence", "strengths", "development"):
            expected = _shown(getattr(section, suffix))
            assert _cell(filled, f"{section.key}_{suffix}").value == expected


def test_written_dates_are_real_dates_shown_uk_style(filled: Workbook) -> None:
    """Dates are stored as dates (not text) and keep the dd/mm/yyyy format."""
    c = _cell(filled, "audit_date")
    assert isinstance(c.value, dt.datetime)
    assert c.number_format == "dd/mm/yyyy"


def test_write_submission_fills_the_tables(filled: Workbook, the_rubric: Rubric) -> None:
    """Actions, feedback and gaps fill the first rows of their tables; the rest stay empty."""
    sub = examples.good(the_rubric)
    plan = _data_rows(filled, "AuditPlan")
    assert plan[: len(sub.actions)] == [
        (a.action, a.section, a.owner, _shown(a.due), a.measure, None, None) for a in sub.actions
    ]
    assert all(v is None for row in plan[len(sub.actions) :] for v in row)
    feedback = _data_rows(filled, "FamilyFeedback")
    assert feedback[: len(sub.feedback)] == [
        (r.respondent, r.question, r.response) for r in sub.feedback
    ]
    gaps = _data_rows(filled, "ComplianceGaps")
    assert gaps[: len(sub.gaps)] == [
        (g.area, g.gap, _shown(g.raised_on), _shown(g.addressed)) for g in sub.gaps
    ]


def test_write_submission_marks_evidenced_descriptors(filled: Workbook, the_rubric: Rubric) -> None:
    """Evidenced is Yes exactly for the descriptors the Submission marks evidenced."""
    sub = examples.good(the_rubric)
    wanted = {(m.section, m.grade, m.descriptor) for m in sub.descriptors if m.evidenced}
    rows = _data_rows(filled, "Descriptors")
    marked = {(s, g, d) for s, g, d, e in rows if e == "Yes"}
    assert marked == wanted
    assert len(rows) == len(sub.descriptors)


def test_write_submission_writes_practice_area_notes(filled: Workbook, the_rubric: Rubric) -> None:
    """Notes land beside their core area."""
    sub = examples.good(the_rubric)
    assert _data_rows(filled, "PracticeAreas") == [
        (n.area, n.notes or None) for n in sub.practice_areas
    ]


@pytest.mark.slow
def test_write_submission_grows_tables_for_long_plans(tmp_path: Path, the_rubric: Rubric) -> None:
    """A plan longer than the blank table's rows still fits, with spare rows after it."""
    actions = tuple(
        Action(
            f"Action number {i} with enough words",
            "Planning",
            "A. Owner",
            dt.date(2026, 12, 1),
            "Done",
        )
        for i in range(40)
    )
    sub = examples.variant(examples.good(the_rubric), actions=actions)
    wb = openpyxl.load_workbook(generate.write_submission(sub, tmp_path / "a.xlsx", the_rubric))
    rows = _data_rows(wb, "AuditPlan")
    assert len(rows) >= 45
    assert [r[0] for r in rows[:40]] == [a.action for a in actions]


@pytest.mark.slow
def test_write_submission_keeps_a_different_template_version(
    tmp_path: Path, the_rubric: Rubric
) -> None:
    """The submission's own template_version is written (tests of incompatible versions use it)."""
    sub = examples.variant(examples.good(the_rubric), template_version="9.0")
    wb = openpyxl.load_workbook(generate.write_submission(sub, tmp_path / "a.xlsx", the_rubric))
    assert _cell(wb, "template_version").value == "9.0"


def test_write_submission_leaves_no_temporary_files(tmp_path: Path, the_rubric: Rubric) -> None:
    """Saving is atomic: only the workbook itself is left in the folder."""
    generate.write_submission(Submission(), tmp_path / "empty.xlsx", the_rubric)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.xlsx"]


# --- LibreOffice opens it ---


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_prints_the_workbook(soffice: str, blank_path: Path, tmp_path: Path) -> None:
    """LibreOffice converts the blank workbook to a PDF of a sensible number of pages."""
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(blank_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = (tmp_path / "audit.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    # Start, details, six rating sections, descriptors (3), plan, feedback, gaps, areas,
    # summary, storyboard: about 17 pages; a layout gone wrong prints many more.
    assert 12 <= pages <= 22


def test_reference_help_is_the_rulebook_s(blank: Workbook) -> None:
    """The audit reference's note states the rule rules.py enforces, not a copy of it."""
    assert REFERENCE_HELP in _cell(blank, "audit_ref").offset(column=1).value
