"""Who gets which documents of a pack, and who is told about a rejected workbook (pure).

Every address on every route is read by :mod:`cssw_docs.addresses` before a message is
queued: :func:`refused` says which recipients of a message may not receive it (not exactly one
plain address, or outside ``mail.allowed_domains``), and the outbox blocks that message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import addresses
from ..addresses import AddressError, Mailbox
from ..config import MailSettings
from ..models import (
    Attachment,
    Decision,
    DocKind,
    FileFormat,
    Pack,
    ReferralOutcome,
    Route,
    Stage,
    Submission,
)
from ..rules import good_practice, storyboard_due

# The workbook's own recipients: (email field, name field) of the Submission.
WORKBOOK_PEOPLE: tuple[tuple[str, str], ...] = (
    ("auditor_email", "auditor_name"),
    ("practitioner_email", "practitioner_name"),
    ("manager_email", "manager_name"),
)
# The configured address lists, each checked like a workbook's addresses.
CONFIGURED_LISTS: tuple[str, ...] = (
    "qa_admin",
    "head_of_qa",
    "smt",
    "learning_development",
    "moderation_coordinator",
)


@dataclass(frozen=True)
class Person:
    """A recipient as given (a workbook cell or a configured list); ``name`` may be empty."""

    email: str
    name: str = ""

    def mailbox(self) -> Mailbox:
        """Return the one mailbox this person is; raise AddressError when it is not usable."""
        return addresses.parse(self.email, self.name)

    def header(self) -> str:
        """Return the person as it goes in a To or Cc header; raise AddressError if unusable."""
        return self.mailbox().header()

    @property
    def envelope(self) -> str:
        """Return the envelope address when usable, else the given text made printable."""
        try:
            return self.mailbox().address
        except AddressError:
            return addresses.printable(self.email)


@dataclass(frozen=True)
class Refused:
    """A recipient who may not receive a message: the address (printable) and why not."""

    address: str
    reason: str
    unusable: bool  # True: not one plain address; False: outside mail.allowed_domains

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


OUTSIDE = "outside mail.allowed_domains"


@dataclass(frozen=True)
class Delivery:
    """One message to send: its route, recipients and the files it carries."""

    route: Route
    to: tuple[Person, ...]
    cc: tuple[Person, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """Return every envelope address, To then Cc (printable text for an unusable one)."""
        return tuple(p.envelope for p in (*self.to, *self.cc))


@dataclass(frozen=True)
class Issue:
    """What a rendered pack issues beyond its stage, which decides its messages.

    ``awaiting_decision``: a disputed Final audit for the Head of QA (and the auditor) to
    review; the practitioner and manager are told it is under review, nothing else is sent.
    ``decision``: the Head of QA's decision, issued with the final pack. ``storyboard_only``:
    a storyboard that followed its Final pack, sent on its own. ``decision_due``: the date the
    Head of QA is asked to decide by. ``closes_referral``: a revised workbook the practitioner
    no longer disputes, arriving while the Head of QA had not decided (the Head of QA is told).
    """

    awaiting_decision: bool = False
    decision: Decision | None = None
    storyboard_only: bool = False
    decision_due: dt.date | None = None
    closes_referral: bool = False


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    """Return ``issue`` as JSON-ready data (the ledger's ``jobs.issue``)."""
    decision = issue.decision
    return {
        "awaiting_decision": issue.awaiting_decision,
        "storyboard_only": issue.storyboard_only,
        "decision_due": issue.decision_due.isoformat() if issue.decision_due else None,
        "closes_referral": issue.closes_referral,
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome.value,
            "note": decision.note,
            "decided_on": decision.decided_on.isoformat(),
            "decided_by": decision.decided_by,
        },
    }


