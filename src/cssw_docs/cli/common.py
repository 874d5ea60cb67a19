"""What every command shares: loading settings and the rubric, and plain-English failures."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import click

from .. import config, rubric
from ..config import Settings
from ..rubric import Rubric
from ..store import db

# Told (done, total) as a long command works through its items; total may grow as it goes.
Progress = Callable[[int, int], None]

quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="Show no progress bar (none is shown unless on a terminal)."
)

NEEDS_A_PERSON = 4  # exit status: the ledger needs attention; restarting will not help


class LedgerTrouble(click.ClickException):
    """The ledger is damaged or missing: exit status 4, so systemd does not restart in a loop."""

    exit_code = NEEDS_A_PERSON


@dataclass
class Context:
    """Settings and rubric, loaded once per command from ``--config`` and ``--rubric``."""

    config_path: str | None = None
    rubric_path: str | None = None
    ledger_checked: bool = False

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

    def check_ledger(self) -> Path:
        """Return the ledger file, first refusing plainly if SQLite's quick_check finds damage.

        Every command that opens the ledger calls this once before it does.
        """
        path = db.db_path(Path(self.settings.service.state_dir))
        if not self.ledger_checked:
            try:
                db.verify(path)
            except db.LedgerDamaged as exc:
                raise LedgerTrouble(str(exc)) from exc
            self.ledger_checked = True
        return path


pass_context = click.make_pass_decorator(Context)


def _on_terminal() -> bool:
    """Return True when progress can be drawn: stderr is a terminal (not a log or a pipe)."""
    return sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(label: str, *, quiet: bool = False, total: int = 0) -> Iterator[Progress]:
    """Yield a ``(done, total)`` callback drawing a progress bar on the terminal (stderr).

    Nothing is drawn with ``quiet`` or when stderr is not a terminal (cron, systemd, a pipe),
    so logs and scripted output stay as they were.
    """
    if quiet or not _on_terminal():
        yield lambda done, total: None
        return
    length = max(total, 1)  # until the first report says how many there are
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:

        def update(done: int, total: int) -> None:
            bar.length = max(total, done, 1)
            if done > bar.pos:
                bar.update(done - bar.pos)
            else:
                bar.render_progress()

        yield update
