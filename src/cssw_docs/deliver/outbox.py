"""The outbox: queue the messages of a pack or a rejection, send what is due, retry.

The service's workers compose a pack's messages (:func:`plan_pack`) and store them
(:func:`store_pack`) in the transaction that records the pack; the CLI calls
:func:`enqueue_pack`, which does both. :func:`enqueue_rejection` follows writing a rejected
workbook's files, and the watcher calls :func:`send_pending`. Messages are built completely
when queued, so a retry needs nothing but the ledger.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import addresses
from ..config import MailSettings, Settings
from ..models import Attachment, MailState, Pack, Report, Route, Submission
from ..store import mail
from ..store.db import connect as connect_ledger
from ..store.db import db_path as ledger_db_path
from ..store.db import transaction
from . import alerts, compose, routes, transport
from .routes import Delivery

log = logging.getLogger(__name__)
# Messages of one event, composed before any is stored: a Message-ID already queued, or the
# message with who may not receive it.
Planned = list[str | tuple[mail.Outgoing, list[routes.Refused]]]
# Writes the caller's own row in the transaction that stores its messages (their IDs given).
Recorder = Callable[[sqlite3.Connection, list[str]], None]

# How each mail state reads to people (`status`, `mail status`, what a send run did).
STATE_WORDS: dict[MailState, str] = {
    MailState.PENDING: "waiting",
    MailState.SENDING: "being sent",
    MailState.SENT: "sent",
    MailState.FAILED: "failed",
    MailState.BLOCKED: "blocked",
    MailState.POSSIBLY_DELIVERED: "possibly delivered",
}
WRITTEN_NOT_SENT = "written, not sent (no mail server set)"


def state_words(state: MailState | str, settings: MailSettings) -> str:
    """Return how a mail state reads: a "sent" message is only written when no server is set."""
    if state == MailState.SENT and settings.files_only:
        return WRITTEN_NOT_SENT
    return STATE_WORDS.get(MailState(state), str(state))


# Messages recorded per transaction by a sender that cannot deliver one twice (.eml files).
IDEMPOTENT_GROUP = 16


@dataclass(frozen=True)
class SendSummary:
    """What one :func:`send_pending` run did, and what is left."""

    sent: int = 0
    failed: int = 0  # refused for good this run
    retrying: int = 0  # failed for now this run, will be tried again
    blocked: int = 0  # held back by the allowlist this run
    pending: int = 0  # still waiting after this run (all of them, not just this run's)
    last_error: str | None = None
    unconfirmed: int = 0  # possibly delivered this run: held, the QA admin told
    files_only: bool = False  # written as .eml files: no mail server is set

    def __str__(self) -> str:
        sent = WRITTEN_NOT_SENT if self.files_only else "sent"
        text = (
            f"{self.sent} {sent}, {self.retrying} to retry, {self.failed} failed, "
            f"{self.blocked} blocked, {self.pending} waiting"
        )
        if self.unconfirmed:
            text += f", {self.unconfirmed} possibly delivered (not sent again)"
        return f"{text}. Last problem: {self.last_error}" if self.last_error else text


class NotComposable(Exception):
    """A message for a workbook's own people cannot be written: a problem with the workbook.

    ``problems`` are (field, reason) pairs; the field is ``""`` when no one cell is the cause.
    Nothing of the job was queued when this is raised. The pipeline rejects the workbook.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{f or 'the email'}: {r}" for f, r in self.problems))


class SendingRefused(Exception):
    """The mail settings forbid sending (see ``routes.sending_problems``); str() says why."""


def check_settings(settings: Settings) -> None:
    """Raise SendingRefused when the mail settings must not be used to send anything."""
    problems = routes.sending_problems(settings.mail)
    if problems:
        raise SendingRefused(" ".join(problems))


def _local_today(now: dt.datetime) -> dt.date:
    return now.astimezone().date()


def _store(
    conn,
    outgoing: mail.Outgoing,
    refused: list[routes.Refused],
    settings: Settings,
    *,
    ref: str,
    when: dt.datetime,
) -> list[str]:
    """Queue one message, or hold it back and queue the QA admin's notice; return the IDs."""
    if not refused:
        if mail.add(conn, outgoing, when=when):
            log.info("queued %s message %s for %s", outgoing.route, outgoing.message_id, ref)
        return [outgoing.message_id]
    return [outgoing.message_id, *_block(conn, outgoing, refused, settings, ref=ref, when=when)]


