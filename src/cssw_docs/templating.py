"""Tools for template authors: the field reference, the template check and previews."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from lxml import etree

from . import examples, render
from .models import (
    Agreement,
    Decision,
    DocKind,
    NoObservation,
    ReferralOutcome,
    StoryboardStatus,
    Submission,
)
from .render import pdf
from .rubric import Rubric

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# What each variable means, for `cssw-docs templates fields` and the template author's guide.
# A test checks this matches the context builder exactly, so the reference cannot drift.
FIELD_HELP: dict[str, str] = {
    "marking": "Protective marking for headers and footers (render.marking).",
    "audit_ref": "The audit reference.",
    "child": "The child the case documents are about (empty in the storyboard).",
    "child.name": "The child's name (empty with render.name_child = false, and in the storyboard).",
    "child.mosaic_id": "The child's MOSAIC ID (empty in the storyboard).",
    "child.heading": "Name and MOSAIC ID in one line (the ID alone when the name is off).",
    "stage": "Draft or Final.",
    "is_draft": "True at Draft: show DRAFT and the draft banner.",
    "version": "The pack's version number for this stage (1, 2 ...).",
    "generated_on": "The date the pack was made: its issue date.",
    "supersedes": "The pack this one replaces (empty for a first version).",
    "supersedes.version": "Its version number.",
    "supersedes.issued_on": "Its issue date (empty if unknown).",
    "version_line": "Stage, version, issue date and what it supersedes, in one sentence.",
    "awaiting_decision": "True while a disputed Final audit waits for the Head of QA's decision.",
    "decision": "The Head of Quality Assurance's decision (empty until made).",
    "decision.outcome": "Upheld, Amended or Replaced, with what that means.",
    "decision.meaning": "What the outcome means, as a sentence.",
    "decision.note": "The Head of QA's note (paragraphs kept).",
    "decision.decided_on": "The date of the decision, e.g. 2 December 2026.",
    "decision.decided_by": "Who decided (the Head of Quality Assurance when not named).",
    "referred": "True when the practitioner disagrees (referred to the Head of QA).",
    "moderation_selected": "True when the audit was selected for the moderation panel.",
    "status_lines": "Status sentences for the top of the report (referral, moderation).",
    "status_lines[]": "One status sentence.",
    "audit": "The audit's details.",
    "audit.type": "Type of audit (Thematic, Practice Week ...).",
    "audit.theme": "The theme (may be empty).",
    "audit.date": "Date of the audit, e.g. 14 October 2026.",
    "audit.team": "The team holding the case.",
    "audit.auditor_name": "The auditor.",
    "audit.auditor_role": "The auditor's role.",
    "audit.practitioner_name": "The allocated practitioner.",
    "audit.manager_name": "The practitioner's line manager.",
    "audit.review_period": "The period the case files were reviewed over.",
    "audit.discussion_date": "Date of the reflective case discussion.",
    "audit.discussion_mode": "Face to face or MS Teams.",
    "audit.discussion_minutes": "Length of the discussion in minutes (0 when not given).",
    "audit.discussion": "Date, mode and length of the discussion in one line.",
    "audit.observation_activity": "The practice observed (Practice Week; may be empty).",
    "audit.observation_consent": "Whether the family agreed to the observation.",
    "audit.observation_none": "Why no practice was observed, with the reason (Practice Week).",
    "overall": "The overall judgement.",
    "overall.rating": "Overall rating (Outstanding, Good, Requires improvement, Inadequate).",
    "overall.fill": "Cell colour for the overall rating: use {% cellbg overall.fill %}.",
    "overall.summary": "Overall summary (paragraphs kept).",
    "overall.good_practice": "Good practice (paragraphs kept).",
    "overall.areas_for_development": "Areas for development (paragraphs kept).",
    "sections": "The practice sections, in rubric order.",
    "sections[].number": "1 to 6.",
    "sections[].key": "The section's key, e.g. basic_information.",
    "sections[].name": "The section's name, e.g. Basic information.",
    "sections[].rating": "The section's rating, or Not applicable / Not rated.",
    "sections[].fill": "Cell colour for the rating: use {% cellbg s.fill %}.",
    "sections[].applicable": "False when the section was rated Not applicable.",
    "sections[].evidence": "The evidence (paragraphs kept).",
    "sections[].strengths": "Strengths (paragraphs kept).",
    "sections[].development": "Areas for development (paragraphs kept).",
    "sections[].descriptors": "Descriptors the auditor marked evidenced, grouped by grade.",
    "sections[].descriptors[].grade": "Good, Requires improvement or Inadequate.",
    "sections[].descriptors[].texts": "The descriptors of that grade.",
    "sections[].descriptors[].texts[]": "One descriptor.",
    "sections[].evidenced_summary": "Counts of evidenced descriptors, e.g. 4 Good.",
    "gaps": "Compliance gaps raised before finalising.",
    "gaps[].area": "Area of the gap (supervision, visits ...).",
    "gaps[].gap": "What the gap is.",
    "gaps[].raised_on": "When it was raised.",
    "gaps[].addressed": "Yes, Not yet or Not recorded.",
    "gaps[].fill": "Cell colour for addressed: use {% cellbg g.fill %}.",
    "family": "The family's feedback.",
    "family.consent": "Yes, Declined, Not sought or Not recorded.",
    "family.has_feedback": "True when there are answers to show.",
    "family.none_reason": "Why there is no feedback (empty when there is).",
    "family.questions": "The standard family questions with the answers (empty when none).",
    "family.questions[].number": "Question number.",
    "family.questions[].text": "The question, from the rubric.",
    "family.questions[].responses": "Answers to this question.",
    "family.questions[].responses[].respondent": "Who answered (Mother, Child (aged 9) ...).",
    "family.questions[].responses[].response": "The answer (paragraphs kept).",
    "practice_areas": "Core areas of practice the auditor wrote notes on.",
    "practice_areas[].area": "The area of practice.",
    "practice_areas[].notes": "The auditor's notes (paragraphs kept).",
    "practitioner": "The practitioner's response.",
    "practitioner.agreement": "Agree, Partly agree, Disagree (empty until given).",
    "practitioner.feedback": "Feedback on the audit (paragraphs kept).",
    "practitioner.plan_feedback": "Feedback on the proposed plan (paragraphs kept).",
    "actions": "The audit plan's actions, sorted by due date.",
    "actions[].number": "1, 2 ... in due-date order.",
    "actions[].action": "What will be done (paragraphs kept).",
    "actions[].section": "The section the action serves.",
    "actions[].owner": "Who will do it.",
    "actions[].due": "When by, e.g. 13 Nov 2026.",
    "actions[].due_date": "When by as dd/mm/yyyy.",
    "actions[].measure": "How success will be measured (paragraphs kept).",
    "prompts": "Reflective prompts for supervision, from the areas for development.",
    "prompts[].point": "The development point.",
    "prompts[].question": "A reflective question to go with it.",
    "storyboard": "The storyboard (never the child's name or MOSAIC ID).",
    "storyboard.title": "Storyboard title.",
    "storyboard.rating": "Good or Outstanding.",
    "storyboard.rating_label": "The rating badge's words, e.g. Good practice.",
    "storyboard.fill": "The rating badge's colour (hex), as the audit report's rating cells.",
    "storyboard.team": "The team credited.",
    "storyboard.practitioner": "The worker credited.",
    "storyboard.auditor": "The auditor.",
    "storyboard.month": "Month and year of the audit.",
    "storyboard.context": "The context (paragraphs kept).",
    "storyboard.what_we_did": "What we did (paragraphs kept).",
    "storyboard.impact": "The difference it made (paragraphs kept).",
    "storyboard.voice": "The voice of the child and family (paragraphs kept).",
    "storyboard.learning": "Learning for the service (paragraphs kept).",
    "storyboard.sharing": "Who the worker and family agreed it may be shared with (or empty).",
    "storyboard.confirmation": "The auditor's confirmation that nothing identifies the family.",
    "storyboard.status": "Not yet, Invited, Declined or Completed (empty when not recorded).",
    "storyboard.shared_outside": (
        "True when the family consented to sharing outside the service (agencies, Ofsted)."
    ),
}


# --- example audits ---------------------------------------------------------------------------


def example_audits(rubric: Rubric) -> dict[str, Submission]:
    """Return the valid example audits of ``cssw_docs.examples`` by name."""
    return {
        name: make(rubric) for name, make in examples.EXAMPLES.items() if name in examples.VALID
    }


def example_contexts(rubric: Rubric) -> list[dict[str, Any]]:
    """Return template contexts from every example, including a referred and moderated one."""
    now = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)
    contexts = [
        render.build_context(sub, rubric, now=now) for sub in example_audits(rubric).values()
    ]
    good = examples.good(rubric)
    disagree = dataclasses.replace(good, practitioner_agreement=Agreement.DISAGREE)
    contexts.append(
        render.build_context(
            disagree, rubric, moderation_selected=True, awaiting_decision=True, now=now
        )
    )
    # A revision after the Head of QA's decision, with every optional line filled.
    decided = dataclasses.replace(
        good,
        observation_activity="",
        observation_none_reason=NoObservation.DECLINED,
        observation_none_detail="Mother asked for the visit to go ahead without an observer.",
        storyboard_consent=True,
        storyboard_consent_external=True,
        storyboard_anonymised=True,
        storyboard_status=StoryboardStatus.COMPLETED,
    )
    decision = Decision(
        ReferralOutcome.UPHELD,
        "The ratings are supported by the evidence; the plan's dates are moved by two weeks.",
        dt.date(2026, 10, 19),
        "Dr Helen Ward, Head of Quality Assurance",
    )
    contexts.append(
        render.build_context(
            decided,
            rubric,
            version=2,
            supersedes=(1, dt.date(2026, 10, 14)),
            decision=decision,
            now=now,
        )
    )
    return contexts


# --- the field reference ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldInfo:
    """One variable a template can use."""

    name: str
    type: str
    example: str
    help: str


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int):
        return "number"
    if isinstance(value, dict):
        return "group"
    if isinstance(value, list):
        return "list"
    return "text"


def _example(value: Any) -> str:
    if isinstance(value, dict):
        return ""
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    text = str(value).replace("\a", " / ")
    return text if len(text) <= 60 else text[:57] + "..."


def _walk(value: Any, path: str, out: dict[str, Any]) -> None:
    keep = path and not (isinstance(value, dict) and path.endswith("[]"))
    if keep and (path not in out or (not out[path] and value)):
        out[path] = value
    if isinstance(value, dict):
        for key, child in value.items():
            _walk(child, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for child in value[:3]:
            _walk(child, f"{path}[]", out)


def field_paths(contexts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return every variable path in ``contexts`` (``sections[].rating``) with an example value."""
    out: dict[str, Any] = {}
    for context in contexts:
        _walk(context, "", out)
    return out


