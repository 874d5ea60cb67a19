"""Microsoft 365 access tokens for the service itself (app-only, client credentials), via MSAL.

This is the only module that imports msal. The service signs in as an Entra app registration
with a certificate (preferred) or a client secret from the environment. Tokens are kept in
memory, one cache per app and scope for the life of the process, and renewed five minutes
before they expire (MSAL's rule); :meth:`TokenSource.renew` forces a new one when a server
refuses a token that looked valid (revoked, or a permission granted since).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal

from ..config import MailSettings
from . import https
from .failures import AADSTS, TransportError, explain

log = logging.getLogger(__name__)

OUTLOOK_SCOPE = "https://outlook.office365.com/.default"  # SMTP AUTH XOAUTH2 (SMTP.SendAsApp)
TEMPORARY_ERRORS = ("temporarily_unavailable", "server_error")  # OAuth error names: try again
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


def graph_scope(mail: MailSettings) -> str:
    """Return the Graph scope, e.g. ``https://graph.microsoft.com/.default`` (Mail.Send)."""
    return mail.graph_url.rstrip("/") + "/.default"


def mailbox(mail: MailSettings) -> str:
    """Return the mailbox that sends: ``mail.mailbox``, or else the sender address."""
    return (mail.mailbox or mail.sender).strip()


@dataclass(frozen=True)
class Credential:
    """What the app proves itself with: a secret, or a private key and its certificate."""

    value: str | dict[str, str]
    kind: str  # "certificate" or "client secret"
    fingerprint: str  # tells two credentials apart without keeping them in a key


def load_credential(mail: MailSettings, environ: Mapping[str, str]) -> Credential:
    """Return the app's credential: ``mail.certificate_file`` if set, else the secret variable."""
    if not mail.tenant_id.strip() or not mail.client_id.strip():
        raise _setup(
            "mail.tenant_id and mail.client_id must both be set (see Microsoft 365 with modern "
            "authentication in docs/administrators-guide.md)."
        )
    if mail.certificate_file is not None:
        return _certificate(Path(mail.certificate_file))
    secret = environ.get(mail.client_secret_env, "") if mail.client_secret_env else ""
    if not secret:
        raise _setup(
            f"No credential for the Microsoft 365 app: set mail.certificate_file (preferred) or "
            f"put the client secret in the environment variable {mail.client_secret_env} of "
            "the service account."
        )
    return Credential(secret, "client secret", _digest(secret))


def _certificate(path: Path) -> Credential:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        missing = f"The certificate file mail.certificate_file = {path} does not exist."
        raise _setup(missing) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _setup(f"The certificate file {path} could not be read ({exc}).") from exc
    if os.name != "nt" and mode & 0o027:  # Windows: protect it with the file's ACL instead
        raise _setup(
            f"The certificate file {path} holds the app's private key but other accounts can "
            f"{'change' if mode & 0o022 else 'read'} it (mode {mode & 0o777:o}). Make the "
            "service account its owner and run `chmod 600` on it."
        )
    blocks = {m.group(1): m.group(0) for m in PEM_BLOCK.finditer(text)}
    if "ENCRYPTED PRIVATE KEY" in blocks:
        raise _setup(
            f"The private key in {path} is protected by a passphrase, which cssw-docs cannot "
            "use. Keep it unencrypted in a file only the service account can read."
        )
    key = next((b for label, b in blocks.items() if label.endswith("PRIVATE KEY")), None)
    cert = blocks.get("CERTIFICATE")
    if key is None or cert is None:
        raise _setup(
            f"The certificate file {path} must hold both the private key and the certificate "
            "in PEM form (e.g. `cat key.pem cert.pem > cssw-docs-m365.pem`)."
        )
    # With the certificate, MSAL signs with its SHA-256 thumbprint (no SHA-1 needed).
    value = {"private_key": key, "public_certificate": cert}
    return Credential(value, "certificate", _digest(text))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _setup(text: str) -> TransportError:
    return TransportError(text, auth=True, code="setup")


