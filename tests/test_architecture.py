"""The shape of the code: imports run one way, no hidden imports, one owner of the schema."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cssw_docs"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_import_layers_are_kept():
    """The layers contract in pyproject.toml holds for the package as it is."""
    result = _lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_import_layers_contract_catches_an_upward_import(tmp_path: Path):
    """A lower layer importing a higher one (models -> pipeline) breaks the contract."""
    copy = tmp_path / "src" / "cssw_docs"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    models = copy / "models.py"
    models.write_text(models.read_text("utf-8") + "\nfrom . import pipeline  # noqa\n", "utf-8")
    result = _lint_imports(tmp_path / "src")
    assert result.returncode != 0
    assert "cssw_docs.models is not allowed to import cssw_docs.pipeline" in result.stdout


def _nested_imports(path: Path) -> list[int]:
    """Return the line numbers of imports inside functions or classes of ``path``."""
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found += [
                n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)
            ]
    return sorted(set(found))


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_function_level_imports_outside_cli(path: Path):
    """Imports sit at the top of each module outside cli/, so the import graph is visible."""
    assert _nested_imports(path) == []


def test_nested_import_detector_finds_one(tmp_path: Path):
    """The detector above does find an import inside a function."""
    sample = tmp_path / "m.py"
    sample.write_text("import os\n\ndef f():\n    import json\n    return json\n", "utf-8")
    assert _nested_imports(sample) == [4]


def test_only_the_store_creates_tables():
    """Every CREATE TABLE lives in store/: one owner of the SQLite schema."""
    owners = {
        p.relative_to(PACKAGE).parts[0]
        for p in PACKAGE.rglob("*.py")
        if "CREATE TABLE" in p.read_text("utf-8")
    }
    assert owners == {"store"}


def _import_time_dates(path: Path) -> list[int]:
    """Return the lines of ``path`` that ask for today's date outside any function or class."""
    tree = ast.parse(path.read_text("utf-8"))
    nested = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        for n in ast.walk(node)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("today", "now")
        and id(node) not in nested
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "tests").glob("*.py")), ids=lambda p: p.name)
def test_no_test_module_fixes_the_date_at_import(path: Path):
    """A date taken when a module is imported goes stale across midnight: take it in the test."""
    assert _import_time_dates(path) == []


def test_import_time_date_detector_finds_one(tmp_path: Path):
    """The detector above finds a module-level ``date.today()`` and ignores one in a function."""
    sample = tmp_path / "t.py"
    sample.write_text(
        "import datetime as dt\nTODAY = dt.date.today()\n\ndef f():\n    return dt.date.today()\n"
    )
    assert _import_time_dates(sample) == [2]