def fields(rubric: Rubric) -> list[FieldInfo]:
    """Return every variable the templates can use, taken from the context builder itself."""
    paths = field_paths(example_contexts(rubric))
    return [
        FieldInfo(path, _type_name(value), _example(value), FIELD_HELP.get(path, ""))
        for path, value in paths.items()
    ]


def fields_markdown(rubric: Rubric) -> str:
    """Return the field reference as a Markdown table (for docs/template-authors-guide.md)."""
    rows = ["| Variable | Type | Example | Meaning |", "| --- | --- | --- | --- |"]
    for f in fields(rubric):
        example = f.example.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {f.type} | {example} | {f.help} |")
    return "\n".join(rows)


# --- the template check ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template, in words a template author can act on."""

    template: str
    message: str

    def __str__(self) -> str:
        return f"{self.template}: {self.message}"


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_OPENER = re.compile(r"\{\{|\{%|\{#")
_STATEMENT = re.compile(r"\{%-?\s*(?:(tr|tc|p|r)\s+)?(\w+)")
_OPENS = {"for", "if", "with", "macro", "call", "filter", "block", "raw"}
_MIDDLES = {"else": {"if", "for"}, "elif": {"if"}}


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _xml_parts(path: Path) -> Iterator[tuple[str, etree._Element]]:
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            m = re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name)
            if m:
                label = "body" if m.group(1) == "document" else re.sub(r"\d+", "", m.group(1))
                yield label, etree.fromstring(z.read(name))


