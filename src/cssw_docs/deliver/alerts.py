"""The note that sending stopped on a sign-in or permission problem, so it is told only once.

The note is a small JSON file beside the ledger (``mail-stopped.json``, readable by the service
account only). The log says it once, when it first happens; ``cssw-docs mail status`` shows it
until a message is sent again (or ``cssw-docs mail test`` succeeds), which removes it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .failures import TransportError

log = logging.getLogger(__name__)

NOTE_NAME = "mail-stopped.json"


@dataclass(frozen=True)
class Stopped:
    """Sending stopped: since when (UTC ISO 8601), why in plain words, and the code."""

    since: str
    problem: str
    code: str = ""


def note_path(db: Path) -> Path:
    """Return where the note lives: beside the ledger ``db``."""
    return Path(db).with_name(NOTE_NAME)


def read(db: Path) -> Stopped | None:
    """Return the note, or None when sending has not stopped (or the note is unreadable)."""
    try:
        data = json.loads(note_path(db).read_text(encoding="utf-8"))
        return Stopped(str(data["since"]), str(data["problem"]), str(data.get("code", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(db: Path, problem: TransportError, when: dt.datetime) -> bool:
    """Write the note and log the problem, unless this very problem is noted; True if told now."""
    text = str(problem)
    noted = read(db)
    if noted is not None and noted.problem == text:
        return False
    since = noted.since if noted is not None else when.astimezone(dt.UTC).isoformat("T", "seconds")
    target = note_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"since": since, "problem": text, "code": problem.code}, fh, indent=1)
    os.replace(temp, target)
    log.error(
        "Sending email has stopped: %s Nothing more is sent until this is fixed; every message "
        "stays in the outbox. After fixing it, check with `cssw-docs mail test --to ADDRESS`.",
        text,
    )
    return True


def clear(db: Path) -> bool:
    """Remove the note (a message went through); return True when there was one."""
    try:
        note_path(db).unlink()
    except FileNotFoundError:
        return False
    log.info("Sending email works again; the earlier sign-in or permission problem is gone.")
    return True


def after_run(db: Path, stopped: TransportError | None, *, sent: int, when: dt.datetime) -> None:
    """Note a stop once, or clear the note when this sending run delivered something."""
    if stopped is not None:
        record(db, stopped, when)
    elif sent:
        clear(db)
