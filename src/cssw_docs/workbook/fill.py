"""Writes the values of a Submission into a laid-out workbook, as an auditor would type them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from openpyxl.cell.cell import Cell

from ..models import SECTION_KEYS, PracticeAreaNote, Submission
from ..rubric import Rubric
from . import layout, styles
from .blocks import Builder


def extra_areas(sub: Submission, rubric: Rubric) -> list[PracticeAreaNote]:
    """Return the practice-area notes of ``sub`` on areas the rubric does not list."""
    known = {_norm(a) for a in rubric.core_areas}
    return [n for n in sub.practice_areas if _norm(n.area) not in known]


def fill(book: Builder, sub: Submission, extra: Sequence[PracticeAreaNote]) -> None:
    """Write every value of ``sub`` into ``book``; ``extra`` areas go on the spare rows."""
    rubric = book.rubric
    for f in layout.FIELDS:
        value = getattr(sub, f.name)
        if f.name == "template_version" and value is None:
            continue
        _put(book.cell(f.name), value)
    for section in sub.sections:
        if section.key not in SECTION_KEYS:
            continue
        _put(book.cell(f"{section.key}_rating"), section.rating)
        for suffix in ("evidence", "strengths", "development"):
            _put(book.cell(f"{section.key}_{suffix}"), getattr(section, suffix))

    _rows(
        book,
        "AuditPlan",
        [
            (
                a.action,
                a.section,
                a.owner,
                a.due,
                a.measure,
                a.status.value.capitalize() if a.status else None,
                a.completed_on,
            )
            for a in sub.actions
        ],
    )
    _rows(book, "FamilyFeedback", [(f.respondent, f.question, f.response) for f in sub.feedback])
    _rows(book, "ComplianceGaps", [(g.area, g.gap, g.raised_on, g.addressed) for g in sub.gaps])

    # Descriptors: pre-filled by the generator; mark the ones the submission says are evidenced.
    evidenced = {
        (_section_norm(rubric, m.section), _norm(m.grade), _norm(m.descriptor))
        for m in sub.descriptors
        if m.evidenced
    }
    sheet, first, last = book.tables["Descriptors"]
    ws = book.wb[sheet]
    for row in range(first, last + 1):
        key = (
            _section_norm(rubric, ws.cell(row, 1).value),
            _norm(ws.cell(row, 2).value),
            _norm(ws.cell(row, 3).value),
        )
        if key in evidenced:
            ws.cell(row, 4).value = "Yes"

    # Practice areas: notes beside the pre-filled areas, unknown areas on the spare rows.
    sheet, first, last = book.tables["PracticeAreas"]
    ws = book.wb[sheet]
    by_area = {_norm(n.area): n.notes for n in sub.practice_areas}
    for row in range(first, first + len(rubric.core_areas)):
        notes = by_area.get(_norm(ws.cell(row, 1).value))
        if notes:
            ws.cell(row, 2).value = notes
    for i, note in enumerate(extra):
        ws.cell(first + len(rubric.core_areas) + i, 1).value = note.area
        ws.cell(first + len(rubric.core_areas) + i, 2).value = note.notes or None


def _rows(book: Builder, table: str, rows: list[tuple]) -> None:
    sheet, first, _last = book.tables[table]
    ws = book.wb[sheet]
    for i, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            _put(ws.cell(first + i, col), value)


def _put(c: Cell, value: object) -> None:
    """Write ``value`` as the workbook shows it: enums as text, booleans Yes/No, real dates."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        c.value = "Yes" if value else "No"
    elif isinstance(value, dt.datetime):
        c.value = value
        c.number_format = styles.DATE_FORMAT
    elif isinstance(value, dt.date):
        c.value = dt.datetime(value.year, value.month, value.day)
        c.number_format = styles.DATE_FORMAT
    elif isinstance(value, int | float):
        c.value = value
    else:
        c.value = str(value)


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _section_norm(rubric: Rubric, text: object) -> str:
    return rubric.section_key_for(str(text or "")) or _norm(text)
