"""Counts how often a test's code opens a file from disk, builds a ZipFile and inflates members."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Opens:
    """What was opened while the counter was installed."""

    files: int = 0  # opens of the watched path
    zips: int = 0  # ZipFile objects built
    members: Counter[str] = field(default_factory=Counter)  # members inflated, by name


def count_opens(monkeypatch: pytest.MonkeyPatch, path: Path) -> Opens:
    """Return an Opens that counts, from now on, every open of ``path`` and every ZipFile."""
    opens = Opens()
    real_open = io.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, str | Path) and Path(file) == path:
            opens.files += 1
        return real_open(file, *args, **kwargs)

    class CountingZipFile(zipfile.ZipFile):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            opens.zips += 1
            super().__init__(*args, **kwargs)

        def open(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
            opens.members[getattr(name, "filename", name)] += 1
            return super().open(name, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(zipfile, "ZipFile", CountingZipFile)
    return opens
