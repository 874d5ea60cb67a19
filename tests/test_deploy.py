"""The systemd unit puts the same ceilings on the whole service as the settings put on a job."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cssw_docs.config import ServiceSettings

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "cssw-docs.service"


def _service_keys() -> dict[str, str]:
    """Return the [Service] section's settings (the last value of a repeated key)."""
    keys: dict[str, str] = {}
    section = ""
    for line in UNIT.read_text("utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            keys[key] = value
    return keys


def _bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", size)
    assert m, size
    return int(m[1]) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m[2]]


def test_unit_bounds_the_service_memory_and_tasks() -> None:
    """MemoryHigh < MemoryMax, room for the watcher and a worker at its limit, tasks capped,
    a worker stopped for memory does not stop the service, and no RuntimeMaxSec."""
    keys = _service_keys()
    worker = ServiceSettings().worker_memory_mb << 20
    assert _bytes(keys["MemoryHigh"]) < _bytes(keys["MemoryMax"])
    assert _bytes(keys["MemoryMax"]) >= 2 * worker
    assert int(keys["TasksMax"]) > 0
    assert keys["OOMPolicy"] == "continue"
    assert "RuntimeMaxSec" not in keys


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` knows every key (the program path swapped for one that exists)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (not a systemd machine)")
    unit = tmp_path / "cssw-docs.service"
    text = UNIT.read_text("utf-8").replace("/opt/cssw-docs/.venv/bin/cssw-docs", "/bin/true")
    unit.write_text(text, "utf-8")
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Unknown" not in output and "ignoring" not in output, output
