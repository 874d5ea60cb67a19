"""Which files in the intake folder are workbooks, and when one is ready to be picked up."""

from __future__ import annotations

import os
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..workbook import safety

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# A supervision actions CSV returned with its statuses filled (year/actions.py): not a zip.
RETURNED_SUFFIXES = (".csv",)
IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}

# Why a workbook is not picked up yet (see Tracker.waiting).
SETTLING = "still being written"
LOCKED = "open in Excel or LibreOffice"
INCOMPLETE = "not a complete workbook yet"


def is_workbook_name(name: str) -> bool:
    """Return True for a name worth considering: ``.xlsx``/``.xlsm`` (or a returned ``.csv``),
    not a lock or temp file."""
    lowered = name.lower()
    if lowered in IGNORED_NAMES or name.startswith((".", "~")):
        return False  # hidden files, ``~$`` owner files, ``.~lock.`` files, Excel temp files
    if lowered.endswith((".tmp", "#")):
        return False
    return lowered.endswith(WORKBOOK_SUFFIXES + RETURNED_SUFFIXES)


def lock_names(name: str) -> tuple[str, ...]:
    """Return the owner/lock file names Excel and LibreOffice use while ``name`` is open.

    Excel writes ``~$name``, replacing the first two characters of longer names;
    LibreOffice writes ``.~lock.name#``.
    """
    names = [f"~${name}", f".~lock.{name}#"]
    if len(name) > 2:
        names.append(f"~${name[2:]}")
    return tuple(names)


def live_lock(
    folder: Path,
    name: str,
    timeout_seconds: float,
    now: float | None = None,
    listing: Mapping[str, str] | None = None,
) -> Path | None:
    """Return the lock file holding ``name`` open, ignoring locks older than ``timeout_seconds``.

    ``listing``, the names in ``folder`` as a scan just read them (keyed case-folded, as a
    Windows share matches names), saves looking for lock files that are not there: a scan of
    a large batch would otherwise look three times per workbook, every scan.
    """
    now = time.time() if now is None else now
    for lock in lock_names(name):
        if listing is not None:
            if lock.casefold() not in listing:
                continue
            lock = listing[lock.casefold()]
        path = folder / lock
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        if age < timeout_seconds:
            return path
    return None


def zip_problem(path: Path, max_uncompressed_bytes: float | None = None) -> str | None:
    """Return why ``path`` is not a complete zip (an ``.xlsx`` is one), or None when it is.

    Every member's CRC is checked by the workbook's own reading (``safety.inflate``) unless
    the members claim more than ``max_uncompressed_bytes`` (the parser then rejects the file
    with its own message).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            if max_uncompressed_bytes is not None and total > max_uncompressed_bytes:
                return None
            try:
                safety.inflate(zf)
            except zipfile.BadZipFile:
                return "part of the workbook is damaged (a checksum does not match)"
    except zipfile.BadZipFile:
        return "the file is not a complete workbook (it may be cut short or still copying)"
    except (OSError, EOFError, zlib.error, NotImplementedError, ValueError) as exc:
        return f"the file could not be read as a workbook ({type(exc).__name__})"
    return None


@dataclass(frozen=True)
class Ready:
    """A workbook ready to be claimed; ``problem`` says why it is broken when it is."""

    path: Path
    size: int
    problem: str | None = None


@dataclass
class _Seen:
    signature: tuple[int, int]
    stable_since: float
    zip_checked: tuple[int, int] | None = None
    zip_problem: str | None = None


class Tracker:
    """Watches the intake folder across scans and says which workbooks are ready.

    A workbook is ready when its size and modification time have not changed for
    ``settle_seconds``, no live owner/lock file holds it, and it opens as a complete zip.
    A settled file that is still not a complete zip after ``broken_after_seconds`` is
    returned with its problem, so it can be rejected rather than wait for ever.
    """

    def __init__(
        self,
        settle_seconds: float,
        lock_timeout_seconds: float,
        broken_after_seconds: float,
        *,
        max_uncompressed_bytes: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.settle = settle_seconds
        self.lock_timeout = lock_timeout_seconds
        self.broken_after = broken_after_seconds
        self.max_uncompressed = max_uncompressed_bytes
        self._clock = clock
        self._wall = wall
        self._seen: dict[str, _Seen] = {}
        self.waiting: dict[str, str] = {}
        self.deferred = 0  # settled workbooks the last scan left for the next (its limit)

    def forget(self, name: str) -> None:
        """Stop tracking ``name`` (after it has been claimed)."""
        self._seen.pop(name, None)
        self.waiting.pop(name, None)

    def count(self, reason: str) -> int:
        """Return how many workbooks wait for ``reason`` (SETTLING, LOCKED, INCOMPLETE)."""
        return sum(1 for r in self.waiting.values() if r == reason)

    def next_due(self) -> float | None:
        """Return when (on the tracker's clock) the earliest settling file may be ready."""
        dues = [
            self._seen[name].stable_since + self.settle
            for name, reason in self.waiting.items()
            if reason == SETTLING and name in self._seen
        ]
        return min(dues, default=None)

    def scan(self, folder: Path, limit: int | None = None) -> list[Ready]:
        """Return the workbooks in ``folder`` (not its subfolders) that are ready now.

        With ``limit``, at most that many: the other settled workbooks are not opened yet
        (``deferred`` counts them), so that a large batch can be claimed and started a few
        at a time instead of after every file has been opened.
        """
        now = self._clock()
        ready: list[Ready] = []
        present: set[str] = set()
        self.waiting = {}
        self.deferred = 0
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return []
        listing = {entry.name.casefold(): entry.name for entry in entries}
        for entry in sorted(entries, key=lambda e: e.name):
            if not is_workbook_name(entry.name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            present.add(entry.name)
            room = limit is None or len(ready) < limit
            found = self._judge(
                folder, entry.name, (st.st_size, st.st_mtime_ns), now, st.st_mtime, room, listing
            )
            if found is not None:
                ready.append(found)
        for name in set(self._seen) - present:
            del self._seen[name]
        return ready

    def _judge(
        self,
        folder: Path,
        name: str,
        signature: tuple[int, int],
        now: float,
        mtime: float,
        room: bool = True,
        listing: Mapping[str, str] | None = None,
    ) -> Ready | None:
        seen = self._seen.get(name)
        if seen is None or seen.signature != signature:
            self._seen[name] = _Seen(signature, now)
            self.waiting[name] = SETTLING
            return None
        stable_for = now - seen.stable_since
        if stable_for < self.settle:
            self.waiting[name] = SETTLING
            return None
        if live_lock(folder, name, self.lock_timeout, self._wall(), listing) is not None:
            self.waiting[name] = LOCKED
            return None
        path = folder / name
        if not room:
            self.deferred += 1
            return None
        if name.lower().endswith(RETURNED_SUFFIXES):
            return Ready(path, signature[0])  # read as text by its job, rejected there if not
        if seen.zip_checked != signature:
            seen.zip_problem = zip_problem(path, self.max_uncompressed)
            seen.zip_checked = signature
        if seen.zip_problem is None:
            return Ready(path, signature[0])
        untouched_for = max(stable_for, self._wall() - mtime)
        if untouched_for >= self.broken_after:
            return Ready(path, signature[0], seen.zip_problem)
        self.waiting[name] = INCOMPLETE
        return None
