"""Unreadable input: each kind of bad file gives one clear error finding, never a traceback."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from cssw_docs.config import ValidationSettings
from cssw_docs.models import Severity, Submission
from cssw_docs.rubric import Rubric
from cssw_docs.workbook import parse
from cssw_docs.workbook.parse import UnreadableWorkbook, read_workbook
from cssw_docs.workbook.safety import OLE2_SIGNATURE
from workbook_support import example_bytes
from zip_support import count_opens

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</workbook>
"""


@pytest.fixture(scope="module")
def real_workbook() -> bytes:
    """The bytes of a valid filled intake workbook (written once per test process)."""
    return example_bytes("good")


def _rezip(
    original: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None
) -> bytes:
    """Return ``original`` with some members replaced and others added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = replace.get(item.filename, src.read(item.filename))
            dst.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (add or {}).items():
            dst.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _corrupt_member(original: bytes) -> bytes:
    """Return ``original`` with one byte flipped inside the largest member's compressed data."""
    with zipfile.ZipFile(io.BytesIO(original)) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    data = bytearray(original)
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def _with_version(original: bytes, version: str, tmp: Path) -> bytes:
    src = tmp / "v.xlsx"
    src.write_bytes(original)
    wb = openpyxl.load_workbook(src)
    ((sheet, cell),) = tuple(wb.defined_names["template_version"].destinations)
    wb[sheet][cell.replace("$", "")].value = version
    wb.save(src)
    return src.read_bytes()


def _plain_xlsx(tmp: Path) -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Audit notes"
    wb.active["B2"] = "Not the audit template"
    wb.save(tmp / "plain.xlsx")
    return (tmp / "plain.xlsx").read_bytes()


def _docx_like() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def _ole2(encrypted: bool) -> bytes:
    body = bytearray(OLE2_SIGNATURE + bytes(504) + bytes(2048))
    if encrypted:
        body[1024:1024] = "EncryptionInfo".encode("utf-16-le")
    return bytes(body)


Maker = Callable[[bytes, Path], bytes]