def issue_from_dict(data: Mapping[str, Any] | None) -> Issue:
    """Return the Issue :func:`issue_to_dict` made ``data`` from (None: a plain pack)."""
    if not data:
        return Issue()
    found = data.get("decision")
    decision = None
    if isinstance(found, Mapping):
        decision = Decision(
            ReferralOutcome(found["outcome"]),
            str(found.get("note", "")),
            dt.date.fromisoformat(found["decided_on"]),
            str(found.get("decided_by", "")),
        )
    due = data.get("decision_due")
    return Issue(
        awaiting_decision=bool(data.get("awaiting_decision")),
        decision=decision,
        storyboard_only=bool(data.get("storyboard_only")),
        decision_due=dt.date.fromisoformat(due) if due else None,
        closes_referral=bool(data.get("closes_referral")),
    )


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
        person = Person(email, (name or "").strip())
        if not email or person.envelope.lower() in seen:
            continue
        seen.add(person.envelope.lower())
        out.append(person)
    return tuple(out)


def listed(addresses: tuple[str, ...]) -> tuple[Person, ...]:
    """Return a configured address list as people (no names), each address once."""
    return _people(*((a, "") for a in addresses))


def _minus(people: tuple[Person, ...], others: tuple[Person, ...]) -> tuple[Person, ...]:
    taken = {p.envelope.lower() for p in others}
    return tuple(p for p in people if p.envelope.lower() not in taken)


def pack_routes(
    sub: Submission,
    pack: Pack,
    mail: MailSettings,
    *,
    moderation_selected: bool | None = None,
    issue: Issue | None = None,
) -> list[Delivery]:
    """Return every message a rendered pack needs (the routes in docs/administrators-guide.md)."""
    issue = issue or Issue()
    practitioner = _people((sub.practitioner_email, sub.practitioner_name))
    manager = _people((sub.manager_email, sub.manager_name))
    auditor = _people((sub.auditor_email, sub.auditor_name))
    report_and_plan = pack_documents(pack, DocKind.REPORT) + pack_documents(pack, DocKind.PLAN)
    storyboard = pack_documents(pack, DocKind.STORYBOARD, prefer_pdf=True)
    out: list[Delivery] = []
    if pack.stage is Stage.DRAFT:
        to = _people(*((p.email, p.name) for p in (*practitioner, *manager)))
        out.append(Delivery(Route.DRAFT, to, _minus(auditor, to), report_and_plan))
        return [d for d in out if d.to]
    if issue.storyboard_only:
        if storyboard_due(sub) and storyboard:
            to = listed(mail.smt + mail.learning_development)
            out.append(Delivery(Route.STORYBOARD, to, (), storyboard))
        return [d for d in out if d.to]
    if issue.awaiting_decision:
        # Nothing is final: the Head of QA (else, when none is configured, the auditor) gets
        # the marked report and plan; the practitioner and manager hear it is under review.
        head = listed(mail.head_of_qa) or auditor
        out.append(Delivery(Route.HEAD_OF_QA, head, _minus(auditor, head), report_and_plan))
        to = _people(*((p.email, p.name) for p in (*practitioner, *manager)))
        out.append(Delivery(Route.UNDER_REVIEW, to, _minus(auditor, to), ()))
        return [d for d in out if d.to]
    everyone = _people(*((p.email, p.name) for p in (*auditor, *practitioner, *manager)))
    told = issue.decision is not None or issue.closes_referral
    decided_by = listed(mail.head_of_qa) if told else ()
    out.append(Delivery(Route.FINAL, everyone, _minus(decided_by, everyone), report_and_plan))
    insert = pack_documents(pack, DocKind.SUPERVISION_INSERT)
    out.append(
        Delivery(Route.SUPERVISION, manager, (), insert + pack_documents(pack, DocKind.ACTIONS_CSV))
    )
    if good_practice(sub):
        out.append(Delivery(Route.GOOD_PRACTICE, listed(mail.smt), (), ()))
    if storyboard_due(sub) and storyboard:
        to = listed(mail.smt + mail.learning_development)
        out.append(Delivery(Route.STORYBOARD, to, (), storyboard))
    if moderation_selected:
        out.append(Delivery(Route.MODERATION, listed(mail.moderation_coordinator), (), ()))
    return [d for d in out if d.to]


def workbook_people(sub: Submission) -> tuple[Person, ...]:
    """Return the auditor, the practitioner and the manager, each address once."""
    return _people(*((getattr(sub, e), getattr(sub, n)) for e, n in WORKBOOK_PEOPLE))


