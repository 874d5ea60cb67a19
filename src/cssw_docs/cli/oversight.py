"""Commands: oversight."""

import click

commands: list[click.Command] = []
