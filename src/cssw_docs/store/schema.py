"""The ledger's whole schema, as numbered migrations applied in order (``PRAGMA user_version``).

Migration 1 is the schema of release 0.1.0 exactly; it uses ``IF NOT EXISTS`` so that it
adopts a ledger that release wrote (``user_version`` 0, some or all tables present). Every
later change is a new migration appended to :data:`MIGRATIONS` (e.g. ``ALTER TABLE ... ADD
COLUMN``), never an edit of an earlier one, so each ledger in use reaches the same schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One step of the schema: the ``user_version`` it leads to and its SQL statements."""

    version: int
    summary: str
    statements: tuple[str, ...]


class SchemaError(Exception):
    """The ledger cannot be used by this version of cssw-docs; the message says what to do."""


RELEASE_0_1_0 = Migration(
    1,
    "the tables of release 0.1.0: jobs, audits, mail_outbox, moderation outcomes, resolutions",
    (
        """
        CREATE TABLE IF NOT EXISTS jobs (
          job_id TEXT PRIMARY KEY,
          source_name TEXT NOT NULL,        -- the auditor's file name (may hold a name)
          work_name TEXT NOT NULL,          -- the file's name in intake/.work/
          size INTEGER,
          sha256 TEXT,
          state TEXT NOT NULL,              -- models.JobState
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          next_attempt_at TEXT,             -- UTC ISO 8601; NULL = now
          audit_ref TEXT,
          stage TEXT,
          version INTEGER,
          pack_dir TEXT,
          pack TEXT,                        -- JSON: models.pack_to_dict(pack)
          data TEXT,                        -- JSON: models.submission_to_dict(submission)
          moderation_selected INTEGER,
          error_count INTEGER,
          findings TEXT,                    -- JSON list of finding codes (no free text)
          rejection TEXT,                   -- JSON: auditor email, files written, findings
          dest_dir TEXT,                    -- where the source goes when the job ends
          out_stem TEXT,                    -- stem of the rejection files
          final_path TEXT,                  -- where the source ended up
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          finished_at TEXT
        )
        """,
        "CREATE INDEX IF NOT EXISTS jobs_sha256 ON jobs (sha256)",
        "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)",
        """
        CREATE TABLE IF NOT EXISTS audits (
          audit_ref TEXT NOT NULL,
          stage TEXT NOT NULL,
          version INTEGER NOT NULL,
          job_id TEXT NOT NULL,
          source_sha256 TEXT NOT NULL,
          processed_at TEXT NOT NULL,
          audit_date TEXT,
          data TEXT NOT NULL,               -- JSON: models.submission_to_dict(submission)
          pack_dir TEXT NOT NULL,
          moderation_selected INTEGER,
          PRIMARY KEY (audit_ref, stage, version)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS mail_outbox (
          message_id TEXT PRIMARY KEY,      -- deterministic: job, stage, version and route
          job_id TEXT NOT NULL,
          audit_ref TEXT NOT NULL DEFAULT '',
          route TEXT NOT NULL,              -- models.Route
          sender TEXT NOT NULL,
          recipients TEXT NOT NULL,         -- JSON list of envelope addresses
          subject TEXT NOT NULL,            -- marking and audit reference only
          message BLOB NOT NULL,            -- the whole message as sent (RFC 5322 bytes)
          size INTEGER NOT NULL,
          state TEXT NOT NULL,              -- models.MailState
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          server_reply TEXT,
          created_at TEXT NOT NULL,         -- UTC ISO 8601
          updated_at TEXT NOT NULL,
          next_attempt_at TEXT NOT NULL,    -- pending: not before; sending: the lease end
          sent_at TEXT
        )
        """,
        "CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (state, next_attempt_at)",
        "CREATE INDEX IF NOT EXISTS mail_outbox_job ON mail_outbox (job_id)",
        """
        CREATE TABLE IF NOT EXISTS moderation_outcomes (
          audit_ref TEXT NOT NULL,          -- normalised reference (moderation.normalise_ref)
          recorded_at TEXT NOT NULL,        -- UTC ISO 8601; the latest outcome counts
          moderator TEXT NOT NULL,
          rating TEXT NOT NULL,             -- the panel's overall rating
          note TEXT NOT NULL,
          PRIMARY KEY (audit_ref, recorded_at)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS escalation_resolutions (
          audit_ref TEXT NOT NULL,          -- normalised reference
          version INTEGER NOT NULL,         -- the Final version whose referral this resolves
          resolved_at TEXT NOT NULL,        -- UTC ISO 8601
          resolved_by TEXT NOT NULL,
          note TEXT NOT NULL,
          PRIMARY KEY (audit_ref, version)
        )
        """,
    ),
)

