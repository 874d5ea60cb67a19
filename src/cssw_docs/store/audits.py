"""The ``audits`` table and what follows a pack: decisions, the panel's dates and outcomes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .db import now

_INSERT_AUDIT = (
    "INSERT OR REPLACE INTO audits (audit_ref, stage, version, job_id, source_sha256,"
    " processed_at, audit_date, data, pack_dir, moderation_selected, issue)"
    " VALUES (:audit_ref, :stage, :version, :job_id, :source_sha256, :processed_at,"
    " :audit_date, :data, :pack_dir, :moderation_selected, :issue)"
)
# What a pack version issued (the ``audits.issue`` column).
ISSUE_PACK = "pack"  # what its stage says: the Draft, or the Final pack
ISSUE_AWAITING = "awaiting"  # a disputed Final audit, awaiting the Head of QA's decision
ISSUE_DECIDED = "decided"  # the final pack issued with the Head of QA's decision
ISSUE_STORYBOARD = "storyboard"  # a storyboard that followed its Final pack


def _audit_params(
    *,
    audit_ref: str,
    stage: str,
    version: int,
    job_id: str,
    source_sha256: str,
    audit_date: str | None,
    data: Mapping[str, Any],
    pack_dir: Path | str,
    moderation_selected: bool | None,
    processed_at: str | None = None,
    issue: str = ISSUE_PACK,
) -> dict[str, Any]:
    return {
        "issue": issue,
        "audit_ref": audit_ref,
        "stage": str(stage),
        "version": version,
        "job_id": job_id,
        "source_sha256": source_sha256,
        "processed_at": processed_at or now(),
        "audit_date": audit_date,
        "data": json.dumps(data, ensure_ascii=False),
        "pack_dir": str(pack_dir),
        "moderation_selected": None if moderation_selected is None else int(moderation_selected),
    }


def record_audit(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    stage: str,
    version: int,
    job_id: str,
    source_sha256: str,
    audit_date: str | None,
    data: Mapping[str, Any],
    pack_dir: Path | str,
    moderation_selected: bool | None,
    processed_at: str | None = None,
    issue: str = ISSUE_PACK,
) -> None:
    """Write (or rewrite, after a crash) the ``audits`` row of a rendered pack.

    ``data`` is :func:`models.submission_to_dict` of the audit; ``processed_at`` is now
    unless given (UTC ISO 8601); ``issue`` is what the version issued (``ISSUE_*``).
    """
    params = _audit_params(
        audit_ref=audit_ref,
        stage=stage,
        version=version,
        job_id=job_id,
        source_sha256=source_sha256,
        audit_date=audit_date,
        data=data,
        pack_dir=pack_dir,
        moderation_selected=moderation_selected,
        processed_at=processed_at,
        issue=issue,
    )
    with conn:
        conn.execute(_INSERT_AUDIT, params)


def audit_exists(conn: sqlite3.Connection, audit_ref: str, stage: str, version: int) -> bool:
    """Return True when the ledger has the ``audits`` row of that pack."""
    row = conn.execute(
        "SELECT 1 FROM audits WHERE audit_ref = ? AND stage = ? AND version = ?",
        (audit_ref, str(stage), version),
    ).fetchone()
    return row is not None


def record_audits(conn: sqlite3.Connection, audits: Iterable[Mapping[str, Any]]) -> None:
    """Write many ``audits`` rows in one transaction; each takes :func:`record_audit`'s keywords."""
    with conn:
        conn.executemany(_INSERT_AUDIT, [_audit_params(**a) for a in audits])


