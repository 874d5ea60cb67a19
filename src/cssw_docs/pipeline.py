"""The one-way flow for one workbook: read -> validate -> render, for the CLI and the watcher."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .explain import explain
from .models import Pack, Report, Submission
from .render import render_pack
from .rubric import Rubric
from .validate import validate
from .workbook.annotate import annotate
from .workbook.parse import UnreadableWorkbook, read_workbook


@dataclass(frozen=True)
class Checked:
    """A workbook read and judged: the submission (None when unreadable) and its report."""

    source: Path
    sha256: str
    submission: Submission | None
    report: Report

    @property
    def ok(self) -> bool:
        """Return True when the workbook can become a pack."""
        return self.submission is not None and self.report.ok


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check(path: Path, rubric: Rubric, settings: Settings) -> Checked:
    """Return the workbook at ``path`` read and validated against ``rubric``."""
    path = Path(path)
    try:
        digest = sha256_of(path)
    except OSError:
        digest = ""
    try:
        submission = read_workbook(path, rubric, settings.validation)
    except UnreadableWorkbook as exc:
        return Checked(path, digest, None, Report((exc.finding,)))
    return Checked(path, digest, submission, validate(submission, rubric, settings.validation))


def render(
    checked: Checked,
    rubric: Rubric,
    settings: Settings,
    outbox: Path,
    *,
    moderation_selected: bool | None = None,
) -> Pack:
    """Return the pack rendered from a workbook that passed ``check``."""
    if not checked.ok or checked.submission is None:
        raise ValueError("only a workbook without errors can be rendered")
    return render_pack(
        checked.submission,
        rubric,
        Path(outbox),
        settings=settings.render,
        source_sha256=checked.sha256,
        moderation_selected=moderation_selected,
    )


def write_rejection(checked: Checked, folder: Path, stem: str | None = None) -> list[Path]:
    """Write the annotated workbook (when readable) and a findings text file into ``folder``.

    Returns the paths written. ``stem`` defaults to the source file's name without suffix.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or checked.source.stem
    written = []
    text_path = folder / f"{stem} - problems.txt"
    text_path.write_text(explain(checked.report, source_name=checked.source.name), "utf-8")
    written.append(text_path)
    if checked.submission is not None:
        written.append(annotate(checked.source, checked.report, folder / f"{stem} - marked.xlsx"))
    return written


__all__ = ["Checked", "check", "render", "sha256_of", "write_rejection"]
