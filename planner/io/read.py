"""Read a dataset's raw tables from a folder of CSV files or one .xlsx workbook.

Cells are kept as read (text from CSV; text, numbers or booleans from Excel);
``validation`` parses and checks them. Row numbers are those a spreadsheet
shows: the header is row 1, the first data row is row 2. Blank rows are skipped.

Hostile or malformed files are reported, never crash the reader: empty files,
non-UTF-8 text (the cells are named and the likely encoding said), binary files
passed as CSV, ';' or tab delimiters, unclosed quotes, cells outside the header,
file or sheet names that differ from a table name only in case, workbooks that
are not zip archives, zip bombs (refused from the archive's directory, before
anything is decompressed), XML entity declarations (refused by defusedxml),
merged cells, formulas without a saved result, Excel dates and error values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
SNIFF_BYTES = 4096

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # .xls, or an encrypted .xlsx


class Noted(str):
    """Text of an Excel cell whose type matters for the message (a date, an error
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
    """One table as read: where it came from, its header and its rows."""

    name: str
    source: str                      # "offers.csv" or "book.xlsx sheet offers"
    header: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)  # (row number, cells)

    def position(self, column: str) -> int | None:
        """Index of ``column`` in each row's cells (its first occurrence), or None."""
        return self.header.index(column) if column in self.header else None


@dataclass
class RawDataset:
    """All tables found, plus problems met while reading."""

    location: str
    tables: dict[str, RawTable]
    problems: list[Problem]
    unreadable: set[str] = field(default_factory=set)  # present but could not be read

    def source_of(self, table: str) -> str:
        """How to name a table that is absent: its file, or its sheet in the workbook."""
        if self.location.lower().endswith(".xlsx"):
            return f"{Path(self.location).name} sheet {table}"
        return f"{table}.csv"


def read_dataset(path: Path) -> RawDataset:
    """Read ``path``: a folder of ``<table>.csv`` files or an ``.xlsx`` workbook."""
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".xlsx" and path.is_file():
        return _read_workbook(path)
    what = "no such file or folder" if not path.exists() else "not a folder or an .xlsx file"
    return RawDataset(str(path), {}, [Problem(str(path), f"a folder of CSV files or an .xlsx "
                                              f"workbook ({what})")],
                      {spec.name for spec in TABLES})


def _table_names(names: list[str], kind: str, location: str,
                 problems: list[Problem]) -> tuple[dict[str, str], set[str]]:
    """Map each table to the file or sheet that holds it (exact, lower-case name) and
    report names that match a table only when case or spaces are ignored."""
    wanted = {spec.name for spec in TABLES}
    suffix = ".csv" if kind == "file" else ""
    found: dict[str, str] = {}
    near: list[tuple[str, str]] = []
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
        where = f"{location} {kind} {name}" if kind == "sheet" else name
        if table in found:
            problems.append(Problem(where, f"no second {kind} for table {table}: this {kind} "
                                    f"differs from {exact!r}, which is the one read, only in "
                                    "case or spaces; rename or delete it"))
        else:
            problems.append(Problem(where, f"a {kind} named {exact!r} (table names are lower "
                                    f"case, without spaces); rename {name!r}"))
            unreadable.add(table)
    return found, unreadable


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
    return RawDataset(str(folder), tables, problems, unreadable)


