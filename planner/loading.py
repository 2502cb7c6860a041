"""Read a dataset's raw tables from a folder of CSV files or one .xlsx workbook.

Cells are kept as read (text from CSV; text, numbers or booleans from Excel);
``validation`` parses and checks them. Row numbers are those a spreadsheet
shows: the header is row 1, the first data row is row 2. Blank rows are skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem
from .schema import TABLES, Kind

Cell = str | int | float | bool | None


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
                                              f"workbook ({what})")])


def _read_folder(folder: Path) -> RawDataset:
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for spec in TABLES:
        path = folder / f"{spec.name}.csv"
        if not path.is_file():
            continue
        try:
            tables[spec.name] = _read_csv(path, spec.name)
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.append(Problem(path.name, f"a UTF-8 CSV file ({exc})"))
    return RawDataset(str(folder), tables, problems)


def _read_csv(path: Path, name: str) -> RawTable:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        table = RawTable(name, path.name, header)
        for row, record in enumerate(reader, start=2):  # records, as a spreadsheet shows them
            if not any(cell.strip() for cell in record):
                continue
            table.rows.append((row, record + [""] * (len(header) - len(record))))
    return table


def _read_workbook(path: Path) -> RawDataset:
    from openpyxl import load_workbook  # imported here: only workbook users pay for it

    problems: list[Problem] = []
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is an input problem
        return RawDataset(str(path), {}, [Problem(path.name, f"a readable .xlsx workbook ({exc})")])
    tables: dict[str, RawTable] = {}
    wanted = {spec.name for spec in TABLES}
    try:
        for sheet in book.worksheets:
            if sheet.title not in wanted:
                continue
            rows = sheet.iter_rows(values_only=True)
            header = ["" if h is None else str(h).strip() for h in next(rows, ())]
            while header and header[-1] == "":
                header.pop()
            table = RawTable(sheet.title, f"{path.name} sheet {sheet.title}", header)
            for number, values in enumerate(rows, start=2):
                cells = [_cell(v) for v in values[: len(header)]]
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                cells += [None] * (len(header) - len(cells))
                table.rows.append((number, cells))
            tables[sheet.title] = table
    finally:
        book.close()
    return RawDataset(str(path), tables, problems)


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # dates and other objects: validation reports them as text


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
    if not numeric or not isinstance(cell, str) or not cell.strip():
        return None if cell == "" else cell
    try:
        number = float(cell)
    except ValueError:
        return cell
    return int(number) if number.is_integer() and "." not in cell else number
