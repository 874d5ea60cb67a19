"""Tests of the activity report workbook: figures, charts, no names, and LibreOffice opens it."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from cssw_docs.config import Settings
from cssw_docs.models import SECTION_KEYS, Rating
from cssw_docs.oversight import records, report
from cssw_docs.rubric import Rubric
from oversight_support import AS_OF, END, START, build_ledger, latest_finals, page_count, to_pdf


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric):
    """The report of 2026 from a generated ledger, and the audits a person would count."""
    folder = tmp_path_factory.mktemp("xlsx")
    db, rows = build_ledger(folder, the_rubric)
    written = report.build(db, the_rubric, Settings(), start=START, end=END,
                           dest=folder / "activity", as_of=AS_OF, docx=False)  # fmt: skip
    return written.xlsx, latest_finals(rows), rows


def _pairs(ws, col: int = 1) -> dict[str, object]:
    return {
        row[col - 1].value: row[col].value
        for row in ws.iter_rows(min_row=1, max_col=col + 1)
        if isinstance(row[col - 1].value, str)
    }


@pytest.mark.slow
def test_headline_figures(built) -> None:
    """The summary's headline figures equal counts made from the generated audits."""
    path, audits, rows = built
    subs = [r.submission for r in audits]
    summary = _pairs(openpyxl.load_workbook(path)["Summary"])
    finals = {r.submission.audit_ref for r in rows if r.stage.value == "Final"}
    good = sum(s.overall_rating.good_or_better for s in subs)
    dues = [a.due for s in subs for a in s.actions]
    assert summary["Audits finalised"] == len(subs)
    assert summary["Audits still at Draft stage"] == len(
        {r.submission.audit_ref for r in rows} - finals
    )
    assert summary["Rated Good or better overall"] == pytest.approx(good / len(subs))
    assert summary["Rated Inadequate overall"] == pytest.approx(
        sum(s.overall_rating is Rating.INADEQUATE for s in subs) / len(subs)
    )
    assert summary["Referrals still open"] == sum(
        s.practitioner_agreement.value == "Disagree" for s in subs
    )
    assert summary["Family feedback given"] == sum(bool(s.feedback) for s in subs)
    assert summary["Storyboards of good practice"] == sum(bool(s.storyboard_title) for s in subs)
    assert summary["SMART actions set"] == len(dues)
    assert summary["Actions past their due date on 01/09/2026"] == sum(
        d is not None and d < AS_OF for d in dues
    )
    assert summary["Audits selected for the moderation panel"] == sum(
        bool(r.moderation_selected) for r in audits
    )
    by_type = _pairs(openpyxl.load_workbook(path)["Summary"], col=4)
    for kind, n in Counter(s.audit_type for s in subs).items():
        assert by_type[kind] == n


def test_ratings_sheet(built) -> None:
    """The rating distribution table holds each section's counts, and the overall row."""
    path, audits, _ = built
    ws = openpyxl.load_workbook(path)["Ratings"]
    header = [c.value for c in ws[4]]
    table = {row[0]: dict(zip(header, row, strict=False))
             for row in ws.iter_rows(min_row=5, max_row=11, values_only=True)}  # fmt: skip
    assert list(table)[-1] == "Overall" and len(table) == 7
    for key, name in zip(SECTION_KEYS, list(table)[:6], strict=True):
        given = Counter(r.submission.section(key).rating for r in audits)
        for rating in (Rating.OUTSTANDING, Rating.GOOD, Rating.REQUIRES_IMPROVEMENT,
                       Rating.INADEQUATE, Rating.NOT_APPLICABLE):  # fmt: skip
            assert table[name][rating.value] == given[rating], (name, rating)
        assert table[name]["Not rated"] == given[None]


def test_months_and_teams_sheets(built) -> None:
    """Audits per month and per team match the hand count; totals add up."""
    path, audits, _ = built
    wb = openpyxl.load_workbook(path)
    months = {row[0]: row[1] for row in wb["Months"].iter_rows(min_row=5, max_row=16,
                                                              values_only=True)}  # fmt: skip
    counted = Counter(r.submission.audit_date.strftime("%b %Y") for r in audits)
    assert months == {m: counted.get(m, 0) for m in months} and len(months) == 12
    teams = _pairs(wb["Teams"])
    for team, n in Counter(r.submission.team for r in audits).items():
        assert teams[team] == n
    assert teams["All teams"] == len(audits)


