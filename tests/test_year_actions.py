"""SMART actions followed to done: the command, the returned CSV, the workbook, the counts."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest
from click.testing import CliRunner

from cssw_docs import examples, pipeline, render
from cssw_docs import rubric as rubric_mod
from cssw_docs.cli import cli
from cssw_docs.folders import Folders
from cssw_docs.models import ActionStatus, submission_to_dict
from cssw_docs.oversight import actions as tracking
from cssw_docs.oversight import figures, records
from cssw_docs.oversight.records import OversightError
from cssw_docs.service import claim
from cssw_docs.store import audits, db, jobs
from cssw_docs.year import actions
from programme_support import year_settings

TODAY = dt.date(2027, 1, 20)  # the good audit's first two actions are overdue
REF = "CSSW-2026-0142"


@pytest.fixture(scope="module")
def the_rubric():
    return rubric_mod.load()


def _record(conn, sub, processed_at="2026-10-01T10:00:00+00:00", version=1):
    audits.record_audit(
        conn,
        audit_ref=sub.audit_ref,
        stage=str(sub.audit_stage),
        version=version,
        job_id=f"job-{version}",
        source_sha256=f"sha-{version}",
        audit_date=None,
        data=submission_to_dict(sub),
        pack_dir="x",
        moderation_selected=None,
        processed_at=processed_at,
    )


@pytest.fixture
def ledger(tmp_path, the_rubric):
    settings = year_settings(tmp_path)
    conn = db.open_ledger(settings.service.state_dir)
    _record(conn, examples.example("good", the_rubric))
    yield settings, conn
    conn.close()


def _counts(conn, the_rubric):
    found = records.load(conn).audits
    return figures.compute(found, the_rubric, as_of=TODAY, statuses=tracking.recorded(conn))


def test_numbers_follow_the_documents_order(ledger):
    """Action N is the Nth of the audit plan as its documents number it (by due date)."""
    _settings, conn = ledger
    (record,) = records.load(conn).audits
    dues = [a.due for _, a in tracking.numbered(record)]
    assert dues == sorted(dues)


def test_done_and_dropped_close_actions_and_the_overdue_count_falls(ledger, the_rubric):
    settings, conn = ledger
    before = _counts(conn, the_rubric).actions
    assert before["Overdue"] == 2
    done = actions.mark(settings, REF, 1, ActionStatus.DONE, by="Grace Mensah",
                        on=dt.date(2027, 1, 20), today=TODAY)  # fmt: skip
    assert done.status == "Done late"
    actions.mark(settings, REF, 3, ActionStatus.DROPPED, by="Grace Mensah", note="Case closed",
                 today=TODAY)  # fmt: skip
    after = _counts(conn, the_rubric)
    assert after.actions["Overdue"] == 1
    assert after.actions["Done late"] == 1 and after.actions["Dropped"] == 1
    (team,) = after.by_team
    assert (team.done, team.dropped, team.overdue) == (1, 1, 1)
    assert team.pct_done == 50.0


@pytest.mark.parametrize(
    ("number", "status", "kwargs", "message"),
    [
        (9, ActionStatus.DONE, {"by": "Grace"}, "has no action 9"),
        (1, ActionStatus.DROPPED, {"by": "Grace"}, "why"),
        (1, ActionStatus.DONE, {"by": " "}, "--by"),
        (1, ActionStatus.DONE, {"by": "Grace", "on": dt.date(2027, 3, 1)}, "future"),
    ],
)
def test_a_mark_that_cannot_be_recorded_says_why(ledger, number, status, kwargs, message):
    settings, _ = ledger
    with pytest.raises(OversightError, match=message):
        actions.mark(settings, REF, number, status, today=TODAY, **kwargs)


def _returned(the_rubric, rows: dict[int, tuple[str, str, str]]) -> str:
    """Return the good audit's supervision CSV with Status, Completed on and Note filled."""
    sub = examples.example("good", the_rubric)
    context = {
        "audit_ref": REF,
        "child": {"mosaic_id": sub.child_mosaic_id},
        "actions": [
            {
                "number": i,
                "action": a.action,
                "section": a.section,
                "owner": a.owner,
                "due_date": a.due.strftime("%d/%m/%Y"),
                "measure": a.measure,
            }
            for i, a in enumerate(sorted(sub.actions, key=lambda a: a.due), start=1)
        ],
    }
    table = list(csv.reader(io.StringIO(render.actions_csv(context).decode("utf-8-sig"))))
    for number, (status, on, note) in rows.items():
        table[number][-3:] = [status, on, note]
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue()


def test_a_returned_csv_closes_its_actions(ledger, the_rubric, tmp_path):
    _settings, conn = ledger
    path = tmp_path / "back.csv"
    path.write_text(
        _returned(the_rubric, {1: ("Done", "10/11/2026", ""), 2: ("dropped", "", "Moved")}),
        encoding="utf-8-sig",
    )
    returned = actions.read(path, conn, TODAY)
    assert returned.ok, returned.report.findings
    assert actions.record_returned(conn, returned, TODAY) == 2
    after = _counts(conn, the_rubric).actions
    assert (after["Done on time"], after["Dropped"], after["Overdue"]) == (1, 1, 0)


