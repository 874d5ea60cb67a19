"""Row heights for wrapped text, and page breaks that keep each block on one printed page."""

from __future__ import annotations

import math

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from .blocks import Builder

_LINE_PT = 13.0  # height of one line of 10pt Arial, in points
_PAD_PT = 5.0
_DEFAULT_ROW_PT = 12.8


def fit_rows(book: Builder, skip: tuple[str, ...] = ()) -> None:
    """Set each row tall enough for its wrapped text (Excel does not do this on opening)."""
    for ws in book.wb.worksheets:
        if ws.title in skip:
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
