"""Tests for deliver.routes: who receives which documents of a pack."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cssw_docs import examples
from cssw_docs.deliver import routes
from cssw_docs.models import (
    Agreement,
    Attachment,
    Decision,
    DocKind,
    FileFormat,
    PackFile,
    Rating,
    ReferralOutcome,
    Route,
    Stage,
    StoryboardStatus,
)
from deliver_support import mail_settings, make_pack

AUDITOR = "priya.natarajan@camden.gov.uk"
PRACTITIONER = "tom.baxter@camden.gov.uk"
MANAGER = "grace.mensah@camden.gov.uk"
BASE = {"final", "supervision"}  # every Final pack


def _by_route(deliveries: list[routes.Delivery]) -> dict[str, routes.Delivery]:
    return {d.route: d for d in deliveries}


AWAITING = routes.Issue(awaiting_decision=True)
DECIDED = routes.Issue(
    decision=Decision(ReferralOutcome.UPHELD, "Stands.", dt.date(2026, 12, 1), "Head of QA")
)
STORYBOARD_ONLY = routes.Issue(storyboard_only=True)
GOOD = {"good-practice", "storyboard"}
REVIEW = {"head-of-qa", "under-review"}  # nothing final while the Head of QA decides


@pytest.mark.parametrize(
    ("stage", "rating", "agreement", "selected", "issue", "expected"),
    [
        (Stage.DRAFT, Rating.GOOD, None, None, None, {"draft"}),
        (Stage.FINAL, Rating.GOOD, Agreement.AGREE, False, None, BASE | GOOD),
        (Stage.FINAL, Rating.OUTSTANDING, Agreement.AGREE, None, None, BASE | GOOD),
        (Stage.FINAL, Rating.REQUIRES_IMPROVEMENT, Agreement.AGREE, False, None, BASE),
        (Stage.FINAL, Rating.INADEQUATE, Agreement.PARTLY_AGREE, False, None, BASE),
        (Stage.FINAL, Rating.INADEQUATE, Agreement.DISAGREE, True, AWAITING, REVIEW),
        (Stage.FINAL, Rating.GOOD, Agreement.DISAGREE, True, AWAITING, REVIEW),
        (Stage.FINAL, Rating.GOOD, Agreement.DISAGREE, True, DECIDED, BASE | GOOD | {"moderation"}),
        (Stage.FINAL, Rating.INADEQUATE, Agreement.AGREE, True, None, BASE | {"moderation"}),
        (Stage.FINAL, Rating.GOOD, Agreement.AGREE, True, STORYBOARD_ONLY, {"storyboard"}),
    ],
)  # fmt: skip
def test_routes_follow_stage_rating_agreement_and_moderation(
    tmp_path, good_audit, stage, rating, agreement, selected, issue, expected
):
    """Each kind of pack goes by exactly the routes the issue lists."""
    sub = examples.variant(
        good_audit, audit_stage=stage, overall_rating=rating, practitioner_agreement=agreement
    )
    pack = make_pack(tmp_path, stage=stage)
    found = routes.pack_routes(
        sub, pack, mail_settings().mail, moderation_selected=selected, issue=issue
    )
    assert {d.route for d in found} == expected


def test_good_practice_notice_goes_to_smt_without_a_storyboard(tmp_path, good_audit):
    """A Good Final audit whose worker declined the storyboard still tells SMT (no files)."""
    sub = examples.variant(good_audit, storyboard_status=StoryboardStatus.DECLINED)
    pack = make_pack(tmp_path, kinds=(DocKind.REPORT, DocKind.PLAN, DocKind.SUPERVISION_INSERT))
    found = _by_route(routes.pack_routes(sub, pack, mail_settings().mail))
    assert set(found) == BASE | {"good-practice"}
    assert found["good-practice"].recipients == ("smt@camden.gov.uk",)
    assert found["good-practice"].attachments == ()


def test_awaiting_decision_goes_to_the_head_of_qa_and_only_a_notice_to_the_worker(
    tmp_path, good_audit
):
    """A disputed Final pack: report and plan to the Head of QA with the auditor copied; the
    practitioner and manager are told it is under review, with nothing attached."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    pack = make_pack(tmp_path, kinds=(DocKind.REPORT, DocKind.PLAN))
    found = _by_route(routes.pack_routes(sub, pack, mail_settings().mail, issue=AWAITING))
    assert found["head-of-qa"].recipients == ("head.of.qa@camden.gov.uk", AUDITOR)
    assert [p.email for p in found["head-of-qa"].cc] == [AUDITOR]
    assert {a.kind for a in found["head-of-qa"].attachments} == {DocKind.REPORT, DocKind.PLAN}
    assert found["under-review"].recipients == (PRACTITIONER, MANAGER, AUDITOR)
    assert found["under-review"].attachments == ()


