"""The retention schedule: every record cssw-docs keeps, when it falls due, and the purge.

Six kinds of record (:data:`KINDS`), each kept for the months the ``[retention]`` settings
give (none set: kept for ever). A record's months start on the day in :data:`KINDS`. The
purge removes what is past its date, except every record of an audit that is still open
(:func:`protected`); it is idempotent and safe to stop at any point:

- each record is entered in the purge log *before* it is removed and marked done after, so a
  purge stopped half way is finished, and logged once, by the next run;
- a pack folder is renamed to a hidden name before it is deleted (never half a pack that
  looks whole); a set-aside workbook goes after its notes; the ledger's detail of an audit is
  replaced by its anonymous tombstone in one transaction.

Nothing here names a child: the log holds kinds, references, job and message ids and counts.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from . import clock
from .config import RetentionSettings, Settings
from .deliver.transport import eml_name
from .folders import Folders, listing
from .models import JobState, MailState, Stage
from .oversight import actions, records, tombstone
from .oversight.moderation import normalise_ref
from .render import pack as packs
from .store import audits, db
from .store import retention as store

PACKS = "packs"
SUPERSEDED = "superseded_packs"
PROCESSED = "processed_workbooks"
SET_ASIDE = "set_aside_workbooks"
EMAILS = "email_copies"
LEDGER = "ledger_detail"


@dataclass(frozen=True)
class Kind:
    """One kind of record: its name in the settings, what it is, when its months start."""

    key: str
    label: str
    starts: str


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            PACKS,
            "latest packs and their audit.json",
            "the day the audit's latest pack was made",
        ),
        Kind(
            SUPERSEDED,
            "superseded pack versions",
            "the day the next version replaced it",
        ),
        Kind(PROCESSED, "processed workbooks", "the day it was filed in intake/processed/"),
        Kind(
            SET_ASIDE,
            "rejected, failed and duplicate workbooks, with their notes and marked copies",
            "the day it was set aside",
        ),
        Kind(EMAILS, "copies of emails written or sent", "the day it was sent (or given up)"),
        Kind(
            LEDGER,
            "the ledger's case detail (an anonymous tombstone stays)",
            "the audit's last activity in the ledger",
        ),
    )
}
# The order a purge works in: files first, the ledger's detail (which maps files to audits) last.
ORDER = (SET_ASIDE, PROCESSED, SUPERSEDED, PACKS, EMAILS, LEDGER)
SET_ASIDE_FOLDERS = ("rejected", "failed", "duplicates")
MAIL_DONE = (MailState.SENT, MailState.FAILED, MailState.BLOCKED, MailState.POSSIBLY_DELIVERED)
NO_SCHEDULE = (
    "No retention schedule set: every pack, workbook, email copy and ledger record is kept for "
    "ever. Set the months for each kind under [retention] (see docs/retention.md)."
)

Checkpoint = Callable[[str], None]


def _no_checkpoint(name: str) -> None:
    """The default checkpoint: nothing (tests pass one that kills the process there)."""


@dataclass(frozen=True)
class Item:
    """One record the schedule covers: what it is, whose audit, since when, where it lives.

    ``token`` names it in the purge log without naming anyone (a reference and pack version,
    a job id, a message id, or a digest of a file's place).
    """

    kind: str
    token: str
    audit_ref: str  # normalised; "" when not known
    since: dt.date
    paths: tuple[Path, ...] = ()
    rows: int = 0
    job_ids: tuple[str, ...] = ()
    message_id: str = ""
    stage: str = ""

    @property
    def count(self) -> int:
        """Return how many files and ledger rows the record stands for."""
        return len(self.paths) + self.rows


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(item: Item, schedule: RetentionSettings) -> dt.date | None:
    """Return the day ``item`` may be removed, or None when its kind is kept for ever."""
    months = getattr(schedule, item.kind)
    return None if months is None else add_months(item.since, months)


def _token(*parts: str) -> str:
    """Return a short digest standing for a place that may hold a name (a file's name)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def _day(stamp: str | None) -> dt.date | None:
    if not stamp:
        return None
    with contextlib.suppress(ValueError):
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone().date()
    return None


def _dated_folder(name: str) -> dt.date | None:
    """Return the day a dated folder's ``name`` (YYYY-MM-DD) stands for; None for another."""
    with contextlib.suppress(ValueError):
        return dt.date.fromisoformat(name)
    return None


# --- what there is -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pack:
    folder: Path
    stage: str
    version: int
    made: dt.date


def _pack_items(outbox: Path) -> list[Item]:
    """Return every finished pack: the latest of each audit, and the versions it superseded."""
    by_ref: dict[str, list[_Pack]] = {}
    for folder, manifest in packs.manifests(outbox):
        made = _day(str(manifest.get("created_utc") or "")) or _mtime_day(folder)
        try:
            found = _Pack(folder, str(manifest["stage"]), int(manifest["version"]), made)
        except (KeyError, TypeError, ValueError):
            continue
        by_ref.setdefault(normalise_ref(folder.parent.name), []).append(found)
    items = []
    for ref, versions in by_ref.items():
        versions.sort(key=lambda p: (p.stage == Stage.FINAL, p.version, p.made))
        for older, newer in itertools.pairwise(versions):
            items.append(
                Item(SUPERSEDED, f"{ref}/{older.folder.name}", ref, newer.made, (older.folder,))
            )
        latest = versions[-1]
        items.append(Item(PACKS, f"{ref}/{latest.folder.name}", ref, latest.made, (latest.folder,)))
    return items


def _mtime_day(path: Path) -> dt.date:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).date()


def _place(path: Path | str) -> tuple[str, ...]:
    """Return where a filed file is, relative to the intake folder: (folder, date, name), so
    the ledger's paths still match after the intake folder moved (a share mounted elsewhere)."""
    return (path if isinstance(path, PurePath) else PurePath(path)).parts[-3:]


@dataclass
class _JobFiles:
    """What the ledger says about the files of finished jobs, by :func:`_place`."""

    by_place: dict[tuple[str, ...], sqlite3.Row] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> _JobFiles:
        found = cls()
        for row in conn.execute(
            "SELECT job_id, audit_ref, state, final_path, rejection, dest_dir FROM jobs"
            " WHERE final_path IS NOT NULL OR rejection IS NOT NULL"
        ):
            paths = [row["final_path"]] if row["final_path"] else []
            if row["rejection"]:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    for a in json.loads(row["rejection"]).get("attachments", []):
                        paths.append(a["path"] if isinstance(a, dict) else a)
            if row["dest_dir"] and row["state"] == JobState.FAILED:
                paths.append(str(Path(row["dest_dir"]) / f"{row['job_id']} - error.txt"))
            for p in paths:
                found.by_place[_place(p)] = row
        return found

    def owner(self, path: Path) -> sqlite3.Row | None:
        """Return the job that filed ``path``, if the ledger knows it."""
        return self.by_place.get(_place(path))


def _intake_items(folders: Folders, jobs: _JobFiles) -> list[Item]:
    """Return the workbooks filed in intake/processed/ and set aside, grouped by job."""
    items = []
    for kind, names in ((PROCESSED, ("processed",)), (SET_ASIDE, SET_ASIDE_FOLDERS)):
        for name in names:
            base = folders.intake / name
            for found in listing(base):
                day = _dated_folder(found.name)
                if day is None or not found.is_dir():
                    continue
                day_dir = base / found.name
                groups: dict[str, list[Path]] = {}
                owners: dict[str, sqlite3.Row] = {}
                for entry in listing(day_dir):
                    if not entry.is_file() or entry.name.startswith("."):
                        continue
                    path = day_dir / entry.name
                    row = jobs.owner(path)
                    key = (
                        row["job_id"] if row is not None else _token(name, day_dir.name, path.name)
                    )
                    groups.setdefault(key, []).append(path)
                    if row is not None:
                        owners[key] = row
                for key, paths in groups.items():
                    row = owners.get(key)
                    items.append(
                        Item(
                            kind,
                            f"{name}/{day_dir.name}/{key}",
                            normalise_ref(row["audit_ref"] or "") if row is not None else "",
                            day,
                            tuple(_notes_first(paths, row)),
                            job_ids=(row["job_id"],) if row is not None else (),
                        )
                    )
    return items


def _notes_first(paths: list[Path], row: sqlite3.Row | None) -> list[Path]:
    """Return a job's files with the workbook itself last (removed last: notes never outlive
    it looking like the whole of what was set aside)."""
    workbook = _place(row["final_path"]) if row is not None and row["final_path"] else None
    return sorted(paths, key=lambda p: (_place(p) == workbook, p.name))


def _mail_items(conn: sqlite3.Connection, outbox: Path) -> list[Item]:
    """Return every stored copy of an email: the ledger's message and any .eml file."""
    mail_dir = outbox / "mail"
    files: dict[str, Path] = {}
    for day in listing(mail_dir):
        if _dated_folder(day.name) is not None and day.is_dir():
            day_dir = mail_dir / day.name
            for entry in listing(day_dir):
                if entry.name.endswith(".eml"):
                    files[entry.name] = day_dir / entry.name
    items = []
    marks = ", ".join("?" for _ in MAIL_DONE)
    for row in conn.execute(
        "SELECT message_id, audit_ref, state, sent_at, updated_at, purged_at"
        f" FROM mail_outbox WHERE state IN ({marks})",
        [str(s) for s in MAIL_DONE],
    ):
        eml = files.pop(eml_name(row["message_id"]), None)
        if row["purged_at"] and eml is None:
            continue  # its copies are gone already
        since = _day(row["sent_at"] or row["updated_at"]) or clock.today()
        items.append(
            Item(
                EMAILS,
                row["message_id"].strip("<>"),
                normalise_ref(row["audit_ref"] or ""),
                since,
                (eml,) if eml is not None else (),
                rows=0 if row["purged_at"] else 1,
                message_id=row["message_id"],
            )
        )
    for name, path in files.items():  # .eml files the ledger no longer knows
        since = _dated_folder(path.parent.name) or _mtime_day(path)
        items.append(Item(EMAILS, name.removesuffix(".eml"), "", since, (path,)))
    return items


def _ledger_items(conn: sqlite3.Connection) -> list[Item]:
    """Return the ledger's case detail: per audit (every row naming it) and per lone job."""
    latest: dict[str, dt.date] = {}
    stages: dict[str, str] = {}
    rows: dict[str, int] = {}

    def seen(ref: str, stamp: str | None, stage: str = "") -> None:
        ref = normalise_ref(ref)
        day = _day(stamp)
        if day is not None and (ref not in latest or day > latest[ref]):
            latest[ref] = day
        if stage == Stage.FINAL or ref not in stages:
            stages[ref] = stage or stages.get(ref, "")
        rows[ref] = rows.get(ref, 0) + 1

    for row in conn.execute("SELECT audit_ref, stage, processed_at FROM audits ORDER BY rowid"):
        seen(row["audit_ref"], row["processed_at"], row["stage"])
    known = set(latest)
    lone = []
    for row in conn.execute(
        "SELECT job_id, audit_ref, state, finished_at, updated_at FROM jobs"
    ).fetchall():
        ref = normalise_ref(row["audit_ref"] or "")
        if ref and ref in known:
            seen(ref, row["finished_at"] or row["updated_at"])
        elif JobState(row["state"]).terminal:
            since = _day(row["finished_at"] or row["updated_at"]) or clock.today()
            lone.append(Item(LEDGER, row["job_id"], ref, since, rows=1, job_ids=(row["job_id"],)))
    for row in audits.moderation_outcome_rows(conn):
        if normalise_ref(row["audit_ref"]) in known:
            seen(row["audit_ref"], row["recorded_at"])
    for row in audits.resolution_rows(conn):
        if normalise_ref(row["audit_ref"]) in known:
            seen(row["audit_ref"], row["resolved_at"])
    items = [
        Item(LEDGER, ref, ref, day, rows=rows[ref], stage=stages.get(ref, ""))
        for ref, day in latest.items()
    ]
    return items + lone


def inventory(conn: sqlite3.Connection, folders: Folders) -> list[Item]:
    """Return every record the retention schedule covers, in purge order."""
    jobs = _JobFiles.load(conn)
    found = (
        _intake_items(folders, jobs)
        + _pack_items(folders.outbox)
        + _mail_items(conn, folders.outbox)
        + _ledger_items(conn)
    )
    return sorted(found, key=lambda i: (ORDER.index(i.kind), i.since, i.token))


# --- what is kept whatever its date ------------------------------------------------------------


def is_open(
    record: records.AuditRecord, today: dt.date, statuses: actions.Statuses | None = None
) -> str:
    """Return why ``record`` must be kept whatever the schedule says ("" when it need not be):
    an open referral to the Head of QA, open SMART actions (``statuses``: the ledger's action
    statuses), or a pending moderation decision."""
    if record.referral_open or record.awaiting_decision:
        return "open referral"
    if actions.has_open_actions(record, statuses):
        return "open actions"
    if record.moderation_selected and record.moderation is None:
        return "pending moderation"
    return ""


def protected(
    conn: sqlite3.Connection, today: dt.date, refs: Collection[str] | None = None
) -> dict[str, str]:
    """Return the audits (normalised references; among ``refs`` when given) none of whose
    records may be removed, and why."""
    statuses = actions.recorded(conn)
    return {
        normalise_ref(r.audit_ref): why
        for r in records.load(conn, refs=refs).audits
        if (why := is_open(r, today, statuses))
    }


# --- the plan, the report and the purge ----------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A record past (or nearing) its date, and the day it falls due."""

    item: Item
    on: dt.date


@dataclass
class Purged:
    """What a purge removed (or, on a dry run, would remove) and what it kept."""

    removed: list[Due] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # protected reference -> why
    finished: int = 0  # records a stopped purge had begun, finished now
    dry_run: bool = False

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Return (records, files and rows) removed per kind, in purge order."""
        out: dict[str, tuple[int, int]] = {}
        for d in self.removed:
            n, items = out.get(d.item.kind, (0, 0))
            out[d.item.kind] = (n + 1, items + d.item.count)
        return {k: out[k] for k in ORDER if k in out}

    def summary(self) -> str:
        """Return one line for the log (no names)."""
        verb = "would remove" if self.dry_run else "removed"
        parts = [f"{n} {KINDS[k].label}" for k, (n, _) in self.by_kind().items()]
        text = f"{verb} {', '.join(parts)}" if parts else f"{verb} nothing"
        if self.kept:
            text += f"; kept {len(self.kept)} open audit(s) past their date"
        return text


def due_items(
    conn: sqlite3.Connection,
    settings: Settings,
    folders: Folders,
    today: dt.date,
    *,
    within_days: int = 0,
) -> tuple[list[Due], dict[str, str]]:
    """Return the records due on or before ``today + within_days`` that may go, and the open
    audits kept past their date (reference -> why)."""
    schedule = settings.retention
    if not schedule.schedule:
        return [], {}
    limit = today + dt.timedelta(days=within_days)
    candidates = []
    for item in inventory(conn, folders):
        on = due_on(item, schedule)
        if on is not None and on <= limit:
            candidates.append(Due(item, on))
    refs = {d.item.audit_ref for d in candidates if d.item.audit_ref}
    keep = protected(conn, today, refs) if refs else {}
    due, kept = [], {}
    for d in candidates:
        if d.item.audit_ref in keep:
            kept[d.item.audit_ref] = keep[d.item.audit_ref]
        else:
            due.append(d)
    return due, kept


def report(
    conn: sqlite3.Connection, settings: Settings, folders: Folders, today: dt.date, days: int = 30
) -> list[Due]:
    """Return the records that will be removed in the next ``days`` days (and those overdue)."""
    due, _ = due_items(conn, settings, folders, today, within_days=days)
    return sorted(due, key=lambda d: (ORDER.index(d.item.kind), d.on, d.item.token))


def purge(
    conn: sqlite3.Connection,
    settings: Settings,
    folders: Folders,
    today: dt.date | None = None,
    *,
    dry_run: bool = False,
    checkpoint: Checkpoint = _no_checkpoint,
) -> Purged:
    """Remove every record past its date that no open audit needs; return what went.

    ``checkpoint(name)`` is called where a crash must be survivable: ``purge:<kind>:logged``
    (entered in the log, not yet removed), ``purge:<kind>:halfway`` (part removed) and
    ``purge:<kind>:removed`` (removed, not yet marked done in the log).
    """
    today = today or clock.today()
    due, kept = due_items(conn, settings, folders, today)
    result = Purged(kept=kept, dry_run=dry_run)
    if dry_run:
        result.removed = due
        return result
    result.finished = _finish_stopped(conn, folders, {(d.item.kind, d.item.token) for d in due})
    run = db.now()
    for d in due:
        item = d.item
        store.log_started(
            conn,
            kind=item.kind,
            token=item.token,
            audit_ref=item.audit_ref,
            items=item.count,
            record_date=item.since.isoformat(),
            run=run,
        )
        checkpoint(f"purge:{item.kind}:logged")
        remove(conn, item, folders.locks, checkpoint=checkpoint)
        checkpoint(f"purge:{item.kind}:removed")
        with db.transaction(conn):
            store.log_done(conn, item.kind, item.token)
        result.removed.append(d)
    return result


def _finish_stopped(conn: sqlite3.Connection, folders: Folders, due: set[tuple[str, str]]) -> int:
    """Mark done the records a stopped purge removed before it could say so; return how many.

    A record it entered in the log but had not yet removed is still due, and goes in this run.
    """
    for ref_dir in folders.outbox.iterdir() if folders.outbox.is_dir() else ():
        if ref_dir.is_dir() and any(p.name.startswith(".old-") for p in ref_dir.iterdir()):
            # a pack folder a stopped purge had renamed aside
            packs.remove_leftovers(ref_dir, folders.locks)
    stopped = [r for r in store.unfinished(conn) if (r["kind"], r["token"]) not in due]
    if stopped:
        with db.transaction(conn):
            for row in stopped:
                store.log_done(conn, row["kind"], row["token"])
    return len(stopped)


def remove(
    conn: sqlite3.Connection,
    item: Item,
    lock_dir: Path,
    *,
    cause: str = store.RETENTION,
    checkpoint: Checkpoint = _no_checkpoint,
) -> None:
    """Remove one record: its files, then its ledger rows (the tombstone replacing them)."""

    def halfway() -> None:
        checkpoint(f"purge:{item.kind}:halfway")

    if item.kind in (PACKS, SUPERSEDED):
        for folder in item.paths:
            packs.remove_pack(folder, lock_dir, halfway)
        return
    for n, path in enumerate(item.paths):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if n == 0 and (len(item.paths) > 1 or item.rows):
            halfway()  # a note gone and its workbook not yet; an .eml gone, its row's copy not
    if item.kind == EMAILS and item.message_id:
        with db.transaction(conn):
            store.clear_message(conn, item.message_id)
    elif item.kind == LEDGER:
        remove_detail(conn, item, cause=cause)
    for path in item.paths:
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # a dated folder left empty


def remove_detail(conn: sqlite3.Connection, item: Item, *, cause: str = store.RETENTION) -> int:
    """Replace an audit's ledger rows by its tombstone (or remove a lone job's row), at once."""
    with db.transaction(conn):
        if item.job_ids:  # a job that never made a pack (rejected, failed, duplicate)
            return store.remove_jobs(conn, item.job_ids)
        return store.remove_audit_detail(
            conn,
            item.audit_ref,
            stage=item.stage or Stage.DRAFT,
            summary=summary_of(conn, item.audit_ref),
            cause=cause,
        )


def summary_of(conn: sqlite3.Connection, audit_ref: str) -> dict | None:
    """Return the tombstone of ``audit_ref`` (normalised) from what the ledger holds now."""
    for record in records.load(conn, refs={audit_ref}).audits:
        return tombstone.summary_of(record)
    rows = audits.audit_rows(conn, audit_ref)
    if not rows:
        return None
    last = rows[-1]
    day = last["audit_date"] or last["processed_at"][:10]
    return tombstone.draft_summary(last["audit_ref"], dt.date.fromisoformat(day))


def schedule_lines(schedule: RetentionSettings) -> list[str]:
    """Return the schedule in words, one kind a line."""
    lines = []
    for key, kind in KINDS.items():
        months = getattr(schedule, key)
        kept = "kept for ever (not set)" if months is None else f"{months} months"
        lines.append(f"{kind.label}: {kept}, from {kind.starts}")
    return lines


def references(items: Iterable[Due]) -> list[str]:
    """Return the audit references among ``items``, sorted (for the terminal, never a name)."""
    return sorted({d.item.audit_ref for d in items if d.item.audit_ref})
