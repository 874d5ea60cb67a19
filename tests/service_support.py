"""Helpers shared by the service tests: workbooks, a watcher subprocess, bounded waits."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from cssw_docs import examples, rubric
from workbook_support import example_bytes as example_bytes  # re-exported for the service tests

GOOD_REF = "CSSW-2026-0142"

# Short intervals keep the tests quick; the behaviour is the same as with the defaults.
FAST = {
    "CSSW_DOCS_SERVICE__SETTLE_SECONDS": "0.2",
    "CSSW_DOCS_SERVICE__RESCAN_SECONDS": "0.5",
    "CSSW_DOCS_SERVICE__BROKEN_AFTER_SECONDS": "1.0",
    "CSSW_DOCS_SERVICE__RETRY_BASE_SECONDS": "0.2",
    "CSSW_DOCS_SERVICE__RETRY_MAX_SECONDS": "1.0",
    "CSSW_DOCS_SERVICE__SEND_SECONDS": "0.5",
    "CSSW_DOCS_SERVICE__WORKERS": "2",
    "CSSW_DOCS_RENDER__STORYBOARD_PDF": "false",
    "CSSW_DOCS_RENDER__PDF": "false",
    **{
        # The daily reminders depend on the day the suite runs (the digest goes on Mondays
        # after service.daily_at): off, so a watcher test sends the same emails any day. The
        # tests of the audit year turn them on (REMINDERS_ON) and set their own clock.
        f"CSSW_DOCS_REMINDERS__{kind}": "false"
        for kind in ("ISSUE_WORKBOOKS", "FEEDBACK", "REFERRAL", "DIGEST", "NOT_STARTED")
    },
}
REMINDERS_ON = {key: "true" for key in FAST if key.startswith("CSSW_DOCS_REMINDERS__")}


def example_ref(name: str) -> str:
    """Return the audit reference of the named example."""
    return examples.example(name, rubric.load()).audit_ref


def with_ref(data: bytes, old: str, new: str) -> bytes:
    """Return a copy of workbook ``data`` whose audit reference ``old`` reads ``new``."""
    assert len(old) == len(new)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info).replace(old.encode(), new.encode())
            dst.writestr(info, body)
    return out.getvalue()


def drop(folder: Path, name: str, data: bytes) -> Path:
    """Save a workbook the way a careful copy does: write elsewhere, then rename in."""
    tmp = folder.parent / f".incoming-{name}"
    tmp.write_bytes(data)
    target = folder / name
    os.replace(tmp, target)
    return target


def env(tmp: Path, **extra: str) -> dict[str, str]:
    """Return the environment for a watcher on ``tmp/intake``, ``tmp/outbox``, ``tmp/state``."""
    out = dict(os.environ)
    out.pop("CSSW_DOCS_TEST_CRASH_AT", None)
    out.update(FAST)
    out.update(
        {
            "CSSW_DOCS_SERVICE__INTAKE": str(tmp / "intake"),
            "CSSW_DOCS_SERVICE__OUTBOX": str(tmp / "outbox"),
            "CSSW_DOCS_SERVICE__STATE_DIR": str(tmp / "state"),
        }
    )
    out.update(extra)
    return out


def start(tmp: Path, *args: str, log_name: str = "watcher.log", **extra: str) -> subprocess.Popen:
    """Start ``python -m cssw_docs watch ARGS`` in its own process group."""
    (tmp / "intake").mkdir(exist_ok=True)
    with (tmp / log_name).open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cssw_docs", "watch", *args],
            cwd=tmp,
            env=env(tmp, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_once(
    tmp: Path, *args: str, timeout: float = 180, **extra: str
) -> subprocess.CompletedProcess:
    """Run ``watch --once`` to the end and return the finished process."""
    (tmp / "intake").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "cssw_docs", "watch", "--once", *args],
        cwd=tmp,
        env=env(tmp, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM the watcher, wait for it, and return its exit code (kill the group if stuck)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    return proc.returncode


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the watcher and its workers, as a power cut or the OOM killer would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for(check: Callable[[], object], what: str, timeout: float = 90.0) -> object:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def today() -> str:
    """Return today's date as the watcher names its dated folders (``YYYY-MM-DD``).

    Call it when the test checks a folder, never at import: a suite that starts before
    midnight would otherwise look in yesterday's folder.
    """
    return dt.date.today().isoformat()


def files_in(folder: Path, pattern: str = "*.xlsx") -> list[Path]:
    """Return the files matching ``pattern`` anywhere under ``folder`` (sorted)."""
    return sorted(folder.rglob(pattern)) if folder.exists() else []


def packs(outbox: Path) -> list[str]:
    """Return the pack folders as ``REF/stage-vN`` (sorted)."""
    if not outbox.exists():
        return []
    return sorted(
        f"{d.parent.name}/{d.name}"
        for d in outbox.glob("*/*-v*")
        if d.is_dir() and not d.name.startswith(".")
    )


def jobs(tmp: Path) -> list[dict]:
    """Return every job row in the ledger, in the order the jobs were claimed."""
    db = tmp / "state" / "ledger.sqlite3"
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY rowid")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def audits(tmp: Path) -> list[tuple[str, str, int]]:
    """Return the ``audits`` rows as (ref, stage, version)."""
    conn = sqlite3.connect(tmp / "state" / "ledger.sqlite3", timeout=30)
    try:
        return sorted(conn.execute("SELECT audit_ref, stage, version FROM audits"))
    finally:
        conn.close()


def finished(tmp: Path, n: int) -> bool:
    """Return True when ``n`` jobs have ended (processed, rejected, duplicate or failed)."""
    return sum(1 for j in jobs(tmp) if j["finished_at"]) >= n


def log_text(tmp: Path) -> str:
    """Return the service's own log file."""
    path = tmp / "state" / "service.log"
    return path.read_text("utf-8") if path.exists() else ""


def manifest_sha(pack_dir: Path) -> str:
    """Return the source SHA-256 a pack records."""
    return json.loads((pack_dir / "manifest.json").read_text("utf-8")).get("source_sha256", "")


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
