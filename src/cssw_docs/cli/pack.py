"""Commands: pack."""

import click

commands: list[click.Command] = []
