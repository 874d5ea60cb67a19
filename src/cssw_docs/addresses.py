"""Email addresses: the one strict reading of an address, and whether its domain is allowed.

Every address the service reads (a workbook's email cells, a configured list) or sends to goes
through :func:`parse`: it is usable only when it is exactly one plain ``local@domain`` address,
with nothing around it (no name, no angle brackets, no second address after a comma or a
semicolon) and no line break or invisible character anywhere. The allowlist is then checked on
the domain that parsing found, never on the text after the last ``@``. Pure (no I/O).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses

# RFC 5322 dot-atom text (ASCII only) and a host name of letter-digit-hyphen labels.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_MAX_LOCAL = 64  # RFC 5321 4.5.3.1.1
_MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3, less the angle brackets
_MAX_NAME = 200  # a display name longer than this is not a person's name
# Unicode categories that have no place in an address or a display name: control (Cc),
# format (Cf: zero-width and direction marks), line and paragraph separators (Zl, Zp),
# surrogates (Cs), private use (Co) and unassigned (Cn).
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_AROUND = set('<>()[]":\\')  # what wraps an address in a name, a comment or a quoted part


class AddressError(ValueError):
    """An address or display name that cannot be used; ``str()`` says why, without quoting it."""


@dataclass(frozen=True)
class Mailbox:
    """One usable recipient: the address (domain in lower case) and an optional display name."""

    local: str
    domain: str
    name: str = ""

    @property
    def address(self) -> str:
        """Return ``local@domain``, the envelope address."""
        return f"{self.local}@{self.domain}"

    def header(self) -> str:
        """Return the mailbox as it goes in a To, Cc or From header."""
        return str(Address(display_name=self.name, username=self.local, domain=self.domain))


def _invisible(text: str) -> bool:
    """Return True when ``text`` holds a line break, tab, control or invisible character."""
    return any(
        unicodedata.category(ch) in _INVISIBLE or (ch.isspace() and ch != " ") for ch in text
    )


def name_problem(name: str) -> str | None:
    """Return why ``name`` cannot be a display name, or None when it can."""
    if _invisible(name):
        return "it contains a line break, a tab or an invisible character"
    if "<" in name or ">" in name:
        return "it contains angle brackets < >"
    if len(name) > _MAX_NAME:
        return f"it is longer than {_MAX_NAME} characters"
    return None


def address_problem(text: str) -> str | None:
    """Return why ``text`` is not exactly one plain email address, or None when it is."""
    text = text.strip(" ")
    if not text:
        return "it is empty"
    if _invisible(text):
        return "it contains a line break, a tab or an invisible character"
    if "," in text or ";" in text:
        return "it holds more than one address (a comma or a semicolon)"
    if " " in text:
        return "it contains a space"
    if any(ch in _AROUND for ch in text):
        return "it has something around the address (a name, brackets or quotes)"
    if text.count("@") != 1:
        return "it must contain exactly one @"
    if not text.isascii():
        return "it contains characters an email address cannot hold (such as accents)"
    local, _, domain = text.partition("@")
    if not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return "it is not of the form name@domain"
    if len(local) > _MAX_LOCAL or len(text) > _MAX_ADDRESS:
        return "it is too long"
    return None


def parse(text: str, name: str = "") -> Mailbox:
    """Return the one mailbox ``text`` is (with display ``name``); raise AddressError if not.

    Beyond the checks of :func:`address_problem` and :func:`name_problem`, the header the
    mailbox would be written as must read back as exactly this one mailbox.
    """
    if not isinstance(text, str) or not isinstance(name, str):
        raise AddressError("it is not text")
    problem = address_problem(text)
    if problem is None and name:
        problem = name_problem(name)
        problem = f"the name beside it: {problem}" if problem else None
    if problem is not None:
        raise AddressError(problem)
    local, _, domain = text.strip(" ").partition("@")
    box = Mailbox(local, domain.lower(), name.strip())
    try:
        header = box.header()
    except (ValueError, HeaderParseError, IndexError) as exc:
        raise AddressError("it cannot be written in an email header") from exc
    if getaddresses([header]) != [(box.name, box.address)]:
        raise AddressError("it does not read back as one address")
    return box


def is_usable(text: str) -> bool:
    """Return True when ``text`` is exactly one plain email address."""
    return address_problem(text) is None


def normal_domains(domains: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return configured domains as compared: lower case, without a leading ``@`` or dot."""
    return tuple(d.strip().lower().lstrip("@.") for d in domains if d and d.strip())


def domain_allowed(domain: str, domains: tuple[str, ...] | list[str]) -> bool:
    """Return True when ``domain`` is one of ``domains`` or a subdomain of one.

    ``x@social.camden.gov.uk`` is inside ``camden.gov.uk``; a look-alike
    (``evil-camden.gov.uk``, ``camden.gov.uk.evil.com``) is not. Pass the parsed domain.
    """
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in normal_domains(domains))


def printable(text: str, limit: int = 120) -> str:
    """Return ``text`` safe to show on one line (a log, ``mail status``, a notice).

    Line breaks and invisible characters are written as escapes (``\\n``, ``\\u2028``).
    """
    out = "".join(
        ch.encode("unicode_escape").decode("ascii") if _invisible(ch) else ch for ch in str(text)
    )
    return out if len(out) <= limit else out[: limit - 3] + "..."
