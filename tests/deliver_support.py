"""Helpers for the delivery tests: small packs, a real SMTP server on loopback, a test CA."""

from __future__ import annotations

import hashlib
import io
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cache
from pathlib import Path

import docx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cssw_docs.config import Settings
from cssw_docs.models import DocKind, FileFormat, Pack, PackFile, Stage

DOCUMENTS = (
    ("Audit report", DocKind.REPORT),
    ("Audit plan", DocKind.PLAN),
    ("Supervision insert", DocKind.SUPERVISION_INSERT),
    ("Storyboard", DocKind.STORYBOARD),
)


def make_pack(
    root: Path,
    ref: str = "CSSW-2026-0142",
    stage: Stage = Stage.FINAL,
    *,
    padding: int = 0,
    kinds: tuple[DocKind, ...] | None = None,
) -> Pack:
    """Return a pack of small real Word documents (and the actions CSV) written under ``root``.

    ``kinds`` keeps only those Word documents (the CSV goes with the supervision insert).
    """
    folder = root / ref / f"{stage}-v1"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    names = DOCUMENTS if stage is Stage.FINAL else DOCUMENTS[:2]
    for title, kind in names:
        path = folder / f"{ref} {title}.docx"
        path.write_bytes(_word_document(f"{ref} {title}", padding))
        files.append(_pack_file(path, kind))
    if stage is Stage.FINAL:
        csv = folder / "supervision_actions.csv"
        csv.write_bytes(
            "\ufeffAction,Owner,Due\r\nUpdate the chronology,Tom Baxter,2026-11-13\r\n".encode()
        )
        files.append(_pack_file(csv, DocKind.ACTIONS_CSV, FileFormat.CSV))
    if kinds is not None:
        keep = {*kinds, *((DocKind.ACTIONS_CSV,) if DocKind.SUPERVISION_INSERT in kinds else ())}
        files = [f for f in files if f.kind in keep]
    (folder / "audit.json").write_text("{}", "utf-8")
    files.append(_pack_file(folder / "audit.json", DocKind.AUDIT_JSON, FileFormat.JSON))
    return Pack(ref, stage, 1, folder, tuple(files))


@cache
def _word_document(heading: str, padding: int) -> bytes:
    """Return a small real Word document with ``heading`` (built once per test process)."""
    doc = docx.Document()
    doc.add_heading(heading, level=1)
    if padding:
        doc.core_properties.comments = "x" * padding
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _pack_file(path: Path, kind: DocKind, fmt: FileFormat = FileFormat.DOCX) -> PackFile:
    data = path.read_bytes()
    return PackFile(path.name, kind, hashlib.sha256(data).hexdigest(), len(data), fmt)


def mail_settings(**mail: object) -> Settings:
    """Return settings with every address list filled and the given ``mail.*`` changes."""
    changes: dict[str, object] = {
        "mail.smt": ["smt@camden.gov.uk"],
        "mail.learning_development": ["learning@camden.gov.uk"],
        "mail.head_of_qa": ["head.of.qa@camden.gov.uk"],
        "mail.moderation_coordinator": ["moderation@camden.gov.uk"],
        "mail.qa_admin": ["qa.admin@camden.gov.uk"],
        "mail.sender": "cssw-docs@camden.gov.uk",
        # These tests send by SMTP with an empty allowlist, which must be said explicitly.
        "mail.allow_any_domain": True,
    }
    changes.update({f"mail.{k}": v for k, v in mail.items()})
    return Settings().with_changes(**changes)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One message the test server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """Return the parsed message."""
        return BytesParser(policy=policy.default).parsebytes(self.data)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every accepted message."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses answered with 550

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 2.0.0 OK queued as test"

    def by_subject(self, words: str) -> list[Received]:
        """Return the messages whose subject contains ``words``."""
        return [r for r in self.received if words in r.subject]


@dataclass
class Credentials:
    """The one login the test server accepts."""

    username: str = "svc-cssw-docs@camden.gov.uk"
    password: str = "correct horse battery staple"

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)


def start_server(port: int | None = None, **kwargs: object) -> tuple[Controller, Recorder]:
    """Start a real SMTP server on 127.0.0.1 (a free port unless given); return it running."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    return controller, recorder


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """Return (certificate, key) of a self-signed certificate for 127.0.0.1 made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=cssw-docs test relay",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Return the server side TLS context for the test certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
