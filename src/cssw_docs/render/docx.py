"""The docxtpl step: a Word template plus a context makes a document (the only docxtpl import).

Templates live in ``templates/`` (packaged as ``cssw_docs/_templates``);
``RenderSettings.templates_dir`` overrides them file by file.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, Template, TemplateError

from .. import clock
from ..models import DocKind
from . import docxzip

log = logging.getLogger(__name__)

# kind -> (template file, document name in the pack's file names)
DOCUMENTS: dict[DocKind, tuple[str, str]] = {
    DocKind.REPORT: ("audit_report.docx", "Audit report"),
    DocKind.PLAN: ("audit_plan.docx", "Audit plan"),
    DocKind.SUPERVISION_INSERT: ("supervision_insert.docx", "Supervision insert"),
    DocKind.STORYBOARD: ("storyboard.docx", "Storyboard"),
}
# The storyboard's other forms, in the pack's design: posters by size, and the booklet.
POSTER_TEMPLATES: dict[str, str] = {"A4": "storyboard.docx", "A3": "storyboard_a3.docx"}
BOOKLET_TEMPLATE = "storyboard_booklet.docx"
# The language every document is written in: Word's core property and the PDF's /Lang.
LANGUAGE = "en-GB"


class RenderError(Exception):
    """A pack cannot be rendered; the message says what to do in plain words."""


# --- templates ------------------------------------------------------------------------------


def packaged_templates_dir() -> Path:
    """Return the default templates: ``templates/`` in a source checkout, else the packaged copy."""
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout / "templates"
    packaged = Path(str(resources.files("cssw_docs").joinpath("_templates")))
    if packaged.is_dir():
        return packaged
    raise RenderError("The Word templates are missing from this installation. Reinstall cssw-docs.")


def template_path(kind: DocKind, templates_dir: Path | None = None) -> Path:
    """Return the template for ``kind``: from ``templates_dir`` if it has one, else the default."""
    return template_file(DOCUMENTS[kind][0], templates_dir)


def template_file(name: str, templates_dir: Path | None = None) -> Path:
    """Return the template file ``name``: from ``templates_dir`` if it has one, else the default."""
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


class _Template(DocxTemplate):
    """docxtpl's template, whose clean-up of the template XML runs once per source.

    Before every render docxtpl rewrites the template's XML with a series of regular
    expressions (joining the runs Word splits a ``{{ tag }}`` into); the result depends on the
    template alone, yet it cost about as much as the Jinja render. It is kept per process,
    keyed by the XML itself, so an edited template is cleaned afresh.
    """

    def patch_xml(self, src_xml: str) -> str:
        """Return the cleaned-up XML of ``src_xml`` (computed once per distinct source)."""
        return _patched_xml(src_xml)


_PLAIN = object.__new__(DocxTemplate)  # patch_xml uses nothing of the instance


@functools.lru_cache(maxsize=128)
def _patched_xml(src_xml: str) -> str:
    return DocxTemplate.patch_xml(_PLAIN, src_xml)


def jinja_env() -> Environment:
    """Return the Jinja environment templates render in: autoescaped, undefined is an error.

    One environment serves the whole process, so each template is compiled once however
    many packs it makes.
    """
    global _env
    if _env is None:
        _env = _CompileOnce(undefined=StrictUndefined, autoescape=True)
    return _env


_prepared: set[tuple[str, int, int]] = set()  # (path, mtime, size) of templates prepared


def prepare(template: Path) -> None:
    """Do now what the first render of ``template`` in this process would do first: read and
    compress its static parts, clean up its XML and compile it (a worker does this while the
    first workbooks settle). A template with a problem is left for the render to report.

    Does nothing for a template file already prepared in this process (or in the fork server
    the process was forked from) and unchanged since.
    """
    try:
        stat = template.stat()
    except OSError:
        return  # the render will say the template is missing
    seen = (str(template), stat.st_mtime_ns, stat.st_size)
    if seen in _prepared:
        return
    _prepared.add(seen)
    try:
        tpl = _Template(str(template))
        tpl.docx = docxzip.open_document(template)
        xml = [tpl.get_xml()]
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            xml += [tpl.get_part_xml(part) for _rel, part in tpl.get_headers_footers(uri)]
        for source in xml:  # as docxtpl hands each part to Jinja
            jinja_env().from_string(re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(source)))
        tpl.render_properties({}, jinja_env())  # the document properties' few short sources
    except Exception as exc:  # the render says what is wrong, in plain words
        log.debug("could not prepare %s: %s", template, type(exc).__name__)


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


# --- rendering ------------------------------------------------------------------------------


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
        tpl = _Template(str(template))
        tpl.docx = docxzip.open_document(template)  # styles, theme ... stay unparsed bytes
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
    stamp = (now or clock.now()).replace(tzinfo=None, microsecond=0)
    finish(document, stamp)
    version = document.core_properties.version or ""
    if (
        tpl.pics_to_replace
        or tpl.crc_to_new_media
        or tpl.crc_to_new_embedded
        or tpl.zipname_to_replace
    ):
        tpl.save(str(out))  # docxtpl's own replacements (not used by cssw-docs's templates)
    else:
        docxzip.save(document, template, out, stamp)
    return Rendered(out, template, version, hashlib.sha256(template.read_bytes()).hexdigest())


def finish(document, stamp: dt.datetime) -> None:
    """Finish a rendered document before it is saved: white text on dark cells, and its
    properties (a plain-text title, the language, the time, cssw-docs as its last author)."""
    _white_text_on_dark_cells(document)
    props = document.core_properties
    # docxtpl rendered the title with HTML escaping ("child&#39;s"): a title is plain text.
    props.title = html.unescape(props.title or "")
    props.language = LANGUAGE
    props.created = props.modified = stamp
    props.last_modified_by = "cssw-docs"
    props.revision = 1


def is_dark(fill: str) -> bool:
    """Return True when text on ``fill`` should be white."""
    try:
        r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (0, 2, 4))
    except (ValueError, IndexError):
        return False

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) < 0.2


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
