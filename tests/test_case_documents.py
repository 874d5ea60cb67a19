"""Case documents say which child, which version, and only what was checked; they print well."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from cssw_docs import examples, render, templating
from cssw_docs.config import RenderSettings
from cssw_docs.models import (
    Agreement,
    Decision,
    DocKind,
    ReferralOutcome,
    Stage,
    StoryboardStatus,
    Submission,
)
from cssw_docs.render import pdf
from cssw_docs.rubric import Rubric

NO_PDF = RenderSettings(pdf=False, storyboard_pdf=False)
FIRST = dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC)
SECOND = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
CASE_DOCUMENTS = (DocKind.REPORT, DocKind.PLAN, DocKind.SUPERVISION_INSERT)
AWAITING = "Awaiting Head of Quality Assurance decision"


def pack_of(sub: Submission, rubric: Rubric, outbox: Path, **kwargs):
    """Render ``sub`` without PDFs into ``outbox``."""
    kwargs.setdefault("settings", NO_PDF)
    kwargs.setdefault("source_sha256", "a" * 64)
    kwargs.setdefault("now", FIRST)
    return render.render_pack(sub, rubric, outbox, **kwargs)


def body_paragraphs(path: Path) -> list[str]:
    """Return the text of every body paragraph, tables included, in order."""
    body = docx.Document(str(path)).element.body
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]


def before_first_table(path: Path) -> str:
    """Return the text above the document's first table: its title block."""
    document = docx.Document(str(path))
    out = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            break
        out.append("".join(t.text or "" for t in child.iter(qn("w:t"))))
    return "\n".join(out)


def header_text(path: Path) -> str:
    """Return the text of the first section's header."""
    return "\n".join(p.text for p in docx.Document(str(path)).sections[0].header.paragraphs)


def footer_text(path: Path) -> str:
    """Return the text of the first section's footer."""
    return "\n".join(p.text for p in docx.Document(str(path)).sections[0].footer.paragraphs)


def rendered(kind: DocKind, context: dict, tmp_path: Path) -> Path:
    """Render one packaged template with ``context`` and return the file."""
    out = tmp_path / f"{kind.value}.docx"
    render.render_document(render.template_path(kind), render.for_document(kind, context), out)
    return out


@pytest.fixture(scope="module")
def pack(the_rubric: Rubric, tmp_path_factory: pytest.TempPathFactory):
    """The Good Final example's pack (read it, never edit it)."""
    return pack_of(examples.good(the_rubric), the_rubric, tmp_path_factory.mktemp("outbox"))


# --- which child ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", CASE_DOCUMENTS)
def test_case_documents_name_the_child_at_the_top(pack, kind):
    """The report's cover and the plan's and insert's headings say which child, by name and ID."""
    top = before_first_table(pack.path(kind))
    assert "Amara Okafor" in top and "MOSAIC ID M1234567" in top


def test_the_actions_csv_carries_the_mosaic_id(pack):
    """supervision_actions.csv has a MOSAIC ID column, filled on every row, so it can be loaded."""
    text = (pack.directory / render.CSV_NAME).read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "MOSAIC ID" in rows[0]
    assert len(rows) == 3 and {r["MOSAIC ID"] for r in rows} == {"M1234567"}


@pytest.mark.slow
def test_the_name_can_be_turned_off(good_audit, the_rubric, tmp_path):
    """render.name_child = false: no name anywhere in the pack, the MOSAIC ID still at the top."""
    settings = dataclasses.replace(NO_PDF, name_child=False)
    made = pack_of(good_audit, the_rubric, tmp_path, settings=settings)
    for kind in CASE_DOCUMENTS:
        text = "\n".join(body_paragraphs(made.path(kind)))
        assert "Amara" not in text and "Okafor" not in text
        assert "MOSAIC ID M1234567" in before_first_table(made.path(kind))


