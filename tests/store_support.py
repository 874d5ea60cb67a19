"""Helpers for the store tests: a private copy of the ledger written by release 0.1.0."""

from __future__ import annotations

import shutil
from pathlib import Path

RELEASE_LEDGER = Path(__file__).parent / "data" / "ledger-release-0.1.0.sqlite3"

# What tests/data/ledger-release-0.1.0.md says the release wrote into it.
RELEASE_JOBS = {"processed": 8, "rejected": 2, "duplicate": 1}
RELEASE_MAIL = {"sent": 16, "pending": 6, "blocked": 2}
RELEASE_AUDITS = 8  # 7 Final (CSSW-2026-0142 twice) and 1 Draft


def release_ledger(folder: Path) -> Path:
    """Return a copy of the release 0.1.0 ledger in ``folder`` (the committed file stays as is)."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "ledger.sqlite3"
    shutil.copyfile(RELEASE_LEDGER, copy)
    return copy
