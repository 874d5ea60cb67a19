"""Rules on ratings: each section rated with evidence, descriptors agree, the overall fits."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from functools import lru_cache

from ..models import SECTION_KEYS, Finding, Rating, SectionAssessment
from ..rubric import RubricRules
from ..rules import needs_action
from .check import ERROR, WARNING, Check, words


def justified(text: str, limits: RubricRules) -> bool:
    """Return True when ``text`` says in enough words why practice is Outstanding."""
    return len(words(text)) >= limits.outstanding_min_words and bool(
        _exceptional(limits.outstanding_words).search(text)
    )


@lru_cache(maxsize=8)
def _exceptional(listed: tuple[str, ...]) -> re.Pattern[str]:
    """Return a pattern finding any of the rubric's Outstanding words ("innovat*": any ending)."""
    forms = [
        r"\s+".join(re.escape(part) for part in word.removesuffix("*").split())
        + (r"\w*" if word.endswith("*") else "")
        for word in listed
    ]
    return re.compile(rf"\b(?:{'|'.join(forms)})\b", re.IGNORECASE)


def outstanding_help(limits: RubricRules) -> str:
    """Return what an Outstanding rating's justification must say."""
    return (
        f"Say in at least {limits.outstanding_min_words} words what makes the practice "
        "exceptional, beyond everything Good describes, and the impact it had for the child."
    )


def section_ratings(c: Check) -> Iterator[Finding]:
    """Each section is rated, and the sections the audit type needs are not Not applicable."""
    required = c.audit_type.required_sections if c.audit_type else ()
    kind = c.audit_type.name if c.audit_type else ""
    for key in SECTION_KEYS:
        rating = c.sub.section(key).rating
        name = c.section_name(key)
        if rating is None:
            yield c.at(
                f"required.{key}_rating",
                ERROR,
                f"Choose a rating for {name} (or Not applicable if it does not apply).",
                f"{key}_rating",
            )
        elif rating is Rating.NOT_APPLICABLE and key in required:
            yield c.at(
                "section.required",
                ERROR,
                f"{name} cannot be Not applicable here: {kind} audits must rate it. "
                "Choose a rating.",
                f"{key}_rating",
            )
    ratings = [c.sub.section(k).rating for k in SECTION_KEYS]
    if all(r is not None for r in ratings) and not c.sub.rated_sections:
        yield c.at(
            "section.none_rated",
            ERROR,
            "Every section is Not applicable. Rate at least one section.",
            f"{SECTION_KEYS[0]}_rating",
        )


def section_evidence(c: Check) -> Iterator[Finding]:
    """Rated sections have evidence; Outstanding is justified; low ratings say what to improve."""
    for s in c.sub.rated_sections:
        yield from _one_section(c, s)


def _one_section(c: Check, s: SectionAssessment) -> Iterator[Finding]:
    name, rating = c.section_name(s.key), s.rating
    evidence = f"{s.key}_evidence"
    if not s.evidence.strip():
        yield c.at(
            "section.no_evidence",
            ERROR,
            f"The {name} section is rated {rating} but has no evidence. Write the evidence "
            f"for your rating in {c.label(evidence)}.",
            evidence,
        )
    elif rating is Rating.OUTSTANDING and not justified(s.evidence, c.limits):
        yield c.at(
            "section.outstanding_unjustified",
            ERROR,
            f"The {name} section is rated Outstanding, but the evidence does not say why. "
            f"{outstanding_help(c.limits)} Write it in {c.label(evidence)}.",
            evidence,
        )
    if needs_action(rating) and not s.development.strip():
        development = f"{s.key}_development"
        yield c.at(
            "section.no_development",
            WARNING,
            f"The {name} section is rated {rating} but its {c.label(development)} is empty. "
            "Say what needs to change.",
            development,
        )


