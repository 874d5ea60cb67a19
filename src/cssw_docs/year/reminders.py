"""The reminders a QA coordinator used to send by hand, each sent once per occasion.

Four kinds (``models.ReminderKind``), each turned off by its ``[reminders]`` setting:

- feedback: the Draft's reply-by date has passed with no Final: the practitioner, the auditor
  copied, on the first working day after it; again ``feedback_again_after_working_days``
  later with the manager copied too;
- referral: a referral to the Head of QA undecided ``referral_working_days`` after it was made;
- digest: each week, on ``digest_weekday`` (or the first working day after it), each manager
  gets their team's open actions overdue or due within ``digest_days_ahead`` days, and each
  practitioner their own;
- not_started: an issued audit with nothing back by ``not_started_day`` of its planned month.

Each reminder has an occasion (``feedback:REF:v1:1``, ``digest:2027-W03:address``), recorded
in ``reminders_sent`` in the same transaction that queues its emails, whose Message-IDs come
from the occasion too: a run stopped anywhere and run again sends nothing twice. A reminder
missed while the service was down is sent the day it runs again, if it is still needed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import rules
from ..config import WEEKDAYS, Settings
from ..deliver import outbox, routes
from ..deliver.compose import long_date
from ..models import AuditState, ReminderKind, Stage, Submission, submission_from_dict
from ..oversight import actions as tracking
from ..oversight import progress, records
from ..oversight.moderation import normalise_ref
from ..pipeline import JobContext
from ..rubric import Rubric
from ..store import audits, db
from ..store import programme as store
from .programme import notice_words, start_by

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    """One reminder due: its occasion, what it is (no child identifier) and how to send it.

    ``supersedes``: earlier occasions of the same reminder it replaces (recorded, not sent).
    """

    kind: ReminderKind
    occasion: str
    audit_ref: str
    what: str
    queue: Callable[[Settings, outbox.Recorder], list[str]] = field(repr=False, compare=False)
    supersedes: tuple[str, ...] = ()


def enabled(settings: Settings, kind: ReminderKind) -> bool:
    """Return True when reminders of ``kind`` are on (``[reminders] <kind> = true``)."""
    return bool(getattr(settings.reminders, kind.value))


def any_enabled(settings: Settings) -> bool:
    """Return True when at least one kind of reminder is on."""
    return any(enabled(settings, k) for k in ReminderKind)


def due(
    conn: sqlite3.Connection, settings: Settings, rubric: Rubric, today: dt.date
) -> list[Reminder]:
    """Return every reminder due on ``today`` and not sent yet, in a stable order."""
    ledger = records.load(conn)  # read once for the states and the digest
    states = progress.states(conn, today, settings.mail.feedback_working_days, ledger=ledger)
    found: list[Reminder] = []
    if enabled(settings, ReminderKind.FEEDBACK):
        found += _feedback(conn, settings, states, today)
    if enabled(settings, ReminderKind.REFERRAL):
        found += _referral(conn, settings, states, today)
    if enabled(settings, ReminderKind.NOT_STARTED):
        found += _not_started(settings, rubric, states, today)
    if enabled(settings, ReminderKind.DIGEST):
        found += _digest(conn, settings, ledger, today)
    return [r for r in found if not store.reminder_sent(conn, r.occasion)]


def send(
    conn: sqlite3.Connection, settings: Settings, reminders: list[Reminder], today: dt.date
) -> int:
    """Queue each reminder's emails and record its occasion in one transaction; return how
    many emails were queued. A reminder that cannot be written is logged and tried next day."""
    queued = 0
    for reminder in reminders:

        def record(c: sqlite3.Connection, ids: list[str], r: Reminder = reminder) -> None:
            for earlier in r.supersedes:
                store.record_reminder(
                    c,
                    occasion=earlier,
                    kind=r.kind.value,
                    audit_ref=r.audit_ref,
                    sent_on=today.isoformat(),
                    messages=0,
                )
            store.record_reminder(
                c,
                occasion=r.occasion,
                kind=r.kind.value,
                audit_ref=r.audit_ref,
                sent_on=today.isoformat(),
                messages=len(ids),
            )

        try:
            ids = reminder.queue(settings, record)
        except outbox.NotComposable:
            log.warning(
                "the %s reminder for %s could not be written (an address or name is not "
                "usable); it is tried again tomorrow",
                reminder.kind.value,
                reminder.audit_ref or "a digest",
            )
            continue
        queued += len(ids)
    return queued


def daily(conn: sqlite3.Connection, ctx: JobContext, day: dt.date) -> str:
    """The service's daily task: send the reminders due today."""
    reminders = due(conn, ctx.settings, ctx.rubric, day)
    queued = send(conn, ctx.settings, reminders, day)
    if not reminders:
        return "no reminder due"
    kinds = sorted({r.kind.value for r in reminders})
    return f"{len(reminders)} reminder(s) due ({', '.join(kinds)}), {queued} email(s) queued"


