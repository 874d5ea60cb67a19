"""Building the email messages: subjects, plain-text and HTML bodies, attachments (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ..config import Settings
from ..explain import explain
from ..models import Agreement, Pack, Report, Submission
from . import routes
from .routes import Delivery, Person

MESSAGE_ID_DOMAIN = "cssw-docs.local"
# Headers are not folded below 998 characters: folding a subject can leave a leading space.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)
REJECTED_REF = "(rejected workbook)"  # the reference used for a rejection's outbox rows

MIME_TYPES: dict[str, tuple[str, str]] = {
    ".docx": (
        "application",
        "vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".pdf": ("application", "pdf"),
    ".csv": ("text", "csv"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
    ".txt": ("text", "plain"),
}

DOCUMENT_NAMES = {
    routes.REPORT: "the audit report",
    routes.PLAN: "the audit plan",
    routes.SUPERVISION_INSERT: "the supervision insert",
    routes.ACTIONS_CSV: "the audit actions as a spreadsheet file for the supervision record",
    routes.STORYBOARD_DOC: "the storyboard, ready to print",
}

ROUTE_NAMES = {
    routes.DRAFT: "the draft audit pack for the practitioner's feedback",
    routes.FINAL: "the final audit pack",
    routes.SUPERVISION: "the supervision insert for the manager",
    routes.STORYBOARD: "the good-practice storyboard",
    routes.HEAD_OF_QA: "the referral to the Head of Quality Assurance",
    routes.MODERATION: "the moderation panel notice",
    routes.REJECTION: "the rejected workbook's problems for the auditor",
    routes.REJECTION_ADMIN: "the rejected workbook's problems",
    routes.BLOCKED_NOTICE: "a notice about a blocked email",
}


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


# --- Working days -----------------------------------------------------------------------


def easter_sunday(year: int) -> dt.date:
    """Return Easter Sunday of ``year`` (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _next_weekday(day: dt.date, taken: set[dt.date]) -> dt.date:
    while day.weekday() >= 5 or day in taken:
        day += dt.timedelta(days=1)
    return day


def _last_monday(year: int, month: int) -> dt.date:
    day = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=day.weekday())