def _block_reason(refused: list[routes.Refused]) -> str:
    """Return the reason recorded for a blocked message (``mail status`` shows it)."""
    parts = []
    outside = [r.address for r in refused if not r.unusable]
    if outside:
        parts.append("these addresses are outside mail.allowed_domains: " + ", ".join(outside))
    unusable = [str(r) for r in refused if r.unusable]
    if unusable:
        parts.append("these addresses are not one plain email address: " + ", ".join(unusable))
    return "Not sent: " + "; ".join(parts)


def _block(
    conn,
    outgoing: mail.Outgoing,
    refused: list[routes.Refused],
    settings: Settings,
    *,
    ref: str,
    when: dt.datetime,
) -> list[str]:
    """Store the message as blocked and queue a notice (no pack) to ``mail.qa_admin``."""
    reason = _block_reason(refused)
    if not mail.add(conn, outgoing, when=when, state=MailState.BLOCKED, error=reason):
        mail.mark(conn, outgoing.message_id, MailState.BLOCKED, reason, when)
    log.warning(
        "%s message %s for %s blocked: %d address(es) outside the allowed domains or unusable",
        outgoing.route,
        outgoing.message_id,
        ref,
        len(refused),
    )
    if outgoing.route == Route.BLOCKED_NOTICE:
        return []
    admins = routes.blocked_notice_route(settings.mail)
    if not admins.to:
        log.warning("no usable mail.qa_admin address is configured, so nobody was told")
        return []
    notice_id = compose.message_id(outgoing.message_id, Route.BLOCKED_NOTICE)
    if mail.exists(conn, notice_id):
        return [notice_id]
    blocks = compose.blocked_notice_body(
        ref=ref,
        route=Route(outgoing.route),
        blocked_id=outgoing.message_id,
        outside=[r.address for r in refused if not r.unusable],
        unusable=[str(r) for r in refused if r.unusable],
        settings=settings,
    )
    notice, refused_too = _prepare(
        msg_id=notice_id,
        job_id=outgoing.job_id,
        ref=ref,
        delivery=admins,
        subject=compose.subject_for(Route.BLOCKED_NOTICE, settings.render.marking, ref),
        blocks=blocks,
        attachments=(),
        settings=settings,
        when=when,
    )
    return _store(conn, notice, refused_too, settings, ref=ref, when=when)


def _outgoing(
    *,
    msg_id: str,
    job_id: str,
    ref: str,
    delivery: Delivery,
    subject: str,
    blocks: list[compose.Block],
    attachments: tuple[Attachment, ...],
    settings: Settings,
    when: dt.datetime,
) -> mail.Outgoing:
    """Return the message composed for the outbox; raise NotComposable when it cannot be.

    A broken email template or an unreadable attachment is not the workbook's fault and is
    raised as it is (the job is tried again); so is an unusable ``mail.sender``.
    """
    check_sender(settings)
    try:
        msg = compose.build_message(
            msg_id=msg_id,
            subject=subject,
            delivery=delivery,
            blocks=blocks,
            attachments=attachments,
            settings=settings,
            when=when,
        )
        data = msg.as_bytes()
    except (compose.EmailTemplateError, OSError):
        raise
    except Exception as exc:  # anything else about this message's content is permanent
        log.warning(
            "%s message %s could not be written: %s", delivery.route, msg_id, type(exc).__name__
        )
        raise NotComposable([("", f"the {delivery.route} email could not be written")]) from exc
    return mail.Outgoing(
        message_id=msg_id,
        job_id=job_id,
        audit_ref=ref,
        route=delivery.route,
        sender=settings.mail.sender,
        recipients=delivery.recipients,
        subject=str(msg["Subject"]),
        data=data,
    )


def check_sender(settings: Settings) -> None:
    """Raise SendingRefused when ``mail.sender`` cannot be the From (a settings error)."""
    problem = routes.sender_problem(settings.mail)
    if problem is not None:
        raise SendingRefused(problem)


