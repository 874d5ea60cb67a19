"""The ledger file: where it lives, a private WAL connection with a current schema, transactions,
and whether the file is sound (``PRAGMA quick_check``)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .. import clock
from . import schema

DB_NAME = "ledger.sqlite3"
BACKUP_DIR = "backups"
CORRUPTION = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class LedgerDamaged(Exception):
    """The ledger file is damaged; the message says how to get going again."""


def recovery_steps(path: Path) -> str:
    """Return what to do about a damaged (or missing) ledger at ``path``, in plain words."""
    path = Path(path)
    return (
        "To recover, stop the service, then either\n"
        f"  1. restore the latest daily backup (kept in {path.parent / BACKUP_DIR}):\n"
        "       cssw-docs ledger restore\n"
        "     (the damaged file is kept beside it; packs made since the backup are added\n"
        "     back from the outbox), or\n"
        "  2. rebuild the ledger from the outbox's packs:\n"
        f"       move {path} aside, then run: cssw-docs ledger rebuild\n"
        "Then start the service again."
    )


def is_corruption(exc: BaseException) -> bool:
    """Return True when ``exc`` is SQLite saying the file is damaged or not a database."""
    return getattr(exc, "sqlite_errorname", "") in CORRUPTION


def problems(path: Path) -> list[str]:
    """Return what ``PRAGMA quick_check`` finds wrong with the ledger at ``path`` (or [])."""
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=30.0)
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        return [str(exc)]
    finally:
        if conn is not None:
            conn.close()
    return [] if found == ["ok"] else found


def verify(path: Path) -> None:
    """Raise :class:`LedgerDamaged` (with the recovery steps) unless the ledger is sound.

    A ledger that does not exist yet is sound (it is created on first use).
    """
    path = Path(path)
    if not path.exists():
        return
    found = problems(path)
    if found:
        raise LedgerDamaged(
            f"The ledger {path} is damaged (SQLite's check found: {found[0]}). cssw-docs will "
            "not use it, so that no workbook is processed and no email sent a second time.\n"
            + recovery_steps(path)
        )


def now() -> str:
    """Return the current UTC time as ISO 8601 (seconds), the form every table stores."""
    return clock.now_text()


def db_path(state_dir: Path) -> Path:
    """Return the ledger file inside ``state_dir``."""
    return Path(state_dir) / DB_NAME


class Ledger(sqlite3.Connection):
    """A ledger connection whose ``with`` blocks nest: only the outermost one commits.

    Each store function writes in its own ``with conn:`` block, a transaction of its own. A
    caller that wraps several of them in one more ``with conn:`` makes them one transaction
    (one commit, one sync to disk): all are written, or none.
    """

    _depth = 0

    def __enter__(self) -> Ledger:
        self._depth += 1
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> bool:
        self._depth -= 1
        if self._depth:
            return False  # an inner block: the outermost one commits or rolls back
        return bool(super().__exit__(kind, value, tb))


def connect(db_path: Path) -> sqlite3.Connection:
    """Return a connection to the ledger at ``db_path`` with every table present and current.

    The parent folder is made 0700 and the file 0600; the journal is WAL, the busy timeout
    30 s, rows are :class:`sqlite3.Row`. A ledger written by an earlier release is upgraded
    (see :mod:`.schema`) before the connection is returned.
    """
    db_path = Path(db_path)
    parent = db_path.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(parent, 0o700)
    if not db_path.exists():
        # Create it 0600. Only when missing: closing a descriptor of a file this process has
        # open in SQLite would drop SQLite's POSIX locks on it (and let another process
        # checkpoint and delete the WAL under our feet).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    with contextlib.suppress(OSError):
        os.chmod(db_path, 0o600)
    conn = sqlite3.connect(str(db_path), timeout=30.0, factory=Ledger)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        schema.migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_corruption(exc):
            raise LedgerDamaged(
                f"The ledger {db_path} is damaged ({exc}). cssw-docs will not use it.\n"
                + recovery_steps(db_path)
            ) from exc
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def open_ledger(state_dir: Path) -> sqlite3.Connection:
    """Return a connection to the ledger in the service's ``state_dir``."""
    return connect(db_path(state_dir))


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """Return a value the ledger keeps about itself (``ledger_meta``), or None."""
    row = conn.execute("SELECT value FROM ledger_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Record a value the ledger keeps about itself (when it was rebuilt, restored ...)."""
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO ledger_meta (key, value, updated_at) VALUES (?, ?, ?)",
            (key, value, now()),
        )


def is_new(conn: sqlite3.Connection) -> bool:
    """Return True for a ledger with no jobs, audits, mail or history: just created."""
    for table in ("jobs", "audits", "mail_outbox", "ledger_meta"):
        if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            return False
    return True


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one immediate (write-locked) transaction (``with conn:`` blocks
    inside it do not commit on their own)."""
    conn.execute("BEGIN IMMEDIATE")
    nested = isinstance(conn, Ledger)
    if nested:
        conn._depth += 1
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        if nested:
            conn._depth -= 1
    conn.execute("COMMIT")