DELIVERIES_AND_META = Migration(
    2,
    "mail: deliveries per message, a forced extra one, refused recipients; ledger_meta",
    (
        # Times the whole message was handed to a server without an explicit refusal (sent,
        # or the reply never came, or the sender died before recording it).
        "ALTER TABLE mail_outbox ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0",
        # Set by `cssw-docs mail retry ID`: the cap for this message (NULL: mail.max_deliveries).
        "ALTER TABLE mail_outbox ADD COLUMN allowed_deliveries INTEGER",
        # JSON object: address -> the server's refusal, for a message sent to only some.
        "ALTER TABLE mail_outbox ADD COLUMN refused TEXT",
        """
        CREATE TABLE IF NOT EXISTS ledger_meta (
          key TEXT PRIMARY KEY,             -- e.g. new_ledger_accepted, rebuilt, restored
          value TEXT NOT NULL,
          updated_at TEXT NOT NULL          -- UTC ISO 8601
        )
        """,
    ),
)

AUDIT_PROCESS = Migration(
    3,
    "the audit process: the Head of QA's decision, what each pack issued, the panel's date "
    "and its ratings per section",
    (
        # The Head of QA's decision on a referral (escalations decide). Rows of release 0.1.0
        # (escalations resolve) have no outcome: the referral was closed with a note.
        "ALTER TABLE escalation_resolutions ADD COLUMN outcome TEXT",  # models.ReferralOutcome
        "ALTER TABLE escalation_resolutions ADD COLUMN decided_on TEXT",  # ISO date
        # The Final version issued with the decision; NULL until issued (or, for replaced,
        # until the revised workbook is).
        "ALTER TABLE escalation_resolutions ADD COLUMN issued_version INTEGER",
        # What a pack version issued: pack (as its stage says), awaiting (the Head of QA's
        # decision), decided (the final pack after it) or storyboard (a storyboard that
        # followed its Final pack).
        "ALTER TABLE audits ADD COLUMN issue TEXT NOT NULL DEFAULT 'pack'",
        # JSON: the same for a watcher job, with the decision, for its emails.
        "ALTER TABLE jobs ADD COLUMN issue TEXT",
        # The panel's ratings of the sections it changed, JSON {section key: rating}; its
        # overall rating stays in `rating`. The date the panel sat (ISO), when given.
        "ALTER TABLE moderation_outcomes ADD COLUMN sections TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE moderation_outcomes ADD COLUMN panel_date TEXT",
        """
        CREATE TABLE IF NOT EXISTS moderation_panels (
          audit_ref TEXT PRIMARY KEY,       -- normalised reference
          panel_date TEXT NOT NULL,         -- ISO date of the panel the audit goes to
          scheduled_at TEXT NOT NULL        -- UTC ISO 8601
        )
        """,
    ),
)

RETENTION = Migration(
    4,
    "retention and subject access: anonymous tombstones, the purge log, erasures",
    (
        # When the retention schedule removed the message's copy (its bytes): never sent again.
        "ALTER TABLE mail_outbox ADD COLUMN purged_at TEXT",
        # What is left of an audit whose case detail was removed (retention purge or subject
        # erase): no name, no MOSAIC ID, no free text, so the activity report still adds up.
        """
        CREATE TABLE IF NOT EXISTS tombstones (
          audit_ref TEXT PRIMARY KEY,       -- normalised reference
          stage TEXT NOT NULL,              -- the latest stage the audit reached
          summary TEXT NOT NULL,            -- JSON: oversight.tombstone.summary_of(record)
          removed_at TEXT NOT NULL,         -- UTC ISO 8601
          cause TEXT NOT NULL               -- retention | erasure
        )
        """,
        # What each purge removed: kind, reference and a name-free token, never a name. A row
        # is written before its record is removed (done_at NULL) and completed after, so a
        # purge stopped half way is finished, and logged once, by the next run.
        """
        CREATE TABLE IF NOT EXISTS purge_log (
          kind TEXT NOT NULL,               -- retention.KINDS key
          token TEXT NOT NULL,              -- name-free: job id, message id, ref/stage-vN ...
          audit_ref TEXT NOT NULL DEFAULT '',
          items INTEGER NOT NULL DEFAULT 1,   -- files or rows it stood for
          record_date TEXT NOT NULL,        -- ISO date the record's retention period began
          started_at TEXT NOT NULL,         -- UTC ISO 8601
          done_at TEXT,                     -- NULL while being removed
          run TEXT NOT NULL,                -- the purge run (UTC ISO 8601 of its start)
          PRIMARY KEY (kind, token)
        )
        """,
        # Who erased a subject's records and why; the subject is not named.
        """
        CREATE TABLE IF NOT EXISTS erasures (
          erasure_id TEXT PRIMARY KEY,
          erased_at TEXT NOT NULL,          -- UTC ISO 8601
          erased_by TEXT NOT NULL,          -- the account that ran subject erase
          reason TEXT NOT NULL,             -- as typed (checked to hold no name or MOSAIC ID)
          audit_refs TEXT NOT NULL,         -- JSON list of the references erased
          files INTEGER NOT NULL,
          rows INTEGER NOT NULL
        )
        """,
    ),
)

