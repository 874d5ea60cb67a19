"""Reading a filled intake workbook into a Submission, by defined names and table names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cssw_docs import examples
from cssw_docs.models import (
    Action,
    Agreement,
    Consent,
    FeedbackResponse,
    PracticeAreaNote,
    Rating,
    SectionAssessment,
    Severity,
    Stage,
    Submission,
)
from cssw_docs.rubric import Rubric
from cssw_docs.workbook import layout
from cssw_docs.workbook.generate import new_workbook, write_submission
from cssw_docs.workbook.parse import read_workbook
from workbook_support import example_bytes

DATA = Path(__file__).parent / "data"
_ITEMS = ("actions", "feedback", "gaps", "descriptors", "practice_areas")


@pytest.fixture(scope="module")
def good_bytes() -> bytes:
    """The bytes of the example audit's workbook (written once per test process)."""
    return example_bytes("good")


@pytest.fixture
def good_path(good_bytes: bytes, tmp_path: Path) -> Path:
    """A fresh copy of the example audit's workbook to edit."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(good_bytes)
    return path


def without_rows(sub: Submission) -> Submission:
    """Return ``sub`` with the sheet row numbers of its table items cleared."""
    return dataclasses.replace(
        sub,
        **{k: tuple(dataclasses.replace(i, row=None) for i in getattr(sub, k)) for k in _ITEMS},
    )


def _cell(wb: openpyxl.Workbook, name: str) -> Any:
    ((sheet, ref),) = tuple(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")]


@functools.lru_cache(maxsize=1)
def _opened(data: bytes) -> openpyxl.Workbook:
    """Return workbook ``data`` opened with openpyxl; the last one is kept for the next edit."""
    return openpyxl.load_workbook(io.BytesIO(data))


def _typed_in(path: Path, edits: list[tuple[Callable[[openpyxl.Workbook], Any], Any]]) -> None:
    """Save ``path`` with (cell finder, value) edits typed in through openpyxl.

    Edits of the same workbook share one openpyxl load: after saving, every edited cell gets
    its value and number format back, so the next edit starts from the original workbook.
    """
    wb = _opened(path.read_bytes())
    cells = [find(wb) for find, _ in edits]
    before = [(cell.value, cell.number_format) for cell in cells]
    try:
        for cell, (_, value) in zip(cells, edits, strict=True):
            cell.value = value
        wb.save(path)
    finally:
        for cell, (value, number_format) in zip(reversed(cells), reversed(before), strict=True):
            cell.value = value
            cell.number_format = number_format


def _edited(path: Path, **values: Any) -> Path:
    """Return ``path`` after setting the cells of some defined names, as an auditor would."""
    _typed_in(path, [(functools.partial(_cell, name=name), v) for name, v in values.items()])
    return path


def _table_cells(path: Path, sub: Submission, edits: list[tuple[str, Any, str, Any]]) -> None:
    """Set (table, sheet row, header, value) cells, as an auditor typing into the tables."""
    found = []
    for table, row, header, value in edits:
        loc = sub.cell_of(table, row, header)
        assert loc is not None
        found.append((lambda wb, loc=loc: wb[loc.sheet][loc.cell], value))
    _typed_in(path, found)


def _variants(rubric: Rubric) -> dict[str, Submission]:
    good = examples.good(rubric)
    return {
        "good": good,
        "draft with gaps": dataclasses.replace(
            good,
            audit_stage=Stage.DRAFT,
            overall_rating=Rating.INADEQUATE,
            practitioner_agreement=None,
            practitioner_feedback="",
            storyboard_consent=None,
            storyboard_title="",
            family_consent=Consent.NOT_SOUGHT,
            discussion_minutes=None,
            audit_date=None,
            sections=(
                SectionAssessment("referral", Rating.NOT_APPLICABLE),
                *(SectionAssessment(k, None) for k in layout.SECTION_KEYS[1:5]),
                SectionAssessment("management_oversight", Rating.INADEQUATE, "Line one\nline two"),
            ),
            actions=(Action(action="Only the action is written"),),
            feedback=(FeedbackResponse("Father", 5, ""),),
            gaps=(),
        ),
        "outstanding with an extra area": dataclasses.replace(
            good,
            overall_rating=Rating.OUTSTANDING,
            practitioner_agreement=Agreement.PARTLY_AGREE,
            storyboard_consent=False,
            practice_areas=(*good.practice_areas, PracticeAreaNote("Housing", "Temporary flat")),
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["good", "draft with gaps", "outstanding with an extra area"])
def test_round_trip(variant: str, the_rubric: Rubric, tmp_path: Path) -> None:
    """Reading back a workbook written from an audit gives the same audit, with no findings."""
    sub = _variants(the_rubric)[variant]
    path = write_submission(sub, tmp_path / "audit.xlsx", the_rubric)
    got = read_workbook(path, the_rubric)
    assert got.parse_findings == ()
    assert without_rows(got) == sub


@pytest.mark.slow
def test_blank_workbook_reads_as_empty(the_rubric: Rubric, tmp_path: Path) -> None:
    """The blank template has the version, pre-filled descriptors and areas, and nothing else."""
    got = read_workbook(new_workbook(tmp_path / "blank.xlsx", the_rubric), the_rubric)
    assert got.parse_findings == ()
    assert got.template_version == layout.TEMPLATE_VERSION
    assert got.audit_ref == "" and got.audit_date is None and got.overall_rating is None
    assert got.actions == () and got.feedback == () and got.gaps == ()
    assert len(got.descriptors) == sum(
        len(s.of_grade(g))
        for s in the_rubric.sections
        for g in ("Good", "Requires improvement", "Inadequate")
    )
    assert not any(d.evidenced for d in got.descriptors)
    assert [a.area for a in got.practice_areas] == list(the_rubric.core_areas)


def test_locations_point_at_the_cells(good_path: Path, the_rubric: Rubric) -> None:
    """Every defined name and table has a location; table cells resolve through cell_of."""
    path = good_path
    got = read_workbook(path, the_rubric)
    wb = openpyxl.load_workbook(path)
    for f in layout.all_fields(the_rubric):
        loc = got.where(f.name)
        assert loc is not None, f.name
        assert (
            _cell(wb, f.name).coordinate == loc.cell and _cell(wb, f.name).parent.title == loc.sheet
        )
    for t in layout.TABLES:
        loc = got.where(t.name)
        assert loc is not None
        assert wb[loc.sheet][loc.cell].value == t.headers[0]
        assert set(got.table_columns[t.name]) == set(t.headers)
    second = got.actions[1]
    loc = got.cell_of("AuditPlan", second.row, "Owner")
    assert loc is not None and wb[loc.sheet][loc.cell].value == second.owner
    question = got.cell_of("FamilyFeedback", got.feedback[0].row, "Question")
    assert question is not None and wb[question.sheet][question.cell].value == 1


DATES = [
    (dt.datetime(2026, 1, 31, 0, 0), dt.date(2026, 1, 31)),
    (dt.date(2026, 1, 31), dt.date(2026, 1, 31)),
    (46053, dt.date(2026, 1, 31)),
    (46053.0, dt.date(2026, 1, 31)),
    ("31/01/2026", dt.date(2026, 1, 31)),
    ("31-1-26", dt.date(2026, 1, 31)),
    ("2026-01-31", dt.date(2026, 1, 31)),
    ("1/2/26", dt.date(2026, 2, 1)),
    (" 31.01.2026 ", dt.date(2026, 1, 31)),
    ("31 January 2026", dt.date(2026, 1, 31)),
    ("1st Feb 2026", dt.date(2026, 2, 1)),
    ("46053", dt.date(2026, 1, 31)),
    ("31/01/2026 00:00", dt.date(2026, 1, 31)),
]


@pytest.mark.parametrize(("typed", "expected"), DATES)
def test_dates(typed: Any, expected: dt.date, good_path: Path, the_rubric: Rubric) -> None:
    """Real dates, Excel serial numbers and UK text dates are all read as dates (day first)."""
    path = good_path
    got = read_workbook(_edited(path, audit_date=typed), the_rubric)
    assert got.audit_date == expected
    assert got.parse_findings == ()


@pytest.mark.parametrize("typed", ["31/02/2026", "next Tuesday", "13/13/13", "2026-31-01", -5])
def test_unreadable_date_is_a_finding(typed: Any, good_path: Path, the_rubric: Rubric) -> None:
    """A date that cannot be understood is left empty with a parse.date error at its cell."""
    path = good_path
    got = read_workbook(_edited(path, review_period_end=typed), the_rubric)
    assert got.review_period_end is None
    (finding,) = got.parse_findings
    assert finding.code == "parse.date"
    assert finding.severity is Severity.ERROR
    assert finding.location == got.where("review_period_end")
    assert "Case files reviewed to" in finding.message and "dd/mm/yyyy" in finding.message


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("audit_date", "parse.date"),
        ("discussion_minutes", "parse.number"),
        ("audit_stage", "parse.choice"),
    ],
)
def test_a_name_typed_into_a_checked_cell_is_never_echoed(
    name: str, kind: str, good_path: Path, the_rubric: Rubric
) -> None:
    """'Amara Okafor' typed into a date, number or choice cell: the message names the cell only.

    The message goes to the auditor by email and into the problems file beside the workbook.
    """
    got = read_workbook(_edited(good_path, **{name: "Amara Okafor M1234567"}), the_rubric)
    (finding,) = got.parse_findings
    assert finding.code == kind and finding.location == got.where(name)
    for secret in ("Amara", "Okafor", "1234567"):
        assert secret not in finding.message


CHOICES = [
    ("overall_rating", " good ", "overall_rating", Rating.GOOD),
    (
        "overall_rating",
        "REQUIRES IMPROVEMENT TO BE GOOD",
        "overall_rating",
        Rating.REQUIRES_IMPROVEMENT,
    ),
    ("overall_rating", "Requires  improvement", "overall_rating", Rating.REQUIRES_IMPROVEMENT),
    ("audit_stage", "final", "audit_stage", Stage.FINAL),
    ("audit_type", "  thematic", "audit_type", "Thematic"),
    ("audit_type", "early help / front door", "audit_type", "Early Help/Front Door"),
    ("discussion_mode", "face-to-face", "discussion_mode", "Face to face"),
    ("family_consent", "yes", "family_consent", Consent.YES),
    ("family_consent", "not Sought", "family_consent", Consent.NOT_SOUGHT),
    ("practitioner_agreement", "partly AGREE", "practitioner_agreement", Agreement.PARTLY_AGREE),
    ("storyboard_consent", "y", "storyboard_consent", True),
    ("storyboard_consent", "FALSE", "storyboard_consent", False),
    ("storyboard_consent", True, "storyboard_consent", True),
    ("storyboard_consent", " No ", "storyboard_consent", False),
]


@pytest.mark.parametrize(("name", "typed", "attr", "expected"), CHOICES)
def test_choices_tolerate_case_and_spaces(
    name: str,
    typed: Any,
    attr: str,
    expected: Any,
    good_path: Path,
    the_rubric: Rubric,
) -> None:
    """Dropdown values typed with stray case, spaces or the long rating name are understood."""
    path = good_path
    got = read_workbook(_edited(path, **{name: typed}), the_rubric)
    assert getattr(got, attr) == expected
    assert got.parse_findings == ()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("n/a", Rating.NOT_APPLICABLE),
        ("inadequate ", Rating.INADEQUATE),
        ("RI", Rating.REQUIRES_IMPROVEMENT),
    ],
)
def test_section_rating(typed: str, expected: Rating, good_path: Path, the_rubric: Rubric) -> None:
    """Section ratings accept Not applicable and loose spellings too."""
    path = good_path
    got = read_workbook(_edited(path, planning_rating=typed), the_rubric)
    assert got.section("planning").rating == expected


@pytest.mark.parametrize(
    ("name", "typed", "label"),
    [
        ("overall_rating", "Gud", "Overall rating"),
        ("audit_type", "Spot check", "Type of audit"),
        ("assessment_rating", "Excellent", "Assessment: rating"),
        ("storyboard_consent", "Maybe", "Consent to share within the service"),
    ],
)
def test_unknown_choice_is_a_finding(
    name: str, typed: str, label: str, good_path: Path, the_rubric: Rubric
) -> None:
    """A value outside the dropdown's list is left empty with a parse.choice error naming it."""
    path = good_path
    got = read_workbook(_edited(path, **{name: typed}), the_rubric)
    (finding,) = got.parse_findings
    assert finding.code == "parse.choice"
    assert finding.location == got.where(name)
    assert label in finding.message and typed not in finding.message


