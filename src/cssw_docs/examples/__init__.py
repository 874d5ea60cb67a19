"""Fictional example audits, used by ``make demo``, the template preview and the tests.

Each example is a TOML file in this folder whose keys are the audit's fields (as in
``models.Submission``; dates as 2026-10-14, ratings and stages as the workbook shows them).
Beside those a file may hold:

- ``valid = false``: the example has errors on purpose, to show what gets rejected;
- ``extends = "<name>"``: start from another example. A ``[[sections]]`` entry changes the
  base's section with the same key; every other value, lists included, replaces the base's;
- ``[evidenced.<section key>]``: for each grade, the positions (1 is the first) of the rubric
  descriptors the case shows; the others are not evidenced;
- ``[area_notes]``: notes on the rubric's core areas of practice, by area name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
from collections.abc import Callable
from importlib import resources
from typing import Any

from ..models import Submission, submission_from_dict
from ..rubric import Rubric
from ..workbook.layout import TEMPLATE_VERSION

# In the order the demo and `cssw-docs workbook examples` write them.
NAMES: tuple[str, ...] = (
    "good",
    "outstanding",
    "requires-improvement",
    "inadequate",
    "draft",
    "disagree",
    "invalid-incomplete",
    "invalid-storyboard",
)


@functools.cache
def _data(name: str) -> dict[str, Any]:
    """Return the example file ``name`` read, with ``extends`` resolved (do not modify it)."""
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    base = {k: v for k, v in _data(base_name).items() if k != "valid"}
    merged = {**base, **data}
    if "sections" in data:
        changes = {s["key"]: s for s in data["sections"]}
        kept = [{**s, **changes.pop(s["key"], {})} for s in base.get("sections", ())]
        merged["sections"] = [*kept, *changes.values()]
    return merged


def example(name: str, rubric: Rubric) -> Submission:
    """Return the example audit called ``name`` (KeyError when there is none)."""
    if name not in NAMES:
        raise KeyError(name)
    data = {k: v for k, v in _data(name).items() if k not in ("valid", "evidenced", "area_notes")}
    data.setdefault("template_version", TEMPLATE_VERSION)
    data["descriptors"] = _marks(rubric, _data(name).get("evidenced", {}))
    data["practice_areas"] = _areas(rubric, _data(name).get("area_notes", {}))
    return submission_from_dict(_iso(data))


def _marks(rubric: Rubric, evidenced: dict[str, dict[str, list[int]]]) -> list[dict[str, Any]]:
    """Return every rubric descriptor, marked evidenced where ``evidenced[key][grade]`` says."""
    marks = []
    for section in rubric.sections:
        for grade, texts in section.descriptors.items():
            chosen = evidenced.get(section.key, {}).get(grade, ())
            for position, text in enumerate(texts, start=1):
                marks.append(
                    {
                        "section": section.name,
                        "grade": grade,
                        "descriptor": text,
                        "evidenced": position in chosen,
                    }
                )
    return marks


def _areas(rubric: Rubric, notes: dict[str, str]) -> list[dict[str, str]]:
    """Return every core area with its notes, then any noted area the rubric does not list."""
    areas = [*rubric.core_areas, *(a for a in notes if a not in rubric.core_areas)]
    return [{"area": area, "notes": notes.get(area, "")} for area in areas]


def _iso(value: Any) -> Any:
    """Return ``value`` with TOML's dates written as the JSON form's ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    return value


def variant(base: Submission, **changes: object) -> Submission:
    """Return ``base`` with some fields changed (a convenience for tests and examples)."""
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


EXAMPLES: dict[str, Callable[[Rubric], Submission]] = {
    name: functools.partial(example, name) for name in NAMES
}
# The examples meant to pass validation (no errors); the others show what gets rejected.
VALID: frozenset[str] = frozenset(name for name in NAMES if _data(name).get("valid", True))


def good(rubric: Rubric) -> Submission:
    """Return a Final Thematic audit rated Good overall, with a storyboard."""
    return example("good", rubric)


def outstanding(rubric: Rubric) -> Submission:
    """Return a Final Practice Week audit rated Outstanding, with an observed home visit."""
    return example("outstanding", rubric)


def requires_improvement(rubric: Rubric) -> Submission:
    """Return a Final Dip sample audit rated Requires improvement, with a plan for each gap."""
    return example("requires-improvement", rubric)


def inadequate(rubric: Rubric) -> Submission:
    """Return a Final Early Help/Front Door audit rated Inadequate, with a robust plan."""
    return example("inadequate", rubric)


def draft(rubric: Rubric) -> Submission:
    """Return a Draft Thematic audit sent to the practitioner, before their feedback."""
    return example("draft", rubric)


def disagree(rubric: Rubric) -> Submission:
    """Return a Final audit rated Requires improvement that the practitioner disputes."""
    return example("disagree", rubric)


def invalid_incomplete(rubric: Rubric) -> Submission:
    """Return an audit with errors: no evidence, an action without owner or date, bad email."""
    return example("invalid-incomplete", rubric)


def invalid_storyboard(rubric: Rubric) -> Submission:
    """Return a Good Final audit whose storyboard names the child and gives a postcode."""
    return example("invalid-storyboard", rubric)
