"""A fictional ledger of varied audits for demos, the documentation's pictures and the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sqlite3
from dataclasses import dataclass

from .. import examples
from ..models import (
    Action,
    Agreement,
    FeedbackResponse,
    Rating,
    SectionAssessment,
    Stage,
    StoryboardStatus,
    Submission,
    submission_to_dict,
)
from ..rubric import Rubric
from ..store import audits as audit_store
from .moderation import selection_for

TEAMS = (
    "Front Door (MASH)",
    "Family Support & Intervention Team 1",
    "Family Support & Intervention Team 3",
    "Children in Care Team",
    "Disabled Children's Service",
)
AUDITORS = ("Priya Natarajan", "Daniel Osei", "Hannah Kowalski", "Marcus Reid")
WORKERS = (
    "Tom Baxter",
    "Aisha Rahman",
    "Liam O'Connor",
    "Zara Ahmed",
    "Ben Fletcher",
    "Ruth Adeyemi",
)
CHILDREN = ("Amara Okafor", "Leo Brennan", "Maya Singh", "Kai Thompson", "Sofia Rossi")
THEMES = (
    "Neglect and the lived experience of the child",
    "Voice of the child in planning",
    "Domestic abuse and safety planning",
)
DEVELOPMENT = (
    "The chronology has not been updated since the spring.",
    "Father's views are not recorded in the assessment.",
    "Management oversight is not evident on the case file.",
    "Case notes are not recorded within two working days.",
    "The plan does not set clear timescales for the family.",
    "Direct work with the child should be recorded in the child's own words.",
    "Supervision records are not reflective and actions are not followed up.",
)
_WEIGHTED_OVERALL = (
    (Rating.OUTSTANDING, 1),
    (Rating.GOOD, 5),
    (Rating.REQUIRES_IMPROVEMENT, 4),
    (Rating.INADEQUATE, 2),
)


@dataclass(frozen=True)
class LedgerRow:
    """One row of the ``audits`` table: a processed version of an audit."""

    submission: Submission
    version: int
    processed_at: dt.datetime
    moderation_selected: bool | None

    @property
    def stage(self) -> Stage:
        """Return the version's stage."""
        return self.submission.audit_stage or Stage.DRAFT


def _pick_rating(rng: random.Random) -> Rating:
    ratings, weights = zip(*_WEIGHTED_OVERALL, strict=True)
    return rng.choices(ratings, weights)[0]


def _sections(
    base: Submission, rng: random.Random, overall: Rating
) -> tuple[SectionAssessment, ...]:
    out = []
    for s in base.sections:
        roll = rng.random()
        if roll < 0.05:
            rating: Rating | None = Rating.NOT_APPLICABLE
        elif roll < 0.08:
            rating = None
        elif roll < 0.6:
            rating = overall
        else:
            rating = _pick_rating(rng)
        development = rng.choice(DEVELOPMENT) if rating is not None and rng.random() < 0.3 else ""
        out.append(dataclasses.replace(s, rating=rating, development=development))
    return tuple(out)


def _actions(rng: random.Random, day: dt.date, owner: str, manager: str) -> tuple[Action, ...]:
    actions = []
    for i in range(rng.randint(0, 4)):
        due = None if rng.random() < 0.1 else day + dt.timedelta(days=rng.randint(14, 200))
        actions.append(
            Action(
                f"Action {i + 1}: bring the record up to date and discuss it in supervision.",
                rng.choice(("Basic information", "Assessment", "Planning", "Review")),
                rng.choice((owner, manager)),
                due,
                "Checked by the manager in supervision.",
            )
        )
    return tuple(actions)


