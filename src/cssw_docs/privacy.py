"""What in a piece of text identifies a child: their name, MOSAIC ID, or a personal detail.

Pure functions over the submission and plain text (no I/O). The rulebook (``rules.py``), the
validator, email composition and the cross-audit outputs ask this module; none of them keeps
its own copy. Text is folded before it is matched (:func:`fold`), so lookalike letters,
accents, full-width forms and invisible characters do not hide a name, and one matcher per
child (:func:`identity_of`) both finds identifiers and replaces them (:func:`redact`).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import wordlists
from .models import Submission

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_RUN = re.compile(r"[^\W_]+")  # a run of letters and digits in folded text

# An identifying token shorter than this counts in a reference only as a whole word of it, so
# a child called Ann does not make "PLANNING-01" identifying.
_ANYWHERE_MIN = 4
# A MOSAIC ID's digits on their own identify the child when there are at least this many.
_MOSAIC_DIGITS_MIN = 5
# A name part shorter than this is matched only as a whole word (or a camel-case piece), never
# run together with other letters or with a plural ending: "Jo" is not in "Joined" or "Jos".
_LONG_PART = 3

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

# --- folding: one spelling for every way of writing a letter ---------------------------------

# Letters from other alphabets that look like Latin ones (checked with their case: an upper-case
# Greek Eta looks like H, a lower-case eta like n), and Latin letters without a decomposition.
_LOOKALIKES = {
    # Cyrillic
    **dict(zip("АВЕЅІЈКМНОРСТХУԀԚԜӀҮѴ", "ABESIJKMHOPCTXYDQWIYV", strict=True)),
    **dict(zip("аеѕіјкмопрстхуԁԛԝӏүѵгиь", "aesijkmonpctxydqwlyvrub", strict=True)),
    "в": "b",
    "н": "h",
    # Greek
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ", "ABEZHIKMNOPTYXC", strict=True)),
    **dict(zip("αβγεηικμνορτυχωϲϳ", "abyenikuvoptuxwcj", strict=True)),
    # Latin letters that Unicode does not decompose into a plain letter and a mark
    **dict(zip("ıȷłŁøØđĐħĦŧŦƚɑɡ", "ijlLoOdDhHtTlag", strict=True)),
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "ʼ": "'",
    "‘": "'",
}
# Marks (accents) and format characters (zero-width spaces, joiners, bidi controls, soft
# hyphens) are dropped: "Zoë" is "zoe" and "Am\u200bara" is "amara".
_DROPPED = frozenset({"Mn", "Me", "Mc", "Cf"})
_FOLDED: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    """Return one character folded: compatibility form, no marks, lookalikes mapped, case-free."""
    done = _FOLDED.get(ch)
    if done is None:
        done = ch
        for step in (_decomposed, _plain, str.casefold, _decomposed, _plain):
            done = step(done)
        if len(_FOLDED) < 65536:
            _FOLDED[ch] = done
    return done


def _decomposed(text: str) -> str:
    """Return ``text`` in compatibility-decomposed form, without marks and invisible characters."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) not in _DROPPED
    )


def _plain(text: str) -> str:
    """Return ``text`` with lookalike letters as the Latin letters they look like."""
    return "".join(_LOOKALIKES.get(c, c) for c in text)


def _folded(text: str) -> tuple[str, list[int] | None]:
    """Return ``text`` folded, and for each folded character the index of the one it came from.

    The index list is None when it is the identity (plain ASCII text, the common case).
    """
    if text.isascii():
        return text.lower(), None
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = _fold_char(ch)
        out.append(piece)
        origin.extend([i] * len(piece))
    return "".join(out), origin


def fold(text: str) -> str:
    """Return ``text`` as the matcher sees it: NFKC-compatible, case-folded, without accents,
    zero-width characters or joiners, and with lookalike Cyrillic, Greek and full-width letters
    as their Latin twins (``"Ζоë"`` is ``"zoe"``)."""
    return text.lower() if text.isascii() else "".join(map(_fold_char, text))


