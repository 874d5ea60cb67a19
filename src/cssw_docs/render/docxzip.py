"""A template's Word package, opened and saved so that the parts rendering leaves alone are
neither parsed nor compressed again for every document.

A Word file is a zip of XML parts. Rendering a template changes only the body, headers,
footers, footnotes and document properties; the styles (several hundred kilobytes in Word's
default set), theme, fonts, numbering, settings and images are the template's own.
python-docx parses every XML part on opening and serialises and compresses every part again
on saving, which together cost about as much as rendering. Here those static parts are kept
as bytes (never parsed), and each template's are compressed once per process and copied as
they are into every document made from it. The result is an ordinary zip (no zip64: parts
stay far below 4 GB).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.package import Unmarshaller
from docx.opc.part import Part, PartFactory
from docx.opc.pkgreader import PackageReader
from docx.opc.pkgwriter import _ContentTypesItem
from docx.package import Package

# Parts the rendering step never changes (by relationship type from the document). Anything
# else (body, headers, footers, footnotes, properties, a relationship added while rendering)
# is serialised afresh.
STATIC_RELATIONSHIPS = frozenset(
    {
        RT.STYLES,
        "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
        RT.THEME,
        RT.FONT_TABLE,
        RT.WEB_SETTINGS,
        RT.NUMBERING,
        RT.SETTINGS,
        RT.IMAGE,
        RT.CUSTOM_XML,
        RT.CUSTOM_XML_PROPS,
        RT.EXTENDED_PROPERTIES,
        RT.THUMBNAIL,
    }
)
LEVEL = 6  # zlib's default, as python-docx writes


@dataclass(frozen=True)
class Member:
    """One zip member, compressed: its name, raw deflate data, CRC-32 and uncompressed size."""

    name: str
    data: bytes
    crc: int
    size: int


def compress(name: str, content: bytes) -> Member:
    """Return ``content`` as a deflated zip member called ``name``."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return Member(
        name, packer.compress(content) + packer.flush(), zlib.crc32(content), len(content)
    )


@dataclass(frozen=True)
class Template:
    """One template file as read: its bytes, and each member's content and compressed form."""

    source: bytes
    members: dict[str, tuple[bytes, Member]]


class Templates:
    """Each template file read and compressed once per process (keyed by its identity)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, int], Template] = {}
        self._lock = threading.Lock()

    def of(self, template: Path) -> Template:
        """Return ``template`` as read; an edited one (new size or time) is read afresh."""
        st = os.stat(template)
        key = (str(Path(template).resolve()), st.st_mtime_ns, st.st_size)
        found = self._cache.get(key)
        if found is None:
            source = Path(template).read_bytes()
            with zipfile.ZipFile(io.BytesIO(source)) as zf:
                contents = {i.filename: zf.read(i) for i in zf.infolist()}
            found = Template(
                source, {name: (data, compress(name, data)) for name, data in contents.items()}
            )
            with self._lock:
                for old in [k for k in self._cache if k[0] == key[0]]:
                    del self._cache[old]
                self._cache[key] = found
        return found


_templates = Templates()


def _part(partname: Any, content_type: str, reltype: str, blob: bytes, package: Any) -> Part:
    """Return a part as python-docx loads it, except that a static one stays unparsed bytes."""
    if reltype in STATIC_RELATIONSHIPS:
        return Part(partname, content_type, blob, package)
    return PartFactory(partname, content_type, reltype, blob, package)


def open_document(template: Path) -> Any:
    """Return the python-docx Document of ``template`` with its static parts left as bytes.

    Raises ValueError (or the zip's or XML's own error) when it is not a Word document.
    """
    reader = PackageReader.from_file(io.BytesIO(_templates.of(template).source))
    package = Package()
    Unmarshaller.unmarshal(reader, package, _part)
    part = package.main_document_part
    if part.content_type != CT.WML_DOCUMENT_MAIN:
        raise ValueError(f"not a Word document (its content type is {part.content_type})")
    return part.document


def static_partnames(document_part: Any) -> set[str]:
    """Return the names of the parts the document relates to that rendering leaves alone."""
    names = set()
    package = document_part.package
    for rels in (package.rels, document_part.rels):
        for rel in rels.values():
            if not rel.is_external and rel.reltype in STATIC_RELATIONSHIPS:
                names.add(rel.target_part.partname)
    return names


def save(document: Any, template: Path, out: Path, when: dt.datetime) -> None:
    """Write ``document`` (python-docx, rendered from ``template``) as a .docx at ``out``.

    A part whose relationship type is in STATIC_RELATIONSHIPS and whose bytes are still the
    template's is copied compressed from the template; every other part is serialised and
    compressed as python-docx does. Members come in python-docx's order.
    """
    cached = _templates.of(template).members
    package = document.part.package
    static = static_partnames(document.part)
    parts = list(package.iter_parts())
    members = [
        compress("[Content_Types].xml", _ContentTypesItem.from_parts(parts).blob),
        compress("_rels/.rels", package.rels.xml),
    ]
    for part in parts:
        name = part.partname.membername
        hit = cached.get(name)
        if hit is not None and part.partname in static and _unchanged(part, hit[0]):
            members.append(hit[1])
        else:
            members.append(compress(name, part.blob))
        if len(part.rels):
            members.append(compress(part.partname.rels_uri.membername, part.rels.xml))
    write_zip(out, members, when)


def _unchanged(part: Any, original: bytes) -> bool:
    """Return True when ``part`` still holds the template's bytes (compared, which is cheap)."""
    return type(part) is Part and part.blob == original


def write_zip(out: Path, members: list[Member], when: dt.datetime) -> None:
    """Write ``members`` (already deflated) as a zip file at ``out``, dated ``when``."""
    stamp = when.replace(year=max(when.year, 1980))
    dos_time = (stamp.hour << 11) | (stamp.minute << 5) | (stamp.second // 2)
    dos_date = ((stamp.year - 1980) << 9) | (stamp.month << 5) | stamp.day
    body = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0x800 if not m.name.isascii() else 0
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,  # version needed: deflate
            flags,
            zipfile.ZIP_DEFLATED,
            dos_time,
            dos_date,
            m.crc,
            len(m.data),
            m.size,
            len(name),
            0,
        )
        body += name
        body += m.data
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,  # made by: version 2.0
            20,
            flags,
            zipfile.ZIP_DEFLATED,
            dos_time,
            dos_date,
            m.crc,
            len(m.data),
            m.size,
            len(name),
            0,
            0,
            0,
            0,
            0,  # external attributes
            offset,
        )
        central += name
    end = struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        0,
        0,
        len(members),
        len(members),
        len(central),
        len(body),
        0,
    )
    Path(out).write_bytes(bytes(body + central + end))
