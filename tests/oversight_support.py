"""Helpers for the oversight tests: a ledger of generated audits and independent counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
from pathlib import Path

from cssw_docs.models import Stage
from cssw_docs.oversight import sample
from cssw_docs.oversight.sample import LedgerRow
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger

START = dt.date(2026, 1, 1)
END = dt.date(2026, 12, 31)
AS_OF = dt.date(2026, 9, 1)
COUNT = 70


# (rubric, count, seed) -> (the rubric, ledger bytes, rows): each ledger is generated once.
_BUILT: dict[tuple[int, int, int], tuple[Rubric, bytes, tuple[LedgerRow, ...]]] = {}


def build_ledger(folder: Path, rubric: Rubric, count: int = COUNT, seed: int = 6):
    """Return (ledger path, the rows written) for ``count`` generated audits in ``folder``.

    The ledger is generated and written once per test process; later calls copy its bytes.
    """
    db = folder / "ledger.sqlite3"
    key = (id(rubric), count, seed)
    if key not in _BUILT:
        rows = sample.audits(rubric, count, seed=seed)
        conn = connect_ledger(db)
        sample.write(conn, rows)
        conn.close()
        assert not db.with_name(db.name + "-wal").exists()
        _BUILT[key] = (rubric, db.read_bytes(), tuple(rows))  # keeps the rubric (and id) alive
    else:
        folder.mkdir(parents=True, exist_ok=True)
        db.write_bytes(_BUILT[key][1])
    return db, list(_BUILT[key][2])


def latest_finals(rows: list[LedgerRow]) -> list[LedgerRow]:
    """Return each reference's highest Final version, the way a person would pick them out."""
    best: dict[str, LedgerRow] = {}
    for row in rows:
        if row.stage is not Stage.FINAL:
            continue
        held = best.get(row.submission.audit_ref)
        if held is None or row.version > held.version:
            best[row.submission.audit_ref] = row
    return sorted(best.values(), key=lambda r: r.submission.audit_ref)


def in_period(rows: list[LedgerRow], start: dt.date, end: dt.date) -> list[LedgerRow]:
    """Return the rows whose audit date falls in ``start``..``end``."""
    return [r for r in rows if start <= r.submission.audit_date <= end]


def to_pdf(soffice: str, source: Path, outdir: Path) -> Path:
    """Return the PDF LibreOffice makes of ``source`` (a private profile, so runs can overlap)."""
    profile = outdir / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = outdir / (source.stem + ".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 1000
    return pdf


def page_count(pdf: Path) -> int:
    """Return how many pages the PDF has."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def build_storyboard_ledger(folder: Path, rubric: Rubric, count: int = 90, seed: int = 6):
    """Return (ledger path, rows) for ``count`` generated audits with varied storyboards.

    The audits run from January to December 2026 (two school terms and more); about half are
    Good or Outstanding, most of those with a Completed storyboard, about half of which may be
    shared outside the service. One storyboard names its child, which every output must hide.
    """
    db = folder / "ledger.sqlite3"
    folder.mkdir(parents=True, exist_ok=True)
    key = (id(rubric), count, -seed)  # apart from build_ledger's
    if key in _BUILT:
        db.write_bytes(_BUILT[key][1])
        return db, list(_BUILT[key][2])
    rows = sample.storyboards(sample.audits(rubric, count, seed=seed))
    named = next(
        r.submission.audit_ref
        for r in rows
        if r.submission.storyboard_title and r.submission.audit_date >= dt.date(2026, 9, 1)
    )
    for i, row in enumerate(rows):
        sub = row.submission
        if sub.audit_ref == named and sub.storyboard_title:
            first = sub.child_name.split()[0]
            impact = f"{first} says so too ({sub.child_mosaic_id}). {sub.storyboard_impact}"
            rows[i] = dataclasses.replace(
                row, submission=dataclasses.replace(sub, storyboard_impact=impact)
            )
    conn = connect_ledger(db)
    sample.write(conn, rows)
    conn.close()
    _BUILT[key] = (rubric, db.read_bytes(), tuple(rows))
    return db, rows
