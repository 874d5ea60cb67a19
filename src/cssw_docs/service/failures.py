"""What stopped a job, in plain words, and what a person should do about it.

The worker turns the exception that ended an attempt into a :class:`Failure`; when the job is
set aside in ``intake/failed/`` the note beside it and the QA admin's email say the same. The
words carry folders the service was configured with, never a file name an auditor chose.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..deliver.compose import EmailTemplateError
from ..folders import Folders
from ..models import JobState
from ..render import RenderError

FULL = {errno.ENOSPC, errno.EDQUOT}
FORBIDDEN = {errno.EACCES, errno.EPERM, errno.EROFS}
AWAY = {
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.EISDIR,
    errno.ENOTCONN,
    errno.EHOSTDOWN,
    errno.EHOSTUNREACH,
    errno.ESTALE,
    errno.EIO,
    errno.ETIMEDOUT,
}

STEPS: dict[JobState, str] = {
    JobState.CLAIMED: "checking the workbook and making its pack",
    JobState.VALIDATED: "making the pack",
    JobState.RENDERED: "queuing the pack's emails",
    JobState.INVALID: "queuing the email that tells the auditor what to fix",
    JobState.DELIVERED: "moving the workbook into the intake folder's processed/ folder",
    JobState.NOTIFIED: "moving the workbook into the intake folder's rejected/ folder",
}


@dataclass(frozen=True)
class Failure:
    """What went wrong (``what``) and what to do (``todo``), each a sentence or two."""

    what: str
    todo: str


def step_words(state: str) -> str:
    """Return the step a job in ``state`` was on, in words ("making the pack" ...)."""
    try:
        return STEPS.get(JobState(state), "processing the workbook")
    except ValueError:
        return "processing the workbook"


def place(path: str | Path | None, folders: Folders) -> str:
    """Return the configured folder ``path`` is in, in words, never the file's own name."""
    if not path or str(path) == "<workbook>":
        return "the working folder (intake/.work)"
    path = Path(path)
    for root, name in (
        (folders.work, "the working folder"),
        (folders.intake, "the intake folder"),
        (folders.outbox, "the outbox folder"),
        (folders.state, "the state folder"),
    ):
        try:
            inside = path.relative_to(root)
        except ValueError:
            continue
        if name == "the intake folder" and len(inside.parts) > 1:
            return f"{name}'s {inside.parts[0]}/ folder ({root / inside.parts[0]})"
        return f"{name} ({root})"
    return "a folder outside the service's folders"


def explain(exc: BaseException, folders: Folders) -> Failure:
    """Return what ``exc`` means for the person who has to fix it."""
    if isinstance(exc, RenderError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    if isinstance(exc, OSError):
        return _os_failure(exc, folders)
    if isinstance(exc, sqlite3.Error):
        return Failure(
            f"The ledger ({folders.state}) could not be read or written ({type(exc).__name__}).",
            "Check the state folder's disk is not full, then run `cssw-docs ledger check`; it "
            "says what to do if the ledger is damaged.",
        )
    if isinstance(exc, EmailTemplateError | RenderError):
        return Failure(str(exc), "Do what the message above says.")
    if isinstance(exc, MemoryError):
        return Failure(
            "The workbook needed more memory than the service may use.",
            "Ask the auditor to save the workbook again without extra sheets or pasted data.",
        )
    return Failure(
        f"cssw-docs met an error it did not expect ({type(exc).__name__}): a fault in the "
        "program, not in the workbook.",
        "Send this note (with the technical detail) to the cssw-docs support team.",
    )


def _os_failure(exc: OSError, folders: Folders) -> Failure:
    where = place(exc.filename, folders)
    if exc.errno == errno.ENAMETOOLONG:
        return Failure(
            f"A file name was too long for {where}.",
            "Rename the workbook to a shorter name (under 100 characters).",
        )
    if exc.errno in FULL:
        return Failure(f"The disk holding {where} is full.", f"Free some space on {where}.")
    if exc.errno in FORBIDDEN:
        return Failure(
            f"cssw-docs may not write to {where} ({exc.strerror}).",
            f"Give the service account write access to {where}, or mount the share "
            "read-write again.",
        )
    if str(exc.filename) == "<workbook>":
        return Failure(
            "The workbook disappeared from the working folder (intake/.work) while it was "
            "being processed.",
            "Find out who moved or deleted it, then save it into the intake folder again.",
        )
    if exc.errno in AWAY:
        return Failure(
            f"{where[0].upper()}{where[1:]} was missing or could not be used ({exc.strerror}).",
            "Check the shared drive is connected and the folder exists.",
        )
    return Failure(
        f"{where[0].upper()}{where[1:]} could not be used ({exc.strerror or exc}).",
        f"Check {where} can be written by the service account.",
    )
