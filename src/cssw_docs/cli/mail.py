"""Commands: mail (status, send, retry, test)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click

from ..deliver import alerts, outbox, probe
from ..models import MailState
from .common import Context, pass_context


@click.group("mail")
def mail() -> None:
    """See and manage the email outbox (packs and rejections waiting to be sent).

    Example: `cssw-docs mail status`, then `cssw-docs mail retry --all-failed`.
    """


def _paths(ctx: Context) -> tuple[Path, Path]:
    settings = ctx.settings
    return outbox.outbox_db(settings), Path(settings.service.outbox)


def _summary_line(counts: dict[str, int], ctx: Context) -> str:
    words = {state: outbox.state_words(state, ctx.settings.mail) for state in outbox.STATE_WORDS}
    return ", ".join(f"{counts[state]} {word}" for state, word in words.items())


@mail.command("status")
@pass_context
def status(ctx: Context) -> None:
    """Show how many messages are sent, waiting, failed or blocked, and list the unsent ones.

    Messages the server refused for some recipients are listed too, with who did not get
    them.

    Example: `cssw-docs mail status`
    """
    db, _ = _paths(ctx)
    stopped = alerts.read(db)
    if stopped is not None:
        click.echo(f"Sending has STOPPED since {stopped.since}: {stopped.problem}")
        click.echo("After fixing it, check with `cssw-docs mail test --to ADDRESS`.")
        click.echo("")
    if not db.exists():
        click.echo(f"No mail has been queued yet (no ledger at {db}).")
        return
    ctx.check_ledger()
    try:
        counts, rows = outbox.status(db)
        partly = outbox.partly_refused(db)
    except sqlite3.Error as exc:  # a locked or damaged ledger
        raise click.ClickException(f"Could not read the mail outbox in {db}: {exc}") from exc
    click.echo(f"Mail outbox ({db}): {_summary_line(counts, ctx)}.")
    _partly_refused(partly)
    if not rows:
        click.echo("Nothing is waiting.")
        return
    click.echo("")
    click.echo("Not sent yet:")
    for row in rows:
        to = ", ".join(json.loads(row["recipients"]))
        state = outbox.state_words(row["state"], ctx.settings.mail)
        nxt = f"  next try {row['next_attempt_at']}" if row["state"] == MailState.PENDING else ""
        click.echo(
            f"  {row['message_id'].strip('<>')[:16]}  {state}  {row['route']}"
            f"  {row['audit_ref']}  attempts {row['attempts']}{nxt}"
        )
        click.echo(f"      to: {to}")
        if row["last_error"]:
            click.echo(f"      {row['last_error']}")
    click.echo("")
    click.echo("Retry with `cssw-docs mail retry ID` (the first 16 characters are enough).")


def _partly_refused(rows: list[sqlite3.Row]) -> None:
    if not rows:
        return
    click.echo("")
    click.echo("Sent, but refused by the server for some recipients:")
    for row in rows:
        click.echo(
            f"  {row['message_id'].strip('<>')[:16]}  {row['route']}  {row['audit_ref']}"
            f"  sent {row['sent_at']}"
        )
        for address, answer in json.loads(row["refused"]).items():
            click.echo(f"      not delivered to {address}: {answer}")


def _report(summary: outbox.SendSummary) -> None:
    click.echo(f"Mail: {summary}")


@mail.command("send")
@pass_context
def send(ctx: Context) -> None:
    """Send every queued message that is due now (the service does this by itself).

    Example: `cssw-docs mail send`
    """
    db, outbox_dir = _paths(ctx)
    ctx.check_ledger()
    try:
        summary = outbox.send_pending(db, ctx.settings, outbox=outbox_dir)
    except outbox.SendingRefused as exc:
        raise click.ClickException(f"Nothing was sent: {exc}") from None
    _report(summary)


@mail.command("retry")
@click.argument("message_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Retry every message that failed.")
@pass_context
def retry(ctx: Context, message_ids: tuple[str, ...], all_failed: bool) -> None:
    """Send the named messages (or all failed ones) again now, after you fixed the cause.

    A message named here is sent once more even if it was possibly delivered or has been
    handed over mail.max_deliveries times: check with its recipients first.
    --all-failed never includes those.

    Example: `cssw-docs mail retry 3f2a9c1e0b7d4e55` or `cssw-docs mail retry --all-failed`
    """
    if not message_ids and not all_failed:
        raise click.UsageError(
            "Name the messages to retry (IDs from `cssw-docs mail status`) or use --all-failed."
        )
    db, outbox_dir = _paths(ctx)
    ctx.check_ledger()
    try:
        requeued, summary = outbox.retry(
            db,
            ctx.settings,
            outbox=outbox_dir,
            message_ids=list(message_ids),
            all_failed=all_failed,
        )
    except outbox.UnknownMessage as exc:
        raise click.ClickException(str(exc)) from exc
    except outbox.SendingRefused as exc:
        raise click.ClickException(f"Nothing was sent: {exc}") from None
    click.echo(f"{len(requeued)} message(s) queued again.")
    _report(summary)


@mail.command("test")
@click.option("--to", "to", required=True, metavar="ADDRESS", help="Who gets the test message.")
@pass_context
def test(ctx: Context, to: str) -> None:
    """Send one harmless message through the configured transport; explain any failure.

    It carries no audit. mail.allowed_domains applies. Exit status 1 when it was not sent.

    Example: `cssw-docs mail test --to qa.unit@camden.gov.uk`
    """
    db, outbox_dir = _paths(ctx)
    result = probe.send_test(ctx.settings, to, db=db, outbox=outbox_dir)
    click.echo(result.text)
    if not result.sent:
        raise SystemExit(1)


commands: list[click.Command] = [mail]
