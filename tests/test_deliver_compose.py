"""Tests for deliver.compose: subjects, bodies, working days, Message-IDs and attachments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from email import policy
from email.parser import BytesParser

import docx
import pytest

from cssw_docs import examples, privacy, rubric, rules
from cssw_docs.config import ServiceSettings
from cssw_docs.deliver import compose, routes
from cssw_docs.deliver.compose import _greeting
from cssw_docs.deliver.routes import Person
from cssw_docs.folders import shown_path
from cssw_docs.models import (
    Agreement,
    Attachment,
    Decision,
    DocKind,
    FileFormat,
    Finding,
    Location,
    ReferralOutcome,
    Report,
    Route,
    Severity,
    Stage,
)
from deliver_support import mail_settings, make_pack

WHEN = dt.datetime(2026, 10, 16, 9, 0, tzinfo=dt.UTC)

# gov.uk/bank-holidays, England and Wales.
GOV_UK = {
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(GOV_UK))
def test_bank_holidays_match_gov_uk(year):
    """The computed England and Wales bank holidays are gov.uk's for 2026 and 2027."""
    expected = {dt.date.fromisoformat(f"{year}-{d}") for d in GOV_UK[year]}
    assert compose.bank_holidays(year) == expected


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-10-16", 10, "2026-10-30"),  # Friday + 10 working days = Friday fortnight
        ("2026-10-14", 1, "2026-10-15"),
        ("2026-10-17", 1, "2026-10-19"),  # Saturday -> Monday
        ("2026-12-22", 3, "2026-12-29"),  # skips Christmas and the Boxing Day substitute
        ("2026-04-02", 1, "2026-04-07"),  # skips Good Friday and Easter Monday
        ("2027-05-28", 1, "2027-06-01"),  # skips the spring bank holiday
        ("2026-10-16", 0, "2026-10-16"),
    ],
)
def test_working_days(start, days, due):
    """Feedback dates skip weekends and bank holidays."""
    assert compose.add_working_days(dt.date.fromisoformat(start), days) == dt.date.fromisoformat(
        due
    )


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2022-09-16", "2022-09-20"),  # skips the state funeral of Queen Elizabeth II
        ("2023-05-05", "2023-05-09"),  # skips the coronation of King Charles III
        ("2022-06-01", "2022-06-06"),  # skips the spring bank holiday and the platinum jubilee
    ],
)
def test_working_days_skip_one_off_bank_holidays(start, due):
    """One-off bank holidays (a state funeral, a coronation, a jubilee) are not working days."""
    assert compose.add_working_days(dt.date.fromisoformat(start), 1) == dt.date.fromisoformat(due)


def test_message_id_is_deterministic_and_distinct():
    """The same job, stage, version and route give the same ID; any change gives another."""
    first = compose.message_id("job-1", "Final", 1, "final")
    assert first == compose.message_id("job-1", "Final", 1, "final")
    assert first.startswith("<") and first.endswith("@cssw-docs.local>")
    others = {
        compose.message_id("job-2", "Final", 1, "final"),
        compose.message_id("job-1", "Draft", 1, "final"),
        compose.message_id("job-1", "Final", 2, "final"),
        compose.message_id("job-1", "Final", 1, "supervision"),
    }
    assert first not in others and len(others) == 4


@pytest.mark.parametrize("route", list(Route))
def test_subject_is_marking_and_reference_only(route, good_audit):
    """Every subject starts with the protective marking and holds no child identifier."""
    subject = compose.subject_for(route, "OFFICIAL-SENSITIVE", "CSSW-2026-0142")
    assert subject.startswith("OFFICIAL-SENSITIVE: ")
    assert good_audit.child_mosaic_id not in subject
    assert not {w.lower() for w in good_audit.child_name.split()} & set(subject.lower().split())


def test_final_subject_reads_as_the_issue_says():
    """The final pack's subject is exactly the issue's example."""
    assert (
        compose.subject_for(Route.FINAL, "OFFICIAL-SENSITIVE", "CSSW-2026-0142")
        == "OFFICIAL-SENSITIVE: Audit pack CSSW-2026-0142 (final)"
    )


@pytest.mark.parametrize("bad_ref", ["CSSW-M1234567", "Okafor 2026", "amara-0142"])
def test_reference_holding_a_child_identifier_is_withheld(good_audit, bad_ref):
    """A reference carrying the child's name or MOSAIC ID never reaches a subject."""
    assert compose.safe_reference(bad_ref, good_audit) == "(reference withheld)"
    assert compose.safe_reference("CSSW-2026-0142", good_audit) == "CSSW-2026-0142"


