"""Tests of the report facade: output names and the period check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cssw_docs.config import Settings
from cssw_docs.oversight import records, report
from cssw_docs.rubric import Rubric


@pytest.mark.parametrize(
    ("given", "xlsx", "docx"),
    [
        ("out/2026-Q1", "out/2026-Q1.xlsx", "out/2026-Q1.docx"),
        ("out/2026-Q1.xlsx", "out/2026-Q1.xlsx", "out/2026-Q1.docx"),
        ("out/2026-Q1.DOCX", "out/2026-Q1.xlsx", "out/2026-Q1.docx"),
        ("out/report.v2", "out/report.v2.xlsx", "out/report.v2.docx"),
    ],
)
def test_output_paths(given: str, xlsx: str, docx: str) -> None:
    """-o PATH gives PATH.xlsx and PATH.docx; a .xlsx or .docx suffix is not doubled."""
    assert report.output_paths(Path(given)) == (Path(xlsx), Path(docx))


def test_period_backwards_is_refused(tmp_path: Path, the_rubric: Rubric) -> None:
    """A period that ends before it starts is refused before anything is read or written."""
    with pytest.raises(records.OversightError, match="Swap the dates"):
        report.build(
            tmp_path / "ledger.sqlite3",
            the_rubric,
            Settings(),
            start=dt.date(2026, 2, 1),
            end=dt.date(2026, 1, 1),
            dest=tmp_path / "r",
        )
    assert list(tmp_path.iterdir()) == []
