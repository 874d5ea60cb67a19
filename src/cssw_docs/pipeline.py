"""The whole flow for one workbook: check -> select -> render or reject -> queue emails -> file.

Read this file top to bottom to follow a workbook. The first half is the flow itself, which
the CLI's ``validate`` and ``render`` commands call directly. The second half runs the same
steps as a watcher job: each step records its result in the ledger before the next starts and
repeats safely, so a job interrupted anywhere (even by SIGKILL) is finished by running it
again, without a second pack or a second email.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import clock, rules
from .config import Settings
from .deliver import outbox
from .deliver.routes import Issue, issue_from_dict, issue_to_dict
from .explain import explain
from .folders import NAME_MAX, Folders, fit_name, free_name, make_private_dir, move
from .models import (
    Attachment,
    Decision,
    DocKind,
    FileFormat,
    Finding,
    JobState,
    Pack,
    ReferralOutcome,
    Report,
    Severity,
    Stage,
    Submission,
    attachment_from_dict,
    attachment_to_dict,
    pack_from_dict,
    pack_to_dict,
    report_from_dict,
    report_to_dict,
    submission_from_dict,
    submission_to_dict,
)
from .oversight.moderation import normalise_ref, selection_for
from .render import render_pack
from .rubric import Rubric
from .store import audits, db, jobs
from .validate import validate
from .workbook.annotate import annotate, unmark
from .workbook.layout import all_fields
from .workbook.parse import UnreadableWorkbook, read_workbook
from .workbook.safety import too_large_to_check
from .year import actions as year_actions

# --- the flow ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A workbook read and judged: the submission (None when unreadable) and its report."""

    source: Path
    sha256: str
    submission: Submission | None
    report: Report

    @property
    def ok(self) -> bool:
        """Return True when the workbook can become a pack."""
        return self.submission is not None and self.report.ok


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check(path: Path, rubric: Rubric, settings: Settings) -> Checked:
    """Step 1: return the workbook at ``path`` read and validated against ``rubric``."""
    path = Path(path)
    try:
        digest = sha256_of(path)
    except OSError:
        digest = ""
    try:
        submission = read_workbook(path, rubric, settings.validation)
    except UnreadableWorkbook as exc:
        return Checked(path, digest, None, Report((exc.finding,)))
    return Checked(path, digest, submission, validate(submission, rubric, settings.validation))


def select_for_moderation(sub: Submission, rubric: Rubric, settings: Settings) -> bool | None:
    """Step 2: return whether a Final audit goes to the moderation panel (None: not sampled)."""
    return selection_for(sub, rubric, settings.oversight.moderation_percent)


def render(
    checked: Checked,
    rubric: Rubric,
    settings: Settings,
    outbox_dir: Path,
    *,
    moderation_selected: bool | None = None,
    awaiting_decision: bool | None = None,
    decision: Decision | None = None,
    storyboard_only: bool = False,
    lock_dir: Path | None = None,
) -> Pack:
    """Step 3a: return the pack rendered from a workbook that passed ``check``.

    ``awaiting_decision`` None means as the audit says: a disputed Final audit without a
    ``decision`` waits for the Head of QA (``rules.awaiting_decision``). ``lock_dir`` is where
    the lock on the audit's outbox folder is kept (the service's ``<state>/locks``).
    """
    if not checked.ok or checked.submission is None:
        raise ValueError("only a workbook without errors can be rendered")
    sub = checked.submission
    if awaiting_decision is None:
        awaiting_decision = rules.awaiting_decision(sub, decided=decision is not None)
    return render_pack(
        sub,
        rubric,
        Path(outbox_dir),
        settings=settings.render,
        source_sha256=checked.sha256,
        moderation_selected=moderation_selected,
        awaiting_decision=awaiting_decision,
        decision=decision,
        storyboard_only=storyboard_only,
        lock_dir=lock_dir,
    )


