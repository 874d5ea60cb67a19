"""Audit packs: the template context, docxtpl rendering and the pack folder on disk.

This is the only module that imports docxtpl. Templates live in ``templates/`` (packaged as
``cssw_docs/_templates``); ``RenderSettings.templates_dir`` overrides them file by file.
"""

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
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, Template, TemplateError

from . import __version__, pdf
from .config import RenderSettings
from .models import (
    RATING_FILLS,
    Action,
    Agreement,
    Consent,
    Pack,
    PackFile,
    Rating,
    Stage,
    Submission,
    submission_to_dict,
)
from .rubric import GRADES, Rubric

log = logging.getLogger(__name__)

# kind -> (template file, document name in the pack's file names)
DOCUMENTS: dict[str, tuple[str, str]] = {
    "report": ("audit_report.docx", "Audit report"),
    "plan": ("audit_plan.docx", "Audit plan"),
    "insert": ("supervision_insert.docx", "Supervision insert"),
    "storyboard": ("storyboard.docx", "Storyboard"),
}
CSV_NAME = "supervision_actions.csv"
CSV_COLUMNS = (
    "Audit reference",
    "Action",
    "Section",
    "Owner",
    "Due date (dd/mm/yyyy)",
    "Success measure",
)

# Each grade its own fill, at clearly different lightness so a greyscale print tells them apart
# (CIE L* about 32, 50, 74 and 90); dark fills get white text.
NOT_RATED_FILL = "FFFFFF"
_GAP_FILLS = {"Yes": "E2F0D9", "Not yet": "FFE08A", "Not recorded": "FFFFFF"}

_REFLECTIVE_QUESTIONS = (
    "What is getting in the way, and what would help?",
    "What would the child and family notice if this changed?",
    "What support do you need from your manager or the service?",
    "How will we both know that it has happened?",
)
MAX_PROMPTS = 5
_SAFE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RenderError(Exception):
    """A pack cannot be rendered; the message says what to do in plain words."""


# --- text and dates as the documents show them ---------------------------------------------


def rating_fill(rating: str | Rating | None) -> str:
    """Return the hex cell fill for a rating (white when there is none)."""
    return RATING_FILLS.get(str(rating), NOT_RATED_FILL) if rating else NOT_RATED_FILL


def is_dark(fill: str) -> bool:
    """Return True when text on ``fill`` should be white."""
    try:
        r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (0, 2, 4))
    except (ValueError, IndexError):
        return False

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) < 0.2


