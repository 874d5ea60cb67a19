"""Every failure reaches a person and nothing is sent twice: the running watcher (subprocess)."""

from __future__ import annotations

import os
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from deliver_support import start_server
from service_support import (
    GOOD_REF,
    drop,
    example_bytes,
    finished,
    jobs,
    log_text,
    start,
    stop,
    today,
    wait_for,
    with_ref,
)

pytestmark = pytest.mark.slow
CHILD = ("Amara", "Okafor", "M1234567")  # the good example's child
QA_ADMIN = {
    "CSSW_DOCS_MAIL__QA_ADMIN": "qa.admin@camden.gov.uk",
    "CSSW_DOCS_MAIL__ALLOWED_DOMAINS": "camden.gov.uk",
}
PACK_SUBJECTS = ("Audit pack", "Supervision insert", "storyboard", "referred", "moderation")


def started(tmp: Path) -> bool:
    return "intake service started" in log_text(tmp)


def drop_long(folder: Path, name: str, data: bytes) -> None:
    """Save a workbook under a long name: write elsewhere, then rename in."""
    temp = folder.parent / "incoming.tmp"
    temp.write_bytes(data)
    os.replace(temp, folder / name)


def emails(tmp: Path) -> list:
    """Return every .eml the watcher wrote (no mail server set), parsed."""
    folder = tmp / "outbox" / "mail"
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.rglob("*.eml"))]


def pack_emails(tmp: Path) -> list:
    return [m for m in emails(tmp) if any(w in str(m["Subject"]) for w in PACK_SUBJECTS)]


def test_long_name_dropped_twice_is_filed_and_each_pack_emailed_once(tmp_path):
    """A 255-byte name dropped twice: the second is filed as "... (2).xlsx"; no email twice."""
    name = "a" * 250 + ".xlsx"
    first, revised = (
        example_bytes("good"),
        with_ref(example_bytes("good"), GOOD_REF, "CSSW-2026-0143"),
    )
    proc = start(tmp_path, CSSW_DOCS_SERVICE__MAX_ATTEMPTS="2")
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop_long(tmp_path / "intake", name, first)
        wait_for(lambda: finished(tmp_path, 1), "the first workbook")
        drop_long(tmp_path / "intake", name, revised)
        wait_for(lambda: finished(tmp_path, 2), "the second workbook of the same name")
        wait_for(lambda: len(pack_emails(tmp_path)) >= 4, "both packs' emails")
        drop_long(tmp_path / "intake", name, revised)  # the same file once more: a duplicate
        wait_for(lambda: finished(tmp_path, 3), "the third drop")
    finally:
        assert stop(proc) == 0
    assert [j["state"] for j in jobs(tmp_path)] == ["processed", "processed", "duplicate"]
    filed = sorted(p.name for p in (tmp_path / "intake" / "processed" / today()).iterdir())
    assert len(filed) == 2 and name in filed
    (second,) = [n for n in filed if n != name]
    assert second.endswith(" (2).xlsx")
    assert all(len(n.encode("utf-8")) <= 255 for n in filed)
    ids = [str(m["Message-ID"]) for m in pack_emails(tmp_path)]
    assert len(ids) == 4 and len(set(ids)) == 4  # final and supervision, once per pack
    assert not (tmp_path / "intake" / "failed").exists()


def test_filing_failure_after_the_emails_were_queued_never_sends_them_again(tmp_path):
    """Filing fails after the pack was emailed: set aside as done, and a re-drop is a duplicate."""
    data = example_bytes("good")
    blocked = tmp_path / "intake" / "processed" / today()
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the day's folder should be")
    proc = start(tmp_path, CSSW_DOCS_SERVICE__MAX_ATTEMPTS="2", **QA_ADMIN)
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(tmp_path / "intake", "Amara Okafor M1234567.xlsx", data)
        wait_for(lambda: finished(tmp_path, 1), "the workbook to be set aside")
        failed = tmp_path / "intake" / "failed" / today()
        (job,) = jobs(tmp_path)
        note = (failed / f"{job['job_id']} - error.txt").read_text("utf-8")
        # What the old note advised: put the workbook back into the intake folder.
        os.replace(failed / "Amara Okafor M1234567.xlsx", tmp_path / "intake" / "again.xlsx")
        wait_for(lambda: finished(tmp_path, 2), "the workbook dropped again")
        wait_for(lambda: any("set aside" in str(m["Subject"]) for m in emails(tmp_path)), "notice")
        wait_for(lambda: len(pack_emails(tmp_path)) >= 2, "the pack's emails")  # not a race
    finally:
        assert stop(proc) == 0
    assert [j["state"] for j in jobs(tmp_path)] == ["processed", "duplicate"]
    assert "only filing the workbook failed" in note and "Do not put it" in note
    assert "Amara" not in note and "M1234567" not in note
    sent = pack_emails(tmp_path)
    assert len(sent) == 2 and len({str(m["Message-ID"]) for m in sent}) == 2
    (notice,) = [m for m in emails(tmp_path) if "set aside" in str(m["Subject"])]
    assert str(notice["To"]) == "qa.admin@camden.gov.uk"
    body = notice.get_body(("plain",)).get_content()
    assert job["job_id"] in body and GOOD_REF in body and "nobody is waiting" in body
    for word in CHILD:
        assert word not in body and word not in str(notice["Subject"])


def test_a_workbook_set_aside_tells_the_qa_admin_what_went_wrong(tmp_path):
    """The outbox is a file, not a folder: the note and the QA admin's email say so plainly."""
    controller, recorder = start_server()
    outbox = tmp_path / "outbox"
    outbox.write_text("the share is not mounted")
    mail = {
        "CSSW_DOCS_MAIL__HOST": "127.0.0.1",
        "CSSW_DOCS_MAIL__PORT": str(controller.port),
        "CSSW_DOCS_MAIL__SECURITY": "none",
        "CSSW_DOCS_MAIL__SENDER": "cssw-docs@camden.gov.uk",
        **QA_ADMIN,
    }
    proc = start(tmp_path, CSSW_DOCS_SERVICE__MAX_ATTEMPTS="2", **mail)
    try:
        wait_for(lambda: started(tmp_path), "the watcher to start")
        drop(tmp_path / "intake", "Amara Okafor M1234567.xlsx", example_bytes("good"))
        wait_for(lambda: finished(tmp_path, 1), "the workbook to be set aside")
        wait_for(lambda: recorder.by_subject("set aside"), "the QA admin's email")
    finally:
        assert stop(proc) == 0
        controller.stop()
    (job,) = jobs(tmp_path)
    assert job["state"] == "failed"
    note = (tmp_path / "intake" / "failed" / today() / f"{job['job_id']} - error.txt").read_text()
    what = note.split("What went wrong: ", 1)[1].split("\n", 1)[0]
    assert f"outbox folder ({outbox})" in what and "Not a directory" in what
    assert "move the workbook back into the intake folder" in note
    (notice,) = recorder.by_subject("set aside")
    assert notice.rcpt_tos == ["qa.admin@camden.gov.uk"]
    body = " ".join(notice.message.get_body(("plain",)).get_content().split())
    assert job["job_id"] in body and f"outbox folder ({outbox})" in body
    assert "failed/" in body and "move the workbook back" in body
    for word in CHILD:
        assert word not in body and word not in notice.subject
