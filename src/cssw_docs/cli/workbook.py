"""Commands: workbook."""

import click

commands: list[click.Command] = []
