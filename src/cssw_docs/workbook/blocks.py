"""The pieces every sheet is laid out from: titles, bands, labelled inputs, dropdowns, tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..rubric import Rubric
from . import layout, styles
from .layout import Field

# Excel serial numbers of 01/01/2000 and 31/12/2099: the range a date cell accepts.
_DATE_MIN, _DATE_MAX = "36526", "73050"
_INLINE_LIST_LIMIT = 255  # Excel refuses inline dropdown lists longer than this


@dataclass
class Builder:
    """The workbook being built, and what the builder remembers about where things are."""

    wb: Workbook
    rubric: Rubric
    min_heights: dict[tuple[str, int], float] = field(default_factory=dict)
    # Table name -> (sheet, first data row, last data row).
    tables: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    list_refs: dict[str, str] = field(default_factory=dict)
    # Row ranges to keep on one printed page, by sheet title.
    blocks: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def sheet(self, title: str) -> Worksheet:
        """Return the sheet called ``title``."""
        return self.wb[title]

    def height(self, ws: Worksheet, row: int, points: float) -> None:
        """Remember that ``row`` should be at least ``points`` tall."""
        key = (ws.title, row)
        self.min_heights[key] = max(points, self.min_heights.get(key, 0.0))

    def cell(self, name: str) -> Cell:
        """Return the one cell the defined name ``name`` points at."""
        ((sheet, coordinate),) = tuple(self.wb.defined_names[name].destinations)
        return self.wb[sheet][coordinate.replace("$", "")]


def list_values(book: Builder, key: str) -> tuple[str, ...]:
    """Return the values of the dropdown list ``key``: a choice list, sections or questions."""
    if key == "sections":
        return tuple(s.name for s in book.rubric.sections)
    if key == "questions":
        return tuple(str(i) for i in range(1, len(book.rubric.family_feedback_questions) + 1))
    return layout.choices_for(key, book.rubric)


# --- text ------------------------------------------------------------------------------------


def widths(ws: Worksheet, columns: dict[str, float]) -> None:
    """Set the width of each column letter in ``columns``."""
    for letter, width in columns.items():
        ws.column_dimensions[letter].width = width


def title(ws: Worksheet, book: Builder, text: str, subtitle: str, *, span: str) -> None:
    """A large title on row 1 and a grey subtitle on row 2, across ``span``'s columns."""
    first, last = span.split(":")
    ws.merge_cells(span)
    c = ws[first]
    c.value = text
    c.font = styles.font(16, bold=True, color=styles.NAVY)
    c.alignment = Alignment(vertical="center")
    book.height(ws, 1, 28)
    second = f"{first[:-1]}2:{last[:-1]}2"
    ws.merge_cells(second)
    s = ws[f"{first[:-1]}2"]
    s.value = subtitle
    s.font = styles.font(italic=True, color=styles.GREY)
    s.alignment = styles.WRAP_TOP


def heading(ws: Worksheet, row: int, col: int, text: str, size: float = 12) -> None:
    """A navy bold heading in one cell."""
    ws.cell(row, col, text).font = styles.font(size, bold=True, color=styles.NAVY)


def para(ws: Worksheet, row: int, text: str) -> int:
    """A paragraph across columns B to D; returns the next row."""
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
    c = ws.cell(row, 2, text)
    c.font = styles.font()
    c.alignment = styles.WRAP_TOP
    return row + 1


def band(ws: Worksheet, book: Builder, row: int, text: str, first: str, last: str) -> int:
    """A coloured heading across ``first``..``last``; returns the next row."""
    ws.merge_cells(f"{first}{row}:{last}{row}")
    c = ws[f"{first}{row}"]
    c.value = text
    c.font = styles.font(11, bold=True, color=styles.NAVY)
    c.alignment = Alignment(vertical="center")
    for col in range(ws[f"{first}{row}"].column, ws[f"{last}{row}"].column + 1):
        ws.cell(row, col).fill = styles.BAND_FILL
    book.height(ws, row, 22)
    return row + 1


def label(ws: Worksheet, row: int, f: Field, *, col: int = 2, text: str | None = None) -> None:
    """The bold label of ``f`` (or ``text``) in ``(row, col)``."""
    c = ws.cell(row, col, text or f.label)
    c.font = styles.font(bold=True)
    c.alignment = styles.WRAP_TOP


def help_text(ws: Worksheet, row: int, col: int, text: str) -> None:
    """Small grey guidance in ``(row, col)``."""
    c = ws.cell(row, col, text)
    c.font = styles.font(9, italic=True, color=styles.GREY)
    c.alignment = styles.WRAP_TOP


# --- inputs ----------------------------------------------------------------------------------


def field_groups(
    ws: Worksheet,
    book: Builder,
    fields: dict[str, Field],
    groups: tuple[tuple[str, tuple[str, ...]], ...],
) -> None:
    """Lay out headed bands of label/input rows from row 4 down, then set up the page."""
    row = 4
    for text, names in groups:
        row = band(ws, book, row, text, "B", "D")
        for name in names:
            row = field_row(ws, book, row, fields[name])
        row += 1
    styles.page(ws, landscape=False)