def moderation_invitation_route(sub: Submission, mail: MailSettings) -> Delivery:
    """Return the panel invitation: the auditor, allocated worker and line manager, as the
    guide says, with the moderation coordinator copied."""
    people = workbook_people(sub)
    return Delivery(
        Route.MODERATION_INVITATION, people, _minus(listed(mail.moderation_coordinator), people)
    )


def moderation_outcome_route(sub: Submission, mail: MailSettings) -> Delivery:
    """Return the chair's decision for the auditor, practitioner and manager (coordinator cc)."""
    people = workbook_people(sub)
    return Delivery(
        Route.MODERATION_OUTCOME, people, _minus(listed(mail.moderation_coordinator), people)
    )


def good_practice_correction_route(mail: MailSettings) -> Delivery:
    """Return the corrected good-practice notice for SMT (learning and development copied)."""
    smt = listed(mail.smt)
    return Delivery(
        Route.GOOD_PRACTICE_CORRECTION, smt, _minus(listed(mail.learning_development), smt)
    )


def replacement_due_route(sub: Submission, mail: MailSettings) -> Delivery:
    """Return the notice that the Head of QA decided a revised audit replaces this one."""
    people = workbook_people(sub)
    return Delivery(Route.REPLACEMENT_DUE, people, _minus(listed(mail.head_of_qa), people))


# --- the audit year: the programme and its reminders ---------------------------------------


def programme_workbook_route(sub: Submission, workbook: Attachment) -> Delivery:
    """Return the pre-filled audit workbook for the auditor the programme names."""
    return Delivery(
        Route.PROGRAMME_WORKBOOK, _people((sub.auditor_email, sub.auditor_name)), (), (workbook,)
    )


def identified_route(sub: Submission) -> Delivery:
    """Return "your work has been identified for audit": practitioner and manager, auditor cc."""
    to = _people(
        (sub.practitioner_email, sub.practitioner_name), (sub.manager_email, sub.manager_name)
    )
    return Delivery(
        Route.IDENTIFIED, to, _minus(_people((sub.auditor_email, sub.auditor_name)), to)
    )


def feedback_reminder_route(sub: Submission, *, second: bool) -> Delivery:
    """Return the late-feedback reminder: the practitioner, the auditor copied (and the
    manager too, the second time)."""
    to = _people((sub.practitioner_email, sub.practitioner_name))
    cc = [(sub.auditor_email, sub.auditor_name)]
    if second:
        cc.append((sub.manager_email, sub.manager_name))
    return Delivery(Route.FEEDBACK_REMINDER, to, _minus(_people(*cc), to))


def referral_reminder_route(sub: Submission, mail: MailSettings) -> Delivery:
    """Return the reminder of an undecided referral: the Head of QA (else, as for the
    referral itself, the auditor)."""
    head = listed(mail.head_of_qa) or _people((sub.auditor_email, sub.auditor_name))
    return Delivery(Route.REFERRAL_REMINDER, head)


def not_started_route(sub: Submission) -> Delivery:
    """Return the reminder to the auditor of a planned audit not started yet."""
    return Delivery(Route.NOT_STARTED_REMINDER, _people((sub.auditor_email, sub.auditor_name)))


def digest_route(email: str, name: str) -> Delivery:
    """Return the weekly actions digest for one manager or practitioner."""
    return Delivery(Route.ACTIONS_DIGEST, _people((email, name)))


def rejection_route(
    auditor_email: str | None, mail: MailSettings, attachments: tuple[Attachment, ...]
) -> Delivery | None:
    """Return the message for a rejected workbook: to its auditor, else to the QA admin.

    The auditor gets it only when their address is exactly one plain address; anything else
    (empty, two addresses, a name around it, a line break) sends it to ``mail.qa_admin``.
    """
    email = (auditor_email or "").strip()
    if email and addresses.is_usable(email):
        return Delivery(Route.REJECTION, _people((email, "")), (), attachments)
    return admin_route(Route.REJECTION_ADMIN, mail, attachments)


def admin_route(
    route: Route, mail: MailSettings, attachments: tuple[Attachment, ...] = ()
) -> Delivery | None:
    """Return a message to ``mail.qa_admin``, or None when no address is configured.

    Only the usable admin addresses are on it when there are any; when none is usable the
    message keeps them all, so it is stored as blocked and shows in ``mail status``.
    """
    admins = listed(mail.qa_admin)
    usable = tuple(p for p in admins if not refused((p,), mail.allowed_domains))
    return Delivery(route, usable or admins, (), attachments) if admins else None


