"""The pack folder on disk: version, lock, temporary folder renamed into place, CSV, manifest."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__, clock
from ..config import RenderSettings
from ..folders import holding, listing, outbox_lock
from ..models import (
    Decision,
    DocKind,
    FileFormat,
    Pack,
    PackFile,
    Stage,
    Submission,
    submission_to_dict,
)
from ..rubric import Rubric
from ..rules import REFERENCE_HELP, reference_is_safe, shared_outside, storyboard_due
from ..workbook.literal import looks_like_formula
from . import pdf
from .context import build_context, for_document, line
from .docx import DOCUMENTS, Rendered, RenderError, render_document, template_path

log = logging.getLogger(__name__)

CSV_NAME = "supervision_actions.csv"
CSV_COLUMNS = (
    "Audit reference",
    "MOSAIC ID",
    "Action",
    "Section",
    "Owner",
    "Due date (dd/mm/yyyy)",
    "Success measure",
    # Filled by the manager and returned to the intake folder (year/actions.py reads them).
    "Action number",
    "Status (Open, Done, Dropped)",
    "Completed on (dd/mm/yyyy)",
    "Note",
)
AUDIT_JSON_NAME = "audit.json"
MANIFEST_NAME = "manifest.json"


def document_kinds(
    sub: Submission, *, awaiting_decision: bool = False, storyboard_only: bool = False
) -> list[DocKind]:
    """Return the kinds of Word document the pack for ``sub`` holds, in pack order.

    A pack awaiting the Head of QA's decision holds the report and the proposed plan only (no
    supervision insert, CSV or storyboard: nothing is final); a storyboard that follows a
    Final pack in a revised workbook is issued on its own.
    """
    if storyboard_only:
        return [DocKind.STORYBOARD] if storyboard_due(sub) else []
    if sub.audit_stage is not Stage.FINAL or awaiting_decision:
        return [DocKind.REPORT, DocKind.PLAN]
    kinds = [DocKind.REPORT, DocKind.PLAN, DocKind.SUPERVISION_INSERT]
    return kinds + ([DocKind.STORYBOARD] if storyboard_due(sub) else [])


def decision_to_dict(decision: Decision | None) -> dict[str, str] | None:
    """Return the Head of QA's decision as audit.json and the manifest record it."""
    if decision is None:
        return None
    return {
        "outcome": decision.outcome.value,
        "note": decision.note,
        "decided_on": decision.decided_on.isoformat(),
        "decided_by": decision.decided_by,
    }


def _issue(
    awaiting_decision: bool, decision: Decision | None, storyboard_only: bool
) -> dict[str, Any]:
    """Return what a pack issues beyond its stage (recorded in audit.json and the manifest)."""
    return {
        "awaiting_decision": awaiting_decision,
        "decision": decision_to_dict(decision),
        "storyboard_only": storyboard_only,
    }


# --- the supervision actions CSV --------------------------------------------------------------


def _csv_cell(text: str) -> str:
    """Return ``text`` safe to open in Excel (no formula injection)."""
    text = text.replace("\a", "\n")
    if looks_like_formula(text) and not text.startswith("- "):  # "- a point" stays as typed
        return "'" + text
    return text


