"""Sending stored messages: SMTP (STARTTLS, TLS or, only when asked, plain), .eml files, or
Microsoft 365 (SMTP with an OAuth token, or Microsoft Graph).

This is the only module that imports smtplib; :func:`open_sender` picks the sender the settings
ask for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from ..config import MailSettings
from . import graph, oauth
from .failures import SMTP_ENHANCED, TransportError, explain

SECURITY_CHOICES = ("starttls", "tls", "none")
OFFICE365_SMTP_HOST = "smtp.office365.com"  # smtp-oauth when mail.host is empty


class Reply(str):
    """The server's reply to an accepted message, with the recipients it refused (if any).

    ``refused`` maps each refused address to the server's answer. A plain ``str`` reply
    (any sender) means nobody was refused.
    """

    refused: dict[str, str]

    def __new__(cls, text: str, refused: Mapping[str, str] | None = None) -> Reply:
        reply = super().__new__(cls, text)
        reply.refused = dict(refused or {})
        return reply


class Sender(Protocol):
    """Hands one message to its destination and returns the reply to record."""

    def send(
        self, data: bytes, sender: str, recipients: list[str], message_id: str
    ) -> str: ...  # pragma: no cover


def eml_name(message_id: str) -> str:
    """Return a safe file name for a Message-ID, e.g. ``3f2a...@cssw-docs.local.eml``."""
    return re.sub(r"[^A-Za-z0-9@._-]", "_", message_id.strip("<>")) + ".eml"


class EmlWriter:
    """Writes each message as ``<outbox>/mail/<date>/<message-id>.eml`` (no SMTP configured)."""

    # Writing a message again replaces its file (named by its Message-ID): never a second copy.
    idempotent = True

    def __init__(self, outbox: Path, today: dt.date):
        self.folder = Path(outbox) / "mail" / today.isoformat()

    def send(self, data: bytes, sender: str, recipients: list[str], message_id: str) -> str:
        """Write the message (atomically, readable by this account only); return where."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / eml_name(message_id)
            temp = target.with_name(f".{target.name}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except OSError as exc:
            raise TransportError(
                f"Could not write the email file in {self.folder} ({exc.strerror or exc}). "
                "Check the outbox folder exists and can be written; it will be tried again.",
                connection=True,
            ) from exc
        return f"written to {target}"


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    """Return a verifying TLS context, trusting ``mail.ca_file`` too when it is set."""
    if mail.ca_file is not None and not Path(mail.ca_file).is_file():
        raise TransportError(
            f"The certificate file mail.ca_file = {mail.ca_file} does not exist. "
            "Fix the path in cssw-docs.toml.",
            connection=True,
        )
    try:
        return ssl.create_default_context(cafile=str(mail.ca_file) if mail.ca_file else None)
    except (ssl.SSLError, OSError) as exc:
        raise TransportError(
            f"The certificate file {mail.ca_file} could not be read as a PEM certificate ({exc}).",
            connection=True,
        ) from exc


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


class SmtpSender:
    """Sends over one SMTP connection, opened on the first message.

    With ``tokens`` it signs in to Microsoft 365 with ``AUTH XOAUTH2`` (an app-only token for
    the mailbox) instead of a user name and password.
    """

    def __init__(
        self,
        mail: MailSettings,
        environ: Mapping[str, str],
        tokens: oauth.TokenSource | None = None,
    ):
        self.mail = mail
        self.environ = environ
        self.tokens = tokens
        self.host = mail.host.strip() or (OFFICE365_SMTP_HOST if tokens else "")
        self.smtp: smtplib.SMTP | None = None
        self.broken: TransportError | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.mail.port}"

    def _open(self) -> smtplib.SMTP:
        mail = self.mail
        security = (mail.security or "starttls").strip().lower()
        if security not in SECURITY_CHOICES:
            raise TransportError(
                f"mail.security = {mail.security!r} is not one of starttls, tls or none.",
                connection=True,
            )
        password = None
        if self.tokens is not None:
            if security == "none":
                raise TransportError(
                    "A Microsoft 365 token is never sent without encryption: use "
                    'mail.security = "starttls" (port 587).',
                    auth=True,
                    code="setup",
                )
        elif mail.username:
            password = self.environ.get(mail.password_env, "")
            if not password:
                raise TransportError(
                    f"mail.username is set but the environment variable {mail.password_env} "
                    "holding the SMTP password is empty. Set it for the service account.",
                    auth=True,
                    code="setup",
                )
            if security == "none":
                raise TransportError(
                    "A password is never sent without encryption: use mail.security = "
                    '"starttls" or "tls", or remove mail.username for an unauthenticated relay.',
                    auth=True,
                    code="setup",
                )
        context = tls_context(mail) if security != "none" else None
        smtp: smtplib.SMTP | None = None
        try:
            if security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, mail.port, timeout=mail.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, mail.port, timeout=mail.timeout_seconds)
            smtp.ehlo()
            if security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TransportError(
                        f"The mail server {self.where} does not offer STARTTLS, so nothing was "
                        'sent unencrypted. Use the right port, or mail.security = "tls".',
                        connection=True,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if password is not None:
                smtp.login(mail.username, password)
            elif self.tokens is not None:
                self._xoauth2(smtp)
        except TransportError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise self._login_refused(exc) from exc
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(smtp)
            raise TransportError(
                f"The mail server {self.where} presented a certificate that could not be "
                f"verified ({exc.verify_message}). For an internal relay, set mail.ca_file to "
                "the certificate of the council's certificate authority.",
                connection=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(smtp)
            raise TransportError(
                f"Could not connect to the mail server {self.where} ({_describe(exc)}). "
                "The message stays in the outbox and will be tried again.",
                connection=True,
            ) from exc
        return smtp

    def _xoauth2(self, smtp: smtplib.SMTP) -> None:
        """Sign in with the app's token; a refused token is renewed once, then reported."""
        assert self.tokens is not None
        user = oauth.mailbox(self.mail)
        try:
            _xoauth2(smtp, user, self.tokens.token())
        except smtplib.SMTPAuthenticationError as exc:
            if "5.7.139" in _reply_text(exc.smtp_code, exc.smtp_error):
                raise  # SMTP AUTH is off for the mailbox: no token can help
            self.tokens.renew()
            _xoauth2(smtp, user, self.tokens.token())

    def _login_refused(self, exc: smtplib.SMTPAuthenticationError) -> TransportError:
        reply = _reply_text(exc.smtp_code, exc.smtp_error)
        enhanced = SMTP_ENHANCED.search(reply)
        code = f"{exc.smtp_code} {enhanced.group(1)}" if enhanced else str(exc.smtp_code)
        if self.tokens is None:
            return TransportError(
                f"The mail server {self.where} refused the login for {self.mail.username} "
                f"({reply}). Check the password in {self.mail.password_env} and that SMTP AUTH "
                "is enabled for the mailbox.",
                auth=True,
                code=code,
            )
        user = oauth.mailbox(self.mail)
        meaning = explain(code, mailbox=user) or explain("5.7.3", mailbox=user)
        return TransportError(
            f"Microsoft 365 refused the sign-in for {user} at {self.where} ({reply}). {meaning}",
            auth=True,
            code=code,
        )

    def send(self, data: bytes, sender: str, recipients: list[str], message_id: str) -> str:
        """Send one message; return the server's reply to the end of the data."""
        if self.broken is not None:
            raise self.broken
        if self.smtp is None:
            try:
                self.smtp = self._open()
            except TransportError as exc:
                self.broken = exc
                raise
        smtp = self.smtp
        try:
            code, text = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise _refused(f"refused the sender {sender}", code, text)
            refused = {}
            for rcpt in recipients:
                code, text = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, text)
            if len(refused) == len(recipients):
                smtp.rset()
                worst = max(code for code, _ in refused.values())
                _, text = next(iter(refused.values()))
                raise _refused("refused every recipient", worst, text)
            code, text = self._data(smtp, data)
            if code != 250:
                smtp.rset()
                raise _refused("refused the message", code, text)
        except TransportError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransportError(
                f"The connection to the mail server {self.where} failed while sending "
                f"({_describe(exc)}). It will be tried again."
            ) from exc
        return Reply(
            _reply_text(code, text),
            {r: _reply_text(c, t) for r, (c, t) in refused.items()},
        )

    def _data(self, smtp: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
        """Send DATA, the message and its final dot; return the server's reply to the dot.

        As ``smtplib.SMTP.data``, except that once the final dot has gone, a dropped
        connection or a missing reply raises a ``possibly_delivered`` error: the server may
        have taken the message, so sending it again could deliver a second copy.
        """
        code, text = smtp.docmd("data")
        if code != 354:
            return code, text
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body + b".\r\n")  # a failure here: the server cannot have the message
        try:
            return smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransportError(
                f"The mail server {self.where} took the whole message but the connection "
                f"ended before it confirmed it ({_describe(exc)}), so it may have been "
                "delivered. It is not sent again by itself.",
                possibly_delivered=True,
            ) from exc

    def close(self) -> None:
        """Say goodbye to the server (errors ignored)."""
        _quietly_close(self.smtp)
        self.smtp = None


def _xoauth2(smtp: smtplib.SMTP, user: str, token: str) -> None:
    """Run ``AUTH XOAUTH2``; a challenge (the server's error details) gets an empty answer."""
    first = f"user={user}\x01auth=Bearer {token}\x01\x01"
    smtp.auth("XOAUTH2", lambda challenge=None: first if challenge is None else "")


def _refused(what: str, code: int, text: bytes | str) -> TransportError:
    permanent = 500 <= code < 600
    again = "" if permanent else " It will be tried again."
    return TransportError(
        f"The mail server {what}: {_reply_text(code, text)}.{again}", permanent=permanent
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if "timed out" in str(exc):
            return "no answer in time"
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


def _quietly_close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        with contextlib.suppress(OSError):
            smtp.close()


class Unusable:
    """Stands in for a sender that cannot be set up: every message gets the same problem."""

    def __init__(self, problem: TransportError):
        self.broken = problem

    def send(self, data: bytes, sender: str, recipients: list[str], message_id: str) -> str:
        """Raise the set-up problem."""
        raise self.broken

    def close(self) -> None:
        """Nothing to close."""


@contextlib.contextmanager
def open_sender(
    mail: MailSettings, outbox: Path, *, today: dt.date, environ: Mapping[str, str] | None = None
) -> Iterator[Sender]:
    """Yield the sender ``mail.transport`` asks for; plain SMTP without a host writes .eml files."""
    if mail.files_only:
        yield EmlWriter(outbox, today)
        return
    sender = _sender(mail, os.environ if environ is None else environ)
    try:
        yield sender
    finally:
        sender.close()


def _sender(
    mail: MailSettings, environ: Mapping[str, str]
) -> SmtpSender | graph.GraphSender | Unusable:
    if mail.transport == "smtp":
        return SmtpSender(mail, environ)
    scope = oauth.OUTLOOK_SCOPE if mail.transport == "smtp-oauth" else oauth.graph_scope(mail)
    try:
        tokens = oauth.token_source(mail, environ, scope)
    except TransportError as exc:
        return Unusable(exc)
    if mail.transport == "smtp-oauth":
        return SmtpSender(mail, environ, tokens)
    return graph.GraphSender(mail, tokens)


def stopped_by(sender: Sender) -> TransportError | None:
    """Return the sign-in or permission problem that stopped ``sender``, if one did."""
    problem = getattr(sender, "broken", None)
    return problem if isinstance(problem, TransportError) and problem.auth else None


def attachment_limit_mb(mail: MailSettings) -> float:
    """Return the most a message may attach in total; a larger pack is pointed to instead.

    Microsoft Graph takes at most 4 MB a request, so with ``graph`` it is 2 MB or less.
    """
    if mail.transport == "graph":
        return min(mail.max_attachment_mb, graph.ATTACHMENT_LIMIT_MB)
    return mail.max_attachment_mb
