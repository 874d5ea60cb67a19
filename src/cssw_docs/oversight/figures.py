"""Every figure of the audit activity report, computed in one pass over the audit records."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..models import SECTION_KEYS, Agreement, Rating
from ..rubric import Rubric
from ..rules import identifying_tokens, referred_to_head_of_qa
from .actions import OVERDUE, STATUSES, Statuses, closed_of, numbered, status_of
from .records import AuditRecord

NOT_RATED = "Not rated"
RATING_COLUMNS: tuple[str, ...] = (*(r.value for r in Rating), NOT_RATED)
AGREEMENT_COLUMNS: tuple[str, ...] = (*(a.value for a in Agreement), "Not recorded")
ACTION_STATUSES: tuple[str, ...] = STATUSES
TOP_WORDS = 15
TOP_PHRASES = 10

_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves
    may might must need needs needed within without across since per via etc e g ie eg
    yet still always never ever just well much many one two three used use using make made
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_JOINERS = frozenset({"of", "in", "for", "with", "to", "on", "from"})
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"[.!?;:\n()]+")


@dataclass(frozen=True)
class Distribution:
    """How often each rating was given to one section (or overall)."""

    name: str
    counts: dict[str, int]

    @property
    def rated(self) -> int:
        """Return how many audits gave a grade (Outstanding to Inadequate)."""
        return sum(self.counts[r.value] for r in Rating if r.rank is not None)

    @property
    def good_or_better(self) -> int:
        """Return how many were rated Good or Outstanding."""
        return self.counts[Rating.GOOD] + self.counts[Rating.OUTSTANDING]

    @property
    def inadequate(self) -> int:
        """Return how many were rated Inadequate."""
        return self.counts[Rating.INADEQUATE]

    @property
    def pct_good_or_better(self) -> float | None:
        """Return the share of graded audits rated Good or better (None when none graded)."""
        return self.good_or_better / self.rated if self.rated else None

    @property
    def pct_inadequate(self) -> float | None:
        """Return the share of graded audits rated Inadequate (None when none graded)."""
        return self.inadequate / self.rated if self.rated else None


@dataclass(frozen=True)
class MonthRow:
    """The audits of one calendar month by overall rating."""

    month: str  # yyyy-mm
    label: str  # "Oct 2026"
    overall: Distribution

    @property
    def audits(self) -> int:
        """Return how many audits fell in the month."""
        return sum(self.overall.counts.values())


@dataclass(frozen=True)
class TeamRow:
    """One team's audits, ratings, disagreements and actions."""

    team: str
    audits: int
    good_or_better: int
    inadequate: int
    disagreements: int
    actions: int
    overdue: int
    done: int = 0  # done, on time or late
    dropped: int = 0

    @property
    def pct_done(self) -> float | None:
        """Return the share of the team's actions still needed that are done (None: none)."""
        needed = self.actions - self.dropped
        return 100.0 * self.done / needed if needed else None


@dataclass(frozen=True)
class ModerationRow:
    """One audit the panel looked at, or is due to."""

    audit_ref: str
    audit_type: str
    team: str
    auditor: str
    selected: bool | None
    auditor_rating: str
    moderator_rating: str
    comparison: str  # "Agreed" | "Panel rated higher" | "Panel rated lower" | "Awaiting panel"
    note: str


@dataclass(frozen=True)
class ModerationFigures:
    """The sample and the agreement between auditors and the moderation panel."""

    eligible: int
    selected: int
    recorded: int
    agreed: int
    higher: int
    lower: int
    rows: tuple[ModerationRow, ...]

    @property
    def pct_agreed(self) -> float | None:
        """Return the share of recorded outcomes where the panel gave the auditor's rating."""
        return self.agreed / self.recorded if self.recorded else None


@dataclass(frozen=True)
class Storyboard:
    """A storyboard of good practice written in the period."""

    audit_ref: str
    title: str
    team: str
    worker: str
    overall: str


