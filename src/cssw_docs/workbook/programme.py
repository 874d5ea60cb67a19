"""The annual audit programme workbook: its contract, the blank the QA unit fills, its reader.

Like the audit workbook, everything is found by name: the defined name ``programme_version``
and the Excel table ``Programme`` (one row per planned audit, found by its header texts), so
rows and columns may move. ``validate.programme`` judges the rows; ``annotate`` marks them.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from ..config import ValidationSettings
from ..models import Finding, Location, Severity
from ..rubric import Rubric
from . import blocks, layout, safety, styles
from .blocks import Builder
from .generate import _save
from .parse import UnreadableWorkbook, parse_date
from .xlsx import TooManyCells, read_book

VERSION = "1.0"
VERSION_NAME = "programme_version"
TABLE = "Programme"
START = "Start here"
SHEET = "Programme"
LISTS = "Lists"
ROWS = 60  # empty rows in the blank (the table grows as rows are added below it in Excel)
MONTH_FORMAT = "mmm yyyy"


@dataclass(frozen=True)
class Column:
    """One column of the Programme table: the key it is read into, its header and meaning."""

    key: str
    header: str
    kind: str  # text | email | choice | month
    help: str
    choices: str = ""  # for a choice: a list of layout.choices_for
    width: float = 18
    required: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("ref", "Audit reference", "text", layout.FIELDS[1].help, width=17),
    Column("audit_type", "Type of audit", "choice", "The kind of audit.", "audit_types", 17),
    Column(
        "theme",
        "Theme",
        "text",
        "The theme or area of interest (needed for Thematic and Practice Week audits).",
        width=20,
        required=False,
    ),
    Column(
        "planned_month",
        "Planned month",
        "month",
        "The month the audit is planned for: type any date in it, e.g. 01/05/2026. Its "
        "workbook goes to the auditor on the month's first working day.",
        width=11,
    ),
    Column("auditor_name", "Auditor", "text", "Who carries out the audit.", width=17),
    Column("auditor_email", "Auditor's email", "email", "Their work email address.", width=26),
    Column(
        "auditor_role",
        "Auditor's role",
        "choice",
        "The auditor's role in this audit.",
        "auditor_roles",
        18,
        required=False,
    ),
    Column("team", "Team", "text", "The allocated worker's team.", width=14),
    Column(
        "practitioner_name",
        "Allocated worker",
        "text",
        "The practitioner whose work is audited.",
        width=17,
    ),
    Column(
        "practitioner_email", "Allocated worker's email", "email", "Their work email.", width=26
    ),
    Column("manager_name", "Line manager", "text", "The worker's line manager.", width=17),
    Column("manager_email", "Line manager's email", "email", "Their work email.", width=26),
    Column(
        "child_name",
        "Child's name",
        "text",
        "As recorded on MOSAIC. Goes into the audit workbook only; never into an email.",
        width=17,
    ),
    Column("child_mosaic_id", "MOSAIC ID", "text", "The child's MOSAIC person ID.", width=12),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)


def column(key: str) -> Column:
    """Return the column read into ``key``."""
    for c in COLUMNS:
        if c.key == key:
            return c
    raise KeyError(key)


# --- the blank workbook --------------------------------------------------------------------------


def new_programme(path: Path, rubric: Rubric) -> Path:
    """Write the blank programme workbook to ``path`` and return ``path``."""
    wb = Workbook()
    wb.remove(wb.active)
    for name in (START, SHEET, LISTS):
        wb.create_sheet(name)
    book = Builder(wb, rubric)
    _lists(book)
    _start(book)
    _table(book)
    for ws in wb.worksheets:
        ws.sheet_view.showGridLines = False
        styles.protect(ws)
        styles.default_fonts(ws)
        ws.oddFooter.left.text = "OFFICIAL-SENSITIVE: audit programme"
    wb[START].sheet_properties.tabColor = styles.NAVY
    wb.active = 0
    return _save(book, Path(path))


def _lists(book: Builder) -> None:
    ws = book.sheet(LISTS)
    ws.sheet_state = "hidden"
    keys = sorted({c.choices for c in COLUMNS if c.kind == "choice"})
    for col, key in enumerate(keys, start=1):
        values = blocks.list_values(book, key)
        letter = get_column_letter(col)
        ws.cell(1, col, key)
        for row, value in enumerate(values, start=2):
            ws.cell(row, col, value)
        book.list_refs[key] = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(values) + 1}"


def _start(book: Builder) -> None:
    ws = book.sheet(START)
    blocks.widths(ws, {"A": 2, "B": 4, "C": 26, "D": 70})
    blocks.title(
        ws, book, "Annual audit programme", "Camden Safeguarding and Social Work", span="B1:D1"
    )
    row = blocks.para(
        ws,
        4,
        "Plan the year's case audits here, one row per audit on the Programme sheet. Fill the "
        "yellow cells; a note appears when you click one, and cells with an arrow have a "
        "drop-down list. Then run `cssw-docs programme load` on this file.",
    )
    row += 1
    blocks.heading(ws, row, 2, "What happens next")
    row += 1
    steps = (
        "On the first working day of each audit's planned month, its auditor receives the "
        "audit workbook already filled with everything on this row, so nothing is typed twice.",
        "The allocated worker and line manager are told their work has been identified for "
        "audit: what will be reviewed, the case discussion and the family feedback request.",
        "An audit with no draft by the middle of its month reminds its auditor.",
        "Load a revised programme at any time: rows are matched by audit reference. A row you "
        "remove is dropped only while its audit has not started.",
    )
    for number, text in enumerate(steps, start=1):
        ws.cell(row, 2, number).font = styles.font(bold=True)
        ws.cell(row, 2).alignment = Alignment(vertical="top", horizontal="right")
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=4)
        ws.cell(row, 3, text).alignment = styles.WRAP_TOP
        ws.cell(row, 3).font = styles.font()
        book.height(ws, row, 28)
        row += 1
    row += 1
    blocks.heading(ws, row, 2, "The columns")
    row += 1
    for c in COLUMNS:
        label = ws.cell(row, 3, c.header + ("" if c.required else " (optional)"))
        label.font = styles.font(bold=True)
        label.alignment = styles.WRAP_TOP
        blocks.help_text(ws, row, 4, _meaning(c, book.rubric))
        row += 1
    row += 1
    blocks.heading(ws, row, 2, "Keep it safe")
    row += 1
    row = blocks.para(
        ws,
        row,
        "This workbook names children. Store it only where your service allows, and never put "
        "a child's name in a file name or an email subject.",
    )
    row += 1
    c = ws.cell(row, 3, "Programme version")
    c.font = styles.font(bold=True)
    version = ws.cell(row, 4, VERSION)
    version.font = styles.font(color=styles.GREY)
    version.alignment = Alignment(horizontal="left")
    blocks.define(book, VERSION_NAME, ws, version.coordinate)
    styles.page(ws, landscape=False)


def _meaning(c: Column, rubric: Rubric) -> str:
    if c.kind == "choice":
        return f"{c.help} One of: {', '.join(layout.choices_for(c.choices, rubric))}."
    return c.help


def _table(book: Builder) -> None:
    ws = book.sheet(SHEET)
    last_col = get_column_letter(len(COLUMNS))
    blocks.widths(ws, {get_column_letter(i): c.width for i, c in enumerate(COLUMNS, start=1)})
    blocks.title(
        ws,
        book,
        "Audit programme",
        "One row per planned audit. Click a cell to see what it needs; dates as dd/mm/yyyy.",
        span=f"A1:{last_col}1",
    )
    spec = layout.Table(TABLE, HEADERS, "The planned audits of the year.")
    _, first, last = blocks.table(ws, book, spec, 3, ROWS)
    blocks.table_inputs(ws, [get_column_letter(i) for i in range(1, len(COLUMNS) + 1)], first, last)
    book.height(ws, 3, 32)
    for i, c in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        ref = f"{letter}{first}:{letter}{last}"
        meaning = _meaning(c, book.rubric)
        if c.kind == "choice":
            blocks.list_validation(ws, book, c.choices, ref, c.header, meaning)
        elif c.kind == "month":
            blocks.date_validation(ws, ref, c.header, meaning)
            for row in range(first, last + 1):
                ws[f"{letter}{row}"].number_format = MONTH_FORMAT
                ws[f"{letter}{row}"].alignment = styles.LEFT_TOP
        else:
            dv = DataValidation(type=None, showErrorMessage=False)
            dv.showInputMessage = True
            dv.promptTitle = c.header[:32]
            dv.prompt = meaning[:255]
            dv.add(ref)
            ws.add_data_validation(dv)
    styles.page(ws, landscape=True, title_row=3)


# --- reading a filled programme ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    """One row of the Programme table as typed: text values by column key, and where it is."""

    row: int
    values: dict[str, Any]
    cells: dict[str, Location] = field(default_factory=dict)

    def text(self, key: str) -> str:
        """Return the value of ``key`` as one line of text ("" when empty)."""
        value = self.values.get(key)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return " ".join(str(value).split())


@dataclass(frozen=True)
class ReadProgramme:
    """The rows of a programme workbook, or the finding that says why it cannot be read."""

    rows: tuple[PlannedRow, ...] = ()
    problem: Finding | None = None


def read_programme(path: Path, limits: ValidationSettings) -> ReadProgramme:
    """Return the non-empty rows of the Programme table in the workbook at ``path``."""
    try:
        parts = safety.open_workbook(Path(path), limits)
        book = read_book(
            parts, max_cells=limits.max_cells_per_sheet, names=[VERSION_NAME], tables=[TABLE]
        )
    except UnreadableWorkbook as exc:
        return ReadProgramme(problem=exc.finding)
    except (TooManyCells, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError):
        return ReadProgramme(problem=_not_a_programme())
    found = None
    for sheet in book.sheet_names:
        for table in book.tables(sheet).values():
            if table.name.casefold() == TABLE.casefold():
                found = (sheet, table)
    if found is None:
        return ReadProgramme(problem=_not_a_programme())
    sheet, table = found
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    where = {
        " ".join(str(book.value(sheet, min_row, col) or "").split()).casefold(): col
        for col in range(min_col, max_col + 1)
    }
    missing = [h for h in HEADERS if h.casefold() not in where]
    if missing:
        return ReadProgramme(
            problem=Finding(
                "programme.table_header",
                Severity.ERROR,
                f"The Programme table has lost its '{missing[0]}' column heading. Type the "
                f"heading '{missing[0]}' back into the table's top row.",
                Location(sheet, f"{get_column_letter(min_col)}{min_row}"),
            )
        )
    rows = []
    last = min(max_row - table.totals_rows, book.last_row(sheet))
    for r in range(min_row + 1, last + 1):
        values, cells = {}, {}
        for c in COLUMNS:
            col = where[c.header.casefold()]
            values[c.key] = book.value(sheet, r, col)
            cells[c.key] = Location(sheet, f"{get_column_letter(col)}{r}")
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        rows.append(PlannedRow(r, values, cells))
    return ReadProgramme(tuple(rows))


def _not_a_programme() -> Finding:
    return Finding(
        "programme.not_a_programme",
        Severity.ERROR,
        "This file is not an audit programme workbook: it has no Programme table. Start from "
        "a blank one (`cssw-docs programme new -o programme.xlsx`) and copy the rows into it.",
        None,
    )


def month_of(value: Any) -> dt.date | None:
    """Return the first day of the month ``value`` names (a date, or text such as "May 2026",
    "05/2026", "2026-05"); raise ValueError when it names none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = " ".join(value.split())
        for form in ("%b %Y", "%B %Y", "%m/%Y", "%Y-%m"):
            try:
                return dt.datetime.strptime(text, form).date().replace(day=1)
            except ValueError:
                continue
    day = parse_date(value)
    if day is None:
        return None
    return day.replace(day=1)


def programme_markdown(rubric: Rubric) -> str:
    """Return the programme workbook's reference: its defined name and table columns."""
    lines = [
        f"Defined name: `{VERSION_NAME}` (Start here sheet; {VERSION}). Excel table: `{TABLE}` "
        f"on the {SHEET} sheet, one row per planned audit (empty rows are ignored):",
        "",
        "| Column | Needed | Meaning |",
        "|---|---|---|",
    ]
    for c in COLUMNS:
        needed = "yes" if c.required else "no"
        lines.append(f"| {c.header} | {needed} | {_meaning(c, rubric).replace('|', '/')} |")
    return "\n".join(lines) + "\n"
