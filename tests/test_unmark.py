"""A marked copy the auditor fixed and sent back is archived without its stale marks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from cssw_docs import pipeline
from cssw_docs.config import Settings
from cssw_docs.folders import Folders
from cssw_docs.models import Finding, JobState, Report, Severity
from cssw_docs.rubric import Rubric
from cssw_docs.service import claim
from cssw_docs.store import db, jobs
from cssw_docs.workbook.annotate import AUTHOR, ERROR_COLOUR, SHEET, annotate, unmark
from cssw_docs.workbook.parse import read_workbook
from workbook_support import write_example


def _fill(cell) -> str:
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill.fill_type == "solid" else ""


def _ours(wb: openpyxl.Workbook) -> list[str]:
    """Return every cell still carrying a note written by cssw-docs."""
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None and (c.comment.author == AUTHOR or "must fix" in c.comment.text)
    ]


def _marked(tmp_path: Path, the_rubric: Rubric) -> tuple[Path, Path, str]:
    """Return (original, marked copy, the marked cell) for the Good example with one error."""
    source = write_example(tmp_path / "audit.xlsx", "good")
    sub = read_workbook(source, the_rubric)
    where = sub.where("auditor_email")
    wb = openpyxl.load_workbook(source)
    wb[where.sheet][where.cell].comment = Comment("Checked with Priya.", "Auditor")
    wb.save(source)
    report = Report((Finding("email.invalid", Severity.ERROR, "Not an address.", where),))
    return source, annotate(source, report, tmp_path / "marked.xlsx"), str(where)


@pytest.mark.slow
def test_unmark_removes_the_errors_sheet_highlights_and_notes(tmp_path, the_rubric):
    """The Errors sheet goes, the cell's own fill and the auditor's own note come back."""
    source, marked, where = _marked(tmp_path, the_rubric)
    sheet, cell = where.split("!")
    before = _fill(openpyxl.load_workbook(source)[sheet][cell])
    assert _fill(openpyxl.load_workbook(marked)[sheet][cell]) == ERROR_COLOUR
    assert unmark(marked) is True
    wb = openpyxl.load_workbook(marked)
    assert SHEET not in wb.sheetnames
    assert _fill(wb[sheet][cell]) == before
    assert wb[sheet][cell].comment.text == "Checked with Priya."
    assert _ours(wb) == []
    assert wb.active.title == openpyxl.load_workbook(source).worksheets[0].title


def test_unmark_leaves_a_workbook_that_was_never_marked_untouched(tmp_path):
    """A workbook with nothing of ours is not rewritten: same bytes."""
    source = write_example(tmp_path / "audit.xlsx", "good")
    data = source.read_bytes()
    assert unmark(source) is False
    assert source.read_bytes() == data


def test_a_workbook_never_marked_is_not_even_loaded(tmp_path, monkeypatch):
    """Filing an ordinary workbook costs a glance at its parts, not an openpyxl load."""
    source = write_example(tmp_path / "audit.xlsx", "good")

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    assert unmark(source) is False


def test_a_marked_copy_is_seen_by_the_quick_look(tmp_path, the_rubric):
    """The quick look still finds our marks in a marked copy, with or without its Errors sheet."""
    _, marked, _ = _marked(tmp_path, the_rubric)
    assert unmark(marked) is True
    _, marked_again, _ = _marked(tmp_path / "again", the_rubric)
    wb = openpyxl.load_workbook(marked_again)
    del wb[SHEET]
    wb.save(marked_again)
    assert unmark(marked_again) is True


@pytest.mark.slow
def test_unmark_twice_changes_nothing_the_second_time(tmp_path, the_rubric):
    """Unmarking is idempotent, so a job repeated after a crash is harmless."""
    _source, marked, _where = _marked(tmp_path, the_rubric)
    assert unmark(marked) is True
    data = marked.read_bytes()
    assert unmark(marked) is False
    assert marked.read_bytes() == data


def _fix(marked: Path, the_rubric: Rubric, dest: Path) -> Path:
    """Fix the four problems of invalid-incomplete in its marked copy, as an auditor would."""
    sub = read_workbook(marked, the_rubric)
    wb = openpyxl.load_workbook(marked)

    def put(location, value) -> None:
        wb[location.sheet][location.cell].value = value

    put(sub.where("practitioner_email"), "jordan.miles@camden.gov.uk")
    put(sub.where("planning_evidence"), "The plan is reviewed at each core group; see minutes.")
    row = sub.actions[0].row
    put(sub.cell_of("AuditPlan", row, "Owner"), "Jordan Miles")
    put(sub.cell_of("AuditPlan", row, "Due date"), dt.datetime(2026, 12, 1))
    wb.save(dest)
    return dest


def _run_job(path: Path, folders: Folders, the_rubric: Rubric):
    found = claim.claim(path, folders.work)
    conn = db.open_ledger(folders.state)
    try:
        jobs.insert_job(
            conn,
            found.job_id,
            source_name=found.source_name,
            work_name=f"{found.job_id}/{found.source_name}",
            size=found.path.stat().st_size,
            sha256=pipeline.sha256_of(found.path),
        )
        settings = Settings().with_changes(
            **{
                "service.intake": folders.intake,
                "service.outbox": folders.outbox,
                "service.state_dir": folders.state,
                "render.storyboard_pdf": False,
            }
        )
        ctx = pipeline.JobContext(settings, the_rubric, folders)
        return pipeline.run_job(conn, found.job_id, ctx)
    finally:
        conn.close()


@pytest.mark.slow
def test_a_fixed_marked_copy_is_archived_clean_and_validates(tmp_path, the_rubric):
    """Rejected, fixed in its marked copy, sent back: a pack, and a clean copy in processed/."""
    folders = Folders(tmp_path / "intake", tmp_path / "outbox", tmp_path / "state")
    folders.create()
    first = write_example(folders.intake / "audit.xlsx", "invalid-incomplete")
    row = _run_job(first, folders, the_rubric)
    assert row["state"] == JobState.REJECTED
    marked = next(Path(row["dest_dir"]).glob("* - marked.xlsx"))
    assert SHEET in openpyxl.load_workbook(marked).sheetnames
    fixed = _fix(marked, the_rubric, folders.intake / "audit fixed.xlsx")

    row = _run_job(fixed, folders, the_rubric)
    assert row["state"] == JobState.PROCESSED
    archived = Path(row["final_path"])
    assert archived.parent.parent.name == "processed"
    wb = openpyxl.load_workbook(archived)
    assert SHEET not in wb.sheetnames
    assert _ours(wb) == []
    reds = [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for r in ws.iter_rows()
        for c in r
        if _fill(c) == ERROR_COLOUR
    ]
    assert reds == []
    checked = pipeline.check(archived, the_rubric, Settings())
    assert checked.ok and checked.report.errors == ()
