"""Commands: retention (purge, report, log) and subject (find, export, erase)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from .common import Context, pass_context


def _open(ctx: Context):
    """Return (connection, folders) for the service's ledger and folders."""
    from ..service.watch import folders_for
    from ..store import db

    ctx.check_ledger()
    folders = folders_for(ctx.settings)
    return db.open_ledger(folders.state), folders


@click.group("retention")
def retention() -> None:
    """Keep records only as long as the council's retention schedule says ([retention]).

    Example: `cssw-docs retention report`
    """


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@pass_context
def purge(ctx: Context, dry_run: bool) -> None:
    """Remove every record past its date under the schedule (watch does this once a day).

    Records of an audit with an open referral, open actions or a pending moderation decision
    are kept. Each removal is entered in the purge log (references and counts, no names).

    Example: `cssw-docs retention purge --dry-run`
    """
    from .. import retention as lib
    from ..service.worker import crash_point

    if not ctx.settings.retention.schedule:
        click.echo(lib.NO_SCHEDULE)
        return
    conn, folders = _open(ctx)
    try:
        done = lib.purge(conn, ctx.settings, folders, dry_run=dry_run, checkpoint=crash_point)
    finally:
        conn.close()
    for kind, (n, items) in done.by_kind().items():
        click.echo(f"{lib.KINDS[kind].label}: {n} record(s), {items} file(s) or row(s)")
    refs = lib.references(done.removed)
    if refs:
        click.echo(f"Audits: {', '.join(refs)}")
    for ref, why in sorted(done.kept.items()):
        click.echo(f"Kept past its date: {ref} ({why})")
    click.echo(done.summary()[:1].upper() + done.summary()[1:] + ".")


@retention.command("report")
@click.option("--days", default=30, show_default=True, help="How far ahead to look.")
@pass_context
def report(ctx: Context, days: int) -> None:
    """List what the schedule will remove in the next days, by kind (and what is overdue).

    Example: `cssw-docs retention report --days 30`
    """
    from .. import clock
    from .. import retention as lib

    click.echo("The retention schedule:")
    for line in lib.schedule_lines(ctx.settings.retention):
        click.echo(f"  {line}")
    if not ctx.settings.retention.schedule:
        click.echo(lib.NO_SCHEDULE)
        return
    conn, folders = _open(ctx)
    try:
        today = clock.today()
        upcoming = lib.report(conn, ctx.settings, folders, today, days)
        _, kept = lib.due_items(conn, ctx.settings, folders, today, within_days=days)
    finally:
        conn.close()
    if not upcoming:
        click.echo(f"Nothing falls due in the next {days} days.")
    current = ""
    for due in upcoming:
        if due.item.kind != current:
            current = due.item.kind
            count = sum(1 for d in upcoming if d.item.kind == current)
            click.echo(f"\n{lib.KINDS[current].label} ({count}):")
        when = "overdue" if due.on <= today else f"{due.on:%d/%m/%Y}"
        click.echo(f"  {when:10}  {due.item.audit_ref or '-':16}  {due.item.count} file(s)/row(s)")
    for ref, why in sorted(kept.items()):
        click.echo(f"Kept past its date while open: {ref} ({why})")


@retention.command("log")
@click.option("--since", default="", help="Only entries from this date (YYYY-MM-DD).")
@pass_context
def log(ctx: Context, since: str) -> None:
    """Show the purge log: what each purge removed (kinds, references, counts; never names).

    Example: `cssw-docs retention log --since 2031-01-01`
    """
    from .. import retention as lib
    from ..store import retention as store

    conn, _ = _open(ctx)
    try:
        rows = store.log_rows(conn, since)
        erasures = store.erasure_rows(conn)
    finally:
        conn.close()
    if not rows:
        click.echo("The purge log is empty.")
    for r in rows:
        state = "removed" if r["done_at"] else "being removed"
        click.echo(
            f"{r['started_at'][:16]}  {state:13}  {lib.KINDS[r['kind']].label}: "
            f"{r['audit_ref'] or '-'} ({r['items']} file(s)/row(s), from {r['record_date']})"
        )
    for e in erasures:
        click.echo(
            f"{e['erased_at'][:16]}  erased by {e['erased_by']}: {e['files']} file(s), "
            f"{e['rows']} row(s) of {', '.join(json.loads(e['audit_refs'])) or '-'}"
            f"; reason: {e['reason']}"
        )