def test_awaiting_decision_without_a_head_of_qa_goes_to_the_auditor(tmp_path, good_audit):
    """With no Head of QA configured the auditor holds the referral rather than nobody."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    settings = mail_settings(head_of_qa=[])
    found = _by_route(routes.pack_routes(sub, make_pack(tmp_path), settings.mail, issue=AWAITING))
    assert found["head-of-qa"].recipients == (AUDITOR,)


def test_decided_final_copies_the_head_of_qa(tmp_path, good_audit):
    """The final pack issued after the decision goes to all three, the Head of QA copied."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    found = _by_route(
        routes.pack_routes(sub, make_pack(tmp_path), mail_settings().mail, issue=DECIDED)
    )
    assert found["final"].recipients == (AUDITOR, PRACTITIONER, MANAGER, "head.of.qa@camden.gov.uk")


def test_issue_round_trips_through_json():
    """What a job issues is stored as JSON and read back the same."""
    for issue in (routes.Issue(), AWAITING, DECIDED, STORYBOARD_ONLY):
        assert routes.issue_from_dict(json.loads(json.dumps(routes.issue_to_dict(issue)))) == issue
    assert routes.issue_from_dict(None) == routes.Issue()


def test_draft_goes_to_practitioner_and_manager_copy_to_auditor(tmp_path, good_audit):
    """The draft is addressed to the practitioner and manager, the auditor copied."""
    sub = examples.variant(good_audit, audit_stage=Stage.DRAFT)
    pack = make_pack(tmp_path, stage=Stage.DRAFT)
    (draft,) = routes.pack_routes(sub, pack, mail_settings().mail)
    assert [p.email for p in draft.to] == [PRACTITIONER, MANAGER]
    assert [p.email for p in draft.cc] == [AUDITOR]
    assert [p.name for p in draft.attachments] == [
        "CSSW-2026-0142 Audit report.docx",
        "CSSW-2026-0142 Audit plan.docx",
    ]


