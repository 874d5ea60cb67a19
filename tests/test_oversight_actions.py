"""Tests of action follow-up: status on a date, filters and order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cssw_docs.oversight import actions, records
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from oversight_support import AS_OF, build_ledger, latest_finals

TODAY = dt.date(2026, 9, 1)


@pytest.mark.parametrize(
    ("due", "status"),
    [
        (None, "No due date"),
        (dt.date(2026, 8, 31), "Overdue"),
        (dt.date(2026, 9, 1), "Due soon"),
        (dt.date(2026, 9, 29), "Due soon"),
        (dt.date(2026, 9, 30), "Not yet due"),
    ],
)
def test_status_of(due: dt.date | None, status: str) -> None:
    """An action is overdue the day after its due date; due soon within four weeks."""
    assert actions.status_of(due, TODAY) == status


@pytest.mark.parametrize(
    ("team", "overdue"), [(None, False), (None, True), ("team 3", False), ("care", True)]
)
@pytest.mark.slow
def test_listing_matches_an_independent_count(
    tmp_path: Path, the_rubric: Rubric, team: str | None, overdue: bool
) -> None:
    """Every action of every latest Final audit is listed once, filtered and earliest first."""
    db, rows = build_ledger(tmp_path, the_rubric)
    audits = records.load(connect_ledger(db)).audits
    expected = [
        (r.submission.audit_ref, a.action)
        for r in latest_finals(rows)
        for a in r.submission.actions
        if (team is None or team.lower() in r.submission.team.lower())
        and (not overdue or (a.due is not None and a.due < AS_OF))
    ]
    listed = actions.tracked(audits, AS_OF, team=team, overdue_only=overdue)
    assert sorted((a.audit_ref, a.action) for a in listed) == sorted(expected)
    assert expected
    dues = [a.due for a in listed if a.due is not None]
    assert dues == sorted(dues)
    if any(a.due is None for a in listed):
        assert listed[-1].due is None  # undated actions come last
    assert all(a.owner for a in listed)
