"""The service's folders and filing primitives: private folders, free names, moves, locks."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import getpass
import hashlib
import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import clock
from .config import ServiceSettings

WORK = ".work"
NAME_MAX = 255  # bytes in one file name on ext4, XFS, btrfs, NTFS (as UTF-16 units) and SMB
MAX_SUFFIX = 16  # a longer "suffix" is part of the name, not an extension


@dataclass(frozen=True)
class Folders:
    """Every folder the service reads or writes."""

    intake: Path
    outbox: Path
    state: Path

    @property
    def locks(self) -> Path:
        """Return the folder of the outbox's locks (in the state folder, never the outbox)."""
        return locks_in(self.state)

    @property
    def work(self) -> Path:
        """Return the working folder: claimed workbooks wait here until their job ends."""
        return self.intake / WORK

    def job_file(self, job_id: str, source_name: str) -> Path:
        """Return where the claimed workbook of ``job_id`` sits."""
        return self.work / job_id / source_name

    def dated(self, kind: str, day: dt.date | None = None) -> Path:
        """Return ``intake/<kind>/YYYY-MM-DD`` (kind: processed, rejected, duplicates, failed)."""
        day = day or clock.today()
        return self.intake / kind / day.isoformat()

    def create(self) -> None:
        """Create the folders that are missing, readable by the service account only.

        The outbox may be a share that is not there yet: that is left for each job to
        find out (and retry), so the service still starts.
        """
        for folder in (self.intake, self.work, self.state):
            make_private_dir(folder)
        with contextlib.suppress(OSError):
            make_private_dir(self.outbox)


def make_private_dir(folder: Path) -> Path:
    """Create ``folder`` and missing parents as 0700; folders that already exist are left alone."""
    folder = Path(folder)
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for made in missing:
        with contextlib.suppress(OSError):
            os.chmod(made, 0o700)
    return folder


def fit_name(stem: str, tail: str = "", limit: int = NAME_MAX) -> str:
    """Return ``stem + tail`` with ``stem`` shortened so the name fits ``limit`` UTF-8 bytes.

    The tail (a suffix such as ``" (2).xlsx"`` or ``" - problems.txt"``) is always kept whole;
    the stem is cut at a character boundary and loses trailing spaces and dots (which Windows
    drops).
    """
    room = max(limit - len(tail.encode("utf-8")), 1)
    data = stem.encode("utf-8")
    if len(data) > room:
        stem = data[:room].decode("utf-8", "ignore").rstrip(" .") or "_"
    return stem + tail


def free_name(folder: Path, name: str) -> Path:
    """Return ``folder/name``, or ``folder/stem (2).ext`` ... when that name is taken.

    Every name returned fits the file system's limit (:data:`NAME_MAX` bytes): a long stem is
    shortened, keeping the suffix and the `` (n)``.
    """
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode("utf-8")) > MAX_SUFFIX:
        stem, suffix = name, ""
    candidate = folder / fit_name(stem, suffix)
    n = 2
    while candidate.exists():
        candidate = folder / fit_name(stem, f" ({n}){suffix}")
        n += 1
    return candidate


def listing(folder: Path | str) -> list[os.DirEntry[str]]:
    """Return the entries of ``folder`` in name order; none when it is missing or not a folder.

    One read of the folder: an entry's ``is_dir()`` and ``is_file()`` (which follow links, as
    ``Path``'s do) need no further call to the file system on most of them, which keeps
    walking a years-old outbox cheap. A folder that cannot be read raises, as ``iterdir`` does.
    """
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def move(source: Path, target: Path) -> Path:
    """Move ``source`` to ``target`` (same volume: rename; else copy then remove) and return it."""
    make_private_dir(target.parent)
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copy2(source, target)
        os.remove(source)
    return target


# Advisory file locks: flock on POSIX, msvcrt's byte-range lock on Windows.
_fcntl = None if os.name == "nt" else importlib.import_module("fcntl")
_msvcrt = importlib.import_module("msvcrt") if os.name == "nt" else None


def lock_file(fh: IO, *, wait: bool) -> None:
    """Take an exclusive lock on the open file ``fh``.

    With ``wait`` False a lock held elsewhere raises :class:`BlockingIOError` at once.
    """
    if _fcntl is not None:
        _fcntl.flock(fh.fileno(), _fcntl.LOCK_EX | (0 if wait else _fcntl.LOCK_NB))
        return
    try:  # pragma: no cover - Windows only
        _msvcrt.locking(fh.fileno(), _msvcrt.LK_LOCK if wait else _msvcrt.LK_NBLCK, 1)
    except OSError as exc:  # pragma: no cover
        raise BlockingIOError(str(exc)) from exc


def unlock_file(fh: IO) -> None:
    """Release the lock :func:`lock_file` took on ``fh``."""
    if _fcntl is not None:
        _fcntl.flock(fh.fileno(), _fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows only
        _msvcrt.locking(fh.fileno(), _msvcrt.LK_UNLCK, 1)


LOCKS = "locks"  # the state folder's subfolder holding the outbox's locks


def locks_in(state_dir: Path) -> Path:
    """Return the folder of the outbox's locks inside the service's state folder."""
    return Path(state_dir) / LOCKS


def outbox_lock(folder: Path, lock_dir: Path | None) -> Path:
    """Return the lock file guarding the outbox folder ``folder`` (one audit's packs).

    Locks live in ``lock_dir`` (the service's ``<state>/locks``), never in the outbox, which
    people open on the share. Without one (``cssw-docs render`` on its own) they live in a
    private folder of the system's temporary folder. The name holds the folder's name and a
    digest of its full path, so two outboxes never share a lock.
    """
    folder = Path(folder).absolute()
    if lock_dir is None:
        lock_dir = Path(tempfile.gettempdir()) / f"cssw-docs-locks-{_user()}"
    digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:16]
    return Path(lock_dir) / fit_name(f"{folder.name}-{digest}", ".lock")


def _user() -> str:
    try:
        return "".join(c for c in getpass.getuser() if c.isalnum() or c in "-_") or "user"
    except (KeyError, OSError):  # no name for this account
        return str(os.getpid())


@contextlib.contextmanager
def holding(lock: Path) -> Iterator[None]:
    """Hold the exclusive lock file ``lock`` (made, in a private folder, when missing)."""
    make_private_dir(lock.parent)
    with lock.open("a") as fh:
        lock_file(fh, wait=True)
        try:
            yield
        finally:
            unlock_file(fh)


def shown_path(path: Path | str, service: ServiceSettings) -> str:
    """Return ``path`` as the people a message goes to open it.

    A path inside the outbox (or the intake) is given under ``service.outbox_share`` (or
    ``intake_share``) when set, with the share's separator: with the outbox
    ``/srv/cssw-docs/outbox`` shared as ``\\\\fileserver\\CSSW-Audits\\outbox``, a pack's folder
    reads ``\\\\fileserver\\CSSW-Audits\\outbox\\CSSW-2026-0142\\final-v1``. Any other path,
    or any path when no share is set, is given as it is.
    """
    path = Path(path)
    shares = ((service.outbox, service.outbox_share), (service.intake, service.intake_share))
    for root, share in shares:
        share = share.strip()
        if not share:
            continue
        try:
            inside = path.absolute().relative_to(Path(root).absolute())
        except ValueError:
            continue
        sep = "\\" if "\\" in share or share[1:2] == ":" else "/"
        return sep.join([share.rstrip("\\/"), *inside.parts])
    return str(path)