def _prepare(
    *,
    msg_id: str,
    job_id: str,
    ref: str,
    delivery: Delivery,
    subject: str,
    blocks: list[compose.Block],
    attachments: tuple[Attachment, ...],
    settings: Settings,
    when: dt.datetime,
) -> tuple[mail.Outgoing, list[routes.Refused]]:
    """Return the message to queue and who may not receive it (then it is stored blocked).

    A message to an address that is not one plain address is never composed (it could never
    be sent): it is stored without content, so no retry can send it.
    """
    refused = routes.refused((*delivery.to, *delivery.cc), settings.mail.allowed_domains)
    if any(r.unusable for r in refused):
        never = mail.Outgoing(
            msg_id,
            job_id,
            ref,
            delivery.route,
            settings.mail.sender,
            delivery.recipients,
            " ".join(subject.split()),
            b"",
        )
        return never, refused
    outgoing = _outgoing(
        msg_id=msg_id,
        job_id=job_id,
        ref=ref,
        delivery=delivery,
        subject=subject,
        blocks=blocks,
        attachments=attachments,
        settings=settings,
        when=when,
    )
    return outgoing, refused


@dataclass(frozen=True)
class PackMail:
    """Every message of one pack, composed and not yet stored (see :func:`plan_pack`)."""

    planned: Planned
    ref: str
    when: dt.datetime


def enqueue_pack(
    db: Path,
    *,
    job_id: str,
    submission: Submission,
    pack: Pack,
    settings: Settings,
    moderation_selected: bool | None = None,
    issue: routes.Issue | None = None,
    section_names: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    content: str | None = None,
) -> list[str]:
    """Queue every message a rendered pack needs; return their Message-IDs.

    ``issue`` says what the pack issues beyond its stage (awaiting the Head of QA, decided, a
    storyboard on its own); ``section_names`` names the rubric's sections in notices.

    Idempotent: calling it again for the same job queues nothing new. ``content`` (the
    workbook's SHA-256) makes the Message-IDs those of the pack's content rather than of the
    job, so a later job for the very same workbook (one set aside in failed/ and dropped
    again) queues only what was never queued. Messages with an address that is not one plain
    address, or outside ``mail.allowed_domains``, are stored as ``blocked`` and
    ``mail.qa_admin`` is told. Raises NotComposable, queueing nothing, when the workbook's own
    addresses or names cannot go into an email.
    """
    conn = connect_ledger(db)
    try:
        composed = plan_pack(
            conn,
            job_id=job_id,
            submission=submission,
            pack=pack,
            settings=settings,
            moderation_selected=moderation_selected,
            issue=issue,
            section_names=section_names,
            now=now,
            content=content,
        )
        with conn:  # one transaction: every message of the pack, or none
            return store_pack(conn, composed, settings)
    finally:
        conn.close()


def plan_pack(
    conn: sqlite3.Connection,
    *,
    job_id: str,
    submission: Submission,
    pack: Pack,
    settings: Settings,
    moderation_selected: bool | None = None,
    issue: routes.Issue | None = None,
    section_names: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    content: str | None = None,
) -> PackMail:
    """Return every message a rendered pack needs, composed but not stored (see
    :func:`enqueue_pack` for the arguments); raise NotComposable as it does.

    The worker that made the pack composes them, then stores them with :func:`store_pack`
    in the same ledger transaction that records the pack.
    """
    when = now or mail.utcnow()
    today = _local_today(when)
    ref = compose.safe_reference(pack.audit_ref, submission)
    problems = routes.workbook_problems(submission)
    if problems:
        raise NotComposable(problems)
    planned: Planned = []
    for delivery in routes.pack_routes(
        submission, pack, settings.mail, moderation_selected=moderation_selected, issue=issue
    ):
        msg_id = compose.message_id(content or job_id, pack.stage, pack.version, delivery.route)
        if mail.exists(conn, msg_id):
            planned.append(msg_id)
            continue
        files = tuple(a for a in delivery.attachments if a.path.exists())
        oversize = compose.too_big(files, transport.attachment_limit_mb(settings.mail))
        attach = () if oversize else files
        blocks = compose.pack_body(
            delivery,
            submission,
            pack,
            settings,
            today=today,
            attachments=attach,
            oversize=oversize,
            moderation_selected=moderation_selected,
            issue=issue,
            section_names=section_names,
        )
        subject = compose.subject_for(delivery.route, settings.render.marking, ref)
        planned.append(
            _prepare(
                msg_id=msg_id,
                job_id=job_id,
                ref=ref,
                delivery=delivery,
                subject=subject,
                blocks=blocks,
                attachments=attach,
                settings=settings,
                when=when,
            )
        )
    return PackMail(planned, ref, when)