@pytest.mark.slow
def test_an_edited_storyboard_cannot_print_the_child(good_audit, the_rubric, tmp_path):
    """A storyboard template asking for the child gets empty text, and the check says so."""
    folder = tmp_path / "templates"
    folder.mkdir()
    document = docx.Document(str(render.template_path(DocKind.STORYBOARD)))
    document.add_paragraph("About {{ child.name }} {{ child.mosaic_id }}")
    document.save(str(folder / "storyboard.docx"))
    settings = dataclasses.replace(NO_PDF, templates_dir=folder)
    made = pack_of(good_audit, the_rubric, tmp_path / "outbox", settings=settings)
    text = "\n".join(body_paragraphs(made.path(DocKind.STORYBOARD)))
    assert "Amara" not in text and "M1234567" not in text
    _files, problems = templating.check_templates(folder, the_rubric)
    assert any("storyboard never shows the child's name" in p.message for p in problems)


# --- versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*CASE_DOCUMENTS, DocKind.STORYBOARD])
def test_every_document_shows_its_version_and_issue_date(pack, kind):
    """The footer of every document gives its stage, version and issue date."""
    assert "Final, version 1, issued 12 November 2026." in footer_text(pack.path(kind))


@pytest.mark.slow
def test_a_revised_pack_says_which_version_it_supersedes(good_audit, the_rubric, tmp_path):
    """A second version says it supersedes the first and when that was issued, on every page."""
    pack_of(good_audit, the_rubric, tmp_path, source_sha256="1" * 64, now=FIRST)
    second = pack_of(good_audit, the_rubric, tmp_path, source_sha256="2" * 64, now=SECOND)
    line = (
        "Final, version 2, issued 20 November 2026. Supersedes version 1 issued 12 November 2026."
    )
    assert second.version == 2
    for kind in (*CASE_DOCUMENTS, DocKind.STORYBOARD):
        assert line in footer_text(second.path(kind))
    assert line in "\n".join(body_paragraphs(second.path(DocKind.REPORT)))  # the cover's Version
    manifest = json.loads((second.directory / "manifest.json").read_text("utf-8"))
    audit = json.loads((second.directory / "audit.json").read_text("utf-8"))
    assert manifest["supersedes_version"] == 2 - 1 == audit["supersedes_version"]


def test_a_first_version_supersedes_nothing(pack):
    """Version 1 claims to supersede nothing."""
    assert "Supersedes" not in footer_text(pack.path(DocKind.REPORT))
    manifest = json.loads((pack.directory / "manifest.json").read_text("utf-8"))
    assert manifest["supersedes_version"] is None


# --- honest rows and lines ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(examples.VALID))
def test_no_report_prints_an_empty_row(name, the_rubric, tmp_path):
    """An Early Help/Front Door audit (no theme) has no Theme row: nothing says "Theme: None"."""
    sub = examples.example(name, the_rubric)
    report = pack_of(sub, the_rubric, tmp_path).path(DocKind.REPORT)
    cover = docx.Document(str(report)).tables[0]
    pairs = {}
    for row in cover.rows:
        cells = [c.text for c in row.cells]
        pairs |= {cells[i]: cells[i + 1] for i in range(0, len(cells) - 1, 2)}
    assert all(v.strip() and v.strip().lower() != "none" for v in pairs.values()), pairs
    assert ("Theme" in pairs) is bool(sub.audit_theme.strip())


def test_early_help_report_says_theme_nowhere(the_rubric, tmp_path):
    """The Early Help/Front Door example's report mentions no theme at all."""
    sub = examples.example("inadequate", the_rubric)
    assert sub.audit_type == "Early Help/Front Door" and not sub.audit_theme
    text = "\n".join(body_paragraphs(pack_of(sub, the_rubric, tmp_path).path(DocKind.REPORT)))
    assert "Theme" not in text and "None" not in text.split("Ratings at a glance")[0]


def _storyboard(sub: Submission, rubric: Rubric, tmp_path: Path) -> str:
    path = pack_of(sub, rubric, tmp_path).path(DocKind.STORYBOARD)
    return "\n".join(body_paragraphs(path))


def test_the_storyboard_prints_who_confirmed_it_identifies_nobody(good_audit, the_rubric, tmp_path):
    """With the auditor's Yes, the storyboard prints the confirmation with who and when."""
    sub = dataclasses.replace(good_audit, storyboard_anonymised=True)
    text = _storyboard(sub, the_rubric, tmp_path)
    assert "Confirmed by Priya Natarajan, auditor, on 12 November 2026." in text


