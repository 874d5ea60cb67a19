"""Rules on text that leaves the child's record: the theme names no child."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Finding
from ..rules import names_child
from .check import ERROR, Check


def theme_identifies_no_one(c: Check) -> Iterator[Finding]:
    """The theme, shown to senior managers and in reports across audits, names no child."""
    if c.sub.audit_theme.strip() and names_child(c.sub.audit_theme, c.sub):
        yield c.at(
            "theme.identifying",
            ERROR,
            f"{c.label('audit_theme')} contains the child's name or MOSAIC ID. The theme goes "
            "to the senior management team and into reports across audits: describe the theme "
            "without naming the child.",
            "audit_theme",
        )
