"""Build the four Word templates in ``templates/`` with python-docx, reproducibly.

Run ``.venv/bin/python tools/build_templates.py [OUTDIR]`` (default: the repo's ``templates/``).
The QA unit may then edit the committed .docx files in Word; re-running this script
overwrites such edits, so only run it when changing the design in code.

The templates use docxtpl tags (Jinja inside Word). ``cssw-docs templates fields`` lists every
variable; ``cssw-docs templates check`` checks a template after editing.
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.table import Table, _Cell

TEMPLATE_VERSION = "1.2"
LANGUAGE = "en-GB"
FONT = "Arial"
NAVY = "1F3864"
INK = "1A1A1A"
GREY = "595959"
LINE = "BFC5CE"
LABEL_FILL = "EEF1F6"
BANNER_RED = "A61B1B"
BANNER_FILL = "FCE8E6"
NOTE_FILL = "FFF4D6"
NOTE_LINE = "B7791F"
FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
AWAITING = "Awaiting Head of Quality Assurance decision"

# --- low-level helpers -------------------------------------------------------------------------


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour)


def _set_fonts(rpr_parent, size: float | None = None) -> None:
    """Set Arial on a style's run properties, dropping the theme fonts Word would prefer."""
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), FONT)


def _shade(element, fill: str) -> None:
    """Give a paragraph (pPr) or cell (tcPr) a solid background ``fill``."""
    shd = element.find(qn("w:shd"))
    if shd is None:
        shd = OxmlElement("w:shd")
        element.append(shd)
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)


def _borders(parent, tag: str, sides: dict[str, tuple[str, int]]) -> None:
    """Add ``<tag>`` (pBdr, tblBorders, tcBorders) with ``side: (colour, eighths of a point)``."""
    box = OxmlElement(tag)
    for side, (colour, size) in sides.items():
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single" if size else "nil")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "4" if tag == "w:pBdr" else "0")
        el.set(qn("w:color"), colour)
        box.append(el)
    parent.append(box)


def _field(paragraph, instr: str, placeholder: str = "1") -> None:
    """Append a Word field (PAGE, NUMPAGES) as a complex field, as Word itself writes it."""
    for kind in ("begin", None, "separate", "text", "end"):
        run = paragraph.add_run()
        if kind is None:
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = f" {instr} "
            run._r.append(text)
        elif kind == "text":
            run.text = placeholder
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


# --- styles --------------------------------------------------------------------------------------


def _paragraph_style(doc, name, *, base="Normal", size=None, bold=None, colour=None, italic=None):
    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.quick_style = True
    _set_fonts(style.element)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    if italic is not None:
        style.font.italic = italic
    if colour is not None:
        style.font.color.rgb = _rgb(colour)
    return style


def _spacing(style, before: float, after: float, line: float | None = None, keep=None) -> None:
    pf = style.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if line is not None:
        pf.line_spacing = line
    if keep is not None:
        pf.keep_with_next = keep


def _clear_borders(style) -> None:
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")):
        ppr.remove(old)


