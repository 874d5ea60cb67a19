"""Writes the marked copy an auditor gets back: an Errors sheet and each problem cell marked."""

from __future__ import annotations

import math
import os
import re
import tempfile
import warnings
import zipfile
from copy import copy
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ..models import Finding, Report, Severity
from .fit import fit_input_rows
from .literal import keep_as_text

SHEET = "Errors"
AUTHOR = "cssw-docs"
# Clearly apart from the template's cream inputs and its green/yellow/peach rating colours.
ERROR_COLOUR = "FF9999"  # red
WARNING_COLOUR = "FFD27F"  # amber
_FILLS = {
    Severity.ERROR: PatternFill("solid", start_color=ERROR_COLOUR, end_color=ERROR_COLOUR),
    Severity.WARNING: PatternFill("solid", start_color=WARNING_COLOUR, end_color=WARNING_COLOUR),
}
# An always-true conditional format that outranks the template's own (the rating colours),
# added only on cells that have one; the marker text lets a later run find and remove it.
_CF_MARK = '"cssw-docs"<>""'
# How our notes' author and our highlight rule look inside the saved XML parts.
_RAW_MARKS = (
    f"<author>{AUTHOR}</author>".encode(),
    _CF_MARK.replace("&", "&amp;")
    .replace('"', "&quot;")
    .replace("<", "&lt;")
    .replace(">", "&gt;")
    .encode(),
    _CF_MARK.encode(),
)
_LABELS = {Severity.ERROR: "Error: must fix", Severity.WARNING: "Warning: please check"}
# A hidden column of the Errors sheet records each highlighted cell ("Sheet!C5") and, as that
# record cell's own fill, the cell's fill before highlighting, so a later run can undo it.
_RECORD_COL = 7
_RECORD_HEADER = "cssw-docs highlights (do not edit)"
_EARLIER = "\n\n— Earlier note by "
_HEADER_ROW = 4
_WIDTHS = {"A": 20, "B": 30, "C": 100}
_INK = "262626"
FONT_NAME = "Arial"  # as the template
_HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
_THIN = Side(style="thin", color="BFBFBF")


