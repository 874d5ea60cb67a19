"""Log lines name the job and the audit reference, never the child or the auditor's file name."""

from __future__ import annotations

import os
import stat

import pytest

from cssw_docs.service import logs
from cssw_docs.service.worker import Outcome
from service_support import drop, example_bytes, log_text, run_once


@pytest.mark.slow
def test_one_line_per_outcome_without_names(tmp_path, good_audit):
    """A workbook named after the child: the log and stderr never show the name or MOSAIC ID."""
    intake = tmp_path / "intake"
    intake.mkdir()
    drop(intake, f"{good_audit.child_name} audit.xlsx", example_bytes("good"))
    drop(
        intake,
        f"{good_audit.child_name} {good_audit.child_mosaic_id}.xlsx",
        example_bytes("invalid-incomplete"),
    )
    result = run_once(tmp_path)
    assert result.returncode == 0
    text = log_text(tmp_path)
    for secret in (*good_audit.child_name.split(), good_audit.child_mosaic_id):
        assert secret not in text and secret not in result.stderr
    outcome_lines = [line for line in text.splitlines() if " job " in line and ": " in line]
    assert sum("pack Final v1 made" in line for line in outcome_lines) == 1
    assert sum("rejected, " in line for line in outcome_lines) == 1
    log_file = tmp_path / "state" / logs.LOG_NAME
    assert stat.S_IMODE(os.stat(log_file).st_mode) == 0o600


def test_outcome_lines_read_plainly(tmp_path):
    """Each kind of outcome has its own plain line with the job id and reference."""
    intake, outbox = tmp_path / "intake", tmp_path / "outbox"
    day = intake / "processed" / "2026-11-26"
    made = Outcome(
        "J1", "processed", "CSSW-1", "Final", 2, str(outbox / "CSSW-1" / "final-v2"), str(day)
    )
    line = logs.outcome_line(made, intake, outbox)
    assert line == (
        "job J1 CSSW-1: pack Final v2 made in outbox/CSSW-1/final-v2; "
        "workbook moved to intake/processed/2026-11-26"
    )
    bad = Outcome("J2", "rejected", "", dest_dir=str(day), problems=1, codes=("email.invalid",))
    assert logs.outcome_line(bad, intake, outbox) == (
        "job J2 no reference: rejected, 1 problem (email.invalid); "
        "workbook and findings in intake/processed/2026-11-26"
    )
