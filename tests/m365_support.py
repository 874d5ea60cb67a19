"""Microsoft 365 stand-ins on loopback: Entra ID's token endpoint, Graph, and SMTP XOAUTH2.

One HTTPS server (a test CA's certificate for 127.0.0.1) plays both Entra ID (tenant discovery
and ``/oauth2/v2.0/token``) and Microsoft Graph (``sendMail``); an aiosmtpd server implements
``AUTH XOAUTH2`` and accepts only tokens that server issued for the Outlook scope.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cssw_docs.deliver.graph import GRAPH_REQUEST_LIMIT
from cssw_docs.deliver.oauth import OUTLOOK_SCOPE
from deliver_support import free_port, mail_settings

TENANT = "0d3b8e51-6d5c-4a27-9f0e-c55d0a1f2e33"
CLIENT_ID = "6f1c2b7e-91aa-4a8e-b1d2-3c4d5e6f7a8b"
SECRET = "Qx8~test-client-secret-value"
SECRET_ENV = "CSSW_DOCS_M365_CLIENT_SECRET"
MAILBOX = "cssw-docs@camden.gov.uk"

# What Entra ID answers for each error code the tests ask for (status, OAuth error, text).
ENTRA_ANSWERS = {
    "AADSTS7000215": (401, "invalid_client", "Invalid client secret provided."),
    "AADSTS700016": (400, "unauthorized_client", "Application with identifier was not found."),
    "AADSTS65001": (400, "invalid_grant", "The user or administrator has not consented."),
}


# --- Certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A test CA (trusted by the client through mail.ca_file) and a server certificate."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """Return the server side TLS context."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_pki(folder: Path) -> Pki:
    """Return a CA and a certificate for 127.0.0.1 signed by it (made with cryptography)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("cssw-docs test CA"))
        .issuer_name(_name("cssw-docs test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(_pem_key(key))
    return pki


@dataclass(frozen=True)
class AppCertificate:
    """The app registration's certificate: the PEM file cssw-docs reads, and what Entra keeps."""

    pem_file: Path
    certificate: x509.Certificate

    @property
    def sha256_thumbprint(self) -> str:
        """Return the x5t#S256 value a client assertion signed with it carries."""
        digest = self.certificate.fingerprint(hashes.SHA256())
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_app_certificate(folder: Path, mode: int = 0o600) -> AppCertificate:
    """Return a self-signed RSA certificate and key in one PEM file with ``mode``."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cssw-docs app"))
        .issuer_name(_name("cssw-docs app"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    path = folder / "cssw-docs-m365.pem"
    path.write_bytes(_pem_key(key) + cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(mode)
    return AppCertificate(path, cert)


# --- Entra ID and Graph -------------------------------------------------------------------------


@dataclass
class GraphPost:
    """One sendMail request Graph accepted."""

    mailbox: str
    content_type: str
    body: bytes

    @property
    def mime(self) -> bytes:
        """Return the MIME message (text/plain requests carry it base64)."""
        return base64.b64decode(self.body, validate=True)

    @property
    def message_id(self) -> str:
        if self.content_type.startswith("application/json"):
            return json.loads(self.body)["message"]["internetMessageId"]
        return str(BytesParser(policy=policy.default).parsebytes(self.mime)["Message-ID"])


@dataclass
class StandIn:
    """Entra ID and Microsoft Graph on https://127.0.0.1:<port>, with switches for the tests."""

    pki: Pki
    app_certificate: AppCertificate | None = None
    expires_in: int = 3600
    entra_error: str | None = None  # e.g. "AADSTS7000215": every token request is refused
    permitted_mailboxes: tuple[str, ...] = (MAILBOX,)  # the application access policy
    throttle: list[int] = field(default_factory=list)  # Retry-After of the next 429s
    refuse_every_token: bool = False  # Graph and SMTP refuse even a new token
    token_requests: list[dict[str, str]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> scope
    revoked: set[str] = field(default_factory=set)
    posts: list[GraphPost] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # status, Graph code
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> StandIn:
        """Start serving in a thread; return self."""
        standin = self

        class Handler(_Handler):
            owner = standin

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = self.pki.server_context().wrap_socket(
            self.server.socket, server_side=True
        )
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def valid(self, token: str, scope: str) -> bool:
        """Return True when ``token`` was issued here for ``scope`` and is still good."""
        with self.lock:
            good = self.tokens.get(token) == scope and token not in self.revoked
        return good and not self.refuse_every_token

    def revoke_all(self) -> None:
        """Revoke every token issued so far (as an administrator might)."""
        with self.lock:
            self.revoked.update(self.tokens)

    def issue(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """Answer a token request: check the client and its credential, then issue."""
        if self.entra_error:
            status, error, text = ENTRA_ANSWERS[self.entra_error]
            code = self.entra_error.removeprefix("AADSTS")
            description = f"{self.entra_error}: {text} Trace ID: 1\r\nCorrelation ID: 2"
            answer = {"error": error, "error_description": description, "error_codes": [int(code)]}
            return status, answer
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return 400, {"error": "invalid_request", "error_description": "AADSTS900144: bad"}
        kind = self._check_credential(form)
        if kind is None and "client_assertion" in form:
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS700027: Client assertion has an invalid signature.",
                "error_codes": [700027],
            }
        if kind is None:
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
                "error_codes": [7000215],
            }
        scope = form.get("scope", "")
        with self.lock:
            token = f"token-{len(self.tokens) + 1}-{scope.split('/')[2]}"
            self.tokens[token] = scope
            self.token_requests.append({"scope": scope, "credential": kind})
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}

    def _check_credential(self, form: dict[str, str]) -> str | None:
        if "client_secret" in form:
            return "secret" if form["client_secret"] == SECRET else None
        if self.app_certificate is None or "client_assertion" not in form:
            return None
        assertion = form["client_assertion"]
        header = jwt.get_unverified_header(assertion)
        if str(header.get("x5t#S256", "")).rstrip("=") != self.app_certificate.sha256_thumbprint:
            return None
        try:
            jwt.decode(
                assertion,
                self.app_certificate.certificate.public_key(),
                algorithms=[header["alg"]],
                audience=f"{self.url}/{TENANT}/oauth2/v2.0/token",
                issuer=CLIENT_ID,
            )
        except jwt.PyJWTError:
            return None
        return "certificate"

    def send_mail(self, mailbox: str, headers, body: bytes) -> tuple[int, dict, dict]:
        """Answer ``POST /v1.0/users/{mailbox}/sendMail``: token, size, throttle, payload."""
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not self.valid(token, f"{self.url}/.default"):
            return self._refuse(401, "InvalidAuthenticationToken", "Access token has expired.")
        if len(body) > GRAPH_REQUEST_LIMIT:
            return self._refuse(413, "RequestBodyTooLarge", "The request is too large.")
        if self.throttle:
            wait = self.throttle.pop(0)
            answer = self._refuse(429, "ApplicationThrottled", "Too many requests.")
            return answer[0], answer[1], {"Retry-After": str(wait)}
        if mailbox.lower() not in {m.lower() for m in self.permitted_mailboxes}:
            return self._refuse(
                403,
                "ErrorAccessDenied",
                "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
                "AccessPolicy settings.",
            )
        content_type = headers.get("Content-Type", "")
        try:
            if content_type.startswith("text/plain"):
                parsed = BytesParser(policy=policy.default).parsebytes(
                    base64.b64decode(body, validate=True)
                )
                assert parsed["Message-ID"] and parsed["To"]
            else:
                assert json.loads(body)["message"]["toRecipients"]
        except (ValueError, AssertionError, KeyError):
            return self._refuse(400, "ErrorMimeContentInvalidBase64String", "Invalid base64.")
        with self.lock:
            self.posts.append(GraphPost(mailbox, content_type, body))
        return 202, {}, {"request-id": f"req-{len(self.posts)}"}

    def _refuse(self, status: int, code: str, message: str) -> tuple[int, dict, dict]:
        with self.lock:
            self.rejected.append((status, code))
        return status, {"error": {"code": code, "message": message}}, {}


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn

    def log_message(self, format, *args) -> None:  # keep the test output quiet
        pass

    def _answer(self, status: int, data: dict, headers: dict | None = None) -> None:
        body = json.dumps(data).encode() if data else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        tenant, _, rest = self.path.strip("/").partition("/")
        if rest != "v2.0/.well-known/openid-configuration":
            self._answer(404, {"error": "not_found"})
        elif tenant != TENANT:
            self._answer(
                400,
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        else:
            base = f"{self.owner.url}/{TENANT}"
            self._answer(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = urllib.parse.urlsplit(self.path).path
        if path == f"/{TENANT}/oauth2/v2.0/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            self._answer(*self.owner.issue(form))
            return
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v1.0", "users"] and parts[3] == "sendMail":
            mailbox = urllib.parse.unquote(parts[2])
            self._answer(*self.owner.send_mail(mailbox, self.headers, body))
            return
        self._answer(404, {"error": {"code": "NotFound", "message": path}})


# --- SMTP with XOAUTH2 ----------------------------------------------------------------------------


@dataclass
class Delivered:
    """One message the SMTP stand-in accepted."""

    rcpt_tos: list[str]
    data: bytes

    @property
    def message_id(self) -> str:
        return str(BytesParser(policy=policy.default).parsebytes(self.data)["Message-ID"])


@dataclass
class XOAuth2Handler:
    """An aiosmtpd handler offering ``AUTH XOAUTH2``, checking tokens with the stand-in."""

    standin: StandIn
    mailbox: str = MAILBOX
    refuse_with: str | None = None  # e.g. "535 5.7.139 ...": every AUTH gets this answer
    busy: int = 0  # answer this many DATA commands with a 4xx (Exchange throttling)
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (user, token)
    received: list[Delivered] = field(default_factory=list)

    async def auth_XOAUTH2(self, server, args) -> AuthResult:
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        fields = dict(p.split("=", 1) for p in blob.decode().split("\x01") if "=" in p)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        self.attempts.append((user, token))
        if self.refuse_with:
            return AuthResult(success=False, handled=False, message=self.refuse_with)
        if user.lower() == self.mailbox.lower() and self.standin.valid(token, OUTLOOK_SCOPE):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(
            success=False, handled=False, message="535 5.7.3 Authentication unsuccessful [test]"
        )

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.busy:
            self.busy -= 1
            return "451 4.7.500 Server busy. Please try again later."
        self.received.append(Delivered(list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 OK queued as test"


def start_xoauth2_server(standin: StandIn) -> tuple[Controller, XOAuth2Handler]:
    """Start an SMTP server requiring STARTTLS and AUTH XOAUTH2; return it running."""
    handler = XOAuth2Handler(standin)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=standin.pki.server_context(),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    controller.start()
    return controller, handler


def m365_settings(standin: StandIn, transport: str, smtp_port: int = 0, **mail: object):
    """Return settings for ``transport`` against the stand-ins (secret from SECRET_ENV)."""
    return mail_settings(**m365_mail(standin, transport, smtp_port, **mail))


def m365_mail(standin: StandIn, transport: str, smtp_port: int = 0, **mail: object) -> dict:
    """Return the ``[mail]`` values for ``transport`` against the stand-ins."""
    values: dict[str, object] = {
        "transport": transport,
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "authority_host": standin.url,
        "graph_url": standin.url,
        "ca_file": str(standin.pki.ca_file),
        "sender": MAILBOX,
    }
    if transport == "smtp-oauth":
        values.update(host="127.0.0.1", port=smtp_port, security="starttls")
    values.update(mail)
    return values