def _styles(doc: DocumentObject, body_size: float, scale: float = 1.0) -> None:
    """Define the named styles every template uses, so a reader can restyle the documents."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            rpr = rpr_default.find(qn("w:rPr"))
            fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
            if fonts is not None:
                for attr in list(fonts.attrib):
                    del fonts.attrib[attr]
                for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                    fonts.set(qn(attr), FONT)
            # British English: Word's spelling check, and the PDF's /Lang (screen readers).
            lang = rpr.find(qn("w:lang")) if rpr is not None else None
            if lang is None and rpr is not None:
                lang = OxmlElement("w:lang")
                rpr.append(lang)
            if lang is not None:
                lang.set(qn("w:val"), LANGUAGE)
                lang.set(qn("w:eastAsia"), LANGUAGE)

    normal = _paragraph_style(doc, "Normal", size=body_size, colour=INK)
    _spacing(normal, 0, 6 * scale, 1.15)

    title = _paragraph_style(doc, "Title", size=26 * scale, bold=True, colour=NAVY)
    _clear_borders(title)
    _spacing(title, 0, 4, 1.0)
    title.font.all_caps = False
    title.element.get_or_add_rPr()
    for tag in ("w:spacing", "w:kern"):
        for el in title.element.rPr.findall(qn(tag)):
            title.element.rPr.remove(el)

    subtitle = _paragraph_style(doc, "Subtitle", size=12.5 * scale, colour=GREY, italic=False)
    _spacing(subtitle, 0, 12 * scale, 1.1)
    for el in subtitle.element.rPr.findall(qn("w:spacing")):
        subtitle.element.rPr.remove(el)

    h1 = _paragraph_style(doc, "Heading 1", size=15 * scale, bold=True, colour=NAVY)
    _spacing(h1, 18 * scale, 6 * scale, 1.0, keep=True)
    _clear_borders(h1)
    _borders(h1.element.get_or_add_pPr(), "w:pBdr", {"bottom": (LINE, 6)})
    h2 = _paragraph_style(doc, "Heading 2", size=12.5 * scale, bold=True, colour=NAVY)
    _spacing(h2, 14 * scale, 4 * scale, 1.0, keep=True)
    h3 = _paragraph_style(doc, "Heading 3", size=body_size, bold=True, colour=GREY)
    _spacing(h3, 8 * scale, 2 * scale, 1.0, keep=True)
    for h in (h1, h2, h3):
        h.font.italic = False

    _paragraph_style(doc, "Header", size=8.5, colour=GREY)
    _paragraph_style(doc, "Footer", size=8.5, colour=GREY)
    for name in ("Header", "Footer"):
        pf = doc.styles[name].paragraph_format
        pf.tab_stops.clear_all()
        _spacing(doc.styles[name], 0, 0, 1.0)

    table_text = _paragraph_style(doc, "Table Text", size=body_size - 1, colour=INK)
    _spacing(table_text, 1, 2, 1.1)
    table_head = _paragraph_style(
        doc, "Table Heading", base="Table Text", size=body_size - 1, bold=True, colour="FFFFFF"
    )
    _spacing(table_head, 1, 1, 1.0)
    table_label = _paragraph_style(
        doc, "Table Label", base="Table Text", size=body_size - 1.5, bold=True, colour=GREY
    )
    _spacing(table_label, 1, 2, 1.1)

    for name in ("List Bullet", "List Number"):
        bullet = doc.styles[name]
        _set_fonts(bullet.element)
        bullet.font.size = Pt(body_size)
        _spacing(bullet, 0, 3 * scale, 1.1)

    banner = _paragraph_style(doc, "Draft Banner", size=body_size + 0.5, bold=True)
    banner.font.color.rgb = _rgb(BANNER_RED)
    _spacing(banner, 4, 10, 1.1)
    ppr = banner.element.get_or_add_pPr()
    _borders(ppr, "w:pBdr", {s: (BANNER_RED, 12) for s in ("top", "left", "bottom", "right")})
    _shade(ppr, BANNER_FILL)

    note = _paragraph_style(doc, "Status Note", size=body_size + 0.5, bold=True, colour="5C3D0A")
    _spacing(note, 2, 6, 1.1)
    ppr = note.element.get_or_add_pPr()
    _borders(
        ppr,
        "w:pBdr",
        {"top": (NOTE_LINE, 4), "left": (NOTE_LINE, 24), "bottom": (NOTE_LINE, 4)},
    )
    _shade(ppr, NOTE_FILL)

    quiet = _paragraph_style(doc, "Quiet Note", size=body_size - 1, colour=GREY, italic=True)
    _spacing(quiet, 0, 6, 1.1)

    child = _paragraph_style(doc, "Child Line", size=body_size + 1.5, colour=NAVY)
    _spacing(child, 0, 8 * scale, 1.1)

    _table_style(doc)


def _table_style(doc: DocumentObject) -> None:
    """Add ``CSSW Table``: light rules, a navy heading row, roomy cell margins."""
    style = doc.styles.add_style("CSSW Table", WD_STYLE_TYPE.TABLE)
    style.base_style = doc.styles["Normal Table"]
    el = style.element
    tblpr = OxmlElement("w:tblPr")
    _borders(
        tblpr,
        "w:tblBorders",
        {s: (LINE, 4) for s in ("top", "left", "bottom", "right", "insideH", "insideV")},
    )
    margins = OxmlElement("w:tblCellMar")
    for side, width in (("top", 45), ("left", 100), ("bottom", 45), ("right", 100)):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), str(width))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    tblpr.append(margins)
    el.append(tblpr)
    first = OxmlElement("w:tblStylePr")
    first.set(qn("w:type"), "firstRow")
    rpr = OxmlElement("w:rPr")
    b = OxmlElement("w:b")
    rpr.append(b)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "FFFFFF")
    rpr.append(colour)
    first.append(rpr)
    tcpr = OxmlElement("w:tcPr")
    _shade(tcpr, NAVY)
    first.append(tcpr)
    el.append(first)


# --- document skeleton ---------------------------------------------------------------------------


def _new_document(
    title_property: str,
    *,
    body_size: float = 10.5,
    scale: float = 1.0,
    margin_cm: float = 2.0,
    top_margin_cm: float = 2.3,
) -> DocumentObject:
    doc = Document()
    _styles(doc, body_size, scale)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Cm(21.0)
    section.page_height = Cm(29.7)
    section.left_margin = section.right_margin = Cm(margin_cm)
    section.top_margin = Cm(top_margin_cm)
    section.bottom_margin = Cm(2.0)
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)
    props = doc.core_properties
    props.title = title_property
    props.language = LANGUAGE
    props.subject = "Case audit, Children's Safeguarding and Social Work"
    props.author = "Quality Assurance Unit"
    props.last_modified_by = "cssw-docs"
    props.comments = "Made by tools/build_templates.py; docxtpl template for cssw-docs."
    props.keywords = "cssw-docs template"
    props.version = TEMPLATE_VERSION
    props.revision = 1
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.last_printed = FIXED_TIME
    # python-docx starts with one empty paragraph: drop it so the title is first.
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    return doc


def _header_footer(
    doc: DocumentObject, name: str, margin_cm: float = 2.0, page_width: float = 21.0
) -> None:
    """Marking and reference in the header, marking and page X of Y in the footer.

    DRAFT (at Draft) and the awaiting-decision marking (a disputed Final audit) appear in both,
    so every page says it; the footer's second line is the version and issue date.
    """
    width = Cm(page_width - 2 * margin_cm)
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.style = doc.styles["Header"]
    head.paragraph_format.tab_stops.add_tab_stop(Emu(width // 2), WD_TAB_ALIGNMENT.CENTER)
    head.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    r = head.add_run("{{ marking }}")
    r.bold = True
    head.add_run("\t{% if is_draft %}")
    r = head.add_run("DRAFT")
    r.bold = True
    r.font.size = Pt(11)
    r.font.color.rgb = _rgb(BANNER_RED)
    head.add_run("{% endif %}\t")
    head.add_run(f"{{{{ audit_ref }}}} · {name}")
    ppr = head._p.get_or_add_pPr()
    _borders(ppr, "w:pBdr", {"bottom": (LINE, 4)})
    # The awaiting-decision marking is too long for the header's middle: a line of its own.
    _p(section.header, "{%p if awaiting_decision %}", "Header")
    awaiting = _p(section.header, AWAITING, "Header", bold=True, colour=BANNER_RED, size=10)
    awaiting.alignment = WD_ALIGN_PARAGRAPH.CENTER
    awaiting.paragraph_format.space_before = Pt(3)
    _p(section.header, "{%p endif %}", "Header")

    foot = section.footer.paragraphs[0]
    foot.style = doc.styles["Footer"]
    foot.paragraph_format.tab_stops.add_tab_stop(Emu(width // 2), WD_TAB_ALIGNMENT.CENTER)
    foot.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    r = foot.add_run("{{ marking }}")
    r.bold = True
    foot.add_run("\t{% if is_draft %}")
    r = foot.add_run("DRAFT")
    r.bold = True
    r.font.color.rgb = _rgb(BANNER_RED)
    foot.add_run("{% elif awaiting_decision %}")
    r = foot.add_run(AWAITING)
    r.bold = True
    r.font.color.rgb = _rgb(BANNER_RED)
    foot.add_run("{% endif %}\tPage ")
    _field(foot, "PAGE")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES")
    version = _p(section.footer, "{{ version_line }}", "Footer", size=7.5)
    version.paragraph_format.space_before = Pt(2)


def _p(container, text: str = "", style: str | None = None, **run_format) -> object:
    """Add a paragraph holding ``text`` as one run (tags must never be split across runs)."""
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        for key, value in run_format.items():
            if key == "colour":
                run.font.color.rgb = _rgb(value)
            elif key == "size":
                run.font.size = Pt(value)
            else:
                setattr(run, key, value)
    return paragraph


def _cell_text(cell: _Cell, text: str, style: str = "Table Text", **run_format) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    if text:
        run = paragraph.add_run(text)
        for key, value in run_format.items():
            if key == "colour":
                run.font.color.rgb = _rgb(value)
            elif key == "size":
                run.font.size = Pt(value)
            else:
                setattr(run, key, value)


def _widths(table: Table, widths_cm: Sequence[float]) -> None:
    table.autofit = False
    for i, w in enumerate(widths_cm):
        table.columns[i].width = Cm(w)
        for cell in table.columns[i].cells:
            cell.width = Cm(w)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    trpr.append(el)


def _no_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def _keep_row(row) -> None:
    """Keep a table row on the page of what follows it (a table's title row, a rating chip)."""
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True


def _keep(paragraph):  # type: ignore[no-untyped-def]
    """Keep ``paragraph`` on the page of what follows it (an introduction to a table)."""
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _cell_fill(cell: _Cell, fill: str) -> None:
    _shade(cell._tc.get_or_add_tcPr(), fill)


def _table(doc, cols: int, widths: Sequence[float], heading: Sequence[str] | None) -> Table:
    table = doc.add_table(rows=0, cols=cols)
    table.style = doc.styles["CSSW Table"]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        # Only tables with a heading row get the style's heading-row formatting.
        look.set(qn("w:val"), "0420" if heading else "0400")
        look.set(qn("w:firstRow"), "1" if heading else "0")
        look.set(qn("w:firstColumn"), "0")
    if heading:
        row = table.add_row()
        _repeat_header(row)
        _no_split(row)
        for cell, text in zip(row.cells, heading, strict=True):
            _cell_text(cell, text, "Table Heading")
            # Direct fill as well as the style's, so every viewer shows the heading row.
            _cell_fill(cell, NAVY)
        _keep_row(row)  # never a title row alone at the foot of a page
    _widths(table, widths)
    return table


def _tag_row(table: Table, tag: str) -> None:
    """Add a row holding only a docxtpl row tag such as ``{%tr for a in actions %}``."""
    row = table.add_row()
    _cell_text(row.cells[0], tag)


def _loop_table(
    doc,
    heading: Sequence[str],
    cells: Sequence[str],
    widths: Sequence[float],
    loop: str,
    bold_first: bool = False,
) -> Table:
    table = _table(doc, len(heading), widths, heading)
    _tag_row(table, f"{{%tr for {loop} %}}")
    row = table.add_row()
    _no_split(row)  # an action is read whole: it moves to the next page rather than split
    for i, (cell, text) in enumerate(zip(row.cells, cells, strict=True)):
        _cell_text(cell, text, bold=bold_first and i == 0)
    _tag_row(table, "{%tr endfor %}")
    _widths(table, widths)
    return table


def _key_value_table(
    doc,
    pairs: Sequence[tuple[str, str]],
    widths: Sequence[float],
    wide: Sequence[tuple[str, str, str | None]] = (),
) -> Table:
    """A cover block: label/value pairs, two pairs to a row, labels on a soft fill.

    ``wide`` adds rows of one label and a value across the rest, each (label, value,
    condition): with a condition, the row is left out when it is false (no "Theme: none").
    """
    table = _table(doc, 4, widths, None)
    for i in range(0, len(pairs), 2):
        row = table.add_row()
        _no_split(row)
        for j, (label, value) in enumerate(pairs[i : i + 2]):
            label_cell, value_cell = row.cells[2 * j], row.cells[2 * j + 1]
            _cell_text(label_cell, label, "Table Label")
            _cell_fill(label_cell, LABEL_FILL)
            _cell_text(value_cell, value)
    for label, value, condition in wide:
        if condition:
            _tag_row(table, f"{{%tr if {condition} %}}")
        row = table.add_row()
        _no_split(row)
        _cell_text(row.cells[0], label, "Table Label")
        _cell_fill(row.cells[0], LABEL_FILL)
        _cell_text(row.cells[1], value)
        row.cells[1].merge(row.cells[3])
        if condition:
            _tag_row(table, "{%tr endif %}")
    _widths(table, widths)
    return table


def _spacer(doc, points: float = 4) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.space_before = Pt(0)
    p.paragraph_format.line_spacing = Pt(points)


def _draft_banner(doc, text: str) -> None:
    _p(doc, "{%p if is_draft %}")
    _p(doc, text, "Draft Banner")
    _p(doc, "{%p endif %}")


def _awaiting_banner(doc, text: str) -> None:
    _p(doc, "{%p if awaiting_decision %}")
    para = _p(doc, f"{AWAITING}. ", "Draft Banner")
    para.add_run(text).bold = False
    _p(doc, "{%p endif %}")


def _child_line(doc) -> None:
    """The line saying which child the document is about (name and MOSAIC ID, or the ID)."""
    para = _p(doc, "About: ", "Child Line", colour=GREY)
    para.add_run("{{ child.heading }}").bold = True


def _status_lines(doc) -> None:
    _p(doc, "{%p for line in status_lines %}")
    _p(doc, "{{ line }}", "Status Note")
    _p(doc, "{%p endfor %}")


def _labelled_text(doc, label: str, expr: str, empty: str) -> None:
    _p(doc, label, "Heading 3")
    _p(doc, f"{{{{ {expr} or {empty!r} }}}}")


def _decision_block(doc) -> None:
    """The Head of Quality Assurance's decision on a disputed audit, when there is one."""
    _p(doc, "{%p if decision %}")
    _p(doc, "Head of Quality Assurance decision", "Heading 1")
    widths = (3.6, 13.4)
    table = _table(doc, 2, widths, None)
    for label, value, condition in (
        ("Decision", "{{ decision.outcome }}", None),
        ("Note", "{{ decision.note }}", "decision.note"),
        ("Decided on", "{{ decision.decided_on }}", None),
        ("Decided by", "{{ decision.decided_by }}", "decision.decided_by"),
    ):
        if condition:
            _tag_row(table, f"{{%tr if {condition} %}}")
        row = table.add_row()
        _no_split(row)
        _cell_text(row.cells[0], label, "Table Label")
        _cell_fill(row.cells[0], LABEL_FILL)
        _cell_text(row.cells[1], value, bold=label == "Decision")
        if condition:
            _tag_row(table, "{%tr endif %}")
    _widths(table, widths)
    _p(doc, "{%p endif %}")


# --- the four templates ----------------------------------------------------------------------


def audit_report() -> DocumentObject:
    """The audit report: cover, ratings at a glance, each section, family voice, judgement."""
    doc = _new_document("{{ audit_ref }} Audit report")
    _header_footer(doc, "Audit report")
    _p(doc, "Case audit report", "Title")
    _p(
        doc,
        "{{ audit_ref }} · {{ audit.type }} audit{% if audit.theme %}: {{ audit.theme }}"
        "{% endif %}",
        "Subtitle",
    )
    _child_line(doc)
    _draft_banner(
        doc,
        "DRAFT for the practitioner's feedback. This is not the final audit: please do not "
        "circulate it.",
    )
    _awaiting_banner(
        doc,
        "The practitioner disagrees with this audit. The audit and its proposed plan are with "
        "the Head of Quality Assurance, and nothing in them is final until the Head of "
        "Quality Assurance has decided.",
    )
    _status_lines(doc)
    _key_value_table(
        doc,
        [
            ("Audit reference", "{{ audit_ref }}"),
            ("Type of audit", "{{ audit.type }}"),
            ("Team", "{{ audit.team }}"),
            ("Date of audit", "{{ audit.date }}"),
            ("Auditor", "{{ audit.auditor_name }}\n{{ audit.auditor_role }}"),
            ("Practitioner", "{{ audit.practitioner_name }}"),
            ("Manager", "{{ audit.manager_name }}"),
            ("Period reviewed", "{{ audit.review_period }}"),
        ],
        (2.9, 5.6, 2.9, 5.6),
        wide=[
            ("Theme", "{{ audit.theme }}", "audit.theme"),
            ("Case discussion", "{{ audit.discussion }}", "audit.discussion"),
            ("Version", "{{ version_line }}", None),
        ],
    )
    _decision_block(doc)

    _p(doc, "Ratings at a glance", "Heading 1")
    table = _table(doc, 3, (6.0, 4.6, 6.4), ("Section", "Rating", "Descriptors evidenced"))
    _tag_row(table, "{%tr for s in sections %}")
    row = table.add_row()
    _no_split(row)
    _cell_text(row.cells[0], "{{ s.name }}")
    _cell_text(row.cells[1], "{% cellbg s.fill %}{{ s.rating }}", bold=True)
    _cell_text(row.cells[2], "{{ s.evidenced_summary }}")
    _tag_row(table, "{%tr endfor %}")
    row = table.add_row()
    _no_split(row)
    _cell_text(row.cells[0], "Overall rating", bold=True)
    _cell_text(row.cells[1], "{% cellbg overall.fill %}{{ overall.rating }}", bold=True)
    _cell_text(row.cells[2], "The auditor's overall judgement of the case")
    _cell_fill(row.cells[0], LABEL_FILL)
    _cell_fill(row.cells[2], LABEL_FILL)
    _widths(table, (6.0, 4.6, 6.4))
    _p(
        doc,
        "Ratings follow the Ofsted grades: Outstanding, Good, Requires improvement, Inadequate.",
        "Quiet Note",
    ).paragraph_format.space_before = Pt(4)

    _p(doc, "Overall judgement", "Heading 1")
    _labelled_text(doc, "Summary", "overall.summary", "None recorded.")
    _labelled_text(doc, "Good practice", "overall.good_practice", "None recorded.")
    _labelled_text(doc, "Areas for development", "overall.areas_for_development", "None recorded.")
    _p(doc, "{%p if storyboard.status %}")
    _p(doc, "Good practice storyboard: {{ storyboard.status }}.", "Quiet Note")
    _p(doc, "{%p endif %}")

    _p(doc, "{%p for s in sections %}")
    _p(doc, "{{ s.number }}. {{ s.name }}", "Heading 1")
    chip = _table(doc, 2, (3.0, 4.6), None)
    row = chip.add_row()
    _cell_text(row.cells[0], "Rating", "Table Label")
    _cell_fill(row.cells[0], LABEL_FILL)
    _cell_text(row.cells[1], "{% cellbg s.fill %}{{ s.rating }}", bold=True)
    _keep_row(row)  # the heading, its rating and the first of its text stay together
    _widths(chip, (3.0, 4.6))
    _p(doc, "{%p if s.applicable %}")
    _labelled_text(doc, "Evidence", "s.evidence", "None recorded.")
    _labelled_text(doc, "Strengths", "s.strengths", "None recorded.")
    _labelled_text(doc, "Areas for development", "s.development", "None recorded.")
    _p(doc, "What the auditor found evidenced", "Heading 3")
    _p(doc, "{%p for group in s.descriptors %}")
    _keep(_p(doc, "{{ group.grade }}", bold=True)).paragraph_format.space_after = Pt(2)
    _p(doc, "{%p for item in group.texts %}")
    _p(doc, "{{ item }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p if not s.descriptors %}")
    _p(doc, "The auditor did not mark any descriptors as evidenced for this section.", "Quiet Note")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p else %}")
    _p(doc, "This section was not applicable to this audit.", "Quiet Note")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p endfor %}")

    _p(doc, "Compliance gaps", "Heading 1")
    _p(doc, "{%p if gaps %}")
    _keep(
        _p(
            doc,
            "Gaps the auditor raised before finalising the audit, and whether each has been "
            "addressed.",
        )
    )
    table = _table(doc, 4, (3.6, 7.9, 2.8, 2.7), ("Area", "Gap", "Raised on", "Addressed"))
    _tag_row(table, "{%tr for g in gaps %}")
    row = table.add_row()
    _cell_text(row.cells[0], "{{ g.area }}", bold=True)
    _cell_text(row.cells[1], "{{ g.gap }}")
    _cell_text(row.cells[2], "{{ g.raised_on }}")
    _cell_text(row.cells[3], "{% cellbg g.fill %}{{ g.addressed }}")
    _tag_row(table, "{%tr endfor %}")
    _widths(table, (3.6, 7.9, 2.8, 2.7))
    _p(doc, "{%p else %}")
    _p(doc, "No compliance gaps were raised.")
    _p(doc, "{%p endif %}")

    _p(doc, "What the family told us", "Heading 1")
    _p(doc, "{%p if family.questions %}")
    _p(doc, "{%p for q in family.questions %}")
    _p(doc, "{{ q.number }}. {{ q.text }}", "Heading 3")
    _p(doc, "{%p for r in q.responses %}")
    para = doc.add_paragraph()
    run = para.add_run("{{ r.respondent }}: ")
    run.bold = True
    para.add_run("{{ r.response }}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p if not q.responses %}")
    _p(doc, "No answer was recorded for this question.", "Quiet Note")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p else %}")
    _p(doc, "{{ family.none_reason }}")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if audit.observation_activity %}")
    _p(doc, "Observation of practice", "Heading 2")
    _p(doc, "{{ audit.observation_activity }}")
    _p(doc, "Family's consent to the observation: {{ audit.observation_consent }}", "Quiet Note")
    _p(doc, "{%p elif audit.observation_none %}")
    _p(doc, "Observation of practice", "Heading 2")
    _p(doc, "{{ audit.observation_none }}")
    _p(doc, "{%p endif %}")

    _p(doc, "{%p if practice_areas %}")
    _p(doc, "Core areas of practice", "Heading 1")
    table = _table(doc, 2, (5.5, 11.5), ("Area of practice", "Auditor's notes"))
    _tag_row(table, "{%tr for a in practice_areas %}")
    row = table.add_row()
    _cell_text(row.cells[0], "{{ a.area }}", bold=True)
    _cell_text(row.cells[1], "{{ a.notes }}")
    _tag_row(table, "{%tr endfor %}")
    _widths(table, (5.5, 11.5))
    _p(doc, "{%p endif %}")

    _p(doc, "The practitioner's response", "Heading 1")
    para = doc.add_paragraph()
    run = para.add_run("Does the practitioner agree with the audit? ")
    run.bold = True
    para.add_run("{{ practitioner.agreement or 'Not yet given' }}")
    _labelled_text(
        doc, "Feedback on the audit", "practitioner.feedback", "No feedback has been given yet."
    )
    _status_lines(doc)
    return doc