def store_pack(conn: sqlite3.Connection, composed: PackMail, settings: Settings) -> list[str]:
    """Store the messages :func:`plan_pack` composed; return every Message-ID.

    Run it inside the caller's transaction (``with conn:``) so that the messages and the
    record of the pack are written together, with one commit.
    """
    return _store_planned(conn, composed.planned, settings, ref=composed.ref, when=composed.when)


def enqueue_notices(
    db: Path,
    *,
    key: str,
    submission: Submission,
    notices: Sequence[tuple[Delivery, Mapping[str, object]]],
    settings: Settings,
    now: dt.datetime | None = None,
    record: Recorder | None = None,
) -> list[str]:
    """Queue messages about an audit that are not part of a pack; return their Message-IDs.

    ``key`` names the event (a decision, a panel date, a panel outcome, a reminder): the
    Message-IDs come from it and the route, so queueing the same event again queues nothing
    new. Each notice is a delivery (with any files it carries) and its template's own
    variables. Like :func:`enqueue_pack`, every message is composed before any is stored;
    unusable or outside addresses are blocked. ``record(conn, ids)`` writes the caller's own
    row in the same transaction as the messages (a reminder's occasion). Raises
    NotComposable, queueing nothing, when the audit's own addresses or names cannot be used.
    """
    when = now or mail.utcnow()
    ref = compose.safe_reference(submission.audit_ref, submission)
    problems = routes.workbook_problems(submission)
    if problems:
        raise NotComposable(problems)
    conn = connect_ledger(db)
    try:
        planned: Planned = []
        for delivery, context in notices:
            if not delivery.to:
                continue
            msg_id = compose.message_id(key, delivery.route)
            if mail.exists(conn, msg_id):
                planned.append(msg_id)
                continue
            files = tuple(a for a in delivery.attachments if a.path.exists())
            planned.append(
                _prepare(
                    msg_id=msg_id,
                    job_id=key,
                    ref=ref,
                    delivery=delivery,
                    subject=compose.subject_for(delivery.route, settings.render.marking, ref),
                    blocks=compose.notice_body(delivery, submission, context, settings, files),
                    attachments=files,
                    settings=settings,
                    when=when,
                )
            )
        return _store_recorded(conn, planned, settings, ref=ref, when=when, record=record)
    finally:
        conn.close()


def enqueue_digest(
    db: Path,
    *,
    key: str,
    delivery: Delivery,
    context: Mapping[str, object],
    settings: Settings,
    now: dt.datetime | None = None,
    record: Recorder | None = None,
) -> list[str]:
    """Queue a message about several audits (the weekly actions digest); return its IDs.

    Its free text must already be without children's names (``oversight.records`` gives it
    so). Idempotent by ``key``; ``record`` as for :func:`enqueue_notices`.
    """
    when = now or mail.utcnow()
    conn = connect_ledger(db)
    try:
        planned: Planned = []
        msg_id = compose.message_id(key, delivery.route)
        if not delivery.to:
            pass
        elif mail.exists(conn, msg_id):
            planned.append(msg_id)
        else:
            planned.append(
                _prepare(
                    msg_id=msg_id,
                    job_id=key,
                    ref=compose.DIGEST_REF,
                    delivery=delivery,
                    subject=compose.subject_for(
                        delivery.route, settings.render.marking, compose.DIGEST_REF
                    ),
                    blocks=compose.digest_body(delivery, context, settings),
                    attachments=(),
                    settings=settings,
                    when=when,
                )
            )
        return _store_recorded(
            conn, planned, settings, ref=compose.DIGEST_REF, when=when, record=record
        )
    finally:
        conn.close()


def _store_recorded(
    conn, planned: Planned, settings: Settings, *, ref: str, when: dt.datetime, record
) -> list[str]:
    """Store the messages, and the caller's record with them in one transaction."""
    with transaction(conn):  # every message of the event, and its record, or none
        ids = _store_planned(conn, planned, settings, ref=ref, when=when)
        if record is not None:
            record(conn, ids)
    return ids


def _store_planned(
    conn, planned: Planned, settings: Settings, *, ref: str, when: dt.datetime
) -> list[str]:
    """Store messages composed beforehand (an ID: queued already); return every Message-ID.

    Every message is composed before any is stored, so none goes out half a pack.
    """
    ids: list[str] = []
    for item in planned:
        if isinstance(item, str):
            ids.append(item)
        else:
            ids += _store(conn, *item, settings, ref=ref, when=when)
    return ids


