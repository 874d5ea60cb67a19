"""Tests for addresses: the one strict reading of an email address and the allowlist rule."""

from __future__ import annotations

import pytest

from cssw_docs import addresses
from cssw_docs.addresses import AddressError


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("priya.natarajan@camden.gov.uk", "priya.natarajan@camden.gov.uk"),
        ("  tom.baxter@Camden.Gov.UK ", "tom.baxter@camden.gov.uk"),
        ("o'neil+qa@social.camden.gov.uk", "o'neil+qa@social.camden.gov.uk"),
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
    ],
)
def test_plain_addresses_parse(text, address):
    """One plain address parses; the domain is compared in lower case."""
    assert addresses.parse(text).address == address


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("outside@example.org, priya@camden.gov.uk", "more than one address"),
        ("outside@example.org; priya@camden.gov.uk", "more than one address"),
        ("Name <outside@example.org>, x@camden.gov.uk", "more than one address"),
        ("<x> y@camden.gov.uk", "a space"),
        ("<y@camden.gov.uk>", "something around the address"),
        ('"a b"@camden.gov.uk', "a space"),
        ('"ab"@camden.gov.uk', "something around the address"),
        ("a@b@camden.gov.uk", "exactly one @"),
        ("x\n@camden.gov.uk", "line break"),
        ("x@camden.gov.uk\n", "line break"),
        ("x\u2028@camden.gov.uk", "line break"),
        ("x\u2029@camden.gov.uk", "line break"),
        ("x\u0085@camden.gov.uk", "line break"),
        ("x\u200b@camden.gov.uk", "invisible"),
        ("x\u202e@camden.gov.uk", "invisible"),
        ("x@c\u0430mden.gov.uk", "accents"),  # a Cyrillic а in the domain
        ("x@camden", "name@domain"),
        ("x..y@camden.gov.uk", "name@domain"),
        ("x@-camden.gov.uk", "name@domain"),
        ("x" * 65 + "@camden.gov.uk", "too long"),
    ],
)
def test_anything_but_one_plain_address_is_refused(text, why):
    """Lists, names, brackets, quotes, extra @, line breaks and look-alikes are all refused."""
    with pytest.raises(AddressError, match=why):
        addresses.parse(text)
    assert not addresses.is_usable(text)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Tom\u2028Baxter", "line break"),
        ("Tom\u2029Baxter", "line break"),
        ("Tom\u0085Baxter", "line break"),
        ("Tom\nBaxter", "line break"),
        ("Tom\tBaxter", "line break"),
        ("Tom <outside@example.org>", "angle brackets"),
        ("T" * 201, "longer than"),
    ],
)
def test_display_names_that_cannot_go_in_a_header_are_refused(name, why):
    """A name with a line or paragraph separator, a tab or angle brackets is refused."""
    assert why in (addresses.name_problem(name) or "")
    with pytest.raises(AddressError, match=why):
        addresses.parse("tom.baxter@camden.gov.uk", name)


@pytest.mark.parametrize("name", ["Baxter, Tom", 'Tom "TJ" Baxter', "Zoë Ångström", "O'Neil"])
def test_ordinary_names_read_back_as_one_mailbox(name):
    """Commas, quotes and accents in a name are quoted in the header, still one mailbox."""
    box = addresses.parse("tom.baxter@camden.gov.uk", name)
    assert box.name == name
    assert box.address == "tom.baxter@camden.gov.uk"


@pytest.mark.parametrize(
    ("domain", "allowed", "inside"),
    [
        ("camden.gov.uk", ("camden.gov.uk",), True),
        ("social.camden.gov.uk", ("@camden.gov.uk",), True),
        ("CAMDEN.GOV.UK", ("camden.gov.uk",), True),
        ("evil-camden.gov.uk", ("camden.gov.uk",), False),
        ("camden.gov.uk.evil.com", ("camden.gov.uk",), False),
        ("camden.gov.uk", (), False),
    ],
)
def test_domain_allowed(domain, allowed, inside):
    """A domain is allowed when listed or a subdomain of one listed; look-alikes are not."""
    assert addresses.domain_allowed(domain, allowed) is inside


def test_printable_escapes_line_breaks():
    """Text shown on one line (status, notices) has its line breaks written as escapes."""
    assert addresses.printable("a\nb\u2028c") == "a\\nb\\u2028c"
