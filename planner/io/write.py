"""Write report tables (JSON, CSV folder; the report workbook is
``planner.reports.workbook``) and datasets (CSV folder, workbook of plain cells).

Files are written atomically (a temporary file renamed into place), never over
an input file, and text cells that would start a formula in a spreadsheet
(``=``, ``+``, ``-``, ``@``) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """The output cannot be written where asked."""


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def columns_of(rows: list[dict]) -> list[str]:
    """Union of the rows' keys, in first-seen order."""
    return list(dict.fromkeys(key for row in rows for key in row))


def check_target(path: Path, inputs: Path, folder: bool, flag: str = "--output") -> None:
    """Refuse, before any work, a target inside the inputs or one that cannot be written.

    ``folder``: the output is a folder of files (CSV) rather than one file; ``flag``
    names the option in messages.
    """
    target, source = path.resolve(), inputs.resolve()
    if target == source or source in target.parents or (
            source.is_dir() and target.parent == source):
        raise OutputError(f"{flag} {path} would write into the input dataset {inputs}; "
                          "choose a path outside it")
    if folder and target.exists() and not target.is_dir():
        raise OutputError(f"{flag} {path} exists and is not a folder (CSV output is a "
                          "folder of files)")
    if not folder and target.is_dir():
        raise OutputError(f"{flag} {path} is a folder; give a file name")
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise OutputError(f"{flag} {path}: {parent} is a file, not a folder")


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    _atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(obj: dict) -> str:
    """Serialise the JSON report (NaN/inf are not valid JSON: they become null)."""
    return json.dumps(_finite(obj), indent=2, ensure_ascii=False)


def _finite(obj):
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def write_csv_folder(folder: Path, tables: dict[str, list[dict]]) -> None:
    """One CSV file per table in ``folder`` (created if needed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc}") from None
    for name, rows in tables.items():
        if rows:  # an empty table has no columns to write
            write_text(folder / f"{name}.csv", csv_text(rows))


def csv_text(rows: list[dict]) -> str:
    """One table as CSV text, formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = columns_of(rows)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in header])
    return buffer.getvalue()


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    return safe_cell(value)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",  # noqa: SIM115 - closed below, then renamed
                                         delete=False)
    try:
        with handle:
            write(handle)
        os.chmod(handle.name, 0o666 & ~_umask())  # temp files are created 0600
        os.replace(handle.name, path)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc}") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise



def write_dataset_workbook(path: Path, tables: Iterable[tuple[str, list[str], Iterable[list]]]
                           ) -> None:
    """Input tables — (name, header, rows) — as one workbook, cells kept literally (text
    stays text, even ``=…``), streamed a row at a time, atomically."""
    from planner.io.plain_workbook import CellError, write_plain_workbook

    try:
        _atomic(path, lambda handle: write_plain_workbook(handle, tables))
    except CellError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None


def write_dataset_folder(folder: Path, tables: dict[str, tuple[list[str], list[list]]]) -> None:
    """Input tables as a folder of CSV files, cells written as they are."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc}") from None
    for name, (header, rows) in tables.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        write_text(folder / f"{name}.csv", buffer.getvalue())
