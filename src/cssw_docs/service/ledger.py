"""Looking after the ledger by hand: check it, back it up, restore a backup, rebuild it.

Each function takes the service's settings; restoring and rebuilding need the watcher
stopped (they hold its lock while they work). ``cli/ledger.py`` is the command line for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..store import backup, db
from .claim import AlreadyRunning, InstanceLock
from .recovery import Rebuilt, rebuild
from .watch import LOCK_NAME, folders_for


class ServiceRunning(Exception):
    """The watcher is running: the ledger cannot be replaced under it."""


@dataclass(frozen=True)
class Health:
    """The ledger's file, whether SQLite's check found it sound, and its backups."""

    path: Path
    exists: bool
    problems: tuple[str, ...]
    backups: tuple[Path, ...]


def ledger_path(settings: Settings) -> Path:
    """Return the ledger file the settings name."""
    return db.db_path(folders_for(settings).state)


def check(settings: Settings) -> Health:
    """Return the ledger's health (``PRAGMA quick_check``) and its backups, newest first."""
    path = ledger_path(settings)
    found = tuple(db.problems(path)) if path.exists() else ()
    return Health(path, path.exists(), found, tuple(backup.backups(backup.folder_for(path))))


def back_up(settings: Settings) -> Path:
    """Back the ledger up now (as the watcher does daily); return the copy."""
    return backup.make(ledger_path(settings), keep=settings.service.ledger_backups)


@contextmanager
def _service_stopped(settings: Settings) -> Iterator[None]:
    folders = folders_for(settings)
    db.db_path(folders.state).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with InstanceLock(folders.state / LOCK_NAME):
            yield
    except AlreadyRunning as exc:
        raise ServiceRunning(
            f"The intake service is running with the state folder {folders.state}. Stop it "
            "first (e.g. `systemctl stop cssw-docs`), then run this again."
        ) from exc


def restore(settings: Settings, source: Path | None = None) -> tuple[backup.Restored, Rebuilt]:
    """Replace the ledger with a backup (default: the newest), then add back from the outbox
    the packs made since; return both results."""
    with _service_stopped(settings):
        restored = backup.restore(ledger_path(settings), source)
        return restored, _rebuild(settings)


def rebuild_ledger(settings: Settings) -> Rebuilt:
    """Recreate the ledger's records of packs and filed workbooks from the outbox and intake."""
    with _service_stopped(settings):
        db.verify(ledger_path(settings))
        return _rebuild(settings)


def _rebuild(settings: Settings) -> Rebuilt:
    folders = folders_for(settings)
    conn = db.open_ledger(folders.state)
    try:
        return rebuild(conn, folders)
    finally:
        conn.close()