CASES: list[tuple[str, Maker, str, str]] = [
    ("text renamed .xlsx", lambda r, t: b"Audit ref,Child\nCSSW-1,A\n", "not_a_zip", ".xlsx"),
    ("zero-filled", lambda r, t: bytes(4096), "not_a_zip", "Save As"),
    ("empty", lambda r, t: b"", "empty", "Save the workbook again"),
    ("first half of a workbook", lambda r, t: r[: len(r) // 2], "truncated", "Save it again"),
    ("damaged member", lambda r, t: _corrupt_member(r), "truncated", "Save it again"),
    ("old .xls", lambda r, t: _ole2(encrypted=False), "xls", ".xlsx"),
    ("password-protected", lambda r, t: _ole2(encrypted=True), "encrypted", "remove the password"),
    ("entity bomb", lambda r, t: _rezip(r, {"xl/workbook.xml": BILLION_LAUGHS}), "entity_bomb", ""),
    (
        "entity bomb in a sheet",
        lambda r, t: _rezip(r, {"xl/worksheets/sheet2.xml": BILLION_LAUGHS}),
        "entity_bomb",
        "blank workbook",
    ),
    (
        "zip bomb",
        lambda r, t: _rezip(r, {}, {"xl/media/zeros.bin": bytes(30 * 1024 * 1024)}),
        "zip_bomb",
        "blank workbook",
    ),
    (
        "thousands of members",
        lambda r, t: _rezip(r, {}, {f"xl/media/p{i}.bin": b"" for i in range(10_001)}),
        "zip_bomb",
        "blank workbook",
    ),
    ("not a workbook (a .docx)", lambda r, t: _docx_like(), "not_a_workbook", "Save As"),
    (
        "damaged workbook.xml",
        lambda r, t: _rezip(r, {"xl/workbook.xml": b"<workbook><sheets"}),
        "corrupt",
        "drop it in again",
    ),
    ("plain spreadsheet", lambda r, t: _plain_xlsx(t), "not_intake_workbook", "workbook new"),
    (
        "template version 2",
        lambda r, t: _with_version(r, "2.0", t),
        "template_version",
        "workbook new",
    ),
    (
        "template version removed",
        lambda r, t: _with_version(r, "", t),
        "template_version",
        "copy your answers",
    ),
]


@pytest.mark.parametrize(
    ("make", "code", "advice"),
    [pytest.param(m, c, a, id=name) for name, m, c, a in CASES],
)
@pytest.mark.slow
def test_unreadable_file_gives_one_finding(
    make: Maker,
    code: str,
    advice: str,
    real_workbook: bytes,
    the_rubric: Rubric,
    tmp_path: Path,
) -> None:
    """A bad file raises UnreadableWorkbook holding one error with the right code and advice."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(make(real_workbook, tmp_path))
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric)
    finding = caught.value.finding
    assert finding.code == f"unreadable.{code}"
    assert finding.severity is Severity.ERROR
    assert finding.location is None
    assert advice in finding.message
    assert "Traceback" not in finding.message and "Error" not in finding.message


def test_file_over_the_size_limit(real_workbook: bytes, the_rubric: Rubric, tmp_path: Path) -> None:
    """A file bigger than max_file_mb is refused before it is opened."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(real_workbook)
    limits = ValidationSettings(max_file_mb=0.01)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, limits)
    assert caught.value.finding.code == "unreadable.too_large"
    assert "0.01 MB" in caught.value.finding.message


def test_uncompressed_size_cap(real_workbook: bytes, the_rubric: Rubric, tmp_path: Path) -> None:
    """A workbook inflating past max_uncompressed_mb counts as a zip bomb."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(real_workbook)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric, ValidationSettings(max_uncompressed_mb=0.05))
    assert caught.value.finding.code == "unreadable.zip_bomb"


def test_missing_file(the_rubric: Rubric, tmp_path: Path) -> None:
    """A path that does not exist is a finding too, not a FileNotFoundError."""
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(tmp_path / "gone.xlsx", the_rubric)
    assert caught.value.finding.code == "unreadable.not_found"


EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE workbook SYSTEM "http://example.invalid/workbook.dtd">
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>
"""


@pytest.mark.parametrize(
    ("member", "xml"),
    [
        ("xl/workbook.xml", BILLION_LAUGHS),
        ("xl/worksheets/sheet1.xml", BILLION_LAUGHS),
        ("xl/styles.xml", BILLION_LAUGHS),
        ("xl/tables/table1.xml", BILLION_LAUGHS),
        ("xl/workbook.xml", EXTERNAL_DTD),
    ],
)
def test_reader_refusing_a_doctype_is_an_entity_bomb(
    member: str, xml: bytes, real_workbook: bytes
) -> None:
    """Behind the pre-scan, the workbook reader itself refuses any part with a DOCTYPE."""
    with zipfile.ZipFile(io.BytesIO(_rezip(real_workbook, {member: xml}))) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    with pytest.raises(UnreadableWorkbook) as caught:
        parse._open(parts)  # skipping open_workbook's scan, which would refuse it first
    assert caught.value.finding.code == "unreadable.entity_bomb"


def test_unexpected_failure_while_reading_is_generic(
    real_workbook: bytes, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any surprise while reading the contents is one 'corrupt' finding, never a traceback."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(real_workbook)

    def boom(self: object) -> Submission:
        raise KeyError("surprise")

    monkeypatch.setattr(parse._Reader, "submission", boom)
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(path, the_rubric)
    assert caught.value.finding.code == "unreadable.corrupt"
    assert "surprise" not in caught.value.finding.message


def test_good_workbook_passes_the_checks(
    real_workbook: bytes, the_rubric: Rubric, tmp_path: Path
) -> None:
    """The checks do not refuse a real workbook at the default limits."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(real_workbook)
    sub = read_workbook(path, the_rubric)
    assert dataclasses.replace(sub).audit_ref == "CSSW-2026-0142"


def test_a_workbook_is_read_from_disk_once_and_each_part_inflated_once(
    real_workbook: bytes, the_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """read_workbook opens the file once and one zip, which the safety scan and reader share."""
    path = tmp_path / "audit.xlsx"
    path.write_bytes(real_workbook)
    opens = count_opens(monkeypatch, path)
    assert read_workbook(path, the_rubric).audit_ref == "CSSW-2026-0142"
    assert (opens.files, opens.zips) == (1, 1)
    assert opens.members and set(opens.members.values()) == {1}
