"""Rules on the audit details: required and recommended fields, dropdowns, reference, emails."""

from __future__ import annotations

from collections.abc import Iterator

from .. import addresses
from ..models import Finding
from ..rules import (
    reference_fits_format,
    reference_format_help,
    reference_identifies_child,
    reference_is_safe,
)
from .check import ERROR, WARNING, Check, filled

# Fields every audit needs, whatever its type and stage.
ALWAYS_REQUIRED: tuple[str, ...] = (
    "audit_ref",
    "audit_type",
    "audit_stage",
    "audit_date",
    "child_name",
    "child_mosaic_id",
    "team",
    "auditor_name",
    "auditor_email",
    "auditor_role",
    "practitioner_name",
    "practitioner_email",
    "manager_name",
    "manager_email",
    "review_period_start",
    "review_period_end",
    "discussion_date",
    "discussion_mode",
    "discussion_minutes",
    "family_consent",
    "overall_rating",
    "overall_summary",
)
# Fields a Final audit needs: the practitioner has given their view.
FINAL_REQUIRED: tuple[str, ...] = ("practitioner_agreement", "practitioner_feedback")
# Fields the report reads badly without: a warning when empty.
RECOMMENDED: tuple[str, ...] = ("good_practice", "areas_for_development")

EMAIL_FIELDS: tuple[str, ...] = ("auditor_email", "practitioner_email", "manager_email")
# The names that go beside those addresses in email headers.
NAME_FIELDS: tuple[str, ...] = ("auditor_name", "practitioner_name", "manager_name")


def _requirements(c: Check) -> Iterator[tuple[str, str]]:
    """Yield (defined name, why it is needed) for each field this audit must fill in."""
    for name in ALWAYS_REQUIRED:
        yield name, "every audit needs it"
    kind = c.audit_type
    if kind is not None and kind.requires_theme:
        yield "audit_theme", f"a {kind.name} audit needs a theme"
    if kind is not None and kind.requires_observation:
        if c.sub.observation_none_reason is not None:
            if c.has("observation_none_detail"):
                yield "observation_none_detail", "say why no practice was observed"
        else:
            yield (
                "observation_activity",
                (
                    f"a {kind.name} audit observes direct practice. If none was observed, leave it "
                    f"empty and choose why in {c.label('observation_none_reason')}"
                    if c.has("observation_none_reason")
                    else f"a {kind.name} audit observes direct practice"
                ),
            )
            yield "observation_consent", f"a {kind.name} observation needs the family's consent"
    if c.final:
        for name in FINAL_REQUIRED:
            yield name, "a Final audit records the practitioner's response"


def required_fields(c: Check) -> Iterator[Finding]:
    """Every field the audit's type and stage need is filled in."""
    for name, why in _requirements(c):
        if filled(getattr(c.sub, name)):
            continue
        field = c.fields.get(name)
        verb = "Choose a value for" if field and field.kind == "choice" else "Fill in"
        yield c.at(f"required.{name}", ERROR, f"{verb} {c.label(name)}: {why}.", name)


def recommended_fields(c: Check) -> Iterator[Finding]:
    """Fields the report reads badly without are filled in (a warning)."""
    names = list(RECOMMENDED)
    if c.final and c.sub.actions:
        names.append("practitioner_plan_feedback")
    for name in names:
        if not filled(getattr(c.sub, name)):
            yield c.at(
                f"recommended.{name}",
                WARNING,
                f"{c.label(name)} is empty. The audit report is clearer with it: fill it in.",
                name,
            )


def known_choices(c: Check) -> Iterator[Finding]:
    """Dropdown fields hold one of the rubric's values."""
    allowed = {
        "audit_type": tuple(t.name for t in c.rubric.audit_types),
        "auditor_role": c.rubric.auditor_roles,
        "discussion_mode": c.rubric.discussion_modes,
    }
    for name, values in allowed.items():
        value = " ".join(str(getattr(c.sub, name)).split())
        if value and value.casefold() not in {v.casefold() for v in values}:
            yield c.at(
                f"choice.{name}",
                ERROR,
                f"{c.label(name)} is not one of the values in its list. "
                f"Choose one of: {', '.join(values)}.",
                name,
            )


def audit_ref_is_safe(c: Check) -> Iterator[Finding]:
    """The audit reference can name a folder, a file and a subject, and identifies no child."""
    ref = c.sub.audit_ref.strip()
    if not ref:
        return
    if not reference_is_safe(ref):
        yield c.at(
            "ref.unsafe",
            ERROR,
            f"{c.label('audit_ref')} cannot be used as a file name. "
            f"{reference_format_help(c.settings)}",
            "audit_ref",
        )
    elif not reference_fits_format(ref, c.settings):
        yield c.at(
            "ref.format",
            ERROR,
            f"{c.label('audit_ref')} is not in the form the Quality Assurance Unit uses. "
            f"{reference_format_help(c.settings)}",
            "audit_ref",
        )
    if reference_identifies_child(ref, c.sub):
        yield c.at(
            "ref.identifying",
            ERROR,
            f"{c.label('audit_ref')} contains the child's name or MOSAIC ID. The reference is "
            "used in file names and email subjects: use a reference that does not identify "
            f"the child, e.g. {c.settings.reference_example}.",
            "audit_ref",
        )


def emails_are_valid(c: Check) -> Iterator[Finding]:
    """Email addresses are exactly one plain address each, inside the domains when configured.

    The same parser as every email the service sends (``cssw_docs.addresses``), so a workbook
    whose address could not be emailed is refused here, at the cell, and not when sending.
    """
    for name in EMAIL_FIELDS:
        address = getattr(c.sub, name).strip()
        if not address:
            continue
        try:
            box = addresses.parse(address)
        except addresses.AddressError as exc:
            yield c.at(
                "email.invalid",
                ERROR,
                f"{c.label(name)} is not a valid email address: {exc}. Write one address "
                "only, like firstname.lastname@camden.gov.uk.",
                name,
            )
            continue
        domains = addresses.normal_domains(c.settings.email_domains)
        if domains and not addresses.domain_allowed(box.domain, domains):
            yield c.at(
                "email.outside_domain",
                WARNING,
                f"{c.label(name)} is outside the council's email domains "
                f"({', '.join(domains)}). Check it: the pack will not be emailed to an "
                "outside address.",
                name,
            )


def names_fit_an_email(c: Check) -> Iterator[Finding]:
    """The names of the auditor, worker and manager can stand beside their address in an email."""
    for name in NAME_FIELDS:
        problem = addresses.name_problem(getattr(c.sub, name).strip())
        if problem is not None:
            yield c.at(
                "name.invalid",
                ERROR,
                f"{c.label(name)} cannot be used in an email: {problem}. Write the name on one "
                "line, as plain text.",
                name,
            )