def audit_rows(conn: sqlite3.Connection, audit_ref: str | None = None) -> list[sqlite3.Row]:
    """Return every ``audits`` row (``data`` as stored JSON text), in the order written.

    With ``audit_ref``, only that audit's versions (the reference compared in upper case).
    """
    sql = (
        "SELECT audit_ref, stage, version, job_id, source_sha256, processed_at, audit_date,"
        " data, pack_dir, moderation_selected, issue FROM audits"
    )
    if audit_ref is None:
        return conn.execute(sql + " ORDER BY rowid").fetchall()
    return conn.execute(
        sql + " WHERE upper(audit_ref) = upper(?) ORDER BY rowid", (audit_ref,)
    ).fetchall()


# --- the moderation panel ---------------------------------------------------------------------


def record_moderation_outcome(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    recorded_at: str,
    moderator: str,
    rating: str,
    note: str,
    sections: Mapping[str, str] | None = None,
    panel_date: str | None = None,
) -> None:
    """Store the moderation panel's decision on ``audit_ref`` (a normalised reference).

    ``rating`` is the overall rating of record after the panel; ``sections`` the section
    ratings the panel changed ({key: rating}); ``moderator`` the chair.
    """
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO moderation_outcomes (audit_ref, recorded_at, moderator,"
            " rating, note, sections, panel_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                audit_ref,
                recorded_at,
                moderator,
                str(rating),
                note,
                json.dumps({k: str(v) for k, v in (sections or {}).items()}),
                panel_date,
            ),
        )


def moderation_outcome_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every moderation outcome, oldest first (so the latest of a reference wins)."""
    return conn.execute(
        "SELECT audit_ref, recorded_at, moderator, rating, note, sections, panel_date"
        " FROM moderation_outcomes ORDER BY recorded_at"
    ).fetchall()


def schedule_panel(
    conn: sqlite3.Connection, *, audit_ref: str, panel_date: str, scheduled_at: str
) -> None:
    """Store the date of the panel ``audit_ref`` (normalised) goes to; a new date replaces it."""
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO moderation_panels (audit_ref, panel_date, scheduled_at)"
            " VALUES (?, ?, ?)",
            (audit_ref, panel_date, scheduled_at),
        )


def panel_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return the panel date of every scheduled audit."""
    return conn.execute(
        "SELECT audit_ref, panel_date, scheduled_at FROM moderation_panels"
    ).fetchall()


# --- the Head of Quality Assurance's decisions --------------------------------------------------


def record_decision(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    version: int,
    outcome: str,
    note: str,
    decided_on: str,
    decided_by: str,
    recorded_at: str | None = None,
) -> bool:
    """Store the Head of QA's decision on the referral of Final ``version`` of ``audit_ref``.

    Returns False (storing nothing) when that referral already has a decision.
    """
    with conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO escalation_resolutions (audit_ref, version, resolved_at,"
            " resolved_by, note, outcome, decided_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (audit_ref, version, recorded_at or now(), decided_by, note, outcome, decided_on),
        )
    return cursor.rowcount == 1


def mark_decision_issued(
    conn: sqlite3.Connection, *, audit_ref: str, version: int, issued_version: int
) -> None:
    """Record which Final version was issued with the decision on ``version``'s referral."""
    with conn:
        conn.execute(
            "UPDATE escalation_resolutions SET issued_version = ? WHERE audit_ref = ?"
            " AND version = ?",
            (issued_version, audit_ref, version),
        )


def mark_replacement_issued(
    conn: sqlite3.Connection, *, audit_ref: str, issued_version: int
) -> None:
    """Record that the revised audit a "replaced" decision asked for is issued as ``version``."""
    with conn:
        conn.execute(
            "UPDATE escalation_resolutions SET issued_version = ? WHERE upper(audit_ref) ="
            " upper(?) AND outcome = 'replaced' AND issued_version IS NULL",
            (issued_version, audit_ref),
        )


def resolution_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every decision on a referral (and the resolutions of release 0.1.0)."""
    return conn.execute(
        "SELECT audit_ref, version, resolved_at, resolved_by, note, outcome, decided_on,"
        " issued_version FROM escalation_resolutions ORDER BY resolved_at"
    ).fetchall()
