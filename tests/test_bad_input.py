"""Bad input (SPEC §6): every problem reported with where it is and what was expected.

Each case is a copy of tests/data/tiny-chain with ONE defect, made in tmp_path by a
small mutation. `planner check` and `planner solve` must both exit 2 without a
traceback, name the table (file), the spreadsheet row (header = row 1), the column,
the value and what was expected, and leave every input file byte-identical.

tiny-chain rows (spreadsheet numbering):
  offers.csv   2 ox_cn  3 ox_au  4 mg_jp  5 mg_cn
  stages.csv   2 oxide  3 magnet
  limits.csv   2 CN,oxide,,0.4
  settings.csv 2 buyer  3 zone  4 name
  processes.csv 2 kr_magnets (oxide -> magnet)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_rows, write_rows

from planner.cli import main

TINY = Path(__file__).parent / "data" / "tiny-chain"


# -- helpers -------------------------------------------------------------------------------

def set_cell(table: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Mutation: set one cell, addressed by spreadsheet row (header = 1) and column name."""
    def mutate(folder: Path) -> None:
        rows = read_rows(folder, table)
        rows[row - 1][rows[0].index(column)] = value
        write_rows(folder, table, rows)
    return mutate


def add_row(table: str, **values: str) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        rows = read_rows(folder, table)
        rows.append([values.get(c, "") for c in rows[0]])
        write_rows(folder, table, rows)
    return mutate


def new_table(table: str, *rows: list[str]) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        write_rows(folder, table, [list(r) for r in rows])
    return mutate


def drop_column(table: str, column: str) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        rows = read_rows(folder, table)
        i = rows[0].index(column)
        write_rows(folder, table, [r[:i] + r[i + 1:] for r in rows])
    return mutate


def remove_table(table: str) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        (folder / f"{table}.csv").unlink()
    return mutate


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        for m in mutations:
            m(folder)
    return mutate


def copy_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


@dataclass(frozen=True)
class Where:
    """What one problem message must name."""

    table: str                 # file (or sheet / flag) name
    row: int | None            # spreadsheet row, header = 1
    column: str | None
    value: str | None          # the offending value as typed
    expected: str              # a fragment of what was expected

    def matches(self, line: str) -> bool:
        return (self.table in line
                and (self.row is None or f"row {self.row}" in line)
                and (self.column is None or self.column in line)
                and (self.value is None or f"'{self.value}" in line)
                and self.expected in line)


def assert_reported(output: str, where: Where) -> None:
    lines = [line for line in output.splitlines() if "error" in line.lower()]
    assert any(where.matches(line) for line in lines), (
        f"no error line names {where}; got:\n{output}")


def assert_bad_input(result) -> None:
    assert result.exit_code == 2, f"exit {result.exit_code}, expected 2:\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in result.output


# -- one defect each -----------------------------------------------------------------------

