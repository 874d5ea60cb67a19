"""End to end: `cssw-docs render` and `cssw-docs templates ...` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from cssw_docs import examples, render
from cssw_docs.cli import cli
from cssw_docs.rubric import Rubric
from workbook_support import write_example


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The good, draft and invalid example workbooks, written by the generator."""
    folder = tmp_path_factory.mktemp("workbooks")
    for name in ("good", "draft", "invalid-incomplete"):
        write_example(folder / f"{name}.xlsx", name)
    return folder


def run(*args: str):
    """Run the command line and return the result (stderr kept separate)."""
    return CliRunner().invoke(cli, list(args))


@pytest.mark.slow
def test_render_makes_the_pack_and_lists_it(workbooks: Path, tmp_path: Path) -> None:
    """A valid workbook becomes a pack; the command prints its folder and files."""
    result = run("render", str(workbooks / "good.xlsx"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "CSSW-2026-0142" / "final-v1"
    assert f"written to {folder}" in result.stdout
    assert "CSSW-2026-0142 Audit report.docx" in result.stdout
    report = docx.Document(str(folder / "CSSW-2026-0142 Audit report.docx"))
    assert "Case audit report" in report.paragraphs[0].text
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert len(manifest["source_sha256"]) == 64


@pytest.mark.slow
def test_render_draft_workbook(workbooks: Path, tmp_path: Path) -> None:
    """A Draft workbook gives a Draft pack of two documents."""
    result = run("render", str(workbooks / "draft.xlsx"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    folders = list(tmp_path.glob("*/draft-v1"))
    assert len(folders) == 1
    assert sorted(p.suffix for p in folders[0].iterdir()) == [".docx", ".docx", ".json", ".json"]


def test_render_refuses_an_invalid_workbook(workbooks: Path, tmp_path: Path) -> None:
    """A workbook with problems is refused with the findings, exit 1, and nothing written."""
    result = run("render", str(workbooks / "invalid-incomplete.xlsx"), "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot be turned into an audit pack" in result.stderr
    assert "has no owner" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_render_with_a_missing_templates_folder_is_one_plain_sentence(
    workbooks: Path, tmp_path: Path
) -> None:
    """A bad --templates folder is an error message, not a traceback."""
    result = run(
        "render", str(workbooks / "good.xlsx"), "-o", str(tmp_path), "--templates", "/nowhere"
    )
    assert result.exit_code == 1
    assert "The templates folder /nowhere does not exist" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.libreoffice
def test_render_pdf_makes_a_pdf_of_every_document(
    soffice: str, workbooks: Path, tmp_path: Path
) -> None:
    """--pdf adds a PDF beside every Word document."""
    result = run("render", str(workbooks / "good.xlsx"), "-o", str(tmp_path), "--pdf")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "CSSW-2026-0142" / "final-v1"
    docs = sorted(p.stem for p in folder.glob("*.docx"))
    assert sorted(p.stem for p in folder.glob("*.pdf")) == docs and len(docs) == 4


@pytest.mark.slow
def test_templates_check_passes_the_standard_templates() -> None:
    """`templates check` with no folder checks the standard templates and exits 0."""
    result = run("templates", "check")
    assert result.exit_code == 0, result.output
    assert "All templates are ready to use." in result.stdout
    assert result.stdout.count(": ok") == 4


@pytest.mark.slow
def test_templates_check_reports_a_broken_template(tmp_path: Path) -> None:
    """A broken template in the folder is named with the problem, exit 1."""
    document = docx.Document(str(render.packaged_templates_dir() / "audit_plan.docx"))
    document.add_paragraph("{{ audit.nonsense }")
    document.save(str(tmp_path / "audit_plan.docx"))
    result = run("templates", "check", str(tmp_path))
    assert result.exit_code == 1
    assert "audit_plan.docx: problems" in result.stdout
    assert "audit_plan.docx: a tag opened with '{{' is not closed" in result.stderr


def test_templates_fields_lists_variables_with_types() -> None:
    """`templates fields` lists each variable with its type and meaning."""
    result = run("templates", "fields")
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("sections[].fill"))
    assert "text" in line and "cellbg" in line
    markdown = run("templates", "fields", "--markdown").stdout
    assert markdown.startswith("| Variable | Type | Example | Meaning |")


@pytest.mark.slow
def test_templates_preview_writes_every_example(tmp_path: Path, the_rubric: Rubric) -> None:
    """`templates preview -o DIR` renders each valid example audit into its own folder."""
    result = run("templates", "preview", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == set(examples.VALID)
    assert (tmp_path / "outstanding" / "CSSW-2026-0157 Storyboard.docx").exists()


def test_templates_copy_then_refuses_to_overwrite(tmp_path: Path) -> None:
    """`templates copy DIR` copies the templates and the email wording, never overwriting."""
    assert run("templates", "copy", str(tmp_path)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [name for name, _ in render.DOCUMENTS.values()] + ["email"]
    )
    emails = {p.name for p in (tmp_path / "email").iterdir()}
    assert {"draft.txt", "final.txt", "rejection.txt", "_footer.txt"} <= emails
    again = run("templates", "copy", str(tmp_path))
    assert again.exit_code == 1 and "--force" in again.stderr
    assert run("templates", "copy", str(tmp_path), "--force").exit_code == 0