def annotate(source: Path, report: Report, dest: Path) -> Path:
    """Write to ``dest`` a copy of ``source`` marked with ``report``'s findings; return ``dest``.

    The copy gets a first sheet "Errors" listing every finding (errors first) and each
    finding's cell is highlighted (red for errors, amber for warnings) with a comment
    holding the message. Tables, defined names and dropdowns are kept, so the auditor can
    fix the copy and drop it in again. Marks from an earlier run are removed first.

    The copy carries values only: the template has no formulas, so every formula of the
    submitted file becomes the value it last showed (or an empty cell), and nothing in the
    copy can reach outside it (see :func:`values_only`).
    """
    source, dest = Path(source), Path(dest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes about Excel extensions it drops
        # data_only: each formula is replaced by its saved value; keep_links=False: links
        # to other workbooks and DDE links are left out; connections are never read.
        wb = openpyxl.load_workbook(source, keep_vba=False, data_only=True, keep_links=False)
    values_only(wb)
    _clear_previous(wb)
    _free_input_rows(wb)
    findings = ordered(report)
    ws = wb.create_sheet(SHEET, 0)
    records = _mark_cells(wb, findings)
    _errors_sheet(ws, findings, records)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
    return _save(wb, dest)


def _free_input_rows(wb: Workbook) -> None:
    """Make each row holding input cells as tall as its text, and never fixed.

    A fixed height (as workbooks made before 0.2 have) hides the end of a long answer;
    Excel and LibreOffice fit a row whose height is not fixed to its text as it changes.
    """
    for ws in wb.worksheets:
        fit_input_rows(ws)


def unmark(path: Path) -> bool:
    """Remove what ``annotate`` added from the workbook at ``path``, in place; return if any.

    A marked copy that the auditor fixed and sent back keeps its Errors sheet, red and amber
    highlights and our notes, which would be stale in the archived copy: they go (the cells'
    own fills and the auditor's own notes come back), and the first sheet is shown again.
    A workbook with nothing of ours in it is not rewritten.
    """
    path = Path(path)
    if not _may_be_marked(path):
        return False  # most workbooks: not opened at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes about Excel extensions it drops
        wb = openpyxl.load_workbook(path, keep_vba=False, data_only=False, keep_links=False)
    if not _is_marked(wb):
        return False
    _clear_previous(wb)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False
    if wb.worksheets:
        wb.active = 0
        wb.worksheets[0].sheet_view.tabSelected = True
    _save(wb, path)
    return True


def _may_be_marked(path: Path) -> bool:
    """Return True when the file may hold our marks: an Errors sheet, a note we wrote or our
    highlight rule (a quick look at the raw parts, without loading the workbook)."""
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name == "xl/workbook.xml" and f'name="{SHEET}"'.encode() in z.read(name):
                    return True
                if name.startswith(("xl/comments", "xl/worksheets/sheet")) and any(
                    mark in z.read(name) for mark in _RAW_MARKS
                ):
                    return True
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return False


def _is_marked(wb: Workbook) -> bool:
    """Return True when an earlier run's Errors sheet, notes or highlight rules are in ``wb``."""
    if SHEET in wb.sheetnames and wb[SHEET].cell(_HEADER_ROW, _RECORD_COL).value == _RECORD_HEADER:
        return True
    for ws in wb.worksheets:
        for rules in ws.conditional_formatting._cf_rules.values():
            if any("cssw-docs" in str(f) for r in rules for f in (r.formula or ())):
                return True
        for row in ws.iter_rows():
            if any(c.comment is not None and _ours(c.comment) for c in row):
                return True
    return False


def ordered(report: Report) -> list[Finding]:
    """Return the findings errors first, each group in the report's order."""
    return [*report.errors, *report.warnings]


# --- nothing that runs or reaches out ------------------------------------------------------

# A quoted sheet name ('Audit plan') or a text literal ("Yes,No") in a formula.
_QUOTED = re.compile(r"'(?:[^']|'')*'" + r'|"(?:[^"]|"")*"')


def reaches_out(formula: str | None) -> bool:
    """Return True when ``formula`` calls a function, names another workbook or is a DDE link.

    The template's own dropdowns and colour rules use only literals ("Yes,No", 36526) and
    references into the workbook ('Lists'!$A$2:$A$9), so none of theirs is caught.
    """
    bare = _QUOTED.sub("", formula or "")
    return any(mark in bare for mark in ("(", "[", "|"))


def values_only(wb: Workbook) -> Workbook:
    """Remove from ``wb`` everything that runs or reaches outside it; return ``wb``.

    Defined names, dropdown rules and conditional formats that call a function or point at
    another workbook, hyperlinks to addresses outside the workbook, charts and pivot tables.
    Cell formulas are already gone when ``wb`` was loaded with ``data_only=True``.
    """
    _drop_names(wb.defined_names)
    for ws in wb.worksheets:
        _drop_names(ws.defined_names)
        validations = ws.data_validations.dataValidation
        validations[:] = [
            dv for dv in validations if not (reaches_out(dv.formula1) or reaches_out(dv.formula2))
        ]
        cf_rules = ws.conditional_formatting._cf_rules
        for cf, rules in list(cf_rules.items()):
            kept = [r for r in rules if not any(reaches_out(f) for f in r.formula or ())]
            if kept:
                cf_rules[cf] = kept
            else:
                del cf_rules[cf]
        for cell in list(ws._cells.values()):
            link = cell.hyperlink
            if link is not None and (link.target or not link.location):
                cell.hyperlink = None
        ws._charts = []
        ws._pivots = []
    return wb


def _drop_names(names) -> None:  # type: ignore[no-untyped-def]
    for name in [n for n, d in names.items() if reaches_out(d.attr_text)]:
        del names[name]


# --- undoing an earlier run ---------------------------------------------------------------


def _clear_previous(wb: Workbook) -> None:
    """Remove an earlier Errors sheet, its highlights and its comments."""
    if SHEET in wb.sheetnames:
        old = wb[SHEET]
        if old.cell(_HEADER_ROW, _RECORD_COL).value == _RECORD_HEADER:
            for row in range(_HEADER_ROW + 1, old.max_row + 1):
                record = old.cell(row, _RECORD_COL)
                target = _target(wb, str(record.value or ""))
                if target is not None:
                    target.fill = copy(record.fill)
            wb.remove(old)
    for ws in wb.worksheets:
        _remove_overrides(ws)
        for row in ws.iter_rows():
            for cell in row:
                comment = cell.comment
                if comment is None or not _ours(comment):
                    continue
                cell.comment = _earlier_comment(comment.text)


def _ours(comment: Comment) -> bool:
    """Return True for a comment an earlier run wrote (LibreOffice drops the author)."""
    return comment.author == AUTHOR or comment.text.startswith(tuple(_LABELS.values()))


def _earlier_comment(text: str) -> Comment | None:
    """Return the auditor's own note that an earlier run kept below its message, if any."""
    if _EARLIER not in text:
        return None
    rest = text.split(_EARLIER, 1)[1]
    author, _, note = rest.partition(":\n")
    return Comment(note, author or "")


def _target(wb: Workbook, ref: str):  # type: ignore[no-untyped-def]
    sheet, _, cell = ref.rpartition("!")
    cell = cell.replace("$", "").split(":")[0].upper()
    if sheet not in wb.sheetnames or not re.fullmatch(r"[A-Z]{1,3}[1-9]\d{0,6}", cell):
        return None
    return wb[sheet][cell]


# --- highlighting -------------------------------------------------------------------------


def _mark_cells(wb: Workbook, findings: list[Finding]) -> list[tuple[str, PatternFill]]:
    """Highlight and comment each finding's cell; return (ref, original fill) per cell."""
    by_cell: dict[str, list[Finding]] = {}
    for f in findings:
        if f.location is not None and f.location.sheet != SHEET:
            by_cell.setdefault(f"{f.location.sheet}!{f.location.cell}", []).append(f)
    records = []
    for ref, group in by_cell.items():
        cell = _target(wb, ref)
        if cell is None:
            continue
        records.append((ref, copy(cell.fill)))
        worst = Severity.ERROR if any(f.severity is Severity.ERROR for f in group) else None
        fill = _FILLS[worst or Severity.WARNING]
        cell.fill = copy(fill)
        cell.comment = _comment(group, cell.comment)
        _override_conditional(cell.parent, cell.coordinate, fill)
    return records


def _override_conditional(ws: Worksheet, coordinate: str, fill: PatternFill) -> None:
    """Keep the highlight visible where a conditional format would paint over it."""
    if not any(coordinate in cf.sqref for cf in ws.conditional_formatting):
        return
    for rules in ws.conditional_formatting._cf_rules.values():
        for rule in rules:
            rule.priority = (rule.priority or 0) + 1
    rule = FormulaRule(formula=[_CF_MARK], fill=copy(fill), stopIfTrue=True)
    rule.priority = 1
    ws.conditional_formatting.add(coordinate, rule)


def _remove_overrides(ws: Worksheet) -> None:
    cf_rules = ws.conditional_formatting._cf_rules
    for cf, rules in list(cf_rules.items()):
        kept = [r for r in rules if not any("cssw-docs" in str(f) for f in (r.formula or ()))]
        if not kept:
            del cf_rules[cf]
        elif len(kept) != len(rules):
            cf_rules[cf] = kept


def _comment(group: list[Finding], existing: Comment | None) -> Comment:
    lines = [f"{_LABELS[f.severity]}. {f.message}" for f in group]
    text = "\n\n".join(lines)
    if existing is not None and existing.text.strip():
        text += f"{_EARLIER}{existing.author or 'someone'}:\n{existing.text}"
    comment = Comment(text, AUTHOR)
    comment.width = 320
    comment.height = min(600, 30 + 15 * _lines(text, 52))
    return comment


def _lines(text: str, per_line: float) -> int:
    """Estimate how many lines ``text`` wraps to at ``per_line`` characters a line."""
    return sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))


