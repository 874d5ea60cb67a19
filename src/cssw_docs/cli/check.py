"""Commands: validate (check a filled workbook against the rubric)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..explain import explain
from ..models import Finding
from .common import Context, pass_context

if TYPE_CHECKING:
    from ..pipeline import Checked


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON object.")
@click.option(
    "--annotate",
    "marked",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write a copy of the workbook with every problem marked (an .xlsx file).",
)
@pass_context
def validate(ctx: Context, path: Path, as_json: bool, marked: Path | None) -> None:
    """Check a filled audit workbook against the rubric.

    Prints each problem to fix and each point to check, with where it is in the
    workbook. Exit status: 0 when the workbook can become a pack (points to check
    are allowed), 1 when it has problems to fix.

    Example: cssw-docs validate audit.xlsx --annotate audit-marked.xlsx
    """
    if marked is not None and marked.resolve() == path.resolve():
        raise click.BadParameter(
            "choose a different file for the marked copy, so your workbook is not overwritten.",
            param_hint="--annotate",
        )
    from .. import pipeline  # imported here: keeps `cssw-docs --help` quick

    checked = pipeline.check(path, ctx.rubric, ctx.settings)
    if as_json:
        click.echo(
            json.dumps(
                as_dict(path, checked.ok, checked.report.findings), indent=2, ensure_ascii=False
            )
        )
    else:
        click.echo(explain(checked.report, source_name=path.name), nl=False)
    if marked is not None:
        _write_marked_copy(checked, marked)
    raise SystemExit(0 if checked.ok else 1)


def _write_marked_copy(checked: Checked, marked: Path) -> None:
    """Write the annotated copy, or say plainly why there is none."""
    if checked.submission is None:
        click.echo("No marked copy was written: the workbook itself could not be read.", err=True)
        return
    from ..workbook.annotate import annotate

    try:
        written = annotate(checked.source, checked.report, marked)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.ClickException(
            f"The marked copy could not be written to {marked}: {reason}."
        ) from exc
    click.echo(f"Marked copy written to {written}.", err=True)


def as_dict(path: Path, ok: bool, findings: tuple[Finding, ...]) -> dict[str, Any]:
    """Return the JSON form of a check: file, ok, errors and warnings."""
    errors = [_finding(f) for f in findings if f.severity == "error"]
    warnings = [_finding(f) for f in findings if f.severity != "error"]
    return {"file": str(path), "ok": ok, "errors": errors, "warnings": warnings}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": str(f.severity),
        "message": f.message,
        "location": f.where or None,
    }


commands: list[click.Command] = [validate]