def test_final_documents_go_to_the_right_people(tmp_path, good_audit):
    """Report and plan to all three, insert and CSV to the manager, storyboard to SMT and L&D."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.PARTLY_AGREE)
    pack = make_pack(tmp_path)
    found = _by_route(routes.pack_routes(sub, pack, mail_settings().mail, moderation_selected=True))
    assert found["final"].recipients == (AUDITOR, PRACTITIONER, MANAGER)
    assert {p.name for p in found["final"].attachments} == {
        "CSSW-2026-0142 Audit report.docx",
        "CSSW-2026-0142 Audit plan.docx",
    }
    assert found["supervision"].recipients == (MANAGER,)
    assert {p.name for p in found["supervision"].attachments} == {
        "CSSW-2026-0142 Supervision insert.docx",
        "supervision_actions.csv",
    }
    assert found["storyboard"].recipients == ("smt@camden.gov.uk", "learning@camden.gov.uk")
    assert [p.name for p in found["storyboard"].attachments] == ["CSSW-2026-0142 Storyboard.docx"]
    assert "head-of-qa" not in found  # partly agreeing is recorded, never referred
    assert found["moderation"].recipients == ("moderation@camden.gov.uk",)
    assert found["moderation"].attachments == ()


def test_storyboard_prefers_the_pdf(tmp_path, good_audit):
    """When the pack has a storyboard PDF, SMT get the PDF rather than the DOCX."""
    pack = make_pack(tmp_path)
    pdf = pack.directory / "CSSW-2026-0142 Storyboard.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    pack = type(pack)(
        pack.audit_ref,
        pack.stage,
        pack.version,
        pack.directory,
        (*pack.files, PackFile(pdf.name, DocKind.STORYBOARD, "x", 9, FileFormat.PDF)),
    )
    found = _by_route(routes.pack_routes(good_audit, pack, mail_settings().mail))
    assert [p.name for p in found["storyboard"].attachments] == [pdf.name]


def test_empty_address_lists_drop_their_route(tmp_path, good_audit):
    """With no SMT or L&D addresses configured there is no storyboard message to send."""
    settings = mail_settings(smt=[], learning_development=[])
    found = _by_route(routes.pack_routes(good_audit, make_pack(tmp_path), settings.mail))
    assert "storyboard" not in found


def test_same_person_twice_is_addressed_once(tmp_path, good_audit):
    """An auditor who is also the manager appears once on the final message."""
    sub = examples.variant(good_audit, manager_email=AUDITOR.upper())
    found = _by_route(routes.pack_routes(sub, make_pack(tmp_path), mail_settings().mail))
    assert found["final"].recipients == (AUDITOR, PRACTITIONER)


@pytest.mark.parametrize(
    ("auditor_email", "route", "recipients"),
    [
        ("priya@camden.gov.uk", "rejection", ("priya@camden.gov.uk",)),
        (None, "rejection-admin", ("qa.admin@camden.gov.uk",)),
        ("", "rejection-admin", ("qa.admin@camden.gov.uk",)),
        ("not an address", "rejection-admin", ("qa.admin@camden.gov.uk",)),
    ],
)
def test_rejection_goes_to_the_auditor_or_the_qa_admin(tmp_path, auditor_email, route, recipients):
    """A rejection goes to the auditor only, or to the QA admin when the auditor is unknown."""
    marked = Attachment(tmp_path / "x.xlsx", DocKind.MARKED_WORKBOOK, FileFormat.XLSX)
    found = routes.rejection_route(auditor_email, mail_settings().mail, (marked,))
    assert found is not None
    assert (found.route, found.recipients) == (route, recipients)


def test_rejection_with_nobody_to_tell_is_none():
    """No auditor and no QA admin: there is no message to send."""
    assert routes.rejection_route(None, mail_settings(qa_admin=[]).mail, ()) is None


@pytest.mark.parametrize(
    ("addresses", "allowed", "outside"),
    [
        (("a@camden.gov.uk",), ("camden.gov.uk",), []),
        (("a@CAMDEN.GOV.UK",), ("camden.gov.uk",), []),
        (("a@camden.gov.uk", "b@gmail.com"), ("camden.gov.uk",), ["b@gmail.com"]),
        (("a@evil-camden.gov.uk",), ("camden.gov.uk",), ["a@evil-camden.gov.uk"]),
        (("a@social.camden.gov.uk",), ("camden.gov.uk",), []),
        (("a@camden.gov.uk.evil.com",), ("camden.gov.uk",), ["a@camden.gov.uk.evil.com"]),
        (("@camden.gov.uk",), ("camden.gov.uk",), ["@camden.gov.uk"]),
        (("no-domain",), ("camden.gov.uk",), ["no-domain"]),
        (("b@gmail.com",), (), []),
    ],
)
def test_allowlist(addresses, allowed, outside):
    """Allowed domains and their subdomains pass, look-alikes do not; empty allows everyone."""
    assert [r.address for r in routes.refused(addresses, allowed)] == outside


def test_documents_are_chosen_by_kind_never_by_name(tmp_path, good_audit):
    """With reference PLAN-2026-01 each route still carries the right documents, by kind."""
    sub = examples.variant(good_audit, audit_ref="PLAN-2026-01")
    pack = make_pack(tmp_path, ref="PLAN-2026-01")
    found = _by_route(routes.pack_routes(sub, pack, mail_settings().mail))
    assert [a.kind for a in found[Route.FINAL].attachments] == [DocKind.REPORT, DocKind.PLAN]
    assert [a.kind for a in found[Route.SUPERVISION].attachments] == [
        DocKind.SUPERVISION_INSERT,
        DocKind.ACTIONS_CSV,
    ]
    assert [a.kind for a in found[Route.STORYBOARD].attachments] == [DocKind.STORYBOARD]
    sent = {a.kind for d in found.values() for a in d.attachments}
    assert DocKind.AUDIT_JSON not in sent
