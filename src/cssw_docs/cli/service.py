"""Commands: watch (the intake service), status, config show."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from .. import config
from .common import Context, pass_context, progress_bar, quiet_option


@click.command()
@click.option(
    "--intake",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder auditors drop workbooks into (default: service.intake, ./intake).",
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the packs are written to (default: service.outbox, ./outbox).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Local folder for the ledger and the log (default: service.state_dir, ./state).",
)
@click.option(
    "--polling",
    is_flag=True,
    default=None,
    help="Check the folder by polling: use this on network shares (SMB, NFS).",
)
@click.option("--once", is_flag=True, help="Process everything waiting, then exit (for cron).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel workers.")
@click.option(
    "--new-ledger",
    is_flag=True,
    help="Start on a new, empty ledger although the outbox already holds packs.",
)
@quiet_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (the same as `cssw-docs --config FILE watch`).",
)
@pass_context
def watch(
    ctx: Context,
    config_path: str | None,
    intake: Path | None,
    outbox: Path | None,
    state_dir: Path | None,
    polling: bool | None,
    once: bool,
    workers: int | None,
    new_ledger: bool,
    quiet: bool,
) -> None:
    """Turn every workbook dropped into the intake folder into a pack, exactly once.

    Ready workbooks become packs in the outbox and move to intake/processed/;
    workbooks with problems move to intake/rejected/ beside a marked copy and a
    findings file, and the auditor is emailed. Stop with Ctrl+C or SIGTERM: the
    jobs in hand are finished first.

    It refuses to start on a damaged ledger, or on a new one beside an outbox that
    already holds packs (a deleted ledger: everything would be sent again), with
    exit status 4 and the steps to recover; see `cssw-docs ledger`.

    \b
    Examples:
      cssw-docs watch --intake /mnt/audits/intake --outbox /mnt/audits/outbox --polling
      cssw-docs watch --once        (process what is waiting, then exit: for cron)
    """
    from ..deliver.outbox import SendingRefused
    from ..service.claim import AlreadyRunning
    from ..service.recovery import LedgerMissing
    from ..service.settings_check import SettingsInvalid
    from ..service.status import format_summary
    from ..service.watch import Watcher
    from ..store.db import LedgerDamaged
    from .common import LedgerTrouble

    if config_path:
        ctx.config_path = config_path
    changes: dict[str, Any] = {}
    for key, value in (
        ("intake", intake),
        ("outbox", outbox),
        ("state_dir", state_dir),
        ("polling", polling),
        ("workers", workers),
    ):
        if value is not None:
            changes[f"service.{key}"] = value
    settings = ctx.settings.with_changes(**changes) if changes else ctx.settings
    # With --once on a terminal, a bar shows the workbooks done so far (stderr; not for cron).
    with progress_bar("Workbooks", quiet=quiet or not once) as progress:
        watcher = Watcher(settings, ctx.rubric, once=once, new_ledger=new_ledger, progress=progress)

        def stop(signum: int, _frame: object) -> None:
            click.echo("Stopping after the workbooks in hand are finished...", err=True)
            watcher.request_stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            summary = watcher.run()
        except AlreadyRunning:
            message = (
                "Another cssw-docs watcher is already running with the state folder "
                f"{watcher.folders.state} (or on the intake folder {watcher.folders.intake}); "
                "only one may run at a time."
            )
            if once:
                click.echo(message + " Nothing to do.", err=True)
                return
            raise click.ClickException(
                message + " Stop it first, or give this one --state-dir."
            ) from None
        except (SendingRefused, SettingsInvalid) as exc:
            raise click.ClickException(f"The intake service will not start: {exc}") from None
        except (LedgerDamaged, LedgerMissing) as exc:
            raise LedgerTrouble(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(
                f"The intake service cannot use its folders: {exc.strerror} ({exc.filename}). "
                "Check the paths in cssw-docs.toml and that the service account may write there."
            ) from exc
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if once:
        click.echo(format_summary(summary), nl=False)


@click.command()
@pass_context
def status(ctx: Context) -> None:
    """Show whether the watcher runs, what is queued, recent outcomes and failures.

    Example: cssw-docs status
    """
    from ..service.status import format_status, gather

    ctx.check_ledger()
    click.echo(format_status(gather(ctx.settings)), nl=False)


@click.group("config")
def config_group() -> None:
    """Inspect and check the effective settings."""


@config_group.command("show")
@pass_context
def config_show(ctx: Context) -> None:
    """Print the effective settings (file, then CSSW_DOCS_* variables) as TOML.

    Secrets are masked. The output can be saved as cssw-docs.toml and edited.

    Example: cssw-docs config show > cssw-docs.toml
    """
    source = ctx.config_path or (
        config.DEFAULT_CONFIG_NAME if Path(config.DEFAULT_CONFIG_NAME).exists() else None
    )
    click.echo(f"# Effective settings: {source or 'defaults'}, then CSSW_DOCS_* variables")
    click.echo(config.to_toml(ctx.settings), nl=False)


@config_group.command("check")
@pass_context
def config_check(ctx: Context) -> None:
    """Check every setting and list who receives each route; exit status 1 on a problem.

    The same check runs when `watch` starts: a problem stops it, a route nobody is
    configured for is a warning.

    Example: cssw-docs config check
    """
    from ..service.settings_check import check, format_check

    result = check(ctx.settings)
    click.echo(format_check(result), nl=False)
    if not result.ok:
        raise SystemExit(1)


commands: list[click.Command] = [watch, status, config_group]
