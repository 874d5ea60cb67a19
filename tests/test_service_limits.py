"""Bounded cost in real processes: an oversize, stuck or memory-hungry workbook is rejected.

Each test runs ``cssw-docs`` as a subprocess under a small wrapper that reports the largest
resident memory any process of the tree reached (``RUSAGE_CHILDREN``), while the test also
samples the tree's total from /proc. Time is never asserted: the service's own limits
(``validation.max_cells_per_sheet``, ``service.job_timeout_seconds``,
``service.worker_memory_mb``) are what must end each case, and the outcome is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from oversize_support import with_extra_sheet
from service_support import (
    env,
    example_bytes,
    example_ref,
    files_in,
    group_rss_mb,
    jobs,
    log_text,
)

pytestmark = pytest.mark.slow

_PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak))\n"
    "sys.exit(code)\n"
)
TEST_HOOKS = ("CSSW_DOCS_TEST_HANG_AT", "CSSW_DOCS_TEST_HOG_AT", "CSSW_DOCS_TEST_OOM_AT")


def _measured(tmp: Path, *args: str, **extra: str) -> tuple[int, str, float, float]:
    """Run ``cssw-docs ARGS`` in ``tmp``; return (exit code, output, largest MB, tree MB)."""
    (tmp / "intake").mkdir(exist_ok=True)
    environ = env(tmp, **extra)
    for hook in TEST_HOOKS:
        if hook not in extra:
            environ.pop(hook, None)
    peak_file = tmp / "peak.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", _PEAK, str(peak_file), sys.executable, "-m", "cssw_docs", *args],
        cwd=tmp,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    tree = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            tree[0] = max(tree[0], group_rss_mb(proc.pid))
            threading.Event().wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=300)  # a safety net only: the service must end it
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        sampler.join()
    largest = int(peak_file.read_text()) / 1024
    print(f"largest process {largest:.0f} MB, whole tree {tree[0]:.0f} MB")
    return proc.returncode, out, largest, tree[0]


@pytest.fixture(scope="module")
def oversize(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A valid audit workbook plus one sheet of 2.5 million tiny cells (70 MB of XML)."""
    path = tmp_path_factory.mktemp("oversize") / "big.xlsx"
    return with_extra_sheet(example_bytes("good"), path, 2_500_000).read_bytes()


def _words(path: Path) -> str:
    """Return the text of ``path`` with its line wrapping undone."""
    return " ".join(path.read_text("utf-8").split())


def _job(tmp: Path, ref: str | None = None) -> dict:
    rows = jobs(tmp)
    return next(j for j in rows if (ref is None or j["audit_ref"] == ref))


def test_validate_refuses_an_oversize_workbook_in_bounded_memory(
    tmp_path: Path, oversize: bytes
) -> None:
    """`cssw-docs validate` refuses the extra sheet at the cell limit, never holding it whole."""
    (tmp_path / "big.xlsx").write_bytes(oversize)
    code, out, largest, tree = _measured(
        tmp_path, "validate", "big.xlsx", CSSW_DOCS_VALIDATION__MAX_CELLS_PER_SHEET="50000"
    )
    assert code == 1, out
    assert "[unreadable.too_many_cells]" in out and "50,000" in out
    assert largest < 250 and tree < 300


def test_watcher_rejects_an_oversize_workbook_in_bounded_memory(
    tmp_path: Path, oversize: bytes
) -> None:
    """The watcher rejects the oversize workbook with a plain reason and makes the good pack."""
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "big.xlsx").write_bytes(oversize)
    (intake / "good.xlsx").write_bytes(example_bytes("good"))
    code, out, largest, tree = _measured(
        tmp_path, "watch", "--once", CSSW_DOCS_VALIDATION__MAX_CELLS_PER_SHEET="50000"
    )
    assert code == 0, out
    states = {
        j["source_name"]: (j["state"], json.loads(j["findings"] or "[]")) for j in jobs(tmp_path)
    }
    assert states == {
        "big.xlsx": ("rejected", ["unreadable.too_many_cells"]),
        "good.xlsx": ("processed", []),
    }
    (note,) = files_in(intake / "rejected", "* - problems.txt")
    assert "more cells than an audit workbook can have" in _words(note)
    assert largest < 300 and tree < 800


