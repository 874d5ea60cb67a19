"""Tests of the fictional example audits: they build, and each shows what it claims to."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from importlib import resources

import pytest

from cssw_docs import examples
from cssw_docs.models import (
    Agreement,
    Consent,
    Rating,
    Stage,
    Submission,
    submission_from_dict,
    submission_to_dict,
)
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate

NAMES = sorted(examples.EXAMPLES)
TODAY = dt.date(2026, 11, 26)  # after every example's audit date, so "in the future" never fires


@pytest.fixture(scope="module")
def built(the_rubric: Rubric) -> dict[str, Submission]:
    """Every example, built once."""
    return {name: build(the_rubric) for name, build in examples.EXAMPLES.items()}


def test_names_are_the_documented_kebab_case_set() -> None:
    """EXAMPLES holds the eight documented names; two are invalid on purpose."""
    assert set(examples.EXAMPLES) == {
        "good",
        "outstanding",
        "requires-improvement",
        "inadequate",
        "draft",
        "disagree",
        "invalid-incomplete",
        "invalid-storyboard",
    }
    assert set(examples.EXAMPLES) - examples.VALID == {"invalid-incomplete", "invalid-storyboard"}


def test_each_example_has_its_own_reference_and_a_2026_audit_date(
    built: dict[str, Submission],
) -> None:
    """References are distinct CSSW-2026-NNNN; audit dates fall in 2026."""
    refs = [s.audit_ref for s in built.values()]
    assert len(set(refs)) == len(refs)
    for name, sub in built.items():
        assert re.fullmatch(r"CSSW-2026-\d{4}", sub.audit_ref), name
        assert sub.audit_date is not None and sub.audit_date.year == 2026, name


@pytest.mark.parametrize("name", sorted(examples.VALID))
def test_valid_examples_pass_validation(
    built: dict[str, Submission], the_rubric: Rubric, name: str
) -> None:
    """The examples meant to be valid have no errors."""
    report = validate(built[name], the_rubric, today=TODAY)
    assert report.errors == (), [f.code for f in report.errors]


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        (
            "invalid-incomplete",
            {"section.no_evidence", "plan.no_owner", "plan.no_due", "email.invalid"},
        ),
        ("invalid-storyboard", {"storyboard.child_name", "storyboard.postcode"}),
    ],
)
def test_invalid_examples_fail_for_the_reasons_shown(
    built: dict[str, Submission], the_rubric: Rubric, name: str, codes: set[str]
) -> None:
    """The invalid examples are rejected with exactly the errors they demonstrate."""
    report = validate(built[name], the_rubric, today=TODAY)
    assert {f.code for f in report.errors} == codes


@pytest.mark.parametrize(
    ("name", "audit_type", "stage", "overall"),
    [
        ("good", "Thematic", Stage.FINAL, Rating.GOOD),
        ("outstanding", "Practice Week", Stage.FINAL, Rating.OUTSTANDING),
        ("requires-improvement", "Dip sample", Stage.FINAL, Rating.REQUIRES_IMPROVEMENT),
        ("inadequate", "Early Help/Front Door", Stage.FINAL, Rating.INADEQUATE),
        ("draft", "Thematic", Stage.DRAFT, Rating.GOOD),
        ("disagree", "Thematic", Stage.FINAL, Rating.REQUIRES_IMPROVEMENT),
    ],
)
def test_examples_cover_each_type_stage_and_rating(
    built: dict[str, Submission], name: str, audit_type: str, stage: Stage, overall: Rating
) -> None:
    """Between them the examples cover every audit type, both stages and every overall rating."""
    sub = built[name]
    assert (sub.audit_type, sub.audit_stage, sub.overall_rating) == (audit_type, stage, overall)


def test_outstanding_observes_practice_with_consent_and_has_a_storyboard(
    built: dict[str, Submission],
) -> None:
    """The Practice Week example records the observation, the family's consent and a storyboard."""
    sub = built["outstanding"]
    assert sub.observation_activity and sub.observation_consent is Consent.YES
    assert sub.storyboard_consent is True and sub.storyboard_impact


def test_low_ratings_have_actions_and_no_storyboard(
    built: dict[str, Submission], the_rubric: Rubric
) -> None:
    """Requires improvement and Inadequate examples plan an action for every weak section."""
    for name in ("requires-improvement", "inadequate", "disagree"):
        sub = built[name]
        weak = {s.key for s in sub.rated_sections if (s.rating.rank or 0) >= 3}
        served = {the_rubric.section_key_for(a.section) for a in sub.actions}
        assert weak and weak <= served, name
        assert not sub.storyboard_title, name


