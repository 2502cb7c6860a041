"""Read a dataset's raw tables from a folder of CSV files, one .xlsx workbook, or a
dict of pandas DataFrames.

Cells are kept as read, one array per column (text from CSV; text, numbers or
booleans from Excel or a frame); ``validate`` parses and checks them column by
column. Row numbers are those a spreadsheet shows: the header is row 1, the
first data row is row 2. Blank rows are skipped.

CSV files are parsed by pandas' C engine where it reads exactly what Python's
``csv`` module reads (checked from the file's bytes: line ends, quotes, NUL
bytes, cell sizes), and by the ``csv`` module otherwise, whose messages name
the defect. Workbooks are read by python-calamine, after their zip directory
and the prologue of their XML parts are checked.

Hostile or malformed files are reported, never crash the reader: empty files,
non-UTF-8 text (the cells are named and the likely encoding said), binary files
passed as CSV, ';' or tab delimiters, unclosed quotes, cells outside the header,
file or sheet names that differ from a table name only in case, workbooks that
are not zip archives, zip bombs (refused from the archive's directory, before
anything is decompressed), XML entity declarations (refused from each part's
prologue), merged cells, formulas without a saved result, Excel dates and error
values (found in the sheet's XML where calamine shows a blank).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import math
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from planner.io.problems import Problem, Severity
from planner.io.schema import TABLES, Kind

Cell = str | int | float | bool | None

MB = 1 << 20
# Workbook limits, checked from the zip directory before anything is decompressed.
# The zip reader stops at each part's declared size (and fails its CRC check if
# the data would run on), so declared sizes bound what decompression can produce.
MAX_WORKBOOK_EXPANDED = 200 * MB       # all parts together, uncompressed
MAX_WORKBOOK_RATIO = 100               # uncompressed : compressed, for a large part
RATIO_CHECK_FROM = 10 * MB             # parts smaller than this may compress better
MAX_WORKBOOK_PARTS = 10_000
MAX_CSV_CELL = 16 * MB                 # one CSV cell; ids are limited far lower in validation
MAX_PROLOGUE = 1 * MB                  # XML before a part's root element that is looked at
XML_CHUNK = 4 * MB                     # a sheet's XML is scanned for formulas in such pieces
SNIFF_BYTES = 4096
PREVIEW_ROWS = 20                      # rows kept whole, for a header placed below row 1

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # .xls, or an encrypted .xlsx


class Noted(str):
    """Text of a cell whose type matters for the message (an Excel date, an error
    value): validation adds ``note`` when the cell is not what the column expects."""

    note: str

    def __new__(cls, text: str, note: str) -> Noted:
        """``text`` carrying ``note``."""
        cell = super().__new__(cls, text)
        cell.note = note
        return cell


class Formula(str):
    """An Excel formula without a saved result: its value is unknown, whatever the column."""


@dataclass
class RawTable:
    """One table as read: where it came from, its header and its cells, by column.

    ``columns[i]`` holds the cells under header position ``i`` (a repeated column
    name keeps each of its columns), one per non-blank row: an object array of
    cells, or a float array (NaN = blank) for a numeric column of a DataFrame.
    ``numbers`` are the rows' spreadsheet row numbers. ``preview`` keeps the first
    rows whole, cells right of the header included (validation looks there for a
    header placed below row 1). ``text_only``: every cell is a ``str`` (CSV).
    """

    name: str
    source: str                      # "offers.csv", "book.xlsx sheet offers", "frames['offers']"
    header: list[str]
    columns: list[np.ndarray] = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    preview: list[tuple[int, list[Cell]]] = field(default_factory=list)
    text_only: bool = False

    def __len__(self) -> int:
        return len(self.numbers)

    def position(self, column: str) -> int | None:
        """Index of ``column`` in ``columns`` (its first occurrence), or None."""
        return self.header.index(column) if column in self.header else None

    @property
    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, cells under the header) for every row, a blank float cell as
        None: one list per row, so for small tables and conversions, not validation."""
        columns = [c.tolist() for c in self.columns]
        for number, cells in zip(self.numbers.tolist(), zip(*columns, strict=True), strict=False):
            yield number, [None if isinstance(c, float) and c != c else c for c in cells]


@dataclass
class RawDataset:
    """All tables found, plus problems met while reading."""

    location: str
    tables: dict[str, RawTable]
    problems: list[Problem]
    unreadable: set[str] = field(default_factory=set)  # present but could not be read
    kind: str = ""  # "folder", "workbook" or "frames" ("" : from the location)

    def source_of(self, table: str) -> str:
        """How to name a table that is absent: its file, its sheet, or its frame."""
        if self.kind == "frames":
            return f"{self.location}[{table!r}]"
        if self.kind == "workbook" or self.location.lower().endswith(".xlsx"):
            return f"{Path(self.location).name} sheet {table}"
        return f"{table}.csv"