@pytest.mark.parametrize(
    ("typed", "expected"), [(45, 45), (45.0, 45), ("55 mins", 55), ("1 hour", 60), (" 30 ", 30)]
)
def test_minutes(typed: Any, expected: int, good_path: Path, the_rubric: Rubric) -> None:
    """The discussion's length is read as whole minutes from numbers or short text."""
    path = good_path
    got = read_workbook(_edited(path, discussion_minutes=typed), the_rubric)
    assert got.discussion_minutes == expected


def test_minutes_not_a_number(good_path: Path, the_rubric: Rubric) -> None:
    """Text that is not a number of minutes is a parse.number error."""
    path = good_path
    got = read_workbook(_edited(path, discussion_minutes="about an hour"), the_rubric)
    assert got.discussion_minutes is None
    assert [f.code for f in got.parse_findings] == ["parse.number"]


def test_text_is_stripped_and_keeps_line_breaks(good_path: Path, the_rubric: Rubric) -> None:
    """Surrounding whitespace goes; line breaks inside text stay, as \\n."""
    path = good_path
    got = read_workbook(
        _edited(
            path, overall_summary="  First line\r\nSecond line\rThird  \n", child_mosaic_id=1234567
        ),
        the_rubric,
    )
    assert got.overall_summary == "First line\nSecond line\nThird"
    assert got.child_mosaic_id == "1234567"


