"""Commands: storyboards list, booklet and poster (learning events, partner agencies, Ofsted)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import wordlists
from ..oversight import storyboards as gather_mod
from ..render import RenderError
from ..render import storyboards as print_mod
from ..render.pdf import PdfError
from ..rules import accepted_reference
from .common import Context, pass_context
from .oversight import DATE, _ledger, _period, _uk


@click.group()
def storyboards() -> None:
    """Storyboards of good practice: list them, print a booklet of a period, or a poster."""


def _selection_options(command):  # type: ignore[no-untyped-def]
    for option in reversed(
        (
            click.option("--from", "start", type=DATE, help="First audit date (dd/mm/yyyy)."),
            click.option("--to", "end", type=DATE, help="Last audit date (dd/mm/yyyy)."),
            click.option("--team", default="", help="Only this team (any part of its name)."),
            click.option("--theme", default="", help="Only this audit theme (any part of it)."),
            click.option(
                "--external",
                is_flag=True,
                help="Only storyboards consented for sharing outside the service (Ofsted, "
                "partner agencies).",
            ),
        )
    ):
        command = option(command)
    return command


def _gather(obj: Context, start, end, team: str, theme: str, external: bool) -> gather_mod.Gathered:  # type: ignore[no-untyped-def]
    _period(start, end)
    selection = gather_mod.Selection(start, end, team, theme, external)
    try:
        local = wordlists.local_list(obj.settings.validation.anonymity_list)
    except wordlists.WordlistError as exc:
        raise click.ClickException(str(exc)) from exc
    with _ledger(obj) as conn:
        return gather_mod.gather(conn, selection, local)


def _left_out(found: gather_mod.Gathered) -> None:
    if found.internal_only:
        click.echo(
            f"Left out: {len(found.internal_only)} consented for sharing within the service "
            f"only ({', '.join(found.internal_only)})."
        )
    if found.unsettled:
        click.echo(
            f"Left out: {len(found.unsettled)} with details the auditor has not confirmed for "
            f"sharing outside ({', '.join(found.unsettled)}). The auditor changes them or lists "
            "them under “Details checked for sharing outside” in a revised workbook."
        )


@storyboards.command("list")
@_selection_options
@pass_context
def list_storyboards(obj: Context, start, end, team, theme, external) -> None:  # type: ignore[no-untyped-def]
    """List the storyboards a booklet of the period would hold, in its order.

    Example: cssw-docs storyboards list --from 01/09/2026 --to 31/12/2026 --external
    """
    found = _gather(obj, start, end, team, theme, external)
    if not found.records:
        click.echo("No completed storyboard matches.")
    for number, record in enumerate(found.records, start=1):
        sub = record.submission
        sharing = "outside the service" if sub.storyboard_consent_external else "service only"
        click.echo(
            f"{number:>3}. {_uk(record.when)}  {record.audit_ref}  "
            f"{sub.overall_rating.value if sub.overall_rating else 'Not rated':<11}  "
            f"{sub.team}  ({sharing})\n     {' '.join(sub.storyboard_title.split())}"
        )
    _left_out(found)


@storyboards.command("booklet")
@_selection_options
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    required=True,
    help="The booklet to write: a .pdf (print-ready, tagged) or a .docx.",
)
@pass_context
def booklet(obj: Context, start, end, team, theme, external, output) -> None:  # type: ignore[no-untyped-def]
    """Write a print-ready booklet of the period's completed storyboards (.pdf or .docx).

    A cover, a contents page, a foreword the Quality Assurance Unit edits in the template
    (storyboard_booklet.docx), then one storyboard a page. --external keeps only those
    consented for sharing outside the service: the version for Ofsted and partner agencies.

    Example: cssw-docs storyboards booklet --from 01/09/2026 --to 31/12/2026 -o autumn.pdf
    """
    found = _gather(obj, start, end, team, theme, external)
    if not found.records:
        _left_out(found)
        raise click.ClickException(
            "No completed storyboard matches this period and these filters, so no booklet was "
            "written. Check the dates (dd/mm/yyyy) and filters with `cssw-docs storyboards list`."
        )
    info = print_mod.BookletInfo(
        start,
        end,
        found.selection.filters(),
        external,
        obj.settings.render.service_name,
        obj.settings.render.marking,
    )
    try:
        written = print_mod.write_booklet(
            found.entries, info, Path(output).absolute(),
            templates_dir=obj.settings.render.templates_dir,
        )  # fmt: skip
    except (RenderError, PdfError) as exc:
        raise click.ClickException(str(exc)) from exc
    count = len(found.records)
    click.echo(f"Wrote {written} ({count} storyboard{'s' if count != 1 else ''}).")
    _left_out(found)


@storyboards.command("poster")
@click.argument("ref")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    help="The poster to write (.pdf or .docx); default: '<REF> storyboard <SIZE>.pdf' here.",
)
@click.option(
    "--size", type=click.Choice(["A3", "A4"], case_sensitive=False), default="A3", show_default=True
)
@pass_context
def poster(obj: Context, ref: str, output: str | None, size: str) -> None:
    """Write one audit's storyboard as a poster to read from two metres (A3 or A4).

    Example: cssw-docs storyboards poster CSSW-2026-0142 --size A3 -o poster.pdf
    """
    with _ledger(obj) as conn:
        record = gather_mod.find(conn, ref)
    size = size.upper()
    if output is None:
        safe = accepted_reference(record.submission, obj.settings.validation)
        name = f"{safe} storyboard {size}.pdf" if safe else f"storyboard {size}.pdf"
        output = str(Path.cwd() / name)
    try:
        written = print_mod.write_poster(
            record.submission,
            Path(output).absolute(),
            size=size,
            issued=record.finalised_on,
            marking=obj.settings.render.marking,
            templates_dir=obj.settings.render.templates_dir,
        )
    except (RenderError, PdfError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {written}.")


commands = [storyboards]
