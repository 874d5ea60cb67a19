"""Long commands show progress on a terminal, and nothing in a log, a pipe or with --quiet."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cssw_docs import demo, templating
from cssw_docs.cli import cli, common
from cssw_docs.rubric import Rubric
from cssw_docs.service.watch import Watcher
from workbook_support import write_example


@pytest.mark.slow
@pytest.mark.parametrize(
    ("terminal", "args", "shown"),
    [(True, [], True), (True, ["--quiet"], False), (False, [], False)],
)
def test_workbook_examples_draws_a_bar_only_on_a_terminal(
    tmp_path, monkeypatch, terminal, args, shown
):
    """A bar on a terminal's stderr; none with --quiet or when stderr is not a terminal."""
    monkeypatch.setattr(common, "_on_terminal", lambda: terminal)
    result = CliRunner().invoke(cli, ["workbook", "examples", "-o", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    assert ("Example workbooks" in result.stderr) is shown
    assert "Example workbooks" not in result.stdout  # what scripts read is unchanged
    assert result.stdout.count("Wrote ") == 8


@pytest.mark.slow
def test_preview_tells_its_progress_example_by_example(tmp_path, the_rubric: Rubric):
    """templates preview reports each example audit done, ending at all of them."""
    seen: list[tuple[int, int]] = []
    templating.preview(
        None, tmp_path, the_rubric, marking="OFFICIAL", progress=lambda *a: seen.append(a)
    )
    total = len(templating.example_audits(the_rubric))
    assert seen == [(n, total) for n in range(1, total + 1)]


@pytest.mark.slow
def test_watch_once_tells_its_progress_workbook_by_workbook(tmp_path, the_rubric: Rubric):
    """A first watch --once over several workbooks reports each one finished."""
    intake = tmp_path / "intake"
    intake.mkdir()
    for name in ("good", "draft", "invalid-incomplete"):
        write_example(intake / f"{name}.xlsx", name)
    seen: list[tuple[int, int]] = []
    settings = demo.demo_settings(tmp_path).with_changes(
        **{"render.storyboard_pdf": False, "service.settle_seconds": 0.2}
    )
    Watcher(settings, the_rubric, once=True, progress=lambda *a: seen.append(a)).run()
    assert [done for done, _ in seen] == [1, 2, 3]
    assert seen[-1] == (3, 3)
    assert all(done <= total for done, total in seen)
