"""The rulebook: each derived business fact answered once, the same for every caller."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from cssw_docs import examples, pipeline, rubric, rules
from cssw_docs.config import RenderSettings, Settings, ValidationSettings
from cssw_docs.models import Agreement, Rating, Stage, StoryboardStatus, Submission
from cssw_docs.render import render_pack
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate
from cssw_docs.workbook.generate import write_submission

NO_PDF = RenderSettings(pdf=False, storyboard_pdf=False)
# A format as loose as the file-name floor, to test that the floor and the renderer agree.
PERMISSIVE = ValidationSettings(
    reference_pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", reference_example="CSSW_2026_0142"
)
TODAY = dt.date(2026, 10, 20)  # a few days after the good example's audit


# --- the audit reference -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "safe"),
    [
        ("CSSW-2026-0142", True),
        ("CSSW_2026_0142", True),
        ("A" * 40, True),
        ("7", True),
        ("A" * 41, False),
        ("", False),
        ("-CSSW", False),
        ("_CSSW", False),
        ("CSSW.2026", False),
        ("CSSW 2026", False),
        ("CSSW/2026", False),
        ("CSSW-2026-Ä", False),
        ("CSSW-1\n", False),
        ("CON", False),
        ("lpt9", False),
        ("CON-2026", True),
    ],
)
def test_reference_is_safe(ref: str, safe: bool) -> None:
    """A reference is letters, digits, dashes and underscores, up to 40, not a device name."""
    assert rules.reference_is_safe(ref) is safe


def test_the_help_describes_the_pattern() -> None:
    """The help text's example is itself a reference the default format accepts."""
    default = ValidationSettings()
    assert rules.reference_is_safe("CSSW-2026-0142") and "CSSW-2026-0142" in rules.REFERENCE_HELP
    assert rules.reference_fits_format("CSSW-2026-0142", default)
    assert "MOSAIC" in rules.REFERENCE_HELP
    assert "CSSW-2026-0142" in rules.reference_format_help(default)


@pytest.mark.parametrize(
    ("ref", "fits"),
    [
        ("CSSW-2026-0142", True),
        ("FD-2026-001", True),
        ("ABCDEFGH-2026-123456", True),
        ("cssw-2026-0142", False),  # capitals only
        ("C-2026-0142", False),
        ("ABCDEFGHI-2026-0142", False),
        ("CSSW-26-0142", False),
        ("CSSW-2026-01", False),
        ("CSSW-2026-0142\n", False),
        ("CSSW_2026_0142", False),
        ("AmaraOkafor", False),
        ("CSSW-2026-0142-X", False),
    ],
)
def test_the_default_reference_format(ref: str, fits: bool) -> None:
    """The default format: 2-8 capitals, the year, a 3-6 digit number, dash-separated."""
    assert rules.reference_fits_format(ref, ValidationSettings()) is fits


def test_a_configured_reference_format_is_used() -> None:
    """A council's own pattern replaces the default; the file-name floor still applies."""
    own = ValidationSettings(reference_pattern=r"FD[0-9]{6}", reference_example="FD123456")
    assert rules.reference_fits_format("FD123456", own)
    assert not rules.reference_fits_format("CSSW-2026-0142", own)
    assert rules.reference_format_help(own) == "Write it in the same form as FD123456."


@pytest.mark.parametrize(
    ("ref", "accepted"),
    [
        ("CSSW-2026-0142", "CSSW-2026-0142"),
        (" CSSW-2026-0142 ", "CSSW-2026-0142"),
        ("AmaraOkafor", None),
        ("CSSW-1234567", None),  # the MOSAIC digits (M1234567)
        ("OKAFOR2026-01", None),
        ("OKAFOR-2026-001", None),  # fits the format, but names the child
        ("CSSW-1234-567", None),  # the MOSAIC digits across a dash
        ("CSSW-2026-0142\nforged", None),
        ("", None),
    ],
)
def test_accepted_reference(good_audit: Submission, ref: str, accepted: str | None) -> None:
    """Only a reference that passes every rule may name a file, a folder or a log line."""
    sub = dataclasses.replace(good_audit, audit_ref=ref)
    assert rules.accepted_reference(sub, ValidationSettings()) == accepted
    assert rules.accepted_reference(None, ValidationSettings()) is None


