"""A workbook is picked up only when settled, unlocked and a complete zip; other files never."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

from cssw_docs.service import readiness
from cssw_docs.service.readiness import INCOMPLETE, LOCKED, SETTLING, Tracker
from zip_support import count_opens


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_xlsx(path: Path) -> Path:
    """Write a small but complete zip with an .xlsx name."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>" * 200)
        zf.writestr("xl/workbook.xml", "<workbook/>" * 500)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("audit.xlsx", True),
        ("AUDIT.XLSX", True),
        ("macro audit.xlsm", True),
        ("Case audit CSSW-2026-0142.Xlsx", True),
        ("~$audit.xlsx", False),
        (".~lock.audit.xlsx#", False),
        (".hidden.xlsx", False),
        ("audit.xlsx.tmp", False),
        ("A1B2C3D4", False),  # Excel's extension-less temporary file
        ("~WRL0001.tmp", False),
        ("Thumbs.db", False),
        ("desktop.ini", False),
        ("audit.xls", False),
        ("supervision_actions.csv", True),  # a returned supervision CSV (year/actions.py)
        ("~$supervision_actions.csv", False),
        ("notes.docx", False),
    ],
)
def test_which_names_are_workbooks(name, expected):
    """Only .xlsx/.xlsm (and returned .csv) names count; owner, lock, temp, hidden and
    system files never do."""
    assert readiness.is_workbook_name(name) is expected


def test_lock_names_cover_excel_and_libreoffice():
    """Excel's ~$ owner file (both forms) and LibreOffice's .~lock file are recognised."""
    names = readiness.lock_names("Case audit.xlsx")
    assert "~$Case audit.xlsx" in names
    assert "~$se audit.xlsx" in names
    assert ".~lock.Case audit.xlsx#" in names


def test_complete_truncated_and_zero_filled(tmp_path):
    """A complete zip passes; a truncated or zero-filled one is named as incomplete."""
    good = make_xlsx(tmp_path / "good.xlsx")
    data = good.read_bytes()
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    zeros = tmp_path / "zeros.xlsx"
    zeros.write_bytes(b"\0" * len(data))
    assert readiness.zip_problem(good) is None
    assert "not a complete workbook" in readiness.zip_problem(truncated)
    assert "not a complete workbook" in readiness.zip_problem(zeros)


def test_damaged_member_is_detected(tmp_path):
    """A zip whose directory is intact but whose data is corrupted fails the CRC check."""
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/workbook.xml", "A" * 5000)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"AAAA")
    raw[at + 100 : at + 110] = b"B" * 10
    path.write_bytes(bytes(raw))
    assert "damaged" in readiness.zip_problem(path)


def tracker(clock: Clock, **kw) -> Tracker:
    opts = {"settle_seconds": 1.0, "lock_timeout_seconds": 600.0, "broken_after_seconds": 30.0}
    opts.update(kw)
    return Tracker(**opts, clock=clock)


def test_ready_only_after_settling(tmp_path):
    """A new file waits for the settle interval; a change restarts the wait."""
    clock = Clock()
    t = tracker(clock)
    path = make_xlsx(tmp_path / "a.xlsx")
    assert t.scan(tmp_path) == [] and t.waiting == {"a.xlsx": SETTLING}
    clock.t += 0.9
    assert t.scan(tmp_path) == []
    with path.open("ab") as fh:
        fh.write(b"more")
    clock.t += 0.5
    assert t.scan(tmp_path) == []  # changed: the wait starts again
    make_xlsx(path)
    clock.t += 0.1
    assert t.scan(tmp_path) == []
    clock.t += 1.0
    assert [r.path.name for r in t.scan(tmp_path)] == ["a.xlsx"]


def test_next_due_is_when_the_earliest_settling_file_may_be_ready(tmp_path):
    """The watcher can sleep exactly until a settling file has been still for the interval."""
    clock = Clock()
    t = tracker(clock)
    assert t.next_due() is None  # nothing settling
    make_xlsx(tmp_path / "a.xlsx")
    t.scan(tmp_path)
    first = clock.t
    clock.t += 0.4
    make_xlsx(tmp_path / "b.xlsx")
    t.scan(tmp_path)
    assert t.next_due() == pytest.approx(first + 1.0)
    clock.t = t.next_due()
    assert [r.path.name for r in t.scan(tmp_path)] == ["a.xlsx"]  # ready when due
    t.forget("a.xlsx")
    assert t.next_due() == pytest.approx(first + 0.4 + 1.0)


