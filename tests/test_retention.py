"""The retention schedule: nothing without one, the report ahead, a dry run, mail never resent."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from cssw_docs import clock, retention
from cssw_docs.cli import cli
from cssw_docs.models import ActionStatus, MailState
from cssw_docs.store import mail
from cssw_docs.store import programme as programme_store
from retention_support import World, tree


def _world(tmp_path, monkeypatch) -> tuple[World, object]:
    monkeypatch.setenv(clock.ENV, str(tmp_path / "clock"))
    w = World(tmp_path, lean=True)
    made = w.audit("CSSW-2026-0001", "Amara Okafor", "M1000001", dt.date(2026, 3, 2))
    return w, made


def test_without_a_schedule_nothing_is_ever_removed(tmp_path, monkeypatch):
    """Years later, no schedule: the purge removes nothing and says why."""
    w, _ = _world(tmp_path, monkeypatch)
    before = tree(tmp_path)
    w.at(dt.date(2040, 1, 1))
    done = retention.purge(w.conn, w.settings(), w.folders)
    assert not done.removed and tree(tmp_path) == before
    env = {
        "CSSW_DOCS_SERVICE__STATE_DIR": str(w.folders.state),
        "CSSW_DOCS_SERVICE__OUTBOX": str(w.folders.outbox),
        "CSSW_DOCS_SERVICE__INTAKE": str(w.folders.intake),
    }
    out = CliRunner().invoke(cli, ["retention", "purge"], env=env)
    assert out.exit_code == 0 and "No retention schedule set" in out.output


def test_the_report_lists_what_falls_due_in_the_next_30_days_by_kind(tmp_path, monkeypatch):
    """12 months after the pack: due on 2 March 2027; 30 days before, it is listed; a dry run
    then removes nothing."""
    w, made = _world(tmp_path, monkeypatch)
    settings = w.settings(packs=12, email_copies=13)
    today = dt.date(2027, 2, 5)
    w.at(today)
    due = retention.report(w.conn, settings, w.folders, today)
    assert [(d.item.kind, d.on) for d in due] == [("packs", dt.date(2027, 3, 2))]
    assert retention.report(w.conn, settings, w.folders, today, days=20) == []
    dry = retention.purge(w.conn, settings, w.folders, dt.date(2027, 3, 2), dry_run=True)
    assert [d.item.kind for d in dry.removed] == ["packs"] and made.folder.is_dir()
    env = {
        "CSSW_DOCS_SERVICE__STATE_DIR": str(w.folders.state),
        "CSSW_DOCS_SERVICE__OUTBOX": str(w.folders.outbox),
        "CSSW_DOCS_SERVICE__INTAKE": str(w.folders.intake),
        "CSSW_DOCS_RETENTION__PACKS": "12",
    }
    out = CliRunner().invoke(cli, ["retention", "report"], env=env)
    assert out.exit_code == 0, out.output
    assert "latest packs and their audit.json (1):" in out.output
    assert "02/03/2027  CSSW-2026-0001" in out.output
    assert "Amara" not in out.output and "M1000001" not in out.output


def test_an_email_whose_copy_was_removed_is_never_sent_again(tmp_path, monkeypatch):
    """`mail retry` of a message the schedule emptied changes nothing (it would send nothing)."""
    w, made = _world(tmp_path, monkeypatch)
    mail.mark(w.conn, made.message_id, MailState.FAILED, "refused", clock.now())
    w.at(dt.date(2029, 1, 1))
    done = retention.purge(w.conn, w.settings(email_copies=12), w.folders)
    assert [d.item.kind for d in done.removed] == ["email_copies"]
    assert not made.eml.exists()
    assert mail.requeue(w.conn, [made.message_id], clock.now(), force=True) == 0
    assert mail.message_bytes(w.conn, made.message_id) == b""
    again = retention.purge(w.conn, w.settings(email_copies=12), w.folders)
    assert not again.removed  # idempotent


def test_an_open_action_keeps_the_audit_until_it_is_done(tmp_path, monkeypatch):
    """An audit whose plan has an action neither done nor dropped is kept past its date; once
    the action is marked done (`actions done`), the next purge removes the pack."""
    monkeypatch.setenv(clock.ENV, str(tmp_path / "clock"))
    w = World(tmp_path, lean=True)
    made = w.audit("CSSW-2026-0002", "Amara Okafor", "M1000001", dt.date(2026, 3, 2), actions=True)
    settings = w.settings(packs=12)
    w.at(dt.date(2027, 6, 1))
    kept = retention.purge(w.conn, settings, w.folders)
    assert not kept.removed and made.folder.is_dir()
    assert retention.protected(w.conn, dt.date(2027, 6, 1)) == {"CSSW-2026-0002": "open actions"}
    programme_store.set_action_status(
        w.conn,
        audit_ref="CSSW-2026-0002",
        number=1,
        status=ActionStatus.DONE.value,
        on_date="2027-05-20",
        by_whom="Tom",
        note="",
        source="command",
    )
    done = retention.purge(w.conn, settings, w.folders)
    assert [d.item.kind for d in done.removed] == ["packs"] and not made.folder.exists()
