"""Storyboards beyond the pack: a poster (A4 or A3) and a booklet of a period's storyboards.

Both use the pack's storyboard design (``templates/storyboard*.docx``) and never the child's
name or MOSAIC ID. A ``.pdf`` output is made from the Word file by one LibreOffice run.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models import Submission
from .context import line, long_date, storyboard_context
from .docx import BOOKLET_TEMPLATE, POSTER_TEMPLATES, RenderError, render_document, template_file
from .pdf import convert

FORMATS = (".pdf", ".docx")
# About how many storyboards the contents lists on a page (titles of one or two lines). The
# page numbers are PAGEREF fields: LibreOffice (so every PDF) computes them, and Word shows
# this estimate until its fields are updated (F9, or printing).
CONTENTS_PER_PAGE = 18
EXTERNAL = "For sharing outside the service: partner agencies and Ofsted"
INTERNAL = "For sharing within the service only"


@dataclass(frozen=True)
class BookletInfo:
    """What the booklet's cover says: the period, the filters in words, and for whom."""

    start: dt.date | None
    end: dt.date | None
    filters: str = ""
    external: bool = False
    service: str = "Children's Safeguarding and Social Work"
    marking: str = "OFFICIAL-SENSITIVE"


def period_words(start: dt.date | None, end: dt.date | None) -> str:
    """Return the period as the cover says it: ``1 September to 31 December 2026``."""
    if start and end:
        first = f"{start.day} {start:%B}" if start.year == end.year else long_date(start)
        return f"{first} to {long_date(end)}"
    if start:
        return f"From {long_date(start)}"
    if end:
        return f"Up to {long_date(end)}"
    return "All storyboards"


def booklet_context(
    entries: Sequence[tuple[Submission, dt.date]],
    info: BookletInfo,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the booklet template's variables: ``booklet`` (the cover) and ``storyboards``.

    ``entries`` are each storyboard's audit and the day it was issued. Each storyboard has
    its ``number`` and the ``page`` it starts on when each takes one page (the contents page's
    number is a PAGEREF field, which Word and LibreOffice recompute).
    """
    now = now or dt.datetime.now(dt.UTC)
    storyboards = []
    before = 2 + max(1, math.ceil(len(entries) / CONTENTS_PER_PAGE))  # cover, contents, foreword
    for number, (sub, issued) in enumerate(entries, start=1):
        storyboards.append(
            storyboard_context(sub, issued) | {"number": number, "page": before + number}
        )
    count = len(storyboards)
    return {
        "marking": line(info.marking),
        "booklet": {
            "title": "Practice storyboards",
            "period": period_words(info.start, info.end),
            "service": line(info.service),
            "audience": EXTERNAL if info.external else INTERNAL,
            "filters": line(info.filters),
            "count": count,
            "count_line": f"{count} storyboard{'s' if count != 1 else ''} of good and "
            "outstanding practice",
            "generated_on": long_date(now.date()),
        },
        "storyboards": storyboards,
    }


def _output(out: Path) -> Path:
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise RenderError(
            f"{out.name}: give a file name ending in .pdf or .docx, e.g. storyboards.pdf."
        )
    if not out.parent.is_dir():
        raise RenderError(f"The folder {out.parent} does not exist. Create it or choose another.")
    return out


def _write(template: Path, context: dict[str, Any], out: Path, now: dt.datetime | None) -> Path:
    """Render ``template`` to ``out`` (.docx, or .pdf through LibreOffice); the file is 0600."""
    out = _output(out)
    with tempfile.TemporaryDirectory(prefix="cssw-docs-story-") as work:
        docx = Path(work) / (out.stem + ".docx")
        render_document(template, context, docx, now)
        made = convert([docx], Path(work))[0] if out.suffix.lower() == ".pdf" else docx
        os.chmod(made, 0o600)
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(made, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    return out


def write_booklet(
    entries: Sequence[tuple[Submission, dt.date]],
    info: BookletInfo,
    out: Path,
    *,
    templates_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write the booklet of ``entries`` (in order) to ``out``, a .pdf or .docx; return ``out``."""
    template = template_file(BOOKLET_TEMPLATE, templates_dir)
    return _write(template, booklet_context(entries, info, now), out, now)


def write_poster(
    sub: Submission,
    out: Path,
    *,
    size: str = "A3",
    issued: dt.date | None = None,
    marking: str = "OFFICIAL-SENSITIVE",
    templates_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write ``sub``'s storyboard as an A3 or A4 poster to ``out`` (.pdf or .docx)."""
    if size not in POSTER_TEMPLATES:
        raise RenderError(f"{size!r} is not a poster size. Use A3 or A4.")
    now = now or dt.datetime.now(dt.UTC)
    context = poster_context(sub, marking, now, issued or now.date())
    return _write(template_file(POSTER_TEMPLATES[size], templates_dir), context, out, now)


def poster_context(
    sub: Submission, marking: str, now: dt.datetime, issued: dt.date
) -> dict[str, Any]:
    """Return the variables the storyboard template needs, and nothing about the child."""
    return {
        "marking": line(marking),
        "audit_ref": line(sub.audit_ref),
        "is_draft": False,
        "awaiting_decision": False,
        "version_line": f"Printed {long_date(now.date())}.",
        "storyboard": storyboard_context(sub, issued),
    }
