"""A worker process: runs one job's pipeline steps and reports what happened, never raising.

The steps themselves, and the ledger records that make them safe to repeat, are in
``pipeline.py``; this module adds what a process needs: its ledger connection, crash points
for the tests, an error line safe for logs, and handing memory back after each job.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import importlib
import json
import os
import signal
import sqlite3
import time
import traceback
from pathlib import Path

from .. import pipeline, render
from ..config import ENV_PREFIX
from ..models import JobState
from ..pipeline import JobContext
from ..store import db, jobs
from . import failures
from .logs import Outcome

# Windows has no address-space limit (no ``resource``); the job time limit still holds there.
resource = None if os.name == "nt" else importlib.import_module("resource")

CRASH_ENV = "CSSW_DOCS_TEST_CRASH_AT"
HANG_ENV = "CSSW_DOCS_TEST_HANG_AT"  # tests: a worker stalls at this point ...
HOG_ENV = "CSSW_DOCS_TEST_HOG_AT"  # ... or grabs memory there until it can have no more
OOM_ENV = "CSSW_DOCS_TEST_OOM_AT"  # ... or is killed there, as the out-of-memory killer does
RUNNING = "running"  # in the state folder: one file per busy worker, named by its pid
TOO_LARGE = "too_large"  # the outcome of a job over the worker's memory limit
MB = 1024 * 1024
_in_worker = False
_service_pid = 0  # the watcher's process id, in a worker (its parent may be the fork server)
_connections: dict[Path, sqlite3.Connection] = {}


def own_environment() -> dict[str, str]:
    """Return this process's ``CSSW_DOCS_*`` environment variables (for its workers)."""
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}


def init_worker(
    memory_mb: int = 0, service_pid: int = 0, environ: dict[str, str] | None = None
) -> None:
    """Prepare a worker process: private files, SIGINT/SIGTERM left to the main process, and
    at most ``memory_mb`` of memory (0: no limit). ``service_pid`` is the watcher's.

    ``environ`` is the watcher's ``CSSW_DOCS_*`` environment (:func:`own_environment`). A worker
    is forked from the fork server, which kept the environment of the moment it first started;
    the watcher's own (the clock file, for one) is the one that counts.
    """
    global _in_worker, _service_pid
    _in_worker = True
    _service_pid = service_pid or os.getppid()
    if environ is not None:
        for key in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
            del os.environ[key]
        os.environ.update(environ)
    os.umask(0o077)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    limit_memory(memory_mb)


def limit_memory(memory_mb: int) -> bool:
    """Limit this process (and what it starts) to ``memory_mb`` of address space.

    Past it an allocation fails with MemoryError rather than the machine running out.
    Returns False when there is no limit to set (0) or no way to set one (Windows).
    """
    if memory_mb <= 0 or resource is None:
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mb * MB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return True


def running_dir(state: Path) -> Path:
    """Return the folder where each busy worker says which job it runs since when."""
    return Path(state) / RUNNING


def warm_up(ctx: JobContext | None = None) -> None:
    """Get a worker ready while the first workbooks settle: submitted once per worker when
    the pool starts, so that its start-up, and reading and compiling the Word templates
    (``render.prepare``), do not delay the first packs. Without ``ctx``: the standard
    templates (what the fork server prepares for every worker, see ``service/preload.py``)."""
    templates_dir = ctx.settings.render.templates_dir if ctx is not None else None
    for kind in render.DOCUMENTS:
        try:
            render.prepare(render.template_path(kind, templates_dir))
        except render.RenderError:  # no templates folder: the jobs will say so
            return


def crash_point(name: str) -> None:
    """Kill the whole service at once when ``CSSW_DOCS_TEST_CRASH_AT`` names this point (tests).

    Points: after_claim, and the pipeline's checkpoints (see :func:`pipeline.run_job`).
    ``CSSW_DOCS_TEST_HANG_AT`` makes a worker stall at the point instead,
    ``CSSW_DOCS_TEST_HOG_AT`` makes it take memory there until none is left, and
    ``CSSW_DOCS_TEST_OOM_AT`` kills the worker alone, so the tests can show the job time
    and memory limits at work.
    """
    if _in_worker:
        if os.environ.get(HANG_ENV) == name:
            time.sleep(24 * 3600)
        if os.environ.get(HOG_ENV) == name:
            hoard = [bytearray(64 * MB) for _ in range(32)]  # 2 GB, every page touched
            del hoard
        if os.environ.get(OOM_ENV) == name:
            os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(CRASH_ENV) != name:
        return
    service_pid = _service_pid if _in_worker else os.getpid()
    try:
        if os.getpgrp() == service_pid:
            os.killpg(service_pid, signal.SIGKILL)  # the service and all its workers
        elif _in_worker:
            os.kill(service_pid, signal.SIGKILL)
    finally:
        os._exit(137)


