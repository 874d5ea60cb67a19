"""The renderer turns a Submission into a complete, correct pack of Word documents on disk."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from cssw_docs import examples, render
from cssw_docs.config import RenderSettings
from cssw_docs.models import (
    RATING_FILLS,
    Action,
    Agreement,
    Consent,
    DocKind,
    FeedbackResponse,
    FileFormat,
    Rating,
    SectionAssessment,
    Stage,
    Submission,
)
from cssw_docs.render import pdf
from cssw_docs.rubric import Rubric

NO_PDF = RenderSettings(pdf=False, storyboard_pdf=False)
NOW = dt.datetime(2026, 10, 20, 9, 30, tzinfo=dt.UTC)


def make_pack(sub: Submission, rubric: Rubric, outbox: Path, **kwargs):
    """Render ``sub`` without PDFs into ``outbox``."""
    kwargs.setdefault("settings", NO_PDF)
    kwargs.setdefault("source_sha256", "a" * 64)
    kwargs.setdefault("now", NOW)
    return render.render_pack(sub, rubric, outbox, **kwargs)


def all_text(path: Path) -> str:
    """Return every paragraph of the body, tables included, one per line."""
    document = docx.Document(str(path))
    body = document.element.body
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p")))


def header_footer_text(path: Path) -> str:
    """Return the text of every header and footer."""
    section = docx.Document(str(path)).sections[0]
    return "\n".join(p.text for p in (*section.header.paragraphs, *section.footer.paragraphs))


def cell_fill(cell) -> str | None:
    """Return a table cell's background fill."""
    shd = cell._tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
    return None if shd is None else shd.get(qn("w:fill"))


def ratings_table(path: Path):
    """Return the "Ratings at a glance" table of an audit report."""
    document = docx.Document(str(path))
    for table in document.tables:
        if [c.text for c in table.rows[0].cells] == ["Section", "Rating", "Descriptors evidenced"]:
            return table
    raise AssertionError("no ratings table")


@pytest.fixture(scope="module")
def final_pack(the_rubric: Rubric, tmp_path_factory: pytest.TempPathFactory):
    """The pack of the Good Final example, rendered once for the module (read it, never edit it)."""
    return make_pack(examples.good(the_rubric), the_rubric, tmp_path_factory.mktemp("outbox"))


# --- what is in the pack ---------------------------------------------------------------------


def test_final_pack_holds_every_document_with_the_reference_in_its_name(final_pack) -> None:
    """A Good Final pack has report, plan, insert, CSV and storyboard, named by reference."""
    docx_, csv_ = FileFormat.DOCX, FileFormat.CSV
    assert [(f.kind, f.format, f.name) for f in final_pack.files] == [
        (DocKind.REPORT, docx_, "CSSW-2026-0142 Audit report.docx"),
        (DocKind.PLAN, docx_, "CSSW-2026-0142 Audit plan.docx"),
        (DocKind.SUPERVISION_INSERT, docx_, "CSSW-2026-0142 Supervision insert.docx"),
        (DocKind.ACTIONS_CSV, csv_, "supervision_actions.csv"),
        (DocKind.STORYBOARD, docx_, "CSSW-2026-0142 Storyboard.docx"),
    ]
    assert final_pack.directory.name == "final-v1"
    assert final_pack.directory.parent.name == "CSSW-2026-0142"
    on_disk = {p.name for p in final_pack.directory.iterdir()}
    assert on_disk == {f.name for f in final_pack.files} | {"audit.json", "manifest.json"}