@dataclass(frozen=True)
class Figures:
    """Everything the activity report shows; the report modules only lay this out."""

    start: dt.date | None
    end: dt.date | None
    as_of: dt.date
    audits: int
    drafts_in_progress: int
    by_type: tuple[tuple[str, int], ...]
    by_team: tuple[TeamRow, ...]
    by_month: tuple[MonthRow, ...]
    sections: tuple[Distribution, ...]
    overall: Distribution
    agreement: dict[str, int]
    referrals: int
    referrals_open: int
    actions: dict[str, int]
    family_feedback: int
    storyboards: tuple[Storyboard, ...]
    moderation: ModerationFigures
    theme_words: tuple[tuple[str, int], ...]
    theme_phrases: tuple[tuple[str, int], ...]

    @property
    def actions_total(self) -> int:
        """Return how many SMART actions the period's audits set."""
        return sum(self.actions.values())

    @property
    def empty(self) -> bool:
        """Return True when no audit was finalised in the period."""
        return self.audits == 0


def month_key(day: dt.date) -> str:
    """Return ``yyyy-mm`` for ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """Return every ``yyyy-mm`` from ``start``'s month to ``end``'s month inclusive."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_label(key: str) -> str:
    """Return ``Oct 2026`` for ``2026-10``."""
    return dt.date(int(key[:4]), int(key[5:]), 1).strftime("%b %Y")


def _rating_key(rating: Rating | None) -> str:
    return rating.value if rating is not None else NOT_RATED


def _blank_counts() -> dict[str, int]:
    return dict.fromkeys(RATING_COLUMNS, 0)


def words_of(text: str) -> list[list[str]]:
    """Return the text's lower-case words, split into sentence-like runs."""
    return [_WORD.findall(part) for part in _SENTENCE.split(text.casefold().replace("’", "'"))]


def themes_of(text: str, excluded: frozenset[str] = frozenset()) -> tuple[set[str], set[str]]:
    """Return the distinct theme words and two/three-word phrases in ``text``.

    Words are not stop words, not in ``excluded`` (e.g. children's names) and at least three
    letters, counted without a possessive 's; a phrase starts and ends with such a word, with
    a theme word or a joining word such as "of" in the middle.
    """

    def keep(word: str) -> bool:
        stem = word.split("'")[0]
        return len(word) >= 3 and word not in STOP_WORDS and stem not in excluded

    words: set[str] = set()
    phrases: set[str] = set()
    for run in words_of(text):
        for i, word in enumerate(run):
            if not keep(word):
                continue
            words.add(word.removesuffix("'s"))
            if i + 1 < len(run) and keep(run[i + 1]):
                phrases.add(f"{word} {run[i + 1]}")
            middle = run[i + 1] if i + 1 < len(run) else ""
            if i + 2 < len(run) and keep(run[i + 2]) and (keep(middle) or middle in _JOINERS):
                phrases.add(f"{word} {run[i + 1]} {run[i + 2]}")
    return words, phrases


def development_text(record: AuditRecord) -> str:
    """Return the audit's areas for development: the overall text and each section's."""
    sub = record.submission
    parts = [sub.areas_for_development, *(s.development for s in sub.sections)]
    return "\n".join(p for p in parts if p)


def _top(counter: Counter[str], n: int) -> tuple[tuple[str, int], ...]:
    recurring = [(k, v) for k, v in counter.items() if v >= 2]
    recurring.sort(key=lambda kv: (-kv[1], kv[0]))
    return tuple(recurring[:n])


def _drop_covered(phrases: Counter[str]) -> Counter[str]:
    """Return ``phrases`` without two-word phrases that only ever occur inside a longer one."""
    kept = Counter(phrases)
    for phrase, n in phrases.items():
        if phrase.count(" ") == 2:
            for part in (phrase.rsplit(" ", 1)[0], phrase.split(" ", 1)[1]):
                if kept.get(part) == n:
                    del kept[part]
    return kept


def _words_beyond_phrases(words: Counter[str], phrases: Counter[str]) -> Counter[str]:
    """Return ``words`` without those that only ever occur inside one recurring phrase."""
    inside: dict[str, int] = {}
    for phrase, n in phrases.items():
        if n >= 2:
            for word in phrase.split():
                stem = word.removesuffix("'s")
                inside[stem] = max(inside.get(stem, 0), n)
    return Counter({w: n for w, n in words.items() if inside.get(w) != n})


