"""Subject access: find every record holding one child's data, export them, or erase them.

A child is found by MOSAIC ID or by name, compared the way the privacy checks compare them
(``privacy.fold``: case, accents and spacing do not matter). Everything is looked at: packs
(their ``audit.json``), workbooks in every intake folder (read with the bounded reader) with
the notes and marked copies beside them, email copies (the ledger's and any ``.eml`` file),
the ledger's rows, and every copy of the ledger (daily backups, ledgers set aside by a
restore). Nothing this module logs or records names the child.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import clock, privacy, retention, rules
from .config import Settings
from .deliver.transport import eml_name
from .folders import WORK, Folders, make_private_dir
from .oversight.moderation import normalise_ref
from .render import pack as packs
from .rubric import Rubric
from .store import audits, db
from .store import retention as store
from .workbook.parse import UnreadableWorkbook, read_workbook

INTAKE_FOLDERS = ("", WORK, "processed", "rejected", "failed", "duplicates")
LEDGER_FILE = re.compile(r"ledger.*\.sqlite3(\.replaced-.*)?")
_ROW_TABLES = ("audits", "jobs", "mail_outbox", "moderation_outcomes", "escalation_resolutions")


class SubjectError(Exception):
    """The request cannot be carried out; the message says why and what to do."""


@dataclass(frozen=True)
class Subject:
    """Whom to look for: a MOSAIC ID, a name, or both (both must then match)."""

    mosaic: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        if not self.mosaic.strip() and not privacy.words(self.name):
            raise SubjectError("Give the child's MOSAIC ID (--mosaic) or name (--name).")

    def matches(self, child_name: str | None, mosaic_id: str | None) -> bool:
        """Return True when a record's child is this subject."""
        if self.mosaic.strip() and _mosaic(self.mosaic) != _mosaic(mosaic_id or ""):
            return False
        if privacy.words(self.name):
            wanted = {privacy.fold(w) for w in privacy.words(self.name)}
            held = {privacy.fold(w) for w in privacy.words(child_name or "")}
            return wanted <= held
        return True

    def matches_data(self, data: dict | None) -> bool:
        """Return True when a stored audit (``submission_to_dict``) is about this subject."""
        return bool(data) and self.matches(data.get("child_name"), data.get("child_mosaic_id"))


def _mosaic(text: str) -> str:
    return privacy.fold(text).strip().replace(" ", "")


@dataclass(frozen=True)
class Found:
    """One record holding the subject's data."""

    what: str  # pack, workbook, notes, marked copy, email copy, ledger rows, ledger copy
    where: str  # the file or folder, or the ledger table
    when: str  # when it was made (ISO date or date-time)
    audit_ref: str = ""
    detail: str = ""  # e.g. "Final v2", "sent to a@x, b@y", "3 rows"
    path: Path | None = None
    message_id: str = ""
    data: bytes | None = None  # what export writes when there is no file (an email, rows)


@dataclass
class Findings:
    """Everything found for one subject, and what could not be looked into."""

    subject: Subject
    found: list[Found] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)
    refs: set[str] = field(default_factory=set)  # normalised
    job_ids: set[str] = field(default_factory=set)
    message_ids: set[str] = field(default_factory=set)
    names: set[tuple[str, str]] = field(default_factory=set)  # (child name, MOSAIC ID) seen

    def add(self, item: Found) -> None:
        """Add ``item`` unless the same record is there already."""
        if all((f.what, f.where) != (item.what, item.where) for f in self.found):
            self.found.append(item)

    @property
    def files(self) -> list[Path]:
        """Return the files and folders found (not ledger rows)."""
        return [f.path for f in self.found if f.path is not None]


# --- find ------------------------------------------------------------------------------------


def find(subject: Subject, settings: Settings, rubric: Rubric, folders: Folders) -> Findings:
    """Return every record holding ``subject``'s data, oldest first."""
    out = Findings(subject)
    _find_packs(out, folders.outbox)
    _find_workbooks(out, folders.intake, rubric, settings)
    ledger = db.db_path(folders.state)
    if ledger.exists():
        conn = db.connect(ledger)
        try:
            _find_in_ledger(out, conn, folders)
        finally:
            conn.close()
    _find_ledger_copies(out, folders.state, ledger)
    out.found.sort(key=lambda f: (f.when, f.what, f.where))
    return out


