"""One claimed workbook, in a worker process: check -> pack or rejection -> delivery -> move.

Every step records its result in the ledger before the next starts and repeats safely, so a
job interrupted anywhere (even by SIGKILL) is finished by the next run without a second pack.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import gc
import json
import os
import re
import signal
import sqlite3
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..models import (
    JobState,
    Submission,
    pack_from_dict,
    pack_to_dict,
    submission_from_dict,
    submission_to_dict,
)
from ..rubric import Rubric
from ..store import audits, db, jobs
from . import claim
from .claim import Folders

CRASH_ENV = "CSSW_DOCS_TEST_CRASH_AT"
_SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
_in_worker = False
_connections: dict[Path, sqlite3.Connection] = {}


@dataclass(frozen=True)
class JobContext:
    """What a worker needs for any job: settings, rubric and folders (all picklable)."""

    settings: Settings
    rubric: Rubric
    folders: Folders


@dataclass(frozen=True)
class Outcome:
    """What happened to one job; ``kind`` is processed, rejected, error or gone.

    Carries no child's name and no free text from the workbook: it is logged as is.
    """

    job_id: str
    kind: str
    audit_ref: str = ""
    stage: str = ""
    version: int | None = None
    pack_dir: str = ""
    dest_dir: str = ""
    problems: int = 0
    codes: tuple[str, ...] = ()
    error: str = ""
    detail: str = ""


def init_worker() -> None:
    """Prepare a worker process: private files, and leave SIGINT/SIGTERM to the main process."""
    global _in_worker
    _in_worker = True
    os.umask(0o077)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def warm_up() -> None:
    """Import the heavy modules (docxtpl, lxml, openpyxl) now, while the service waits for files.

    Submitted once per worker when the pool starts, so a worker's start-up overlaps the
    settle interval instead of delaying the first pack.
    """
    from .. import deliver, pipeline  # noqa: F401


def crash_point(name: str) -> None:
    """Kill the whole service at once when ``CSSW_DOCS_TEST_CRASH_AT`` names this point (tests).

    Points: after_claim, after_validate, after_render, after_deliver, before_move, after_move,
    after_reject_files, after_notify.
    """
    if os.environ.get(CRASH_ENV) != name:
        return
    service_pid = os.getppid() if _in_worker else os.getpid()
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
    try:
        return _advance(conn, row, ctx)
    except Exception as exc:
        return Outcome(
            job_id,
            "error",
            audit_ref=row["audit_ref"] or "",
            error=describe_error(exc, (row["source_name"],)),
            detail="".join(traceback.format_exception(exc)),
        )
    finally:
        _release_memory()


def _release_memory() -> None:
    """Hand memory freed by the job back to the system (glibc keeps it otherwise)."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim():
    """Return glibc's ``malloc_trim``, or None where there is no glibc (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _find_malloc_trim()


def _advance(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext) -> Outcome:
    job_id = row["job_id"]
    state = row["state"]
    if state in jobs.TERMINAL:
        return _finished_outcome(row)
    source = ctx.folders.job_file(job_id, row["source_name"])
    if not source.exists():
        if row["final_path"] and Path(row["final_path"]).exists():
            return _finish(conn, row, ctx)  # moved just before a crash
        raise FileNotFoundError(2, "The claimed workbook is missing", "<workbook>")
    if state in (JobState.CLAIMED, JobState.VALIDATED):
        from .. import pipeline

        checked = pipeline.check(source, ctx.rubric, ctx.settings)
        if checked.ok:
            _render(conn, row, ctx, checked)
        else:
            _write_rejection(conn, row, ctx, checked)
        row = jobs.get_job(conn, job_id)
        state = row["state"]
    if state == JobState.RENDERED:
        _deliver_pack(conn, row, ctx)
        state = JobState.DELIVERED
    if state == JobState.INVALID:
        _deliver_rejection(conn, row, ctx)
        state = JobState.NOTIFIED
    return _finish(conn, jobs.get_job(conn, job_id), ctx)


def _render(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext, checked) -> None:
    from .. import pipeline
    from ..oversight.moderation import selection_for

    job_id = row["job_id"]
    sub: Submission = checked.submission
    selected = selection_for(sub, ctx.rubric, ctx.settings.oversight.moderation_percent)
    data = submission_to_dict(sub)
    jobs.update_job(
        conn,
        job_id,
        state=JobState.VALIDATED,
        audit_ref=sub.audit_ref,
        stage=str(sub.audit_stage) if sub.audit_stage else None,
        data=json.dumps(data, ensure_ascii=False),
        moderation_selected=None if selected is None else int(selected),
        error_count=0,
        findings=json.dumps(sorted(checked.report.codes())),
    )
    crash_point("after_validate")
    # The renderer reuses the version of a pack made from the same bytes, so rendering again
    # after a crash replaces that pack rather than adding a version.
    pack = pipeline.render(
        checked, ctx.rubric, ctx.settings, ctx.folders.outbox, moderation_selected=selected
    )
    crash_point("after_render")
    audits.record_audit(
        conn,
        audit_ref=pack.audit_ref,
        stage=str(pack.stage),
        version=pack.version,
        job_id=job_id,
        source_sha256=checked.sha256,
        audit_date=sub.audit_date.isoformat() if sub.audit_date else None,
        data=data,
        pack_dir=pack.directory,
        moderation_selected=selected,
    )
    jobs.update_job(
        conn,
        job_id,
        state=JobState.RENDERED,
        version=pack.version,
        pack_dir=str(pack.directory),
        pack=json.dumps(pack_to_dict(pack)),
        dest_dir=str(ctx.folders.dated("processed")),
    )


def _deliver_pack(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext) -> None:
    from .. import deliver

    selected = row["moderation_selected"]
    deliver.enqueue_pack(
        db.db_path(ctx.folders.state),
        job_id=row["job_id"],
        submission=submission_from_dict(json.loads(row["data"])),
        pack=pack_from_dict(json.loads(row["pack"])),
        settings=ctx.settings,
        moderation_selected=None if selected is None else bool(selected),
    )
    crash_point("after_deliver")
    jobs.update_job(conn, row["job_id"], state=JobState.DELIVERED)


def rejection_stem(audit_ref: str | None, job_id: str, folder: Path) -> str:
    """Return the stem for the rejection files: the reference when safe and free, else the job id.

    Never the workbook's own name, which may carry the child's name.
    """
    ref = (audit_ref or "").strip()
    if not _SAFE_REF.match(ref):
        return job_id
    if (folder / f"{ref} - problems.txt").exists():
        return f"{ref} {job_id}"
    return ref


def _write_rejection(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext, checked) -> None:
    from .. import pipeline

    job_id = row["job_id"]
    sub = checked.submission
    dest = Path(row["dest_dir"]) if row["dest_dir"] else ctx.folders.dated("rejected")
    claim.make_private_dir(dest)
    stem = row["out_stem"] or rejection_stem(sub.audit_ref if sub else None, job_id, dest)
    jobs.update_job(
        conn,
        job_id,
        audit_ref=(sub.audit_ref or None) if sub else None,
        stage=str(sub.audit_stage) if sub and sub.audit_stage else None,
        error_count=len(checked.report.errors),
        findings=json.dumps(sorted(checked.report.codes())),
        dest_dir=str(dest),
        out_stem=stem,
    )
    written = pipeline.write_rejection(checked, dest, stem)
    crash_point("after_reject_files")
    jobs.update_job(
        conn,
        job_id,
        state=JobState.INVALID,
        rejection=json.dumps(
            {
                "auditor_email": (sub.auditor_email if sub else "") or "",
                "attachments": [str(p) for p in written],
                "report": [dataclasses.asdict(f) for f in checked.report.findings],
            },
            ensure_ascii=False,
            default=str,
        ),
    )


def _deliver_rejection(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext) -> None:
    from .. import deliver
    from ..models import Finding, Location, Report, Severity

    info = json.loads(row["rejection"])
    findings = []
    for f in info["report"]:
        loc = f.get("location")
        findings.append(
            Finding(
                f["code"],
                Severity(f["severity"]),
                f["message"],
                Location(**loc) if isinstance(loc, dict) else None,
            )
        )
    deliver.enqueue_rejection(
        db.db_path(ctx.folders.state),
        job_id=row["job_id"],
        source_name=row["source_name"],
        auditor_email=info["auditor_email"] or None,
        report=Report(tuple(findings)),
        attachments=[Path(p) for p in info["attachments"]],
        settings=ctx.settings,
    )
    crash_point("after_notify")
    jobs.update_job(conn, row["job_id"], state=JobState.NOTIFIED)


def _finish(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext) -> Outcome:
    """Move the workbook to its last folder (deciding the name once) and end the job."""
    job_id = row["job_id"]
    terminal = {JobState.DELIVERED: JobState.PROCESSED, JobState.NOTIFIED: JobState.REJECTED}
    end_state = terminal.get(row["state"], row["state"])
    if end_state not in jobs.TERMINAL:
        raise RuntimeError(f"job {job_id} cannot finish from state {row['state']}")
    if row["state"] in terminal:
        source = ctx.folders.job_file(job_id, row["source_name"])
        final = Path(row["final_path"]) if row["final_path"] else None
        if final is None:
            folder = Path(row["dest_dir"] or ctx.folders.dated(end_state))
            claim.make_private_dir(folder)
            final = claim.free_name(folder, row["source_name"])
            jobs.update_job(conn, job_id, final_path=str(final))
        crash_point("before_move")
        if source.exists():
            claim.move(source, final)
            crash_point("after_move")
        _remove_job_dir(source.parent)
        jobs.update_job(conn, job_id, state=end_state, finished_at=db.now())
        row = jobs.get_job(conn, job_id)
    return _finished_outcome(row)


def _remove_job_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _finished_outcome(row: sqlite3.Row) -> Outcome:
    codes = tuple(json.loads(row["findings"])) if row["findings"] else ()
    final = row["final_path"]
    return Outcome(
        row["job_id"],
        row["state"],
        audit_ref=row["audit_ref"] or "",
        stage=row["stage"] or "",
        version=row["version"],
        pack_dir=row["pack_dir"] or "",
        dest_dir=str(Path(final).parent) if final else "",
        problems=row["error_count"] or 0,
        codes=codes,
        error=row["last_error"] or "",
    )