def _paragraph_pieces(p: etree._Element) -> list[str]:
    return [t.text or "" for t in p.iter(f"{W}t")]


def _split_tag_problems(name: str, label: str, root: etree._Element) -> list[Problem]:
    problems = []
    for p in root.iter(f"{W}p"):
        pieces = _paragraph_pieces(p)
        text = "".join(pieces)
        if "{" not in text:
            continue
        bounds, pos = [], 0
        for piece in pieces:
            pos += len(piece)
            bounds.append(pos)

        def piece_of(i: int, bounds: list[int] = bounds) -> int:
            return next(n for n, b in enumerate(bounds) if i < b)

        covered = set()
        for m in _TAG.finditer(text):
            covered.update(range(m.start(), m.end()))
            if piece_of(m.start()) != piece_of(m.end() - 1):
                problems.append(
                    Problem(
                        name,
                        f"the tag {m.group(0)!r} ({label}, in {_short(text)!r}) is split across "
                        "pieces of differently formatted text. Delete it and type it again in "
                        "one go, with one formatting throughout.",
                    )
                )
        for m in _OPENER.finditer(text):
            if m.start() not in covered:
                problems.append(
                    Problem(
                        name,
                        f"a tag opened with {m.group(0)!r} is not closed in the same paragraph "
                        f"({label}, in {_short(text)!r}).",
                    )
                )
    return problems