def enqueue_rejection(
    db: Path,
    *,
    job_id: str,
    audit_ref: str | None,
    auditor_email: str | None,
    report: Report,
    attachments: Sequence[Attachment],
    settings: Settings,
    now: dt.datetime | None = None,
) -> list[str]:
    """Queue the rejection for the auditor (or ``mail.qa_admin`` when unknown); return the IDs.

    ``attachments`` are the marked workbook and the problems text, each with its kind. The
    auditor gets it only at exactly one plain address; when their address is missing or not
    usable, or their message cannot be written, it goes to the QA admin instead.
    ``audit_ref`` is the reference only when it passed every reference rule (else None): the
    message names the workbook by it, or by when it arrived, never by its file name.
    """
    when = now or mail.utcnow()
    files = tuple(a for a in attachments if a.path.exists())
    delivery = routes.rejection_route(auditor_email, settings.mail, files)
    conn = connect_ledger(db)
    try:
        if delivery is not None and delivery.route == Route.REJECTION:
            try:
                return _queue_rejection(
                    conn, delivery, job_id, audit_ref, report, files, settings, when, None
                )
            except NotComposable:
                log.warning(
                    "rejection for job %s: the auditor's email could not be written", job_id
                )
                delivery = routes.admin_route(Route.REJECTION_ADMIN, settings.mail, files)
                why = "the email to the auditor's address in the workbook could not be written"
        else:
            why = _auditor_problem(auditor_email)
        if delivery is None:
            log.warning(
                "rejection for job %s: no usable auditor address and no mail.qa_admin", job_id
            )
            return []
        return _queue_rejection(
            conn, delivery, job_id, audit_ref, report, files, settings, when, why
        )
    finally:
        conn.close()


def _auditor_problem(auditor_email: str | None) -> str | None:
    """Return why a rejection does not go to a given auditor's address (None: none given)."""
    email = (auditor_email or "").strip()
    if not email:
        return None
    problem = addresses.address_problem(email)
    return (
        f"the auditor's email address in the workbook is not usable, as {problem}"
        if problem
        else None
    )


def _queue_rejection(
    conn,
    delivery: Delivery,
    job_id: str,
    audit_ref: str | None,
    report: Report,
    files: tuple[Attachment, ...],
    settings: Settings,
    when: dt.datetime,
    auditor_problem: str | None,
) -> list[str]:
    ref = compose.REJECTED_REF
    msg_id = compose.message_id(job_id, "rejection", delivery.route)
    if mail.exists(conn, msg_id):
        return [msg_id]
    oversize = compose.too_big(files, transport.attachment_limit_mb(settings.mail))
    attach = () if oversize else files
    blocks = compose.rejection_body(
        delivery,
        compose.workbook_words(audit_ref, job_id, when),
        report,
        settings,
        attachments=attach,
        oversize=oversize,
        auditor_problem=auditor_problem,
    )
    outgoing, refused = _prepare(
        msg_id=msg_id,
        job_id=job_id,
        ref=ref,
        delivery=delivery,
        # The subject names the audit only by a reference that passed every reference rule.
        subject=compose.subject_for(delivery.route, settings.render.marking, audit_ref or ""),
        blocks=blocks,
        attachments=attach,
        settings=settings,
        when=when,
    )
    return _store(conn, outgoing, refused, settings, ref=ref, when=when)


def _backoff(attempts: int, settings: Settings) -> float:
    base = max(settings.mail.retry_base_seconds, 1.0)
    return min(base * 2 ** max(attempts - 1, 0), max(settings.mail.retry_max_seconds, base))


