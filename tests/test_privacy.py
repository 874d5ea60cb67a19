"""The identity detectors find a child's name, MOSAIC ID and personal details in text."""

from __future__ import annotations

import dataclasses

import pytest

from cssw_docs import privacy
from cssw_docs.models import Submission


@pytest.fixture
def child(good_audit: Submission) -> Submission:
    """An audit of a child with a three-part, hyphenated name and a MOSAIC ID."""
    return dataclasses.replace(
        good_audit, child_name="Amara Jo Okafor-Reid", child_mosaic_id="M1234567"
    )


def test_words_keep_inner_apostrophes() -> None:
    """Words are letters and digits; an apostrophe inside a word keeps it whole."""
    assert privacy.words("Amara's plan_B, 2 ok") == ["Amara's", "plan", "B", "2", "ok"]


def test_name_parts() -> None:
    """Each word of the name is a part; a hyphenated word also counts whole; 1-letter parts drop."""
    assert privacy.name_parts("Amara J Okafor-Reid") == [
        ("first name", ["Amara"]),
        ("last name", ["Okafor", "Reid", "Okafor-Reid"]),
    ]
    assert privacy.name_parts("  ") == []


def test_mosaic_forms() -> None:
    """A MOSAIC ID identifies as itself and by its digits when there are five or more."""
    assert privacy.mosaic_forms(" M1234567 ") == ["M1234567", "1234567"]
    assert privacy.mosaic_forms("M1234") == ["M1234"]
    assert privacy.mosaic_forms("1234567") == ["1234567"]
    assert privacy.mosaic_forms("") == []


def test_identifying_tokens(child: Submission) -> None:
    """The tokens are the name parts of two or more letters and the MOSAIC forms, case-folded."""
    assert privacy.identifying_tokens(child) == {
        "amara",
        "jo",
        "okafor",
        "reid",
        "okafor-reid",
        "m1234567",
        "1234567",
    }


@pytest.mark.parametrize(
    ("ref", "identifies"),
    [
        ("CSSW-2026-0142", False),
        ("CSSW-AMARA", True),
        ("CSSWAmara", True),  # run into other letters
        ("REID_2026", True),
        ("CSSW-JO-1", True),  # a short part as a whole word
        ("CSSW-JOURNEY-1", False),  # ... but not inside another word
        ("M1234567", True),
        ("CSSW-20261234567", True),  # the MOSAIC digits anywhere
    ],
)
def test_reference_identifies(child: Submission, ref: str, identifies: bool) -> None:
    """A reference identifies the child by a name part or MOSAIC form, short parts only whole."""
    assert privacy.reference_identifies(ref, child) is identifies


# (text, the codes of the detectors that find something in it)
TEXTS: list[tuple[str, list[str]]] = [
    ("The child, aged 9, drew her family.", []),
    ("Amara's drawing", ["child_name"]),
    ("AMARA drew", ["child_name"]),
    ("Amaranth grows here", []),
    ("Okafor-Reid family", ["child_name"]),
    ("Jo said", ["child_name"]),
    ("Joined the group", []),
    ("Record M1234567 updated", ["mosaic_id"]),
    ("Record 1234567 updated", ["mosaic_id"]),
    ("Born 31/01/2015", ["dob"]),
    ("on 2015-01-31", ["dob"]),
    ("3rd March 2015", ["dob"]),
    ("her DOB is known", ["dob"]),
    ("call 07700 900123", ["phone"]),
    ("call +44 (0)20 7974 4444", ["phone"]),
    ("in 2019 and 2020 and 2021", []),
    ("mail amara.o@example.com", ["child_name", "email"]),
    ("mail someone@example.com", ["email"]),
    ("lives at NW1 2DB", ["postcode"]),
    ("in KS2 3rd place, Y6 2nd", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "codes"), TEXTS, ids=[t or "empty" for t, _ in TEXTS])
def test_identifying_details(child: Submission, text: str, codes: list[str]) -> None:
    """Each detector finds its kind of detail, and nothing else is flagged."""
    assert [d.code for d in privacy.identifying_details(text, child)] == codes


def test_detectors_say_what_they_find_without_the_detail(child: Submission) -> None:
    """Each detector describes the kind of detail in words, never the detail itself."""
    for d in privacy.detectors(child):
        assert "Amara" not in d.what and "1234567" not in d.what
    whats = [d.what for d in privacy.detectors(child)]
    assert whats[:3] == [
        "the child's first name",
        "the child's middle name",
        "the child's last name",
    ]


def test_a_child_without_a_mosaic_id_has_no_mosaic_detector(child: Submission) -> None:
    """No MOSAIC ID means no MOSAIC detector (an empty pattern would match everything)."""
    sub = dataclasses.replace(child, child_mosaic_id=" ")
    assert "mosaic_id" not in {d.code for d in privacy.detectors(sub)}
    assert privacy.identifying_details("Nothing here.", sub) == []
