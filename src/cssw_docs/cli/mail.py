"""Commands: mail."""

import click

commands: list[click.Command] = []
