"""Every setting checked before the service relies on it: ``config check`` and ``watch`` at start.

Loading the settings (``config.load``) already refuses what cannot be read at all (an unknown
name, a number that is not a number, a list that is not a list). This looks at what was read:
every configured address parses, each folder exists (or can be made) and can be written, the
ledger is on local disk, and each route someone relies on has recipients. A problem stops the
service; a route with nobody on it is a warning, since a council may choose not to use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import rubric, wordlists
from ..config import WEEKDAYS, MailSettings, RemindersSettings, Settings
from ..deliver import oauth, probe, routes
from ..deliver.failures import TransportError
from ..retention import NO_SCHEDULE
from . import daily

# Who each configured address list (deliver.routes.CONFIGURED_LISTS) is, and what they get.
# Each is a warning when empty: its messages would go to nobody.
ROUTE_LABELS: dict[str, tuple[str, str]] = {
    "head_of_qa": (
        "Head of Quality Assurance",
        "audits the practitioner disagrees with, for a decision",
    ),
    "smt": ("Senior management team", "notices of good and outstanding practice, and storyboards"),
    "learning_development": ("Learning and development", "storyboards"),
    "moderation_coordinator": ("Moderation panel", "audits selected for the moderation panel"),
    "qa_admin": (
        "QA admin",
        "rejected workbooks whose auditor address is unusable, and notices of held-back email",
    ),
}


def configured_routes() -> list[tuple[str, str, str]]:
    """Return (setting, who, what they receive) for every configured address list."""
    return [
        (key, *ROUTE_LABELS.get(key, (f"mail.{key}", "its messages")))
        for key in routes.CONFIGURED_LISTS
    ]


# File systems SQLite must not be used on (its locking is unreliable there): /proc/mounts names.
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p", "afs", "davfs"}
)
# Durations and counts that must be above zero, and those that may be zero but not below it.
_POSITIVE = (
    "service.settle_seconds",
    "service.lock_timeout_minutes",
    "service.rescan_seconds",
    "service.worker_max_jobs",
    "service.max_attempts",
    "service.retry_base_seconds",
    "service.retry_max_seconds",
    "service.broken_after_seconds",
    "service.send_seconds",
    "service.log_max_mb",
    "mail.port",
    "mail.timeout_seconds",
    "mail.max_attachment_mb",
    "mail.retry_base_seconds",
    "mail.retry_max_seconds",
    "validation.max_file_mb",
    "validation.max_uncompressed_mb",
    "reminders.feedback_again_after_working_days",
    "reminders.referral_working_days",
    "reminders.digest_days_ahead",
)
_NOT_NEGATIVE = ("service.workers", "service.log_backups", "mail.feedback_working_days")
_AT_MOST: dict[str, float] = {"mail.port": 65535, "oversight.moderation_percent": 100}
SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class RouteLine:
    """One configured route: the setting, who it is for, what they get, and its recipients."""

    setting: str
    who: str
    receives: str
    recipients: tuple[str, ...]


@dataclass
class SettingsCheck:
    """What the check found: problems stop the service, warnings do not.

    ``unreachable`` are problems with the intake or outbox folder: ``config check`` counts
    them as problems, but the watcher starts anyway (a share can be away for a while, and a
    job that cannot write is kept and tried again).
    """

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    routes: list[RouteLine] = field(default_factory=list)
    email: str = ""
    unreachable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every setting is usable (``config check`` exits 0)."""
        return not self.problems and not self.unreachable


class SettingsInvalid(Exception):
    """A setting the service cannot run with; the message lists every one, in plain words."""


def check(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    mounts: str | None = None,
) -> SettingsCheck:
    """Return every problem and warning in ``settings`` and the routes they configure.

    ``mounts`` is the text of ``/proc/mounts`` (read when None; tests pass their own).
    """
    environ = os.environ if environ is None else environ
    result = SettingsCheck(email=probe.describe(settings.mail))
    result.problems += _value_problems(settings)
    result.problems += _mail_problems(settings.mail, environ)
    result.unreachable += _share_problems(settings)
    result.problems += _path_problems(settings)
    mounts = _read_mounts() if mounts is None else mounts
    result.problems += _ledger_problems(Path(settings.service.state_dir), mounts)
    result.warnings += _share_warnings(settings, mounts)
    if not settings.retention.schedule:
        result.warnings.append(NO_SCHEDULE)
    for key, who, receives in configured_routes():
        people = tuple(p.envelope for p in routes.listed(getattr(settings.mail, key)))
        result.routes.append(RouteLine(f"mail.{key}", who, receives, people))
        if not people:
            result.warnings.append(
                f"Nobody receives {receives}: {who} (mail.{key}) is not configured. Add "
                f'{key} = ["name@camden.gov.uk"] under [mail] in cssw-docs.toml.'
            )
    return result


