"""Done when: seven simulated years with a controllable clock and a purge every day leave
exactly the records past their date gone (checked against the test's own list), nothing of an
open audit touched, and the activity report of every year with the same figures as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from cssw_docs import clock, retention
from cssw_docs.models import Stage
from cssw_docs.oversight import figures, records
from cssw_docs.pipeline import JobContext
from cssw_docs.service import daily
from cssw_docs.store import audits
from retention_support import RUBRIC, Made, World, tree

START = dt.date(2026, 1, 1)
END = dt.date(2032, 12, 31)
YEARS = range(2026, 2033)
MONTHS = {
    "packs": 36,
    "superseded_packs": 12,
    "processed_workbooks": 18,
    "set_aside_workbooks": 6,
    "email_copies": 24,
    "ledger_detail": 60,
}


def add_months(day: dt.date, months: int) -> dt.date:
    """The test's own month arithmetic (day clamped to the month's end)."""
    y, m = divmod(day.month - 1 + months, 12)
    for d in range(day.day, 27, -1):
        try:
            return dt.date(day.year + y, m + 1, d)
        except ValueError:
            continue
    return dt.date(day.year + y, m + 1, day.day)


@dataclasses.dataclass
class Model:
    """The test's independent list: every record planted, its kind, audit and start date."""

    files: list[tuple[str, str, dt.date, Path]] = dataclasses.field(default_factory=list)
    versions: dict[str, list[tuple[int, int, dt.date, Path]]] = dataclasses.field(
        default_factory=dict
    )
    activity: dict[str, dt.date] = dataclasses.field(default_factory=dict)
    lone_jobs: list[tuple[str, str, dt.date]] = dataclasses.field(default_factory=list)
    mail: list[tuple[str, str, dt.date]] = dataclasses.field(default_factory=list)
    open_for_ever: set[str] = dataclasses.field(default_factory=set)
    open_until: dict[str, dt.date] = dataclasses.field(default_factory=dict)

    def is_open(self, ref: str, today: dt.date) -> bool:
        """Return True while the audit has an open referral, actions or moderation."""
        return ref in self.open_for_ever or self.open_until.get(ref, dt.date.min) > today

    def pack(self, ref: str, stage: Stage, version: int, day: dt.date, made: Made) -> None:
        order = (stage is Stage.FINAL, version)
        self.versions.setdefault(ref, []).append((*order, day, made.folder))
        self.files.append(("processed_workbooks", ref, day, made.workbook))
        self.files.append(("email_copies", ref, day, made.eml))
        self.mail.append((made.message_id, ref, day))
        self.activity[ref] = day

    def reject(self, ref: str, day: dt.date, made: Made) -> None:
        for path in (*made.notes, made.workbook):
            self.files.append(("set_aside_workbooks", ref, day, path))
        self.files.append(("email_copies", ref, day, made.eml))
        self.mail.append((made.message_id, ref, day))
        self.lone_jobs.append((made.job_id, ref, day))

    def expected_gone(self, today: dt.date) -> tuple[set[Path], set[str], set[str], set[str]]:
        """Return (files, references whose detail, lone jobs, messages) past their date."""

        def gone(kind: str, ref: str, since: dt.date) -> bool:
            return add_months(since, MONTHS[kind]) <= today and not self.is_open(ref, today)

        files = {p for kind, ref, since, p in self.files if gone(kind, ref, since)}
        for ref, versions in self.versions.items():
            versions = sorted(versions, key=lambda v: (v[0], v[1]))
            for older, newer in itertools.pairwise(versions):
                if gone("superseded_packs", ref, newer[2]):
                    files.add(older[3])
            if gone("packs", ref, versions[-1][2]):
                files.add(versions[-1][3])
        refs = {r for r, day in self.activity.items() if gone("ledger_detail", r, day)}
        jobs = {j for j, r, day in self.lone_jobs if gone("ledger_detail", r, day)}
        messages = {m for m, r, day in self.mail if gone("email_copies", r, day)}
        return files, refs, jobs, messages