CASES: dict[str, tuple[Callable[[Path], None], Where]] = {
    "missing table stages": (remove_table("stages"),
                             Where("stages", None, None, None, "missing")),
    "missing table offers": (remove_table("offers"),
                             Where("offers", None, None, None, "missing")),
    "empty offers file": (new_table("offers"),
                          Where("offers.csv", 1, "price_usd_per_t", None, "price_usd_per_t")),
    "missing column": (drop_column("offers", "price_usd_per_t"),
                       Where("offers.csv", 1, "price_usd_per_t", None, "price_usd_per_t")),
    "missing column stages.demand_t": (drop_column("stages", "demand_t"),
                                       Where("stages.csv", 1, "demand_t", None, "demand_t")),
    "text in a number": (set_cell("offers", 3, "price_usd_per_t", "fifty"),
                         Where("offers.csv", 3, "price_usd_per_t", "fifty", "a number")),
    "text in an int": (set_cell("stages", 2, "order", "first"),
                       Where("stages.csv", 2, "order", "first", "whole number")),
    "fraction in an int": (set_cell("stages", 3, "order", "1.5"),
                           Where("stages.csv", 3, "order", "1.5", "whole number")),
    "NaN": (set_cell("offers", 4, "price_usd_per_t", "NaN"),
            Where("offers.csv", 4, "price_usd_per_t", "NaN", "NaN")),
    "nan in demand": (set_cell("stages", 3, "demand_t", "nan"),
                      Where("stages.csv", 3, "demand_t", "nan", "a number")),
    "infinite price": (set_cell("offers", 2, "price_usd_per_t", "inf"),
                       Where("offers.csv", 2, "price_usd_per_t", "inf", "a number")),
    "negative price": (set_cell("offers", 2, "price_usd_per_t", "-50"),
                       Where("offers.csv", 2, "price_usd_per_t", "-50", "≥ 0")),
    "negative demand": (set_cell("stages", 3, "demand_t", "-10"),
                        Where("stages.csv", 3, "demand_t", "-10", "≥ 0")),
    "negative freight": (set_cell("offers", 5, "freight_usd_per_t", "-1"),
                         Where("offers.csv", 5, "freight_usd_per_t", "-1", "≥ 0")),
    "negative capacity": (set_cell("offers", 3, "capacity_t", "-1"),
                          Where("offers.csv", 3, "capacity_t", "-1", "≥ 0")),
    "zero yield": (set_cell("processes", 2, "yield", "0"),
                   Where("processes.csv", 2, "yield", "0", "> 0")),
    "share above 1": (set_cell("limits", 2, "max_share", "1.5"),
                      Where("limits.csv", 2, "max_share", "1.5", "[0, 1]")),
    "negative share": (set_cell("limits", 2, "min_share", "-0.1"),
                       Where("limits.csv", 2, "min_share", "-0.1", "[0, 1]")),
    "duplicate offer id": (set_cell("offers", 3, "offer", "ox_cn"),
                           Where("offers.csv", 3, "offer", "ox_cn", "unique")),
    "duplicate stage id": (set_cell("stages", 3, "stage", "oxide"),
                           Where("stages.csv", 3, "stage", "oxide", "unique")),
    "duplicate country": (set_cell("countries", 3, "country", "CN"),
                          Where("countries.csv", 3, "country", "CN", "unique")),
    "unknown stage in offers": (set_cell("offers", 4, "stage", "magnets"),
                                Where("offers.csv", 4, "stage", "magnets", "a stage")),
    "unknown stage in processes": (set_cell("processes", 2, "from_stage", "oxides"),
                                   Where("processes.csv", 2, "from_stage", "oxides",
                                         "a stage")),
    "unknown stage in limits": (set_cell("limits", 2, "stage", "oxyde"),
                                Where("limits.csv", 2, "stage", "oxyde", "a stage")),
    "unknown stage in benchmarks": (set_cell("benchmarks", 3, "stage", "magnets"),
                                    Where("benchmarks.csv", 3, "stage", "magnets", "a stage")),
    "unknown group in limits": (set_cell("limits", 2, "group", "allies"),
                                Where("limits.csv", 2, "group", "allies", "a group")),
    "unknown tag in limits": (set_cell("limits", 2, "group", "FEOC"),
                              Where("limits.csv", 2, "group", "FEOC", "a group")),
    "lowercase country code": (set_cell("offers", 2, "country", "cn"),
                               Where("offers.csv", 2, "country", "cn", "two capital letters")),
    "three-letter country code": (set_cell("offers", 5, "country", "CHN"),
                                  Where("offers.csv", 5, "country", "CHN",
                                        "two capital letters")),
    "bad code in countries": (set_cell("countries", 3, "country", "Au"),
                              Where("countries.csv", 3, "country", "Au",
                                    "two capital letters")),
    "bad buyer code": (set_cell("settings", 2, "value", "KOR"),
                       Where("settings.csv", 2, "value", "KOR", "two capital letters")),
    "content not summing to 1": (
        new_table("content", ["offer", "origin", "share"], ["ox_au", "AU", "0.5"],
                  ["ox_au", "CN", "0.3"]),
        Where("content.csv", 2, "share", "0.5", "sum")),
    "content of unknown offer": (
        new_table("content", ["offer", "origin", "share"], ["ox_xx", "AU", "1"]),
        Where("content.csv", 2, "offer", "ox_xx", "offer")),
    "content origin not a code": (
        new_table("content", ["offer", "origin", "share"], ["ox_au", "aus", "1"]),
        Where("content.csv", 2, "origin", "aus", "two capital letters")),
    "min above capacity": (both(set_cell("offers", 3, "capacity_t", "10"),
                                set_cell("offers", 3, "min_t", "12")),
                           Where("offers.csv", 3, "min_t", "12", "capacity_t")),
    "process cycle": (add_row("processes", process="recycle", from_stage="magnet",
                              to_stage="oxide", **{"yield": "2"}, cost_usd_per_t="10"),
                      Where("processes.csv", 3, "to_stage", "oxide", "cycle")),
    "min_share above max_share": (set_cell("limits", 2, "min_share", "0.5"),
                                  Where("limits.csv", 2, "min_share", "0.5", "max_share")),
    "bad settings zone": (set_cell("settings", 3, "value", "member"),
                          Where("settings.csv", 3, "value", "member", "joined or observer")),
    "unknown scenario setting": (add_row("scenarios", scenario="x", setting="tariff_factor",
                                         target="CN:oxide", value="2"),
                                 Where("scenarios.csv", 10, "setting", "tariff_factor",
                                       "max_share")),
    "scenario target unknown stage": (add_row("scenarios", scenario="x",
                                              setting="capacity_factor", target="CN:oxyde",
                                              value="0.5"),
                                      Where("scenarios.csv", 10, "target", "CN:oxyde",
                                            "stage")),
    "scenario share above 1": (add_row("scenarios", scenario="x", setting="max_share",
                                       target="CN:oxide", value="40"),
                               Where("scenarios.csv", 10, "value", "40", "[0, 1]")),
    "duplicate column": (new_table("stages", ["stage", "order", "demand_t", "order"],
                                   ["oxide", "0", "20", "0"], ["magnet", "1", "10", "1"]),
                         Where("stages.csv", 1, "order", None, "once")),
}


