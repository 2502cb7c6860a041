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
import math
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
    """Serialise the JSON report: the text ``json.dumps(obj, indent=2, ensure_ascii=False)``
    gives, except that NaN and ±inf (not valid JSON) become null.

    Written here in one pass: ``json`` indents in pure Python, through a generator per
    container, and replacing the non-finite numbers took a second walk of the object;
    this is about three times faster on a report (``bench/report_benchmark.py``)."""
    return _json(obj, "\n")


_ESCAPE = json.encoder.encode_basestring   # json's own string escape (C where available)


def _number(x: float) -> str:
    return float.__repr__(x) if math.isfinite(x) else "null"


_SCALARS = {str: _ESCAPE, float: _number, int: int.__repr__,
            bool: {True: "true", False: "false"}.__getitem__, type(None): lambda _: "null"}


def _json(value: object, indent: str) -> str:
    """``value`` as JSON text, its items on lines of their own at ``indent`` (a newline
    and two spaces per level) plus two spaces."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{_key(key)}: {_json(item, inner)}" for key, item in value.items()]
        return "{" + ",".join(items) + indent + "}" if items else "{}"
    if isinstance(value, list | tuple):
        items = [inner + _json(item, inner) for item in value]
        return "[" + ",".join(items) + indent + "]" if items else "[]"
    if isinstance(value, str):    # subclasses (a str enum, numpy's float64), as json does
        return _ESCAPE(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _number(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: object) -> str:
    """An object key as json writes it: a string, or a number, bool or None as its text."""
    if isinstance(key, str):
        return _ESCAPE(key)
    if key is None or isinstance(key, int | float):
        return _ESCAPE(json.dumps(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


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