# The fields a revised workbook may change and still issue only its storyboard.
STORYBOARD_FIELDS = frozenset(
    {
        "template_version",
        "storyboard_status",
        "storyboard_title",
        "storyboard_context",
        "storyboard_what_we_did",
        "storyboard_impact",
        "storyboard_voice",
        "storyboard_learning",
        "storyboard_consent",
        "storyboard_consent_external",
        "storyboard_anonymised",
        "storyboard_details_confirmed",
    }
)


def plan_issue(
    conn: sqlite3.Connection,
    sub: Submission,
    rubric: Rubric,
    *,
    job_id: str = "",
    today: dt.date | None = None,
) -> Issue:
    """Step 2b: return what a Final workbook issues, from the audit and the ledger.

    - A disputed audit waits for the Head of QA (nothing final is issued), unless the Head of
      QA already decided that a revised audit replaces the earlier one: then this is it.
    - A workbook that changes nothing but the storyboard part of the last Final pack issues
      only the storyboard (the rest of the pack is not sent again).
    - A workbook no longer disputed, after one awaiting a decision, closes that referral.
    Versions written by job ``job_id`` itself are left out (a step repeated after a crash).
    """
    if sub.audit_stage is not Stage.FINAL:
        return Issue()
    rows = audits.audit_rows(conn, sub.audit_ref)
    finals = [r for r in rows if r["stage"] == Stage.FINAL and r["job_id"] != job_id]
    last = max(finals, key=lambda r: (r["version"], r["processed_at"]), default=None)
    replacing = replacement_decision(conn, sub.audit_ref)
    if replacing is not None:
        return Issue(decision=replacing)
    if rules.awaiting_decision(sub):
        due = rules.decision_due(today or clock.today(), rubric.rules.head_of_qa_working_days)
        return Issue(awaiting_decision=True, decision_due=due)
    if last is None:
        return Issue()
    if last["issue"] == audits.ISSUE_AWAITING:
        return Issue(closes_referral=True)
    if _only_storyboard_changed(sub, json.loads(last["data"])):
        return Issue(storyboard_only=True)
    return Issue()


def _only_storyboard_changed(sub: Submission, before: Mapping[str, Any]) -> bool:
    """Return True when ``sub`` differs from the stored audit ``before`` only in its storyboard."""
    now = json.loads(json.dumps(submission_to_dict(sub), ensure_ascii=False))
    keys = (set(now) | set(before)) - STORYBOARD_FIELDS
    return all(now.get(k) == before.get(k) for k in keys)


def replacement_decision(conn: sqlite3.Connection, audit_ref: str) -> Decision | None:
    """Return the Head of QA's decision that a revised audit replaces this one, if not issued."""
    wanted = normalise_ref(audit_ref)
    for row in audits.resolution_rows(conn):
        if (
            normalise_ref(row["audit_ref"]) == wanted
            and row["outcome"] == ReferralOutcome.REPLACED
            and row["issued_version"] is None
        ):
            return decision_of(row)
    return None


def decision_of(row: sqlite3.Row) -> Decision:
    """Return the Head of QA's decision a ledger row holds."""
    return Decision(
        ReferralOutcome(row["outcome"]),
        row["note"],
        dt.date.fromisoformat(row["decided_on"]),
        row["resolved_by"],
    )


def issue_kind(issue: Issue) -> str:
    """Return what the ``audits`` row of a pack records it issued (``audits.ISSUE_*``)."""
    if issue.awaiting_decision:
        return audits.ISSUE_AWAITING
    if issue.decision is not None:
        return audits.ISSUE_DECIDED
    if issue.storyboard_only:
        return audits.ISSUE_STORYBOARD
    return audits.ISSUE_PACK


def rejection_stem(audit_ref: str | None, job_id: str, folder: Path) -> str:
    """Return the stem of the rejection files: the reference when safe and free, else the job id.

    Pass only a reference that passed every reference rule (``rules.accepted_reference``); never
    the workbook's own name, which may carry the child's name.
    """
    ref = (audit_ref or "").strip()
    if not rules.reference_is_safe(ref):
        return job_id
    if (folder / f"{ref} - problems.txt").exists():
        return f"{ref} {job_id}"
    return ref