# --- the child's identifiers ---------------------------------------------------------------


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


@dataclass(frozen=True)
class Hit:
    """Where an identifier is in a text (indexes into the original text) and what it is."""

    start: int
    end: int
    whats: frozenset[str]  # "first name", "middle name", "last name", "MOSAIC ID"


MOSAIC = "MOSAIC ID"


class Identity:
    """One child's identifiers, folded and compiled once, and the matcher built on them.

    A name part is found as a word of its own (``Okafor``), with a plural or possessive ending
    (``the Okafors``, ``Okafor's``), as a camel-case or underscore-separated piece of a longer
    word (``AmaraOkafor``, ``Amara_Okafor``, ``okafor2026``) and run together with the child's
    other identifiers (``AMARAOKAFOR``), but not inside an ordinary word (``Amaranth``). A part
    shorter than three letters counts only as a whole word or camel-case piece. The MOSAIC ID
    is found as a word and by its digits.
    """

    def __init__(self, child_name: str, mosaic_id: str) -> None:
        atoms: dict[str, set[str]] = {}
        for what, pieces in name_parts(child_name):
            for piece in pieces:
                for run in _RUN.findall(fold(piece)):
                    if len(run) >= 2:
                        atoms.setdefault(run, set()).add(what)
        for form in mosaic_forms(mosaic_id):
            for run in _RUN.findall(fold(form)):
                atoms.setdefault(run, set()).add(MOSAIC)
        self.atoms: dict[str, frozenset[str]] = {a: frozenset(w) for a, w in atoms.items()}
        self.digits = {a for a, w in self.atoms.items() if MOSAIC in w and a.isdigit()}
        self.empty = not self.atoms
        self._any = (
            re.compile("|".join(re.escape(a) for a in sorted(self.atoms, key=len, reverse=True)))
            if self.atoms
            else None
        )
        # Parts of scripts written without spaces (Chinese, Japanese, Thai) count anywhere.
        self._unspaced = [a for a in self.atoms if any(_unspaced(c) for c in a)]

    # --- finding -----------------------------------------------------------------------------

    def may_hold(self, texts: Iterable[str]) -> bool:
        """Return False when none of ``texts`` holds an identifier: :meth:`hits` finds none.

        The quick first test :meth:`hits` makes, of many texts at once: each is folded and
        they are searched joined, so an identifier in any one of them is found.
        """
        texts = list(texts)
        joined = "\n".join(texts)
        if joined.isascii():
            return self._holds_atom(joined.lower())
        # Each folded apart: most are plain ASCII, quick to fold.
        return self._holds_atom("\n".join(fold(text) for text in texts))

    def _holds_atom(self, folded: str) -> bool:
        """Return True when folded text holds one of the identifiers' atoms (as ``_any`` finds,
        but quicker on a long text: a substring search for each)."""
        return any(atom in folded for atom in self.atoms)

    def hits(self, text: str) -> list[Hit]:
        """Return every identifier in ``text``, in order, overlapping ones merged."""
        if self._any is None or not text:
            return []
        folded, origin = _folded(text)
        if not self._holds_atom(folded):  # the test may_hold makes of many texts
            return []
        found: list[tuple[int, int, frozenset[str]]] = []
        for run in _RUN.finditer(folded):
            if self._any.search(run.group()):
                found += self._in_run(text, origin, run.start(), run.end(), folded)
        for atom in self._unspaced:
            for m in re.finditer(re.escape(atom), folded):
                found.append((m.start(), m.end(), self.atoms[atom]))
        return _merge(found, origin)

    def whats(self, text: str) -> frozenset[str]:
        """Return which identifiers ``text`` holds ("first name" ... "MOSAIC ID")."""
        return frozenset(w for hit in self.hits(text) for w in hit.whats)

    def found_in(self, text: str) -> bool:
        """Return True when ``text`` holds the child's name or MOSAIC ID."""
        return bool(self.hits(text))

    def _in_run(
        self, text: str, origin: list[int] | None, start: int, end: int, folded: str
    ) -> Iterator[tuple[int, int, frozenset[str]]]:
        """Yield (start, end, whats) in folded indexes for the identifiers in one run."""
        run = folded[start:end]
        whats = self._whole(run)
        if whats:
            yield start, end, whats
            return
        for a, b in _pieces(text, origin, start, end, folded):
            whats = self._whole(folded[a:b])
            if whats:
                yield a, b, whats

    def _whole(self, word: str) -> frozenset[str]:
        """Return what ``word`` (a whole run or a piece of one) is, if it is an identifier."""
        if word in self.atoms:
            return self.atoms[word]
        if word.isdigit():
            return frozenset({MOSAIC}) if word in self.digits else frozenset()
        for stem in _stems(word):
            whats = self.atoms.get(stem)
            if whats and len(stem) >= _LONG_PART and MOSAIC not in whats:
                return whats
        return self._joined(word)

    def _joined(self, word: str) -> frozenset[str]:
        """Return the identifiers ``word`` is spelt from end to end (``amaraokafor``), if any.

        At least one of them must be a name part of three or more letters or the MOSAIC ID, and
        the last may carry a plural ending.
        """
        n = len(word)
        if n > 64:
            return frozenset()
        # reach[i]: (identifiers spelling word[:i] exactly, whether one of them is long enough)
        reach: list[tuple[frozenset[str], bool] | None] = [None] * (n + 1)
        reach[0] = (frozenset(), False)
        for i in range(n):
            if reach[i] is None:
                continue
            whats_so_far, long_so_far = reach[i]
            for atom, whats in self.atoms.items():
                if not word.startswith(atom, i):
                    continue
                j = i + len(atom)
                step = (whats_so_far | whats, long_so_far or len(atom) >= _LONG_PART)
                ends = [j] + [j + len(e) for e in _ENDINGS if n == j + len(e) and word.endswith(e)]
                for k in ends:
                    held = reach[k]
                    reach[k] = step if held is None else (held[0] | step[0], held[1] or step[1])
        done = reach[n]
        return done[0] if done is not None and done[1] else frozenset()

    # --- replacing ---------------------------------------------------------------------------

    def redact(self, text: str, replacement: str = "the child") -> str:
        """Return ``text`` with each identifier (and a "the" just before it) replaced."""
        hits: list[Hit] = []
        for hit in (_with_invisibles(text, h) for h in self.hits(text)):
            # "Amara Okafor-Reid" is one name, replaced once
            if hits and _JOINED_BY.fullmatch(text[hits[-1].end : hit.start]):
                hits[-1] = Hit(hits[-1].start, hit.end, hits[-1].whats | hit.whats)
            else:
                hits.append(hit)
        if not hits:
            return text
        out: list[str] = []
        at = 0
        for hit in hits:
            start = hit.start
            before = text[at:start]
            lead = re.search(r"(?i)\bthe\s+$", before)
            if lead:
                start -= len(lead.group())
            out.append(text[at:start])
            prefix = text[:start].rstrip(" \t")
            sentence_start = not prefix.strip() or prefix[-1] in ".!?\n"
            out.append(replacement[:1].upper() + replacement[1:] if sentence_start else replacement)
            at = hit.end
        out.append(text[at:])
        return "".join(out)


