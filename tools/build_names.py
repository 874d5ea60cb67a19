"""Build ``src/cssw_docs/wordlists/names.txt``, the people's names the anonymity check knows.

Run ``.venv/bin/python tools/build_names.py`` (Faker comes with the ``[test]`` extra). The
names are Faker's person lists for the locales below: the given names and family names most
common in Britain and in the communities a London borough serves. Faker is kept up to date
by its maintainers; this script only picks and sorts, so the same Faker version always gives
the same file.

Each line is ``name<TAB>kind``: ``first`` or ``last``, with ``~`` added when the name is also
an everyday English word (May, Grace, Brown, Hill). Such a name counts only next to another
name or after a title, never on its own (``privacy.AnonymityCheck``).
"""

from __future__ import annotations

import importlib
import sys
import unicodedata
from pathlib import Path

import faker

# British and Irish names first, then the languages most spoken in London after English.
LOCALES = (
    "en_GB", "en_IE", "en_US", "en_IN", "en_PK", "en_NG", "en_KE", "ar_AA", "bn_BD", "tr_TR",
    "pl_PL", "pt_PT", "pt_BR", "es_ES", "it_IT", "fr_FR", "ro_RO", "yo_NG", "ig_NG", "tw_GH",
)  # fmt: skip
OUT = Path(__file__).parents[1] / "src" / "cssw_docs" / "wordlists" / "names.txt"


def _plain(name: str) -> str | None:
    """Return ``name`` without accents when it is one word of Latin letters, else None."""
    text = "".join(
        c for c in unicodedata.normalize("NFKD", name) if unicodedata.category(c) != "Mn"
    )
    if not text.isascii() or not text.replace("'", "").replace("-", "").isalpha():
        return None
    return text if len(text) >= 3 else None


def _everyday_words() -> set[str]:
    """Return common English words (Faker's English word list), lower case."""
    lorem = importlib.import_module("faker.providers.lorem.en_US").Provider
    return {w.lower() for w in lorem.word_list}


# Names that are also everyday words but are missing from Faker's word list.
EXTRA_EVERYDAY = {
    "grace", "hope", "joy", "faith", "rose", "dawn", "summer", "bill", "frank", "young",
    "brown", "green", "white", "black", "hill", "wood", "guy", "patience", "angel", "christian",
    "mark", "may", "will", "april", "june", "august", "sunny", "sky", "star", "major", "king",
    "day", "long", "short", "little", "rich", "price", "mason", "cook", "baker", "hall",
    "park", "lane", "field", "ford", "bird", "fox", "rice", "page", "gray", "grey", "moss",
    "sharp", "fair", "best", "miles", "hunter", "carter", "bishop", "shepherd", "marsh",
    "walker", "turner", "booth", "wells", "banks", "church", "chapel", "bush", "stone",
    "golden", "sweet", "love", "more", "west", "north", "south", "east", "iris", "ivy",
    "holly", "heather", "daisy", "lily", "poppy", "amber", "ruby", "crystal", "pearl",
    "destiny", "liberty", "trinity", "harmony", "precious", "miracle", "blessing", "gift",
    "victory", "justice", "unity", "lucky", "happy", "nancy", "jack", "carol", "dean", "don",
    "art", "ray", "wade", "chase", "cash", "lance", "mace", "reed", "rod", "sterling",
    "early", "help", "front", "door", "team", "care", "family", "school", "court", "house",
    "social", "worker", "mother", "father", "child", "baby", "said", "the", "and",
}  # fmt: skip


def build() -> str:
    """Return the text of names.txt."""
    everyday = _everyday_words() | EXTRA_EVERYDAY
    kinds: dict[str, set[str]] = {}
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr, kind in (
            ("first_names", "first"),
            ("first_names_male", "first"),
            ("first_names_female", "first"),
            ("last_names", "last"),
        ):
            for name in getattr(provider, attr, ()) or ():
                plain = _plain(name)
                if plain:
                    kinds.setdefault(plain.title() if plain.isupper() else plain, set()).add(kind)
    lines = [
        f"# Made by tools/build_names.py from Faker {faker.VERSION} ({', '.join(LOCALES)}).",
        "# name<TAB>first|last, ~ when also an everyday English word. Do not edit by hand.",
    ]
    for name in sorted(kinds, key=str.casefold):
        kind = "first" if "first" in kinds[name] else "last"
        mark = "~" if name.lower() in everyday else ""
        lines.append(f"{name}\t{kind}{mark}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(build(), encoding="utf-8")
    print(target, sum(1 for _ in target.open()) - 2, "names")
