"""Rules on the annual audit programme's rows: the same plain findings as an audit workbook.

Each row's reference, emails, names and dropdowns are judged by the audit workbook's own rules
(``validate.fields``), so a programme row that loads is one whose audit workbook would pass them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

from ..config import ValidationSettings
from ..models import Finding, PlannedAudit, Report, Severity, Submission
from ..oversight.moderation import normalise_ref
from ..rubric import Rubric
from ..workbook import programme as sheet
from ..workbook.programme import PlannedRow
from . import fields
from .check import Check

ERROR = Severity.ERROR
# The audit workbook's rules asked of each row.
ROW_RULES = (
    fields.audit_ref_is_safe,
    fields.emails_are_valid,
    fields.names_fit_an_email,
    fields.known_choices,
)


def judge(
    rows: tuple[PlannedRow, ...], rubric: Rubric, settings: ValidationSettings, today: dt.date
) -> tuple[list[PlannedAudit], Report]:
    """Return the planned audits of the rows without errors, and every finding."""
    findings: list[Finding] = []
    planned: list[PlannedAudit] = []
    seen: dict[str, int] = {}
    for row in rows:
        own = list(_row_findings(row, rubric, settings, today))
        ref = normalise_ref(row.text("ref"))
        if ref and ref in seen:
            own.append(
                Finding(
                    "programme.duplicate",
                    ERROR,
                    f"Row {row.row}: the audit reference {row.text('ref')} is also on row "
                    f"{seen[ref]}. Each planned audit needs its own reference.",
                    row.cells["ref"],
                )
            )
        seen.setdefault(ref, row.row)
        findings += own
        if not any(f.severity is ERROR for f in own):
            planned.append(planned_audit(row, rubric))
    if not rows:
        findings.append(
            Finding(
                "programme.empty",
                ERROR,
                "The Programme table has no rows. Add one row per planned audit.",
                None,
            )
        )
    return planned, Report(tuple(sorted(findings, key=lambda f: f.severity is not ERROR)))


def planned_audit(row: PlannedRow, rubric: Rubric) -> PlannedAudit:
    """Return the planned audit a row without errors holds (dropdowns as the list spells them)."""
    found = rubric.audit_type(row.text("audit_type"))
    roles = {r.casefold(): r for r in rubric.auditor_roles}
    month = sheet.month_of(row.values.get("planned_month"))
    assert month is not None  # judged before
    return PlannedAudit(
        audit_ref=row.text("ref"),
        audit_type=found.name if found else row.text("audit_type"),
        planned_month=month,
        auditor_name=row.text("auditor_name"),
        auditor_email=row.text("auditor_email"),
        auditor_role=roles.get(row.text("auditor_role").casefold(), row.text("auditor_role")),
        team=row.text("team"),
        practitioner_name=row.text("practitioner_name"),
        practitioner_email=row.text("practitioner_email"),
        manager_name=row.text("manager_name"),
        manager_email=row.text("manager_email"),
        theme=row.text("theme"),
        child_name=row.text("child_name"),
        child_mosaic_id=row.text("child_mosaic_id"),
    )


def _row_findings(
    row: PlannedRow, rubric: Rubric, settings: ValidationSettings, today: dt.date
) -> Iterator[Finding]:
    for c in sheet.COLUMNS:
        if c.required and not row.text(c.key):
            yield Finding(
                "programme.required",
                ERROR,
                f"Row {row.row}: “{c.header}” is empty. {c.help}",
                row.cells[c.key],
            )
    try:
        month = sheet.month_of(row.values.get("planned_month"))
    except (ValueError, OverflowError):
        yield Finding(
            "programme.month",
            ERROR,
            f"Row {row.row}: “Planned month” is not a month. Type any date in the month, "
            "e.g. 01/05/2026, or the month as May 2026.",
            row.cells["planned_month"],
        )
        month = None
    if month is not None and not dt.date(2000, 1, 1) <= month <= dt.date(2099, 12, 1):
        yield Finding(
            "programme.month",
            ERROR,
            f"Row {row.row}: “Planned month” should be a month between 2000 and 2099.",
            row.cells["planned_month"],
        )
    kind = rubric.audit_type(row.text("audit_type"))
    if kind is not None and kind.requires_theme and not row.text("theme"):
        yield Finding(
            "programme.theme",
            ERROR,
            f"Row {row.row}: a {kind.name} audit needs its “Theme”.",
            row.cells["theme"],
        )
    sub = _as_audit(row)
    for rule in ROW_RULES:
        for found in rule(Check(sub, rubric, settings, today)):
            yield dataclasses.replace(found, message=f"Row {row.row}: {found.message}")


def _as_audit(row: PlannedRow) -> Submission:
    """Return the row as an audit whose cells are the row's (for the audit's own rules)."""
    names = {"ref": "audit_ref"}
    locations = {names.get(k, k): loc for k, loc in row.cells.items()}
    return Submission(
        audit_ref=row.text("ref"),
        audit_type=row.text("audit_type"),
        child_name=row.text("child_name"),
        child_mosaic_id=row.text("child_mosaic_id"),
        auditor_name=row.text("auditor_name"),
        auditor_email=row.text("auditor_email"),
        auditor_role=row.text("auditor_role"),
        practitioner_name=row.text("practitioner_name"),
        practitioner_email=row.text("practitioner_email"),
        manager_name=row.text("manager_name"),
        manager_email=row.text("manager_email"),
        locations=locations,
    )