def _compose(tmp_path, sub, route, settings=None, issue=None):
    settings = settings or mail_settings()
    pack = make_pack(tmp_path, sub.audit_ref, stage=sub.audit_stage)
    if issue is None and rules.awaiting_decision(sub):
        issue = routes.Issue(awaiting_decision=True, decision_due=dt.date(2026, 11, 3))
    found = {
        d.route: d
        for d in routes.pack_routes(sub, pack, settings.mail, moderation_selected=True, issue=issue)
    }
    delivery = found[route]
    note = compose.too_big(delivery.attachments, settings.mail.max_attachment_mb)
    attach = () if note else delivery.attachments
    blocks = compose.pack_body(
        delivery,
        sub,
        pack,
        settings,
        today=WHEN.date(),
        attachments=attach,
        oversize=note,
        moderation_selected=True,
        issue=issue,
        section_names={s.key: s.name for s in rubric.load().sections},
    )
    msg = compose.build_message(
        msg_id=compose.message_id("job", route),
        subject=compose.subject_for(route, "OFFICIAL-SENSITIVE", pack.audit_ref),
        delivery=delivery,
        blocks=blocks,
        attachments=attach,
        settings=settings,
        when=WHEN,
    )
    return BytesParser(policy=policy.default).parsebytes(msg.as_bytes()), pack


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def test_draft_body_asks_for_feedback_by_a_working_day_date(tmp_path, good_audit):
    """The draft message names the deadline ten working days on and the auditor to reply to."""
    sub = examples.variant(good_audit, audit_stage=Stage.DRAFT)
    msg, _ = _compose(tmp_path, sub, Route.DRAFT)
    text = _text(msg)
    assert "by Friday 30 October 2026" in text
    assert "priya.natarajan@camden.gov.uk" in text
    assert "What we ask you to do:" in text
    assert "CSSW-2026-0142 Audit report.docx" in text
    assert msg["Cc"] == "Priya Natarajan <priya.natarajan@camden.gov.uk>"


@pytest.mark.parametrize(
    "route",
    [
        "draft",
        "final",
        "supervision",
        "storyboard",
        "head-of-qa",
        "moderation",
        "under-review",
        "good-practice",
    ],
)
def test_bodies_never_name_the_child(tmp_path, good_audit, the_rubric, route):
    """No body, text or HTML, carries the child's name or MOSAIC ID."""
    stage = Stage.DRAFT if route == "draft" else Stage.FINAL
    sub = examples.variant(good_audit, audit_stage=stage, practitioner_agreement=None)
    if route in ("head-of-qa", "under-review"):
        sub = examples.disagree(the_rubric)
    msg, _ = _compose(tmp_path, sub, route)
    for body in (_text(msg), msg.get_body(("html",)).get_content()):
        assert sub.child_mosaic_id not in body
        assert sub.child_name.split()[-1] not in body
        assert "What we ask you to do" in body or "What happens next" in body


@pytest.mark.parametrize("route", ["storyboard", "moderation", "final"])
def test_a_theme_or_title_naming_the_child_is_redacted_in_every_body(tmp_path, good_audit, route):
    """The theme and storyboard title reach SMT and L&D: the child becomes "the child" there.

    The validator refuses such a theme or title; this is the second line, for an audit stored
    by an older release or an edited rulebook.
    """
    sub = examples.variant(
        good_audit,
        audit_theme="Neglect and Аmara's lived experience",  # a Cyrillic a
        storyboard_title="The Okafors' three houses (M1234567)",
    )
    msg, _ = _compose(tmp_path, sub, route)
    for body in (_text(msg), msg.get_body(("html",)).get_content()):
        assert not privacy.names_child(body, sub), body
    assert "the child's lived experience" in " ".join(_text(msg).split())


def test_storyboard_names_the_worker_and_team(tmp_path, good_audit):
    """The storyboard message celebrates the worker and the team by name."""
    msg, _ = _compose(tmp_path, good_audit, Route.STORYBOARD)
    text = _text(msg)
    assert "Tom Baxter" in text and "Family Support & Intervention Team 3" in text