def read_dataset(path: Path) -> RawDataset:
    """Read ``path``: a folder of ``<table>.csv`` files or an ``.xlsx`` workbook."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".xlsx" and path.is_file():
        return _read_workbook(path)
    what = "no such file or folder" if not path.exists() else "not a folder or an .xlsx file"
    return RawDataset(str(path), {}, [Problem(str(path), f"a folder of CSV files or an .xlsx "
                                              f"workbook ({what})")],
                      {spec.name for spec in TABLES})


def read_inputs(inputs: Path | str | Mapping[str, pd.DataFrame]) -> RawDataset:
    """A folder, an .xlsx workbook, or a dict of DataFrames (table name -> frame)."""
    if isinstance(inputs, Mapping):
        return read_frames(inputs)
    return read_dataset(Path(inputs))


def _table_names(names: list[str], kind: str, location: str,
                 problems: list[Problem]) -> tuple[dict[str, str], set[str]]:
    """Map each table to the file, sheet or frame that holds it (exact, lower-case name)
    and report names that match a table only when case or spaces are ignored."""
    wanted = {spec.name for spec in TABLES}
    suffix = ".csv" if kind == "file" else ""
    found: dict[str, str] = {}
    near: list[tuple[str, str]] = []

    def where(name: str) -> str:
        return {"sheet": f"{location} sheet {name}",
                "table": f"{location}[{name!r}]"}.get(kind, name)

    for name in names:
        stem = name[: -len(suffix)] if suffix and name.lower().endswith(suffix) else name
        if suffix and stem == name:
            continue
        table = stem.strip().lower()
        if table not in wanted:
            continue
        if name == f"{table}{suffix}" and table in found:  # a crafted workbook can
            problems.append(Problem(f"{location} {kind} {name}", f"one {kind} named {name!r} "
                                    "(there are several); rename or delete the others"))
        elif name == f"{table}{suffix}":
            found[table] = name
        else:
            near.append((table, name))
    unreadable = set()
    for table, name in near:
        exact = f"{table}{suffix}"
        if table in found:
            problems.append(Problem(where(name), f"no second {kind} for table {table}: this "
                                    f"{kind} differs from {exact!r}, which is the one read, "
                                    "only in case or spaces; rename or delete it"))
        else:
            problems.append(Problem(where(name), f"a {kind} named {exact!r} (table names are "
                                    f"lower case, without spaces); rename {name!r}"))
            unreadable.add(table)
    return found, unreadable


def _objects(cells: list | tuple) -> np.ndarray:
    """A 1-d object array of these cells (never a 2-d one, whatever they hold)."""
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def _blank_cell(cell: object) -> bool:
    """A cell that counts as empty: None, NaN, or text of spaces only."""
    if cell is None:
        return True
    if isinstance(cell, str):
        return not cell.strip()
    return isinstance(cell, float) and cell != cell


class _Kinds(dict):
    """Type of a cell -> its kind: 1 text, 2 a number, 3 None, 0 anything else (a
    boolean, an Excel date, a formula, an error value, text noting its type)."""

    def __missing__(self, key: type) -> int:
        return 0


_KINDS = _Kinds({str: 1, float: 2, int: 2, type(None): 3})


def cell_kinds(cells: np.ndarray) -> np.ndarray:
    """The kind of every cell of an object array (see ``_Kinds``), as int8."""
    return np.fromiter(map(_KINDS.__getitem__, map(type, cells)), np.int8, len(cells))


def _blank_mask(cells: np.ndarray, text_only: bool) -> np.ndarray:
    """Which cells are blank (``_blank_cell``), over a whole array."""
    if cells.dtype.kind == "f":
        return np.isnan(cells)
    if text_only:
        return (cells == "") | np.fromiter(map(str.isspace, cells), bool, len(cells))
    kinds = cell_kinds(cells)
    blank = kinds == 3
    for kind in (1, 2):
        at = np.flatnonzero(kinds == kind)
        if len(at):
            blank[at] = [_blank_cell(c) for c in cells[at]] if kind == 2 else _blank_mask(
                cells[at], text_only=True)
    return blank


def _filled_rows(columns: list[np.ndarray], count: int, text_only: bool) -> np.ndarray:
    """Rows with at least one non-blank cell; columns are looked at only for the rows
    that are blank so far (so mostly the first column)."""
    undecided = np.arange(count)
    filled = np.zeros(count, dtype=bool)
    for column in columns:
        if not len(undecided):
            break
        here = ~_blank_mask(column[undecided], text_only)
        filled[undecided[here]] = True
        undecided = undecided[~here]
    return filled


def _from_records(name: str, source: str, header: list[str],
                  records: list[tuple[int, list[Cell]]], text_only: bool) -> RawTable:
    """A table from non-blank rows read one by one (the csv module, a small sheet)."""
    width = len(header)
    columns = [_objects([cells[i] if i < len(cells) else "" for _, cells in records])
               for i in range(width)]
    numbers = np.fromiter((number for number, _ in records), np.int64, len(records))
    return RawTable(name, source, header, columns, numbers, records[:PREVIEW_ROWS], text_only)


# -- CSV ----------------------------------------------------------------------------------

def _read_folder(folder: Path) -> RawDataset:
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    found, unreadable = _table_names(names, "file", folder.name, problems)
    for spec in TABLES:
        if spec.name not in found:
            continue
        path = folder / found[spec.name]
        table, found_problems = _read_csv(path, spec.name)
        problems += found_problems
        if table is None:
            unreadable.add(spec.name)
        else:
            tables[spec.name] = table
    return RawDataset(str(folder), tables, problems, unreadable, "folder")


def _read_csv(path: Path, name: str) -> tuple[RawTable | None, list[Problem]]:
    """One CSV file: the table (None when it cannot be read) and the problems met."""
    data = path.read_bytes()
    trouble = _sniff(data[:SNIFF_BYTES])
    if trouble is not None:
        return None, [Problem(path.name, trouble)]
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        table, problems = _read_not_utf8(data, path.name, name, exc)
    else:
        table, problems = _csv_frame(data, path.name, name), []
        if table is None:  # the csv module reads it, and names what is wrong
            text = io.StringIO(data.decode("utf-8"), newline="")
            table, problems = _parse_csv(text, path.name, name)
    if table is not None and len(table.header) == 1:
        for delimiter, said in ((";", "';'"), ("\t", "tab")):
            if delimiter in table.header[0]:
                return None, [Problem(path.name, f"columns separated by ',' (the file seems to "
                                      f"use {said} as delimiter: header "
                                      f"{_clip(table.header[0])!r}); save it as CSV with "
                                      "commas", 1)]
    return table, problems


def _sniff(head: bytes) -> str | None:
    """What is wrong with a file from its first bytes, or None if it may be CSV text."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-8 text (the file is UTF-32 encoded); save it as 'CSV UTF-8'"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("UTF-8 text (the file is UTF-16 encoded, as Excel's 'Unicode Text'); save it as "
                "'CSV UTF-8'")
    if head.startswith(ZIP_MAGIC):
        return ("CSV text (this file is a zip archive — an .xlsx workbook renamed? give the "
                "workbook itself as --inputs)")
    if head.startswith(OLE_MAGIC):
        return "CSV text (this file is an Excel 97-2003 .xls workbook, not CSV)"
    if b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if max(even, odd) > len(head) // 4:
            order = "big-endian" if even > odd else "little-endian"
            return (f"UTF-8 text (the file seems to be UTF-16 encoded, {order}, without a byte "
                    "order mark); save it as 'CSV UTF-8'")
        return "CSV text (the file contains NUL bytes: a binary file?)"
    return None


