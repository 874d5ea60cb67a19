"""The audit's JSON form round-trips exactly."""

from __future__ import annotations

import json

from cssw_docs.models import Rating, submission_from_dict, submission_to_dict


def test_json_round_trip(good_audit):
    """audit.json data turns back into the same Submission."""
    data = json.loads(json.dumps(submission_to_dict(good_audit)))
    assert submission_from_dict(data) == good_audit


def test_rating_order():
    """Ranks run from Outstanding (1) to Inadequate (4); Not applicable has none."""
    assert [r.rank for r in Rating] == [1, 2, 3, 4, None]
    assert Rating.GOOD.good_or_better and not Rating.REQUIRES_IMPROVEMENT.good_or_better
