"""Commands: workbook (make the blank intake workbook and the example workbooks)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import examples
from ..workbook.generate import GenerateError, new_workbook, write_submission
from .common import Context, pass_context, progress_bar, quiet_option


@click.group("workbook")
def workbook() -> None:
    """Make the Excel workbook an auditor fills in for one case audit."""


@workbook.command("new")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the workbook (.xlsx).",
)
@click.option("--type", "audit_type", default=None, help="Pre-fill the type of audit.")
@click.option(
    "--example",
    type=click.Choice(sorted(examples.EXAMPLES)),
    default=None,
    help="Write a filled, fictional example audit instead of a blank workbook.",
)
@click.option("--force", is_flag=True, help="Replace the file if it already exists.")
@pass_context
def new(
    ctx: Context, output: Path, audit_type: str | None, example: str | None, force: bool
) -> None:
    """Write a blank audit workbook (or a filled example) to the file given by -o.

    Example: cssw-docs workbook new -o audit.xlsx --type Thematic
    """
    _refuse_to_overwrite(output, force)
    if example and audit_type:
        raise click.UsageError("Use --type or --example, not both: an example has its own type.")
    try:
        if example:
            write_submission(examples.EXAMPLES[example](ctx.rubric), output, ctx.rubric)
        else:
            new_workbook(output, ctx.rubric, audit_type)
    except GenerateError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"Could not write {output}: {exc.strerror or exc}.") from exc
    what = f"the example audit '{example}'" if example else "a blank audit workbook"
    click.echo(f"Wrote {what} to {output}")


@workbook.command("examples")
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the example workbooks into (made if missing).",
)
@quiet_option
@pass_context
def examples_command(ctx: Context, folder: Path, quiet: bool) -> None:
    """Write every fictional example audit as FOLDER/<name>.xlsx (replacing older copies).

    Example: cssw-docs workbook examples -o examples/
    """
    wrote = []
    total = len(examples.EXAMPLES)
    with progress_bar("Example workbooks", quiet=quiet, total=total) as progress:
        for done, (name, build) in enumerate(examples.EXAMPLES.items(), start=1):
            path = folder / f"{name}.xlsx"
            try:
                write_submission(build(ctx.rubric), path, ctx.rubric)
            except OSError as exc:
                raise click.ClickException(
                    f"Could not write {path}: {exc.strerror or exc}."
                ) from exc
            valid = name in examples.VALID
            wrote.append(
                f"Wrote {path} ({'meant to pass validation' if valid else 'has errors on purpose'})"
            )
            progress(done, total)
    for line in wrote:
        click.echo(line)


def _refuse_to_overwrite(output: Path, force: bool) -> None:
    if output.suffix.lower() != ".xlsx":
        raise click.BadParameter("the workbook's name must end in .xlsx.", param_hint="-o")
    if output.exists() and not force:
        raise click.ClickException(
            f"{output} already exists. Choose another name, or add --force to replace it."
        )


commands: list[click.Command] = [workbook]