def _subject_options(command):
    command = click.option("--name", default="", help="The child's name, as recorded.")(command)
    return click.option("--mosaic", default="", help="The child's MOSAIC ID.")(command)


def _find(ctx: Context, mosaic: str, name: str):
    from .. import subject as lib
    from ..service.watch import folders_for

    try:
        who = lib.Subject(mosaic, name)
    except lib.SubjectError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.check_ledger()
    folders = folders_for(ctx.settings)
    return lib.find(who, ctx.settings, ctx.rubric, folders), folders


def _show(findings) -> None:
    from .. import subject as lib

    for line in lib.describe(findings):
        click.echo(line)
    click.echo(f"{len(findings.found)} record(s) found.")


@click.group("subject")
def subject() -> None:
    """Subject access: find, export or erase every record holding one child's data.

    Example: `cssw-docs subject find --mosaic M1234567`
    """


@subject.command("find")
@_subject_options
@pass_context
def find(ctx: Context, mosaic: str, name: str) -> None:
    """List every file and record holding the child's data: packs, workbooks, emails, ledger.

    Example: `cssw-docs subject find --mosaic M1234567` or `--name "Amara Okafor"`
    """
    findings, _ = _find(ctx, mosaic, name)
    _show(findings)


@subject.command("export")
@_subject_options
@click.option("-o", "--output", "dest", required=True, type=click.Path(file_okay=False))
@pass_context
def export(ctx: Context, mosaic: str, name: str, dest: str) -> None:
    """Copy every record found into one private folder with an index (index.csv).

    Example: `cssw-docs subject export --mosaic M1234567 -o sar-2031-044`
    """
    from .. import subject as lib

    findings, _ = _find(ctx, mosaic, name)
    if not findings.found:
        raise click.ClickException("Nothing was found for that child: nothing to export.")
    try:
        index = lib.export(findings, Path(dest).absolute())
    except lib.SubjectError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(findings.found)} record(s) copied; the index is {index}")


@subject.command("erase")
@_subject_options
@click.option("--reason", required=True, help="Why (e.g. the request's reference); no names.")
@click.option("--by", "erased_by", default="", help="Who erases (default: this account).")
@click.option("--yes", is_flag=True, help="Do not ask to type ERASE (for scripts).")
@pass_context
def erase(ctx: Context, mosaic: str, name: str, reason: str, erased_by: str, yes: bool) -> None:
    """Remove every record found, keeping each audit's anonymous tombstone; records who and why.

    You are shown what will go and asked to type ERASE. Audits still open (a referral,
    actions, moderation) are named before you confirm.

    Example: `cssw-docs subject erase --mosaic M1234567 --reason "SAR 2031-044"`
    """
    from .. import clock
    from .. import subject as lib
    from ..store import db

    findings, folders = _find(ctx, mosaic, name)
    if not findings.found:
        raise click.ClickException("Nothing was found for that child: nothing to erase.")
    try:
        lib.check_reason(reason, findings)
    except lib.SubjectError as exc:
        raise click.ClickException(str(exc)) from exc
    _show(findings)
    conn = db.open_ledger(folders.state)
    try:
        still_open = lib.open_audits(findings, conn, clock.today())
    finally:
        conn.close()
    for ref, why in sorted(still_open.items()):
        click.echo(f"Warning: audit {ref} is still open ({why}).")
    if not yes:
        typed = click.prompt(f"Type ERASE to remove these {len(findings.found)} record(s)")
        if typed.strip() != "ERASE":
            raise click.ClickException("Nothing was erased (ERASE was not typed).")
    try:
        done = lib.erase(findings, folders, reason=reason, erased_by=erased_by or getpass.getuser())
    except lib.SubjectError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Erased {done.files} file(s) and {done.rows} ledger row(s); anonymous tombstones kept "
        f"for {', '.join(done.audit_refs) or 'no audit'}. Recorded as erasure {done.erasure_id}."
    )


commands: list[click.Command] = [retention, subject]
