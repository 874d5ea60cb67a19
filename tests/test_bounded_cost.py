"""Bounded cost per workbook: the reader reads only the form's sheets, and no sheet is endless."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from cssw_docs import examples
from cssw_docs.config import ValidationSettings
from cssw_docs.rubric import Rubric
from cssw_docs.workbook import xlsx
from cssw_docs.workbook.generate import write_submission
from cssw_docs.workbook.parse import UnreadableWorkbook, read_workbook
from oversize_support import with_extra_sheet, with_rows_in

PLAN_SHEET = "xl/worksheets/sheet5.xml"  # 'Audit plan', holding the AuditPlan table
SMALL = ValidationSettings(max_cells_per_sheet=2_000)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> bytes:
    """The bytes of a valid filled intake workbook."""
    path = tmp_path_factory.mktemp("good") / "good.xlsx"
    write_submission(examples.good(the_rubric), path, the_rubric)
    return path.read_bytes()


def _inflated_bytes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Return a Counter that, from now on, adds up the bytes inflated from each zip member."""
    counts: Counter[str] = Counter()
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):  # type: ignore[no-untyped-def]
        data = real_read(self, n)
        counts[self.name] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    return counts


@pytest.mark.slow
def test_a_huge_extra_sheet_is_refused_after_reading_only_the_limit(
    good: bytes, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 600,000-cell sheet beside the form is refused, inflated no further than the limit."""
    path = with_extra_sheet(good, tmp_path / "big.xlsx", 600_000, name="Amara Okafor notes")
    with zipfile.ZipFile(path) as z:
        size = z.getinfo("xl/worksheets/sheet99.xml").file_size
    inflated = _inflated_bytes(monkeypatch)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, SMALL)
    finding = caught.value.finding
    assert finding.code == "unreadable.too_many_cells"
    assert "Sheet 12 " in finding.message and "2,000" in finding.message
    assert "Amara" not in finding.message  # a sheet the auditor named is never quoted
    assert 0 < inflated["xl/worksheets/sheet99.xml"] < size / 8


@pytest.mark.slow
def test_a_form_sheet_over_the_limit_is_refused_by_name_part_way_through(
    good: bytes, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells pasted below the audit plan past the limit: refused, naming the sheet."""
    path = with_rows_in(good, tmp_path / "plan.xlsx", PLAN_SHEET, 300_000)
    with zipfile.ZipFile(path) as z:
        size = z.getinfo(PLAN_SHEET).file_size
    inflated = _inflated_bytes(monkeypatch)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, SMALL)
    assert caught.value.finding.code == "unreadable.too_many_cells"
    assert "The sheet 'Audit plan' has more cells" in caught.value.finding.message
    assert inflated[PLAN_SHEET] < size / 10


def test_many_sheets_each_under_the_limit_are_refused_together(
    good: bytes, the_rubric: Rubric, tmp_path: Path
) -> None:
    """The sheets together may hold only so much, so the marked copy (which loads every
    sheet) stays bounded too: three extra sheets, each under the cell limit, are refused."""
    data = good
    for index in (97, 98, 99):
        path = with_extra_sheet(data, tmp_path / f"x{index}.xlsx", 1_500, f"Extra {index}", index)
        data = path.read_bytes()
    assert read_workbook(path, the_rubric).audit_ref  # fine at the default limit
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, SMALL)
    assert caught.value.finding.code == "unreadable.too_many_cells"


def test_the_limit_is_a_setting(good: bytes, the_rubric: Rubric, tmp_path: Path) -> None:
    """The same workbook is read at the default limit and refused at a lower one."""
    path = with_rows_in(good, tmp_path / "plan.xlsx", PLAN_SHEET, 5_000)
    assert read_workbook(path, the_rubric).audit_ref == examples.good(the_rubric).audit_ref
    with pytest.raises(UnreadableWorkbook):
        read_workbook(path, the_rubric, ValidationSettings(max_cells_per_sheet=4_000))


def test_sheets_outside_the_form_are_not_parsed(
    good: bytes, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A sheet the form does not use is only measured, never parsed: broken XML there is fine."""
    path = with_extra_sheet(good, tmp_path / "extra.xlsx", 10)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet99.xml"] = b"<worksheet><sheetData><row><c><v>1</oops>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    path.write_bytes(out.getvalue())
    assert read_workbook(path, the_rubric) == read_workbook(
        with_extra_sheet(good, tmp_path / "clean.xlsx", 10), the_rubric
    )


def test_a_part_with_too_many_elements_is_refused(
    good: bytes, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Shared strings (or any other part) padded past the limit count as a zip bomb."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    padding = b"<si><t>x</t></si>" * 20_000
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    parts["xl/sharedStrings.xml"] = b"<sst " + main + b">" + padding + b"</sst>"
    path = tmp_path / "padded.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, SMALL)
    assert caught.value.finding.code == "unreadable.zip_bomb"


def test_a_table_stretched_to_a_million_rows_reads_only_rows_with_values(
    good: bytes, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's range is taken from the file: stretched to row 1,048,576 it costs nothing."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    table = next(n for n, d in parts.items() if n.startswith("xl/tables/") and b"AuditPlan" in d)
    stretch = (rb'ref="([A-Z]+\d+):([A-Z]+)\d+"', rb'ref="\1:\g<2>1048576"')
    parts[table] = re.sub(*stretch, parts[table])
    path = tmp_path / "stretched.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    looked_up = Counter[str]()
    real_value = xlsx.Book.value

    def counting_value(self, sheet, row, col):  # type: ignore[no-untyped-def]
        looked_up[sheet] += 1
        return real_value(self, sheet, row, col)

    monkeypatch.setattr(xlsx.Book, "value", counting_value)
    sub = read_workbook(path, the_rubric)
    assert [a.action for a in sub.actions] == [a.action for a in examples.good(the_rubric).actions]
    assert looked_up["Audit plan"] < 10_000