def test_formulas_are_not_evaluated(good_path: Path, the_rubric: Rubric) -> None:
    """A formula is never run: without a value saved by Excel the cell reads as empty."""
    path = good_path
    got = read_workbook(_edited(path, team='=WEBSERVICE("http://example.invalid/x")'), the_rubric)
    assert got.team == ""


def test_table_values_are_read_loosely(good_path: Path, the_rubric: Rubric) -> None:
    """Sections, question numbers, dates and Yes/No in tables accept the forms auditors type."""
    path = good_path
    first = read_workbook(path, the_rubric)
    a0, a1, a2 = (a.row for a in first.actions)
    edits = [
        ("AuditPlan", a0, "Section", "  basic INFORMATION "),
        ("AuditPlan", a1, "Section", "management_oversight"),
        ("AuditPlan", a1, "Due date", "4/12/26"),
        ("AuditPlan", a2, "Due date", 46416),
        ("FamilyFeedback", first.feedback[0].row, "Question", "Q3"),
        ("FamilyFeedback", first.feedback[1].row, "Question", "3.0"),
        ("FamilyFeedback", first.feedback[2].row, "Question", 4.0),
        ("ComplianceGaps", first.gaps[0].row, "Addressed", "y"),
        ("ComplianceGaps", first.gaps[1].row, "Raised on", "30-9-2026"),
        ("Descriptors", first.descriptors[0].row, "Evidenced", " YES"),
        ("Descriptors", first.descriptors[1].row, "Grade", "good"),
    ]
    _table_cells(path, first, edits)
    got = read_workbook(path, the_rubric)
    assert got.parse_findings == ()
    assert [a.section for a in got.actions] == [
        "Basic information",
        "Management oversight",
        "Management oversight",
    ]
    assert [a.due for a in got.actions] == [
        dt.date(2026, 11, 13),
        dt.date(2026, 12, 4),
        dt.date(2027, 1, 29),
    ]
    assert [f.question for f in got.feedback[:3]] == [3, 3, 4]
    assert got.gaps[0].addressed is True
    assert got.gaps[1].raised_on == dt.date(2026, 9, 30)
    assert got.descriptors[0].evidenced is True
    assert got.descriptors[1].grade == "Good"