@pytest.mark.parametrize("answer", [None, False])
def test_without_the_confirmation_no_storyboard_claims_anything(
    good_audit, the_rubric, tmp_path, answer
):
    """No Yes from the auditor: no storyboard is made, so none can claim it identifies nobody."""
    sub = dataclasses.replace(good_audit, storyboard_anonymised=answer)
    assert pack_of(sub, the_rubric, tmp_path).path(DocKind.STORYBOARD) is None


@pytest.mark.parametrize(
    ("external", "expected"),
    [(False, "within the service only"), (True, "outside it (other agencies, Ofsted)")],
)
@pytest.mark.slow
def test_the_storyboard_prints_the_consent_given(
    good_audit, the_rubric, tmp_path, external, expected
):
    """The storyboard says how far the worker and family agreed it may be shared."""
    sub = dataclasses.replace(
        good_audit, storyboard_consent=True, storyboard_consent_external=external
    )
    assert expected in _storyboard(sub, the_rubric, tmp_path)


def test_the_report_shows_the_storyboard_status(good_audit, the_rubric, tmp_path):
    """A recorded storyboard status is printed under good practice."""
    sub = dataclasses.replace(good_audit, storyboard_status=StoryboardStatus.DECLINED)
    text = "\n".join(body_paragraphs(pack_of(sub, the_rubric, tmp_path).path(DocKind.REPORT)))
    assert "Good practice storyboard: Declined." in text


# --- awaiting the Head of QA, and the decision ----------------------------------------------------


@pytest.fixture
def disagree(the_rubric: Rubric) -> Submission:
    """The example audit the practitioner disagrees with."""
    sub = examples.example("disagree", the_rubric)
    assert sub.practitioner_agreement is Agreement.DISAGREE
    return sub


@pytest.mark.parametrize("kind", [DocKind.REPORT, DocKind.PLAN, DocKind.SUPERVISION_INSERT])
def test_awaiting_decision_is_marked_in_header_and_footer(disagree, the_rubric, tmp_path, kind):
    """While the Head of QA decides, every page's header and footer says so (as DRAFT does)."""
    context = render.build_context(disagree, the_rubric, awaiting_decision=True, now=FIRST)
    path = rendered(kind, context, tmp_path)
    assert AWAITING in header_text(path) and AWAITING in footer_text(path)
    if kind is not DocKind.SUPERVISION_INSERT:
        assert f"{AWAITING}. " in "\n".join(body_paragraphs(path))  # and a banner
    if kind is DocKind.PLAN:
        assert body_paragraphs(path)[0] == "Proposed audit plan"  # not yet the SMART plan


@pytest.mark.parametrize("kind", [DocKind.REPORT, DocKind.PLAN])
def test_no_awaiting_marking_otherwise(disagree, the_rubric, tmp_path, kind):
    """Without awaiting_decision nothing says the audit is awaiting a decision."""
    path = rendered(kind, render.build_context(disagree, the_rubric, now=FIRST), tmp_path)
    text = header_text(path) + footer_text(path) + "\n".join(body_paragraphs(path))
    assert AWAITING not in text


def test_the_report_shows_the_head_of_qa_decision(disagree, the_rubric, tmp_path):
    """Outcome, note, date and who decided are in the report, and the status line says so."""
    decision = Decision(
        ReferralOutcome.AMENDED,
        "The Planning rating stands; the first action moves to 15 December.",
        dt.date(2026, 11, 26),
        "Dr Helen Ward",
    )
    context = render.build_context(disagree, the_rubric, decision=decision, now=SECOND)
    path = rendered(DocKind.REPORT, context, tmp_path)
    table = next(t for t in docx.Document(str(path)).tables if t.cell(0, 0).text == "Decision")
    rows = {r.cells[0].text: r.cells[1].text for r in table.rows}
    assert rows == {
        "Decision": "Amended: the audit stands with the changes in the decision note.",
        "Note": "The Planning rating stands; the first action moves to 15 December.",
        "Decided on": "26 November 2026",
        "Decided by": "Dr Helen Ward",
    }
    text = "\n".join(body_paragraphs(path))
    assert "Head of Quality Assurance decision" in text
    assert "decided on 26 November 2026" in text
    assert "reviewed before a final decision" not in text


