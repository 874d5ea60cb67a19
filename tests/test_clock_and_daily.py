"""The service's clock (one home for "now") and its once-a-day tasks inside watch."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from cssw_docs import clock, config, rubric
from cssw_docs.pipeline import JobContext
from cssw_docs.service import daily, settings_check, watch
from cssw_docs.store import db
from service_support import drop, example_bytes, wait_for


@pytest.fixture
def clock_file(tmp_path, monkeypatch):
    path = tmp_path / "clock.txt"
    monkeypatch.setenv(clock.ENV, str(path))
    return path


def test_without_a_clock_file_the_system_clock_is_used(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    before = dt.datetime.now(dt.UTC)
    assert before - dt.timedelta(seconds=1) <= clock.now() <= before + dt.timedelta(minutes=1)
    assert clock.now().tzinfo is dt.UTC


def test_the_clock_file_sets_now_and_today_and_is_read_on_every_call(clock_file):
    clock.set_file(clock_file, dt.datetime(2027, 3, 1, 9, 30))
    assert clock.local_now().replace(tzinfo=None) == dt.datetime(2027, 3, 1, 9, 30)
    assert clock.today() == dt.date(2027, 3, 1)
    clock.set_file(clock_file, dt.date(2028, 2, 29))
    assert clock.today() == dt.date(2028, 2, 29)
    clock.set_file(clock_file, dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC))
    assert clock.now_text() == "2027-06-01T12:00:00+00:00"


def test_the_store_and_the_rules_follow_the_clock(clock_file, tmp_path):
    """Rows are stamped with the clock's time, and a validation's 'today' is the clock's."""
    clock.set_file(clock_file, dt.datetime(2030, 1, 2, 8, 0, tzinfo=dt.UTC))
    conn = db.connect(tmp_path / "ledger.sqlite3")
    db.set_meta(conn, "x", "y")
    stamped = conn.execute("SELECT updated_at FROM ledger_meta WHERE key = 'x'").fetchone()[0]
    assert stamped == "2030-01-02T08:00:00+00:00"


@pytest.mark.parametrize("text", ["next tuesday", ""])
def test_an_unreadable_clock_file_is_explained(clock_file, text):
    clock_file.write_text(text)
    with pytest.raises(clock.ClockFileUnreadable, match="should hold a date or date-time"):
        clock.today()


def test_a_missing_clock_file_is_explained(clock_file):
    with pytest.raises(clock.ClockFileUnreadable, match="cannot be read"):
        clock.now()


# --- daily tasks -----------------------------------------------------------------------------


def _settings(tmp_path, **changes):
    return config.load(environ={}).with_changes(
        **{
            "service.intake": tmp_path / "intake",
            "service.outbox": tmp_path / "outbox",
            "service.state_dir": tmp_path / "state",
            **changes,
        }
    )


def _recorder(name, runs, **kwargs):
    def run(conn, ctx, day):
        runs.append((name, day))
        return f"{name} ran"

    return daily.DailyTask(name, run, **kwargs)


def _local(*args):
    return dt.datetime(*args).astimezone()


@pytest.fixture
def ledger(tmp_path):
    return db.connect(tmp_path / "ledger.sqlite3")


def test_a_task_runs_once_a_day_after_the_set_time(tmp_path, ledger):
    runs = []
    tasks = [_recorder("a", runs)]
    ctx = JobContext(_settings(tmp_path, **{"service.daily_at": "07:30"}), None, None)
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 7, 29)) == []
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 7, 30)) == ["a: a ran"]
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 23, 59)) == []
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 2, 8, 0)) == ["a: a ran"]
    assert runs == [("a", dt.date(2027, 3, 1)), ("a", dt.date(2027, 3, 2))]


def test_a_working_day_task_skips_weekends_and_bank_holidays(tmp_path, ledger):
    runs = []
    tasks = [_recorder("w", runs, working_days_only=True), _recorder("every", runs)]
    ctx = JobContext(_settings(tmp_path), None, None)
    days = [dt.date(2027, 3, d) for d in (27, 29, 30)] + [
        dt.date(2027, 12, d) for d in (27, 28, 29)
    ]
    for day in days:
        daily.run_due(ledger, ctx, tasks, _local(day.year, day.month, day.day, 9))
    # 27 March 2027 is a Saturday, 29 March Easter Monday; 27 and 28 December 2027 are the
    # substitute Christmas and Boxing Day bank holidays.
    assert [day for name, day in runs if name == "every"] == days
    assert [day for name, day in runs if name == "w"] == [
        dt.date(2027, 3, 30),
        dt.date(2027, 12, 29),
    ]


