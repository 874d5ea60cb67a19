"""Build ``templates/activity_report.docx`` (the audit activity summary) with python-docx.

Run ``.venv/bin/python tools/build_report_template.py [OUTDIR]`` (default: the repo's
``templates/``). The output is byte-for-byte reproducible. The template holds docxtpl tags;
``oversight/report_docx.py`` fills them (see ``context`` there for every variable). The bars
in the rating tables are runs of block characters, one coloured run per rating, so the charts
need no images.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from build_templates import _field, _normalise_zip, _set_fonts  # shared docx helpers (same folder)
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from cssw_docs.models import RATING_FILLS, Rating

NAME = "activity_report.docx"
FONT = "Arial"
BAR_FONT = "Courier New"  # monospaced, with the full-block character: bars line up
NAVY = "1F3864"
INK = "1A1A1A"
GREY = "595959"
LINE = "BFC5CE"
LABEL_FILL = "EEF1F6"
RATING_COLOURS = {  # template variable key -> the fill the audit pack uses for that grade
    "outstanding": RATING_FILLS[Rating.OUTSTANDING],
    "good": RATING_FILLS[Rating.GOOD],
    "ri": RATING_FILLS[Rating.REQUIRES_IMPROVEMENT],
    "inadequate": RATING_FILLS[Rating.INADEQUATE],
}
FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
WIDTH_CM = 17.0  # A4 less 2 cm margins


def _style(doc: DocumentObject, name: str, *, base: str = "Normal", size: float = 10,
           bold: bool = False, colour: str = INK, before: float = 0, after: float = 4,
           keep: bool = False):  # fmt: skip
    try:
        style = doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles[base]
        style.quick_style = True
    _set_fonts(style.element)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor.from_string(colour)
    pf = style.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    pf.line_spacing = 1.1
    pf.keep_with_next = keep
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")):
        ppr.remove(old)
    return style


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _table_borders(table: Table) -> None:
    tblpr = table._tbl.tblPr
    box = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), LINE)
        box.append(el)
    tblpr.append(box)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _cell_text(cell: _Cell, text: str, style: str, *, right: bool = False) -> Paragraph:
    p = cell.paragraphs[0]
    p.style = style
    if text:
        p.add_run(text)
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return p


def _loop_table(
    doc: DocumentObject,
    headers: Sequence[str],
    loop: str,
    cells: Sequence[str],
    widths: Sequence[float],
    *,
    right_from: int = 1,
    bar_column: int | None = None,
    bar_item: str = "",
    together: bool = False,
) -> Table:
    """Add a table: a header row, then one row per item of ``loop`` (docxtpl ``{%tr %}``)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _table_borders(table)
    for i, width in enumerate(widths):
        table.columns[i].width = Cm(width)  # the grid LibreOffice lays out by
        for row in table.rows:
            row.cells[i].width = Cm(width)  # the cell widths Word lays out by
    head = table.rows[0]
    _repeat_header(head)
    for i, text in enumerate(headers):
        _shade(head.cells[i], NAVY)
        _cell_text(head.cells[i], text, "Table Heading", right=right_from <= i != bar_column)
    open_row, body, close_row = table.rows[1], table.rows[2], table.rows[3]
    _cell_text(open_row.cells[0], f"{{%tr for item in {loop} %}}", "Table Text")
    _cell_text(close_row.cells[0], "{%tr endfor %}", "Table Text")
    if together:
        for row in (head, body):
            for cell in row.cells:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
    for i, text in enumerate(cells):
        if i == bar_column:
            _bar(body.cells[i], bar_item)
        else:
            _cell_text(body.cells[i], text, "Table Text", right=i >= right_from)
    return table


def _bar(cell: _Cell, item: str) -> None:
    """Put four coloured runs of block characters (one per rating) in ``cell``."""
    p = cell.paragraphs[0]
    p.style = "Table Text"
    for key, colour in RATING_COLOURS.items():
        run = p.add_run(f"{{{{ {item}.bar.{key} }}}}")
        run.font.name = BAR_FONT
        run.font.size = Pt(8)
        run.font.color.rgb = RGBColor.from_string(colour)


def _legend(doc: DocumentObject) -> None:
    p = doc.add_paragraph(style="Note")
    labels = ("Outstanding", "Good", "Requires improvement", "Inadequate")
    for colour, label in zip(RATING_COLOURS.values(), labels, strict=True):
        run = p.add_run("█")
        run.font.name = BAR_FONT
        run.font.color.rgb = RGBColor.from_string(colour)
        p.add_run(f" {label}     ")
    p.add_run("{{ bar_note }}")


def _document() -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(1.8)
    section.header_distance = section.footer_distance = Cm(1.0)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), FONT)
    _style(doc, "Normal", size=10, after=6)
    _style(doc, "Title", size=24, bold=True, colour=NAVY, after=2)
    _style(doc, "Subtitle", size=12, colour=GREY, after=14)
    _style(doc, "Heading 1", size=14, bold=True, colour=NAVY, before=16, after=6, keep=True)
    _style(doc, "Note", size=8.5, colour=GREY, before=2, after=8)
    _style(doc, "Lead", size=11, after=8)
    _style(doc, "Table Text", size=9, after=1)
    _style(doc, "Table Heading", base="Table Text", size=9, bold=True, colour="FFFFFF")
    _style(doc, "Header", size=8.5, colour=GREY, after=0)
    _style(doc, "Footer", size=8.5, colour=GREY, after=0)
    props = doc.core_properties
    props.title = "Audit activity report"
    props.author = props.last_modified_by = "cssw-docs"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    head = section.header.paragraphs[0]
    head.style = "Header"
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    head.add_run("{{ marking }}").bold = True
    foot = section.footer.paragraphs[0]
    foot.style = "Footer"
    foot.add_run("Audit activity report, {{ period }} · page ")
    _field(foot, "PAGE")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES")
    return doc


