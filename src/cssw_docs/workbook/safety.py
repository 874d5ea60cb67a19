"""Opens a workbook file once, checking it is a safe, intact .xlsx; says why not in plain words."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

from ..config import ValidationSettings
from ..models import Finding, Severity

MB = 1024 * 1024
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
# A member that inflates more than this many times over is treated as a zip bomb ...
MAX_COMPRESSION_RATIO = 100
# ... once it is this big (small XML parts compress well and are harmless).
RATIO_CHECK_MIN_BYTES = 1 * MB
# Our workbook has a few dozen parts; tens of thousands means something is wrong.
MAX_MEMBERS = 10_000
_CHUNK = 1 << 20
_ENTITY = b"<!ENTITY"
# Worksheets are not inflated up front: the reader streams the sheets it needs and only
# counts the others, so a huge sheet costs no more than the limit it breaks.
_WORKSHEETS = "xl/worksheets/"
# Any other part may hold this many times max_cells_per_sheet XML elements.
ELEMENTS_PER_CELL = 4

SAVE_AS_XLSX = (
    "Open it in Excel (or LibreOffice), choose File > Save As, pick "
    "'Excel Workbook (.xlsx)' and drop the saved copy in again."
)
NEW_BLANK = (
    "Download a new blank workbook with `cssw-docs workbook new` (or ask the QA unit for one), "
    "copy your answers across and drop it in again."
)


class UnreadableWorkbook(Exception):
    """The file cannot be read as an intake workbook; ``finding`` says why and what to do."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def unreadable(code: str, message: str) -> UnreadableWorkbook:
    """Return the exception carrying one error finding ``unreadable.<code>``."""
    return UnreadableWorkbook(Finding(f"unreadable.{code}", Severity.ERROR, message))


class Package(Mapping[str, bytes]):
    """A checked workbook: its XML parts by name, inflated, and its worksheets on demand.

    A Mapping of every XML part except the worksheets (``xl/worksheets/*.xml``), which are
    listed in ``worksheets`` and read with :meth:`stream` or :meth:`count_elements`. Holds
    the file's bytes in memory, never an open file.
    """

    def __init__(self, archive: zipfile.ZipFile, parts: dict[str, bytes], sheets: set[str]):
        self._archive = archive
        self._parts = parts
        self.worksheets = frozenset(sheets)

    def __getitem__(self, name: str) -> bytes:
        return self._parts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def stream(self, name: str) -> IO[bytes]:
        """Return worksheet ``name`` opened for reading; raise KeyError if it is not one.

        Reading it may raise zipfile.BadZipFile or zlib.error for a damaged part.
        """
        if name not in self.worksheets:
            raise KeyError(name)
        return self._archive.open(name)

    def count_elements(self, name: str, limit: int) -> int:
        """Return how many XML elements worksheet ``name`` holds, counting no further than
        just past ``limit`` (so a huge sheet is inflated no further than that)."""
        count = 0
        with self.stream(name) as fh:
            while chunk := fh.read(_CHUNK):
                count += count_elements(chunk)
                if count > limit:
                    break
        return count

    def close(self) -> None:
        """Let go of the file's bytes."""
        self._archive.close()


def count_elements(xml: bytes) -> int:
    """Return about how many XML elements ``xml`` holds (its start and empty tags)."""
    return xml.count(b"<") - xml.count(b"</") - xml.count(b"<?") - xml.count(b"<!")


