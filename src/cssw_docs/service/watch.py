"""The watcher's loop: resume, rescan, claim, hand jobs to a bounded pool, record outcomes.

Filesystem events only wake the loop early; a full rescan of the intake folder is the
source of truth. The ledger makes every step repeatable, so the loop can die at any moment.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .. import pipeline
from ..config import Settings
from ..deliver import compose, outbox, routes
from ..folders import Folders, fit_name, free_name, make_private_dir, move, shown_path
from ..models import JobState, submission_from_dict
from ..pipeline import JobContext
from ..rubric import Rubric
from ..store import backup, db, jobs
from . import claim, daily, failures, logs, readiness, recovery, settings_check, worker
from .claim import Claimed, InstanceLock
from .logs import Outcome
from .worker import describe_error

log = logging.getLogger("cssw_docs.service")
LOCK_NAME = "service.lock"
# watchdog holds the "moved from" event of each claim (a rename out of the intake folder) this
# long to pair it, and every event behind it waits too: for this long after a claim the loop
# looks at the folder itself, every CLAIM_LOOK_EVERY seconds, rather than wait for events.
EVENT_HOLD_SECONDS = 0.6
CLAIM_LOOK_EVERY = 0.05
# Workbooks claimed per scan at most: a large batch starts its first jobs at once, while the
# rest are opened and claimed scan by scan (each scan follows straight on from the last).
CLAIM_CHUNK = 32
# How a stuck worker is stopped (Windows has no SIGKILL; os.kill there always terminates).
_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@dataclass
class Summary:
    """What one run of the watcher did (the demo and ``watch --once`` print it)."""

    outcomes: list[Outcome] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Outcome]:
        """Return the outcomes of one kind (processed, rejected, duplicate, failed)."""
        return [o for o in self.outcomes if o.kind == kind]


# The module the fork server imports before forking workers; named, not imported, here: its
# import compiles the templates, work the watcher itself has no use for.
FORK_SERVER_PRELOAD = f"{__package__}.preload"


def _worker_context() -> multiprocessing.context.BaseContext:
    """Return how worker processes start: from a fork server that has the pipeline loaded.

    The fork server is one single-threaded process that imports the pipeline (docxtpl, lxml,
    openpyxl) and compiles the standard Word templates once (``service/preload.py``); each
    worker is forked from it, so a new worker is ready at once instead of importing and
    compiling everything again, and never inherits the watcher's threads. Where there is no
    fork server (Windows), each worker is spawned afresh.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # pragma: no cover - Windows
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([FORK_SERVER_PRELOAD])
    return context


def folders_for(settings: Settings) -> Folders:
    """Return the service's folders from the settings, as absolute paths."""
    s = settings.service
    return Folders(
        Path(s.intake).absolute(), Path(s.outbox).absolute(), Path(s.state_dir).absolute()
    )