def _read_csv(path: Path, name: str) -> tuple[RawTable | None, list[Problem]]:
    """One CSV file: the table (None when it cannot be read) and the problems met."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    trouble = _sniff(head)
    if trouble is not None:
        return None, [Problem(path.name, trouble)]
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table, problems = _parse_csv(handle, path.name, name)
    except UnicodeDecodeError as exc:
        table, problems = _read_not_utf8(path, name, exc)
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
    problems: list[Problem] = []
    with _csv_cell_limit():
        reader = csv.reader(handle, strict=True)
        row = 0  # the last record read; the header is row 1
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                return None, [_empty(source, name)]
            row = 1
            table = RawTable(name, source, header)
            width = len(header)
            ragged: list[tuple[int, int]] = []  # rows with cells right of the header
            for row, record in enumerate(reader, start=2):  # records, as a spreadsheet shows
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    ragged.append((row, len(record)))
                table.rows.append((row, record + [""] * (width - len(record))))
        except csv.Error as exc:
            detail = str(exc)
            if "end of data" in detail:
                detail += ": a quote (\") that is never closed?"
            elif "field larger" in detail:
                detail = f"a cell longer than {MAX_CSV_CELL // MB} MB"
            return None, [*problems, Problem(source, f"well-formed CSV (near line "
                                             f"{reader.line_num}: {detail})", row + 1)]
    if len(ragged) > 1 and len(ragged) == len(table.rows):
        problems.append(Problem(source, f"a header naming every column (row 1 names {width}, "
                                "every row below has more cells)", 1))
    else:
        problems += [Problem(source, f"at most {width} cells, one under each column of the "
                             f"header (this row has {cells}: a ',' inside a value that is "
                             "not quoted?)", row) for row, cells in ragged]
    return table, problems


def _read_not_utf8(path: Path, name: str, error: UnicodeDecodeError
                   ) -> tuple[RawTable | None, list[Problem]]:
    """Re-read a file that is not UTF-8: report every cell holding bytes that are not
    UTF-8, shown as Windows-1252 (the likely encoding), and keep them so read."""
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    table, problems = _parse_csv(io.StringIO(text, newline=""), path.name, name)
    if table is None:
        return None, problems
    found: list[Problem] = []
    shown_header = [_legacy(h) for h in table.header]
    for position, cell in enumerate(table.header):
        if cell != shown_header[position]:
            found.append(_encoding_problem(path.name, 1, None, cell))
    table.header = shown_header
    for number, cells in table.rows:
        for i, cell in enumerate(cells):
            fixed = _legacy(cell)
            if fixed != cell:
                column = table.header[i] if i < len(table.header) else None
                found.append(_encoding_problem(path.name, number, column, cell))
                cells[i] = fixed
    if not found:  # should not happen: the strict decode failed somewhere
        found.append(Problem(path.name, f"UTF-8 text ({error.reason} at byte {error.start})"))
    return table, found + problems


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


def _unreadable_workbook(exc: BaseException, sheet: str | None = None) -> str:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:  # openpyxl re-raises with the cause attached
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    where = f"sheet {sheet}: " if sheet else ""
    if any(type(e).__module__.startswith("defusedxml") for e in chain):
        return (f"a readable .xlsx workbook ({where}its XML declares entities or a DTD, which "
                "are refused: an XML entity-expansion attack? "
                f"{next(type(e).__name__ for e in chain if 'defusedxml' in type(e).__module__)})")
    action = re.search(r"could not (.+?) from ", str(chain[0]))
    if action:
        where += f"could not {action.group(1)}: "
    detail = str(chain[-1]) or type(chain[-1]).__name__
    return f"a readable .xlsx workbook ({where}{_clip(detail.splitlines()[0], 200)})"


def _read_workbook(path: Path) -> RawDataset:
    everything = {spec.name for spec in TABLES}  # not readable: no "missing table" too
    refused = _archive_problem(path)
    if refused is not None:
        return RawDataset(str(path), {}, [Problem(path.name, refused)], everything)
    from openpyxl import load_workbook  # imported here: only workbook users pay for it

    problems: list[Problem] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is an input problem
        return RawDataset(str(path), {}, [Problem(path.name, _unreadable_workbook(exc))],
                          everything)
    tables: dict[str, RawTable] = {}
    try:
        titles = [sheet.title for sheet in book.worksheets]
        sheets = {sheet.title: sheet for sheet in reversed(book.worksheets)}  # the first
        found, unreadable = _table_names(titles, "sheet", path.name, problems)
        for name, title in found.items():
            sheet = sheets[title]
            source = f"{path.name} sheet {title}"
            if sheet.sheet_state != "visible":
                problems.append(Problem(source, f"a visible sheet (this sheet is "
                                        f"{sheet.sheet_state} in Excel; the planner reads it "
                                        "like any other)", severity=Severity.WARNING))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    table = _read_sheet(book, sheet, name, source, problems)
                if table is None:
                    unreadable.add(name)
                else:
                    tables[name] = table
            except Exception as exc:  # noqa: BLE001 - a broken sheet is an input problem
                problems.append(Problem(path.name, _unreadable_workbook(exc, title)))
                unreadable.add(name)
    finally:
        book.close()
    return RawDataset(str(path), tables, problems, unreadable)


def _read_sheet(book, sheet, name: str, source: str,
                problems: list[Problem]) -> RawTable | None:
    """One worksheet through openpyxl's streaming parser, which the read-only sheet uses
    too; used directly to see formulas beside their saved values and merged ranges."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:
                formula = self.parse_formula(element)
                cell["formula"] = str(getattr(formula, "text", formula))
            return cell

    table = RawTable(name, source, [])
    with sheet._get_source() as xml:
        parser = Parser(xml, sheet._shared_strings, data_only=True, epoch=book.epoch,
                        date_formats=book._date_formats,
                        timedelta_formats=book._timedelta_formats)
        width = None
        for number, cells in parser.parse():
            if width is None:  # the first row seen: the header only if it is row 1
                if number == 1:
                    header = [""] * max((c["column"] for c in cells), default=0)
                    for c in cells:
                        header[c["column"] - 1] = "" if c["value"] is None else str(
                            c["value"]).strip()
                    while header and header[-1] == "":
                        header.pop()
                    table.header = header
                if not any(table.header):
                    problems.append(_empty(source, name, "sheet", "row 1 is blank"))
                    return None
                width = len(table.header)
                if number == 1:
                    continue
            # the first rows keep cells right of the header: validation looks there for
            # a header placed below row 1
            last = max(width, *(c["column"] for c in cells)) if len(table.rows) < 20 else width
            values: list[Cell] = [None] * last
            for c in cells:
                if c["column"] <= last:
                    values[c["column"] - 1] = _cell(c)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            table.rows.append((number, values))
        merged = parser.merged_cells
    if width is None:
        problems.append(_empty(source, name, "sheet", "has no cells"))
        return None
    if merged is not None:
        _report_merged(table, [m.ref for m in merged.mergeCell], problems)
    return table


