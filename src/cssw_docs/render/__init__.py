"""Audit packs: the template context, the docxtpl step, PDF copies and the pack folder on disk.

``context`` builds the variables (pure), ``docx`` is the only module importing docxtpl, ``pdf``
runs LibreOffice, and ``pack`` writes the pack folder as one transaction.
"""

from __future__ import annotations

from .context import build_context, for_document, rating_fill
from .docx import (
    DOCUMENTS,
    Rendered,
    RenderError,
    is_dark,
    jinja_env,
    packaged_templates_dir,
    prepare,
    render_document,
    template_path,
    template_sources,
)
from .pack import CSV_COLUMNS, CSV_NAME, actions_csv, document_kinds, render_pack

__all__ = [
    "CSV_COLUMNS",
    "CSV_NAME",
    "DOCUMENTS",
    "RenderError",
    "Rendered",
    "actions_csv",
    "build_context",
    "document_kinds",
    "for_document",
    "is_dark",
    "jinja_env",
    "packaged_templates_dir",
    "prepare",
    "rating_fill",
    "render_document",
    "render_pack",
    "template_path",
    "template_sources",
]
