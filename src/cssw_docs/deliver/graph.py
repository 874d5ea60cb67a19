"""Sending through Microsoft Graph ``sendMail``, for tenants that turn SMTP AUTH off.

A message goes as its own MIME bytes (base64, ``Content-Type: text/plain``), so the recipients
see exactly what was queued, Message-ID included; Graph then keeps a copy in the mailbox's Sent
Items. With ``mail.save_to_sent_items = false`` it goes in Graph's JSON form instead (the one
form with that switch), built from the same bytes, with the same Message-ID.

HTTP goes through :mod:`.https` (requests) rather than urllib: msal depends on requests already,
so the token requests and the sending follow the council's proxy settings and ``mail.ca_file``
in the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import quote

from ..config import MailSettings
from . import https
from .failures import GRAPH_ERRORS, TransportError, explain
from .oauth import TokenSource, mailbox

GRAPH_REQUEST_LIMIT = 4 * 1024 * 1024  # bytes Graph accepts in one sendMail request
# Attachments are base64 twice on the way (inside the MIME: 57 bytes become a 78-byte line;
# then the whole MIME: x 4/3). With 256 KiB kept for headers and the text and HTML bodies,
# 4 MiB of request leaves 2.0 MiB of attachments; larger ones go as "where to find them".
ATTACHMENT_LIMIT_MB = 2.0
DEFAULT_WAIT_SECONDS = 60.0  # when a 429 comes without a usable Retry-After


class GraphSender:
    """Sends each message with one ``POST /v1.0/users/{mailbox}/sendMail``."""

    def __init__(self, mail: MailSettings, tokens: TokenSource):
        self.mail = mail
        self.tokens = tokens
        self.mailbox = mailbox(mail)
        self.url = f"{mail.graph_url.rstrip('/')}/v1.0/users/{quote(self.mailbox)}/sendMail"
        self.session = https.session(mail)
        self.broken: TransportError | None = None  # cannot sign in or connect: stop this run
        self.throttled: TransportError | None = None  # Graph asked us to wait: stop this run

    def send(self, data: bytes, sender: str, recipients: list[str], message_id: str) -> str:
        """Send one message (to its own To and Cc); return Graph's answer to record."""
        for stop in (self.broken, self.throttled):
            if stop is not None:
                raise stop
        body, content_type = self._request_body(data)
        if len(body) > GRAPH_REQUEST_LIMIT:
            raise TransportError(
                f"This message is {len(body) / 1024 / 1024:.1f} MB as a Microsoft Graph request, "
                f"over the {GRAPH_REQUEST_LIMIT / 1024 / 1024:.0f} MB Graph accepts, so it was "
                "not sent. It was probably queued with its attachments before mail.transport "
                "was graph: send the pack again (it will point to the outbox folder instead).",
                permanent=True,
                code="RequestBodyTooLarge",
            )
        try:
            answer = self._post(body, content_type)
            if answer.status_code == 401:  # expired or revoked: one new token, then report
                self.tokens.renew()
                answer = self._post(body, content_type)
        except TransportError as exc:
            if exc.connection:  # no token (or no way to get one): the same for every message
                self.broken = exc
            raise
        except OSError as exc:  # requests' errors are OSErrors (network, TLS, timeout)
            self.broken = TransportError(
                f"Could not reach Microsoft Graph at {self.mail.graph_url} "
                f"({type(exc).__name__}). It will be tried again.",
                connection=True,
            )
            raise self.broken from exc
        if answer.status_code in (200, 202):
            request_id = answer.headers.get("request-id", "")
            return f"{answer.status_code} accepted by Microsoft Graph for {self.mailbox}" + (
                f" (request-id {request_id})" if request_id else ""
            )
        error = self._error(answer)
        if error.auth:
            self.broken = error
        if error.retry_after is not None:
            self.throttled = error
        raise error

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()

    def _request_body(self, data: bytes) -> tuple[bytes, str]:
        if self.mail.save_to_sent_items:
            return base64.b64encode(data), "text/plain"
        return json_request(data), "application/json"

    def _post(self, body: bytes, content_type: str) -> https.Response:
        token = self.tokens.token()
        return self.session.post(
            self.url,
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )

    def _error(self, answer: https.Response) -> TransportError:
        status = answer.status_code
        try:
            error = answer.json().get("error") or {}
        except ValueError:
            error = {}
        code = str(error.get("code") or "")
        said = " ".join(str(error.get("message") or answer.reason or "").split())
        reply = f"{status} {code}: {said}" if code else f"{status} {said}"
        if status == 429 or (status == 503 and "Retry-After" in answer.headers):
            wait = retry_after(answer.headers.get("Retry-After"))
            return TransportError(
                f"Microsoft Graph is throttling this app ({reply}) and asked us to wait "
                f"{wait:.0f} seconds. The messages stay in the outbox and go after that.",
                retry_after=wait,
                code=code or str(status),
            )
        if status in (401, 403, 404) or code in GRAPH_ERRORS:
            meaning = explain(code, mailbox=self.mailbox) or explain(
                "ErrorAccessDenied" if status != 404 else "ErrorInvalidUser", mailbox=self.mailbox
            )
            return TransportError(
                f"Microsoft Graph refused to send ({reply}). {meaning}",
                auth=True,
                code=code or str(status),
            )
        if 400 <= status < 500:
            return TransportError(
                f"Microsoft Graph refused this message ({reply}).", permanent=True, code=code
            )
        return TransportError(
            f"Microsoft Graph could not take the message just now ({reply}). "
            "It will be tried again.",
            code=code or str(status),
        )


def retry_after(value: str | None, now: dt.datetime | None = None) -> float:
    """Return the seconds a ``Retry-After`` header asks for (seconds or a date); 60 if unclear."""
    if not value:
        return DEFAULT_WAIT_SECONDS
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_WAIT_SECONDS
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


def json_request(data: bytes) -> bytes:
    """Return the JSON ``sendMail`` request for a MIME message, not saved to Sent Items.

    Subject, HTML body, To, Cc, From, attachments and the Message-ID are kept; of the other
    headers Graph accepts only ``X-`` ones.
    """
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("html", "plain"))
    message: dict[str, object] = {
        "subject": str(msg["Subject"] or ""),
        "body": {
            "contentType": "HTML"
            if body is not None and body.get_content_subtype() == "html"
            else "Text",
            "content": body.get_content() if body is not None else "",
        },
        "toRecipients": _people(msg, "To"),
        "ccRecipients": _people(msg, "Cc"),
        "internetMessageId": str(msg["Message-ID"] or ""),
        "internetMessageHeaders": [
            {"name": name, "value": str(value)}
            for name, value in msg.items()
            if name.lower().startswith("x-")
        ],
        "attachments": [
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": part.get_filename() or "attachment",
                "contentType": part.get_content_type(),
                "contentBytes": base64.b64encode(part.get_payload(decode=True)).decode("ascii"),
            }
            for part in msg.iter_attachments()
        ],
    }
    if sender := _people(msg, "From"):
        message["from"] = sender[0]
    return json.dumps({"message": message, "saveToSentItems": False}).encode("utf-8")


def _people(msg: EmailMessage, header: str) -> list[dict[str, dict[str, str]]]:
    value = msg[header]
    addresses = getattr(value, "addresses", ()) if value is not None else ()
    return [
        {"emailAddress": {"address": a.addr_spec, "name": a.display_name or a.addr_spec}}
        for a in addresses
    ]
