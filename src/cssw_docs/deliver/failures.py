"""Why a message could not be sent: the error every sender raises, and what each code means.

The plain-English meaning of the Microsoft Entra (``AADSTS...``), Exchange SMTP (``535 5.7.139``)
and Microsoft Graph (``ErrorAccessDenied``) codes lives here, once, for the outbox, the log,
``cssw-docs mail status`` and ``cssw-docs mail test``.
"""

from __future__ import annotations

import re


class TransportError(Exception):
    """A message could not be handed over; the text says why in plain words.

    ``permanent``: the server refused this message for good (retrying will not help).
    ``connection``: nothing could be sent at all (server down, TLS or login failed).
    ``auth``: a sign-in or permission problem: nothing is sent until someone fixes it.
    ``retry_after``: the server asked us to wait this many seconds (throttling).
    ``code``: the Entra, SMTP or Graph code it came from, e.g. ``AADSTS7000215``.
    ``possibly_delivered``: the whole message was handed over but the server's answer never
    came (the connection dropped after the data): it may have been delivered, so it must not
    be sent again blindly.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        connection: bool = False,
        auth: bool = False,
        retry_after: float | None = None,
        code: str = "",
        possibly_delivered: bool = False,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.connection = connection or auth
        self.auth = auth
        self.retry_after = retry_after
        self.code = code
        self.possibly_delivered = possibly_delivered


# Microsoft Entra ID sign-in errors (the number after AADSTS), as an administrator would fix them.
ENTRA_ERRORS: dict[str, str] = {
    "7000215": (
        "Microsoft Entra ID says the client secret is wrong. Copy the secret's Value (not its "
        "Secret ID) from the app registration's Certificates & secrets page into {secret_env}, "
        "or better, use a certificate (mail.certificate_file)."
    ),
    "7000222": (
        "The client secret has expired. Create a new one under the app registration's "
        "Certificates & secrets and put its Value in {secret_env} (or use a certificate)."
    ),
    "700016": (
        "Microsoft Entra ID knows no application with this client ID in this tenant. Check "
        "mail.client_id (the Application (client) ID on the app's Overview page) and "
        "mail.tenant_id; the app may be registered in another tenant."
    ),
    "90002": (
        "Microsoft Entra ID has no tenant with this ID (wrong tenant). Check mail.tenant_id: it "
        "is the Directory (tenant) ID on the app registration's Overview page."
    ),
    "900023": (
        "mail.tenant_id is not a valid tenant ID (wrong tenant). Use the Directory (tenant) ID "
        "from the app registration's Overview page."
    ),
    "65001": (
        "Admin consent has not been granted. In the app registration, API permissions, press "
        "'Grant admin consent' for the council (a Global or Privileged Role Administrator)."
    ),
    "7000229": (
        "The app has no service principal in the tenant, so consent was never granted. Grant "
        "admin consent on the app registration's API permissions page."
    ),
    "500011": (
        "The tenant does not have the API this transport needs (Exchange Online or Microsoft "
        "Graph), or consent for it was not granted. Check the API permissions and grant "
        "admin consent."
    ),
    "700027": (
        "Microsoft Entra ID did not accept the certificate: upload the certificate in "
        "mail.certificate_file (its public part, a .cer or .pem) to the app registration's "
        "Certificates & secrets page, or check it has not expired there."
    ),
    "700024": (
        "Microsoft Entra ID says the sign-in was made at the wrong time: check this server's "
        "clock (and that it synchronises with a time server)."
    ),
    "7000112": (
        "The app registration is disabled in Microsoft Entra ID. Ask the administrator to "
        "enable it (Enterprise applications > the app > Properties)."
    ),
    "53003": (
        "A Conditional Access policy blocked the sign-in. Ask the administrator to allow this "
        "app (workload identity) from this server."
    ),
}

# Exchange Online SMTP replies, by enhanced status code.
SMTP_ERRORS: dict[str, str] = {
    "5.7.139": (
        "SMTP AUTH is disabled for the mailbox or for the whole tenant. Ask the Microsoft 365 "
        "administrator to enable it for this mailbox only (Set-CASMailbox -Identity {mailbox} "
        '-SmtpClientAuthenticationDisabled $false), or use mail.transport = "graph".'
    ),
    "5.7.3": (
        "Exchange Online refused the token for {mailbox}. Usually one of: the app has no "
        "Office 365 Exchange Online SMTP.SendAsApp permission with admin consent; its service "
        "principal is not registered in Exchange (New-ServicePrincipal); it has no FullAccess "
        "permission on the mailbox (Add-MailboxPermission); or mail.mailbox is wrong."
    ),
    "5.7.8": "The mail server refused the credentials for {mailbox}.",
    "5.2.252": (
        "The mailbox {mailbox} may not send as the sender address. Make mail.sender the mailbox "
        "itself, or give the mailbox Send As permission on that address."
    ),
    "5.7.60": (
        "The mailbox {mailbox} may not send as the sender address. Make mail.sender the mailbox "
        "itself, or give the mailbox Send As permission on that address."
    ),
}

# Microsoft Graph error codes (the "code" of the JSON error).
GRAPH_ERRORS: dict[str, str] = {
    "ErrorAccessDenied": (
        "Microsoft Graph refused to send as {mailbox} (access denied). Check that the app has "
        "the Microsoft Graph Mail.Send application permission with admin consent, and that the "
        "RBAC for Applications scope or application access policy includes this mailbox "
        "(mailbox not permitted)."
    ),
    "ErrorSendAsDenied": (
        "The mailbox {mailbox} may not send as the sender address. Make mail.sender the mailbox "
        "itself, or give the mailbox Send As permission on that address."
    ),
    "ErrorInvalidUser": (
        "Microsoft Graph has no mailbox {mailbox}. Check mail.mailbox (or mail.sender); it "
        "must be a mailbox with an Exchange Online licence, or a shared mailbox."
    ),
    "MailboxNotEnabledForRESTAPI": (
        "The mailbox {mailbox} cannot be used through Microsoft Graph (it is on-premises or "
        "has no Exchange Online licence). Use a cloud mailbox."
    ),
    "InvalidAuthenticationToken": (
        "Microsoft Graph refused the access token, even a new one. Check that the app has the "
        "Microsoft Graph Mail.Send application permission and admin consent was granted."
    ),
    "Authorization_RequestDenied": (
        "Microsoft Graph refused to send as {mailbox} (access denied). Check the Mail.Send "
        "application permission, admin consent and the mailbox scope."
    ),
}

AADSTS = re.compile(r"AADSTS(\d+)")
SMTP_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def explain(code: str, **names: str) -> str | None:
    """Return the plain meaning of an Entra, SMTP or Graph code, with ``names`` filled in."""
    text = None
    if match := AADSTS.search(code):
        text = ENTRA_ERRORS.get(match.group(1))
    elif match := SMTP_ENHANCED.search(code):
        text = SMTP_ERRORS.get(match.group(1))
    else:
        text = GRAPH_ERRORS.get(code.strip())
    if text is None:
        return None
    return text.format_map(_Names(names))


class _Names(dict):
    """Fills a missing name with a neutral word rather than failing."""

    def __missing__(self, key: str) -> str:
        return {"mailbox": "the mailbox", "secret_env": "the client secret variable"}.get(key, key)
