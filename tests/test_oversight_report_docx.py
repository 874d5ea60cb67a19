"""Tests of the Word summary: its template, its figures and bars, no names, LibreOffice opens it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docx
import pytest

from cssw_docs.config import Settings
from cssw_docs.oversight import figures, report, report_docx
from cssw_docs.rubric import Rubric
from oversight_support import AS_OF, END, START, build_ledger, page_count, to_pdf

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric):
    """The Word summary of 2026 from a generated ledger, and the figures behind it."""
    folder = tmp_path_factory.mktemp("docx")
    db, rows = build_ledger(folder, the_rubric)
    written = report.build(db, the_rubric, Settings(), start=START, end=END,
                           dest=folder / "activity", as_of=AS_OF)  # fmt: skip
    return written, rows


def _text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    parts.extend(p.text for p in document.sections[0].header.paragraphs)
    return "\n".join(parts)


@pytest.mark.slow
def test_template_is_built_reproducibly(tmp_path: Path) -> None:
    """The committed template is exactly what the build script makes today."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_report_template.py"),
                    str(tmp_path)], check=True, capture_output=True)  # fmt: skip
    made = (tmp_path / "activity_report.docx").read_bytes()
    assert made == (ROOT / "templates" / "activity_report.docx").read_bytes()


@pytest.mark.slow
def test_summary_shows_the_figures(built) -> None:
    """Headline figures, every team, theme and storyboard appear; no tag is left unfilled."""
    written, _ = built
    figs = written.figures
    text = _text(written.docx)
    assert written.docx.suffix == ".docx" and written.xlsx.suffix == ".xlsx"
    assert "{{" not in text and "{%" not in text
    assert f"{figs.audits} audits were finalised in this period" in text
    assert "OFFICIAL-SENSITIVE" in text
    for team in figs.by_team:
        assert team.team in text
    for phrase, _ in figs.theme_phrases:
        assert phrase in text
    for story in figs.storyboards:
        assert story.title in text
    assert f"{figs.actions['Overdue']} were past the due date" in text
    assert report_docx.pct(figs.overall.pct_good_or_better) in text


def test_no_child_names(built) -> None:
    """Neither a child's name nor a MOSAIC ID appears in the Word summary."""
    written, rows = built
    text = _text(written.docx)
    for row in rows:
        assert row.submission.child_mosaic_id not in text
        for part in row.submission.child_name.split():
            assert part not in text


@pytest.mark.parametrize(
    ("counts", "width", "sizes"),
    [
        ({"Outstanding": 1, "Good": 1, "Requires improvement": 1, "Inadequate": 1}, 10,
         (3, 3, 2, 2)),
        ({"Good": 2}, 38, (0, 38, 0, 0)),
        ({"Good": 1, "Inadequate": 2}, 38, (0, 13, 0, 25)),
        ({}, 38, (0, 0, 0, 0)),
        ({"Good": 3}, 0, (0, 0, 0, 0)),
    ],
)  # fmt: skip
def test_bar_runs_add_up(counts: dict[str, int], width: int, sizes: tuple[int, ...]) -> None:
    """A bar's four runs are in proportion and always exactly ``width`` long in total."""
    runs = report_docx.bar(counts, width)
    assert tuple(len(runs[k]) for k in ("outstanding", "good", "ri", "inadequate")) == sizes


def test_empty_period_reads_honestly(tmp_path: Path, the_rubric: Rubric) -> None:
    """An empty period gives a summary that says there is nothing to report."""
    db, _ = build_ledger(tmp_path, the_rubric, count=5)
    written = report.build(
        db, the_rubric, Settings(), start=START.replace(year=2031), end=END.replace(year=2031),
        dest=tmp_path / "empty", as_of=AS_OF,
    )  # fmt: skip
    text = _text(written.docx)
    assert "No audits were finalised in this period" in text
    assert "No storyboards were written in the period." in text
    assert "{{" not in text


def test_context_without_audits(the_rubric: Rubric) -> None:
    """The context of an empty period has empty lists and plain sentences, not errors."""
    figs = figures.compute([], the_rubric, as_of=AS_OF, start=START, end=END)
    values = report_docx.context(figs, [], marking="OFFICIAL", percent=20)
    assert values["storyboards"] == [] and values["theme_words"] == []
    assert values["moderation_text"].startswith("No audit of the types sampled")
    assert all(m["bar"]["good"] == "" for m in values["months"])


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_summary(built, soffice: str, tmp_path: Path) -> None:
    """LibreOffice converts the Word summary to a PDF of two to five pages."""
    written, _ = built
    pdf = to_pdf(soffice, written.docx, tmp_path)
    assert 2 <= page_count(pdf) <= 5
