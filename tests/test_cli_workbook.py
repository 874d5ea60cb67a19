"""Tests of the `cssw-docs workbook` commands, through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs import examples
from cssw_docs.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _value(path: Path, name: str) -> object:
    wb = openpyxl.load_workbook(path)
    ((sheet, coordinate),) = tuple(wb.defined_names[name].destinations)
    return wb[sheet][coordinate.replace("$", "")].value


@pytest.mark.slow
def test_new_writes_a_blank_workbook_with_the_type(tmp_path: Path) -> None:
    """`workbook new -o PATH --type` writes the workbook, pre-filled, and says where."""
    out = tmp_path / "audit.xlsx"
    result = _run("workbook", "new", "-o", str(out), "--type", "dip sample")
    assert result.exit_code == 0
    assert result.output == f"Wrote a blank audit workbook to {out}\n"
    assert _value(out, "audit_type") == "Dip sample"
    assert _value(out, "audit_ref") is None


@pytest.mark.slow
def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    """An existing file is left alone unless --force is given."""
    out = tmp_path / "audit.xlsx"
    out.write_bytes(b"keep me")
    result = _run("workbook", "new", "-o", str(out))
    assert result.exit_code == 1
    assert "already exists" in result.output and "--force" in result.output
    assert out.read_bytes() == b"keep me"
    assert _run("workbook", "new", "-o", str(out), "--force").exit_code == 0
    assert _value(out, "template_version") is not None


@pytest.mark.slow
def test_new_writes_an_example(tmp_path: Path, the_rubric) -> None:
    """--example writes the named fictional audit, filled in."""
    out = tmp_path / "ri.xlsx"
    result = _run("workbook", "new", "-o", str(out), "--example", "requires-improvement")
    assert result.exit_code == 0, result.output
    assert _value(out, "audit_ref") == examples.requires_improvement(the_rubric).audit_ref


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "Deep dive"), "is not a type of audit"),
        (("--type", "Thematic", "--example", "good"), "not both"),
        (("--example", "excellent"), "Invalid value for '--example'"),
    ],
)
def test_new_explains_bad_options_plainly(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """Bad options get one plain sentence and a non-zero exit, and nothing is written."""
    out = tmp_path / "audit.xlsx"
    result = _run("workbook", "new", "-o", str(out), *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_new_wants_an_xlsx_name(tmp_path: Path) -> None:
    """The output must be an .xlsx file, so Excel and the parser recognise it."""
    result = _run("workbook", "new", "-o", str(tmp_path / "audit.xls"))
    assert result.exit_code == 2
    assert "must end in .xlsx" in result.output


@pytest.mark.slow
def test_examples_writes_every_example(tmp_path: Path) -> None:
    """`workbook examples -o DIR` writes DIR/<name>.xlsx for each example, a line each."""
    folder = tmp_path / "examples"
    result = _run("workbook", "examples", "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.xlsx" for n in examples.EXAMPLES
    )
    lines = result.output.splitlines()
    assert len(lines) == len(examples.EXAMPLES)
    assert f"Wrote {folder / 'invalid-storyboard.xlsx'} (has errors on purpose)" in lines