def test_draft_pack_is_report_and_proposed_plan_marked_draft(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A Draft pack has only the report and the proposed plan, DRAFT on every page."""
    sub = dataclasses.replace(good_audit, audit_stage=Stage.DRAFT)
    pack = make_pack(sub, the_rubric, tmp_path)
    assert [f.kind for f in pack.files] == [DocKind.REPORT, DocKind.PLAN]
    assert pack.directory.name == "draft-v1"
    for f in pack.files:
        path = pack.directory / f.name
        assert "DRAFT" in header_footer_text(path)
        assert "DRAFT for the practitioner" in all_text(
            path
        ) or "DRAFT: the proposed plan" in all_text(path)
    assert "Proposed audit plan" in all_text(pack.path(DocKind.PLAN))


def test_final_documents_are_not_marked_draft(final_pack) -> None:
    """Nothing in a Final pack says DRAFT."""
    for f in final_pack.files:
        if f.name.endswith(".docx"):
            path = final_pack.directory / f.name
            assert "DRAFT" not in header_footer_text(path) + all_text(path)
    assert "SMART audit plan" in all_text(final_pack.path(DocKind.PLAN))


def test_every_document_is_a4_with_marking_reference_and_page_numbers(final_pack) -> None:
    """Each document is A4, its header carries the marking and reference, its footer page X of Y."""
    for f in final_pack.files:
        if not f.name.endswith(".docx"):
            continue
        document = docx.Document(str(final_pack.directory / f.name))
        section = document.sections[0]
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
        header = "\n".join(p.text for p in section.header.paragraphs)
        assert "OFFICIAL-SENSITIVE" in header and "CSSW-2026-0142" in header
        footer_xml = section.footer._element.xml
        assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
        assert "Page " in section.footer.paragraphs[0].text


def test_marking_comes_from_the_settings(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A configured marking replaces OFFICIAL-SENSITIVE in headers and footers."""
    settings = dataclasses.replace(NO_PDF, marking="OFFICIAL")
    pack = make_pack(good_audit, the_rubric, tmp_path, settings=settings)
    text = header_footer_text(pack.path(DocKind.REPORT))
    assert "OFFICIAL" in text and "OFFICIAL-SENSITIVE" not in text


def test_documents_use_named_styles_a_reader_can_restyle(final_pack) -> None:
    """Titles, headings, body text and tables use real Word styles."""
    document = docx.Document(str(final_pack.path(DocKind.REPORT)))
    used = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 3", "Normal", "List Bullet"} <= used
    assert {t.style.name for t in document.tables} == {"CSSW Table"}


# --- the audit report ---------------------------------------------------------------------------


def test_report_cover_block_and_section_parts(
    final_pack, good_audit: Submission, the_rubric: Rubric
) -> None:
    """The report shows the cover details and each section's evidence and descriptors."""
    text = all_text(final_pack.path(DocKind.REPORT))
    for expected in (
        "CSSW-2026-0142",
        "Thematic",
        "Neglect and the lived experience of the child",
        "Family Support & Intervention Team 3",
        "Priya Natarajan",
        "Independent QA auditor (QAU)",
        "Tom Baxter",
        "Grace Mensah",
        "14 October 2026",
        "1 October 2025 to 30 September 2026",
        "7 October 2026, MS Teams, 55 minutes",
    ):
        assert expected in text
    for section in good_audit.sections:
        assert section.evidence in text
    basic = the_rubric.section("basic_information")
    assert basic.of_grade("Good")[4] in text
    assert basic.of_grade("Requires improvement")[2] in text
    assert basic.of_grade("Inadequate")[0] not in text  # not marked evidenced


def test_rating_cells_are_colour_coded(final_pack, good_audit: Submission) -> None:
    """Each section's rating cell, and the overall one, has its grade's fill."""
    table = ratings_table(final_pack.path(DocKind.REPORT))
    rows = table.rows[1:]
    assert len(rows) == 7
    for row, section in zip(rows, good_audit.sections, strict=False):
        assert row.cells[1].text == section.rating.value
        assert cell_fill(row.cells[1]) == RATING_FILLS[section.rating.value]
    assert rows[-1].cells[0].text == "Overall rating"
    assert cell_fill(rows[-1].cells[1]) == RATING_FILLS["Good"]


@pytest.mark.parametrize(
    "rating", [Rating.OUTSTANDING, Rating.GOOD, Rating.REQUIRES_IMPROVEMENT, Rating.INADEQUATE]
)
@pytest.mark.slow
def test_each_grade_has_its_own_fill_and_readable_text(
    rating: Rating, good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A grade's cell gets its fill; dark fills get white text."""
    sections = tuple(dataclasses.replace(s, rating=rating) for s in good_audit.sections)
    sub = dataclasses.replace(good_audit, sections=sections, overall_rating=rating)
    pack = make_pack(sub, the_rubric, tmp_path)
    cell = ratings_table(pack.path(DocKind.REPORT)).rows[1].cells[1]
    assert cell_fill(cell) == RATING_FILLS[rating.value]
    colours = {r.font.color.rgb for p in cell.paragraphs for r in p.runs if r.text.strip()}
    white = docx.shared.RGBColor(0xFF, 0xFF, 0xFF)
    assert (colours == {white}) is render.is_dark(RATING_FILLS[rating.value])


def _lightness(hex_colour: str) -> float:
    """CIE L* of an sRGB colour (how light it prints in greyscale)."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 116 * (y ** (1 / 3) if y > 0.008856 else 7.787 * y + 16 / 116) - 16


def test_grade_colours_differ_in_greyscale() -> None:
    """The four grades' fills are at least 12 L* apart, so a greyscale print tells them apart."""
    grades = [r.value for r in Rating if r is not Rating.NOT_APPLICABLE]
    values = sorted(_lightness(RATING_FILLS[g]) for g in grades)
    assert len(set(RATING_FILLS[g] for g in grades)) == 4
    assert min(b - a for a, b in itertools.pairwise(values)) >= 12


def test_report_shows_family_feedback_question_by_question(final_pack, the_rubric: Rubric) -> None:
    """Each answer appears under the rubric's wording of its question."""
    text = all_text(final_pack.path(DocKind.REPORT))
    for number, question in enumerate(the_rubric.family_feedback_questions, start=1):
        assert f"{number}. {question}" in text
    assert "Mother: She really listened to me and didn't judge." in text
    assert "Child (aged 9): She played games with me and asked about school." in text


@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        (Consent.DECLINED, "The family declined to give feedback."),
        (Consent.NOT_SOUGHT, "Feedback was not sought from the family."),
    ],
)
def test_report_says_why_there_is_no_family_feedback(
    consent: Consent, reason: str, good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Without consent the report gives the reason instead of the questions."""
    sub = dataclasses.replace(good_audit, family_consent=consent, feedback=())
    text = all_text(make_pack(sub, the_rubric, tmp_path).path(DocKind.REPORT))
    assert reason in text
    assert the_rubric.family_feedback_questions[0] not in text


def test_report_lists_compliance_gaps_and_practice_area_notes(final_pack) -> None:
    """Gaps show whether addressed; only the practice areas with notes are listed."""
    document = docx.Document(str(final_pack.path(DocKind.REPORT)))
    gaps = next(t for t in document.tables if t.rows[0].cells[0].text == "Area")
    assert [[c.text for c in r.cells] for r in gaps.rows[1:]] == [
        ["Chronology", "Chronology not updated since April 2026.", "30 Sep 2026", "Not yet"],
        ["Supervision", "August supervision not recorded.", "30 Sep 2026", "Yes"],
    ]
    areas = next(t for t in document.tables if t.rows[0].cells[0].text == "Area of practice")
    assert [r.cells[0].text for r in areas.rows[1:]] == [
        "Engaging families",
        "Joint working",
        "Impact and outcomes",
    ]


@pytest.mark.parametrize(
    ("agreement", "moderation", "expected", "absent"),
    [
        (Agreement.AGREE, None, [], ["Referred to the Head", "Selected for the moderation"]),
        (
            Agreement.DISAGREE,
            None,
            ["Referred to the Head of Quality Assurance"],
            ["Selected for the moderation"],
        ),
        (Agreement.AGREE, True, ["Selected for the moderation panel"], ["Referred to the Head"]),
        (
            Agreement.DISAGREE,
            True,
            ["Referred to the Head of Quality Assurance", "Selected for the moderation panel"],
            [],
        ),
    ],
)
@pytest.mark.slow
def test_status_lines(
    agreement: Agreement,
    moderation: bool | None,
    expected: list[str],
    absent: list[str],
    good_audit: Submission,
    the_rubric: Rubric,
    tmp_path: Path,
) -> None:
    """Disagreement and moderation sampling each add their status line to the report."""
    sub = dataclasses.replace(good_audit, practitioner_agreement=agreement)
    pack = make_pack(sub, the_rubric, tmp_path, moderation_selected=moderation)
    text = all_text(pack.path(DocKind.REPORT))
    for line in expected:
        assert line in text
    for line in absent:
        assert line not in text
    audit = json.loads((pack.directory / "audit.json").read_text("utf-8"))
    assert audit["referred"] is (agreement is Agreement.DISAGREE)
    assert audit["moderation_selected"] == moderation


# --- plan, insert, CSV, storyboard ------------------------------------------------------------


def test_plan_lists_actions_by_due_date_with_sign_off(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Actions appear sorted by due date, with section, owner and measure, then sign-off lines."""
    shuffled = tuple(reversed(good_audit.actions))
    pack = make_pack(dataclasses.replace(good_audit, actions=shuffled), the_rubric, tmp_path)
    document = docx.Document(str(pack.path(DocKind.PLAN)))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "No.")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert [r[4] for r in rows] == ["13 Nov 2026", "4 Dec 2026", "29 Jan 2027"]
    assert rows[0][2:4] == ["Basic information", "Tom Baxter"]
    assert rows[2][5] == "Supervision notes show visits recorded within two working days."
    sign_off = next(t for t in document.tables if t.rows[0].cells[0].text == "Role")
    assert [[r.cells[0].text, r.cells[1].text] for r in sign_off.rows[1:]] == [
        ["Practitioner", "Tom Baxter"],
        ["Manager", "Grace Mensah"],
    ]
    assert good_audit.practitioner_plan_feedback in all_text(pack.path(DocKind.PLAN))