@pytest.mark.parametrize(
    ("rows", "text"),
    [
        ({1: ("Done", "", "")}, "Completed on is empty"),
        ({1: ("Finished", "01/01/2027", "")}, "Open, Done or Dropped"),
        ({1: ("Dropped", "", "")}, "Note column"),
        ({1: ("Done", "01/01/2030", "")}, "future"),
        ({1: ("Done", "yesterday", "")}, "not a date"),
    ],
)
def test_a_returned_csv_that_cannot_be_used_says_why_by_row(
    ledger, the_rubric, tmp_path, rows, text
):
    _settings, conn = ledger
    path = tmp_path / "back.csv"
    path.write_text(_returned(the_rubric, rows), encoding="utf-8")
    returned = actions.read(path, conn, TODAY)
    assert not returned.ok
    (finding,) = returned.report.errors
    assert finding.message.startswith("Row 2:") and text in finding.message
    assert "Amara" not in finding.message


def test_a_csv_that_is_not_ours_is_refused_plainly(ledger, tmp_path):
    _settings, conn = ledger
    path = tmp_path / "other.csv"
    path.write_text("Name,Total\nAmara Okafor,3\n", encoding="utf-8")
    returned = actions.read(path, conn, TODAY)
    assert not returned.ok and "not a supervision actions file" in returned.report.errors[0].message
    assert "Amara" not in returned.report.errors[0].message


def test_a_later_workbook_status_column_closes_an_action(ledger, the_rubric):
    """A later Final version whose AuditPlan says Done counts; the latest word wins."""
    _settings, conn = ledger
    sub = examples.example("good", the_rubric)
    first = min(sub.actions, key=lambda a: a.due)
    changed = tuple(
        dataclasses.replace(a, status=ActionStatus.DONE, completed_on=dt.date(2026, 11, 1))
        if a is first
        else a
        for a in sub.actions
    )
    _record(conn, dataclasses.replace(sub, actions=changed), "2026-12-01T10:00:00+00:00", 2)
    assert _counts(conn, the_rubric).actions["Done on time"] == 1


def test_actions_commands_through_the_cli(ledger, monkeypatch, tmp_path):
    settings, _conn = ledger
    monkeypatch.setenv("CSSW_DOCS_SERVICE__STATE_DIR", str(settings.service.state_dir))
    runner = CliRunner()
    result = runner.invoke(cli, ["actions", "done", REF, "2", "--by", "Grace Mensah"])
    assert result.exit_code == 0, result.output
    assert f"{REF} action 2" in result.output
    result = runner.invoke(cli, ["actions", "dropped", REF, "3", "--by", "Grace"])
    assert result.exit_code != 0 and "--note" in result.output
    result = runner.invoke(cli, ["actions"])
    assert result.exit_code == 0
    assert "1 done on time" in result.output or "1 done late" in result.output
    result = runner.invoke(cli, ["actions", "done", REF, "7", "--by", "Grace"])
    assert result.exit_code == 1 and "has no action 7" in result.output


def _csv_job(settings, the_rubric, conn, tmp_path, text: str):
    """Run a CSV dropped into the intake folder through the pipeline's job steps."""
    folders = Folders(tmp_path / "intake", tmp_path / "outbox", tmp_path / "state")
    folders.create()
    path = folders.intake / "supervision back.csv"
    path.write_text(text, encoding="utf-8")
    found = claim.claim(path, folders.work)
    jobs.insert_job(
        conn,
        found.job_id,
        source_name=found.source_name,
        work_name=f"{found.job_id}/{found.source_name}",
        size=found.path.stat().st_size,
        sha256=pipeline.sha256_of(found.path),
    )
    ctx = pipeline.JobContext(settings, the_rubric, folders)
    return pipeline.run_job(conn, found.job_id, ctx), folders


def test_the_pipeline_records_a_returned_csv_and_files_it(ledger, the_rubric, tmp_path):
    """Recognised by its header in the intake folder: recorded, filed in processed/."""
    settings, conn = ledger
    text = _returned(the_rubric, {1: ("Done", "10/11/2026", "")})
    row, _ = _csv_job(settings, the_rubric, conn, tmp_path, text)
    assert row["state"] == "processed" and row["audit_ref"] == REF
    assert "processed" in row["final_path"]
    assert tracking.recorded(conn)[(REF, 1)].status is ActionStatus.DONE


def test_the_pipeline_rejects_an_unusable_csv_to_the_auditor(ledger, the_rubric, tmp_path):
    """A CSV it cannot use goes to rejected/ and its auditor gets the reason; nothing is
    recorded, and the reason quotes no cell."""
    settings, conn = ledger
    text = _returned(the_rubric, {1: ("Done", "", "")})
    row, folders = _csv_job(settings, the_rubric, conn, tmp_path, text)
    assert row["state"] == "rejected" and "rejected" in row["final_path"]
    assert tracking.recorded(conn) == {}
    mail = conn.execute("SELECT route, recipients FROM mail_outbox").fetchall()
    assert [(m["route"], m["recipients"]) for m in mail] == [
        ("rejection", '["priya.natarajan@camden.gov.uk"]')
    ]
    problems = next(folders.intake.rglob("* - problems.txt")).read_text("utf-8")
    assert "Completed on is empty" in problems and "Okafor" not in problems
