"""Commands: moderation, escalations, actions and report (quality-assurance oversight)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .. import clock
from ..models import ActionStatus, ReferralOutcome
from ..oversight import actions as actions_mod
from ..oversight import escalations as escalations_mod
from ..oversight import records as records_mod
from ..oversight import report as report_mod
from ..oversight import report_xlsx
from ..oversight.figures import compare
from ..render import RenderError
from ..store.schema import SchemaError
from ..workbook.parse import parse_date
from ..year import actions as year_actions
from .common import Context, pass_context, progress_bar, quiet_option


class DateParam(click.ParamType):
    """A date written as the workbook accepts one: dd/mm/yyyy, yyyy-mm-dd, 31 March 2026."""

    name = "DATE"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            day = parse_date(text)
        except (ValueError, OverflowError):
            day = None
        if day is None:
            self.fail(
                f"{text!r} is not a date. Write it as dd/mm/yyyy, e.g. 31/03/2026.", param, ctx
            )
        return day


DATE = DateParam()


def _uk(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


@contextmanager
def _ledger(obj: Context) -> Iterator[sqlite3.Connection]:
    """Yield the ledger named by the settings; oversight errors become one plain sentence."""
    obj.check_ledger()
    try:
        conn = records_mod.open_existing(records_mod.ledger_path(obj.settings))
    except (records_mod.OversightError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.Error as exc:
        raise click.ClickException(
            f"The ledger could not be read ({exc}). If the service is busy, try again in a minute."
        ) from exc
    try:
        yield conn
    except records_mod.OversightError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()


def _require_ledger(obj: Context) -> None:
    """Stop with a plain sentence unless the ledger exists and can be read."""
    with _ledger(obj):
        pass


def _period(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise click.ClickException(
            f"--from ({_uk(start)}) is after --to ({_uk(end)}). Swap the dates."
        )


# --- moderation ---------------------------------------------------------------------------------


@click.group()
def moderation() -> None:
    """The moderation panel's sample of Thematic and Practice Week audits, and its outcomes."""


def _panel_state(record: records_mod.AuditRecord) -> str:
    """Return where an audit stands with the panel: selected, scheduled or decided."""
    outcome = record.moderation
    if outcome is not None:
        return (
            f"decided {_uk(outcome.decided_on)} by {outcome.moderator}: "
            f"{outcome.rating.value} overall "
            f"({compare(record.auditor_rating, outcome.rating).lower()})"
        )
    if record.panel_date is not None:
        return f"scheduled for the panel on {_uk(record.panel_date)}"
    return "selected, no panel date yet"