def _ledger(state_dir: Path) -> sqlite3.Connection:
    conn = _connections.get(state_dir)
    if conn is None:
        conn = _connections[state_dir] = db.open_ledger(state_dir)
    return conn


def describe_error(exc: BaseException, hide: tuple[str, ...] = ()) -> str:
    """Return one line about ``exc`` safe for logs: its kind and, for OS errors, the reason.

    Names in ``hide`` (the workbook's own file name) are replaced. Messages of cssw-docs's
    own errors are kept; those of other exceptions are left out, as they may quote the
    workbook.
    """
    if isinstance(exc, OSError):
        text = f"{type(exc).__name__}: {exc.strerror or exc}"
        if exc.filename:
            where = str(exc.filename)
            for name in hide:
                if name:
                    where = where.replace(name, "<workbook>")
            text += f" ({where})"
        return text
    if type(exc).__module__.startswith("cssw_docs."):
        # Our own errors are written for people, from references and folders, not cell text.
        text = f"{type(exc).__name__}: {exc}"
        for name in hide:
            if name:
                text = text.replace(name, "<workbook>")
        return text
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" in {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}{place}"


def run_job(job_id: str, ctx: JobContext) -> Outcome:
    """Take the job as far as it will go and return what happened; never raises."""
    conn = _ledger(ctx.folders.state)
    row = jobs.get_job(conn, job_id)
    if row is None:
        return Outcome(job_id, "gone", error="the job is not in the ledger")
    busy = running_dir(ctx.folders.state) / str(os.getpid())
    with contextlib.suppress(OSError):
        busy.parent.mkdir(mode=0o700, exist_ok=True)
        busy.write_text(job_id, encoding="utf-8")  # the watcher times the job from now
    try:
        return finished_outcome(pipeline.run_job(conn, job_id, ctx, crash_point))
    except MemoryError:
        return Outcome(
            job_id,
            TOO_LARGE,
            audit_ref=row["audit_ref"] or "",
            error="MemoryError: over the worker's memory limit (service.worker_memory_mb)",
        )
    except Exception as exc:
        failure = failures.explain(exc, ctx.folders)
        return Outcome(
            job_id,
            "error",
            audit_ref=row["audit_ref"] or "",
            error=describe_error(exc, (row["source_name"],)),
            detail="".join(traceback.format_exception(exc)),
            what=failure.what,
            todo=failure.todo,
        )
    finally:
        with contextlib.suppress(OSError):
            busy.unlink()
        _release_memory()


def finished_outcome(row: sqlite3.Row) -> Outcome:
    """Return the outcome of a job that has reached a terminal state."""
    final = row["final_path"]
    return Outcome(
        row["job_id"],
        JobState(row["state"]),
        audit_ref=row["audit_ref"] or "",
        stage=row["stage"] or "",
        version=row["version"],
        pack_dir=row["pack_dir"] or "",
        dest_dir=str(Path(final).parent) if final else "",
        problems=row["error_count"] or 0,
        codes=tuple(json.loads(row["findings"])) if row["findings"] else (),
        error=row["last_error"] or "",
    )


def _release_memory() -> None:
    """Hand memory freed by the job back to the system (glibc keeps it otherwise).

    What survives the collection is what the process keeps (modules, compiled templates,
    the template cache): it is frozen, so the next job's collection looks only at what that
    job made (a full collection of everything took about 30 ms a job). Frozen objects are
    still freed when nothing refers to them; a worker is replaced after
    ``service.worker_max_jobs`` jobs in any case.
    """
    gc.collect()
    gc.freeze()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim():
    """Return glibc's ``malloc_trim``, or None where there is no glibc (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _find_malloc_trim()
