"""A workbook of plain cells, streamed: one sheet per table, a row at a time.

What ``planner convert`` writes from a CSV folder: every cell as it is (text stays
text, even ``=…``, never a formula; numbers as numbers, exactly; booleans), no
styles, no shared-string table (text is stored in the cell, as xlsxwriter's
constant-memory mode does), so memory does not grow with the table and the time is
that of formatting the XML. The report workbook, which wants formats and charts,
is written with xlsxwriter (``planner.reports.workbook``).

Written to the open binary ``handle`` as a zip archive of the SpreadsheetML parts
(ECMA-376): content types, relationships, ``xl/workbook.xml``, a minimal
``xl/styles.xml`` and ``xl/worksheets/sheetN.xml``. Text that XML cannot hold
(control characters) is written with Excel's ``_xHHHH_`` escape, and text that
would read as such an escape has its underscore escaped, as Excel does.
"""

from __future__ import annotations

import math
import re
import time
import zipfile
from collections.abc import Iterable
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767        # characters of one cell's text
ROWS_PER_WRITE = 2_000

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (HEAD + f'<styleSheet xmlns="{MAIN}">'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
          '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
          '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
          'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
          'fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
          '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')

# Characters XML 1.0 cannot hold, and text that Excel would read as an escape.
_AWKWARD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_SPACE = frozenset(" \t\n\r")


class CellError(ValueError):
    """A cell or table a workbook cannot hold (too long, too many rows or columns)."""


Table = tuple[str, list[str], Iterable[list]]


def write_plain_workbook(handle: BinaryIO, tables: Iterable[Table]) -> None:
    """Write ``tables`` — (sheet name, header, rows) — as one workbook to ``handle``;
    each table's rows are consumed once, in order. Raises ``CellError`` for what no
    spreadsheet can hold."""
    tables = list(tables)   # the names first (the package lists them); rows stay lazy
    names = [name for name, _, _ in tables]
    now = time.localtime()[:6]

    def part(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=now)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(part("[Content_Types].xml"), _content_types(len(names)))
        book.writestr(part("_rels/.rels"), _relationships(
            [("officeDocument", "xl/workbook.xml")], PACKAGE_RELATIONSHIPS))
        book.writestr(part("xl/workbook.xml"), _workbook(names))
        book.writestr(part("xl/_rels/workbook.xml.rels"), _relationships(
            [("worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(names) + 1)]
            + [("styles", "styles.xml")], PACKAGE_RELATIONSHIPS))
        book.writestr(part("xl/styles.xml"), STYLES)
        for number, (name, header, rows) in enumerate(tables, start=1):
            with book.open(part(f"xl/worksheets/sheet{number}.xml"), "w",
                           force_zip64=True) as sheet:
                _write_sheet(sheet, name, header, rows)


def _write_sheet(part, name: str, header: list[str], rows: Iterable[list]) -> None:
    if len(header) > MAX_COLUMNS:
        raise CellError(f"table {name} has {len(header):,} columns; a worksheet holds at "
                        f"most {MAX_COLUMNS:,}")
    letters = [column_letter(i) for i in range(len(header))]
    part.write((HEAD + f'<worksheet xmlns="{MAIN}"><sheetData>').encode())
    lines = [_row(1, header, letters, name)]
    number = 1
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS:
            raise CellError(f"table {name} has more than {MAX_ROWS - 1:,} rows; a worksheet "
                            f"holds at most {MAX_ROWS:,} rows with the header")
        lines.append(_row(number, cells, letters, name))
        if len(lines) >= ROWS_PER_WRITE:
            part.write("".join(lines).encode("utf-8"))
            lines.clear()
    lines.append("</sheetData></worksheet>")
    part.write("".join(lines).encode("utf-8"))


def _row(number: int, cells: list, letters: list[str], table: str) -> str:
    out = []
    for letter, value in zip(letters, cells, strict=False):
        kind, at = type(value), f"{letter}{number}"
        if kind is str:
            out.append(f'<c r="{at}" t="inlineStr">{_text(value, table, at)}</c>')
        elif kind is int or (kind is float and math.isfinite(value)):
            out.append(f'<c r="{at}"><v>{value!r}</v></c>')
        elif value is not None:
            out.append(_odd_cell(value, table, at))
    return f'<row r="{number}">{"".join(out)}</row>'


def _odd_cell(value: object, table: str, at: str) -> str:
    """A boolean, a subclass of a number or text (numpy's), or a number that is not
    finite (as its text)."""
    if isinstance(value, bool | np.bool_):
        return f'<c r="{at}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{at}"><v>{int(value)}</v></c>'
    if isinstance(value, float) and math.isfinite(value):
        return f'<c r="{at}"><v>{float(value)!r}</v></c>'
    return f'<c r="{at}" t="inlineStr">{_text(str(value), table, at)}</c>'


def _text(value: str, table: str, at: str) -> str:
    """An inline string: escaped for XML, spaces at either end kept."""
    if len(value) > MAX_TEXT:
        raise CellError(f"table {table}, cell {at}: {len(value):,} characters; a "
                        f"workbook cell holds at most {MAX_TEXT:,}")
    if _AWKWARD.search(value):
        value = _AWKWARD.sub(_excel_escape, value)
    if value and (value[0] in _SPACE or value[-1] in _SPACE):
        return f'<is><t xml:space="preserve">{escape(value)}</t></is>'
    return f"<is><t>{escape(value)}</t></is>"


def _excel_escape(found: re.Match) -> str:
    text = found.group()
    return "_x005F" + text if len(text) > 1 else f"_x{ord(text):04X}_"


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _content_types(sheets: int) -> str:
    overrides = [("/xl/workbook.xml", f"{CONTENT}.sheet.main+xml"),
                 ("/xl/styles.xml", f"{CONTENT}.styles+xml")]
    overrides += [(f"/xl/worksheets/sheet{n}.xml", f"{CONTENT}.worksheet+xml")
                  for n in range(1, sheets + 1)]
    return (HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>")


def _relationships(targets: list[tuple[str, str]], namespace: str) -> str:
    return (HEAD + f'<Relationships xmlns="{namespace}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{RELATIONSHIPS}/{kind}" '
                      f'Target="{target}"/>' for n, (kind, target) in enumerate(targets, 1))
            + "</Relationships>")


def _workbook(names: list[str]) -> str:
    sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                     for n, name in enumerate(names, 1))
    return (HEAD + f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
            f"<sheets>{sheets}</sheets></workbook>")