def _report_merged(table: RawTable, ranges: list[str], problems: list[Problem]) -> None:
    """Merged ranges that touch the header or a known column: only their first cell
    holds the value, so the others would read as blank (or silently as a default)."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    known = {c.name for spec in TABLES if spec.name == table.name for c in spec.columns}
    for ref in ranges:
        try:
            first_col, first_row, last_col, last_row = range_boundaries(ref)
        except (TypeError, ValueError):
            continue
        names = table.header[first_col - 1:last_col]
        if first_row != 1 and not known.intersection(names):
            continue
        column = names[0] if names else None
        problems.append(Problem(table.source, f"cells that are not merged ({ref} is merged: "
                                f"only {get_column_letter(first_col)}{first_row} holds a value, "
                                "the others read as blank; unmerge and fill each cell)",
                                first_row, column or None))


def _cell(cell: dict) -> Cell:
    value, kind = cell["value"], cell["data_type"]
    if value is None:
        formula = cell.get("formula")
        return Formula(formula) if formula else None
    if kind == "e":
        return Noted(str(value), "an Excel error value")
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
        return Noted(text, "an Excel date")
    if isinstance(value, dt.date):
        return Noted(value.isoformat(), "an Excel date")
    if isinstance(value, dt.time):
        return Noted(value.isoformat(), "an Excel time of day")
    if isinstance(value, dt.timedelta):
        return Noted(str(value), "an Excel duration")
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- typed cells for `planner convert` -------------------------------------------------------

def dataset_cells(raw: RawDataset) -> dict[str, tuple[list[str], list[list[Cell]]]]:
    """Header and cell rows of every table read, typed for a workbook: cells of
    numeric columns become numbers, everything else stays text."""
    numeric = {(t.name, c.name) for t in TABLES for c in t.columns
               if c.kind in (Kind.NUMBER, Kind.INT)}
    tables = {}
    for name, table in raw.tables.items():
        kinds = [(name, h) in numeric for h in table.header]
        rows = [[_typed(cell, kind) for cell, kind in zip(cells, kinds, strict=False)]
                for _, cells in table.rows]
        tables[name] = (table.header, rows)
    return tables


def _typed(cell: Cell, numeric: bool) -> Cell:
    if isinstance(cell, str) and type(cell) is not str:
        cell = str(cell)  # Noted text: plain text from here on
    if not numeric or not isinstance(cell, str) or not cell.strip():
        return None if cell == "" else cell
    try:
        number = float(cell)
    except ValueError:
        return cell
    return int(number) if number.is_integer() and "." not in cell else number

