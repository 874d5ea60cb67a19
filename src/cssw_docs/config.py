"""Settings: a TOML file (``cssw-docs.toml``) overridden by ``CSSW_DOCS_*`` variables."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import re._compiler as _re_compiler  # the one way to test a single atom of a pattern
import re._parser as _re_parser
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

DEFAULT_CONFIG_NAME = "cssw-docs.toml"
ENV_PREFIX = "CSSW_DOCS_"
# The audit reference's format: 2 to 8 capital letters, the year, a serial number. It names
# folders, files and email subjects, so a pattern may never let in what a path can use.
DEFAULT_REFERENCE_PATTERN = r"^[A-Z]{2,8}-\d{4}-\d{3,6}$"
DEFAULT_REFERENCE_EXAMPLE = "CSSW-2026-0142"
_NEVER_IN_REFERENCE = '/\\.:*?"<>| \t\n\r\x00\x0b\x0c\x85\u2028\u2029\u00a0'

# The SMTP password's variable: one of ours, so a settings file cannot point the password at
# another secret of the service account (and send it to a mail server).
PASSWORD_ENV = re.compile(r"CSSW_DOCS_[A-Z0-9]+(?:_[A-Z0-9]+)*")

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


# Limits that were settings and now live in the rubric's [rules] table (old name: new name).
MOVED_TO_RUBRIC: dict[str, str] = {
    "plan_horizon_months": "action_due_within_months",
    "review_period_min_months": "review_period_months and review_period_tolerance_months",
    "review_period_max_months": "review_period_months and review_period_tolerance_months",
    "discussion_max_minutes": "discussion_max_minutes",
}


@dataclass(frozen=True)
class ValidationSettings:
    """Limits the workbook reader applies, and the council's email domains.

    The limits taken from the audit guide (review period, discussion length, plan horizon)
    are in the rubric's ``[rules]`` table.
    """

    max_file_mb: float = 20.0
    max_uncompressed_mb: float = 200.0
    # The most cells one sheet may have (the blank audit workbook's largest has under 500);
    # every other part may hold four times as many XML elements. Bounds a workbook's cost.
    max_cells_per_sheet: int = 200_000
    email_domains: tuple[str, ...] = ()
    reference_pattern: str = DEFAULT_REFERENCE_PATTERN
    reference_example: str = DEFAULT_REFERENCE_EXAMPLE
    # The borough's own wards, schools, estates, streets and towns (and extra names and rare
    # conditions) the storyboard anonymity check warns on: a TOML file the QA unit keeps.
    anonymity_list: Path | None = None


@dataclass(frozen=True)
class RenderSettings:
    """How packs are rendered."""

    marking: str = "OFFICIAL-SENSITIVE"
    templates_dir: Path | None = None
    pdf: bool = False
    storyboard_pdf: bool = True
    # The report, plan and supervision insert name the child (the MOSAIC ID is always shown).
    name_child: bool = True
    # The service's name on the storyboard booklet's cover.
    service_name: str = "Children's Safeguarding and Social Work"


@dataclass(frozen=True)
class ServiceSettings:
    """How the intake watcher behaves."""

    intake: Path = Path("intake")
    outbox: Path = Path("outbox")
    state_dir: Path = Path("state")
    settle_seconds: float = 1.0
    lock_timeout_minutes: float = 240.0
    rescan_seconds: float = 30.0
    workers: int = 0  # 0 = number of cores
    worker_max_jobs: int = 250  # a worker process is replaced after this many jobs (memory)
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    polling: bool = False
    broken_after_seconds: float = 60.0  # a settled file that is not a whole workbook: reject
    retry_max_seconds: float = 900.0  # the longest wait between two retries
    send_seconds: float = 60.0  # how often queued email is sent
    log_max_mb: float = 5.0
    log_backups: int = 5
    # A worker checking one workbook may use this much memory (address space; 0: no limit) ...
    worker_memory_mb: int = 1536
    # ... and this long; a workbook over either is rejected as too large to check (0: no limit).
    job_timeout_seconds: float = 120.0
    ledger_backups: int = 7  # daily copies of the ledger kept in <state_dir>/backups/
    daily_at: str = "07:00"  # local time (HH:MM) after which the day's tasks run (service/daily)
    # The outbox and intake as people open them (e.g. \\fileserver\CSSW-Audits\outbox): every
    # message that points at a file gives this path, not the server's. Empty: the server's.
    outbox_share: str = ""
    intake_share: str = ""


TRANSPORTS = ("smtp", "smtp-oauth", "graph")


@dataclass(frozen=True)
class MailSettings:
    """Where and how packs are emailed. Passwords and secrets come only from the environment.

    ``transport``: ``smtp`` (a relay, or a user name and password; no host: .eml files),
    ``smtp-oauth`` (Microsoft 365 SMTP with an app-only OAuth token) or ``graph`` (Microsoft
    Graph ``sendMail``). The last two sign in as the Entra app ``client_id`` of ``tenant_id``
    with ``certificate_file`` (preferred) or the secret in ``client_secret_env``.
    """

    transport: str = "smtp"  # smtp | smtp-oauth | graph
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password_env: str = "CSSW_DOCS_SMTP_PASSWORD"
    ca_file: Path | None = None
    timeout_seconds: float = 30.0
    sender: str = "cssw-docs@example.gov.uk"
    allowed_domains: tuple[str, ...] = ()
    # Sending by SMTP with an empty allowed_domains is refused unless this says so explicitly.
    allow_any_domain: bool = False
    qa_admin: tuple[str, ...] = ()
    head_of_qa: tuple[str, ...] = ()
    smt: tuple[str, ...] = ()
    learning_development: tuple[str, ...] = ()
    moderation_coordinator: tuple[str, ...] = ()
    feedback_working_days: int = 10
    max_attachment_mb: float = 20.0
    sender_name: str = "CSSW Quality Assurance"
    retry_base_seconds: float = 60.0
    retry_max_seconds: float = 1800.0
    max_deliveries: int = 3  # times one message may be handed to the server unconfirmed
    tenant_id: str = ""  # Microsoft 365 (smtp-oauth, graph): the Directory (tenant) ID
    client_id: str = ""  # the Application (client) ID of the app registration
    client_secret_env: str = "CSSW_DOCS_M365_CLIENT_SECRET"  # used when no certificate_file
    certificate_file: Path | None = None  # PEM: private key and certificate, mode 0600
    mailbox: str = ""  # the mailbox that sends; empty: the sender address
    save_to_sent_items: bool = True  # graph: keep a copy in the mailbox's Sent Items
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"

    @property
    def files_only(self) -> bool:
        """Return True when messages are written as .eml files, not sent (smtp, no host)."""
        return self.transport == "smtp" and not self.host.strip()

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ConfigError(
                f"mail.transport = {self.transport!r} is not one of {', '.join(TRANSPORTS)}."
            )
        if self.client_secret_env and not self.client_secret_env.startswith(ENV_PREFIX):
            raise ConfigError(
                f"mail.client_secret_env = {self.client_secret_env!r} must name a variable "
                f"starting with {ENV_PREFIX} (e.g. CSSW_DOCS_M365_CLIENT_SECRET), so no other "
                "secret of the service account can be sent to Microsoft by mistake."
            )


@dataclass(frozen=True)
class OversightSettings:
    """Moderation sampling and the activity report."""

    moderation_percent: float = 20.0
    report_mosaic_id: bool = False


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class RemindersSettings:
    """What the service sends on its own each working day (``followup/reminders.py``).

    Each kind can be turned off; the counts are working days (weekends and England and Wales
    bank holidays skipped).
    """

    # The planned audits' workbooks go to their auditors on the first working day of the month.
    issue_workbooks: bool = True
    # The practitioner is reminded when the feedback deadline has passed with no Final (the
    # auditor copied), and again this many working days later (the manager copied too).
    feedback: bool = True
    feedback_again_after_working_days: int = 5
    # The Head of QA is reminded of a referral still undecided after this many working days.
    referral: bool = True
    referral_working_days: int = 10
    # A weekly digest of actions due in the next two weeks and overdue, on this weekday (or the
    # first working day after it that week).
    digest: bool = True
    digest_weekday: str = "Monday"
    digest_days_ahead: int = 14
    # The auditor is reminded of an audit not started by this day of its planned month.
    not_started: bool = True
    not_started_day: int = 15


@dataclass(frozen=True)
class RetentionSettings:
    """How many months each kind of record is kept (``retention``); unset: kept for ever.

    Nothing is removed until the QA unit sets a schedule. Each kind, and when its months
    start, is described in ``retention.KINDS`` and docs/retention.md.
    """

    packs: int | None = None  # the latest pack of each audit, with its audit.json
    superseded_packs: int | None = None  # earlier versions of a pack, after the next one
    processed_workbooks: int | None = None  # intake/processed/
    set_aside_workbooks: int | None = None  # rejected/, failed/, duplicates/ with notes, copies
    email_copies: int | None = None  # the emails as written or sent (ledger and .eml files)
    ledger_detail: int | None = None  # the ledger's case detail (an anonymous tombstone stays)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            months = getattr(self, f.name)
            if months is not None and months < 1:
                raise ConfigError(
                    f"retention.{f.name} = {months!r} must be a number of months, 1 or more. "
                    "Remove the line to keep these records for ever."
                )

    @property
    def schedule(self) -> dict[str, int]:
        """Return the months of every kind with a retention period set (empty: none set)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {kind: months for kind, months in found.items() if months is not None}


