"""The service log: stderr and a rotating file in the state folder, one line per job outcome.

Lines carry the job id and the audit reference, never a file name an auditor chose (it may
hold a child's name) and never free text from a workbook.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from pathlib import Path

from ..config import ServiceSettings
from ..models import JobState
from .worker import Outcome

LOG_NAME = "service.log"
log = logging.getLogger("cssw_docs.service")
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


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
    handler.setFormatter(logging.Formatter(_FORMAT))
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
