"""Rules on the storyboard: complete when one is expected, and identifying no one."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Finding
from ..privacy import identifying_details
from ..rules import storyboard_expected
from .check import ERROR, WARNING, Check, filled

STORYBOARD_TEXT_FIELDS: tuple[str, ...] = (
    "storyboard_title",
    "storyboard_context",
    "storyboard_what_we_did",
    "storyboard_impact",
    "storyboard_voice",
    "storyboard_learning",
)

# What to do about each kind of identifying detail (privacy.Detector codes).
IDENTITY_FIX = {
    "child_name": "write “the child”, or the child's age, instead of the name",
    "mosaic_id": "remove the MOSAIC ID",
    "dob": "remove the date and give the child's age instead",
    "phone": "remove the phone number",
    "email": "remove the email address",
    "postcode": "remove the postcode and any address",
}


def storyboard_complete(c: Check) -> Iterator[Finding]:
    """A Final audit rated Good or Outstanding has a complete storyboard."""
    if not storyboard_expected(c.sub):
        return
    rating = c.sub.overall_rating
    for name in (*STORYBOARD_TEXT_FIELDS, "storyboard_consent"):
        if not filled(getattr(c.sub, name)):
            yield c.at(
                "storyboard.missing",
                ERROR,
                f"Fill in the storyboard's {c.label(name)}: a Final audit rated {rating} needs "
                "a complete storyboard to share the good practice across the service.",
                name,
            )
    if c.sub.storyboard_consent is False:
        yield c.at(
            "storyboard.no_consent",
            WARNING,
            f"{c.label('storyboard_consent')} is No. The storyboard must not be shared until "
            "the worker and the family agree.",
            "storyboard_consent",
        )


def storyboard_identifies_no_one(c: Check) -> Iterator[Finding]:
    """The storyboard, shared outside the child's record, holds no identifying detail."""
    for name in STORYBOARD_TEXT_FIELDS:
        for detail in identifying_details(getattr(c.sub, name), c.sub):
            yield c.at(
                f"storyboard.{detail.code}",
                ERROR,
                f"The storyboard's {c.label(name)} contains {detail.what}. Storyboards are "
                f"shared outside the child's record: {IDENTITY_FIX[detail.code]}.",
                name,
            )