@dataclass(frozen=True)
class Settings:
    """Every setting cssw-docs reads, with its defaults."""

    rubric: Path | None = None
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    oversight: OversightSettings = field(default_factory=OversightSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    reminders: RemindersSettings = field(default_factory=RemindersSettings)

    def with_changes(self, **changes: Any) -> Settings:
        """Return a copy with dotted keys changed, e.g. ``{"service.intake": Path("x")}``."""
        data = as_dict(self)
        for dotted, value in changes.items():
            _set_dotted(data, dotted.replace("__", "."), value)
        return _from_dict(data)


def load(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Return settings from ``path`` (or ``./cssw-docs.toml`` if present) and the environment."""
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source = Path(path) if path else Path(DEFAULT_CONFIG_NAME)
    if path or source.exists():
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"The configuration file {source} does not exist.") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The configuration file {source} is not valid TOML: {exc}") from exc
        _refuse_secrets(data, source)
        _warn_if_readable(data, source)
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "CSSW_DOCS_SMTP_PASSWORD":
            continue
        dotted = key[len(ENV_PREFIX) :].lower().replace("__", ".")
        if "." not in dotted and dotted != "rubric":
            continue
        _set_dotted(data, dotted, value)
    settings = _from_dict(data)
    _check_password_env(settings.mail)
    return settings


def _check_password_env(mail: MailSettings) -> None:
    if not PASSWORD_ENV.fullmatch(mail.password_env):
        raise ConfigError(
            f"mail.password_env = {mail.password_env!r} is not allowed: the SMTP password must "
            "come from a variable whose name starts with CSSW_DOCS_ (capital letters, digits "
            "and single underscores), e.g. CSSW_DOCS_SMTP_PASSWORD. Change it in the settings."
        )


def _warn_if_readable(data: dict[str, Any], source: Path) -> None:
    """Warn when a settings file naming the SMTP login can be read by every account."""
    mail = data.get("mail", {})
    if not isinstance(mail, dict) or not ({"password_env", "username"} & set(mail)):
        return
    try:
        mode = source.stat().st_mode
    except OSError:
        return
    if mode & stat.S_IROTH:
        log.warning(
            "%s can be read by every account on this computer and names the SMTP login "
            "(mail.username / mail.password_env). Make it readable by the service only: "
            "chmod o-rwx %s",
            source,
            source,
        )


def _refuse_secrets(data: dict[str, Any], source: Path) -> None:
    mail = data.get("mail", {})
    if isinstance(mail, dict) and "password" in mail:
        raise ConfigError(
            f"{source} holds a mail password. Remove it: the SMTP password is read only from "
            "the environment variable named by mail.password_env "
            "(default CSSW_DOCS_SMTP_PASSWORD)."
        )
    if isinstance(mail, dict) and "client_secret" in mail:
        raise ConfigError(
            f"{source} holds a client secret. Remove it: the Microsoft 365 client secret is "
            "read only from the environment variable named by mail.client_secret_env "
            "(default CSSW_DOCS_M365_CLIENT_SECRET); a certificate_file is better still."
        )


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def as_dict(settings: Settings) -> dict[str, Any]:
    """Return the settings as nested plain data (paths as strings)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return list(value)
        return value

    return plain(settings)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def parse_list(value: Any, name: str) -> tuple[str, ...]:
    """Return a list setting as a tuple of text.

    A list (TOML array) is taken as it is; text, as an environment variable gives it, may be
    a list as ``config show`` prints it, ``["a@camden.gov.uk", "b@camden.gov.uk"]`` (JSON or
    TOML), or comma-separated ``a@camden.gov.uk, b@camden.gov.uk``. Anything else is a
    ConfigError.
    """
    example = f'e.g. {name} = ["first", "second"], or in the environment first,second'
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return tuple(v.strip() for v in text.split(",") if v.strip())
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"The setting {name} starts with [ but is not a list ({exc}). Write it as a "
                f"list, {example}."
            ) from exc
    if not isinstance(value, list | tuple):
        raise ConfigError(f"The setting {name} must be a list, {example}.")
    if not all(isinstance(v, str) for v in value):
        raise ConfigError(f"The setting {name} must be a list of text, {example}.")
    return tuple(v.strip() for v in value if v.strip())


def _parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"The setting {name} must be true or false, not {value!r}.")


