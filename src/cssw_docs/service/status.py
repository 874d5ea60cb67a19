"""What the service is doing, read from the ledger: the queue, recent outcomes, failures."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..deliver import outbox
from ..folders import Folders
from ..models import JobState
from ..rules import reference_is_safe
from ..store import db, jobs, mail
from . import claim, readiness, settings_check
from .claim import AlreadyRunning, InstanceLock
from .watch import LOCK_NAME, Summary, folders_for


@dataclass(frozen=True)
class JobLine:
    """One job as the status shows it (no file names: they may carry a child's name)."""

    job_id: str
    audit_ref: str
    state: str
    when: str
    text: str


@dataclass
class Status:
    """The service's state: running or not, the queue, recent outcomes, retries, failures."""

    folders: Folders
    running: bool
    waiting_in_intake: int
    in_progress: dict[str, int] = field(default_factory=dict)
    retrying: list[JobLine] = field(default_factory=list)
    recent: list[JobLine] = field(default_factory=list)
    failed: list[JobLine] = field(default_factory=list)
    mail: dict[str, int] = field(default_factory=dict)
    mail_words: dict[str, str] = field(default_factory=dict)  # how each state reads
    settings: list[str] = field(default_factory=list)  # problems, then warnings


def gather(settings: Settings, *, recent: int = 10) -> Status:
    """Return the service's status from the ledger and the folders (read only)."""
    folders = folders_for(settings)
    waiting = 0
    with contextlib.suppress(OSError):
        waiting = sum(
            1
            for p in folders.intake.iterdir()
            if p.is_file() and readiness.is_workbook_name(p.name)
        )
    waiting += len(claim.claimed_in(folders.work)) if folders.work.exists() else 0
    status = Status(folders, _running(folders), waiting)
    checked = settings_check.check(settings)
    problems = [*checked.problems, *checked.unreachable]
    status.settings = [f"Problem: {p}" for p in problems] + checked.warnings
    if not db.db_path(folders.state).exists():
        return status
    conn = db.open_ledger(folders.state)
    try:
        for row in jobs.unfinished_jobs(conn):
            status.in_progress[row["state"]] = status.in_progress.get(row["state"], 0) + 1
            if row["attempts"]:
                status.retrying.append(_line(row, _retry_text(row, settings)))
        status.recent = [_line(r, _outcome_text(r)) for r in jobs.finished_jobs(conn, recent)]
        failed = jobs.jobs_in_state(conn, JobState.FAILED, 20)
        status.failed = [_line(r, f"{r['last_error'] or ''} -> {_folder(r)}") for r in failed]
        status.mail = {state: n for state, n in mail.counts(conn).items() if n}
        status.mail_words = {s: outbox.state_words(s, settings.mail) for s in status.mail}
    finally:
        conn.close()
    return status


def _running(folders: Folders) -> bool:
    if not folders.state.exists():
        return False
    try:
        with InstanceLock(folders.state / LOCK_NAME):
            return False
    except AlreadyRunning:
        return True
    except OSError:
        return False


def _line(row: sqlite3.Row, text: str) -> JobLine:
    when = row["finished_at"] or row["updated_at"] or ""
    # The ledger holds only references that passed every rule; one written by an older release
    # for a rejected workbook is shown only if it is at least safe on one line.
    ref = row["audit_ref"] or ""
    shown = ref if reference_is_safe(ref) else "no reference"
    return JobLine(row["job_id"], shown, row["state"], when, text)


def _folder(row: sqlite3.Row) -> str:
    final = row["final_path"]
    return str(Path(final).parent) if final else "?"


def _outcome_text(row: sqlite3.Row) -> str:
    state = row["state"]
    if state == JobState.PROCESSED:
        return f"pack {row['stage']} v{row['version']} in {row['pack_dir']}"
    if state == JobState.REJECTED:
        n = row["error_count"] or 0
        return f"rejected, {n} problem{'s' if n != 1 else ''}; see {_folder(row)}"
    if state == JobState.DUPLICATE:
        return f"duplicate of {row['last_error']}; set aside in {_folder(row)}"
    return f"failed: {row['last_error'] or ''}"


def _retry_text(row: sqlite3.Row, settings: Settings) -> str:
    text = (
        f"attempt {row['attempts']} of {settings.service.max_attempts} failed: {row['last_error']}"
    )
    if row["next_attempt_at"]:
        at = dt.datetime.fromisoformat(row["next_attempt_at"]).astimezone()
        text += f"; next try {at:%Y-%m-%d %H:%M:%S}"
    return text


def _when(stamp: str) -> str:
    try:
        return f"{dt.datetime.fromisoformat(stamp).astimezone():%Y-%m-%d %H:%M}"
    except ValueError:
        return stamp


def format_status(status: Status) -> str:
    """Return the status as plain text for ``cssw-docs status``."""
    f = status.folders
    lines = [
        f"Watcher: {'running' if status.running else 'not running'}",
        f"Intake:  {f.intake}",
        f"Outbox:  {f.outbox}",
        f"Ledger:  {db.db_path(f.state)}",
        "",
        f"Workbooks waiting to be processed: {status.waiting_in_intake}",
    ]
    if status.in_progress:
        parts = ", ".join(f"{n} {state}" for state, n in sorted(status.in_progress.items()))
        lines.append(f"Jobs in progress: {sum(status.in_progress.values())} ({parts})")
    if status.retrying:
        lines += ["", "Waiting for a retry:"]
        lines += [f"  job {j.job_id} {j.audit_ref}: {j.text}" for j in status.retrying]
    lines += ["", "Recent outcomes:" if status.recent else "No finished jobs yet."]
    lines += [f"  {_when(j.when)}  job {j.job_id}  {j.audit_ref}: {j.text}" for j in status.recent]
    if status.failed:
        lines += ["", "Set aside after repeated failures (move back into the intake to retry):"]
        lines += [f"  job {j.job_id} {j.audit_ref}: {j.text}" for j in status.failed]
    if status.mail:
        parts = ", ".join(
            f"{n} {status.mail_words.get(state, state)}" for state, n in sorted(status.mail.items())
        )
        lines += ["", f"Email: {parts} (see `cssw-docs mail status`)"]
    if status.settings:
        lines += ["", "Settings to look at (`cssw-docs config check` says more):"]
        lines += [f"  - {text}" for text in status.settings]
    return "\n".join(lines) + "\n"


def format_summary(summary: Summary) -> str:
    """Return the plain-text summary of one ``watch --once`` run."""
    made = summary.of_kind(JobState.PROCESSED)
    rejected = summary.of_kind(JobState.REJECTED)
    dups = summary.of_kind(JobState.DUPLICATE)
    failed = summary.of_kind(JobState.FAILED)
    lines = [
        f"{len(made)} pack(s) made, {len(rejected)} workbook(s) rejected, "
        f"{len(dups)} duplicate(s) set aside, {len(failed)} set aside after repeated failures."
    ]
    if summary.retrying:
        lines.append(
            f"{len(summary.retrying)} workbook(s) hit a temporary problem and will be tried "
            "again on the next run (see `cssw-docs status`)."
        )
    for reason, n in summary.waiting.items():
        lines.append(f"{n} workbook(s) left in the intake folder: {reason}.")
    return "\n".join(lines) + "\n"