def actions_csv(context: dict[str, Any]) -> bytes:
    """Return the supervision actions as CSV bytes (UTF-8 with BOM, so Excel reads it cleanly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for a in context["actions"]:
        writer.writerow(
            [
                _csv_cell(context["audit_ref"]),
                _csv_cell(context["child"]["mosaic_id"]),
                _csv_cell(a["action"]),
                _csv_cell(a["section"]),
                _csv_cell(a["owner"]),
                a["due_date"],
                _csv_cell(a["measure"]),
                a.get("number", ""),
                "Open",
                "",
                "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- versions, the lock and the rename ----------------------------------------------------------


# A pack folder's name: <stage>-v<version> ("final-v2").
_FOLDER_NAMES = {stage: re.compile(rf"{stage.value.lower()}-v(\d+)") for stage in Stage}


def _folder_version(name: str, stage: Stage) -> int | None:
    m = _FOLDER_NAMES[stage].fullmatch(name)
    return int(m.group(1)) if m else None


def _versions(ref_dir: Path, stage: Stage) -> dict[int, Path]:
    """Return the pack folders of ``stage`` already made for one audit, by version."""
    found: dict[int, Path] = {}
    for child in ref_dir.iterdir() if ref_dir.is_dir() else ():
        n = _folder_version(child.name, stage)
        if n is not None and child.is_dir():
            found[n] = child
    return found


def _superseded(ref_dir: Path, stage: Stage, n: int) -> tuple[int, dt.date | None] | None:
    """Return (version, issue date) of the latest earlier pack of ``stage``, or None."""
    earlier = [v for v in _versions(ref_dir, stage) if v < n]
    if not earlier:
        return None
    old = max(earlier)
    try:
        data = json.loads((ref_dir / f"{stage.value.lower()}-v{old}" / MANIFEST_NAME).read_text())
        issued = dt.datetime.fromisoformat(data["created_utc"].replace("Z", "+00:00")).date()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        issued = None
    return old, issued


def _choose_version(
    ref_dir: Path, stage: Stage, source_sha256: str, issue: dict[str, Any] | None = None
) -> int:
    """Return the version whose pack came from the same workbook, else the next free one.

    ``issue`` must match too: the Head of QA's decision on a workbook, or a storyboard issued
    on its own, is a new version of a pack made from the same bytes.
    """
    issue = issue or _issue(False, None, False)
    found = _versions(ref_dir, stage)
    for n in sorted(found):
        manifest = found[n] / MANIFEST_NAME
        try:
            data = json.loads(manifest.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        plain = _issue(False, None, False)  # what a manifest without these keys means
        same_issue = all(data.get(key, plain[key]) == value for key, value in issue.items())
        if source_sha256 and data.get("source_sha256") == source_sha256 and same_issue:
            return n
    return max(found, default=0) + 1


LEGACY_LOCK = ".lock"  # where releases before 0.2 kept the lock: in the audit's folder


@contextlib.contextmanager
def _ref_lock(ref_dir: Path, lock_dir: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on one audit's folder while its pack is written.

    The lock file is kept out of the outbox (:func:`folders.outbox_lock`); one an older
    release left in the audit's folder is removed.
    """
    with holding(outbox_lock(ref_dir, lock_dir)):
        with contextlib.suppress(OSError):
            (ref_dir / LEGACY_LOCK).unlink(missing_ok=True)
        yield


def _remove_leftovers(ref_dir: Path) -> None:
    """Delete half-written folders a crashed render left behind (only called under the lock)."""
    for child in ref_dir.iterdir():
        if child.is_dir() and child.name.startswith((".tmp-", ".old-")):
            shutil.rmtree(child, ignore_errors=True)


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished ``tmp`` folder to ``final``, replacing an older one safely."""
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)


def remove_pack(
    folder: Path, lock_dir: Path | None, halfway: Callable[[], None] | None = None
) -> bool:
    """Remove a finished pack folder (retention, erasure); return False when it was not there.

    Under the audit's lock the folder is first renamed to a hidden ``.old-`` name (so it never
    looks like a pack again), then deleted; a crash in between leaves only that hidden folder,
    which the next render or removal in that audit deletes. ``halfway`` runs between the two
    (tests stop the process there). ``lock_dir``: where the audit's lock is kept, as for a
    render. The audit's folder goes too once nothing is left in it.
    """
    folder = Path(folder)
    ref_dir = folder.parent
    if not ref_dir.is_dir():
        return False
    with _ref_lock(ref_dir, lock_dir):
        _remove_leftovers(ref_dir)
        if not folder.is_dir():
            return False
        old = ref_dir / f".old-{folder.name}-{uuid.uuid4().hex[:8]}"
        os.rename(folder, old)
        if halfway is not None:
            halfway()
        shutil.rmtree(old)
    _drop_if_empty(ref_dir)
    return True


def remove_leftovers(ref_dir: Path, lock_dir: Path | None) -> None:
    """Delete what a crashed render or removal left in one audit's folder (under its lock),
    and the folder itself when nothing else is left in it."""
    if Path(ref_dir).is_dir():
        with _ref_lock(Path(ref_dir), lock_dir):
            _remove_leftovers(Path(ref_dir))
        _drop_if_empty(Path(ref_dir))


def _drop_if_empty(ref_dir: Path) -> None:
    """Remove an audit's folder that holds nothing but its lock file."""
    with contextlib.suppress(OSError):
        if [p.name for p in ref_dir.iterdir()] == [".lock"]:
            (ref_dir / ".lock").unlink()
            ref_dir.rmdir()


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or clock.now()
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def _stamp(now: dt.datetime) -> str:
    return now.isoformat().replace("+00:00", "Z")


# --- the pack --------------------------------------------------------------------------------