@pytest.mark.parametrize(
    ("table", "header", "value", "code"),
    [
        ("AuditPlan", "Section", "Plannning", "parse.choice"),
        ("AuditPlan", "Due date", "end of term", "parse.date"),
        ("FamilyFeedback", "Question", "7", "parse.number"),
        ("FamilyFeedback", "Question", "How are you?", "parse.number"),
        ("ComplianceGaps", "Addressed", "partly", "parse.choice"),
        ("Descriptors", "Evidenced", "sort of", "parse.choice"),
    ],
)
def test_unreadable_table_value_is_a_finding_at_its_cell(
    table: str,
    header: str,
    value: str,
    code: str,
    good_path: Path,
    the_rubric: Rubric,
) -> None:
    """A table value that cannot be understood is an error pointing at its own cell."""
    path = good_path
    first = read_workbook(path, the_rubric)
    items = {
        "AuditPlan": first.actions,
        "FamilyFeedback": first.feedback,
        "ComplianceGaps": first.gaps,
    }
    row = items.get(table, first.descriptors)[0].row
    assert row is not None
    _table_cells(path, first, [(table, row, header, value)])
    got = read_workbook(path, the_rubric)
    (finding,) = got.parse_findings
    assert finding.code == code
    assert finding.location == got.cell_of(table, row, header)
    assert header in finding.message and f"row {row}" in finding.message
    assert str(value) not in finding.message  # the cell is named, its value never quoted


