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


def test_the_closing_hints_name_the_environments_cssw_docs(tmp_path):
    """`cssw-docs` alone is not found unless .venv is activated: the hints give its path."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch()
    (bin_dir / "cssw-docs").touch()
    lines = demo.next_steps(tmp_path / "demo-output", tmp_path, bin_dir / "python")
    assert "  cd demo-output && ../.venv/bin/cssw-docs status" in lines
    assert "  cd demo-output && ../.venv/bin/cssw-docs watch --once" in lines
    (bin_dir / "cssw-docs").unlink()  # no script: the same Python runs the package
    assert demo.command_line(tmp_path / "demo-output", bin_dir / "python") == (
        "../.venv/bin/python -m cssw_docs"
    )
