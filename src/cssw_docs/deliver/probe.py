"""``cssw-docs mail test``: one harmless message through the configured transport, explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ..config import MailSettings, Settings
from . import alerts, compose, oauth, routes, transport
from .routes import Person

SUBJECT = "cssw-docs test message"


@dataclass(frozen=True)
class Probe:
    """What the test did: whether the message went, and a plain explanation."""

    sent: bool
    text: str


def describe(mail: MailSettings) -> str:
    """Return the transport in words, e.g. ``Microsoft Graph as cssw-docs@camden.gov.uk``."""
    if mail.transport == "graph":
        return f"Microsoft Graph ({mail.graph_url}) as {oauth.mailbox(mail)}"
    if mail.transport == "smtp-oauth":
        host = mail.host.strip() or transport.OFFICE365_SMTP_HOST
        return f"Microsoft 365 SMTP with OAuth ({host}:{mail.port}) as {oauth.mailbox(mail)}"
    if not mail.host.strip():
        return ".eml files (no mail.host is set)"
    login = f" as {mail.username}" if mail.username else ""
    return f"SMTP ({mail.host}:{mail.port}){login}"


def harmless_message(settings: Settings, to: str, when: dt.datetime) -> EmailMessage:
    """Return the harmless test message to ``to`` (no audit, nothing about a child)."""
    mail = settings.mail
    blocks = compose.parse_blocks(
        compose.wording("mail-test.txt", {"transport": describe(mail)}, settings)
    )
    msg = EmailMessage(policy=compose.MESSAGE_POLICY)
    msg["Message-ID"] = compose.message_id("mail-test", to, when.isoformat())
    msg["Date"] = format_datetime(when)
    msg["From"] = Person(mail.sender, mail.sender_name).header()
    msg["To"] = Person(to).header()
    msg["Subject"] = SUBJECT
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(compose.render_text(blocks), cte="quoted-printable")
    msg.add_alternative(compose.render_html(blocks), subtype="html", cte="quoted-printable")
    return msg


def send_test(
    settings: Settings,
    to: str,
    *,
    db: Path,
    outbox: Path,
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> Probe:
    """Send one test message to ``to`` now (the allowlist applies); say what happened.

    Success also clears a "sending stopped" note (``db`` is the ledger it lies beside).
    """
    when = now or dt.datetime.now(dt.UTC)
    mail = settings.mail
    to = to.strip()
    for refusal in routes.refused((to,), mail.allowed_domains):
        if refusal.unusable:
            return Probe(False, f"{refusal.address} is not one plain email address.")
        return Probe(
            False,
            f"Not sent: {to} is outside mail.allowed_domains "
            f"({', '.join(mail.allowed_domains)}). The test obeys the same allowlist as every "
            "email: use an address at the council.",
        )
    msg = harmless_message(settings, to, when)
    where = describe(mail)
    try:
        with transport.open_sender(
            mail, Path(outbox), today=when.astimezone().date(), environ=environ
        ) as sender:
            reply = sender.send(msg.as_bytes(), mail.sender, [to], str(msg["Message-ID"]))
    except transport.TransportError as exc:
        after = (
            "Nothing is sent until this is fixed; queued messages stay in the outbox."
            if exc.auth
            else "Queued messages stay in the outbox and are tried again."
        )
        code = f" [{exc.code}]" if exc.code and exc.code != "setup" else ""
        return Probe(False, f"The test message was NOT sent through {where}.{code}\n{exc}\n{after}")
    alerts.clear(db)
    if mail.files_only:
        return Probe(
            True,
            f"No mail server is set (mail.host is empty), so nothing was emailed: the test "
            f"message was {reply}. Set mail.transport and its settings to send email.",
        )
    return Probe(
        True,
        f"Sent a test message to {to} through {where}.\nThe server answered: {reply}\n"
        "Check that it arrived (look in junk mail too).",
    )
