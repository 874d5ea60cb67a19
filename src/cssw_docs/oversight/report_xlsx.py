"""The audit activity report as an Excel workbook: summaries, native charts, a row per audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..models import RATING_FILLS, Rating, Stage, Submission
from ..rubric import Rubric
from ..workbook.literal import keep_as_text
from .actions import Statuses, TrackedAction
from .escalations import Referral
from .figures import Figures, audit_row
from .progress import GroupRow, ProgrammeFigures
from .records import AuditRecord

NAVY = "1F3864"
PALE = "DEE6F0"
RATING_COLOURS = {  # the fills the audit pack uses
    grade: RATING_FILLS[grade]
    for grade in (r.value for r in Rating if r is not Rating.NOT_APPLICABLE)
}
GRADES = tuple(RATING_COLOURS)
DATE_FORMAT = "dd/mm/yyyy"
PERCENT_FORMAT = "0%"
NO_FIGURE = "–"

FONT = "Arial"  # Liberation Sans where Arial is missing: the same metrics
_BODY = Font(name=FONT, size=10)
_BOLD = Font(name=FONT, size=10, bold=True)
_TITLE = Font(name=FONT, bold=True, size=16, color=NAVY)
_HEADING = Font(name=FONT, bold=True, size=12, color=NAVY)
_HEADER = Font(name=FONT, size=10, bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor=NAVY)
_LABEL_FILL = PatternFill("solid", fgColor=PALE)
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def long_date(day: dt.date) -> str:
    """Return ``14 October 2026``."""
    return f"{day.day} {day:%B %Y}"


def period_text(figures: Figures) -> str:
    """Return the period in words, e.g. ``1 January 2026 to 31 March 2026``."""
    if figures.start and figures.end:
        return f"{long_date(figures.start)} to {long_date(figures.end)}"
    if figures.start:
        return f"from {long_date(figures.start)}"
    if figures.end:
        return f"up to {long_date(figures.end)}"
    return "all audits in the ledger"


def percent(value: float | None) -> float | str:
    """Return a share for a percentage cell, or a dash when there is nothing to divide by."""
    return NO_FIGURE if value is None else value


def headline(figures: Figures) -> list[tuple[str, Any, str]]:
    """Return the headline figures as (label, value, number format) in reading order."""
    m = figures.moderation
    return [
        ("Audits finalised", figures.audits, "0"),
        ("Audits still at Draft stage", figures.drafts_in_progress, "0"),
        ("Rated Good or better overall", percent(figures.overall.pct_good_or_better), "0%"),
        ("Rated Inadequate overall", percent(figures.overall.pct_inadequate), "0%"),
        ("Practitioner disagreed (referred to Head of QA)", figures.referrals, "0"),
        ("Referrals still open", figures.referrals_open, "0"),
        ("Family feedback given", figures.family_feedback, "0"),
        ("Storyboards of good practice", len(figures.storyboards), "0"),
        ("SMART actions set", figures.actions_total, "0"),
        (
            f"Actions past their due date on {figures.as_of:%d/%m/%Y}",
            figures.actions["Overdue"],
            "0",
        ),
        ("Actions due in the next four weeks", figures.actions["Due soon"], "0"),
        ("Audits selected for the moderation panel", m.selected, "0"),
        ("Audits of sampled types (Thematic, Practice Week)", m.eligible, "0"),
        ("Moderation outcomes recorded", m.recorded, "0"),
        ("Panel agreed with the auditor's rating", percent(m.pct_agreed), "0%"),
    ]


def _header(ws: Worksheet, row: int, col: int, names: Sequence[str]) -> None:
    for i, name in enumerate(names):
        cell = ws.cell(row, col + i, name)
        cell.font = _HEADER
        cell.fill = _HEADER_FILL
        cell.border = _BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _rows(
    ws: Worksheet,
    row: int,
    col: int,
    rows: Iterable[Sequence[Any]],
    formats: dict[int, str] | None = None,
) -> int:
    """Write ``rows`` from (row, col) boxed; return the next free row."""
    formats = formats or {}
    for values in rows:
        for i, value in enumerate(values):
            cell = ws.cell(row, col + i, value)
            cell.border = _BOX
            cell.font = _BODY
            if i in formats and not isinstance(value, str):
                cell.number_format = formats[i]
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            if isinstance(value, str) and value == NO_FIGURE:
                cell.alignment = Alignment(horizontal="right")
        row += 1
    return row


def _table(
    ws: Worksheet,
    row: int,
    col: int,
    title: str,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: dict[int, str] | None = None,
) -> int:
    """Write a titled, boxed table; return the row after it plus a blank line."""
    ws.cell(row, col, title).font = _HEADING
    _header(ws, row + 1, col, names)
    return _rows(ws, row + 2, col, rows, formats) + 1


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _page(ws: Worksheet, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def _title(ws: Worksheet, title: str, figures: Figures, marking: str) -> None:
    ws["A1"] = title
    ws["A1"].font = _TITLE
    ws["A2"] = f"{period_text(figures)} · produced {long_date(figures.as_of)} · {marking}"
    ws["A2"].font = Font(name=FONT, size=10, italic=True, color="595959")


def _summary(ws: Worksheet, figures: Figures, marking: str) -> None:
    _title(ws, "Audit activity report", figures, marking)
    row = 4
    if figures.empty:
        ws.cell(row, 1, f"No audits were finalised in this period ({period_text(figures)}).")
        ws.cell(row, 1).font = Font(name=FONT, size=10, bold=True, color="C00000")
        row += 2
    ws.cell(row, 1, "Headline figures").font = _HEADING
    line = row + 1
    for label, value, fmt in headline(figures):
        label_cell = ws.cell(line, 1, label)
        label_cell.fill = _LABEL_FILL
        label_cell.border = _BOX
        label_cell.font = _BODY
        cell = ws.cell(line, 2, value)
        cell.border = _BOX
        cell.font = _BOLD
        cell.alignment = Alignment(horizontal="right")
        if not isinstance(value, str):
            cell.number_format = fmt
        line += 1
    right = _table(ws, row, 4, "Audits by type", ("Type", "Audits"), figures.by_type)
    right = _table(
        ws,
        right,
        4,
        "Overall rating",
        ("Rating", "Audits", "Share"),
        [
            (grade, figures.overall.counts[grade], _share(figures.overall.counts[grade], figures))
            for grade in GRADES
        ],
        {2: PERCENT_FORMAT},
    )
    _table(
        ws,
        right,
        4,
        "Practitioner's view of the audit",
        ("View", "Audits"),
        figures.agreement.items(),
    )
    _table(
        ws,
        line + 1,
        1,
        "Audits by team",
        ("Team", "Audits"),
        [(t.team, t.audits) for t in figures.by_team],
    )
    _widths(ws, (50, 11, 3, 24, 10, 10))
    _page(ws, landscape=False)


def _share(count: int, figures: Figures) -> float | str:
    rated = figures.overall.rated
    return count / rated if rated else NO_FIGURE


def _ratings(ws: Worksheet, figures: Figures, marking: str) -> None:
    _title(ws, "Rating distribution per section and overall", figures, marking)
    names = ("Section", *GRADES, "Not applicable", "Not rated", "Graded", "% Good or better",
             "% Inadequate")  # fmt: skip
    rows = [
        (
            d.name,
            *(d.counts[g] for g in GRADES),
            d.counts["Not applicable"],
            d.counts["Not rated"],
            d.rated,
            percent(d.pct_good_or_better),
            percent(d.pct_inadequate),
        )
        for d in (*figures.sections, figures.overall)
    ]
    _header(ws, 4, 1, names)
    end = _rows(ws, 5, 1, rows, {8: PERCENT_FORMAT, 9: PERCENT_FORMAT})
    for col in range(1, len(names) + 1):
        ws.cell(end - 1, col).font = _BOLD
    _widths(ws, (26, 12, 10, 14, 12, 12, 10, 9, 12, 12))
    ws.row_dimensions[4].height = 32
    if not figures.empty:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "percentStacked"
        chart.overlap = 100
        chart.gapWidth = 60
        chart.title = "Rating given, by section (share of graded audits)"
        chart.y_axis.title = None
        chart.y_axis.number_format = "0%"
        chart.y_axis.majorGridlines = None
        chart.x_axis.scaling.orientation = "maxMin"  # sections read top to bottom
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        data = Reference(ws, min_col=2, max_col=5, min_row=4, max_row=end - 1)
        cats = Reference(ws, min_col=1, min_row=5, max_row=end - 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        _colour(chart)
        chart.legend.position = "b"
        chart.height, chart.width = 9.5, 24
        ws.add_chart(chart, f"A{end + 1}")
    _page(ws)


def _colour(chart: BarChart) -> None:
    for series, grade in zip(chart.series, GRADES, strict=False):
        series.graphicalProperties.solidFill = RATING_COLOURS[grade]
        series.graphicalProperties.line.solidFill = RATING_COLOURS[grade]


def _months(ws: Worksheet, figures: Figures, marking: str) -> None:
    _title(ws, "Audits by month and overall rating", figures, marking)
    names = ("Month", "Audits", *GRADES, "% Good or better")
    rows = [
        (m.label, m.audits, *(m.overall.counts[g] for g in GRADES), m.overall.pct_good_or_better)
        for m in figures.by_month
    ]
    _header(ws, 4, 1, names)
    end = _rows(ws, 5, 1, rows, {6: PERCENT_FORMAT})
    ws.cell(end + 1, 1, "The share is blank for a month without graded audits.").font = Font(
        name=FONT, size=9, italic=True, color="595959"
    )
    _widths(ws, (12, 9, 12, 10, 14, 12, 12))
    ws.row_dimensions[4].height = 32
    if not figures.empty and figures.by_month:
        bars = BarChart()
        bars.type = "col"
        bars.grouping = "stacked"
        bars.overlap = 100
        bars.title = "Audits finalised each month, by overall rating"
        bars.y_axis.title = "Audits"
        bars.y_axis.delete = False
        bars.x_axis.delete = False
        bars.add_data(
            Reference(ws, min_col=3, max_col=6, min_row=4, max_row=end - 1), titles_from_data=True
        )
        bars.set_categories(Reference(ws, min_col=1, min_row=5, max_row=end - 1))
        _colour(bars)
        bars.legend.position = "b"
        bars.height, bars.width = 9, 22
        ws.add_chart(bars, "I4")
        line = LineChart()
        line.title = "Share rated Good or better overall"
        line.y_axis.number_format = "0%"
        line.y_axis.scaling.min = 0
        line.y_axis.scaling.max = 1
        line.y_axis.delete = False
        line.x_axis.delete = False
        line.add_data(Reference(ws, min_col=7, min_row=4, max_row=end - 1), titles_from_data=True)
        line.set_categories(Reference(ws, min_col=1, min_row=5, max_row=end - 1))
        line.series[0].graphicalProperties.line.solidFill = NAVY
        line.series[0].graphicalProperties.line.width = 28000
        line.series[0].smooth = False
        line.legend = None
        line.height, line.width = 7, 22
        ws.add_chart(line, "I23")
    _page(ws)


def _teams(ws: Worksheet, figures: Figures, marking: str) -> None:
    _title(ws, "Audits by team", figures, marking)
    names = ("Team", "Audits", "Good or better", "Inadequate", "Practitioner disagreed",
             "SMART actions", "Actions overdue", "Actions done", "Actions dropped",
             "Done (of those still needed)")  # fmt: skip
    rows = [
        (
            t.team,
            t.audits,
            t.good_or_better,
            t.inadequate,
            t.disagreements,
            t.actions,
            t.overdue,
            t.done,
            t.dropped,
            percent(t.pct_done and t.pct_done / 100),
        )
        for t in figures.by_team
    ]
    total = [sum(r[i] for r in rows) for i in range(1, 9)]
    needed = total[4] - total[7]
    total.append(percent(total[6] / needed if needed else None))
    _header(ws, 4, 1, names)
    end = _rows(ws, 5, 1, [*rows, ("All teams", *total)], {9: PERCENT_FORMAT})
    for col in range(1, len(names) + 1):
        ws.cell(end - 1, col).font = _BOLD
    _widths(ws, (40, 9, 12, 12, 14, 12, 12, 12, 12, 14))
    ws.row_dimensions[4].height = 32
    _page(ws, landscape=True)


def _actions(
    ws: Worksheet, figures: Figures, actions: Sequence[TrackedAction], marking: str
) -> None:
    _title(ws, f"SMART actions, as at {long_date(figures.as_of)}", figures, marking)
    row = _table(
        ws, 4, 1, "Where the actions stand", ("Status", "Actions"),
        [*figures.actions.items(), ("All actions", figures.actions_total)],
    )  # fmt: skip
    ws.cell(row, 1, "Every action").font = _HEADING
    names = ("Reference", "No.", "Team", "Section", "Owner", "Due", "Status", "Closed on",
             "Action")  # fmt: skip
    _header(ws, row + 1, 1, names)
    end = _rows(
        ws,
        row + 2,
        1,
        [
            (
                a.audit_ref,
                a.number,
                a.team,
                a.section,
                a.owner,
                a.due or "",
                a.status,
                (a.closed.on or "") if a.closed else "",
                a.action,
            )
            for a in actions
        ],
    )
    for r in range(row + 2, end):
        ws.cell(r, 9).alignment = Alignment(wrap_text=True, vertical="top")
        if ws.cell(r, 7).value == "Overdue":
            ws.cell(r, 7).font = Font(name=FONT, size=10, bold=True, color="C00000")
    _widths(ws, (18, 5, 30, 20, 18, 12, 13, 12, 64))
    ws.freeze_panes = ws.cell(row + 2, 1)
    _page(ws)


PROGRAMME_COLUMNS = ("Planned", "Completed", "In progress", "Late", "Not started")


def _group_rows(groups: Iterable[GroupRow]) -> list[tuple[Any, ...]]:
    return [(g.group, g.planned, g.completed, g.in_progress, g.late, g.not_started) for g in groups]


def _programme(ws: Worksheet, figures: Figures, programme: ProgrammeFigures, marking: str) -> None:
    _title(ws, f"The audit programme, as at {long_date(programme.as_of)}", figures, marking)
    ws.cell(3, 1, "Late: not Final by the end of its planned month. Each audit counts once.")
    ws.cell(3, 1).font = Font(name=FONT, size=9, italic=True, color="595959")
    row = _table(
        ws, 4, 1, "Planned against done", ("", *PROGRAMME_COLUMNS), _group_rows([programme.total])
    )
    for title, groups in (
        ("By planned month", programme.by_month),
        ("By team", programme.by_team),
        ("By type of audit", programme.by_type),
        ("By auditor", programme.by_auditor),
    ):
        row = _table(ws, row, 1, title, (title[3:].capitalize(), *PROGRAMME_COLUMNS),
                     _group_rows(groups))  # fmt: skip
    ws.cell(row, 1, "Every planned audit").font = _HEADING
    names = ("Reference", "Planned month", "Type", "Team", "Auditor", "State", "Standing")
    _header(ws, row + 1, 1, names)
    _rows(
        ws,
        row + 2,
        1,
        [
            (
                p.audit_ref,
                p.plan.planned_month.strftime("%b %Y") if p.plan else "",
                p.audit_type,
                p.team,
                p.auditor,
                p.state.value.capitalize(),
                p.category(programme.as_of).capitalize(),
            )
            for p in programme.audits
        ],
    )
    _widths(ws, (34, 13, 20, 26, 16, 18, 14))
    _page(ws, landscape=False)


def _moderation(ws: Worksheet, figures: Figures, marking: str) -> None:
    m = figures.moderation
    _title(ws, "Moderation panel: sample and agreement", figures, marking)
    row = _table(
        ws, 4, 1, "Sample and outcomes", ("Measure", "Audits"),
        [
            ("Audits of sampled types", m.eligible),
            ("Selected for the panel", m.selected),
            ("Outcomes recorded", m.recorded),
            ("Panel gave the auditor's rating", m.agreed),
            ("Panel rated higher than the auditor", m.higher),
            ("Panel rated lower than the auditor", m.lower),
            ("Agreement between auditor and panel", percent(m.pct_agreed)),
        ],
        {1: PERCENT_FORMAT},
    )  # fmt: skip
    ws.cell(row - 2, 2).number_format = PERCENT_FORMAT
    ws.cell(row, 1, "Audits for the panel").font = _HEADING
    names = ("Reference", "Type", "Team", "Auditor", "Selected", "Auditor's rating",
             "Panel's rating", "Outcome", "Panel note")  # fmt: skip
    _header(ws, row + 1, 1, names)
    end = _rows(
        ws,
        row + 2,
        1,
        [
            (r.audit_ref, r.audit_type, r.team, r.auditor,
             "Yes" if r.selected else "No (added by the panel)", r.auditor_rating,
             r.moderator_rating, r.comparison, r.note)
            for r in m.rows
        ],
    )  # fmt: skip
    for r in range(row + 2, end):
        ws.cell(r, 9).alignment = Alignment(wrap_text=True, vertical="top")
    _widths(ws, (34, 14, 34, 18, 12, 18, 18, 18, 50))
    _page(ws)


def _views(ws: Worksheet, figures: Figures, referrals: Sequence[Referral], marking: str) -> None:
    _title(
        ws,
        "Practitioner agreement and referrals to the Head of Quality Assurance",
        figures,
        marking,
    )
    row = _table(
        ws, 4, 1, "Practitioner's view of the audit", ("View", "Audits"), figures.agreement.items()
    )
    names = (
        "Reference",
        "Version",
        "Team",
        "Auditor",
        "Practitioner",
        "Referred",
        "Status",
        "Note",
    )
    row = _table(
        ws,
        row,
        1,
        "Referrals (Final audits where the practitioner disagreed)",
        names,
        [
            (r.audit_ref, r.version, r.team, r.auditor, r.practitioner, r.referred_on,
             "Open" if r.is_open else "Resolved", r.note)
            for r in referrals
        ],
    )  # fmt: skip
    _widths(ws, (34, 9, 34, 18, 18, 12, 10, 50))
    _page(ws)


def _storyboards(ws: Worksheet, figures: Figures, marking: str) -> None:
    _title(ws, "Storyboards of good practice", figures, marking)
    _header(ws, 4, 1, ("Reference", "Title", "Team", "Worker", "Overall rating"))
    _rows(
        ws, 5, 1, [(s.audit_ref, s.title, s.team, s.worker, s.overall) for s in figures.storyboards]
    )
    _widths(ws, (18, 60, 34, 18, 16))
    _page(ws)


_AUDIT_WIDTHS = {"Reference": 17, "Type": 20, "Theme": 40, "Team": 34, "Auditor": 18}


def _audits(
    ws: Worksheet,
    records: Sequence[AuditRecord],
    rubric: Rubric,
    as_of: dt.date,
    mosaic_id: bool,
    statuses: Statuses | None = None,
) -> None:
    rows = [audit_row(r, rubric, as_of, mosaic_id=mosaic_id, statuses=statuses) for r in records]
    names = list(rows[0]) if rows else list(_empty_row(rubric, as_of, mosaic_id))
    _header(ws, 1, 1, names)
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row.values(), start=1):
            cell = ws.cell(i, j, value)
            cell.font = _BODY
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
    for j, name in enumerate(names, start=1):
        width = _AUDIT_WIDTHS.get(name, max(11, min(len(name) + 2, 16)))
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "B2"
    if rows:
        ref = f"A1:{get_column_letter(len(names))}{len(rows) + 1}"
        table = Table(displayName="Audits", ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    _page(ws)


def _empty_row(rubric: Rubric, as_of: dt.date, mosaic_id: bool) -> dict[str, Any]:
    blank = AuditRecord(Submission(audit_stage=Stage.FINAL), 1, as_of.isoformat(), "", None)
    return audit_row(blank, rubric, as_of, mosaic_id=mosaic_id)


def write_report(
    dest: Path,
    figures: Figures,
    records: Sequence[AuditRecord],
    actions: Sequence[TrackedAction],
    referrals: Sequence[Referral],
    rubric: Rubric,
    *,
    mosaic_id: bool = False,
    marking: str = "OFFICIAL-SENSITIVE",
    statuses: Statuses | None = None,
    programme: ProgrammeFigures | None = None,
) -> Path:
    """Write the activity report workbook to ``dest`` and return it (with a Programme sheet
    when audits were planned in the period)."""
    wb = Workbook()
    _summary(wb.active, figures, marking)
    wb.active.title = "Summary"
    _ratings(wb.create_sheet("Ratings"), figures, marking)
    _months(wb.create_sheet("Months"), figures, marking)
    _teams(wb.create_sheet("Teams"), figures, marking)
    _actions(wb.create_sheet("Actions"), figures, actions, marking)
    if programme is not None and not programme.empty:
        _programme(wb.create_sheet("Programme"), figures, programme, marking)
    _views(wb.create_sheet("Disagreements"), figures, referrals, marking)
    _moderation(wb.create_sheet("Moderation"), figures, marking)
    _storyboards(wb.create_sheet("Storyboards"), figures, marking)
    _audits(wb.create_sheet("Audits"), records, rubric, figures.as_of, mosaic_id, statuses)
    wb.properties.title = f"Audit activity report, {period_text(figures)}"
    wb.properties.creator = "cssw-docs"
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    keep_as_text(wb).save(dest)
    return dest


def write_moderation_list(
    dest: Path, records: Sequence[AuditRecord], rubric: Rubric, *, mosaic_id: bool = False
) -> Path:
    """Write the audits for the moderation panel, with space for its rating and note."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Moderation sample"
    names = ["Reference"] + (["MOSAIC ID"] if mosaic_id else [])
    names += ["Type", "Theme", "Team", "Auditor", "Practitioner", "Manager", "Audit date"]
    names += [s.name for s in rubric.sections]
    names += ["Overall", "Auditor's overall", "Practitioner agreement", "Panel date"]
    names += ["Panel rating", "Panel note"]
    _header(ws, 1, 1, names)
    rows = []
    for record in records:
        sub = record.submission
        rated = {s.key: s.rating for s in sub.sections}
        outcome = record.moderation
        rows.append(
            [sub.audit_ref]
            + ([sub.child_mosaic_id] if mosaic_id else [])
            + [sub.audit_type, sub.audit_theme, sub.team, sub.auditor_name,
               sub.practitioner_name, sub.manager_name, sub.audit_date or ""]
            + [rated[s.key].value if rated.get(s.key) else "Not rated" for s in rubric.sections]
            + [sub.overall_rating.value if sub.overall_rating else "Not rated",
               record.auditor_rating.value if record.auditor_rating else "Not rated",
               sub.practitioner_agreement.value if sub.practitioner_agreement else "Not recorded",
               record.panel_date or "",
               outcome.rating.value if outcome else "", outcome.note if outcome else ""]
        )  # fmt: skip
    _rows(ws, 2, 1, rows)
    for j, name in enumerate(names, start=1):
        width = 36 if name in ("Theme", "Team", "Panel note") else max(12, min(len(name) + 2, 22))
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "B2"
    _page(ws)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    keep_as_text(wb).save(dest)
    return dest
