"""Commands: moderation, escalations, actions and report (quality-assurance oversight)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..oversight import actions as actions_mod
from ..oversight import escalations as escalations_mod
from ..oversight import records as records_mod
from ..oversight import report as report_mod
from ..oversight import report_xlsx
from ..oversight.figures import compare
from ..render import RenderError
from ..store.schema import SchemaError
from ..workbook.parse import parse_date
from .common import Context, pass_context


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


def _period(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise click.ClickException(
            f"--from ({_uk(start)}) is after --to ({_uk(end)}). Swap the dates."
        )


# --- moderation ---------------------------------------------------------------------------------


@click.group()
def moderation() -> None:
    """The moderation panel's sample of Thematic and Practice Week audits, and its outcomes."""


@moderation.command("list")
@click.option("--from", "start", type=DATE, help="First audit date (dd/mm/yyyy).")
@click.option("--to", "end", type=DATE, help="Last audit date (dd/mm/yyyy).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), help="Also write a workbook.")
@pass_context
def moderation_list(
    obj: Context, start: dt.date | None, end: dt.date | None, xlsx: str | None
) -> None:
    """List the Final audits selected for the moderation panel.

    Example: cssw-docs moderation list --from 01/04/2026 --to 30/06/2026 --xlsx panel.xlsx
    """
    _period(start, end)
    with _ledger(obj) as conn:
        records = [r for r in records_mod.load(conn, start, end).audits if r.moderation_selected]
    if not records:
        click.echo("No audits are selected for the moderation panel in this period.")
    for r in records:
        sub = r.submission
        outcome = r.moderation
        panel = (
            f"panel: {outcome.rating.value} ({compare(sub.overall_rating, outcome.rating)})"
            if outcome
            else "panel: not yet recorded"
        )
        ratings = ", ".join(
            f"{obj.rubric.section_name(s.key)} {s.rating.value if s.rating else 'not rated'}"
            for s in sub.sections
        )
        click.echo(
            f"{sub.audit_ref}  {_uk(sub.audit_date)}  {sub.audit_type}  {sub.team}\n"
            f"    auditor {sub.auditor_name}; overall "
            f"{sub.overall_rating.value if sub.overall_rating else 'not rated'}; {panel}\n"
            f"    {ratings}"
        )
    if records:
        click.echo(f"{len(records)} audit(s) selected.")
    if xlsx:
        path = report_xlsx.write_moderation_list(
            Path(xlsx),
            records,
            obj.rubric,
            mosaic_id=obj.settings.oversight.report_mosaic_id,
        )
        click.echo(f"Workbook for the panel written: {path}")


@moderation.command("record")
@click.argument("ref")
@click.option("--rating", required=True, help="The panel's overall rating, e.g. Good.")
@click.option("--note", required=True, help="The panel's reasons, in a sentence or two.")
@click.option("--moderator", default="", help="Who chaired the panel (default: Moderation panel).")
@pass_context
def moderation_record(obj: Context, ref: str, rating: str, note: str, moderator: str) -> None:
    """Record the moderation panel's overall rating of an audit.

    Example: cssw-docs moderation record CSSW-2026-0142 --rating Good --note "Agreed with auditor"
    """
    with _ledger(obj) as conn:
        record, outcome = records_mod.record_moderation(conn, ref, rating, note, moderator)
    sub = record.submission
    result = compare(sub.overall_rating, outcome.rating)
    extra = (
        ""
        if record.moderation_selected
        else " It was not in the moderation sample; the outcome is recorded anyway."
    )
    click.echo(
        f"Recorded the panel's rating of {sub.audit_ref}: {outcome.rating.value}; the auditor "
        f"gave {sub.overall_rating.value if sub.overall_rating else 'no rating'} "
        f"({result.lower()}).{extra}"
    )


# --- escalations --------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Include resolved referrals.")
@click.pass_context
def escalations(ctx: click.Context, show_all: bool) -> None:
    """List open referrals to the Head of Quality Assurance (the practitioner disagreed).

    A referral is resolved when a later version of the audit arrives, or with
    `cssw-docs escalations resolve REF --note TEXT`.
    Example: cssw-docs escalations --all
    """
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    with _ledger(obj) as conn:
        records = records_mod.load(conn).audits
    found = escalations_mod.referrals(records, dt.date.today(), include_resolved=show_all)
    if not found:
        click.echo("No open referrals." if not show_all else "No referrals.")
        return
    for r in found:
        state = f"open {r.days_open} day(s)" if r.is_open else f"resolved: {r.note}"
        click.echo(
            f"{r.audit_ref} v{r.version}  referred {_uk(r.referred_on)}  {state}\n"
            f"    {r.team}; auditor {r.auditor}; practitioner {r.practitioner}; "
            f"manager {r.manager}"
        )
    still_open = sum(r.is_open for r in found)
    click.echo(f"{still_open} open referral(s).")


@escalations.command("resolve")
@click.argument("ref")
@click.option("--note", required=True, help="The Head of Quality Assurance's decision.")
@click.option("--by", "resolved_by", default="", help="Who resolved it.")
@pass_context
def escalations_resolve(obj: Context, ref: str, note: str, resolved_by: str) -> None:
    """Record that a referral to the Head of Quality Assurance is resolved.

    Example: cssw-docs escalations resolve CSSW-2026-0142 --note "Rating confirmed after review"
    """
    with _ledger(obj) as conn:
        record = records_mod.resolve_referral(conn, ref, note, resolved_by)
    click.echo(f"Referral of {record.audit_ref} (version {record.version}) marked resolved.")


# --- actions ------------------------------------------------------------------------------------


@click.command("actions")
@click.option("--team", default=None, help="Only teams whose name contains this text.")
@click.option("--overdue", is_flag=True, help="Only actions past their due date.")
@pass_context
def actions(obj: Context, team: str | None, overdue: bool) -> None:
    """List the SMART actions of every Final audit, earliest due first.

    Example: cssw-docs actions --team "Team 3" --overdue
    """
    today = dt.date.today()
    with _ledger(obj) as conn:
        records = records_mod.load(conn).audits
    found = actions_mod.tracked(records, today, team=team, overdue_only=overdue)
    if not found:
        click.echo("No actions match." if team or overdue else "No actions are recorded yet.")
        return
    for a in found:
        click.echo(
            f"{_uk(a.due) or 'no due date':<11} {a.status:<12} {a.audit_ref}  {a.team}\n"
            f"    owner {a.owner or 'not named'}: {a.action}"
        )
    late = sum(a.status == "Overdue" for a in found)
    click.echo(f"{len(found)} action(s), {late} past the due date on {_uk(today)}.")


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
@pass_context
def report(obj: Context, start: dt.date, end: dt.date, output: str) -> None:
    """Write the audit activity report: a workbook and a Word summary.

    Example: cssw-docs report --from 01/04/2026 --to 30/06/2026 -o reports/2026-Q1
    writes reports/2026-Q1.xlsx and reports/2026-Q1.docx.
    """
    _period(start, end)
    try:
        written = report_mod.build(
            records_mod.ledger_path(obj.settings),
            obj.rubric,
            obj.settings,
            start=start,
            end=end,
            dest=Path(output),
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
