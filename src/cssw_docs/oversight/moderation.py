"""Moderation panel sampling: which Final audits go to the panel, decided from the reference."""

from __future__ import annotations

import hashlib

from ..models import Stage, Submission
from ..rubric import Rubric


def normalise_ref(audit_ref: str) -> str:
    """Return the reference as compared everywhere: spaces collapsed, upper case."""
    return " ".join(str(audit_ref).split()).upper()


def sample_point(audit_ref: str) -> float:
    """Return the reference's fixed place in [0, 100): SHA-256 of the normalised reference."""
    digest = hashlib.sha256(normalise_ref(audit_ref).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100.0


def is_selected(audit_ref: str, percent: float) -> bool:
    """Return True when the audit is in the moderation sample of ``percent`` per cent.

    The answer depends only on the reference and the percentage, so the same audit is always
    in or out whatever order audits arrive in, and raising the percentage only adds audits.
    """
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    return sample_point(audit_ref) < percent


def needs_sampling(sub: Submission, rubric: Rubric) -> bool:
    """Return True for a Final audit whose type the rubric sends to the moderation panel."""
    if sub.audit_stage is not Stage.FINAL:
        return False
    kind = rubric.audit_type(sub.audit_type or "")
    return kind is not None and kind.moderation


def selection_for(sub: Submission, rubric: Rubric, percent: float) -> bool | None:
    """Return the value for the ledger: True/False when the audit is sampled, None otherwise."""
    if not needs_sampling(sub, rubric):
        return None
    return is_selected(sub.audit_ref, percent)
