"""End-to-end tests of the oversight commands through the click runner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import docx
import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs.cli import cli
from cssw_docs.cli.oversight import DATE
from cssw_docs.models import Agreement
from cssw_docs.rubric import Rubric
from oversight_support import build_ledger, in_period, latest_finals


@pytest.fixture
def setup(tmp_path: Path, the_rubric: Rubric):
    """A settings file whose state folder holds a ledger of generated audits."""
    state = tmp_path / "state"
    state.mkdir()
    _, rows = build_ledger(state, the_rubric)
    config = tmp_path / "cssw-docs.toml"
    config.write_text(f'[service]\nstate_dir = "{state.as_posix()}"\n', "utf-8")
    return config, rows


def run(config: Path, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process with ``config``; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_moderation_list_and_workbook(setup, tmp_path: Path) -> None:
    """The selected audits of the period are listed and written to a workbook for the panel."""
    config, rows = setup
    selected = [r.submission.audit_ref
                for r in in_period(latest_finals(rows), dt.date(2026, 3, 1), dt.date(2026, 8, 31))
                if r.moderation_selected]  # fmt: skip
    out_xlsx = tmp_path / "panel" / "sample.xlsx"
    code, out, _ = run(config, "moderation", "list", "--from", "01/03/2026", "--to",
                       "2026-08-31", "--xlsx", str(out_xlsx))  # fmt: skip
    assert code == 0 and selected
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("CSSW-")]
    assert listed == sorted(selected, key=listed.index) and set(listed) == set(selected)
    ws = openpyxl.load_workbook(out_xlsx).active
    assert sorted(row[0] for row in ws.iter_rows(min_row=2, values_only=True)) == sorted(selected)
    assert "Panel rating" in [c.value for c in ws[1]]


@pytest.mark.slow
def test_moderation_record_then_listed(setup) -> None:
    """A recorded outcome shows in the list with the comparison."""
    config, rows = setup
    target = next(r.submission for r in latest_finals(rows) if r.moderation_selected)
    rating = target.overall_rating.value
    code, out, _ = run(config, "moderation", "record", target.audit_ref.lower(),
                       "--rating", rating, "--note", "Agreed.", "--moderator", "Chair")  # fmt: skip
    assert code == 0 and "(agreed)" in out
    _, listing, _ = run(config, "moderation", "list")
    assert f"by Chair: {target.overall_rating.value} overall (agreed)" in listing
    assert "1 decided." in listing


@pytest.mark.slow
def test_moderation_schedule_then_listed(setup) -> None:
    """A panel date given to every selected audit shows in the list."""
    config, rows = setup
    selected = [r for r in latest_finals(rows) if r.moderation_selected]
    code, out, _ = run(config, "moderation", "schedule", "--all-selected", "--date", "07/12/2026")
    assert code == 0, out
    assert out.count("panel on 07/12/2026") == len(selected)
    _, listing, _ = run(config, "moderation", "list")
    assert listing.count("scheduled for the panel on 07/12/2026") == len(selected)
    assert f"0 selected without a date, {len(selected)} scheduled, 0 decided." in listing
    code, out, _ = run(config, "moderation", "schedule", "--all-selected", "--date", "08/12/2026")
    assert code == 0 and "No selected audit is waiting for a panel date." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("moderation", "record", "CSSW-0000", "--rating", "Good", "--note", "x"),
         "no Final audit CSSW-0000"),
        (("moderation", "list", "--from", "31/02/2026"), "is not a date"),
        (("moderation", "list", "--from", "02/03/2026", "--to", "01/03/2026"), "Swap the dates"),
        (("report", "--from", "1/1/2026", "--to", "banana", "-o", "x"), "is not a date"),
        (("escalations", "decide", "CSSW-0000", "--outcome", "upheld", "--note", "x"),
         "no Final audit"),
        (("escalations", "resolve", "CSSW-0000", "--note", "x"),
         "replaced by `escalations decide`"),
        (("moderation", "record", "CSSW-0000", "--note", "x"), "no Final audit"),
        (("moderation", "schedule", "--date", "01/12/2026"), "--all-selected"),
    ],
)  # fmt: skip
def test_plain_errors(setup, args: tuple[str, ...], message: str) -> None:
    """Mistakes get one plain sentence and a non-zero exit, never a traceback."""
    config, _ = setup
    code, out, err = run(config, *args)
    assert code != 0
    assert message in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "text", ["01/03/2026", "1/3/26", "2026-03-01", "1 March 2026", "1-mar-2026"]
)
def test_dates_are_read_as_the_workbook_reads_them(text: str) -> None:
    """--from and --to accept every UK date form the workbook accepts."""
    assert DATE.convert(text, None, None) == dt.date(2026, 3, 1)


def test_a_bad_date_keeps_the_plain_message() -> None:
    """A date the workbook would refuse is refused with the CLI's own sentence."""
    with pytest.raises(click.BadParameter, match=r"is not a date\. Write it as dd/mm/yyyy"):
        DATE.convert("31/02/2026", None, None)


