"""The Word summary of the activity report for the senior management team."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..models import Rating
from ..render import packaged_templates_dir, render_document
from .escalations import Referral
from .figures import Distribution, Figures
from .progress import ProgrammeFigures
from .report_xlsx import long_date, period_text

TEMPLATE_NAME = "activity_report.docx"
SECTION_BAR = 38  # characters of the full-width bar in the section table
MONTH_BAR = 52  # characters of the busiest month's bar
_BAR_KEYS = {
    "outstanding": Rating.OUTSTANDING.value,
    "good": Rating.GOOD.value,
    "ri": Rating.REQUIRES_IMPROVEMENT.value,
    "inadequate": Rating.INADEQUATE.value,
}
BLOCK = "█"


def pct(value: float | None) -> str:
    """Return ``44%``, or a dash when there is nothing to divide by."""
    return "–" if value is None else f"{round(value * 100)}%"


def bar(counts: dict[str, int], width: int) -> dict[str, str]:
    """Return the four coloured runs of a stacked bar ``width`` characters long in total.

    Each rating gets a share of ``width`` in proportion to its count (largest remainder), so
    the runs always add up to ``width`` exactly.
    """
    values = {key: counts.get(rating, 0) for key, rating in _BAR_KEYS.items()}
    total = sum(values.values())
    if total == 0 or width <= 0:
        return dict.fromkeys(_BAR_KEYS, "")
    exact = {key: v * width / total for key, v in values.items()}
    sizes = {key: int(x) for key, x in exact.items()}
    left = width - sum(sizes.values())
    for key in sorted(exact, key=lambda k: (sizes[k] - exact[k], list(_BAR_KEYS).index(k)))[:left]:
        sizes[key] += 1
    return {key: BLOCK * n for key, n in sizes.items()}


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _lead(figures: Figures) -> str:
    if figures.empty:
        drafts = (
            f" {_plural(figures.drafts_in_progress, 'audit')} of the period "
            f"{'is' if figures.drafts_in_progress == 1 else 'are'} still at Draft stage."
            if figures.drafts_in_progress
            else ""
        )
        return (
            f"No audits were finalised in this period, so there are no figures to report.{drafts}"
        )
    o = figures.overall
    return (
        f"{_plural(figures.audits, 'audit was', 'audits were')} finalised in this period. "
        f"{pct(o.pct_good_or_better)} of the audits graded overall were rated Good or better and "
        f"{pct(o.pct_inadequate)} Inadequate. "
        f"{_plural(figures.actions['Overdue'], 'open SMART action')} "
        f"{'is' if figures.actions['Overdue'] == 1 else 'are'} past the due date and "
        f"{_plural(figures.referrals_open, 'referral')} to the Head of Quality Assurance "
        f"{'is' if figures.referrals_open == 1 else 'are'} still open."
    )


def _section_row(d: Distribution) -> dict[str, Any]:
    return {
        "name": d.name,
        "graded": d.rated,
        "good_or_better": pct(d.pct_good_or_better),
        "inadequate": pct(d.pct_inadequate),
        "bar": bar(d.counts, SECTION_BAR),
    }


def _agreement_text(figures: Figures) -> str:
    a = figures.agreement
    if figures.empty:
        return "There were no finalised audits, so no practitioner views to report."
    text = (
        f"Of the {_plural(figures.audits, 'audit')}, the practitioner agreed with "
        f"{a['Agree']}, partly agreed with {a['Partly agree']} and disagreed with "
        f"{a['Disagree']}."
    )
    if a["Not recorded"]:
        text += f" The practitioner's view was not recorded in {a['Not recorded']}."
    return text


def _referrals_text(figures: Figures, referrals: Sequence[Referral]) -> str:
    if not figures.referrals:
        return "No audit was referred to the Head of Quality Assurance in this period."
    still = [r.audit_ref for r in referrals if r.is_open]
    text = (
        f"{_plural(figures.referrals, 'audit was', 'audits were')} referred to the Head of "
        f"Quality Assurance because the practitioner disagreed; "
        f"{figures.referrals - figures.referrals_open} "
        f"{'has' if figures.referrals - figures.referrals_open == 1 else 'have'} been resolved "
        f"and {figures.referrals_open} {'is' if figures.referrals_open == 1 else 'are'} open"
    )
    if still:
        shown = ", ".join(still[:12]) + (" and others" if len(still) > 12 else "")
        text += f" ({shown})"
    return text + "."


def _moderation_text(figures: Figures, percent: float) -> str:
    m = figures.moderation
    if not m.eligible and not m.recorded:
        return (
            "No audit of the types sampled for the moderation panel (Thematic and Practice "
            "Week) was finalised in this period."
        )
    text = (
        f"{_plural(m.eligible, 'audit was', 'audits were')} of the types sampled for the "
        f"moderation panel; {m.selected} {'was' if m.selected == 1 else 'were'} selected "
        f"(the configured share is {percent:g}%)."
    )
    if m.recorded:
        text += (
            f" The panel has recorded {_plural(m.recorded, 'outcome')}: it gave the auditor's "
            f"overall rating in {m.agreed} ({pct(m.pct_agreed)}), rated higher in {m.higher} "
            f"and lower in {m.lower}."
        )
    else:
        text += " The panel has not recorded any outcome yet."
    return text


def _actions_text(figures: Figures) -> str:
    a = figures.actions
    if not figures.actions_total:
        return "The audits of this period set no SMART actions."
    still_open = a["Overdue"] + a["Due soon"] + a["Not yet due"] + a["No due date"]
    return (
        f"The audits set {_plural(figures.actions_total, 'SMART action')}. On "
        f"{long_date(figures.as_of)}, {a['Done on time']} had been done on time, "
        f"{a['Done late']} done late and {a['Dropped']} dropped as no longer needed; of the "
        f"{still_open} still open, {a['Overdue']} {'was' if a['Overdue'] == 1 else 'were'} "
        f"past the due date, {a['Due soon']} due within four weeks, {a['Not yet due']} due "
        f"later and {a['No due date']} had no due date. The Teams table shows where the "
        "overdue actions are and how many each team has done."
    )


def _programme_text(programme: ProgrammeFigures | None) -> str:
    if programme is None or programme.empty:
        return "No audits were planned in the programme for this period."
    t = programme.total
    return (
        f"{_plural(t.planned, 'audit was', 'audits were')} planned for this period. On "
        f"{long_date(programme.as_of)}, {t.completed} {'was' if t.completed == 1 else 'were'} "
        f"completed (Final), {t.in_progress} in progress, {t.late} late (not Final by the end "
        f"of the planned month) and {t.not_started} not started yet."
    )


def context(
    figures: Figures,
    referrals: Sequence[Referral],
    *,
    marking: str,
    percent: float,
    programme: ProgrammeFigures | None = None,
) -> dict[str, Any]:
    """Return every value the Word template shows."""
    busiest = max((m.audits for m in figures.by_month), default=0)
    stories = figures.storyboards
    return {
        "marking": marking,
        "period": period_text(figures),
        "produced": long_date(figures.as_of),
        "lead": _lead(figures),
        "headline": [
            {"label": label, "value": value}
            for label, value in (
                ("Audits finalised", figures.audits),
                ("Audits still at Draft stage", figures.drafts_in_progress),
                ("Rated Good or better overall", pct(figures.overall.pct_good_or_better)),
                ("Rated Inadequate overall", pct(figures.overall.pct_inadequate)),
                ("Referred to the Head of QA (practitioner disagreed)", figures.referrals),
                ("Referrals still open", figures.referrals_open),
                ("Family feedback given", figures.family_feedback),
                ("Storyboards of good practice", len(stories)),
                ("SMART actions set", figures.actions_total),
                ("Actions past their due date", figures.actions["Overdue"]),
                ("Selected for the moderation panel", figures.moderation.selected),
                ("Panel agreed with the auditor", pct(figures.moderation.pct_agreed)),
            )
        ],
        "ratings_intro": (
            "How auditors graded each section, as a share of the audits that graded it "
            "(Not applicable and blank sections are left out)."
        ),
        "sections": [_section_row(d) for d in (*figures.sections, figures.overall)],
        "bar_note": "" if figures.empty else "Bars show the share of graded audits.",
        "months": [
            {
                "label": m.label,
                "audits": m.audits,
                "good_or_better": pct(m.overall.pct_good_or_better),
                "bar": bar(
                    m.overall.counts, round(MONTH_BAR * m.audits / busiest) if busiest else 0
                ),
            }
            for m in figures.by_month
        ],
        "months_note": (
            f"Bars are scaled to the busiest month ({_plural(busiest, 'audit')}) and coloured by "
            "overall rating."
            if busiest
            else "No audits were finalised in any month of the period."
        ),
        "types": [{"name": name, "count": n} for name, n in figures.by_type],
        "teams": [
            {
                "team": t.team,
                "audits": t.audits,
                "good_or_better": t.good_or_better,
                "inadequate": t.inadequate,
                "disagreements": t.disagreements,
                "overdue": t.overdue,
                "done": f"{t.done} of {t.actions - t.dropped}",
            }
            for t in figures.by_team
        ],
        "agreement_text": _agreement_text(figures),
        "referrals_text": _referrals_text(figures, referrals),
        "moderation_text": _moderation_text(figures, percent),
        "actions_text": _actions_text(figures),
        "programme_text": _programme_text(programme),
        "programme_months": [
            {
                "label": g.group,
                "planned": g.planned,
                "completed": g.completed,
                "in_progress": g.in_progress,
                "late": g.late,
                "not_started": g.not_started,
            }
            for g in (programme.by_month if programme is not None else ())
        ],
        "themes_intro": (
            "The phrases and words that recur most in the audits' areas for development "
            "(overall and per section), counted once per audit; common words and children's "
            "names are left out."
            if figures.theme_phrases or figures.theme_words
            else "No word or phrase recurs in more than one audit's areas for development."
        ),
        "theme_phrases": [{"text": t, "count": n} for t, n in figures.theme_phrases],
        "theme_words": [{"text": t, "count": n} for t, n in figures.theme_words],
        "storyboards_intro": (
            f"{_plural(len(stories), 'storyboard was', 'storyboards were')} written in the "
            "period, to share good practice across the service."
            if stories
            else "No storyboards were written in the period."
        ),
        "storyboards": [{"title": s.title, "team": s.team, "worker": s.worker} for s in stories],
    }


def template_path(settings: Settings) -> Path:
    """Return the template: the QA unit's copy in ``render.templates_dir``, else the standard."""
    override = settings.render.templates_dir
    if override is not None and (Path(override) / TEMPLATE_NAME).is_file():
        return Path(override) / TEMPLATE_NAME
    return packaged_templates_dir() / TEMPLATE_NAME


def write_summary(
    dest: Path,
    figures: Figures,
    referrals: Sequence[Referral],
    *,
    settings: Settings,
    now: dt.datetime | None = None,
    programme: ProgrammeFigures | None = None,
) -> Path:
    """Write the Word summary to ``dest`` and return it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    values = context(
        figures,
        referrals,
        marking=settings.render.marking,
        percent=settings.oversight.moderation_percent,
        programme=programme,
    )
    render_document(template_path(settings), values, dest, now)
    return dest