class Watcher:
    """Runs the intake service until stopped (or, with ``once``, until nothing is waiting)."""

    def __init__(
        self,
        settings: Settings,
        rubric: Rubric,
        *,
        once: bool = False,
        lock_wait: float = 0.0,
        new_ledger: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.folders = folders_for(settings)
        self.settings = settings.with_changes(
            **{
                "service.intake": self.folders.intake,
                "service.outbox": self.folders.outbox,
                "service.state_dir": self.folders.state,
            }
        )
        s = self.settings.service
        self.service = s
        self.once = once
        self.lock_wait = lock_wait
        self.new_ledger = new_ledger
        # Told (workbooks finished, finished + known to be waiting) after each outcome.
        self.progress = progress
        self.fatal: Exception | None = None  # a reason to stop that needs a person
        self.workers = s.workers if s.workers > 0 else (os.cpu_count() or 1)
        self.ctx = JobContext(self.settings, rubric, self.folders)
        self.tracker = readiness.Tracker(
            s.settle_seconds,
            s.lock_timeout_minutes * 60.0,
            s.broken_after_seconds,
            max_uncompressed_bytes=self.settings.validation.max_uncompressed_mb * 1024 * 1024,
        )
        self.summary = Summary()
        self.wake = threading.Event()
        self.stopping = False
        self.dirty = True
        self.observer = None
        self.observer_restarts = 0
        self._observer_failed = False
        self._observer_retry_at = 0.0
        self._queue: dict[str, float] = {}  # job id -> when it is due (monotonic)
        self._inflight: dict[cf.Future, str] = {}
        self._over_limit: dict[str, str] = {}  # job id -> "time": its worker was stopped
        self._busy: list[tuple[int, str, float]] = []  # (worker pid, job id, started), seen last
        self._pool: cf.ProcessPoolExecutor | None = None
        # Broken pools wind themselves up; the last one is waited for before exit (below).
        self._broken_pools: list[cf.ProcessPoolExecutor] = []
        self._sender: _Sender | None = None
        self._waiting_said: dict[str, int] = {}
        self.checked = settings_check.SettingsCheck()
        self.conn = None
        self._next_backup_check = 0.0
        self._next_daily_check = 0.0
        self.phases = logs.PhaseClock()  # where the service process's own time goes
        self._claimed_at = -math.inf  # when this watcher last claimed a workbook (monotonic)

    # --- running -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the jobs in hand, then stop (safe to call from a signal handler)."""
        self.stopping = True
        self.wake.set()

    def run(self) -> Summary:
        """Run until stopped; return what was done. Raises AlreadyRunning if another runs.

        Raises outbox.SendingRefused, before touching anything, when the mail settings must not
        be used (SMTP with an empty ``mail.allowed_domains`` and no ``allow_any_domain``), and
        settings_check.SettingsInvalid when any other setting is unusable (``config check``).
        """
        outbox.check_settings(self.settings)
        self.checked = settings_check.require_usable(self.settings)
        old_umask = os.umask(0o077)
        try:
            self.folders.create()
            with (
                InstanceLock(self.folders.state / LOCK_NAME, wait=self.lock_wait),
                InstanceLock(self.folders.work / ".lock", wait=self.lock_wait, required=False),
            ):
                handler = logs.add_file_log(self.folders.state, self.service)
                try:
                    self._run_locked()
                except Exception as exc:
                    if not self._stop_if_damaged(exc):  # e.g. while shutting down
                        raise
                finally:
                    logs.remove_file_log(handler)
        finally:
            os.umask(old_umask)
        if self.fatal is not None:
            raise self.fatal
        return self.summary

    def _open_ledger(self) -> None:
        """Open the ledger only when it is sound and the one this outbox was made with.

        Raises db.LedgerDamaged or recovery.LedgerMissing, whose messages say what to do.
        """
        path = db.db_path(self.folders.state)
        try:
            db.verify(path)
            self.conn = db.open_ledger(self.folders.state)
            if self.new_ledger and db.is_new(self.conn):
                recovery.accept_new_ledger(self.conn)
            recovery.refuse_new_ledger(self.conn, self.folders)
        except (db.LedgerDamaged, recovery.LedgerMissing) as exc:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            log.error("%s", exc)
            raise

    def _back_up_ledger(self) -> None:
        """Back the ledger up when the newest copy is a day old; stop if it is damaged."""
        path = db.db_path(self.folders.state)
        if not backup.due(backup.folder_for(path)):
            return
        try:
            made = backup.make(path, keep=self.service.ledger_backups)
        except db.LedgerDamaged as exc:
            log.error("%s", exc)
            self.fatal = exc
            self.request_stop()
            return
        except backup.BackupError as exc:
            log.error("the daily ledger backup failed; trying again later: %s", exc)
            return
        log.info("ledger backed up to %s", made)

    def _stop_if_damaged(self, exc: BaseException) -> bool:
        """Stop (exit status 4 from the CLI) when SQLite says the ledger went bad while running."""
        if not (isinstance(exc, db.LedgerDamaged) or db.is_corruption(exc)):
            return False
        if self.fatal is None:
            path = db.db_path(self.folders.state)
            self.fatal = db.LedgerDamaged(
                f"The ledger {path} became damaged while the service ran ({exc}). The service "
                "has stopped so that nothing is processed or sent twice.\n"
                + db.recovery_steps(path)
            )
            log.error("%s", self.fatal)
        self.request_stop()
        return True

    def _run_locked(self) -> None:
        self._open_ledger()
        self._back_up_ledger()
        mode = "once" if self.once else ("polling" if self.service.polling else "watching")
        log.info(
            "intake service started (%s): intake %s, outbox %s, %d worker(s)",
            mode,
            self.folders.intake,
            self.folders.outbox,
            self.workers,
        )
        for problem in routes.unusable_configured(self.settings.mail):
            log.warning("not one plain email address, so nothing is sent to it: %s", problem)
        for warning in self.checked.warnings:
            log.warning("%s", warning)
        self._resume()
        # Start the settle clock of the workbooks already waiting before the fork server and
        # the workers start (that takes a moment): only look, claim nothing yet.
        self.tracker.scan(self.folders.intake, limit=0)
        self._pool = self._new_pool()
        if not self.once:
            self._start_observer()
            self._sender = _Sender(self)
            self._sender.start()
        try:
            self._loop()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        if self.observer is not None:
            # watchdog logs an error for events still arriving while it stops: not news.
            logging.getLogger("watchdog").setLevel(logging.CRITICAL)
            with contextlib.suppress(Exception):
                self.observer.stop()
                self.observer.join(timeout=5)
        if self._pool is not None:
            for future in self._inflight:
                future.cancel()  # not started yet: resumed next time from the ledger
            while any(not f.done() for f in self._inflight):
                self._enforce_time_limit()  # a stuck job is stopped on time, even now
                time.sleep(0.05)
            self._collect()
            # Wait for each pool's own thread too. (A first ``shutdown(wait=False)`` would
            # let it go unwaited: Python's exit handler then wakes it as it closes its pipe,
            # and that race prints "Bad file descriptor" with a traceback.)
            for pool in [*self._broken_pools, self._pool]:
                pool.shutdown(wait=True)
            self._broken_pools = []
            for job_id in self._inflight.values():
                self._queue[job_id] = 0.0  # cancelled: resumed next time from the ledger
            self._inflight.clear()
        if self._sender is not None:
            self._sender.stop()
        if self.once or self._sender is not None:
            with self.phases("email writing"):
                send_pending(self.settings, self.folders)
        self.summary.retrying = [
            r["job_id"] for r in jobs.unfinished_jobs(self.conn) if r["attempts"]
        ]
        self.summary.waiting = {
            reason: self.tracker.count(reason)
            for reason in (readiness.SETTLING, readiness.LOCKED, readiness.INCOMPLETE)
            if self.tracker.count(reason)
        }
        self.conn.close()
        log.info("%s", self.phases.line())
        log.info("intake service stopped")

    def _loop(self) -> None:
        next_scan = 0.0
        started = time.monotonic()
        while not self.stopping:
            self.wake.clear()
            try:
                self._collect()
                now = time.monotonic()
                if now >= next_scan:
                    self._adopt()
                if now >= self._next_backup_check:
                    self._next_backup_check = now + 600.0
                    self._back_up_ledger()
                if self.dirty or now >= next_scan or self._settling() or self._events_held(now):
                    self.dirty = False
                    self._scan()
                    next_scan = time.monotonic() + self.service.rescan_seconds
                self._submit_due()
                self._enforce_time_limit()
                if now >= self._next_daily_check:
                    self._next_daily_check = now + min(60.0, self.service.rescan_seconds)
                    daily.run_due(self.conn, self.ctx)
                if self.once and self._once_done(started):
                    break
                self._supervise_observer()
            except Exception as exc:  # one bad moment never stops the service ...
                if self._stop_if_damaged(exc):  # ... but a damaged ledger does
                    break
                log.error("unexpected problem, carrying on: %s", describe_error(exc))
                time.sleep(min(1.0, self.service.settle_seconds))
            self.wake.wait(self._wait_time(next_scan))

    def _settling(self) -> bool:
        return bool(
            self.tracker.deferred
            or self.tracker.count(readiness.SETTLING)
            or self.tracker.count(readiness.INCOMPLETE)
        )

    def _events_held(self, now: float) -> bool:
        """Return True while watchdog may still hold back events behind our own last claim.

        Then a workbook dropped just after a claim would be seen only when the claim's
        "moved from" event is let go (up to half a second later), so the loop looks itself.
        """
        if self.observer is None or self.service.polling:
            return False
        return now - self._claimed_at < EVENT_HOLD_SECONDS

    def _wait_time(self, next_scan: float) -> float:
        now = time.monotonic()
        options = [next_scan - now, 5.0]
        if self._events_held(now):
            options.append(CLAIM_LOOK_EVERY)
        due = self.tracker.next_due()
        if due is not None:  # a settling file: look again exactly when it may be ready
            options.append(due - now)
        if self.tracker.count(readiness.INCOMPLETE):
            options.append(max(self.service.settle_seconds / 4, 0.05))
        if self.tracker.deferred:  # ready workbooks the last scan left: claim them next
            options.append(0.0)
        if self._queue and len(self._inflight) < self.workers * 2:
            options.append(min(self._queue.values()) - now)  # else a finished job wakes us
        if self._inflight and self.service.job_timeout_seconds > 0:
            # Look at the running jobs' clocks often enough to stop a stuck one on time.
            options.append(max(self.service.job_timeout_seconds / 4, 0.05))
            if self._busy:
                first = min(started for _, _, started in self._busy)
                options.append(first + self.service.job_timeout_seconds - time.time() + 0.05)
        return max(0.02, min(options))

    def _once_done(self, started: float) -> bool:
        if self._inflight or any(due <= time.monotonic() for due in self._queue.values()):
            return False
        if self.tracker.deferred:
            return False
        if self.tracker.count(readiness.SETTLING):
            grace = max(30.0, 10 * self.service.settle_seconds)
            return time.monotonic() - started > grace
        return True

    # --- finding and claiming --------------------------------------------------------------

    def _adopt(self) -> None:
        """Record workbooks in the working folder that the ledger does not know yet.

        They were claimed just before a crash (or a failure) and the ledger was not written.
        """
        for found in claim.claimed_in(self.folders.work):
            if jobs.get_job(self.conn, found.job_id) is None:
                self._register(found)

    def _resume(self) -> None:
        """Adopt workbooks left in the working folder and queue every unfinished job."""
        self._adopt()
        resumed = 0
        for row in jobs.unfinished_jobs(self.conn):
            if row["state"] == JobState.CLAIMED and not self._screen(row["job_id"]):
                continue
            self._schedule(row["job_id"], row["next_attempt_at"])
            resumed += 1
        if resumed:
            log.info("resuming %d unfinished job(s) from the last run", resumed)

    def _scan(self) -> None:
        claimed: list[Claimed] = []
        with self.phases("discovery"):
            found_ready = self.tracker.scan(self.folders.intake, limit=CLAIM_CHUNK)
        for ready in found_ready:
            self.tracker.forget(ready.path.name)
            with self.phases("claim"):
                found = claim.claim(ready.path, self.folders.work)
            if found is None:
                continue
            self._claimed_at = time.monotonic()
            worker.crash_point("after_claim")
            if ready.problem:
                log.info(
                    "job %s: the file is not a complete workbook; it will be rejected", found.job_id
                )
            claimed.append(found)
        self._register_all(claimed)
        self._say_waiting()

    def _say_waiting(self) -> None:
        counts = {r: self.tracker.count(r) for r in (readiness.LOCKED, readiness.INCOMPLETE)}
        for reason, n in counts.items():
            if n and n != self._waiting_said.get(reason):
                log.info("%d workbook(s) waiting: %s", n, reason)
        self._waiting_said = counts

    def _register(self, found: Claimed) -> None:
        self._register_all([found])

    def _register_all(self, claimed: list[Claimed]) -> None:
        """Record the jobs claimed in one scan (one transaction), then queue or set aside each.

        A crash before the commit leaves them in the working folder, where they are adopted.
        """
        with self.phases("ledger"), self.conn:
            for found in claimed:
                jobs.insert_job(
                    self.conn,
                    found.job_id,
                    source_name=found.source_name,
                    work_name=f"{found.job_id}/{found.source_name}",
                    size=found.path.stat().st_size,
                    sha256=pipeline.sha256_of(found.path),
                )
        for found in claimed:
            with self.phases("ledger"):
                fresh = self._screen(found.job_id)
            if fresh:
                self._schedule(found.job_id, None)

    def _screen(self, job_id: str) -> bool:
        """Return True when the job should run; set a duplicate aside and return False."""
        row = jobs.get_job(self.conn, job_id)
        earlier = jobs.earlier_job_with_content(self.conn, row["sha256"], job_id)
        if earlier is None:
            return True
        with self.phases("filing"):
            source = self.folders.job_file(job_id, row["source_name"])
            final = Path(row["final_path"]) if row["final_path"] else None
            if final is None:
                folder = make_private_dir(self.folders.dated("duplicates"))
                final = free_name(folder, row["source_name"])
                jobs.update_job(self.conn, job_id, final_path=str(final))
            if source.exists():
                move(source, final)
            with contextlib.suppress(OSError):
                source.parent.rmdir()
        jobs.update_job(
            self.conn,
            job_id,
            state=JobState.DUPLICATE,
            audit_ref=earlier["audit_ref"],
            last_error=f"job {earlier['job_id']}",
            finished_at=db.now(),
        )
        self._record(
            Outcome(
                job_id,
                JobState.DUPLICATE,
                audit_ref=earlier["audit_ref"] or "",
                dest_dir=str(final.parent),
                error=f"job {earlier['job_id']}",
            )
        )
        return False

    # --- the pool --------------------------------------------------------------------------

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        busy = worker.running_dir(self.folders.state)
        make_private_dir(busy)
        for stale in busy.iterdir():  # left by the workers of a pool that is gone
            with contextlib.suppress(OSError):
                stale.unlink()
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_worker_context(),
            initializer=worker.init_worker,
            # Each worker may use this much memory: past it the job fails with MemoryError.
            initargs=(self.service.worker_memory_mb, os.getpid(), worker.own_environment()),
            # A fresh process after a bounded number of jobs keeps a months-long service's
            # memory flat, whatever the libraries' allocations leave behind.
            max_tasks_per_child=max(1, self.service.worker_max_jobs),
        )
        for _ in range(self.workers):  # start every worker now, while files settle
            pool.submit(worker.warm_up, self.ctx)
        return pool

    def _schedule(self, job_id: str, next_attempt_at: str | None) -> None:
        due = time.monotonic()
        if next_attempt_at:
            wait = (
                dt.datetime.fromisoformat(next_attempt_at) - dt.datetime.now(dt.UTC)
            ).total_seconds()
            due += max(wait, 0.0)
        self._queue[job_id] = due

    def _submit_due(self) -> None:
        now = time.monotonic()
        room = self.workers * 2 - len(self._inflight)
        for job_id, due in sorted(self._queue.items(), key=lambda kv: kv[1]):
            if room <= 0 or self.stopping:
                break
            if due > now:
                continue
            del self._queue[job_id]
            future = self._pool.submit(worker.run_job, job_id, self.ctx)
            self._inflight[future] = job_id
            future.add_done_callback(lambda _f: self.wake.set())
            room -= 1

    def _collect(self) -> None:
        done = [f for f in self._inflight if f.done()]
        if any(_broke(f) for f in done):
            # A broken pool fails every future it holds at once: handle them all together,
            # before a fresh pool's workers start writing their own running files.
            cf.wait(list(self._inflight), timeout=30)
            done = [f for f in self._inflight if f.done()]
        broken: list[tuple[str, BrokenProcessPool]] = []
        for future in done:
            job_id = self._inflight.pop(future)
            if future.cancelled():
                self._queue[job_id] = 0.0
                continue
            try:
                outcome = future.result()
            except BrokenProcessPool as exc:
                broken.append((job_id, exc))
                continue
            except Exception as exc:
                outcome = Outcome(job_id, "error", error=describe_error(exc))
            with self.phases("ledger"):
                self._record_safely(outcome)
        if broken:
            self._after_broken_pool(broken)

    def _record_safely(self, outcome: Outcome) -> None:
        try:
            self._record(outcome)
        except Exception as exc:
            log.error(
                "job %s: could not record the outcome: %s", outcome.job_id, describe_error(exc)
            )
            self._queue[outcome.job_id] = time.monotonic() + self.service.retry_base_seconds
            self._stop_if_damaged(exc)

    def _after_broken_pool(self, broken: list[tuple[str, BrokenProcessPool]]) -> None:
        """A worker died: reject the job it ran as too large, run the others again, go on.

        A worker dies running a job when the watcher stopped it for taking too long, or when
        the system stopped it for using too much memory (the out-of-memory killer, or the
        unit's MemoryMax). Its job is the one to blame; the jobs of the other workers are
        innocent and run again at once. When no job can be blamed, each counts a failed
        attempt, as any error does.
        """
        for job_id in self._dead_workers_jobs():
            self._over_limit.setdefault(job_id, "memory")
        blamed = {job_id for job_id, _ in broken if job_id in self._over_limit}
        if not self.stopping:
            self._stop_busy_workers()
            log.warning("a worker process stopped; starting a fresh pool")
            for done in self._broken_pools:  # an earlier one, long since wound up
                done.shutdown(wait=True)
            self._broken_pools = [self._pool]  # winding itself up: its jobs have all failed
            self._pool = self._new_pool()
        self._busy = []
        for job_id, exc in broken:
            if job_id in blamed:
                self._too_large(job_id, self._over_limit.pop(job_id))
            elif blamed:
                self._queue[job_id] = time.monotonic()  # innocent: its worker was stopped
            else:
                self._record_safely(Outcome(job_id, "error", error=describe_error(exc)))
        self._over_limit.clear()

    # --- limits ------------------------------------------------------------------------------

    def _running_jobs(self) -> list[tuple[int, str, float]]:
        """Return (pid, job id, when it started by the wall clock) for each busy worker."""
        out = []
        busy = worker.running_dir(self.folders.state)
        with contextlib.suppress(OSError):
            for entry in busy.iterdir():
                with contextlib.suppress(OSError, ValueError):
                    started = entry.stat().st_mtime
                    out.append((int(entry.name), entry.read_text("utf-8").strip(), started))
        return out

    def _workers(self) -> set[int]:
        """Return the pids of this process's worker processes that have not ended.

        A process counts as ended once its sentinel is ready (as the pool sees it), even
        while the system is still tearing it down.
        """
        children = multiprocessing.active_children()
        ended = set(wait([p.sentinel for p in children], timeout=0))
        return {p.pid for p in children if p.pid is not None and p.sentinel not in ended}

    def _enforce_time_limit(self) -> None:
        """Stop the worker of any job running longer than ``service.job_timeout_seconds``."""
        if not self._inflight:
            self._busy = []
            return
        self._busy = self._running_jobs()
        limit = self.service.job_timeout_seconds
        if limit <= 0:
            return
        now = time.time()
        live = None
        for pid, job_id, started in self._busy:
            if now - started <= limit or job_id in self._over_limit:
                continue
            live = self._workers() if live is None else live
            if pid not in live:
                continue
            log.warning(
                "job %s: still being checked after %.0f s (the limit is %.0f s); stopping it",
                job_id,
                now - started,
                limit,
            )
            self._over_limit[job_id] = "time"
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, _KILL)

    def _dead_workers_jobs(self) -> list[str]:
        """Return the jobs whose worker died while running them."""
        live = self._workers()
        return [job_id for pid, job_id, _ in self._running_jobs() if pid not in live]

    def _stop_busy_workers(self) -> None:
        """Stop the workers of a broken pool still running jobs (each job is run again)."""
        live = self._workers()
        for pid, _, _ in self._running_jobs():
            if pid in live:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, _KILL)

    def _too_large(self, job_id: str, over: str) -> None:
        """Reject a job that went over the worker's memory or time limit, then go on with it."""
        try:
            rejected = pipeline.give_up(self.conn, job_id, self.ctx, over)
        except Exception as exc:
            self._record_safely(Outcome(job_id, "error", error=describe_error(exc)))
            return
        if not rejected:  # past checking: not the workbook's fault, so retried as usual
            error = f"the worker went over its {over} limit"
            self._record_safely(Outcome(job_id, "error", error=error))
            return
        log.warning(
            "job %s: the workbook is too large to check (over the %s limit); rejecting it",
            job_id,
            over,
        )
        self._queue[job_id] = time.monotonic()

    # --- outcomes --------------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        if outcome.kind == "error":
            self._failed_attempt(outcome)
            return
        if outcome.kind == worker.TOO_LARGE:
            self._too_large(outcome.job_id, "memory")
            return
        self.summary.outcomes.append(outcome)
        if self.progress is not None:
            done = len(self.summary.outcomes)
            ahead = len(self._queue) + len(self._inflight) + self.tracker.count(readiness.SETTLING)
            self.progress(done, done + ahead)
        line = logs.outcome_line(outcome, self.folders.intake, self.folders.outbox)
        if outcome.kind == JobState.FAILED:
            log.error(line)
        else:
            log.info(line)
        if self._sender is not None and outcome.kind in (
            JobState.PROCESSED,
            JobState.REJECTED,
            JobState.FAILED,
        ):
            self._sender.poke()

    def _failed_attempt(self, outcome: Outcome) -> None:
        row = jobs.get_job(self.conn, outcome.job_id)
        if row is None:
            return
        attempts = row["attempts"] + 1
        limit = max(self.service.max_attempts, 1)
        ref = row["audit_ref"] or "no reference"
        if attempts >= limit:
            jobs.update_job(self.conn, outcome.job_id, attempts=attempts, last_error=outcome.error)
            self._park(row, outcome, attempts)
            return
        delay = min(
            self.service.retry_base_seconds * 2 ** (attempts - 1), self.service.retry_max_seconds
        )
        due_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        jobs.update_job(
            self.conn,
            outcome.job_id,
            attempts=attempts,
            last_error=outcome.error,
            next_attempt_at=due_at.isoformat(timespec="seconds"),
        )
        log.warning(
            "job %s %s: attempt %d of %d failed (%s); next try in %.0f s",
            outcome.job_id,
            ref,
            attempts,
            limit,
            outcome.error,
            delay,
        )
        if not self.once:
            self._queue[outcome.job_id] = time.monotonic() + delay

    def _park(self, row, outcome: Outcome, attempts: int) -> None:
        """Set a workbook that keeps failing aside (see :meth:`_set_aside`), timed as filing."""
        with self.phases("filing"):
            self._set_aside(row, outcome, attempts)

    def _set_aside(self, row, outcome: Outcome, attempts: int) -> None:
        """Set a workbook that keeps failing aside in ``intake/failed/<date>/``; tell a person.

        The note beside it and the QA admin's email say what went wrong and what to do. A job
        whose emails were already queued ends processed or rejected (only filing failed), so
        the same workbook dropped again is a duplicate and nothing is sent twice.
        """
        job_id = row["job_id"]
        end = pipeline.end_state_when_set_aside(row["state"])
        source = self.folders.job_file(job_id, row["source_name"])
        folder = self.folders.dated("failed")
        note = fit_name(job_id, " - error.txt")
        failure = _failure(outcome)
        final, parked = source, False
        try:
            make_private_dir(folder)
            (folder / note).write_text(
                _error_note(row, outcome, failure, attempts, end), encoding="utf-8"
            )
            if source.exists():
                final = free_name(folder, row["source_name"])
                move(source, final)
            parked = True
        except OSError as exc:
            log.error(
                "job %s: could not set the workbook aside in %s (%s); it stays in %s",
                job_id,
                folder,
                describe_error(exc, (row["source_name"],)),
                source.parent,
            )
        with contextlib.suppress(OSError):
            source.parent.rmdir()
        self._tell_admin_set_aside(row, failure, attempts, end, folder if parked else None)
        jobs.update_job(
            self.conn,
            job_id,
            state=end,
            final_path=str(final),
            finished_at=db.now(),
        )
        error = outcome.error
        if end != JobState.FAILED:
            error = f"pack made and emails queued; only filing failed: {error}"
        self._record(
            replace(
                outcome,
                kind=JobState.FAILED,
                error=error,
                dest_dir=str(folder if parked else source.parent),
                audit_ref=row["audit_ref"] or "",
            )
        )

    def _tell_admin_set_aside(
        self, row, failure: failures.Failure, attempts: int, end: JobState, folder: Path | None
    ) -> None:
        """Queue the QA admin's email about a job set aside (no identifiers, no file names)."""
        job_id = row["job_id"]
        context = {
            "attempts": attempts,
            "step": failures.step_words(row["state"]),
            "what": failure.what,
            "todo": failure.todo,
            "done": end != JobState.FAILED,
            "parked": folder is not None,
            "folder": shown_path(folder or self.folders.work / job_id, self.settings.service),
            "note": fit_name(job_id, " - error.txt"),
        }
        try:
            with self.phases("email composition"):
                outbox.enqueue_failure_notice(
                    db.db_path(self.folders.state),
                    job_id=job_id,
                    ref=checked_reference(row),
                    context=context,
                    settings=self.settings,
                )
        except Exception as exc:
            log.error(
                "job %s: could not queue the email to the QA admin: %s",
                job_id,
                describe_error(exc),
            )

    # --- the observer ----------------------------------------------------------------------

    def _start_observer(self) -> None:
        try:
            if self.service.polling:
                observer = PollingObserver(timeout=max(self.service.settle_seconds, 0.1))
            else:
                observer = Observer()
            observer.schedule(_Wake(self), str(self.folders.intake), recursive=False)
            observer.start()
        except Exception as exc:
            if not self._observer_failed:
                log.warning(
                    "could not watch the intake folder for changes (%s); rescanning every "
                    "%.0f s and trying again",
                    describe_error(exc),
                    self.service.rescan_seconds,
                )
            self._observer_failed = True
            self.observer = None
            return
        if self._observer_failed:
            log.info("watching the intake folder for changes again")
        self._observer_failed = False
        self.observer = observer

    def _supervise_observer(self) -> None:
        """Restart the event watcher if it died; retry one that could not start, now and then."""
        if self.once or (self.observer is not None and self.observer.is_alive()):
            return
        now = time.monotonic()
        if now < self._observer_retry_at:
            return
        if self.observer is not None:
            self.observer_restarts += 1
            log.warning(
                "the folder watcher stopped; restarting it (restart %d)", self.observer_restarts
            )
        self._start_observer()
        if self.observer is None:
            self._observer_retry_at = now + self.service.rescan_seconds