def _ancestor(el: etree._Element, tag: str) -> bool:
    return any(a.tag == f"{W}{tag}" for a in el.iterancestors())


def _block_problems(name: str, label: str, root: etree._Element) -> list[Problem]:
    problems: list[Problem] = []
    stack: list[tuple[str, str, str]] = []
    for p in root.iter(f"{W}p"):
        text = "".join(_paragraph_pieces(p))
        for m in _TAG.finditer(text):
            tag = m.group(0)
            s = _STATEMENT.match(tag)
            if not s:
                continue
            prefix, keyword = s.group(1) or "", s.group(2)
            where = f"{label}, in {_short(text)!r}"
            if prefix == "tr" and not _ancestor(p, "tr"):
                problems.append(Problem(name, f"{tag!r} must be inside a table row ({where})."))
            if prefix == "tc" and not _ancestor(p, "tc"):
                problems.append(Problem(name, f"{tag!r} must be inside a table cell ({where})."))
            if prefix == "p" and text.strip() != tag.strip():
                problems.append(
                    Problem(
                        name,
                        f"the paragraph holding {tag!r} also holds other text, which would "
                        f"disappear: put the tag on a line of its own ({where}).",
                    )
                )
            if keyword in _OPENS:
                stack.append((keyword, prefix, tag))
            elif keyword in _MIDDLES:
                if not stack or stack[-1][0] not in _MIDDLES[keyword]:
                    problems.append(
                        Problem(name, f"{tag!r} has no matching opening tag ({where}).")
                    )
                elif stack[-1][1] != prefix:
                    problems.append(_mismatch(name, stack[-1][2], tag, stack[-1][1], where))
            elif keyword.startswith("end") and keyword[3:] in _OPENS:
                opened = keyword[3:]
                if not stack or stack[-1][0] != opened:
                    expected = f" (the open block is {stack[-1][2]!r})" if stack else ""
                    problems.append(
                        Problem(
                            name, f"{tag!r} has no matching {{% {opened} %}}{expected} ({where})."
                        )
                    )
                    continue
                _, open_prefix, open_tag = stack.pop()
                if open_prefix != prefix:
                    problems.append(_mismatch(name, open_tag, tag, open_prefix, where))
    for _keyword, _prefix, tag in stack:
        problems.append(Problem(name, f"{tag!r} is never closed ({label})."))
    return problems


def _mismatch(name: str, open_tag: str, tag: str, prefix: str, where: str) -> Problem:
    kind = {"tr": "table-row", "tc": "table-cell", "p": "paragraph", "r": "run", "": "plain"}
    wanted = f"{{%{prefix} ...%}}" if prefix else "{% ...%}"
    return Problem(
        name,
        f"{open_tag!r} is a {kind[prefix]} tag but {tag!r} is not: write it as {wanted} so the "
        f"two match ({where}).",
    )