def descriptors_match_ratings(c: Check) -> Iterator[Finding]:
    """Descriptors marked evidenced agree with each section's rating."""
    for s in c.sub.rated_sections:
        marks = [m for m in c.sub.descriptors if c.rubric.section_key_for(m.section) == s.key]
        evidenced = [m for m in marks if m.evidenced]
        name = c.section_name(s.key)
        for m in evidenced:
            if s.rating is not None and s.rating.good_or_better and _is_inadequate(m.grade):
                yield c.in_table(
                    "descriptor.inadequate_on_good",
                    ERROR,
                    f"{name} is rated {s.rating}, but {_descriptor_words(c, s.key, m.descriptor)} "
                    "is marked as evidenced. Change the rating, or set Evidenced to No.",
                    "Descriptors",
                    m.row,
                    "Evidenced",
                )
        if not evidenced:
            yield c.in_table(
                "descriptor.none_evidenced",
                WARNING,
                f"{name} is rated {s.rating}, but none of its descriptors is marked as "
                "evidenced. In the Descriptors table, set Evidenced to Yes for those the case "
                "shows.",
                "Descriptors",
                marks[0].row if marks else None,
                "Evidenced",
            )


def _descriptor_words(c: Check, key: str, written: str) -> str:
    """Return the Inadequate descriptor in words: quoted from the rubric, never from the cell."""
    wanted = " ".join(written.split()).casefold()
    for text in c.rubric.section(key).of_grade(Rating.INADEQUATE.value):
        if " ".join(text.split()).casefold() == wanted:
            return f"the Inadequate descriptor “{text}”"
    return "an Inadequate descriptor"


def _is_inadequate(grade: str) -> bool:
    return grade.strip().casefold() == Rating.INADEQUATE.value.casefold()


def _typical(ranks: list[int]) -> str:
    """Return the typical (median) section rating in words."""
    middle = statistics.median(ranks)
    names = {r.rank: r.value for r in Rating if r.rank is not None}
    if middle in names:
        return names[int(middle)]
    return f"between {names[int(middle)]} and {names[int(middle) + 1]}"


def overall_rating(c: Check) -> Iterator[Finding]:
    """The overall rating fits the sections and, when Outstanding, is justified."""
    overall = c.sub.overall_rating
    if overall is None:
        return
    if overall is Rating.NOT_APPLICABLE:
        yield c.at(
            "overall.not_applicable",
            ERROR,
            f"{c.label('overall_rating')} cannot be Not applicable. Choose "
            f"{', '.join(c.rubric.ratings[:-1])} or {c.rubric.ratings[-1]}.",
            "overall_rating",
        )
        return
    ranks = [s.rating.rank for s in c.sub.rated_sections if s.rating and s.rating.rank]
    inadequate = [
        c.section_name(s.key) for s in c.sub.rated_sections if s.rating is Rating.INADEQUATE
    ]
    if overall.good_or_better and inadequate:
        yield c.at(
            "overall.good_with_inadequate",
            ERROR,
            f"The overall rating is {overall}, but {' and '.join(inadequate)} "
            f"{'is' if len(inadequate) == 1 else 'are'} rated Inadequate. "
            "The overall rating cannot be Good or Outstanding when a section is Inadequate.",
            "overall_rating",
        )
    elif ranks and abs((overall.rank or 0) - statistics.median(ranks)) > 1:
        yield c.at(
            "overall.far_from_sections",
            WARNING,
            f"The overall rating is {overall}, but the sections are typically rated "
            f"{_typical(ranks)}. Check the overall rating, or explain the difference in "
            f"{c.label('overall_summary')}.",
            "overall_rating",
        )
    if overall is Rating.OUTSTANDING and not justified(
        f"{c.sub.overall_summary}\n{c.sub.good_practice}", c.limits
    ):
        yield c.at(
            "overall.outstanding_unjustified",
            ERROR,
            "The overall rating is Outstanding, but the summary does not say why. "
            f"{outstanding_help(c.limits)} Write it in {c.label('overall_summary')} or "
            f"{c.label('good_practice')}.",
            "overall_summary",
        )