def test_head_of_qa_body_says_the_practitioner_disagrees(tmp_path, good_audit):
    """The Head of QA is told why the audit reached them, by when and how to decide."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    msg, _ = _compose(tmp_path, sub, Route.HEAD_OF_QA)
    text = " ".join(_text(msg).split())
    assert "Tom Baxter disagrees with case audit CSSW-2026-0142" in text
    assert "decide by Tuesday 3 November 2026" in text
    assert "cssw-docs escalations decide CSSW-2026-0142 --outcome" in text


def test_under_review_notice_carries_nothing_final(tmp_path, good_audit):
    """The practitioner and manager hear the audit is under review; nothing is attached."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    msg, _ = _compose(tmp_path, sub, Route.UNDER_REVIEW)
    text = " ".join(_text(msg).split())
    assert "being reviewed by the Head of Quality Assurance" in text
    assert "Tuesday 3 November 2026" in text
    assert list(msg.iter_attachments()) == []
    assert msg["Subject"] == (
        "OFFICIAL-SENSITIVE: Audit CSSW-2026-0142 is being reviewed by the Head of Quality "
        "Assurance"
    )


def test_good_practice_notice_gives_team_worker_type_theme_and_ratings(tmp_path, good_audit):
    """SMT's notice says who, which audit and the ratings, without any child identifier."""
    msg, _ = _compose(tmp_path, good_audit, Route.GOOD_PRACTICE)
    text = " ".join(_text(msg).split())
    for expected in (
        "Team: Family Support & Intervention Team 3",
        "Allocated worker: Tom Baxter",
        "Type of audit: Thematic",
        "Theme: Neglect and the lived experience of the child",
        "Overall rating: Good",
        "Basic information: Requires improvement",
        "Assessment: Good",
    ):
        assert expected in text
    assert not privacy.names_child(text, good_audit)
    assert list(msg.iter_attachments()) == []


def test_final_after_a_decision_says_what_was_decided(tmp_path, good_audit):
    """The final pack's email gives the Head of QA's decision; its note is redacted."""
    sub = examples.variant(good_audit, practitioner_agreement=Agreement.DISAGREE)
    decision = Decision(
        ReferralOutcome.AMENDED, "Amara's safety plan counts.", dt.date(2026, 11, 2), "Jo Head"
    )
    msg, _ = _compose(tmp_path, sub, Route.FINAL, issue=routes.Issue(decision=decision))
    text = " ".join(_text(msg).split())
    assert "made on Monday 2 November 2026 by Jo Head, is Amended" in text
    assert "Amara" not in text


@pytest.mark.parametrize(
    ("route", "context", "expected"),
    [
        (
            Route.MODERATION_INVITATION,
            {"panel_date": "Monday 7 December 2026"},
            "The panel meets on Monday 7 December 2026.",
        ),
        (
            Route.MODERATION_OUTCOME,
            {
                "panel_date": "7 December 2026",
                "chair": "Dr Chair",
                "decided_on": "7 December 2026",
                "changes": ["Overall: Requires improvement (the auditor rated it Outstanding)"],
                "unchanged": True,
                "note": "Evidence too thin.",
            },
            "The chair's decision is final.",
        ),
        (
            Route.GOOD_PRACTICE_CORRECTION,
            {
                "chair": "Dr Chair",
                "decided_on": "7 December 2026",
                "panel_rating": "Requires improvement",
                "auditor_rating": "Outstanding",
                "still_good": False,
                "now_good": False,
                "storyboard": "Finding dad",
            },
            "no longer counted as good or outstanding practice",
        ),
        (
            Route.REPLACEMENT_DUE,
            {
                "decision": {
                    "outcome": "Replaced",
                    "meaning": "A revised audit replaces this one.",
                    "note": "Redo the planning section.",
                    "decided_on": "2 November 2026",
                    "decided_by": "Jo Head",
                }
            },
            "please revise the audit workbook",
        ),
    ],
)
def test_notices_say_what_happened_and_never_name_the_child(good_audit, route, context, expected):
    """Each message about an audit outside a pack reads as its template says, child unnamed."""
    delivery = routes.Delivery(route, routes.workbook_people(good_audit))
    blocks = compose.notice_body(delivery, good_audit, context, mail_settings())
    text = " ".join(compose.render_text(blocks).split())
    assert expected in text
    assert not privacy.names_child(text, good_audit)
    assert "CSSW-2026-0142" in text


def test_html_alternative_escapes_everything(tmp_path, good_audit):
    """Text from the workbook is escaped in the HTML part, never interpreted."""
    sub = examples.variant(good_audit, team='<script>alert("x")</script> & Co')
    msg, _ = _compose(tmp_path, sub, Route.FINAL)
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert '<script>alert("x")</script> & Co' in _text(msg)


