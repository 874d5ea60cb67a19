"""The audit rubric (ratings, sections, descriptors and the guide's limits) loaded from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .models import SECTION_KEYS, Rating

GRADES: tuple[str, ...] = ("Good", "Requires improvement", "Inadequate")
_GRADE_KEYS = {
    "Good": "good",
    "Requires improvement": "requires_improvement",
    "Inadequate": "inadequate",
}


# The rating scale the code is built on (models.Rating): an edited rubric may not change it.
SCALE: tuple[str, ...] = tuple(r.value for r in Rating if r is not Rating.NOT_APPLICABLE)

# What the QA unit may change in a copy of the rubric, for messages about what it may not.
EDITABLE = (
    "You may edit the wording: section names, descriptors, core areas, audit types, auditor "
    "roles, discussion modes, family feedback questions and the limits in [rules]."
)

_NUMBER_WORDS: tuple[str, ...] = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen", "twenty"),
)


class RubricError(Exception):
    """The rubric file cannot be used; the message says why in plain words."""


def in_words(number: int) -> str:
    """Return ``number`` in words up to twenty ("six"), in digits above."""
    return _NUMBER_WORDS[number] if 0 <= number < len(_NUMBER_WORDS) else str(number)


@dataclass(frozen=True)
class RubricSection:
    """One rated practice section with its "what good looks like" descriptors by grade."""

    key: str
    name: str
    descriptors: dict[str, tuple[str, ...]]

    def of_grade(self, grade: str) -> tuple[str, ...]:
        """Return the descriptors of ``grade`` (Good, Requires improvement, Inadequate)."""
        return self.descriptors.get(grade, ())


@dataclass(frozen=True)
class AuditType:
    """One kind of audit and the rules that follow from it."""

    name: str
    description: str
    requires_theme: bool
    requires_observation: bool
    required_sections: tuple[str, ...]
    moderation: bool


@dataclass(frozen=True)
class RubricRules:
    """The limits the validator takes from the guide (the rubric's ``[rules]`` table)."""

    review_period_months: int  # the case files of the last 12 months are reviewed
    review_period_tolerance_months: int  # accepted either side of it (11 to 13)
    discussion_max_minutes: int  # the reflective discussion lasts no longer than an hour
    action_due_within_months: int  # a plan action is due within this many months of the audit
    action_min_words: int  # a shorter action is too vague to check
    vague_phrases: tuple[str, ...]  # wording in an action that cannot be checked
    outstanding_min_words: int  # Outstanding is justified in at least this many words
    outstanding_words: tuple[str, ...]  # ... using one of these ("exceptional*": any ending)
    # The Head of QA reviews a disputed audit within this many working days (the guide gives
    # no time); no plan action should fall due before then.
    head_of_qa_working_days: int = 10

    @property
    def review_period_range(self) -> tuple[int, int]:
        """Return the shortest and longest review period accepted, in months."""
        spread = self.review_period_tolerance_months
        return self.review_period_months - spread, self.review_period_months + spread


@dataclass(frozen=True)
class Rubric:
    """Everything the workbook, the validator and the templates take from the audit guide."""

    version: str
    source: str
    ratings: tuple[str, ...]
    not_applicable: str
    outstanding_meaning: str
    outstanding_justification: str
    sections: tuple[RubricSection, ...]
    core_areas: tuple[str, ...]
    audit_types: tuple[AuditType, ...]
    auditor_roles: tuple[str, ...]
    discussion_modes: tuple[str, ...]
    family_feedback_questions: tuple[str, ...]
    rules: RubricRules

    def section(self, key: str) -> RubricSection:
        """Return the section with ``key`` (KeyError when unknown)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def section_name(self, key: str) -> str:
        """Return the display name of section ``key``, or ``key`` itself when unknown."""
        try:
            return self.section(key).name
        except KeyError:
            return key

    def section_key_for(self, text: str) -> str | None:
        """Return the key of the section whose key or name matches ``text`` loosely."""
        wanted = " ".join(text.replace("_", " ").split()).casefold()
        for s in self.sections:
            if wanted in (s.key.replace("_", " "), s.name.casefold()):
                return s.key
        return None

    def audit_type(self, name: str) -> AuditType | None:
        """Return the audit type called ``name`` (case-insensitive), or None."""
        wanted = " ".join(name.split()).casefold()
        for t in self.audit_types:
            if t.name.casefold() == wanted:
                return t
        return None


def default_path() -> Path:
    """Return the path of the rubric shipped inside the package."""
    return Path(str(resources.files("cssw_docs").joinpath("rubric.toml")))


def load(path: Path | str | None = None) -> Rubric:
    """Return the rubric at ``path``, or the packaged one when ``path`` is None."""
    source = Path(path) if path else default_path()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RubricError(f"The rubric file {source} does not exist.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RubricError(f"The rubric file {source} is not valid TOML: {exc}") from exc
    try:
        built = _build(data)
    except KeyError as exc:
        raise RubricError(
            f"The rubric file {source} is incomplete: “{exc.args[0]}” is missing. Compare it "
            "with the packaged rubric and add it back."
        ) from exc
    except (TypeError, ValueError) as exc:
        raise RubricError(f"The rubric file {source} is incomplete or malformed: {exc}") from exc
    _refuse_changed_scale(built, source)
    return built


def _refuse_changed_scale(built: Rubric, source: Path) -> None:
    """Raise RubricError when the rating scale or the section keys differ from the code's."""
    problem = ""
    if built.ratings != SCALE:
        problem = (
            f"its ratings are {_listed(built.ratings)}, but they must be exactly "
            f"{_listed(SCALE)}, in that order"
        )
    elif built.not_applicable != Rating.NOT_APPLICABLE.value:
        problem = (
            f"its not_applicable is “{built.not_applicable}”, but it must be "
            f"“{Rating.NOT_APPLICABLE.value}”"
        )
    elif (keys := tuple(s.key for s in built.sections)) != SECTION_KEYS:
        problem = _section_problem(keys)
    if problem:
        raise RubricError(
            f"The rubric file {source} cannot be used: {problem}. The rating scale and the "
            "section keys cannot be edited, because the workbook, the checks and the templates "
            f"are built on them; put them back as they are in the packaged rubric. {EDITABLE}"
        )


def _section_problem(keys: tuple[str, ...]) -> str:
    unknown = [k for k in keys if k not in SECTION_KEYS]
    missing = [k for k in SECTION_KEYS if k not in keys]
    if unknown:
        return f"it has a section with the unknown key{_s(unknown)} {_listed(unknown)}"
    if missing:
        return f"it has no section with the key{_s(missing)} {_listed(missing)}"
    return f"its section keys must be {_listed(SECTION_KEYS)}, once each and in that order"


def _s(values: list[str]) -> str:
    return "" if len(values) == 1 else "s"


def _listed(values: tuple[str, ...] | list[str]) -> str:
    quoted = [f"“{v}”" for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _build(data: dict) -> Rubric:
    sections = tuple(
        RubricSection(
            key=s["key"],
            name=s["name"],
            descriptors={g: tuple(s.get(k, ())) for g, k in _GRADE_KEYS.items()},
        )
        for s in data["sections"]
    )
    questions = tuple(data["family_feedback_questions"])
    if not questions:
        raise ValueError("family_feedback_questions must hold at least one question")
    types = tuple(
        AuditType(
            name=t["name"],
            description=t.get("description", ""),
            requires_theme=bool(t.get("requires_theme", False)),
            requires_observation=bool(t.get("requires_observation", False)),
            required_sections=tuple(t.get("required_sections", ())),
            moderation=bool(t.get("moderation", False)),
        )
        for t in data["audit_types"]
    )
    return Rubric(
        version=str(data["version"]),
        source=data.get("source", ""),
        ratings=tuple(data["ratings"]),
        not_applicable=data.get("not_applicable", "Not applicable"),
        outstanding_meaning=data["outstanding"]["meaning"],
        outstanding_justification=data["outstanding"]["justification"],
        sections=sections,
        core_areas=tuple(data["core_areas"]),
        audit_types=types,
        auditor_roles=tuple(data["auditor_roles"]),
        discussion_modes=tuple(data.get("discussion_modes", ("Face to face", "MS Teams"))),
        family_feedback_questions=questions,
        rules=_rules(data["rules"]),
    )


def _rules(data: dict) -> RubricRules:
    """Return the [rules] table checked: whole numbers above zero, lists of words."""
    numbers = {
        name: data[name]
        for name in (
            "review_period_months",
            "review_period_tolerance_months",
            "discussion_max_minutes",
            "action_due_within_months",
            "action_min_words",
            "outstanding_min_words",
        )
    }
    numbers["head_of_qa_working_days"] = data.get("head_of_qa_working_days", 10)
    for name, value in numbers.items():
        low = 0 if name == "review_period_tolerance_months" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"[rules] {name} must be a whole number of at least {low}")
    if numbers["review_period_tolerance_months"] >= numbers["review_period_months"]:
        raise ValueError(
            "[rules] review_period_tolerance_months must be less than review_period_months"
        )
    lists = {name: data[name] for name in ("vague_phrases", "outstanding_words")}
    for name, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"[rules] {name} must be a list of words or phrases")
    if not lists["outstanding_words"]:
        raise ValueError("[rules] outstanding_words must hold at least one word")
    return RubricRules(
        **numbers,
        vague_phrases=tuple(" ".join(v.split()) for v in lists["vague_phrases"]),
        outstanding_words=tuple(" ".join(v.split()) for v in lists["outstanding_words"]),
    )