def open_workbook(path: Path, limits: ValidationSettings) -> Package:
    """Return the .xlsx at ``path`` checked: its XML parts inflated once, its sheets on demand.

    The file is read from disk once and its zip opened once. Raises UnreadableWorkbook
    unless it is a small, intact, unencrypted .xlsx whose XML declares no entities and whose
    parts other than worksheets each hold at most ELEMENTS_PER_CELL * max_cells_per_sheet
    elements. The worksheets are checked as they are read (``xlsx.read_book``).
    """
    data = _read(path, limits)
    if data.startswith(OLE2_SIGNATURE):
        _refuse_ole2(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        if data.startswith(ZIP_SIGNATURE):
            raise truncated() from None
        raise unreadable(
            "not_a_zip",
            "This file is not an Excel workbook (.xlsx): its contents are not in Excel's format, "
            "even if its name ends in .xlsx. Open the audit workbook in Excel, check it shows your "
            "answers, then use File > Save As > 'Excel Workbook (.xlsx)' and drop that copy in.",
        ) from None
    except (zlib.error, EOFError, OSError, NotImplementedError, ValueError):
        raise truncated() from None
    try:
        return _check_archive(archive, limits)
    except BaseException:
        archive.close()
        raise


def inflate(
    archive: zipfile.ZipFile,
    keep: Callable[[str], bool] | None = None,
    skip: Callable[[str], bool] | None = None,
    max_elements: int | None = None,
) -> dict[str, bytes]:
    """Read every member of ``archive`` once, so zipfile checks each CRC; return those kept.

    Returns {name: bytes} of the members whose name ``keep`` accepts (none without ``keep``);
    the others are read in chunks and dropped, and those ``skip`` accepts are not read at all.
    Raises zipfile.BadZipFile for a damaged member, and UnreadableWorkbook (zip_bomb) as soon
    as a kept member holds more than ``max_elements`` XML elements.
    """
    kept = {}
    for member in archive.infolist():
        if skip is not None and skip(member.filename):
            continue
        chunks = []
        elements = 0
        wanted = keep is not None and keep(member.filename)
        with archive.open(member) as fh:
            while chunk := fh.read(_CHUNK):
                if wanted:
                    chunks.append(chunk)
                    elements += count_elements(chunk)
                    if max_elements is not None and elements > max_elements:
                        raise zip_bomb()
        if wanted:
            kept[member.filename] = b"".join(chunks)
    return kept


def _read(path: Path, limits: ValidationSettings) -> bytes:
    """Return the file's bytes, refusing a missing, empty or too large file."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if 0 < size <= limits.max_file_mb * MB:
                return fh.read(size)
    except FileNotFoundError:
        raise unreadable(
            "not_found", "The workbook could not be found. Drop it in again."
        ) from None
    except OSError:
        raise unreadable(
            "io",
            "The workbook could not be opened. Close it in Excel and drop it in again.",
        ) from None
    if size == 0:
        raise unreadable(
            "empty",
            "This file is empty (0 bytes), so it was probably not saved properly. "
            "Save the workbook again in Excel and drop the saved copy in again.",
        )
    raise unreadable(
        "too_large",
        f"This file is {size / MB:.1f} MB, more than the {limits.max_file_mb:g} MB an audit "
        "workbook may be. Remove any pictures or pasted documents from it, save it and drop it "
        "in again.",
    )


def _refuse_ole2(data: bytes) -> None:
    if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptionInfo" in data:
        raise unreadable(
            "encrypted",
            "This file is password-protected, so cssw-docs cannot read it. Open it in Excel, "
            "remove the password (File > Info > Protect Workbook > Encrypt with Password, clear "
            "the password, OK), save it and drop it in again.",
        )
    raise unreadable(
        "xls",
        "This is an old-style Excel file (.xls) or another non-.xlsx document, which cssw-docs "
        "cannot read. " + SAVE_AS_XLSX,
    )


def truncated() -> UnreadableWorkbook:
    """Return the exception for a damaged or partly copied workbook."""
    return unreadable(
        "truncated",
        "This workbook is damaged or was only partly copied (it may have been dropped in while "
        "still being saved). Save it again from Excel and drop the saved copy in again.",
    )


def _check_archive(archive: zipfile.ZipFile, limits: ValidationSettings) -> Package:
    """Return the archive checked, refusing a zip bomb, a non-workbook and XML entities."""
    try:
        members = archive.infolist()
        _refuse_bomb(members, limits)
        names = {m.filename for m in members}
        if "xl/workbook.xml" not in names:
            if "xl/workbook.bin" in names:
                raise unreadable(
                    "not_a_workbook",
                    "This is an Excel binary workbook (.xlsb), which cssw-docs cannot read. "
                    + SAVE_AS_XLSX,
                )
            raise unreadable(
                "not_a_workbook",
                "This file is not an Excel workbook (it may be a Word document, an "
                "OpenDocument spreadsheet or a zip folder). " + SAVE_AS_XLSX,
            )
        sheets = {n for n in names if _is_worksheet(n)}
        budget = ELEMENTS_PER_CELL * limits.max_cells_per_sheet
        parts = inflate(archive, keep=_is_xml, skip=sheets.__contains__, max_elements=budget)
    except UnreadableWorkbook:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError):
        raise truncated() from None
    if any(_ENTITY in xml for xml in parts.values()):
        raise entity_bomb()
    return Package(archive, parts, sheets)


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels", ".vml"))


def _is_worksheet(name: str) -> bool:
    return name.startswith(_WORKSHEETS) and name.endswith(".xml") and "/_rels/" not in name


def _refuse_bomb(members: list[zipfile.ZipInfo], limits: ValidationSettings) -> None:
    total = sum(m.file_size for m in members)
    ratio_bomb = any(
        m.file_size >= RATIO_CHECK_MIN_BYTES
        and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1)
        for m in members
    )
    too_many = len(members) > MAX_MEMBERS
    if total > limits.max_uncompressed_mb * MB or ratio_bomb or too_many:
        raise zip_bomb()


def zip_bomb() -> UnreadableWorkbook:
    """Return the exception for a workbook holding far more data than an audit workbook."""
    return unreadable(
        "zip_bomb",
        "This file expands to far more data than an audit workbook holds, so it was not "
        "opened (it may be damaged or deliberately malformed). Start again from a blank "
        "workbook (`cssw-docs workbook new`), copy your answers across and drop it in again. "
        "If you did not create this file, tell the QA unit.",
    )


def too_large_to_check(over: str, memory_mb: int, seconds: float) -> Finding:
    """Return the finding for a workbook whose check went over a worker's limit.

    ``over`` is "memory" (over ``memory_mb``) or "time" (over ``seconds``).
    """
    if over == "memory":
        limit = f"needed more than the {memory_mb:,} MB of memory"
    else:
        limit = f"took longer than the {seconds:g} seconds"
    return Finding(
        "unreadable.too_large_to_check",
        Severity.ERROR,
        f"This workbook is too large to check: checking it {limit} cssw-docs allows one "
        "workbook. Remove any sheets, rows or pictures pasted into it that the audit does not "
        "need (or copy your answers into a new blank workbook from `cssw-docs workbook new`), "
        "save it and drop it in again. If that does not help, tell the QA unit.",
    )


def entity_bomb() -> UnreadableWorkbook:
    """Return the exception for a workbook whose XML declares entities (a 'billion laughs')."""
    return unreadable(
        "entity_bomb",
        "This workbook contains hidden XML instructions that Excel never writes, so it was not "
        "opened for safety. Start again from a blank workbook (`cssw-docs workbook new`), copy "
        "your answers across and drop it in again. If you did not create this file, tell the QA "
        "unit.",
    )