@pytest.mark.slow
def test_an_underscored_reference_passes_validate_and_renders(
    tmp_path: Path, the_rubric: Rubric
) -> None:
    """Regression: CSSW_2026_0142 passed validate and then the renderer refused it."""
    sub = dataclasses.replace(examples.good(the_rubric), audit_ref="CSSW_2026_0142")
    source = write_submission(sub, tmp_path / "audit.xlsx", the_rubric)
    settings = Settings(render=NO_PDF, validation=PERMISSIVE)
    checked = pipeline.check(source, the_rubric, settings)
    assert checked.ok, [f.code for f in checked.report.errors]
    pack = pipeline.render(checked, the_rubric, settings, tmp_path / "outbox")
    assert pack.audit_ref == "CSSW_2026_0142"
    assert pack.directory.parent == tmp_path / "outbox" / "CSSW_2026_0142"
    assert all((pack.directory / f.name).is_file() for f in pack.files)


# References built from the pieces real ones are made of, plus separators, letters outside A-Z,
# device names and the child's name; then near-valid text and any text at all.
_PIECES = ("CSSW", "2026", "0142", "FD", "Amara", "CON", "A" * 12, *"-_. éß/")
_BUILT = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join)
_NEAR = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_ .-]{0,44}", fullmatch=True)
_ANY = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=42)
REFERENCES = st.one_of(_BUILT, _BUILT, _BUILT, _NEAR, _ANY)


@functools.cache
def _base() -> tuple[Rubric, Submission]:
    """The packaged rubric and the Good Final example, built once (not fixtures: hypothesis
    prints a failing example's arguments, and these are long)."""
    the_rubric = rubric.load()
    return the_rubric, examples.good(the_rubric)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(ref=REFERENCES)