def _coerce(kind: Any, value: Any, name: str) -> Any:
    text = str(kind)
    if value is None:
        return None
    if text == "int | None":  # optional whole numbers (retention months): "" unsets
        if isinstance(value, str) and not value.strip():
            return None
        text = "int"
    if "tuple" in text:
        return parse_list(value, name)
    if text == "bool":
        return _parse_bool(value, name)
    try:
        if "Path" in text:
            return Path(value) if value != "" else None
        if text == "int" and not isinstance(value, bool | float):
            return int(value)
        if text == "float" and not isinstance(value, bool):
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"The setting {name} has an unusable value {value!r}.") from exc
    if text == "int":
        raise ConfigError(f"The setting {name} must be a whole number, not {value!r}.")
    if text == "float":
        raise ConfigError(f"The setting {name} must be a number, not {value!r}.")
    if not isinstance(value, str):
        raise ConfigError(f"The setting {name} must be text in quotes, not {value!r}.")
    return value


def _build(cls: type, data: dict[str, Any], prefix: str, errors: list[str]) -> Any:
    """Return ``cls`` built from ``data``; each unusable setting adds a line to ``errors``."""
    kwargs: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if cls is ValidationSettings and key in MOVED_TO_RUBRIC:
            errors.append(
                f"The setting {prefix}{key} has moved to the rubric: it is now "
                f"{MOVED_TO_RUBRIC[key]} in the rubric's [rules] table. Remove it here; to "
                "change the limit, edit a copy of the rubric and point `rubric` at the copy."
            )
            continue
        if key not in known:
            errors.append(f"Unknown setting {prefix}{key}. See `cssw-docs config show`.")
            continue
        f = known[key]
        sub = _SECTIONS.get(key) if cls is Settings else None
        try:
            if sub is None:
                kwargs[key] = _coerce(f.type, value, prefix + key)
            elif not isinstance(value, dict):
                errors.append(f"The setting {key} must be a table ([{key}]).")
            else:
                kwargs[key] = _build(sub, value, f"{key}.", errors)
        except ConfigError as exc:
            errors.append(str(exc))
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        errors.append(str(exc))
        return cls()  # a stand-in: the errors are raised together by _from_dict