def bank_holidays(year: int) -> set[dt.date]:
    """Return England and Wales bank holidays of ``year`` by the usual rules.

    One-off holidays (a coronation, a jubilee) are not included.
    """
    easter = easter_sunday(year)
    may_first = dt.date(year, 5, 1)
    days = {
        _next_weekday(dt.date(year, 1, 1), set()),
        easter - dt.timedelta(days=2),
        easter + dt.timedelta(days=1),
        may_first + dt.timedelta(days=(7 - may_first.weekday()) % 7),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    christmas = _next_weekday(dt.date(year, 12, 25), set())
    boxing = _next_weekday(dt.date(year, 12, 26), {christmas})
    return days | {christmas, boxing}


def add_working_days(start: dt.date, count: int) -> dt.date:
    """Return the date ``count`` working days after ``start`` (no weekends or bank holidays)."""
    day = start
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in bank_holidays(day.year):
            count -= 1
    return day


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
    if sub is not None:
        lowered = ref.lower()
        words = [w for w in sub.child_name.lower().split() if len(w) > 1]
        mosaic = sub.child_mosaic_id.strip().lower()
        if (mosaic and mosaic in lowered) or any(w in lowered for w in words):
            return "(reference withheld)"
    return ref or "(no reference)"


def subject_for(route: str, marking: str, ref: str) -> str:
    """Return the subject: the protective marking and the audit reference, nothing else."""
    words = {
        routes.DRAFT: f"Audit pack {ref} (draft for feedback)",
        routes.FINAL: f"Audit pack {ref} (final)",
        routes.SUPERVISION: f"Supervision insert {ref}",
        routes.STORYBOARD: f"Good practice storyboard {ref}",
        routes.HEAD_OF_QA: f"Audit {ref} referred to the Head of Quality Assurance",
        routes.MODERATION: f"Audit {ref} selected for the moderation panel",
        routes.REJECTION: "Audit workbook returned: problems to fix",
        routes.REJECTION_ADMIN: "Audit workbook rejected: auditor not known",
        routes.BLOCKED_NOTICE: (
            "Email about a rejected workbook not sent (address not allowed)"
            if ref == REJECTED_REF
            else f"Email for audit {ref} not sent (address not allowed)"
        ),
    }[route]
    return f"{marking}: {words}" if marking else words


# --- Bodies -----------------------------------------------------------------------------


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


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _who(name: str, email: str) -> str:
    name, email = name.strip(), email.strip()
    if name and email:
        return f"{name} ({email})"
    return name or email or "the auditor"


def _audit_line(sub: Submission) -> str:
    kind = f"{sub.audit_type} audit" if sub.audit_type else "audit"
    theme = f", theme: {sub.audit_theme}" if sub.audit_theme else ""
    return f"{kind}{theme}"


def _attachment_list(paths: Sequence[Path]) -> tuple[str, ...]:
    out = []
    for path in paths:
        role = routes.role_of_name(path.name)
        what = DOCUMENT_NAMES.get(role or "", "")
        out.append(f"{path.name}: {what}" if what else path.name)
    return tuple(out)


def _footer(marking: str) -> list[Block]:
    label = marking or "sensitive"
    return [
        f"This email and its attachments are {label}: they hold personal information about a "
        "child and their family. Keep them on council systems, share them only with people "
        "who need them for their work, and delete copies you no longer need.",
        "Sent automatically by cssw-docs for the Quality Assurance Unit. "
        "Replies to this address may not be read: contact the auditor named above.",
    ]


def _first_due(sub: Submission) -> dt.date | None:
    dates = [a.due for a in sub.actions if a.due is not None]
    return min(dates) if dates else None


def pack_body(
    delivery: Delivery,
    sub: Submission,
    pack: Pack,
    settings: Settings,
    *,
    today: dt.date,
    attachments: Sequence[Path],
    too_big_note: str | None,
    moderation_selected: bool | None,
) -> list[Block]:
    """Return the body blocks of one pack message: what is attached, what to do and by when."""
    ref = pack.audit_ref
    practitioner = sub.practitioner_name or "the practitioner"
    manager = sub.manager_name or "the manager"
    auditor = sub.auditor_name or "the auditor"
    blocks: list[Block] = [_greeting(delivery.to)]
    route = delivery.route
    due = add_working_days(today, settings.mail.feedback_working_days)
    if route == routes.DRAFT:
        blocks.append(
            f"{auditor} has finished the draft of case audit {ref} ({_audit_line(sub)}) for "
            f"{sub.team or 'your team'}. Before it is finalised we would like "
            f"{practitioner}'s feedback on the audit and on the proposed audit plan."
        )
        asks = (
            f"{practitioner}: please read the draft report and the proposed plan, then send "
            f"your feedback, and whether you agree, partly agree or disagree, to "
            f"{_who(auditor, sub.auditor_email)} by {long_date(due)}.",
            f"{manager}: please talk the draft through with {practitioner} before that date.",
            f"{auditor}: this copy is for your records. When the feedback arrives, add it to "
            "the workbook, set the stage to Final and save it into the intake folder again.",
        )
    elif route == routes.FINAL:
        blocks.append(
            f"Case audit {ref} ({_audit_line(sub)}) for {sub.team or 'your team'} is now "
            f"final. It was rated {sub.overall_rating or 'not rated'} overall."
        )
        first = _first_due(sub)
        act = (
            f"{practitioner} and {manager}: please carry out the "
            f"{_count(len(sub.actions), 'action')} in the audit plan by their due dates; "
            f"the first is due on {long_date(first)}."
            if first
            else f"{practitioner} and {manager}: the audit plan has no actions with a due date; "
            "no further action is needed."
        )
        asks = (
            act,
            f"{manager}: the supervision insert has been sent to you separately for your next "
            f"supervision with {practitioner}.",
            f"{auditor}: this copy is for your records; nothing more is needed from you.",
        )
        if sub.practitioner_agreement is Agreement.DISAGREE:
            blocks.append(
                f"Because {practitioner} disagrees with the audit, it has been referred to the "
                "Head of Quality Assurance, who will review it before any final decision is made."
            )
        if moderation_selected:
            blocks.append(
                "This audit has been selected for the audit moderation panel. The moderation "
                "coordinator will invite the auditor, the practitioner and the manager."
            )
    elif route == routes.SUPERVISION:
        blocks.append(
            f"Case audit {ref} is final. Attached is the supervision insert for your next "
            f"supervision with {practitioner}, and the audit actions as a spreadsheet file "
            "(it opens in Excel) to copy into the supervision record."
        )
        first = _first_due(sub)
        asks = (
            f"Please use the insert at your next supervision with {practitioner}"
            + (
                f", and in any case before the first action is due on {long_date(first)}."
                if first
                else "."
            )
            + " Record progress on each action in supervision until it is done.",
        )
    elif route == routes.STORYBOARD:
        blocks.append(
            f"Good news to share: case audit {ref} ({_audit_line(sub)}) was rated "
            f"{sub.overall_rating} overall. The auditor, {auditor}, found practice worth "
            f"celebrating by {practitioner} and {sub.team or 'their team'}."
        )
        if sub.storyboard_title:
            blocks.append(f"The storyboard is called \u201c{sub.storyboard_title}\u201d.")
        asks = (
            f"Please recognise {practitioner} and {sub.team or 'the team'} for this work, for "
            "example with a message of thanks or a mention at the next service meeting.",
            "Learning and development: the storyboard is ready to print and to share at the "
            "next practice learning event. It holds no details that identify the child.",
            "There is no deadline.",
        )
    elif route == routes.HEAD_OF_QA:
        blocks.append(
            f"{practitioner} disagrees with case audit {ref} ({_audit_line(sub)}), audited by "
            f"{auditor}. The audit guide asks the Head of Quality Assurance to review the audit "
            "and the proposed plan before any final decision is made."
        )
        asks = (
            "Please read the audit report (the practitioner's feedback and agreement are in "
            "it) and the audit plan, then agree a decision with "
            f"{auditor}, {practitioner} and {manager} by {long_date(due)}.",
            f"If the audit changes, {auditor} saves a new version of the workbook into the "
            "intake folder; that also closes the referral.",
        )
    elif route == routes.MODERATION:
        blocks.append(
            f"Case audit {ref} ({_audit_line(sub)}) for {sub.team or 'the team'}, audited by "
            f"{auditor} and rated {sub.overall_rating or 'not rated'} overall, has been "
            "selected for the audit moderation panel."
        )
        blocks.append(f"The pack is in the outbox folder: {pack.directory}")
        asks = (
            f"Please add it to the next panel and invite {auditor}, {practitioner} (the "
            f"allocated worker) and {manager} (their manager).",
            f"After the panel, record its outcome with: cssw-docs moderation record {ref}",
        )
    else:
        raise ValueError(f"not a pack route: {route}")
    blocks += [Heading("What we ask you to do:"), asks]
    if too_big_note:
        blocks.append(too_big_note)
    elif attachments:
        blocks += [Heading("Attached:"), _attachment_list(attachments)]
    return blocks + _footer(settings.render.marking)


def rejection_body(
    delivery: Delivery,
    source_name: str,
    report: Report,
    settings: Settings,
    *,
    attachments: Sequence[Path],
    too_big_note: str | None,
) -> list[Block]:
    """Return the body of a rejection: what to do first, then every problem, errors first."""
    name = " ".join(source_name.split()) or "(no name)"
    if delivery.route == routes.REJECTION:
        blocks: list[Block] = [
            "Hello,",
            f"Your audit workbook \u201c{name}\u201d could not be turned into an audit pack "
            f"because of the {_count(len(report.errors), 'problem')} listed below. "
            "No pack has been sent to anyone.",
            Heading("What we ask you to do:"),
            (
                "Open the attached marked copy: its Errors sheet lists every problem and each "
                "cell to fix is highlighted with a comment.",
                "Correct the workbook, save it and put it into the intake folder again, as soon "
                "as you can so the practitioner is not kept waiting.",
            ),
        ]
    else:
        blocks = [
            "Hello,",
            f"An audit workbook \u201c{name}\u201d was put into the intake folder but could not "
            "be read, so cssw-docs does not know which auditor to tell.",
            Heading("What we ask you to do:"),
            (
                "Find out who saved this workbook (the intake folder's rejected/ subfolder "
                "holds it) and pass on the problems below today.",
            ),
        ]
    blocks += [Heading("The problems found:"), Pre(explain_findings(report, name))]
    if too_big_note:
        blocks.append(too_big_note)
    elif attachments:
        blocks += [Heading("Attached:"), tuple(p.name for p in attachments)]
    return blocks + _footer(settings.render.marking)


def explain_findings(report: Report, source_name: str) -> str:
    """Return the findings in plain language, first error first (the validator's wording)."""
    return explain(report, source_name=source_name)


def blocked_notice_body(
    *, ref: str, route: str, blocked_id: str, outside: Sequence[str], settings: Settings
) -> list[Block]:
    """Return the QA admin's notice about a message held back by the allowlist (no pack)."""
    domains = ", ".join(settings.mail.allowed_domains)
    rejected = route in (routes.REJECTION, routes.REJECTION_ADMIN)
    what = "about a rejected audit workbook" if rejected else f"for audit {ref}"
    kept = (
        "The workbook and its marked copy are in the intake folder's rejected/ subfolder."
        if rejected
        else "The pack itself stays in the outbox."
    )
    return [
        "Hello,",
        f"An email {what} ({ROUTE_NAMES.get(route, route)}) was not sent, because "
        f"these addresses are outside the allowed email domains ({domains}):",
        tuple(outside),
        f"Nobody has been sent anything for this message. {kept}",
        Heading("What we ask you to do:"),
        (
            "If an address is wrong, ask the auditor to correct it in the workbook and save the "
            "workbook into the intake folder again.",
            "If the domain should be allowed, add it to allowed_domains in the [mail] section "
            f"of cssw-docs.toml, then run: cssw-docs mail retry {blocked_id.strip('<>')}",
        ),
        "Sent automatically by cssw-docs.",
    ]


# --- Messages ---------------------------------------------------------------------------


def too_big(paths: Sequence[Path], max_mb: float) -> str | None:
    """Return the note to use instead of attachments above ``max_mb`` in total, else None."""
    total = sum(p.stat().st_size for p in paths if p.exists())
    if not paths or total <= max_mb * 1024 * 1024:
        return None
    folder = paths[0].parent
    return (
        f"The documents are too large to email together ({total / 1024 / 1024:.1f} MB; the "
        f"limit is {max_mb:g} MB), so none are attached. You will find them in the outbox "
        f"folder: {folder}"
    )


def attachment_name(path: Path, route: str) -> str:
    """Return the file name to show; a rejected workbook's own name may identify the child."""
    if route in (routes.REJECTION, routes.REJECTION_ADMIN):
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return f"Audit workbook - marked{suffix}"
        if suffix == ".txt":
            return "Audit workbook - problems.txt"
    return path.name


def build_message(
    *,
    msg_id: str,
    subject: str,
    delivery: Delivery,
    blocks: Sequence[Block],
    attachments: Sequence[Path],
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
    for path in attachments:
        maintype, subtype = MIME_TYPES.get(path.suffix.lower(), ("", ""))
        if not maintype:
            guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            maintype, subtype = guessed.split("/", 1)
        msg.add_attachment(
            path.read_bytes(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment_name(path, delivery.route),
        )
    return msg
