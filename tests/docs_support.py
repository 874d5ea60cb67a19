"""Reading the documentation: the README and every guide under docs/, and what they show.

Every docs-truth test reads the files through here, so a guide added under docs/ is checked
like the others without naming it anywhere.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def doc_files() -> list[Path]:
    """Return the README and every Markdown file under docs/, in a stable order."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def doc_id(path: Path) -> str:
    """Return how a test names a documentation file: its path from the repository root."""
    return path.relative_to(ROOT).as_posix()


def text_of(path: Path) -> str:
    """Return a documentation file's text."""
    return path.read_text(encoding="utf-8")


def section(name: str) -> str:
    """Return the text between ``<!-- section:NAME -->`` and its end, wherever it lives.

    Exactly one documentation file may hold a section: a test of it then follows it there.
    """
    pattern = rf"<!-- section:{name} -->(.*?)<!-- /section:{name} -->"
    found = [m.group(1) for p in doc_files() for m in re.finditer(pattern, text_of(p), re.S)]
    assert len(found) == 1, f"the {name} section is in {len(found)} documentation files, not one"
    return found[0]


@dataclass(frozen=True)
class Fence:
    """A fenced code block: its language ("" when none), its text and its first line."""

    lang: str
    text: str
    line: int


def fences(text: str) -> list[Fence]:
    """Return the fenced code blocks of a Markdown text (indented ones too, e.g. in lists)."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent, lang, first = opening.group(1), opening.group(2), i + 1
        body = []
        i += 1
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            body.append(lines[i])
            i += 1
        out.append(Fence(lang, textwrap.dedent("\n".join(body)), first))
        i += 1
    return out


def without_fences(text: str) -> str:
    """Return the text with its fenced code blocks left out (prose and inline code)."""
    return re.sub(r"^([ \t]*)```\w*[ \t]*$.*?^\1```[ \t]*$", "", text, flags=re.S | re.M)


def code_lines(text: str) -> list[str]:
    """Return every line of code: each line of a fenced block and each inline code span."""
    spans = re.findall(r"`([^`\n]+)`", without_fences(text))
    return [line for f in fences(text) for line in f.text.splitlines()] + spans


# `cssw-docs` as a command word: not cssw-docs.toml, cssw-docs@..., /opt/cssw-docs/, cssw_docs.
_COMMAND = re.compile(r"(?:^|(?<=[\s/\\`(\"']))cssw-docs(?:\.exe)?(?=\s|$)")
# Where a command on a line ends: a comment, another command, a redirection.
_END = re.compile(r"\s(?:#|&&|\|\||\||;|>>?|2>&1)(?:\s|$)|\)$|`")


def command_lines(text: str) -> list[tuple[str, list[str]]]:
    """Return each ``cssw-docs ...`` command written in the code of a text, as its words.

    A command is cssw-docs as the first word of a line of code (after a ``$`` prompt, a
    ``cd ... &&``, ``sudo -u USER`` or the folder holding it): a service name
    (``systemctl enable cssw-docs``, ``nssm install cssw-docs``), a file or an address, or the
    word inside a sentence a command printed, is not one.
    """
    found = []
    for line in code_lines(text):
        for match in _COMMAND.finditer(line):
            if not _LEADS_IN.fullmatch(line[: match.start()]):
                continue
            rest = line[match.end() :]
            end = _END.search(rest)
            rest = rest[: end.start()] if end else rest
            try:
                words = shlex.split(rest)
            except ValueError:
                words = rest.split()
            found.append((line.strip(), words))
    return found


_LEADS_IN = re.compile(r"\s*(?:\$\s+)?(?:.*&&\s+)?(?:sudo\s+-u\s+\S+\s+)?(?:\S*[/\\])?")


SETTING_SECTIONS = ("service", "mail", "render", "validation", "oversight")
_SETTING = re.compile(
    rf"(?<![\w./-])({'|'.join(SETTING_SECTIONS)})\.([a-z][a-z0-9_]*)(?![\w(]|\.\w|\*)"
)
NOT_SETTINGS = {("service", "log"), ("service", "lock"), ("service", "py")}


def dotted_settings(text: str) -> list[tuple[str, str]]:
    """Return every ``section.name`` a text mentions as a setting (``mail.host`` ...)."""
    return [
        (m.group(1), m.group(2))
        for m in _SETTING.finditer(text)
        if (m.group(1), m.group(2)) not in NOT_SETTINGS
    ]


def links(text: str) -> list[str]:
    """Return the targets of the Markdown links and images of a text (outside code)."""
    prose = re.sub(r"`[^`\n]+`", "", without_fences(text))
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def anchors(text: str) -> set[str]:
    """Return the anchors GitHub makes for a text's headings (``## The ledger: checks`` ...)."""
    out: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", without_fences(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out