def audit_plan() -> DocumentObject:
    """The SMART audit plan (Proposed at Draft): actions by due date, then sign-off."""
    doc = _new_document("{{ audit_ref }} Audit plan", body_size=10, scale=0.9)
    _header_footer(doc, "Audit plan")
    _p(
        doc,
        "{% if is_draft or awaiting_decision %}Proposed audit plan{% else %}SMART audit plan"
        "{% endif %}",
        "Title",
    )
    _p(doc, "{{ audit_ref }} · {{ audit.type }} audit · {{ audit.team }}", "Subtitle")
    _child_line(doc)
    _draft_banner(
        doc,
        "DRAFT: the proposed plan for the practitioner's feedback. It becomes final once "
        "the practitioner and manager have agreed it.",
    )
    _awaiting_banner(
        doc,
        "The practitioner disagrees with the audit: this plan is proposed, and its actions "
        "start only once the Head of Quality Assurance has decided.",
    )
    _key_value_table(
        doc,
        [
            ("Practitioner", "{{ audit.practitioner_name }}"),
            ("Manager", "{{ audit.manager_name }}"),
            ("Auditor", "{{ audit.auditor_name }}"),
            ("Date of audit", "{{ audit.date }}"),
            ("Overall rating", "{% cellbg overall.fill %}{{ overall.rating }}"),
            ("Number of actions", "{{ actions|length }}"),
        ],
        (2.9, 5.6, 2.9, 5.6),
    )
    _p(doc, "Actions", "Heading 1")
    _keep(
        _p(
            doc,
            "Each action is specific, has one owner and a date, and says how we will know it "
            "is done. Actions are listed in the order they are due.",
        )
    )
    _p(doc, "{%p if actions %}")
    _loop_table(
        doc,
        ("No.", "What will be done", "Section", "Who", "By when", "How we will know"),
        (
            "{{ a.number }}",
            "{{ a.action }}",
            "{{ a.section }}",
            "{{ a.owner }}",
            "{{ a.due }}",
            "{{ a.measure }}",
        ),
        (1.0, 5.5, 2.3, 2.2, 2.3, 3.7),
        "a in actions",
    )
    _p(doc, "{%p else %}")
    _p(doc, "The auditor has not set any actions.")
    _p(doc, "{%p endif %}")
    _p(doc, "The practitioner's comments on the plan", "Heading 1")
    _p(doc, "{{ practitioner.plan_feedback or 'No comments have been given yet.' }}")
    _sign_off(doc)
    return doc


