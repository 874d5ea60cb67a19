"""Work the service does once a day inside ``watch``: the one place a daily task is scheduled.

Each :class:`DailyTask` runs at most once per local day, after ``service.daily_at`` (local
time, HH:MM), on the first pass of the watcher's loop after that time (or the first
``watch --once`` run of the day from cron). The ledger remembers the last day each task
finished (``ledger_meta`` key ``daily:<name>``), so a restart, a second ``--once`` run or a
crash before the task finished is safe: a task that did not finish runs again, so every task
must itself be idempotent (send a reminder once per occasion, remove a record once). A task
that was missed while the service was down runs once on the day it comes back, and must catch
up with everything that fell due meanwhile.

A task returns a one-line summary for the log; it must hold no child's name or MOSAIC ID.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import clock, retention, rules
from ..config import Settings
from ..pipeline import JobContext
from ..store import db
from ..year import programme, reminders
from .worker import crash_point, describe_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyTask:
    """Something the service does once a day."""

    name: str  # short, stable: the ledger key is daily:<name>
    run: Callable[[sqlite3.Connection, JobContext, dt.date], str]
    enabled: Callable[[Settings], bool] = lambda settings: True
    working_days_only: bool = False  # skip weekends and England and Wales bank holidays


def _purge(conn: sqlite3.Connection, ctx: JobContext, day: dt.date) -> str:
    """Remove the records past the retention schedule's date (idempotent, crash-safe)."""
    done = retention.purge(conn, ctx.settings, ctx.folders, day, checkpoint=crash_point)
    return done.summary()


# The service's daily tasks, in the order they run.
TASKS: tuple[DailyTask, ...] = (
    # The planned audits whose month has come: their workbooks and notices (year/programme).
    DailyTask(
        "programme-issue",
        programme.daily_issue,
        lambda settings: settings.reminders.issue_workbooks,
        working_days_only=True,
    ),
    # The reminders due today, each once per occasion (year/reminders).
    DailyTask("reminders", reminders.daily, reminders.any_enabled, working_days_only=True),
    # What the retention schedule says is past its date (retention.py); last, so that the
    # day's reminders are sent first.
    DailyTask(
        "retention-purge",
        _purge,
        enabled=lambda settings: bool(settings.retention.schedule),
    ),
)


def parse_daily_at(text: str) -> dt.time:
    """Return ``service.daily_at`` as a time; ValueError with a plain message when it is not."""
    try:
        hours, minutes = text.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(
            f'service.daily_at = {text!r} should be a time of day such as "07:00" (24-hour, '
            "local time)."
        ) from None


def key(task: DailyTask) -> str:
    """Return the ``ledger_meta`` key holding the last day ``task`` finished."""
    return f"daily:{task.name}"


def due(
    conn: sqlite3.Connection,
    settings: Settings,
    tasks: Sequence[DailyTask] | None = None,
    now: dt.datetime | None = None,
) -> list[DailyTask]:
    """Return the tasks that should run now: enabled, past the time, not yet done today."""
    tasks = TASKS if tasks is None else tasks
    now = now or clock.local_now()
    if now.time() < parse_daily_at(settings.service.daily_at):
        return []
    today = now.date().isoformat()
    return [
        task
        for task in tasks
        if task.enabled(settings)
        and not (task.working_days_only and not rules.is_working_day(now.date()))
        and (db.get_meta(conn, key(task)) or "") < today
    ]


def run_due(
    conn: sqlite3.Connection,
    ctx: JobContext,
    tasks: Sequence[DailyTask] | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Run the tasks that are due; return their summaries. A failing task is logged and runs
    again on a later pass (it is not marked done); the others still run."""
    now = now or clock.local_now()
    summaries = []
    for task in due(conn, ctx.settings, tasks, now):
        try:
            summary = task.run(conn, ctx, now.date())
        except Exception as exc:  # one task's trouble never stops the service or the others
            log.error(
                "the daily %s did not finish, it will be tried again: %s",
                task.name,
                describe_error(exc),
            )
            continue
        db.set_meta(conn, key(task), now.date().isoformat())
        log.info("daily %s: %s", task.name, summary)
        summaries.append(f"{task.name}: {summary}")
    return summaries