def render_pack(
    sub: Submission,
    rubric: Rubric,
    outbox: Path,
    *,
    settings: RenderSettings,
    source_sha256: str,
    moderation_selected: bool | None = None,
    awaiting_decision: bool = False,
    decision: Decision | None = None,
    storyboard_only: bool = False,
    version: int | None = None,
    now: dt.datetime | None = None,
    lock_dir: Path | None = None,
) -> Pack:
    """Return the pack for ``sub`` written under ``outbox/<audit_ref>/<stage>-v<N>/``.

    With ``version`` None, a pack already made from the same workbook (same SHA-256) for the
    same issue is replaced; otherwise the next free version is used. The folder is built under
    a temporary name and renamed into place, so a crash never leaves a half-written pack that
    looks done. ``awaiting_decision`` marks a disputed Final audit the Head of QA has not yet
    decided (report and plan only); ``decision`` is that decision, shown in the final pack;
    ``storyboard_only`` issues a storyboard that follows its Final pack on its own.
    ``lock_dir`` holds the lock taken while the audit's folder is written (the service's
    ``<state>/locks``), so nothing but packs is left in the outbox.
    """
    issue = _issue(awaiting_decision, decision, storyboard_only)
    now = _utc(now)
    ref = line(sub.audit_ref)
    if not reference_is_safe(ref):
        raise RenderError(f"The audit reference cannot be used as a folder name. {REFERENCE_HELP}")
    stage = sub.audit_stage or Stage.DRAFT
    ref_dir = Path(outbox) / ref
    try:
        ref_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"Cannot create the pack folder {ref_dir}: {exc.strerror}.") from exc
    with _ref_lock(ref_dir, lock_dir):
        _remove_leftovers(ref_dir)
        n = version or _choose_version(ref_dir, stage, source_sha256, issue)
        supersedes = _superseded(ref_dir, stage, n)
        final = ref_dir / f"{stage.value.lower()}-v{n}"
        tmp = ref_dir / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            context = build_context(
                sub,
                rubric,
                marking=settings.marking,
                version=n,
                moderation_selected=moderation_selected,
                awaiting_decision=awaiting_decision,
                decision=decision,
                now=now,
                name_child=settings.name_child,
                supersedes=supersedes,
            )
            files = _write_pack(
                tmp,
                sub,
                rubric,
                settings,
                source_sha256,
                context,
                moderation_selected,
                now,
                issue=issue,
                awaiting_decision=awaiting_decision,
                storyboard_only=storyboard_only,
            )
            _move_into_place(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("Wrote the %s pack for %s (version %d) to %s", stage.value, ref, n, final)
    return Pack(audit_ref=ref, stage=stage, version=n, directory=final, files=tuple(files))


def _file_entry(path: Path, kind: DocKind, fmt: FileFormat) -> PackFile:
    data = path.read_bytes()
    return PackFile(
        name=path.name,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        format=fmt,
    )


def _write_pack(
    folder: Path,
    sub: Submission,
    rubric: Rubric,
    settings: RenderSettings,
    source_sha256: str,
    context: dict[str, Any],
    moderation_selected: bool | None,
    now: dt.datetime,
    *,
    issue: dict[str, Any],
    awaiting_decision: bool = False,
    storyboard_only: bool = False,
) -> list[PackFile]:
    """Write every file of the pack into ``folder``; return them (audit.json aside)."""
    ref = line(sub.audit_ref)
    stage, n = Stage(context["stage"]), context["version"]
    files: list[PackFile] = []
    rendered: dict[DocKind, Rendered] = {}
    kinds = document_kinds(
        sub, awaiting_decision=awaiting_decision, storyboard_only=storyboard_only
    )
    for kind in kinds:
        out = folder / f"{ref} {DOCUMENTS[kind][1]}.docx"
        rendered[kind] = render_document(
            template_path(kind, settings.templates_dir), for_document(kind, context), out, now
        )
        files.append(_file_entry(out, kind, FileFormat.DOCX))
        if kind is DocKind.SUPERVISION_INSERT:
            csv_path = folder / CSV_NAME
            csv_path.write_bytes(actions_csv(context))
            files.append(_file_entry(csv_path, DocKind.ACTIONS_CSV, FileFormat.CSV))
    files += _pdfs(folder, rendered, settings)

    audit = submission_to_dict(sub) | {
        "stage": stage.value,
        "version": n,
        "supersedes_version": (context["supersedes"] or {}).get("version"),
        "moderation_selected": moderation_selected,
        "referred": context["referred"],
        **issue,
        "storyboard_shared_outside": shared_outside(sub) and DocKind.STORYBOARD in kinds,
        "rendered_at": _stamp(now),
    }
    audit_path = folder / AUDIT_JSON_NAME
    audit_path.write_text(json.dumps(audit, indent=2, ensure_ascii=False) + "\n", "utf-8")
    listed = [*files, _file_entry(audit_path, DocKind.AUDIT_JSON, FileFormat.JSON)]
    manifest = {
        "audit_ref": ref,
        "stage": stage.value,
        "version": n,
        "supersedes_version": (context["supersedes"] or {}).get("version"),
        "created_utc": _stamp(now),
        "source_sha256": source_sha256,
        "rubric_version": rubric.version,
        "workbook_template_version": sub.template_version,
        "renderer": f"cssw-docs {__version__}",
        "templates": {
            kind.value: {
                "file": r.template.name,
                "version": r.template_version,
                "sha256": r.template_sha256,
            }
            for kind, r in rendered.items()
        },
        "moderation_selected": moderation_selected,
        "referred": context["referred"],
        **issue,
        "storyboard_shared_outside": audit["storyboard_shared_outside"],
        "files": [
            {
                "name": f.name,
                "kind": f.kind.value,
                "format": f.format.value,
                "sha256": f.sha256,
                "size": f.size,
            }
            for f in listed
        ],
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return files


def _pdfs(
    folder: Path, rendered: dict[DocKind, Rendered], settings: RenderSettings
) -> list[PackFile]:
    """Return the PDF copies made (all documents, or just the storyboard), in one soffice run."""
    if settings.pdf:
        wanted = list(rendered)
    elif settings.storyboard_pdf and DocKind.STORYBOARD in rendered:
        wanted = [DocKind.STORYBOARD]
    else:
        return []
    if pdf.soffice_path() is None:
        log.warning(
            "PDF copies were skipped because LibreOffice is not installed. %s", pdf.INSTALL_HINT
        )
        return []
    try:
        made = pdf.convert([rendered[k].path for k in wanted], folder)
    except pdf.PdfError as exc:
        if settings.pdf:
            raise RenderError(f"{exc} The Word documents were not published; try again.") from exc
        log.warning("The storyboard PDF was skipped: %s", exc)
        return []
    return [
        _file_entry(path, kind, FileFormat.PDF) for kind, path in zip(wanted, made, strict=True)
    ]


# --- packs already on disk (rebuilding the ledger) ---------------------------------------------


@dataclass(frozen=True)
class PackOnDisk:
    """A finished pack folder as its manifest.json and audit.json describe it."""

    directory: Path
    audit_ref: str
    stage: str
    version: int
    source_sha256: str
    created_utc: str
    audit: dict[str, Any]  # audit.json: the submission and what rendering added


def _pack_folders(outbox: Path) -> Iterator[Path]:
    """Yield each ``<outbox>/<reference>/<stage>-v<n>`` folder holding a manifest.json."""
    for ref_dir in _subfolders(os.fspath(outbox)):
        for entry in _subfolders(ref_dir.path):
            stages = (_folder_version(entry.name, stage) for stage in Stage)
            manifest = os.path.join(entry.path, MANIFEST_NAME)
            if any(n is not None for n in stages) and os.path.exists(manifest):
                yield Path(entry.path)


def _subfolders(folder: str) -> list[os.DirEntry[str]]:
    """Return the folders in ``folder`` (none when it cannot be read)."""
    try:
        return [e for e in listing(folder) if e.is_dir()]
    except OSError:
        return []


def has_packs(outbox: Path) -> bool:
    """Return True when ``outbox`` holds at least one finished pack (a manifest.json)."""
    return next(_pack_folders(outbox), None) is not None


def manifests(outbox: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Yield (folder, manifest) for every finished pack in ``outbox`` (quicker than
    :func:`packs_on_disk`: audit.json is not read); unreadable manifests are left out."""
    for folder in _pack_folders(outbox):
        try:
            yield folder, json.loads((folder / MANIFEST_NAME).read_text("utf-8"))
        except (OSError, ValueError):
            continue


def packs_on_disk(outbox: Path) -> tuple[list[PackOnDisk], list[Path]]:
    """Return the finished packs in ``outbox`` (oldest first) and the folders not readable."""
    found: list[PackOnDisk] = []
    unreadable: list[Path] = []
    for folder in sorted(_pack_folders(outbox)):
        try:
            manifest = json.loads((folder / MANIFEST_NAME).read_text("utf-8"))
            audit = json.loads((folder / AUDIT_JSON_NAME).read_text("utf-8"))
            found.append(
                PackOnDisk(
                    directory=folder,
                    audit_ref=str(manifest["audit_ref"]),
                    stage=str(manifest["stage"]),
                    version=int(manifest["version"]),
                    source_sha256=str(manifest.get("source_sha256") or ""),
                    created_utc=str(manifest.get("created_utc") or ""),
                    audit=audit,
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(folder)
    found.sort(key=lambda p: p.created_utc)
    return found, unreadable
