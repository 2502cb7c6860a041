"""Workbooks read by python-calamine: what it shows as blank (formulas without a saved
result, error values) is found in the sheet's XML, rows keep their spreadsheet
numbers, and an empty row Excel writes for its height alone is no defect."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

import planner.io.read as reading
from planner.cli import main
from planner.io.read import _declares_dtd, read_dataset

TINY = Path(__file__).parent / "data" / "tiny-chain"


def typed(text: str) -> object:
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def tiny_book(path: Path, rows_of: dict | None = None, edit=None) -> Path:
    """tiny-chain as a workbook; ``rows_of[table]`` maps spreadsheet row -> cells."""
    book = Workbook()
    book.remove(book.active)
    for csv_path in sorted(TINY.glob("*.csv")):
        with csv_path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        sheet = book.create_sheet(csv_path.stem)
        placed = (rows_of or {}).get(csv_path.stem) or dict(enumerate(rows, start=1))
        for number, cells in placed.items():
            for column, text in enumerate(cells, start=1):
                sheet.cell(number, column, typed(text) if number > 1 else text)
        if edit:
            edit(csv_path.stem, sheet)
    book.save(path)
    return path


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def sheet_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return reading._sheet_part(archive, [s for s in _titles(path)].index(name))


def _titles(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).sheet_names


def run_check(path: Path):
    return CliRunner().invoke(main, ["check", "--inputs", str(path)])


def offers_with_gap() -> dict[int, list[str]]:
    """Offers on rows 1-2, nothing on row 3, the rest from row 4 (ox_au on row 4)."""
    with (TINY / "offers.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    return {1: rows[0], 2: rows[1], **{n: r for n, r in enumerate(rows[2:], start=4)}}


def test_an_empty_row_with_only_a_height_loads(tmp_path):
    """Excel writes <row r="3" ht="30" customHeight="1"/> for a row whose height was
    changed: no cells. It used to be refused ("'int' object is not iterable")."""
    def taller(name, sheet):
        if name == "offers":
            sheet.row_dimensions[3].height = 30

    path = tiny_book(tmp_path / "book.xlsx", {"offers": offers_with_gap()}, taller)
    part = sheet_part(path, "offers")
    parts = parts_of(path)
    openpyxl_row = b'<row r="3" ht="30" customHeight="1"></row>'
    assert openpyxl_row in parts[part]
    parts[part] = parts[part].replace(openpyxl_row, b'<row r="3" ht="30" customHeight="1"/>')
    rewrite(path, parts)  # as Excel writes it
    result = run_check(path)
    assert result.exit_code == 0, result.output
    assert "4 offers" in result.output
    table = read_dataset(path).tables["offers"]
    assert table.numbers.tolist() == [2, 4, 5, 6]


def test_rows_after_an_empty_row_keep_their_numbers(tmp_path):
    rows = offers_with_gap()
    rows[5] = [*rows[5][:4], "fifty", *rows[5][5:]]  # mg_jp's price, sheet row 5
    path = tiny_book(tmp_path / "book.xlsx", {"offers": rows})
    result = run_check(path)
    assert result.exit_code == 2
    assert ("error: book.xlsx sheet offers, row 5, column price_usd_per_t: value 'fifty': "
            "a number ≥ 0") in result.output


def formula_book(tmp_path: Path) -> Path:
    def formulas(name, sheet):
        if name == "offers":
            sheet["E3"] = "=E2*2"        # no saved result: openpyxl computes nothing
            sheet["G4"] = "=G2+1"

    path = tiny_book(tmp_path / "book.xlsx", edit=formulas)
    part = sheet_part(path, "offers")
    parts = parts_of(path)
    parts[part] = parts[part].replace(b'<c r="H5" t="n"><v>0</v></c>',
                                      b'<c r="H5" t="e"><v>#DIV/0!</v></c>')
    rewrite(path, parts)
    return path


EXPECTED = [
    "error: book.xlsx sheet offers, row 3, column price_usd_per_t: value '=E2*2': a number "
    "≥ 0, not a formula without a saved result",
    "error: book.xlsx sheet offers, row 4, column min_t: value '=G2+1': a number ≥ 0, not a "
    "formula without a saved result",
    "error: book.xlsx sheet offers, row 5, column freight_usd_per_t: value '#DIV/0!': a number "
    "≥ 0 (the cell is an Excel error value",
]


def assert_reported(output: str) -> None:
    lines = output.splitlines()
    for expected in EXPECTED:
        assert any(line.startswith(expected) for line in lines), (expected, output)


@pytest.mark.parametrize("chunk", [reading.XML_CHUNK, 97, 400])
def test_formulas_and_errors_are_found_in_the_sheet_xml(tmp_path, monkeypatch, chunk):
    """Calamine reads these cells as blank; the sheet's XML is scanned (in pieces of
    ``chunk`` bytes, cut between rows) for them."""
    monkeypatch.setattr(reading, "XML_CHUNK", chunk)
    result = run_check(formula_book(tmp_path))
    assert result.exit_code == 2
    assert_reported(result.output)


def test_cells_without_references_are_placed_by_counting(tmp_path):
    """A writer may leave out r="E3": the sheet is then parsed (defusedxml) and cells
    are placed by position, as calamine places their values."""
    path = formula_book(tmp_path)
    part = sheet_part(path, "offers")
    parts = parts_of(path)
    xml = parts[part].decode()
    xml = re.sub(r'(<c) r="[A-Z]+\d+"', r"\1", xml)
    parts[part] = re.sub(r'(<row) r="\d+"', r"\1", xml).encode()
    rewrite(path, parts)
    marks = reading._sheet_marks(path, _titles(path).index("offers"))
    assert marks[(3, 5)] == "=E2*2"
    assert type(marks[(3, 5)]) is reading.Formula


class Trickle(io.RawIOBase):
    """A part read a few bytes at a time, so the prologue arrives in pieces."""

    def __init__(self, data: bytes, step: int = 3):
        self.data, self.step = data, step

    def read(self, size: int = -1) -> bytes:
        piece, self.data = self.data[:self.step], self.data[self.step:]
        return piece


PROLOGUES = {
    b'<?xml version="1.0"?><worksheet/>': False,
    b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a <!DOCTYPE in a comment --><worksheet/>': False,
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>': True,
    b'<?xml version="1.0"?>\n<!-- note --><?pi x?>\n  <!DOCTYPE x SYSTEM "y"><worksheet/>': True,
    b"<worksheet><!DOCTYPE x></worksheet>": False,  # not a prologue: the XML is broken
}


@pytest.mark.parametrize("step", [1, 7, 1 << 16])
@pytest.mark.parametrize(("data", "declares"), list(PROLOGUES.items()))
def test_a_dtd_is_found_in_the_prologue_however_it_arrives(data, declares, step):
    assert _declares_dtd(Trickle(data, step)) is declares

