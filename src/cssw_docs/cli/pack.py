"""Commands: render (workbook -> Word pack) and the templates group (fields, check, preview)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from .common import Context, pass_context, progress_bar, quiet_option

_DIR = click.Path(file_okay=False, path_type=Path)


def _render_settings(ctx: Context, pdf: bool, templates: Path | None):
    changes: dict = {}
    if pdf:
        changes["render.pdf"] = True
    if templates is not None:
        changes["render.templates_dir"] = str(templates)
    return ctx.settings.with_changes(**changes) if changes else ctx.settings


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--outdir",
    type=_DIR,
    default=None,
    help="Where packs go (default: service.outbox, normally ./outbox).",
)
@click.option("--pdf", is_flag=True, help="Also make a PDF of every document (needs LibreOffice).")
@click.option(
    "--templates",
    type=_DIR,
    default=None,
    help="A folder of edited templates to use instead of the standard ones.",
)
@pass_context
def render(
    ctx: Context, path: Path, outdir: Path | None, pdf: bool, templates: Path | None
) -> None:
    """Check a filled workbook, then make its Word audit pack.

    The pack goes in OUTDIR/<audit reference>/<stage>-v<N>/ with audit.json and
    manifest.json. A workbook with problems is refused with the list of problems
    (exit status 1).

    Example: cssw-docs render audit.xlsx -o outbox --pdf
    """
    from .. import pipeline  # imported here: keeps `cssw-docs --help` quick
    from ..explain import explain
    from ..render import RenderError
    from ..render import pdf as pdf_module

    settings = _render_settings(ctx, pdf, templates)
    checked = pipeline.check(path, ctx.rubric, settings)
    if not checked.ok:
        click.echo(explain(checked.report, source_name=path.name), nl=False, err=True)
        raise SystemExit(1)
    if checked.report.warnings:
        click.echo(explain(checked.report, source_name=path.name), nl=False, err=True)
    if pdf and pdf_module.soffice_path() is None:
        click.echo(
            f"PDF copies will be skipped: LibreOffice is not installed. {pdf_module.INSTALL_HINT}",
            err=True,
        )
    target = outdir if outdir is not None else settings.service.outbox
    try:
        pack = pipeline.render(checked, ctx.rubric, settings, target)
    except RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"The pack could not be written to {target}: {exc.strerror or exc}."
        ) from exc
    click.echo(f"{pack.stage.value} pack (version {pack.version}) written to {pack.directory}")
    for f in pack.files:
        click.echo(f"  {f.name}")


@click.group()
def templates() -> None:
    """Help for template authors: list the fields, check and preview templates.

    The four Word templates (audit_report.docx, audit_plan.docx,
    supervision_insert.docx, storyboard.docx) can be copied, edited in Word and
    used through `render.templates_dir` in cssw-docs.toml or `--templates DIR`.
    """


@templates.command("fields")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (as in the guide).")
@pass_context
def fields(ctx: Context, markdown: bool) -> None:
    """List every variable a template can use, with its type and an example.

    Lists (`sections`, `actions` ...) are used in loops, e.g.
    {%tr for a in actions %} ... {{ a.owner }} ... {%tr endfor %}.

    Example: cssw-docs templates fields
    """
    from .. import templating

    if markdown:
        click.echo(templating.fields_markdown(ctx.rubric))
        return
    items = templating.fields(ctx.rubric)
    width = max(len(f.name) for f in items)
    for f in items:
        example = f" (e.g. {f.example})" if f.example else ""
        click.echo(f"{f.name.ljust(width)}  {f.type:<6}  {f.help}{example}")


@templates.command("check")
@click.argument("folder", required=False, type=_DIR)
@pass_context
def check(ctx: Context, folder: Path | None) -> None:
    """Check templates for mistakes before using them.

    Finds Jinja syntax errors (with the text around them), variables that are
    not provided, unbalanced {%tr %}/{%p %} blocks and tags split across Word's
    formatting runs, then renders each template with the example audits. FOLDER
    defaults to render.templates_dir, else the standard templates. Exit status 1
    when there is any problem.

    Example: cssw-docs templates check my-templates
    """
    from .. import templating
    from ..render import RenderError

    folder = folder if folder is not None else ctx.settings.render.templates_dir
    try:
        files, problems = templating.check_templates(folder, ctx.rubric)
    except RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    bad = {p.template for p in problems}
    for path in files.values():
        state = "problems" if path.name in bad else "ok"
        click.echo(f"{path.name}: {state} ({path.parent})")
    for p in problems:
        click.echo(f"  - {p}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found. Fix them in Word and check again.", err=True)
        raise SystemExit(1)
    click.echo("All templates are ready to use.")


@templates.command("preview")
@click.argument("folder", required=False, type=_DIR)
@click.option("-o", "--outdir", type=_DIR, required=True, help="Folder for the previews.")
@click.option("--pdf", is_flag=True, help="Also make PDFs (needs LibreOffice).")
@quiet_option
@pass_context
def preview(ctx: Context, folder: Path | None, outdir: Path, pdf: bool, quiet: bool) -> None:
    """Render every template with the example audits, to see the effect of an edit.

    Writes OUTDIR/<example>/ for each example audit (good, outstanding, draft ...).

    Example: cssw-docs templates preview my-templates -o previews --pdf
    """
    from .. import templating
    from ..render import RenderError
    from ..render import pdf as pdf_module

    folder = folder if folder is not None else ctx.settings.render.templates_dir
    if pdf and pdf_module.soffice_path() is None:
        raise click.ClickException(
            f"PDF previews need LibreOffice, which is not installed. {pdf_module.INSTALL_HINT}"
        )
    try:
        with progress_bar("Example audits", quiet=quiet) as progress:
            written = templating.preview(
                folder,
                outdir,
                ctx.rubric,
                marking=ctx.settings.render.marking,
                make_pdf=pdf,
                progress=progress,
            )
    except (RenderError, pdf_module.PdfError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(written)} preview files written to {outdir}")


@templates.command("copy")
@click.argument("folder", type=_DIR)
@click.option("--force", is_flag=True, help="Overwrite templates already in FOLDER.")
def copy(folder: Path, force: bool) -> None:
    """Copy the standard templates into FOLDER, to edit them in Word (and the email wording).

    The email wording goes into FOLDER/email/, one text file per message. Then set
    `templates_dir = "FOLDER"` under [render] in cssw-docs.toml; files you delete from
    FOLDER fall back to the standard ones.

    Example: cssw-docs templates copy my-templates
    """
    from ..deliver.compose import EMAIL_FOLDER, packaged_email_templates
    from ..render import DOCUMENTS, RenderError, packaged_templates_dir

    try:
        source = packaged_templates_dir()
    except RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    copies = [(source / name, folder / name) for name, _title in DOCUMENTS.values()]
    copies += [
        (path, folder / EMAIL_FOLDER / path.name)
        for path in sorted(packaged_email_templates().glob("*.txt"))
    ]
    for _source, target in copies:
        if target.exists() and not force:
            raise click.ClickException(
                f"{target} already exists. Use --force to overwrite it, or choose another folder."
            )
    for source_file, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_file, target)
        click.echo(f"Copied {target.relative_to(folder).as_posix()}")


commands: list[click.Command] = [render, templates]