def audits(
    rubric: Rubric,
    count: int = 60,
    *,
    seed: int = 6,
    start: dt.date = dt.date(2026, 1, 5),
    days: int = 330,
    percent: float = 20.0,
) -> list[LedgerRow]:
    """Return ledger rows for ``count`` fictional audits dated over ``days`` from ``start``.

    Most audits have one Final version; some are still Draft, some have a Draft before their
    Final, and some have a second Final version in which a disagreeing practitioner now agrees.
    """
    rng = random.Random(seed)
    base = examples.good(rubric)
    rows: list[LedgerRow] = []
    for n in range(1, count + 1):
        day = start + dt.timedelta(days=rng.randrange(days))
        kind = rng.choices(rubric.audit_types, (2, 5, 2, 3))[0]
        overall = _pick_rating(rng)
        child = rng.choice(CHILDREN)
        first = child.split()[0]
        worker = rng.choice(WORKERS)
        development = rng.sample(DEVELOPMENT, rng.randint(1, 3))
        if rng.random() < 0.3:
            development.append(f"{first}'s views are not recorded in the plan.")
        good = overall.good_or_better
        sub = dataclasses.replace(
            base,
            audit_ref=f"CSSW-{day.year}-{n:04d}",
            audit_type=kind.name,
            audit_theme=rng.choice(THEMES) if kind.requires_theme else "",
            audit_stage=Stage.FINAL,
            audit_date=day,
            discussion_date=day - dt.timedelta(days=rng.randint(1, 10)),
            child_name=child,
            child_mosaic_id=f"M{rng.randrange(10**6, 10**7)}",
            team=rng.choice(TEAMS),
            auditor_name=rng.choice(AUDITORS),
            practitioner_name=worker,
            overall_rating=overall,
            areas_for_development="\n".join(development),
            practitioner_agreement=rng.choices(list(Agreement), (5, 2, 2))[0],
            sections=_sections(base, rng, overall),
            actions=_actions(rng, day, worker, base.manager_name),
            feedback=base.feedback if rng.random() < 0.6 else (),
            storyboard_title=(
                f"Storyboard {n}: {rng.choice(THEMES).lower()}"
                if good and rng.random() < 0.5
                else ""
            ),
        )
        if not sub.feedback and rng.random() < 0.5:
            sub = dataclasses.replace(sub, feedback=(FeedbackResponse("Father", 1, "Fine."),))
        processed = dt.datetime.combine(day, dt.time(9, 0), dt.UTC) + dt.timedelta(days=7)
        selected = selection_for(sub, rubric, percent)
        roll = rng.random()
        if roll < 0.1:  # still at Draft
            draft = dataclasses.replace(sub, audit_stage=Stage.DRAFT)
            rows.append(LedgerRow(draft, 1, processed, None))
            continue
        if roll < 0.3:  # a Draft went out before the Final
            draft = dataclasses.replace(sub, audit_stage=Stage.DRAFT)
            rows.append(LedgerRow(draft, 1, processed - dt.timedelta(days=5), None))
        rows.append(LedgerRow(sub, 1, processed, selected))
        if sub.practitioner_agreement is Agreement.DISAGREE and rng.random() < 0.4:
            agreed = dataclasses.replace(sub, practitioner_agreement=Agreement.PARTLY_AGREE)
            rows.append(LedgerRow(agreed, 2, processed + dt.timedelta(days=6), selected))
    return rows


def write(conn: sqlite3.Connection, rows: list[LedgerRow]) -> None:
    """Insert ``rows`` into the ledger's ``audits`` table."""
    audit_store.record_audits(
        conn,
        (
            {
                "audit_ref": r.submission.audit_ref,
                "stage": r.stage,
                "version": r.version,
                "job_id": f"job-{r.submission.audit_ref}-{r.stage.value}-{r.version}",
                "source_sha256": "0" * 64,
                "processed_at": r.processed_at.isoformat(timespec="seconds"),
                "audit_date": r.submission.audit_date.isoformat()
                if r.submission.audit_date
                else None,
                "data": submission_to_dict(r.submission),
                "pack_dir": f"outbox/{r.submission.audit_ref}/{r.stage.value}-v{r.version}",
                "moderation_selected": r.moderation_selected,
            }
            for r in rows
        ),
    )


