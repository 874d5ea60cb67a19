"""What stopped a job, in words a person can act on, naming folders but never the workbook."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from cssw_docs.folders import Folders
from cssw_docs.render import RenderError
from cssw_docs.service import failures

FOLDERS = Folders(Path("/srv/a/intake"), Path("/srv/a/outbox"), Path("/var/lib/cssw-docs"))
WORKBOOK = "Amara Okafor M1234567.xlsx"


def _os_error(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


@pytest.mark.parametrize(
    ("exc", "what", "todo"),
    [
        (
            _os_error(errno.EACCES, f"/srv/a/intake/processed/2026-11-26/{WORKBOOK}"),
            "may not write to the intake folder's processed/ folder (/srv/a/intake/processed)",
            "Give the service account write access",
        ),
        (
            _os_error(errno.ENOSPC, "/srv/a/outbox/CSSW-2026-0142/.tmp-final-v1-1a2b"),
            "The disk holding the outbox folder (/srv/a/outbox) is full",
            "Free some space",
        ),
        (
            _os_error(errno.ENAMETOOLONG, f"/srv/a/intake/processed/2026-11-26/{WORKBOOK}"),
            "A file name was too long",
            "shorter name",
        ),
        (
            FileNotFoundError(errno.ENOENT, "The claimed workbook is missing", "<workbook>"),
            "disappeared from the working folder",
            "save it into the intake folder again",
        ),
        (
            sqlite3.OperationalError("disk I/O error"),
            "The ledger (/var/lib/cssw-docs) could not be read or written",
            "cssw-docs ledger check",
        ),
        (KeyError("x"), "did not expect (KeyError)", "support team"),
    ],
)
def test_each_cause_is_said_plainly_with_what_to_do(exc, what, todo):
    """The failure names the folder and the fix, not a generic list of guesses."""
    failure = failures.explain(exc, FOLDERS)
    assert what in failure.what and todo in failure.todo
    assert "Amara" not in failure.what + failure.todo and "M1234567" not in failure.what


def test_a_render_error_is_explained_by_its_cause():
    """ "Cannot create the pack folder" caused by a read-only share says so, with the folder."""
    try:
        try:
            raise _os_error(errno.EROFS, "/srv/a/outbox/CSSW-2026-0142")
        except OSError as cause:
            raise RenderError("Cannot create the pack folder") from cause
    except RenderError as exc:
        failure = failures.explain(exc, FOLDERS)
    assert "may not write to the outbox folder (/srv/a/outbox)" in failure.what


def test_the_step_a_job_was_on_is_named():
    """A job that had queued its emails failed while filing, and the words say so."""
    assert "processed/" in failures.step_words("delivered")
    assert failures.step_words("rendered") == "queuing the pack's emails"
    assert failures.step_words("no such state") == "processing the workbook"
