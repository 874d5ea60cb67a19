"""Helpers for the audit-year tests: programme workbooks filled as the QA unit would, settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from cssw_docs.config import Settings
from cssw_docs.rubric import Rubric
from cssw_docs.workbook import programme as sheet

TYPES = ("Thematic", "Dip sample", "Practice Week", "Early Help/Front Door")
TEAMS = ("Assessment Team 1", "Assessment Team 2", "Children in Need 3", "Looked After 4")
AUDITORS = (("Priya Shah", "priya.shah"), ("Tom Baxter", "tom.baxter"), ("Ada Lowe", "ada.lowe"))
CHILDREN = ("Amara Okafor", "Leo Brennan", "Maya Ferris", "Noah Quill", "Iris Vance")


@dataclass(frozen=True)
class Row:
    """One planned audit as typed into the Programme table (header -> value)."""

    values: dict[str, object]

    @property
    def ref(self) -> str:
        return str(self.values["Audit reference"])


def planned_rows(count: int, first_month: dt.date, *, per_month: int = 4) -> list[Row]:
    """Return ``count`` planned audits, ``per_month`` to a month from ``first_month``."""
    rows = []
    for i in range(count):
        month0 = first_month.month - 1 + i // per_month
        month = dt.date(first_month.year + month0 // 12, month0 % 12 + 1, 1)
        kind = TYPES[i % len(TYPES)]
        auditor, user = AUDITORS[i % len(AUDITORS)]
        team = TEAMS[i % len(TEAMS)]
        child = CHILDREN[i % len(CHILDREN)]
        rows.append(
            Row(
                {
                    "Audit reference": f"QA-{month.year}-{i + 1:03d}",
                    "Type of audit": kind,
                    "Theme": "Neglect" if kind in ("Thematic", "Practice Week") else "",
                    "Planned month": dt.datetime(month.year, month.month, 1),
                    "Auditor": auditor,
                    "Auditor's email": f"{user}@camden.gov.uk",
                    "Auditor's role": "",
                    "Team": team,
                    "Allocated worker": f"Worker {i % 7}",
                    "Allocated worker's email": f"worker.{i % 7}@camden.gov.uk",
                    "Line manager": f"Manager {i % 4}",
                    "Line manager's email": f"manager.{i % 4}@camden.gov.uk",
                    "Child's name": child,
                    "MOSAIC ID": f"M{1000 + i}",
                }
            )
        )
    return rows


def write_programme(path: Path, rubric: Rubric, rows: list[Row]) -> Path:
    """Write a programme workbook from the generator's blank, filled with ``rows``."""
    sheet.new_programme(path, rubric)
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet.SHEET]
    table = ws.tables[sheet.TABLE]
    first_row = int(table.ref.split(":")[0][1:])
    columns = {ws.cell(first_row, c).value: c for c in range(1, len(sheet.COLUMNS) + 1)}
    for i, row in enumerate(rows, start=first_row + 1):
        for header, value in row.values.items():
            ws.cell(i, columns[header], value if value != "" else None)
    last = max(first_row + len(rows), first_row + 1)
    end_col = table.ref.split(":")[1].rstrip("0123456789")
    if last > int(table.ref.split(":")[1][len(end_col) :]):
        table.ref = f"A{first_row}:{end_col}{last}"
    wb.save(path)
    return path


def year_settings(tmp: Path, **changes: object) -> Settings:
    """Return settings for a service in ``tmp`` writing .eml files, every list filled."""
    base: dict[str, object] = {
        "service.intake": tmp / "intake",
        "service.outbox": tmp / "outbox",
        "service.state_dir": tmp / "state",
        "mail.head_of_qa": ["head.of.qa@camden.gov.uk"],
        "mail.qa_admin": ["qa.admin@camden.gov.uk"],
        "mail.smt": ["smt@camden.gov.uk"],
        "mail.sender": "cssw-docs@camden.gov.uk",
        "mail.allowed_domains": ["camden.gov.uk"],
    }
    base.update(changes)
    return Settings().with_changes(**base)