def _csv_records(data: bytes) -> int:
    """How many records the csv module reads from ``data`` without quotes: one per
    line, whatever its end (LF, CR LF or CR)."""
    ends = data.count(b"\n")
    if b"\r" in data:
        ends += data.count(b"\r") - data.count(b"\r\n")
    return ends + (1 if data and not data.endswith((b"\n", b"\r")) else 0)


def _csv_frame(data: bytes, source: str, name: str) -> RawTable | None:
    """UTF-8 ``data`` parsed by pandas' C engine (every cell text, blank lines kept so
    that row numbers stay a spreadsheet's), or None where the C engine might read
    something else than the csv module (quotes it forgives, a row wider than the
    header, NUL bytes, a cell above the csv limit, ...): the csv module then reads
    the file and reports what is wrong."""
    if not data.strip() or b"\x00" in data:
        return None
    quoted = b'"' in data
    if quoted:
        try:  # strict quoting, as the csv module reads it (its records are not kept)
            with _csv_cell_limit():
                reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
                records = sum(1 for _ in reader)
        except csv.Error:
            return None
    else:
        records = _csv_records(data)
    try:
        frame = pd.read_csv(io.BytesIO(data), header=None, dtype=object, na_filter=False,
                            skip_blank_lines=False, engine="c", encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError):
        return None
    if len(frame) != records:
        return None
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    del frame
    if len(data) > MAX_CSV_CELL and any(max(map(len, c), default=0) > MAX_CSV_CELL
                                        for c in columns):
        return None
    header = [h.strip() for h in (c[0] for c in columns)]
    if not any(header):
        return None
    columns = [c[1:] for c in columns]
    count = records - 1
    filled = _filled_rows(columns, count, text_only=True)
    numbers = np.arange(2, count + 2, dtype=np.int64)
    if not filled.all():
        columns = [c[filled] for c in columns]
        numbers = numbers[filled]
    preview = [(int(n), list(cells)) for n, cells in
               zip(numbers[:PREVIEW_ROWS], zip(*(c[:PREVIEW_ROWS] for c in columns), strict=True),
                   strict=False)]
    return RawTable(name, source, header, columns, numbers, preview, text_only=True)


