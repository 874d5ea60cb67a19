"""The business facts derived from an audit, each defined once and called everywhere.

Validation, rendering, routing, the watcher and oversight all ask these functions; none of
them re-derives a fact on its own. Limits taken from the audit guide live in the rubric's
``[rules]`` table.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence

import holidays

from . import privacy, wordlists
from .config import DEFAULT_REFERENCE_PATTERN, ValidationSettings
from .models import (
    Action,
    Agreement,
    Rating,
    ReferralOutcome,
    Stage,
    StoryboardStatus,
    Submission,
)

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
# The storyboard's words, in the order the workbook and the documents show them.
STORYBOARD_TEXT_FIELDS: tuple[str, ...] = (
    "storyboard_title",
    "storyboard_context",
    "storyboard_what_we_did",
    "storyboard_impact",
    "storyboard_voice",
    "storyboard_learning",
)
_NO_LOCAL_LIST = wordlists.LocalList()
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


def good_practice(sub: Submission) -> bool:
    """Return True for a Final audit rated Good or Outstanding: SMT are told of it.

    The worker is then invited to write a storyboard with the auditor; the audit is complete
    whether or not they do.
    """
    return (
        sub.audit_stage is Stage.FINAL
        and sub.overall_rating is not None
        and sub.overall_rating.good_or_better
    )


def awaiting_decision(sub: Submission, decided: bool = False) -> bool:
    """Return True when a Final audit waits for the Head of QA: disputed, and not yet decided.

    Until then nothing is final: no supervision insert, CSV, storyboard or good-practice
    notice is issued.
    """
    return sub.audit_stage is Stage.FINAL and referred_to_head_of_qa(sub) and not decided


def partly_agreed(sub: Submission) -> bool:
    """Return True when the practitioner partly agrees: recorded and shown, never blocking."""
    return sub.practitioner_agreement is Agreement.PARTLY_AGREE


# What each decision of the Head of QA means, in the words the documents and emails use.
DECISION_MEANING: dict[ReferralOutcome, str] = {
    ReferralOutcome.UPHELD: "The audit stands as the auditor wrote it.",
    ReferralOutcome.AMENDED: "The audit stands with the changes in the decision note.",
    ReferralOutcome.REPLACED: "A revised audit replaces this one.",
}


def issues_final_pack(outcome: ReferralOutcome) -> bool:
    """Return True when the Head of QA's decision issues the audit as final (not replaced)."""
    return outcome is not ReferralOutcome.REPLACED


def storyboard_expected(sub: Submission) -> bool:
    """Return True when the workbook's storyboard part applies (good practice at Final)."""
    return good_practice(sub)


def storyboard_status(sub: Submission) -> StoryboardStatus:
    """Return where the storyboard stands (blank is Not yet)."""
    return sub.storyboard_status or StoryboardStatus.NOT_YET


def storyboard_written(sub: Submission) -> bool:
    """Return True when the auditor marked the storyboard Completed on a good-practice audit."""
    return storyboard_expected(sub) and storyboard_status(sub) is StoryboardStatus.COMPLETED


def storyboard_due(sub: Submission) -> bool:
    """Return True when the pack includes a storyboard.

    It must be Completed, consented to within the service, and confirmed by the auditor to
    identify no one: the pack never holds a storyboard without all three.
    """
    return (
        storyboard_written(sub)
        and sub.storyboard_consent is True
        and sub.storyboard_anonymised is True
    )


def shared_outside(sub: Submission) -> bool:
    """Return True when the storyboard may be shared outside the service (agencies, Ofsted)."""
    return storyboard_due(sub) and sub.storyboard_consent_external is True


def anonymity_clues(
    sub: Submission, local: wordlists.LocalList = _NO_LOCAL_LIST
) -> dict[str, list[privacy.Clue]]:
    """Return, by storyboard field, the details that could identify the family and that the
    auditor has not listed as checked ("Details checked for sharing outside").

    The credited worker, auditor and team are never such details; the child's own name and
    MOSAIC ID are errors found by :func:`identifies_child`, not clues.
    """
    check = privacy.anonymity_check(local, privacy.credited_names(sub))
    found: dict[str, list[privacy.Clue]] = {}
    for name in STORYBOARD_TEXT_FIELDS:
        clues = [
            clue
            for clue in check.clues(getattr(sub, name))
            if not privacy.confirmed(clue, sub.storyboard_details_confirmed)
            and not privacy.names_child(clue.text, sub)
        ]
        if clues:
            found[name] = clues
    return found


def fit_to_share_outside(sub: Submission, local: wordlists.LocalList = _NO_LOCAL_LIST) -> bool:
    """Return True when the storyboard may go outside the service (agencies, Ofsted).

    It needs the second consent and every anonymity clue settled: an audit stored before the
    check existed is held to it here too (the booklet for outside asks this).
    """
    return shared_outside(sub) and not anonymity_clues(sub, local)


def observed(sub: Submission) -> bool:
    """Return True when the audit records direct practice observed (Practice Week)."""
    return bool(sub.observation_activity.strip())


def plan_order(actions: Sequence[Action]) -> list[Action]:
    """Return the audit plan's actions in the order its documents number them (1, 2 ...):
    by due date, undated ones last, the workbook's order on ties."""
    order = {id(a): i for i, a in enumerate(actions)}
    return sorted(actions, key=lambda a: (a.due is None, a.due or dt.date.min, order[id(a)]))


# --- working days and the Head of Quality Assurance's deadline ------------------------------


@functools.lru_cache(maxsize=32)
def bank_holidays(year: int) -> frozenset[dt.date]:
    """Return the England and Wales bank holidays of ``year`` that fall on a weekday.

    Substitute days and one-off holidays (a coronation, a state funeral) are included.
    """
    days = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(day for day in days if day.weekday() < 5)


def is_working_day(day: dt.date) -> bool:
    """Return True for a weekday that is not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """Return the date ``count`` working days after ``start`` (no weekends or bank holidays)."""
    day = start
    while count > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Return how many working days there are after ``start``, up to and including ``end``."""
    if end <= start:
        return 0
    weeks, rest = divmod((end - start).days, 7)
    weekdays = weeks * 5 + sum(
        (start + dt.timedelta(days=d)).weekday() < 5 for d in range(1, rest + 1)
    )
    off = sum(
        start < day <= end for y in range(start.year, end.year + 1) for day in bank_holidays(y)
    )
    return weekdays - off


def decision_due(referred_on: dt.date, working_days: int) -> dt.date:
    """Return the date the Head of QA is asked to decide a referral by.

    ``working_days`` is the rubric's ``[rules] head_of_qa_working_days``. The audit plan is
    only agreed once the Head of QA has decided, so no action should fall due before it.
    """
    return add_working_days(referred_on, working_days)


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
