"""What every command shares: loading settings and the rubric, and plain-English failures."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import click

from .. import config, rubric
from ..config import Settings
from ..rubric import Rubric


@dataclass
class Context:
    """Settings and rubric, loaded once per command from ``--config`` and ``--rubric``."""

    config_path: str | None = None
    rubric_path: str | None = None

    @cached_property
    def settings(self) -> Settings:
        """Return the effective settings (file, then environment)."""
        try:
            settings = config.load(self.config_path)
        except config.ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        if self.rubric_path:
            settings = settings.with_changes(rubric=self.rubric_path)
        return settings

    @cached_property
    def rubric(self) -> Rubric:
        """Return the rubric named by the settings, or the packaged one."""
        try:
            return rubric.load(self.settings.rubric)
        except rubric.RubricError as exc:
            raise click.ClickException(str(exc)) from exc


pass_context = click.make_pass_decorator(Context)