class TokenSource:
    """Access tokens for one app and one scope, cached in memory."""

    def __init__(self, mail: MailSettings, credential: Credential, scope: str):
        self.mail = mail
        self.credential = credential
        self.scope = scope
        self._app: msal.ConfidentialClientApplication | None = None

    @property
    def authority(self) -> str:
        return f"{self.mail.authority_host.rstrip('/')}/{self.mail.tenant_id.strip()}"

    def _client(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = msal.ConfidentialClientApplication(
                self.mail.client_id.strip(),
                client_credential=self.credential.value,
                authority=self.authority,
                # The tenant's own OpenID configuration is still read; this only skips asking
                # login.microsoftonline.com to vouch for authority_host (a test stand-in).
                instance_discovery=False,
                http_client=https.session(self.mail),
                token_cache=msal.TokenCache(),
            )
        return self._app

    def token(self) -> str:
        """Return a token valid for five minutes at least; raise TransportError if refused."""
        try:
            result: dict[str, Any] = self._client().acquire_token_for_client(scopes=[self.scope])
        except OSError as exc:  # requests' errors are OSErrors: network, TLS, timeout
            raise self._unreachable(exc) from exc
        except ValueError as exc:  # tenant discovery refused, or an unusable key
            raise self._unusable(exc) from exc
        if "access_token" in result:
            if result.get("token_source") != "cache":
                log.info("new Microsoft 365 token for %s (%s)", self.scope, self.credential.kind)
            return str(result["access_token"])
        raise self._refused(result)

    def renew(self) -> None:
        """Forget the cached tokens, so the next :meth:`token` asks Entra ID for a new one."""
        if self._app is None:
            return
        cache = self._app.token_cache
        for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)

    def _unreachable(self, exc: OSError) -> TransportError:
        if "SSLError" in type(exc).__name__ or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return TransportError(
                f"The certificate of {self.mail.authority_host} could not be verified. Behind a "
                "proxy that inspects TLS, set mail.ca_file to the proxy's CA certificate.",
                connection=True,
            )
        return TransportError(
            f"Could not reach Microsoft Entra ID at {self.mail.authority_host} "
            f"({type(exc).__name__}). The messages stay in the outbox and will be tried again.",
            connection=True,
        )

    def _unusable(self, exc: ValueError) -> TransportError:
        text = f"{exc} {exc.__context__ or ''}"
        if match := AADSTS.search(text):
            code = match.group(0)
            return TransportError(
                f"Microsoft Entra ID refused the sign-in ({code}). {self._meaning(code)}",
                auth=True,
                code=code,
            )
        if "authority configuration" in text or "OIDC Discovery" in text:
            code = "AADSTS90002"
            return TransportError(
                f"Microsoft Entra ID does not know the tenant {self.mail.tenant_id!r}. "
                f"{self._meaning(code)}",
                auth=True,
                code=code,
            )
        return _setup(
            f"The {self.credential.kind} for the Microsoft 365 app could not be used ({exc}). "
            "Entra ID accepts RSA certificates only; check mail.certificate_file."
        )

    def _refused(self, result: dict[str, Any]) -> TransportError:
        error = str(result.get("error") or "unknown_error")
        description = str(result.get("error_description") or error).strip()
        first = description.splitlines()[0] if description else error
        codes = result.get("error_codes") or [m for m in AADSTS.findall(description)]
        code = f"AADSTS{codes[0]}" if codes else error
        if error in TEMPORARY_ERRORS:
            return TransportError(
                f"Microsoft Entra ID could not issue a token just now ({first}). "
                "The messages stay in the outbox and will be tried again.",
                connection=True,
                code=code,
            )
        return TransportError(
            f"Microsoft Entra ID refused to issue a token ({first}). {self._meaning(code)}",
            auth=True,
            code=code,
        )

    def _meaning(self, code: str) -> str:
        return explain(code, secret_env=self.mail.client_secret_env) or (
            "Check mail.tenant_id, mail.client_id and the app's credential and permissions."
        )


_SOURCES: dict[tuple[str, ...], TokenSource] = {}


def token_source(mail: MailSettings, environ: Mapping[str, str], scope: str) -> TokenSource:
    """Return the token source for these settings, reusing its cache across sending runs."""
    credential = load_credential(mail, environ)
    key = (
        mail.authority_host,
        mail.tenant_id,
        mail.client_id,
        scope,
        str(mail.ca_file or ""),
        credential.fingerprint,
    )
    if key not in _SOURCES:
        _SOURCES[key] = TokenSource(mail, credential, scope)
    return _SOURCES[key]


def forget_tokens() -> None:
    """Forget every cached token and app, so the next send signs in afresh."""
    _SOURCES.clear()