# --- what is due --------------------------------------------------------------------------------


def _ledger(settings: Settings) -> Path:
    return db.db_path(Path(settings.service.state_dir))


def _notice(
    key: str, sub: Submission, delivery: routes.Delivery, context: dict[str, object]
) -> Callable[[Settings, outbox.Recorder], list[str]]:
    def queue(settings: Settings, record: outbox.Recorder) -> list[str]:
        return outbox.enqueue_notices(
            _ledger(settings),
            key=key,
            submission=sub,
            notices=[(delivery, context)],
            settings=settings,
            record=record,
        )

    return queue


def _stored(conn: sqlite3.Connection, ref: str, stage: Stage, version: int) -> Submission:
    """Return the stored audit (its people's own addresses) of one version of ``ref``."""
    for row in audits.audit_rows(conn):
        same = normalise_ref(row["audit_ref"]) == ref and row["stage"] == stage
        if same and row["version"] == version:
            return submission_from_dict(json.loads(row["data"]))
    raise LookupError(ref)


def _feedback(
    conn: sqlite3.Connection,
    settings: Settings,
    states: dict[str, progress.Progress],
    today: dt.date,
) -> Iterator[Reminder]:
    again = settings.reminders.feedback_again_after_working_days
    for ref, p in states.items():
        if p.state is not AuditState.AWAITING_FEEDBACK or p.feedback_due is None:
            continue
        first = rules.add_working_days(p.feedback_due, 1)
        second = rules.add_working_days(first, again)
        occasion = f"feedback:{ref}:v{p.draft_version}"
        if today >= second:
            number, earlier = 2, (f"{occasion}:1",)
        elif today >= first:
            number, earlier = 1, ()
        else:
            continue
        sub = _stored(conn, ref, Stage.DRAFT, p.draft_version or 0)
        delivery = routes.feedback_reminder_route(sub, second=number == 2)
        context = {
            "sent_on": long_date(p.draft_sent_on or today),
            "reply_by": long_date(p.feedback_due),
            "second": number == 2,
        }
        key = f"{occasion}:{number}"
        yield Reminder(
            ReminderKind.FEEDBACK,
            key,
            p.audit_ref,
            f"feedback reminder {number} for {p.audit_ref}: to the practitioner, the auditor"
            + (" and manager" if number == 2 else "")
            + " copied",
            _notice(f"reminder:{key}", sub, delivery, context),
            earlier,
        )


def _referral(
    conn: sqlite3.Connection,
    settings: Settings,
    states: dict[str, progress.Progress],
    today: dt.date,
) -> Iterator[Reminder]:
    wait = settings.reminders.referral_working_days
    for ref, p in states.items():
        if p.state is not AuditState.REFERRED or p.referred_on is None:
            continue
        if today < rules.add_working_days(p.referred_on, wait):
            continue
        sub = _stored(conn, ref, Stage.FINAL, p.referred_version or 0)
        key = f"referral:{ref}:v{p.referred_version}"
        context = {
            "referred_on": long_date(p.referred_on),
            "waited": rules.working_days_between(p.referred_on, today),
        }
        yield Reminder(
            ReminderKind.REFERRAL,
            key,
            p.audit_ref,
            f"referral reminder for {p.audit_ref}: to the Head of QA",
            _notice(
                f"reminder:{key}", sub, routes.referral_reminder_route(sub, settings.mail), context
            ),
        )