def _find_packs(out: Findings, outbox: Path) -> None:
    found, _ = packs.packs_on_disk(outbox)
    for p in found:
        if out.subject.matches_data(p.audit):
            out.refs.add(normalise_ref(p.audit_ref))
            out.names.add((p.audit.get("child_name", ""), p.audit.get("child_mosaic_id", "")))
            out.add(
                Found(
                    "pack",
                    str(p.directory),
                    p.created_utc,
                    p.audit_ref,
                    f"{p.stage} v{p.version}",
                    p.directory,
                )
            )


def _find_workbooks(out: Findings, intake: Path, rubric: Rubric, settings: Settings) -> None:
    for name in INTAKE_FOLDERS:
        base = intake / name if name else intake
        if not base.is_dir():
            continue
        paths = base.glob("*.xlsx") if not name else base.rglob("*.xlsx")
        for path in sorted(paths):
            if path.name.startswith(("~$", ".")):
                continue
            try:
                sub = read_workbook(path, rubric, settings.validation)
            except UnreadableWorkbook:
                out.unreadable.append(path)
                continue
            except Exception:  # a hostile file: listed for a person to look at, never fatal
                out.unreadable.append(path)
                continue
            if not out.subject.matches(sub.child_name, sub.child_mosaic_id):
                continue
            ref = sub.audit_ref if rules.reference_is_safe(sub.audit_ref) else ""
            out.names.add((sub.child_name, sub.child_mosaic_id))
            where = name or "intake"
            marked = path.name.endswith(" - marked.xlsx")
            out.add(
                Found(
                    "marked copy" if marked else "workbook",
                    str(path),
                    _mtime(path),
                    ref,
                    f"in {where}/",
                    path,
                )
            )
            if marked:
                notes = path.with_name(path.name.removesuffix(" - marked.xlsx") + " - problems.txt")
                if notes.is_file():
                    out.add(Found("notes", str(notes), _mtime(notes), ref, f"in {where}/", notes))


