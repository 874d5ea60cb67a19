"""The example workbooks as bytes, generated once per test process and shared by every module."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from cssw_docs import examples, rubric
from cssw_docs.workbook.generate import write_submission


@cache
def example_bytes(name: str = "good") -> bytes:
    """Return the bytes of the named example workbook, as ``write_submission`` writes it."""
    the_rubric = rubric.load()
    with tempfile.TemporaryDirectory(prefix="cssw-example-") as folder:
        path = Path(folder) / f"{name}.xlsx"
        write_submission(examples.example(name, the_rubric), path, the_rubric)
        return path.read_bytes()


def write_example(path: Path, name: str = "good") -> Path:
    """Write the named example workbook to ``path`` (folders made) and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(example_bytes(name))
    return path