def test_a_stuck_job_is_stopped_at_the_time_limit_and_rejected(tmp_path: Path) -> None:
    """A job stalling past service.job_timeout_seconds: its worker is stopped, the workbook
    rejected to its auditor as too large to check, and the watcher carries on."""
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "stuck.xlsx").write_bytes(example_bytes("good"))
    (intake / "other.xlsx").write_bytes(example_bytes("invalid-incomplete"))
    code, out, _, _ = _measured(
        tmp_path,
        "watch",
        "--once",
        CSSW_DOCS_SERVICE__JOB_TIMEOUT_SECONDS="2",
        CSSW_DOCS_TEST_HANG_AT="after_validate",  # only a workbook that passes gets there
    )
    assert code == 0, out
    by_name = {j["source_name"]: j for j in jobs(tmp_path)}
    stuck, other = by_name["stuck.xlsx"], by_name["other.xlsx"]
    assert stuck["state"] == "rejected" and stuck["attempts"] == 0
    assert json.loads(stuck["findings"]) == ["unreadable.too_large_to_check"]
    assert other["state"] == "rejected" and "unreadable.too_large_to_check" not in other["findings"]
    note = next(p for p in files_in(intake / "rejected", "* - problems.txt")
                if p.name.startswith(stuck["job_id"]))  # fmt: skip
    assert "took longer than the 2 seconds" in _words(note)
    assert "stopping it" in log_text(tmp_path)
    mails = [p.read_text("utf-8") for p in files_in(tmp_path / "outbox" / "mail", "*.eml")]
    auditor = json.loads(stuck["data"])["auditor_email"]
    assert any(f"To: {auditor}" in m and "too large to check" in m for m in mails)
    assert files_in(intake / "failed") == []


def test_a_job_over_the_memory_limit_is_rejected_not_retried(tmp_path: Path) -> None:
    """A job needing more than service.worker_memory_mb fails at the limit and is rejected."""
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "hungry.xlsx").write_bytes(example_bytes("good"))
    code, out, largest, _ = _measured(
        tmp_path,
        "watch",
        "--once",
        CSSW_DOCS_SERVICE__WORKER_MEMORY_MB="600",
        CSSW_DOCS_TEST_HOG_AT="after_validate",  # tries to take 2 GB there
    )
    assert code == 0, out
    job = _job(tmp_path)
    assert (job["state"], job["attempts"]) == ("rejected", 0)
    assert json.loads(job["findings"]) == ["unreadable.too_large_to_check"]
    (note,) = files_in(intake / "rejected", "* - problems.txt")
    assert "needed more than the 600 MB of memory" in _words(note)
    assert largest < 700


def test_a_worker_killed_for_memory_is_replaced_and_its_job_rejected(tmp_path: Path) -> None:
    """A worker the system kills mid-job (as the OOM killer or MemoryMax does): its job is
    rejected as too large, the pool replaced, and the other workbook finished."""
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "killed.xlsx").write_bytes(example_bytes("good"))
    (intake / "other.xlsx").write_bytes(example_bytes("invalid-incomplete"))
    code, out, _, _ = _measured(tmp_path, "watch", "--once", CSSW_DOCS_TEST_OOM_AT="after_validate")
    assert code == 0, out
    by_name = {j["source_name"]: j for j in jobs(tmp_path)}
    assert by_name["killed.xlsx"]["state"] == "rejected"
    assert json.loads(by_name["killed.xlsx"]["findings"]) == ["unreadable.too_large_to_check"]
    other = by_name["other.xlsx"]
    assert other["state"] == "rejected" and other["attempts"] == 0  # innocent: not charged
    assert other["audit_ref"] == example_ref("invalid-incomplete")
    assert "starting a fresh pool" in log_text(tmp_path)
    assert files_in(intake / "failed") == []