def _mtime(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")


def _find_in_ledger(out: Findings, conn: sqlite3.Connection, folders: Folders) -> None:
    for row in audits.audit_rows(conn):
        data = json.loads(row["data"])
        if out.subject.matches_data(data):
            out.refs.add(normalise_ref(row["audit_ref"]))
            out.names.add((data.get("child_name", ""), data.get("child_mosaic_id", "")))
    files = {str(p) for p in out.files}
    for row in conn.execute("SELECT job_id, audit_ref, data, final_path, rejection FROM jobs"):
        data = json.loads(row["data"]) if row["data"] else None
        if (
            normalise_ref(row["audit_ref"] or "") in out.refs
            or out.subject.matches_data(data)
            or (row["final_path"] and row["final_path"] in files)
        ):
            out.job_ids.add(row["job_id"])
            for extra in _job_files(row):
                if extra.is_file() and str(extra) not in files:
                    out.add(
                        Found("notes", str(extra), _mtime(extra), row["audit_ref"] or "", "", extra)
                    )
    rows = _count(conn, out.refs, out.job_ids)
    _find_mail(out, conn, folders.outbox)
    if rows:
        out.add(
            Found(
                "ledger rows",
                str(db.db_path(folders.state)),
                clock.now_text(),
                ", ".join(sorted(out.refs)),
                f"{rows} rows (audits, jobs, decisions, moderation)",
                data=_ledger_rows_json(conn, out.refs, out.job_ids),
            )
        )


def _job_files(row: sqlite3.Row) -> list[Path]:
    found = []
    if row["rejection"]:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            for a in json.loads(row["rejection"]).get("attachments", []):
                found.append(Path(a["path"] if isinstance(a, dict) else a))
    if row["final_path"]:
        final = Path(row["final_path"])
        found.append(final)
        found.append(final.with_name(f"{row['job_id']} - error.txt"))
    return found


def _count(conn: sqlite3.Connection, refs: set[str], job_ids: set[str]) -> int:
    """Return how many ledger rows hold the subject's data (by reference or job)."""
    return _rows_for(conn, refs, job_ids) + sum(
        conn.execute(
            f"SELECT COUNT(*) FROM {t} WHERE upper(trim(audit_ref)) = ?", (ref,)
        ).fetchone()[0]
        for t in ("moderation_panels",)
        for ref in refs
    )


def _ledger_rows_json(conn: sqlite3.Connection, refs: set[str], job_ids: set[str]) -> bytes:
    """Return the subject's ledger rows as JSON (for export): audits, jobs, decisions, panel."""
    out: dict[str, list[dict]] = {}
    for table in ("audits", "jobs", "moderation_outcomes", "escalation_resolutions"):
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
        keep = [
            {k: r[k] for k in r.keys()}  # noqa: SIM118 - sqlite3.Row
            for r in rows
            if normalise_ref(r["audit_ref"] or "") in refs
            or (table == "jobs" and r["job_id"] in job_ids)
        ]
        for item in keep:
            for key in ("data", "pack", "rejection", "issue", "sections"):
                if isinstance(item.get(key), str):
                    with contextlib.suppress(ValueError):
                        item[key] = json.loads(item[key])
        out[table] = keep
    return json.dumps(out, indent=2, ensure_ascii=False, default=str).encode("utf-8")


def _find_mail(out: Findings, conn: sqlite3.Connection, outbox: Path) -> None:
    emls = {p.name: p for p in (outbox / "mail").glob("*/*.eml")} if outbox.is_dir() else {}
    for row in conn.execute(
        "SELECT message_id, job_id, audit_ref, recipients, subject, state, created_at, sent_at,"
        " message FROM mail_outbox"
    ):
        if (
            normalise_ref(row["audit_ref"] or "") not in out.refs
            and row["job_id"] not in out.job_ids
        ):
            continue
        out.message_ids.add(row["message_id"])
        to = ", ".join(json.loads(row["recipients"]))
        when = row["sent_at"] or row["created_at"]
        eml = emls.get(eml_name(row["message_id"]))
        detail = f"{row['state']}; to {to}"
        if eml is not None:
            out.add(
                Found(
                    "email copy", str(eml), when, row["audit_ref"], detail, eml, row["message_id"]
                )
            )
        if row["message"]:
            out.add(
                Found(
                    "email copy",
                    f"ledger mail_outbox {row['message_id']}",
                    when,
                    row["audit_ref"],
                    detail,
                    message_id=row["message_id"],
                    data=bytes(row["message"]),
                )
            )


def ledger_copies(state: Path, ledger: Path) -> list[Path]:
    """Return every copy of the ledger in the state folder: backups and replaced ledgers."""
    found = []
    for folder in (state, state / db.BACKUP_DIR):
        if folder.is_dir():
            found += [
                p
                for p in folder.iterdir()
                if p.is_file() and LEDGER_FILE.fullmatch(p.name) and p != ledger
            ]
    return sorted(found)


def _find_ledger_copies(out: Findings, state: Path, ledger: Path) -> None:
    for copy in ledger_copies(state, ledger):
        try:
            conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            out.unreadable.append(copy)
            continue
        try:
            conn.row_factory = sqlite3.Row
            refs, jobs = _matching_rows(conn, out.subject)
            refs |= out.refs
            n = _rows_for(conn, refs, jobs | out.job_ids)
        except sqlite3.Error:
            out.unreadable.append(copy)
            continue
        finally:
            conn.close()
        if n:
            out.refs |= {r for r in refs if r}
            out.add(
                Found(
                    "ledger copy",
                    str(copy),
                    _mtime(copy),
                    ", ".join(sorted(r for r in refs if r)),
                    f"{n} rows",
                    copy,
                )
            )


def _matching_rows(conn: sqlite3.Connection, subject: Subject) -> tuple[set[str], set[str]]:
    refs, jobs = set(), set()
    for row in conn.execute("SELECT audit_ref, data FROM audits"):
        if subject.matches_data(json.loads(row["data"])):
            refs.add(normalise_ref(row["audit_ref"]))
    for row in conn.execute("SELECT job_id, data FROM jobs WHERE data IS NOT NULL"):
        if subject.matches_data(json.loads(row["data"])):
            jobs.add(row["job_id"])
    return refs, jobs


def _rows_for(conn: sqlite3.Connection, refs: set[str], job_ids: set[str]) -> int:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    n = 0
    for table in _ROW_TABLES:
        if table not in tables:
            continue
        for row in conn.execute(f"SELECT audit_ref, {_job_column(table)} FROM {table}"):
            if normalise_ref(row[0] or "") in refs or (row[1] and row[1] in job_ids):
                n += 1
    return n


def _job_column(table: str) -> str:
    return "job_id" if table in ("audits", "jobs", "mail_outbox") else "NULL"


# --- export ----------------------------------------------------------------------------------


INDEX_COLUMNS = ("File", "What", "Audit reference", "Made", "Where it was", "Detail")


def export(findings: Findings, dest: Path) -> Path:
    """Copy every record found into ``dest`` (a new private folder) with ``index.csv``.

    A ledger copy is not copied whole (it holds other children): only the subject's rows are
    written, as JSON. Returns the index.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise SubjectError(f"{dest} is not empty. Give a new folder for the export.")
    make_private_dir(dest)
    os.chmod(dest, 0o700)
    lines = []
    for n, item in enumerate(findings.found, start=1):
        name = _export_one(item, dest, n)
        lines.append((name, item.what, item.audit_ref, item.when, item.where, item.detail))
    index = dest / "index.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    writer.writerows(lines)
    _write_private(index, ("\ufeff" + buffer.getvalue()).encode("utf-8"))
    return index


def _export_one(item: Found, dest: Path, n: int) -> str:
    prefix = f"{n:03d}"
    if item.what == "ledger copy" and item.path is not None:
        name = f"{prefix} ledger copy {item.path.name}.json"
        _write_private(dest / name, _copy_rows_json(item.path, item.audit_ref))
        return name
    if item.path is not None and item.path.is_dir():
        name = f"{prefix} {item.what} {item.path.parent.name} {item.path.name}"
        shutil.copytree(item.path, dest / name, copy_function=shutil.copyfile)
        _make_private(dest / name)
        return name
    if item.path is not None:
        name = f"{prefix} {item.path.name}"
        _write_private(dest / name, item.path.read_bytes())
        return name
    suffix = ".eml" if item.what == "email copy" else ".json"
    name = f"{prefix} {item.what}{suffix}"
    _write_private(dest / name, item.data or b"")
    return name


def _copy_rows_json(copy: Path, refs_text: str) -> bytes:
    refs = {r.strip() for r in refs_text.split(",") if r.strip()}
    conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        out = {}
        for table in _ROW_TABLES:
            if table in tables:
                out[table] = [
                    {k: (None if isinstance(r[k], bytes) else r[k]) for k in r.keys()}  # noqa: SIM118
                    for r in conn.execute(f"SELECT * FROM {table}")
                    if normalise_ref(r["audit_ref"] or "") in refs
                ]
    finally:
        conn.close()
    return json.dumps(out, indent=2, ensure_ascii=False, default=str).encode("utf-8")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _make_private(folder: Path) -> None:
    os.chmod(folder, 0o700)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(Path(root) / d, 0o700)
        for f in files:
            os.chmod(Path(root) / f, 0o600)


# --- erase -----------------------------------------------------------------------------------


def check_reason(reason: str, findings: Findings) -> str:
    """Return the reason for the erasure, refusing one that is empty or names the child."""
    text = " ".join(reason.split())
    if not text:
        raise SubjectError('Say why the records are erased, e.g. --reason "SAR 2031-044: erasure".')
    for name, mosaic in findings.names | {(findings.subject.name, findings.subject.mosaic)}:
        if privacy.Identity(name, mosaic).found_in(text):
            raise SubjectError(
                "The reason names the child or gives their MOSAIC ID. Write it without them "
                '(e.g. the request\'s reference: --reason "SAR 2031-044: erasure").'
            )
    return text


def open_audits(findings: Findings, conn: sqlite3.Connection, today: dt.date) -> dict[str, str]:
    """Return the subject's audits that are still open (reference -> why)."""
    return {r: why for r, why in retention.protected(conn, today).items() if r in findings.refs}


@dataclass(frozen=True)
class Erased:
    """What an erasure removed (counts and references only)."""

    erasure_id: str
    audit_refs: tuple[str, ...]
    files: int
    rows: int


def erase(findings: Findings, folders: Folders, *, reason: str, erased_by: str) -> Erased:
    """Remove every record found, leave each audit's anonymous tombstone, record the erasure.

    Files go first (a pack folder renamed aside, then deleted), then the ledger's rows in one
    transaction per audit, then the rows in every copy of the ledger. Run it again after a
    crash: what is left is found and removed.
    """
    reason = check_reason(reason, findings)
    files = 0
    for item in findings.found:
        if item.path is None or item.what == "ledger copy":
            continue
        if item.path.is_dir():
            files += packs.remove_pack(item.path, folders.locks)
        else:
            with contextlib.suppress(FileNotFoundError):
                item.path.unlink()
                files += 1
    ledger = db.db_path(folders.state)
    rows = 0
    conn = db.connect(ledger)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        for ref in sorted(findings.refs):
            summary = retention.summary_of(conn, ref)
            stage = "Final" if summary and summary.get("stage") == "Final" else "Draft"
            with db.transaction(conn):
                rows += store.remove_audit_detail(
                    conn, ref, stage=stage, summary=summary, cause=store.ERASURE
                )
        with db.transaction(conn):
            rows += store.remove_jobs(conn, findings.job_ids)
            for message_id in findings.message_ids:
                rows += store.remove_message(conn, message_id)
            erasure_id = uuid.uuid4().hex[:12]
            store.record_erasure(
                conn,
                erasure_id=erasure_id,
                erased_by=erased_by,
                reason=reason,
                audit_refs=findings.refs,
                files=files,
                rows=rows,
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for item in findings.found:
        if item.what == "ledger copy" and item.path is not None:
            rows += erase_in_copy(item.path, findings.refs, findings.job_ids, findings.message_ids)
            files += 1
    return Erased(erasure_id, tuple(sorted(findings.refs)), files, rows)


def erase_in_copy(copy: Path, refs: set[str], job_ids: set[str], message_ids: set[str]) -> int:
    """Remove the subject's rows from a copy of the ledger (a backup); return how many."""
    conn = sqlite3.connect(str(copy), timeout=30.0)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        n = 0
        with conn:
            for table in (*_ROW_TABLES, "moderation_panels"):
                if table not in tables:
                    continue
                for ref in refs:
                    n += conn.execute(
                        f"DELETE FROM {table} WHERE upper(trim(audit_ref)) = ?", (ref,)
                    ).rowcount
            for job_id in job_ids:
                n += conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount
                if "mail_outbox" in tables:
                    n += conn.execute(
                        "DELETE FROM mail_outbox WHERE job_id = ?", (job_id,)
                    ).rowcount
            for message_id in message_ids:
                if "mail_outbox" in tables:
                    n += conn.execute(
                        "DELETE FROM mail_outbox WHERE message_id = ?", (message_id,)
                    ).rowcount
        conn.execute("VACUUM")
    finally:
        conn.close()
    return n


def describe(findings: Findings) -> list[str]:
    """Return the findings as lines for the terminal (these name files, which may name the
    child: they are shown to the person who asked, never logged)."""
    lines = [
        f"{f.when[:16]:16}  {f.what:12}  {f.audit_ref or '-':16}  {f.where}"
        + (f"  ({f.detail})" if f.detail else "")
        for f in findings.found
    ]
    for path in findings.unreadable:
        lines.append(f"could not be read, look at it yourself: {path}")
    return lines