def _broke(future: cf.Future) -> bool:
    """Return True when a finished ``future`` failed because its pool broke."""
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


class _Wake(FileSystemEventHandler):
    """Wakes the watcher's loop early on any change in the intake folder."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__()
        self.watcher = watcher

    def on_any_event(self, event) -> None:
        """Mark the folder changed and wake the loop (reads and closes are not changes)."""
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.watcher.dirty = True
        self.watcher.wake.set()


def send_pending(settings: Settings, folders: Folders) -> None:
    """Send queued email now; a failure is logged and left for the next try."""
    try:
        result = outbox.send_pending(db.db_path(folders.state), settings, outbox=folders.outbox)
    except Exception as exc:
        log.warning("sending queued email failed; it will be tried again: %s", describe_error(exc))
        return
    if result.sent or result.failed or result.retrying or result.blocked or result.unconfirmed:
        log.info("email: %s", result)


class _Sender(threading.Thread):
    """Sends queued email every ``send_seconds``, and soon after each finished job."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__(name="cssw-docs-sender", daemon=True)
        self.watcher = watcher
        self._poke = threading.Event()
        self._halt = False

    def poke(self) -> None:
        """Send soon."""
        self._poke.set()

    def stop(self) -> None:
        """Stop after the current send."""
        self._halt = True
        self._poke.set()
        self.join(timeout=self.watcher.settings.mail.timeout_seconds + 5)

    def run(self) -> None:
        while not self._halt:
            self._poke.wait(self.watcher.service.send_seconds)
            self._poke.clear()
            if self._halt:
                break
            with self.watcher.phases("email writing"):
                send_pending(self.watcher.settings, self.watcher.folders)


