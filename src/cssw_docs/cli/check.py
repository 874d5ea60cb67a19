"""Commands: check."""

import click

commands: list[click.Command] = []