def compute(
    records: Iterable[AuditRecord],
    rubric: Rubric,
    *,
    as_of: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
    drafts_in_progress: int = 0,
    statuses: Statuses | None = None,
) -> Figures:
    """Return the report's figures for ``records`` (one pass), with actions judged on ``as_of``
    and closed as ``statuses`` (``actions.recorded``) and the workbooks say."""
    statuses = statuses or {}
    section_counts = {key: _blank_counts() for key in SECTION_KEYS}
    overall = _blank_counts()
    by_type: Counter[str] = Counter()
    by_month: dict[str, dict[str, int]] = {}
    teams: dict[str, list[int]] = {}
    agreement = dict.fromkeys(AGREEMENT_COLUMNS, 0)
    actions = dict.fromkeys(ACTION_STATUSES, 0)
    referrals = referrals_open = family_feedback = audits = 0
    eligible = selected = recorded = agreed = higher = lower = 0
    moderation_rows: list[ModerationRow] = []
    storyboards: list[Storyboard] = []
    word_docs: Counter[str] = Counter()
    phrase_docs: Counter[str] = Counter()
    child_words: set[str] = set()
    texts: list[str] = []

    for record in records:
        sub = record.submission
        audits += 1
        by_type[sub.audit_type or "Not recorded"] += 1
        by_month.setdefault(month_key(record.when), _blank_counts())[
            _rating_key(sub.overall_rating)
        ] += 1
        overall[_rating_key(sub.overall_rating)] += 1
        rated = {s.key: s.rating for s in sub.sections}
        for key in SECTION_KEYS:
            section_counts[key][_rating_key(rated.get(key))] += 1
        agreement_key = sub.practitioner_agreement.value if sub.practitioner_agreement else None
        agreement[agreement_key or "Not recorded"] += 1
        referrals += record.referred
        referrals_open += record.referral_open
        family_feedback += bool(sub.feedback)
        overdue = done = dropped = 0
        for number, item in numbered(record):
            status = status_of(item.due, as_of, closed_of(record, number, item, statuses))
            actions[status] += 1
            overdue += status == OVERDUE
            done += status.startswith("Done")
            dropped += status == "Dropped"
        team = teams.setdefault(sub.team or "Not recorded", [0, 0, 0, 0, 0, 0, 0, 0])
        team[0] += 1
        team[1] += bool(sub.overall_rating and sub.overall_rating.good_or_better)
        team[2] += sub.overall_rating is Rating.INADEQUATE
        team[3] += referred_to_head_of_qa(sub)
        team[4] += sum(1 for a in sub.actions if a.action.strip())
        team[5] += overdue
        team[6] += done
        team[7] += dropped
        if record.moderation_selected is not None:
            eligible += 1
            selected += record.moderation_selected
        if record.moderation_selected or record.moderation is not None:
            row = _moderation_row(record)
            moderation_rows.append(row)
            if record.moderation is not None:
                recorded += 1
                agreed += row.comparison == "Agreed"
                higher += row.comparison == "Panel rated higher"
                lower += row.comparison == "Panel rated lower"
        if sub.storyboard_title.strip():
            storyboards.append(
                Storyboard(
                    sub.audit_ref,
                    sub.storyboard_title.strip(),
                    sub.team,
                    sub.practitioner_name,
                    _rating_key(sub.overall_rating),
                )
            )
        # What identifies the child is the rulebook's; split the way theme words are.
        child_words.update(_WORD.findall(" ".join(sorted(identifying_tokens(sub)))))
        texts.append(development_text(record))

    excluded = frozenset(child_words)
    for text in texts:
        words, phrases = themes_of(text, excluded)
        word_docs.update(words)
        phrase_docs.update(phrases)

    phrases = _drop_covered(phrase_docs)
    if start is not None and end is not None:
        months = months_between(start, end)
    else:
        months = sorted(by_month)
    return Figures(
        start=start,
        end=end,
        as_of=as_of,
        audits=audits,
        drafts_in_progress=drafts_in_progress,
        by_type=_type_rows(by_type, rubric),
        by_team=tuple(TeamRow(name, *counts) for name, counts in sorted(teams.items())),
        by_month=tuple(
            MonthRow(
                m, month_label(m), Distribution(month_label(m), by_month.get(m) or _blank_counts())
            )
            for m in months
        ),
        sections=tuple(
            Distribution(rubric.section_name(key), section_counts[key]) for key in SECTION_KEYS
        ),
        overall=Distribution("Overall", overall),
        agreement=agreement,
        referrals=referrals,
        referrals_open=referrals_open,
        actions=actions,
        family_feedback=family_feedback,
        storyboards=tuple(sorted(storyboards, key=lambda s: (s.team, s.audit_ref))),
        moderation=ModerationFigures(
            eligible,
            selected,
            recorded,
            agreed,
            higher,
            lower,
            tuple(sorted(moderation_rows, key=lambda r: r.audit_ref)),
        ),
        theme_words=_top(_words_beyond_phrases(word_docs, phrases), TOP_WORDS),
        theme_phrases=_top(phrases, TOP_PHRASES),
    )


def _type_rows(by_type: Counter[str], rubric: Rubric) -> tuple[tuple[str, int], ...]:
    names = [t.name for t in rubric.audit_types]
    names += sorted(set(by_type) - set(names))
    return tuple((name, by_type.get(name, 0)) for name in names)


def compare(auditor: Rating | None, moderator: Rating) -> str:
    """Return how the panel's rating compares with the auditor's."""
    if auditor is None or auditor.rank is None or moderator.rank is None:
        return "Not comparable"
    if auditor.rank == moderator.rank:
        return "Agreed"
    return "Panel rated higher" if moderator.rank < auditor.rank else "Panel rated lower"


def _moderation_row(record: AuditRecord) -> ModerationRow:
    sub = record.submission
    outcome = record.moderation
    auditor = record.auditor_rating
    return ModerationRow(
        audit_ref=sub.audit_ref,
        audit_type=sub.audit_type,
        team=sub.team,
        auditor=sub.auditor_name,
        selected=record.moderation_selected,
        auditor_rating=_rating_key(auditor),
        moderator_rating=outcome.rating.value if outcome else "",
        comparison=compare(auditor, outcome.rating) if outcome else "Awaiting panel",
        note=outcome.note if outcome else "",
    )


def panel_changes(record: AuditRecord, rubric: Rubric) -> str:
    """Return the ratings the panel changed, "Overall: Outstanding to Requires improvement; ..."."""
    outcome = record.moderation
    if outcome is None:
        return ""
    changes = []
    if outcome.rating != record.auditor_rating:
        changes.append(f"Overall: {_rating_key(record.auditor_rating)} to {outcome.rating.value}")
    for key in SECTION_KEYS:
        before, after = record.auditor_section(key), outcome.sections.get(key)
        if after is not None and after != before:
            changes.append(f"{rubric.section_name(key)}: {_rating_key(before)} to {after.value}")
    return "; ".join(changes)


def audit_row(
    record: AuditRecord,
    rubric: Rubric,
    as_of: dt.date,
    *,
    mosaic_id: bool = False,
    statuses: Statuses | None = None,
) -> dict[str, Any]:
    """Return one audit as the report's columns (never the child's name)."""
    sub = record.submission
    standing = [
        status_of(item.due, as_of, closed_of(record, number, item, statuses or {}))
        for number, item in numbered(record)
    ]
    row: dict[str, Any] = {"Reference": sub.audit_ref}
    if mosaic_id:
        row["MOSAIC ID"] = sub.child_mosaic_id
    rated = {s.key: s.rating for s in sub.sections}
    selected = record.moderation_selected
    outcome = record.moderation
    row.update(
        {
            "Type": sub.audit_type,
            "Theme": sub.audit_theme,
            "Team": sub.team,
            "Auditor": sub.auditor_name,
            "Audit date": sub.audit_date,
            "Discussion date": sub.discussion_date,
            "Finalised": record.finalised_on,
            "Version": record.version,
        }
    )
    for key in SECTION_KEYS:
        row[rubric.section_name(key)] = _rating_key(rated.get(key))
    row.update(
        {
            # The rating of record: the panel's where it changed the auditor's (beside it).
            "Overall": _rating_key(sub.overall_rating),
            "Auditor's overall": _rating_key(record.auditor_rating),
            "Practitioner agreement": (
                sub.practitioner_agreement.value if sub.practitioner_agreement else "Not recorded"
            ),
            "Referral": ("Open" if record.referral_open else "Resolved" if record.referred else ""),
            "Moderation": "Not sampled" if selected is None else "Selected" if selected else "No",
            "Panel rating": outcome.rating.value if outcome else "",
            "Panel outcome": compare(record.auditor_rating, outcome.rating) if outcome else "",
            "Panel changed": panel_changes(record, rubric),
            "Actions": sum(1 for a in sub.actions if a.action.strip()),
            "Actions overdue": standing.count(OVERDUE),
            "Actions done": sum(s.startswith("Done") for s in standing),
            "Family feedback": "Yes" if sub.feedback else "No",
            "Storyboard": "Yes" if sub.storyboard_title.strip() else "No",
        }
    )
    return row