def test_one_row_per_audit_without_names(built) -> None:
    """The Audits sheet has a row per audit and no child's name or MOSAIC ID anywhere."""
    path, audits, rows = built
    wb = openpyxl.load_workbook(path)
    ws = wb["Audits"]
    header = [c.value for c in ws[1]]
    for column in ("Reference", "Type", "Theme", "Team", "Auditor", "Audit date", "Overall",
                   "Practitioner agreement", "Moderation", "Panel rating", "Actions",
                   "Family feedback", "Referral", "Planning", "Management oversight"):  # fmt: skip
        assert column in header
    assert "MOSAIC ID" not in header
    refs = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(refs) == sorted(r.submission.audit_ref for r in audits)
    secrets = {r.submission.child_mosaic_id for r in rows}
    secrets |= {part for r in rows for part in r.submission.child_name.split()}
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert not any(secret in value for secret in secrets), (sheet.title, value)


def test_mosaic_id_only_when_allowed(tmp_path: Path, the_rubric: Rubric) -> None:
    """With oversight.report_mosaic_id the Audits sheet gains the MOSAIC ID column."""
    db, rows = build_ledger(tmp_path, the_rubric, count=12)
    settings = Settings().with_changes(**{"oversight.report_mosaic_id": True})
    written = report.build(db, the_rubric, settings, start=START, end=END,
                           dest=tmp_path / "r", as_of=AS_OF, docx=False)  # fmt: skip
    ws = openpyxl.load_workbook(written.xlsx)["Audits"]
    header = [c.value for c in ws[1]]
    ids = {row[header.index("MOSAIC ID")] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert ids == {r.submission.child_mosaic_id for r in latest_finals(rows)}


def test_native_charts(built) -> None:
    """The ratings chart is a stacked bar and the trend has a column and a line chart."""
    path, _, _ = built
    wb = openpyxl.load_workbook(path)
    assert len(wb["Ratings"]._charts) == 1 and len(wb["Months"]._charts) == 2
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = "".join(z.read(n).decode() for n in charts)
    assert len(charts) == 3
    assert 'grouping val="percentStacked"' in xml and 'barDir val="bar"' in xml
    assert "<c:lineChart>" in xml or "lineChart" in xml


def test_empty_period(tmp_path: Path, the_rubric: Rubric) -> None:
    """A period without audits gives a report that says so, with zeros and no charts."""
    db, _ = build_ledger(tmp_path, the_rubric, count=5)
    written = report.build(db, the_rubric, Settings(), start=START.replace(year=2031),
                           end=END.replace(year=2031), dest=tmp_path / "empty.xlsx",
                           as_of=AS_OF, docx=False)  # fmt: skip
    assert written.xlsx == tmp_path / "empty.xlsx"
    wb = openpyxl.load_workbook(written.xlsx)
    summary = _pairs(wb["Summary"])
    assert summary["Audits finalised"] == 0 and summary["Rated Good or better overall"] == "–"
    assert any("No audits were finalised" in k for k in summary)
    assert wb["Ratings"]._charts == [] and wb["Audits"].max_row == 1


def test_missing_ledger(tmp_path: Path, the_rubric: Rubric) -> None:
    """A report from a ledger that does not exist is refused in plain words."""
    with pytest.raises(records.OversightError, match="no audit has been processed"):
        report.build(tmp_path / "none.sqlite3", the_rubric, Settings(), start=START, end=END,
                     dest=tmp_path / "r")  # fmt: skip


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_workbook(built, soffice: str, tmp_path: Path) -> None:
    """LibreOffice converts the workbook to a PDF of several pages."""
    path, _, _ = built
    pdf = to_pdf(soffice, path, tmp_path)
    assert page_count(pdf) >= 9