def _with_invisibles(text: str, hit: Hit) -> Hit:
    """Return ``hit`` widened over invisible characters touching it (zero-width, joiners)."""
    start, end = hit.start, hit.end
    while start > 0 and not _fold_char(text[start - 1]):
        start -= 1
    while end < len(text) and not _fold_char(text[end]):
        end += 1
    return Hit(start, end, hit.whats)


_JOINED_BY = re.compile(r"[\s_\-‐‑]*")
# Plural and possessive endings a name part may carry: Okafors, Amaras, Thomases, Okafors'.
_ENDINGS = ("s", "es")


def _stems(word: str) -> list[str]:
    """Return ``word`` without a plural ending ("okafors" -> "okafor"; "rosses" -> "ross")."""
    stems = []
    if word.endswith("s"):
        stems.append(word[:-1])
    if word.endswith("es"):
        stems.append(word[:-2])
    return stems


def _unspaced(ch: str) -> bool:
    """Return True for a character of a script written without spaces between words."""
    code = ord(ch)
    return (
        0x0E00 <= code <= 0x0EFF  # Thai, Lao
        or 0x3040 <= code <= 0x30FF  # Hiragana, Katakana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
    )


def _pieces(
    text: str, origin: list[int] | None, start: int, end: int, folded: str
) -> Iterator[tuple[int, int]]:
    """Yield the pieces of a run: split where letters meet digits and at camel-case humps.

    The humps are read from the original text (``AmaraOkafor``, ``AMARAOkafor``), since the
    folded text has no case.
    """

    def orig(i: int) -> str:
        return text[origin[i] if origin is not None else i]

    cut = start
    for i in range(start + 1, end):
        prev, cur = orig(i - 1), orig(i)
        if origin is not None and origin[i] == origin[i - 1]:
            continue  # one original character folded into several
        nxt = orig(i + 1) if i + 1 < end else ""
        boundary = (
            folded[i - 1].isdigit() != folded[i].isdigit()
            or (prev.islower() and cur.isupper())
            or (prev.isupper() and cur.isupper() and nxt.islower())
        )
        if boundary:
            yield cut, i
            cut = i
    yield cut, end


