"""The marked copy: an Errors sheet first, each problem cell highlighted with a comment."""

from __future__ import annotations

import subprocess
from copy import copy
from pathlib import Path

import openpyxl
import pytest

from cssw_docs.models import Finding, Location, Report, Severity, Submission
from cssw_docs.rubric import Rubric
from cssw_docs.workbook.annotate import (
    AUTHOR,
    ERROR_COLOUR,
    SHEET,
    WARNING_COLOUR,
    annotate,
)
from cssw_docs.workbook.parse import read_workbook
from workbook_support import write_example

E, W = Severity.ERROR, Severity.WARNING


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example audit's workbook (read-only for the tests)."""
    return write_example(tmp_path_factory.mktemp("src") / "audit.xlsx", "good")


@pytest.fixture(scope="module")
def parsed(source: Path, the_rubric: Rubric) -> Submission:
    """The example audit as read from ``source`` (with its locations)."""
    return read_workbook(source, the_rubric)


def _report(sub: Submission) -> Report:
    """A report mixing warnings and errors, one cell with both, one finding with no cell."""
    owner = sub.cell_of("AuditPlan", sub.actions[1].row, "Owner")
    return Report(
        (
            Finding(
                "dates.discussion_long",
                W,
                "The discussion lasted 95 minutes.",
                sub.where("discussion_minutes"),
            ),
            Finding(
                "email.invalid",
                E,
                "Auditor's email is not valid. Write one address.",
                sub.where("auditor_email"),
            ),
            Finding("plan.vague", W, "Action 2 is vague.", owner),
            Finding("plan.no_owner", E, "Action 2 has no owner. Write who will do it.", owner),
            Finding(
                "overall.rating",
                E,
                "The overall rating cannot be Good.",
                sub.where("overall_rating"),
            ),
            Finding("stage.final", E, "A Final audit needs the practitioner's feedback.", None),
        )
    )


def _fill(cell: openpyxl.cell.Cell) -> str:
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill.fill_type == "solid" else ""


def _at(wb: openpyxl.Workbook, loc: Location | None) -> openpyxl.cell.Cell:
    assert loc is not None
    return wb[loc.sheet][loc.cell]


@pytest.mark.slow
def test_errors_sheet_lists_every_finding_errors_first(
    source: Path, parsed: Submission, tmp_path: Path
) -> None:
    """The first, active sheet lists severity, place and message, errors before warnings."""
    out = annotate(source, _report(parsed), tmp_path / "marked.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == SHEET and wb.active.title == SHEET
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets].count(True) == 1
    ws = wb[SHEET]
    rows = [r for r in ws.iter_rows(min_row=5, max_col=3, values_only=True) if r[0]]
    assert [r[0].split(":")[0] for r in rows] == ["Error"] * 4 + ["Warning"] * 2
    assert rows[0] == (
        "Error: must fix",
        "Audit details, cell C18",
        "Auditor's email is not valid. Write one address.",
    )
    assert (
        "Error: must fix",
        "Whole workbook",
        "A Final audit needs the practitioner's feedback.",
    ) in rows
    header = [c for c in ws[4][:3]]
    assert [c.value for c in header] == ["Severity", "Where", "What to do"]
    assert all(c.font.bold for c in header)
    assert ws["C5"].alignment.wrap_text
    assert ws.column_dimensions["C"].width >= 80
    assert ws["B5"].hyperlink is not None and ws["B5"].hyperlink.location == "'Audit details'!C18"
    assert "4 errors must be fixed" in ws["A2"].value and "2 warnings" in ws["A2"].value


@pytest.mark.slow
def test_cells_are_highlighted_with_comments(
    source: Path, parsed: Submission, tmp_path: Path
) -> None:
    """Each finding's cell gets the error or warning colour and a comment with every message."""
    out = annotate(source, _report(parsed), tmp_path / "marked.xlsx")
    wb = openpyxl.load_workbook(out)
    email = _at(wb, parsed.where("auditor_email"))
    assert _fill(email) == ERROR_COLOUR
    assert email.comment.author == AUTHOR and "Write one address" in email.comment.text
    minutes = _at(wb, parsed.where("discussion_minutes"))
    assert _fill(minutes) == WARNING_COLOUR and minutes.comment.text.startswith("Warning")
    both = _at(wb, parsed.cell_of("AuditPlan", parsed.actions[1].row, "Owner"))
    assert _fill(both) == ERROR_COLOUR
    assert "has no owner" in both.comment.text and "is vague" in both.comment.text
    untouched = _at(wb, parsed.where("team"))
    assert untouched.comment is None and _fill(untouched) != ERROR_COLOUR


@pytest.mark.slow
def test_highlight_beats_conditional_colours(
    source: Path, parsed: Submission, tmp_path: Path
) -> None:
    """A flagged rating cell gets a top-priority format so its rating colour cannot hide it."""
    out = annotate(source, _report(parsed), tmp_path / "marked.xlsx")
    ws = openpyxl.load_workbook(out)[parsed.where("overall_rating").sheet]
    cell = parsed.where("overall_rating").cell
    rules = [
        (r.priority, r.formula)
        for cf in ws.conditional_formatting
        if cell in cf.sqref
        for r in cf.rules
    ]
    assert min(rules)[0] == 1 and "cssw-docs" in min(rules)[1][0]
    assert len({p for p, _ in rules}) == len(rules)


