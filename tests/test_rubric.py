"""The rubric file is a faithful, complete transcription of the audit guide."""

from __future__ import annotations

from pathlib import Path

import pytest

from cssw_docs import rubric
from cssw_docs.models import SECTION_KEYS

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_5960ca41824dc693.txt"

# Counts of descriptors per section and grade, read off the guide's three tables by hand.
EXPECTED_COUNTS = {
    "referral": (6, 5, 6),
    "basic_information": (5, 4, 5),
    "assessment": (9, 8, 7),
    "planning": (8, 6, 7),
    "review": (4, 4, 6),
    "management_oversight": (5, 6, 7),
}


def test_sections_and_counts_match_the_guide(the_rubric):
    """Every section is present, in order, with every descriptor the guide lists per grade."""
    assert tuple(s.key for s in the_rubric.sections) == SECTION_KEYS
    for s in the_rubric.sections:
        got = tuple(len(s.of_grade(g)) for g in rubric.GRADES)
        assert got == EXPECTED_COUNTS[s.key], s.key


def test_scale_areas_types_roles_and_questions(the_rubric):
    """The scale, eleven core areas, four audit types, roles and five questions are all there."""
    assert the_rubric.ratings == ("Outstanding", "Good", "Requires improvement", "Inadequate")
    assert the_rubric.not_applicable == "Not applicable"
    assert len(the_rubric.core_areas) == 11
    assert [t.name for t in the_rubric.audit_types] == [
        "Early Help/Front Door",
        "Thematic",
        "Practice Week",
        "Dip sample",
    ]
    assert the_rubric.audit_type("practice week").requires_observation
    assert the_rubric.audit_type("Early Help/Front Door").required_sections == ("referral",)
    assert len(the_rubric.auditor_roles) >= 5
    assert len(the_rubric.family_feedback_questions) == 5


def test_wrapped_rows_are_joined_and_typos_repaired(the_rubric):
    """Rows the guide wraps are whole; certain typos are fixed, nothing else is."""
    planning = the_rubric.section("planning").of_grade("Good")
    assert any(
        "parents and carers will undertake" in d and "day to day actions" in d for d in planning
    )
    basic = the_rubric.section("basic_information").of_grade("Inadequate")
    assert basic[0].endswith("sufficiently clear information to support decision making.")
    text = " ".join(d for s in the_rubric.sections for g in rubric.GRADES for d in s.of_grade(g))
    assert "plan, jargon free" not in text and "plain, jargon free" in text
    assert "MSAIC" not in text and "beings with" not in text


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is not beside this checkout")
def test_every_descriptor_comes_from_the_guide(the_rubric):
    """Each descriptor opens and closes with words from the guide (nothing invented)."""
    seed = _words(SEED.read_text(encoding="utf-8")).replace("msaic", "mosaic")  # a repaired typo
    for s in the_rubric.sections:
        for g in rubric.GRADES:
            for d in s.of_grade(g):
                words = _words(d).split()
                assert " ".join(words[:3]) in seed and " ".join(words[-2:]) in seed, d


def _words(text: str) -> str:
    """Return ``text`` lower-cased with punctuation dropped and spaces collapsed."""
    return " ".join("".join(c for c in text.casefold() if c.isalnum() or c.isspace()).split())


def test_a_broken_rubric_file_gives_a_plain_error(tmp_path):
    """A rubric the QA unit broke is refused with a sentence, not a traceback."""
    bad = tmp_path / "rubric.toml"
    bad.write_text("version = [", encoding="utf-8")
    with pytest.raises(rubric.RubricError, match="not valid TOML"):
        rubric.load(bad)
    with pytest.raises(rubric.RubricError, match="does not exist"):
        rubric.load(tmp_path / "missing.toml")


