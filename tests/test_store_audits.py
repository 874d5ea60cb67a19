"""The audits table and oversight's outcomes and resolutions, new and from release 0.1.0."""

from __future__ import annotations

import json

from cssw_docs.models import Stage, submission_from_dict, submission_to_dict
from cssw_docs.store import audits, db
from store_support import RELEASE_AUDITS, release_ledger


def _audit(tmp_path, **changes):
    values = {
        "audit_ref": "CSSW-2026-0142",
        "stage": Stage.FINAL,
        "version": 1,
        "job_id": "j",
        "source_sha256": "s",
        "audit_date": "2026-10-14",
        "data": {"audit_ref": "CSSW-2026-0142"},
        "pack_dir": tmp_path / "p",
        "moderation_selected": True,
    }
    return {**values, **changes}


def test_audit_rows_are_rewritten_not_duplicated(tmp_path):
    """Recording the same pack version twice (a retried step) leaves one row."""
    conn = db.open_ledger(tmp_path)
    for _ in range(2):
        audits.record_audit(conn, **_audit(tmp_path))
    rows = conn.execute("SELECT audit_ref, version, moderation_selected FROM audits").fetchall()
    assert [tuple(r) for r in rows] == [("CSSW-2026-0142", 1, 1)]


def test_many_audits_are_written_by_column_name(tmp_path, good_audit):
    """A batch keeps each value in its own column, whatever the table's column order."""
    conn = db.open_ledger(tmp_path)
    data = submission_to_dict(good_audit)
    audits.record_audits(
        conn,
        [
            _audit(tmp_path, version=1, data=data, processed_at="2026-10-15T09:00:00+00:00"),
            _audit(tmp_path, version=2, data=data, moderation_selected=None),
        ],
    )
    first, second = audits.audit_rows(conn)
    assert (first["version"], first["processed_at"], first["moderation_selected"]) == (
        1,
        "2026-10-15T09:00:00+00:00",
        1,
    )
    assert (first["stage"], first["audit_date"], first["pack_dir"]) == (
        "Final",
        "2026-10-14",
        str(tmp_path / "p"),
    )
    assert second["moderation_selected"] is None and second["processed_at"] > "2026"
    assert submission_from_dict(json.loads(first["data"])) == good_audit


def test_moderation_outcomes_and_decisions_round_trip(tmp_path):
    """What oversight records is read back field by field, oldest outcome first."""
    conn = db.open_ledger(tmp_path)
    for when, rating in (("2026-10-02", "Inadequate"), ("2026-10-01", "Good")):
        audits.record_moderation_outcome(
            conn, audit_ref="CSSW-1", recorded_at=when, moderator="Chair", rating=rating, note="n"
        )
    audits.record_moderation_outcome(
        conn,
        audit_ref="CSSW-2",
        recorded_at="2026-10-03",
        moderator="Chair",
        rating="Good",
        note="m",
        sections={"assessment": "Good"},
        panel_date="2026-10-01",
    )
    assert audits.record_decision(
        conn,
        audit_ref="CSSW-1",
        version=2,
        outcome="upheld",
        note="ok",
        decided_on="2026-10-03",
        decided_by="HoQA",
        recorded_at="2026-10-03T09:00:00Z",
    )
    assert not audits.record_decision(  # one decision per referral
        conn,
        audit_ref="CSSW-1",
        version=2,
        outcome="replaced",
        note="changed my mind",
        decided_on="2026-10-04",
        decided_by="HoQA",
    )
    audits.mark_decision_issued(conn, audit_ref="CSSW-1", version=2, issued_version=3)
    assert [tuple(r) for r in audits.moderation_outcome_rows(conn)] == [
        ("CSSW-1", "2026-10-01", "Chair", "Good", "n", "{}", None),
        ("CSSW-1", "2026-10-02", "Chair", "Inadequate", "n", "{}", None),
        ("CSSW-2", "2026-10-03", "Chair", "Good", "m", '{"assessment": "Good"}', "2026-10-01"),
    ]
    assert [tuple(r) for r in audits.resolution_rows(conn)] == [
        ("CSSW-1", 2, "2026-10-03T09:00:00Z", "HoQA", "ok", "upheld", "2026-10-03", 3)
    ]
    audits.schedule_panel(conn, audit_ref="CSSW-1", panel_date="2026-11-02", scheduled_at="t1")
    audits.schedule_panel(conn, audit_ref="CSSW-1", panel_date="2026-11-09", scheduled_at="t2")
    assert [tuple(r) for r in audits.panel_rows(conn)] == [("CSSW-1", "2026-11-09", "t2")]


def test_every_audit_of_the_release_ledger_reads_back(tmp_path):
    """Each audit release 0.1.0 stored becomes a Submission with its own reference and stage."""
    conn = db.connect(release_ledger(tmp_path))
    rows = audits.audit_rows(conn)
    assert len(rows) == RELEASE_AUDITS
    for row in rows:
        sub = submission_from_dict(json.loads(row["data"]))
        assert (sub.audit_ref, sub.audit_stage) == (row["audit_ref"], Stage(row["stage"]))
        assert sub.sections and sub.overall_rating is not None
        assert sub.audit_date.isoformat() == row["audit_date"]
    assert {r["stage"] for r in rows} == {"Draft", "Final"}
    outcomes = audits.moderation_outcome_rows(conn)
    assert [(r["audit_ref"], r["rating"]) for r in outcomes] == [
        ("CSSW-2026-0157", "Requires improvement"),
        ("CSSW-2026-0163", "Good"),
    ]
    (resolution,) = audits.resolution_rows(conn)
    assert (resolution["audit_ref"], resolution["version"]) == ("CSSW-2026-0184", 1)
    conn.close()
