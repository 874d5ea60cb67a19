"""The findings text an auditor receives: a verdict, then numbered errors, then warnings."""

from __future__ import annotations

import pytest

from cssw_docs.explain import PROGRAMME, WIDTH, explain, place, verdict
from cssw_docs.models import Finding, Location, Report, Severity

E, W = Severity.ERROR, Severity.WARNING

NO_EVIDENCE = Finding(
    "section.no_evidence",
    E,
    "The Assessment section is rated Good but has no evidence. Write the evidence for your "
    "rating in “Assessment: evidence”.",
    Location("Ratings", "C12"),
)
NO_OWNER = Finding(
    "plan.no_owner",
    E,
    "Action 1 in the audit plan has no owner. Write who will do it.",
    Location("Audit plan", "C7"),
)
UNREADABLE = Finding("workbook.corrupt", E, "This workbook could not be read.")
LONG_TALK = Finding(
    "dates.discussion_long",
    W,
    "The case discussion lasted 90 minutes. The guide asks for no longer than 60: check the "
    "length is right.",
    Location("Details", "C20"),
)


@pytest.mark.parametrize(
    ("report", "name", "expected"),
    [
        (
            Report((NO_EVIDENCE, NO_OWNER, UNREADABLE)),
            "",
            "This workbook cannot be turned into an audit pack yet: 3 problems to fix.",
        ),
        (
            Report((UNREADABLE,)),
            "audit.xlsx",
            "This workbook (audit.xlsx) cannot be turned into an audit pack yet: 1 problem to fix.",
        ),
        (Report((LONG_TALK,)), "", "This workbook is ready. 1 point to check:"),
        (Report((LONG_TALK, LONG_TALK)), "", "This workbook is ready. 2 points to check:"),
        (Report(), "", "This workbook is ready. Nothing to fix."),
    ],
)
def test_verdict(report: Report, name: str, expected: str) -> None:
    """The first line says whether the pack can be made and how many things to look at."""
    assert verdict(report, source_name=name) == expected
    assert explain(report, source_name=name).splitlines()[0] == expected


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (Location("Ratings", "C12"), "Ratings sheet, cell C12"),
        (Location("Ratings", "$C$12"), "Ratings sheet, cell C12"),
        (Location("Audit plan", "A5:E24"), "Audit plan sheet, cells A5:E24"),
        (Location("Ratings", ""), "Ratings sheet"),
        (None, ""),
    ],
)
def test_place(location: Location | None, expected: str) -> None:
    """Locations read as a sheet and a cell, never as Excel notation."""
    assert place(location) == expected


def test_errors_numbered_first_then_warnings() -> None:
    """Errors are numbered in order with where they are, then the warnings follow."""
    text = explain(Report((NO_EVIDENCE, NO_OWNER, LONG_TALK)))
    assert text == (
        "This workbook cannot be turned into an audit pack yet: 2 problems to fix.\n"
        "\n"
        "Problems to fix:\n"
        "1. The Assessment section is rated Good but has no evidence. Write the\n"
        "   evidence for your rating in “Assessment: evidence”.\n"
        "   Where: Ratings sheet, cell C12.  [section.no_evidence]\n"
        "2. Action 1 in the audit plan has no owner. Write who will do it.\n"
        "   Where: Audit plan sheet, cell C7.  [plan.no_owner]\n"
        "\n"
        "Also check these (they do not stop the pack):\n"
        "1. The case discussion lasted 90 minutes. The guide asks for no longer than\n"
        "   60: check the length is right.\n"
        "   Where: Details sheet, cell C20.  [dates.discussion_long]\n"
        "\n"
        "When you have fixed these, save the workbook and send it in again.\n"
    )


def test_ready_with_warnings_lists_them_under_the_verdict() -> None:
    """A ready workbook's points to check follow the verdict, with no closing instruction."""
    lines = explain(Report((LONG_TALK,))).splitlines()
    assert lines[:3] == [
        "This workbook is ready. 1 point to check:",
        "",
        "1. The case discussion lasted 90 minutes. The guide asks for no longer than",
    ]
    assert not any("fixed" in line for line in lines)


def test_finding_without_location_keeps_its_code_on_the_line() -> None:
    """An unreadable-file finding has no place; its support code ends its text."""
    text = explain(Report((UNREADABLE,)))
    assert "1. This workbook could not be read.  [workbook.corrupt]" in text
    assert "Where:" not in text


def test_lines_fit_an_email() -> None:
    """Every line fits a plain-text email, and codes appear only in brackets."""
    text = explain(Report((NO_EVIDENCE, NO_OWNER, UNREADABLE, LONG_TALK)))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for finding in (NO_EVIDENCE, NO_OWNER, UNREADABLE, LONG_TALK):
        assert text.count(finding.code) == text.count(f"[{finding.code}]") == 1


def test_a_programme_with_problems_is_explained_as_a_programme() -> None:
    """The programme's verdict and last line speak of loading the programme, not of a pack."""
    report = Report((Finding("programme.month", E, "Row 3 has no planned month."),))
    text = explain(report, purpose=PROGRAMME)
    assert text.startswith("This workbook cannot be loaded as the audit programme yet: 1 problem")
    assert "audit pack" not in text
    assert text.rstrip().endswith("load it again with `cssw-docs programme load`.")
