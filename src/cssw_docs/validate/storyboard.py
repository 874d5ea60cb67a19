"""Rules on the storyboard: its status, complete when Completed, and identifying no one."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from .. import wordlists
from ..models import Finding, StoryboardStatus
from ..privacy import CLUE_FIX, CLUE_WHAT, identifying_details
from ..rules import (
    STORYBOARD_TEXT_FIELDS,
    anonymity_clues,
    storyboard_expected,
    storyboard_status,
    storyboard_written,
)
from .check import ERROR, WARNING, Check, filled

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
    """A Completed storyboard is whole, consented to and confirmed; the others need nothing.

    A Final audit rated Good or Outstanding is complete without a storyboard: the worker is
    invited to write one (status Not yet, Invited or Declined), and it can follow later in a
    revised workbook.
    """
    if not storyboard_expected(c.sub):
        return
    status = storyboard_status(c.sub)
    if status is not StoryboardStatus.COMPLETED:
        yield from _not_written(c, status)
        return
    for name in (*STORYBOARD_TEXT_FIELDS, "storyboard_consent"):
        if not filled(getattr(c.sub, name)):
            yield c.at(
                "storyboard.missing",
                ERROR,
                f"Fill in the storyboard's {c.label(name)}: {_why_complete(c)}",
                name,
            )
    yield from _consents(c)
    yield from _confirmed(c)


def _why_complete(c: Check) -> str:
    if c.has("storyboard_status"):
        return (
            "the storyboard is marked Completed. If it is not written yet, set "
            f"{c.label('storyboard_status')} to Not yet or Invited."
        )
    return "part of the storyboard is written. Finish it, or empty every storyboard cell."


def _not_written(c: Check, status: StoryboardStatus) -> Iterator[Finding]:
    """A storyboard not marked Completed is not produced: say so if its text is filled."""
    if c.has("storyboard_status") and c.sub.storyboard_status is None:
        yield c.at(
            "storyboard.status",
            WARNING,
            f"{c.label('storyboard_status')} is empty. The audit is rated "
            f"{c.sub.overall_rating}: invite the worker to write a storyboard with you, and set "
            "the status to Invited, Declined or Completed.",
            "storyboard_status",
        )
    written = [n for n in STORYBOARD_TEXT_FIELDS if filled(getattr(c.sub, n))]
    if written:
        yield c.at(
            "storyboard.not_completed",
            WARNING,
            f"The storyboard has text, but {c.label('storyboard_status')} is “{status}”, so no "
            "storyboard is produced. Set it to Completed when the storyboard is ready.",
            written[0] if c.sub.where("storyboard_status") is None else "storyboard_status",
        )


def _consents(c: Check) -> Iterator[Finding]:
    if c.sub.storyboard_consent is False:
        yield c.at(
            "storyboard.no_consent",
            WARNING,
            f"{c.label('storyboard_consent')} is No, so no storyboard is produced. It can "
            "follow in a revised workbook once the worker and the family agree.",
            "storyboard_consent",
        )
    if not c.has("storyboard_consent_external"):
        return
    external = c.sub.storyboard_consent_external
    if external is None:
        yield c.at(
            "storyboard.missing",
            ERROR,
            f"Choose Yes or No for {c.label('storyboard_consent_external')}: a storyboard is "
            "shared with other agencies and Ofsted only with that consent.",
            "storyboard_consent_external",
        )
    elif external and c.sub.storyboard_consent is False:
        yield c.at(
            "storyboard.consent_contradicts",
            ERROR,
            f"{c.label('storyboard_consent_external')} is Yes but "
            f"{c.label('storyboard_consent')} is No. Consent to share outside the service "
            "includes sharing within it: correct whichever is wrong.",
            "storyboard_consent_external",
        )


def _confirmed(c: Check) -> Iterator[Finding]:
    """The auditor confirms that nothing in the storyboard identifies the child or family."""
    if not c.has("storyboard_anonymised"):
        yield c.at(
            "storyboard.unconfirmed",
            WARNING,
            "This workbook is of template version "
            f"{c.sub.template_version or 'unknown'}, which has no place to confirm that nothing "
            "in the storyboard identifies the child or family, so no storyboard is produced. "
            "Copy the storyboard into a new workbook (`cssw-docs workbook new`), confirm it "
            "there and save it into the intake folder: only the storyboard is then issued.",
            "storyboard_title",
        )
    elif c.sub.storyboard_anonymised is not True:
        yield c.at(
            "storyboard.unconfirmed",
            ERROR,
            f"Confirm {c.label('storyboard_anonymised')} with Yes: a storyboard is produced "
            "only when you, the auditor, have read it and found nothing that identifies the "
            "child or the family. If it is not ready, set "
            f"{c.label('storyboard_status')} to Not yet.",
            "storyboard_anonymised",
        )


log = logging.getLogger(__name__)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def storyboard_anonymity(c: Check) -> Iterator[Finding]:
    """Warn on what commonly identifies a family: names, places, ages and conditions with dates.

    The auditor's confirmation releases a storyboard for the service. One that may be shared
    outside it (other agencies, Ofsted) is held back until each warning is settled: the detail
    changed, or listed in "Details checked for sharing outside".
    """
    if not storyboard_written(c.sub):
        return
    try:
        local = wordlists.local_list(c.settings.anonymity_list)
    except wordlists.WordlistError as exc:
        log.warning("%s", exc)
        local = wordlists.LocalList()
        yield c.at(
            "storyboard.anonymity_list",
            WARNING,
            "The borough's list of places could not be read, so the storyboard was checked "
            "without it. Tell the Quality Assurance Unit's administrator (`cssw-docs config "
            "check` says what is wrong).",
            "storyboard_title",
        )
    external = c.sub.storyboard_consent_external is True
    for name, clues in anonymity_clues(c.sub, local).items():
        counts: dict[str, int] = {}
        for clue in clues:
            counts[clue.code] = counts.get(clue.code, 0) + 1
        seen: dict[str, int] = {}
        for clue in clues:
            seen[clue.code] = seen.get(clue.code, 0) + 1
            which = ""
            if counts[clue.code] > 1:
                n = seen[clue.code]
                which = f" (the {_ORDINALS[n - 1] if n <= len(_ORDINALS) else f'{n}th'} of "
                which += f"{counts[clue.code]})"
            text = (
                f"The storyboard's {c.label(name)} contains {CLUE_WHAT[clue.code]}{which}. If "
                f"it could identify the family, {CLUE_FIX[clue.code]}. "
            )
            if external:
                text += (
                    f"{c.label('storyboard_consent_external')} is Yes, so no storyboard is "
                    "produced until you change it, or copy it into "
                    f"{c.label('storyboard_details_confirmed')} to confirm you checked it and "
                    "it identifies no one."
                )
            else:
                text += (
                    "If you have checked and it does not, leave it: your Yes to "
                    f"{c.label('storyboard_anonymised')} releases the storyboard."
                )
            yield c.at(f"storyboard.{clue.code}", ERROR if external else WARNING, text, name)


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
