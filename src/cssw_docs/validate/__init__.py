"""Judge a Submission against the rubric: (Submission, Rubric) -> Report, pure (no I/O).

Each rule is a small function taking a ``Check`` and yielding ``Finding`` objects; the modules
group them by topic (``fields``, ``identifiers``, ``dates``, ``ratings``, ``plan``, ``family``,
``storyboard``).
The rules run in the order an auditor meets the workbook (details, ratings, plan, feedback,
storyboard); ``validate`` then puts errors before warnings. Messages use the field labels of
``workbook/layout.py``, never the defined names, and never quote the child's name, MOSAIC ID or
other identifying text (findings travel by email). Limits come from the rubric's ``[rules]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .. import clock
from ..config import ValidationSettings
from ..models import Finding, Report, Submission
from ..rubric import Rubric
from .check import ERROR, Check, Rule
from .dates import dates_not_in_future, discussion, review_period
from .family import family_feedback, observation_has_consent, practitioner_view
from .fields import (
    audit_ref_is_safe,
    emails_are_valid,
    known_choices,
    names_fit_an_email,
    recommended_fields,
    required_fields,
)
from .identifiers import theme_identifies_no_one
from .plan import gaps_followed_up, plan_actions, plan_covers_sections, plan_waits_for_decision
from .ratings import descriptors_match_ratings, overall_rating, section_evidence, section_ratings
from .storyboard import storyboard_anonymity, storyboard_complete, storyboard_identifies_no_one

# The rules in the order an auditor meets the workbook.
RULES: tuple[Rule, ...] = (
    required_fields,
    known_choices,
    audit_ref_is_safe,
    theme_identifies_no_one,
    emails_are_valid,
    names_fit_an_email,
    dates_not_in_future,
    review_period,
    discussion,
    observation_has_consent,
    section_ratings,
    section_evidence,
    descriptors_match_ratings,
    overall_rating,
    gaps_followed_up,
    plan_actions,
    plan_covers_sections,
    plan_waits_for_decision,
    family_feedback,
    practitioner_view,
    recommended_fields,
    storyboard_complete,
    storyboard_identifies_no_one,
    storyboard_anonymity,
)

_DEFAULT_SETTINGS = ValidationSettings()


def validate(
    sub: Submission,
    rubric: Rubric,
    settings: ValidationSettings = _DEFAULT_SETTINGS,
    *,
    today: dt.date | None = None,
) -> Report:
    """Return every finding about ``sub``: the parser's first, then each rule's; errors first."""
    check = Check(sub, rubric, settings, today or clock.today())
    own = [finding for rule in RULES for finding in rule(check)]
    findings = [*sub.parse_findings, *_not_already_reported(own, sub.parse_findings)]
    errors = [f for f in findings if f.severity is ERROR]
    warnings = [f for f in findings if f.severity is not ERROR]
    return Report(tuple(errors + warnings))


def _not_already_reported(own: list[Finding], parsed: Iterable[Finding]) -> list[Finding]:
    """Drop findings about cells the parser already reported as unreadable.

    The rules saw an empty value there (not what the auditor typed), so anything they say
    about that cell ("has no section", "has no due date") would be wrong or a repeat.
    """
    flagged = {f.location for f in parsed if f.location is not None}
    return [f for f in own if f.location not in flagged]


__all__ = ["RULES", "Check", "Rule", "validate"]