def test_a_failing_task_is_tried_again_and_does_not_stop_the_others(tmp_path, ledger, caplog):
    runs = []
    attempts = []

    def flaky(conn, ctx, day):
        attempts.append(day)
        if len(attempts) == 1:
            raise OSError(28, "No space left on device")
        return "done"

    tasks = [daily.DailyTask("flaky", flaky), _recorder("b", runs)]
    ctx = JobContext(_settings(tmp_path), None, None)
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 9)) == ["b: b ran"]
    assert "the daily flaky did not finish, it will be tried again" in caplog.text
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 9, 5)) == ["flaky: done"]
    assert len(attempts) == 2 and len(runs) == 1


def test_a_disabled_task_does_not_run(tmp_path, ledger):
    runs = []
    tasks = [_recorder("off", runs, enabled=lambda settings: False)]
    ctx = JobContext(_settings(tmp_path), None, None)
    assert daily.run_due(ledger, ctx, tasks, _local(2027, 3, 1, 9)) == []
    assert runs == []


@pytest.mark.parametrize("text", ["7am", "25:00", "07"])
def test_a_bad_daily_time_is_a_plain_settings_problem(tmp_path, text):
    result = settings_check.check(_settings(tmp_path, **{"service.daily_at": text}))
    assert any("service.daily_at" in p and 'such as "07:00"' in p for p in result.problems)


@pytest.mark.slow
def test_watch_runs_the_days_tasks_as_the_clock_moves_on(tmp_path, clock_file, monkeypatch):
    """A running watcher follows the clock file: each simulated day's task runs once."""
    runs = []
    monkeypatch.setattr(daily, "TASKS", (_recorder("t", runs),))
    clock.set_file(clock_file, dt.datetime(2027, 3, 1, 6, 0))
    settings = _settings(
        tmp_path,
        **{"service.rescan_seconds": 0.2, "service.workers": 1, "service.settle_seconds": 0.2},
    )
    watcher = watch.Watcher(settings, rubric.load())
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        wait_for(lambda: watcher.conn is not None, "the watcher to start")
        clock.set_file(clock_file, dt.datetime(2027, 3, 1, 7, 0))
        wait_for(lambda: len(runs) == 1, "the first day's task")
        clock.set_file(clock_file, dt.datetime(2027, 3, 2, 7, 5))
        wait_for(lambda: len(runs) == 2, "the second day's task")
    finally:
        watcher.request_stop()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert [day for _, day in runs] == [dt.date(2027, 3, 1), dt.date(2027, 3, 2)]


@pytest.mark.slow
def test_workers_use_the_watchers_clock_not_the_fork_servers(tmp_path, monkeypatch):
    """Workers are forked from a fork server that keeps the environment it first started with;
    each watcher's workers still follow that watcher's own clock (and other CSSW_DOCS_* values),
    so a second watcher in the same process files by its own date."""
    clock_path = tmp_path / "clock.txt"
    clock.set_file(clock_path, dt.datetime(2027, 3, 2, 9, 0))

    def run(name: str, with_clock: bool) -> set[str]:
        if with_clock:
            monkeypatch.setenv(clock.ENV, str(clock_path))
        else:
            monkeypatch.delenv(clock.ENV, raising=False)
        base = tmp_path / name
        (base / "intake").mkdir(parents=True)
        drop(base / "intake", "good.xlsx", example_bytes("good"))
        settings = _settings(
            base,
            **{"service.workers": 1, "service.settle_seconds": 0.2, "render.storyboard_pdf": False},
        )
        watch.Watcher(settings, rubric.load(), once=True).run()
        return {p.name for p in (base / "intake" / "processed").iterdir()}

    assert run("first", with_clock=True) == {"2027-03-02"}
    assert run("second", with_clock=False) == {dt.date.today().isoformat()}
    assert run("third", with_clock=True) == {"2027-03-02"}
