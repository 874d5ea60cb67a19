"""The annual audit programme: its workbook, loading it, issuing the month's audits, status."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs import rubric as rubric_mod
from cssw_docs.cli import cli
from cssw_docs.models import AuditState, Route
from cssw_docs.oversight import progress
from cssw_docs.store import db
from cssw_docs.store import programme as store
from cssw_docs.workbook import programme as sheet
from cssw_docs.workbook.parse import read_workbook
from cssw_docs.year import programme
from programme_support import planned_rows, write_programme, year_settings

JAN = dt.date(2027, 1, 4)  # the first working day of January 2027
# Each test writes real workbooks (about half a second each): the quick suite leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def the_rubric():
    return rubric_mod.load()


def _loaded(tmp_path: Path, the_rubric, count: int = 8):
    settings = year_settings(tmp_path)
    path = write_programme(tmp_path / "programme.xlsx", the_rubric, planned_rows(count, JAN))
    loaded = programme.load(settings, the_rubric, path, today=dt.date(2026, 12, 1))
    assert loaded.ok, loaded.report.findings
    return settings


def _mail(settings) -> list:
    conn = db.open_ledger(settings.service.state_dir)
    try:
        rows = list(conn.execute("SELECT route, subject, message FROM mail_outbox"))
    finally:
        conn.close()
    return [(r["route"], r["subject"], BytesParser(policy=policy.default).parsebytes(r["message"]))
            for r in rows]  # fmt: skip


def test_the_blank_programme_has_its_contract_dropdowns_and_month_cells(tmp_path, the_rubric):
    """Defined name, Excel table with every header, dropdowns for type and role, month cells."""
    path = sheet.new_programme(tmp_path / "p.xlsx", the_rubric)
    wb = openpyxl.load_workbook(path)
    assert sheet.VERSION_NAME in wb.defined_names
    ws = wb[sheet.SHEET]
    table = ws.tables[sheet.TABLE]
    headers = [c.value for c in ws[table.ref.split(":")[0][1:]]][: len(sheet.HEADERS)]
    assert tuple(headers) == sheet.HEADERS
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 2
    dates = [dv for dv in ws.data_validations.dataValidation if dv.type == "date"]
    assert len(dates) == 1
    assert ws["D4"].number_format == sheet.MONTH_FORMAT
    assert all(dv.prompt for dv in ws.data_validations.dataValidation)


def test_a_programme_loads_and_a_revised_one_updates_by_reference(tmp_path, the_rubric):
    """Rows are added, then changed in place; a missing row goes unless its audit started."""
    settings = _loaded(tmp_path, the_rubric)
    rows = planned_rows(8, JAN)
    rows[0].values["Team"] = "Renamed Team"
    kept = rows[:6]
    conn = db.open_ledger(settings.service.state_dir)
    store.mark_issued(conn, "QA-2027-007", "2027-01-04", "x")  # issued, not started: may go
    conn.close()
    path = write_programme(tmp_path / "programme-2.xlsx", the_rubric, kept)
    loaded = programme.load(settings, the_rubric, path, today=dt.date(2026, 12, 1))
    assert (loaded.added, loaded.updated) == (0, 1)
    assert set(loaded.removed) == {"QA-2027-007", "QA-2027-008"}
    conn = db.open_ledger(settings.service.state_dir)
    try:
        assert store.plan_row(conn, "QA-2027-001")["team"] == "Renamed Team"
        assert len(store.plan_rows(conn)) == 6
    finally:
        conn.close()


def test_a_programme_with_errors_records_nothing_and_gets_a_marked_copy(tmp_path, the_rubric):
    """Plain findings at their cells (bad email, duplicate, month, missing, theme)."""
    settings = year_settings(tmp_path)
    rows = planned_rows(5, JAN)
    rows[1].values["Auditor's email"] = "priya at camden"
    rows[2].values["Audit reference"] = rows[0].ref
    rows[3].values["Planned month"] = "sometime"
    rows[4].values["Team"] = ""
    rows[0].values["Theme"] = ""
    path = write_programme(tmp_path / "programme.xlsx", the_rubric, rows)
    loaded = programme.load(settings, the_rubric, path)
    codes = {f.code for f in loaded.report.errors}
    assert codes >= {
        "email.invalid",
        "programme.duplicate",
        "programme.month",
        "programme.required",
        "programme.theme",
    }
    assert loaded.marked is not None and loaded.marked.exists()
    marked = openpyxl.load_workbook(loaded.marked)
    assert "Errors" in marked.sheetnames
    assert all(f.location is not None for f in loaded.report.errors)
    conn = db.open_ledger(settings.service.state_dir)
    try:
        assert store.plan_rows(conn) == []
    finally:
        conn.close()


def test_issue_writes_the_prefilled_workbook_and_queues_the_two_notices(tmp_path, the_rubric):
    """The auditor gets the workbook pre-filled; practitioner and manager the notice; no child
    identifier in any subject or body; running it again issues nothing."""
    settings = _loaded(tmp_path, the_rubric)
    issued = programme.issue(settings, the_rubric, today=JAN)
    assert [i.audit_ref for i in issued] == ["QA-2027-001", "QA-2027-002", "QA-2027-003",
                                             "QA-2027-004"]  # fmt: skip
    sub = read_workbook(issued[0].workbook, the_rubric)
    assert (sub.audit_ref, sub.child_name, sub.auditor_email, sub.manager_name) == (
        "QA-2027-001",
        "Amara Okafor",
        "priya.shah@camden.gov.uk",
        "Manager 0",
    )
    assert issued[0].workbook.stat().st_mode & 0o077 == 0
    second = read_workbook(issued[1].workbook, the_rubric)  # laid out once, filled afresh
    assert (second.audit_ref, second.audit_theme, second.child_name) == (
        "QA-2027-002",
        "",
        "Leo Brennan",
    )
    mail = _mail(settings)
    assert sorted(r for r, _, _ in mail) == sorted([Route.PROGRAMME_WORKBOOK, Route.IDENTIFIED] * 4)
    for _, subject, msg in mail:
        text = subject + msg.get_body(("plain",)).get_content()
        assert "Okafor" not in text and "M1000" not in text and "Brennan" not in text
    identified = next(m for r, _, m in mail if r == Route.IDENTIFIED)
    assert "identified for audit" in identified["Subject"]
    body = identified.get_body(("plain",)).get_content()
    assert "12 months" in body and "an hour" in body and "five standard questions" in body
    assert programme.issue(settings, the_rubric, today=JAN) == []
    assert len(_mail(settings)) == 8


def test_issue_by_reference_refuses_an_issued_audit_plainly(tmp_path, the_rubric):
    settings = _loaded(tmp_path, the_rubric)
    assert len(programme.issue(settings, the_rubric, ref="QA-2027-008", today=JAN)) == 1
    with pytest.raises(programme.OversightError, match="not sent twice"):
        programme.issue(settings, the_rubric, ref="QA-2027-008", today=JAN)
    with pytest.raises(programme.OversightError, match="not in the programme"):
        programme.issue(settings, the_rubric, ref="QA-2027-999", today=JAN)


def test_status_counts_planned_against_done(tmp_path, the_rubric):
    """Not started, then late once the month has passed; figures by month add up."""
    settings = _loaded(tmp_path, the_rubric)
    conn = db.open_ledger(settings.service.state_dir)
    for i in range(1, 5):
        store.mark_issued(conn, f"QA-2027-00{i}", JAN.isoformat(), "")
    conn.close()
    figures = programme.status(settings, today=dt.date(2027, 2, 2))
    assert figures.total.planned == 8
    assert figures.total.late == 4 and figures.total.not_started == 4
    assert [r.group for r in figures.by_month] == ["Jan 2027", "Feb 2027"]
    assert sum(r.planned for r in figures.by_team) == 8
    conn = db.open_ledger(settings.service.state_dir)
    try:
        states = progress.states(conn, dt.date(2027, 2, 2), 10)
    finally:
        conn.close()
    assert [states[f"QA-2027-00{i}"].state for i in (1, 5)] == [
        AuditState.ISSUED,
        AuditState.PLANNED,
    ]


def test_programme_commands_through_the_cli(tmp_path, the_rubric, monkeypatch):
    """new, load, issue, status: plain output, no child's name."""
    monkeypatch.chdir(tmp_path)
    settings = year_settings(tmp_path)
    for key, value in (
        ("SERVICE__STATE_DIR", settings.service.state_dir),
        ("SERVICE__OUTBOX", settings.service.outbox),
        ("SERVICE__INTAKE", settings.service.intake),
        ("MAIL__SENDER", "cssw-docs@camden.gov.uk"),
    ):
        monkeypatch.setenv(f"CSSW_DOCS_{key}", str(value))
    runner = CliRunner()
    blank = tmp_path / "blank.xlsx"
    assert runner.invoke(cli, ["programme", "new", "-o", str(blank)]).exit_code == 0
    path = write_programme(tmp_path / "p.xlsx", the_rubric, planned_rows(4, dt.date(2020, 1, 1)))
    result = runner.invoke(cli, ["programme", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 audit(s) added" in result.output
    result = runner.invoke(cli, ["programme", "issue"])
    assert result.exit_code == 0 and "4 audit(s) issued" in result.output
    result = runner.invoke(cli, ["programme", "status", "--audits"])
    assert result.exit_code == 0 and "4 planned" in result.output
    assert "Okafor" not in result.output