def line(text: str | None) -> str:
    """Return ``text`` as one clean line (names, short fields)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def paragraphs(text: str | None) -> str:
    r"""Return ``text`` with each typed line as its own Word paragraph (docxtpl's ``\a``)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    parts = [" ".join(p.split()) for p in text.split("\n")]
    return "\a".join(p for p in parts if p)


def long_date(value: dt.date | None) -> str:
    """Return a date as ``14 October 2026`` (empty when missing)."""
    return f"{value.day} {value:%B %Y}" if value else ""


def short_date(value: dt.date | None) -> str:
    """Return a date as ``14 Oct 2026`` for narrow table columns."""
    return f"{value.day} {value:%b %Y}" if value else "Not set"


# --- the context every template is rendered with ----------------------------------------------


def sorted_actions(actions: tuple[Action, ...]) -> list[Action]:
    """Return the actions by due date, undated ones last, keeping the workbook order on ties."""
    order = {id(a): i for i, a in enumerate(actions)}
    return sorted(actions, key=lambda a: (a.due is None, a.due or dt.date.min, order[id(a)]))


def storyboard_due(sub: Submission) -> bool:
    """Return True when the pack includes a storyboard (Final, Good or better, not refused)."""
    return (
        sub.audit_stage is Stage.FINAL
        and sub.overall_rating is not None
        and sub.overall_rating.good_or_better
        and sub.storyboard_consent is not False
    )


def status_lines(sub: Submission, moderation_selected: bool | None) -> list[str]:
    """Return the status lines shown at the top of the report."""
    lines = []
    if sub.practitioner_agreement is Agreement.DISAGREE:
        lines.append(
            "Referred to the Head of Quality Assurance: the practitioner disagrees with the "
            "audit, so the audit and plan are reviewed before a final decision."
        )
    if moderation_selected:
        lines.append("Selected for the moderation panel.")
    return lines


def _section_name(rubric: Rubric, text: str) -> str:
    key = rubric.section_key_for(text) if text else None
    return rubric.section_name(key) if key else line(text)


def _descriptor_groups(sub: Submission, rubric: Rubric, key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for mark in sub.descriptors:
        if mark.evidenced and rubric.section_key_for(mark.section) == key:
            groups.setdefault(line(mark.grade) or "Other", []).append(line(mark.descriptor))
    order = [g for g in GRADES if g in groups] + [g for g in groups if g not in GRADES]
    return [{"grade": g, "texts": groups[g]} for g in order]


def _sections(sub: Submission, rubric: Rubric) -> list[dict[str, Any]]:
    out = []
    for number, rs in enumerate(rubric.sections, start=1):
        s = sub.section(rs.key)
        groups = _descriptor_groups(sub, rubric, rs.key)
        summary = ", ".join(f"{len(g['texts'])} {g['grade']}" for g in groups)
        applicable = s.rating is not Rating.NOT_APPLICABLE
        out.append(
            {
                "number": number,
                "key": rs.key,
                "name": rs.name,
                "rating": s.rating.value if s.rating else "Not rated",
                "fill": rating_fill(s.rating),
                "applicable": applicable,
                "evidence": paragraphs(s.evidence),
                "strengths": paragraphs(s.strengths),
                "development": paragraphs(s.development),
                "descriptors": groups,
                "evidenced_summary": summary if applicable and summary else "None marked",
            }
        )
    return out


def _family(sub: Submission, rubric: Rubric) -> dict[str, Any]:
    questions = list(rubric.family_feedback_questions)
    by_question: dict[int, list[dict[str, str]]] = {}
    for r in sub.feedback:
        if not line(r.response):
            continue
        n = r.question if r.question and 1 <= r.question <= len(questions) else 0
        by_question.setdefault(n, []).append(
            {
                "respondent": line(r.respondent) or "Family member",
                "response": paragraphs(r.response),
            }
        )
    items = [
        {"number": i, "text": q, "responses": by_question.get(i, [])}
        for i, q in enumerate(questions, start=1)
    ]
    if 0 in by_question:
        items.append(
            {"number": len(questions) + 1, "text": "Other comments", "responses": by_question[0]}
        )
    consent = sub.family_consent
    reasons = {
        Consent.DECLINED: "The family declined to give feedback.",
        Consent.NOT_SOUGHT: "Feedback was not sought from the family.",
        Consent.YES: "The family agreed to give feedback, but none was recorded.",
        None: "The audit does not record whether the family's feedback was sought.",
    }
    has_feedback = consent is Consent.YES and bool(by_question)
    return {
        "consent": consent.value if consent else "Not recorded",
        "has_feedback": has_feedback,
        "none_reason": "" if has_feedback else reasons[consent],
        "questions": items if has_feedback else [],
    }


def _development_points(sub: Submission, rubric: Rubric) -> list[str]:
    points = [line(p) for p in paragraphs(sub.areas_for_development).split("\a") if line(p)]
    if not points:
        for rs in rubric.sections:
            dev = sub.section(rs.key).development
            points += [line(p) for p in paragraphs(dev).split("\a") if line(p)]
    seen: list[str] = []
    for p in points:
        p = p.lstrip("-•*· ").strip()
        if p and p not in seen:
            seen.append(p if p[-1] in ".?!" else p + ".")
    return seen[:MAX_PROMPTS]


def build_context(
    sub: Submission,
    rubric: Rubric,
    *,
    marking: str = "OFFICIAL-SENSITIVE",
    version: int = 1,
    moderation_selected: bool | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the variables every template is rendered with (no child name or MOSAIC ID).

    Multi-line text holds ``\\a`` between paragraphs, which docxtpl turns into new paragraphs.
    ``cssw-docs templates fields`` lists every key.
    """
    now = now or dt.datetime.now(dt.UTC)
    stage = sub.audit_stage or Stage.DRAFT
    overall = sub.overall_rating
    period = " to ".join(
        d for d in (long_date(sub.review_period_start), long_date(sub.review_period_end)) if d
    )
    minutes = f"{sub.discussion_minutes} minutes" if sub.discussion_minutes else ""
    discussion = ", ".join(
        p for p in (long_date(sub.discussion_date), line(sub.discussion_mode), minutes) if p
    )
    actions = [
        {
            "number": i,
            "action": paragraphs(a.action),
            "section": _section_name(rubric, a.section),
            "owner": line(a.owner),
            "due": short_date(a.due),
            "due_date": a.due.strftime("%d/%m/%Y") if a.due else "",
            "measure": paragraphs(a.measure),
        }
        for i, a in enumerate(sorted_actions(sub.actions), start=1)
    ]
    addressed = {True: "Yes", False: "Not yet", None: "Not recorded"}
    gaps = [
        {
            "area": line(g.area),
            "gap": paragraphs(g.gap),
            "raised_on": short_date(g.raised_on) if g.raised_on else "Not recorded",
            "addressed": addressed[g.addressed],
            "fill": _GAP_FILLS[addressed[g.addressed]],
        }
        for g in sub.gaps
    ]
    points = _development_points(sub, rubric)
    rating_word = overall.value if overall else "Not rated"
    return {
        "marking": line(marking),
        "audit_ref": line(sub.audit_ref),
        "stage": stage.value,
        "is_draft": stage is Stage.DRAFT,
        "version": version,
        "generated_on": long_date(now.date()),
        "referred": sub.practitioner_agreement is Agreement.DISAGREE,
        "moderation_selected": bool(moderation_selected),
        "status_lines": status_lines(sub, moderation_selected),
        "audit": {
            "type": line(sub.audit_type),
            "theme": line(sub.audit_theme),
            "date": long_date(sub.audit_date),
            "team": line(sub.team),
            "auditor_name": line(sub.auditor_name),
            "auditor_role": line(sub.auditor_role),
            "practitioner_name": line(sub.practitioner_name),
            "manager_name": line(sub.manager_name),
            "review_period": period,
            "discussion_date": long_date(sub.discussion_date),
            "discussion_mode": line(sub.discussion_mode),
            "discussion_minutes": sub.discussion_minutes or 0,
            "discussion": discussion,
            "observation_activity": paragraphs(sub.observation_activity),
            "observation_consent": (
                sub.observation_consent.value if sub.observation_consent else "Not recorded"
            ),
        },
        "overall": {
            "rating": rating_word,
            "fill": rating_fill(overall),
            "summary": paragraphs(sub.overall_summary),
            "good_practice": paragraphs(sub.good_practice),
            "areas_for_development": paragraphs(sub.areas_for_development),
        },
        "sections": _sections(sub, rubric),
        "gaps": gaps,
        "family": _family(sub, rubric),
        "practice_areas": [
            {"area": line(a.area), "notes": paragraphs(a.notes)}
            for a in sub.practice_areas
            if line(a.notes)
        ],
        "practitioner": {
            "agreement": sub.practitioner_agreement.value if sub.practitioner_agreement else "",
            "feedback": paragraphs(sub.practitioner_feedback),
            "plan_feedback": paragraphs(sub.practitioner_plan_feedback),
        },
        "actions": actions,
        "prompts": [
            {"point": p, "question": _REFLECTIVE_QUESTIONS[i % len(_REFLECTIVE_QUESTIONS)]}
            for i, p in enumerate(points)
        ],
        # Only what a storyboard may show: never the child's name or MOSAIC ID.
        "storyboard": {
            "title": line(sub.storyboard_title) or "Good practice in social work",
            "rating": rating_word,
            "team": line(sub.team),
            "practitioner": line(sub.practitioner_name),
            "auditor": line(sub.auditor_name),
            "month": f"{sub.audit_date:%B %Y}" if sub.audit_date else "",
            "context": paragraphs(sub.storyboard_context) or "Not provided.",
            "what_we_did": paragraphs(sub.storyboard_what_we_did) or "Not provided.",
            "impact": paragraphs(sub.storyboard_impact) or "Not provided.",
            "voice": paragraphs(sub.storyboard_voice) or "Not provided.",
            "learning": paragraphs(sub.storyboard_learning) or "Not provided.",
        },
    }


# --- templates ------------------------------------------------------------------------------


def packaged_templates_dir() -> Path:
    """Return the default templates: ``templates/`` in a source checkout, else the packaged copy."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout / "templates"
    packaged = Path(str(resources.files("cssw_docs").joinpath("_templates")))
    if packaged.is_dir():
        return packaged
    raise RenderError("The Word templates are missing from this installation. Reinstall cssw-docs.")


def template_path(kind: str, templates_dir: Path | None = None) -> Path:
    """Return the template for ``kind``: from ``templates_dir`` if it has one, else the default."""
    name = DOCUMENTS[kind][0]
    if templates_dir is not None:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise RenderError(
                f"The templates folder {folder} does not exist. Fix render.templates_dir in "
                "cssw-docs.toml (or --templates), or remove it to use the standard templates."
            )
        if (folder / name).is_file():
            return folder / name
        log.debug("%s has no %s; using the standard one", folder, name)
    return packaged_templates_dir() / name


class _CompileOnce(Environment):
    """A Jinja environment that compiles each template source once per process.

    docxtpl hands a document's whole XML to ``from_string`` on every render; compiling it is
    about a quarter of the time a pack takes, yet the source changes only when the template
    file does (an edited template is a new source, so it is compiled afresh).
    """

    max_compiled = 128  # body, headers, footers and properties of a few template sets

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[str, Template] = {}
        self._lock = threading.Lock()

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        """Return the compiled template for ``source``, compiling it only the first time."""
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        template = self._compiled.get(source)
        if template is None:
            template = super().from_string(source)
            with self._lock:
                if len(self._compiled) >= self.max_compiled:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[source] = template
        return template


_env: _CompileOnce | None = None


def jinja_env() -> Environment:
    """Return the Jinja environment templates render in: autoescaped, undefined is an error.

    One environment serves the whole process, so each template is compiled once however
    many packs it makes.
    """
    global _env
    if _env is None:
        _env = _CompileOnce(undefined=StrictUndefined, autoescape=True)
    return _env


def template_sources(template: Path) -> list[tuple[str, str]]:
    """Return ``(part, Jinja source)`` for the body, headers and footers, as docxtpl sees them."""
    tpl = DocxTemplate(str(template))
    doc = tpl.get_docx()
    parts = [("body", tpl.patch_xml(tpl.get_xml()))]
    for uri, label in ((tpl.HEADER_URI, "header"), (tpl.FOOTER_URI, "footer")):
        for _rel, part in tpl.get_headers_footers(uri):
            parts.append((label, tpl.patch_xml(tpl.get_part_xml(part))))
    del doc
    # docxtpl renders with a line break before each paragraph; keep line numbers the same.
    return [(label, re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)) for label, xml in parts]


@dataclass(frozen=True)
class Rendered:
    """One document written from a template: where, and which template version made it."""

    path: Path
    template: Path
    template_version: str
    template_sha256: str


def render_document(
    template: Path, context: dict[str, Any], out: Path, now: dt.datetime | None = None
) -> Rendered:
    """Return the document rendered from ``template`` with ``context`` and saved at ``out``."""
    try:
        tpl = DocxTemplate(str(template))
        tpl.get_docx()
    except Exception as exc:  # python-docx raises several kinds for a file that is not a .docx
        raise RenderError(
            f"The template {template} cannot be opened as a Word document ({exc})."
        ) from exc
    try:
        tpl.render(context, jinja_env=jinja_env(), autoescape=True)
    except Exception as exc:  # a template author's mistake surfaces as many exception types
        detail = exc.message if isinstance(exc, TemplateError) and exc.message else str(exc)
        raise RenderError(
            f"The template {template.name} in {template.parent} has a problem ({detail}). "
            f"Run `cssw-docs templates check {template.parent}` for details."
        ) from exc
    document = tpl.docx
    _white_text_on_dark_cells(document)
    props = document.core_properties
    version = props.version or ""
    stamp = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
    props.created = props.modified = stamp
    props.last_modified_by = "cssw-docs"
    props.revision = 1
    tpl.save(str(out))
    return Rendered(out, template, version, _sha256(template.read_bytes()))


def _white_text_on_dark_cells(document: Any) -> None:
    """Make the text white in every table cell whose fill is dark (rating cells, headings)."""
    body = document.element.body
    for tc in body.iter(qn("w:tc")):
        shd = tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
        if shd is None or not is_dark(shd.get(qn("w:fill"), "")):
            continue
        for r in tc.iter(qn("w:r")):
            rpr = r.find(qn("w:rPr"))
            if rpr is None:
                rpr = r.makeelement(qn("w:rPr"), {})
                r.insert(0, rpr)
            colour = rpr.find(qn("w:color"))
            if colour is None:
                colour = rpr.makeelement(qn("w:color"), {})
                rpr.append(colour)
            colour.attrib.clear()
            colour.set(qn("w:val"), "FFFFFF")


# --- the pack folder ----------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_entry(path: Path, kind: str) -> PackFile:
    data = path.read_bytes()
    return PackFile(name=path.name, kind=kind, sha256=_sha256(data), size=len(data))


def _csv_cell(text: str) -> str:
    """Return ``text`` safe to open in Excel (no formula injection)."""
    text = text.replace("\a", "\n")
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and text[1:2] != " "):
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
                _csv_cell(a["action"]),
                _csv_cell(a["section"]),
                _csv_cell(a["owner"]),
                a["due_date"],
                _csv_cell(a["measure"]),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def document_kinds(sub: Submission) -> list[str]:
    """Return the kinds of document the pack for ``sub`` holds, in pack order."""
    if sub.audit_stage is not Stage.FINAL:
        return ["report", "plan"]
    return ["report", "plan", "insert"] + (["storyboard"] if storyboard_due(sub) else [])


def _folder_version(name: str, stage: Stage) -> int | None:
    m = re.fullmatch(rf"{stage.value.lower()}-v(\d+)", name)
    return int(m.group(1)) if m else None


def _choose_version(ref_dir: Path, stage: Stage, source_sha256: str) -> int:
    """Return the version whose pack came from the same workbook, else the next free one."""
    found: dict[int, Path] = {}
    for child in ref_dir.iterdir() if ref_dir.is_dir() else ():
        n = _folder_version(child.name, stage)
        if n is not None and child.is_dir():
            found[n] = child
    for n in sorted(found):
        manifest = found[n] / "manifest.json"
        try:
            data = json.loads(manifest.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if source_sha256 and data.get("source_sha256") == source_sha256:
            return n
    return max(found, default=0) + 1


@contextlib.contextmanager
def _ref_lock(ref_dir: Path) -> Iterator[bool]:
    """Hold an exclusive lock on one audit's folder (where the platform allows it)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; renders of one audit are rare enough
        yield False
        return
    with (ref_dir / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def render_pack(
    sub: Submission,
    rubric: Rubric,
    outbox: Path,
    *,
    settings: RenderSettings,
    source_sha256: str,
    moderation_selected: bool | None = None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Pack:
    """Return the pack for ``sub`` written under ``outbox/<audit_ref>/<stage>-v<N>/``.

    With ``version`` None, a pack already made from the same workbook (same SHA-256) is
    replaced; otherwise the next free version is used. The folder is built under a temporary
    name and renamed into place, so a crash never leaves a half-written pack that looks done.
    """
    now = _utc(now)
    ref = line(sub.audit_ref)
    if not _SAFE_REF.fullmatch(ref):
        raise RenderError(
            f"The audit reference {ref!r} cannot be used as a folder name: use letters, digits "
            "and dashes only, e.g. CSSW-2026-0142."
        )
    stage = sub.audit_stage or Stage.DRAFT
    ref_dir = Path(outbox) / ref
    try:
        ref_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"Cannot create the pack folder {ref_dir}: {exc.strerror}.") from exc
    with _ref_lock(ref_dir) as locked:
        if locked:
            _remove_leftovers(ref_dir)
        n = version or _choose_version(ref_dir, stage, source_sha256)
        final = ref_dir / f"{stage.value.lower()}-v{n}"
        tmp = ref_dir / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            files = _write_pack(
                tmp, sub, rubric, settings, source_sha256, stage, n, moderation_selected, now
            )
            _move_into_place(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("Wrote the %s pack for %s (version %d) to %s", stage.value, ref, n, final)
    return Pack(audit_ref=ref, stage=stage, version=n, directory=final, files=tuple(files))


def _write_pack(
    folder: Path,
    sub: Submission,
    rubric: Rubric,
    settings: RenderSettings,
    source_sha256: str,
    stage: Stage,
    n: int,
    moderation_selected: bool | None,
    now: dt.datetime,
) -> list[PackFile]:
    ref = line(sub.audit_ref)
    context = build_context(
        sub,
        rubric,
        marking=settings.marking,
        version=n,
        moderation_selected=moderation_selected,
        now=now,
    )
    files: list[PackFile] = []
    rendered: dict[str, Rendered] = {}
    for kind in document_kinds(sub):
        template = template_path(kind, settings.templates_dir)
        out = folder / f"{ref} {DOCUMENTS[kind][1]}.docx"
        rendered[kind] = render_document(template, context, out, now)
        files.append(_file_entry(out, kind))
        if kind == "insert":
            csv_path = folder / CSV_NAME
            csv_path.write_bytes(actions_csv(context))
            files.append(_file_entry(csv_path, "csv"))
    files += _pdfs(folder, rendered, settings)

    audit = submission_to_dict(sub) | {
        "stage": stage.value,
        "version": n,
        "moderation_selected": moderation_selected,
        "referred": context["referred"],
        "rendered_at": now.isoformat().replace("+00:00", "Z"),
    }
    audit_path = folder / "audit.json"
    audit_path.write_text(json.dumps(audit, indent=2, ensure_ascii=False) + "\n", "utf-8")
    manifest = {
        "audit_ref": ref,
        "stage": stage.value,
        "version": n,
        "created_utc": now.isoformat().replace("+00:00", "Z"),
        "source_sha256": source_sha256,
        "rubric_version": rubric.version,
        "workbook_template_version": sub.template_version,
        "renderer": f"cssw-docs {__version__}",
        "templates": {
            kind: {
                "file": r.template.name,
                "version": r.template_version,
                "sha256": r.template_sha256,
            }
            for kind, r in rendered.items()
        },
        "moderation_selected": moderation_selected,
        "referred": context["referred"],
        "files": [
            {"name": f.name, "kind": f.kind, "sha256": f.sha256, "size": f.size}
            for f in [*files, _file_entry(audit_path, "audit")]
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return files


def _pdfs(folder: Path, rendered: dict[str, Rendered], settings: RenderSettings) -> list[PackFile]:
    """Return the PDF copies made (all documents, or just the storyboard), in one soffice run."""
    if settings.pdf:
        wanted = list(rendered)
    elif settings.storyboard_pdf and "storyboard" in rendered:
        wanted = ["storyboard"]
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
    return [_file_entry(path, f"pdf-{kind}") for kind, path in zip(wanted, made, strict=True)]
