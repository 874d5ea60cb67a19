"""Benchmark part: a booklet of N storyboards to PDF in one LibreOffice call (`make bench`).

``bench/run.py`` calls :func:`measure_booklet`; run this file on its own to time just the
booklet: ``python bench/booklet.py [N]`` (default 100).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pypdf  # the [test] extra, which `make bench` installs

from cssw_docs import examples
from cssw_docs import rubric as rubric_mod
from cssw_docs.render import pdf
from cssw_docs.render import storyboards as printing
from cssw_docs.rubric import Rubric


def measure_booklet(rubric: Rubric, n: int, folder: Path) -> dict[str, Any]:
    """Return the time to write a booklet of ``n`` storyboards: Word, then PDF in one call."""
    if pdf.soffice_path() is None:
        return {"skipped": "LibreOffice is not installed"}
    folder.mkdir(parents=True, exist_ok=True)
    bases = [examples.example(name, rubric) for name in ("good", "outstanding")]
    day = dt.date(2026, 9, 1)
    entries = [
        (dataclasses.replace(bases[i % 2], audit_ref=f"BOOK-2026-{i + 1:04d}"), day)
        for i in range(n)
    ]
    info = printing.BookletInfo(day, dt.date(2026, 12, 31))
    pdf.convert([printing.write_booklet(entries[:1], info, folder / "warm.docx")], folder)
    t0 = time.perf_counter()
    printing.write_booklet(entries, info, folder / "booklet.docx")
    word = time.perf_counter() - t0
    t0 = time.perf_counter()
    made = printing.write_booklet(entries, info, folder / "booklet.pdf")
    whole = time.perf_counter() - t0
    pages = len(pypdf.PdfReader(made).pages)
    return {
        "storyboards": n,
        "pages": pages,
        "word_s": word,
        "pdf_s": whole,  # Word and one LibreOffice call
        "per_storyboard_ms": whole / n * 1000,
    }


def summary(result: dict[str, Any]) -> str:
    """Return the booklet's figures as one line for the benchmark's output."""
    if "skipped" in result:
        return f"Booklet: skipped ({result['skipped']})"
    return (
        f"Booklet: {result['storyboards']} storyboards, {result['pages']} pages to PDF in one "
        f"LibreOffice call in {result['pdf_s']:.1f} s ({result['per_storyboard_ms']:.0f} ms a "
        f"storyboard; the Word file alone {result['word_s']:.1f} s)"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory(prefix="cssw-bench-booklet-") as tmp:
        print(summary(measure_booklet(rubric_mod.load(), count, Path(tmp))))
