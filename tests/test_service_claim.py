"""Claiming by atomic rename has exactly one winner; the instance lock lets one watcher run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cssw_docs.folders import Folders, free_name, move
from cssw_docs.service import claim
from cssw_docs.service.claim import AlreadyRunning, InstanceLock


def test_job_ids_are_recognised():
    """A new job id is recognised as one; other folder names are not."""
    assert claim.is_job_id(claim.new_job_id())
    assert not claim.is_job_id("processed")
    assert not claim.is_job_id("2026-11-26")


def test_claimed_workbooks_are_found_and_empty_folders_cleared(tmp_path):
    """After a crash the working folder is read back; an empty job folder is removed."""
    work = tmp_path / ".work"
    work.mkdir()
    source = tmp_path / "audit.xlsx"
    source.write_bytes(b"data")
    got = claim.claim(source, work)
    empty = work / claim.new_job_id()
    empty.mkdir()
    assert claim.claimed_in(work) == [got]
    assert not empty.exists()


def test_claim_moves_once(tmp_path):
    """The first claim moves the file into the working folder; a second finds nothing."""
    work = tmp_path / ".work"
    work.mkdir()
    source = tmp_path / "audit.xlsx"
    source.write_bytes(b"data")
    got = claim.claim(source, work)
    assert got is not None and got.path.read_bytes() == b"data" and not source.exists()
    assert got.path == work / got.job_id / "audit.xlsx" and got.source_name == "audit.xlsx"
    assert claim.claim(source, work) is None
    assert [p.name for p in work.iterdir()] == [got.job_id]


CLAIMER = """
import sys
from pathlib import Path
from cssw_docs.service import claim
import time
folder, names = Path(sys.argv[1]), sys.argv[2:]
print("ready", flush=True)
while not (folder / "go").exists():
    time.sleep(0.001)
for name in names:
    got = claim.claim(folder / name, folder / ".work")
    if got:
        print(name, flush=True)
"""


def test_racing_claimers_have_one_winner_per_file(tmp_path):
    """Threads and processes claiming the same 60 files at once: each file is won exactly once."""
    work = tmp_path / ".work"
    work.mkdir()
    names = [f"audit {i:03}.xlsx" for i in range(60)]
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    wins: list[str] = []
    lock = threading.Lock()
    go = threading.Event()

    def thread_claimer(order: list[str]) -> None:
        go.wait()
        for name in order:
            if claim.claim(tmp_path / name, work):
                with lock:
                    wins.append(name)

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path), *order],
            stdout=subprocess.PIPE,
            text=True,
        )
        for order in (names, names[::-1])
    ]
    threads = [
        threading.Thread(target=thread_claimer, args=(order,))
        for order in (names, names[::-1], names[30:] + names[:30])
    ]
    for t in threads:
        t.start()
    for p in procs:
        assert p.stdout.readline() == "ready\n"
    (tmp_path / "go").write_bytes(b"")
    go.set()
    for t in threads:
        t.join()
    for p in procs:
        out, _ = p.communicate(timeout=60)
        wins.extend(out.split("\n")[:-1])
    assert sorted(wins) == sorted(names)
    assert sorted(c.source_name for c in claim.claimed_in(work)) == sorted(names)
    assert len(list(work.iterdir())) == len(names)  # losers left no folders behind


def test_free_name_never_overwrites(tmp_path):
    """A taken name gets a numbered variant."""
    (tmp_path / "a.xlsx").write_bytes(b"1")
    (tmp_path / "a (2).xlsx").write_bytes(b"2")
    assert free_name(tmp_path, "a.xlsx").name == "a (3).xlsx"
    assert free_name(tmp_path, "b.xlsx").name == "b.xlsx"


def test_folders_are_private(tmp_path):
    """Folders the service creates are 0700."""
    folders = Folders(tmp_path / "in", tmp_path / "out", tmp_path / "state")
    folders.create()
    for folder in (folders.intake, folders.work, folders.outbox, folders.state):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    moved = move(_touch(folders.work / "x.xlsx"), folders.dated("processed") / "x.xlsx")
    assert moved.exists() and stat.S_IMODE(os.stat(moved.parent.parent).st_mode) == 0o700


def _touch(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


def test_instance_lock_excludes_a_second_holder(tmp_path):
    """While one holder has the lock a second is refused; after release it succeeds."""
    path = tmp_path / "service.lock"
    with InstanceLock(path):
        with pytest.raises(AlreadyRunning):
            InstanceLock(path).__enter__()
        code = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from cssw_docs.service.claim import InstanceLock, AlreadyRunning\n"
                "try:\n    InstanceLock(sys.argv[1]).__enter__()\n"
                "except AlreadyRunning:\n    sys.exit(7)\n",
                str(path),
            ],
            timeout=60,
        ).returncode
        assert code == 7
    with InstanceLock(path):
        pass