def test_lock_holds_until_removed_or_orphaned(tmp_path):
    """An owner/lock file holds its workbook; removing it, or its timing out, releases it."""
    clock = Clock()
    t = tracker(clock, lock_timeout_seconds=60.0)
    make_xlsx(tmp_path / "a.xlsx")
    make_xlsx(tmp_path / "b.xlsx")
    owner = tmp_path / "~$a.xlsx"
    owner.write_bytes(b"owner")
    lo_lock = tmp_path / ".~lock.b.xlsx#"
    lo_lock.write_text("user,host")
    t.scan(tmp_path)
    clock.t += 2
    assert t.scan(tmp_path) == []
    assert t.waiting == {"a.xlsx": LOCKED, "b.xlsx": LOCKED}
    owner.unlink()
    assert [r.path.name for r in t.scan(tmp_path)] == ["a.xlsx"]
    old = time.time() - 120
    os.utime(lo_lock, (old, old))  # an orphan left by a crash
    assert [r.path.name for r in t.scan(tmp_path)] == ["a.xlsx", "b.xlsx"]


def test_a_lock_named_in_other_letter_case_still_holds(tmp_path):
    """A Windows share matches names whatever their case, so Excel's ``~$AUDIT.xlsx`` holds
    ``audit.xlsx`` there; the scan, which finds lock files in its own listing, does too."""
    clock = Clock()
    t = tracker(clock, lock_timeout_seconds=60.0)
    make_xlsx(tmp_path / "audit.xlsx")
    (tmp_path / "~$AUDIT.xlsx").write_bytes(b"owner")
    t.scan(tmp_path)
    clock.t += 2
    assert t.scan(tmp_path) == [] and t.waiting == {"audit.xlsx": LOCKED}
    (tmp_path / "~$AUDIT.xlsx").unlink()
    assert [r.path.name for r in t.scan(tmp_path)] == ["audit.xlsx"]


def test_incomplete_waits_then_is_returned_broken(tmp_path):
    """A settled file that is not a complete zip waits, then comes back with its problem."""
    clock = Clock()
    t = tracker(clock, broken_after_seconds=30.0)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 400)
    now = time.time()
    os.utime(path, (now, now))
    t.scan(tmp_path)
    clock.t += 2
    assert t.scan(tmp_path) == [] and t.waiting == {"cut.xlsx": INCOMPLETE}
    clock.t += 30
    (found,) = t.scan(tmp_path)
    assert found.path == path and "not a complete workbook" in found.problem


def test_subfolders_and_other_files_are_ignored(tmp_path):
    """Only workbooks directly in the intake folder count, never lock files or subfolders."""
    clock = Clock()
    t = tracker(clock)
    (tmp_path / "processed").mkdir()
    make_xlsx(tmp_path / "processed" / "old.xlsx")
    make_xlsx(tmp_path / "~$x.xlsx")
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    (tmp_path / "A1B2C3D4").write_bytes(b"x")
    t.scan(tmp_path)
    clock.t += 5
    assert t.scan(tmp_path) == [] and t.waiting == {}


def test_forgotten_files_are_dropped(tmp_path):
    """A file that disappears (claimed elsewhere) is no longer tracked."""
    clock = Clock()
    t = tracker(clock)
    path = make_xlsx(tmp_path / "a.xlsx")
    t.scan(tmp_path)
    path.unlink()
    clock.t += 5
    assert t.scan(tmp_path) == [] and t.waiting == {}


def test_the_completeness_check_opens_the_zip_once(tmp_path, monkeypatch):
    """zip_problem builds one ZipFile and inflates each member once to check its CRC."""
    path = make_xlsx(tmp_path / "good.xlsx")
    opens = count_opens(monkeypatch, path)
    assert readiness.zip_problem(path) is None
    assert opens.zips == 1
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert opens.members == dict.fromkeys(names, 1)


def test_a_scan_with_a_limit_opens_no_more_and_leaves_the_rest_for_the_next(tmp_path):
    """With a limit, settled workbooks past it are not opened yet, only counted as deferred."""
    clock = Clock()
    t = tracker(clock)
    for i in range(5):
        make_xlsx(tmp_path / f"a{i}.xlsx")
    assert t.scan(tmp_path, limit=2) == []  # all settling
    clock.t += 1.5
    first = t.scan(tmp_path, limit=2)
    assert [r.path.name for r in first] == ["a0.xlsx", "a1.xlsx"]
    assert t.deferred == 3 and t.waiting == {}  # nobody is told they wait
    for r in first:
        t.forget(r.path.name)
        r.path.unlink()  # claimed
    assert [r.path.name for r in t.scan(tmp_path, limit=2)] == ["a2.xlsx", "a3.xlsx"]
    assert t.deferred == 1
    (tmp_path / "a2.xlsx").unlink()
    (tmp_path / "a3.xlsx").unlink()
    assert [r.path.name for r in t.scan(tmp_path, limit=2)] == ["a4.xlsx"]
    assert t.deferred == 0