def _empty(source: str, name: str, kind: str = "file",
           what: str = "is empty or its first line is blank") -> Problem:
    spec = next(t for t in TABLES if t.name == name)
    required = ", ".join(c.name for c in spec.columns if c.required)
    return Problem(source, f"a header row naming the columns ({required}, …): the {kind} "
                   f"{what}", 1)


@contextmanager
def _csv_cell_limit() -> Iterator[None]:
    """Let the csv module read cells up to MAX_CSV_CELL (validation limits ids far lower,
    with a message naming the cell); restored afterwards."""
    previous = csv.field_size_limit(MAX_CSV_CELL)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _parse_csv(handle: io.TextIOBase, source: str, name: str
               ) -> tuple[RawTable | None, list[Problem]]:
    """A CSV file read by the csv module, record by record."""
    header, records, problems = _csv_module_records(handle, source, name)
    if header is None:
        return None, problems
    return _from_records(name, source, header, records, text_only=True), problems


def _csv_module_records(handle: io.TextIOBase, source: str, name: str
                        ) -> tuple[list[str] | None, list[tuple[int, list[Cell]]],
                                   list[Problem]]:
    problems: list[Problem] = []
    records: list[tuple[int, list[Cell]]] = []
    with _csv_cell_limit():
        reader = csv.reader(handle, strict=True)
        row = 0  # the last record read; the header is row 1
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                return None, [], [_empty(source, name)]
            row = 1
            width = len(header)
            ragged: list[tuple[int, int]] = []  # rows with cells right of the header
            for row, record in enumerate(reader, start=2):  # records, as a spreadsheet shows
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    ragged.append((row, len(record)))
                records.append((row, record + [""] * (width - len(record))))
        except csv.Error as exc:
            detail = str(exc)
            if "end of data" in detail:
                detail += ": a quote (\") that is never closed?"
            elif "field larger" in detail:
                detail = f"a cell longer than {MAX_CSV_CELL // MB} MB"
            return None, [], [*problems, Problem(source, f"well-formed CSV (near line "
                                                 f"{reader.line_num}: {detail})", row + 1)]
    if len(ragged) > 1 and len(ragged) == len(records):
        problems.append(Problem(source, f"a header naming every column (row 1 names {width}, "
                                "every row below has more cells)", 1))
    else:
        problems += [Problem(source, f"at most {width} cells, one under each column of the "
                             f"header (this row has {cells}: a ',' inside a value that is "
                             "not quoted?)", row) for row, cells in ragged]
    return header, records, problems


def _read_not_utf8(data: bytes, source: str, name: str, error: UnicodeDecodeError
                   ) -> tuple[RawTable | None, list[Problem]]:
    """Re-read a file that is not UTF-8: report every cell holding bytes that are not
    UTF-8, shown as Windows-1252 (the likely encoding), and keep them so read."""
    text = data.decode("utf-8", errors="surrogateescape")
    header, records, problems = _csv_module_records(io.StringIO(text, newline=""), source,
                                                    name)
    if header is None:
        return None, problems
    found: list[Problem] = []
    shown_header = [_legacy(h) for h in header]
    for position, cell in enumerate(header):
        if cell != shown_header[position]:
            found.append(_encoding_problem(source, 1, None, cell))
    header = shown_header
    for number, cells in records:
        for i, cell in enumerate(cells):
            fixed = _legacy(cell)
            if fixed != cell:
                column = header[i] if i < len(header) else None
                found.append(_encoding_problem(source, number, column, cell))
                cells[i] = fixed
    if not found:  # should not happen: the strict decode failed somewhere
        found.append(Problem(source, f"UTF-8 text ({error.reason} at byte {error.start})"))
    return _from_records(name, source, header, records, text_only=True), found + problems


def _windows_1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return bytes([byte]).decode("latin-1")


_LEGACY = {0xDC00 + b: _windows_1252(b) for b in range(0x80, 0x100)}


def _legacy(text: str) -> str:
    """Text read with surrogateescape, each undecodable byte read as Windows-1252 (the
    rest of the text, valid UTF-8, stays as it is)."""
    return text if text.isascii() else text.translate(_LEGACY)


def _encoding_problem(source: str, row: int, column: str | None, cell: str) -> Problem:
    bad = bytes(ord(ch) - 0xDC00 for ch in cell if "\udc80" <= ch <= "\udcff")
    shown = " ".join(f"0x{b:02X}" for b in bad[:4]) + (" …" if len(bad) > 4 else "")
    bytes_are = "bytes {} are" if len(bad) > 1 else "byte {} is"
    return Problem(source, f"UTF-8 text ({bytes_are.format(shown)} not UTF-8: the file seems to be "
                   "Latin-1 / Windows-1252 encoded, shown so here; save it as 'CSV UTF-8')",
                   row, column, _clip(_legacy(cell)))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[:60]}… ({len(text):,} characters)"


# -- Excel --------------------------------------------------------------------------------

def _archive_problem(path: Path) -> str | None:
    """Why a workbook must not be opened, from its first bytes and its zip directory
    alone (nothing is decompressed), or None."""
    with path.open("rb") as handle:
        head = handle.read(8)
        if head.startswith(OLE_MAGIC):
            return ("an .xlsx workbook (this file is an OLE document: an Excel 97-2003 .xls "
                    "workbook, or a password-protected one; save it as .xlsx without a "
                    "password)")
        if not head.startswith(ZIP_MAGIC):
            return ("an .xlsx workbook (the file is not a zip archive: a CSV or another format "
                    "renamed .xlsx?)")
        # The part count, from the archive's end record, before ZipFile builds an object
        # per part (zipfile's own reader of that record; skipped should it ever go away).
        try:
            end = zipfile._EndRecData(handle)
            count = None if end is None else end[zipfile._ECD_ENTRIES_TOTAL]
        except AttributeError:
            end, count = (), None
        except OSError:
            end, count = None, None
    if end is None:
        return "a readable .xlsx workbook (a damaged zip archive: its directory is missing)"
    if count is not None and count > MAX_WORKBOOK_PARTS:
        return (f"an .xlsx workbook of at most {MAX_WORKBOOK_PARTS:,} parts (this zip archive "
                f"declares {count:,}); refused unread")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return f"a readable .xlsx workbook (a damaged zip archive: {exc})"
    total = sum(p.file_size for p in parts)
    if total > MAX_WORKBOOK_EXPANDED:
        return (f"a workbook that expands to at most {MAX_WORKBOOK_EXPANDED // MB} MiB (its parts "
                f"declare {total:,} bytes uncompressed from {path.stat().st_size:,}: a zip "
                "bomb?); refused unread")
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_CHECK_FROM and ratio > MAX_WORKBOOK_RATIO:
            return (f"a workbook whose parts compress at most {MAX_WORKBOOK_RATIO}:1 (part "
                    f"{part.filename} declares {part.file_size:,} bytes from "
                    f"{part.compress_size:,}, {ratio:,.0f}:1: a zip bomb?); refused unread")
    return None


_PROLOGUE_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def _declares_dtd(part: io.BufferedIOBase) -> bool:
    """Whether an XML part declares a document type (where entities are declared)
    before its root element: only its prologue is read."""
    data = b""
    while len(data) <= MAX_PROLOGUE:
        chunk = part.read(64 * 1024)
        data += chunk
        text = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        position = 0
        while (item := _PROLOGUE_ITEM.match(text, position)) is not None:
            position = item.end()
        rest = text[position:].lstrip()
        if rest.startswith((b"<!DOCTYPE", b"<!ENTITY")):
            return True
        if not chunk or (rest and (rest[:1] != b"<" or rest[1:2] not in (b"", b"?", b"!"))):
            return False  # the root element (no declaration can follow), or not XML
    return False


def _dtd_problem(path: Path) -> str | None:
    """Why the workbook's XML is refused: a part declaring a DTD (entities), whose
    expansion could exhaust memory or read local files. defusedxml refuses the same."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as part:
                if _declares_dtd(part):
                    return (f"a readable .xlsx workbook (part {info.filename}: its XML "
                            "declares entities or a DTD, which are refused: an XML "
                            "entity-expansion attack? EntitiesForbidden)")
    return None


def _unreadable_workbook(exc: BaseException, sheet: str | None = None) -> str:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    where = f"sheet {sheet}: " if sheet else ""
    if any(type(e).__module__.startswith("defusedxml") for e in chain):
        return (f"a readable .xlsx workbook ({where}its XML declares entities or a DTD, which "
                "are refused: an XML entity-expansion attack? "
                f"{next(type(e).__name__ for e in chain if 'defusedxml' in type(e).__module__)})")
    detail = str(chain[-1]) or type(chain[-1]).__name__
    if type(chain[-1]).__name__ == "XmlError" and "XML" not in detail:
        detail = f"its XML is broken, near {detail}"
    return f"a readable .xlsx workbook ({where}{_clip(detail.splitlines()[0], 200)})"


def _read_workbook(path: Path) -> RawDataset:
    everything = {spec.name for spec in TABLES}  # not readable: no "missing table" too
    refused = _archive_problem(path) or _dtd_problem(path)
    if refused is not None:
        return RawDataset(str(path), {}, [Problem(path.name, refused)], everything, "workbook")
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    problems: list[Problem] = []
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is an input problem
        return RawDataset(str(path), {}, [Problem(path.name, _unreadable_workbook(exc))],
                          everything, "workbook")
    tables: dict[str, RawTable] = {}
    states = [(SheetVisibleEnum.Hidden, "hidden"), (SheetVisibleEnum.VeryHidden, "veryHidden")]
    try:
        sheets = [(index, meta) for index, meta in enumerate(book.sheets_metadata)
                  if meta.typ == SheetTypeEnum.WorkSheet]
        first: dict[str, tuple[int, object]] = {}
        for index, meta in sheets:
            first.setdefault(meta.name, (index, meta))
        found, unreadable = _table_names([meta.name for _, meta in sheets], "sheet",
                                         path.name, problems)
        for name, title in found.items():
            index, meta = first[title]
            source = f"{path.name} sheet {title}"
            state = next((said for visible, said in states if meta.visible == visible), None)
            if state is not None:
                problems.append(Problem(source, f"a visible sheet (this sheet is {state} in "
                                        "Excel; the planner reads it like any other)",
                                        severity=Severity.WARNING))
            try:
                table = _read_sheet(book, path, index, name, source, problems)
                if table is None:
                    unreadable.add(name)
                else:
                    tables[name] = table
            except Exception as exc:  # noqa: BLE001 - a broken sheet is an input problem
                problems.append(Problem(path.name, _unreadable_workbook(exc, title)))
                unreadable.add(name)
    finally:
        book.close()
    return RawDataset(str(path), tables, problems, unreadable, "workbook")


_PLAIN = (str, float, int, bool)


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else str(cell).strip()


def _read_sheet(book, path: Path, index: int, name: str, source: str,
                problems: list[Problem]) -> RawTable | None:
    """One worksheet: cell values from calamine; formulas without a saved result and
    error values (which calamine shows as blank) from the sheet's XML, where a cell
    reads blank; merged ranges from calamine."""
    sheet = book.get_sheet_by_index(index)
    grid = sheet.to_python(skip_empty_area=False) if sheet.start is not None else []
    if not grid:
        problems.append(_empty(source, name, "sheet", "has no cells"))
        return None
    header = [_header_text(c) for c in grid[0]]
    while header and header[-1] == "":
        header.pop()
    if not any(header):
        problems.append(_empty(source, name, "sheet", "row 1 is blank"))
        return None
    width = len(header)
    body = grid[1:]
    del grid
    count = len(body)
    cells = np.empty((count, len(body[0]) if body else width), dtype=object)
    if body:
        cells[:] = body  # calamine's rows are all as wide as the sheet
    columns = [cells[:, i] for i in range(width)]
    del cells
    marks = _sheet_marks(path, index) if any((c == "").any() for c in columns) else {}
    for (row, column), cell in marks.items():
        if 2 <= row <= count + 1 and column <= width and columns[column - 1][row - 2] == "":
            columns[column - 1][row - 2] = cell
    for column in columns:
        for i in np.flatnonzero(cell_kinds(column) == 0).tolist():
            column[i] = _cell(column[i])
    # The first rows count with the cells right of the header (a header placed lower
    # down), the others with the cells under it.
    filled = _filled_rows(columns, count, text_only=False)
    preview: list[tuple[int, list[Cell]]] = []
    for i, cells in enumerate(body):
        if len(preview) == PREVIEW_ROWS:
            break
        whole = [_cell(c) if type(c) not in _PLAIN else c for c in cells]
        for j in range(min(width, len(whole))):
            whole[j] = columns[j][i]
        filled[i] = not all(_blank_cell(c) for c in whole)
        if filled[i]:
            preview.append((i + 2, whole))
    numbers = np.arange(2, count + 2, dtype=np.int64)
    if not filled.all():
        columns = [c[filled] for c in columns]
        numbers = numbers[filled]
    table = RawTable(name, source, header, columns, numbers, preview)
    _report_merged(table, sheet.merged_cell_ranges or [], problems)
    return table


def _cell(value: object, excel: bool = True) -> Cell:
    """A cell value as validation sees it: text, number, boolean, or text noting its
    type (a date, an error value)."""
    what = "an Excel " if excel else "a "
    if value is None or isinstance(value, _PLAIN):
        return value
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
        return Noted(text, f"{what}date")
    if isinstance(value, dt.date):
        return Noted(value.isoformat(), f"{what}date")
    if isinstance(value, dt.time):
        return Noted(value.isoformat(), f"{what}time of day")
    if isinstance(value, dt.timedelta):
        return Noted(str(value), f"{what}duration")
    return str(value)


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _report_merged(table: RawTable, ranges: list, problems: list[Problem]) -> None:
    """Merged ranges that touch the header or a known column: only their first cell
    holds the value, so the others would read as blank (or silently as a default)."""
    known = {c.name for spec in TABLES if spec.name == table.name for c in spec.columns}
    for (first_row, first_col), (last_row, last_col) in ranges:  # 0-based, inclusive
        first_row, first_col, last_row, last_col = (first_row + 1, first_col + 1, last_row + 1,
                                                    last_col + 1)
        names = table.header[first_col - 1:last_col]
        if first_row != 1 and not known.intersection(names):
            continue
        column = names[0] if names else None
        ref = (f"{_column_letters(first_col)}{first_row}:"
               f"{_column_letters(last_col)}{last_row}")
        problems.append(Problem(table.source, f"cells that are not merged ({ref} is merged: "
                                f"only {_column_letters(first_col)}{first_row} holds a value, "
                                "the others read as blank; unmerge and fill each cell)",
                                first_row, column or None))


# A formula (<f>) or an error value (t="e") in a sheet's XML, any namespace prefix.
_MARK = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]|\st\s*=\s*[\"']e[\"']")
_CELL_START = re.compile(rb"<(?:([\w.-]+):)?c[\s>/]")
_ROW_START = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
_REF = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Z]{1,3})\$?(\d+)[\"']")
_TYPE = re.compile(rb"\st\s*=\s*[\"'](\w+)[\"']")


def _element_text(inner: bytes, tag: bytes) -> tuple[bool, str | None]:
    """(present, text) of child element ``tag`` in a cell's inner XML."""
    found = re.search(rb"<(?:[\w.-]+:)?" + tag + rb"(?:\s[^>]*?)?(/>|>(.*?)</(?:[\w.-]+:)?"
                      + tag + rb">)", inner, re.S)
    if found is None:
        return False, None
    text = found.group(2)
    return True, (html.unescape(text.decode("utf-8")) if text else None)


def _sheet_part(archive: zipfile.ZipFile, index: int) -> str:
    """The zip part holding the ``index``-th sheet of the workbook (workbook order)."""
    from defusedxml import ElementTree

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def relations(part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part) of ``part`` ("" : the package)."""
        folder = PurePosixPath(part).parent
        rels = folder / "_rels" / f"{PurePosixPath(part).name}.rels"
        found = {}
        for rel in ElementTree.fromstring(archive.read(str(rels))):
            target = rel.get("Target", "")
            found[rel.get("Id")] = (rel.get("Type", ""), _normalise(
                target.lstrip("/") if target.startswith("/") else str(folder / target)))
        return found

    workbook = next((target for kind, target in relations("").values()
                     if kind.endswith("/officeDocument")), "xl/workbook.xml")
    targets = relations(workbook)
    root = ElementTree.fromstring(archive.read(workbook))
    sheets = [e for e in root.iter() if local(e.tag) == "sheet"]
    rid = next(v for k, v in sheets[index].attrib.items() if local(k) == "id")
    return targets[rid][1]


def _normalise(part: str) -> str:
    parts: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _sheet_marks(path: Path, index: int) -> dict[tuple[int, int], Cell]:
    """Cells of a sheet that calamine shows as blank but are not: a formula without a
    saved result (``Formula``) or an error value (``Noted``), by (row, column), 1-based.

    The sheet's XML is streamed and only the cells around a formula or error mark are
    looked at (the zip directory was checked first: decompression is bounded)."""
    marks: dict[tuple[int, int], Cell] = {}
    with zipfile.ZipFile(path) as archive:
        try:
            part = _sheet_part(archive, index)
        except (KeyError, IndexError, StopIteration, SyntaxError, ValueError):
            return marks
        with archive.open(part) as stream:
            pending = b""
            while True:
                chunk = stream.read(XML_CHUNK)
                data = pending + chunk
                if chunk:  # cut before the last row start: rows are processed whole
                    cut = max((m.start() for m in _ROW_START.finditer(
                        data, max(0, len(data) - XML_CHUNK))), default=0)
                    if cut == 0:
                        pending = data
                        continue
                    data, pending = data[:cut], data[cut:]
                if not _scan_marks(data, marks):
                    return _parsed_marks(path, part)
                if not chunk:
                    return marks


def _scan_marks(data: bytes, marks: dict[tuple[int, int], Cell]) -> bool:
    """Add the marked cells of ``data`` (whole rows); False when a marked cell cannot
    be placed (no ``r`` reference): the caller then parses the sheet."""
    for mark in _MARK.finditer(data):
        starts = list(_CELL_START.finditer(data, max(0, mark.start() - 4096), mark.start() + 1))
        if not starts:
            return False
        start = starts[-1]
        tag_end = data.find(b">", start.end() - 1)
        if tag_end < 0:
            return False
        tag = data[start.start():tag_end + 1]
        prefix = (start.group(1) + b":") if start.group(1) else b""
        if tag.endswith(b"/>"):
            inner = b""
        else:
            end = data.find(b"</" + prefix + b"c>", tag_end)
            inner = data[tag_end + 1:end] if end >= 0 else b""
        ref = _REF.search(tag)
        if ref is None:
            return False
        kind = _TYPE.search(tag)
        has_formula, formula = _element_text(inner, b"f")
        _, value = _element_text(inner, b"v")
        place = (int(ref.group(2)), _column_number(ref.group(1).decode()))
        if kind is not None and kind.group(1) == b"e" and value:
            marks[place] = Noted(value, "an Excel error value")
        elif has_formula and not value:
            marks[place] = Formula(f"={formula or ''}")
    return True


def _parsed_marks(path: Path, part: str) -> dict[tuple[int, int], Cell]:
    """The marked cells of a sheet whose cells lack ``r`` references, from a full
    (streaming, defusedxml) parse that counts rows and columns."""
    from defusedxml.ElementTree import iterparse

    marks: dict[tuple[int, int], Cell] = {}
    row = column = 0
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "row":
                row = int(element.get("r") or row + 1)
                column = 0
            elif event == "end" and tag == "c":
                ref = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", element.get("r") or "")
                column = _column_number(ref.group(1)) if ref else column + 1
                children = {c.tag.rsplit("}", 1)[-1]: c for c in element}
                value = children["v"].text if "v" in children else None
                if element.get("t") == "e" and value:
                    marks[(row, column)] = Noted(value, "an Excel error value")
                elif "f" in children and not value:
                    marks[(row, column)] = Formula(f"={children['f'].text or ''}")
                element.clear()
            elif event == "end" and tag == "row":
                element.clear()
    return marks


# -- pandas DataFrames ----------------------------------------------------------------------

def read_frames(frames: Mapping[str, pd.DataFrame], source: str = "frames") -> RawDataset:
    """Read tables from a dict of pandas DataFrames (table name -> frame with the SPEC §2
    columns), to be validated exactly like files. Row numbers are those a sheet would
    show (the header is row 1, the frame's first row is row 2, whatever its index);
    messages name the table as ``frames['offers']``. Blank cells are None, NaN, NA or
    text of spaces only."""
    problems: list[Problem] = []
    keys = {str(key): key for key in frames}
    found, unreadable = _table_names(list(keys), "table", source, problems)
    tables: dict[str, RawTable] = {}
    for name, key in found.items():
        where = f"{source}[{key!r}]"
        frame = frames[keys[key]]
        if not isinstance(frame, pd.DataFrame):
            problems.append(Problem(where, f"a pandas DataFrame (got {type(frame).__name__})"))
            unreadable.add(name)
            continue
        header = [_header_text(c) for c in frame.columns]
        if not any(header):
            problems.append(_empty(where, name, "table", "has no named columns"))
            unreadable.add(name)
            continue
        columns = [_frame_column(frame.iloc[:, i]) for i in range(len(header))]
        count = len(frame)
        filled = _filled_rows(columns, count, text_only=False)
        numbers = np.arange(2, count + 2, dtype=np.int64)
        if not filled.all():
            columns = [c[filled] for c in columns]
            numbers = numbers[filled]
        table = RawTable(name, where, header, columns, numbers)
        table.preview = list(islice(table.rows, PREVIEW_ROWS))
        tables[name] = table
    return RawDataset(source, tables, problems, unreadable, "frames")


def _frame_column(series: pd.Series) -> np.ndarray:
    """A frame's column as cells: a float array for a float column (NaN = blank),
    otherwise an object array of Python values (None = blank)."""
    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    cells = _objects(series.astype(object).tolist())
    blank = pd.isna(cells)
    if blank.any():
        cells[blank] = None
    odd = [i for i, c in enumerate(cells) if c is not None and type(c) not in _PLAIN]
    for i in odd:
        cell = cells[i]
        if isinstance(cell, np.generic):
            cell = cell.item()
        if isinstance(cell, pd.Timestamp):
            cell = cell.to_pydatetime()
        if isinstance(cell, pd.Timedelta):
            cell = cell.to_pytimedelta()
        cells[i] = _cell(cell, excel=False)
    return cells


# -- typed cells for `planner convert` -------------------------------------------------------

def dataset_cells(raw: RawDataset) -> dict[str, tuple[list[str], list[list[Cell]]]]:
    """Header and cell rows of every table read, typed for a workbook: cells of
    numeric columns become numbers, everything else stays text."""
    return {name: (header, list(rows)) for name, header, rows in table_cells(raw)}


def table_cells(raw: RawDataset) -> Iterator[tuple[str, list[str], Iterator[list[Cell]]]]:
    """The same, a table at a time and a row at a time (for writing a large dataset
    without holding a second copy of it)."""
    numeric = {(t.name, c.name) for t in TABLES for c in t.columns
               if c.kind in (Kind.NUMBER, Kind.INT)}
    for name, table in raw.tables.items():
        yield name, table.header, _typed_rows(table, [(name, h) in numeric
                                                      for h in table.header])


def _typed_rows(table: RawTable, numeric: list[bool]) -> Iterator[list[Cell]]:
    for _, cells in table.rows:
        yield [_typed(cell, kind) for cell, kind in zip(cells, numeric, strict=False)]


def _typed(cell: Cell, numeric: bool) -> Cell:
    if isinstance(cell, str) and type(cell) is not str:
        cell = str(cell)  # Noted text: plain text from here on
    if type(cell) is float and cell.is_integer() and abs(cell) < 1e15:
        return int(cell)  # a whole number as Excel stores it ("2", read as 2.0)
    if not numeric or not isinstance(cell, str) or not cell.strip():
        return None if cell == "" else cell
    try:
        number = float(cell)
    except ValueError:
        return cell
    if not math.isfinite(number):
        return cell  # "inf", "nan": no spreadsheet number; the text, as written
    return int(number) if number.is_integer() and "." not in cell else number

