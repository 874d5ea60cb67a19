"""Keeps text as text in every workbook cssw-docs writes: nothing typed by a person runs."""

from __future__ import annotations

from openpyxl.workbook.workbook import Workbook

# Text starting with one of these is run as a formula by Excel or LibreOffice when typed in,
# pasted or opened from CSV: the ASCII signs, their full-width forms (which an East Asian
# keyboard layout turns into the ASCII ones), and the tab and line breaks that some programs
# strip before looking.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def looks_like_formula(text: str) -> bool:
    """Return True when a spreadsheet could take ``text`` for a formula (``=1+1``, ``@SUM``)."""
    stripped = text.lstrip(" \u00a0\u3000")
    return bool(stripped) and (stripped[0] in FORMULA_STARTS or text[0] in FORMULA_STARTS)


def keep_as_text(wb: Workbook) -> Workbook:
    """Store every cell of ``wb`` that holds text as plain text, never as a formula; return it.

    openpyxl writes a value starting with ``=`` as a live formula. Call this just before
    saving: a formula-like text becomes a text cell with Excel's quote prefix (shown as
    typed, and kept as text when someone edits the cell); any other formula is removed.
    """
    for ws in wb.worksheets:
        # The cells that exist, without creating the empty ones iter_rows() would.
        for cell in list(ws._cells.values()):
            value = cell.value
            if isinstance(value, str):
                if cell.data_type == "f" or looks_like_formula(value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
            elif cell.data_type == "f":  # an array or data-table formula object
                cell.value = None
    return wb
