"""Outputs across audits (report, moderation workbook, CLI lists) never name a child."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from cssw_docs import examples, privacy
from cssw_docs.cli import cli
from cssw_docs.models import Agreement, Stage, Submission
from cssw_docs.oversight import sample
from cssw_docs.oversight.sample import LedgerRow
from cssw_docs.rubric import Rubric
from cssw_docs.store.db import connect as connect_ledger

NAMING = [
    "Hold a direct session with {first}'s father about the plan for the coming months.",
    "Ask the {last}s to agree a {first}{last} safety plan (MOSAIC {mosaic}) with school.",
    "Review {first_lookalike}'s contact arrangements at the next core group meeting.",
]


def _naming(sub: Submission, index: int) -> Submission:
    """Return ``sub`` as an older release might have stored it: free text naming the child."""
    first, last = sub.child_name.split()[0], sub.child_name.split()[-1]
    words = {
        "first": first,
        "last": last,
        "mosaic": sub.child_mosaic_id,
        "first_lookalike": first.replace("a", "а").replace("e", "е").replace("o", "о"),
    }
    actions = tuple(
        dataclasses.replace(a, action=NAMING[(index + n) % len(NAMING)].format(**words))
        for n, a in enumerate(sub.actions)
    )
    return dataclasses.replace(
        sub,
        audit_stage=Stage.FINAL,
        audit_theme=f"Neglect and {first}'s lived experience",
        storyboard_title=f"Three houses: {first} {last}",
        areas_for_development=f"{first}'s views are not recorded. {last}s not seen.",
        actions=actions,
    )


@pytest.fixture
def ledger(tmp_path: Path, the_rubric: Rubric) -> tuple[Path, list[Submission]]:
    """A settings file whose ledger holds the example audits, their free text naming the child."""
    state = tmp_path / "state"
    state.mkdir()
    subs = [
        _naming(examples.example(name, the_rubric), i)
        for i, name in enumerate(sorted(examples.VALID))
        if examples.example(name, the_rubric).child_name
    ]
    # one audit referred to the Head of QA, with a note naming the child
    subs[0] = dataclasses.replace(subs[0], practitioner_agreement=Agreement.DISAGREE)
    processed = dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)
    conn = connect_ledger(state / "ledger.sqlite3")
    sample.write(conn, [LedgerRow(s, 1, processed, True) for s in subs])
    conn.close()
    config = tmp_path / "cssw-docs.toml"
    config.write_text(f'[service]\nstate_dir = "{state.as_posix()}"\n', "utf-8")
    return config, subs


def _run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(
        str(value)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


@pytest.mark.slow
def test_cross_audit_outputs_replace_the_child_by_the_child(ledger, tmp_path: Path) -> None:
    """The report (workbook and Word), the moderation workbook and the CLI lists name no child.

    Actions, themes, storyboard titles and notes copied from an audit have the child's name and
    MOSAIC ID replaced by "the child", so the Word summary's claim that no child's name appears
    in the report is true.
    """
    config, subs = ledger
    ref = subs[0].audit_ref
    first = subs[0].child_name.split()[0]
    _run(config, "moderation", "record", ref, "--rating", "Good", "--note", f"{first} seen.")
    _run(config, "escalations", "decide", ref, "--outcome", "upheld",
         "--note", f"Spoke about {first}'s plan.")  # fmt: skip
    _run(config, "report", "--from", "01/01/2026", "--to", "31/12/2026", "-o", str(tmp_path / "r"))
    _run(config, "moderation", "list", "--xlsx", str(tmp_path / "panel.xlsx"))
    outputs = {
        "report workbook": _xlsx_text(tmp_path / "r.xlsx"),
        "report summary": _docx_text(tmp_path / "r.docx"),
        "moderation workbook": _xlsx_text(tmp_path / "panel.xlsx"),
        "moderation list": _run(config, "moderation", "list"),
        "actions": _run(config, "actions"),
        "escalations": _run(config, "escalations", "--all"),
    }
    assert "No child's name appears in this report." in outputs["report summary"]
    assert "Hold a direct session with the child's father" in outputs["report workbook"]
    assert "Hold a direct session with the child's father" in outputs["actions"]
    assert "The child's lived experience" not in outputs["moderation workbook"]
    assert "Neglect and the child's lived experience" in outputs["moderation workbook"]
    for sub in subs:
        identity = privacy.identity_of(sub)
        for what, text in outputs.items():
            assert not identity.found_in(text), (what, sub.child_name)
