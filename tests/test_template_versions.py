"""Workbooks of the previous template version (1.0) are still read, with sensible defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from cssw_docs import rules
from cssw_docs.models import Consent, NoObservation, StoryboardStatus
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate
from cssw_docs.workbook import layout
from cssw_docs.workbook.generate import new_workbook
from cssw_docs.workbook.parse import read_workbook

DATA = Path(__file__).parent / "data"
# Written by the 1.0 generator (see tests/data/template-1.0.md).
GOOD_1_0 = DATA / "good-template-1.0.xlsx"
OUTSTANDING_1_0 = DATA / "outstanding-template-1.0.xlsx"
ADDED_IN_1_1 = (
    "observation_none_reason",
    "observation_none_detail",
    "storyboard_status",
    "storyboard_consent_external",
    "storyboard_anonymised",
)
ADDED_IN_1_2 = ("storyboard_details_confirmed",)


def _names(path: Path) -> set[str]:
    return set(openpyxl.load_workbook(path).defined_names)


@pytest.mark.slow
def test_the_fixtures_are_of_version_1_0_without_the_new_names() -> None:
    """The committed workbooks really are 1.0: older version cell, none of 1.1's names."""
    for path in (GOOD_1_0, OUTSTANDING_1_0):
        wb = openpyxl.load_workbook(path)
        ((sheet, ref),) = tuple(wb.defined_names["template_version"].destinations)
        assert wb[sheet][ref.replace("$", "")].value == "1.0"
        assert not set(ADDED_IN_1_1) & _names(path)


@pytest.mark.slow
def test_a_new_workbook_is_1_2_with_every_new_name(tmp_path: Path, the_rubric: Rubric) -> None:
    """The blank workbook carries the new version, every name 1.1 and 1.2 added, and the audit
    plan's Status and Completed on columns 1.2 added."""
    path = new_workbook(tmp_path / "blank.xlsx", the_rubric)
    assert layout.TEMPLATE_VERSION == "1.2"
    assert {*ADDED_IN_1_1, *ADDED_IN_1_2} <= _names(path)
    sub = read_workbook(path, the_rubric)
    assert sub.template_version == "1.2" and sub.parse_findings == ()
    ws = openpyxl.load_workbook(path)["Audit plan"]
    assert [ws.cell(3, c).value for c in (6, 7)] == ["Status", "Completed on"]


def test_a_1_1_workbook_has_no_place_for_checked_details() -> None:
    """The name 1.2 added is not asked of a 1.1 workbook (the reader leaves it empty)."""
    assert layout.in_version("storyboard_details_confirmed", "1.2")
    assert not layout.in_version("storyboard_details_confirmed", "1.1")


@pytest.mark.parametrize(("version", "has"), [("1.0", False), ("1.1", False), ("1.2", True)])
def test_the_plan_status_columns_belong_to_1_2(version: str, has: bool) -> None:
    """A 1.1 workbook without Status is read without complaint; a 1.2 one must have it."""
    assert layout.table("AuditPlan").has("Status", version) is has
    assert layout.table("AuditPlan").has("Action", version) is True


def test_a_1_0_workbook_reads_without_complaint(the_rubric: Rubric) -> None:
    """The names 1.1 added are simply absent: no parse finding, and nothing is an error."""
    sub = read_workbook(GOOD_1_0, the_rubric)
    assert sub.template_version == "1.0"
    assert sub.parse_findings == ()
    report = validate(sub, the_rubric, today=sub.audit_date)
    assert report.ok, [f.message for f in report.errors]


def test_a_1_0_storyboard_is_completed_with_consent_within_the_service(
    the_rubric: Rubric,
) -> None:
    """Consent Yes and a filled storyboard: status Completed, consent within the service only;
    without the auditor's confirmation (which 1.0 cannot hold) no storyboard is produced, and a
    warning says how to have one."""
    sub = read_workbook(GOOD_1_0, the_rubric)
    assert sub.storyboard_status is StoryboardStatus.COMPLETED
    assert sub.storyboard_consent is True
    assert sub.storyboard_consent_external is None
    assert sub.storyboard_anonymised is None
    assert rules.good_practice(sub)
    assert not rules.storyboard_due(sub) and not rules.shared_outside(sub)
    report = validate(sub, the_rubric, today=sub.audit_date)
    (warning,) = [f for f in report.warnings if f.code == "storyboard.unconfirmed"]
    assert "1.0" in warning.message and "new workbook" in warning.message


def test_a_1_0_practice_week_with_observation_declined_passes(
    tmp_path: Path, the_rubric: Rubric
) -> None:
    """A 1.0 Practice Week whose family declined observation (no activity) is accepted: the
    reason is taken as Declined."""
    path = tmp_path / "declined.xlsx"
    shutil.copy(OUTSTANDING_1_0, path)
    wb = openpyxl.load_workbook(path)
    for name, value in (("observation_activity", None), ("observation_consent", "Declined")):
        ((sheet, ref),) = tuple(wb.defined_names[name].destinations)
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(path)
    sub = read_workbook(path, the_rubric)
    assert sub.observation_consent is Consent.DECLINED
    assert sub.observation_none_reason is NoObservation.DECLINED
    report = validate(sub, the_rubric, today=sub.audit_date)
    assert report.ok, [f.message for f in report.errors]


@pytest.mark.slow
@pytest.mark.parametrize("name", ADDED_IN_1_1)
def test_a_1_1_workbook_missing_a_new_name_is_a_finding(
    name: str, tmp_path: Path, the_rubric: Rubric
) -> None:
    """In a 1.1 workbook the new names are part of the contract: losing one is reported."""
    path = new_workbook(tmp_path / "blank.xlsx", the_rubric)
    wb = openpyxl.load_workbook(path)
    del wb.defined_names[name]
    wb.save(path)
    sub = read_workbook(path, the_rubric)
    assert [f.code for f in sub.parse_findings] == ["parse.missing_name"]


@pytest.mark.parametrize(
    ("version", "has"), [("1.0", False), ("1", False), ("1.1", True), ("1.2", True), (None, False)]
)
def test_in_version(version: str | None, has: bool) -> None:
    """A name added in 1.1 belongs to 1.1 and later; 1.0 (or an unreadable minor) lacks it."""
    assert layout.in_version("storyboard_status", version) is has
    assert layout.in_version("audit_ref", version) is True