# --- the Errors sheet ---------------------------------------------------------------------


def _errors_sheet(
    ws: Worksheet, findings: list[Finding], records: list[tuple[str, PatternFill]]
) -> None:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warns = len(findings) - errors
    ws["A1"] = "Problems found in this audit workbook"
    ws["A1"].font = _font(size=16, bold=True, color=_INK)
    ws.merge_cells("A2:C2")
    ws["A2"] = _summary(errors, warns)
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A2"].font = _font(size=11, color=_INK)
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 15 * _lines(str(ws["A2"].value), 150) + 6

    for col, text in enumerate(("Severity", "Where", "What to do"), start=1):
        c = ws.cell(_HEADER_ROW, col, text)
        c.font = _font(bold=True, color="FFFFFF", size=11)
        c.fill = copy(_HEAD_FILL)
        c.alignment = Alignment(vertical="center")
        c.border = Border(bottom=_THIN)
    ws.row_dimensions[_HEADER_ROW].height = 20

    row = _HEADER_ROW
    for f in findings:
        row += 1
        severity = ws.cell(row, 1, _LABELS[f.severity])
        severity.fill = copy(_FILLS[f.severity])
        severity.font = _font(bold=f.severity is Severity.ERROR, color=_INK)
        where = ws.cell(row, 2, _where(f))
        if f.location is not None:
            where.hyperlink = Hyperlink(
                ref=where.coordinate, location=f"'{f.location.sheet}'!{f.location.cell}"
            )
            where.font = _font(color="0563C1", underline="single")
        message = ws.cell(row, 3, f.message)
        message.font = _font(color=_INK)
        for c in (severity, where, message):
            c.alignment = Alignment(wrap_text=True, vertical="top")
            c.border = Border(bottom=_THIN)
        lines = max(_lines(f.message, 100), _lines(str(where.value), 28))
        ws.row_dimensions[row].height = 14 * lines + 6
    if not findings:
        ws.cell(_HEADER_ROW + 1, 3, "No problems were found.")

    ws.cell(_HEADER_ROW, _RECORD_COL, _RECORD_HEADER)
    for i, (ref, fill) in enumerate(records, start=_HEADER_ROW + 1):
        record = ws.cell(i, _RECORD_COL, ref)
        record.fill = fill
    ws.column_dimensions[openpyxl.utils.get_column_letter(_RECORD_COL)].hidden = True

    for col, width in _WIDTHS.items():
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(_HEADER_ROW + 1, 1)
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_area = f"A1:C{max(row, _HEADER_ROW + 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.sheet_properties.tabColor = ERROR_COLOUR if errors else WARNING_COLOUR


def _font(**kwargs: object) -> Font:
    return Font(name=FONT_NAME, **kwargs)  # type: ignore[arg-type]


def _summary(errors: int, warns: int) -> str:
    if not errors and not warns:
        return "Nothing needs fixing."
    parts = []
    if errors:
        parts.append(
            f"{errors} {'error' if errors == 1 else 'errors'} must be fixed before the audit "
            "pack can be made"
        )
    if warns:
        parts.append(
            f"{warns} {'warning' if warns == 1 else 'warnings'} to check (these do not stop "
            "the pack)"
        )
    return (
        " and ".join(parts)
        + ". Each problem's cell is highlighted (red: error, amber: warning) and carries a note "
        "with the message: click the place in the Where column to go to it. Fix the errors, "
        "save this workbook and drop it in the intake folder again."
    )


def _where(f: Finding) -> str:
    if f.location is None:
        return "Whole workbook"
    return f"{f.location.sheet}, cell {f.location.cell}"


def _save(wb: Workbook, dest: Path) -> Path:
    """Save atomically: a half-written copy never appears at ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cssw-marked-", suffix=".xlsx", dir=dest.parent)
    os.close(fd)
    try:
        keep_as_text(wb).save(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest
