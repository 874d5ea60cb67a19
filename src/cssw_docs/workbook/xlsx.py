"""A small, hardened .xlsx reader: sheet names, defined names, tables and saved cell values."""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.utils.escape import unescape

from .safety import ELEMENTS_PER_CELL, entity_bomb

__all__ = ["Book", "DefinedName", "Table", "TooManyCells", "read_book"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_WORKBOOK = "xl/workbook.xml"
_C, _V, _T, _R, _IS, _ROW = (_MAIN + tag for tag in ("c", "v", "t", "r", "is", "row"))
_SHEET_DATA = _MAIN + "sheetData"
_MERGE_CELLS, _MERGE_CELL = _MAIN + "mergeCells", _MAIN + "mergeCell"
_TABLE_PARTS, _TABLE_PART = _MAIN + "tableParts", _MAIN + "tablePart"
_DOCTYPE = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_COORD = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_AREA = re.compile(
    r"(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!,\s]+))"
    r"!(?P<ref>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)"
)
# Covered cells of merged ranges are cleared; a hostile file of huge overlapping merges over
# many cells would make that quadratic, so past this many steps the file counts as damaged.
_MERGE_BUDGET = 5_000_000


class TooManyCells(Exception):
    """A sheet has more cells, or more XML elements, than the reader's limit allows."""

    def __init__(self, sheet: str, position: int, limit: int) -> None:
        super().__init__(f"sheet {position} has more than {limit} cells")
        self.sheet = sheet
        self.position = position  # 1 for the first sheet
        self.limit = limit


@dataclass(frozen=True)
class Table:
    """An Excel table: its name, its range (``A3:E20``) and how many totals rows it ends with."""

    name: str
    ref: str
    totals_rows: int = 0


@dataclass(frozen=True)
class DefinedName:
    """A defined name; ``sheet`` is the sheet it is scoped to (None for the whole workbook)."""

    name: str
    sheet: str | None
    destinations: tuple[tuple[str, str], ...]  # (sheet, "$C$5" or "$A$1:$B$2"), in order


@dataclass(frozen=True)
class Book:
    """What the intake parser needs from one workbook, read once; holds no open file."""

    sheet_names: tuple[str, ...]
    epoch: dt.datetime
    names: tuple[DefinedName, ...] = ()
    _tables: dict[str, tuple[Table, ...]] = field(default_factory=dict, repr=False)
    _cells: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict, repr=False)

    def defined_names(self) -> tuple[DefinedName, ...]:
        """Return the defined names: each sheet's own (in sheet order), then the workbook's."""
        return self.names

    def tables(self, sheet: str) -> dict[str, Table]:
        """Return the tables on ``sheet`` by display name."""
        return {t.name: t for t in self._tables.get(sheet, ())}

    def value(self, sheet: str, row: int, col: int) -> Any:
        """Return the saved value of a cell (None when empty); raise KeyError for no such sheet.

        A sheet that was not read (see ``read_book``) has no values.
        """
        return self._cells[sheet].get((row, col))

    def last_row(self, sheet: str) -> int:
        """Return the last row of ``sheet`` holding a value (0 when it has none)."""
        return max((row for row, _ in self._cells.get(sheet, {})), default=0)


def read_book(
    parts: Mapping[str, bytes],
    *,
    max_cells: int | None = None,
    names: Collection[str] | None = None,
    tables: Collection[str] | None = None,
) -> Book:
    """Return the workbook whose XML parts ``parts`` holds by name (``safety.open_workbook``).

    Only the worksheets that the defined ``names`` point at or that hold the ``tables`` (both
    matched in any case) are read; without either, every worksheet is. ``parts`` may be a
    ``safety.Package``, whose worksheets are streamed, never held whole. With ``max_cells``,
    a sheet read with more cells than that, or sheets holding together more than
    ELEMENTS_PER_CELL times as many XML elements, raise TooManyCells as soon as the reader
    gets that far.

    Raises UnreadableWorkbook (entity_bomb) for any part declaring a DOCTYPE; anything else
    unexpected (a missing part, malformed XML) raises the underlying error for the caller.
    """
    return _Loader(parts, max_cells).book(names, tables)


class _Loader:
    """Reads the parts of one workbook into a Book."""

    def __init__(self, parts: Mapping[str, bytes], max_cells: int | None = None) -> None:
        self.parts = parts
        self.max_cells = max_cells
        # The XML elements all the sheets together may hold, read or only measured: what the
        # marked copy (openpyxl, which loads every sheet) costs is bounded by it.
        self.max_elements = None if max_cells is None else ELEMENTS_PER_CELL * max_cells
        self.elements = 0  # counted so far, over all sheets
        # One parser per read: lxml parsers must not be shared between threads.
        self.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )

    def book(self, names: Collection[str] | None, tables: Collection[str] | None) -> Book:
        root = self.xml(_WORKBOOK)
        rels = self.rels(_WORKBOOK)
        epoch = _epoch(root.find(_MAIN + "workbookPr"))
        strings: list[str] = []
        styles: tuple[set[int], set[int]] = (set(), set())
        for kind, target in rels.values():
            if kind == "sharedStrings":
                strings = self.shared_strings(target)
            elif kind == "styles":
                styles = _date_styles(self.xml(target))
        sheets: list[tuple[str, str, str]] = []  # (name, kind, part)
        for sheet in root.iterfind(f"{_MAIN}sheets/{_MAIN}sheet"):
            kind, target = rels[sheet.get(_R_ID, "")]
            sheets.append((sheet.get("name", ""), kind, target))
        sheet_names = tuple(s[0] for s in sheets)
        defined = _defined_names(root, sheet_names)
        wanted = self.wanted(sheets, defined, names, tables)
        found: dict[str, tuple[Table, ...]] = {}
        cells: dict[str, dict[tuple[int, int], Any]] = {}
        for position, (name, kind, target) in enumerate(sheets, start=1):
            cells[name] = {}
            if kind != "worksheet":
                continue
            if wanted is None or name in wanted:
                sheet = _Sheet(strings, styles, epoch)
                self.stream(target, sheet, name, position)
                cells[name] = sheet.cells
                found[name] = self.tables(sheet.table_ids, target)
            elif self.max_elements is not None:
                self.measure(target, name, position)
        return Book(sheet_names, epoch, defined, found, cells)

    def wanted(
        self,
        sheets: list[tuple[str, str, str]],
        defined: tuple[DefinedName, ...],
        names: Collection[str] | None,
        tables: Collection[str] | None,
    ) -> set[str] | None:
        """Return the sheets the ``names`` point at or holding the ``tables`` (None: all)."""
        if names is None and tables is None:
            return None
        names_ = {n.casefold() for n in names or ()}
        tables_ = {t.casefold() for t in tables or ()}
        out = {sheet for d in defined if d.name.casefold() in names_ for sheet, _ in d.destinations}
        for name, kind, target in sheets:
            if kind == "worksheet" and name not in out:
                held = (t.name.casefold() for t in self.tables_of(target))
                if any(t in tables_ for t in held):
                    out.add(name)
        return out

    def open(self, part: str) -> IO[bytes]:
        """Return ``part`` opened for reading: streamed from a Package, else from memory."""
        if part in self.parts:
            return io.BytesIO(self.parts[part])
        stream = getattr(self.parts, "stream", None)
        if stream is None:
            raise KeyError(part)
        return stream(part)

    def stream(self, part: str, sheet: _Sheet, name: str, position: int) -> None:
        """Read worksheet ``part`` into ``sheet`` a row at a time, within the limits."""
        with self.open(part) as fh:
            events = etree.iterparse(
                fh,
                events=("end",),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            )
            try:
                for _, element in events:
                    if sheet.elements == 0:
                        info = element.getroottree().docinfo
                        if info.internalDTD is not None or info.doctype:
                            raise entity_bomb()
                    sheet.take(element)
                    if self.max_cells is not None and (
                        sheet.count > self.max_cells
                        or self.elements + sheet.elements > self.max_elements
                    ):
                        raise TooManyCells(name, position, self.max_cells)
            except etree.XMLSyntaxError:
                with self.open(part) as again:
                    start = again.read(1 << 16)
                if any(marker in start for marker in _DOCTYPE):
                    raise entity_bomb() from None  # e.g. lxml stopping entity amplification
                raise
        self.elements += sheet.elements
        sheet.finish()

    def measure(self, part: str, name: str, position: int) -> None:
        """Refuse worksheet ``part`` (not read) when it holds too many XML elements."""
        count = getattr(self.parts, "count_elements", None)
        if count is None or self.max_elements is None:
            return
        self.elements += count(part, self.max_elements - self.elements)
        if self.elements > self.max_elements:
            raise TooManyCells(name, position, self.max_cells or 0)

    def xml(self, part: str) -> Any:
        """Return the root element of ``part``, refusing any DOCTYPE (entity declarations)."""
        data = self.parts[part]
        try:
            root = etree.fromstring(data, self.parser)
        except etree.XMLSyntaxError:
            if any(marker in data for marker in _DOCTYPE):
                raise entity_bomb() from None  # e.g. lxml stopping entity amplification
            raise
        info = root.getroottree().docinfo
        if info.internalDTD is not None or info.doctype:
            raise entity_bomb()
        return root

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Return {relationship id: (type's last word, part path)} for ``part``'s internal links."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        if rels_part not in self.parts:
            return {}
        out = {}
        for rel in self.xml(rels_part).iterfind(_REL):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External" or not target:
                continue
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
        return out

    def shared_strings(self, part: str) -> list[str]:
        # Like openpyxl: rich-text runs joined, and the '_x005F' escape prefix dropped.
        return [_rich(si).replace("x005F_", "") for si in self.xml(part).iterfind(_MAIN + "si")]

    def tables(self, ids: list[str], sheet_part: str) -> tuple[Table, ...]:
        """Return the tables a sheet lists (by relationship id) in its ``tableParts``."""
        if not ids:
            return ()
        rels = self.rels(sheet_part)
        out = []
        for rid in ids:
            kind, target = rels[rid or ""]
            if kind == "table":
                out.append(self.table(target))
        return tuple(out)

    def tables_of(self, sheet_part: str) -> list[Table]:
        """Return the tables a sheet's relationships name, without reading the sheet."""
        return [self.table(t) for kind, t in self.rels(sheet_part).values() if kind == "table"]

    def table(self, part: str) -> Table:
        t = self.xml(part)
        name = t.get("displayName") or unescape(t.get("name") or "")
        return Table(name, t.get("ref", ""), int(t.get("totalsRowCount") or 0))


def _epoch(props: Any) -> dt.datetime:
    flag = (props.get("date1904") if props is not None else None) or "false"
    return CALENDAR_MAC_1904 if flag.strip().lower() in ("1", "true") else WINDOWS_EPOCH


def _date_styles(root: Any) -> tuple[set[int], set[int]]:
    """Return the cell style indexes whose number format is a date, and those a duration.

    Exactly as openpyxl decides, so a number formatted as a date still reads as a datetime
    (a date typed into a text cell reads as '31/01/2026', not as 46053).
    """
    custom = {
        int(n.get("numFmtId", "-1")): n.get("formatCode")
        for n in root.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt")
    }
    dates, durations = set(), set()
    for index, xf in enumerate(root.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
        number = int(xf.get("numFmtId") or 0)
        fmt = custom[number] if number in custom else builtin_format_code(number)
        if is_date_format(fmt):
            dates.add(index)
        if is_timedelta_format(fmt):
            durations.add(index)
    return dates, durations


def _rich(node: Any) -> str:
    """Return the text of a string item: its ``<t>`` and the ``<t>`` of each rich-text run."""
    if len(node) == 1 and node[0].tag == _T:  # plain text, the common case
        return node[0].text or ""
    parts = []
    plain = node.find(_T)
    if plain is not None and plain.text is not None:
        parts.append(plain.text)
    for run in node.iterfind(_R):
        text = run.find(_T)
        if text is not None and text.text is not None:
            parts.append(text.text)
    return "".join(parts)


class _Sheet:
    """One worksheet as it is streamed: its values, merged ranges and table ids so far."""

    def __init__(
        self, strings: list[str], styles: tuple[set[int], set[int]], epoch: dt.datetime
    ) -> None:
        self.strings, self.styles, self.epoch = strings, styles, epoch
        self.cells: dict[tuple[int, int], Any] = {}
        self.merges: list[str] = []
        self.table_ids: list[str] = []
        self.count = 0  # cells seen
        self.elements = 0  # XML elements seen
        self.row_no = 0

    def take(self, element: Any) -> None:
        """Take one element at its end, then let go of what is no longer needed."""
        self.elements += 1
        tag = element.tag
        if tag == _C:
            self.count += 1
            return
        parent = element.getparent()
        if tag == _ROW and parent is not None and parent.tag == _SHEET_DATA:
            self.row(element)
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del parent[0]
            return
        if parent is not None and parent.getparent() is not None:
            if tag == _MERGE_CELL and parent.tag == _MERGE_CELLS:
                self.merges.append(element.get("ref", ""))
            elif tag == _TABLE_PART and parent.tag == _TABLE_PARTS:
                self.table_ids.append(element.get(_R_ID) or "")
        elif parent is not None and tag != _SHEET_DATA:
            element.clear(keep_tail=True)  # a finished part of the sheet: columns, rules ...

    def row(self, row: Any) -> None:
        """Read the values of one ``<row>``."""
        r = row.get("r")
        self.row_no = int(r) if r else self.row_no + 1
        col_no = 0
        skipped = None  # the reference of the last empty cell skipped, placed only when needed
        for c in row:
            if c.tag != _C:
                continue
            ref = c.get("r")
            if ref:
                if not len(c):  # a formatted but empty cell: the common case, skipped fast
                    skipped = ref
                    continue
                at = _position(ref)
                col_no, skipped = at[1], None
            else:
                if skipped is not None:  # a cell without r follows the skipped one
                    col_no, skipped = _position(skipped)[1], None
                col_no += 1
                at = (self.row_no, col_no)
            value = _value(c, self.strings, self.styles, self.epoch)
            if value is not None:
                self.cells[at] = value

    def finish(self) -> None:
        """Clear the cells hidden under merged ranges, once the whole sheet is read."""
        _clear_merged(self.merges, self.cells)


def _position(ref: str) -> tuple[int, int]:
    """Return the (row, column) of a cell reference such as ``C5``; raise ValueError if bad."""
    m = _COORD.fullmatch(ref)
    if m is None:
        raise ValueError("bad cell reference")
    return int(m[2]), column_index_from_string(m[1].upper())


def _value(
    c: Any, strings: list[str], styles: tuple[set[int], set[int]], epoch: dt.datetime
) -> Any:
    """Return one cell's saved value, typed as openpyxl reads it with data_only=True."""
    kind = c.get("t", "n")
    if kind == "inlineStr":
        inline = c.find(_IS)
        return _rich(inline) if inline is not None else None
    text = c.findtext(_V) or None
    if text is None:
        return None
    if kind == "n":
        number = float(text) if ("." in text or "e" in text or "E" in text) else int(text)
        style = c.get("s")
        if style and int(style) in styles[0]:
            try:
                return from_excel(number, epoch, timedelta=int(style) in styles[1])
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str" (a formula's text result), "e" (an error such as #N/A)


def _clear_merged(merges: list[str], cells: dict[tuple[int, int], Any]) -> None:
    """Drop the values of cells hidden under a merged range (all but its top-left cell)."""
    budget = _MERGE_BUDGET
    for merge in merges:
        min_col, min_row, max_col, max_row = range_boundaries(merge)
        if min_col is None or min_row is None or max_col is None or max_row is None:
            continue
        area = (max_row - min_row + 1) * (max_col - min_col + 1)
        if area <= len(cells):
            covered = [
                (r, c)
                for r in range(min_row, max_row + 1)
                for c in range(min_col, max_col + 1)
                if (r, c) in cells
            ]
            budget -= area
        else:
            covered = [
                (r, c) for r, c in cells if min_row <= r <= max_row and min_col <= c <= max_col
            ]
            budget -= len(cells)
        if budget < 0:
            raise ValueError("too many merged cells")
        for at in covered:
            if at != (min_row, min_col):
                del cells[at]


def _defined_names(root: Any, sheets: tuple[str, ...]) -> tuple[DefinedName, ...]:
    """Return the workbook's defined names, sheet-scoped first; built-ins (_xlnm.*) left out."""
    scoped: list[tuple[int, DefinedName]] = []
    workbook: list[DefinedName] = []
    for node in root.iterfind(f"{_MAIN}definedNames/{_MAIN}definedName"):
        name = node.get("name") or ""
        if not name or name.lower().startswith("_xlnm."):
            continue
        destinations = _destinations(node.text or "")
        local = node.get("localSheetId")
        if local is None:
            workbook.append(DefinedName(name, None, destinations))
        elif local.isdigit() and int(local) < len(sheets):
            scoped.append((int(local), DefinedName(name, sheets[int(local)], destinations)))
    scoped.sort(key=lambda pair: pair[0])
    return (*(d for _, d in scoped), *workbook)


def _destinations(text: str) -> tuple[tuple[str, str], ...]:
    """Return the (sheet, range) areas of a name's formula ('A b'!$C$5,Sheet!$D$1:$D$9)."""
    out = []
    for part in _split_areas(text.strip().removeprefix("=")):
        m = _AREA.fullmatch(part.strip())
        if m is not None:
            sheet = m["quoted"].replace("''", "'") if m["quoted"] is not None else m["plain"]
            out.append((sheet, m["ref"]))
    return tuple(out)


def _split_areas(text: str) -> list[str]:
    """Return ``text`` split at the commas that are not inside a quoted sheet name."""
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == "'":
            quoted = not quoted  # '' inside a quoted name toggles twice: still quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts
