"""Row heights for wrapped text, and page breaks that keep each block on one printed page."""

from __future__ import annotations

import math

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from .blocks import Builder

_LINE_PT = 13.0  # height of one line of 10pt Arial, in points
_PAD_PT = 5.0
_DEFAULT_ROW_PT = 12.8
MAX_ROW_PT = 409.0  # the tallest row Excel allows


class FittedRow(RowDimension):
    """A row height that is not fixed (no ``customHeight``): a first height, then the text's.

    Excel fits such a row to its wrapped text when it opens the workbook, and both Excel and
    LibreOffice fit it again as the text changes. LibreOffice shows the height given until
    then, so it is an estimate of the text's height.
    """

    @property
    def customHeight(self) -> bool:  # type: ignore[override]
        """Never: the row follows its text (openpyxl would call every height custom)."""
        return False


def input_rows(ws: Worksheet) -> set[int]:
    """Return the rows holding an input cell (unlocked): their height is never fixed."""
    return {
        c.row
        for row in ws.iter_rows()
        for c in row
        if c.protection is not None and c.protection.locked is False
    }


def text_heights(ws: Worksheet) -> tuple[dict[int, float], list[tuple[int, int, float]]]:
    """Return the height each row's wrapped text needs, and that of text merged down rows."""
    merged = {(rng.min_row, rng.min_col): rng for rng in ws.merged_cells.ranges}
    needed: dict[int, float] = {}
    vertical = []
    for row in ws.iter_rows():
        for c in row:
            if not isinstance(c.value, str) or not c.value or not c.alignment.wrap_text:
                continue
            rng = merged.get((c.row, c.column))
            cols = range(c.column, (rng.max_col if rng else c.column) + 1)
            width = sum(_col_width(ws, col) for col in cols)
            size = c.font.size if c.font and c.font.size else 10
            points = _lines(c.value, width, size) * _LINE_PT * size / 10 + _PAD_PT
            if rng and rng.max_row > rng.min_row:
                vertical.append((rng.min_row, rng.max_row, points))
            else:
                needed[c.row] = max(needed.get(c.row, 0.0), points)
    return needed, vertical


def set_height(ws: Worksheet, row: int, points: float, *, fixed: bool) -> None:
    """Give ``row`` a height of ``points``: fixed, or (an input row) only a first height."""
    points = round(min(points, MAX_ROW_PT), 1)
    if fixed:
        ws.row_dimensions[row].height = points
    else:
        ws.row_dimensions[row] = FittedRow(ws, index=row, ht=points)


def fit_input_rows(ws: Worksheet) -> None:
    """Give each input row a first height its text needs, and nothing fixed (the marked copy)."""
    inputs = input_rows(ws)
    needed, _ = text_heights(ws)
    for row in inputs:
        old = ws.row_dimensions[row].height if row in ws.row_dimensions else None
        set_height(ws, row, max(needed.get(row, 0.0), old or 0.0, _DEFAULT_ROW_PT), fixed=False)


def fit_rows(book: Builder, skip: tuple[str, ...] = ()) -> None:
    """Size every row for its wrapped text, and break pages between blocks.

    A row holding an input cell gets no fixed height: only a first one (:class:`FittedRow`),
    so it grows as the auditor types. The other rows get the height their text needs; a
    block of descriptors merged down beside input rows takes the space it needs from the
    row below the inputs, which the block includes for that purpose, so it shows whole
    however small Excel fits the input rows.
    """
    for ws in book.wb.worksheets:
        if ws.title in skip:
            continue
        inputs = input_rows(ws)
        needed, vertical = text_heights(ws)
        heights: dict[int, float] = {}
        for (title, row), points in book.min_heights.items():
            if title == ws.title:
                heights[row] = points
        for row, points in needed.items():
            if points > 16 or row in heights:
                heights[row] = max(heights.get(row, 15.0), points)
        for top, bottom, points in vertical:
            # Input rows may be fitted as small as their text: count them at that.
            have = sum(
                max(needed.get(r, 15.0), 15.0) if r in inputs else heights.get(r, 15.0)
                for r in range(top, bottom + 1)
            )
            grow = [r for r in range(top, bottom + 1) if r not in inputs]
            if points > have and grow:
                extra = (points - have) / len(grow)
                for r in grow:
                    heights[r] = heights.get(r, 15.0) + extra
        for row, points in heights.items():
            set_height(ws, row, points, fixed=row not in inputs)
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
