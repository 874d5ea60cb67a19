"""300 workbooks dropped at once all end in processed/ or rejected/ correctly, in bounded memory."""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from service_support import (
    GOOD_REF,
    env,
    example_bytes,
    example_ref,
    jobs,
    packs,
    run_once,
    with_ref,
)

pytestmark = pytest.mark.slow
TODAY = dt.date.today().isoformat()
VALID = ["good", "requires-improvement", "draft", "disagree"]
INVALID = ["invalid-incomplete", "invalid-storyboard"]


def group_rss_mb(pgid: int) -> float:
    """Return the summed resident memory (MB) of every process in the process group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def test_three_hundred_at_once(tmp_path):
    """Mixed valid and invalid workbooks: every one ends where it should, memory stays bounded."""
    intake = tmp_path / "intake"
    intake.mkdir()
    expected_valid: set[str] = set()
    expected_invalid: set[str] = set()
    for i in range(300):
        name = (VALID + INVALID)[i % 6]
        ref = f"CSSW-2099-{i:04}"
        data = with_ref(example_bytes(name), example_ref(name), ref)
        (intake / f"audit {i:03}.xlsx").write_bytes(data)
        (expected_invalid if name in INVALID else expected_valid).add(ref)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cssw_docs", "watch", "--once"],
        cwd=tmp_path,
        env=env(tmp_path, CSSW_DOCS_SERVICE__WORKERS="0"),  # the default: one per core
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], group_rss_mb(proc.pid))
            threading.Event().wait(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate(timeout=600)
    sampler.join()
    assert proc.returncode == 0, err
    assert "300 workbook" not in out and "Traceback" not in err
    assert out.startswith(f"{len(expected_valid)} pack(s) made, {len(expected_invalid)} workbook")

    made = {p.split("/")[0] for p in packs(tmp_path / "outbox")}
    assert made == expected_valid
    rejected = intake / "rejected" / TODAY
    assert {p.name.split(" - ")[0] for p in rejected.glob("* - problems.txt")} == expected_invalid
    processed = intake / "processed" / TODAY
    n_processed = len(list(processed.glob("audit *.xlsx")))
    n_rejected = len(list(rejected.glob("audit *.xlsx")))
    assert (n_processed, n_rejected) == (len(expected_valid), len(expected_invalid))
    assert [p.name for p in (intake / ".work").iterdir()] == [".lock"]
    states = [j["state"] for j in jobs(tmp_path)]
    assert states.count("processed") == 200 and states.count("rejected") == 100
    assert GOOD_REF not in made  # every copy really carried its own reference

    largest_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak: largest process {largest_mb:.0f} MB, all together {peak[0]:.0f} MB")
    assert largest_mb < 600, f"one process peaked at {largest_mb:.0f} MB"
    assert peak[0] < 1500, f"the watcher and its workers peaked at {peak[0]:.0f} MB together"


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