def require_usable(settings: Settings, **kwargs: object) -> SettingsCheck:
    """Return the check of ``settings`` for the watcher; raise SettingsInvalid on a problem.

    An intake or outbox folder it cannot use yet is only a warning here: the watcher keeps
    each workbook and tries again, as it does when a share goes away while it runs.
    """
    result = check(settings, **kwargs)  # type: ignore[arg-type]
    result.warnings[:0] = [
        f"{text} Workbooks are kept and tried again until it is fixed."
        for text in result.unreachable
    ]
    if result.problems:
        raise SettingsInvalid(
            "these settings must be fixed first:\n"
            + "\n".join(f"  {n}. {p}" for n, p in enumerate(result.problems, start=1))
        )
    return result


# --- the checks ------------------------------------------------------------------------------


def _value_problems(settings: Settings) -> list[str]:
    out = []

    def value(dotted: str) -> float:
        section, name = dotted.split(".")
        return getattr(getattr(settings, section), name)

    for dotted in _POSITIVE:
        if value(dotted) <= 0:
            out.append(f"{dotted} = {value(dotted)!r} must be more than 0.")
    for dotted in (*_NOT_NEGATIVE, "oversight.moderation_percent"):
        if value(dotted) < 0:
            out.append(f"{dotted} = {value(dotted)!r} must be 0 or more.")
    for dotted, high in _AT_MOST.items():
        if value(dotted) > high:
            out.append(f"{dotted} = {value(dotted)!r} must be at most {high:g}.")
    if settings.mail.security not in SECURITY:
        out.append(
            f"mail.security = {settings.mail.security!r} must be one of {', '.join(SECURITY)}."
        )
    try:
        daily.parse_daily_at(settings.service.daily_at)
    except ValueError as exc:
        out.append(str(exc))
    out += _reminder_problems(settings.reminders)
    if not settings.render.marking.strip():
        out.append(
            "render.marking is empty: every document carries its protective marking, "
            'e.g. marking = "OFFICIAL-SENSITIVE" under [render].'
        )
    for domain in settings.validation.email_domains:
        if not _is_domain(domain):
            out.append(
                f"validation.email_domains: {domain!r} is not a domain such as camden.gov.uk."
            )
    return out


def _reminder_problems(reminders: RemindersSettings) -> list[str]:
    out = []
    if reminders.digest_weekday.strip().capitalize() not in WEEKDAYS:
        out.append(
            f"reminders.digest_weekday = {reminders.digest_weekday!r} should be a working day "
            f"of the week: one of {', '.join(WEEKDAYS)}."
        )
    if not 1 <= reminders.not_started_day <= 28:
        out.append(
            f"reminders.not_started_day = {reminders.not_started_day!r} should be a day of the "
            "month from 1 to 28 (15: the middle of the month)."
        )
    return out


def _is_domain(text: str) -> bool:
    """Return True for a domain as the allowlists take it: ``camden.gov.uk`` (``@`` allowed)."""
    labels = text.strip().lstrip("@.").lower().split(".")
    return len(labels) >= 2 and all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    )


def _mail_problems(mail: MailSettings, environ: Mapping[str, str]) -> list[str]:
    out = list(routes.sending_problems(mail))
    for key in routes.CONFIGURED_LISTS:
        for refused in routes.refused(routes.listed(getattr(mail, key)), mail.allowed_domains):
            out.append(f"mail.{key}: {refused}; nothing would be sent to it.")
    for domain in mail.allowed_domains:
        if not _is_domain(domain):
            out.append(f"mail.allowed_domains: {domain!r} is not a domain such as camden.gov.uk.")
    if mail.transport in ("graph", "smtp-oauth"):
        try:
            oauth.load_credential(mail, environ)
        except TransportError as exc:
            out.append(str(exc))
    return out


def _share_problems(settings: Settings) -> list[str]:
    out = []
    for name in ("intake", "outbox"):
        folder = Path(getattr(settings.service, name))
        if problem := _folder_problem(folder):
            out.append(f"service.{name} ({folder.absolute()}) {problem}")
    return out