def make() -> DocumentObject:
    """Return the activity report template."""
    doc = _document()
    doc.add_paragraph("Audit activity report", style="Title")
    doc.add_paragraph("{{ period }} · produced {{ produced }}", style="Subtitle")
    doc.add_paragraph("{{ lead }}", style="Lead")

    doc.add_paragraph("Headline figures", style="Heading 1")
    _loop_table(doc, ("Measure", "Figure"), "headline", ("{{ item.label }}", "{{ item.value }}"),
                (13.0, 4.0))  # fmt: skip

    doc.add_paragraph("Ratings by section", style="Heading 1")
    doc.add_paragraph("{{ ratings_intro }}")
    _loop_table(
        doc,
        ("Section", "Graded", "Good or better", "Inadequate", "Share of graded audits"),
        "sections",
        ("{{ item.name }}", "{{ item.graded }}", "{{ item.good_or_better }}",
         "{{ item.inadequate }}", ""),
        (3.8, 1.6, 1.8, 2.3, 7.5),
        bar_column=4,
        bar_item="item",
        together=True,
    )  # fmt: skip
    _legend(doc)

    doc.add_paragraph("Trend by month", style="Heading 1")
    _loop_table(
        doc,
        ("Month", "Audits", "Good or better", "Overall ratings given"),
        "months",
        ("{{ item.label }}", "{{ item.audits }}", "{{ item.good_or_better }}", ""),
        (2.6, 1.6, 2.4, 10.4),
        bar_column=3,
        bar_item="item",
        together=True,
    )
    doc.add_paragraph("{{ months_note }}", style="Note")

    doc.add_paragraph("Audits by type and team", style="Heading 1")
    _loop_table(doc, ("Type of audit", "Audits"), "types", ("{{ item.name }}", "{{ item.count }}"),
                (13.0, 4.0))  # fmt: skip
    doc.add_paragraph("", style="Note")
    _loop_table(
        doc,
        ("Team", "Audits", "Good or better", "Inadequate", "Disagreed", "Actions overdue",
         "Actions done"),
        "teams",
        ("{{ item.team }}", "{{ item.audits }}", "{{ item.good_or_better }}",
         "{{ item.inadequate }}", "{{ item.disagreements }}", "{{ item.overdue }}",
         "{{ item.done }}"),
        (4.6, 1.5, 2.0, 2.0, 2.0, 2.4, 2.5),
    )  # fmt: skip

    doc.add_paragraph("Practitioner agreement and referrals", style="Heading 1")
    doc.add_paragraph("{{ agreement_text }}")
    doc.add_paragraph("{{ referrals_text }}")

    doc.add_paragraph("Moderation panel", style="Heading 1")
    doc.add_paragraph("{{ moderation_text }}")

    doc.add_paragraph("SMART actions", style="Heading 1")
    doc.add_paragraph("{{ actions_text }}")

    doc.add_paragraph("The audit programme", style="Heading 1")
    doc.add_paragraph("{{ programme_text }}").paragraph_format.keep_with_next = True
    doc.add_paragraph("{%p if programme_months %}")
    _loop_table(
        doc,
        ("Planned month", "Planned", "Completed", "In progress", "Late", "Not started"),
        "programme_months",
        ("{{ item.label }}", "{{ item.planned }}", "{{ item.completed }}",
         "{{ item.in_progress }}", "{{ item.late }}", "{{ item.not_started }}"),
        (4.5, 2.5, 2.5, 2.5, 2.5, 2.5),
    )  # fmt: skip
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("Recurring themes in areas for development", style="Heading 1")
    doc.add_paragraph("{{ themes_intro }}").paragraph_format.keep_with_next = True
    doc.add_paragraph("{%p if theme_phrases %}")
    _loop_table(doc, ("Recurring phrase", "Audits mentioning it"), "theme_phrases",
                ("{{ item.text }}", "{{ item.count }}"), (13.0, 4.0))  # fmt: skip
    doc.add_paragraph("", style="Note")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if theme_words %}")
    _loop_table(doc, ("Recurring word", "Audits mentioning it"), "theme_words",
                ("{{ item.text }}", "{{ item.count }}"), (13.0, 4.0))  # fmt: skip
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("Storyboards of the period", style="Heading 1")
    doc.add_paragraph("{{ storyboards_intro }}").paragraph_format.keep_with_next = True
    doc.add_paragraph("{%p if storyboards %}")
    _loop_table(
        doc,
        ("Title", "Team", "Worker"),
        "storyboards",
        ("{{ item.title }}", "{{ item.team }}", "{{ item.worker }}"),
        (8.5, 5.0, 3.5),
        right_from=99,
    )
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph(
        "The workbook of the same name holds every figure, one row per audit and the charts. "
        "No child's name appears in this report.",
        style="Note",
    )
    return doc


def build(outdir: Path) -> Path:
    """Write the template into ``outdir`` and return its path."""
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / NAME
    make().save(str(path))
    _normalise_zip(path)
    return path


def main(argv: list[str]) -> int:
    """Build the template into ARGV[0] or the repo's ``templates/``."""
    outdir = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "templates"
    print(build(outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