def _sign_off(doc) -> None:
    """Agreement and sign-off: the heading, its sentence and both rows always on one page."""
    _p(doc, "Agreement and sign-off", "Heading 1")
    _keep(
        _p(
            doc,
            "By signing, we agree this plan. The actions will be carried into supervision and "
            "reviewed there until each is complete.",
        )
    )
    table = _table(doc, 4, (3.2, 5.0, 5.3, 3.5), ("Role", "Name", "Signature", "Date"))
    for role, name in (
        ("Practitioner", "{{ audit.practitioner_name }}"),
        ("Manager", "{{ audit.manager_name }}"),
    ):
        row = table.add_row()
        _no_split(row)
        row.height = Cm(1.1)
        _cell_text(row.cells[0], role, bold=True)
        _cell_text(row.cells[1], name)
        if role == "Practitioner":
            _keep_row(row)
    _widths(table, (3.2, 5.0, 5.3, 3.5))


def supervision_insert() -> DocumentObject:
    """One page for the next supervision: who, the actions and reflective prompts.

    Compact (smaller title, tighter spacing, a notes box that fits) so that a normal audit,
    up to eight actions, stays on one page.
    """
    doc = _new_document(
        "{{ audit_ref }} Supervision insert", body_size=9.5, scale=0.8, top_margin_cm=1.9
    )
    _header_footer(doc, "Supervision insert")
    _p(doc, "Supervision insert", "Title")
    _p(doc, "Audit actions and reflection for the next supervision", "Subtitle")
    _child_line(doc)
    _key_value_table(
        doc,
        [
            ("Practitioner", "{{ audit.practitioner_name }}"),
            ("Manager", "{{ audit.manager_name }}"),
            ("Audit reference", "{{ audit_ref }}"),
            ("Date of audit", "{{ audit.date }}"),
            ("Overall rating", "{% cellbg overall.fill %}{{ overall.rating }}"),
            ("Auditor", "{{ audit.auditor_name }}"),
        ],
        (2.9, 5.6, 2.9, 5.6),
    )
    _p(doc, "Actions from the audit plan", "Heading 1")
    _p(doc, "{%p if actions %}")
    _loop_table(
        doc,
        ("No.", "Action", "Owner", "Due", "Progress at supervision"),
        ("{{ a.number }}", "{{ a.action }}", "{{ a.owner }}", "{{ a.due }}", ""),
        (0.9, 8.3, 2.6, 2.2, 3.0),
        "a in actions",
    )
    _p(doc, "{%p else %}")
    _p(doc, "The audit plan has no actions.")
    _p(doc, "{%p endif %}")
    _p(doc, "Prompts for reflection", "Heading 1")
    _p(doc, "{%p if prompts %}")
    _keep(_p(doc, "Drawn from the audit's areas for development. Use them to open the discussion."))
    _p(doc, "{%p for prompt in prompts %}")
    para = doc.add_paragraph(style="List Number")
    run = para.add_run("{{ prompt.point }}")
    run.bold = True
    para.add_run(" {{ prompt.question }}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p else %}")
    _p(doc, "What has gone well on this case, and how can that practice be shared with the team?")
    _p(doc, "{%p endif %}")
    _p(doc, "Notes from the supervision", "Heading 1")
    notes = _table(doc, 1, (17.0,), None)
    row = notes.add_row()
    _no_split(row)
    row.height = Cm(3.2)
    _cell_text(row.cells[0], "")
    _widths(notes, (17.0,))
    return doc


# --- the storyboard: one design for the pack, the posters and the booklet ----------------------

# (page width, page height, margin) in cm and the type scale: body text 14 pt on A4, 20 pt on A3.
POSTER_PAGES = {"A4": (21.0, 29.7, 1.5, 1.0), "A3": (29.7, 42.0, 2.1, 20 / 14)}
# Panel heading colours: the story's four parts; then the family's voice (ink and tint).
PANELS = (
    ("The context", "context", NAVY),
    ("What we did", "what_we_did", NAVY),
    ("The difference it made", "impact", "2E7D6B"),
    ("Learning for the service", "learning", "B7591F"),
)
VOICE = ("6B3FA0", "F3EEFA")


def _storyboard_styles(doc: DocumentObject, scale: float) -> None:
    """The storyboard's named styles; the title and panel headings are real headings."""
    title = _paragraph_style(doc, "Storyboard Title", base="Heading 1", size=26 * scale)
    title.font.color.rgb = _rgb(NAVY)
    _clear_borders(title)
    _spacing(title, 2 * scale, 6 * scale, 1.0, keep=True)
    kicker = _paragraph_style(doc, "Storyboard Kicker", size=12 * scale, bold=True, colour="2E7D6B")
    _spacing(kicker, 0, 2 * scale, 1.0, keep=True)
    panel = _paragraph_style(doc, "Storyboard Panel", base="Heading 2", size=15 * scale)
    panel.font.color.rgb = _rgb("FFFFFF")
    _clear_borders(panel)
    _spacing(panel, 8 * scale, 2 * scale, 1.0, keep=True)
    text = _paragraph_style(doc, "Storyboard Text", size=14 * scale, colour=INK)
    _spacing(text, 2 * scale, 4 * scale, 1.08)
    quote = _paragraph_style(
        doc, "Storyboard Quote", size=18 * scale, bold=True, colour=VOICE[0], italic=True
    )
    _spacing(quote, 0, 2 * scale, 1.05)
    credit = _paragraph_style(doc, "Storyboard Credit", size=14 * scale, colour=NAVY)
    _spacing(credit, 6 * scale, 3 * scale, 1.1)
    small = _paragraph_style(doc, "Storyboard Note", size=9 * scale, colour=GREY, italic=True)
    _spacing(small, 0, 2 * scale, 1.0)


