"""Writes the "Workbook reference" of docs/workbook-reference.md: every defined name and table."""

from __future__ import annotations

from ..rubric import Rubric, in_words
from . import layout
from .sheets import build

_KIND_VALUES = {
    "text": "text",
    "long_text": "text (several lines)",
    "date": "a date, dd/mm/yyyy",
    "integer": "a whole number",
    "email": "an email address",
}


def _column_values(rubric: Rubric) -> dict[tuple[str, str], str]:
    """Return the allowed values of the table columns that have a dropdown or a format."""
    return {
        ("AuditPlan", "Section"): f"one of the {in_words(len(rubric.sections))} section names",
        ("AuditPlan", "Due date"): "a date, dd/mm/yyyy",
        ("AuditPlan", "Status"): "Open, Done, Dropped (from 1.2; empty means Open)",
        ("AuditPlan", "Completed on"): "a date, dd/mm/yyyy (from 1.2)",
        ("FamilyFeedback", "Question"): f"1 to {len(rubric.family_feedback_questions)}",
        ("ComplianceGaps", "Raised on"): "a date, dd/mm/yyyy",
        ("ComplianceGaps", "Addressed"): "Yes, No",
        ("Descriptors", "Evidenced"): "Yes, No (blank means No)",
    }


def reference_markdown(rubric: Rubric) -> str:
    """Return the "Workbook reference" (docs/workbook-reference.md): every name and table."""
    book = build(rubric, None)
    lines = [
        "Single values (workbook-scoped defined names, each pointing at one cell):",
        "",
        "| Defined name | Sheet | Label | Meaning | Allowed values |",
        "|---|---|---|---|---|",
    ]
    for f in layout.all_fields(rubric):
        ((sheet, _),) = tuple(book.wb.defined_names[f.name].destinations)
        if f.kind == "choice":
            allowed = ", ".join(layout.choices_for(f.choices, rubric))
        else:
            allowed = _KIND_VALUES[f.kind]
        lines.append(
            f"| `{f.name}` | {sheet} | {f.label} | {_md(f.meaning(rubric))} | {_md(allowed)} |"
        )
    lines += [
        "",
        "Repeating rows (Excel tables; empty rows are ignored):",
        "",
        "| Table | Sheet | Headers | Meaning | Allowed values |",
        "|---|---|---|---|---|",
    ]
    column_values = _column_values(rubric)
    for t in layout.TABLES:
        sheet = book.tables[t.name][0]
        headers = ", ".join(f"`{h}`" for h in t.headers)
        allowed = "; ".join(
            f"{h}: {column_values[(t.name, h)]}" for h in t.headers if (t.name, h) in column_values
        )
        meaning = _md(t.meaning(rubric))
        lines.append(f"| `{t.name}` | {sheet} | {headers} | {meaning} | {allowed or 'text'} |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
