"""The audit activity report for a period: figures from the ledger, laid out as xlsx and docx."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import clock
from ..config import Settings
from ..rubric import Rubric
from . import actions, escalations, figures, progress, records, report_docx, report_xlsx


@dataclass(frozen=True)
class Written:
    """The files of one activity report."""

    xlsx: Path
    docx: Path | None
    figures: figures.Figures
    programme: progress.ProgrammeFigures | None = None


def output_paths(path: Path) -> tuple[Path, Path]:
    """Return the workbook and Word paths for ``-o PATH`` (a .xlsx/.docx suffix is dropped)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".docx"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".xlsx"), path.with_name(path.name + ".docx")


def build(
    db: Path,
    rubric: Rubric,
    settings: Settings,
    *,
    start: dt.date | None,
    end: dt.date | None,
    dest: Path,
    as_of: dt.date | None = None,
    docx: bool = True,
    on_step: Callable[[int, int], None] | None = None,
) -> Written:
    """Write the activity report of ``start``..``end`` from the ledger ``db`` beside ``dest``.

    ``on_step`` is told (steps done, steps in all) as the ledger is read, the figures counted
    and each file written.
    """
    steps = 4 if docx else 3

    def step(done: int) -> None:
        if on_step is not None:
            on_step(done, steps)

    if start and end and start > end:
        raise records.OversightError(
            f"The period starts ({start:%d/%m/%Y}) after it ends ({end:%d/%m/%Y}). Swap the dates."
        )
    as_of = as_of or clock.today()
    conn = records.open_existing(db)
    try:
        ledger = records.load(conn, start, end)
        statuses = actions.recorded(conn)
        states = progress.states(conn, as_of, settings.mail.feedback_working_days)
    finally:
        conn.close()
    step(1)
    figs = figures.compute(
        ledger.audits,
        rubric,
        as_of=as_of,
        start=start,
        end=end,
        drafts_in_progress=len(ledger.drafts_only),
        statuses=statuses,
    )
    planned = progress.figures(states.values(), as_of, start=start, end=end)
    tracked = actions.tracked(ledger.audits, as_of, statuses=statuses)
    referred = escalations.referrals(ledger.audits, as_of, include_resolved=True)
    step(2)
    xlsx_path, docx_path = output_paths(dest)
    report_xlsx.write_report(
        xlsx_path,
        figs,
        ledger.audits,
        tracked,
        referred,
        rubric,
        mosaic_id=settings.oversight.report_mosaic_id,
        marking=settings.render.marking,
        statuses=statuses,
        programme=planned,
    )
    step(3)
    written_docx = None
    if docx:
        written_docx = report_docx.write_summary(
            docx_path, figs, referred, settings=settings, programme=planned
        )
        step(4)
    return Written(xlsx_path, written_docx, figs, planned)
