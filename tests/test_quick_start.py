"""A newcomer's first hour: the README's quick start, typed into a shell in a fresh clone
exactly as printed, then the commands the demo says to run next, each exactly as printed.

It costs a virtual environment and an install (pip takes the packages from its cache), about
25 s on two cores; it runs in `make test`, not `make check`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from docs_support import README, ROOT, fences, text_of


def _need(tool: str) -> None:
    """Fail under CI, else skip with the reason, when ``tool`` is not installed."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed; the quick start needs it.")
        pytest.skip(f"{tool} is not installed; the quick start needs it")


def _shell(line: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``line`` through a shell in ``cwd``, as a person would type it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSSW_DOCS_")}
    env.pop("VIRTUAL_ENV", None)  # a newcomer's shell has no environment activated
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _quick_start() -> list[str]:
    """Return the command lines of the README's quick start block."""
    text = text_of(README)
    quick = text.split("## Quick start", 1)[1]
    block = fences(quick)[0].text
    return [line for line in block.splitlines() if line.strip()]


def _next_steps(output: str) -> list[str]:
    """Return the commands the demo's closing lines tell the reader to run."""
    tail = output.split("Next, try", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.startswith("  ")]


def test_the_quick_start_block_is_the_two_commands():
    """The block the quick-start test types is `make demo` then `make test`."""
    lines = _quick_start()
    assert [line.split("#")[0].strip() for line in lines] == ["make demo", "make test"]


@pytest.mark.slow
def test_the_quick_start_runs_as_printed_in_a_fresh_clone(tmp_path: Path):
    """`make demo` in a fresh clone works, and every command it then suggests runs as shown."""
    _need("make")
    clone = tmp_path / "cssw-docs"
    if (ROOT / ".git").exists():
        _need("git")
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    else:  # a checkout without its history (an unpacked archive): copy what a clone would hold
        leftovers = shutil.ignore_patterns(
            ".venv", "demo-output", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info"
        )
        shutil.copytree(ROOT, clone, ignore=leftovers)
    make_demo, _make_test = _quick_start()  # `make test` is what is running this test

    demo = _shell(make_demo, clone)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Packs made (6):" in demo.stdout

    steps = _next_steps(demo.stdout)
    assert [s.rsplit("cssw-docs ", 1)[1] for s in steps] == [
        "status",
        "mail status",
        "watch --once",
    ]
    ran = {}
    for step in steps:
        result = _shell(step, clone)
        assert result.returncode == 0, f"{step}\n{result.stdout}{result.stderr}"
        ran[step.rsplit("cssw-docs ", 1)[1]] = result.stdout
    assert "Watcher: not running" in ran["status"]
    assert "written, not sent (no mail server set)" in ran["status"]
    assert "0 pack(s) made" in ran["watch --once"]  # nothing new was waiting

    # The README's own way of running it after setup, as printed.
    assert "`.venv/bin/cssw-docs --help`" in text_of(README)
    helped = _shell(".venv/bin/cssw-docs --help", clone)
    assert helped.returncode == 0 and "watch" in helped.stdout
    assert "`. .venv/bin/activate`" in text_of(README)
    activated = _shell(". .venv/bin/activate && cssw-docs --help", clone)
    assert activated.returncode == 0 and "watch" in activated.stdout