def _syntax_problems(name: str, template: Path, provided: set[str]) -> list[Problem]:
    problems = []
    env = render.jinja_env()
    for label, source in render.template_sources(template):
        try:
            ast = env.parse(source)
        except TemplateSyntaxError as exc:
            lines = source.splitlines()
            lo = max((exc.lineno or 1) - 3, 0)
            near = " / ".join(
                t for t in (re.sub(r"<[^>]+>", "", x).strip() for x in lines[lo : lo + 5]) if t
            )
            problems.append(
                Problem(
                    name,
                    f"Jinja syntax error in the {label}: {exc.message}. "
                    f"Near: {_short(near, 160)!r}",
                )
            )
            continue
        for missing in sorted(meta.find_undeclared_variables(ast) - provided):
            problems.append(
                Problem(
                    name,
                    f"the {label} uses {missing!r}, which is not provided. "
                    "See `cssw-docs templates fields` for the variables you can use.",
                )
            )
    return problems


def _render_problems(name: str, template: Path, contexts: list[dict[str, Any]]) -> list[Problem]:
    with tempfile.TemporaryDirectory(prefix="cssw-docs-check-") as tmp:
        for i, context in enumerate(contexts):
            try:
                render.render_document(template, context, Path(tmp) / f"{i}.docx")
            except render.RenderError as exc:
                cause = exc.__cause__
                detail = getattr(cause, "message", None) or str(cause or exc)
                return [Problem(name, f"rendering the example audits fails: {detail}.")]
    return []


def check_template(template: Path, contexts: list[dict[str, Any]]) -> list[Problem]:
    """Return the problems with one template (empty when it is fine)."""
    name = template.name
    try:
        parts = list(_xml_parts(template))
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError, KeyError) as exc:
        return [Problem(name, f"cannot be opened as a Word document ({exc}).")]
    problems: list[Problem] = []
    for label, root in parts:
        problems += _split_tag_problems(name, label, root)
        problems += _block_problems(name, label, root)
    if problems:
        return problems
    problems = _syntax_problems(name, template, set(contexts[0]))
    if problems:
        return problems
    return _render_problems(name, template, contexts)


def template_files(folder: Path | None) -> dict[DocKind, Path]:
    """Return the template used for each document kind when ``folder`` overrides the defaults."""
    return {kind: render.template_path(kind, folder) for kind in render.DOCUMENTS}


def check_templates(
    folder: Path | None, rubric: Rubric
) -> tuple[dict[DocKind, Path], list[Problem]]:
    """Return the templates checked (by kind) and every problem found in them."""
    files = template_files(folder)
    contexts = example_contexts(rubric)
    problems: list[Problem] = []
    for kind, path in files.items():
        problems += check_template(path, [render.for_document(kind, c) for c in contexts])
        if kind is DocKind.STORYBOARD:
            problems += storyboard_problems(path)
    return files, problems


def storyboard_problems(template: Path) -> list[Problem]:
    """Return a problem when a storyboard template uses ``child``: it is always empty there."""
    try:
        sources = render.template_sources(template)
    except Exception:  # check_template has already said the file cannot be opened
        return []
    env = render.jinja_env()
    for label, source in sources:
        try:
            used = meta.find_undeclared_variables(env.parse(source))
        except TemplateSyntaxError:
            continue
        if "child" in used:
            return [
                Problem(
                    template.name,
                    f"the {label} uses 'child', but a storyboard never shows the child's name "
                    "or MOSAIC ID (it is printed empty). Remove it.",
                )
            ]
    return []


# --- previews ---------------------------------------------------------------------------------


def preview(
    folder: Path | None,
    outdir: Path,
    rubric: Rubric,
    *,
    marking: str,
    make_pdf: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render every template with every example audit into ``outdir/<example>/``; return paths.

    ``progress`` is told (examples done, examples in all) after each example.
    """
    written: list[Path] = []
    now = dt.datetime.now(dt.UTC)
    audits = example_audits(rubric)
    for done, (name, sub) in enumerate(audits.items(), start=1):
        target = Path(outdir) / name
        target.mkdir(parents=True, exist_ok=True)
        docs: list[Path] = []
        context = render.build_context(
            sub, rubric, marking=marking, moderation_selected=name.startswith("disagree"), now=now
        )
        for kind in render.document_kinds(sub):
            title = render.DOCUMENTS[kind][1]
            out = target / f"{sub.audit_ref} {title}.docx"
            values = render.for_document(kind, context)
            render.render_document(render.template_path(kind, folder), values, out, now)
            docs.append(out)
        written += docs
        if make_pdf:
            written += pdf.convert(docs, target)
        if progress is not None:
            progress(done, len(audits))
    return written