def test_supervision_insert_has_people_actions_and_prompts(final_pack) -> None:
    """The insert names practitioner and manager, lists actions and one prompt per point."""
    text = all_text(final_pack.path(DocKind.SUPERVISION_INSERT))
    for expected in ("Tom Baxter", "Grace Mensah", "CSSW-2026-0142", "29 Jan 2027"):
        assert expected in text
    assert "The chronology has not been updated since the spring." in text
    assert "Father's views are not recorded in the assessment." in text
    document = docx.Document(str(final_pack.path(DocKind.SUPERVISION_INSERT)))
    prompts = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert len(prompts) == 2


def test_supervision_csv_opens_cleanly_in_excel(final_pack) -> None:
    """The CSV is UTF-8 with a BOM, has the agreed columns and dd/mm/yyyy dates by due date."""
    raw = (final_pack.directory / "supervision_actions.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(render.CSV_COLUMNS)
    assert [r[5] for r in rows[1:]] == ["13/11/2026", "04/12/2026", "29/01/2027"]
    assert {r[0] for r in rows[1:]} == {"CSSW-2026-0142"}


def test_csv_cells_cannot_become_excel_formulas(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Text starting with = or @ is written so Excel shows it as text."""
    action = Action('=HYPERLINK("http://x")', "Assessment", "@Tom", dt.date(2026, 11, 1), "ok")
    pack = make_pack(dataclasses.replace(good_audit, actions=(action,)), the_rubric, tmp_path)
    rows = list(csv.reader(io.StringIO((pack.directory / render.CSV_NAME).read_text("utf-8-sig"))))
    assert rows[1][2].startswith("'=") and rows[1][4] == "'@Tom"


def test_storyboard_credits_worker_and_never_names_the_child(
    final_pack, good_audit: Submission
) -> None:
    """The storyboard tells the story in panels and holds no child name or MOSAIC ID."""
    text = all_text(final_pack.path(DocKind.STORYBOARD))
    for heading in (
        "The context",
        "What we did",
        "The difference it made",
        "The voice of the child and family",
        "Learning for the service",
    ):
        assert heading in text
    assert good_audit.storyboard_title in text
    assert "Tom Baxter" in text and "Family Support & Intervention Team 3" in text
    document = docx.Document(str(final_pack.path(DocKind.STORYBOARD)))
    title = next(p for p in document.paragraphs if p.style.name == "Storyboard Title")
    assert title.style.font.size.pt >= 26 and title.style.base_style.name == "Heading 1"


def test_no_file_name_and_no_storyboard_holds_the_child_name_or_mosaic_id(final_pack) -> None:
    """The child's name and MOSAIC ID appear in no file name and not in the storyboard."""
    for f in final_pack.files:
        assert "Amara" not in f.name and "M1234567" not in f.name
    for path in (final_pack.path(DocKind.STORYBOARD),):
        text = all_text(path) + header_footer_text(path)
        assert "Amara" not in text and "Okafor" not in text and "M1234567" not in text


def test_storyboard_context_never_holds_child_identifiers(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """The storyboard's context carries neither the child's name nor the MOSAIC ID."""
    context = render.build_context(good_audit, the_rubric)
    dumped = json.dumps(render.for_document(DocKind.STORYBOARD, context))
    assert "Amara" not in dumped and "Okafor" not in dumped and "M1234567" not in dumped


@pytest.mark.parametrize(
    ("rating", "stage", "consent", "has_storyboard"),
    [
        (Rating.OUTSTANDING, Stage.FINAL, True, True),
        (Rating.GOOD, Stage.FINAL, True, True),
        (Rating.REQUIRES_IMPROVEMENT, Stage.FINAL, True, False),
        (Rating.INADEQUATE, Stage.FINAL, True, False),
        (Rating.GOOD, Stage.DRAFT, True, False),
        (Rating.GOOD, Stage.FINAL, False, False),
    ],
)
def test_storyboard_only_for_good_or_outstanding_final(
    rating: Rating,
    stage: Stage,
    consent: bool,
    has_storyboard: bool,
    good_audit: Submission,
    the_rubric: Rubric,
) -> None:
    """A storyboard comes with Good or Outstanding Final audits, unless sharing was refused."""
    sub = dataclasses.replace(
        good_audit, overall_rating=rating, audit_stage=stage, storyboard_consent=consent
    )
    assert (DocKind.STORYBOARD in render.document_kinds(sub)) is has_storyboard


@pytest.mark.parametrize("name", sorted(examples.VALID))
def test_every_valid_example_renders(name: str, the_rubric: Rubric, tmp_path: Path) -> None:
    """Each valid example audit becomes a pack whose report shows its overall rating."""
    sub = examples.example(name, the_rubric)
    pack = make_pack(sub, the_rubric, tmp_path)
    docs = [f.kind for f in pack.files if f.format is FileFormat.DOCX]
    assert docs == render.document_kinds(sub)
    table = ratings_table(pack.path(DocKind.REPORT))
    assert table.rows[-1].cells[1].text == sub.overall_rating.value


# --- awkward text ----------------------------------------------------------------------------

AWKWARD = "Fish & chips <b>bold</b> \"quoted\" 'single' 👍🏽 {{ evil }} {% if %} café"


@pytest.mark.slow
def test_awkward_text_renders_literally(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Ampersands, angle brackets, quotes, emoji and Jinja-looking text appear exactly as typed."""
    sections = tuple(dataclasses.replace(s, strengths=AWKWARD) for s in good_audit.sections)
    sub = dataclasses.replace(
        good_audit,
        team="Team <A> & B",
        practitioner_name="Zoë Ødegård",
        manager_name="محمد",
        auditor_name="李小龍",
        overall_summary=AWKWARD,
        sections=sections,
        storyboard_title="{{ audit_ref }} & <friends>",
        actions=(Action(AWKWARD, "Assessment", "Zoë Ødegård", dt.date(2026, 11, 1), AWKWARD),),
    )
    pack = make_pack(sub, the_rubric, tmp_path)
    report = all_text(pack.path(DocKind.REPORT))
    assert report.count(AWKWARD) == 7
    for name in ("Team <A> & B", "Zoë Ødegård", "محمد", "李小龍"):
        assert name in report
    assert AWKWARD in all_text(pack.path(DocKind.PLAN))
    assert "Zoë Ødegård" in all_text(pack.path(DocKind.SUPERVISION_INSERT))
    assert "{{ audit_ref }} & <friends>" in all_text(pack.path(DocKind.STORYBOARD))


@pytest.mark.slow
def test_long_evidence_and_line_breaks_keep_every_paragraph(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """5,000 characters of evidence survive whole; each typed line becomes its own paragraph."""
    long_text = ("The worker visited weekly and recorded the child's words. " * 90)[:5000].strip()
    multi = "First paragraph.\nSecond paragraph.\r\nThird paragraph."
    sections = list(good_audit.sections)
    sections[0] = dataclasses.replace(sections[0], evidence=long_text, strengths=multi)
    sub = dataclasses.replace(good_audit, sections=tuple(sections), storyboard_impact=multi)
    pack = make_pack(sub, the_rubric, tmp_path)
    document = docx.Document(str(pack.path(DocKind.REPORT)))
    texts = [p.text for p in document.paragraphs]
    assert long_text in texts
    i = texts.index("First paragraph.")
    assert texts[i : i + 3] == ["First paragraph.", "Second paragraph.", "Third paragraph."]
    story = all_text(pack.path(DocKind.STORYBOARD)).splitlines()
    assert "Second paragraph." in story and "Third paragraph." in story


@pytest.mark.slow
def test_sixty_actions_all_render_in_due_date_order(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A plan of 60 actions has 60 rows, earliest first, with a repeating heading row."""
    start = dt.date(2026, 11, 1)
    actions = tuple(
        Action(f"Action {i}", "Planning", "Tom Baxter", start + dt.timedelta(days=(i * 7) % 60), "")
        for i in range(60)
    )
    pack = make_pack(dataclasses.replace(good_audit, actions=actions), the_rubric, tmp_path)
    document = docx.Document(str(pack.path(DocKind.PLAN)))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "No.")
    assert len(table.rows) == 61
    assert [r.cells[0].text for r in table.rows[1:]] == [str(n) for n in range(1, 61)]
    ordered = sorted(actions, key=lambda a: a.due)
    assert [r.cells[1].text for r in table.rows[1:]] == [a.action for a in ordered]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    rows = list(csv.reader(io.StringIO((pack.directory / render.CSV_NAME).read_text("utf-8-sig"))))
    assert len(rows) == 61


def test_control_characters_do_not_corrupt_documents(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Stray control characters from a pasted cell are dropped, and the document still opens."""
    sub = dataclasses.replace(good_audit, overall_summary="Before\x00\x0b\x1fafter\tend")
    text = all_text(make_pack(sub, the_rubric, tmp_path).path(DocKind.REPORT))
    assert "Beforeafter" in text


# --- audit.json, manifest and versions --------------------------------------------------------


def test_audit_json_and_manifest_describe_the_pack(final_pack, the_rubric: Rubric) -> None:
    """audit.json holds the audit and pack flags; the manifest hashes every file."""
    audit = json.loads((final_pack.directory / "audit.json").read_text("utf-8"))
    assert audit["audit_ref"] == "CSSW-2026-0142"
    assert (audit["stage"], audit["version"], audit["referred"]) == ("Final", 1, False)
    assert len(audit["actions"]) == 3
    manifest = json.loads((final_pack.directory / "manifest.json").read_text("utf-8"))
    assert manifest["source_sha256"] == "a" * 64
    assert manifest["rubric_version"] == the_rubric.version
    assert manifest["created_utc"] == "2026-10-20T09:30:00Z"
    assert set(manifest["templates"]) == {"report", "plan", "supervision_insert", "storyboard"}
    assert manifest["templates"]["report"]["version"] == "1.2"
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == {f.name for f in final_pack.files} | {"audit.json"}
    assert (listed["audit.json"]["kind"], listed["audit.json"]["format"]) == ("audit_json", "json")
    assert (
        listed["supervision_actions.csv"]["kind"],
        listed["supervision_actions.csv"]["format"],
    ) == (
        "actions_csv",
        "csv",
    )
    for name, entry in listed.items():
        data = (final_pack.directory / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)


@pytest.mark.slow
def test_same_workbook_reuses_its_version_and_a_changed_one_gets_the_next(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """Re-rendering the same workbook overwrites its folder; a revised workbook makes v2."""
    first = make_pack(good_audit, the_rubric, tmp_path, source_sha256="1" * 64)
    again = make_pack(good_audit, the_rubric, tmp_path, source_sha256="1" * 64)
    revised = make_pack(good_audit, the_rubric, tmp_path, source_sha256="2" * 64)
    draft = make_pack(
        dataclasses.replace(good_audit, audit_stage=Stage.DRAFT),
        the_rubric,
        tmp_path,
        source_sha256="3" * 64,
    )
    assert (first.version, again.version, revised.version, draft.version) == (1, 1, 2, 1)
    assert again.directory == first.directory
    ref_dir = tmp_path / "CSSW-2026-0142"
    visible = sorted(p.name for p in ref_dir.iterdir() if not p.name.startswith("."))
    assert visible == ["draft-v1", "final-v1", "final-v2"]
    assert not [p for p in ref_dir.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def test_explicit_version_is_used(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A caller may name the version."""
    pack = make_pack(good_audit, the_rubric, tmp_path, version=7)
    assert pack.directory.name == "final-v7"


@pytest.mark.slow
def test_a_failed_render_leaves_no_pack_and_keeps_the_old_one(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash mid-pack leaves neither a half-written folder nor damage to the earlier pack."""
    good = make_pack(good_audit, the_rubric, tmp_path)
    before = {p.name: p.read_bytes() for p in good.directory.iterdir()}
    real = render.render_document
    calls = []

    def failing(template, context, out, now=None):
        calls.append(out)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(template, context, out, now)

    monkeypatch.setattr(render.pack, "render_document", failing)
    with pytest.raises(OSError):
        make_pack(good_audit, the_rubric, tmp_path)
    ref_dir = tmp_path / "CSSW-2026-0142"
    assert sorted(p.name for p in ref_dir.iterdir() if p.is_dir()) == ["final-v1"]
    assert {p.name: p.read_bytes() for p in good.directory.iterdir()} == before


def test_unsafe_reference_is_refused(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A reference that could escape the outbox is refused with a plain message."""
    sub = dataclasses.replace(good_audit, audit_ref="../../etc")
    with pytest.raises(render.RenderError, match="cannot be used as a folder name"):
        make_pack(sub, the_rubric, tmp_path)


@pytest.mark.slow
def test_reference_with_underscores_renders(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A reference the rulebook accepts, such as CSSW_2026_0142, makes a pack (it was refused)."""
    sub = dataclasses.replace(good_audit, audit_ref="CSSW_2026_0142")
    pack = make_pack(sub, the_rubric, tmp_path)
    assert pack.directory == tmp_path / "CSSW_2026_0142" / "final-v1"
    assert pack.path(DocKind.REPORT).name == "CSSW_2026_0142 Audit report.docx"


# --- templates folder ----------------------------------------------------------------------


@pytest.mark.slow
def test_templates_dir_overrides_file_by_file(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """An edited report template in the override folder is used; other documents stay standard."""
    custom = tmp_path / "custom"
    custom.mkdir()
    edited = docx.Document(str(render.packaged_templates_dir() / "audit_report.docx"))
    edited.add_paragraph("Edited by the QA unit for {{ audit_ref }}")
    edited.save(str(custom / "audit_report.docx"))
    settings = dataclasses.replace(NO_PDF, templates_dir=custom)
    pack = make_pack(good_audit, the_rubric, tmp_path / "out", settings=settings)
    assert "Edited by the QA unit for CSSW-2026-0142" in all_text(pack.path(DocKind.REPORT))
    assert "SMART audit plan" in all_text(pack.path(DocKind.PLAN))


@pytest.mark.slow
def test_templates_are_compiled_once_and_an_edited_template_is_used(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A second pack reuses the compiled templates; an edited template still takes effect."""
    make_pack(good_audit, the_rubric, tmp_path / "first")
    compiled = dict(render.jinja_env()._compiled)
    make_pack(good_audit, the_rubric, tmp_path / "second")
    assert render.jinja_env()._compiled == compiled
    custom = tmp_path / "custom"
    custom.mkdir()
    edited = docx.Document(str(render.packaged_templates_dir() / "audit_plan.docx"))
    edited.add_paragraph("Plan edited today for {{ audit_ref }}")
    edited.save(str(custom / "audit_plan.docx"))
    settings = dataclasses.replace(NO_PDF, templates_dir=custom)
    pack = make_pack(good_audit, the_rubric, tmp_path / "third", settings=settings)
    assert "Plan edited today for CSSW-2026-0142" in all_text(pack.path(DocKind.PLAN))


def test_missing_templates_dir_is_a_plain_error(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A templates folder that does not exist is named in the error."""
    settings = dataclasses.replace(NO_PDF, templates_dir=tmp_path / "nowhere")
    with pytest.raises(render.RenderError, match="does not exist"):
        make_pack(good_audit, the_rubric, tmp_path / "out", settings=settings)


def test_broken_template_gives_a_render_error_naming_it(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """An undefined variable in an edited template is an error that names the template."""
    custom = tmp_path / "custom"
    custom.mkdir()
    edited = docx.Document(str(render.packaged_templates_dir() / "audit_plan.docx"))
    edited.add_paragraph("{{ audit.colour }}")
    edited.save(str(custom / "audit_plan.docx"))
    settings = dataclasses.replace(NO_PDF, templates_dir=custom)
    with pytest.raises(render.RenderError, match=r"audit_plan\.docx.*templates check"):
        make_pack(good_audit, the_rubric, tmp_path / "out", settings=settings)
    assert not (tmp_path / "out" / "CSSW-2026-0142" / "final-v1").exists()


def test_packaged_templates_are_found() -> None:
    """In a source checkout the default templates are the repo's templates/ folder."""
    folder = render.packaged_templates_dir()
    assert {p.name for p in folder.glob("*.docx")} >= {t for t, _ in render.DOCUMENTS.values()}


# --- PDFs when LibreOffice is missing ---------------------------------------------------------


def test_missing_libreoffice_still_gives_the_docx_pack_and_one_clear_line(
    good_audit: Submission,
    the_rubric: Rubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without LibreOffice the Word pack is made and one log line says how to get PDFs."""
    monkeypatch.setattr(pdf, "soffice_path", lambda: None)
    settings = dataclasses.replace(NO_PDF, pdf=True)
    with caplog.at_level(logging.WARNING, logger="cssw_docs"):
        pack = make_pack(good_audit, the_rubric, tmp_path, settings=settings)
    assert not [f for f in pack.files if f.format is FileFormat.PDF]
    assert pack.path(DocKind.REPORT).exists()
    lines = [r.getMessage() for r in caplog.records if "LibreOffice" in r.getMessage()]
    assert len(lines) == 1 and "Install LibreOffice" in lines[0]


def test_context_keys_never_hide_dict_methods(good_audit: Submission, the_rubric: Rubric) -> None:
    """No context key is named like a dict method (Jinja would find the method instead)."""
    methods = set(dir(dict))

    def keys(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from keys(v)
        elif isinstance(value, list):
            for v in value:
                yield from keys(v)

    assert not set(keys(render.build_context(good_audit, the_rubric))) & methods


@pytest.mark.slow
def test_untouched_sections_are_shown_as_not_applicable(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A Not applicable section says so instead of showing empty evidence."""
    sections = list(good_audit.sections)
    sections[0] = SectionAssessment("referral", Rating.NOT_APPLICABLE)
    sub = dataclasses.replace(good_audit, sections=tuple(sections))
    text = all_text(make_pack(sub, the_rubric, tmp_path).path(DocKind.REPORT))
    assert "This section was not applicable to this audit." in text


def test_feedback_without_a_question_number_is_kept(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """An answer whose question number is missing appears under Other comments."""
    extra = FeedbackResponse("Father", None, "Nobody asked me before.")
    sub = dataclasses.replace(good_audit, feedback=(*good_audit.feedback, extra))
    text = all_text(make_pack(sub, the_rubric, tmp_path).path(DocKind.REPORT))
    assert "6. Other comments" in text and "Father: Nobody asked me before." in text


@pytest.mark.parametrize("with_state", [True, False])
def test_no_lock_file_is_left_in_the_outbox(good_audit, the_rubric, tmp_path, with_state):
    """Auditors open the outbox on a share: the lock taken while a pack is written lives
    in the service's state folder (or a private temporary folder), never beside the packs,
    and one an older release left behind is removed."""
    outbox = tmp_path / "outbox"
    (outbox / good_audit.audit_ref).mkdir(parents=True)
    (outbox / good_audit.audit_ref / ".lock").write_text("")  # left by an older release
    locks = tmp_path / "state" / "locks"
    make_pack(good_audit, the_rubric, outbox, lock_dir=locks if with_state else None)
    make_pack(
        good_audit,
        the_rubric,
        outbox,
        lock_dir=locks if with_state else None,
        source_sha256="b" * 64,
    )
    assert [p for p in outbox.rglob("*") if "lock" in p.name] == []
    assert len(list(locks.glob("*.lock")) if with_state else []) == (1 if with_state else 0)
