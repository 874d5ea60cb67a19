"""The word lists the storyboard anonymity check reads: people's names, rare conditions, and
the borough's own places (a TOML file the Quality Assurance Unit keeps).

The packaged lists are read once per process, the local list once per change of its file.
``tools/build_names.py`` makes ``names.txt`` from Faker's person lists.
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

LOCAL_KEYS = ("wards", "schools", "estates", "streets", "towns", "names", "conditions")
PLACE_KEYS = ("wards", "schools", "estates", "streets", "towns")


class WordlistError(Exception):
    """The local list cannot be read; the message says what to fix."""


def plain(text: str) -> str:
    """Return ``text`` lower case, without accents, curly apostrophes or repeated spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Names:
    """People's names, lower case: given names, family names, and those that are also words."""

    first: frozenset[str]
    last: frozenset[str]
    everyday: frozenset[str]  # May, Grace, Brown: a name only beside another name or a title

    def known(self, word: str) -> bool:
        """Return True when ``word`` is a known given or family name."""
        w = plain(word)
        return w in self.first or w in self.last


@dataclass(frozen=True)
class LocalList:
    """The borough's places, extra names and conditions (plain-folded phrases)."""

    places: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()
    conditions: tuple[str, ...] = ()
    source: str = ""


def _packaged(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def names() -> Names:
    """Return the packaged names (about 13,000; read once, in a few milliseconds)."""
    first: set[str] = set()
    last: set[str] = set()
    everyday: set[str] = set()
    for line in _packaged("names.txt").splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, kind = line.partition("\t")
        word = plain(name)
        (first if kind.startswith("first") else last).add(word)
        if kind.endswith("~"):
            everyday.add(word)
    return Names(frozenset(first), frozenset(last), frozenset(everyday))


@functools.cache
def conditions() -> tuple[str, ...]:
    """Return the packaged rare conditions, plain-folded."""
    lines = (line.strip() for line in _packaged("conditions.txt").splitlines())
    return tuple(plain(line) for line in lines if line and not line.startswith("#"))


def example_path() -> Path:
    """Return the packaged example of the local list (a fictional borough)."""
    return Path(str(resources.files(__name__).joinpath("local-example.toml")))


def local_list(path: Path | None) -> LocalList:
    """Return the local list at ``path`` (an empty one for None), re-read when the file changes.

    Raises WordlistError with what to fix when the file is missing or not a list of the keys
    in :data:`LOCAL_KEYS`.
    """
    if path is None:
        return LocalList()
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise WordlistError(
            f"The anonymity list {path} cannot be read ({exc.strerror}). Fix "
            "validation.anonymity_list in cssw-docs.toml, or remove it to check storyboards "
            "without the borough's own places."
        ) from exc
    return _read_local(path, stamp)


@functools.lru_cache(maxsize=8)
def _read_local(path: Path, stamp: int) -> LocalList:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WordlistError(
            f"The anonymity list {path} is not a readable TOML file ({exc}). Compare it with "
            f"the example {example_path()}."
        ) from exc
    unknown = sorted(set(data) - set(LOCAL_KEYS))
    bad = [k for k in LOCAL_KEYS if k in data and not _strings(data[k])]
    if unknown or bad:
        raise WordlistError(
            f"The anonymity list {path} has "
            + (f"keys it does not know ({', '.join(unknown)})" if unknown else "")
            + (" and " if unknown and bad else "")
            + (f"values that are not lists of text ({', '.join(bad)})" if bad else "")
            + f". Use only {', '.join(LOCAL_KEYS)}, each a list of text, as in {example_path()}."
        )
    places = tuple(plain(p) for key in PLACE_KEYS for p in data.get(key, ()) if p.strip())
    return LocalList(
        places=tuple(sorted(set(places), key=len, reverse=True)),
        names=frozenset(plain(n) for n in data.get("names", ()) if n.strip()),
        conditions=tuple(plain(c) for c in data.get("conditions", ()) if c.strip()),
        source=str(path),
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
