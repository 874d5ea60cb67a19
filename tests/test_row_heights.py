"""Input rows have no fixed height, so a long answer shows whole in Excel and LibreOffice."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cssw_docs import examples
from cssw_docs.render import pdf
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate
from cssw_docs.workbook import annotate, generate, parse
from cssw_docs.workbook.fit import input_rows

END = "END-OF-EVIDENCE"


def _long_evidence_workbook(path: Path, rubric: Rubric) -> Path:
    """Write a Final audit whose Referral evidence is 2,000 characters ending in END."""
    sub = examples.example("good", rubric)
    sentence = "The chronology shows visits every ten working days and the child was seen alone. "
    text = (sentence * 30)[: 2000 - len(END) - 1] + " " + END
    assert len(text) == 2000
    sections = list(sub.sections)
    sections[0] = dataclasses.replace(sections[0], evidence=text)
    sub = dataclasses.replace(sub, sections=tuple(sections), auditor_email="not an address")
    return generate.write_submission(sub, path, rubric)


def _custom_rows(path: Path) -> dict[str, set[int]]:
    """Return, for each sheet part, the rows the file gives a fixed (custom) height."""
    found = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode("utf-8")
                found[name] = {
                    int(m.group(1))
                    for m in re.finditer(r'<row r="(\d+)"[^>]*customHeight="(?:1|true)"', xml)
                }
    return found


def _input_rows_by_part(path: Path) -> dict[str, set[int]]:
    wb = openpyxl.load_workbook(path)
    return {f"xl/worksheets/sheet{i}.xml": input_rows(ws) for i, ws in enumerate(wb.worksheets, 1)}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["blank", "filled", "marked"])
def test_no_input_row_has_a_fixed_height(tmp_path, the_rubric: Rubric, kind):
    """Rows holding input cells are never fixed (customHeight), in any workbook we write."""
    if kind == "blank":
        path = generate.new_workbook(tmp_path / "blank.xlsx", the_rubric)
    else:
        path = _long_evidence_workbook(tmp_path / "long.xlsx", the_rubric)
    if kind == "marked":
        report = validate(parse.read_workbook(path, the_rubric), the_rubric)
        path = annotate.annotate(path, report, tmp_path / "marked.xlsx")
    inputs = _input_rows_by_part(path)
    custom = _custom_rows(path)
    assert sum(len(rows) for rows in inputs.values()) > 50  # the check has something to check
    assert {part: inputs[part] & custom.get(part, set()) for part in inputs} == {
        part: set() for part in inputs
    }


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_marked_copy_shows_a_2000_character_evidence_cell_whole(
    soffice: str, tmp_path: Path, the_rubric: Rubric
):
    """Printed by LibreOffice, the marked copy shows every word of a 2,000-character answer."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("poppler (pdftotext) is not installed; run `bash .ci/run` to install it")
    source = _long_evidence_workbook(tmp_path / "long.xlsx", the_rubric)
    report = validate(parse.read_workbook(source, the_rubric), the_rubric)
    assert report.errors  # a marked copy is what a rejected workbook gets back
    marked = annotate.annotate(source, report, tmp_path / "marked.xlsx")
    (printed,) = pdf.convert([marked], tmp_path / "pdf")
    text = subprocess.run(
        [tool, "-layout", str(printed), "-"], capture_output=True, text=True
    ).stdout
    assert END in text
    words = " ".join(text.split())
    assert words.count("the child was seen alone.") == 23  # every sentence, none cut off
