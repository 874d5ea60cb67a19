"""Done when: nothing the service writes outside the case documents names a child.

The watcher runs (a real subprocess) over every example workbook and over hostile ones named
after the child, carrying references, themes and cell values built from the child's name and
MOSAIC ID. Then every log line, every file and folder name under intake/outbox/state, every
email subject and body (and the problems text attached to a rejection), the `status` and
`mail status` outputs, the activity report (workbook and Word summary), the moderation
workbook and the action and escalation lists are collected and searched with the same matcher
the service uses (``privacy.Identity``), so a lookalike or run-together name is caught too.

Excluded by kind: the case documents, which name the child on purpose (report, plan,
supervision insert, actions CSV, audit.json and manifest.json in a pack folder, and the marked
copy of an auditor's own workbook), and the auditor's own workbook files, which keep the name
the auditor gave them. Storyboards are collected: they go beyond the case and never name one.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest

from cssw_docs import examples, privacy, rubric
from cssw_docs.models import Submission
from cssw_docs.workbook.generate import write_submission
from service_support import drop, env, run_once

MAIL = {
    "CSSW_DOCS_MAIL__QA_ADMIN": "qa.admin@camden.gov.uk",
    "CSSW_DOCS_MAIL__HEAD_OF_QA": "head.of.qa@camden.gov.uk",
    "CSSW_DOCS_MAIL__SMT": "smt@camden.gov.uk",
    "CSSW_DOCS_MAIL__LEARNING_DEVELOPMENT": "learning.development@camden.gov.uk",
    "CSSW_DOCS_MAIL__MODERATION_COORDINATOR": "moderation@camden.gov.uk",
    "CSSW_DOCS_OVERSIGHT__MODERATION_PERCENT": "100",
}


def _child(sub: Submission) -> str:
    return f"{sub.child_name} {sub.child_mosaic_id}"


def _bytes(sub: Submission, folder: Path) -> bytes:
    path = folder / "made.xlsx"
    write_submission(sub, path, rubric.load())
    data = path.read_bytes()
    path.unlink()
    return data


def _workbooks(folder: Path) -> dict[str, bytes]:
    """Return {file name: bytes}: every example, then hostile ones, all named after the child."""
    the_rubric = rubric.load()
    ex = {name: examples.example(name, the_rubric) for name in examples.EXAMPLES}
    books = {f"{_child(sub)} {name}.xlsx": _bytes(sub, folder) for name, sub in ex.items()}
    good, ri, disagree = ex["good"], ex["requires-improvement"], ex["disagree"]
    draft, inadequate, outstanding = ex["draft"], ex["inadequate"], ex["outstanding"]
    first = {name: sub.child_name.split()[0] for name, sub in ex.items()}
    hostile = [
        dataclasses.replace(good, audit_ref="AmaraOkafor"),
        dataclasses.replace(ri, audit_ref="CSSW-3579246"),  # the MOSAIC digits
        dataclasses.replace(disagree, audit_ref="THOMPSON-2026-001"),  # in the format
        dataclasses.replace(
            draft,
            audit_ref=f"CSSW-2026-0178\n2026-11-26 10:00:00,000 INFO job x {_child(draft)}: ok",
        ),
        dataclasses.replace(inadequate, audit_theme=f"{first['inadequate']}'s contacts"),
        dataclasses.replace(
            outstanding,
            audit_date=_child(outstanding),  # a name typed into a date cell
            storyboard_context="Dаniel's family",  # a Cyrillic a
        ),
        dataclasses.replace(good, audit_theme="Neglect and the Оkafors"),  # a Cyrillic O
        dataclasses.replace(
            good,
            audit_ref="CSSW-2026-0301",  # valid: its actions name the child (a case document)
            actions=tuple(
                dataclasses.replace(a, action=f"Hold a direct session with Amara's father. {n}")
                for n, a in enumerate(good.actions)
            ),
            areas_for_development="Amara's views are not recorded; AmaraOkafor in the plan.",
        ),
    ]
    for n, sub in enumerate(hostile):
        books[f"{_child(sub)} hostile {n}.xlsx"] = _bytes(sub, folder)
    books[f"{_child(ri)} (copy).xlsx"] = b"not a workbook at all"  # unreadable: QA admin told
    books[f"{_child(disagree)} again.xlsx"] = books[f"{_child(disagree)} disagree.xlsx"]
    return books


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cssw_docs", *args],
        cwd=tmp,
        env=env(tmp, **MAIL),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def _is_auditors_own(name: str, dropped: set[str]) -> bool:
    """Return True for a workbook that keeps the name its auditor gave it (``name (2).xlsx``)."""
    stem = re.sub(r" \(\d+\)(?=\.xlsx$)", "", name)
    return name in dropped or stem in dropped


def _names(root: Path, dropped: set[str]) -> list[tuple[str, str]]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and _is_auditors_own(path.name, dropped):
            continue
        found.append((f"name {path.relative_to(root)}", path.name))
    return found


def _emails(outbox: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(outbox.rglob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        where = f"email {msg['Subject']}"
        found.append((f"{where}: subject", str(msg["Subject"])))
        for kind in ("plain", "html"):
            body = msg.get_body((kind,))
            if body is not None:
                found.append((f"{where}: {kind} body", body.get_content()))
        for part in msg.iter_attachments():
            found.append((f"{where}: attachment name", part.get_filename() or ""))
            if part.get_content_type() == "text/plain":  # the problems of a rejection
                found.append((f"{where}: {part.get_filename()}", part.get_content()))
    return found


def _xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    return "\n".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _ledger_text(state: Path) -> list[tuple[str, str]]:
    """Return what `status` and `mail status` read: job references and errors, mail subjects."""
    conn = sqlite3.connect(state / "ledger.sqlite3")
    try:
        jobs = conn.execute("SELECT job_id, audit_ref, last_error FROM jobs").fetchall()
        mails = conn.execute("SELECT message_id, audit_ref, subject FROM mail_outbox").fetchall()
    finally:
        conn.close()
    return [(f"ledger job {j[0]}", f"{j[1] or ''} {j[2] or ''}") for j in jobs] + [
        (f"ledger mail {m[0]}", f"{m[1] or ''} {m[2] or ''}") for m in mails
    ]


@pytest.mark.slow
def test_no_child_name_or_mosaic_id_outside_the_case_documents(tmp_path: Path) -> None:
    """Logs, names, subjects, bodies, status and cross-audit outputs never name a child."""
    intake = tmp_path / "intake"
    intake.mkdir()
    books = _workbooks(tmp_path)
    for name, data in books.items():
        drop(intake, name, data)
    run = run_once(tmp_path, **MAIL)
    assert run.returncode == 0, run.stderr
    reports = tmp_path / "reports"
    outputs = {
        "watch --once stdout": run.stdout,
        "watch --once stderr": run.stderr,
        "status": _cli(tmp_path, "status").stdout,
        "mail status": _cli(tmp_path, "mail", "status").stdout,
        "actions": _cli(tmp_path, "actions").stdout,
        "escalations": _cli(tmp_path, "escalations", "--all").stdout,
    }
    report = _cli(tmp_path, "report", "--from", "01/01/2026", "--to", "31/12/2026", "-o",
                  str(reports / "activity"))  # fmt: skip
    panel = _cli(tmp_path, "moderation", "list", "--xlsx", str(reports / "panel.xlsx"))
    outputs |= {
        "report stdout": report.stdout + report.stderr,
        "moderation list": panel.stdout + panel.stderr,
        "activity report workbook": _xlsx_text(reports / "activity.xlsx"),
        "activity report summary": _docx_text(reports / "activity.docx"),
        "moderation workbook": _xlsx_text(reports / "panel.xlsx"),
    }
    state = tmp_path / "state"
    for log in sorted(state.glob("service.log*")):
        outputs[f"log {log.name}"] = log.read_text("utf-8")
    dropped = set(books)
    collected = list(outputs.items())
    for root in (tmp_path / "intake", tmp_path / "outbox", state, reports):
        collected += _names(root, dropped)
    collected += _emails(tmp_path / "outbox")
    collected += [(f"rejection note {p.name}", p.read_text("utf-8"))
                  for p in sorted(intake.rglob("* - problems.txt"))]  # fmt: skip
    collected += _ledger_text(state)
    storyboards = sorted((tmp_path / "outbox").rglob("* Storyboard.docx"))
    collected += [(f"storyboard {p.relative_to(tmp_path)}", _docx_text(p)) for p in storyboards]

    # The run did what the collection claims to cover.
    subjects = " ".join(text for where, text in collected if where.endswith(": subject"))
    assert "Good practice storyboard CSSW-2026-0142" in subjects
    assert " rejected: auditor not known" in subjects
    assert subjects.count(" returned: problems to fix") >= 8
    assert "same content as an earlier job" in outputs["log service.log"]
    assert "Hold a direct session with the child's father" in outputs["activity report workbook"]
    assert "No child's name appears in this report." in outputs["activity report summary"]
    assert len(storyboards) >= 2

    children = {
        (sub.child_name, sub.child_mosaic_id)
        for sub in (examples.example(n, rubric.load()) for n in examples.EXAMPLES)
    }
    assert len(children) >= 6
    matchers = {name: privacy.Identity(name, mosaic) for name, mosaic in sorted(children)}
    leaks = [
        (where, name)
        for name, identity in matchers.items()
        for where, text in collected
        if identity.found_in(text)
    ]
    assert leaks == []
