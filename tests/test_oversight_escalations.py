"""Tests of the referral listing: open ones, resolved ones, oldest first."""

from __future__ import annotations

from pathlib import Path

import pytest

from cssw_docs import followup
from cssw_docs.config import Settings
from cssw_docs.models import Agreement, ReferralOutcome
from cssw_docs.oversight import escalations, records
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger
from oversight_support import AS_OF, build_ledger, latest_finals


@pytest.mark.slow
def test_open_referrals_match_an_independent_count(tmp_path: Path, the_rubric: Rubric) -> None:
    """Open = latest Final disagrees; closed = an earlier version disagreed, or decided."""
    db, rows = build_ledger(tmp_path, the_rubric)
    conn = connect_ledger(db)
    latest = latest_finals(rows)
    open_refs = [
        r.submission.audit_ref
        for r in latest
        if r.submission.practitioner_agreement is Agreement.DISAGREE
    ]
    ever = {
        r.submission.audit_ref
        for r in rows
        if r.stage.value == "Final" and r.submission.practitioner_agreement is Agreement.DISAGREE
    }
    listed = escalations.referrals(records.load(conn).audits, AS_OF)
    assert sorted(r.audit_ref for r in listed) == sorted(open_refs)
    assert len(open_refs) >= 2 and len(ever) > len(open_refs)
    assert [r.referred_on for r in listed] == sorted(r.referred_on for r in listed)
    everything = escalations.referrals(records.load(conn).audits, AS_OF, include_resolved=True)
    assert {r.audit_ref for r in everything} == ever

    settings = Settings().with_changes(**{"service.state_dir": tmp_path})
    followup.decide_referral(
        settings, the_rubric, open_refs[0], ReferralOutcome.UPHELD, "Reviewed; rating stands."
    )
    after = escalations.referrals(records.load(conn).audits, AS_OF)
    assert sorted(r.audit_ref for r in after) == sorted(open_refs[1:])
    (resolved,) = [
        r
        for r in escalations.referrals(records.load(conn).audits, AS_OF, include_resolved=True)
        if r.audit_ref == open_refs[0]
    ]
    assert not resolved.is_open and resolved.note == "Reviewed; rating stands."