def test_empty_rows_are_ignored(good_path: Path, the_rubric: Rubric) -> None:
    """Blank or whitespace-only rows inside a table are skipped; the rest keep their row numbers."""
    path = good_path
    first = read_workbook(path, the_rubric)
    middle = first.actions[1].row
    assert middle is not None
    blank = [
        ("AuditPlan", middle, h, "  " if h == "Owner" else None)
        for h in layout.table("AuditPlan").headers
    ]
    _table_cells(path, first, blank)
    got = read_workbook(path, the_rubric)
    assert [a.row for a in got.actions] == [first.actions[0].row, first.actions[2].row]


@pytest.mark.slow
def test_entry_below_the_table_is_a_warning(good_path: Path, the_rubric: Rubric) -> None:
    """Something typed just under a table is not read, and the auditor is told so."""
    path = good_path
    wb = openpyxl.load_workbook(path)
    ws = wb["Audit plan"]
    table = ws.tables["AuditPlan"]
    last = int(table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    ws.cell(last + 1, 1).value = "An action typed under the table"
    wb.save(path)
    got = read_workbook(path, the_rubric)
    (finding,) = got.parse_findings
    assert (finding.code, finding.severity) == ("parse.below_table", Severity.WARNING)
    assert finding.location is not None and finding.location.cell == f"A{last + 1}"


def test_lost_name_header_and_table(good_path: Path, the_rubric: Rubric) -> None:
    """A deleted defined name, a renamed heading or a removed table each give one error."""
    path = good_path
    wb = openpyxl.load_workbook(path)
    del wb.defined_names["team"]
    wb["Compliance gaps"]["B3"] = "What was missing"
    del wb["Practice areas"].tables["PracticeAreas"]
    wb.save(path)
    got = read_workbook(path, the_rubric)
    assert sorted(f.code for f in got.parse_findings) == [
        "parse.missing_name",
        "parse.missing_table",
        "parse.table_header",
    ]
    assert got.team == "" and got.practice_areas == ()
    assert all(g.gap == "" for g in got.gaps) and got.gaps[0].area == "Chronology"


def test_libreoffice_fixture(the_rubric: Rubric) -> None:
    """A workbook filled in and saved by LibreOffice Calc (kept in tests/data) reads cleanly."""
    path = DATA / "good-libreoffice.xlsx"
    with zipfile.ZipFile(path) as z:
        assert b"LibreOffice" in z.read("docProps/app.xml")
    got = read_workbook(path, the_rubric)
    assert got.parse_findings == ()
    assert got.audit_ref == "CSSW-2026-0142"
    assert got.audit_date == dt.date(2026, 10, 14)
    assert got.overall_rating is Rating.GOOD
    assert got.section("basic_information").rating is Rating.REQUIRES_IMPROVEMENT
    assert len(got.actions) == 3 and got.actions[1].due == dt.date(2026, 12, 4)
    assert "\n" in got.overall_summary


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_round_trip(
    soffice: str, good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A workbook re-saved by LibreOffice (soffice --convert-to xlsx) reads as the same audit."""
    source = write_submission(good_audit, tmp_path / "in" / "audit.xlsx", the_rubric)
    out = tmp_path / "out"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    saved = out / "audit.xlsx"
    assert saved.read_bytes() != source.read_bytes()
    got = read_workbook(saved, the_rubric)
    assert got.parse_findings == ()
    assert without_rows(got) == good_audit
