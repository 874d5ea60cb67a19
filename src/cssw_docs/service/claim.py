"""Claiming a workbook by atomic rename into its own job folder, and the single-instance lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..folders import lock_file, unlock_file


class AlreadyRunning(Exception):
    """Another watcher holds the lock on this state folder or intake folder."""


def new_job_id() -> str:
    """Return a new job id: UTC time then random hex, e.g. ``20261014-093012-4f9a1c``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def is_job_id(text: str) -> bool:
    """Return True when ``text`` looks like a job id made by :func:`new_job_id`."""
    parts = text.split("-")
    return len(text) == 22 and len(parts) == 3 and all(p.isalnum() and p.isascii() for p in parts)


@dataclass(frozen=True)
class Claimed:
    """A workbook this process now owns: ``work/<job_id>/<its own name>``."""

    job_id: str
    source_name: str
    path: Path


def claim(source: Path, work_dir: Path, job_id: str | None = None) -> Claimed | None:
    """Move ``source`` into its own job folder in ``work_dir`` by atomic rename.

    Returns None when someone else claimed it first (the rename found nothing to move).
    The workbook keeps its name, so the auditor's file is never renamed.
    """
    while True:
        job_dir = Path(work_dir) / (job_id or new_job_id())
        try:
            job_dir.mkdir(mode=0o700)
            break
        except FileExistsError:
            if job_id:
                raise
    job_id = job_dir.name
    target = job_dir / source.name
    try:
        os.rename(source, target)
    except FileNotFoundError:
        job_dir.rmdir()
        return None
    return Claimed(job_id, source.name, target)


def claimed_in(work_dir: Path) -> list[Claimed]:
    """Return the workbooks sitting in ``work_dir``, removing job folders left empty by a crash."""
    found = []
    try:
        folders = sorted(p for p in Path(work_dir).iterdir() if p.is_dir() and is_job_id(p.name))
    except OSError:
        return []
    for folder in folders:
        files = [p for p in folder.iterdir() if p.is_file()]
        if not files:
            with contextlib.suppress(OSError):
                folder.rmdir()
            continue
        for path in files:
            found.append(Claimed(folder.name, path.name, path))
    return found


class InstanceLock:
    """An exclusive lock on a file, held while one watcher runs (``flock``; ``msvcrt`` on Windows).

    Used as a context manager. ``wait`` seconds > 0 keeps trying for that long; otherwise a
    held lock raises :class:`AlreadyRunning` at once.
    """

    def __init__(self, path: Path, *, wait: float = 0.0, required: bool = True) -> None:
        self.path = Path(path)
        self.wait = wait
        self.required = required
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> InstanceLock:
        deadline = time.monotonic() + self.wait
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            if self.required:
                raise
            return self  # best effort (e.g. a share that does not allow it)
        fh = os.fdopen(fd, "r+b", buffering=0)
        while True:
            try:
                lock_file(fh, wait=False)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise AlreadyRunning(str(self.path)) from None
                time.sleep(0.2)
            except OSError:
                fh.close()
                if self.required:
                    raise
                return self
        with contextlib.suppress(OSError):
            fh.truncate(0)
            fh.write(f"{os.getpid()}\n".encode())
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                unlock_file(self._fh)
            self._fh.close()
            self._fh = None
