"""The service log: stderr and a rotating file in the state folder, one line per job outcome.

Lines carry only values the service made or checked: job ids, references that passed every
reference rule, counts, finding codes and folder names it chose; never a file name an auditor
chose (it may hold a child's name) and never free text from a workbook. As a safety net every
record is written through :class:`SafeFormatter`, which escapes control characters, so no value
can start a forged line.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import ServiceSettings
from ..models import JobState


@dataclass(frozen=True)
class Outcome:
    """What happened to one job; ``kind`` is a terminal job state, or error or gone.

    Carries no child's name and no free text from the workbook: it is logged as is.
    """

    job_id: str
    kind: str
    audit_ref: str = ""
    stage: str = ""
    version: int | None = None
    pack_dir: str = ""
    dest_dir: str = ""
    problems: int = 0
    codes: tuple[str, ...] = ()
    error: str = ""
    detail: str = ""
    what: str = ""  # what went wrong, for a person (service/failures.py)
    todo: str = ""  # what that person should do about it


LOG_NAME = "service.log"
log = logging.getLogger("cssw_docs.service")
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


# Line breaks of every kind, other control characters and invisible format characters (bidi
# overrides could make a line read differently from what it holds).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def escape_controls(text: str) -> str:
    """Return ``text`` on one line, control and format characters escaped (``\\n``, ``\\x1b``)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == " " or unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class SafeFormatter(logging.Formatter):
    """A formatter whose every record comes out as one line: control characters are escaped.

    A traceback (``exc_info``) is kept on the lines that follow, each line escaped on its own.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record formatted, its message and any traceback escaped line by line."""
        record.message = escape_controls(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        extra = []
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        lines = [escape_controls(line) for part in extra for line in part.splitlines()]
        return "\n".join([text, *lines])


def stream_handler(stream, fmt: str) -> logging.Handler:
    """Return a handler writing to ``stream`` (stderr) through :class:`SafeFormatter`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(fmt))
    return handler


def add_file_log(state_dir: Path, settings: ServiceSettings) -> logging.Handler:
    """Send cssw-docs log lines to ``state_dir/service.log`` (rotating, 0600); return it."""
    path = Path(state_dir) / LOG_NAME
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    handler = logging.handlers.RotatingFileHandler(
        path,
        maxBytes=int(settings.log_max_mb * 1024 * 1024),
        backupCount=max(settings.log_backups, 1),
        encoding="utf-8",
    )
    handler.setFormatter(SafeFormatter(_FORMAT))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("cssw_docs")
    root.addHandler(handler)
    handler.previous_level = root.level  # type: ignore[attr-defined]
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def remove_file_log(handler: logging.Handler) -> None:
    """Stop writing to the file ``add_file_log`` opened (and restore the log level)."""
    root = logging.getLogger("cssw_docs")
    root.removeHandler(handler)
    root.setLevel(getattr(handler, "previous_level", root.level))
    handler.close()


def _where(path: str, intake: Path) -> str:
    """Return ``path`` relative to the intake folder's parent when it is inside it."""
    try:
        return str(Path(path).relative_to(intake.parent))
    except ValueError:
        return str(path)


def outcome_line(outcome: Outcome, intake: Path, outbox: Path) -> str:
    """Return the one log line for a finished job."""
    ref = outcome.audit_ref or "no reference"
    head = f"job {outcome.job_id} {ref}:"
    dest = _where(outcome.dest_dir, intake) if outcome.dest_dir else "?"
    if outcome.kind == JobState.PROCESSED:
        pack = _where(outcome.pack_dir, outbox) if outcome.pack_dir else "?"
        return (
            f"{head} pack {outcome.stage} v{outcome.version} made in {pack}; "
            f"workbook moved to {dest}"
        )
    if outcome.kind == JobState.REJECTED:
        codes = ", ".join(outcome.codes[:8]) + (" ..." if len(outcome.codes) > 8 else "")
        n = outcome.problems
        return (
            f"{head} rejected, {n} problem{'s' if n != 1 else ''} ({codes}); "
            f"workbook and findings in {dest}"
        )
    if outcome.kind == JobState.DUPLICATE:
        return f"{head} same content as an earlier job ({outcome.error}); set aside in {dest}"
    if outcome.kind == JobState.FAILED:
        return f"{head} gave up ({outcome.error}); workbook parked in {dest} with an error note"
    return f"{head} {outcome.kind} {outcome.error}".rstrip()


PHASES = ("discovery", "claim", "ledger", "filing", "email composition", "email writing")


class PhaseClock:
    """Adds up the wall and CPU time the service process spends in each phase of its work.

    ``with clock("claim"): ...`` times one stretch; a phase timed inside another is taken out
    of the outer one. CPU time is the timing thread's own, so the sender thread's work counts
    in its own phase. ``service process: ...`` at shutdown logs the totals (``make bench``
    reads them to measure how much of a batch the service process does alone).
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.cpu: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._started = (time.perf_counter(), time.process_time())

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        stack = self._local.__dict__.setdefault("stack", [])
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        stack.append([0.0, 0.0])  # time of the phases timed inside this one
        try:
            yield
        finally:
            inner_wall, inner_cpu = stack.pop()
            wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
            if stack:
                stack[-1][0] += wall
                stack[-1][1] += cpu
            with self._lock:
                self.wall[phase] = self.wall.get(phase, 0.0) + wall - inner_wall
                self.cpu[phase] = self.cpu.get(phase, 0.0) + cpu - inner_cpu

    def line(self) -> str:
        """Return the totals as one log line (seconds)."""
        wall = time.perf_counter() - self._started[0]
        cpu = time.process_time() - self._started[1]
        with self._lock:
            parts = [f"{p} {self.wall[p]:.3f} s (CPU {self.cpu[p]:.3f} s)" for p in self.wall]
        return f"service process: {', '.join(parts)}; in all CPU {cpu:.3f} s over {wall:.3f} s"
