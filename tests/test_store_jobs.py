"""The jobs table: the claim order, unfinished jobs, and a release 0.1.0 ledger's jobs."""

from __future__ import annotations

import collections
import json

import pytest

from cssw_docs.models import DocKind, JobState, pack_from_dict, submission_from_dict
from cssw_docs.store import db, jobs
from store_support import RELEASE_JOBS, release_ledger


def add(conn, job_id: str, sha: str, state: JobState = JobState.CLAIMED) -> None:
    jobs.insert_job(conn, job_id, source_name="x.xlsx", work_name="x", size=1, sha256=sha)
    if state is not JobState.CLAIMED:
        jobs.update_job(conn, job_id, state=state)


def test_duplicates_are_judged_by_claim_order(tmp_path):
    """Only a job claimed earlier with the same bytes makes a job a duplicate."""
    conn = db.open_ledger(tmp_path)
    add(conn, "z-first", "same")
    add(conn, "a-second", "same")
    add(conn, "failed", "other", JobState.FAILED)
    add(conn, "retry", "other")
    assert jobs.earlier_job_with_content(conn, "same", "z-first") is None
    assert jobs.earlier_job_with_content(conn, "same", "a-second")["job_id"] == "z-first"
    assert jobs.earlier_job_with_content(conn, "other", "retry") is None  # a failure does not count


def test_unfinished_jobs_exclude_terminal_states(tmp_path):
    """Jobs still to finish are listed oldest first; processed, rejected etc. are not."""
    conn = db.open_ledger(tmp_path)
    for job_id, state in [
        ("1", JobState.RENDERED),
        ("2", JobState.PROCESSED),
        ("3", JobState.CLAIMED),
        ("4", JobState.REJECTED),
        ("5", JobState.NOTIFIED),
    ]:
        add(conn, job_id, job_id, state)
    assert [r["job_id"] for r in jobs.unfinished_jobs(conn)] == ["1", "3", "5"]


def test_terminal_states_are_the_ones_that_end_a_job():
    """TERMINAL is exactly the job states whose ``terminal`` is true."""
    assert set(jobs.TERMINAL) == {
        JobState.PROCESSED,
        JobState.REJECTED,
        JobState.DUPLICATE,
        JobState.FAILED,
    }


def test_update_job_refuses_an_unknown_column(tmp_path):
    """A misspelt column is an error, not a silent no-op."""
    conn = db.open_ledger(tmp_path)
    add(conn, "j", "s")
    with pytest.raises(ValueError, match="unknown job columns"):
        jobs.update_job(conn, "j", stat="processed")


def test_finished_and_failed_jobs_for_the_status(tmp_path):
    """The status lists finished jobs newest first and the failed ones apart."""
    conn = db.open_ledger(tmp_path)
    for n, state in enumerate([JobState.PROCESSED, JobState.FAILED, JobState.CLAIMED]):
        add(conn, f"j{n}", f"s{n}", state)
        if state.terminal:
            jobs.update_job(conn, f"j{n}", finished_at=f"2026-10-1{n}T09:00:00+00:00")
    assert [r["job_id"] for r in jobs.finished_jobs(conn, 10)] == ["j1", "j0"]
    assert [r["job_id"] for r in jobs.jobs_in_state(conn, JobState.FAILED, 10)] == ["j1"]


def test_release_ledger_jobs_read_back(tmp_path):
    """Every job of a release 0.1.0 ledger is finished, in a known state, its pack readable."""
    conn = db.connect(release_ledger(tmp_path))
    rows = jobs.finished_jobs(conn, 100)
    assert collections.Counter(r["state"] for r in rows) == RELEASE_JOBS
    assert all(JobState(r["state"]).terminal for r in rows)
    assert jobs.unfinished_jobs(conn) == []
    for row in rows:
        if row["state"] == JobState.PROCESSED:
            pack = pack_from_dict(json.loads(row["pack"]))
            assert (pack.audit_ref, pack.version) == (row["audit_ref"], row["version"])
            assert {DocKind.REPORT, DocKind.PLAN} <= {f.kind for f in pack.files}
            assert submission_from_dict(json.loads(row["data"])).audit_ref == row["audit_ref"]
    (dup,) = jobs.jobs_in_state(conn, JobState.DUPLICATE, 10)
    assert jobs.earlier_job_with_content(conn, dup["sha256"], dup["job_id"]) is not None
    conn.close()