def field_row(ws: Worksheet, book: Builder, row: int, f: Field) -> int:
    """Label in B, the input in C, guidance in D; returns the next row."""
    label(ws, row, f)
    input_cell(ws, book, row, 3, f)
    help_text(ws, row, 4, f.meaning(book.rubric))
    book.height(ws, row, 90 if f.kind == "long_text" else 20)
    return row + 1


def input_cell(ws: Worksheet, book: Builder, row: int, col: int, f: Field) -> None:
    """Make ``(row, col)`` the unlocked input cell of ``f``, with its dropdown and note."""
    c = ws.cell(row, col)
    c.fill = styles.INPUT_FILL
    c.border = styles.BOX
    styles.unlock(c)
    c.font = styles.font()
    c.alignment = styles.WRAP_TOP
    define(book, f.name, ws, c.coordinate)
    ref = c.coordinate
    if f.kind == "choice":
        list_validation(ws, book, f.choices, ref, f.label, f.meaning(book.rubric))
        if f.choices in ("section_ratings", "overall_ratings"):
            styles.rating_colours(ws, ref)
    elif f.kind == "date":
        date_validation(ws, ref, f.label, f.meaning(book.rubric))
        c.number_format = styles.DATE_FORMAT
        c.alignment = styles.LEFT_TOP
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
        _prompt(dv, f.label, f.meaning(book.rubric))
        dv.add(ref)
        ws.add_data_validation(dv)
        c.alignment = styles.LEFT_TOP
    else:
        dv = DataValidation(type=None, showErrorMessage=False)
        _prompt(dv, f.label, f.meaning(book.rubric))
        dv.add(ref)
        ws.add_data_validation(dv)


def define(book: Builder, name: str, ws: Worksheet, coordinate: str) -> None:
    """Point the workbook-scoped defined name ``name`` at one cell of ``ws``."""
    col = "".join(ch for ch in coordinate if ch.isalpha())
    row = "".join(ch for ch in coordinate if ch.isdigit())
    ref = f"{quote_sheetname(ws.title)}!${col}${row}"
    book.wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _prompt(dv: DataValidation, title_text: str, text: str) -> None:
    dv.showInputMessage = True
    dv.promptTitle = title_text[:32]
    dv.prompt = text[:255]


def list_validation(
    ws: Worksheet, book: Builder, key: str, ref: str, title_text: str, help_line: str
) -> None:
    """A dropdown of the list ``key``: inline when short enough, else from the Lists sheet."""
    values = list_values(book, key)
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
    _prompt(dv, title_text, help_line)
    dv.add(ref)
    ws.add_data_validation(dv)


def date_validation(ws: Worksheet, ref: str, title_text: str, help_line: str) -> None:
    """Accept only dates from 2000 to 2099 in ``ref``, with a note saying how to type one."""
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
    _prompt(dv, title_text, help_line)
    dv.add(ref)
    ws.add_data_validation(dv)


def date_format(ws: Worksheet, col: str, first: int, last: int) -> None:
    """Show the cells of column ``col`` from ``first`` to ``last`` as dd/mm/yyyy dates."""
    for row in range(first, last + 1):
        c = ws[f"{col}{row}"]
        c.number_format = styles.DATE_FORMAT
        c.alignment = styles.LEFT_TOP


def centre(ws: Worksheet, col: str, first: int, last: int) -> None:
    """Centre the cells of column ``col`` from ``first`` to ``last``."""
    for row in range(first, last + 1):
        ws[f"{col}{row}"].alignment = styles.CENTRE_TOP


# --- tables ----------------------------------------------------------------------------------


def table(
    ws: Worksheet, book: Builder, spec: layout.Table, header_row: int, n: int
) -> tuple[int, int, int]:
    """An Excel table named ``spec.name`` with ``n`` data rows; returns header, first, last rows."""
    n = max(n, 1)
    for col, text in enumerate(spec.headers, start=1):
        c = ws.cell(header_row, col, text)
        c.font = styles.font(bold=True, color="FFFFFF")
        c.fill = styles.HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
        c.border = styles.BOX
    book.height(ws, header_row, 20)
    first, last = header_row + 1, header_row + n
    ref = f"A{header_row}:{get_column_letter(len(spec.headers))}{last}"
    t = ExcelTable(displayName=spec.name, ref=ref)
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(t)
    book.tables[spec.name] = (ws.title, first, last)
    ws.freeze_panes = f"A{first}"
    return header_row, first, last


def table_inputs(ws: Worksheet, columns: Iterable[str], first: int, last: int) -> None:
    """Make the cells of ``columns`` from ``first`` to ``last`` unlocked input cells."""
    for col in columns:
        for row in range(first, last + 1):
            c = ws[f"{col}{row}"]
            c.fill = styles.INPUT_FILL
            c.border = styles.BOX
            styles.unlock(c)
            c.alignment = styles.WRAP_TOP
            c.font = styles.font()
