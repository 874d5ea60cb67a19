"""Done when: a SIGKILL at every step of a purge leaves a consistent state (no half-removed
record that looks whole, the ledger's detail or its tombstone, never neither), and the next run
finishes the purge exactly as an uninterrupted one, logging each removal once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cssw_docs import clock, retention
from cssw_docs.config import Settings
from cssw_docs.models import Stage
from cssw_docs.service.watch import folders_for
from cssw_docs.service.worker import CRASH_ENV
from cssw_docs.store import audits, db
from retention_support import World, tree
from service_support import env, run_once

SCHEDULE = {kind: 12 for kind in retention.KINDS}
PURGE_DAY = dt.datetime(2032, 1, 5, 9, 0)
# Every point a purge passes; "halfway" where a record goes in more than one step (a pack
# folder renamed then deleted, notes before their workbook, an .eml before the ledger's copy).
POINTS = [
    f"purge:{kind}:{step}"
    for kind in retention.ORDER
    for step in ("logged", "halfway", "removed")
    if step != "halfway" or kind not in (retention.PROCESSED, retention.LEDGER)
]


def _plant(root: Path) -> None:
    """Plant two years of records, one audit kept open by its actions."""
    world = World(root, lean=True)
    world.audit(
        "CSSW-2026-0001", "Amara Okafor", "M1000001", dt.date(2026, 2, 2), stage=Stage.DRAFT
    )
    world.audit("CSSW-2026-0001", "Amara Okafor", "M1000001", dt.date(2026, 2, 20))
    world.audit("CSSW-2026-0001", "Amara Okafor", "M1000001", dt.date(2026, 3, 20), version=2)
    world.audit("CSSW-2026-0002", "Leo Brennan", "M1000002", dt.date(2026, 4, 2), actions=True)
    world.audit("CSSW-2027-0003", "Maya Singh", "M1000003", dt.date(2027, 5, 2))
    world.reject("CSSW-2027-0004", "Kai Thompson", "M1000004", dt.date(2027, 6, 2))
    world.at(PURGE_DAY.date(), PURGE_DAY.hour)
    world.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("retention-template") / "world"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(clock.ENV, str(root / "clock"))
        _plant(root)
    return root


def _copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def _env(root: Path, **extra: str) -> dict[str, str]:
    out = env(root, **extra)
    out[clock.ENV] = str(root / "clock")
    out.update({f"CSSW_DOCS_RETENTION__{k.upper()}": str(v) for k, v in SCHEDULE.items()})
    return out


def _purge(root: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cssw_docs", "retention", "purge"],
        cwd=root,
        env=_env(root, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )


def snapshot(root: Path) -> dict[str, object]:
    """Return the state a purge leaves: files, the ledger's detail, tombstones, mail, log."""
    conn = sqlite3.connect(root / "state" / db.DB_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return {
            "files": {
                p for p in tree(root) if not p.startswith(("state/", "clock", "intake/.work"))
            },
            "audits": sorted(
                {r["audit_ref"] for r in conn.execute("SELECT audit_ref FROM audits")}
            ),
            "jobs": sorted(r[0] for r in conn.execute("SELECT job_id FROM jobs")),
            "tombstones": sorted(r[0] for r in conn.execute("SELECT audit_ref FROM tombstones")),
            "mail": sorted(
                tuple(r)
                for r in conn.execute("SELECT message_id, length(message) FROM mail_outbox")
            ),
            "log": sorted(
                (r["kind"], r["token"], r["done_at"] is not None)
                for r in conn.execute("SELECT kind, token, done_at FROM purge_log")
            ),
        }
    finally:
        conn.close()


def assert_consistent(root: Path) -> None:
    """No pack folder is half there; each audit has its detail or its tombstone; at most one
    removal is in progress."""
    for manifest in (root / "outbox").glob("*/*/manifest.json"):
        folder = manifest.parent
        listed = {"manifest.json", "audit.json", "report.docx"}
        assert {p.name for p in folder.iterdir()} == listed, folder
    for folder in (root / "outbox").glob("*/*-v*"):
        assert (folder / "manifest.json").is_file(), f"{folder} looks like a pack but is not whole"
    conn = sqlite3.connect(root / "state" / db.DB_NAME)
    try:
        refs = {"CSSW-2026-0001", "CSSW-2026-0002", "CSSW-2027-0003"}
        held = {r[0] for r in conn.execute("SELECT upper(audit_ref) FROM audits")}
        stones = {r[0] for r in conn.execute("SELECT audit_ref FROM tombstones")}
        assert held | stones == refs and not held & stones
        assert (
            conn.execute("SELECT COUNT(*) FROM purge_log WHERE done_at IS NULL").fetchone()[0] <= 1
        )
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reference(template, tmp_path_factory) -> dict[str, object]:
    root = _copy(template, tmp_path_factory.mktemp("retention-reference") / "world")
    done = _purge(root)
    assert done.returncode == 0, done.stderr
    state = snapshot(root)
    assert "CSSW-2026-0002" in state["audits"]  # open actions: kept
    assert state["tombstones"] == ["CSSW-2026-0001", "CSSW-2027-0003"]
    assert all(done for *_, done in state["log"]) and len(state["log"]) > 10
    return state


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_purge_killed_at_any_step_is_consistent_and_finished_by_the_next(
    point, template, reference, tmp_path, monkeypatch
):
    """SIGKILL at the point: the state is consistent; the next run ends where an uninterrupted
    purge ends, with every removal logged once and done."""
    root = _copy(template, tmp_path / "world")
    crashed = _purge(root, **{CRASH_ENV: point})
    assert crashed.returncode in (-9, 137), f"{point} was never reached: {crashed.stdout}"
    assert_consistent(root)
    settings = Settings().with_changes(
        **{
            "service.intake": root / "intake",
            "service.outbox": root / "outbox",
            "service.state_dir": root / "state",
            **{f"retention.{k}": v for k, v in SCHEDULE.items()},
        }
    )
    monkeypatch.setenv(clock.ENV, str(root / "clock"))
    conn = db.connect(root / "state" / db.DB_NAME)
    try:
        again = retention.purge(conn, settings, folders_for(settings))
    finally:
        conn.close()
    assert again.removed and snapshot(root) == reference
    assert not [p for p in tree(root / "outbox") if "/.old-" in p]


@pytest.mark.slow
def test_watch_runs_the_purge_once_a_day_and_finishes_it_after_a_kill(
    template, reference, tmp_path
):
    """The watcher's daily task purges; killed half way through a pack, the next `watch
    --once` finishes it, and a third run the same day does nothing more."""
    root = _copy(template, tmp_path / "world")
    retention_env = {f"CSSW_DOCS_RETENTION__{k.upper()}": str(v) for k, v in SCHEDULE.items()}
    extra = {clock.ENV: str(root / "clock"), **retention_env}
    crashed = run_once(root, **extra, **{CRASH_ENV: "purge:packs:halfway"})
    assert crashed.returncode in (-9, 137), crashed.stderr
    assert_consistent(root)
    done = run_once(root, **extra)
    assert done.returncode == 0, done.stderr
    assert "daily retention-purge: removed" in done.stderr
    assert snapshot(root) == reference
    third = run_once(root, **extra)
    assert "retention-purge" not in third.stderr
    conn = db.connect(root / "state" / db.DB_NAME)
    try:
        assert db.get_meta(conn, "daily:retention-purge") == PURGE_DAY.date().isoformat()
        assert audits.audit_rows(conn, "CSSW-2026-0002")
    finally:
        conn.close()
    log = json.dumps(snapshot(root)["log"]) + done.stderr
    for name in ("Amara", "Okafor", "M1000001", "Leo", "Brennan", "M1000002"):
        assert name not in log
