"""What every rule reads (the ``Check``) and the small helpers the rules share."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from ..config import ValidationSettings
from ..models import Finding, Severity, Stage, Submission
from ..privacy import words
from ..rubric import AuditType, Rubric, RubricRules
from ..workbook.layout import Field, all_fields, in_version

ERROR = Severity.ERROR
WARNING = Severity.WARNING

__all__ = [
    "ERROR",
    "WARNING",
    "Check",
    "Rule",
    "add_months",
    "date_text",
    "filled",
    "words",
]


@dataclass(frozen=True)
class Check:
    """What every rule reads: the submission, the rubric, the settings and today's date."""

    sub: Submission
    rubric: Rubric
    settings: ValidationSettings
    today: dt.date

    @property
    def limits(self) -> RubricRules:
        """Return the limits taken from the guide (the rubric's ``[rules]`` table)."""
        return self.rubric.rules

    @cached_property
    def fields(self) -> dict[str, Field]:
        """Return the workbook's single-value fields by defined name."""
        return {f.name: f for f in all_fields(self.rubric)}

    def label(self, name: str) -> str:
        """Return the label the auditor sees beside the defined name ``name``, in quotes."""
        field = self.fields.get(name)
        return f"“{field.label if field else name}”"

    @cached_property
    def audit_type(self) -> AuditType | None:
        """Return the rubric's audit type for the submission, or None when unknown or blank."""
        return self.rubric.audit_type(self.sub.audit_type) if self.sub.audit_type else None

    def has(self, name: str) -> bool:
        """Return True when the workbook's template version has the defined name ``name``."""
        return in_version(name, self.sub.template_version)

    @property
    def final(self) -> bool:
        """Return True when the audit is at stage Final."""
        return self.sub.audit_stage is Stage.FINAL

    def at(self, code: str, severity: Severity, message: str, name: str) -> Finding:
        """Return a finding located at the cell of the defined name ``name``."""
        return Finding(code, severity, message, self.sub.where(name))

    def in_table(
        self, code: str, severity: Severity, message: str, table: str, row: int | None, header: str
    ) -> Finding:
        """Return a finding located at column ``header`` of sheet row ``row`` of ``table``."""
        return Finding(code, severity, message, self.sub.cell_of(table, row, header))

    def section_name(self, key: str) -> str:
        """Return the display name of the section ``key`` (Referral, Assessment ...)."""
        return self.rubric.section_name(key)

    def past(self, name: str) -> dt.date | None:
        """Return the date field ``name`` when it is set and not in the future, else None."""
        value = getattr(self.sub, name)
        return value if value is not None and value <= self.today else None


Rule = Callable[[Check], Iterator[Finding]]


def filled(value: object) -> bool:
    """Return True when a field holds something (text that is not only spaces, or a value)."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def date_text(value: dt.date) -> str:
    """Return ``value`` as the auditor writes it: 31/01/2026."""
    return value.strftime("%d/%m/%Y")


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` moved on by ``months`` (31 August + 6 months = 28 or 29 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