def _merge(found: list[tuple[int, int, frozenset[str]]], origin: list[int] | None) -> list[Hit]:
    """Return the hits in original indexes, sorted, with overlapping ones merged."""
    hits: list[Hit] = []
    for a, b, whats in sorted(found):
        start = origin[a] if origin is not None else a
        end = origin[b - 1] + 1 if origin is not None else b
        if hits and start <= hits[-1].end:
            last = hits[-1]
            hits[-1] = Hit(last.start, max(last.end, end), last.whats | whats)
        else:
            hits.append(Hit(start, end, whats))
    return hits


@functools.lru_cache(maxsize=256)
def _identity(child_name: str, mosaic_id: str) -> Identity:
    return Identity(child_name, mosaic_id)


def identity_of(sub: Submission) -> Identity:
    """Return the compiled matcher for ``sub``'s child (built once per child and reused)."""
    return _identity(sub.child_name, sub.child_mosaic_id)


def names_child(text: str, sub: Submission) -> bool:
    """Return True when ``text`` holds the child's name (any part) or MOSAIC ID, however written."""
    return identity_of(sub).found_in(text)


def reference_identifies(ref: str, sub: Submission) -> bool:
    """Return True when ``ref`` holds the child's name or MOSAIC ID, even run into other text.

    A name part or MOSAIC form of four or more characters counts anywhere in the reference
    (``CSSWAmara``); a shorter one (Jo, Ann) only as a whole word of it (``CSSW-ANN-01``). The
    MOSAIC digits count even with separators between them (``CSSW-1234-567``).
    """
    identity = identity_of(sub)
    if identity.found_in(ref):
        return True
    folded = fold(ref)
    if any(len(atom) >= _ANYWHERE_MIN and atom in folded for atom in identity.atoms):
        return True
    digits = re.sub(r"\D", "", folded)
    return any(d in digits for d in identity.digits)


def redact(text: str, sub: Submission, replacement: str = "the child") -> str:
    """Return ``text`` with the child's name and MOSAIC ID replaced by ``replacement``.

    Every output that copies free text across audits (the activity report, the moderation
    workbook, notices to senior managers) passes it through here.
    """
    return identity_of(sub).redact(text, replacement) if text else text


# Fields that identify the child by design; everything else that is text gets redacted.
_KEPT = frozenset({"child_name", "child_mosaic_id", "audit_ref", "template_version"})


def redacted(sub: Submission) -> Submission:
    """Return ``sub`` with the child's name and MOSAIC ID replaced in every free-text field.

    The child's name and MOSAIC ID fields themselves are kept (the matcher needs them); use
    this for every view of an audit that leaves the child's own record.
    """
    identity = identity_of(sub)
    if identity.empty:
        return sub
    texts: list[str] = []
    _collect_texts(sub, texts)
    # One quick test of all the audit's text first: often there is nothing to replace.
    if not identity.may_hold(texts):
        return sub
    return _cleaned(sub, identity)