def test_attachments_have_their_mime_types_and_open(tmp_path, good_audit):
    """Word documents and the CSV are attached with proper types; the documents open."""
    msg, _ = _compose(tmp_path, good_audit, Route.SUPERVISION)
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    docx_part = parts["CSSW-2026-0142 Supervision insert.docx"]
    assert docx_part.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    opened = docx.Document(io.BytesIO(docx_part.get_content()))
    assert opened.paragraphs[0].text == "CSSW-2026-0142 Supervision insert"
    assert parts["supervision_actions.csv"].get_content_type() == "text/csv"


def test_too_big_pack_is_not_attached_and_the_body_says_where(tmp_path, good_audit):
    """Above the size limit nothing is attached and the body points at the outbox folder."""
    settings = mail_settings(max_attachment_mb=0.001)
    msg, pack = _compose(tmp_path, good_audit, Route.FINAL, settings)
    assert list(msg.iter_attachments()) == []
    text = " ".join(_text(msg).split())
    assert "too large to email" in text
    assert str(pack.directory) in text


def test_rejection_body_lists_problems_first_error_first(tmp_path):
    """The auditor reads what to do, then every problem with the first error first."""
    report = Report(
        (
            Finding(
                "date.missing", Severity.ERROR, "Give the audit date.", Location("Audit", "C5")
            ),
            Finding("rating.missing", Severity.ERROR, "Rate the assessment.", None),
            Finding("plan.far", Severity.WARNING, "An action is due in a year.", None),
        )
    )
    delivery = routes.rejection_route("priya@camden.gov.uk", mail_settings().mail, ())
    blocks = compose.rejection_body(
        delivery, "with reference CSSW-2026-0195", report, mail_settings(), attachments=[],
        oversize=None,
    )  # fmt: skip
    text = compose.render_text(blocks)
    assert text.index("Give the audit date.") < text.index("Rate the assessment.")
    assert text.index("Rate the assessment.") < text.index("An action is due in a year.")
    assert text.index("What we ask you to do:") < text.index("Give the audit date.")
    assert "Your audit workbook with reference CSSW-2026-0195 could not" in " ".join(text.split())


def test_rejection_names_the_workbook_by_reference_or_arrival_never_by_file_name():
    """A rejection says which workbook by its accepted reference, else when it arrived."""
    when = dt.datetime(2026, 11, 26, 10, 42, tzinfo=dt.UTC)
    assert compose.workbook_words("CSSW-2026-0195", "J1", when) == "with reference CSSW-2026-0195"
    words = compose.workbook_words(None, "20261126-104200-ab12cd", when)
    assert words.startswith("received on 26 November 2026 at ")
    assert words.endswith("(job 20261126-104200-ab12cd)")


@pytest.mark.parametrize(
    ("name", "kind", "fmt", "shown"),
    [
        (
            "Amara Okafor - marked.xlsx",
            DocKind.MARKED_WORKBOOK,
            FileFormat.XLSX,
            "Audit workbook - marked.xlsx",
        ),
        (
            "Amara Okafor - problems.txt",
            DocKind.PROBLEMS_TEXT,
            FileFormat.TEXT,
            "Audit workbook - problems.txt",
        ),
    ],
)
def test_rejection_attachments_are_renamed(tmp_path, name, kind, fmt, shown):
    """A rejected workbook's own name may hold the child's name, so attachments are renamed."""
    assert compose.attachment_name(Attachment(tmp_path / name, kind, fmt)) == shown


def test_greeting_uses_names_or_colleagues():
    """People with names are greeted by name; bare addresses from config get "Dear colleagues"."""
    assert _greeting([Person("tom@camden.gov.uk", "Tom Baxter")]) == "Dear Tom Baxter,"
    assert _greeting([Person("smt@camden.gov.uk")]) == "Dear colleagues,"


def test_documents_are_described_by_kind_not_by_name(tmp_path, good_audit):
    """With reference PLAN-2026-01 the audit report is described as the audit report."""
    sub = examples.variant(good_audit, audit_ref="PLAN-2026-01")
    msg, _ = _compose(tmp_path, sub, Route.FINAL)
    text = _text(msg)
    assert "PLAN-2026-01 Audit report.docx: the audit report" in text
    assert "PLAN-2026-01 Audit plan.docx: the audit plan" in text


def test_workbook_text_cannot_add_a_list_item(tmp_path, good_audit):
    """A line break typed in a workbook field stays inside its sentence in both bodies."""
    sub = examples.variant(good_audit, team="Team 3\n- Click here\n# Urgent")
    msg, _ = _compose(tmp_path, sub, Route.FINAL)
    assert "for Team 3 - Click here # Urgent is now final" in _text(msg)
    assert "<li>Click here" not in msg.get_body(("html",)).get_content()