@pytest.mark.slow
def test_escalations_list_and_decide(setup) -> None:
    """Open referrals are listed; a decided one drops off the list and shows with --all."""
    config, rows = setup
    still = sorted(r.submission.audit_ref for r in latest_finals(rows)
                   if r.submission.practitioner_agreement is Agreement.DISAGREE)  # fmt: skip
    code, out, _ = run(config, "escalations")
    assert code == 0
    assert sorted(line.split()[0] for line in out.splitlines() if line.startswith("CSSW-")) == still
    assert out.strip().endswith(f"{len(still)} open referral(s).")
    code, out, _ = run(config, "escalations", "decide", still[0], "--outcome", "Upheld",
                       "--note", "Rating stands.", "--by", "Jo Head")  # fmt: skip
    assert code == 0, out
    assert "Decision recorded" in out and "no new pack is issued" in out
    _, out, _ = run(config, "escalations")
    assert still[0] not in out
    _, out, _ = run(config, "escalations", "--all")
    assert f"{still[0]} v1" in out and "closed: Rating stands." in out
    code, _, err = run(config, "escalations", "decide", still[0], "--outcome", "replaced",
                       "--note", "Changed my mind.")  # fmt: skip
    assert code == 1 and "already has the Head of QA's decision" in err


@pytest.mark.slow
def test_actions_filters(setup) -> None:
    """--team and --overdue narrow the listing; the count line agrees with the hand count."""
    config, rows = setup
    today = dt.date.today()
    expected = [a for r in latest_finals(rows) if "team 3" in r.submission.team.lower()
                for a in r.submission.actions if a.due is not None and a.due < today]  # fmt: skip
    code, out, _ = run(config, "actions", "--team", "Team 3", "--overdue")
    assert code == 0
    if expected:
        assert f"{len(expected)} action(s) on " in out
        assert f"{len(expected)} open ({len(expected)} overdue)" in out
    else:
        assert "No actions match." in out
    code, out, _ = run(config, "actions")
    total = sum(len(r.submission.actions) for r in latest_finals(rows))
    assert code == 0 and f"{total} action(s)" in out


@pytest.mark.slow
def test_report_writes_both_files(setup, tmp_path: Path) -> None:
    """The report command writes PATH.xlsx and PATH.docx and says how many audits it covers."""
    config, rows = setup
    n = len(in_period(latest_finals(rows), dt.date(2026, 1, 1), dt.date(2026, 6, 30)))
    dest = tmp_path / "reports" / "2026-H1"
    code, out, _ = run(config, "report", "--from", "01/01/2026", "--to", "30/06/2026",
                       "-o", str(dest))  # fmt: skip
    assert code == 0, out
    assert f"{n} audit(s) finalised between 01/01/2026 and 30/06/2026." in out
    wb = openpyxl.load_workbook(dest.with_name("2026-H1.xlsx"))
    assert wb["Audits"].max_row == n + 1
    assert docx.Document(str(dest.with_name("2026-H1.docx"))).paragraphs


@pytest.mark.slow
def test_report_of_an_empty_period(setup, tmp_path: Path) -> None:
    """A period without audits still writes an honest report and exits 0."""
    config, _ = setup
    code, out, _ = run(config, "report", "--from", "01/01/2031", "--to", "31/01/2031",
                       "-o", str(tmp_path / "empty.docx"))  # fmt: skip
    assert code == 0
    assert "No audits were finalised between 01/01/2031 and 31/01/2031." in out
    assert (tmp_path / "empty.xlsx").is_file() and (tmp_path / "empty.docx").is_file()


def test_missing_ledger(tmp_path: Path) -> None:
    """Without a ledger the commands explain where they looked."""
    config = tmp_path / "cssw-docs.toml"
    config.write_text(f'[service]\nstate_dir = "{(tmp_path / "none").as_posix()}"\n', "utf-8")
    for args in (("actions",), ("escalations",), ("moderation", "list")):
        code, _, err = run(config, *args)
        assert code == 1 and "There is no ledger at" in err
    assert not (tmp_path / "none").exists()