@functools.cache
def _redaction_plan(kind: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """Return the fields of the dataclass ``kind`` that may hold free text or items (every
    compared field but the child's own identifiers), and what gives their values at once."""
    names = tuple(f.name for f in dataclasses.fields(kind) if f.compare and f.name not in _KEPT)
    if len(names) > 1:
        return names, operator.attrgetter(*names)
    return names, lambda obj: tuple(getattr(obj, name) for name in names)


def _is_items(value: Any) -> bool:
    """Return True for a field holding items of its own (sections, actions ...)."""
    return isinstance(value, tuple) and bool(value) and dataclasses.is_dataclass(value[0])


def _collect_texts(obj: Any, into: list[str]) -> None:
    """Add to ``into`` every text redaction looks at in the dataclass ``obj`` and its items."""
    for value in _redaction_plan(type(obj))[1](obj):
        if type(value) is str:  # not an enum such as a rating
            if value:
                into.append(value)
        elif _is_items(value):
            for item in value:
                _collect_texts(item, into)


def _cleaned(obj: Any, identity: Identity) -> Any:
    """Return the dataclass ``obj`` with its text, and its items' text, redacted."""
    names, values = _redaction_plan(type(obj))
    fields = list(zip(names, values(obj), strict=True))
    texts = [v for _, v in fields if type(v) is str and v]  # not an enum such as a rating
    # One test of all its text first: nothing to replace in any field unless it passes.
    may_hold = identity.may_hold(texts)
    changes = {}
    for name, value in fields:
        if type(value) is str:
            if may_hold and value:
                new = identity.redact(value)
                if new != value:
                    changes[name] = new
        elif _is_items(value):
            items = tuple(_cleaned(v, identity) for v in value)
            if items != value:
                changes[name] = items
    return dataclasses.replace(obj, **changes) if changes else obj


# --- every kind of identifying detail --------------------------------------------------------


def detectors(sub: Submission) -> list[Detector]:
    """Return the detectors for ``sub``: its child's name parts and MOSAIC ID, then the rest."""
    identity = identity_of(sub)
    found: list[Detector] = [
        Detector("child_name", f"the child's {what}", _finds(identity, what))
        for what, _ in name_parts(sub.child_name)
    ]
    if mosaic_forms(sub.child_mosaic_id):
        found.append(Detector("mosaic_id", "the child's MOSAIC ID", _finds(identity, MOSAIC)))
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
    whats = identity_of(sub).whats(text)
    out = []
    for d in detectors(sub):
        if d.code == "child_name":
            hit = d.what.removeprefix("the child's ") in whats
        elif d.code == "mosaic_id":
            hit = MOSAIC in whats
        else:
            hit = d.found(text)
        if hit:
            out.append(d)
    return out


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


def _finds(identity: Identity, what: str) -> Callable[[str], bool]:
    return lambda text: what in identity.whats(text)


# --- what else commonly identifies a family (warnings, not errors) ----------------------------

# Words before a name that make it a person: "Mrs Patel", "Auntie Grace", "Dr Ahmed".
_TITLES = (
    r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Prof|Sir|Dame|Auntie|Aunty|Aunt|Uncle|Nan|Nana|Nanny|"
    r"Grandma|Grandad|Granddad|Grandpa|Granny|Gran|Pastor|Imam|Father|Sister|Rev)\.?"
)
# ... and words after which a capitalised word is someone's name: "her brother Jayden".
_RELATIONS = (
    r"(?:mum|mother|mummy|dad|father|daddy|brother|sister|sibling|aunt|auntie|aunty|uncle|"
    r"nan|nana|gran|granny|grandma|grandmother|grandad|granddad|grandfather|cousin|son|"
    r"daughter|stepdad|stepfather|stepmum|stepmother|partner|boyfriend|girlfriend|husband|"
    r"wife|friend|neighbour|carer|teacher|headteacher|childminder|named|called|baby)"
)
_CAP = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*"
_TITLED = re.compile(rf"\b{_TITLES}\s+({_CAP}(?:\s+{_CAP})?)")
_RELATED = re.compile(rf"\b{_RELATIONS},?\s+({_CAP})\b")
_CAPITALISED = re.compile(rf"\b{_CAP}\b")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")

# "... Primary School", "... Road", "... Estate": a place named by its form.
_PLACE_KINDS = (
    r"(?:Primary|Secondary|High|Infant|Infants|Junior|Nursery|Grammar|Free|Special|Community)"
    r"(?:\s+School|\s+Academy)?|School|Academy|College|Nursery|Children's\s+Centre|"
    r"Family\s+Centre|Road|Rd|Street|St|Avenue|Ave|Lane|Close|Crescent|Gardens|Square|Terrace|"
    r"Drive|Grove|Mews|Rise|Walk|Way|Place|Row|Hill|Estate|Ward|Park|Court|House|Mansions|"
    r"Buildings|Tower|Towers|Surgery|Medical\s+Centre|Health\s+Centre|Mosque|Church|Temple|"
    r"Gurdwara|Synagogue|Library|Leisure\s+Centre|Station|Town|Village|Green"
)
_PLACE = re.compile(
    rf"\b((?:(?:St\.?|{_CAP}|[A-Z]{{2,}}|&|and|of|the|on)\s+){{0,4}}?{_CAP})\s+({_PLACE_KINDS})\b"
)
# A place of that form whose words are all general ones names no particular place: "the Family
# Court", "the Virtual School", "a Special School", "Children's Centre".
_GENERAL = frozenset(
    {
        "the", "a", "an", "our", "their", "her", "his", "local", "family", "youth", "crown",
        "county", "virtual", "special", "primary", "secondary", "high", "early", "help",
        "children's", "childrens", "social", "care", "housing", "council", "multi", "agency", "and",
        "of", "on", "new", "mainstream", "pupil", "referral", "unit", "leavers", "front",
        "door", "mash", "team", "service", "hospital", "neonatal", "health", "community", "mental",
    }
)  # fmt: skip

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen)"
)
_AGE = re.compile(
    rf"\b(?:aged?\s+(?:\d{{1,2}}|{_NUMBER_WORDS})\b"
    rf"|(?:\d{{1,2}}|{_NUMBER_WORDS})[\s-]+(?:years?|yrs?|months?|weeks?)[\s-]+old\b"
    rf"|turn(?:s|ed)?\s+(?:\d{{1,2}}|{_NUMBER_WORDS})\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)\s+birthday\b)",
    re.IGNORECASE,
)
_DATE = re.compile(
    "|".join(
        (
            DATE_OF_BIRTH.pattern,
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b",  # 3 March
            rf"\b{_MONTH}\.?\s+(?:\d{{1,2}}(?:st|nd|rd|th)?\b|(?:19|20)\d{{2}}\b)",  # March 2025
            rf"\b(?:in|on|since|by|until|from|during|of|last|this|early|late|mid)[\s-]+{_MONTH}\b",
            r"\b(?:in|since|during|of|from|until|by)\s+(?:19|20)\d{2}\b",  # in 2024
        )
    ),
    re.IGNORECASE,
)
# A condition named after a person ("Rett syndrome", "Batten disease") or of these forms.
_NAMED_CONDITION = re.compile(
    rf"\b{_CAP}(?:['’]s)?(?:[\s-]+{_CAP})?[\s-]+(?:syndrome|disease|dystrophy|atrophy|palsy|"
    rf"anaemia|anemia|sclerosis|tumour|tumor|sarcoma|lymphoma|carcinoma)\b"
)


