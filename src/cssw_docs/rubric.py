"""The audit rubric (ratings, sections and their descriptors) loaded from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .models import SECTION_KEYS

GRADES: tuple[str, ...] = ("Good", "Requires improvement", "Inadequate")
_GRADE_KEYS = {
    "Good": "good",
    "Requires improvement": "requires_improvement",
    "Inadequate": "inadequate",
}


class RubricError(Exception):
    """The rubric file cannot be used; the message says why in plain words."""


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
        return _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise RubricError(f"The rubric file {source} is incomplete or malformed: {exc}") from exc


def _build(data: dict) -> Rubric:
    sections = tuple(
        RubricSection(
            key=s["key"],
            name=s["name"],
            descriptors={g: tuple(s.get(k, ())) for g, k in _GRADE_KEYS.items()},
        )
        for s in data["sections"]
    )
    keys = tuple(s.key for s in sections)
    if keys != SECTION_KEYS:
        raise ValueError(f"sections must be exactly {', '.join(SECTION_KEYS)} in that order")
    questions = tuple(data["family_feedback_questions"])
    if len(questions) != 5:
        raise ValueError("family_feedback_questions must hold exactly five questions")
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
    )
