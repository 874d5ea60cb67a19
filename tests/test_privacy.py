"""The identity detectors find a child's name, MOSAIC ID and personal details in text."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssw_docs import examples, privacy, rubric
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


# --- the name matcher: folding, then parts, endings and pieces --------------------------------

# (child's name, MOSAIC ID, text): each text names the child.
SHOULD_MATCH: list[tuple[str, str, str]] = [
    ("Amara Okafor", "M1234567", "AmaraOkafor drew a house"),
    ("Amara Okafor", "M1234567", "Amara_Okafor"),
    ("Amara Okafor", "M1234567", "AMARAOKAFOR"),
    ("Amara Okafor", "M1234567", "amaraokafor2026"),
    ("Amara Okafor", "M1234567", "OKAFOR2026-01"),
    ("Amara Okafor", "M1234567", "We met the Okafors at home"),
    ("Amara Okafor", "M1234567", "Amaras drawings"),
    ("Amara Okafor", "M1234567", "Okafor's mother"),
    ("Amara Okafor", "M1234567", "the Okafors' flat"),
    ("Amara Okafor", "M1234567", "Аmаrа said"),  # Cyrillic а
    ("Amara Okafor", "M1234567", "ΟΚΑFΟR family"),  # Greek capitals
    ("Amara Okafor", "M1234567", "Ａｍａｒａ"),  # full-width
    ("Amara Okafor", "M1234567", "Am\u200bara"),  # zero-width space
    ("Amara Okafor", "M1234567", "Ama\u00adra and Oka\u200dfor"),  # soft hyphen, joiner
    ("Amara Okafor", "M1234567", "𝐀𝐦𝐚𝐫𝐚"),  # mathematical bold
    ("Amara Okafor", "M1234567", "case CSSW-1234567"),  # the MOSAIC digits
    ("Amara Okafor", "M1234567", "M1234567"),
    ("Amara Okafor", "M1234567", "ref csswm1234567"),  # the MOSAIC digits after letters
    ("Zoë Brown", "", "Zoe said"),
    ("Zoe Brown", "", "Zoë said"),
    ("Zoë Brown", "", "ZOË"),
    ("Jo Li", "", "Jo said"),  # a short part as a whole word
    ("Jo Li", "", "JoSmith"),  # ... or a camel-case piece
    ("Thomas Ross", "", "the Rosses"),
    ("Sean O'Brien", "", "OBrien"),
    ("李小龍", "", "我们和李小龍谈话"),  # written without spaces
]

# (child's name, MOSAIC ID, text): none of these names the child.
SHOULD_NOT_MATCH: list[tuple[str, str, str]] = [
    ("Amara Okafor", "M1234567", "Amaranth grows here"),
    ("Amara Okafor", "M1234567", "The child, aged 9, drew her family"),
    ("Amara Okafor", "M1234567", "case 12345678"),  # another, longer number
    ("Amara Okafor", "M1234567", "CSSW-2026-0142"),
    ("Jo Li", "", "Joined the group"),
    ("Jo Li", "", "Jos and Lis"),  # no plural of a short part
    ("Jo Li", "", "major, light, jolly"),
    ("Ian Cooper", "", "Christian guardian"),
    ("Ian Cooper", "", "cooperation with school"),
    ("Will Foster", "", "willing to engage"),
    ("Will Foster", "", "a fostering panel"),
    ("Ella Thompson", "", "an umbrella"),
    ("Mark Hope", "", "marked and hopeful"),
    ("Grace Turner", "", "gracefully returned"),
    ("Ali Khan", "", "quality of the plan"),
    ("Daniel Osei", "", "Danielle's teacher"),
    ("Ann Lee", "", "PLANNING-01 and the annual leeway"),
    ("Eve Bell", "", "every bellwether"),
]


@pytest.mark.parametrize(("name", "mosaic", "text"), SHOULD_MATCH)
def test_the_matcher_finds_the_child_however_written(name: str, mosaic: str, text: str) -> None:
    """Lookalike letters, accents, invisible characters, endings and run-together names match."""
    identity = privacy.Identity(name, mosaic)
    assert identity.found_in(text)
    assert privacy.redact(text, Submission(child_name=name, child_mosaic_id=mosaic)) != text


@pytest.mark.parametrize(("name", "mosaic", "text"), SHOULD_NOT_MATCH)
def test_the_matcher_leaves_ordinary_words_alone(name: str, mosaic: str, text: str) -> None:
    """A name inside an ordinary word, or a short part with an ending, is not the child."""
    assert not privacy.Identity(name, mosaic).found_in(text)


def test_there_are_enough_cases_both_ways() -> None:
    """The matcher is proved both ways, at least fifteen cases each."""
    assert len(SHOULD_MATCH) >= 15 and len(SHOULD_NOT_MATCH) >= 15


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Zoë", "zoe"),
        ("ＡＭＡＲＡ", "amara"),
        ("Аmаrа", "amara"),
        ("Ο\u200bkafor", "okafor"),
        ("Straße", "strasse"),
        ("Łukasz", "lukasz"),
        ("O’Brien", "o'brien"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    """Folding gives one spelling for the ways a name can be written."""
    assert privacy.fold(text) == folded


def test_the_matcher_says_which_part_it_found(child: Submission) -> None:
    """Storyboard messages name the kind of detail: first, middle or last name, MOSAIC ID."""
    identity = privacy.identity_of(child)
    assert identity.whats("AmaraOkafor") == {"first name", "last name"}
    assert identity.whats("Jo and M1234567") == {"middle name", "MOSAIC ID"}
    codes = [d.what for d in privacy.identifying_details("the Okafors", child)]
    assert codes == ["the child's last name"]


def test_the_matcher_is_built_once_per_child(child: Submission) -> None:
    """Every field of one workbook reuses the same compiled matcher."""
    assert privacy.identity_of(child) is privacy.identity_of(dataclasses.replace(child))


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "Hold a direct session with Amir's father.",
            "Hold a direct session with the child's father.",
        ),
        ("Amir Khan (M7654321) moved school.", "The child (the child) moved school."),
        ("We met the Khans at home.", "We met the child at home."),
        ("Record Amir-Khan's views", "Record the child's views"),
        ("Nothing to change here.", "Nothing to change here."),
        ("Ａｍｉｒ\u200b's sister", "The child's sister"),
    ],
)
def test_redact_replaces_the_child_with_the_child(text: str, redacted: str) -> None:
    """Names and the MOSAIC ID become "the child"; a whole name becomes one "the child"."""
    sub = Submission(child_name="Amir Khan", child_mosaic_id="M7654321")
    assert privacy.redact(text, sub) == redacted


def test_redacted_submission_keeps_structure_and_identifiers(good_audit: Submission) -> None:
    """Every free-text field is redacted, nested ones too; the identifier fields are kept."""
    sub = dataclasses.replace(
        good_audit,
        audit_theme="Amara's lived experience",
        actions=(dataclasses.replace(good_audit.actions[0], action="Meet Amara's father soon"),),
    )
    clean = privacy.redacted(sub)
    assert clean.audit_theme == "The child's lived experience"
    assert clean.actions[0].action == "Meet the child's father soon"
    assert (clean.child_name, clean.child_mosaic_id) == (sub.child_name, sub.child_mosaic_id)
    assert clean.actions[0].due == sub.actions[0].due
    text = repr(dataclasses.replace(clean, child_name="", child_mosaic_id=""))
    assert "Amara" not in text and "Okafor" not in text and "1234567" not in text


# Pieces of text around a child called "Amara Jo Okafor-Reid", M1234567: the name in other
# alphabets, full-width, accented and with invisible characters, and ordinary words near it.
_PIECES = st.sampled_from(
    [
        *("Amara", "Okafor", "jo", "Reid", "1234567", "M1234567", "'s", "s"),
        *("\u0410mara", "\uff2fkafor", "Ama\u200bra", "R\u00e9id", "\u0391MARA"),
        *("the ", " ", "-", "_", "\n", ".", "Amaranth", "joined", "plan", "12", "\u5b50"),
    ]
)
_TEXTS = st.lists(_PIECES, max_size=8).map("".join)


@functools.cache
def _base() -> Submission:
    """The Good Final example for that child, built once (not a fixture: hypothesis prints a
    failing example's arguments, and it is long)."""
    return dataclasses.replace(
        examples.good(rubric.load()), child_name="Amara Jo Okafor-Reid", child_mosaic_id="M1234567"
    )


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(summary=_TEXTS, theme=_TEXTS, evidence=_TEXTS, action=_TEXTS)
def test_redacted_submission_is_each_field_redacted(
    summary: str, theme: str, evidence: str, action: str
) -> None:
    """Redacting a whole audit (one quick test of each object's text first) gives each text
    field exactly as redacting it on its own does."""
    base = _base()
    sub = dataclasses.replace(
        base,
        overall_summary=summary,
        audit_theme=theme,
        sections=(dataclasses.replace(base.sections[0], evidence=evidence), *base.sections[1:]),
        actions=(dataclasses.replace(base.actions[0], action=action),),
    )
    clean = privacy.redacted(sub)
    assert clean.overall_summary == privacy.redact(summary, sub)
    assert clean.audit_theme == privacy.redact(theme, sub)
    assert clean.sections[0].evidence == privacy.redact(evidence, sub)
    assert clean.actions[0].action == privacy.redact(action, sub)
