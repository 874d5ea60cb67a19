"""A burst of workbooks dropped at once all end where they should, in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service_support import (
    GOOD_REF,
    env,
    example_bytes,
    example_ref,
    group_rss_mb,
    jobs,
    packs,
    run_once,
    today,
    with_ref,
)

pytestmark = pytest.mark.slow
VALID = ["good", "requires-improvement", "draft", "disagree"]
INVALID = ["invalid-incomplete", "invalid-storyboard"]
KINDS = VALID + INVALID
BURST = 60  # ten of each kind: far more than the 2 jobs per worker the watcher keeps in hand
GROWTH = 1.5  # a burst may use at most this much more memory than one workbook of each kind


def fill_intake(intake: Path, n: int) -> tuple[set[str], set[str]]:
    """Drop ``n`` workbooks, the kinds in turn, each with its own reference; return the refs."""
    intake.mkdir(parents=True)
    valid: set[str] = set()
    invalid: set[str] = set()
    for i in range(n):
        name = KINDS[i % len(KINDS)]
        ref = f"CSSW-2099-{i:04}"
        data = with_ref(example_bytes(name), example_ref(name), ref)
        (intake / f"audit {i:03}.xlsx").write_bytes(data)
        (invalid if name in INVALID else valid).add(ref)
    return valid, invalid


def watch_once_measured(tmp: Path) -> tuple[int, str, str, float, float]:
    """Run ``watch --once`` with the default pool; return (exit, out, err, largest MB, group MB).

    The largest process is the kernel's exact peak for the watcher and every worker it
    reaped (``wait4``); the group figure is the watcher and its workers sampled together.
    """
    out_path, err_path = tmp / "stdout.txt", tmp / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cssw_docs", "watch", "--once"],
            cwd=tmp,
            env=env(tmp, CSSW_DOCS_SERVICE__WORKERS="0"),  # the default: one per core
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    group_peak = 0.0
    deadline = time.monotonic() + 600
    while True:
        group_peak = max(group_peak, group_rss_mb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        assert time.monotonic() < deadline, "watch --once did not finish in 10 minutes"
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    largest_mb = usage.ru_maxrss / 1024
    return (
        proc.returncode,
        out_path.read_text("utf-8"),
        err_path.read_text("utf-8"),
        largest_mb,
        group_peak,
    )


def test_a_burst_ends_in_the_right_folders_in_bounded_memory(tmp_path):
    """Mixed valid and invalid workbooks all end where they should; memory does not grow."""
    # The yardstick: one workbook of each kind through the same default pool.
    one_each = tmp_path / "one-each"
    fill_intake(one_each / "intake", len(KINDS))
    code, _, err, ref_largest, ref_group = watch_once_measured(one_each)
    assert code == 0, err

    intake = tmp_path / "burst" / "intake"
    expected_valid, expected_invalid = fill_intake(intake, BURST)
    code, out, err, largest_mb, group_mb = watch_once_measured(tmp_path / "burst")
    assert code == 0, err
    assert "left in the intake folder" not in out and "temporary problem" not in out
    assert "Traceback" not in err
    assert out.startswith(f"{len(expected_valid)} pack(s) made, {len(expected_invalid)} workbook")

    made = {p.split("/")[0] for p in packs(intake.parent / "outbox")}
    assert made == expected_valid
    rejected = intake / "rejected" / today()
    assert {p.name.split(" - ")[0] for p in rejected.glob("* - problems.txt")} == expected_invalid
    processed = intake / "processed" / today()
    n_processed = len(list(processed.glob("audit *.xlsx")))
    n_rejected = len(list(rejected.glob("audit *.xlsx")))
    assert (n_processed, n_rejected) == (len(expected_valid), len(expected_invalid))
    assert [p.name for p in (intake / ".work").iterdir()] == [".lock"]
    states = [j["state"] for j in jobs(intake.parent)]
    assert states.count("processed") == 40 and states.count("rejected") == 20
    assert GOOD_REF not in made  # every copy really carried its own reference

    # Ten times the work in the same pool: a leak in a worker or the watcher, or a pool that
    # grows with the queue, shows as growth over the one-of-each run. Measured on 2 cores:
    # largest process 63 MB both times, the group 171 MB then 187 MB.
    print(
        f"peak: largest process {ref_largest:.0f} -> {largest_mb:.0f} MB, "
        f"all together {ref_group:.0f} -> {group_mb:.0f} MB"
    )
    assert largest_mb < GROWTH * ref_largest, (
        f"one process peaked at {largest_mb:.0f} MB against {ref_largest:.0f} MB for one of each"
    )
    assert group_mb < GROWTH * ref_group, (
        f"the watcher and its workers peaked at {group_mb:.0f} MB together "
        f"against {ref_group:.0f} MB for one of each"
    )


@pytest.mark.slow
def test_workers_are_replaced_after_their_jobs_and_nothing_is_lost(tmp_path):
    """With a worker replaced after every 2 jobs, 7 workbooks still make 7 packs, once each."""
    intake = tmp_path / "intake"
    intake.mkdir()
    data = example_bytes("good")
    for i in range(7):
        (intake / f"w{i}.xlsx").write_bytes(with_ref(data, GOOD_REF, f"CSSW-2026-{9100 + i}"))
    result = run_once(tmp_path, CSSW_DOCS_SERVICE__WORKER_MAX_JOBS="2")
    assert result.returncode == 0, result.stderr
    assert len(packs(tmp_path / "outbox")) == 7
    assert sorted(j["state"] for j in jobs(tmp_path)) == ["processed"] * 7
