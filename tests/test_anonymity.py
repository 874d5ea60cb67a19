"""The storyboard anonymity check: names, places, ages and rare conditions with dates."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from cssw_docs import privacy, rules, wordlists
from cssw_docs.config import ValidationSettings
from cssw_docs.models import Severity, Submission
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate

LOCAL = wordlists.local_list(wordlists.example_path())
# The good example credits Tom Baxter (worker), Priya Natarajan (auditor) and this team.
CREDITED = ("Tom Baxter", "Priya Natarajan", "Family Support & Intervention Team 3")

# Sentences from realistic storyboards that could identify a family: each must warn.
SHOULD_WARN: tuple[tuple[str, str], ...] = (
    ("Her aunt Hodan now collects the children from school every day.", "person"),
    ("Mrs Patel, the head teacher, noticed the change first.", "person"),
    ("The boy started at Oakfield Primary School in September.", "place"),
    ("The family moved to a flat on Mill Road after the fire.", "place"),
    ("They live on the Brecknock Estate, near the shops.", "place"),
    ("Mum said Sarah from the nursery was the first person she trusted.", "person"),
    ("She turned 9 on 3 March, the day she moved back home.", "age_date"),
    ("He was diagnosed with Batten disease in June 2025.", "condition_date"),
    ("Grandmother Fatima Hussain came to every meeting.", "person"),
    ("The family were housed in Kentish Town after the eviction.", "place"),
    ("A girl aged 14 was excluded on 12 January.", "age_date"),
    ("Dad and his partner Kyle took the boy to football on Saturdays.", "person"),
    ("The children's father, Mr Okonkwo, had not been involved for three years.", "person"),
    ("The worker met the family at Haverstock School twice a week.", "place"),
    ("In May 2025 she was diagnosed with Rett syndrome.", "condition_date"),
    ("Her brother Jayden, who is 16, now helps with the school run.", "person"),
    ("The family attend the mosque in Gospel Oak every Friday.", "place"),
    ("Auntie Grace took the children for weekends.", "person"),
    ("He has cystic fibrosis and had surgery in February 2026.", "condition_date"),
    ("Emma and Liam, the older siblings, wrote letters to the court.", "person"),
    ("She was 7 years old in April 2024 when the first referral came in.", "age_date"),
    ("They moved into Bacton House in the spring.", "place"),
    ("The boy's nan, Ayesha, who speaks only Arabic, now comes to every review.", "person"),
    ("On his 10th birthday in March the boy chose his own bedroom paint.", "age_date"),
)

# Sentences from realistic storyboards that identify no one: none may warn.
SHOULD_NOT_WARN: tuple[str, ...] = (
    "A primary-school child and her younger brother were referred by their school.",
    "The social worker used the 'three houses' tool so the child could say what worried her.",
    "A family network meeting brought grandmother in as a daily support.",
    "School attendance rose from 71% to 94%.",
    "Mother says she feels 'listened to, not judged'.",
    '"My worried house is smaller now." (child, aged 9)',
    "Simple direct-work tools, used early, give children a voice that changes the plan.",
    "With the support of Tom Baxter and Family Support & Intervention Team 3 the plan worked.",
    "The boy now lives safely with his father and has 100% school attendance this term.",
    "Never assume a father cannot be found or will not step up.",
    "The Virtual School and the Family Court agreed the plan.",
    "Will the plan last? The family think so, and so does the school.",
    "Grace and patience from the worker made the difference.",
    "In March the family network met for the first time.",
    "The child, aged 12, chose who came to her meetings.",
    "Hope grew as the weeks went by.",
    "The health visitor and the school nurse shared one plan.",
    "Early Help and the Front Door (MASH) worked together from the first day.",
    "The worker visited every week from January to April.",
    "Brown paper and crayons became the child's way of telling us about home.",
    "The father, who has autism, was diagnosed as an adult.",
    "Priya Natarajan audited the case in October 2026.",
    "By the summer the teenager was back in full-time education.",
    "The mother's mental health improved with support from her GP.",
)


def _check() -> privacy.AnonymityCheck:
    return privacy.anonymity_check(LOCAL, CREDITED)


@pytest.mark.parametrize(("sentence", "code"), SHOULD_WARN, ids=[s for s, _ in SHOULD_WARN])
def test_a_sentence_that_could_identify_a_family_warns(sentence: str, code: str) -> None:
    """Each sentence gives a clue of the expected kind."""
    assert code in {clue.code for clue in _check().clues(sentence)}


@pytest.mark.parametrize("sentence", SHOULD_NOT_WARN)
def test_a_sentence_that_identifies_no_one_does_not_warn(sentence: str) -> None:
    """Credited people, general places, ages without dates and common words are no clues."""
    assert _check().clues(sentence) == []


def test_there_are_at_least_twenty_of_each() -> None:
    """The issue asks for at least 20 sentences that warn and 20 that do not."""
    assert len(SHOULD_WARN) >= 20 and len(SHOULD_NOT_WARN) >= 20


def test_a_clue_holds_the_words_found() -> None:
    """The clue's text is the detail itself (for the auditor's own cell, never a message)."""
    (clue,) = _check().clues("They moved to Oakfield Primary School last year.")
    assert clue.text == "Oakfield Primary School"


def test_the_credited_worker_is_no_clue_but_another_worker_is() -> None:
    """Only the credited worker, auditor and team are left out."""
    assert _check().clues("Tom Baxter visited weekly.") == []
    assert [c.text for c in _check().clues("Ben Fletcher visited weekly.")] == ["Ben Fletcher"]


def _audit(good_audit: Submission, sentence: str, **changes: object) -> Submission:
    return dataclasses.replace(
        good_audit,
        storyboard_what_we_did=f"{good_audit.storyboard_what_we_did} {sentence}",
        **changes,  # type: ignore[arg-type]
    )


def _local_settings() -> ValidationSettings:
    return ValidationSettings(anonymity_list=wordlists.example_path())


def test_within_the_service_each_clue_is_a_warning_in_the_workbook(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """Shared only within the service: warnings, located at the storyboard's cell."""
    sub = _audit(good_audit, "Her aunt Hodan and Mrs Patel met at Gospel Oak Primary.")
    report = validate(sub, the_rubric, _local_settings(), today=sub.audit_date)
    found = [f for f in report.findings if f.code in ("storyboard.person", "storyboard.place")]
    assert report.ok
    assert {f.severity for f in found} == {Severity.WARNING}
    assert len(found) == 3
    assert "(the first of 2)" in found[0].message
    for finding in found:
        assert "Hodan" not in finding.message and "Patel" not in finding.message
        assert "Gospel" not in finding.message
        assert finding.location == sub.where("storyboard_what_we_did")


