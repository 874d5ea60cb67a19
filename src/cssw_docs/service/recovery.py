"""When the ledger is lost: refuse to start on a new one by mistake, and rebuild it from disk.

The ledger is what makes a workbook dropped twice a duplicate and an email queued twice one
message. A new, empty ledger beside an outbox full of packs means it was deleted or replaced:
starting then would process every re-dropped workbook as new and email everyone again. The
outbox keeps what is needed to remember: each pack's ``manifest.json`` (with the workbook's
SHA-256) and ``audit.json`` (the audit), and the intake folder keeps the workbooks filed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..folders import Folders
from ..models import JobState, submission_from_dict, submission_to_dict
from ..pipeline import sha256_of
from ..render.pack import has_packs, packs_on_disk
from ..store import audits, db, jobs
from .readiness import WORKBOOK_SUFFIXES

REBUILT_NAME = "(rebuilt from the outbox)"
FILED_NAME = "(rebuilt from the intake folder)"
MARKED = " - marked"  # the stem ending of our own marked copies in rejected/


class LedgerMissing(Exception):
    """The ledger is new but the outbox says work was done: refuse, saying what to do."""


def refuse_new_ledger(conn: sqlite3.Connection, folders: Folders) -> None:
    """Raise :class:`LedgerMissing` when the ledger is new and the outbox already holds packs."""
    if not db.is_new(conn) or not has_packs(folders.outbox):
        return
    path = db.db_path(folders.state)
    raise LedgerMissing(
        f"The ledger {path} is new, but the outbox {folders.outbox} already holds audit packs: "
        "the ledger was probably deleted or replaced. Starting now would treat every workbook "
        "dropped again as new and email everyone a second time, so the service has not "
        "started.\n" + db.recovery_steps(path) + "\n"
        "If this outbox really belongs to a fresh start, start once with: "
        "cssw-docs watch --new-ledger"
    )


def accept_new_ledger(conn: sqlite3.Connection) -> None:
    """Record that a person chose to start on a new ledger beside existing packs."""
    db.set_meta(conn, "new_ledger_accepted", db.now())


@dataclass(frozen=True)
class Rebuilt:
    """What :func:`rebuild` added to the ledger, and what it could not read."""

    packs: int = 0
    audits_added: int = 0
    jobs_added: int = 0
    filed_added: int = 0
    unreadable: tuple[Path, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.packs} pack(s) found in the outbox: {self.audits_added} audit record(s) and "
            f"{self.jobs_added} workbook record(s) added; {self.filed_added} filed workbook(s) "
            "in processed/ and rejected/ recorded"
        )
        if self.unreadable:
            text += f"; {len(self.unreadable)} pack folder(s) could not be read"
        return text


def rebuild(conn: sqlite3.Connection, folders: Folders) -> Rebuilt:
    """Add to the ledger the records the outbox and the filed workbooks prove; return counts.

    Additive and repeatable: records already there are left alone. Each pack gives its
    ``audits`` row and a finished job with the workbook's SHA-256, so the same workbook
    dropped again is a duplicate; each workbook filed in ``intake/processed/`` or
    ``intake/rejected/`` gives a finished job too. Moderation outcomes and referral
    resolutions are not in the outbox and cannot be rebuilt.
    """
    found, unreadable = packs_on_disk(folders.outbox)
    added_audits = added_jobs = 0
    for pack in found:
        data = submission_to_dict(submission_from_dict(pack.audit))
        if not audits.audit_exists(conn, pack.audit_ref, pack.stage, pack.version):
            selected = pack.audit.get("moderation_selected")
            audits.record_audit(
                conn,
                audit_ref=pack.audit_ref,
                stage=pack.stage,
                version=pack.version,
                job_id=_rebuilt_id(pack.source_sha256 or pack.directory.as_posix()),
                source_sha256=pack.source_sha256,
                audit_date=data.get("audit_date"),
                data=data,
                pack_dir=pack.directory,
                moderation_selected=None if selected is None else bool(selected),
                processed_at=pack.created_utc or None,
            )
            added_audits += 1
        if pack.source_sha256 and jobs.job_with_content(conn, pack.source_sha256) is None:
            added_jobs += jobs.insert_finished_job(
                conn,
                _rebuilt_id(pack.source_sha256),
                sha256=pack.source_sha256,
                state=JobState.PROCESSED,
                source_name=REBUILT_NAME,
                finished_at=pack.created_utc or db.now(),
                audit_ref=pack.audit_ref,
                stage=pack.stage,
                version=pack.version,
                pack_dir=str(pack.directory),
            )
    filed = _record_filed(conn, folders)
    db.set_meta(conn, "rebuilt", db.now())
    return Rebuilt(len(found), added_audits, added_jobs, filed, tuple(unreadable))


def _record_filed(conn: sqlite3.Connection, folders: Folders) -> int:
    """Record each workbook filed in processed/ and rejected/ not yet known by its content."""
    added = 0
    for kind, state in (("processed", JobState.PROCESSED), ("rejected", JobState.REJECTED)):
        root = folders.intake / kind
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/*")):
            name = path.name.lower()
            if not name.endswith(WORKBOOK_SUFFIXES) or path.stem.endswith(MARKED):
                continue
            if not path.is_file():
                continue
            digest = sha256_of(path)
            if jobs.job_with_content(conn, digest) is not None:
                continue
            added += jobs.insert_finished_job(
                conn,
                _rebuilt_id(digest),
                sha256=digest,
                state=state,
                source_name=FILED_NAME,
                finished_at=db.now(),
                final_path=str(path),
            )
    return added


def _rebuilt_id(key: str) -> str:
    """Return the job id given to a rebuilt record (stable: rebuilding twice adds nothing)."""
    return f"rebuilt-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"
