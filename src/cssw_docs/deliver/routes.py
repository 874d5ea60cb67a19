"""Who gets which documents of a pack, and who is told about a rejected workbook (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

from ..config import MailSettings
from ..models import Attachment, DocKind, FileFormat, Pack, Route, Stage, Submission
from ..rules import referred_to_head_of_qa, storyboard_due


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
    """One message to send: its route, recipients and the files it carries."""

    route: Route
    to: tuple[Person, ...]
    cc: tuple[Person, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """Return every envelope address, To then Cc."""
        return tuple(p.email for p in (*self.to, *self.cc))


def pack_documents(
    pack: Pack, kind: DocKind, *, prefer_pdf: bool = False
) -> tuple[Attachment, ...]:
    """Return the pack's ``kind`` files, every format; with ``prefer_pdf`` the PDF when made."""
    files = [f for f in pack.files if f.kind == kind]
    if prefer_pdf:
        files = [f for f in files if f.format == FileFormat.PDF] or files
    return tuple(Attachment(pack.directory / f.name, kind, FileFormat(f.format)) for f in files)


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


def listed(addresses: tuple[str, ...]) -> tuple[Person, ...]:
    """Return a configured address list as people (no names), each address once."""
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
    report_and_plan = pack_documents(pack, DocKind.REPORT) + pack_documents(pack, DocKind.PLAN)
    out: list[Delivery] = []
    if pack.stage is Stage.DRAFT:
        to = _people(*((p.email, p.name) for p in (*practitioner, *manager)))
        out.append(Delivery(Route.DRAFT, to, _minus(auditor, to), report_and_plan))
        return [d for d in out if d.to]
    everyone = _people(*((p.email, p.name) for p in (*auditor, *practitioner, *manager)))
    out.append(Delivery(Route.FINAL, everyone, (), report_and_plan))
    insert = pack_documents(pack, DocKind.SUPERVISION_INSERT)
    out.append(
        Delivery(Route.SUPERVISION, manager, (), insert + pack_documents(pack, DocKind.ACTIONS_CSV))
    )
    storyboard = pack_documents(pack, DocKind.STORYBOARD, prefer_pdf=True)
    if storyboard_due(sub) and storyboard:
        to = listed(mail.smt + mail.learning_development)
        out.append(Delivery(Route.STORYBOARD, to, (), storyboard))
    if referred_to_head_of_qa(sub):
        out.append(Delivery(Route.HEAD_OF_QA, listed(mail.head_of_qa), (), report_and_plan))
    if moderation_selected:
        out.append(Delivery(Route.MODERATION, listed(mail.moderation_coordinator), (), ()))
    return [d for d in out if d.to]


def rejection_route(
    auditor_email: str | None, mail: MailSettings, attachments: tuple[Attachment, ...]
) -> Delivery | None:
    """Return the message for a rejected workbook: to its auditor, else to the QA admin."""
    email = (auditor_email or "").strip()
    if email and "@" in email:
        return Delivery(Route.REJECTION, _people((email, "")), (), attachments)
    admins = listed(mail.qa_admin)
    if admins:
        return Delivery(Route.REJECTION_ADMIN, admins, (), attachments)
    return None


def blocked_notice_route(mail: MailSettings) -> Delivery:
    """Return the notice to ``mail.qa_admin`` about a message the allowlist held back."""
    return Delivery(Route.BLOCKED_NOTICE, listed(mail.qa_admin))


def notice_route(mail: MailSettings, route: Route) -> Delivery:
    """Return a notice about the service itself (unconfirmed, refused, set aside) to QA admin."""
    return Delivery(route, listed(mail.qa_admin))


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
