"""The shipped templates pass the template check; broken ones are caught with useful messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import docx
import pytest

import docs_support
from cssw_docs import render, templating
from cssw_docs.models import DocKind
from cssw_docs.render.docx import BOOKLET_TEMPLATE, POSTER_TEMPLATES
from cssw_docs.rubric import Rubric

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def contexts(the_rubric: Rubric) -> list[dict]:
    """Template contexts of every example audit."""
    return templating.example_contexts(the_rubric)


@pytest.mark.slow
def test_shipped_templates_pass_the_check(the_rubric: Rubric) -> None:
    """Every template in templates/ passes `templates check`."""
    files, problems = templating.check_templates(None, the_rubric)
    assert set(files) == set(render.DOCUMENTS)
    assert problems == []


def broken_copy(tmp_path: Path, runs: list[str], in_table: bool = False) -> Path:
    """Return a copy of the report template with one extra paragraph made of ``runs``."""
    document = docx.Document(str(render.packaged_templates_dir() / "audit_report.docx"))
    if in_table:
        paragraph = document.add_table(rows=1, cols=1).rows[0].cells[0].paragraphs[0]
    else:
        paragraph = document.add_paragraph()
    for i, text in enumerate(runs):
        run = paragraph.add_run(text)
        run.bold = i % 2 == 1  # different formatting, as Word splits runs
    path = tmp_path / "audit_report.docx"
    document.save(str(path))
    return path


@pytest.mark.parametrize(
    ("runs", "in_table", "expected"),
    [
        (["{{ audit", "_ref }}"], False, r"'\{\{ audit_ref \}\}' .*split across"),
        (["Ref: {{ audit_ref "], False, r"not closed in the same paragraph"),
        (["{{ audit_ref | }}"], False, r"Jinja syntax error in the body: .*Near: "),
        (["{{ colour }}"], False, r"uses 'colour', which is not provided"),
        (["{{ audit.colour }}"], False, r"has no attribute 'colour'"),
        (["{% if is_draft %}DRAFT"], False, r"'\{% if is_draft %\}' is never closed"),
        (["{% endfor %}"], False, r"'\{% endfor %\}' has no matching \{% for %\}"),
        (["{%p if is_draft %} and more text"], False, r"also holds other text"),
        (["{%tr for a in actions %}"], False, r"must be inside a table row"),
        (
            ["{%tr for a in actions %}{{ a.owner }}{% endfor %}"],
            True,
            r"is a table-row tag but '\{% endfor %\}' is not",
        ),
    ],
)
def test_broken_template_is_caught_with_a_useful_message(
    runs: list[str], in_table: bool, expected: str, contexts: list[dict], tmp_path: Path
) -> None:
    """Each kind of template mistake is reported, naming the file and what to do."""
    problems = templating.check_template(broken_copy(tmp_path, runs, in_table), contexts)
    assert problems, "the broken template passed the check"
    assert all(p.template == "audit_report.docx" for p in problems)
    assert any(re.search(expected, p.message) for p in problems), [p.message for p in problems]


def test_a_file_that_is_not_a_word_document_is_reported(
    contexts: list[dict], tmp_path: Path
) -> None:
    """A template that is not a .docx is a problem, not a crash."""
    path = tmp_path / "storyboard.docx"
    path.write_text("not a zip")
    problems = templating.check_template(path, contexts)
    assert "cannot be opened as a Word document" in problems[0].message


@pytest.mark.slow
def test_check_uses_the_override_folder_file_by_file(the_rubric: Rubric, tmp_path: Path) -> None:
    """A folder holding one broken template reports that one and checks the standard others."""
    broken_copy(tmp_path, ["{{ nonsense }}"])
    files, problems = templating.check_templates(tmp_path, the_rubric)
    assert files[DocKind.REPORT] == tmp_path / "audit_report.docx"
    assert files[DocKind.PLAN] == render.packaged_templates_dir() / "audit_plan.docx"
    assert {p.template for p in problems} == {"audit_report.docx"}


def test_field_reference_matches_the_context_builder(contexts: list[dict]) -> None:
    """Every variable the context builder provides is documented, and nothing else is."""
    paths = set(templating.field_paths(contexts))
    assert paths == set(templating.FIELD_HELP)


def test_templates_use_only_documented_top_level_variables(contexts: list[dict]) -> None:
    """The variables the templates use are a subset of the documented fields."""
    from jinja2 import meta

    env = render.jinja_env()
    used: set[str] = set()
    for kind in render.DOCUMENTS:
        for _label, source in render.template_sources(render.template_path(kind)):
            used |= meta.find_undeclared_variables(env.parse(source))
    assert used <= {p for p in templating.FIELD_HELP if "." not in p and "[" not in p}


def test_readme_lists_every_template_field() -> None:
    """The documented pack section lists every variable in the field reference."""
    section = docs_support.section("pack")
    for name in templating.FIELD_HELP:
        assert f"`{name}`" in section, name


@pytest.mark.slow
def test_preview_renders_every_example(the_rubric: Rubric, tmp_path: Path) -> None:
    """Preview writes each valid example's documents into its own folder."""
    written = templating.preview(None, tmp_path, the_rubric, marking="OFFICIAL")
    folders = {p.parent.name for p in written}
    assert folders == set(templating.example_audits(the_rubric))
    assert (tmp_path / "good" / "CSSW-2026-0142 Storyboard.docx") in written
    draft = sorted(p.name.split(" ", 1)[1] for p in written if p.parent.name == "draft")
    assert draft == ["Audit plan.docx", "Audit report.docx"]
    for path in written:
        assert docx.Document(str(path)).sections[0].header.paragraphs[0].text.startswith("OFFICIAL")


@pytest.mark.slow
def test_build_script_makes_templates_that_pass_the_check(
    the_rubric: Rubric, tmp_path: Path
) -> None:
    """tools/build_templates.py rebuilds the four pack templates (and the storyboard's poster
    and booklet), and they pass the check."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_templates.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.docx")) == sorted(
        {t for t, _ in render.DOCUMENTS.values()}
        | set(POSTER_TEMPLATES.values())
        | {BOOKLET_TEMPLATE}
    )
    _files, problems = templating.check_templates(tmp_path, the_rubric)
    assert problems == []
    again = tmp_path / "again"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_templates.py"), str(again)], check=True
    )
    for path in tmp_path.glob("*.docx"):
        assert (again / path.name).read_bytes() == path.read_bytes(), "build is not reproducible"


def test_templates_carry_their_version(tmp_path: Path) -> None:
    """Each template records its version, which the manifest reports."""
    for name, _title in render.DOCUMENTS.values():
        path = render.packaged_templates_dir() / name
        assert docx.Document(str(path)).core_properties.version == "1.2"
