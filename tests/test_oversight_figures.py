"""Tests of the report's figures: each one against an independent count of generated audits."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from cssw_docs import privacy
from cssw_docs.models import SECTION_KEYS, Agreement, Rating
from cssw_docs.oversight import figures, records
from cssw_docs.oversight.figures import Figures
from cssw_docs.oversight.sample import LedgerRow
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from oversight_support import AS_OF, END, START, build_ledger, in_period, latest_finals

PERIOD = (dt.date(2026, 2, 1), dt.date(2026, 10, 31))


@pytest.fixture
def computed(tmp_path: Path, the_rubric: Rubric) -> tuple[Figures, list[LedgerRow]]:
    """The figures of February to October and the audits a person would count for them."""
    db, rows = build_ledger(tmp_path, the_rubric)
    conn = connect_ledger(db)
    # Two panel outcomes: one agreeing with the auditor, one not.
    selected = [r for r in latest_finals(rows) if r.moderation_selected]
    in_range = in_period(selected, *PERIOD)
    records.record_moderation(
        conn,
        in_range[0].submission.audit_ref,
        in_range[0].submission.overall_rating.value,
        "Agreed",
    )
    other = next(
        g for g in ("Good", "Inadequate") if g != in_range[1].submission.overall_rating.value
    )
    records.record_moderation(conn, in_range[1].submission.audit_ref, other, "Differs")  # fmt: skip
    ledger = records.load(conn, *PERIOD)
    figs = figures.compute(
        ledger.audits, the_rubric, as_of=AS_OF, start=PERIOD[0], end=PERIOD[1],
        drafts_in_progress=len(ledger.drafts_only),
    )  # fmt: skip
    # The chair's decision is final: a person counts the panel's rating where it differs.
    changed = in_range[1].submission.audit_ref
    counted = [
        dataclasses.replace(
            r, submission=dataclasses.replace(r.submission, overall_rating=Rating(other))
        )
        if r.submission.audit_ref == changed
        else r
        for r in in_period(latest_finals(rows), *PERIOD)
    ]
    return figs, counted


@pytest.mark.slow
def test_counts_by_type_team_and_month(computed) -> None:
    """Audits by type, by team and by month add up as counted by hand."""
    figs, audits = computed
    subs = [r.submission for r in audits]
    assert figs.audits == len(subs) > 30
    assert dict(figs.by_type) == {
        **{t: 0 for t, _ in figs.by_type},
        **Counter(s.audit_type for s in subs),
    }
    assert {t.team: t.audits for t in figs.by_team} == Counter(s.team for s in subs)
    months = Counter(s.audit_date.strftime("%Y-%m") for s in subs)
    assert [m.month for m in figs.by_month] == [f"2026-{m:02d}" for m in range(2, 11)]
    assert {m.month: m.audits for m in figs.by_month} == {
        m.month: months.get(m.month, 0) for m in figs.by_month
    }


@pytest.mark.slow
def test_rating_distribution_per_section_and_overall(computed) -> None:
    """Every section's and the overall rating counts, shares of graded audits included."""
    figs, audits = computed
    subs = [r.submission for r in audits]
    for key, dist in zip(SECTION_KEYS, figs.sections, strict=True):
        given = Counter(s.section(key).rating for s in subs)
        for rating in Rating:
            assert dist.counts[rating.value] == given[rating], (key, rating)
        assert dist.counts["Not rated"] == given[None]
        graded = sum(given[r] for r in Rating if r is not Rating.NOT_APPLICABLE)
        assert dist.rated == graded
        good = given[Rating.GOOD] + given[Rating.OUTSTANDING]
        assert dist.pct_good_or_better == pytest.approx(good / graded)
        assert dist.pct_inadequate == pytest.approx(given[Rating.INADEQUATE] / graded)
    overall = Counter(s.overall_rating for s in subs)
    assert figs.overall.counts["Inadequate"] == overall[Rating.INADEQUATE]
    assert figs.overall.pct_good_or_better == pytest.approx(
        (overall[Rating.GOOD] + overall[Rating.OUTSTANDING]) / len(subs)
    )
    for month in figs.by_month:
        in_month = [s for s in subs if s.audit_date.strftime("%Y-%m") == month.month]
        assert month.overall.counts["Good"] == sum(
            s.overall_rating is Rating.GOOD for s in in_month
        )