def checked_reference(row) -> str:
    """Return the job's audit reference if it passed the reference checks, else "".

    Only a job that reached ``validated`` has a reference the validator accepted (safe for a
    folder name, not naming the child); a rejected or unread one may hold anything.
    """
    if not row["data"] or not row["audit_ref"]:
        return ""
    sub = submission_from_dict(json.loads(row["data"]))
    ref = compose.safe_reference(row["audit_ref"], sub)
    return ref if ref == row["audit_ref"] else ""


def _failure(outcome: Outcome) -> failures.Failure:
    """Return what went wrong as the worker explained it (or, lacking that, its error line)."""
    if outcome.what:
        return failures.Failure(outcome.what, outcome.todo)
    return failures.Failure(
        f"The last attempt ended with: {outcome.error or 'an unknown problem'}.",
        "Check the service log (state/service.log) around that time; if the cause is not "
        "clear, send this note to the cssw-docs support team.",
    )


def _error_note(
    row, outcome: Outcome, failure: failures.Failure, attempts: int, end: JobState
) -> str:
    """Return the note set beside a workbook in failed/: what went wrong, what to do."""
    job_id = row["job_id"]
    received = row["created_at"] or "?"
    size = f"{row['size']:,} bytes" if row["size"] is not None else "size unknown"
    lines = [
        f"cssw-docs could not finish the workbook set aside here with this note (job {job_id}, "
        f"received {received} UTC, {size}) after {attempts} attempts, while "
        f"{failures.step_words(row['state'])}. Nothing has been deleted.",
        "",
        f"What went wrong: {failure.what}",
        "",
        f"What to do: {failure.todo}",
    ]
    if end != JobState.FAILED:
        lines += [
            "",
            "The pack was made and its emails were queued, so nobody is waiting for anything: "
            "only filing the workbook failed. Do not put it into the intake folder again (it "
            "would only be set aside as a duplicate).",
        ]
    else:
        lines += [
            "",
            "Then move the workbook back into the intake folder: it will be processed as a new "
            "job. Emails already sent for it are not sent again.",
        ]
    detail = outcome.detail or "(none)"
    if row["source_name"]:
        detail = detail.replace(row["source_name"], "<workbook>")
    lines += ["", "Technical detail for the support team:", detail]
    return "\n".join(lines) + "\n"
