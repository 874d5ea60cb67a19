"""Documents saved with the template's static parts copied are the documents docxtpl saves."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate
from lxml import etree

from cssw_docs import examples, render
from cssw_docs.models import DocKind
from cssw_docs.render import docxzip
from cssw_docs.rubric import Rubric
from cssw_docs.service import watch

NOW = dt.datetime(2026, 11, 2, 9, 30, 4)


def _canonical(name: str, data: bytes) -> bytes:
    """Return an XML member in canonical form (so serialisation details do not count)."""
    if name.endswith((".xml", ".rels")):
        return etree.tostring(etree.fromstring(data), method="c14n")
    return data


def _docxtpl_save(template: Path, context: dict, out: Path) -> None:
    """Render and save as render_document did before: docxtpl's own save of every part."""
    tpl = DocxTemplate(str(template))
    tpl.get_docx()
    tpl.render(context, jinja_env=render.jinja_env(), autoescape=True)
    render.docx.finish(tpl.docx, NOW)
    tpl.save(str(out))


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [DocKind.REPORT, DocKind.PLAN, DocKind.SUPERVISION_INSERT, DocKind.STORYBOARD],
)
def test_same_parts_and_content_as_docxtpl_saves(tmp_path, the_rubric: Rubric, kind) -> None:
    """Every member docxtpl would write is there, in its order, with the same content."""
    sub = examples.good(the_rubric)
    context = render.for_document(kind, render.build_context(sub, the_rubric))
    template = render.template_path(kind)
    ours, theirs = tmp_path / "ours.docx", tmp_path / "theirs.docx"
    render.render_document(template, context, ours, NOW)
    _docxtpl_save(template, context, theirs)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
        assert a.testzip() is None
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert _canonical(name, a.read(name)) == _canonical(name, b.read(name)), name
    opened = docx.Document(str(ours))  # python-docx reads it, styles and all
    assert opened.styles["Normal"] is not None
    assert opened.core_properties.last_modified_by == "cssw-docs"


def test_static_parts_are_copied_only_while_unchanged(tmp_path) -> None:
    """A static part whose bytes differ from the template's is compressed afresh."""
    template = render.template_path(DocKind.PLAN)
    document = docxzip.open_document(template)
    styles = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/styles")
    )
    assert type(styles) is docxzip.Part  # left as bytes, never parsed
    styles._blob = styles.blob.replace(b"<w:latentStyles", b"<w:latentStyles ", 1)
    out = tmp_path / "changed.docx"
    docxzip.save(document, template, out, NOW)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("word/styles.xml") == styles.blob


def test_zip_dates_members_as_told_and_reads_back(tmp_path) -> None:
    """The writer's zip is readable by zipfile, with names, contents and the given date."""
    members = [docxzip.compress("a.xml", b"<a/>"), docxzip.compress("dir/b.bin", bytes(range(256)))]
    out = tmp_path / "x.zip"
    docxzip.write_zip(out, members, NOW)
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as zf:
        assert zf.testzip() is None
        assert zf.read("dir/b.bin") == bytes(range(256))
        assert zf.getinfo("a.xml").date_time == (2026, 11, 2, 9, 30, 4)


def test_a_file_that_is_not_a_word_document_is_refused(tmp_path) -> None:
    """A zip that is not a .docx cannot be opened as a template."""
    bogus = tmp_path / "bogus.docx"
    with zipfile.ZipFile(bogus, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(Exception):  # noqa: B017 - python-docx raises several kinds
        docxzip.open_document(bogus)


def test_prepare_does_ahead_what_the_first_render_would(tmp_path) -> None:
    """prepare compiles a template's parts; rendering it then compiles nothing new."""
    template = tmp_path / "fresh.docx"
    made = docx.Document()
    made.add_paragraph(f"{{{{ audit_ref }}}} {tmp_path.name}")  # a source no test has seen
    made.save(str(template))
    env = render.jinja_env()
    before = set(env._compiled)
    render.prepare(template)
    prepared = set(env._compiled)
    assert prepared - before  # compiled now, not at the first render
    render.render_document(template, {"audit_ref": "CSSW-2026-0142"}, tmp_path / "out.docx", NOW)
    assert set(env._compiled) == prepared
    assert "CSSW-2026-0142" in docx.Document(str(tmp_path / "out.docx")).paragraphs[0].text
    render.prepare(tmp_path / "missing.docx")  # a problem is left for the render to report


def test_prepare_skips_a_template_prepared_before_and_not_an_edited_one(tmp_path) -> None:
    """A second prepare of the same unchanged file compiles nothing; once the file is edited,
    prepare compiles its new source."""
    template = tmp_path / "again.docx"
    made = docx.Document()
    made.add_paragraph(f"{{{{ audit_ref }}}} first {tmp_path.name}")
    made.save(str(template))
    env = render.jinja_env()
    render.prepare(template)
    env._compiled.clear()  # were prepare to work again, it would compile the source again
    render.prepare(template)
    assert not env._compiled
    edited = docx.Document()
    edited.add_paragraph(f"{{{{ audit_ref }}}} second, longer {tmp_path.name}")
    edited.save(str(template))
    render.prepare(template)
    assert env._compiled


def test_the_fork_servers_preload_prepares_the_standard_templates() -> None:
    """The module the workers' fork server imports leaves every standard template prepared,
    so that each worker forked from it starts with them (run in a fresh interpreter)."""
    code = (
        f"import importlib; importlib.import_module({watch.FORK_SERVER_PRELOAD!r}); "
        "from cssw_docs import render; from cssw_docs.render import docx as d; "
        "print(sorted(p.rsplit('/', 1)[-1] for p, _, _ in d._prepared))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    names = sorted(name for name, _ in render.DOCUMENTS.values())
    assert done.stdout.strip() == str(names)
