"""PDF copies of Word documents through LibreOffice (soffice) running headless."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install LibreOffice (Linux: `apt install libreoffice-writer-nogui`; Windows and macOS: "
    "https://www.libreoffice.org/download/) to get PDF copies."
)

_KNOWN_PLACES = (
    "/usr/bin/soffice",
    "/usr/local/bin/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)


# LibreOffice's PDF export options (filter writer_pdf_Export), the same for every PDF made:
# everything that may leave the council is accessible. UseTaggedPDF writes the structure tree
# (headings, paragraphs, tables, reading order); PDFUACompliance checks and marks it as PDF/UA
# (alternative text, a title shown in the window: DisplayPDFDocTitle); ExportBookmarks turns
# the headings into the outline a reader navigates by. The title and language come from the
# Word document (core title, default language en-GB).
EXPORT_OPTIONS: dict[str, tuple[str, str]] = {
    "UseTaggedPDF": ("boolean", "true"),
    "PDFUACompliance": ("boolean", "true"),
    "DisplayPDFDocTitle": ("boolean", "true"),
    "ExportBookmarks": ("boolean", "true"),
    "ExportFormFields": ("boolean", "false"),
}


def convert_to() -> str:
    """Return the ``--convert-to`` argument: PDF through writer_pdf_Export with its options."""
    options = ",".join(
        f'"{name}":{{"type":"{kind}","value":"{value}"}}'
        for name, (kind, value) in EXPORT_OPTIONS.items()
    )
    return f"pdf:writer_pdf_Export:{{{options}}}"


class PdfError(Exception):
    """LibreOffice could not make the PDFs; the message says what happened in plain words."""


def soffice_path() -> str | None:
    """Return the path of LibreOffice's ``soffice``, or None when it is not installed."""
    override = os.environ.get("CSSW_DOCS_SOFFICE")
    if override:
        return override if Path(override).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for place in _KNOWN_PLACES:
        if Path(place).exists():
            return place
    return None


def convert(paths: list[Path], outdir: Path, timeout: float = 180) -> list[Path]:
    """Return the PDFs of ``paths`` written into ``outdir`` by one LibreOffice run.

    LibreOffice gets a private profile in a temporary folder, so several workers can convert
    at once. Raises PdfError when LibreOffice is missing, times out or leaves a PDF unwritten.
    """
    if not paths:
        return []
    soffice = soffice_path()
    if soffice is None:
        raise PdfError(f"LibreOffice is not installed. {INSTALL_HINT}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cssw-docs-lo-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            convert_to(),
            "--outdir",
            str(outdir),
            *[str(Path(p)) for p in paths],
        ]
        _run(command, timeout, profile)
    produced = [outdir / (Path(p).stem + ".pdf") for p in paths]
    missing = [p.name for p in produced if not p.exists() or p.stat().st_size == 0]
    if missing:
        raise PdfError(f"LibreOffice did not produce {', '.join(missing)}.")
    return produced


def _run(command: list[str], timeout: float, home: str) -> None:
    env = dict(os.environ, HOME=home)
    kwargs: dict = {}
    if sys.platform != "win32":
        kwargs["start_new_session"] = True  # so a timeout can end LibreOffice and its children
    log.debug("running %s", " ".join(command[:8]))
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        **kwargs,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        proc.communicate()
        raise PdfError(
            f"LibreOffice took longer than {timeout:g} seconds to make the PDFs and was stopped."
        ) from exc
    if proc.returncode != 0:
        detail = output.decode("utf-8", "replace").strip().splitlines()[-1:] if output else []
        raise PdfError(
            f"LibreOffice failed to make the PDFs (exit code {proc.returncode})"
            + (f": {detail[0]}" if detail else ".")
        )


def _kill(proc: subprocess.Popen) -> None:
    if sys.platform != "win32":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    proc.kill()
