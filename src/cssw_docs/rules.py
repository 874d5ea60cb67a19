"""The business facts derived from an audit, each defined once and called everywhere.

Validation, rendering, routing, the watcher and oversight all ask these functions; none of
them re-derives a fact on its own. Limits taken from the audit guide live in the rubric's
``[rules]`` table.
"""

from __future__ import annotations

import functools
import re

from . import privacy
from .config import DEFAULT_REFERENCE_PATTERN, ValidationSettings
from .models import Agreement, Rating, Stage, Submission

# The audit reference names folders, files and email subjects, so it must be safe in all three.
# This is the floor every reference must pass, whatever validation.reference_pattern says.
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
REFERENCE_HELP = (
    "Use the reference the Quality Assurance Unit gave the audit, e.g. CSSW-2026-0142. Never "
    "the child's name or MOSAIC ID: the reference names files and email subjects."
)
_DEFAULT_FORMAT_HELP = (
    "2 to 8 capital letters, a dash, the year, a dash and a number of 3 to 6 digits"
)
RESERVED_FILE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def reference_is_safe(ref: str) -> bool:
    """Return True when ``ref`` can name a folder, a file and a subject on any system."""
    return bool(REFERENCE_PATTERN.fullmatch(ref)) and ref.casefold() not in RESERVED_FILE_NAMES


@functools.lru_cache(maxsize=8)
def _reference_format(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def reference_fits_format(ref: str, settings: ValidationSettings) -> bool:
    """Return True when ``ref`` follows ``validation.reference_pattern`` (whole text)."""
    return bool(_reference_format(settings.reference_pattern).fullmatch(ref))


def reference_format_help(settings: ValidationSettings) -> str:
    """Return what a reference must look like, in words, with the configured example."""
    example = settings.reference_example
    if settings.reference_pattern == DEFAULT_REFERENCE_PATTERN:
        return f"Write it as {_DEFAULT_FORMAT_HELP}, e.g. {example}."
    return f"Write it in the same form as {example}."


def accepted_reference(sub: Submission | None, settings: ValidationSettings) -> str | None:
    """Return the audit reference when it passed every reference rule, else None.

    Only such a reference may name a file, a folder or a log line, or appear in ``status``:
    it is safe on any file system, follows the configured format and identifies no child.
    """
    if sub is None:
        return None
    ref = sub.audit_ref.strip()
    if not (reference_is_safe(ref) and reference_fits_format(ref, settings)):
        return None
    return None if reference_identifies_child(ref, sub) else ref


def needs_action(rating: Rating | None) -> bool:
    """Return True for a rating the audit plan must answer (Requires improvement or worse)."""
    return rating is not None and (rating.rank or 0) >= 3


def referred_to_head_of_qa(sub: Submission) -> bool:
    """Return True when the practitioner disagrees, so the Head of QA reviews the audit."""
    return sub.practitioner_agreement is Agreement.DISAGREE


def storyboard_expected(sub: Submission) -> bool:
    """Return True when the auditor must write a storyboard (a Final audit, Good or better)."""
    return (
        sub.audit_stage is Stage.FINAL
        and sub.overall_rating is not None
        and sub.overall_rating.good_or_better
    )


def storyboard_due(sub: Submission) -> bool:
    """Return True when the pack includes a storyboard (expected, and sharing not refused)."""
    return storyboard_expected(sub) and sub.storyboard_consent is not False


def identifying_tokens(sub: Submission) -> set[str]:
    """Return the child's name parts and MOSAIC ID forms (case-folded) that identify them."""
    return privacy.identifying_tokens(sub)


def reference_identifies_child(ref: str, sub: Submission) -> bool:
    """Return True when the audit reference holds the child's name or MOSAIC ID.

    The reference names files and email subjects, so such a reference is refused by the
    validator and withheld from any subject line.
    """
    return privacy.reference_identifies(ref, sub)


def names_child(text: str, sub: Submission) -> bool:
    """Return True when ``text`` holds the child's name or MOSAIC ID, however it is written.

    Lookalike letters, accents, invisible characters, plural and possessive endings and names
    run together (``AmaraOkafor``) are all caught; see ``privacy.Identity``.
    """
    return privacy.names_child(text, sub)


def identifies_child(text: str, sub: Submission) -> bool:
    """Return True when ``text`` holds the child's name or MOSAIC ID, or a personal detail.

    Personal details are a date of birth, a phone number, an email address or a postcode.
    """
    return bool(privacy.identifying_details(text, sub))