def blocked_notice_route(mail: MailSettings) -> Delivery:
    """Return the notice to ``mail.qa_admin`` about a message held back (no pack)."""
    return admin_route(Route.BLOCKED_NOTICE, mail) or Delivery(Route.BLOCKED_NOTICE, ())


def notice_route(mail: MailSettings, route: Route) -> Delivery:
    """Return a notice about the service itself (unconfirmed, refused, set aside) to QA admin."""
    return admin_route(route, mail) or Delivery(route, ())


def refused(
    people: tuple[Person, ...] | tuple[str, ...], allowed_domains: tuple[str, ...]
) -> list[Refused]:
    """Return the recipients who may not receive a message, each with the reason.

    A recipient must parse as exactly one plain address (its display name too); then its
    parsed domain must be in ``allowed_domains`` (subdomains count, look-alikes do not), unless
    the allowlist is empty. Plain strings (a stored message's recipients) are read the same way.
    """
    allowed = addresses.normal_domains(allowed_domains)
    out = []
    for person in people:
        person = person if isinstance(person, Person) else Person(person)
        try:
            box = person.mailbox()
        except AddressError as exc:
            out.append(Refused(addresses.printable(person.email), f"not usable: {exc}", True))
            continue
        if allowed and not addresses.domain_allowed(box.domain, allowed):
            out.append(Refused(box.address, OUTSIDE, False))
    return out


def workbook_problems(sub: Submission) -> list[tuple[str, str]]:
    """Return (field, reason) for each of the workbook's addresses or names no email can use.

    The validator refuses these already (``email.invalid``, ``name.invalid``); the outbox asks
    again before composing, so a message that could not be written is never half-queued.
    """
    out = []
    for email_field, name_field in WORKBOOK_PEOPLE:
        email, name = getattr(sub, email_field).strip(), getattr(sub, name_field).strip()
        if email and (problem := addresses.address_problem(email)):
            out.append((email_field, problem))
        if name and (problem := addresses.name_problem(name)):
            out.append((name_field, problem))
    return out


def sending_problems(mail: MailSettings) -> list[str]:
    """Return why no email may be sent with these settings (empty when it may).

    Children's data must not go out to any address by default: a service that sends (SMTP
    with ``mail.host``, or Microsoft 365) needs ``mail.allowed_domains``, or
    ``mail.allow_any_domain = true`` said explicitly.
    ``.eml`` mode (no host) writes files only, so it may run without either. The sender must
    be one plain address in every mode, or no message can be written.
    """
    out = []
    if problem := sender_problem(mail):
        out.append(problem)
    if (
        not mail.files_only
        and not addresses.normal_domains(mail.allowed_domains)
        and not mail.allow_any_domain
    ):
        out.append(
            "cssw-docs will not send email while "
            "mail.allowed_domains is empty: any address typed into a workbook would receive a "
            "child's details. Add the council's domains to the [mail] section of cssw-docs.toml, "
            'e.g. allowed_domains = ["camden.gov.uk"], or, only if every domain must really be '
            "allowed, set allow_any_domain = true there."
        )
    return out


def sender_problem(mail: MailSettings) -> str | None:
    """Return why ``mail.sender`` (with ``mail.sender_name``) cannot be the From, or None."""
    try:
        addresses.parse(mail.sender, mail.sender_name)
    except AddressError as exc:
        return (
            f"mail.sender or mail.sender_name cannot be used ({exc}): set sender to one "
            "plain address in the [mail] section of cssw-docs.toml, e.g. "
            'sender = "cssw-docs@camden.gov.uk".'
        )
    return None


def unusable_configured(mail: MailSettings) -> list[str]:
    """Return a line for each address in a configured list that is not one plain address."""
    out = []
    for key in CONFIGURED_LISTS:
        for address in getattr(mail, key):
            if problem := addresses.address_problem(address):
                out.append(f"mail.{key}: {addresses.printable(address)} ({problem})")
    return out
