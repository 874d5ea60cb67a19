"""Commands: programme (the annual audit programme) and remind (the reminders due today)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import clock
from ..explain import PROGRAMME, explain
from ..oversight import progress as progress_mod
from ..oversight.records import OversightError
from ..store import db
from ..year import programme as programme_mod
from ..year import reminders as reminders_mod
from .common import Context, pass_context


@click.group("programme")
def programme() -> None:
    """Plan the year's audits, issue their workbooks, and see planned against done."""


@programme.command("new")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the programme workbook (.xlsx).",
)
@click.option("--force", is_flag=True, help="Replace the file if it already exists.")
@pass_context
def programme_new(obj: Context, output: Path, force: bool) -> None:
    """Write the blank annual audit programme workbook, one row per planned audit.

    Example: cssw-docs programme new -o programme-2027.xlsx
    """
    if output.exists() and not force:
        raise click.ClickException(f"{output} already exists. Use --force to replace it.")
    try:
        programme_mod.sheet.new_programme(output, obj.rubric)
    except OSError as exc:
        raise click.ClickException(f"Could not write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote a blank audit programme to {output}")


@programme.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def programme_load(obj: Context, path: Path) -> None:
    """Check the programme workbook PATH and record its planned audits.

    Rows are matched by audit reference, so a revised programme can be loaded at any time;
    an audit that has started is never dropped. A programme with problems records nothing:
    each problem is listed, and a marked copy shows them at their cells.
    Example: cssw-docs programme load programme-2027.xlsx
    """
    obj.check_ledger()
    loaded = programme_mod.load(obj.settings, obj.rubric, path)
    if not loaded.ok:
        click.echo(explain(loaded.report, purpose=PROGRAMME), err=True)
        if loaded.marked is not None:
            click.echo(f"Marked copy: {loaded.marked}", err=True)
        raise click.ClickException("The programme was not loaded: fix the problems above.")
    if loaded.report.findings:
        click.echo(explain(loaded.report, purpose=PROGRAMME))
    click.echo(f"Programme loaded: {loaded.added} audit(s) added, {loaded.updated} updated.")
    if loaded.removed:
        click.echo(f"Removed (not started): {', '.join(loaded.removed)}")
    if loaded.kept:
        click.echo(
            f"Kept although not in this programme (already started): {', '.join(loaded.kept)}"
        )


@programme.command("issue")
@click.option("--ref", default=None, help="Issue this planned audit now, whatever its month.")
@pass_context
def programme_issue(obj: Context, ref: str | None) -> None:
    """Send the audit workbooks due: pre-filled, to each auditor, with the practitioner's and
    manager's notice. The service does this on each month's first working day.

    Example: cssw-docs programme issue --ref CSSW-2027-0012
    """
    obj.check_ledger()
    try:
        issued = programme_mod.issue(obj.settings, obj.rubric, ref=ref)
    except OversightError as exc:
        raise click.ClickException(str(exc)) from exc
    if not issued:
        click.echo("No planned audit is due to be issued.")
        return
    for item in issued:
        click.echo(f"{item.audit_ref}: workbook {item.workbook}, {item.queued} email(s) queued")
    click.echo(
        f"{len(issued)} audit(s) issued. The service sends the emails (or: cssw-docs mail send)."
    )


def _table(title: str, rows: tuple[progress_mod.GroupRow, ...]) -> None:
    click.echo(f"\n{title}")
    width = max([len(r.group) for r in rows] + [12])
    click.echo(f"  {'':<{width}}  planned  completed  in progress  late  not started")
    for r in rows:
        click.echo(
            f"  {r.group:<{width}}  {r.planned:>7}  {r.completed:>9}  {r.in_progress:>11}  "
            f"{r.late:>4}  {r.not_started:>11}"
        )


@programme.command("status")
@click.option("--audits", "list_audits", is_flag=True, help="Also list every planned audit.")
@pass_context
def programme_status(obj: Context, list_audits: bool) -> None:
    """Print planned against done: by month, team, type of audit and auditor.

    Late: not Final by the end of its planned month.
    Example: cssw-docs programme status --audits
    """
    obj.check_ledger()
    figures = programme_mod.status(obj.settings)
    if figures.empty:
        click.echo("No audits are planned. Load a programme: cssw-docs programme load PATH")
        return
    t = figures.total
    click.echo(
        f"On {figures.as_of:%d/%m/%Y}: {t.planned} planned, {t.completed} completed, "
        f"{t.in_progress} in progress, {t.late} late, {t.not_started} not started."
    )
    _table("By planned month", figures.by_month)
    _table("By team", figures.by_team)
    _table("By type of audit", figures.by_type)
    _table("By auditor", figures.by_auditor)
    if list_audits:
        click.echo("\nEvery planned audit")
        for p in figures.audits:
            month = p.plan.planned_month.strftime("%b %Y") if p.plan else ""
            click.echo(f"  {p.audit_ref:<16} {month:<9} {p.state.value:<18} {p.team}")


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@pass_context
def remind(obj: Context, dry_run: bool) -> None:
    """Queue the reminders due today (the service does this each working day).

    Each reminder is sent once per occasion, however often this runs. Kinds can be turned
    off in the [reminders] section of cssw-docs.toml.
    Example: cssw-docs remind --dry-run
    """
    obj.check_ledger()
    today = clock.today()
    conn = db.open_ledger(Path(obj.settings.service.state_dir))
    try:
        due = reminders_mod.due(conn, obj.settings, obj.rubric, today)
        if not due:
            click.echo(f"No reminder is due on {today:%d/%m/%Y}.")
            return
        for r in due:
            click.echo(("Would send " if dry_run else "") + r.what)
        if dry_run:
            click.echo(f"{len(due)} reminder(s) due; nothing sent (--dry-run).")
            return
        queued = reminders_mod.send(conn, obj.settings, due, today)
    finally:
        conn.close()
    click.echo(
        f"{len(due)} reminder(s), {queued} email(s) queued. The service sends them "
        "(or: cssw-docs mail send)."
    )


commands: list[click.Command] = [programme, remind]