def _plain_table(doc, widths: Sequence[float]) -> Table:
    """A table with no rules: fills carry the design."""
    table = _table(doc, len(widths), widths, None)
    _borders(
        table._tbl.tblPr,
        "w:tblBorders",
        {s: ("FFFFFF", 0) for s in ("top", "left", "bottom", "right", "insideH", "insideV")},
    )
    return table


def _cell_margins(cell: _Cell, cm: float) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    margins = OxmlElement("w:tcMar")
    for side in ("top", "left", "bottom", "right"):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), str(int(cm * 567)))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    tcpr.append(margins)


def _shaded_paragraph(paragraph, fill: str) -> None:
    _shade(paragraph._p.get_or_add_pPr(), fill)


def _bookmark(paragraph, name: str) -> None:
    """Wrap ``paragraph``'s content in a bookmark (a PAGEREF in the contents points at it)."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), "{{ sb.number }}")
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), "{{ sb.number }}")
    ppr = paragraph._p.pPr
    if ppr is not None:
        ppr.addnext(start)
    else:
        paragraph._p.insert(0, start)
    paragraph._p.append(end)


def _poster(
    doc, sb: str, width: float, scale: float, *, page_break: bool = False, booklet: bool = False
) -> None:
    """One storyboard laid out to be read from two metres, in the variable ``sb``.

    The title, the team and the rating badge (the pack's rating colour), the family's voice as
    a large pull-quote, the story in four panels over two columns, the worker credited.
    """
    kicker = _p(doc, f"PRACTICE STORYBOARD · {{{{ {sb}.month }}}}", "Storyboard Kicker")
    kicker.paragraph_format.page_break_before = page_break
    title = _p(doc, f"{{{{ {sb}.title }}}}", "Storyboard Title")
    if booklet:
        _bookmark(title, "storyboard_{{ sb.number }}")
    badge_width = 5.2 * scale
    top = _plain_table(doc, (width - badge_width, badge_width))
    row = top.add_row()
    _no_split(row)
    _cell_text(row.cells[0], f"{{{{ {sb}.team }}}}", "Subtitle", size=14 * scale)
    _cell_text(
        row.cells[1],
        f"{{% cellbg {sb}.fill %}}{{{{ {sb}.rating_label }}}}",
        "Table Heading",
        size=12 * scale,
        colour=INK,
    )
    row.cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    row.cells[1].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    row.cells[0].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _cell_margins(row.cells[1], 0.15 * scale)
    _widths(top, (width - badge_width, badge_width))
    _spacer(doc, 6 * scale)

    voice = _plain_table(doc, (width,))
    row = voice.add_row()
    _no_split(row)
    cell = row.cells[0]
    _cell_fill(cell, VOICE[1])
    _cell_margins(cell, 0.25 * scale)
    _cell_text(
        cell,
        "The voice of the child and family",
        "Storyboard Panel",
        colour=VOICE[0],
        size=12 * scale,
    )
    cell.paragraphs[0].paragraph_format.space_before = Pt(0)
    cell.add_paragraph(f"{{{{ {sb}.voice }}}}", style="Storyboard Quote")
    _widths(voice, (width,))
    _spacer(doc, 2 * scale)

    gap = 0.6 * scale
    column = (width - gap) / 2
    story = _plain_table(doc, (column, gap, column))
    # Two panels a row (context beside impact, what we did beside learning), so a long story
    # moves a row to the next page rather than the whole story.
    for left, right in ((PANELS[0], PANELS[2]), (PANELS[1], PANELS[3])):
        row = story.add_row()
        for cell, (heading, key, dark) in ((row.cells[0], left), (row.cells[2], right)):
            head = cell.paragraphs[0]
            head.style = doc.styles["Storyboard Panel"]
            head.add_run(heading)
            ppr = head._p.get_or_add_pPr()
            _shade(ppr, dark)
            _borders(ppr, "w:pBdr", {s: (dark, 4) for s in ("top", "left", "bottom", "right")})
            cell.add_paragraph(f"{{{{ {sb}.{key} }}}}", style="Storyboard Text")
    _widths(story, (column, gap, column))

    para = _p(doc, "With thanks to ", "Storyboard Credit")
    para.add_run(f"{{{{ {sb}.practitioner }}}}").bold = True
    para.add_run(f" and {{{{ {sb}.team }}}}. Audited by {{{{ {sb}.auditor }}}}.")
    # Printed only when the workbook says so: consent, and the auditor's own confirmation.
    _p(doc, f"{{%p if {sb}.sharing %}}")
    _p(doc, f"{{{{ {sb}.sharing }}}}", "Storyboard Note")
    _p(doc, "{%p endif %}")
    _p(doc, f"{{%p if {sb}.confirmation %}}")
    _p(doc, f"{{{{ {sb}.confirmation }}}}", "Storyboard Note")
    _p(doc, "{%p endif %}")


def _poster_document(size: str, title: str) -> tuple[DocumentObject, float, float]:
    page_w, page_h, margin, scale = POSTER_PAGES[size]
    doc = _new_document(title, body_size=14 * scale, scale=1.25 * scale, margin_cm=margin)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(page_w), Cm(page_h)
    section.top_margin = Cm(margin + 0.6)
    _storyboard_styles(doc, scale)
    return doc, page_w - 2 * margin, scale


def storyboard(size: str = "A4") -> DocumentObject:
    """The storyboard in the pack and the A4 poster; ``size`` A3 makes the A3 poster."""
    doc, width, scale = _poster_document(size, "{{ storyboard.title }}")
    _header_footer(
        doc, "Practice storyboard", POSTER_PAGES[size][2], page_width=POSTER_PAGES[size][0]
    )
    _poster(doc, "storyboard", width, scale)
    return doc


def storyboard_a3() -> DocumentObject:
    """The A3 poster: the same design, type scaled up (body text 20 pt)."""
    return storyboard("A3")


FOREWORD = (
    "These storyboards come from this period's case audits where practice was Good or "
    "Outstanding. Each one was written by the worker with the auditor, and shared with the "
    "agreement of the worker and the family.",
    "Use them at team meetings and learning events: what made the difference, and what could "
    "you try in your own work? The Quality Assurance Unit edits this foreword in the booklet "
    "template (templates/storyboard_booklet.docx).",
)


def storyboard_booklet() -> DocumentObject:
    """The booklet: cover, contents, foreword, then one storyboard a page, numbered pages."""
    doc, width, scale = _poster_document("A4", "{{ booklet.title }}")
    margin = POSTER_PAGES["A4"][2]
    _booklet_header_footer(doc, margin)
    _p(doc, "PRACTICE STORYBOARDS", "Storyboard Kicker", size=16)
    _spacer(doc, 90)
    band = _plain_table(doc, (width,))
    row = band.add_row()
    _no_split(row)
    cell = row.cells[0]
    _cell_fill(cell, NAVY)
    _cell_margins(cell, 0.9)
    _cell_text(cell, "{{ booklet.title }}", "Title", size=40, colour="FFFFFF")
    cell.add_paragraph("{{ booklet.period }}", style="Subtitle").runs[0].font.color.rgb = _rgb(
        "FFFFFF"
    )
    cell.paragraphs[-1].runs[0].font.size = Pt(22)
    cell.add_paragraph("{{ booklet.service }}", style="Subtitle").runs[0].font.color.rgb = _rgb(
        "DCE3EE"
    )
    cell.paragraphs[-1].runs[0].font.size = Pt(16)
    _widths(band, (width,))
    # The four colours of the storyboard's panels, as a strip under the title.
    strip = _plain_table(doc, (width / 4,) * 4)
    row = strip.add_row()
    row.height = Cm(0.5)
    for cell, colour in zip(row.cells, ("B7591F", "2E7D6B", VOICE[0], "8EA9DB"), strict=True):
        _cell_fill(cell, colour)
        _cell_text(cell, "")
    _widths(strip, (width / 4,) * 4)
    _spacer(doc, 30)
    _p(doc, "{{ booklet.audience }}", "Storyboard Credit", bold=True)
    _p(doc, "{%p if booklet.filters %}")
    _p(doc, "{{ booklet.filters }}", "Storyboard Credit")
    _p(doc, "{%p endif %}")
    _p(doc, "{{ booklet.count_line }}", "Storyboard Credit")
    _p(
        doc,
        "Prepared by the Quality Assurance Unit, {{ booklet.generated_on }}.",
        "Storyboard Note",
    )

    text = _paragraph_style(doc, "Contents Text", base="Table Text", size=11, colour=INK)
    _spacing(text, 1, 1, 1.0)
    team = _paragraph_style(doc, "Contents Team", base="Table Text", size=9.5, colour=GREY)
    _spacing(team, 0, 1, 1.0)
    contents = _p(doc, "Contents", "Heading 1")
    contents.paragraph_format.page_break_before = True
    widths = (1.3, 10.2, 4.0, 2.5)
    table = _table(doc, 4, widths, ("No.", "Storyboard and team", "Rating", "Page"))
    for cell in table.rows[0].cells:
        cell.paragraphs[0].runs[0].font.size = Pt(11)
    _tag_row(table, "{%tr for sb in storyboards %}")
    row = table.add_row()
    _no_split(row)
    _cell_text(row.cells[0], "{{ sb.number }}", "Contents Text")
    _cell_text(row.cells[1], "{{ sb.title }}", "Contents Text", bold=True)
    row.cells[1].add_paragraph("{{ sb.team }}", style="Contents Team")
    _cell_text(row.cells[2], "{% cellbg sb.fill %}{{ sb.rating }}", "Contents Text")
    page = row.cells[3].paragraphs[0]
    page.style = doc.styles["Contents Text"]
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _field(page, "PAGEREF storyboard_{{ sb.number }} \\h", "{{ sb.page }}")
    _tag_row(table, "{%tr endfor %}")
    _widths(table, widths)
    _p(doc, "{%p if not storyboards %}")
    _p(doc, "No storyboard was completed in this period.", "Quiet Note")
    _p(doc, "{%p endif %}")

    foreword = _p(doc, "Foreword", "Heading 1")
    foreword.paragraph_format.page_break_before = True
    for text in FOREWORD:
        _p(doc, text, "Storyboard Text")

    _p(doc, "{%p for sb in storyboards %}")
    _poster(doc, "sb", width, scale, page_break=True, booklet=True)
    _p(doc, "{%p endfor %}")
    return doc


def _booklet_header_footer(doc: DocumentObject, margin_cm: float) -> None:
    """Marking and the booklet's title in the header; marking and page X of Y in the footer."""
    width = Cm(21.0 - 2 * margin_cm)
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.style = doc.styles["Header"]
    head.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    head.add_run("{{ marking }}").bold = True
    head.add_run("\t{{ booklet.title }} · {{ booklet.period }}")
    _borders(head._p.get_or_add_pPr(), "w:pBdr", {"bottom": (LINE, 4)})
    foot = section.footer.paragraphs[0]
    foot.style = doc.styles["Footer"]
    foot.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    foot.add_run("{{ marking }}").bold = True
    foot.add_run("\tPage ")
    _field(foot, "PAGE")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES")


TEMPLATES = {
    "audit_report.docx": audit_report,
    "audit_plan.docx": audit_plan,
    "supervision_insert.docx": supervision_insert,
    "storyboard.docx": storyboard,
}
# Made by the same design, but not part of a pack: `cssw-docs storyboards poster` and `booklet`.
STORYBOARD_TEMPLATES = {
    "storyboard_a3.docx": storyboard_a3,
    "storyboard_booklet.docx": storyboard_booklet,
}


def _normalise_zip(path: Path) -> None:
    """Rewrite the .docx with fixed timestamps so the same code gives the same bytes."""
    with zipfile.ZipFile(path) as zin:
        items = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)


def build(outdir: Path) -> list[Path]:
    """Write every template into ``outdir`` and return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in {**TEMPLATES, **STORYBOARD_TEMPLATES}.items():
        doc = make()
        path = outdir / name
        doc.save(str(path))
        _normalise_zip(path)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "templates"
    for p in build(target):
        print(p)
