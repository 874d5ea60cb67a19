"""Referrals to the Head of Quality Assurance: Final audits where the practitioner disagrees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .records import AuditRecord


@dataclass(frozen=True)
class Referral:
    """One audit referred to the Head of Quality Assurance."""

    audit_ref: str
    version: int
    team: str
    auditor: str
    practitioner: str
    manager: str
    referred_on: dt.date
    days_open: int
    is_open: bool
    note: str


def referrals(
    records: Iterable[AuditRecord], today: dt.date, *, include_resolved: bool = False
) -> list[Referral]:
    """Return the open referrals (and the resolved ones too when asked), oldest first."""
    found = []
    for record in records:
        if not record.referred or not (record.referral_open or include_resolved):
            continue
        sub = record.submission
        found.append(
            Referral(
                sub.audit_ref,
                record.version,
                sub.team,
                sub.auditor_name,
                sub.practitioner_name,
                sub.manager_name,
                record.finalised_on,
                max((today - record.finalised_on).days, 0),
                record.referral_open,
                record.resolution_note,
            )
        )
    found.sort(key=lambda r: (r.referred_on, r.audit_ref))
    return found
