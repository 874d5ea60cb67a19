"""Tests of reading audits from the ledger and recording moderation outcomes and resolutions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from cssw_docs import followup
from cssw_docs.config import Settings
from cssw_docs.models import Agreement, Decision, Rating, ReferralOutcome, Stage, Submission
from cssw_docs.oversight import records, sample
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from oversight_support import END, START, build_ledger, in_period, latest_finals
from store_support import release_ledger


@pytest.fixture
def ledger(tmp_path: Path, the_rubric: Rubric):
    """A ledger of generated audits and the rows written into it."""
    db, rows = build_ledger(tmp_path, the_rubric)
    conn = connect_ledger(db)
    yield conn, rows
    conn.close()


@pytest.mark.slow
def test_each_reference_appears_once_as_its_latest_final(ledger) -> None:
    """Drafts and superseded Final versions are not counted twice."""
    conn, rows = ledger
    loaded = records.load(conn)
    expected = {r.submission.audit_ref: r.version for r in latest_finals(rows)}
    assert {r.audit_ref: r.version for r in loaded.audits} == expected
    assert any(v == 2 for v in expected.values())  # the sample has second versions
    finals = {r.submission.audit_ref for r in rows if r.stage is Stage.FINAL}
    drafts = {r.submission.audit_ref for r in rows} - finals
    assert set(loaded.drafts_only) == drafts and drafts


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.date(2026, 3, 1), dt.date(2026, 5, 31)), (START, END), (dt.date(2030, 1, 1), None)],
)
def test_period_is_by_audit_date_inclusive(ledger, start: dt.date, end: dt.date | None) -> None:
    """Only audits dated in the period are loaded."""
    conn, rows = ledger
    loaded = records.load(conn, start, end)
    wanted = in_period(latest_finals(rows), start, end or dt.date.max)
    assert sorted(r.audit_ref for r in loaded.audits) == sorted(
        r.submission.audit_ref for r in wanted
    )


def test_a_period_loads_the_same_records_as_the_whole_ledger_filtered(
    tmp_path: Path, good_audit: Submission
) -> None:
    """An audit is kept in a period or left out before it is read in full; what is kept is
    exactly the record the whole ledger has, by audit date, else by the day it was processed
    (also when the stored audit date cannot be read)."""
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    day = dt.date.fromisoformat

    def row(ref, dated, processed, *, disagree=False, stage=Stage.FINAL):
        sub = dataclasses.replace(
            good_audit,
            audit_ref=ref,
            audit_date=day(dated) if dated else None,
            audit_stage=stage,
            practitioner_agreement=Agreement.DISAGREE if disagree else Agreement.AGREE,
        )
        at = dt.datetime.combine(day(processed), dt.time(10), tzinfo=dt.UTC)
        return sample.LedgerRow(sub, 1, at, None)

    sample.write(
        conn,
        [
            row("IN-DATED", "2026-05-10", "2026-05-12"),
            row("OUT-DATED", "2026-03-20", "2026-04-05"),  # processed in the period
            row("IN-UNDATED", None, "2026-06-30"),
            row("OUT-UNDATED", None, "2026-07-01"),
            row("IN-DISPUTED", "2026-04-01", "2026-07-20", disagree=True),
            row("OUT-DISPUTED", "2026-07-01", "2026-07-02", disagree=True),
            row("OUT-BAD-DATE", "2026-05-01", "2026-08-01"),
            row("IN-DRAFT", "2026-05-01", "2026-05-02", stage=Stage.DRAFT),
        ],
    )
    conn.execute(
        "UPDATE audits SET data = json_set(data, '$.audit_date', 'not a date')"
        " WHERE audit_ref = 'OUT-BAD-DATE'"
    )
    conn.commit()
    start, end = day("2026-04-01"), day("2026-06-30")
    whole = records.load(conn)
    period = records.load(conn, start, end)
    assert period.audits == tuple(r for r in whole.audits if start <= r.when <= end)
    assert [r.audit_ref for r in period.audits] == ["IN-DISPUTED", "IN-DATED", "IN-UNDATED"]
    assert period.audits[0].referred and period.audits[0].referral_open
    assert len(whole.audits) == 7 and period.drafts_only == whole.drafts_only == ("IN-DRAFT",)


def test_referral_resolved_by_a_later_version(tmp_path: Path, good_audit: Submission) -> None:
    """A disagreeing v1 followed by an agreeing v2 is a resolved referral."""
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    when = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    v1 = dataclasses.replace(good_audit, practitioner_agreement=Agreement.DISAGREE)
    sample.write(conn, [sample.LedgerRow(v1, 1, when, True)])
    (record,) = records.load(conn).audits
    assert record.referred and record.referral_open
    sample.write(conn, [sample.LedgerRow(good_audit, 2, when + dt.timedelta(days=3), True)])
    (record,) = records.load(conn).audits
    assert record.referred and not record.referral_open
    assert "later version" in record.resolution_note


def _settings(tmp_path: Path) -> Settings:
    return Settings().with_changes(**{"service.state_dir": tmp_path})


def test_deciding_a_referral_sent_as_final_by_the_release(
    tmp_path: Path, good_audit: Submission, the_rubric: Rubric
) -> None:
    """A disputed Final version issued before decisions existed: the decision closes its
    referral, issues nothing new, and a second, different decision is refused in plain words."""
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    sub = dataclasses.replace(good_audit, practitioner_agreement=Agreement.DISAGREE)
    sample.write(conn, [sample.LedgerRow(sub, 1, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), None)])
    done = followup.decide_referral(
        _settings(tmp_path),
        the_rubric,
        sub.audit_ref.lower(),
        ReferralOutcome.UPHELD,
        "Rating confirmed.",
        "Head of QA",
        today=dt.date(2026, 5, 6),
    )
    assert done.pack is None and done.queued == 0
    (record,) = records.load(conn).audits
    assert not record.referral_open and record.resolution_note == "Rating confirmed."
    assert record.decision == Decision(
        ReferralOutcome.UPHELD, "Rating confirmed.", dt.date(2026, 5, 6), "Head of QA"
    )
    with pytest.raises(records.OversightError, match="already has the Head of QA's decision"):
        followup.decide_referral(
            _settings(tmp_path), the_rubric, sub.audit_ref, ReferralOutcome.REPLACED, "again"
        )


def test_deciding_when_nobody_disagreed(
    tmp_path: Path, good_audit: Submission, the_rubric: Rubric
) -> None:
    """An audit without a disagreement has nothing to decide."""
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    sample.write(
        conn, [sample.LedgerRow(good_audit, 1, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), None)]
    )
    with pytest.raises(records.OversightError, match="does not disagree"):
        followup.decide_referral(
            _settings(tmp_path), the_rubric, good_audit.audit_ref, ReferralOutcome.UPHELD, "x"
        )


@pytest.mark.slow
def test_panel_ratings_are_the_ratings_of_record(ledger, the_rubric: Rubric) -> None:
    """The panel's overall and section ratings replace the auditor's in the record; the
    auditor's stay beside them."""
    conn, rows = ledger
    target = latest_finals(rows)[0].submission
    before = target.section("assessment").rating
    after = Rating.INADEQUATE if before is not Rating.INADEQUATE else Rating.GOOD
    records.record_moderation(
        conn,
        target.audit_ref,
        None,
        "Assessment re-rated.",
        "Dr Chair",
        sections={"assessment": after},
        panel_date=dt.date(2026, 12, 7),
    )
    record = records.find(conn, target.audit_ref)
    assert record.submission.section("assessment").rating is after
    assert record.auditor_section("assessment") is before
    assert record.submission.overall_rating is target.overall_rating  # not changed
    assert record.auditor_rating is target.overall_rating
    assert record.panel_changed
    assert record.moderation.decided_on == dt.date(2026, 12, 7)
    with pytest.raises(records.OversightError, match="overall rating"):
        records.record_moderation(conn, target.audit_ref, None, "Nothing changed.")


