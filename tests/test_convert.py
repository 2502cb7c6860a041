"""``planner convert``: a CSV folder as one workbook and back, every cell kept as it is
(text stays text, numbers exact), what no spreadsheet can hold refused with a message."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner.cli import main
from planner.io import plain_workbook
from planner.io.plain_workbook import CellError, write_plain_workbook
from planner.io.read import dataset_cells, read_dataset
from planner.io.write import OutputError, write_dataset_workbook

TINY = Path(__file__).parent / "data" / "tiny-chain"
AWKWARD = {
    "ox_cn": '=HYPERLINK("http://evil.example","click")',   # text, never a formula
    "ox_au": "  Oxide <Australia> & Co  ",                   # XML characters, spaces kept
    "mg_jp": "Magnets _x0041_ Japan",                        # reads as Excel's escape
    "mg_cn": "磁石 China — “quoted”",
}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def awkward_dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    path = folder / "offers.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("supplier")] = AWKWARD[row[0]]
    # 17 significant digits: a number written with 16 would come back another double
    rows[1][header.index("price_usd_per_t")] = "50.000000000000014"
    rows[2][header.index("freight_usd_per_t")] = "1e-7"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def test_folder_to_workbook_and_back_keeps_every_cell(tmp_path):
    folder = awkward_dataset(tmp_path)
    book = tmp_path / "book.xlsx"
    result = run("convert", "--inputs", folder, "--output", book)
    assert result.exit_code == 0, result.output
    assert dataset_cells(read_dataset(book)) == dataset_cells(read_dataset(folder))
    offers = dataset_cells(read_dataset(book))["offers"]
    header, rows = offers
    assert rows[0][header.index("price_usd_per_t")] == 50.000000000000014
    assert {r[0]: r[header.index("supplier")] for r in rows} == AWKWARD
    back = tmp_path / "back"
    assert run("convert", "--inputs", book, "--output", back).exit_code == 0
    assert dataset_cells(read_dataset(back)) == dataset_cells(read_dataset(folder))


def test_a_second_reader_sees_the_same_cells(tmp_path):
    """openpyxl, not the planner's reader: text is text (no formula), numbers are
    numbers, the sheets are the tables."""
    folder = awkward_dataset(tmp_path)
    book = tmp_path / "book.xlsx"
    assert run("convert", "--inputs", folder, "--output", book).exit_code == 0
    workbook = load_workbook(book)
    assert workbook.sheetnames == list(read_dataset(folder).tables)
    rows = list(workbook["offers"].iter_rows())
    header = [c.value for c in rows[0]]
    cells = {r[0].value: r for r in rows[1:]}
    supplier = header.index("supplier")
    for offer, text in AWKWARD.items():
        if offer != "mg_jp":   # openpyxl does not read Excel's _x005F_ escape; Excel does
            assert cells[offer][supplier].value == text
        assert cells[offer][supplier].data_type == "s"
    assert cells["ox_cn"][header.index("price_usd_per_t")].value == 50.000000000000014
    assert cells["ox_au"][header.index("freight_usd_per_t")].value == pytest.approx(1e-7)
    assert cells["mg_jp"][header.index("min_t")].value == 0


def test_the_package_lists_its_parts_first(tmp_path):
    book = tmp_path / "book.xlsx"
    assert run("convert", "--inputs", TINY, "--output", book).exit_code == 0
    names = zipfile.ZipFile(book).namelist()
    assert names[0] == "[Content_Types].xml"
    assert len([n for n in names if n.startswith("xl/worksheets/")]) == len(
        read_dataset(TINY).tables)


def test_a_cell_too_long_for_a_spreadsheet_is_refused(tmp_path):
    """Validation holds input text far shorter; the writer refuses what a cell cannot
    hold all the same, and leaves no file behind."""
    book = tmp_path / "book.xlsx"
    with pytest.raises(OutputError, match="32,767"):
        write_dataset_workbook(book, [("t", ["a"], [["x" * 40_000]])])
    assert list(tmp_path.iterdir()) == []


def test_control_characters_use_excels_escape():
    handle = io.BytesIO()
    write_plain_workbook(handle, [("t", ["a"], [["bell\x07"], ["tab\tin"]])])
    xml = zipfile.ZipFile(handle).read("xl/worksheets/sheet1.xml").decode()
    assert "bell_x0007_" in xml
    assert "tab\tin" in xml   # a tab is XML text


def test_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(plain_workbook, "MAX_ROWS", 3)
    with pytest.raises(CellError, match="rows"):
        write_plain_workbook(io.BytesIO(), [("t", ["a"], ([n] for n in range(5)))])
    write_plain_workbook(io.BytesIO(), [("t", ["a"], ([n] for n in range(2)))])


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"),
                                                (701, "ZZ"), (702, "AAA")])
def test_column_letters(index, letters):
    assert plain_workbook.column_letter(index) == letters
