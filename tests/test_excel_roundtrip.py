"""A dataset as one .xlsx workbook (SPEC §2) gives the same plan as the CSV folder, and
a defect in the workbook is reported with its sheet and spreadsheet row."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from planner.cli import default_inputs, main

TINY = Path(__file__).parent / "data" / "tiny-chain"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def solve_json(inputs: Path) -> dict:
    result = run("solve", "--inputs", inputs, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def typed(text: str) -> object:
    """A cell as a planner would type it into Excel: numbers, booleans, blanks."""
    if text == "":
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def csv_tables(folder: Path) -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            tables[path.stem] = list(csv.reader(handle))
    return tables


def write_book(path: Path, tables: dict[str, list[list[str]]], as_text: bool = False) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in tables.items():
        sheet = book.create_sheet(title=name)
        sheet.append(rows[0])
        for row in rows[1:]:
            sheet.append([(cell or None) if as_text else typed(cell) for cell in row])
    book.save(path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def comparable(report: dict) -> dict[str, float]:
    """Objective, purchases and duals as flat numbers; not the origins (they name the file
    or sheet). Unbounded range ends (null) become inf."""
    sp = report["shadow_prices"]
    flat = {"objective_usd": report["objective_usd"]}
    for r in report["purchases"]:
        flat[f"purchases.{r['offer']}.tonnes"] = r["tonnes"]
        flat[f"purchases.{r['offer']}.landed"] = r["landed_usd_per_t"]
    for r in report["production"]:
        flat[f"production.{r['process']}"] = r["tonnes"]
    for r in sp["demand"]:
        flat[f"demand.{r['stage']}"] = r["usd_per_t"]
    for r in sp["capacity"]:
        flat[f"capacity.{r['offer']}"] = r["usd_per_t"]
    for r in sp["limits"]:
        for field in ("usd_per_pp", "valid_from", "valid_to"):
            value = r[field]
            flat[f"limits.{r['group']}:{r['stage']}:{r['bound']}.{field}"] = (
                float("inf") if value is None else value)
    return flat


def assert_same_plan(got: dict, want: dict) -> None:
    assert got["status"] == want["status"] == "optimal"
    assert comparable(got) == pytest.approx(comparable(want), abs=1e-6)


@pytest.mark.parametrize("as_text", [False, True], ids=["typed-cells", "text-cells"])
def test_workbook_matches_csv_folder(tmp_path, as_text):
    book = write_book(tmp_path / "book.xlsx", csv_tables(TINY), as_text)
    from_csv = solve_json(TINY)
    from_book = solve_json(book)
    assert from_csv["objective_usd"] == pytest.approx(4100.0)
    assert_same_plan(from_book, from_csv)


def test_workbook_with_capacities_matches_csv(tmp_path):
    # binding capacity (ox_cn 6 t): the capacity dual must survive the round trip too
    tables = csv_tables(TINY)
    offers = tables["offers"]
    offers[1][offers[0].index("capacity_t")] = "6"
    folder = tmp_path / "csv"
    folder.mkdir()
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    book = write_book(tmp_path / "book.xlsx", tables)
    from_csv, from_book = solve_json(folder), solve_json(book)
    assert from_csv["objective_usd"] == pytest.approx(4200.0)
    assert_same_plan(from_book, from_csv)


def test_workbook_defect_names_sheet_and_row(tmp_path):
    tables = csv_tables(TINY)
    offers = tables["offers"]
    offers[2][offers[0].index("price_usd_per_t")] = "fifty"     # ox_au, spreadsheet row 3
    offers[4][offers[0].index("country")] = "cn"                # mg_cn, row 5
    book = write_book(tmp_path / "book.xlsx", tables)
    before = digest(book)
    for command in ("check", "solve"):
        result = run(command, "--inputs", book)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.output.splitlines()
        assert any("sheet" in line and "offers" in line and "row 3" in line
                   and "price_usd_per_t" in line and "'fifty'" in line
                   and "a number" in line for line in lines), result.output
        assert any("sheet" in line and "offers" in line and "row 5" in line
                   and "country" in line and "'cn'" in line for line in lines), result.output
    assert digest(book) == before


def test_workbook_row_numbers_count_blank_rows(tmp_path):
    # header (1), ox_cn (2), blank (3), ox_au (4) with a negative price typed as a number
    book_path = tmp_path / "book.xlsx"
    tables = csv_tables(TINY)
    write_book(book_path, tables)
    from openpyxl import load_workbook
    book = load_workbook(book_path)
    sheet = book["offers"]
    sheet.insert_rows(3)
    sheet.cell(row=4, column=tables["offers"][0].index("price_usd_per_t") + 1, value=-100)
    book.save(book_path)
    result = run("check", "--inputs", book_path)
    assert result.exit_code == 2, result.output
    assert any("sheet" in line and "offers" in line and "row 4" in line
               and "price_usd_per_t" in line and "'-100'" in line
               for line in result.output.splitlines()), result.output


def test_workbook_missing_sheet_is_named_as_a_sheet(tmp_path):
    tables = csv_tables(TINY)
    del tables["stages"]
    book = write_book(tmp_path / "book.xlsx", tables)
    result = run("check", "--inputs", book)
    assert result.exit_code == 2, result.output
    missing = [line for line in result.output.splitlines() if "missing" in line]
    assert missing, result.output
    assert all("sheet" in line and ".csv" not in line for line in missing), result.output


def test_output_over_the_workbook_is_refused(tmp_path):
    book = write_book(tmp_path / "book.xlsx", csv_tables(TINY))
    before = digest(book)
    result = run("solve", "--inputs", book, "--format", "xlsx", "--output", book)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert digest(book) == before


def test_shipped_default_workbook_matches_csvs():
    inputs = default_inputs()
    books = sorted(inputs.glob("*.xlsx"))
    if not books or not list(inputs.glob("*.csv")):
        pytest.skip(f"{inputs} does not ship both CSV files and an .xlsx workbook yet; "
                    "nothing to compare")
    from_csv = solve_json(inputs)
    for book in books:
        assert_same_plan(solve_json(book), from_csv)
