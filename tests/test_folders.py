"""Generated names fit the file system: free names, rejection files, notes (255 UTF-8 bytes)."""

from __future__ import annotations

import pytest

from cssw_docs import examples, pipeline
from cssw_docs.folders import free_name
from cssw_docs.models import Finding, Report, Severity
from cssw_docs.workbook.generate import write_submission

NAME_MAX = 255  # bytes in one file name on ext4, XFS and SMB


def _bytes(name: str) -> int:
    return len(name.encode("utf-8"))


@pytest.mark.parametrize(
    "name",
    [
        "a" * 250 + ".xlsx",  # a 250-character stem, the case
        "Jayden " * 35 + "audit.xlsx",
        "é" * 125 + ".xlsx",  # 250 bytes in UTF-8, two per letter
        "李" * 83 + ".xlsx",  # three bytes per letter
    ],
)
def test_long_name_dropped_again_gets_a_numbered_name_that_fits(tmp_path, name):
    """The second and third file of a long name get " (2)", " (3)" and still fit 255 bytes."""
    assert _bytes(name) <= NAME_MAX
    taken = []
    for _ in range(3):
        path = free_name(tmp_path, name)
        path.write_bytes(b"x")  # would raise ENAMETOOLONG if the name did not fit
        taken.append(path.name)
    assert taken[0] == name
    assert taken[1].endswith(" (2).xlsx") and taken[2].endswith(" (3).xlsx")
    assert all(_bytes(n) <= NAME_MAX for n in taken)
    assert len(set(taken)) == 3


@pytest.mark.slow
def test_rejection_files_of_a_long_name_fit(tmp_path, the_rubric):
    """The problems text and marked copy of a workbook with a long stem are written."""
    source = tmp_path / ("b" * 245 + ".xlsx")
    sub = examples.example("invalid-incomplete", the_rubric)
    write_submission(sub, source, the_rubric)
    report = Report((Finding("required.team", Severity.ERROR, "Give the team.", None),))
    checked = pipeline.Checked(source, "0" * 64, sub, report)
    written = pipeline.write_rejection(checked, tmp_path / "out")
    tails = (" - problems.txt", " - marked.xlsx")
    assert all(a.path.name.endswith(t) for a, t in zip(written, tails, strict=True))
    assert all(a.path.exists() and _bytes(a.path.name) <= NAME_MAX for a in written)