@dataclass(frozen=True)
class Clue:
    """Something in a storyboard that could identify the family, and where it is.

    ``text`` is the words found: shown to nobody but the auditor in the workbook's own cell,
    never in a message (messages travel by email).
    """

    code: str  # person, place, age_date, condition_date
    start: int
    end: int
    text: str


# What each kind of clue is, in words for messages, and what to do about it.
CLUE_WHAT = {
    "person": "what looks like someone's name",
    "place": "what looks like a school, street, estate, ward or town",
    "age_date": "an exact age together with a date",
    "condition_date": "a named rare condition together with a date",
}
CLUE_FIX = {
    "person": "write their role instead (“her aunt”, “the head teacher”)",
    "place": "write it in general terms (“a local primary school”, “a housing estate”)",
    "age_date": "give the age or the date, not both (“aged 9”, “in the spring”)",
    "condition_date": "describe the condition in general terms or leave out the date",
}


class AnonymityCheck:
    """Finds what commonly identifies a family beyond the child's own name and MOSAIC ID.

    People's names come from the packaged names list, from titles (``Mrs Patel``) and from
    family words (``her brother Jayden``); places from their form (``... Primary School``,
    ``... Road``, ``... Estate``) and from the borough's own list; ages with dates and named
    rare conditions with dates from patterns. ``credited`` names (the worker, the auditor, the
    team) are never clues: the storyboard credits them on purpose.
    """

    def __init__(
        self,
        names: wordlists.Names,
        local: wordlists.LocalList,
        credited: tuple[str, ...] = (),
    ) -> None:
        self.names = names
        self.local = local
        self.credited = frozenset(
            w for c in credited for w in (wordlists.plain(x) for x in words(c))
        )
        self._places = _phrases(local.places)
        self._conditions = _phrases((*wordlists.conditions(), *local.conditions))

    def clues(self, text: str) -> list[Clue]:
        """Return the clues in ``text``, in order (one per place in the text)."""
        if not text or not text.strip():
            return []
        places = self._place_clues(text)
        found = places + self._person_clues(text, places)
        for sentence in _SENTENCE.finditer(text):
            found += self._dated_clues(text, sentence.start(), sentence.end())
        found.sort(key=lambda c: (c.start, c.end))
        return found

    # --- places ---------------------------------------------------------------------------

    def _place_clues(self, text: str) -> list[Clue]:
        spans: list[tuple[int, int]] = []
        for m in _PLACE.finditer(text):
            name = m.group(1).split()
            while name and name[0].lower() in ("the", "a", "an", "and", "of", "on", "&"):
                name = name[1:]
            if name and all(w.lower() in _GENERAL for w in name):
                continue
            if name and all(wordlists.plain(w) in self.credited for w in name):
                continue  # the credited team, e.g. "Kentish Town Family Centre" staff
            start = m.start(1) + m.group(1).find(name[0]) if name else m.start(2)
            spans.append((start, m.end()))
        if self._places is not None:
            folded = wordlists.plain(text)
            if len(folded) == len(text):  # offsets agree (no accents or repeated spaces)
                spans += [(m.start(), m.end()) for m in self._places.finditer(folded)]
            elif self._places.search(folded):
                spans.append((0, len(text)))
        return [Clue("place", a, b, text[a:b]) for a, b in _union(spans)]

    # --- people ---------------------------------------------------------------------------

    def _person_clues(self, text: str, places: list[Clue]) -> list[Clue]:
        spans: list[tuple[int, int]] = []
        for m in _TITLED.finditer(text):
            if not self._is_credited(m.group(1)):
                spans.append((m.start(), m.end()))
        for m in _RELATED.finditer(text):
            word = m.group(1)
            if (
                not self._is_credited(word)
                and not _DATE.fullmatch(word)
                and not (wordlists.plain(word) in self.names.everyday and not self._known(word))
            ):
                spans.append((m.start(1), m.end(1)))
        tokens = list(_CAPITALISED.finditer(text))
        for i, m in enumerate(tokens):
            word = m.group()
            if not self._known(word) or self._is_credited(word):
                continue
            before = tokens[i - 1] if i else None
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            pair = any(
                t is not None
                and _adjacent(text, *(sorted((t, m), key=lambda x: x.start())))
                and self._known(t.group())
                and not self._is_credited(t.group())
                for t in (before, after)
            )
            plain_word = wordlists.plain(word)
            if plain_word in self.names.everyday and plain_word not in self.local.names:
                if not pair:
                    continue  # May, Grace, Brown on their own are words
            elif (
                _sentence_start(text, m.start())
                and not pair
                and plain_word in self.names.last
                and plain_word not in self.names.first
            ):
                continue  # a family name alone at the start of a sentence: too often a word
            spans.append((m.start(), m.end()))
        inside = [(c.start, c.end) for c in places]
        spans = [s for s in spans if not any(a <= s[0] and s[1] <= b for a, b in inside)]
        return [Clue("person", a, b, text[a:b]) for a, b in _union(spans, text)]

    def _known(self, word: str) -> bool:
        w = wordlists.plain(word)
        if w.endswith("'s"):
            w = w[:-2]
        return w in self.names.first or w in self.names.last or w in self.local.names

    def _is_credited(self, name: str) -> bool:
        parts = [wordlists.plain(w) for w in words(name)]
        parts = [p[:-2] if p.endswith("'s") else p for p in parts]
        return bool(parts) and all(p in self.credited for p in parts)

    # --- ages and conditions with dates ----------------------------------------------------

    def _dated_clues(self, text: str, start: int, end: int) -> list[Clue]:
        sentence = text[start:end]
        dates = list(_DATE.finditer(sentence))
        if not dates:
            return []
        out = []
        ages = list(_AGE.finditer(sentence))
        if ages:
            a = min(m.start() for m in ages + dates)
            b = max(m.end() for m in ages + dates)
            out.append(Clue("age_date", start + a, start + b, text[start + a : start + b]))
        conditions = [(m.start(), m.end()) for m in _NAMED_CONDITION.finditer(sentence)]
        if self._conditions is not None:
            folded = wordlists.plain(sentence)
            if len(folded) == len(sentence):
                conditions += [(m.start(), m.end()) for m in self._conditions.finditer(folded)]
            elif self._conditions.search(folded):
                conditions.append((0, len(sentence)))
        if conditions:
            a = min(s for s, _ in conditions)
            b = max(e for _, e in conditions)
            out.append(Clue("condition_date", start + a, start + b, text[start + a : start + b]))
        return out