_SECTIONS: dict[str, type] = {
    "validation": ValidationSettings,
    "render": RenderSettings,
    "service": ServiceSettings,
    "mail": MailSettings,
    "oversight": OversightSettings,
    "retention": RetentionSettings,
    "reminders": RemindersSettings,
}


def _from_dict(data: dict[str, Any]) -> Settings:
    errors: list[str] = []
    settings = _build(Settings, data, "", errors)
    if errors:
        raise ConfigError("\n".join(errors))
    check_reference_pattern(
        settings.validation.reference_pattern, settings.validation.reference_example
    )
    return settings


def check_reference_pattern(pattern: str, example: str) -> None:
    """Raise ConfigError unless ``pattern`` compiles, fits ``example`` and cannot name a path.

    A pattern that could let a slash, backslash, dot, colon, space or control character into
    a reference is refused: the reference names folders, files and email subjects.
    """
    where = "The setting validation.reference_pattern"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{where} is not a valid regular expression ({exc}).") from exc
    allowed = _characters_allowed(pattern)
    if allowed is None:
        raise ConfigError(
            f"{where} uses a kind of regular expression cssw-docs cannot check (a back-reference "
            "or a conditional). Use letters, digits, character classes such as [A-Z] and \\d, "
            "dashes and repeats such as {4}."
        )
    if allowed:
        shown = " ".join(repr(c) for c in sorted(allowed))
        raise ConfigError(
            f"{where} allows characters that cannot be used in a file name ({shown}). Allow only "
            "letters, digits, dashes and underscores, e.g. the default "
            f"{DEFAULT_REFERENCE_PATTERN}."
        )
    if not compiled.fullmatch(example):
        raise ConfigError(
            f"The setting validation.reference_example ({example!r}) does not fit "
            f"validation.reference_pattern ({pattern}). Give an example of a real reference."
        )


