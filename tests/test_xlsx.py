"""The small .xlsx reader: sheets, defined names, tables and saved cell values from the XML."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from cssw_docs.workbook import xlsx
from cssw_docs.workbook.safety import UnreadableWorkbook
from cssw_docs.workbook.xlsx import DefinedName, Table, read_book

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET = f"{R}/worksheet"

SHARED = f"""<sst xmlns="{MAIN}" count="3" uniqueCount="3">
<si><t>Plain</t></si>
<si><r><rPr><b/></rPr><t xml:space="preserve">Bold </t></r><r><t>and plain</t></r></si>
<si><t xml:space="preserve">  kept spaces  </t><rPh sb="0" eb="1"><t>phonetic</t></rPh></si>
</sst>"""

STYLES = f"""<styleSheet xmlns="{MAIN}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>
<cellXfs count="4">
<xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="2"/><xf numFmtId="46"/>
</cellXfs>
</styleSheet>"""

# Sheet 1 ("Audit details"): one cell of each kind, in row 2 from column A.
SHEET1 = f"""<worksheet xmlns="{MAIN}" xmlns:r="{R}"><sheetData>
<row r="2">
<c r="A2" t="s"><v>0</v></c>
<c r="B2" t="s"><v>1</v></c>
<c r="C2" t="s"><v>2</v></c>
<c r="D2" t="inlineStr"><is><r><t>In</t></r><r><t>line</t></r></is></c>
<c r="E2" t="b"><v>1</v></c>
<c r="F2" t="b"><v>0</v></c>
<c r="G2" t="e"><v>#N/A</v></c>
<c r="H2"><v>45</v></c>
<c r="I2"><v>45.5</v></c>
<c r="J2"><v>1E3</v></c>
<c r="K2" t="str"><f>A2&amp;"!"</f><v>Plain!</v></c>
<c r="L2"><f>1+1</f></c>
<c r="M2" t="d"><v>2026-01-31T10:30:00</v></c>
<c r="N2" s="1"><v>46053</v></c>
<c r="O2" s="2"><v>46053</v></c>
<c r="P2" s="3"><v>1.5</v></c>
<c r="Q2" t="n"><v></v></c>
</row>
<row><c><v>7</v></c><c/><c><v>9</v></c></row>
<row r="5"><c r="A5" t="inlineStr"><is><t>Top left</t></is></c><c r="B5"><v>99</v></c></row>
</sheetData>
<mergeCells count="1"><mergeCell ref="A5:B5"/></mergeCells>
<tableParts count="1"><tablePart r:id="rIdT"/></tableParts>
</worksheet>"""

SHEET2 = f"""<worksheet xmlns="{MAIN}" xmlns:r="{R}"><sheetData>
<row r="3"><c r="B3" t="inlineStr"><is><t>Action</t></is></c></row>
</sheetData>
<tableParts count="1"><tablePart r:id="rId1"/></tableParts>
</worksheet>"""

TABLE1 = f'<table xmlns="{MAIN}" id="1" name="Plan_x0020_one" ref="A7:C9" totalsRowCount="1"/>'
TABLE2 = f'<table xmlns="{MAIN}" id="2" name="Table2" displayName="AuditPlan" ref="B3:E20"/>'

WORKBOOK = f"""<workbook xmlns="{MAIN}" xmlns:r="{R}">
<workbookPr date1904="{{date1904}}"/>
<sheets>
<sheet name="Audit details" sheetId="1" r:id="rId1"/>
<sheet name="Child's plan" sheetId="2" r:id="rId2"/>
</sheets>
<definedNames>
<definedName name="_xlnm.Print_Area" localSheetId="0">'Audit details'!$A$1:$D$9</definedName>
<definedName name="team" localSheetId="1">'Child''s plan'!$C$5</definedName>
<definedName name="team">'Audit details'!$C$2</definedName>
<definedName name="areas">'Child''s plan'!$B$3:$B$4,'Audit details'!$A$2</definedName>
<definedName name="lost">#REF!</definedName>
</definedNames>
</workbook>"""

WORKBOOK_RELS = f"""<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{WORKSHEET}" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{WORKSHEET}" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{R}/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId4" Type="{R}/styles" Target="styles.xml"/>
</Relationships>"""

SHEET1_RELS = f"""<Relationships xmlns="{PKG}">
<Relationship Id="rIdX" Type="{R}/hyperlink" Target="http://example.invalid" TargetMode="External"/>
<Relationship Id="rIdT" Type="{R}/table" Target="../tables/table1.xml"/>
</Relationships>"""

SHEET2_RELS = f"""<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{R}/table" Target="/xl/tables/table2.xml"/>
</Relationships>"""


def _encode(parts: dict[str, str | bytes]) -> dict[str, bytes]:
    """Return the parts as the reader receives them from safety.open_workbook: bytes by name."""
    return {name: data.encode() if isinstance(data, str) else data for name, data in parts.items()}


def _parts(date1904: str = "false") -> dict[str, str | bytes]:
    return {
        "xl/workbook.xml": WORKBOOK.replace("{date1904}", date1904),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": SHARED,
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": SHEET1,
        "xl/worksheets/_rels/sheet1.xml.rels": SHEET1_RELS,
        "xl/worksheets/sheet2.xml": SHEET2,
        "xl/worksheets/_rels/sheet2.xml.rels": SHEET2_RELS,
        "xl/tables/table1.xml": TABLE1,
        "xl/tables/table2.xml": TABLE2,
    }


@pytest.fixture
def book() -> xlsx.Book:
    """The hand-written two-sheet workbook, read."""
    return read_book(_encode(_parts()))


VALUES: list[tuple[str, int, int, Any]] = [
    ("shared string", 2, 1, "Plain"),
    ("rich-text runs joined", 2, 2, "Bold and plain"),
    ("spaces kept, phonetic run left out", 2, 3, "  kept spaces  "),
    ("inline rich text", 2, 4, "Inline"),
    ("boolean true", 2, 5, True),
    ("boolean false", 2, 6, False),
    ("error", 2, 7, "#N/A"),
    ("whole number", 2, 8, 45),
    ("decimal", 2, 9, 45.5),
    ("exponent", 2, 10, 1000.0),
    ("formula's saved text", 2, 11, "Plain!"),
    ("formula never saved", 2, 12, None),
    ("ISO date cell", 2, 13, dt.datetime(2026, 1, 31, 10, 30)),
    ("date-formatted number", 2, 14, dt.datetime(2026, 1, 31)),
    ("number format 0.00", 2, 15, 46053),
    ("duration format", 2, 16, dt.timedelta(days=1.5)),
    ("empty value", 2, 17, None),
    ("no reference: first", 3, 1, 7),
    ("no reference: third", 3, 3, 9),
    ("merged: top-left kept", 5, 1, "Top left"),
    ("merged: covered cleared", 5, 2, None),
    ("absent cell", 40, 40, None),
]


@pytest.mark.parametrize(
    ("row", "col", "expected"), [pytest.param(r, c, e, id=i) for i, r, c, e in VALUES]
)
def test_values(book: xlsx.Book, row: int, col: int, expected: Any) -> None:
    """Each kind of cell reads as openpyxl reads it with data_only: text, bool, number, date."""
    got = book.value("Audit details", row, col)
    assert got == expected
    assert type(got) is type(expected)


def test_sheets_and_tables_through_relative_and_absolute_targets(book: xlsx.Book) -> None:
    """Sheets come in workbook order; tables are found through each sheet's relationships."""
    assert book.sheet_names == ("Audit details", "Child's plan")
    assert book.tables("Audit details") == {"Plan one": Table("Plan one", "A7:C9", 1)}
    assert book.tables("Child's plan") == {"AuditPlan": Table("AuditPlan", "B3:E20", 0)}
    assert book.value("Child's plan", 3, 2) == "Action"
    with pytest.raises(KeyError):
        book.value("No such sheet", 1, 1)


