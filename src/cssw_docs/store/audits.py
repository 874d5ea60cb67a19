"""The ``audits`` table and what oversight adds to it: moderation outcomes and resolutions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .db import now

_INSERT_AUDIT = (
    "INSERT OR REPLACE INTO audits (audit_ref, stage, version, job_id, source_sha256,"
    " processed_at, audit_date, data, pack_dir, moderation_selected)"
    " VALUES (:audit_ref, :stage, :version, :job_id, :source_sha256, :processed_at,"
    " :audit_date, :data, :pack_dir, :moderation_selected)"
)


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
) -> dict[str, Any]:
    return {
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
) -> None:
    """Write (or rewrite, after a crash) the ``audits`` row of a rendered pack.

    ``data`` is :func:`models.submission_to_dict` of the audit; ``processed_at`` is now
    unless given (UTC ISO 8601).
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


def audit_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every ``audits`` row (``data`` as stored JSON text), in the order written."""
    return conn.execute(
        "SELECT audit_ref, stage, version, processed_at, audit_date, data, pack_dir,"
        " moderation_selected FROM audits ORDER BY rowid"
    ).fetchall()


def record_moderation_outcome(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    recorded_at: str,
    moderator: str,
    rating: str,
    note: str,
) -> None:
    """Store the moderation panel's rating of ``audit_ref`` (a normalised reference)."""
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO moderation_outcomes (audit_ref, recorded_at, moderator,"
            " rating, note) VALUES (?, ?, ?, ?, ?)",
            (audit_ref, recorded_at, moderator, str(rating), note),
        )


def moderation_outcome_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every moderation outcome, oldest first (so the latest of a reference wins)."""
    return conn.execute(
        "SELECT audit_ref, recorded_at, moderator, rating, note FROM moderation_outcomes"
        " ORDER BY recorded_at"
    ).fetchall()


def record_resolution(
    conn: sqlite3.Connection,
    *,
    audit_ref: str,
    version: int,
    resolved_at: str,
    resolved_by: str,
    note: str,
) -> None:
    """Store that the referral of Final ``version`` of ``audit_ref`` is resolved."""
    with conn:
        conn.execute(
            "INSERT INTO escalation_resolutions (audit_ref, version, resolved_at, resolved_by,"
            " note) VALUES (?, ?, ?, ?, ?)",
            (audit_ref, version, resolved_at, resolved_by, note),
        )


def resolution_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Return every referral resolution."""
    return conn.execute(
        "SELECT audit_ref, version, resolved_at, resolved_by, note FROM escalation_resolutions"
    ).fetchall()
