"""The ledger's schema: numbered migrations reach every ledger, old or new, exactly once."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from cssw_docs.cli import main
from cssw_docs.store import db, schema
from store_support import RELEASE_LEDGER, release_ledger

TABLES = {
    "jobs",
    "audits",
    "mail_outbox",
    "moderation_outcomes",
    "escalation_resolutions",
    "ledger_meta",
    "moderation_panels",
    "tombstones",
    "purge_log",
    "erasures",
    "programme",
    "action_status",
    "reminders_sent",
}


def shape(conn: sqlite3.Connection) -> dict[str, object]:
    """Return each table's columns (name, type, not null, default, key) and indexes."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out: dict[str, object] = {}
    for name in names:
        columns = [tuple(r)[1:] for r in conn.execute(f"PRAGMA table_info({name})")]
        indexes = sorted(
            (r["name"], [c["name"] for c in conn.execute(f"PRAGMA index_info({r['name']})")])
            for r in conn.execute(f"PRAGMA index_list({name})")
        )
        out[name] = (columns, indexes)
    return out


def test_migrations_are_numbered_one_by_one():
    """Versions run 1, 2, 3 ... so user_version says exactly which have been applied."""
    assert [m.version for m in schema.MIGRATIONS] == list(range(1, len(schema.MIGRATIONS) + 1))
    assert schema.MIGRATIONS[-1].version == schema.LATEST


def test_a_fresh_ledger_gets_every_table_and_the_latest_version(tmp_path):
    """Connecting to a new file creates the whole schema and records its version."""
    conn = db.connect(tmp_path / "ledger.sqlite3")
    assert set(shape(conn)) == TABLES
    assert schema.version(conn) == schema.LATEST
    conn.close()


def test_the_release_ledger_upgrades_to_the_latest_version(tmp_path):
    """A ledger written by release 0.1.0 (user_version 0) is adopted and brought up to date."""
    path = release_ledger(tmp_path / "old")
    raw = sqlite3.connect(path)
    assert schema.version(raw) == 0
    raw.close()
    upgraded = db.connect(path)
    fresh = db.connect(tmp_path / "new" / "ledger.sqlite3")
    assert schema.version(upgraded) == schema.LATEST
    assert shape(upgraded) == shape(fresh)  # the same schema, whichever way it was reached
    upgraded.close()
    fresh.close()


def test_migration_one_is_the_release_schema_exactly(tmp_path):
    """Migration 1 alone on a new file gives the tables release 0.1.0 made, column for column."""
    conn = sqlite3.connect(tmp_path / "one.sqlite3")
    conn.row_factory = sqlite3.Row
    schema.migrate(conn, schema.MIGRATIONS[:1])
    release = sqlite3.connect(f"file:{release_ledger(tmp_path / 'release')}?mode=ro", uri=True)
    release.row_factory = sqlite3.Row
    assert shape(conn) == shape(release)
    conn.close()
    release.close()


def test_a_ledger_with_only_some_release_tables_is_adopted(tmp_path):
    """A release ledger made by an oversight command alone (no jobs yet) gains the other tables."""
    release = sqlite3.connect(f"file:{release_ledger(tmp_path / 'release')}?mode=ro", uri=True)
    (create,) = release.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'moderation_outcomes'"
    ).fetchone()
    release.close()
    partial = tmp_path / "partial" / "ledger.sqlite3"
    partial.parent.mkdir()
    raw = sqlite3.connect(partial)
    raw.execute(create)
    raw.execute(
        "INSERT INTO moderation_outcomes (audit_ref, recorded_at, moderator, rating, note)"
        " VALUES ('CSSW-2026-0142', '2026-10-01', 'Chair', 'Good', '')"
    )
    raw.commit()
    raw.close()
    conn = db.connect(partial)
    assert set(shape(conn)) == TABLES
    assert conn.execute("SELECT COUNT(*) FROM moderation_outcomes").fetchone()[0] == 1
    conn.close()


def test_migration_two_keeps_what_the_release_recorded(tmp_path):
    """The release's audits are plain packs, its resolution has no outcome (closed with a
    note), and its panel outcomes changed no section."""
    conn = db.connect(release_ledger(tmp_path))
    assert {r["issue"] for r in conn.execute("SELECT issue FROM audits")} == {"pack"}
    (resolution,) = conn.execute("SELECT * FROM escalation_resolutions").fetchall()
    assert resolution["outcome"] is None and resolution["issued_version"] is None
    assert resolution["note"]
    sections = {r["sections"] for r in conn.execute("SELECT sections FROM moderation_outcomes")}
    assert sections == {"{}"}
    conn.close()


ADD_COLUMN = schema.Migration(
    schema.LATEST + 1,
    "test: a note on each job",
    ("ALTER TABLE jobs ADD COLUMN reviewer_note TEXT NOT NULL DEFAULT ''",),
)


def test_a_new_migration_adds_a_column_to_an_existing_ledger(tmp_path):
    """A later migration reaches a ledger already in use, keeps its rows, and runs once."""
    conn = db.connect(release_ledger(tmp_path))
    before = conn.execute("SELECT job_id, state FROM jobs ORDER BY job_id").fetchall()
    migrations = (*schema.MIGRATIONS, ADD_COLUMN)
    assert schema.migrate(conn, migrations) == schema.LATEST
    assert schema.version(conn) == ADD_COLUMN.version
    after = conn.execute("SELECT job_id, state, reviewer_note FROM jobs ORDER BY job_id")
    assert [tuple(r) for r in after] == [(*tuple(r), "") for r in before]
    assert schema.migrate(conn, migrations) == ADD_COLUMN.version  # nothing left to do
    conn.close()


def test_a_failing_migration_changes_nothing(tmp_path):
    """A migration that fails half-way is rolled back whole: version and tables as before."""
    conn = db.connect(tmp_path / "ledger.sqlite3")
    broken = schema.Migration(
        schema.LATEST + 1,
        "test: fails on its second statement",
        ("ALTER TABLE jobs ADD COLUMN first TEXT", "ALTER TABLE no_such_table ADD COLUMN x"),
    )
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, (*schema.MIGRATIONS, broken))
    assert schema.version(conn) == schema.LATEST
    assert "first" not in [r[1] for r in conn.execute("PRAGMA table_info(jobs)")]
    conn.close()


def test_a_ledger_from_a_newer_version_is_refused(tmp_path):
    """A ledger whose schema is ahead of this code is not touched; the message says what to do."""
    path = tmp_path / "ledger.sqlite3"
    db.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(schema.SchemaError, match="newer version of cssw-docs"):
        db.connect(path)


def test_the_committed_release_ledger_is_untouched():
    """The fixture in tests/data stays at release 0.1.0's version (tests work on copies)."""
    raw = sqlite3.connect(f"file:{RELEASE_LEDGER}?mode=ro&immutable=1", uri=True)
    try:
        assert schema.version(raw) == 0
    finally:
        raw.close()


def test_the_command_line_says_plainly_that_a_ledger_is_too_new(tmp_path, monkeypatch, capsys):
    """`cssw-docs status` on a newer ledger prints the reason, not an unexpected-error line."""
    state = tmp_path / "state"
    db.open_ledger(state).close()
    raw = sqlite3.connect(db.db_path(state))
    raw.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    raw.commit()
    raw.close()
    conf = tmp_path / "site.toml"
    conf.write_text(f'[service]\nstate_dir = "{state}"\n', encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["cssw-docs", "--config", str(conf), "status"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "written by a newer version of cssw-docs" in err and "did not expect" not in err