def test_inadequate_front_door_rates_the_referral(built: dict[str, Submission]) -> None:
    """An Early Help/Front Door audit must rate the Referral section."""
    assert built["inadequate"].section("referral").rating is Rating.INADEQUATE


def test_draft_awaits_the_practitioner(built: dict[str, Submission]) -> None:
    """At Draft the practitioner has not yet responded."""
    sub = built["draft"]
    assert sub.practitioner_agreement is None and not sub.practitioner_feedback


def test_disagree_explains_why(built: dict[str, Submission]) -> None:
    """The disagreeing practitioner's feedback says why, at some length."""
    sub = built["disagree"]
    assert sub.practitioner_agreement is Agreement.DISAGREE
    assert len(sub.practitioner_feedback.split()) > 30


@pytest.mark.parametrize("name", NAMES)
def test_examples_survive_the_json_form(built: dict[str, Submission], name: str) -> None:
    """Every example round-trips through submission_to_dict / submission_from_dict."""
    sub = built[name]
    assert submission_from_dict(submission_to_dict(sub)) == sub


def test_example_looks_up_by_name(the_rubric: Rubric) -> None:
    """example() returns the named audit and refuses an unknown name."""
    assert examples.example("good", the_rubric) == examples.good(the_rubric)
    with pytest.raises(KeyError):
        examples.example("excellent", the_rubric)


def test_variant_changes_only_what_it_is_told(the_rubric: Rubric) -> None:
    """variant() keeps everything else of the base audit."""
    base = examples.good(the_rubric)
    changed = examples.variant(base, audit_ref="CSSW-2026-9999")
    assert changed.audit_ref == "CSSW-2026-9999"
    assert examples.variant(changed, audit_ref=base.audit_ref) == base


# --- the data files ---


def test_every_data_file_is_a_listed_example() -> None:
    """Each TOML file in the package is one of NAMES, and each name has its file."""
    folder = resources.files(examples)
    files = {p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")}
    assert files == set(examples.NAMES) == set(examples.EXAMPLES)


def test_extends_changes_only_what_the_file_says(built: dict[str, Submission]) -> None:
    """invalid-incomplete is requires-improvement with four changes, the other sections kept."""
    base, sub = built["requires-improvement"], built["invalid-incomplete"]
    planning = dataclasses.replace(base.section("planning"), evidence="")
    first = dataclasses.replace(base.actions[0], owner="", due=None)
    expected = examples.variant(
        base,
        audit_ref="CSSW-2026-0190",
        practitioner_email="rachel.hughes@camden",
        sections=tuple(planning if s.key == "planning" else s for s in base.sections),
        actions=(first, *base.actions[1:]),
    )
    assert sub == expected
    story = built["invalid-storyboard"]
    assert story == examples.variant(
        built["good"], audit_ref=story.audit_ref, storyboard_context=story.storyboard_context
    )


def test_evidenced_positions_name_the_rubric_descriptors(
    built: dict[str, Submission], the_rubric: Rubric
) -> None:
    """[evidenced.referral] Good = [1, ..., 5] marks the rubric's first five Good descriptors."""
    good = the_rubric.section("referral").of_grade("Good")
    marks = [m for m in built["good"].descriptors if m.section == "Referral" and m.grade == "Good"]
    assert [m.descriptor for m in marks] == list(good)
    assert [m.evidenced for m in marks] == [i < 5 for i in range(len(good))]
    total = sum(len(s.of_grade(g)) for s in the_rubric.sections for g in s.descriptors)
    assert all(len(sub.descriptors) == total for sub in built.values())


def test_area_notes_fill_the_rubric_areas_in_order(
    built: dict[str, Submission], the_rubric: Rubric
) -> None:
    """Every core area is listed in rubric order; notes sit beside the areas the file names."""
    areas = built["good"].practice_areas
    assert [a.area for a in areas] == list(the_rubric.core_areas)
    notes = {a.area: a.notes for a in areas if a.notes}
    assert notes["Engaging families"].startswith("Strong relationship with mother")
    assert len(notes) == 3


def test_an_edited_rubric_keeps_notes_on_areas_it_renamed(the_rubric: Rubric) -> None:
    """With a rubric that renames an area, the example's note on it is kept as an extra area."""
    renamed = tuple("Working with families" if a == "Engaging families" else a
                    for a in the_rubric.core_areas)  # fmt: skip
    sub = examples.good(dataclasses.replace(the_rubric, core_areas=renamed))
    assert [a.area for a in sub.practice_areas] == [*renamed, "Engaging families"]
