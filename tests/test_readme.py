"""The workbook reference (docs/workbook-reference.md) agrees with the workbook we write."""

from __future__ import annotations

import re

import openpyxl
import pytest

from cssw_docs.rubric import Rubric
from cssw_docs.workbook import generate, layout
from cssw_docs.workbook.reference import reference_markdown
from docs_support import section as _section


def _rows(text: str, first_header: str) -> list[list[str]]:
    """Return the cells of each row of the markdown table whose first header is given."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


@pytest.fixture(scope="module")
def reference() -> str:
    """The README's "Workbook reference" subsection."""
    section = _section("workbook")
    assert "### Workbook reference" in section
    return section.split("### Workbook reference", 1)[1]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, the_rubric: Rubric) -> openpyxl.Workbook:
    """A blank workbook from the generator."""
    path = tmp_path_factory.mktemp("readme") / "audit.xlsx"
    return openpyxl.load_workbook(generate.new_workbook(path, the_rubric))


@pytest.mark.slow
def test_readme_lists_exactly_the_defined_names(reference: str, generated) -> None:
    """Every defined name in the workbook is in the README, and nothing else."""
    listed = [row[0].strip("`") for row in _rows(reference, "Defined name")]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(generated.defined_names)


def test_readme_lists_exactly_the_tables_and_headers(reference: str, generated) -> None:
    """Every table, with its header texts in order, is in the README, and nothing else."""
    listed = {
        row[0].strip("`"): tuple(h.strip().strip("`") for h in row[2].split(","))
        for row in _rows(reference, "Table")
    }
    written = {
        t.name: tuple(c.name for c in t.tableColumns)
        for ws in generated.worksheets
        for t in ws.tables.values()
    }
    assert listed == written


def test_readme_gives_labels_sheets_and_allowed_values(
    reference: str, generated, the_rubric: Rubric
) -> None:
    """Each name's row gives its sheet, its label and, for a dropdown, the list's values."""
    rows = {row[0].strip("`"): row for row in _rows(reference, "Defined name")}
    for f in layout.all_fields(the_rubric):
        _, sheet, label, meaning, allowed = rows[f.name]
        ((where, _),) = tuple(generated.defined_names[f.name].destinations)
        assert (sheet, label, meaning) == (where, f.label, f.meaning(the_rubric)), f.name
        if f.kind == "choice":
            assert allowed == ", ".join(layout.choices_for(f.choices, the_rubric)), f.name


def test_readme_reference_is_the_generated_text(reference: str, the_rubric: Rubric) -> None:
    """The reference is reference_markdown()'s output verbatim; paste it again after changes."""
    assert reference_markdown(the_rubric).strip() in reference


def test_readme_shows_the_workbook_commands() -> None:
    """The commands the section teaches exist."""
    section = _section("workbook")
    for command in ("cssw-docs workbook new -o", "cssw-docs workbook examples -o"):
        assert command in section