def script(world: World, model: Model) -> dict[dt.date, list[Callable[[], None]]]:
    """Return the seven years' events by day: audits, revisions, rejections, referrals,
    moderation, actions. Four audits a year:
    0: a Final with an open SMART action (kept for ever);
    1: a disputed Final awaiting the Head of QA (decided 20 months later; 2027's never);
    2: selected for moderation (moderated a month later; 2026's never);
    3: a Final revised six weeks later (v1 superseded);
    and one rejected workbook a year.
    """
    events: dict[dt.date, list[Callable[[], None]]] = {}

    def on(day: dt.date, action: Callable[[], None]) -> None:
        events.setdefault(day, []).append(action)

    for year in YEARS:
        for i in range(4):
            ref = f"CSSW-{year}-{i:04d}"
            child, mosaic = f"Child{year}{i} Surname", f"M{year}{i:03d}"
            draft_day = dt.date(year, 2 + 3 * i, 5)
            final_day = draft_day + dt.timedelta(days=20)

            def draft(ref=ref, child=child, mosaic=mosaic, day=draft_day):
                made = world.audit(ref, child, mosaic, day, stage=Stage.DRAFT)
                model.pack(ref, Stage.DRAFT, 1, day, made)

            def final(ref=ref, child=child, mosaic=mosaic, day=final_day, i=i, year=year):
                made = world.audit(
                    ref,
                    child,
                    mosaic,
                    day,
                    actions=i == 0,
                    disagree=i == 1,
                    selected=True if i == 2 else None,
                    issue=audits.ISSUE_AWAITING if i == 1 else audits.ISSUE_PACK,
                )
                model.pack(ref, Stage.FINAL, 1, day, made)

            on(draft_day, draft)
            on(final_day, final)
            if i == 0:
                model.open_for_ever.add(ref)
            if i == 1 and year == 2027:
                model.open_for_ever.add(ref)
            elif i == 1:
                decided = add_months(final_day, 20)
                model.open_until[ref] = decided

                def decide(ref=ref, day=decided):
                    world.decide(ref, 1, day)
                    model.activity[ref] = day

                on(decided, decide)
            if i == 2 and year == 2026:
                model.open_for_ever.add(ref)
            elif i == 2:
                moderated = final_day + dt.timedelta(days=30)
                model.open_until[ref] = moderated

                def moderate(ref=ref, day=moderated):
                    world.moderate(ref, day)
                    model.activity[ref] = day

                on(moderated, moderate)
            if i == 3:
                revised = final_day + dt.timedelta(days=42)

                def revise(ref=ref, child=child, mosaic=mosaic, day=revised):
                    made = world.audit(ref, child, mosaic, day, version=2)
                    model.pack(ref, Stage.FINAL, 2, day, made)

                on(revised, revise)
        rejected_day = dt.date(year, 6, 17)

        def reject(year=year, day=rejected_day):
            ref = f"CSSW-{year}-0090"
            made = world.reject(ref, f"Rejected{year} Surname", f"M{year}090", day)
            model.reject(ref, day, made)

        on(rejected_day, reject)
    return events


def yearly_figures(world: World) -> dict[int, object]:
    """Return the activity report's figures for each year (free text set aside)."""
    out = {}
    for year in YEARS:
        ledger = records.load(world.conn, dt.date(year, 1, 1), dt.date(year, 12, 31))
        figs = figures.compute(
            ledger.audits,
            RUBRIC,
            as_of=END,
            start=dt.date(year, 1, 1),
            end=dt.date(year, 12, 31),
            drafts_in_progress=len(ledger.drafts_only),
        )
        out[year] = dataclasses.replace(
            figs,
            storyboards=tuple((s.audit_ref, s.team, s.overall) for s in figs.storyboards),
            moderation=dataclasses.replace(
                figs.moderation,
                rows=tuple(dataclasses.replace(r, note="") for r in figs.moderation.rows),
            ),
        )
    return out


def check_on(world: World, model: Model, day: dt.date) -> None:
    """Every record the model planted exists on ``day`` exactly when it is not past its date
    or its audit is open (checked through the year, so an open audit is never touched early)."""
    files, refs, _, _ = model.expected_gone(day)
    planted = {p for _, _, _, p in model.files} | {
        v[3] for versions in model.versions.values() for v in versions
    }
    assert {p for p in planted if not p.exists()} == files
    held = {r["audit_ref"].upper() for r in audits.audit_rows(world.conn)}
    assert held == set(model.activity) - refs


