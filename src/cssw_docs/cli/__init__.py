"""The ``cssw-docs`` command line: thin click commands over the library."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from .. import __version__
from ..service.logs import stream_handler
from ..store.db import LedgerDamaged
from ..store.schema import SchemaError
from .common import NEEDS_A_PERSON, Context

# One module per command group; each exposes ``commands``, a list of click commands.
_COMMAND_MODULES = (
    "workbook",
    "check",
    "pack",
    "service",
    "mail",
    "oversight",
    "ledger",
    "storyboards",
    "retention",
    "programme",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cssw-docs")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (default: ./cssw-docs.toml when present).",
)
@click.option(
    "--rubric",
    "rubric_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rubric file to use instead of the packaged one.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show more detail in the log.")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, rubric_path: str | None, verbose: bool
) -> None:
    """Turn case-audit workbooks into finished Word audit packs.

    Start with `cssw-docs workbook new -o audit.xlsx`, fill it in Excel, then
    `cssw-docs validate audit.xlsx` and `cssw-docs render audit.xlsx`.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        handlers=[stream_handler(sys.stderr, "%(asctime)s %(levelname)s %(name)s: %(message)s")],
    )
    # Packs, reports, marked copies and panel workbooks hold case data: every file and folder
    # a command writes is for the account running it only (0600/0700), whatever the umask.
    previous = os.umask(0o077)
    ctx.call_on_close(lambda: os.umask(previous))
    ctx.obj = Context(config_path=config_path, rubric_path=rubric_path)


for _name in _COMMAND_MODULES:
    for _command in importlib.import_module(f"{__name__}.{_name}").commands:
        cli.add_command(_command)


def main() -> None:
    """Run the command line; an unexpected error becomes one plain sentence, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Stopped.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        sys.exit(130)
    except SchemaError as exc:  # a ledger written by a newer cssw-docs: left untouched
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except LedgerDamaged as exc:  # found while working: the same plain steps as at start
        click.echo(f"Error: {exc}", err=True)
        sys.exit(NEEDS_A_PERSON)
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        logging.getLogger("cssw_docs").debug("unexpected error", exc_info=True)
        click.echo(
            f"Error: something went wrong that cssw-docs did not expect ({type(exc).__name__}). "
            "Nothing has been deleted. Run the command again with --verbose and send the "
            "output to the cssw-docs support team.",
            err=True,
        )
        sys.exit(3)
