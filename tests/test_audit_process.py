"""The audit process as the guide describes it, end to end through the watcher.

Each test drops workbooks into the intake folder, runs ``cssw-docs watch --once`` (a real
subprocess) and the follow-up commands, then reads what came out: the pack folders, the
``.eml`` messages (no mail server: files), the ledger and the activity report.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import openpyxl
import pytest

from cssw_docs import examples, rubric
from cssw_docs.models import Consent, NoObservation, StoryboardStatus, Submission
from cssw_docs.workbook.generate import write_submission
from service_support import drop, env, jobs, packs, run_once

pytestmark = pytest.mark.slow

RUBRIC = rubric.load()
CONFIG = """
[mail]
host = ""
sender = "cssw-docs@camden.gov.uk"
allowed_domains = ["camden.gov.uk"]
qa_admin = ["qa.admin@camden.gov.uk"]
head_of_qa = ["head.of.qa@camden.gov.uk"]
smt = ["smt@camden.gov.uk"]
learning_development = ["learning@camden.gov.uk"]
moderation_coordinator = ["moderation@camden.gov.uk"]
"""
AUDITOR, WORKER, MANAGER = (
    "priya.natarajan@camden.gov.uk",
    "tom.baxter@camden.gov.uk",
    "grace.mensah@camden.gov.uk",
)
NO_STORYBOARD = {
    "storyboard_title": "",
    "storyboard_context": "",
    "storyboard_what_we_did": "",
    "storyboard_impact": "",
    "storyboard_voice": "",
    "storyboard_learning": "",
    "storyboard_consent": None,
    "storyboard_consent_external": None,
    "storyboard_anonymised": None,
}


@dataclasses.dataclass(frozen=True)
class Mail:
    """One .eml message the service wrote."""

    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    attachments: tuple[str, ...]
    text: str


def _setup(tmp: Path) -> Path:
    (tmp / "intake").mkdir()
    (tmp / "cssw-docs.toml").write_text(CONFIG, "utf-8")
    return tmp


def _drop(tmp: Path, name: str, sub: Submission) -> None:
    path = tmp / f".{name}"
    write_submission(sub, path, RUBRIC)
    drop(tmp / "intake", name, path.read_bytes())
    path.unlink()


def _watch(tmp: Path, **extra: str) -> None:
    done = run_once(tmp, **extra)
    assert done.returncode == 0, done.stdout + done.stderr


def _cli(tmp: Path, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cssw_docs", *args],
        cwd=tmp,
        env=env(tmp, **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _addresses(value: object) -> tuple[str, ...]:
    return tuple(a.addr_spec for a in value.addresses) if value else ()


def _mails(tmp: Path) -> list[Mail]:
    out = []
    for path in sorted((tmp / "outbox" / "mail").rglob("*.eml")):
        with path.open("rb") as fh:
            msg = BytesParser(policy=policy.default).parse(fh)
        out.append(
            Mail(
                str(msg["Subject"]).removeprefix("OFFICIAL-SENSITIVE: "),
                _addresses(msg["To"]),
                _addresses(msg["Cc"]),
                tuple(sorted(p.get_filename() for p in msg.iter_attachments())),
                " ".join(msg.get_body(("plain",)).get_content().split()),
            )
        )
    return out


def _subjects(mails: list[Mail]) -> list[str]:
    return sorted(m.subject for m in mails)


def _one(mails: list[Mail], subject: str) -> Mail:
    (found,) = [m for m in mails if m.subject == subject]
    return found


def _files(pack: Path) -> list[str]:
    return sorted(p.name for p in pack.iterdir())


def _audit_json(pack: Path) -> dict:
    return json.loads((pack / "audit.json").read_text("utf-8"))


def _text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _no_child(mails: list[Mail], sub: Submission) -> None:
    for mail in mails:
        for word in (*sub.child_name.split(), sub.child_mosaic_id):
            assert word not in mail.subject and word not in mail.text, mail.subject


# --- Good practice is celebrated whether or not a storyboard is written -----------------------


def test_good_final_with_storyboard_declined_is_issued_and_smt_told(tmp_path: Path) -> None:
    """A Good Final audit whose worker declined the storyboard: the pack is issued without a
    storyboard, and SMT get the good-practice notice (team, worker, type, theme, ratings)."""
    tmp = _setup(tmp_path)
    good = examples.good(RUBRIC)
    sub = dataclasses.replace(good, storyboard_status=StoryboardStatus.DECLINED, **NO_STORYBOARD)
    _drop(tmp, "declined.xlsx", sub)
    _watch(tmp)
    ref = good.audit_ref
    assert [j["state"] for j in jobs(tmp)] == ["processed"]
    assert packs(tmp / "outbox") == [f"{ref}/final-v1"]
    pack = tmp / "outbox" / ref / "final-v1"
    assert f"{ref} Storyboard.docx" not in _files(pack)
    assert f"{ref} Supervision insert.docx" in _files(pack)
    mails = _mails(tmp)
    assert _subjects(mails) == sorted(
        [
            f"Audit pack {ref} (final)",
            f"Supervision insert {ref}",
            f"Good practice found in audit {ref}",
        ]
    )
    notice = _one(mails, f"Good practice found in audit {ref}")
    assert notice.to == ("smt@camden.gov.uk",) and notice.attachments == ()
    for expected in (
        "Team: Family Support & Intervention Team 3",
        "Allocated worker: Tom Baxter",
        "Type of audit: Thematic",
        "Theme: Neglect and the lived experience of the child",
        "Overall rating: Good",
        "Assessment: Good",
    ):
        assert expected in notice.text
    _no_child(mails, sub)
    assert _audit_json(pack)["storyboard_status"] == "Declined"


def test_a_revised_workbook_that_only_adds_a_storyboard_issues_only_the_storyboard(
    tmp_path: Path,
) -> None:
    """Final without a storyboard (Invited), then the same audit with its storyboard: only the
    storyboard is issued (to SMT and learning and development), never the pack again."""
    tmp = _setup(tmp_path)
    good = examples.good(RUBRIC)
    invited = dataclasses.replace(good, storyboard_status=StoryboardStatus.INVITED, **NO_STORYBOARD)
    _drop(tmp, "first.xlsx", invited)
    _watch(tmp)
    first = _mails(tmp)
    _drop(tmp, "with storyboard.xlsx", good)
    _watch(tmp)
    ref = good.audit_ref
    assert packs(tmp / "outbox") == [f"{ref}/final-v1", f"{ref}/final-v2"]
    v2 = tmp / "outbox" / ref / "final-v2"
    assert _files(v2) == sorted(["audit.json", "manifest.json", f"{ref} Storyboard.docx"])
    assert _audit_json(v2)["storyboard_only"] is True
    assert _audit_json(v2)["storyboard_shared_outside"] is False  # consent within only
    new = [m for m in _mails(tmp) if m not in first]
    assert _subjects(new) == [f"Good practice storyboard {ref}"]
    (story,) = new
    assert story.to == ("smt@camden.gov.uk", "learning@camden.gov.uk")
    assert story.attachments == (f"{ref} Storyboard.docx",)
    assert "Share it within the service only" in story.text
    conn_rows = _audit_rows(tmp)
    assert [(r["version"], r["issue"]) for r in conn_rows] == [(1, "pack"), (2, "storyboard")]


def _audit_rows(tmp: Path) -> list[dict]:
    conn = sqlite3.connect(tmp / "state" / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audits ORDER BY version")]
    finally:
        conn.close()


# --- Practice Week without an observation -----------------------------------------------------


def test_practice_week_with_observation_declined_is_accepted(tmp_path: Path) -> None:
    """The family declined observation: the reason is recorded and the audit is issued."""
    tmp = _setup(tmp_path)
    outstanding = examples.outstanding(RUBRIC)
    sub = dataclasses.replace(
        outstanding,
        observation_activity="",
        observation_consent=Consent.DECLINED,
        observation_none_reason=NoObservation.DECLINED,
        observation_none_detail="Father asked for no visitors while D settled at his home.",
    )
    _drop(tmp, "practice week.xlsx", sub)
    _watch(tmp)
    assert [j["state"] for j in jobs(tmp)] == ["processed"]
    pack = tmp / "outbox" / sub.audit_ref / "final-v1"
    data = _audit_json(pack)
    assert data["observation_none_reason"] == "Declined"
    assert data["observation_activity"] == ""
    assert f"Good practice found in audit {sub.audit_ref}" in _subjects(_mails(tmp))


# --- Disagreement goes to the Head of QA before anything is final ------------------------------


def test_disagree_waits_for_the_head_of_qa_then_the_final_pack_follows_decide(
    tmp_path: Path,
) -> None:
    """A Final workbook with Disagree: a marked pack (report and plan) to the Head of QA and the
    auditor, a notice to the worker and manager, no supervision insert or CSV. After
    `escalations decide` the final pack, with the decision, goes by the Final routes."""
    tmp = _setup(tmp_path)
    sub = examples.disagree(RUBRIC)
    ref = sub.audit_ref
    _drop(tmp, "disputed.xlsx", sub)
    _watch(tmp)
    assert packs(tmp / "outbox") == [f"{ref}/final-v1"]
    v1 = tmp / "outbox" / ref / "final-v1"
    assert _files(v1) == sorted(
        ["audit.json", "manifest.json", f"{ref} Audit plan.docx", f"{ref} Audit report.docx"]
    )
    data = _audit_json(v1)
    assert data["awaiting_decision"] is True and data["decision"] is None
    assert "Awaiting Head of Quality Assurance decision" in _text(v1 / f"{ref} Audit report.docx")
    mails = _mails(tmp)
    assert _subjects(mails) == sorted(
        [
            f"Audit {ref} referred to the Head of Quality Assurance",
            f"Audit {ref} is being reviewed by the Head of Quality Assurance",
        ]
    )
    head = _one(mails, f"Audit {ref} referred to the Head of Quality Assurance")
    assert head.to == ("head.of.qa@camden.gov.uk",) and head.cc == (sub.auditor_email,)
    assert head.attachments == (f"{ref} Audit plan.docx", f"{ref} Audit report.docx")
    review = _one(mails, f"Audit {ref} is being reviewed by the Head of Quality Assurance")
    assert review.to == (sub.practitioner_email, sub.manager_email)
    assert review.attachments == ()
    assert "open" in _cli(tmp, "escalations")

    out = _cli(tmp, "escalations", "decide", ref, "--outcome", "upheld",
               "--note", "The rating stands: the plan on file was not updated.",
               "--by", "Jo Head")  # fmt: skip
    assert "Final pack (version 2)" in out
    _cli(tmp, "mail", "send")
    v2 = tmp / "outbox" / ref / "final-v2"
    assert f"{ref} Supervision insert.docx" in _files(v2)
    assert "supervision_actions.csv" in _files(v2)
    decided = _audit_json(v2)
    assert decided["awaiting_decision"] is False
    assert decided["decision"]["outcome"] == "upheld"
    assert decided["decision"]["decided_by"] == "Jo Head"
    report = _text(v2 / f"{ref} Audit report.docx")
    assert "Reviewed by the Head of Quality Assurance (Jo Head)" in report
    new = [m for m in _mails(tmp) if m not in mails]
    assert _subjects(new) == sorted([f"Audit pack {ref} (final)", f"Supervision insert {ref}"])
    final = _one(new, f"Audit pack {ref} (final)")
    assert final.cc == ("head.of.qa@camden.gov.uk",)
    assert "Upheld" in final.text
    supervision = _one(new, f"Supervision insert {ref}")
    assert supervision.to == (sub.manager_email,)
    assert "supervision_actions.csv" in supervision.attachments
    _no_child([*mails, *new], sub)
    assert "No open referrals." in _cli(tmp, "escalations")
    assert "closed" in _cli(tmp, "escalations", "--all")


def test_a_revised_agreed_workbook_ends_the_referral(tmp_path: Path) -> None:
    """While the Head of QA has not decided, a revised workbook the practitioner agrees with
    is issued as final (the Head of QA copied) and closes the referral."""
    tmp = _setup(tmp_path)
    disputed = examples.disagree(RUBRIC)
    _drop(tmp, "disputed.xlsx", disputed)
    _watch(tmp)
    before = _mails(tmp)
    agreed = dataclasses.replace(
        disputed,
        practitioner_agreement=examples.good(RUBRIC).practitioner_agreement,
        practitioner_feedback="After talking it through I agree with the findings.",
    )
    _drop(tmp, "agreed.xlsx", agreed)
    _watch(tmp)
    ref = disputed.audit_ref
    new = [m for m in _mails(tmp) if m not in before]
    assert _subjects(new) == sorted([f"Audit pack {ref} (final)", f"Supervision insert {ref}"])
    assert _one(new, f"Audit pack {ref} (final)").cc == ("head.of.qa@camden.gov.uk",)
    assert "No open referrals." in _cli(tmp, "escalations")


# --- The panel chair's decision is final -------------------------------------------------------


def test_panel_outcome_changes_outstanding_to_requires_improvement(tmp_path: Path) -> None:
    """The panel invitation gives the date; the chair's decision becomes the rating of record in
    the report (the auditor's kept beside it); the auditor, worker and manager are told, and
    SMT's good-practice notice is corrected."""
    tmp = _setup(tmp_path)
    everyone = {"CSSW_DOCS_OVERSIGHT__MODERATION_PERCENT": "100"}
    sub = examples.outstanding(RUBRIC)
    ref = sub.audit_ref
    _drop(tmp, "outstanding.xlsx", sub)
    _watch(tmp, **everyone)
    issued = _mails(tmp)
    assert f"Audit {ref} selected for the moderation panel" in _subjects(issued)

    _cli(tmp, "moderation", "schedule", ref, "--date", "07/12/2026")
    assert "scheduled for the panel on 07/12/2026" in _cli(tmp, "moderation", "list")
    out = _cli(tmp, "moderation", "record", ref, "--rating", "Requires improvement",
               "--chair", "Dr Ada Chair", "--date", "07/12/2026",
               "--note", "The evidence of impact does not reach Outstanding yet.")  # fmt: skip
    assert "corrected good-practice notice" in out
    _cli(tmp, "mail", "send")
    new = [m for m in _mails(tmp) if m not in issued]
    assert _subjects(new) == sorted(
        [
            f"Invitation to the moderation panel for audit {ref}",
            f"Moderation panel decision on audit {ref}",
            f"Good practice notice corrected for audit {ref}",
        ]
    )
    people = (sub.auditor_email, sub.practitioner_email, sub.manager_email)
    invitation = _one(new, f"Invitation to the moderation panel for audit {ref}")
    assert invitation.to == people and "Monday 7 December 2026" in invitation.text
    outcome = _one(new, f"Moderation panel decision on audit {ref}")
    assert outcome.to == people
    assert "Overall: Requires improvement (the auditor rated it Outstanding)" in outcome.text
    correction = _one(new, f"Good practice notice corrected for audit {ref}")
    assert correction.to == ("smt@camden.gov.uk",)
    assert "no longer counted as good or outstanding practice" in correction.text
    _no_child([*issued, *new], sub)
    listing = _cli(tmp, "moderation", "list")
    assert "decided 07/12/2026 by Dr Ada Chair: Requires improvement overall" in listing

    _cli(tmp, "report", "--from", "01/01/2026", "--to", "31/12/2026", "-o", str(tmp / "r"))
    book = openpyxl.load_workbook(tmp / "r.xlsx")
    ws = book["Audits"]
    header = [c.value for c in ws[1]]
    (row,) = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert row["Overall"] == "Requires improvement"
    assert row["Auditor's overall"] == "Outstanding"
    assert row["Panel outcome"] == "Panel rated lower"
    summary = [list(r) for r in book["Ratings"].iter_rows(values_only=True)]
    overall = next(r for r in summary if r and r[0] == "Overall")
    header = next(r for r in summary if r and "Outstanding" in r)
    counts = dict(zip(header, overall, strict=False))
    assert counts["Outstanding"] == 0 and counts["Requires improvement"] == 1
