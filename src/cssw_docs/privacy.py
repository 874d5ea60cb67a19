"""What in a piece of text identifies a child: their name, MOSAIC ID, or a personal detail.

Pure functions over the submission and plain text (no I/O). The rulebook (``rules.py``), the
validator and email composition ask this module; none of them keeps its own copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .models import Submission

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# An identifying token shorter than this counts in a reference only as a whole word of it, so
# a child called Ann does not make "PLANNING-01" identifying.
_ANYWHERE_MIN = 4
# A MOSAIC ID's digits on their own identify the child when there are at least this many.
_MOSAIC_DIGITS_MIN = 5

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE_OF_BIRTH = re.compile(
    "|".join(
        (
            r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:\d{4}|\d{2})\b",  # 31/01/2015, 3-1-15
            r"\b\d{4}-\d{1,2}-\d{1,2}\b",  # 2015-01-31
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{2,4}}\b",  # 3 March 2015
            rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b",  # March 3, 2015
            rf"\bborn\s+(?:on\s+|in\s+)?(?:the\s+)?(?:\d|{_MONTH}\b)",  # born on 3 March
            r"\bd\.?o\.?b\b",
            r"\bdate\s+of\s+birth\b",
        )
    ),
    re.IGNORECASE,
)
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+\s?44|\(?0)[\d\s().-]{8,17}\d")
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s*(\d[ABD-HJLNP-UW-Z]{2}))\b", re.IGNORECASE
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)", re.IGNORECASE)


@dataclass(frozen=True)
class Detector:
    """One kind of identifying detail: a short code, what it is in words, and its test."""

    code: str  # child_name, mosaic_id, dob, phone, email, postcode
    what: str  # e.g. "the child's first name", for messages (never the detail itself)
    found: Callable[[str], bool]


def words(text: str) -> list[str]:
    """Return the words of ``text`` (letters and digits, with inner apostrophes)."""
    return _WORD.findall(text)


def name_parts(child_name: str) -> list[tuple[str, list[str]]]:
    """Return ("first name", [pieces]) ... for each word of the child's name.

    Pieces are the parts of two or more letters; a hyphenated word is also kept whole.
    """
    names = child_name.split()
    out = []
    for i, word in enumerate(names):
        pieces = [p for p in words(word) if len(p) >= 2]
        if "-" in word and len(pieces) > 1:
            pieces.append(word.strip(",.;"))
        if not pieces:
            continue
        what = "first name" if i == 0 else "last name" if i == len(names) - 1 else "middle name"
        out.append((what, pieces))
    return out


def mosaic_forms(mosaic_id: str) -> list[str]:
    """Return the forms in which a MOSAIC ID identifies the child: itself and its digits."""
    mosaic = mosaic_id.strip()
    if not mosaic:
        return []
    digits = re.sub(r"\D", "", mosaic)
    return [mosaic] + ([digits] if len(digits) >= _MOSAIC_DIGITS_MIN and digits != mosaic else [])


def identifying_tokens(sub: Submission) -> set[str]:
    """Return the child's name parts and MOSAIC forms, case-folded."""
    tokens = {p.casefold() for _, parts in name_parts(sub.child_name) for p in parts}
    return tokens | {f.casefold() for f in mosaic_forms(sub.child_mosaic_id)}


def reference_identifies(ref: str, sub: Submission) -> bool:
    """Return True when ``ref`` holds the child's name or MOSAIC ID, even run into other text.

    A name part or MOSAIC form of four or more characters counts anywhere in the reference
    (``CSSWAmara``); a shorter one (Jo, Ann) only as a whole word of it (``CSSW-ANN-01``).
    """
    folded = ref.casefold()
    whole = {w for w in re.split(r"[\W_]+", folded) if w}
    return any(
        token in whole or (len(token) >= _ANYWHERE_MIN and token in folded)
        for token in identifying_tokens(sub)
    )


def detectors(sub: Submission) -> list[Detector]:
    """Return the detectors for ``sub``: its child's name parts and MOSAIC ID, then the rest."""
    found: list[Detector] = [
        Detector("child_name", f"the child's {what}", _whole_words(parts))
        for what, parts in name_parts(sub.child_name)
    ]
    forms = mosaic_forms(sub.child_mosaic_id)
    if forms:
        found.append(Detector("mosaic_id", "the child's MOSAIC ID", _whole_words(forms)))
    return [
        *found,
        Detector("dob", "what looks like a date of birth", lambda t: bool(DATE_OF_BIRTH.search(t))),
        Detector("phone", "what looks like a phone number", has_uk_phone),
        Detector("email", "an email address", lambda t: bool(EMAIL_IN_TEXT.search(t))),
        Detector("postcode", "what looks like a postcode", has_postcode),
    ]


def identifying_details(text: str, sub: Submission) -> list[Detector]:
    """Return the detectors that find something identifying in ``text``, in detector order."""
    if not text.strip():
        return []
    return [d for d in detectors(sub) if d.found(text)]


def has_uk_phone(text: str) -> bool:
    """Return True when ``text`` holds what looks like a UK phone number."""
    for match in _PHONE_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if digits.startswith("44"):
            digits = "0" + digits[2:].removeprefix("0")
        if digits.startswith("0") and not digits.startswith("00") and len(digits) in (10, 11):
            return True
    return False


def has_postcode(text: str) -> bool:
    """Return True when ``text`` holds what looks like a UK postcode (not "3rd" or "21st")."""
    for match in _POSTCODE.finditer(text):
        inward = match.group(1) or ""
        if not _ORDINAL.fullmatch(inward):
            return True
    return False


def _whole_words(forms: list[str]) -> Callable[[str], bool]:
    pattern = re.compile("|".join(rf"(?<![\w]){re.escape(f)}(?![\w])" for f in forms), re.I)
    return lambda text: bool(pattern.search(text))