PROGRAMME = Migration(
    5,
    "the annual audit programme, each action's status, and the reminders sent",
    (
        # One row per planned audit (cssw-docs programme load): a case record, as the audits'
        # own data is (it names the child, to pre-fill the audit workbook).
        """
        CREATE TABLE IF NOT EXISTS programme (
          audit_ref TEXT PRIMARY KEY,       -- normalised reference
          ref TEXT NOT NULL,                -- as the QA unit wrote it
          audit_type TEXT NOT NULL,
          theme TEXT NOT NULL DEFAULT '',
          planned_month TEXT NOT NULL,      -- yyyy-mm
          auditor_name TEXT NOT NULL,
          auditor_email TEXT NOT NULL,
          auditor_role TEXT NOT NULL DEFAULT '',
          team TEXT NOT NULL,
          practitioner_name TEXT NOT NULL,
          practitioner_email TEXT NOT NULL,
          manager_name TEXT NOT NULL,
          manager_email TEXT NOT NULL,
          child_name TEXT NOT NULL DEFAULT '',
          child_mosaic_id TEXT NOT NULL DEFAULT '',
          loaded_at TEXT NOT NULL,          -- UTC ISO 8601, first loaded
          updated_at TEXT NOT NULL,
          issued_on TEXT,                   -- ISO date the workbook was sent; NULL: not yet
          workbook TEXT                     -- the pre-filled workbook's path
        )
        """,
        # Where each action of an audit's plan stands; no row: open. ``number`` is the
        # action's place (1, 2 ...) in the AuditPlan of the latest Final version.
        """
        CREATE TABLE IF NOT EXISTS action_status (
          audit_ref TEXT NOT NULL,          -- normalised reference
          number INTEGER NOT NULL,
          status TEXT NOT NULL,             -- models.ActionStatus
          on_date TEXT,                     -- ISO date done (or dropped)
          by_whom TEXT NOT NULL DEFAULT '',
          note TEXT NOT NULL DEFAULT '',
          source TEXT NOT NULL,             -- command | csv | workbook
          recorded_at TEXT NOT NULL,        -- UTC ISO 8601
          PRIMARY KEY (audit_ref, number)
        )
        """,
        # Each reminder occasion, recorded in the transaction that queued its email.
        """
        CREATE TABLE IF NOT EXISTS reminders_sent (
          occasion TEXT PRIMARY KEY,        -- e.g. feedback:CSSW-2026-0142:v1:1
          kind TEXT NOT NULL,               -- models.ReminderKind
          audit_ref TEXT NOT NULL DEFAULT '',
          sent_on TEXT NOT NULL,            -- ISO local date
          messages INTEGER NOT NULL,        -- emails queued (0: superseded by a later one)
          recorded_at TEXT NOT NULL
        )
        """,
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    RELEASE_0_1_0,
    DELIVERIES_AND_META,
    AUDIT_PROCESS,
    RETENTION,
    PROGRAMME,
)
LATEST = MIGRATIONS[-1].version


def version(conn: sqlite3.Connection) -> int:
    """Return the schema version the ledger is at (0: new, or written by release 0.1.0)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the ledger lacks, in one transaction; return the version before.

    Safe when several processes open the ledger at once: the version is read again under the
    write lock, so each migration runs once.
    """
    latest = migrations[-1].version if migrations else 0
    found = version(conn)
    if found == latest:
        return found
    _refuse_newer(found, latest)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = version(conn)
        _refuse_newer(found, latest)
        for migration in migrations:
            if migration.version <= found:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def _refuse_newer(found: int, latest: int) -> None:
    if found > latest:
        raise SchemaError(
            f"The ledger was written by a newer version of cssw-docs (schema {found}; this "
            f"version knows up to {latest}). Install the newer cssw-docs to use it."
        )