def test_no_decision_block_before_a_decision(disagree, the_rubric, tmp_path):
    """Without a decision there is no decision heading or table."""
    path = rendered(DocKind.REPORT, render.build_context(disagree, the_rubric), tmp_path)
    assert "Head of Quality Assurance decision" not in "\n".join(body_paragraphs(path))


# --- kept together on the page --------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(render.DOCUMENTS))
def test_headings_keep_with_the_text_that_follows(kind):
    """Every heading style of every template is kept with the next paragraph."""
    document = docx.Document(str(render.template_path(kind)))
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        assert document.styles[name].paragraph_format.keep_with_next is True, name


def _keeps(row) -> bool:
    return all(p.paragraph_format.keep_with_next is True for c in row.cells for p in c.paragraphs)


@pytest.mark.parametrize("kind", CASE_DOCUMENTS)
def test_table_title_rows_keep_with_their_first_row(pack, kind):
    """A table's title row is never alone at the foot of a page."""
    document = docx.Document(str(pack.path(kind)))
    titled = [t for t in document.tables if t.rows[0].cells[0].text in ("Section", "No.", "Role")]
    assert titled
    for table in titled:
        assert _keeps(table.rows[0]), table.rows[0].cells[0].text


def test_each_section_heading_keeps_its_rating_with_its_text(pack):
    """ "1. Referral" and its rating move to the next page together with the evidence."""
    document = docx.Document(str(pack.path(DocKind.REPORT)))
    chips = [t for t in document.tables if t.rows[0].cells[0].text == "Rating"]
    assert len(chips) == 6 and all(_keeps(t.rows[0]) for t in chips)


def test_the_sign_off_is_kept_together(pack):
    """The sign-off heading, its sentence and both rows stay on one page; no row splits."""
    document = docx.Document(str(pack.path(DocKind.PLAN)))
    texts = [p.text for p in document.paragraphs]
    heading = texts.index("Agreement and sign-off")
    assert document.paragraphs[heading + 1].paragraph_format.keep_with_next is True
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Role")
    assert _keeps(table.rows[0]) and _keeps(table.rows[1])
    for row in table.rows:
        assert row._tr.trPr.find(qn("w:cantSplit")) is not None


def eight_actions(good: Submission, rubric: Rubric) -> Submission:
    """Return ``good`` with eight ordinary actions and five development points."""
    others = (*examples.inadequate(rubric).actions, *examples.example("disagree", rubric).actions)
    actions = tuple(
        dataclasses.replace(a, due=good.audit_date + dt.timedelta(days=20 + 9 * i))
        for i, a in enumerate((*good.actions, *others))
    )[:8]
    assert len(actions) == 8
    points = "\n".join(
        (
            "The chronology has not been updated since the spring.",
            "Father's views are not recorded in the assessment.",
            "Visits are recorded late.",
            "The plan does not say who does what.",
            "Supervision does not track actions from month to month.",
        )
    )
    return dataclasses.replace(good, actions=actions, areas_for_development=points)


def _pages(path: Path) -> list[str]:
    """Return the text of each page of a PDF (poppler's pdftotext)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("poppler (pdftotext) is not installed; run `bash .ci/run` to install it")
    text = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True)
    return text.stdout.split("\f")[:-1]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_eight_actions_keep_the_insert_on_one_page_and_the_sign_off_whole(
    soffice, good_audit, the_rubric, tmp_path
):
    """A normal audit's insert is one page; the plan's sign-off is never split from its rows."""
    sub = eight_actions(good_audit, the_rubric)
    made = pack_of(sub, the_rubric, tmp_path)
    insert, plan = made.path(DocKind.SUPERVISION_INSERT), made.path(DocKind.PLAN)
    insert_pdf, plan_pdf = pdf.convert([insert, plan], tmp_path)
    assert len(re.findall(rb"/Type\s*/Page[^s]", insert_pdf.read_bytes())) == 1
    pages = _pages(plan_pdf)
    with_sign_off = [p for p in pages if "Agreement and sign-off" in p]
    assert len(with_sign_off) == 1
    page = with_sign_off[0]
    assert "By signing, we agree this plan" in page and "Practitioner" in page
    assert "Manager" in page.split("Agreement and sign-off")[1]
    assert sub.audit_stage is Stage.FINAL
