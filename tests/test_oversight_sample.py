"""Tests of the generated ledger used by demos and tests: varied, reproducible, schema-true."""

from __future__ import annotations

from pathlib import Path

from cssw_docs.models import Stage
from cssw_docs.oversight import records, sample
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger


def test_sample_is_reproducible_and_varied(the_rubric: Rubric) -> None:
    """The same seed gives the same audits; they cover every type, stage and a second version."""
    rows = sample.audits(the_rubric, 60)
    assert rows == sample.audits(the_rubric, 60)
    subs = [r.submission for r in rows]
    assert {s.audit_type for s in subs} == {t.name for t in the_rubric.audit_types}
    assert {r.stage for r in rows} == {Stage.DRAFT, Stage.FINAL}
    assert any(r.version == 2 for r in rows)
    assert len({s.team for s in subs}) == len(sample.TEAMS)
    assert len({s.audit_date.month for s in subs}) >= 10
    assert all(r.moderation_selected is None for r in rows if r.stage is Stage.DRAFT)


def test_written_rows_read_back(tmp_path: Path, the_rubric: Rubric) -> None:
    """Rows written with the service's schema read back as the same audits."""
    rows = sample.audits(the_rubric, 15, seed=2)
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    sample.write(conn, rows)
    count = conn.execute("SELECT COUNT(*) FROM audits").fetchone()[0]
    assert count == len(rows)
    loaded = {r.audit_ref: r.submission for r in records.load(conn).audits}
    for row in rows:
        if row.stage is Stage.FINAL and loaded[row.submission.audit_ref] == row.submission:
            break
    else:
        raise AssertionError("no Final audit read back unchanged")
