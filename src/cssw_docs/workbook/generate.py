"""Make the blank intake workbook an auditor fills, and fill one from a Submission.

``sheets`` lays the workbook out, ``styles`` says how it looks, ``fill`` writes an audit's
values into it and ``fit`` sizes its rows; this module saves the result.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..models import Submission
from ..rubric import Rubric
from . import layout
from .blocks import Builder
from .fill import extra_areas, fill
from .fit import fit_rows
from .literal import keep_as_text
from .sheets import LISTS, TABLE_ROWS, build


class GenerateError(ValueError):
    """The workbook cannot be made as asked; the message says why in plain words."""


def new_workbook(path: Path, rubric: Rubric, audit_type: str | None = None) -> Path:
    """Write the blank intake workbook to ``path`` and return ``path``.

    ``audit_type`` (one of the rubric's audit types, any case) is pre-filled when given.
    """
    book = build(rubric, _canonical_type(rubric, audit_type))
    return _save(book, Path(path))


def write_submission(sub: Submission, path: Path, rubric: Rubric) -> Path:
    """Write a workbook filled with every value of ``sub`` to ``path`` and return ``path``.

    Used to make the example workbooks and test fixtures; the parser reading it back
    returns the same audit.
    """
    rows = {
        "AuditPlan": max(TABLE_ROWS["AuditPlan"], len(sub.actions) + 5),
        "FamilyFeedback": max(TABLE_ROWS["FamilyFeedback"], len(sub.feedback) + 5),
        "ComplianceGaps": max(TABLE_ROWS["ComplianceGaps"], len(sub.gaps) + 5),
    }
    extra = extra_areas(sub, rubric)
    book = build(rubric, None, rows=rows, extra_area_rows=len(extra))
    fill(book, sub, extra)
    return _save(book, Path(path))


def write_prefilled(items: Sequence[tuple[Submission, Path]], rubric: Rubric) -> list[Path]:
    """Write one workbook per (submission, path) holding the submission's single values only
    (the audit programme's pre-filled workbooks), laying the workbook out once for them all."""
    if not items:
        return []
    book = build(rubric, None)
    names = [f.name for f in layout.FIELDS if f.name != "template_version"]
    written = []
    for sub, path in items:
        for name in names:
            book.cell(name).value = None
        fill(book, sub, ())
        written.append(_save(book, Path(path)))
    return written


def _canonical_type(rubric: Rubric, audit_type: str | None) -> str | None:
    if not audit_type:
        return None
    found = rubric.audit_type(audit_type)
    if found is None:
        names = ", ".join(t.name for t in rubric.audit_types)
        raise GenerateError(f"'{audit_type}' is not a type of audit. Choose one of: {names}.")
    return found.name


def _save(book: Builder, path: Path) -> Path:
    """Size the rows and save atomically: a half-written workbook never appears at ``path``."""
    fit_rows(book, skip=(LISTS,))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cssw-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        keep_as_text(book.wb).save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
