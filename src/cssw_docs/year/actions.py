"""SMART actions followed to done: ``actions done|dropped``, and the supervision CSV returned.

The supervision CSV a Final pack carries has, after the actions, the columns Action number,
Status, Completed on and Note. A manager fills them in supervision and saves the CSV into the
intake folder; the service recognises it by its header row and records each action's status
(``store.programme.action_status``). A CSV that cannot be used is rejected like a workbook,
with the reason in plain words. The CSV names the child (it is a case document): nothing of
its content is ever logged or quoted in a message, only row numbers and column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import clock, rules
from ..config import Settings
from ..models import ActionStatus, Finding, Report, Severity
from ..oversight import actions as tracking
from ..oversight import records
from ..oversight.moderation import normalise_ref
from ..oversight.records import OversightError
from ..render import CSV_COLUMNS
from ..store import db
from ..store import programme as store
from ..workbook.parse import parse_date

ERROR = Severity.ERROR
SOURCE_COMMAND = "command"
SOURCE_CSV = "csv"
MAX_CSV_BYTES = 2 * 1024 * 1024  # a plan's CSV is a few kilobytes
# The returned CSV's columns read by their header (in any order, any case).
REF, NUMBER, STATUS, DONE_ON, NOTE = (CSV_COLUMNS[0], *CSV_COLUMNS[-4:])
STATUS_WORDS = {
    "open": ActionStatus.OPEN,
    "done": ActionStatus.DONE,
    "completed": ActionStatus.DONE,
    "dropped": ActionStatus.DROPPED,
    "no longer needed": ActionStatus.DROPPED,
}


def _header(text: str) -> str:
    return " ".join(text.split()).casefold()


def mark(
    settings: Settings,
    audit_ref: str,
    number: int,
    status: ActionStatus,
    *,
    by: str,
    note: str = "",
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tracking.TrackedAction:
    """Record action ``number`` of audit ``audit_ref`` as done or dropped; return it as it now
    stands. ``on`` defaults to today; a dropped action needs its reason in ``note``."""
    today = today or clock.today()
    on = on or today
    by, note = " ".join(by.split()), note.strip()
    if not by:
        raise OversightError('Say who did it with --by, e.g. --by "Sam Patel".')
    if status is ActionStatus.DROPPED and not note:
        raise OversightError("Say why the action is no longer needed with --note.")
    if on > today:
        raise OversightError(f"{on:%d/%m/%Y} is in the future: give the day it was done.")
    conn = db.open_ledger(Path(settings.service.state_dir))
    try:
        record = records.find(conn, audit_ref)
        _check_number(record, number)
        store.set_action_status(
            conn,
            audit_ref=normalise_ref(record.audit_ref),
            number=number,
            status=status.value,
            on_date=on.isoformat(),
            by_whom=by,
            note=note,
            source=SOURCE_COMMAND,
        )
        statuses = tracking.recorded(conn)
    finally:
        conn.close()
    found = tracking.tracked([record], today, statuses=statuses)
    return next(a for a in found if a.number == number)


def _check_number(record: records.AuditRecord, number: int) -> None:
    numbers = [n for n, _ in tracking.numbered(record)]
    if number not in numbers:
        raise OversightError(
            f"Audit {record.audit_ref} has no action {number}: its plan numbers its actions "
            f"1 to {max(numbers, default=0)}, as the audit plan and supervision insert do."
        )


# --- the supervision CSV returned ------------------------------------------------------------


@dataclass(frozen=True)
class ReturnedRow:
    """One row of a returned CSV that says something: its action, status, date and note."""

    row: int
    number: int
    status: ActionStatus
    on: dt.date | None
    note: str


@dataclass(frozen=True)
class Returned:
    """A returned supervision CSV read: its audit and rows, or the findings that reject it."""

    audit_ref: str
    rows: tuple[ReturnedRow, ...]
    report: Report

    @property
    def ok(self) -> bool:
        """Return True when the CSV can be recorded."""
        return self.report.ok


def is_returned_csv(path: Path) -> bool:
    """Return True for a file named ``.csv`` (the watcher hands every one to :func:`read`)."""
    return Path(path).suffix.lower() == ".csv"


def _text(path: Path) -> str | None:
    data = Path(path).read_bytes()[: MAX_CSV_BYTES + 1]
    if len(data) > MAX_CSV_BYTES:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _refused(message: str) -> Returned:
    return Returned("", (), Report((Finding("csv.unreadable", ERROR, message, None),)))


NOT_OURS = (
    "This CSV file is not a supervision actions file returned from an audit pack: its first "
    "row should hold the column names of supervision_actions.csv (Audit reference, ..., Action "
    "number, Status, Completed on, Note). Save the CSV from the audit pack with its Status and "
    "Completed on columns filled, keeping the first row, then put it in the intake folder again."
)


def read(path: Path, conn: sqlite3.Connection, today: dt.date) -> Returned:
    """Return the returned CSV at ``path`` read and checked against the audit in the ledger."""
    text = _text(path)
    if text is None:
        return _refused(
            "This CSV file could not be read as text (or is far too large for an audit plan). "
            "Save it again from Excel as 'CSV UTF-8 (Comma delimited)' and put it in the "
            "intake folder again."
        )
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return _refused(NOT_OURS)
    if not table:
        return _refused(NOT_OURS)
    where = {_header(h): i for i, h in enumerate(table[0])}
    wanted = (REF, NUMBER, STATUS, DONE_ON, NOTE)
    if any(_header(h) not in where for h in wanted):
        return _refused(NOT_OURS)
    cells = [
        (
            n,
            {
                h: (r[where[_header(h)]] if where[_header(h)] < len(r) else "").strip()
                for h in wanted
            },
        )
        for n, r in enumerate(table[1:], start=2)
        if any(c.strip() for c in r)
    ]
    refs = {normalise_ref(c[REF]) for _, c in cells if c[REF]}
    if len(refs) != 1:
        return _refused(
            "The CSV should hold the actions of one audit, with its reference in the Audit "
            "reference column of every row. Use the CSV from that audit's pack as it came."
        )
    (ref,) = refs
    try:
        record = records.find(conn, ref)
    except OversightError:
        shown = ref if rules.reference_is_safe(ref) else "in the CSV"
        return _refused(
            f"The audit reference {shown} is not a Final audit in the ledger. Check the "
            "Audit reference column, or wait until the audit's Final pack has been issued."
        )
    numbers = {n for n, _ in tracking.numbered(record)}
    findings: list[Finding] = []
    rows: list[ReturnedRow] = []
    for n, c in cells:
        row = _row(n, c, numbers, today, findings)
        if row is not None:
            rows.append(row)
    return Returned(record.audit_ref, tuple(rows), Report(tuple(findings)))


def _row(
    n: int, c: dict[str, str], numbers: set[int], today: dt.date, findings: list[Finding]
) -> ReturnedRow | None:
    def refuse(message: str) -> None:
        findings.append(Finding("csv.row", ERROR, f"Row {n}: {message}", None))

    status = STATUS_WORDS.get(" ".join(c[STATUS].split()).casefold())
    if not c[STATUS] or status is ActionStatus.OPEN:
        return None
    if status is None:
        refuse("the Status should be Open, Done or Dropped.")
        return None
    try:
        number = int(c[NUMBER])
    except ValueError:
        number = 0
    if number not in numbers:
        refuse(
            "the Action number is not one of this audit's actions. Keep the numbers as they came."
        )
        return None
    try:
        on = parse_date(c[DONE_ON]) if c[DONE_ON] else None
    except (ValueError, OverflowError):
        refuse("Completed on is not a date. Write it as dd/mm/yyyy.")
        return None
    if status is ActionStatus.DONE and on is None:
        refuse("the Status is Done but Completed on is empty. Write the day it was done.")
        return None
    if status is ActionStatus.DROPPED and not c[NOTE]:
        refuse("the Status is Dropped: say in the Note column why it is no longer needed.")
        return None
    if on is not None and on > today:
        refuse("Completed on is in the future. Write the day it was done.")
        return None
    return ReturnedRow(n, number, status, on, c[NOTE])


def record_returned(conn: sqlite3.Connection, returned: Returned, today: dt.date) -> int:
    """Record the statuses a checked CSV gives; return how many actions it closed."""
    for row in returned.rows:
        store.set_action_status(
            conn,
            audit_ref=normalise_ref(returned.audit_ref),
            number=row.number,
            status=row.status.value,
            on_date=(row.on or today).isoformat(),
            by_whom="supervision record",
            note=row.note,
            source=SOURCE_CSV,
        )
    return len(returned.rows)


def auditor_of(conn: sqlite3.Connection, audit_ref: str) -> str:
    """Return the auditor's email of a Final audit in the ledger ("" when unknown)."""
    try:
        return records.find(conn, audit_ref).submission.auditor_email
    except OversightError:
        return ""