def send_pending(
    db: Path,
    settings: Settings,
    *,
    outbox: Path,
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> SendSummary:
    """Send every message that is due, record each result, and return what happened.

    A message is marked sent only after the server accepted it; a crash in between means it is
    sent again, with the same Message-ID. Errors with one message never escape: they are
    recorded per message. Raises SendingRefused, sending nothing, when the mail settings forbid
    sending (SMTP with an empty ``mail.allowed_domains``, see ``routes.sending_problems``).
    """
    check_settings(settings)
    when = now or mail.utcnow()
    conn = connect_ledger(db)
    try:
        with transport.open_sender(
            settings.mail, Path(outbox), today=_local_today(when), environ=environ
        ) as sender:
            counts, last_error = _send_due(conn, sender, settings, when)
        alerts.after_run(db, transport.stopped_by(sender), sent=counts["sent"], when=when)
        pending = mail.counts(conn)[MailState.PENDING]
    finally:
        conn.close()
    return SendSummary(
        pending=pending,
        last_error=last_error,
        files_only=settings.mail.files_only,
        **counts,
    )


def write_job_files(
    conn: sqlite3.Connection, settings: Settings, *, outbox: Path, job_id: str
) -> int:
    """Write the due messages of one job as ``.eml`` files now; return how many were written.

    Only when no mail server is configured (``mail.files_only``): then "sending" is writing a
    file named by the Message-ID, which the worker that made the pack does at once rather
    than leave every file to the service process. With a mail server nothing happens here (the
    service's sender sends). Like :func:`send_pending`, it records each message as it goes,
    in the ledger, so nothing is written twice; a problem is recorded and retried there.
    """
    if not settings.mail.files_only or routes.sending_problems(settings.mail):
        return 0
    when = mail.utcnow()
    with transport.open_sender(settings.mail, Path(outbox), today=_local_today(when)) as sender:
        counts, _ = _send_due(conn, sender, settings, when, job_id=job_id)
    return counts["sent"]


def _send_due(
    conn: sqlite3.Connection, sender, settings: Settings, when: dt.datetime, job_id: str = ""
) -> tuple[dict[str, int], str | None]:
    """Send the due messages (of ``job_id`` only, if given); return the counts and last error.

    A sender that cannot deliver a message twice (files named by Message-ID) records a group
    of messages in one transaction (a crash before its commit leaves them due, and writing
    them again replaces the same files). Any other records each step of each message on its
    own: the claim is committed before the message goes out, so a crash while sending is
    counted as a possible delivery and never sends it unnoticed again.
    """
    lease = settings.mail.timeout_seconds * 4 + 60
    counts = {"sent": 0, "failed": 0, "retrying": 0, "blocked": 0, "unconfirmed": 0}
    last_error: str | None = None
    seen: set[str] = set()
    idempotent = getattr(sender, "idempotent", False)
    group = IDEMPOTENT_GROUP if idempotent else 1
    while True:
        batch = [r for r in mail.due(conn, when, job_id) if r["message_id"] not in seen]
        if not batch:
            break
        for start in range(0, len(batch), group):
            with conn if idempotent else contextlib.nullcontext():
                for row in batch[start : start + group]:
                    seen.add(row["message_id"])
                    result = _send_one(conn, sender, row, settings, when, lease)
                    if result is None:
                        continue
                    state, error = result
                    counts[state] += 1
                    last_error = error or last_error
    return counts, last_error


def _send_one(conn, sender, row, settings: Settings, when: dt.datetime, lease: float):
    """Send one due message; return (summary key, error) or None when another sender has it."""
    msg_id = row["message_id"]
    recipients = json.loads(row["recipients"])
    # Checked again: the allowlist may have been tightened since the message was queued.
    refused = routes.refused(tuple(recipients), settings.mail.allowed_domains)
    data = mail.message_bytes(conn, msg_id)
    if not data:  # never composed (an unusable address): it can never be sent
        refused = refused or [
            routes.Refused("(every recipient)", "the message was never written", True)
        ]
    if refused:
        outgoing = mail.Outgoing(
            msg_id, row["job_id"], row["audit_ref"], row["route"], row["sender"], (), "", b""
        )
        _block(conn, outgoing, refused, settings, ref=row["audit_ref"], when=when)
        return "blocked", None
    limit = row["allowed_deliveries"] or max(settings.mail.max_deliveries, 1)
    if row["deliveries"] >= limit:
        error = (
            f"Handed to the mail server {row['deliveries']} time(s) without a confirmed "
            f"delivery (mail.max_deliveries = {limit}), so it is not sent again by itself."
        )
        _possibly_delivered(conn, row, error, settings, when)
        return "unconfirmed", error
    if not mail.claim(conn, msg_id, when, lease):
        return None
    try:
        reply = sender.send(data, row["sender"], recipients, msg_id)
    except transport.TransportError as exc:
        error = str(exc)
        if exc.possibly_delivered:
            _possibly_delivered(conn, row, error, settings, when)
            return "unconfirmed", error
        mail.not_delivered(conn, msg_id)
        if exc.permanent:
            mail.mark(conn, msg_id, MailState.FAILED, error, when)
            log.error("%s message %s refused: %s", row["route"], msg_id, error)
            _tell_admin_refused(conn, row, {r: "" for r in recipients}, error, settings, when)
            return "failed", error
        delay = max(_backoff(row["attempts"] + 1, settings), exc.retry_after or 0.0)
        mail.mark_retry(conn, msg_id, error, when, delay)
        log.warning(
            "%s message %s not sent, retry in %.0f s: %s", row["route"], msg_id, delay, error
        )
        return "retrying", error
    refused = reply.refused if isinstance(reply, transport.Reply) else {}
    mail.mark_sent(conn, msg_id, str(reply), when, refused)
    if refused:
        log.warning(
            "%s message %s sent, but the server refused %d of %d recipient(s): %s",
            row["route"],
            msg_id,
            len(refused),
            len(recipients),
            reply,
        )
        _tell_admin_refused(conn, row, refused, None, settings, when)
    else:
        log.info("%s message %s sent: %s", row["route"], msg_id, reply)
    return "sent", None


def _possibly_delivered(conn, row, error: str, settings: Settings, when: dt.datetime) -> None:
    """Hold a message that may have arrived, and tell the QA admin rather than send it again."""
    msg_id = row["message_id"]
    mail.mark(conn, msg_id, MailState.POSSIBLY_DELIVERED, error, when)
    log.error("%s message %s possibly delivered, not sent again: %s", row["route"], msg_id, error)
    notice_id = compose.message_id(msg_id, Route.UNCONFIRMED_NOTICE, row["deliveries"])
    _tell_admin(
        conn,
        Route.UNCONFIRMED_NOTICE,
        notice_id,
        about=row,
        context={"reason": error},
        settings=settings,
        when=when,
    )


def _tell_admin_refused(
    conn, row, refused: Mapping[str, str], error: str | None, settings: Settings, when
) -> None:
    """Tell the QA admin who did not get a message the server refused (some or all)."""
    recipients = json.loads(row["recipients"])
    everyone = error is not None or set(refused) >= set(recipients)
    _tell_admin(
        conn,
        Route.REFUSED_NOTICE,
        compose.message_id(row["message_id"], Route.REFUSED_NOTICE),
        about=row,
        context={
            "everyone": everyone,
            "refused": [(r, refused.get(r) or (error or "")) for r in refused],
        },
        settings=settings,
        when=when,
    )


def _tell_admin(
    conn,
    route: Route,
    notice_id: str,
    *,
    about,
    context: dict,
    settings: Settings,
    when: dt.datetime,
) -> str | None:
    """Queue a notice about the outbox row ``about`` to ``mail.qa_admin``; return its ID.

    Never about a notice (no loops), never with the message's content: its subject (marking
    and checked reference), recipients and Message-ID only.
    """
    if Route(about["route"]) in compose.ADMIN_NOTICE_ROUTES:
        return None
    ref = about["audit_ref"]
    context = {
        "ref": ref,
        "rejected": ref == compose.REJECTED_REF,
        "route": Route(about["route"]).value,
        "subject": about["subject"],
        "recipients": json.loads(about["recipients"]),
        "message_id": about["message_id"].strip("<>"),
    } | context
    return _queue_notice(
        conn,
        route,
        notice_id,
        job_id=about["job_id"],
        ref=ref,
        blocks=compose.admin_notice_body(route, context, settings),
        settings=settings,
        when=when,
    )


def _queue_notice(
    conn,
    route: Route,
    notice_id: str,
    *,
    job_id: str,
    ref: str,
    blocks: list[compose.Block],
    settings: Settings,
    when: dt.datetime,
) -> str | None:
    """Queue one notice to ``mail.qa_admin`` (once per ID); return its ID, None if nobody."""
    admins = routes.notice_route(settings.mail, route)
    if not admins.to:
        log.warning("no mail.qa_admin address is configured, so nobody was told (%s)", route)
        return None
    if mail.exists(conn, notice_id):
        return notice_id
    notice, refused = _prepare(
        msg_id=notice_id,
        job_id=job_id,
        ref=ref,
        delivery=admins,
        subject=compose.subject_for(route, settings.render.marking, ref),
        blocks=blocks,
        attachments=(),
        settings=settings,
        when=when,
    )
    _store(conn, notice, refused, settings, ref=ref, when=when)
    return notice_id


def enqueue_failure_notice(
    db: Path,
    *,
    job_id: str,
    ref: str,
    context: Mapping[str, object],
    settings: Settings,
    now: dt.datetime | None = None,
) -> str | None:
    """Queue the QA admin's notice that job ``job_id`` was set aside; return its Message-ID.

    ``ref`` is the audit reference only when it passed the reference checks, else "".
    ``context`` fills ``failed-notice.txt`` (step, what, todo, folder, note, parked, done,
    attempts). Queued once per job.
    """
    when = now or mail.utcnow()
    blocks = compose.admin_notice_body(
        Route.FAILED_NOTICE, {"ref": ref, "job_id": job_id, **context}, settings
    )
    conn = connect_ledger(db)
    try:
        return _queue_notice(
            conn,
            Route.FAILED_NOTICE,
            compose.message_id(job_id, Route.FAILED_NOTICE),
            job_id=job_id,
            ref=ref,
            blocks=blocks,
            settings=settings,
            when=when,
        )
    finally:
        conn.close()


def outbox_db(settings: Settings) -> Path:
    """Return the ledger file the outbox lives in (``<service.state_dir>/ledger.sqlite3``)."""
    return ledger_db_path(Path(settings.service.state_dir))


def status(db: Path) -> tuple[dict[str, int], list[sqlite3.Row]]:
    """Return the count of messages per state and the rows of those not sent, oldest first."""
    conn = connect_ledger(db)
    try:
        waiting = (
            MailState.PENDING,
            MailState.SENDING,
            MailState.FAILED,
            MailState.BLOCKED,
            MailState.POSSIBLY_DELIVERED,
        )
        return mail.counts(conn), mail.rows(conn, states=waiting)
    finally:
        conn.close()


def partly_refused(db: Path) -> list[sqlite3.Row]:
    """Return the sent messages some recipients of which the server refused, oldest first."""
    conn = connect_ledger(db)
    try:
        return mail.partly_refused(conn)
    finally:
        conn.close()


def job_states(db: Path, job_id: str) -> dict[str, int]:
    """Return how many of a job's messages are in each state (e.g. to mark a blocked job)."""
    conn = connect_ledger(db)
    try:
        found = collections.Counter(r["state"] for r in mail.rows(conn, job_id=job_id))
    finally:
        conn.close()
    return {state: found.get(state, 0) for state in mail.STATES}


class UnknownMessage(ValueError):
    """A Message-ID given to :func:`retry` is not in the outbox, or is ambiguous."""


def retry(
    db: Path,
    settings: Settings,
    *,
    outbox: Path,
    message_ids: Sequence[str] = (),
    all_failed: bool = False,
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[list[str], SendSummary]:
    """Make the named (or all failed) messages due now, send what is due; return both.

    A Message-ID may be given without its angle brackets, or as its first 8+ characters.
    A blocked message is sent only if the allowlist now allows every address. A named
    message is sent once more even when it was possibly delivered or has reached
    ``mail.max_deliveries`` (a person has checked); ``all_failed`` never includes those.
    Raises SendingRefused, changing nothing, when the mail settings forbid sending.
    """
    check_settings(settings)
    when = now or mail.utcnow()
    conn = connect_ledger(db)
    try:
        everything = mail.rows(
            conn, states=(MailState.PENDING, MailState.FAILED, MailState.BLOCKED)
        )
        failed = [
            r["message_id"] for r in everything if all_failed and r["state"] == MailState.FAILED
        ]
        named = [_resolve(conn, given) for given in message_ids]
        requeued = [m for m in dict.fromkeys(named) if mail.requeue(conn, [m], when, force=True)]
        requeued += [
            m for m in dict.fromkeys(failed) if m not in requeued and mail.requeue(conn, [m], when)
        ]
    finally:
        conn.close()
    return requeued, send_pending(db, settings, outbox=outbox, now=when, environ=environ)


def _resolve(conn: sqlite3.Connection, given: str) -> str:
    key = given.strip().strip("<>").lower()
    if len(key) < 8:
        raise UnknownMessage(f"{given!r} is too short: give at least 8 characters of the ID.")
    found = [
        r["message_id"]
        for r in mail.rows(conn)
        if r["message_id"].strip("<>").lower().startswith(key)
    ]
    if not found:
        raise UnknownMessage(f"No message {given} in the outbox. See `cssw-docs mail status`.")
    if len(found) > 1:
        raise UnknownMessage(f"{given} matches {len(found)} messages: give more of the ID.")
    return found[0]
