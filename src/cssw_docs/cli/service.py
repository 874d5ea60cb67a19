"""Commands: service."""

import click

commands: list[click.Command] = []