def test_defined_names_scopes_quotes_and_areas(book: xlsx.Book) -> None:
    """Sheet-scoped names come first, then the workbook's; built-ins are left out."""
    assert book.defined_names() == (
        DefinedName("team", "Child's plan", (("Child's plan", "$C$5"),)),
        DefinedName("team", None, (("Audit details", "$C$2"),)),
        DefinedName("areas", None, (("Child's plan", "$B$3:$B$4"), ("Audit details", "$A$2"))),
        DefinedName("lost", None, ()),
    )


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("false", dt.datetime(2026, 1, 31)),
        ("0", dt.datetime(2026, 1, 31)),
        ("true", dt.datetime(2030, 2, 1)),
        ("1", dt.datetime(2030, 2, 1)),
    ],
)
def test_1904_date_system(flag: str, expected: dt.datetime) -> None:
    """A workbook saved with 1904 dates converts its serial numbers from 1904 and says so."""
    book = read_book(_encode(_parts(date1904=flag)))
    assert book.value("Audit details", 2, 14) == expected
    assert (book.epoch.year == 1904) is (flag in ("true", "1"))


def test_a_cell_without_r_follows_an_empty_cell_with_r() -> None:
    """A cell with no reference sits just right of the previous cell, even an empty one."""
    sheet = f"""<worksheet xmlns="{MAIN}"><sheetData>
<row r="7"><c r="B7" s="1"/><c t="inlineStr"><is><t>C</t></is></c><c r="E7"/><c><v>6</v></c></row>
</sheetData></worksheet>"""
    book = read_book(_encode({**_parts(), "xl/worksheets/sheet1.xml": sheet}))
    assert [book.value("Audit details", 7, col) for col in range(2, 7)] == [
        None,
        "C",
        None,
        None,
        6,
    ]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol5;</t></si></sst>"""
HARMLESS_DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE sst><sst/>'


@pytest.mark.parametrize("data", [BOMB, HARMLESS_DOCTYPE], ids=["entity bomb", "bare DOCTYPE"])
@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/tables/table1.xml"])
def test_doctype_is_refused(data: bytes, member: str) -> None:
    """Any part declaring a DOCTYPE is refused as entity_bomb, before any entity is expanded."""
    with pytest.raises(UnreadableWorkbook) as caught:
        read_book(_encode({**_parts(), member: data}))
    assert caught.value.finding.code == "unreadable.entity_bomb"


@pytest.mark.parametrize(
    ("member", "data", "error"),
    [
        ("xl/worksheets/sheet2.xml", None, KeyError),  # a sheet's part is missing
        ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData>", etree.XMLSyntaxError),
        ("xl/_rels/workbook.xml.rels", None, KeyError),  # sheets cannot be found
    ],
)
def test_damage_raises_for_the_caller(
    member: str, data: bytes | None, error: type[Exception]
) -> None:
    """A missing or malformed part raises its own error, which parse.py reports as 'corrupt'."""
    parts = _parts()
    if data is None:
        del parts[member]
    else:
        parts[member] = data
    with pytest.raises(error):
        read_book(_encode(parts))
