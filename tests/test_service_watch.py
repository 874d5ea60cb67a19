"""The running watcher (a real subprocess): slow writers, broken and locked files, retries."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from cssw_docs import config, rubric
from cssw_docs.service import watch
from service_support import (
    GOOD_REF,
    drop,
    example_bytes,
    finished,
    jobs,
    log_text,
    manifest_sha,
    packs,
    run_once,
    start,
    stop,
    today,
    wait_for,
    with_ref,
)

pytestmark = pytest.mark.slow


def started(tmp: Path) -> bool:
    return "intake service started" in log_text(tmp)


def test_slow_writer_gives_one_pack_after_the_last_byte(tmp_path):
    """A workbook written in chunks over seconds is left alone until complete, then packed once."""
    data = example_bytes("good")
    proc = start(tmp_path, CSSW_DOCS_SERVICE__BROKEN_AFTER_SECONDS="10")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        target = tmp_path / "intake" / "slow.xlsx"
        chunks = [
            data[i : i + len(data) // 12 + 1] for i in range(0, len(data), len(data) // 12 + 1)
        ]
        written = 0
        for chunk in chunks:
            # Still in place with exactly what we wrote: the watcher has not touched it.
            assert written == 0 or target.stat().st_size == written
            assert jobs(tmp_path) == []
            with target.open("ab") as fh:
                fh.write(chunk)
            written += len(chunk)
            time.sleep(0.3)  # longer than the settle interval: only the zip check holds it
        wait_for(lambda: finished(tmp_path, 1), "the workbook to be processed")
        assert packs(tmp_path / "outbox") == [f"{GOOD_REF}/final-v1"]
        pack = tmp_path / "outbox" / GOOD_REF / "final-v1"
        assert manifest_sha(pack) == hashlib.sha256(data).hexdigest()
        assert (tmp_path / "intake" / "processed" / today() / "slow.xlsx").read_bytes() == data
        assert [j["state"] for j in jobs(tmp_path)] == ["processed"]
    finally:
        assert stop(proc) == 0


def test_truncated_and_zero_filled_wait_then_are_rejected_and_kept(tmp_path):
    """A cut-short or zero-filled .xlsx waits, then is rejected with a plain reason and kept."""
    data = example_bytes("good")
    proc = start(tmp_path, CSSW_DOCS_SERVICE__BROKEN_AFTER_SECONDS="2")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(tmp_path / "intake", "cut.xlsx", data[: len(data) * 2 // 3])
        drop(tmp_path / "intake", "zeros.xlsx", b"\0" * len(data))
        wait_for(lambda: finished(tmp_path, 2), "the broken files to be rejected")
    finally:
        assert stop(proc) == 0
    # They were held first (said in the log before any job was claimed), not rejected at once;
    # how many the line counts depends on how the scans fell, so only the words are checked.
    log = log_text(tmp_path)
    held = log.find("workbook(s) waiting: not a complete workbook yet")
    assert held != -1 and held < log.find("job "), log
    rejected = tmp_path / "intake" / "rejected" / today()
    assert (rejected / "cut.xlsx").read_bytes() == data[: len(data) * 2 // 3]
    assert (rejected / "zeros.xlsx").read_bytes() == b"\0" * len(data)
    texts = sorted(p.read_text("utf-8") for p in rejected.glob("* - problems.txt"))
    assert len(texts) == 2
    assert any("only partly copied" in t for t in texts)
    assert any("not an Excel workbook" in t for t in texts)
    assert packs(tmp_path / "outbox") == []
    assert sorted(j["state"] for j in jobs(tmp_path)) == ["rejected", "rejected"]


def test_lock_files_hold_workbooks_and_are_never_processed(tmp_path):
    """An owner/lock file holds its workbook until removed or orphaned; lock and temp files stay."""
    intake = tmp_path / "intake"
    intake.mkdir()
    base = example_bytes("good")
    (intake / "~$excel.xlsx").write_bytes(b"owner")
    (intake / ".~lock.calc.xlsx#").write_text("someone,host,2026")
    leftovers = ["~WRL0001.tmp", "A1B2C3D4", "Thumbs.db", "desktop.ini", "notes.txt"]
    for name in leftovers:
        (intake / name).write_bytes(b"x")
    drop(intake, "excel.xlsx", with_ref(base, GOOD_REF, "CSSW-2026-7001"))
    drop(intake, "calc.xlsx", with_ref(base, GOOD_REF, "CSSW-2026-7002"))
    proc = start(tmp_path)
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(intake, "free.xlsx", with_ref(base, GOOD_REF, "CSSW-2026-7003"))
        wait_for(lambda: finished(tmp_path, 1), "the unlocked workbook")
        wait_for(lambda: "2 workbook(s) waiting: open in Excel" in log_text(tmp_path), "locks")
        assert (intake / "excel.xlsx").exists() and (intake / "calc.xlsx").exists()
        assert len(jobs(tmp_path)) == 1
        (intake / "~$excel.xlsx").unlink()  # Excel closed the workbook
        wait_for(lambda: finished(tmp_path, 2), "the workbook Excel released")
        assert (intake / "calc.xlsx").exists()
        old = time.time() - 241 * 60  # a lock left by a crash, older than lock_timeout_minutes
        os.utime(intake / ".~lock.calc.xlsx#", (old, old))
        wait_for(lambda: finished(tmp_path, 3), "the workbook with an orphaned lock")
    finally:
        assert stop(proc) == 0
    assert packs(tmp_path / "outbox") == [
        "CSSW-2026-7001/final-v1",
        "CSSW-2026-7002/final-v1",
        "CSSW-2026-7003/final-v1",
    ]
    assert sorted(p.name for p in intake.iterdir() if p.is_file()) == sorted(
        [".~lock.calc.xlsx#", *leftovers]
    )
    assert len(jobs(tmp_path)) == 3


def test_unwritable_outbox_is_retried_and_the_service_carries_on(tmp_path):
    """With the outbox unusable a valid workbook is retried (not rejected) while others go on."""
    outbox = tmp_path / "outbox"
    outbox.write_text("the share is not mounted")  # a file where the folder should be
    proc = start(tmp_path, CSSW_DOCS_SERVICE__MAX_ATTEMPTS="100")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
        wait_for(lambda: any(j["attempts"] >= 2 for j in jobs(tmp_path)), "a second failed attempt")
        assert (tmp_path / "intake" / ".work").exists()
        (job,) = jobs(tmp_path)
        assert job["state"] == "validated" and job["last_error"]
        # The service is still working: an invalid workbook is rejected meanwhile.
        drop(tmp_path / "intake", "bad.xlsx", example_bytes("invalid-incomplete"))
        wait_for(lambda: finished(tmp_path, 1), "the invalid workbook to be rejected")
        assert proc.poll() is None
        outbox.unlink()
        outbox.mkdir()  # the share is back
        wait_for(lambda: finished(tmp_path, 2), "the retried workbook")
    finally:
        assert stop(proc) == 0
    assert packs(outbox) == [f"{GOOD_REF}/final-v1"]
    assert sorted(j["state"] for j in jobs(tmp_path)) == ["processed", "rejected"]
    assert "attempt 1 of 100 failed" in log_text(tmp_path)
    assert not (tmp_path / "intake" / "rejected" / today() / "good.xlsx").exists()


def test_a_file_that_keeps_failing_is_parked_with_its_error(tmp_path):
    """After max_attempts the workbook is parked in intake/failed/ beside an error note."""
    outbox = tmp_path / "outbox"
    outbox.write_text("the share is not mounted")
    proc = start(tmp_path, CSSW_DOCS_SERVICE__MAX_ATTEMPTS="2")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
        wait_for(lambda: finished(tmp_path, 1), "the workbook to be parked")
        assert proc.poll() is None
    finally:
        assert stop(proc) == 0
    failed = tmp_path / "intake" / "failed" / today()
    (job,) = jobs(tmp_path)
    assert job["state"] == "failed" and job["attempts"] == 2
    assert (failed / "good.xlsx").read_bytes() == example_bytes("good")
    note = (failed / f"{job['job_id']} - error.txt").read_text("utf-8")
    assert "after 2 attempts" in note and "move the workbook back" in note


def test_polling_mode_picks_files_up_without_events(tmp_path):
    """With --polling and no periodic rescan for an hour, the polling observer alone finds files."""
    proc = start(tmp_path, "--polling", CSSW_DOCS_SERVICE__RESCAN_SECONDS="3600")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        assert "started (polling)" in log_text(tmp_path)
        drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
        wait_for(lambda: finished(tmp_path, 1), "the polled workbook")
    finally:
        assert stop(proc) == 0
    assert packs(tmp_path / "outbox") == [f"{GOOD_REF}/final-v1"]


def test_two_instances_never_share_an_intake(tmp_path):
    """A second watcher on the same folders refuses plainly; a second --once just says so."""
    proc = start(tmp_path)
    try:
        wait_for(lambda: started(tmp_path), "the first watcher to start")
        second = start(tmp_path, log_name="second.log")
        assert second.wait(timeout=60) == 1
        text = (tmp_path / "second.log").read_text()
        assert "Another cssw-docs watcher is already running" in text
        assert "Traceback" not in text
        # Another state folder but the same intake: still refused.
        other = start(
            tmp_path,
            "--once",
            log_name="other.log",
            CSSW_DOCS_SERVICE__STATE_DIR=str(tmp_path / "state2"),
        )
        assert other.wait(timeout=60) == 0
        assert "Nothing to do" in (tmp_path / "other.log").read_text()
        drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
        wait_for(lambda: finished(tmp_path, 1), "the first watcher to process the workbook")
    finally:
        assert stop(proc) == 0
    assert packs(tmp_path / "outbox") == [f"{GOOD_REF}/final-v1"]


def test_a_dead_observer_is_restarted(tmp_path):
    """If the folder watcher thread dies it is restarted and logged, and files still arrive."""
    settings = config.load(environ={}).with_changes(
        **{
            "service.intake": tmp_path / "intake",
            "service.outbox": tmp_path / "outbox",
            "service.state_dir": tmp_path / "state",
            "service.settle_seconds": 0.2,
            "service.rescan_seconds": 3600,
            "service.workers": 1,
            "render.storyboard_pdf": False,
        }
    )
    watcher = watch.Watcher(settings, rubric.load())
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        wait_for(lambda: watcher.observer is not None and watcher.observer.is_alive(), "observer")
        first = watcher.observer
        first.stop()
        wait_for(lambda: watcher.observer_restarts == 1, "the observer to be restarted")
        wait_for(lambda: watcher.observer is not first and watcher.observer.is_alive(), "new one")
        drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
        wait_for(lambda: finished(tmp_path, 1), "the workbook seen by the new observer")
    finally:
        watcher.request_stop()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert "the folder watcher stopped; restarting it" in log_text(tmp_path)


def test_sigterm_finishes_jobs_in_hand_and_the_rest_resume(tmp_path):
    """SIGTERM mid-burst: running jobs finish, the rest wait in .work and finish next run."""
    base = example_bytes("good")
    proc = start(tmp_path, CSSW_DOCS_SERVICE__WORKERS="1")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        for i in range(8):
            drop(tmp_path / "intake", f"a{i}.xlsx", with_ref(base, GOOD_REF, f"CSSW-2026-80{i:02}"))
        wait_for(lambda: finished(tmp_path, 1), "the first workbook")
    finally:
        assert stop(proc) == 0
    states = [j["state"] for j in jobs(tmp_path)]
    # Everything is either finished or not yet started: nothing was left half-done.
    assert set(states) <= {"processed", "claimed"}
    assert "intake service stopped" in log_text(tmp_path)
    assert run_once(tmp_path).returncode == 0
    assert len(packs(tmp_path / "outbox")) == 8
    assert [j["state"] for j in jobs(tmp_path)] == ["processed"] * 8


@pytest.mark.parametrize("polling", [False, True])
def test_after_a_claim_the_loop_looks_itself_while_watchdog_holds_events(tmp_path, polling):
    """watchdog holds the "moved from" of our own claim (and events behind it) for half a
    second: for that long the loop rescans on its own, so a drop right after is not late."""
    settings = config.load(environ={}).with_changes(
        **{
            "service.intake": tmp_path / "intake",
            "service.outbox": tmp_path / "outbox",
            "service.state_dir": tmp_path / "state",
            "service.rescan_seconds": 3600,
            "service.polling": polling,
        }
    )
    watcher = watch.Watcher(settings, rubric.load())
    watcher.observer = object()  # watching (its events only wake the loop)
    assert not watcher._events_held(time.monotonic())  # nothing claimed yet
    watcher._claimed_at = claimed = time.monotonic()
    held = watcher._events_held(claimed + watch.EVENT_HOLD_SECONDS / 2)
    assert held is not polling  # a polling observer holds nothing back
    if not polling:  # (a claim dated ahead, so that no pause of this test can outlast it)
        watcher._claimed_at = time.monotonic() + 60
        assert watcher._wait_time(time.monotonic() + 3600) <= watch.CLAIM_LOOK_EVERY
        watcher._claimed_at = claimed
    assert not watcher._events_held(claimed + watch.EVENT_HOLD_SECONDS + 0.01)


def _pool_threads() -> list[threading.Thread]:
    """The live threads that run a worker pool's bookkeeping inside this process."""
    from concurrent.futures import process

    return [t for t in threading.enumerate() if isinstance(t, process._ExecutorManagerThread)]


def test_the_pool_is_wound_up_before_the_watcher_returns(tmp_path):
    """No pool thread outlives ``run()``.

    Python's own exit handler wakes any pool thread still running and can race it closing
    its pipe; that race printed "OSError: Bad file descriptor" with a traceback after
    "intake service stopped". Waiting for the thread inside ``run()`` leaves nothing to race.
    """
    assert _pool_threads() == []
    (tmp_path / "intake").mkdir()
    drop(tmp_path / "intake", "good.xlsx", example_bytes("good"))
    settings = config.load(environ={}).with_changes(
        **{
            "service.intake": tmp_path / "intake",
            "service.outbox": tmp_path / "outbox",
            "service.state_dir": tmp_path / "state",
            "service.settle_seconds": 0.2,
            "service.workers": 1,
            "render.storyboard_pdf": False,
        }
    )
    summary = watch.Watcher(settings, rubric.load(), once=True).run()
    assert _pool_threads() == []
    assert [o.kind for o in summary.outcomes] == ["processed"]
