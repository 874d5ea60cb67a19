"""Shared fixtures: the rubric, the example audit, and LibreOffice (never skipped in CI)."""

from __future__ import annotations

import os
import shutil

import pytest

from cssw_docs import examples, rubric
from cssw_docs.models import Submission
from cssw_docs.rubric import Rubric


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
