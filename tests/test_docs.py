"""The documentation tells the truth: every command, option, setting, example and link in the
README and in each guide under docs/ exists (as sqlite-utils' test_docs does for commands).

The files are found by docs_support.doc_files(), so a guide added under docs/ is checked too.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path

import click
import pytest

from cssw_docs import config
from cssw_docs.cli import cli
from docs_support import (
    README,
    ROOT,
    command_lines,
    doc_files,
    doc_id,
    dotted_settings,
    fences,
    links,
    text_of,
)
from docs_support import anchors as anchors_of

DOCS = doc_files()
GUIDES = ("auditors-guide.md", "administrators-guide.md", "template-authors-guide.md")


def _paths(group: click.Group, prefix: str = "cssw-docs") -> list[str]:
    """Return every leaf command of ``group`` as it is typed, e.g. ``cssw-docs mail retry``."""
    out = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            out += _paths(command, path)
        else:
            out.append(path)
    return out


COMMANDS = _paths(cli)
ALL_TEXT = "\n".join(text_of(p) for p in DOCS)


def _options(command: click.Command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}


def _settings_fields() -> dict[str, set[str]]:
    """Return each settings table and its keys, from config.Settings itself."""
    hints = typing.get_type_hints(config.Settings)
    tables = {
        f.name: {g.name for g in dataclasses.fields(hints[f.name])}
        for f in dataclasses.fields(config.Settings)
        if dataclasses.is_dataclass(hints[f.name])
    }
    top = {f.name for f in dataclasses.fields(config.Settings)} - set(tables)
    return tables | {"": top}


SETTINGS = _settings_fields()


def test_the_command_tree_and_the_files_are_not_empty():
    """The walks find commands and guides (so the tests below cannot pass vacuously)."""
    assert "cssw-docs watch" in COMMANDS and "cssw-docs mail retry" in COMMANDS
    assert {p.name for p in DOCS} >= {"README.md", *GUIDES}
    assert {"service", "mail", "render"} <= set(SETTINGS)
    shown = [words for doc in DOCS for _, words in command_lines(text_of(doc))]
    assert len(shown) > 60 and ["status"] in shown


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented(command: str):
    """The README or a guide shows how to use each command."""
    assert command in ALL_TEXT, f"{command} is not documented in README.md or docs/"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help(command: str):
    """Each command has help text (its docstring), shown by --help."""
    ctx_group: click.Command = cli
    for part in command.split()[1:]:
        assert isinstance(ctx_group, click.Group)
        ctx_group = ctx_group.commands[part]
    assert (ctx_group.help or "").strip(), f"{command} has no help text"


def _check_command(words: list[str]) -> str | None:
    """Return what is wrong with ``cssw-docs WORDS`` as written, or None."""
    command: click.Command = cli
    path = ["cssw-docs"]
    rest = list(words)
    while rest:
        word = rest[0]
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name not in _options(command):
                return f"{' '.join(path)} has no option {name}"
            rest.pop(0)
            option = next((p for p in command.params if name in p.opts), None)
            if option is not None and not getattr(option, "is_flag", False) and "=" not in word:
                rest = rest[1:]  # its value
            continue
        if isinstance(command, click.Group):
            if word not in command.commands:
                if re.fullmatch(r"[a-z][a-z-]*", word):
                    return f"{' '.join(path)} has no command {word}"
                return None  # a placeholder or a value, e.g. ID or [FILE]
            command = command.commands[word]
            path.append(word)
        rest.pop(0)
    return None


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_command_shown_exists_with_its_options(doc: Path):
    """Each `cssw-docs ...` written in a file is a command, with options it has."""
    found = command_lines(text_of(doc))
    problems = [f"{line}: {why}" for line, words in found if (why := _check_command(words))]
    assert problems == []


def test_the_command_check_catches_mistakes():
    """A misspelt command or an option a command lacks is caught (the check can fail)."""
    assert _check_command(["stauts"]) == "cssw-docs has no command stauts"
    assert _check_command(["mail", "retry", "--all"]) == "cssw-docs mail retry has no option --all"
    assert _check_command(["--config", "x.toml", "watch", "--once"]) is None
    assert _check_command(["mail", "retry", "789ef7e2890a3f4a"]) is None


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_setting_named_exists(doc: Path):
    """Each `section.name` a file names as a setting is one of config.py's settings."""
    named = dotted_settings(text_of(doc))
    unknown = sorted({f"{s}.{n}" for s, n in named if n not in SETTINGS.get(s, set())})
    assert unknown == []


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_settings_example_parses_and_holds_only_settings(doc: Path):
    """Each ```toml example is valid TOML of tables and keys cssw-docs knows."""
    for fence in fences(text_of(doc)):
        if fence.lang != "toml":
            continue
        data = tomllib.loads(fence.text)  # raises on an example that does not parse
        for table, keys in data.items():
            if not isinstance(keys, dict):
                assert table in SETTINGS[""], f"line {fence.line}: no setting {table}"
                continue
            assert table in SETTINGS, f"line {fence.line}: no settings table [{table}]"
            assert set(keys) <= SETTINGS[table], f"line {fence.line}: {set(keys) - SETTINGS[table]}"


