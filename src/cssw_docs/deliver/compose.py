"""Building the email messages: subjects, plain-text and HTML bodies, attachments (pure).

The wording lives in Jinja text templates, one per route (``draft.txt``, ``final.txt`` ...):
the packaged ``email_templates/`` folder, overridden file by file by the QA unit's
``<render.templates_dir>/email/`` folder, as the Word templates are. A template writes a light
markup that becomes both bodies: paragraphs separated by blank lines, ``# `` a heading, ``- `` a
list item (indented lines continue it), and text between two ````` lines kept as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
)

from .. import rules
from ..config import Settings
from ..explain import explain
from ..folders import shown_path
from ..models import Attachment, Decision, DocKind, FileFormat, Pack, Report, Route, Submission
from ..privacy import redact
from ..rules import DECISION_MEANING, partly_agreed, referred_to_head_of_qa, shared_outside
from .routes import Delivery, Issue, Person

MESSAGE_ID_DOMAIN = "cssw-docs.local"
# Headers are not folded below 998 characters: folding a subject can leave a leading space.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)
REJECTED_REF = "(rejected workbook)"  # the reference used for a rejection's outbox rows
DIGEST_REF = "(actions digest)"  # ... and for the weekly actions digest's (several audits)
EMAIL_FOLDER = "email"  # the email templates' folder inside render.templates_dir

MIME_TYPES: dict[FileFormat, tuple[str, str]] = {
    FileFormat.DOCX: ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    FileFormat.PDF: ("application", "pdf"),
    FileFormat.CSV: ("text", "csv"),
    FileFormat.JSON: ("application", "json"),
    FileFormat.XLSX: ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    FileFormat.TEXT: ("text", "plain"),
}

PACK_ROUTES = (
    Route.DRAFT,
    Route.FINAL,
    Route.SUPERVISION,
    Route.STORYBOARD,
    Route.HEAD_OF_QA,
    Route.MODERATION,
    Route.UNDER_REVIEW,
    Route.GOOD_PRACTICE,
)
# The messages about an audit that are not part of a pack (the panel, a decision).
NOTICE_ROUTES = (
    Route.MODERATION_INVITATION,
    Route.MODERATION_OUTCOME,
    Route.GOOD_PRACTICE_CORRECTION,
    Route.REPLACEMENT_DUE,
    Route.PROGRAMME_WORKBOOK,
    Route.IDENTIFIED,
    Route.FEEDBACK_REMINDER,
    Route.REFERRAL_REMINDER,
    Route.NOT_STARTED_REMINDER,
)
# Messages about several audits at once (no one audit's people or reference).
DIGEST_ROUTES = (Route.ACTIONS_DIGEST,)


class EmailTemplateError(Exception):
    """An email template cannot be used; the message names it and says what to do."""


@dataclass(frozen=True)
class Pre:
    """A block of preformatted text (the validator's findings)."""

    text: str


@dataclass(frozen=True)
class Heading:
    """A short line introducing what follows ("What we ask you to do:"), bold in HTML."""

    text: str


# A body is a list of blocks: a paragraph (str), a bulleted list (tuple of str), Heading, Pre.
Block = str | tuple[str, ...] | Heading | Pre


@dataclass(frozen=True)
class Oversize:
    """Attachments too large to email together: their total, the limit and where they are."""

    total_mb: float
    limit_mb: float
    folder: Path


# --- Working days (the rule lives in rules.py; kept here for the templates' callers) ------

bank_holidays = rules.bank_holidays
add_working_days = rules.add_working_days


def long_date(day: dt.date) -> str:
    """Return a date as people write it, e.g. ``Wednesday 28 October 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# --- Identifiers and subjects --------------------------------------------------------------


def message_id(*parts: object) -> str:
    """Return the Message-ID made from ``parts`` (job, stage, version, route): same in, same out."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"<{digest[:40]}@{MESSAGE_ID_DOMAIN}>"


def safe_reference(audit_ref: str, sub: Submission | None = None) -> str:
    """Return the audit reference for a subject line, withheld if it holds a child identifier."""
    ref = " ".join(str(audit_ref or "").split())[:40]
    if sub is not None and rules.reference_identifies_child(ref, sub):
        return "(reference withheld)"
    return ref or "(no reference)"


def subject_for(route: Route, marking: str, ref: str) -> str:
    """Return the subject: the protective marking and the audit reference, nothing else.

    Subjects stay in code, not in the editable templates, so they can never carry more. For a
    rejection, ``ref`` is the reference only when it passed every reference rule
    (``rules.accepted_reference``), else :data:`REJECTED_REF` or empty: the subject then
    names no reference, since one that failed a rule may hold the child's name.
    """
    checked = "" if ref in ("", REJECTED_REF) else f" {ref}"
    words = {
        Route.DRAFT: f"Audit pack {ref} (draft for feedback)",
        Route.FINAL: f"Audit pack {ref} (final)",
        Route.SUPERVISION: f"Supervision insert {ref}",
        Route.STORYBOARD: f"Good practice storyboard {ref}",
        Route.HEAD_OF_QA: f"Audit {ref} referred to the Head of Quality Assurance",
        Route.MODERATION: f"Audit {ref} selected for the moderation panel",
        Route.UNDER_REVIEW: f"Audit {ref} is being reviewed by the Head of Quality Assurance",
        Route.GOOD_PRACTICE: f"Good practice found in audit {ref}",
        Route.GOOD_PRACTICE_CORRECTION: f"Good practice notice corrected for audit {ref}",
        Route.REPLACEMENT_DUE: f"Audit {ref}: a revised audit is needed",
        Route.MODERATION_INVITATION: f"Invitation to the moderation panel for audit {ref}",
        Route.MODERATION_OUTCOME: f"Moderation panel decision on audit {ref}",
        Route.PROGRAMME_WORKBOOK: f"Audit workbook for planned audit {ref}",
        Route.IDENTIFIED: f"Your work has been identified for audit {ref}",
        Route.FEEDBACK_REMINDER: f"Reminder: your feedback on draft audit {ref}",
        Route.REFERRAL_REMINDER: f"Reminder: audit {ref} waits for your decision",
        Route.NOT_STARTED_REMINDER: f"Reminder: planned audit {ref} not started",
        Route.ACTIONS_DIGEST: "SMART actions due and overdue this week",
        Route.REJECTION: f"Audit workbook{checked} returned: problems to fix",
        Route.REJECTION_ADMIN: f"Audit workbook{checked} rejected: auditor not known",
        Route.BLOCKED_NOTICE: f"{_about(ref)} not sent (address not allowed)",
        Route.UNCONFIRMED_NOTICE: f"{_about(ref)} may not have been delivered",
        Route.REFUSED_NOTICE: f"{_about(ref)} refused by the mail server",
        Route.FAILED_NOTICE: (
            f"Workbook for audit {ref} set aside: it could not be processed"
            if ref
            else "A workbook was set aside: it could not be processed"
        ),
    }[route]
    return f"{marking}: {words}" if marking else words


def _about(ref: str) -> str:
    """Return "Email for audit REF", or the words for a rejection's email or a digest."""
    if ref == DIGEST_REF:
        return "The weekly actions digest"
    return "Email about a rejected workbook" if ref == REJECTED_REF else f"Email for audit {ref}"


ADMIN_NOTICE_ROUTES = (
    Route.BLOCKED_NOTICE,
    Route.UNCONFIRMED_NOTICE,
    Route.REFUSED_NOTICE,
    Route.FAILED_NOTICE,
)
"""Messages to the QA admin about the service itself: never a notice about a notice."""


# --- The wording: templates and their markup -------------------------------------------------


class Verbatim(str):
    """Text inserted into a template exactly as it is (line breaks kept), e.g. the findings."""


def _one_line(value: Any) -> Any:
    """Keep an inserted value on one line, so workbook text cannot start a heading or a list."""
    if isinstance(value, str) and not isinstance(value, Verbatim):
        return re.sub(r"\s*[\r\n]+\s*", " ", value)
    return value


def _counted(n: int, word: str) -> str:
    """Return ``1 action`` or ``3 actions``: the filter ``{{ n|counted("action") }}``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def packaged_email_templates() -> Path:
    """Return the folder of the standard email templates (``templates copy`` copies it)."""
    return Path(str(resources.files(__package__).joinpath("email_templates")))


@functools.lru_cache(maxsize=8)
def email_environment(templates_dir: Path | None) -> Environment:
    """Return the Jinja environment for the email wording: the QA unit's copies, then ours.

    Autoescape is off (the output is text; the HTML body escapes every piece it is made of);
    an undefined variable is an error rather than a silent gap.
    """
    folders = [Path(templates_dir) / EMAIL_FOLDER] if templates_dir is not None else []
    loaders = [FileSystemLoader(folder) for folder in (*folders, packaged_email_templates())]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_one_line,
    )
    env.filters["counted"] = _counted
    return env


def wording(name: str, context: dict[str, Any], settings: Settings) -> str:
    """Return the template ``name`` (``final.txt`` ...) rendered with ``context``."""
    where = name
    try:
        template = email_environment(settings.render.templates_dir).get_template(name)
        where = template.filename or name
        return template.render(context)
    except TemplateError as exc:
        raise EmailTemplateError(
            f"The email template {getattr(exc, 'filename', None) or where} has a problem "
            f"({exc.message or exc}). Correct it, or delete it to use the standard wording."
        ) from exc


def parse_blocks(text: str) -> list[Block]:
    """Return the blocks of a template's output (paragraphs, headings, lists, preformatted)."""
    blocks: list[Block] = []
    current: list[str] | None = None  # the lines of the paragraph or items being read
    is_list = False

    def close() -> None:
        nonlocal current
        if current:
            blocks.append(tuple(current) if is_list else " ".join(current))
        current = None

    lines = iter(text.splitlines())
    for raw in lines:
        stripped = raw.strip()
        if stripped == "```":
            close()
            kept = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                kept.append(inner)
            blocks.append(Pre("\n".join(kept)))
        elif not stripped:
            close()
        elif raw.startswith("# "):
            close()
            blocks.append(Heading(stripped[2:].strip()))
        elif raw.startswith("- "):
            if not is_list:
                close()
            is_list = True
            current = [*(current or []), stripped[2:].strip()]
        elif is_list and current and raw[:1].isspace():
            current[-1] += " " + stripped
        else:
            if is_list:
                close()
            is_list = False
            current = [*(current or []), stripped]
    close()
    return blocks


def render_text(blocks: Sequence[Block]) -> str:
    """Return the plain-text body."""
    out = []
    for block in blocks:
        if isinstance(block, Pre):
            out.append(block.text.rstrip())
        elif isinstance(block, Heading):
            out.append(block.text)
        elif isinstance(block, tuple):
            out.append("\n".join(f"  - {item}" for item in block))
        else:
            out.append(block)
    return "\n\n".join(out) + "\n"


def render_html(blocks: Sequence[Block]) -> str:
    """Return a simple HTML body; every piece of text is escaped."""
    out = []
    for block in blocks:
        if isinstance(block, Pre):
            out.append(
                '<pre style="font-family:inherit;white-space:pre-wrap">'
                f"{html.escape(block.text.rstrip())}</pre>"
            )
        elif isinstance(block, Heading):
            out.append(f"<p><strong>{html.escape(block.text)}</strong></p>")
        elif isinstance(block, tuple):
            items = "".join(f"<li>{html.escape(item)}</li>" for item in block)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>")
    return (
        '<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;font-size:11pt">'
        + "".join(out)
        + "</body></html>\n"
    )


# --- Bodies -----------------------------------------------------------------------------


def _names(people: Sequence[Person]) -> str:
    names = [p.name or p.email for p in people]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _greeting(people: Sequence[Person]) -> str:
    """Return "Dear <names>," or "Dear colleagues," when only addresses are known."""
    if people and all(p.name for p in people):
        return f"Dear {_names(people)},"
    return "Dear colleagues,"


def _who(name: str, email: str) -> str:
    name, email = name.strip(), email.strip()
    if name and email:
        return f"{name} ({email})"
    return name or email or "the auditor"


def _audit_line(sub: Submission) -> str:
    kind = f"{sub.audit_type} audit" if sub.audit_type else "audit"
    theme = f", theme: {redact(sub.audit_theme, sub)}" if sub.audit_theme else ""
    return f"{kind}{theme}"


def _first_due(sub: Submission) -> dt.date | None:
    dates = [a.due for a in sub.actions if a.due is not None]
    return min(dates) if dates else None


def _files(
    settings: Settings, attachments: Sequence[Attachment], oversize: Oversize | None
) -> dict[str, Any]:
    """Return the variables every message shares: the marking and what is attached."""
    shown = None
    if oversize is not None:  # where the files are, as the reader opens it (the share)
        shown = {
            "total_mb": oversize.total_mb,
            "limit_mb": oversize.limit_mb,
            "folder": shown_path(oversize.folder, settings.service),
        }
    return {
        "marking": settings.render.marking,
        "oversize": shown,
        "attachments": [{"name": attachment_name(a), "kind": a.kind.value} for a in attachments],
    }


def decision_words(decision: Decision | None, sub: Submission) -> dict[str, str] | None:
    """Return the Head of QA's decision for an email (its note without the child's name)."""
    if decision is None:
        return None
    return {
        "outcome": decision.outcome.value.capitalize(),
        "meaning": DECISION_MEANING[decision.outcome],
        "note": redact(decision.note, sub),
        "decided_on": long_date(decision.decided_on),
        "decided_by": decision.decided_by or "the Head of Quality Assurance",
    }


def ratings_lines(sub: Submission, section_names: Mapping[str, str] | None = None) -> list[str]:
    """Return "Assessment: Good" for each section rated, in the audit's order."""
    names = section_names or {}
    return [
        f"{names.get(s.key) or s.key.replace('_', ' ').capitalize()}: {s.rating.value}"
        for s in sub.sections
        if s.rating is not None
    ]


def pack_body(
    delivery: Delivery,
    sub: Submission,
    pack: Pack,
    settings: Settings,
    *,
    today: dt.date,
    attachments: Sequence[Attachment],
    oversize: Oversize | None,
    moderation_selected: bool | None,
    issue: Issue | None = None,
    section_names: Mapping[str, str] | None = None,
) -> list[Block]:
    """Return the body blocks of one pack message: what is attached, what to do and by when."""
    if delivery.route not in PACK_ROUTES:
        raise ValueError(f"not a pack route: {delivery.route}")
    issue = issue or Issue()
    auditor = sub.auditor_name or "the auditor"
    first = _first_due(sub)
    decide_by = issue.decision_due or add_working_days(today, settings.mail.feedback_working_days)
    context = {
        "greeting": _greeting(delivery.to),
        "ref": pack.audit_ref,
        "audit": _audit_line(sub),
        "team": sub.team,
        "practitioner": sub.practitioner_name or "the practitioner",
        "manager": sub.manager_name or "the manager",
        "auditor": auditor,
        "auditor_contact": _who(auditor, sub.auditor_email),
        "rating": sub.overall_rating.value if sub.overall_rating else "",
        "reply_by": long_date(add_working_days(today, settings.mail.feedback_working_days)),
        "actions": len(sub.actions),
        "first_due": long_date(first) if first else "",
        "referred": referred_to_head_of_qa(sub),
        "moderation_selected": bool(moderation_selected),
        "storyboard_title": redact(sub.storyboard_title, sub),
        "pack_folder": shown_path(pack.directory, settings.service),
        "awaiting": issue.awaiting_decision,
        "closes_referral": issue.closes_referral,
        "decide_by": long_date(decide_by),
        "decision": decision_words(issue.decision, sub),
        "partly_agreed": partly_agreed(sub),
        "audit_type": sub.audit_type or "Not recorded",
        "theme": redact(sub.audit_theme, sub),
        "ratings": ratings_lines(sub, section_names),
        "shared_outside": shared_outside(sub),
    } | _files(settings, attachments, oversize)
    return parse_blocks(wording(f"{delivery.route.value}.txt", context, settings))


def notice_body(
    delivery: Delivery,
    sub: Submission,
    context: Mapping[str, Any],
    settings: Settings,
    attachments: Sequence[Attachment] = (),
) -> list[Block]:
    """Return the body of a message about an audit that is not part of a pack.

    ``context`` adds the route's own variables to the ones every notice has (greeting,
    reference, audit, team, the three people); free text in it must already be redacted.
    """
    if delivery.route not in NOTICE_ROUTES:
        raise ValueError(f"not a notice route: {delivery.route}")
    values = (
        {
            "greeting": _greeting(delivery.to),
            "ref": sub.audit_ref,
            "audit": _audit_line(sub),
            "audit_type": sub.audit_type or "Not recorded",
            "theme": redact(sub.audit_theme, sub),
            "team": sub.team,
            "practitioner": sub.practitioner_name or "the practitioner",
            "manager": sub.manager_name or "the manager",
            "auditor": sub.auditor_name or "the auditor",
            "auditor_contact": _who(sub.auditor_name or "the auditor", sub.auditor_email),
        }
        | dict(context)
        | _files(settings, attachments, None)
    )
    return parse_blocks(wording(f"{delivery.route.value}.txt", values, settings))


def digest_body(delivery: Delivery, context: Mapping[str, Any], settings: Settings) -> list[Block]:
    """Return the body of a message about several audits (the weekly actions digest).

    ``context`` is the route's own variables; its free text must already be redacted.
    """
    if delivery.route not in DIGEST_ROUTES:
        raise ValueError(f"not a digest route: {delivery.route}")
    values = {"greeting": _greeting(delivery.to)} | dict(context) | _files(settings, (), None)
    return parse_blocks(wording(f"{delivery.route.value}.txt", values, settings))


def rejection_body(
    delivery: Delivery,
    workbook: str,
    report: Report,
    settings: Settings,
    *,
    attachments: Sequence[Attachment],
    oversize: Oversize | None,
    auditor_problem: str | None = None,
) -> list[Block]:
    """Return the body of a rejection: what to do first, then every problem, errors first.

    ``workbook`` says which workbook it is in words the service made (:func:`workbook_words`),
    never its file name, which may carry the child's name. ``auditor_problem`` says, in the QA
    admin's copy, why the auditor could not be emailed.
    """
    context = {
        "workbook": workbook,
        "name": workbook,  # the old variable, for the QA unit's edited copies of the wording
        "auditor_problem": auditor_problem or "",
        "problems": len(report.errors),
        "findings": Verbatim(explain_findings(report)),
    } | _files(settings, attachments, oversize)
    return parse_blocks(wording(f"{delivery.route.value}.txt", context, settings))


def workbook_words(audit_ref: str | None, job_id: str, received: dt.datetime) -> str:
    """Return how a rejection names the workbook: its reference, else when it arrived.

    Pass only a reference that passed every reference rule (``rules.accepted_reference``).
    """
    if audit_ref:
        return f"with reference {audit_ref}"
    local = received.astimezone()
    return f"received on {local.day} {local:%B %Y at %H:%M} (job {job_id})"


def explain_findings(report: Report) -> str:
    """Return the findings in plain language, first error first (the validator's wording)."""
    return explain(report)


def blocked_notice_body(
    *,
    ref: str,
    route: Route,
    blocked_id: str,
    outside: Sequence[str],
    settings: Settings,
    unusable: Sequence[str] = (),
) -> list[Block]:
    """Return the QA admin's notice about a message held back (no pack).

    ``outside`` are addresses outside the allowlist; ``unusable`` are recipients that are not
    one plain address, each with the reason (printable: no line breaks).
    """
    context = {
        "ref": ref,
        "route": Route(route).value,
        "rejected": route in (Route.REJECTION, Route.REJECTION_ADMIN),
        "domains": ", ".join(settings.mail.allowed_domains),
        "outside": list(outside),
        "unusable": list(unusable),
        "blocked_id": blocked_id.strip("<>"),
    }
    return parse_blocks(wording(f"{Route.BLOCKED_NOTICE.value}.txt", context, settings))


def admin_notice_body(route: Route, context: dict[str, Any], settings: Settings) -> list[Block]:
    """Return the body of a notice to the QA admin (``unconfirmed-notice.txt`` ...).

    ``context`` holds only what the service generated or checked: Message-IDs, job ids, a
    checked reference, staff addresses, folders and the server's replies.
    """
    if route not in ADMIN_NOTICE_ROUTES:
        raise ValueError(f"not a notice route: {route}")
    context = {"marking": settings.render.marking} | context
    return parse_blocks(wording(f"{Route(route).value}.txt", context, settings))


# --- Messages ---------------------------------------------------------------------------


def too_big(attachments: Sequence[Attachment], max_mb: float) -> Oversize | None:
    """Return what is too large when ``attachments`` exceed ``max_mb`` in total, else None."""
    total = sum(a.path.stat().st_size for a in attachments if a.path.exists())
    if not attachments or total <= max_mb * 1024 * 1024:
        return None
    return Oversize(total / 1024 / 1024, max_mb, attachments[0].path.parent)


def attachment_name(attachment: Attachment) -> str:
    """Return the file name to show; a rejected workbook's own name may identify the child."""
    if attachment.kind is DocKind.MARKED_WORKBOOK:
        return f"Audit workbook - marked.{attachment.format.value}"
    if attachment.kind is DocKind.PROBLEMS_TEXT:
        return f"Audit workbook - problems.{attachment.format.value}"
    return attachment.path.name


def build_message(
    *,
    msg_id: str,
    subject: str,
    delivery: Delivery,
    blocks: Sequence[Block],
    attachments: Sequence[Attachment],
    settings: Settings,
    when: dt.datetime,
) -> EmailMessage:
    """Return the complete message: headers, text and HTML bodies, attachments."""
    msg = EmailMessage(policy=MESSAGE_POLICY)
    mail = settings.mail
    msg["Message-ID"] = msg_id
    msg["Date"] = format_datetime(when)
    msg["From"] = Person(mail.sender, mail.sender_name).header()
    msg["To"] = ", ".join(p.header() for p in delivery.to)
    if delivery.cc:
        msg["Cc"] = ", ".join(p.header() for p in delivery.cc)
    msg["Subject"] = " ".join(subject.split())
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(render_text(blocks), cte="quoted-printable")
    msg.add_alternative(render_html(blocks), subtype="html", cte="quoted-printable")
    for attachment in attachments:
        maintype, subtype = MIME_TYPES.get(attachment.format, ("application", "octet-stream"))
        msg.add_attachment(
            attachment.path.read_bytes(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment_name(attachment),
        )
    return msg
