"""Rules on dates: none in the future, the period reviewed, the reflective discussion."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Finding
from .check import ERROR, WARNING, Check, date_text

DATE_FIELDS: tuple[str, ...] = (
    "review_period_start",
    "review_period_end",
    "discussion_date",
    "audit_date",
)


def dates_not_in_future(c: Check) -> Iterator[Finding]:
    """No audit date lies after today."""
    for name in DATE_FIELDS:
        value = getattr(c.sub, name)
        if value is not None and value > c.today:
            code = "dates.audit_future" if name == "audit_date" else "dates.future"
            yield c.at(
                code,
                ERROR,
                f"{c.label(name)} is {date_text(value)}, which is in the future. "
                "Check the day, month and year.",
                name,
            )


def review_period(c: Check) -> Iterator[Finding]:
    """The case files reviewed cover the guide's period (the rubric's limits), before the audit."""
    start, end, audit = (
        c.past("review_period_start"),
        c.past("review_period_end"),
        c.past("audit_date"),
    )
    if start and end and start > end:
        yield c.at(
            "dates.review_order",
            ERROR,
            f"{c.label('review_period_start')} ({date_text(start)}) is after "
            f"{c.label('review_period_end')} ({date_text(end)}). Check both dates.",
            "review_period_end",
        )
        return
    if end and audit and end > audit:
        yield c.at(
            "dates.review_after_audit",
            ERROR,
            f"{c.label('review_period_end')} ({date_text(end)}) is after the "
            f"{c.label('audit_date')} ({date_text(audit)}). The period reviewed must end on or "
            "before the audit.",
            "review_period_end",
        )
    if start and end:
        months = ((end - start).days + 1) / (365.25 / 12)
        low, high = c.limits.review_period_range
        if not low - 0.05 <= months <= high + 0.05:
            yield c.at(
                "dates.review_period",
                WARNING,
                f"The case files reviewed cover about {round(months)} months "
                f"({date_text(start)} to {date_text(end)}). The guide asks for the last "
                f"{c.limits.review_period_months} months ({low} to {high} months is accepted): "
                "check the two dates.",
                "review_period_start",
            )


def discussion(c: Check) -> Iterator[Finding]:
    """The case discussion falls between the period start and the audit, and is not too long."""
    when, start, audit = (
        c.past("discussion_date"),
        c.past("review_period_start"),
        c.past("audit_date"),
    )
    if when and ((start and when < start) or (audit and when > audit)):
        yield c.at(
            "dates.discussion_outside",
            ERROR,
            f"{c.label('discussion_date')} ({date_text(when)}) should fall between "
            f"{c.label('review_period_start')} and the {c.label('audit_date')}. "
            "Check the dates.",
            "discussion_date",
        )
    minutes, longest = c.sub.discussion_minutes, c.limits.discussion_max_minutes
    if minutes is not None and minutes <= 0:
        yield c.at(
            "dates.discussion_minutes",
            ERROR,
            f"{c.label('discussion_minutes')} must be a number of minutes above 0.",
            "discussion_minutes",
        )
    elif minutes is not None and minutes > longest:
        yield c.at(
            "dates.discussion_long",
            WARNING,
            f"The case discussion lasted {minutes} minutes. The guide asks for no longer than "
            f"{longest}: check the length is right.",
            "discussion_minutes",
        )
