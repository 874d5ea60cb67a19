"""Tests of moderation sampling: deterministic, order-independent, close to the percentage."""

from __future__ import annotations

import dataclasses
import random

import pytest

from cssw_docs.models import Stage, Submission
from cssw_docs.oversight.moderation import (
    is_selected,
    needs_sampling,
    normalise_ref,
    sample_point,
    selection_for,
)
from cssw_docs.rubric import Rubric

REFS = [f"CSSW-2026-{n:04d}" for n in range(1, 1001)]


def test_selection_does_not_depend_on_order() -> None:
    """The same references are selected whatever order they are looked at in."""
    first = {ref for ref in REFS if is_selected(ref, 20)}
    shuffled = REFS[:]
    random.Random(1).shuffle(shuffled)
    again = {ref for ref in shuffled if is_selected(ref, 20)}
    assert first == again
    assert first  # something was selected


@pytest.mark.parametrize("percent", [10.0, 20.0, 35.0])
def test_share_is_close_to_the_percentage(percent: float) -> None:
    """Over 1,000 references the share selected is within three points of the setting."""
    share = sum(is_selected(ref, percent) for ref in REFS) / len(REFS) * 100
    assert percent - 3 <= share <= percent + 3


def test_raising_the_percentage_only_adds_audits() -> None:
    """An audit selected at 20% is still selected at 30%."""
    at_20 = {ref for ref in REFS if is_selected(ref, 20)}
    at_30 = {ref for ref in REFS if is_selected(ref, 30)}
    assert at_20 < at_30


@pytest.mark.parametrize(("percent", "expected"), [(0, 0), (-5, 0), (100, 1000), (150, 1000)])
def test_edges(percent: float, expected: int) -> None:
    """0% selects nothing and 100% selects everything."""
    assert sum(is_selected(ref, percent) for ref in REFS) == expected


@pytest.mark.parametrize("variant", ["cssw-2026-0142", "  CSSW-2026-0142 ", "Cssw-2026-0142"])
def test_reference_is_normalised(variant: str) -> None:
    """Case and surrounding spaces do not change the decision."""
    assert normalise_ref(variant) == "CSSW-2026-0142"
    assert sample_point(variant) == sample_point("CSSW-2026-0142")
    assert 0 <= sample_point(variant) < 100


@pytest.mark.parametrize(
    ("audit_type", "stage", "expected"),
    [
        ("Thematic", Stage.FINAL, True),
        ("Practice Week", Stage.FINAL, True),
        ("practice  week", Stage.FINAL, True),
        ("Dip sample", Stage.FINAL, False),
        ("Early Help/Front Door", Stage.FINAL, False),
        ("Thematic", Stage.DRAFT, False),
        ("Practice Week", None, False),
        ("Unknown type", Stage.FINAL, False),
    ],
)
def test_needs_sampling(
    good_audit: Submission, the_rubric: Rubric, audit_type: str, stage: Stage | None, expected: bool
) -> None:
    """Only Final audits of types the rubric marks for moderation are sampled."""
    sub = dataclasses.replace(good_audit, audit_type=audit_type, audit_stage=stage)
    assert needs_sampling(sub, the_rubric) is expected
    value = selection_for(sub, the_rubric, 100)
    assert value is (True if expected else None)