def _path_problems(settings: Settings) -> list[str]:
    out = []
    state = Path(settings.service.state_dir)
    if problem := _folder_problem(state):
        out.append(f"service.state_dir ({state.absolute()}) {problem}")
    if settings.rubric is not None:
        try:
            rubric.load(settings.rubric)
        except rubric.RubricError as exc:
            out.append(f"rubric ({settings.rubric}): {exc}")
    try:
        wordlists.local_list(settings.validation.anonymity_list)
    except wordlists.WordlistError as exc:
        out.append(f"validation.anonymity_list: {exc}")
    templates = settings.render.templates_dir
    if templates is not None and not Path(templates).is_dir():
        out.append(f"render.templates_dir ({templates}) is not a folder that exists.")
    for name in ("ca_file", "certificate_file"):
        path = getattr(settings.mail, name)
        if path is not None and not Path(path).is_file():
            out.append(f"mail.{name} ({path}) is not a file that exists.")
    return out


def _folder_problem(folder: Path) -> str | None:
    """Return why the service cannot use ``folder`` (None: it can, or can create it)."""
    folder = folder.absolute()
    if folder.exists():
        if not folder.is_dir():
            return "is a file, not a folder."
        if not _can_write(folder):
            return "cannot be written by this account."
        return None
    parent = next((p for p in folder.parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        return "does not exist, and cannot be created: something above it is a file."
    if not _can_write(parent):
        return f"does not exist, and cannot be created in {parent} by this account."
    return None  # the service creates it at start


def _can_write(folder: Path) -> bool:
    """Return True when a file can be made in ``folder`` (tried, since root passes os.access)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".cssw-docs-check-"):
            return True
    except OSError:
        return False


def _read_mounts() -> str:
    try:
        return Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""  # not Linux: nothing to go on


def mount_type(path: Path, mounts: str) -> str | None:
    """Return the file-system type ``path`` is on, read from ``/proc/mounts`` (None: unknown)."""
    path = Path(os.path.realpath(Path(path).absolute()))
    best: tuple[int, str] | None = None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = Path(parts[1].replace("\\040", " "))
        if path == point or point in path.parents:
            depth = len(point.parts)
            if best is None or depth >= best[0]:
                best = (depth, parts[2])
    return best[1] if best else None


def _ledger_problems(state_dir: Path, mounts: str) -> list[str]:
    kind = mount_type(_existing(state_dir), mounts)
    if kind is None or kind.lower() not in NETWORK_FILESYSTEMS:
        return []
    return [
        f"service.state_dir ({state_dir.absolute()}) is on a network file system ({kind}). The "
        "ledger is an SQLite database, which a share can corrupt: put state_dir on the "
        "server's own disk (e.g. /var/lib/cssw-docs) and keep only intake and outbox on the share."
    ]


def _share_warnings(settings: Settings, mounts: str) -> list[str]:
    kind = mount_type(_existing(Path(settings.service.intake)), mounts)
    if settings.service.polling or kind is None or kind.lower() not in NETWORK_FILESYSTEMS:
        return []
    return [
        f"service.intake is on a network file system ({kind}), where new files raise no events: "
        "set polling = true under [service] (or run watch --polling). The rescan every "
        "rescan_seconds still finds every workbook meanwhile."
    ]


def _existing(path: Path) -> Path:
    """Return ``path`` or, when it does not exist yet, the nearest folder above it that does."""
    path = path.absolute()
    return next((p for p in (path, *path.parents) if p.exists()), path)


# --- the report --------------------------------------------------------------------------------


def format_check(result: SettingsCheck) -> str:
    """Return the check as plain text for ``cssw-docs config check``."""
    lines = ["Routes whose recipients are set here (the others come from each workbook):"]
    for r in result.routes:
        shown = ", ".join(r.recipients) if r.recipients else "not configured"
        lines.append(f"  {r.who} ({r.setting}): {shown}")
        lines.append(f"      receives {r.receives}")
    lines += ["", f"Email: {result.email}"]
    problems = [*result.problems, *result.unreachable]
    if problems:
        lines += ["", "Problems to fix:"]
        lines += [f"  {n}. {p}" for n, p in enumerate(problems, start=1)]
    if result.warnings:
        lines += ["", "Warnings:"]
        lines += [f"  - {w}" for w in result.warnings]
    n = len(problems)
    lines += [
        "",
        f"{n} problem{'s' if n != 1 else ''} to fix." if n else "The settings are usable.",
    ]
    return "\n".join(lines) + "\n"
