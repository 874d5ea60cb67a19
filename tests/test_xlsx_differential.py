"""The hand-written reader agrees with openpyxl on every workbook form we know of.

Each workbook is read twice: by ``read_workbook`` (the project's reader) and by
``openpyxl.load_workbook(data_only=True)`` fed through the same parse logic
(``parse.submission_of``). The two Submissions, with their cell locations and findings,
must be identical. The forms openpyxl cannot write are made by rewriting the XML inside a
generated workbook.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.styles.numbers import builtin_format_code, is_date_format
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel

from cssw_docs import examples
from cssw_docs.models import Submission
from cssw_docs.rubric import Rubric
from cssw_docs.workbook import parse, xlsx
from cssw_docs.workbook.generate import write_submission

DATA = Path(__file__).parent / "data"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
M = f"{{{MAIN}}}"
Parts = dict[str, bytes]


# --- the openpyxl reading -------------------------------------------------------------------


def openpyxl_book(path: Path) -> xlsx.Book:
    """Return what openpyxl reads from ``path`` (saved values only) as the reader's Book."""
    wb = openpyxl.load_workbook(path, data_only=True)
    names = []
    for ws in wb.worksheets:  # each sheet's own names first, as the reader lists them
        for defined in ws.defined_names.values():
            names.append(xlsx.DefinedName(defined.name, ws.title, tuple(defined.destinations)))
    for defined in wb.defined_names.values():
        names.append(xlsx.DefinedName(defined.name, None, tuple(defined.destinations)))
    tables, cells = {}, {}
    for ws in wb.worksheets:
        tables[ws.title] = tuple(
            xlsx.Table(t.displayName, t.ref, t.totalsRowCount or 0) for t in ws.tables.values()
        )
        cells[ws.title] = {
            (c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None
        }
    return xlsx.Book(tuple(wb.sheetnames), wb.epoch, tuple(names), tables, cells)


def both(path: Path, rubric: Rubric) -> tuple[Submission, Submission]:
    """Return the audit in ``path`` read by the project's reader and by openpyxl."""
    ours = parse.read_workbook(path, rubric)
    theirs = parse.submission_of(openpyxl_book(path), rubric)
    return ours, theirs


def assert_same(ours: Submission, theirs: Submission) -> None:
    """Assert two readings agree on every value, every location and every finding."""
    assert ours == theirs
    assert ours.locations == theirs.locations
    assert ours.table_columns == theirs.table_columns
    assert ours.parse_findings == theirs.parse_findings


# --- rewriting the XML inside a workbook ----------------------------------------------------


def rezip(src: Path, dst: Path, change: Callable[[Parts], None]) -> Path:
    """Write ``src`` to ``dst`` with its parts changed in place by ``change``."""
    with zipfile.ZipFile(src) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    change(parts)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return dst


def sheet_parts(parts: Parts) -> dict[str, str]:
    """Return {sheet name: part name} from the workbook and its relationships."""
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target").lstrip("/") for r in rels}
    out = {}
    for sheet in etree.fromstring(parts["xl/workbook.xml"]).iter(f"{M}sheet"):
        target = targets[sheet.get(f"{{{REL}}}id")]
        out[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def edit_sheets(parts: Parts, edit: Callable[[str, etree._Element], None]) -> None:
    """Call ``edit(sheet name, root)`` on every worksheet's XML and store the result."""
    for name, part in sheet_parts(parts).items():
        root = etree.fromstring(parts[part])
        edit(name, root)
        parts[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def date_styles(parts: Parts) -> set[str]:
    """Return the cell style indexes (as written in ``s``) whose number format is a date."""
    root = etree.fromstring(parts["xl/styles.xml"])
    custom = {n.get("numFmtId"): n.get("formatCode") for n in root.iter(f"{M}numFmt")}
    xfs = root.find(f"{M}cellXfs")
    out = set()
    for index, xf in enumerate(xfs):
        number = xf.get("numFmtId", "0")
        fmt = custom.get(number) or builtin_format_code(int(number))
        if is_date_format(fmt):
            out.add(str(index))
    return out


def date_cells(parts: Parts, root: etree._Element) -> list[etree._Element]:
    """Return the cells of ``root`` holding a number shown as a date."""
    styles = date_styles(parts)
    return [
        c
        for c in root.iter(f"{M}c")
        if c.get("s") in styles and c.get("t", "n") == "n" and c.findtext(f"{M}v")
    ]


def _run(text: str, bold: bool) -> etree._Element:
    run = etree.Element(f"{M}r")
    if bold:
        etree.SubElement(etree.SubElement(run, f"{M}rPr"), f"{M}b")
    t = etree.SubElement(run, f"{M}t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return run


def split_into_runs(item: etree._Element) -> None:
    """Rewrite a string item holding one ``<t>`` as two rich-text runs and a phonetic hint."""
    plain = item.find(f"{M}t")
    if plain is None or len(item) != 1 or len(plain.text or "") < 4:
        return
    text = plain.text
    item.remove(plain)
    item.append(_run(text[: len(text) // 2], bold=True))
    item.append(_run(text[len(text) // 2 :], bold=False))
    hint = etree.SubElement(item, f"{M}rPh", sb="0", eb="1")
    etree.SubElement(hint, f"{M}t").text = "ignored"


# --- the variants ---------------------------------------------------------------------------


def shared_strings(parts: Parts) -> None:
    """Every inline string becomes a shared string, as Excel and LibreOffice save them."""
    table: list[etree._Element] = []

    def edit(_name: str, root: etree._Element) -> None:
        for c in root.iter(f"{M}c"):
            if c.get("t") == "inlineStr":
                inline = c.find(f"{M}is")
                item = etree.Element(f"{M}si")
                item.extend(list(inline))
                c.remove(inline)
                c.set("t", "s")
                etree.SubElement(c, f"{M}v").text = str(len(table))
                table.append(item)

    edit_sheets(parts, edit)
    sst = etree.Element(f"{M}sst", count=str(len(table)), uniqueCount=str(len(table)))
    sst.extend(table)
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8")
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    etree.SubElement(
        rels, f"{{{PKG}}}Relationship", Id="rIdStrings", Target="sharedStrings.xml",
        Type=f"{REL}/sharedStrings",
    )  # fmt: skip
    parts["xl/_rels/workbook.xml.rels"] = etree.tostring(rels)
    types = etree.fromstring(parts["[Content_Types].xml"])
    etree.SubElement(
        types, f"{{{CT}}}Override", PartName="/xl/sharedStrings.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    )  # fmt: skip
    parts["[Content_Types].xml"] = etree.tostring(types)


def rich_inline(parts: Parts) -> None:
    """Every inline string of four or more characters becomes rich-text runs."""
    edit_sheets(parts, lambda _name, root: [split_into_runs(i) for i in root.iter(f"{M}is")])


def rich_shared(parts: Parts) -> None:
    """Shared strings, each of four or more characters in rich-text runs."""
    shared_strings(parts)
    sst = etree.fromstring(parts["xl/sharedStrings.xml"])
    for item in sst:
        split_into_runs(item)
    parts["xl/sharedStrings.xml"] = etree.tostring(sst)


def iso_dates(parts: Parts) -> None:
    """Dates saved as ISO 8601 date cells (t="d") instead of serial numbers."""

    def edit(_name: str, root: etree._Element) -> None:
        for c in date_cells(parts, root):
            c.set("t", "d")
            v = c.find(f"{M}v")
            v.text = from_excel(float(v.text)).isoformat()

    edit_sheets(parts, edit)


def plain_serials(parts: Parts) -> None:
    """Dates saved as bare serial numbers, without a date format."""

    def edit(_name: str, root: etree._Element) -> None:
        for c in date_cells(parts, root):
            del c.attrib["s"]

    edit_sheets(parts, edit)


def text_dates(parts: Parts) -> None:
    """Dates typed as text, in the UK forms auditors use."""
    forms = ("%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d-%b-%y")

    def edit(_name: str, root: etree._Element) -> None:
        for i, c in enumerate(date_cells(parts, root)):
            day = from_excel(float(c.findtext(f"{M}v")))
            c.remove(c.find(f"{M}v"))
            c.set("t", "inlineStr")
            etree.SubElement(etree.SubElement(c, f"{M}is"), f"{M}t").text = day.strftime(
                forms[i % len(forms)]
            )

    edit_sheets(parts, edit)


def mac_1904(parts: Parts) -> None:
    """The 1904 date system: the flag set and every date serial 1,462 days smaller."""
    root = etree.fromstring(parts["xl/workbook.xml"])
    root.find(f"{M}workbookPr").set("date1904", "1")
    parts["xl/workbook.xml"] = etree.tostring(root)

    def edit(_name: str, sheet: etree._Element) -> None:
        for c in date_cells(parts, sheet):
            v = c.find(f"{M}v")
            v.text = str(int(float(v.text)) - 1462)

    edit_sheets(parts, edit)


def implicit_positions(parts: Parts) -> None:
    """Rows and valued cells without ``r`` where the position follows; empty cells keep it."""

    def edit(_name: str, root: etree._Element) -> None:
        last_row = 0
        for row in root.iter(f"{M}row"):
            number = int(row.get("r"))
            if number == last_row + 1:
                del row.attrib["r"]
            last_row, last_col = number, 0
            for c in row:
                col = coordinate_to_tuple(c.get("r"))[1]
                if len(c) and col == last_col + 1:
                    del c.attrib["r"]
                last_col = col

    edit_sheets(parts, edit)


def formulas(parts: Parts) -> None:
    """Inputs holding formulas with cached results: text, number, date, boolean, error, none."""
    names = defined_cells(parts)
    cached = {
        "audit_ref": ("str", '"CSSW-2026-"&"0142"', "CSSW-2026-0142"),
        "discussion_minutes": (None, "50+5", "55"),
        "audit_date": (None, "DATE(2026,10,14)", None),  # keeps its cached serial
        "storyboard_consent": ("b", "TRUE()", "1"),
        "team": ("e", "NA()", "#N/A"),
        "manager_name": (None, "1+1", ""),  # never calculated: no cached value
    }

    def edit(sheet: str, root: etree._Element) -> None:
        for c in root.iter(f"{M}c"):
            for name, (kind, formula, value) in cached.items():
                if names[name] != (sheet, c.get("r")):
                    continue
                old = c.findtext(f"{M}v") or c.findtext(f"{M}is/{M}t")
                for child in list(c):
                    c.remove(child)
                c.attrib.pop("t", None)
                if kind:
                    c.set("t", kind)
                etree.SubElement(c, f"{M}f").text = formula
                if value != "":
                    etree.SubElement(c, f"{M}v").text = old if value is None else value

    edit_sheets(parts, edit)


def merged(parts: Parts) -> None:
    """Merged ranges over inputs: the covered cells' values are not read."""
    names = defined_cells(parts)
    ref_sheet, ref_cell = names["audit_ref"]
    row, col = coordinate_to_tuple(ref_cell)
    next_cell = f"{get_column_letter(col + 1)}{row}"
    merges = {ref_sheet: [f"{ref_cell}:{next_cell}"]}
    plan_sheet, plan_ref = table_ref(parts, "AuditPlan")
    _, top, _, _ = range_boundaries(plan_ref)
    # The first action's owner covers its due date; its section covers the next action's.
    merges.setdefault(plan_sheet, []).extend([f"C{top + 1}:D{top + 1}", f"B{top + 1}:B{top + 2}"])

    def edit(sheet: str, root: etree._Element) -> None:
        if sheet not in merges:
            return
        block = root.find(f"{M}mergeCells")
        if block is None:
            block = etree.Element(f"{M}mergeCells")
            root.find(f"{M}sheetData").addnext(block)
        for ref in merges[sheet]:
            etree.SubElement(block, f"{M}mergeCell", ref=ref)
        block.set("count", str(len(block)))

    edit_sheets(parts, edit)


def escapes(parts: Parts) -> None:
    """Text with Excel's _xHHHH_ escapes, as saved from cells holding carriage returns."""
    names = defined_cells(parts)

    def edit(sheet: str, root: etree._Element) -> None:
        for c in root.iter(f"{M}c"):
            if (sheet, c.get("r")) == names["overall_summary"]:
                c.find(f"{M}is/{M}t").text = "First_x000D_\nsecond _x005F_x000D_ third"

    edit_sheets(parts, edit)


def shared_escapes(parts: Parts) -> None:
    """The same escapes, in shared strings (where openpyxl drops the _x005F prefix)."""
    escapes(parts)
    shared_strings(parts)


def defined_cells(parts: Parts) -> dict[str, tuple[str, str]]:
    """Return {defined name: (sheet, cell without $)} for the single-cell names."""
    root = etree.fromstring(parts["xl/workbook.xml"])
    out = {}
    for node in root.iter(f"{M}definedName"):
        sheet, _, cell = node.text.rpartition("!")
        out[node.get("name")] = (sheet.strip("'").replace("''", "'"), cell.replace("$", ""))
    return out


def table_ref(parts: Parts, name: str) -> tuple[str, str]:
    """Return (sheet, range) of the Excel table called ``name``."""
    for sheet, part in sheet_parts(parts).items():
        folder = part.rsplit("/", 1)[0]
        rels_part = f"{folder}/_rels/{part.rsplit('/', 1)[1]}.rels"
        if rels_part not in parts:
            continue
        for rel in etree.fromstring(parts[rels_part]):
            target = rel.get("Target")
            path = posixpath.normpath(posixpath.join(folder, target)).lstrip("/")
            table = etree.fromstring(parts[path])
            if table.get("displayName") == name:
                return sheet, table.get("ref")
    raise KeyError(name)


VARIANTS: dict[str, Callable[[Parts], None]] = {
    "shared strings": shared_strings,
    "rich inline strings": rich_inline,
    "rich shared strings": rich_shared,
    "ISO date cells": iso_dates,
    "dates as plain serials": plain_serials,
    "dates typed as text": text_dates,
    "1904 date system": mac_1904,
    "implicit row and cell positions": implicit_positions,
    "formulas with cached values": formulas,
    "merged cells": merged,
    "escaped characters": escapes,
    "escaped characters in shared strings": shared_escapes,
}
# Variants that change how values are stored, not what they are: the audit reads the same.
LOSSLESS = {
    "shared strings",
    "rich inline strings",
    "rich shared strings",
    "ISO date cells",
    "dates as plain serials",
    "dates typed as text",
    "1904 date system",
    "implicit row and cell positions",
}


# --- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_path(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> Path:
    """The good example written as a workbook by the generator."""
    path = tmp_path_factory.mktemp("differential") / "good.xlsx"
    return write_submission(examples.good(the_rubric), path, the_rubric)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(examples.EXAMPLES))
def test_every_example_workbook_reads_the_same(
    name: str, tmp_path: Path, the_rubric: Rubric
) -> None:
    """Each example workbook reads identically with the reader and with openpyxl."""
    path = write_submission(examples.example(name, the_rubric), tmp_path / "a.xlsx", the_rubric)
    ours, theirs = both(path, the_rubric)
    assert_same(ours, theirs)
    assert ours.audit_ref == examples.example(name, the_rubric).audit_ref


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(DATA.glob("*.xlsx")), ids=lambda p: p.name)
def test_libreoffice_saved_fixtures_read_the_same(path: Path, the_rubric: Rubric) -> None:
    """The workbooks saved by LibreOffice read identically with the reader and with openpyxl."""
    ours, theirs = both(path, the_rubric)
    assert_same(ours, theirs)
    assert ours.audit_ref


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_rewritten_variants_read_the_same(
    variant: str, good_path: Path, tmp_path: Path, the_rubric: Rubric
) -> None:
    """Each rewritten form of the good workbook reads identically with both readers."""
    path = rezip(good_path, tmp_path / "variant.xlsx", VARIANTS[variant])
    assert path.read_bytes() != good_path.read_bytes()
    ours, theirs = both(path, the_rubric)
    assert_same(ours, theirs)
    if variant in LOSSLESS:
        assert ours == parse.read_workbook(good_path, the_rubric)


def test_formulas_read_their_cached_results(
    good_path: Path, tmp_path: Path, the_rubric: Rubric
) -> None:
    """A formula's cached result is read; a formula never calculated reads as empty."""
    path = rezip(good_path, tmp_path / "formulas.xlsx", formulas)
    sub = parse.read_workbook(path, the_rubric)
    assert (sub.audit_ref, sub.discussion_minutes, sub.storyboard_consent) == (
        "CSSW-2026-0142",
        55,
        True,
    )
    assert sub.audit_date == dt.date(2026, 10, 14)
    assert (sub.team, sub.manager_name) == ("#N/A", "")


def test_covered_cells_of_a_merge_are_not_read(
    good_path: Path, tmp_path: Path, the_rubric: Rubric
) -> None:
    """Under a merge only the top-left value counts: the covered due date and section are lost."""
    path = rezip(good_path, tmp_path / "merged.xlsx", merged)
    base, sub = parse.read_workbook(good_path, the_rubric), parse.read_workbook(path, the_rubric)
    assert sub.audit_ref == base.audit_ref
    assert sub.actions[0].due is None and base.actions[0].due is not None
    assert sub.actions[1].section == "" and base.actions[1].section