@moderation.command("list")
@click.option("--from", "start", type=DATE, help="First audit date (dd/mm/yyyy).")
@click.option("--to", "end", type=DATE, help="Last audit date (dd/mm/yyyy).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), help="Also write a workbook.")
@pass_context
def moderation_list(
    obj: Context, start: dt.date | None, end: dt.date | None, xlsx: str | None
) -> None:
    """List the audits selected for the moderation panel: selected, scheduled and decided.

    Example: cssw-docs moderation list --from 01/04/2026 --to 30/06/2026 --xlsx panel.xlsx
    """
    _period(start, end)
    with _ledger(obj) as conn:
        records = [
            r
            for r in records_mod.load(conn, start, end).audits
            if r.moderation_selected or r.moderation is not None
        ]
    if not records:
        click.echo("No audits are selected for the moderation panel in this period.")
    for r in records:
        sub = r.submission
        ratings = ", ".join(
            f"{obj.rubric.section_name(s.key)} {s.rating.value if s.rating else 'not rated'}"
            for s in sub.sections
        )
        auditor = r.auditor_rating.value if r.auditor_rating else "not rated"
        click.echo(
            f"{sub.audit_ref}  {_uk(sub.audit_date)}  {sub.audit_type}  {sub.team}\n"
            f"    {_panel_state(r)}\n"
            f"    auditor {sub.auditor_name} rated it {auditor}; ratings of record: {ratings}"
        )
    if records:
        decided = sum(r.moderation is not None for r in records)
        scheduled = sum(r.moderation is None and r.panel_date is not None for r in records)
        click.echo(
            f"{len(records)} audit(s): {len(records) - decided - scheduled} selected without "
            f"a date, {scheduled} scheduled, {decided} decided."
        )
    if xlsx:
        path = report_xlsx.write_moderation_list(
            Path(xlsx),
            records,
            obj.rubric,
            mosaic_id=obj.settings.oversight.report_mosaic_id,
        )
        click.echo(f"Workbook for the panel written: {path}")


@moderation.command("schedule")
@click.argument("refs", nargs=-1)
@click.option("--date", "panel_date", type=DATE, required=True, help="The panel's date.")
@click.option(
    "--all-selected",
    is_flag=True,
    help="Every selected audit with no panel date or outcome yet.",
)
@pass_context
def moderation_schedule(
    obj: Context, refs: tuple[str, ...], panel_date: dt.date, all_selected: bool
) -> None:
    """Give audits a panel date and invite their auditor, worker and line manager.

    Example: cssw-docs moderation schedule CSSW-2026-0157 --date 07/12/2026
    (or --all-selected instead of references).
    """
    from .. import followup

    if not refs and not all_selected:
        raise click.UsageError("Name the audits to schedule, or give --all-selected.")
    _require_ledger(obj)
    try:
        done = followup.schedule_panel(obj.settings, refs, panel_date, all_selected=all_selected)
    except records_mod.OversightError as exc:
        raise click.ClickException(str(exc)) from exc
    if not done:
        click.echo("No selected audit is waiting for a panel date.")
    for item in done:
        extra = "" if item.selected else " (not in the moderation sample; scheduled anyway)"
        click.echo(
            f"{item.audit_ref}: panel on {_uk(item.panel_date)}{extra}; invitation queued to "
            "the auditor, the allocated worker and the line manager."
        )
    if done:
        click.echo(_SENT_BY)


@moderation.command("record")
@click.argument("ref")
@click.option("--rating", default=None, help="The panel's overall rating, where it changed it.")
@click.option(
    "--section",
    "sections",
    multiple=True,
    help='A section the panel rated differently, e.g. "Assessment=Good" (repeat as needed).',
)
@click.option("--note", required=True, help="The panel's reasons, in a sentence or two.")
@click.option(
    "--chair",
    "--moderator",
    "chair",
    default="",
    help="Who chaired the panel (default: Chair of the moderation panel).",
)
@click.option("--date", "panel_date", type=DATE, default=None, help="The panel's date.")
@pass_context
def moderation_record(
    obj: Context,
    ref: str,
    rating: str | None,
    sections: tuple[str, ...],
    note: str,
    chair: str,
    panel_date: dt.date | None,
) -> None:
    """Record the panel chair's decision on an audit: it is final.

    The panel's ratings become the audit's ratings of record in every figure, list and
    report (the auditor's are kept beside them); the auditor, practitioner and manager are
    told, and SMT too when a Good or Outstanding rating changes.
    Example: cssw-docs moderation record CSSW-2026-0142 --rating "Requires improvement"
    --chair "Dr A Chair" --note "Evidence of impact too thin for Outstanding"
    """
    from .. import followup

    _require_ledger(obj)
    try:
        done = followup.record_panel_outcome(
            obj.settings,
            obj.rubric,
            ref,
            rating=rating,
            sections=sections,
            note=note,
            chair=chair,
            panel_date=panel_date,
        )
    except records_mod.OversightError as exc:
        raise click.ClickException(str(exc)) from exc
    before, outcome = done.before, done.outcome
    extra = (
        ""
        if before.moderation_selected
        else " It was not in the moderation sample; the outcome is recorded anyway."
    )
    changed = "; ".join(done.changes) if done.changes else "the panel agreed with the auditor"
    click.echo(
        f"Recorded the panel's decision on {before.audit_ref}: {outcome.rating.value} overall "
        f"({compare(before.auditor_rating, outcome.rating).lower()}). {changed}.{extra}"
    )
    told = "the auditor, the practitioner and the manager"
    if done.corrected_good_practice:
        told += ", and a corrected good-practice notice to SMT"
    click.echo(f"Outcome queued to {told}. {_SENT_BY}")


_SENT_BY = "The intake service sends queued email, or run `cssw-docs mail send`."


# --- escalations --------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Include decided referrals.")
@click.pass_context
def escalations(ctx: click.Context, show_all: bool) -> None:
    """List the referrals to the Head of Quality Assurance (the practitioner disagreed).

    A referral waits for the Head of QA's decision, recorded with
    `cssw-docs escalations decide REF --outcome upheld|amended|replaced --note TEXT`,
    or for a revised workbook the practitioner agrees with.
    Example: cssw-docs escalations --all
    """
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    with _ledger(obj) as conn:
        records = records_mod.load(conn).audits
    found = escalations_mod.referrals(records, clock.today(), include_resolved=show_all)
    if not found:
        click.echo("No open referrals." if not show_all else "No referrals.")
        return
    for r in found:
        state = f"open {r.days_open} day(s)" if r.is_open else f"closed: {r.note}"
        click.echo(
            f"{r.audit_ref} v{r.version}  referred {_uk(r.referred_on)}  {state}\n"
            f"    {r.team}; auditor {r.auditor}; practitioner {r.practitioner}; "
            f"manager {r.manager}"
        )
    still_open = sum(r.is_open for r in found)
    click.echo(f"{still_open} open referral(s).")


OUTCOMES = [o.value for o in ReferralOutcome]


@escalations.command("decide")
@click.argument("ref")
@click.option(
    "--outcome",
    type=click.Choice(OUTCOMES, case_sensitive=False),
    required=True,
    help="upheld: the audit stands; amended: it stands with the changes in the note; "
    "replaced: a revised audit replaces it.",
)
@click.option("--note", required=True, help="The decision's reasons (and any amendments).")
@click.option("--by", "decided_by", default="", help="Who decided (default: Head of QA).")
@pass_context
def escalations_decide(obj: Context, ref: str, outcome: str, note: str, decided_by: str) -> None:
    """Record the Head of Quality Assurance's decision on a disputed audit, and act on it.

    Upheld or amended issues the final pack, with the decision in it, to everyone (and the
    supervision insert to the manager). Replaced asks the auditor for a revised workbook.
    Example: cssw-docs escalations decide CSSW-2026-0184 --outcome upheld
    --note "The rating stands: the plan on file was not updated" --by "Jo Head"
    """
    from .. import followup

    _require_ledger(obj)
    try:
        done = followup.decide_referral(
            obj.settings, obj.rubric, ref, ReferralOutcome(outcome.lower()), note, decided_by
        )
    except (records_mod.OversightError, RenderError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Decision recorded on {done.audit_ref} (version {done.version}): "
        f"{done.decision.outcome.value}."
    )
    if done.pack is not None:
        click.echo(
            f"Final pack (version {done.pack.version}) written to {done.pack.directory}; "
            f"{done.queued} email(s) queued. {_SENT_BY}"
        )
    elif done.decision.outcome is ReferralOutcome.REPLACED:
        click.echo(
            f"The auditor is asked for a revised workbook ({done.queued} email(s) queued); it "
            f"will be issued as final with this decision. {_SENT_BY}"
        )
    else:
        click.echo(
            "The referral is closed. This version was sent as final before decisions were "
            "recorded, so no new pack is issued."
        )


@escalations.command("resolve", hidden=True)
@click.argument("ref")
@click.option("--note", default="")
@click.option("--by", "resolved_by", default="")
def escalations_resolve(ref: str, note: str, resolved_by: str) -> None:
    """Replaced by `escalations decide`."""
    raise click.ClickException(
        "`escalations resolve` is replaced by `escalations decide`, which also issues the "
        f'final pack: cssw-docs escalations decide {ref} --outcome upheld --note "..."'
    )


# --- actions ------------------------------------------------------------------------------------


@click.group("actions", invoke_without_command=True)
@click.option("--team", default=None, help="Only teams whose name contains this text.")
@click.option("--overdue", is_flag=True, help="Only open actions past their due date.")
@click.option("--open", "open_only", is_flag=True, help="Only actions not done or dropped.")
@click.pass_context
def actions(ctx: click.Context, team: str | None, overdue: bool, open_only: bool) -> None:
    """List the SMART actions of every Final audit, earliest due first, with their status.

    An action is open until it is done or dropped (no longer needed): record that with
    `cssw-docs actions done REF N --by NAME` or `actions dropped REF N --by NAME --note WHY`,
    or by returning the supervision CSV with its Status column filled.
    Example: cssw-docs actions --team "Team 3" --overdue
    """
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    today = clock.today()
    with _ledger(obj) as conn:
        records = records_mod.load(conn).audits
        statuses = actions_mod.recorded(conn)
    found = actions_mod.tracked(records, today, team=team, overdue_only=overdue, statuses=statuses)
    if open_only:
        found = [a for a in found if a.is_open]
    if not found:
        filtered = team or overdue or open_only
        click.echo("No actions match." if filtered else "No actions are recorded yet.")
        return
    for a in found:
        click.echo(
            f"{_uk(a.due) or 'no due date':<11} {a.status:<12} {a.audit_ref} action {a.number}"
            f"  {a.team}\n    owner {a.owner or 'not named'}: {a.action}"
        )
        if a.closed is not None:
            said = f"{a.closed.status.value} {_uk(a.closed.on)}"
            by = f" by {a.closed.by}" if a.closed.by else ""
            note = f": {a.closed.note}" if a.closed.note else ""
            click.echo(f"    {said}{by}{note}")
    counts = actions_mod.counts(found)
    click.echo(
        f"{len(found)} action(s) on {_uk(today)}: "
        f"{sum(counts[s] for s in actions_mod.OPEN_STATUSES)} open "
        f"({counts[actions_mod.OVERDUE]} overdue), {counts['Done on time']} done on time, "
        f"{counts['Done late']} done late, {counts['Dropped']} dropped."
    )


def _close(
    obj: Context, ref: str, number: int, status: ActionStatus, by: str, note: str, on
) -> None:
    obj.check_ledger()
    try:
        found = year_actions.mark(obj.settings, ref, number, status, by=by, note=note, on=on)
    except records_mod.OversightError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{found.audit_ref} action {found.number} ({found.owner or 'owner not named'}, due "
        f"{_uk(found.due) or 'no date'}): {found.status}."
    )


@actions.command("done")
@click.argument("ref")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--by", "by", required=True, help="Who did it (or who says it is done).")
@click.option("--note", default="", help="Anything worth keeping about how it was done.")
@click.option("--on", "on", type=DATE, default=None, help="The day it was done (default today).")
@pass_context
def actions_done(obj: Context, ref: str, number: int, by: str, note: str, on) -> None:
    """Record action NUMBER of audit REF as done (numbers as in its audit plan).

    Example: cssw-docs actions done CSSW-2026-0142 2 --by "Sam Patel" --on 03/03/2027
    """
    _close(obj, ref, number, ActionStatus.DONE, by, note, on)


@actions.command("dropped")
@click.argument("ref")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--by", "by", required=True, help="Who decided it is no longer needed.")
@click.option("--note", required=True, help="Why the action is no longer needed.")
@click.option("--on", "on", type=DATE, default=None, help="The day it was decided (default today).")
@pass_context
def actions_dropped(obj: Context, ref: str, number: int, by: str, note: str, on) -> None:
    """Record action NUMBER of audit REF as no longer needed, with the reason.

    Example: cssw-docs actions dropped CSSW-2026-0142 3 --by "Sam Patel" --note "Case closed"
    """
    _close(obj, ref, number, ActionStatus.DROPPED, by, note, on)


# --- report -------------------------------------------------------------------------------------


@click.command("report")
@click.option("--from", "start", type=DATE, required=True, help="First audit date (dd/mm/yyyy).")
@click.option("--to", "end", type=DATE, required=True, help="Last audit date (dd/mm/yyyy).")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write: PATH.xlsx and PATH.docx.",
)
@quiet_option
@pass_context
def report(obj: Context, start: dt.date, end: dt.date, output: str, quiet: bool) -> None:
    """Write the audit activity report: a workbook and a Word summary.

    Example: cssw-docs report --from 01/04/2026 --to 30/06/2026 -o reports/2026-Q1
    writes reports/2026-Q1.xlsx and reports/2026-Q1.docx.
    """
    _period(start, end)
    try:
        with progress_bar("Activity report", quiet=quiet) as progress:
            written = report_mod.build(
                records_mod.ledger_path(obj.settings),
                obj.rubric,
                obj.settings,
                start=start,
                end=end,
                dest=Path(output),
                on_step=progress,
            )
    except (records_mod.OversightError, RenderError) as exc:
        raise click.ClickException(str(exc)) from exc
    except PermissionError as exc:
        raise click.ClickException(
            f"Cannot write {exc.filename}: it may be open in Excel or Word. Close it and try again."
        ) from exc
    figs = written.figures
    if figs.empty:
        click.echo(f"No audits were finalised between {_uk(start)} and {_uk(end)}.")
    else:
        click.echo(f"{figs.audits} audit(s) finalised between {_uk(start)} and {_uk(end)}.")
    click.echo(f"Workbook: {written.xlsx}")
    if written.docx:
        click.echo(f"Word summary: {written.docx}")


commands: list[click.Command] = [moderation, escalations, actions, report]
