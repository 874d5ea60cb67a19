"""`make demo` writes the examples, runs the service once and explains where everything went."""

from __future__ import annotations

import pytest

from cssw_docs import demo


@pytest.mark.slow
def test_demo_runs_and_can_run_again(tmp_path, monkeypatch, capsys):
    """The demo makes packs and rejections, says where; a second run starts afresh."""
    monkeypatch.chdir(tmp_path)
    assert demo.main([]) == 0  # exactly as `make demo`, storyboard PDFs included
    # The second run tests starting afresh; LibreOffice already ran in the first.
    with_pdf = demo.demo_settings
    monkeypatch.setattr(
        demo,
        "demo_settings",
        lambda base: with_pdf(base).with_changes(**{"render.storyboard_pdf": False}),
    )
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    base = tmp_path / "demo-output"
    assert out.count("Packs made (6):") == 2
    assert "Workbooks rejected (2), with the reasons:" in out
    assert "reasons:     CSSW-2026-0190 - problems.txt" in out
    assert "1. “Allocated worker's email” is not a valid email address: it is not of the" in out
    assert "written as .eml files" in out
    assert len(list((base / "outbox").glob("*/*-v1"))) == 6
    assert not list((base / "outbox").glob("*/*-v2"))  # afresh: no second versions
    assert len(list((base / "intake" / "rejected").rglob("*problems.txt"))) == 2


def test_demo_leaves_a_folder_it_did_not_make(tmp_path, monkeypatch, capsys):
    """An existing demo-output folder that is not the demo's is never emptied."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo-output").mkdir()
    (tmp_path / "demo-output" / "mine.txt").write_text("keep me")
    assert demo.main([]) == 1
    assert (tmp_path / "demo-output" / "mine.txt").read_text() == "keep me"
    assert "was not made by the demo" in capsys.readouterr().err
