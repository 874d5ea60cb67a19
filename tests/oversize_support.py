"""Builds workbooks far bigger than an audit needs, by streaming sheet XML into the zip."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_WIDTH = 50  # cells a row


def _rows(cells: int, first_row: int) -> Iterator[bytes]:
    """Yield rows of tiny number cells, ``_WIDTH`` a row, ``cells`` in all."""
    row = first_row
    while cells > 0:
        n = min(cells, _WIDTH)
        body = "".join(f'<c r="{_col(i)}{row}"><v>{i}</v></c>' for i in range(n))
        yield f'<row r="{row}">{body}</row>'.encode()
        cells -= n
        row += 1


def _col(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(65 + rem) + out
    return out


def with_extra_sheet(
    clean: bytes, dest: Path, cells: int, name: str = "Scratch", index: int = 99
) -> Path:
    """Write to ``dest`` the workbook ``clean`` plus one sheet ``name`` of ``cells`` cells,
    stored as ``xl/worksheets/sheet<index>.xml``."""
    with zipfile.ZipFile(io.BytesIO(clean)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    part = f"xl/worksheets/sheet{index}.xml"
    book = parts["xl/workbook.xml"].decode()
    book = book.replace(
        "</sheets>",
        f'<sheet xmlns:r="{_R}" name="{name}" sheetId="{index}" r:id="rIdBig{index}"/></sheets>',
        1,
    )
    parts["xl/workbook.xml"] = book.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdBig{index}" Type="{_R}/worksheet" Target="/{part}"/>'
        "</Relationships>",
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    ).encode()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
        with z.open(part, "w", force_zip64=True) as fh:
            fh.write(f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            for row in _rows(cells, 1):
                fh.write(row)
            fh.write(b"</sheetData></worksheet>")
    return dest


def with_rows_in(clean: bytes, dest: Path, part: str, cells: int) -> Path:
    """Write to ``dest`` the workbook ``clean`` with ``cells`` more cells at the end of ``part``.

    ``part`` is a sheet the reader must read (such as the audit plan's), so the cells cannot
    be skipped, only refused.
    """
    with zipfile.ZipFile(io.BytesIO(clean)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts.pop(part).decode()
    head, tail = sheet.split("</sheetData>", 1)
    last = max(int(r) for r in re.findall(r'<row r="(\d+)"', head))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
        with z.open(part, "w", force_zip64=True) as fh:
            fh.write(head.encode())
            for row in _rows(cells, last + 1000):
                fh.write(row)
            fh.write(b"</sheetData>" + tail.encode())
    return dest