@pytest.mark.parametrize("command", ["check", "solve"])
@pytest.mark.parametrize("case", list(CASES))
def test_one_defect(tmp_path, case, command):
    mutate, where = CASES[case]
    folder = copy_tiny(tmp_path)
    mutate(folder)
    before = snapshot(folder)
    result = run(command, "--inputs", folder)
    assert_bad_input(result)
    assert_reported(result.output, where)
    assert snapshot(folder) == before


def test_base_dataset_is_clean():
    """The defects above are the only problems: the unmutated copy checks clean."""
    result = run("check", "--inputs", TINY)
    assert result.exit_code == 0, result.output
    assert "error" not in result.output.lower()
    assert "warning" not in result.output.lower()


# -- defects in the command line -------------------------------------------------------------

FLAG_CASES: dict[str, tuple[list[str], Where | None, str]] = {
    # (extra solve arguments, problem message or None for a click usage error, text shown)
    "unknown scenario": (["--scenario", "nope"],
                         Where("scenarios", None, "scenario", "nope", "a scenario"), "nope"),
    "cap above 1": (["--cap", "CN:oxide=1.5"], None, "GROUP:STAGE=SHARE"),
    "cap not a number": (["--cap", "CN:oxide=abc"], None, "GROUP:STAGE=SHARE"),
    "cap without stage": (["--cap", "CN=0.3"], None, "GROUP:STAGE=SHARE"),
    "cap without share": (["--cap", "CN:oxide"], None, "GROUP:STAGE=SHARE"),
    "cap negative": (["--cap", "CN:oxide=-0.1"], None, "GROUP:STAGE=SHARE"),
    "cap nan": (["--cap", "CN:oxide=nan"], None, "GROUP:STAGE=SHARE"),
    "cap unknown stage": (["--cap", "CN:oxyde=0.3"],
                          Where("--cap", None, "STAGE", "oxyde", "a stage"), "oxyde"),
    "cap bad group": (["--cap", "cn:oxide=0.3"],
                      Where("--cap", None, "GROUP", "cn", "country code"), "cn"),
    "bad zone flag": (["--zone", "member"], None, "member"),
    "bad format": (["--format", "pdf"], None, "pdf"),
}


@pytest.mark.parametrize("case", list(FLAG_CASES))
def test_bad_flag(tmp_path, case):
    args, where, shown = FLAG_CASES[case]
    folder = copy_tiny(tmp_path)
    before = snapshot(folder)
    result = run("solve", "--inputs", folder, *args)
    assert_bad_input(result)
    assert shown in result.output
    if where is not None:
        assert_reported(result.output, where)
    assert snapshot(folder) == before


@pytest.mark.parametrize("command", ["check", "solve"])
@pytest.mark.parametrize("target", ["no-such-folder", "notes.txt"])
def test_inputs_not_a_dataset(tmp_path, command, target):
    (tmp_path / "notes.txt").write_text("not a dataset\n")
    result = run(command, "--inputs", tmp_path / target)
    assert_bad_input(result)
    assert target in result.output


def test_not_utf8(tmp_path):
    folder = copy_tiny(tmp_path)
    path = folder / "offers.csv"
    path.write_bytes(path.read_bytes().replace(b"Oxide China", "Société".encode("latin-1")))
    before = snapshot(folder)
    for command in ("check", "solve"):
        result = run(command, "--inputs", folder)
        assert_bad_input(result)
        assert "offers.csv" in result.output
        assert "UTF-8" in result.output
    assert snapshot(folder) == before


# -- every problem in one run --------------------------------------------------------------

SEVERAL = {
    "negative price": CASES["negative price"],
    "unknown stage in offers": CASES["unknown stage in offers"],
    "share above 1": CASES["share above 1"],
    "nan in demand": CASES["nan in demand"],
    "bad settings zone": CASES["bad settings zone"],
    "bad code in countries": CASES["bad code in countries"],
    "process cycle": CASES["process cycle"],
    "unknown scenario setting": CASES["unknown scenario setting"],
}


@pytest.mark.parametrize("command", ["check", "solve"])
def test_several_defects_all_reported(tmp_path, command):
    folder = copy_tiny(tmp_path)
    for mutate, _ in SEVERAL.values():
        mutate(folder)
    before = snapshot(folder)
    result = run(command, "--inputs", folder)
    assert_bad_input(result)
    for _, where in SEVERAL.values():
        assert_reported(result.output, where)
    assert snapshot(folder) == before


def test_several_defects_real_process_no_traceback(tmp_path):
    """The installed console script (not CliRunner): exit 2, messages on stderr, no traceback."""
    folder = copy_tiny(tmp_path)
    for mutate, _ in SEVERAL.values():
        mutate(folder)
    planner = Path(sys.executable).with_name("planner")
    if not planner.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    proc = subprocess.run([str(planner), "solve", "--inputs", str(folder)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    for _, where in SEVERAL.values():
        assert_reported(proc.stderr, where)


def test_json_format_reports_problems_as_json(tmp_path):
    folder = copy_tiny(tmp_path)
    set_cell("offers", 2, "price_usd_per_t", "-50")(folder)
    result = run("solve", "--inputs", folder, "--format", "json")
    assert_bad_input(result)
    report = json.loads(result.stdout)
    assert report["status"] == "error"
    (problem,) = report["problems"]
    assert problem["table"] == "offers.csv"
    assert problem["row"] == 2
    assert problem["column"] == "price_usd_per_t"
    assert problem["value"] == "-50"
    assert "≥ 0" in problem["expected"]


# -- warnings, not errors ------------------------------------------------------------------

def test_unlisted_country_is_a_warning(tmp_path):
    folder = copy_tiny(tmp_path)
    set_cell("offers", 4, "country", "US")(folder)   # mg_jp now from the US, not listed
    before = snapshot(folder)
    result = run("check", "--inputs", folder)
    assert result.exit_code == 0, result.output
    warning = [line for line in result.output.splitlines() if "warning" in line.lower()]
    assert any("offers.csv" in line and "row 4" in line and "'US'" in line
               for line in warning), result.output
    result = run("solve", "--inputs", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "US" in result.stderr
    assert json.loads(result.stdout)["objective_usd"] == pytest.approx(4100.0)
    assert snapshot(folder) == before


# -- row numbers as a spreadsheet shows them -----------------------------------------------

def test_blank_line_counts_as_a_row(tmp_path):
    # header (1), ox_cn (2), blank line (3), ox_au (4): a spreadsheet shows ox_au on row 4
    folder = copy_tiny(tmp_path)
    rows = read_rows(folder, "offers")
    rows[2][rows[0].index("price_usd_per_t")] = "fifty"
    rows.insert(2, [])
    write_rows(folder, "offers", rows)
    result = run("check", "--inputs", folder)
    assert_bad_input(result)
    assert_reported(result.output, Where("offers.csv", 4, "price_usd_per_t", "fifty",
                                         "a number"))


def test_multiline_cell_does_not_shift_row_numbers(tmp_path):
    # ox_cn's supplier spans two lines; ox_au is still spreadsheet row 3
    folder = copy_tiny(tmp_path)
    set_cell("offers", 2, "supplier", "Oxide China\nBaotou plant")(folder)
    set_cell("offers", 3, "price_usd_per_t", "fifty")(folder)
    result = run("check", "--inputs", folder)
    assert_bad_input(result)
    assert_reported(result.output, Where("offers.csv", 3, "price_usd_per_t", "fifty",
                                         "a number"))