def _live(world: World, model: Model, monkeypatch, *, purge: bool) -> None:
    monkeypatch.setenv(clock.ENV, str(world.clock_file))
    events = script(world, model)
    settings = world.settings(**MONTHS) if purge else world.settings()
    ctx = JobContext(settings, RUBRIC, world.folders)
    day = START
    world.at(day)
    while day <= END:
        for action in events.get(day, ()):
            action()
        if purge:  # the watcher's daily pass (the clock file moves only when events happen)
            now = dt.datetime.combine(day, dt.time(10)).astimezone()
            assert daily.run_due(world.conn, ctx, now=now)
            if day.month == day.day == 1 or day == END:
                check_on(world, model, day)
        day += dt.timedelta(days=1)


@pytest.mark.slow
def test_seven_years_of_daily_purges_remove_exactly_what_is_past_its_date(tmp_path, monkeypatch):
    """Everything past its date is gone, everything else (and every open audit) is untouched,
    each removal is logged once without a name, and every year's report adds up as before."""
    before_world, before_model = World(tmp_path / "kept", lean=True), Model()
    _live(before_world, before_model, monkeypatch, purge=False)
    before = yearly_figures(before_world)
    planted = {p for p in tree(before_world.root) if not p.startswith(("state/", "clock"))}

    world, model = World(tmp_path / "purged", lean=True), Model()
    _live(world, model, monkeypatch, purge=True)
    files, refs, lone_jobs, messages = model.expected_gone(END)

    # Files: exactly those past their date are gone (a pack folder with all it held).
    root = world.root
    remaining = {p for p in tree(root) if not p.startswith(("state/", "clock"))}
    removed = {p for p in planted if p not in remaining}
    expected = set()
    for path in files:
        rel = str(path.relative_to(root))
        expected |= {p for p in planted if p == rel or p.startswith(rel + "/")}
    assert removed == expected
    assert not [p for p in remaining if "/.old-" in p]
    assert len(expected) > 60 and len(remaining) > 60  # both sides are tested

    # Nothing of an audit that is still open was touched.
    for ref in model.open_for_ever | {r for r in model.open_until if model.is_open(r, END)}:
        assert (root / "outbox" / ref).is_dir()
        assert audits.audit_rows(world.conn, ref)

    # The ledger: each audit's detail went for a tombstone exactly when due; lone jobs too.
    held = {r["audit_ref"].upper() for r in audits.audit_rows(world.conn)}
    assert held == set(model.activity) - refs and refs
    stones = {r[0] for r in world.conn.execute("SELECT audit_ref FROM tombstones")}
    assert stones == refs
    jobs_left = {r[0] for r in world.conn.execute("SELECT job_id FROM jobs")}
    assert not jobs_left & lone_jobs and lone_jobs
    copies = dict(world.conn.execute("SELECT message_id, length(message) FROM mail_outbox"))
    assert {m for m, n in copies.items() if n == 0} == messages and messages

    # The purge log: every removal once, done, named by reference and token only.
    log = world.conn.execute("SELECT kind, token, audit_ref, done_at FROM purge_log").fetchall()
    assert all(r["done_at"] for r in log)
    assert len({(r["kind"], r["token"]) for r in log}) == len(log)
    assert {r["token"] for r in log if r["kind"] == "ledger_detail"} == refs | lone_jobs
    text = "\n".join(" ".join(str(v) for v in r) for r in log)
    assert "Surname" not in text and "Child" not in text
    assert not any(f"M{y}" in text for y in YEARS)

    # The activity report of every year gives the same figures as before any purge.
    assert yearly_figures(world) == before
    assert sum(f.audits for f in before.values()) == 4 * len(YEARS)
    world.close()
    before_world.close()


def test_the_schedule_counts_calendar_months():
    """A record kept 1 month from 31 January goes on the last day of February."""
    assert retention.add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert retention.add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert retention.add_months(dt.date(2027, 11, 5), 14) == dt.date(2029, 1, 5)
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
