"""``planner compare``: scenarios side by side (issue 4, part 2).

Hand values on the tiny chain (tests/data/tiny-chain): base 4,100 (conformance);
``join`` 4,840 (tests/data/tiny-chain/README.md), so +740; ``order`` ends with China
at most 30 % of oxide: 6 t CN at 50 + 14 t AU at 100 = 1,700, blended 85/t, so the
Korean magnet route costs 2 x 85 + 100 = 270 > 250 and magnets stay Chinese (2,500):
4,200, i.e. +100.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main

TINY = Path(__file__).parent / "data" / "tiny-chain"


def compare(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["compare", "--inputs", str(TINY), "--format", "json",
                                       *args])
    return result.exit_code, json.loads(result.stdout)


def test_default_is_base_then_every_scenario():
    code, report = compare()
    assert code == 0
    assert report["scenarios"] == ["base", "order", "join", "pricey-cn-magnets",
                                   "double-magnets", "squeeze", "low-floor"]


def test_costs_and_changes_against_the_first_column():
    _, report = compare("base", "join", "order")
    columns = {c["scenario"]: c for c in report["columns"]}
    assert columns["base"]["objective_usd"] == pytest.approx(4100.0)
    assert columns["join"]["objective_usd"] == pytest.approx(4840.0)
    assert columns["join"]["change_usd"] == pytest.approx(740.0)
    assert columns["order"]["change_usd"] == pytest.approx(100.0)
    assert columns["order"]["cn_share"]["oxide"] == pytest.approx(0.3)
    (limit,) = columns["order"]["binding_limits"]
    assert limit["limit"] == "CN:oxide max 0.3"


def test_every_column_matches_solving_that_scenario_alone():
    _, report = compare()
    for column in report["columns"]:
        args = [] if column["scenario"] == "base" else ["--scenario", column["scenario"]]
        alone = CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--format", "json",
                                          *args])
        assert json.loads(alone.stdout)["objective_usd"] == pytest.approx(
            column["objective_usd"]), column["scenario"]


def test_an_infeasible_scenario_explains_itself_in_one_line(tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    with (folder / "scenarios.csv").open("a", newline="") as handle:
        csv.writer(handle).writerows([["no-way", "max_share", "CN:oxide", "0"],
                                      ["no-way", "max_share", "AU:oxide", "0.5"]])
    result = CliRunner().invoke(main, ["compare", "--inputs", str(folder), "base", "no-way",
                                       "--format", "json"])
    assert result.exit_code == 0
    column = json.loads(result.stdout)["columns"][1]
    assert column["status"] == "infeasible"
    assert column["diagnosis"].startswith("these cannot all hold")


def test_unknown_scenario_is_bad_usage():
    result = CliRunner().invoke(main, ["compare", "--inputs", str(TINY), "nope"])
    assert result.exit_code == 2
    assert "nope" in result.stderr


def test_csv_output_is_one_table_scenario_per_column(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--inputs", str(TINY), "base", "join",
                                       "--format", "csv", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0
    with (tmp_path / "out" / "comparison.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["metric", "base", "join"]
    total = next(r for r in rows if r["metric"] == "total cost (USD)")
    assert float(total["join"]) == pytest.approx(4840.0)
