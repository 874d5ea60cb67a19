"""What time it is for cssw-docs: the one home of "now" and "today".

Every date a business rule depends on (the feedback deadline, a reminder's day, a record's
age for retention, the time a row was recorded) comes from here, never from
``date.today()`` or ``datetime.now()`` directly, so that a whole audit year can be rehearsed.

Normally this is the system clock. When the environment variable ``CSSW_DOCS_CLOCK_FILE``
names a file, the time is read from that file instead: one ISO 8601 date-time such as
``2027-03-01T09:30`` (local time when it has no offset) or a date (midnight local time).
The file is read on every call, so a running watcher follows it as a test (or a QA unit
rehearsing its year) moves it on. Timeouts and settle times never use this clock: they use
``time.monotonic()``, which keeps running whatever the file says.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

ENV = "CSSW_DOCS_CLOCK_FILE"


class ClockFileUnreadable(ValueError):
    """The clock file named by CSSW_DOCS_CLOCK_FILE does not hold a date or date-time."""


def now() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    fixed = _from_file()
    if fixed is None:
        return dt.datetime.now(dt.UTC)
    return fixed.astimezone(dt.UTC)


def local_now() -> dt.datetime:
    """Return the current time, aware, in this machine's local time zone."""
    return now().astimezone()


def today() -> dt.date:
    """Return today's date where the service runs (local time)."""
    return local_now().date()


def now_text() -> str:
    """Return the current UTC time as ISO 8601 to the second, the form every table stores."""
    return now().isoformat(timespec="seconds")


def set_file(path: Path, when: dt.datetime | dt.date) -> None:
    """Write ``when`` to the clock file ``path`` atomically (for tests and rehearsals)."""
    text = when.isoformat()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _from_file() -> dt.datetime | None:
    name = os.environ.get(ENV)
    if not name:
        return None
    try:
        text = Path(name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ClockFileUnreadable(
            f"The clock file {name} (set by {ENV}) cannot be read: {exc.strerror}. "
            f"Unset {ENV} to use the system clock."
        ) from None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ClockFileUnreadable(
            f"The clock file {name} (set by {ENV}) should hold a date or date-time such as "
            f"2027-03-01T09:30, not {text[:40]!r}."
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time in the file is local time
    return when