def test_section_ratings_are_read_by_name(the_rubric: Rubric) -> None:
    """ "Assessment=Good" names a section and a rating; anything else is refused plainly."""
    assert records.parse_section_ratings(
        ["Assessment=Good", "basic information=RI"], the_rubric
    ) == {
        "assessment": Rating.GOOD,
        "basic_information": Rating.REQUIRES_IMPROVEMENT,
    }
    with pytest.raises(records.OversightError, match="Assessment=Good"):
        records.parse_section_ratings(["Assessment"], the_rubric)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Good", Rating.GOOD),
        ("good", Rating.GOOD),
        ("RI", Rating.REQUIRES_IMPROVEMENT),
        ("requires  improvement", Rating.REQUIRES_IMPROVEMENT),
        ("Outstanding", Rating.OUTSTANDING),
        ("INADEQUATE", Rating.INADEQUATE),
    ],
)
def test_parse_rating(text: str, expected: Rating) -> None:
    """The panel's rating is read loosely."""
    assert records.parse_rating(text) is expected


@pytest.mark.parametrize("text", ["Great", "Not applicable", ""])
def test_parse_rating_refuses(text: str) -> None:
    """A word that is not a grade is refused with the list of grades."""
    with pytest.raises(records.OversightError, match="Use one of: Outstanding, Good"):
        records.parse_rating(text)