def test_shared_outside_each_clue_is_an_error_until_confirmed(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """With consent to share outside, clues block until each is listed as checked."""
    sub = _audit(
        good_audit, "Her aunt Hodan met us at Fleet Primary.", storyboard_consent_external=True
    )
    report = validate(sub, the_rubric, _local_settings(), today=sub.audit_date)
    assert {f.code for f in report.errors} == {"storyboard.person", "storyboard.place"}
    assert not rules.fit_to_share_outside(sub, LOCAL)
    one = dataclasses.replace(sub, storyboard_details_confirmed="Fleet Primary")
    report = validate(one, the_rubric, _local_settings(), today=sub.audit_date)
    assert {f.code for f in report.errors} == {"storyboard.person"}
    both = dataclasses.replace(sub, storyboard_details_confirmed="fleet primary\nHodan")
    report = validate(both, the_rubric, _local_settings(), today=sub.audit_date)
    assert report.ok and not {f.code for f in report.findings} & {"storyboard.person"}
    assert rules.fit_to_share_outside(both, LOCAL)


def test_the_borough_list_adds_places_the_forms_miss(
    good_audit: Submission, the_rubric: Rubric
) -> None:
    """A ward has no telling form: only the local list finds it."""
    sub = _audit(good_audit, "The family live in Belsize.")
    assert "storyboard.place" not in validate(sub, the_rubric, today=sub.audit_date).codes()
    report = validate(sub, the_rubric, _local_settings(), today=sub.audit_date)
    assert "storyboard.place" in report.codes()


def test_an_unreadable_local_list_is_a_warning_not_a_crash(
    good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """A broken list: the storyboard is checked without it and the auditor is told."""
    bad = tmp_path / "places.toml"
    bad.write_text('wards = "Highgate"\n', encoding="utf-8")
    settings = ValidationSettings(anonymity_list=bad)
    report = validate(good_audit, the_rubric, settings, today=good_audit.audit_date)
    assert "storyboard.anonymity_list" in {f.code for f in report.warnings}
    with pytest.raises(wordlists.WordlistError, match="not lists of text"):
        wordlists.local_list(bad)
    with pytest.raises(wordlists.WordlistError, match="cannot be read"):
        wordlists.local_list(tmp_path / "missing.toml")


def test_the_local_list_is_read_again_when_it_changes(tmp_path: Path) -> None:
    """The QA unit edits its list while the service runs: the next check uses the new one."""
    path = tmp_path / "places.toml"
    path.write_text('wards = ["Highgate"]\n', encoding="utf-8")
    assert wordlists.local_list(path).places == ("highgate",)
    path.write_text('wards = ["Highgate", "Belsize"]\n', encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert set(wordlists.local_list(path).places) == {"highgate", "belsize"}


def test_the_names_list_is_big_enough_and_cheap_to_check() -> None:
    """Some 13,000 names; a storyboard is checked in well under the time a pack takes.

    Measured, not asserted against a clock: the cost is printed for the README.
    """
    names = wordlists.names()
    assert len(names.first) > 5000 and len(names.last) > 5000
    assert "may" in names.everyday and "sarah" not in names.everyday
    story = " ".join((*SHOULD_NOT_WARN, *(s for s, _ in SHOULD_WARN)))
    start = time.perf_counter()
    clues = _check().clues(story)
    took = time.perf_counter() - start
    assert len(clues) >= len(SHOULD_WARN)
    print(f"anonymity check: {len(story)} characters in {took * 1000:.1f} ms")