# Fictional storyboards: (title, context, what we did, impact, voice, learning). No names.
STORIES = (
    (
        "Three houses, one plan: putting a child's words at the centre",
        "A primary-school child and her younger brother were referred by their school because "
        "of poor attendance and worries about the home.",
        "The social worker used the 'three houses' tool so the child could say what worried "
        "her, what was going well and what she hoped for.\nA family network meeting brought "
        "grandmother in as a daily support.",
        "School attendance rose from 71% to 94%. Mother says she feels 'listened to, not judged'.",
        '"My worried house is smaller now." (child, aged 9)\n"You helped me ask my mum for '
        'help." (mother)',
        "Simple direct-work tools, used early, give children a voice that changes the plan.",
    ),
    (
        "Finding dad: a family network built around one boy",
        "A boy aged 7 needed a safe home when his mother became unwell and went into hospital.",
        "The social worker traced the father within two weeks and met him six times to build "
        "trust before any plan was made.\nThe boy drew his own 'safety circle'.",
        "The boy now lives safely with his father and keeps regular contact with his mother.",
        '"I have two houses full of people who love me." (child, aged 7)',
        "Never assume a father cannot be found or will not step up.",
    ),
    (
        "A seat at the table: a teenager chairs her own review",
        "A 15-year-old girl in care felt that meetings were about her, not with her.",
        "Her worker planned each review with her beforehand, in a café she chose, and helped "
        "her write the agenda.\nShe chaired the second half of her own review.",
        "She has stayed in her placement for a year, the longest ever, and is back at college.",
        '"For once the adults waited for me to finish." (young person, aged 15)',
        "Young people can lead their own meetings when we plan them together.",
    ),
    (
        "Safe at home: a safety plan the whole family wrote",
        "A mother and three children were referred after police were called to the home.",
        "The worker met the mother on her own, then with her sister, and together they wrote a "
        "safety plan in the family's first language.\nThe children's school joined the plan.",
        "There have been no further incidents in nine months and the children say they feel safe.",
        '"I know what to do now if I am scared." (child, aged 10)\n"She never gave up on us." '
        "(mother)",
        "Plans written with the family, in their own words and language, are the ones they keep.",
    ),
    (
        "Small steps: a disabled child's first overnight stay",
        "A boy with complex health needs had never spent a night away from his parents, who "
        "were exhausted.",
        "The worker arranged six short visits to a short-breaks home before the first night, "
        "with his favourite music and food.",
        "He now enjoys two nights a month away, and his parents have had their first rest in "
        "years.",
        '"He came home smiling." (father)',
        "Take transitions at the child's pace: short visits first make overnight stays work.",
    ),
)


def storyboards(rows: list[LedgerRow], *, seed: int = 14, external: float = 0.5) -> list[LedgerRow]:
    """Return ``rows`` with a storyboard on the Good and Outstanding Final audits.

    Most are Completed (with consent to share outside the service for about ``external`` of
    them); some are Invited or Declined; every other audit has none (Not yet, no text). A
    second version of an audit keeps its first version's storyboard.
    """
    rng = random.Random(seed)
    chosen: dict[str, tuple[StoryboardStatus, int, bool]] = {}
    out = []
    for row in rows:
        sub = row.submission
        good = sub.overall_rating is not None and sub.overall_rating.good_or_better
        if not good or row.stage is not Stage.FINAL:
            sub = dataclasses.replace(
                sub,
                storyboard_status=StoryboardStatus.NOT_YET if good else None,
                storyboard_title="",
                storyboard_context="",
                storyboard_what_we_did="",
                storyboard_impact="",
                storyboard_voice="",
                storyboard_learning="",
                storyboard_consent=None,
                storyboard_consent_external=None,
                storyboard_anonymised=None,
            )
            out.append(dataclasses.replace(row, submission=sub))
            continue
        if sub.audit_ref not in chosen:
            roll = rng.random()
            status = (
                StoryboardStatus.COMPLETED
                if roll < 0.85
                else StoryboardStatus.INVITED
                if roll < 0.93
                else StoryboardStatus.DECLINED
            )
            chosen[sub.audit_ref] = (status, rng.randrange(len(STORIES)), rng.random() < external)
        status, story, outside = chosen[sub.audit_ref]
        title, context, did, impact, voice, learning = STORIES[story]
        written = status is StoryboardStatus.COMPLETED
        sub = dataclasses.replace(
            sub,
            storyboard_status=status,
            storyboard_title=title if written else "",
            storyboard_context=context if written else "",
            storyboard_what_we_did=did if written else "",
            storyboard_impact=impact if written else "",
            storyboard_voice=voice if written else "",
            storyboard_learning=learning if written else "",
            storyboard_consent=True if written else None,
            storyboard_consent_external=outside if written else None,
            storyboard_anonymised=True if written else None,
        )
        out.append(dataclasses.replace(row, submission=sub))
    return out