@example(ref="CSSW_2026_0142")  # the reported bug
@example(ref="CSSW-2026.1")
@example(ref=" CSSW-2026-0142 ")
@example(ref="A" * 40)
@example(ref="com1")
@example(ref="CSSW-Amara")
def test_every_reference_validate_accepts_can_be_rendered(
    ref: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the reference, validate accepts it exactly when it is safe, and then it renders.

    Run with a format as loose as the file-name floor, so the floor itself is what is tested.
    """
    the_rubric, good = _base()
    sub = dataclasses.replace(good, audit_ref=ref)
    report = validate(sub, the_rubric, PERMISSIVE, today=TODAY)
    written = ref.strip()
    usable = rules.reference_is_safe(written) and not rules.reference_identifies_child(written, sub)
    assert report.ok == usable, (ref, report.codes())
    assert (rules.accepted_reference(sub, PERMISSIVE) == written) is usable
    event("rendered" if report.ok else "refused")
    if report.ok:
        outbox = tmp_path_factory.mktemp("outbox")
        pack = render_pack(sub, the_rubric, outbox, settings=NO_PDF, source_sha256="0" * 64)
        assert pack.directory.parent == outbox / written


# --- ratings, the practitioner's view, the storyboard -----------------------------------------


@pytest.mark.parametrize(
    ("rating", "needed"),
    [
        (Rating.OUTSTANDING, False),
        (Rating.GOOD, False),
        (Rating.REQUIRES_IMPROVEMENT, True),
        (Rating.INADEQUATE, True),
        (Rating.NOT_APPLICABLE, False),
        (None, False),
    ],
)
def test_needs_action(rating: Rating | None, needed: bool) -> None:
    """Requires improvement and Inadequate need an action in the plan; nothing else does."""
    assert rules.needs_action(rating) is needed


@pytest.mark.parametrize(
    ("agreement", "referred"),
    [
        (Agreement.AGREE, False),
        (Agreement.PARTLY_AGREE, False),
        (Agreement.DISAGREE, True),
        (None, False),
    ],
)
def test_referred_to_head_of_qa(good_audit: Submission, agreement, referred: bool) -> None:
    """Only a practitioner who disagrees sends the audit to the Head of QA."""
    sub = dataclasses.replace(good_audit, practitioner_agreement=agreement)
    assert rules.referred_to_head_of_qa(sub) is referred


@pytest.mark.parametrize(
    ("stage", "overall", "changes", "expected", "due"),
    [
        (Stage.FINAL, Rating.GOOD, {}, True, True),
        (Stage.FINAL, Rating.OUTSTANDING, {"storyboard_consent": None}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_consent": False}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_anonymised": None}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_anonymised": False}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_status": StoryboardStatus.DECLINED}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_status": StoryboardStatus.INVITED}, True, False),
        (Stage.FINAL, Rating.GOOD, {"storyboard_status": None}, True, False),
        (Stage.FINAL, Rating.REQUIRES_IMPROVEMENT, {}, False, False),
        (Stage.DRAFT, Rating.GOOD, {}, False, False),
        (Stage.FINAL, None, {}, False, False),
    ],
)
def test_storyboard_expected_and_due(
    good_audit: Submission, stage, overall, changes, expected: bool, due: bool
) -> None:
    """Good practice at Final expects a storyboard; the pack holds one only when Completed,
    consented to within the service and confirmed by the auditor to identify no one."""
    sub = dataclasses.replace(good_audit, audit_stage=stage, overall_rating=overall, **changes)
    assert rules.storyboard_expected(sub) is expected
    assert rules.good_practice(sub) is expected
    assert rules.storyboard_due(sub) is due


@pytest.mark.parametrize(("external", "outside"), [(True, True), (False, False), (None, False)])
def test_only_consent_outside_the_service_shares_outside(
    good_audit: Submission, external, outside: bool
) -> None:
    """Only consent to share outside the service marks a storyboard for agencies and Ofsted."""
    sub = dataclasses.replace(good_audit, storyboard_consent_external=external)
    assert rules.storyboard_due(sub)
    assert rules.shared_outside(sub) is outside


def test_decision_due_counts_working_days() -> None:
    """The Head of QA's deadline skips weekends and bank holidays (Christmas and Boxing Day)."""
    assert rules.decision_due(dt.date(2026, 12, 21), 5) == dt.date(2026, 12, 30)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (dt.date(2026, 12, 21), dt.date(2026, 12, 30), 5),  # Christmas and Boxing Day (Mon)
        (dt.date(2026, 4, 2), dt.date(2026, 4, 7), 1),  # Good Friday and Easter Monday
        (dt.date(2026, 5, 8), dt.date(2026, 5, 8), 0),
        (dt.date(2026, 5, 9), dt.date(2026, 5, 8), 0),
    ],
)
def test_working_days_between(start: dt.date, end: dt.date, count: int) -> None:
    """Working days after the first day up to and including the last: no weekends, no bank
    holidays; the same count as adding working days one at a time, across years too."""
    assert rules.working_days_between(start, end) == count
    for days in range(0, 800, 37):
        later = start + dt.timedelta(days=days)
        one_by_one = sum(
            rules.is_working_day(start + dt.timedelta(days=d)) for d in range(1, days + 1)
        )
        assert rules.working_days_between(start, later) == one_by_one


# --- identifying text ---------------------------------------------------------------------------


def test_identifying_tokens(good_audit: Submission) -> None:
    """The child's name parts and MOSAIC ID (and its digits) identify them, case-folded."""
    assert good_audit.child_name == "Amara Okafor" and good_audit.child_mosaic_id == "M1234567"
    assert rules.identifying_tokens(good_audit) == {"amara", "okafor", "m1234567", "1234567"}


@pytest.mark.parametrize(
    ("ref", "identifies"),
    [
        ("CSSW-2026-0142", False),
        ("Okafor-2026", True),
        ("CSSW_AMARA_1", True),
        ("CSSWAmara26", True),
        ("CSSW-M1234567", True),
        ("CSSW-1234567", True),
        ("CSSW-123456", False),
    ],
)
def test_reference_identifies_child(good_audit: Submission, ref: str, identifies: bool) -> None:
    """A reference holding the child's name or MOSAIC ID identifies them, even run together."""
    assert rules.reference_identifies_child(ref, good_audit) is identifies


@pytest.mark.parametrize(
    ("text", "identifies"),
    [
        ("The child, aged 9, chose the colours.", False),
        ("Amara chose the colours.", True),
        ("Ring 07700 900123.", True),
        ("She lives near NW1 2DB.", True),
        ("Born on 3 March 2015.", True),
        ("", False),
    ],
)
def test_identifies_child(good_audit: Submission, text: str, identifies: bool) -> None:
    """Text holding the child's name or a personal detail identifies them."""
    assert rules.identifies_child(text, good_audit) is identifies
