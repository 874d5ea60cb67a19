"""Helpers for the retention and subject access tests: a world of records planted as the
service files them (pack folders, intake folders, email copies, ledger rows), with a
controllable clock, and an independent list of every record planted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cssw_docs import clock, examples, rubric
from cssw_docs.config import Settings
from cssw_docs.deliver.transport import eml_name
from cssw_docs.folders import Folders, make_private_dir
from cssw_docs.models import (
    Action,
    Agreement,
    JobState,
    Stage,
    Submission,
    submission_to_dict,
)
from cssw_docs.store import audits, db, jobs, mail
from cssw_docs.workbook.generate import write_submission

RUBRIC = rubric.load()
BASE = examples.good(RUBRIC)
# A lean audit for the long simulations: what the report counts, little free text.
LEAN = Submission(
    audit_type=BASE.audit_type,
    team=BASE.team,
    auditor_name=BASE.auditor_name,
    overall_rating=BASE.overall_rating,
    areas_for_development="The chronology is out of date.",
    sections=tuple(dataclasses.replace(s, evidence="", strengths="") for s in BASE.sections),
    storyboard_title="A storyboard",
    feedback=BASE.feedback[:1],
)


@dataclass(frozen=True)
class Made:
    """What one event planted."""

    job_id: str
    folder: Path | None  # the pack folder
    workbook: Path
    eml: Path | None
    message_id: str
    notes: tuple[Path, ...] = ()


@dataclass
class World:
    """A service's folders and ledger, filled by the test one event at a time."""

    root: Path
    real_workbooks: bool = False  # write workbooks the reader can parse (subject tests)
    lean: bool = False  # plant lean audits (the long simulations)
    _n: int = 0

    def __post_init__(self) -> None:
        self.folders = Folders(self.root / "intake", self.root / "outbox", self.root / "state")
        self.folders.create()
        make_private_dir(self.folders.outbox)
        self.clock_file = self.root / "clock"
        self.conn = db.connect(db.db_path(self.folders.state))
        if self.lean:  # a simulation of years: no need to wait for the disk each day
            self.conn.execute("PRAGMA synchronous = OFF")

    def settings(self, **retention: int) -> Settings:
        """Return settings on this world's folders with ``retention`` months per kind."""
        changes = {
            "service.intake": self.folders.intake,
            "service.outbox": self.folders.outbox,
            "service.state_dir": self.folders.state,
        }
        changes.update({f"retention.{k}": v for k, v in retention.items()})
        return Settings().with_changes(**changes)

    def at(self, day: dt.date, hour: int = 9) -> dt.datetime:
        """Move the clock to ``day`` at ``hour`` (local time); return that moment."""
        when = dt.datetime.combine(day, dt.time(hour)).astimezone()
        clock.set_file(self.clock_file, when)
        return when

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:04d}"

    # --- events ------------------------------------------------------------------------------

    def audit(
        self,
        ref: str,
        child: str,
        mosaic: str,
        day: dt.date,
        *,
        stage: Stage = Stage.FINAL,
        version: int = 1,
        actions: bool = False,
        disagree: bool = False,
        selected: bool | None = None,
        issue: str = audits.ISSUE_PACK,
        eml: bool = True,
    ) -> Made:
        """Plant one pack version as a watcher job makes it; return what it planted."""
        self.at(day)
        job_id = self._id("job")
        sub = dataclasses.replace(
            LEAN if self.lean else BASE,
            audit_ref=ref,
            audit_stage=stage,
            audit_date=day - dt.timedelta(days=3),
            child_name=child,
            child_mosaic_id=mosaic,
            practitioner_agreement=Agreement.DISAGREE if disagree else Agreement.AGREE,
            actions=(Action("Update the chronology.", "Assessment", "Tom", day),)
            if actions
            else (),
        )
        data = submission_to_dict(sub)
        folder = self.folders.outbox / ref / f"{stage.value.lower()}-v{version}"
        folder.mkdir(parents=True, mode=0o700)
        (folder / "audit.json").write_text(json.dumps(data), "utf-8")
        (folder / "report.docx").write_bytes(b"report of " + child.encode())
        created = clock.now().isoformat().replace("+00:00", "Z")
        manifest = {"audit_ref": ref, "stage": stage.value, "version": version}
        (folder / "manifest.json").write_text(json.dumps(manifest | {"created_utc": created}))
        audits.record_audit(
            self.conn,
            audit_ref=ref,
            stage=stage.value,
            version=version,
            job_id=job_id,
            source_sha256=job_id,
            audit_date=sub.audit_date.isoformat(),
            data=data,
            pack_dir=folder,
            moderation_selected=selected,
            issue=issue,
        )
        workbook = self.folders.dated("processed") / f"{child} audit v{version}.xlsx"
        self._workbook(workbook, sub)
        self._job(job_id, JobState.PROCESSED, ref, workbook, stage=stage.value, data=data)
        message_id, copy = self._mail(job_id, ref, eml)
        return Made(job_id, folder, workbook, copy, message_id)

    def reject(self, ref: str, child: str, mosaic: str, day: dt.date) -> Made:
        """Plant a rejected workbook with its problems text and marked copy."""
        self.at(day)
        job_id = self._id("job")
        folder = self.folders.dated("rejected")
        sub = dataclasses.replace(BASE, audit_ref=ref, child_name=child, child_mosaic_id=mosaic)
        workbook = folder / f"{child} draft.xlsx"
        self._workbook(workbook, sub)
        notes = folder / f"{ref} - problems.txt"
        notes.write_text("The audit date is missing.\n")
        marked = folder / f"{ref} - marked.xlsx"
        self._workbook(marked, sub)
        rejection = {"auditor_email": "", "attachments": [str(notes), str(marked)], "report": []}
        self._job(job_id, JobState.REJECTED, ref, workbook, rejection=rejection)
        message_id, copy = self._mail(job_id, ref, True)
        return Made(job_id, None, workbook, copy, message_id, (notes, marked))

    def moderate(self, ref: str, day: dt.date) -> None:
        """Record the panel's decision on ``ref`` (its rating stands)."""
        self.at(day)
        audits.record_moderation_outcome(
            self.conn,
            audit_ref=ref.upper(),
            recorded_at=db.now(),
            moderator="Chair",
            rating="Good",
            note="Agreed.",
        )

    def decide(self, ref: str, version: int, day: dt.date) -> None:
        """Record the Head of QA's decision on the referral of Final ``version``."""
        self.at(day)
        audits.record_decision(
            self.conn,
            audit_ref=ref,
            version=version,
            outcome="upheld",
            note="The rating stands.",
            decided_on=day.isoformat(),
            decided_by="Head of QA",
        )

    # --- the pieces ----------------------------------------------------------------------------

    def _workbook(self, path: Path, sub) -> None:
        make_private_dir(path.parent)
        if self.real_workbooks:
            write_submission(sub, path, RUBRIC)
        else:
            path.write_bytes(b"PK not a real workbook of " + sub.child_name.encode())

    def _job(self, job_id, state, ref, final, *, stage=None, data=None, rejection=None) -> None:
        jobs.insert_job(
            self.conn, job_id, source_name=final.name, work_name=final.name, size=1, sha256=job_id
        )
        jobs.update_job(
            self.conn,
            job_id,
            state=state,
            audit_ref=ref,
            stage=stage,
            final_path=str(final),
            dest_dir=str(final.parent),
            data=json.dumps(data) if data else None,
            rejection=json.dumps(rejection) if rejection else None,
            finished_at=db.now(),
        )

    def _mail(self, job_id: str, ref: str, eml: bool) -> tuple[str, Path | None]:
        message_id = f"<{job_id}.final@cssw-docs.local>"
        when = clock.now()
        body = f"Subject: OFFICIAL-SENSITIVE {ref}\r\n\r\nThe pack is attached.\r\n".encode()
        out = mail.Outgoing(
            message_id, job_id, ref, "final", "a@b.gov.uk", ("c@b.gov.uk",), ref, body
        )
        mail.add(self.conn, out, when=when)
        mail.mark_sent(self.conn, message_id, "250 OK", when)
        copy = None
        if eml:
            folder = self.folders.outbox / "mail" / clock.today().isoformat()
            make_private_dir(folder)
            copy = folder / eml_name(message_id)
            copy.write_bytes(body)
        return message_id, copy

    def close(self) -> None:
        """Close the ledger."""
        self.conn.close()


def tree(root: Path) -> set[str]:
    """Return every file under ``root`` (relative paths), hidden ones included."""
    return {str(Path(d, f).relative_to(root)) for d, _, files in os.walk(root) for f in files}
