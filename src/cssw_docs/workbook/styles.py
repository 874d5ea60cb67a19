"""How the intake workbook looks: fonts, fills, borders, number formats, protection, printing."""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "Arial"
NAVY = "1F3864"
INK = "262626"
GREY = "595959"
LINK = "0563C1"
INPUT_FILL = PatternFill("solid", fgColor="FFF7D6")
BAND_FILL = PatternFill("solid", fgColor="D9E2F3")
HEADER_FILL = PatternFill("solid", fgColor=NAVY)
GRADE_FILLS = {
    "Good": PatternFill("solid", fgColor="E2EFDA"),
    "Requires improvement": PatternFill("solid", fgColor="FFF2CC"),
    "Inadequate": PatternFill("solid", fgColor="FBE2D5"),
}
_OUTSTANDING = "C6E0B4"  # also the colour of a "Yes"
_THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
LEFT_TOP = Alignment(horizontal="left", vertical="top")
CENTRE_TOP = Alignment(horizontal="center", vertical="top")
DATE_FORMAT = "dd/mm/yyyy"


def font(size: float = 10, *, bold: bool = False, italic: bool = False, color: str = INK) -> Font:
    """Return the workbook's font (Arial) in ``size`` points."""
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic, color=color)


def link_font() -> Font:
    """Return the font of a hyperlink to another sheet."""
    return Font(name=FONT_NAME, size=10, bold=True, color=LINK, underline="single")


def unlock(c: Cell) -> None:
    """Mark ``c`` as a cell the auditor may type into on a protected sheet."""
    c.protection = Protection(locked=False)


def yes_colour(ws: Worksheet, ref: str) -> None:
    """Colour the cells of ``ref`` green and bold when they hold Yes."""
    fill = PatternFill("solid", fgColor=_OUTSTANDING, bgColor=_OUTSTANDING)
    ws.conditional_formatting.add(
        ref, CellIsRule(operator="equal", formula=['"Yes"'], fill=fill, font=Font(bold=True))
    )


def rating_colours(ws: Worksheet, ref: str) -> None:
    """Colour the cells of ``ref`` by the rating they hold."""
    for grade, fill in (
        ("Outstanding", _OUTSTANDING),
        *((g, f.fgColor.rgb[-6:]) for g, f in GRADE_FILLS.items()),
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


def page(ws: Worksheet, *, landscape: bool, title_row: int | None = None) -> None:
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


def protect(ws: Worksheet) -> None:
    """Protect the sheet without a password, letting people resize rows and filter tables."""
    p = ws.protection
    p.sheet = True
    p.formatRows = False
    p.formatColumns = False
    p.autoFilter = False
    p.sort = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def default_fonts(ws: Worksheet) -> None:
    """Give every written cell not yet styled the workbook's font."""
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.font is not None and c.font.name != FONT_NAME:
                c.font = font()