@pytest.mark.slow
def test_agreement_referrals_feedback_and_storyboards(computed) -> None:
    """Practitioner views, referrals, family feedback and storyboards counted by hand."""
    figs, audits = computed
    subs = [r.submission for r in audits]
    views = Counter(s.practitioner_agreement.value for s in subs)
    assert figs.agreement == {**dict.fromkeys(figs.agreement, 0), **views}
    assert figs.referrals_open == views.get(Agreement.DISAGREE.value, 0)
    assert figs.referrals >= figs.referrals_open
    assert figs.family_feedback == sum(bool(s.feedback) for s in subs)
    assert sorted(s.audit_ref for s in figs.storyboards) == sorted(
        s.audit_ref for s in subs if s.storyboard_title
    )
    assert all(s.worker and s.team for s in figs.storyboards)


@pytest.mark.slow
def test_actions_due_and_overdue(computed) -> None:
    """Actions are counted by where they stand on the report's date."""
    figs, audits = computed
    dues = [a.due for r in audits for a in r.submission.actions]
    assert figs.actions_total == len(dues)
    assert figs.actions["Overdue"] == sum(d is not None and d < AS_OF for d in dues)
    assert figs.actions["No due date"] == sum(d is None for d in dues)
    soon = AS_OF + dt.timedelta(days=28)
    assert figs.actions["Due soon"] == sum(d is not None and AS_OF <= d <= soon for d in dues)
    assert sum(t.overdue for t in figs.by_team) == figs.actions["Overdue"]


@pytest.mark.slow
def test_moderation_sample_and_agreement(computed) -> None:
    """The sample counts, and the panel's agreement with the auditors."""
    figs, audits = computed
    m = figs.moderation
    assert m.eligible == sum(
        r.submission.audit_type in ("Thematic", "Practice Week") for r in audits
    )
    assert m.selected == sum(bool(r.moderation_selected) for r in audits) > 1
    assert (m.recorded, m.agreed, m.higher + m.lower) == (2, 1, 1)
    assert m.pct_agreed == pytest.approx(0.5)
    assert sorted(r.comparison for r in m.rows if r.moderator_rating) == [
        "Agreed",
        next(r.comparison for r in m.rows if r.note == "Differs"),
    ]
    assert sum(r.comparison == "Awaiting panel" for r in m.rows) == m.selected - 2


@pytest.mark.slow
def test_themes_are_recurring_and_leave_out_names(computed) -> None:
    """Recurring words and phrases are counted once per audit, without stop words or names."""
    figs, audits = computed
    words = dict(figs.theme_words)
    phrases = dict(figs.theme_phrases)
    assert phrases and words
    for name in ("amara", "leo", "maya", "kai", "sofia", "the", "and", "not"):
        assert name not in words
        assert all(name not in p.split() for p in phrases)
    # The ledger's view of each audit has the child's name replaced by "the child", so a
    # sentence about a named child counts with the same sentence about another.
    texts = [
        privacy.redact("\n".join([r.submission.areas_for_development,
                       *(s.development for s in r.submission.sections)]), r.submission).lower()
        for r in audits
    ]  # fmt: skip
    for phrase, n in phrases.items():
        assert n == sum(phrase in t for t in texts), phrase
    assert phrases["child's views"] >= 2  # "Amara's views ...", "Leo's views ..." together
    assert all(n >= 2 for n in (*words.values(), *phrases.values()))


@pytest.mark.parametrize(
    ("text", "words", "phrases"),
    [
        ("Father's views are missing.", {"father", "views", "missing"}, {"father's views"}),
        ("The chronology is out of date", {"chronology", "date"}, set()),
        ("Voice of the child. Child's plan", {"voice", "child", "plan"},
         {"child's plan"}),
        ("Views of father recorded", {"views", "father", "recorded"},
         {"views of father", "father recorded"}),
        ("Amara's views", {"views"}, set()),
    ],
)  # fmt: skip
def test_themes_of(text: str, words: set[str], phrases: set[str]) -> None:
    """Stop words, short words and names are dropped; phrases never span a full stop."""
    got_words, got_phrases = figures.themes_of(text, frozenset({"amara"}))
    assert got_words == words
    assert got_phrases == phrases


def test_empty_period_is_honest(the_rubric: Rubric) -> None:
    """No audits: zero counts, no shares, every month of the period still listed."""
    figs = figures.compute([], the_rubric, as_of=AS_OF, start=START, end=END)
    assert figs.empty and figs.audits == 0
    assert figs.overall.pct_good_or_better is None and figs.moderation.pct_agreed is None
    assert len(figs.by_month) == 12 and all(m.audits == 0 for m in figs.by_month)
    assert figs.theme_words == () and figs.storyboards == ()


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (dt.date(2026, 1, 15), dt.date(2026, 1, 16), 1),
        (dt.date(2025, 11, 30), dt.date(2026, 2, 1), 4),
    ],
)
def test_months_between(start: dt.date, end: dt.date, count: int) -> None:
    """Every calendar month touched by the period is listed once."""
    assert len(figures.months_between(start, end)) == count