# --- the QA unit's own wording -----------------------------------------------------------


def _with_templates(folder):
    return mail_settings().with_changes(**{"render.templates_dir": str(folder)})


def test_override_template_changes_the_wording(tmp_path, good_audit):
    """A final.txt in <templates_dir>/email/ rewords that message; the others stay standard."""
    folder = tmp_path / "qa-templates"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "final.txt").write_text(
        "{{ greeting }}\n\nAudit {{ ref }} is final: thank you all.\n\n"
        '{% include "_attached.txt" %}\n\n{% include "_footer.txt" %}\n',
        "utf-8",
    )
    settings = _with_templates(folder)
    final, _ = _compose(tmp_path / "a", good_audit, Route.FINAL, settings)
    text = _text(final)
    assert "Audit CSSW-2026-0142 is final: thank you all." in text
    assert "is now final" not in text
    assert "CSSW-2026-0142 Audit report.docx: the audit report" in text  # standard partials
    assert (
        "<p>Audit CSSW-2026-0142 is final: thank you all.</p>"
        in final.get_body(("html",)).get_content()
    )
    supervision, _ = _compose(tmp_path / "b", good_audit, Route.SUPERVISION, settings)
    assert "Attached is the supervision insert" in _text(supervision)


def test_broken_override_template_is_a_plain_error(tmp_path, good_audit):
    """An override template using an unknown variable is refused with its file named."""
    folder = tmp_path / "qa-templates"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "final.txt").write_text("{{ child_name }}\n", "utf-8")
    with pytest.raises(compose.EmailTemplateError, match=r"final\.txt.*child_name"):
        _compose(tmp_path, good_audit, Route.FINAL, _with_templates(folder))


@pytest.mark.parametrize(
    ("markup", "blocks"),
    [
        ("One line\nwrapped.\n\nTwo.\n", ["One line wrapped.", "Two."]),
        (
            "# Attached:\n\n- a\n- b\n  continued\n",
            [compose.Heading("Attached:"), ("a", "b continued")],
        ),
        ("- item\nParagraph after.\n", [("item",), "Paragraph after."]),
        (
            "Text\n```\n1. First\n\n   Where: A1\n```\nAfter\n",
            ["Text", compose.Pre("1. First\n\n   Where: A1"), "After"],
        ),
        ("\n\n\n", []),
    ],
)
def test_template_markup_becomes_blocks(markup, blocks):
    """Blank lines part paragraphs; "# " is a heading, "- " a list item, ``` keeps text as is."""
    assert compose.parse_blocks(markup) == blocks


def test_every_route_has_words_in_the_route_names_template():
    """Notices name any email by its route: each Route has its words in _route_names.txt."""
    text = (compose.packaged_email_templates() / "_route_names.txt").read_text("utf-8")
    for route in Route:
        assert f'"{route.value}":' in text, route


SHARE = "\\\\fileserver\\CSSW-Audits\\outbox"


@pytest.mark.parametrize(("route", "limit"), [(Route.MODERATION, 20.0), (Route.FINAL, 0.001)])
def test_messages_point_at_files_by_the_share_people_open(tmp_path, good_audit, route, limit):
    """With service.outbox_share set, a message pointing at a pack gives the share's path."""
    settings = mail_settings(max_attachment_mb=limit).with_changes(
        **{"service.outbox": tmp_path, "service.outbox_share": SHARE}
    )
    msg, pack = _compose(tmp_path, good_audit, route, settings)
    text = " ".join(_text(msg).split())
    relative = pack.directory.relative_to(tmp_path)
    assert SHARE + "\\" + "\\".join(relative.parts) in text
    assert str(tmp_path) not in text


def test_shown_path_maps_the_outbox_and_intake_to_their_shares(tmp_path):
    """One helper maps a server path under the outbox or intake; other paths stay as they are."""
    service = dataclasses.replace(
        ServiceSettings(),
        outbox=tmp_path / "outbox",
        intake=tmp_path / "intake",
        outbox_share=SHARE + "\\",
        intake_share="/mnt/audits/intake",
    )
    assert (
        shown_path(tmp_path / "outbox" / "A-1" / "final-v1", service) == SHARE + "\\A-1\\final-v1"
    )
    assert shown_path(tmp_path / "intake" / "failed", service) == "/mnt/audits/intake/failed"
    assert shown_path(tmp_path / "state", service) == str(tmp_path / "state")
    plain = dataclasses.replace(service, outbox_share="")
    assert shown_path(tmp_path / "outbox" / "A-1", plain) == str(tmp_path / "outbox" / "A-1")
