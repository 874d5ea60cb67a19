"""`cssw-docs validate`: findings by severity, JSON, the marked copy and exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs import examples
from cssw_docs.cli import cli
from cssw_docs.rubric import Rubric
from cssw_docs.workbook.generate import write_submission
from workbook_support import write_example


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> dict[str, Path]:
    """Filled workbooks: a valid one, one with a warning, one with errors, and a non-workbook."""
    folder = tmp_path_factory.mktemp("workbooks")
    warning = examples.variant(examples.good(the_rubric), discussion_minutes=90)
    paths = {
        "good": write_example(folder / "good.xlsx", "good"),
        "warning": write_submission(warning, folder / "warning.xlsx", the_rubric),
        "bad": write_example(folder / "bad.xlsx", "invalid-incomplete"),
    }
    paths["text"] = folder / "notes.xlsx"
    paths["text"].write_text("not a workbook", "utf-8")
    return paths


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_valid_workbook_exits_0(workbooks: dict[str, Path]) -> None:
    """A workbook with nothing to fix says it is ready and exits 0."""
    code, out, _ = run("validate", str(workbooks["good"]))
    assert code == 0
    assert out.splitlines()[0] == "This workbook (good.xlsx) is ready. Nothing to fix."


def test_warnings_do_not_reject(workbooks: dict[str, Path]) -> None:
    """Points to check are listed with their place, and the exit status stays 0."""
    code, out, _ = run("validate", str(workbooks["warning"]))
    assert code == 0
    assert out.startswith("This workbook (warning.xlsx) is ready. 1 point to check:")
    assert "lasted 90 minutes" in out
    assert "Where: Audit details sheet, cell" in out


def test_errors_reject_with_places(workbooks: dict[str, Path]) -> None:
    """Problems to fix are numbered with the sheet and cell of each, and the exit status is 1."""
    code, out, _ = run("validate", str(workbooks["bad"]))
    assert code == 1
    assert out.startswith("This workbook (bad.xlsx) cannot be turned into an audit pack yet: 4")
    assert "Problems to fix:\n1. " in out
    assert "Where: Audit plan sheet, cell" in out
    assert "[plan.no_owner]" in out


def test_json(workbooks: dict[str, Path]) -> None:
    """--json prints one object with the file, ok, and each finding's code and location."""
    code, out, _ = run("validate", "--json", str(workbooks["bad"]))
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"file", "ok", "errors", "warnings"}
    assert data["file"] == str(workbooks["bad"]) and data["ok"] is False
    assert {e["code"] for e in data["errors"]} == {
        "email.invalid",
        "section.no_evidence",
        "plan.no_owner",
        "plan.no_due",
    }
    first = data["errors"][0]
    assert set(first) == {"code", "severity", "message", "location"}
    assert first["severity"] == "error"
    assert "!" in first["location"]  # Sheet!Cell
    assert data["warnings"] == []


def test_json_of_a_valid_workbook(workbooks: dict[str, Path]) -> None:
    """A valid workbook's JSON says ok with the warnings listed."""
    code, out, _ = run("validate", "--json", str(workbooks["warning"]))
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["errors"] == []
    assert [w["code"] for w in data["warnings"]] == ["dates.discussion_long"]


def test_unreadable_file(workbooks: dict[str, Path], tmp_path: Path) -> None:
    """A file that is not a workbook gives one plain finding, exit 1, and no marked copy."""
    marked = tmp_path / "marked.xlsx"
    code, out, err = run("validate", str(workbooks["text"]), "--annotate", str(marked))
    assert code == 1
    assert "1 problem to fix" in out.splitlines()[0]
    assert "Traceback" not in out + err
    assert "No marked copy was written" in err
    assert not marked.exists()


@pytest.mark.slow
def test_annotate_writes_the_marked_copy(workbooks: dict[str, Path], tmp_path: Path) -> None:
    """--annotate writes a copy whose first sheet lists the problems; the original is untouched."""
    before = workbooks["bad"].read_bytes()
    marked = tmp_path / "bad-marked.xlsx"
    code, _, err = run("validate", str(workbooks["bad"]), "--annotate", str(marked))
    assert code == 1
    assert f"Marked copy written to {marked}" in err
    assert workbooks["bad"].read_bytes() == before
    book = openpyxl.load_workbook(marked)
    first = book.worksheets[0]
    text = " ".join(str(c.value) for row in first.iter_rows() for c in row if c.value)
    assert "no owner" in text


def test_annotate_refuses_to_overwrite_the_workbook(workbooks: dict[str, Path]) -> None:
    """Writing the marked copy over the workbook itself is a usage error (exit 2)."""
    before = workbooks["bad"].read_bytes()
    code, _, err = run("validate", str(workbooks["bad"]), "--annotate", str(workbooks["bad"]))
    assert code == 2
    assert "different file" in err
    assert workbooks["bad"].read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [["validate"], ["validate", "missing.xlsx"], ["validate", "--colour", "x.xlsx"]],
    ids=["no path", "missing file", "unknown option"],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    """Missing arguments, missing files and unknown options are usage errors."""
    code, _, err = run(*[str(tmp_path / a) if a.endswith(".xlsx") else a for a in args])
    assert code == 2
    assert "Usage:" in err


@pytest.mark.slow
def test_real_process_exit_status(workbooks: dict[str, Path]) -> None:
    """Run as a real process, the exit status reaches the shell and no traceback is printed."""
    result = subprocess.run(
        [sys.executable, "-m", "cssw_docs", "validate", str(workbooks["bad"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("This workbook (bad.xlsx) cannot be turned")
    assert "Traceback" not in result.stderr
