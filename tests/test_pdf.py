"""LibreOffice turns a whole pack into PDFs in one run, and failures are plain errors."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
from pathlib import Path

import pypdf
import pytest

from cssw_docs import render
from cssw_docs.config import RenderSettings
from cssw_docs.models import DocKind, FileFormat, Submission
from cssw_docs.render import pdf
from cssw_docs.rubric import Rubric


def fake_soffice(tmp_path: Path, body: str) -> Path:
    """Write an executable stand-in for soffice running ``body`` (a shell script)."""
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.slow
@pytest.mark.libreoffice
def test_whole_pack_converts_in_one_soffice_run(
    soffice: str,
    good_audit: Submission,
    the_rubric: Rubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With pdf on, every document gets a real PDF, made by a single LibreOffice process."""
    runs: list[list[str]] = []
    real_popen = subprocess.Popen

    def counting_popen(args, *a, **kw):
        runs.append(list(args))
        return real_popen(args, *a, **kw)

    monkeypatch.setattr(pdf.subprocess, "Popen", counting_popen)
    settings = RenderSettings(pdf=True)
    pack = render.render_pack(
        good_audit, the_rubric, tmp_path, settings=settings, source_sha256="f" * 64
    )
    docs = [f for f in pack.files if f.name.endswith(".docx")]
    pdfs = [f for f in pack.files if f.format is FileFormat.PDF]
    assert [f.kind for f in pdfs] == [f.kind for f in docs]
    for f in pdfs:
        assert (pack.directory / f.name).read_bytes().startswith(b"%PDF")
        # Tagged for screen readers, titled, in British English (render/pdf.py EXPORT_OPTIONS).
        reader = pypdf.PdfReader(pack.directory / f.name)
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root and root["/Lang"] == "en-GB", f.name
        assert reader.metadata.title and "&#" not in reader.metadata.title
    titles = {f.kind: pypdf.PdfReader(pack.directory / f.name).metadata.title for f in pdfs}
    assert titles[DocKind.STORYBOARD] == good_audit.storyboard_title
    assert titles[DocKind.REPORT] == f"{good_audit.audit_ref} Audit report"
    assert len(runs) == 1
    assert sum(a.endswith(".docx") for a in runs[0]) == 4
    assert any(a.startswith("-env:UserInstallation=file://") for a in runs[0])


@pytest.mark.slow
@pytest.mark.libreoffice
def test_storyboard_pdf_is_made_by_default(
    soffice: str, good_audit: Submission, the_rubric: Rubric, tmp_path: Path
) -> None:
    """By default only the storyboard gets a PDF (it is printed for learning events)."""
    pack = render.render_pack(
        good_audit, the_rubric, tmp_path, settings=RenderSettings(), source_sha256="e" * 64
    )
    pdfs = [f.kind for f in pack.files if f.format is FileFormat.PDF]
    assert pdfs == [DocKind.STORYBOARD]


def test_no_documents_means_no_run(tmp_path: Path) -> None:
    """Converting nothing returns nothing without starting LibreOffice."""
    assert pdf.convert([], tmp_path) == []


def test_missing_libreoffice_is_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without LibreOffice, convert says to install it."""
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(tmp_path / "not-here"))
    assert pdf.soffice_path() is None
    with pytest.raises(pdf.PdfError, match="Install LibreOffice"):
        pdf.convert([tmp_path / "a.docx"], tmp_path)


def test_soffice_is_found_when_installed(soffice: str) -> None:
    """soffice_path finds the installed LibreOffice."""
    found = pdf.soffice_path()
    assert found is not None and os.path.exists(found)


@pytest.mark.slow
def test_hung_libreoffice_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice that never finishes is killed after the timeout, with a plain message."""
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(fake_soffice(tmp_path, "sleep 30")))
    with pytest.raises(pdf.PdfError, match=r"longer than 0\.5 seconds"):
        pdf.convert([tmp_path / "a.docx"], tmp_path, timeout=0.5)


def test_failing_libreoffice_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice that exits with an error gives its last line of output."""
    script = fake_soffice(tmp_path, 'echo "Error: source file could not be loaded"; exit 1')
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(script))
    with pytest.raises(pdf.PdfError, match="could not be loaded"):
        pdf.convert([tmp_path / "a.docx"], tmp_path)


def test_missing_output_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice that exits cleanly without writing the PDF is not trusted."""
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(fake_soffice(tmp_path, "exit 0")))
    with pytest.raises(pdf.PdfError, match=r"did not produce a\.pdf"):
        pdf.convert([tmp_path / "a.docx"], tmp_path)


def test_failed_storyboard_pdf_does_not_stop_the_pack(
    good_audit: Submission,
    the_rubric: Rubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When only the default storyboard PDF fails, the Word pack is still published."""
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(fake_soffice(tmp_path, "exit 1")))
    pack = render.render_pack(
        good_audit, the_rubric, tmp_path / "out", settings=RenderSettings(), source_sha256="d"
    )
    assert pack.path(DocKind.STORYBOARD).exists()
    assert pack.path(DocKind.STORYBOARD, FileFormat.PDF) is None


def test_failed_requested_pdfs_fail_the_pack(
    good_audit: Submission,
    the_rubric: Rubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When PDFs were asked for and cannot be made, no pack is published (so it is retried)."""
    monkeypatch.setenv("CSSW_DOCS_SOFFICE", str(fake_soffice(tmp_path, "exit 1")))
    settings = dataclasses.replace(RenderSettings(), pdf=True)
    with pytest.raises(render.RenderError, match="LibreOffice failed"):
        render.render_pack(
            good_audit, the_rubric, tmp_path / "out", settings=settings, source_sha256="d"
        )
    assert not (tmp_path / "out" / "CSSW-2026-0142" / "final-v1").exists()
