"""The findings as plain text an auditor reads: in the CLI, the rejection file and the email."""

from __future__ import annotations

import textwrap

from .models import Finding, Location, Report

WIDTH = 78


PACK = ("be turned into an audit pack", "send it in again")
PROGRAMME = ("be loaded as the audit programme", "load it again with `cssw-docs programme load`")


def explain(report: Report, *, source_name: str = "", purpose: tuple[str, str] = PACK) -> str:
    """Return the report as plain text: a one-line verdict, then errors, then warnings.

    ``purpose``: what the workbook is for and what to do once it is fixed (:data:`PACK`, the
    audit workbook; :data:`PROGRAMME`, the audit programme)."""
    lines = [verdict(report, source_name=source_name, purpose=purpose)]
    if report.errors:
        lines += ["", "Problems to fix:"]
        lines += _numbered(report.errors)
    if report.warnings:
        lines += [""] if report.ok else ["", "Also check these (they do not stop the pack):"]
        lines += _numbered(report.warnings)
    if report.errors:
        lines += ["", f"When you have fixed these, save the workbook and {purpose[1]}."]
    return "\n".join(lines) + "\n"


def verdict(report: Report, *, source_name: str = "", purpose: tuple[str, str] = PACK) -> str:
    """Return the one-line verdict: rejected with N problems, or ready (with N points)."""
    subject = f"This workbook ({source_name})" if source_name else "This workbook"
    if report.errors:
        count = _count(len(report.errors), "problem")
        return f"{subject} cannot {purpose[0]} yet: {count} to fix."
    if report.warnings:
        return f"{subject} is ready. {_count(len(report.warnings), 'point')} to check:"
    return f"{subject} is ready. Nothing to fix."


def place(location: Location | None) -> str:
    """Return where a finding is, in words: ``Ratings sheet, cell C12``."""
    if location is None or not location.sheet:
        return ""
    cell = location.cell.replace("$", "")
    if not cell:
        return f"{location.sheet} sheet"
    what = "cells" if ":" in cell else "cell"
    return f"{location.sheet} sheet, {what} {cell}"


def _numbered(findings: tuple[Finding, ...]) -> list[str]:
    """Return each finding as a numbered paragraph, its place and support code on the last line."""
    lines = []
    for number, finding in enumerate(findings, start=1):
        lead = f"{number}. "
        indent = " " * len(lead)
        where = place(finding.location)
        code = f"[{finding.code}]"
        lines += _wrap(finding.message if where else f"{finding.message}  {code}", lead, indent)
        if where:
            lines += _wrap(f"Where: {where}.  {code}", indent, indent)
    return lines


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"
