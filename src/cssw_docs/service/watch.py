"""The watcher's loop: resume, rescan, claim, hand jobs to a bounded pool, record outcomes.

Filesystem events only wake the loop early; a full rescan of the intake folder is the
source of truth. The ledger makes every step repeatable, so the loop can die at any moment.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .. import pipeline
from ..config import Settings
from ..deliver import outbox, routes
from ..folders import Folders, free_name, make_private_dir, move
from ..models import JobState
from ..pipeline import JobContext
from ..rubric import Rubric
from ..store import db, jobs
from . import claim, logs, readiness, settings_check, worker
from .claim import Claimed, InstanceLock
from .worker import Outcome, describe_error

log = logging.getLogger("cssw_docs.service")
LOCK_NAME = "service.lock"


@dataclass
class Summary:
    """What one run of the watcher did (the demo and ``watch --once`` print it)."""

    outcomes: list[Outcome] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Outcome]:
        """Return the outcomes of one kind (processed, rejected, duplicate, failed)."""
        return [o for o in self.outcomes if o.kind == kind]


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
        self._pool: cf.ProcessPoolExecutor | None = None
        self._sender: _Sender | None = None
        self._waiting_said: dict[str, int] = {}
        self.checked = settings_check.SettingsCheck()
        self.conn = None

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
                finally:
                    logs.remove_file_log(handler)
        finally:
            os.umask(old_umask)
        return self.summary

    def _run_locked(self) -> None:
        self.conn = db.open_ledger(self.folders.state)
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
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._collect()
            for job_id in self._inflight.values():
                self._queue[job_id] = 0.0  # cancelled: resumed next time from the ledger
            self._inflight.clear()
        if self._sender is not None:
            self._sender.stop()
        if self.once or self._sender is not None:
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
                if self.dirty or now >= next_scan or self._settling():
                    self.dirty = False
                    self._scan()
                    next_scan = time.monotonic() + self.service.rescan_seconds
                self._submit_due()
                if self.once and self._once_done(started):
                    break
                self._supervise_observer()
            except Exception as exc:  # one bad moment never stops the service
                log.error("unexpected problem, carrying on: %s", describe_error(exc))
                time.sleep(min(1.0, self.service.settle_seconds))
            self.wake.wait(self._wait_time(next_scan))

    def _settling(self) -> bool:
        return bool(
            self.tracker.count(readiness.SETTLING) or self.tracker.count(readiness.INCOMPLETE)
        )

    def _wait_time(self, next_scan: float) -> float:
        now = time.monotonic()
        options = [next_scan - now, 5.0]
        due = self.tracker.next_due()
        if due is not None:  # a settling file: look again exactly when it may be ready
            options.append(due - now)
        if self.tracker.count(readiness.INCOMPLETE):
            options.append(max(self.service.settle_seconds / 4, 0.05))
        if self._queue and len(self._inflight) < self.workers * 2:
            options.append(min(self._queue.values()) - now)  # else a finished job wakes us
        return max(0.02, min(options))

    def _once_done(self, started: float) -> bool:
        if self._inflight or any(due <= time.monotonic() for due in self._queue.values()):
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
        for ready in self.tracker.scan(self.folders.intake):
            self.tracker.forget(ready.path.name)
            found = claim.claim(ready.path, self.folders.work)
            if found is None:
                continue
            worker.crash_point("after_claim")
            if ready.problem:
                log.info(
                    "job %s: the file is not a complete workbook; it will be rejected", found.job_id
                )
            self._register(found)
        self._say_waiting()

    def _say_waiting(self) -> None:
        counts = {r: self.tracker.count(r) for r in (readiness.LOCKED, readiness.INCOMPLETE)}
        for reason, n in counts.items():
            if n and n != self._waiting_said.get(reason):
                log.info("%d workbook(s) waiting: %s", n, reason)
        self._waiting_said = counts

    def _register(self, found: Claimed) -> None:
        size = found.path.stat().st_size
        jobs.insert_job(
            self.conn,
            found.job_id,
            source_name=found.source_name,
            work_name=f"{found.job_id}/{found.source_name}",
            size=size,
            sha256=pipeline.sha256_of(found.path),
        )
        if self._screen(found.job_id):
            self._schedule(found.job_id, None)

    def _screen(self, job_id: str) -> bool:
        """Return True when the job should run; set a duplicate aside and return False."""
        row = jobs.get_job(self.conn, job_id)
        earlier = jobs.earlier_job_with_content(self.conn, row["sha256"], job_id)
        if earlier is None:
            return True
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
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init_worker,
            # A fresh process after a bounded number of jobs keeps a months-long service's
            # memory flat, whatever the libraries' allocations leave behind.
            max_tasks_per_child=max(1, self.service.worker_max_jobs),
        )
        for _ in range(self.workers):  # start every worker now, while files settle
            pool.submit(worker.warm_up)
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
        broken = False
        for future in [f for f in self._inflight if f.done()]:
            job_id = self._inflight.pop(future)
            if future.cancelled():
                self._queue[job_id] = 0.0
                continue
            try:
                outcome = future.result()
            except BrokenProcessPool as exc:
                broken = True
                outcome = Outcome(job_id, "error", error=describe_error(exc))
            except Exception as exc:
                outcome = Outcome(job_id, "error", error=describe_error(exc))
            try:
                self._record(outcome)
            except Exception as exc:
                log.error("job %s: could not record the outcome: %s", job_id, describe_error(exc))
                self._queue[job_id] = time.monotonic() + self.service.retry_base_seconds
        if broken and not self.stopping:
            log.warning("a worker process died; starting a fresh pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    # --- outcomes --------------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        if outcome.kind == "error":
            self._failed_attempt(outcome)
            return
        self.summary.outcomes.append(outcome)
        line = logs.outcome_line(outcome, self.folders.intake, self.folders.outbox)
        if outcome.kind == JobState.FAILED:
            log.error(line)
        else:
            log.info(line)
        if outcome.kind in (JobState.PROCESSED, JobState.REJECTED) and self._sender is not None:
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
        """Move a workbook that keeps failing to ``intake/failed/<date>/`` with an error note."""
        job_id = row["job_id"]
        folder = make_private_dir(self.folders.dated("failed"))
        source = self.folders.job_file(job_id, row["source_name"])
        final = free_name(folder, row["source_name"])
        note = folder / f"{job_id} - error.txt"
        note.write_text(_error_note(row, outcome, attempts), encoding="utf-8")
        if source.exists():
            move(source, final)
        with contextlib.suppress(OSError):
            source.parent.rmdir()
        jobs.update_job(
            self.conn,
            job_id,
            state=JobState.FAILED,
            final_path=str(final),
            finished_at=db.now(),
        )
        self._record(
            replace(
                outcome,
                kind=JobState.FAILED,
                dest_dir=str(folder),
                audit_ref=row["audit_ref"] or "",
            )
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
    if result.sent or result.failed or result.retrying or result.blocked:
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
            send_pending(self.watcher.settings, self.watcher.folders)


def _error_note(row, outcome: Outcome, attempts: int) -> str:
    return (
        f'cssw-docs could not finish the workbook "{row["source_name"]}" after {attempts} '
        "attempts, so it has been set aside here. Nothing has been deleted.\n\n"
        f"Job: {row['job_id']}\n"
        f"Last problem: {outcome.error}\n\n"
        "What to do: fix the cause (for example make the outbox folder writable again, free "
        "some disk space or reconnect the shared drive), then move the workbook back into the "
        "intake folder. It will be processed as a new job.\n\n"
        "Technical detail for the support team:\n"
        f"{outcome.detail or '(none)'}\n"
    )
