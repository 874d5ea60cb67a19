"""The ledger file: where it lives, a private WAL connection with a current schema, transactions."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from . import schema

DB_NAME = "ledger.sqlite3"


def now() -> str:
    """Return the current UTC time as ISO 8601 (seconds), the form every table stores."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def db_path(state_dir: Path) -> Path:
    """Return the ledger file inside ``state_dir``."""
    return Path(state_dir) / DB_NAME


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
    conn = sqlite3.connect(str(db_path), timeout=30.0)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        schema.migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def open_ledger(state_dir: Path) -> sqlite3.Connection:
    """Return a connection to the ledger in the service's ``state_dir``."""
    return connect(db_path(state_dir))


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one immediate (write-locked) transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