def test_an_edited_copy_is_used(tmp_path):
    """A copy with an edited question is loaded in place of the packaged rubric."""
    text = rubric.default_path().read_text(encoding="utf-8")
    edited = tmp_path / "rubric.toml"
    edited.write_text(text.replace("How well did your social worker", "How well did we"), "utf-8")
    assert rubric.load(edited).family_feedback_questions[0].startswith("How well did we")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    """Return a copy of the packaged rubric with ``old`` replaced by ``new`` (once)."""
    text = rubric.default_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rubric.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def _without_section(tmp_path: Path, key: str) -> Path:
    """Return a copy of the packaged rubric without the section ``key``."""
    text = rubric.default_path().read_text(encoding="utf-8")
    parts = text.split("\n[[sections]]\n")
    kept = [p for p in parts if not p.startswith(f'key = "{key}"')]
    assert len(kept) == len(parts) - 1
    path = tmp_path / "rubric.toml"
    path.write_text("\n[[sections]]\n".join(kept), "utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            '"Requires improvement", "Inadequate"]',
            '"Needs improvement", "Inadequate"]',
            "its ratings are “Outstanding”, “Good”, “Needs improvement” and “Inadequate”, "
            "but they must be exactly “Outstanding”, “Good”, “Requires improvement” and "
            "“Inadequate”",
        ),
        (
            'ratings = ["Outstanding", "Good",',
            'ratings = ["Good", "Outstanding",',
            "in that order",
        ),
        (
            'not_applicable = "Not applicable"',
            'not_applicable = "N/A"',
            "its not_applicable is “N/A”, but it must be “Not applicable”",
        ),
        (
            'key = "review"',
            'key = "reviews"',
            "it has a section with the unknown key “reviews”",
        ),
    ],
    ids=["renamed rating", "reordered ratings", "renamed not applicable", "unknown section key"],
)
def test_an_edited_scale_or_section_key_is_refused(tmp_path, old: str, new: str, says: str):
    """Changing the rating scale or a section key is refused, saying what may be edited."""
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load(_edited(tmp_path, old, new))
    message = str(caught.value)
    assert says in message
    assert "The rating scale and the section keys cannot be edited" in message
    assert "You may edit the wording" in message and "[rules]" in message


def test_a_dropped_section_is_refused(tmp_path):
    """A rubric without one of the sections the workbook has is refused, naming the key."""
    with pytest.raises(rubric.RubricError, match="it has no section with the key “planning”"):
        rubric.load(_without_section(tmp_path, "planning"))


def test_a_renamed_section_is_used(tmp_path):
    """Section names are wording: a new name loads and is shown."""
    edited = rubric.load(_edited(tmp_path, 'name = "Review"', 'name = "Reviews"'))
    assert edited.section_name("review") == "Reviews"


def test_the_rules_table_holds_the_guides_limits(the_rubric):
    """The guide's 12 months, one hour and the plan horizon are read from [rules]."""
    limits = the_rubric.rules
    assert limits.review_period_months == 12 and limits.review_period_range == (11, 13)
    assert limits.discussion_max_minutes == 60
    assert limits.action_due_within_months == 6
    assert limits.action_min_words == 5 and "ongoing" in limits.vague_phrases
    assert limits.outstanding_min_words == 40 and "exceptional*" in limits.outstanding_words


def test_an_edited_limit_is_used(tmp_path):
    """A copy with a longer discussion limit is loaded with it."""
    path = _edited(tmp_path, "discussion_max_minutes = 60", "discussion_max_minutes = 90")
    assert rubric.load(path).rules.discussion_max_minutes == 90


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("discussion_max_minutes = 60", "discussion_max_minutes = 0", "at least 1"),
        ("action_min_words = 5", 'action_min_words = "five"', "whole number"),
        ("review_period_tolerance_months = 1", "review_period_tolerance_months = 12", "less than"),
        ('outstanding_words = [\n  "exceptional*",', "outstanding_words = [\n  3,", "list of"),
        ("[rules]\n", "[limits]\n", "“rules” is missing"),
    ],
)
def test_a_broken_rules_table_is_refused(tmp_path, old: str, new: str, says: str):
    """A limit that is not a usable number or word list is refused with a sentence."""
    with pytest.raises(rubric.RubricError, match=says):
        rubric.load(_edited(tmp_path, old, new))


def test_counts_in_words(the_rubric):
    """Counts stated in prose come from the rubric, in words."""
    assert rubric.in_words(len(the_rubric.sections)) == "six"
    assert rubric.in_words(len(the_rubric.core_areas)) == "eleven"
    assert rubric.in_words(len(the_rubric.family_feedback_questions)) == "five"
    assert rubric.in_words(21) == "21"