def _plain(value: object) -> object:
    """Return a setting's value as TOML writes it (a tuple as a list, a path as text)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return "" if value is None else value


def _not_defaults(data: dict) -> list[str]:
    """Return the settings of a TOML example whose values are not cssw-docs' defaults."""
    defaults = config.Settings()
    out = []
    for table, keys in data.items():
        if isinstance(keys, dict):
            out += [
                f"{table}.{key}"
                for key, value in keys.items()
                if _plain(getattr(getattr(defaults, table), key)) != value
            ]
    return out


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_a_settings_example_that_is_not_the_defaults_says_so(doc: Path):
    """A reader copying settings must know which values are examples: an example with any
    value other than the default says "example" just before it."""
    lines = text_of(doc).splitlines()
    unsaid = []
    for fence in fences(text_of(doc)):
        if fence.lang == "toml" and _not_defaults(tomllib.loads(fence.text)):
            before = " ".join(lines[max(0, fence.line - 7) : fence.line - 1]).lower()
            if "example" not in before:
                unsaid.append(f"line {fence.line}: {_not_defaults(tomllib.loads(fence.text))}")
    assert unsaid == []


def test_the_mail_example_is_marked_as_one():
    """The [mail] example differs from the defaults (the sender, the allowlist ...)."""
    admin = text_of(ROOT / "docs" / "administrators-guide.md")
    (mail,) = [f for f in fences(admin) if "smtp-relay" in f.text]
    assert {"mail.sender", "mail.allowed_domains", "mail.host"} <= set(
        _not_defaults(tomllib.loads(mail.text))
    )


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_link_and_anchor_leads_somewhere(doc: Path):
    """Each relative link names a file that exists, and each #anchor a heading in it."""
    broken = []
    for target in links(text_of(doc)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors_of(text_of(linked))
        ):
            broken.append(target)
    assert broken == []


def test_the_readme_leads_to_every_guide():
    """The README links every file under docs/ (its "Where to go next" lists them)."""
    readme = text_of(README)
    assert "## Where to go next" in readme
    for doc in DOCS[1:]:
        assert f"](docs/{doc.name})" in readme, f"README does not link docs/{doc.name}"


def test_the_readme_stays_short():
    """The README is the front page: what it is, two commands, pictures, where to go next."""
    assert len(text_of(README).splitlines()) <= 150


def test_the_auditors_guide_fits_on_one_printed_page():
    """The auditor's guide is one A4 page: at 10 pt it held about 690 words when checked."""
    words = len(text_of(ROOT / "docs" / "auditors-guide.md").split())
    assert 300 < words <= 720
