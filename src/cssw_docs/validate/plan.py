"""Rules on the SMART audit plan: each action checkable, low sections served, gaps followed up."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ..models import Action, Finding, Severity
from ..rules import decision_due, needs_action, referred_to_head_of_qa
from .check import ERROR, WARNING, Check, add_months, date_text, filled, words


def _is_blank(a: Action) -> bool:
    return not any(filled(v) for v in (a.action, a.section, a.owner, a.due, a.measure))


def plan_actions(c: Check) -> Iterator[Finding]:
    """Every action is specific, has a section, an owner, a due date and a success measure."""
    actions = [a for a in c.sub.actions if not _is_blank(a)]
    for number, a in enumerate(actions, start=1):
        yield from _one_action(c, number, a)


def _one_action(c: Check, number: int, a: Action) -> Iterator[Finding]:
    which = f"Action {number} in the audit plan"

    def at(code: str, severity: Severity, message: str, header: str) -> Finding:
        return c.in_table(code, severity, f"{which} {message}", "AuditPlan", a.row, header)

    if not a.action.strip():
        yield at("plan.no_action", ERROR, "says nothing to do. Write the action.", "Action")
    elif is_vague(c, a.action):
        yield at(
            "plan.vague",
            WARNING,
            "is vague. Say exactly what will be done, so it can be checked "
            "(not “continue to monitor” or “ongoing”).",
            "Action",
        )
    if not a.section.strip():
        yield at(
            "plan.no_section", ERROR, "has no section. Choose the section it improves.", "Section"
        )
    elif c.rubric.section_key_for(a.section) is None:
        yield at(
            "plan.no_section",
            ERROR,
            "names a section that is not one of the rated sections. Choose one of: "
            f"{', '.join(s.name for s in c.rubric.sections)}.",
            "Section",
        )
    if not a.owner.strip():
        yield at("plan.no_owner", ERROR, "has no owner. Write who will do it.", "Owner")
    yield from _action_due(c, a, at)
    if not a.measure.strip():
        yield at(
            "plan.no_measure",
            ERROR,
            "has no success measure. Write how everyone will know it is done.",
            "Success measure",
        )


def _action_due(c: Check, a: Action, at: Callable[..., Finding]) -> Iterator[Finding]:
    audit, horizon = c.sub.audit_date, c.limits.action_due_within_months
    if a.due is None:
        yield at("plan.no_due", ERROR, "has no due date. Write when it will be done.", "Due date")
    elif audit is not None and a.due < audit:
        yield at(
            "plan.due_before_audit",
            ERROR,
            f"is due on {date_text(a.due)}, before the {c.label('audit_date')} "
            f"({date_text(audit)}). Choose a due date on or after the audit.",
            "Due date",
        )
    elif audit is not None and a.due > add_months(audit, horizon):
        yield at(
            "plan.due_far",
            WARNING,
            f"is due on {date_text(a.due)}, more than {horizon} months after the audit. "
            "Check the date, or split the action into nearer steps.",
            "Due date",
        )


def is_vague(c: Check, text: str) -> bool:
    """Return True when an action is too short or uses wording that cannot be checked."""
    folded = " ".join(text.casefold().split())
    if len(words(text)) < c.limits.action_min_words:
        return True
    return any(re.search(rf"\b{re.escape(p.casefold())}\b", folded) for p in c.limits.vague_phrases)


def plan_covers_sections(c: Check) -> Iterator[Finding]:
    """Every section rated Requires improvement or Inadequate has at least one action."""
    served = {c.rubric.section_key_for(a.section) for a in c.sub.actions if a.section.strip()}
    for s in c.sub.rated_sections:
        if needs_action(s.rating) and s.key not in served:
            name = c.section_name(s.key)
            yield Finding(
                "plan.missing_for_section",
                ERROR,
                f"{name} is rated {s.rating}, but the audit plan has no action for it. Add at "
                f"least one action to the audit plan with Section “{name}”.",
                c.sub.where("AuditPlan"),
            )


def gaps_followed_up(c: Check) -> Iterator[Finding]:
    """At Final, a compliance gap not yet addressed is picked up by an action in the plan."""
    if not c.final:
        return
    plan_text = " ".join(a.action for a in c.sub.actions).casefold()
    gaps = [g for g in c.sub.gaps if filled(g.area) or filled(g.gap)]
    for number, g in enumerate(gaps, start=1):
        mentioned = bool(g.area.strip()) and g.area.strip().casefold() in plan_text
        if g.addressed is not True and not mentioned:
            yield c.in_table(
                "gaps.unaddressed",
                WARNING,
                f"Compliance gap {number} is not marked as addressed and no action in the audit "
                "plan mentions it. The guide expects gaps to be addressed before the audit is "
                "finalised: set Addressed to Yes, or add an action for it to the audit plan.",
                "ComplianceGaps",
                g.row,
                "Addressed",
            )


def plan_waits_for_decision(c: Check) -> Iterator[Finding]:
    """A disputed Final audit's actions fall due after the Head of QA can have decided.

    The guide: the audit and the proposed plan are reviewed by the Head of Quality Assurance
    "before any final decision is made", so the plan is not agreed until then.
    """
    if not (c.final and referred_to_head_of_qa(c.sub)):
        return
    due = decision_due(c.today, c.limits.head_of_qa_working_days)
    actions = [a for a in c.sub.actions if not _is_blank(a)]
    for number, a in enumerate(actions, start=1):
        if a.due is not None and a.due < due:
            yield c.in_table(
                "plan.due_before_decision",
                WARNING,
                f"Action {number} in the audit plan is due on {date_text(a.due)}, before the "
                "Head of Quality Assurance is asked to decide on the disputed audit (by "
                f"{date_text(due)}). The plan is agreed only after that decision: choose a "
                f"due date on or after {date_text(due)}.",
                "AuditPlan",
                a.row,
                "Due date",
            )
