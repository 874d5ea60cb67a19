"""Every command the CLI offers is documented in the README (as sqlite-utils' test_docs does)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from cssw_docs.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


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


def test_the_command_tree_is_not_empty():
    """The walk finds the commands (so the next test cannot pass vacuously)."""
    assert "cssw-docs watch" in COMMANDS and "cssw-docs mail retry" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_in_the_readme(command: str):
    """The README shows how to use each command."""
    assert command in README, f"{command} is not documented in README.md"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help(command: str):
    """Each command has help text (its docstring), shown by --help."""
    ctx_group: click.Command = cli
    for part in command.split()[1:]:
        assert isinstance(ctx_group, click.Group)
        ctx_group = ctx_group.commands[part]
    assert (ctx_group.help or "").strip(), f"{command} has no help text"