@pytest.mark.slow
def test_marked_copy_keeps_the_workbook_usable(
    source: Path, parsed: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Tables, defined names and dropdowns survive, and the copy reads as the same audit."""
    out = annotate(source, _report(parsed), tmp_path / "marked.xlsx")
    before, after = openpyxl.load_workbook(source), openpyxl.load_workbook(out)
    assert set(after.defined_names) == set(before.defined_names)
    for ws in before.worksheets:
        assert set(after[ws.title].tables) == set(ws.tables)
        assert len(after[ws.title].data_validations.dataValidation) == len(
            ws.data_validations.dataValidation
        )
        assert after[ws.title].protection.sheet == ws.protection.sheet
    again = read_workbook(out, the_rubric)
    assert again == parsed and again.parse_findings == ()


@pytest.mark.slow
def test_marking_again_replaces_earlier_marks(
    source: Path, parsed: Submission, tmp_path: Path
) -> None:
    """A marked copy dropped in again loses its old sheet, colours and comments before new ones."""
    original = openpyxl.load_workbook(source)
    first = annotate(source, _report(parsed), tmp_path / "first.xlsx")
    only_email = Report(
        (Finding("email.invalid", E, "Still not valid.", parsed.where("auditor_email")),)
    )
    second = annotate(first, only_email, tmp_path / "second.xlsx")
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames.count(SHEET) == 1 and wb.sheetnames[0] == SHEET
    assert len(wb.sheetnames) == len(original.sheetnames) + 1
    assert wb[SHEET]["C5"].value == "Still not valid." and wb[SHEET]["C6"].value is None
    for name in ("discussion_minutes", "overall_rating"):
        cell, was = _at(wb, parsed.where(name)), _at(original, parsed.where(name))
        assert cell.comment is None
        assert copy(cell.fill) == copy(was.fill)
    rating = parsed.where("overall_rating")
    assert not any(
        "cssw-docs" in str(r.formula)
        for cf in wb[rating.sheet].conditional_formatting
        for r in cf.rules
    )
    email = _at(wb, parsed.where("auditor_email"))
    assert email.comment.text.endswith("Still not valid.") and _fill(email) == ERROR_COLOUR


@pytest.mark.slow
def test_auditors_own_note_is_kept(source: Path, parsed: Submission, tmp_path: Path) -> None:
    """A note the auditor put on a flagged cell stays below the message and survives a re-run."""
    noted = tmp_path / "noted.xlsx"
    wb = openpyxl.load_workbook(source)
    _at(wb, parsed.where("auditor_email")).comment = openpyxl.comments.Comment(
        "Check with Priya", "QA"
    )
    wb.save(noted)
    first = annotate(noted, _report(parsed), tmp_path / "first.xlsx")
    text = _at(openpyxl.load_workbook(first), parsed.where("auditor_email")).comment.text
    assert "Write one address" in text and "Check with Priya" in text
    second = annotate(first, Report(()), tmp_path / "second.xlsx")
    comment = _at(openpyxl.load_workbook(second), parsed.where("auditor_email")).comment
    assert (comment.text, comment.author) == ("Check with Priya", "QA")


@pytest.mark.slow
def test_writes_atomically(source: Path, parsed: Submission, tmp_path: Path) -> None:
    """The copy replaces an existing file whole; a failure leaves neither copy nor temp file."""
    dest = tmp_path / "out" / "marked.xlsx"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    annotate(source, _report(parsed), dest)
    assert openpyxl.load_workbook(dest).sheetnames[0] == SHEET
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(Exception):  # noqa: B017 - annotate is only given readable workbooks
        annotate(broken, _report(parsed), tmp_path / "out" / "other.xlsx")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["marked.xlsx"]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_marked_copy_saved_by_libreoffice_marks_again(
    soffice: str, source: Path, parsed: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """The auditor fixes the marked copy in LibreOffice; it still reads and re-marks cleanly."""
    marked = annotate(source, _report(parsed), tmp_path / "marked.xlsx")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "lo"),
            str(marked),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    saved = tmp_path / "lo" / "marked.xlsx"
    assert read_workbook(saved, the_rubric) == parsed
    again = annotate(saved, Report(()), tmp_path / "again.xlsx")
    wb = openpyxl.load_workbook(again)
    assert wb.sheetnames.count(SHEET) == 1
    email = _at(wb, parsed.where("auditor_email"))
    assert email.comment is None and _fill(email) != ERROR_COLOUR
    rating = parsed.where("overall_rating")
    assert _fill(_at(wb, rating)) != ERROR_COLOUR
    assert not any(
        "cssw-docs" in str(r.formula)
        for cf in wb[rating.sheet].conditional_formatting
        for r in cf.rules
    )