@pytest.mark.slow
def test_moderation_outcome_latest_counts(ledger) -> None:
    """Recording twice keeps the later outcome on the audit."""
    conn, rows = ledger
    ref = latest_finals(rows)[0].submission.audit_ref
    records.record_moderation(conn, ref, "Good", "first", "Chair")
    conn.execute("UPDATE moderation_outcomes SET recorded_at = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    records.record_moderation(conn, ref, "Inadequate", "second")
    record = records.find(conn, ref)
    assert record.moderation is not None
    assert (record.moderation.rating, record.moderation.note) == (Rating.INADEQUATE, "second")
    assert record.moderation.moderator == "Chair of the moderation panel"


def test_unknown_reference_is_refused(ledger) -> None:
    """An audit that is not in the ledger gets a plain message."""
    conn, _ = ledger
    with pytest.raises(records.OversightError, match="no Final audit CSSW-9999"):
        records.record_moderation(conn, "CSSW-9999", "Good", "x")


def test_missing_ledger_is_not_created(tmp_path: Path) -> None:
    """Reading a ledger that does not exist explains why and creates nothing."""
    db = tmp_path / "state" / "ledger.sqlite3"
    with pytest.raises(records.OversightError, match="no audit has been processed yet"):
        records.open_existing(db)
    assert not db.exists()


def test_ledger_without_audits_table_is_empty(tmp_path: Path) -> None:
    """A ledger the service has not written audits into yet reads as empty."""
    conn = connect_ledger(tmp_path / "ledger.sqlite3")
    assert records.load(conn) == records.Ledger((), ())
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"moderation_outcomes", "escalation_resolutions"} <= tables
    assert isinstance(conn, sqlite3.Connection)


def test_release_ledger_reads_as_oversight_records(tmp_path: Path) -> None:
    """A release 0.1.0 ledger gives its latest Finals, its Draft, moderation and resolution."""
    conn = connect_ledger(release_ledger(tmp_path))
    loaded = records.load(conn)
    by_ref = {r.audit_ref: r for r in loaded.audits}
    assert sorted(by_ref) == [f"CSSW-2026-0{n}" for n in (142, 157, 163, 171, 184, 201)]
    assert by_ref["CSSW-2026-0142"].version == 2
    assert loaded.drafts_only == ("CSSW-2026-0178",)
    assert by_ref["CSSW-2026-0157"].moderation.rating is Rating.REQUIRES_IMPROVEMENT
    referred = by_ref["CSSW-2026-0184"]
    assert referred.submission.practitioner_agreement is Agreement.DISAGREE
    assert referred.referred and not referred.referral_open
    assert referred.resolution_note == "Reviewed with the practitioner; rating stands."
    records.record_moderation(conn, "CSSW-2026-0171", "Inadequate", "Panel agreed.")
    assert records.find(conn, "CSSW-2026-0171").moderation.rating is Rating.INADEQUATE
    conn.close()