def _phrases(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """Return one pattern finding any of the plain-folded ``phrases`` as whole words."""
    ordered = sorted({p for p in phrases if p}, key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])")


def _union(spans: list[tuple[int, int]], text: str = "") -> list[tuple[int, int]]:
    """Return ``spans`` merged where they overlap (or, with ``text``, touch: "Fatima Hussain")."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and (a <= out[-1][1] or (text and text[out[-1][1] : a] in (" ", "-"))):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _adjacent(text: str, first: re.Match[str], second: re.Match[str]) -> bool:
    return text[first.end() : second.start()] in (" ", "-")


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?\n:;"


def confirmed(clue: Clue, checked: str) -> bool:
    """Return True when the auditor listed ``clue``'s words among the details ``checked``.

    ``checked`` is the workbook's "Details checked for sharing outside": one detail a line.
    A line counts when it holds the clue's words, or the clue holds the line's (3+ letters).
    """
    found = wordlists.plain(clue.text)
    for line in checked.replace(";", "\n").splitlines():
        entry = wordlists.plain(line.strip(" -•*\t"))
        if entry and (found in entry or (len(entry) >= 3 and entry in found)):
            return True
    return False


@functools.lru_cache(maxsize=64)
def anonymity_check(local: wordlists.LocalList, credited: tuple[str, ...] = ()) -> AnonymityCheck:
    """Return the check for a local list and the credited names (built once, then reused)."""
    return AnonymityCheck(wordlists.names(), local, credited)


def credited_names(sub: Submission) -> tuple[str, ...]:
    """Return the names a storyboard credits on purpose: the worker, the auditor and the team."""
    return tuple(n for n in (sub.practitioner_name, sub.auditor_name, sub.team) if n.strip())
