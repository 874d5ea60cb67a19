"""Done when: `subject find` on a child with audits in three years, a rejected workbook and
emails finds every file planted and nothing of another child; `export` and `erase` likewise;
no purge or subject log names a child."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cssw_docs import clock, privacy, subject
from cssw_docs.cli import cli
from cssw_docs.models import Stage
from cssw_docs.oversight import records
from cssw_docs.service.watch import folders_for
from cssw_docs.store import backup, db
from retention_support import RUBRIC, World, tree

AMARA = ("Amara Okafor", "M1000001")
LEO = ("Leo Brennan", "M2000002")


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Amara: audits in 2026, 2027 and 2028 (one revised), a rejected workbook, emails, a
    ledger backup; Leo: one audit, in the same folders and ledger."""
    monkeypatch.setenv(clock.ENV, str(tmp_path / "clock"))
    w = World(tmp_path, real_workbooks=True)
    planted = []
    for year, ref in ((2026, "CSSW-2026-0011"), (2027, "CSSW-2027-0012"), (2028, "CSSW-2028-0013")):
        made = w.audit(ref, *AMARA, dt.date(year, 3, 2))
        planted += [made.folder, made.workbook, made.eml]
    made = w.audit("CSSW-2028-0013", *AMARA, dt.date(2028, 4, 2), version=2, eml=False)
    planted += [made.folder, made.workbook]
    made = w.reject("CSSW-2029-0014", *AMARA, dt.date(2029, 1, 5))
    planted += [made.workbook, *made.notes, made.eml]
    leo = w.audit("CSSW-2027-0020", *LEO, dt.date(2027, 5, 2), stage=Stage.DRAFT)
    w.at(dt.date(2029, 2, 1))
    copy = backup.make(db.db_path(w.folders.state), now=clock.now())
    w.planted_files = [*planted, copy]  # type: ignore[attr-defined]
    w.leo = leo  # type: ignore[attr-defined]
    yield w
    w.close()


def _env(w: World) -> dict[str, str]:
    return {
        "CSSW_DOCS_SERVICE__INTAKE": str(w.folders.intake),
        "CSSW_DOCS_SERVICE__OUTBOX": str(w.folders.outbox),
        "CSSW_DOCS_SERVICE__STATE_DIR": str(w.folders.state),
    }


def _find(w: World, **who: str) -> subject.Findings:
    settings = w.settings()
    return subject.find(subject.Subject(**who), settings, RUBRIC, folders_for(settings))


def _leo_paths(w: World) -> set[Path]:
    return {w.leo.folder, w.leo.workbook, w.leo.eml}


@pytest.mark.slow
@pytest.mark.parametrize("who", [{"mosaic": "m1000001"}, {"name": "amara  OKAFOR"}])
def test_find_lists_every_record_of_the_child_and_nothing_of_another(world, who):
    """By MOSAIC ID or by name (compared as the privacy checks compare): every file planted,
    the ledger's rows and the backup; none of Leo's."""
    found = _find(world, **who)
    files = set(found.files)
    assert set(world.planted_files) <= files
    assert not files & _leo_paths(world)
    assert {f.what for f in found.found} >= {
        "pack",
        "workbook",
        "notes",
        "marked copy",
        "email copy",
        "ledger rows",
        "ledger copy",
    }
    # A reference comes from the child's own audits only (a rejected workbook's could be a
    # mistyped one of another child's); the rejection is found by its job.
    assert found.refs == {"CSSW-2026-0011", "CSSW-2027-0012", "CSSW-2028-0013"}
    assert any(f.audit_ref == "CSSW-2029-0014" for f in found.found if f.what == "email copy")
    assert all(f.when for f in found.found)
    assert not _find(world, mosaic="M9999999").found
    assert not _find(world, name="Amara Brennan").found


@pytest.mark.slow
def test_export_copies_everything_into_a_private_folder_with_an_index(world, tmp_path):
    """One folder, 0700, files 0600, an index of what each is, when made, who received it;
    nothing of another child."""
    dest = tmp_path / "sar"
    result = CliRunner().invoke(
        cli, ["subject", "export", "--mosaic", AMARA[1], "-o", str(dest)], env=_env(world)
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    for root, dirs, files in os.walk(dest):
        for d in dirs:
            assert stat.S_IMODE((Path(root) / d).stat().st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE((Path(root) / f).stat().st_mode) == 0o600
    with (dest / "index.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(_find(world, mosaic=AMARA[1]).found)
    assert all((dest / r["File"]).exists() and r["Made"] for r in rows)
    assert any("c@b.gov.uk" in r["Detail"] for r in rows if r["What"] == "email copy")
    leo = privacy.Identity(*LEO)
    for rel in tree(dest):
        data = (dest / rel).read_bytes()
        assert not leo.found_in(data.decode("utf-8", "replace")), rel
    exported = {r["What"] for r in rows}
    assert "ledger copy" in exported and "pack" in exported


@pytest.mark.slow
def test_erase_removes_every_record_after_typed_confirmation_and_keeps_tombstones(world):
    """Nothing is erased without ERASE typed; then every record goes, Leo's stay, the audits
    still count in the report, and the erasure records who and why without naming the child."""
    args = ["subject", "erase", "--mosaic", AMARA[1], "--reason", "SAR 2029-004", "--by", "QA"]
    refused = CliRunner().invoke(cli, args, env=_env(world), input="no\n")
    assert refused.exit_code != 0 and "Nothing was erased" in refused.output
    assert all(p.exists() for p in world.planted_files)
    naming = CliRunner().invoke(
        cli, [*args[:4], "--reason", "Amara's request", "--yes"], env=_env(world)
    )
    assert naming.exit_code != 0 and "names the child" in naming.output
    done = CliRunner().invoke(cli, args, env=_env(world), input="ERASE\n")
    assert done.exit_code == 0, done.output
    assert not any(p.exists() for p in world.planted_files[:-1])  # the backup stays, scrubbed
    assert not _find(world, mosaic=AMARA[1]).found
    assert all(p.exists() for p in _leo_paths(world))
    conn = db.connect(db.db_path(world.folders.state))
    try:
        ledger = records.load(conn)
        assert {r.audit_ref for r in ledger.audits} == {
            "CSSW-2026-0011",
            "CSSW-2027-0012",
            "CSSW-2028-0013",
        }
        assert ledger.drafts_only == ("CSSW-2027-0020",)
        erasure = conn.execute("SELECT * FROM erasures").fetchone()
        assert erasure["erased_by"] == "QA" and erasure["reason"] == "SAR 2029-004"
        logged = " ".join(str(v) for v in erasure) + " ".join(
            " ".join(str(v) for v in r) for r in conn.execute("SELECT * FROM tombstones")
        )
    finally:
        conn.close()
    for name, mosaic in (AMARA, LEO):
        assert not privacy.Identity(name, mosaic).found_in(logged)


def test_a_subject_needs_a_mosaic_id_or_a_name():
    """Neither given: a plain message."""
    with pytest.raises(subject.SubjectError, match="MOSAIC ID"):
        subject.Subject()
    assert subject.Subject(mosaic=" m100 0001 ").matches("x", "M1000001")
    assert subject.Subject(name="Amara").matches("AMARA OKAFOR", "")
    assert not subject.Subject(name="Amara Okafor").matches("Amara Smith", "")