def _characters_allowed(pattern: str) -> set[str] | None:
    """Return the unsafe characters ``pattern`` can match anywhere (None: cannot tell)."""
    parsed = _re_parser.parse(pattern)
    found: set[str] = set()

    def atom(item: tuple[Any, Any]) -> None:
        one = _re_compiler.compile(_re_parser.SubPattern(parsed.state, [item]))
        found.update(c for c in _NEVER_IN_REFERENCE if one.fullmatch(c))

    def walk(items: Any) -> bool:
        for op, av in items:
            name = str(op)
            if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
                atom((op, av))
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                continue  # consume nothing
            elif name == "SUBPATTERN":
                if not walk(av[-1]):
                    return False
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if not walk(av[2]):
                    return False
            elif name == "ATOMIC_GROUP":
                if not walk(av):
                    return False
            elif name == "BRANCH":
                if not all(walk(branch) for branch in av[1]):
                    return False
            else:  # GROUPREF, GROUPREF_EXISTS ...
                return False
        return True

    return found if walk(parsed) else None


SECRET_WORDS = ("password", "secret", "token")


def to_toml(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """Return the settings as TOML, with secrets masked and the SMTP password only noted."""
    environ = dict(os.environ if environ is None else environ)
    data = as_dict(settings)
    lines = [_toml_line(k, v) for k, v in data.items() if not isinstance(v, dict)]
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        lines += ["", f"[{section}]"]
        lines += [_toml_line(key, value) for key, value in values.items()]
        if section == "mail":
            var = values.get("password_env") or "CSSW_DOCS_SMTP_PASSWORD"
            state = "set" if environ.get(var) else "not set"
            lines.append(f"# password: ******** ({state}; read only from ${var})")
            var = values.get("client_secret_env") or ""
            state = "set" if environ.get(var) else "not set"
            lines.append(f"# client secret: ******** ({state}; read only from ${var})")
    return "\n".join(lines) + "\n"


def _toml_line(key: str, value: Any) -> str:
    """Return one ``key = value`` line (written by tomli-w), masked or commented as needed."""
    if value is None:
        return f"# {key} = (not set)"
    if not key.endswith("_env") and any(w in key.lower() for w in SECRET_WORDS):
        value = "********"
    if isinstance(value, list):  # on one line, so it can be copied into an environment variable
        return f"{key} = {json.dumps(value)}"
    return tomli_w.dumps({key: value}).strip()