def _not_started(
    settings: Settings, rubric: Rubric, states: dict[str, progress.Progress], today: dt.date
) -> Iterator[Reminder]:
    for ref, p in states.items():
        plan = p.plan
        if plan is None or p.state is not AuditState.ISSUED or plan.issued_on is None:
            continue
        when = start_by(plan, settings)
        month_over = today > progress.month_end(plan.planned_month)
        if today < when or month_over or plan.issued_on >= when:
            continue
        sub = plan.submission()
        key = f"not-started:{ref}:{plan.planned_month:%Y-%m}"
        context = notice_words(plan, rubric, settings) | {"issued_on": long_date(plan.issued_on)}
        yield Reminder(
            ReminderKind.NOT_STARTED,
            key,
            plan.audit_ref,
            f"not-started reminder for {plan.audit_ref}: to the auditor",
            _notice(f"reminder:{key}", sub, routes.not_started_route(sub), context),
        )


def digest_day(today: dt.date, weekday: str) -> bool:
    """Return True when the week's digest may go today: on or after ``weekday`` this week."""
    return today.weekday() >= WEEKDAYS.index(weekday.strip().capitalize())


def _digest(
    conn: sqlite3.Connection, settings: Settings, ledger: records.Ledger, today: dt.date
) -> Iterator[Reminder]:
    if not digest_day(today, settings.reminders.digest_weekday):
        return
    until = today + dt.timedelta(days=settings.reminders.digest_days_ahead)
    agreed = [r for r in ledger.audits if not r.awaiting_decision]
    every = tracking.tracked(agreed, today, statuses=tracking.recorded(conn))
    listed = [a for a in every if a.is_open and a.due is not None and a.due <= until]
    year, week, _ = today.isocalendar()
    people: dict[str, tuple[str, bool, list[tracking.TrackedAction]]] = {}
    for a in listed:
        for email, name, manager in (
            (a.manager_email, a.manager, True),
            (a.practitioner_email, a.practitioner, False),
        ):
            address = email.strip().lower()
            if not address:
                continue
            held = people.setdefault(address, (name, manager, []))
            people[address] = (held[0], held[1] or manager, [*held[2], a])
    for address, (name, manager, items) in sorted(people.items()):
        key = f"digest:{year}-W{week:02d}:{address}"
        theirs = [
            a
            for a in every
            if address in (a.practitioner_email.strip().lower(), a.manager_email.strip().lower())
        ]
        context = _digest_words(items, today, until, manager) | {
            "standing": _standing(tracking.counts(theirs))
        }
        delivery = routes.digest_route(address, name)

        def queue(s: Settings, record: outbox.Recorder, d=delivery, k=key, c=context) -> list[str]:
            return outbox.enqueue_digest(
                _ledger(s), key=f"reminder:{k}", delivery=d, context=c, settings=s, record=record
            )

        yield Reminder(
            ReminderKind.DIGEST,
            key,
            "",
            f"actions digest for week {week} to a {'manager' if manager else 'practitioner'}: "
            f"{len(items)} action(s)",
            queue,
        )


def _standing(counts: dict[str, int]) -> str:
    """Return where all of someone's actions stand, each way of standing counted apart."""
    still_open = sum(counts[s] for s in tracking.OPEN_STATUSES)
    return (
        f"{still_open} open ({counts[tracking.OVERDUE]} overdue), {counts['Done on time']} done "
        f"on time, {counts['Done late']} done late and {counts['Dropped']} dropped"
    )


def _digest_words(
    items: list[tracking.TrackedAction], today: dt.date, until: dt.date, manager: bool
) -> dict[str, object]:
    def line(a: tracking.TrackedAction) -> dict[str, object]:
        return {
            "ref": a.audit_ref,
            "number": a.number,
            "due": long_date(a.due) if a.due else "",
            "owner": a.owner or "owner not named",
            "action": a.action,
        }

    items = sorted(items, key=lambda a: (a.due or dt.date.max, a.audit_ref, a.number))
    return {
        "for_manager": manager,
        "until": long_date(until),
        "overdue": [line(a) for a in items if a.status == tracking.OVERDUE],
        "due_soon": [line(a) for a in items if a.status != tracking.OVERDUE],
    }
