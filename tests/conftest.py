"""Shared fixtures: the rubric, the example audit, a test SMTP server and LibreOffice."""

from __future__ import annotations

import os
import shutil

import pytest

from cssw_docs import examples, rubric
from cssw_docs.models import Submission
from cssw_docs.rubric import Rubric
from deliver_support import Recorder, start_server


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one test process per core for the quick tests (`make check`, CPU-bound), two
    per core, at most 16, for the whole suite (`make test`): the slow tests spend much of their
    time waiting (a watcher settling a file, LibreOffice starting, a subprocess polling), and
    a second process per core uses that time."""
    cores = os.cpu_count() or 1
    if "not slow" in (config.option.markexpr or ""):
        return cores
    return max(2, min(2 * cores, 16))


@pytest.fixture(scope="session")
def the_rubric() -> Rubric:
    """The packaged rubric."""
    return rubric.load()


@pytest.fixture
def good_audit(the_rubric: Rubric) -> Submission:
    """A complete, valid Final audit rated Good overall."""
    return examples.good(the_rubric)


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice's soffice; fails (not skips) under CI when it is missing."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is not installed; .ci/run should have installed it.")
        pytest.skip("LibreOffice (soffice) is not installed; run `bash .ci/run` to install it")
    return path


@pytest.fixture(scope="session")
def _smtp_session():
    """One plain SMTP server on 127.0.0.1 for the whole test session (per xdist worker)."""
    controller, recorder = start_server()
    yield controller, recorder
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_session) -> tuple[object, Recorder]:
    """The shared plain SMTP server, with nothing received and nobody refused yet."""
    controller, recorder = _smtp_session
    recorder.received.clear()
    recorder.refuse.clear()
    return controller, recorder
