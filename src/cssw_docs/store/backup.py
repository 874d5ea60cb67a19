"""Copies of the ledger: daily backups with SQLite's online backup API, and restoring one.

A backup is a complete, consistent SQLite file made while the service runs
(``sqlite3.Connection.backup``), checked, then renamed into ``<state>/backups/`` as
``ledger-YYYYMMDDTHHMMSSZ.sqlite3``; only the newest ``keep`` are kept. A damaged ledger is
never backed up (it would push good copies out).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from . import db, mail

NAME = re.compile(r"ledger-(\d{8}T\d{6}Z)\.sqlite3")
STAMP = "%Y%m%dT%H%M%SZ"
EVERY = dt.timedelta(days=1)


class BackupError(Exception):
    """A backup could not be made or restored; the message says why and what to do."""


def folder_for(db_path: Path) -> Path:
    """Return the backups folder beside the ledger (``<state>/backups``)."""
    return Path(db_path).parent / db.BACKUP_DIR


def _taken(path: Path) -> dt.datetime:
    found = NAME.fullmatch(path.name)
    assert found is not None
    return dt.datetime.strptime(found.group(1), STAMP).replace(tzinfo=dt.UTC)


def backups(folder: Path) -> list[Path]:
    """Return the backups in ``folder``, newest first."""
    if not Path(folder).is_dir():
        return []
    found = [p for p in Path(folder).iterdir() if NAME.fullmatch(p.name) and p.is_file()]
    return sorted(found, key=_taken, reverse=True)


def due(folder: Path, now: dt.datetime | None = None) -> bool:
    """Return True when the newest backup in ``folder`` is a day old, or there is none."""
    now = now or dt.datetime.now(dt.UTC)
    found = backups(folder)
    return not found or now - _taken(found[0]) >= EVERY


def _copy(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` into a new private file ``target`` (backup API)."""
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    src = sqlite3.connect(str(source), timeout=30.0)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def make(db_path: Path, keep: int = 7, now: dt.datetime | None = None) -> Path:
    """Back the ledger up into its backups folder; keep the newest ``keep``; return the copy.

    Raises :class:`db.LedgerDamaged` when the ledger itself is damaged.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        raise BackupError(f"There is no ledger at {db_path} to back up.")
    db.verify(db_path)
    now = now or dt.datetime.now(dt.UTC)
    folder = folder_for(db_path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"ledger-{now.astimezone(dt.UTC).strftime(STAMP)}.sqlite3"
    temp = folder / f".{target.name}.tmp"
    try:
        _copy(db_path, temp)
        found = db.problems(temp)
        if found:
            raise BackupError(f"The backup copy did not check out ({found[0]}); try again.")
        os.replace(temp, target)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"The ledger could not be backed up into {folder}: {exc}.") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    for old in backups(folder)[max(keep, 1) :]:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did: the backup used, where the old ledger went, messages held."""

    source: Path
    kept: Path | None
    held: int


def restore(db_path: Path, source: Path | None = None, now: dt.datetime | None = None) -> Restored:
    """Replace the ledger with a backup (default: the newest) and return what was done.

    The ledger being replaced (and its -wal and -shm files) is renamed aside, never deleted.
    Messages the backup lists as not sent yet may have been sent since it was taken: they are
    held as possibly delivered, for a person to check (``cssw-docs mail retry ID``).
    Only call it while the service is stopped.
    """
    db_path = Path(db_path)
    now = now or dt.datetime.now(dt.UTC)
    if source is None:
        found = backups(folder_for(db_path))
        if not found:
            raise BackupError(
                f"There is no backup in {folder_for(db_path)}. Rebuild the ledger from the "
                "outbox instead: cssw-docs ledger rebuild"
            )
        source = found[0]
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup file {source}.")
    damaged = db.problems(source)
    if damaged:
        raise BackupError(f"The backup {source} is damaged too ({damaged[0]}); choose another.")
    stamp = now.astimezone(dt.UTC).strftime(STAMP)
    kept: Path | None = None
    temp = db_path.with_name(f".{db_path.name}.restoring")
    try:
        _copy(source, temp)
        if db_path.exists():
            kept = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                old = Path(f"{db_path}{suffix}")
                if old.exists():
                    os.rename(old, Path(f"{kept}{suffix}"))
        os.replace(temp, db_path)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"The backup could not be restored to {db_path}: {exc}.") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    conn = db.connect(db_path)
    try:
        taken = _taken(source).isoformat() if NAME.fullmatch(source.name) else source.name
        held = mail.hold_unsent(conn, f"The ledger was restored from a backup taken {taken}", now)
        db.set_meta(conn, "restored", f"{source.name} at {now.isoformat(timespec='seconds')}")
    finally:
        conn.close()
    return Restored(source, kept, held)
