"""Each job step repeats safely: SIGKILL anywhere, restart, and every pack exists exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cssw_docs import pipeline
from cssw_docs.service import worker
from service_support import (
    GOOD_REF,
    drop,
    example_bytes,
    example_ref,
    jobs,
    packs,
    run_once,
    today,
)

BAD = "invalid-incomplete"


def drop_pair(tmp: Path) -> None:
    """Drop one valid and one invalid workbook."""
    (tmp / "intake").mkdir(exist_ok=True)
    drop(tmp / "intake", "good.xlsx", example_bytes("good"))
    drop(tmp / "intake", "bad.xlsx", example_bytes(BAD))


def mail_ids(tmp: Path) -> list[tuple[str, str]]:
    """Return (route, state) of every queued message."""
    conn = sqlite3.connect(tmp / "state" / "ledger.sqlite3")
    try:
        return sorted(conn.execute("SELECT route, state FROM mail_outbox"))
    finally:
        conn.close()


def end_state(tmp: Path) -> dict:
    """Return everything that must match a run that was never interrupted."""
    intake = tmp / "intake"
    work = intake / ".work"
    return {
        "packs": packs(tmp / "outbox"),
        "processed": sorted(p.name for p in (intake / "processed").rglob("*") if p.is_file()),
        "rejected": sorted(p.name for p in (intake / "rejected").rglob("*") if p.is_file()),
        "work": sorted(p.name for p in work.iterdir() if p.name != ".lock"),
        "jobs": sorted(j["state"] for j in jobs(tmp)),
        "mail": mail_ids(tmp),
        "eml": len(list((tmp / "outbox" / "mail").rglob("*.eml"))),
    }


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> dict:
    """The end state of an uninterrupted run over the same two workbooks."""
    tmp = tmp_path_factory.mktemp("clean")
    drop_pair(tmp)
    assert run_once(tmp, "--workers", "1").returncode == 0
    return end_state(tmp)


@pytest.mark.slow
def test_clean_run_is_what_we_expect(clean_run):
    """Without a crash: one pack, one rejection with its two files, nothing left in .work."""
    assert clean_run["packs"] == [f"{GOOD_REF}/final-v1"]
    assert clean_run["processed"] == ["good.xlsx"]
    ref = example_ref(BAD)
    assert clean_run["rejected"] == [f"{ref} - marked.xlsx", f"{ref} - problems.txt", "bad.xlsx"]
    assert clean_run["work"] == [] and clean_run["jobs"] == ["processed", "rejected"]
    assert clean_run["eml"] == len(clean_run["mail"]) > 0


POINTS = [
    "after_claim",
    "after_validate",
    "after_render",
    "after_compose",
    "after_deliver",
    "before_move",
    "after_move",
    "after_reject_files",
    "after_notify",
    "after_mail_files",
]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_sigkill_then_restart_loses_nothing_and_repeats_nothing(tmp_path, clean_run, point):
    """Killed with SIGKILL at ``point``, the next run finishes the job as if nothing happened."""
    drop_pair(tmp_path)
    crashed = run_once(tmp_path, "--workers", "1", CSSW_DOCS_TEST_CRASH_AT=point)
    assert crashed.returncode == -9, crashed.stderr  # killed, not a clean exit
    assert "intake service stopped" not in crashed.stderr
    again = run_once(tmp_path, "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert end_state(tmp_path) == clean_run


@pytest.mark.slow
def test_same_workbook_twice_gives_one_pack(tmp_path):
    """The same bytes dropped again, at once or later, are set aside as duplicates."""
    data = example_bytes("good")
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "a.xlsx", data)
    drop(tmp_path / "intake", "b.xlsx", data)  # same bytes, same run
    assert run_once(tmp_path).returncode == 0
    drop(tmp_path / "intake", "a.xlsx", data)  # same bytes and name, a later run
    result = run_once(tmp_path)
    assert result.returncode == 0
    assert packs(tmp_path / "outbox") == [f"{GOOD_REF}/final-v1"]
    intake = tmp_path / "intake"
    assert [p.name for p in (intake / "processed" / today()).iterdir()] == ["a.xlsx"]
    duplicates = sorted(p.name for p in (intake / "duplicates" / today()).iterdir())
    assert duplicates == ["a.xlsx", "b.xlsx"]
    assert sorted(j["state"] for j in jobs(tmp_path)) == ["duplicate", "duplicate", "processed"]
    assert "same content as an earlier job" in result.stderr


@pytest.mark.slow
def test_revised_workbook_with_the_same_reference_is_a_new_version(tmp_path, the_rubric):
    """New content under the same reference gives version 2, recorded in the audits table."""
    from cssw_docs import examples
    from cssw_docs.workbook.generate import write_submission

    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "audit.xlsx", example_bytes("good"))
    assert run_once(tmp_path).returncode == 0
    revised = examples.variant(
        examples.good(the_rubric), overall_summary="Revised after the practitioner's feedback."
    )
    write_submission(revised, tmp_path / "intake" / "audit.xlsx", the_rubric)
    assert run_once(tmp_path).returncode == 0
    assert packs(tmp_path / "outbox") == [f"{GOOD_REF}/final-v1", f"{GOOD_REF}/final-v2"]
    conn = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")
    rows = sorted(conn.execute("SELECT audit_ref, stage, version FROM audits"))
    conn.close()
    assert rows == [(GOOD_REF, "Final", 1), (GOOD_REF, "Final", 2)]
    processed = tmp_path / "intake" / "processed" / today()
    assert sorted(p.name for p in processed.iterdir()) == ["audit (2).xlsx", "audit.xlsx"]


@pytest.mark.parametrize(
    ("ref", "taken", "expected"),
    [
        ("CSSW-2026-0142", False, "CSSW-2026-0142"),
        ("CSSW-2026-0142", True, "CSSW-2026-0142 JOB"),
        ("", False, "JOB"),
        ("Amara Okafor", False, "JOB"),
        ("../../etc", False, "JOB"),
        ("x" * 60, False, "JOB"),
    ],
)
def test_rejection_files_are_named_by_reference_or_job(tmp_path, ref, taken, expected):
    """Rejection files carry the reference when it is safe and free, else the job id."""
    if taken:
        (tmp_path / f"{ref} - problems.txt").write_text("earlier")
    assert pipeline.rejection_stem(ref, "JOB", tmp_path) == expected


def test_errors_are_described_without_the_workbook_name():
    """An error line keeps the reason and hides the auditor's file name."""
    exc = PermissionError(13, "Permission denied", "/srv/intake/.work/j/Amara Okafor audit.xlsx")
    text = worker.describe_error(exc, ("Amara Okafor audit.xlsx",))
    assert text == "PermissionError: Permission denied (/srv/intake/.work/j/<workbook>)"
    try:
        raise ValueError("cell C5 says Amara Okafor")
    except ValueError as err:
        text = worker.describe_error(err)
    assert text.startswith("ValueError in test_service_worker.py:") and "Amara" not in text
