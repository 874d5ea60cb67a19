"""Who gets which documents of a pack, and who is told about a rejected workbook (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path

from ..config import MailSettings
from ..models import Agreement, Pack, PackFile, Stage, Submission

# Route names; each is one "recipient group" and so one Message-ID per job, stage and version.
DRAFT = "draft"
FINAL = "final"
SUPERVISION = "supervision"
STORYBOARD = "storyboard"
HEAD_OF_QA = "head-of-qa"
MODERATION = "moderation"
REJECTION = "rejection"
REJECTION_ADMIN = "rejection-admin"
BLOCKED_NOTICE = "blocked-notice"

# Documents of a pack, by role; a PackFile's ``kind`` or, failing that, its name says which.
REPORT = "report"
PLAN = "plan"
SUPERVISION_INSERT = "supervision"
ACTIONS_CSV = "actions_csv"
STORYBOARD_DOC = "storyboard"

_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("supervision_actions", ACTIONS_CSV),
    ("supervision", SUPERVISION_INSERT),
    ("insert", SUPERVISION_INSERT),
    ("storyboard", STORYBOARD_DOC),
    ("audit plan", PLAN),
    ("plan", PLAN),
    ("audit report", REPORT),
    ("report", REPORT),
)


@dataclass(frozen=True)
class Person:
    """A named recipient; ``name`` may be empty for a configured address list."""

    email: str
    name: str = ""

    def header(self) -> str:
        """Return the address as it goes in a To or Cc header."""
        try:
            return str(Address(display_name=self.name, addr_spec=self.email))
        except (ValueError, IndexError):
            return self.email


@dataclass(frozen=True)
class Delivery:
    """One message to send: its route, recipients and the pack files it carries."""

    route: str
    to: tuple[Person, ...]
    cc: tuple[Person, ...] = ()
    attachments: tuple[Path, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """Return every envelope address, To then Cc."""
        return tuple(p.email for p in (*self.to, *self.cc))


def role_of_name(name: str, kind: str = "") -> str | None:
    """Return the document role of a file named ``name`` (``report``, ``plan`` ...), or None."""
    kind = (kind or "").lower()
    name = name.lower()
    if name.endswith(".json"):
        return None
    if name.endswith(".csv") or kind in ("csv", "supervision_actions", "actions_csv"):
        return ACTIONS_CSV
    for hint, role in _NAME_HINTS:
        if hint in kind:
            return role
    for hint, role in _NAME_HINTS:
        if hint in name:
            return role
    return None


def role_of(pack_file: PackFile) -> str | None:
    """Return the document role of a pack file (``report``, ``plan`` ...), or None (json etc.)."""
    return role_of_name(pack_file.name, pack_file.kind)


def pack_documents(pack: Pack, role: str, *, prefer_pdf: bool = False) -> tuple[Path, ...]:
    """Return the pack's files for ``role``: DOCX (and PDF) or, with ``prefer_pdf``, PDF alone."""
    files = [f for f in pack.files if role_of(f) == role]
    if prefer_pdf:
        pdfs = [f for f in files if f.name.lower().endswith(".pdf")]
        files = pdfs or files
    return tuple(pack.directory / f.name for f in files)


def _people(*pairs: tuple[str, str]) -> tuple[Person, ...]:
    """Return the non-empty addresses as people, without repeating an address."""
    seen: set[str] = set()
    out = []
    for email, name in pairs:
        email = (email or "").strip()
        if not email or email.lower() in seen:
            continue
        seen.add(email.lower())
        out.append(Person(email, (name or "").strip()))
    return tuple(out)


def _listed(addresses: tuple[str, ...]) -> tuple[Person, ...]:
    return _people(*((a, "") for a in addresses))


def _minus(people: tuple[Person, ...], others: tuple[Person, ...]) -> tuple[Person, ...]:
    taken = {p.email.lower() for p in others}
    return tuple(p for p in people if p.email.lower() not in taken)


def pack_routes(
    sub: Submission, pack: Pack, mail: MailSettings, *, moderation_selected: bool | None = None
) -> list[Delivery]:
    """Return every message a rendered pack needs, by the routing rules in the README."""
    practitioner = _people((sub.practitioner_email, sub.practitioner_name))
    manager = _people((sub.manager_email, sub.manager_name))
    auditor = _people((sub.auditor_email, sub.auditor_name))
    report_and_plan = pack_documents(pack, REPORT) + pack_documents(pack, PLAN)
    out: list[Delivery] = []
    if pack.stage is Stage.DRAFT:
        to = _people(*((p.email, p.name) for p in (*practitioner, *manager)))
        out.append(Delivery(DRAFT, to, _minus(auditor, to), report_and_plan))
        return [d for d in out if d.to]
    everyone = _people(*((p.email, p.name) for p in (*auditor, *practitioner, *manager)))
    out.append(Delivery(FINAL, everyone, (), report_and_plan))
    out.append(
        Delivery(
            SUPERVISION,
            manager,
            (),
            pack_documents(pack, SUPERVISION_INSERT) + pack_documents(pack, ACTIONS_CSV),
        )
    )
    storyboard = pack_documents(pack, STORYBOARD_DOC, prefer_pdf=True)
    if sub.overall_rating is not None and sub.overall_rating.good_or_better and storyboard:
        out.append(
            Delivery(STORYBOARD, _listed(mail.smt + mail.learning_development), (), storyboard)
        )
    if sub.practitioner_agreement is Agreement.DISAGREE:
        out.append(Delivery(HEAD_OF_QA, _listed(mail.head_of_qa), (), report_and_plan))
    if moderation_selected:
        out.append(Delivery(MODERATION, _listed(mail.moderation_coordinator), (), ()))
    return [d for d in out if d.to]


def rejection_route(
    auditor_email: str | None, mail: MailSettings, attachments: tuple[Path, ...]
) -> Delivery | None:
    """Return the message for a rejected workbook: to its auditor, else to the QA admin."""
    email = (auditor_email or "").strip()
    if email and "@" in email:
        return Delivery(REJECTION, _people((email, "")), (), attachments)
    admins = _listed(mail.qa_admin)
    if admins:
        return Delivery(REJECTION_ADMIN, admins, (), attachments)
    return None


def outside_allowlist(addresses: tuple[str, ...], allowed_domains: tuple[str, ...]) -> list[str]:
    """Return the addresses whose domain is not allowed (none when the allowlist is empty).

    A subdomain counts as inside (``x@social.camden.gov.uk`` with ``camden.gov.uk``), as in
    the validator's ``email_domains`` warning; a look-alike (``evil-camden.gov.uk``) does not.
    """
    allowed = {d.strip().lower().lstrip("@.") for d in allowed_domains if d.strip()}
    if not allowed:
        return []
    bad = []
    for address in addresses:
        local, at, domain = address.strip().lower().rpartition("@")
        inside = any(domain == d or domain.endswith("." + d) for d in allowed)
        if not (local and at and domain and inside):
            bad.append(address)
    return bad
