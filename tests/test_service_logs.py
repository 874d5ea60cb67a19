"""Log lines name the job and the audit reference, never the child or the auditor's file name."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cssw_docs import examples, rubric
from cssw_docs.service import logs
from cssw_docs.service.logs import Outcome
from cssw_docs.workbook.generate import write_submission
from service_support import drop, env, example_bytes, files_in, jobs, log_text, run_once

# A log line as the service writes it: a time stamp, a level, then the message.
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
FORGED = "2026-11-26 10:00:00,000 INFO job 20261126-100000-abcdef CSSW-2026-0001: pack made"


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


def _workbook_with(tmp: Path, name: str, **changes: str) -> bytes:
    """Return the bytes of the good example with ``changes`` made (written by the generator)."""
    the_rubric = rubric.load()
    path = tmp / f".{name}"
    write_submission(dataclasses.replace(examples.good(the_rubric), **changes), path, the_rubric)
    data = path.read_bytes()
    path.unlink()
    return data


@pytest.mark.slow
def test_a_reference_with_a_line_break_cannot_forge_a_log_line(tmp_path):
    """A reference typed with a line break and a fake log line is refused and never logged.

    Each line of service.log and of stderr starts with a time stamp: nothing the workbook holds
    can start a line of its own.
    """
    intake = tmp_path / "intake"
    intake.mkdir()
    drop(
        intake, "forged.xlsx", _workbook_with(tmp_path, "f", audit_ref=f"CSSW-2026-0142\n{FORGED}")
    )
    result = run_once(tmp_path)
    assert result.returncode == 0, result.stderr
    text = log_text(tmp_path)
    assert "rejected, " in text
    for output in (text, result.stderr):
        assert "pack made" not in output and "abcdef" not in output
        for line in output.splitlines():
            assert LINE.match(line), line
    (job,) = jobs(tmp_path)
    assert job["state"] == "rejected" and job["audit_ref"] is None
    assert "ref.unsafe" in job["findings"]


@pytest.mark.slow
def test_a_refused_reference_is_never_a_file_name_a_log_line_or_status(tmp_path, good_audit):
    """References naming the child are refused; the job id names the files, the log, status."""
    intake = tmp_path / "intake"
    intake.mkdir()
    refused = ("AmaraOkafor", "CSSW-1234567", "OKAFOR-2026-001")
    for n, ref in enumerate(refused):
        drop(intake, f"w{n}.xlsx", _workbook_with(tmp_path, f"w{n}", audit_ref=ref))
    result = run_once(tmp_path)
    assert result.returncode == 0, result.stderr
    status = subprocess.run(
        [sys.executable, "-m", "cssw_docs", "status"], cwd=tmp_path, env=env(tmp_path),
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    rows = jobs(tmp_path)
    assert [r["state"] for r in rows] == ["rejected"] * 3
    assert all(r["audit_ref"] is None for r in rows)
    names = [p.name for p in files_in(tmp_path / "intake", "*")]
    assert {f"{r['job_id']} - problems.txt" for r in rows} <= set(names)
    everything = "\n".join([log_text(tmp_path), result.stderr, result.stdout, status, *names])
    for secret in ("Amara", "Okafor", "OKAFOR", "1234567"):
        assert secret not in everything
    assert status.count("no reference: rejected") == 3


def test_the_safe_formatter_keeps_every_record_on_one_line():
    """Control characters of every kind in a message are escaped, whatever logged it."""
    stream = io.StringIO()
    handler = logs.stream_handler(stream, "%(levelname)s %(message)s")
    logger = logging.getLogger("cssw_docs.test_safe_formatter")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("ref %s", "A\nINFO forged\r\x1b[2J\u2028\u202eB\x85C")
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    assert line == r"INFO ref A\nINFO forged\r\x1b[2J\u2028\u202eB\x85C"
    assert logs.escape_controls("plain text, café") == "plain text, café"


def test_phase_clock_adds_up_each_phase_and_takes_inner_ones_out_of_outer_ones():
    """A phase timed inside another counts once: in its own phase, not in the outer one too."""
    clock = logs.PhaseClock()
    with clock("filing"), clock("email composition"):
        sum(range(200_000))  # some CPU time in the inner phase
    with clock("filing"):
        pass
    assert clock.cpu["email composition"] > 0
    assert clock.wall["filing"] >= 0 and clock.wall["email composition"] > 0
    line = clock.line()
    assert line.startswith("service process: discovery 0.000 s (CPU 0.000 s), ")
    assert "email composition" in line and "; in all CPU " in line
    assert set(clock.wall) == set(logs.PHASES)