def write_rejection(checked: Checked, folder: Path, stem: str | None = None) -> list[Attachment]:
    """Step 3b: write the findings text and the marked workbook (when readable) into ``folder``.

    Returns the files written. ``stem`` defaults to the source file's name without suffix (the
    CLI, where the person named the file); the watcher passes one it made. The findings text
    never quotes the workbook's own name, which may carry the child's name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or checked.source.stem
    text_path = folder / fit_name(stem, " - problems.txt")
    text_path.write_text(explain(checked.report), "utf-8")
    written = [Attachment(text_path, DocKind.PROBLEMS_TEXT, FileFormat.TEXT)]
    if checked.submission is not None:
        marked = annotate(checked.source, checked.report, folder / fit_name(stem, " - marked.xlsx"))
        written.append(Attachment(marked, DocKind.MARKED_WORKBOOK, FileFormat.XLSX))
    return written


NOT_COMPOSABLE = "email.not_composable"  # the finding when a workbook's email cannot be written


def not_composable(
    checked: Checked, problems: Sequence[tuple[str, str]], rubric: Rubric
) -> Checked:
    """Return ``checked`` with an ``email.not_composable`` error for each (field, reason).

    A message that cannot be written is a permanent problem with the workbook: it is rejected
    (to its auditor, or to the QA admin when the auditor's address is the problem), never
    retried. The messages name the cell, never its value.
    """
    labels = {f.name: f.label for f in all_fields(rubric)}
    sub = checked.submission
    added = []
    for field, reason in problems:
        if field:
            message = (
                f"“{labels.get(field, field)}” cannot be used in an email ({reason}). Write one "
                "plain email address, or the name on one line, then save the workbook into "
                "the intake folder again."
            )
        else:
            message = (
                f"{reason[:1].upper()}{reason[1:]}, so nothing was emailed. Check the names and "
                "email addresses in the workbook, then save it into the intake folder again."
            )
        where = sub.where(field) if sub is not None and field else None
        added.append(Finding(NOT_COMPOSABLE, Severity.ERROR, message, where))
    report = Report((*added, *checked.report.findings))
    return dataclasses.replace(checked, report=report)


# --- the same steps as a watcher job --------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What any job needs: settings, rubric and folders (all picklable, for worker processes)."""

    settings: Settings
    rubric: Rubric
    folders: Folders


Checkpoint = Callable[[str], None]


def _no_checkpoint(name: str) -> None:
    """The default checkpoint: nothing (tests pass one that kills the process there)."""


def run_job(
    conn: sqlite3.Connection, job_id: str, ctx: JobContext, checkpoint: Checkpoint = _no_checkpoint
) -> sqlite3.Row:
    """Take the job through its remaining steps and return its final ledger row.

    ``checkpoint(name)`` is called at each point where a crash must be survivable:
    after_validate, after_render, after_compose, after_deliver, after_reject_files,
    after_notify, after_mail_files, before_move, after_move.
    """
    row = jobs.get_job(conn, job_id)
    while not JobState(row["state"]).terminal:
        STEPS[JobState(row["state"])](conn, row, ctx, checkpoint)
        row = jobs.get_job(conn, job_id)
    return row


def _check_job(conn: sqlite3.Connection, row: sqlite3.Row, ctx: JobContext, cp: Checkpoint):
    """Claimed (or validated before a crash): check, then render the pack or write the rejection."""
    source = _claimed_file(row, ctx)
    if year_actions.is_returned_csv(source):
        _returned_csv_job(conn, row, ctx, cp, source)
        return
    checked = check(source, ctx.rubric, ctx.settings)
    if checked.ok:
        _render_job(conn, row, ctx, cp, checked)
    else:
        _reject_job(conn, row, ctx, cp, checked)


def _render_job(conn, row, ctx: JobContext, cp: Checkpoint, checked: Checked) -> None:
    job_id = row["job_id"]
    sub = checked.submission
    selected = select_for_moderation(sub, ctx.rubric, ctx.settings)
    data = submission_to_dict(sub)
    # Decided once: a step repeated after a crash issues what the first attempt planned.
    if row["issue"]:
        issue = issue_from_dict(json.loads(row["issue"]))
    else:
        issue = plan_issue(conn, sub, ctx.rubric, job_id=job_id)
    jobs.update_job(
        conn,
        job_id,
        state=JobState.VALIDATED,
        audit_ref=sub.audit_ref,
        stage=str(sub.audit_stage) if sub.audit_stage else None,
        data=json.dumps(data, ensure_ascii=False),
        moderation_selected=None if selected is None else int(selected),
        issue=json.dumps(issue_to_dict(issue)),
        error_count=0,
        findings=json.dumps(sorted(checked.report.codes())),
    )
    cp("after_validate")
    # A pack made from the same bytes keeps its version, so rendering again after a crash
    # replaces that pack rather than adding a version.
    pack = render(
        checked,
        ctx.rubric,
        ctx.settings,
        ctx.folders.outbox,
        moderation_selected=selected,
        awaiting_decision=issue.awaiting_decision,
        decision=issue.decision,
        storyboard_only=issue.storyboard_only,
        lock_dir=ctx.folders.locks,
    )
    cp("after_render")
    # The pack's messages are composed here, in the worker that made it, and stored in the
    # same transaction that records the pack: one commit, and never a pack without them.
    try:
        composed = _compose_pack_emails(conn, row, ctx, sub, pack, selected, issue, checked.sha256)
        problems: Sequence[tuple[str, str]] = ()
    except outbox.NotComposable as exc:
        composed, problems = None, exc.problems
    cp("after_compose")
    with conn:
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
            issue=issue_kind(issue),
        )
        if issue.decision is not None and issue.decision.outcome is ReferralOutcome.REPLACED:
            audits.mark_replacement_issued(
                conn, audit_ref=sub.audit_ref, issued_version=pack.version
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
        if composed is not None:
            outbox.store_pack(conn, composed, ctx.settings)
            jobs.update_job(conn, job_id, state=JobState.DELIVERED)
    if composed is None:
        _reject_not_composable(conn, jobs.get_job(conn, job_id), ctx, cp, problems)
        return
    cp("after_deliver")


def _compose_pack_emails(
    conn, row, ctx: JobContext, sub: Submission, pack: Pack, selected, issue: Issue, sha256: str
) -> outbox.PackMail:
    """Return every message the pack needs, composed (raises outbox.NotComposable)."""
    return outbox.plan_pack(
        conn,
        job_id=row["job_id"],
        content=row["sha256"] or sha256,
        submission=sub,
        pack=pack,
        settings=ctx.settings,
        moderation_selected=selected,
        issue=issue,
        section_names=section_names(ctx.rubric),
    )


def _returned_csv_job(conn, row, ctx: JobContext, cp: Checkpoint, source: Path) -> None:
    """A supervision CSV returned with its actions' statuses: record them, or reject it (to
    the audit's auditor when the CSV names a Final audit, else to the QA admin)."""
    today = clock.today()
    returned = year_actions.read(source, conn, today)
    if not returned.ok:
        auditor = year_actions.auditor_of(conn, returned.audit_ref) if returned.audit_ref else ""
        checked = Checked(source, row["sha256"] or "", None, returned.report)
        _reject_job(conn, row, ctx, cp, checked, auditor_email=auditor)
        return
    year_actions.record_returned(conn, returned, today)
    cp("after_validate")
    jobs.update_job(
        conn,
        row["job_id"],
        state=JobState.DELIVERED,
        audit_ref=returned.audit_ref,
        dest_dir=str(ctx.folders.dated("processed")),
    )


def give_up(conn: sqlite3.Connection, job_id: str, ctx: JobContext, over: str) -> bool:
    """Reject a job whose worker went over its ``over`` limit ("memory" or "time") while
    checking the workbook or making its pack; return True once the rejection is written.

    Returns False, changing nothing, for a job past that point: the limit was then not about
    the workbook, and the job is retried as usual. The job goes on from INVALID: its
    rejection is queued to the auditor (when known) and the workbook filed in rejected/.
    """
    row = jobs.get_job(conn, job_id)
    if row is None or row["state"] not in (JobState.CLAIMED, JobState.VALIDATED):
        return False
    service = ctx.settings.service
    finding = too_large_to_check(over, service.worker_memory_mb, service.job_timeout_seconds)
    source = ctx.folders.job_file(job_id, row["source_name"])
    checked = Checked(source, row["sha256"] or "", None, Report((finding,)))
    auditor = json.loads(row["data"]).get("auditor_email", "") if row["data"] else ""
    _reject_job(conn, row, ctx, _no_checkpoint, checked, auditor_email=auditor)
    return True


def _reject_job(
    conn, row, ctx: JobContext, cp: Checkpoint, checked: Checked, auditor_email: str = ""
) -> None:
    job_id = row["job_id"]
    sub = checked.submission
    dest = Path(row["dest_dir"]) if row["dest_dir"] else ctx.folders.dated("rejected")
    make_private_dir(dest)
    # A reference that failed a rule may carry the child's name or a forged log line: the
    # ledger, the log, `status` and the file names use only one that passed (else the job id).
    ref = rules.accepted_reference(sub, ctx.settings.validation)
    stem = row["out_stem"] or rejection_stem(ref, job_id, dest)
    jobs.update_job(
        conn,
        job_id,
        audit_ref=ref,
        stage=str(sub.audit_stage) if sub and sub.audit_stage else None,
        error_count=len(checked.report.errors),
        findings=json.dumps(sorted(checked.report.codes())),
        dest_dir=str(dest),
        out_stem=stem,
    )
    written = write_rejection(checked, dest, stem)
    cp("after_reject_files")
    rejection = {
        "auditor_email": (sub.auditor_email if sub else auditor_email) or "",
        "attachments": [attachment_to_dict(a) for a in written],
        "report": report_to_dict(checked.report),
    }
    jobs.update_job(
        conn, job_id, state=JobState.INVALID, rejection=json.dumps(rejection, ensure_ascii=False)
    )


def _queue_pack_emails(conn, row, ctx: JobContext, cp: Checkpoint) -> None:
    """Rendered (a job recorded by an earlier release): queue every message the pack needs,
    and record it delivered, in one transaction (idempotent by Message-ID).

    A message that cannot be written (an address or name no email can hold) queues nothing
    and turns the job into a rejection: the workbook goes to rejected/ with its findings.
    """
    selected = row["moderation_selected"]
    try:
        composed = _compose_pack_emails(
            conn,
            row,
            ctx,
            submission_from_dict(json.loads(row["data"])),
            pack_from_dict(json.loads(row["pack"])),
            None if selected is None else bool(selected),
            issue_from_dict(json.loads(row["issue"]) if row["issue"] else None),
            row["sha256"],
        )
    except outbox.NotComposable as exc:
        _reject_not_composable(conn, row, ctx, cp, exc.problems)
        return
    with conn:
        outbox.store_pack(conn, composed, ctx.settings)
        jobs.update_job(conn, row["job_id"], state=JobState.DELIVERED)
    cp("after_deliver")


def section_names(rubric: Rubric) -> dict[str, str]:
    """Return the rubric's section names by key (for the notices that list ratings)."""
    return {s.key: s.name for s in rubric.sections}


def _queue_rejection_email(conn, row, ctx: JobContext, cp: Checkpoint) -> None:
    """Rejection files written: queue the message to the auditor (or the QA admin)."""
    info = json.loads(row["rejection"])
    outbox.enqueue_rejection(
        db.db_path(ctx.folders.state),
        job_id=row["job_id"],
        audit_ref=row["audit_ref"],
        auditor_email=info["auditor_email"] or None,
        report=report_from_dict(info["report"]),
        attachments=[attachment_from_dict(a) for a in info["attachments"]],
        settings=ctx.settings,
    )
    cp("after_notify")
    jobs.update_job(conn, row["job_id"], state=JobState.NOTIFIED)


def _reject_not_composable(
    conn, row, ctx: JobContext, cp: Checkpoint, problems: Sequence[tuple[str, str]]
) -> None:
    """Rendered, but its email cannot be written: reject the workbook instead (no email sent).

    The pack stays in the outbox, unsent; the rejection goes to rejected/, not processed/.
    """
    if row["out_stem"] is None:  # not begun: the rejection's folder replaces processed/
        jobs.update_job(conn, row["job_id"], dest_dir=str(ctx.folders.dated("rejected")))
        row = jobs.get_job(conn, row["job_id"])
    checked = check(_claimed_file(row, ctx), ctx.rubric, ctx.settings)
    _reject_job(conn, row, ctx, cp, not_composable(checked, problems, ctx.rubric))


def _file_workbook(conn, row, ctx: JobContext, cp: Checkpoint) -> None:
    """Emails queued: write them as files when there is no mail server, then move the
    workbook to processed/ or rejected/ (its name decided once)."""
    job_id = row["job_id"]
    end = JobState.PROCESSED if row["state"] == JobState.DELIVERED else JobState.REJECTED
    # Without a mail server, this worker writes the job's email files now (recorded message by
    # message, so never twice), rather than leave them all to the service process.
    outbox.write_job_files(conn, ctx.settings, outbox=ctx.folders.outbox, job_id=job_id)
    cp("after_mail_files")
    source = ctx.folders.job_file(job_id, row["source_name"])
    final = Path(row["final_path"]) if row["final_path"] else None
    if final is None or len(final.name.encode("utf-8")) > NAME_MAX:  # (chosen by an old release)
        folder = make_private_dir(Path(row["dest_dir"] or ctx.folders.dated(end)))
        final = free_name(folder, row["source_name"])
        jobs.update_job(conn, job_id, final_path=str(final))
    if end is JobState.PROCESSED and source.exists() and not year_actions.is_returned_csv(source):
        _without_stale_marks(source)
    cp("before_move")
    if source.exists():
        move(source, final)
        cp("after_move")
    elif not final.exists():
        raise FileNotFoundError(2, "The claimed workbook is missing", "<workbook>")
    with contextlib.suppress(OSError):
        source.parent.rmdir()
    jobs.update_job(conn, job_id, state=end, finished_at=db.now())


def end_state_when_set_aside(state: str) -> JobState:
    """Return how a job that keeps failing in ``state`` ends when its workbook is set aside.

    Once its emails are queued (delivered, notified) the job's work is done and only filing
    failed: it ends processed or rejected, so the same workbook dropped again is a duplicate
    and nothing is sent twice. Before that it ends failed, and dropping it again retries it.
    """
    return {
        JobState.DELIVERED: JobState.PROCESSED,
        JobState.NOTIFIED: JobState.REJECTED,
    }.get(JobState(state), JobState.FAILED)


def _without_stale_marks(workbook: Path) -> None:
    """Archive a fixed marked copy without its old Errors sheet, highlights and notes.

    The pack was made from the bytes as received (the manifest's SHA-256); only the archived
    copy in processed/ is cleaned. A file openpyxl cannot rewrite is archived as received.
    """
    try:
        unmark(workbook)
    except OSError:
        raise  # a full disk or a share gone away: the step is tried again
    except Exception:  # openpyxl raises many kinds for a file it cannot rewrite
        return


def _claimed_file(row: sqlite3.Row, ctx: JobContext) -> Path:
    """Return the claimed workbook of ``row``; raise FileNotFoundError when it has gone."""
    source = ctx.folders.job_file(row["job_id"], row["source_name"])
    if not source.exists():
        raise FileNotFoundError(2, "The claimed workbook is missing", "<workbook>")
    return source


STEPS: dict[JobState, Callable[..., None]] = {
    JobState.CLAIMED: _check_job,
    JobState.VALIDATED: _check_job,
    JobState.RENDERED: _queue_pack_emails,
    JobState.INVALID: _queue_rejection_email,
    JobState.DELIVERED: _file_workbook,
    JobState.NOTIFIED: _file_workbook,
}
