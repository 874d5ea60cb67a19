"""Commands: ledger (check, backup, restore, rebuild)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Context, LedgerTrouble, pass_context


@click.group("ledger")
def ledger() -> None:
    """Look after the ledger (state/ledger.sqlite3): check it, back it up, restore or rebuild it.

    The watcher checks the ledger when it starts and backs it up once a day into
    state/backups/ (keeping service.ledger_backups copies).

    Example: `cssw-docs ledger check`
    """


@ledger.command("check")
@pass_context
def check(ctx: Context) -> None:
    """Check the ledger with SQLite's quick_check and list its backups (exit status 4 if damaged).

    Example: `cssw-docs ledger check`
    """
    from ..service import ledger as ledger_mod
    from ..store import db

    health = ledger_mod.check(ctx.settings)
    if not health.exists:
        click.echo(f"There is no ledger at {health.path} yet (it is made on first use).")
    elif health.problems:
        shown = "\n".join(f"  {p}" for p in health.problems[:10])
        raise LedgerTrouble(
            f"The ledger {health.path} is damaged. SQLite's check found:\n{shown}\n"
            + db.recovery_steps(health.path)
        )
    else:
        click.echo(f"The ledger {health.path} is sound (SQLite's quick_check: ok).")
    if health.backups:
        click.echo(f"{len(health.backups)} backup(s); the newest is {health.backups[0]}")
    else:
        click.echo("No backups yet: `cssw-docs ledger backup` makes one now.")


@ledger.command("backup")
@pass_context
def backup(ctx: Context) -> None:
    """Back the ledger up now into state/backups/, keeping the newest service.ledger_backups.

    The copy is made with SQLite's online backup, so the service may keep running.

    Example: `cssw-docs ledger backup`
    """
    from ..service import ledger as ledger_mod
    from ..store import backup as backup_mod

    ctx.check_ledger()
    try:
        made = ledger_mod.back_up(ctx.settings)
    except backup_mod.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Ledger backed up to {made}")


@ledger.command("restore")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def restore(ctx: Context, file: Path | None) -> None:
    """Replace the ledger with a backup (default: the newest in state/backups/).

    Stop the service first. The ledger being replaced is kept beside it, renamed. Packs
    made since the backup are added back from the outbox; emails the backup lists as
    not yet sent are held as possibly delivered (check, then `cssw-docs mail retry ID`).

    \b
    Examples:
      cssw-docs ledger restore
      cssw-docs ledger restore state/backups/ledger-20261126T030000Z.sqlite3
    """
    from ..service import ledger as ledger_mod
    from ..store import backup as backup_mod

    try:
        restored, rebuilt = ledger_mod.restore(ctx.settings, file)
    except ledger_mod.ServiceRunning as exc:
        raise click.ClickException(str(exc)) from exc
    except backup_mod.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Ledger restored from {restored.source}.")
    if restored.kept is not None:
        click.echo(f"The ledger it replaced is kept as {restored.kept}")
    click.echo(f"From the outbox: {rebuilt}.")
    if restored.held:
        click.echo(
            f"{restored.held} email(s) the backup listed as not sent are held as possibly "
            "delivered: see `cssw-docs mail status`, check with their recipients, then "
            "`cssw-docs mail retry ID` for any that never arrived."
        )


@ledger.command("rebuild")
@pass_context
def rebuild(ctx: Context) -> None:
    """Recreate the ledger's records from the outbox's packs and the filed workbooks.

    Each pack's audit.json and manifest.json give its audit record and the workbook's
    SHA-256, so a workbook dropped again is recognised as a duplicate; workbooks filed in
    intake/processed/ and intake/rejected/ are recorded too. Adds only what is missing.
    Stop the service first.

    Example: `cssw-docs ledger rebuild`
    """
    from ..service import ledger as ledger_mod

    ctx.check_ledger()
    try:
        rebuilt = ledger_mod.rebuild_ledger(ctx.settings)
    except ledger_mod.ServiceRunning as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Ledger rebuilt: {rebuilt}.")
    for folder in rebuilt.unreadable:
        click.echo(f"  could not read {folder}", err=True)


commands: list[click.Command] = [ledger]
