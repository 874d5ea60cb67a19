"""The audit's and the pack's JSON forms: exact round trips, tolerant reading of old data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cssw_docs.models import (
    Action,
    DocKind,
    FileFormat,
    Pack,
    PackFile,
    Rating,
    SectionAssessment,
    Stage,
    pack_from_dict,
    pack_to_dict,
    submission_from_dict,
    submission_to_dict,
)


def _stored(sub) -> dict:
    return json.loads(json.dumps(submission_to_dict(sub)))


def test_json_round_trip(good_audit):
    """audit.json data turns back into the same Submission."""
    assert submission_from_dict(_stored(good_audit)) == good_audit


def test_rating_order():
    """Ranks run from Outstanding (1) to Inadequate (4); Not applicable has none."""
    assert [r.rank for r in Rating] == [1, 2, 3, 4, None]
    assert Rating.GOOD.good_or_better and not Rating.REQUIRES_IMPROVEMENT.good_or_better


def test_unknown_keys_are_ignored_everywhere(good_audit):
    """Keys a later (or earlier) version added, at the top or inside a list item, are ignored."""
    data = _stored(good_audit)
    data["reviewer"] = "someone"
    data["sections"][0]["confidence"] = "high"
    data["actions"][0]["priority"] = 1
    data["practice_areas"][0]["score"] = 3
    assert submission_from_dict(data) == good_audit


def test_missing_keys_take_their_defaults(good_audit):
    """A field renamed or added since the audit was stored reads as its default."""
    data = _stored(good_audit)
    del data["overall_summary"]
    del data["audit_date"]
    del data["sections"][0]["key"]  # a field with no default of its own: empty text
    del data["actions"][0]["due"]
    del data["feedback"]
    sub = submission_from_dict(data)
    assert (sub.overall_summary, sub.audit_date, sub.feedback) == ("", None, ())
    assert sub.sections[0] == dataclasses.replace(good_audit.sections[0], key="")
    assert sub.actions[0] == dataclasses.replace(good_audit.actions[0], due=None)
    assert sub.audit_ref == good_audit.audit_ref


def test_values_a_choice_list_does_not_know_become_none(good_audit):
    """A rating, stage or consent renamed since it was stored reads as None, not an error."""
    data = _stored(good_audit)
    data["overall_rating"] = "Very good"
    data["audit_stage"] = "Review"
    data["family_consent"] = 3
    data["sections"][0]["rating"] = "RI"
    data["actions"][0]["due"] = "next week"
    sub = submission_from_dict(data)
    assert (sub.overall_rating, sub.audit_stage, sub.family_consent) == (None, None, None)
    assert sub.sections[0].rating is None and sub.actions[0].due is None
    assert sub.sections[1] == good_audit.sections[1]


def test_items_that_are_not_objects_are_skipped(good_audit):
    """A list item that is not a JSON object is left out rather than failing the audit."""
    data = _stored(good_audit)
    data["actions"] = ["not an action", *data["actions"]]
    data["gaps"] = None
    sub = submission_from_dict(data)
    assert sub.actions == good_audit.actions and sub.gaps == ()


def test_an_empty_record_reads_as_an_empty_submission():
    """Even a record with nothing in it gives a Submission (all defaults)."""
    sub = submission_from_dict({})
    assert sub.audit_ref == "" and sub.sections == () and sub.overall_rating is None
    assert (
        SectionAssessment(key="x") == submission_from_dict({"sections": [{"key": "x"}]}).sections[0]
    )
    assert submission_from_dict({"actions": [{}]}).actions == (Action(),)


# A pack as release 0.1.0 stored it in the ledger's jobs.pack (from tests/data's ledger).
RELEASE_PACK = {
    "audit_ref": "CSSW-2026-0142",
    "stage": "Final",
    "version": 1,
    "directory": "/srv/outbox/CSSW-2026-0142/final-v1",
    "files": [
        {"name": "CSSW-2026-0142 Audit report.docx", "kind": "report", "sha256": "a", "size": 1},
        {"name": "CSSW-2026-0142 Audit plan.docx", "kind": "plan", "sha256": "b", "size": 2},
        {"name": "CSSW-2026-0142 Supervision insert.docx", "kind": "insert", "sha256": "c",
         "size": 3},
        {"name": "supervision_actions.csv", "kind": "csv", "sha256": "d", "size": 4},
        {"name": "CSSW-2026-0142 Storyboard.docx", "kind": "storyboard", "sha256": "e",
         "size": 5},
        {"name": "CSSW-2026-0142 Storyboard.pdf", "kind": "pdf-storyboard", "sha256": "f",
         "size": 6},
        {"name": "audit.json", "kind": "audit", "sha256": "g", "size": 7},
    ],
}  # fmt: skip


def test_a_release_pack_reads_with_typed_kinds_and_formats():
    """Release 0.1.0's kind strings become a DocKind and a FileFormat."""
    pack = pack_from_dict(RELEASE_PACK)
    assert (pack.audit_ref, pack.stage, pack.version) == ("CSSW-2026-0142", Stage.FINAL, 1)
    assert pack.directory == Path("/srv/outbox/CSSW-2026-0142/final-v1")
    assert [(f.kind, f.format) for f in pack.files] == [
        (DocKind.REPORT, FileFormat.DOCX),
        (DocKind.PLAN, FileFormat.DOCX),
        (DocKind.SUPERVISION_INSERT, FileFormat.DOCX),
        (DocKind.ACTIONS_CSV, FileFormat.CSV),
        (DocKind.STORYBOARD, FileFormat.DOCX),
        (DocKind.STORYBOARD, FileFormat.PDF),
        (DocKind.AUDIT_JSON, FileFormat.JSON),
    ]
    assert [(f.name, f.sha256, f.size) for f in pack.files][5] == (
        "CSSW-2026-0142 Storyboard.pdf",
        "f",
        6,
    )


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"kind": "supervision_insert", "format": "pdf"}, (DocKind.SUPERVISION_INSERT, "pdf")),
        ({"kind": "actions_csv"}, (DocKind.ACTIONS_CSV, "csv")),
        ({"kind": "audit_json"}, (DocKind.AUDIT_JSON, "json")),
        ({"kind": "report", "format": "docx"}, (DocKind.REPORT, "docx")),
        ({"kind": "storyboard", "format": "pdf"}, (DocKind.STORYBOARD, "pdf")),
        ({"kind": "plan"}, (DocKind.PLAN, "docx")),
        ({"kind": "pdf-insert"}, (DocKind.SUPERVISION_INSERT, "pdf")),
        ({"kind": "pdf-report", "format": "docx"}, (DocKind.REPORT, "pdf")),
        ({"kind": "csv", "format": "docx"}, (DocKind.ACTIONS_CSV, "csv")),
    ],
)
def test_kinds_old_and_new_are_both_read(stored, expected):
    """A current DocKind value keeps its stored format; a release string implies its own."""
    (f,) = pack_from_dict({**RELEASE_PACK, "files": [{"name": "x", **stored}]}).files
    assert (f.kind, f.format) == expected


def test_a_file_of_an_unknown_kind_is_left_out():
    """A file kind no version knows is dropped; the rest of the pack still reads."""
    data = {**RELEASE_PACK, "extra": 1, "files": [{"kind": "hologram"}, *RELEASE_PACK["files"]]}
    assert len(pack_from_dict(data).files) == len(RELEASE_PACK["files"])


def test_pack_round_trip(tmp_path):
    """pack_to_dict and pack_from_dict give back the same Pack, through JSON."""
    pack = Pack(
        "CSSW-2026-0142",
        Stage.DRAFT,
        3,
        tmp_path,
        (
            PackFile("r.docx", DocKind.REPORT, "a", 10),
            PackFile("i.pdf", DocKind.SUPERVISION_INSERT, "b", 20, FileFormat.PDF),
            PackFile("a.csv", DocKind.ACTIONS_CSV, "c", 30, FileFormat.CSV),
        ),
    )
    assert pack_from_dict(json.loads(json.dumps(pack_to_dict(pack)))) == pack
