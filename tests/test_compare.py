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
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_first_year
from plan_json import as_json
from planner.models.data import Basis, Limit, ZoneStatus

from planner.analysis.scenarios import apply_scenario, scenario_names
from planner.cli import load, main
from planner.solving.engine import solve_plan
from planner.solving.variants import VariantSolver, structure

ONE_YEAR = write_first_year(Path(tempfile.mkdtemp(prefix="korea-2025-")))  # one-year mechanics
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


# ------------------------------------------------- one built model for many scenarios

def fresh_and_reused(data, names):
    """Each scenario solved from scratch, and all of them in turn on one VariantSolver."""
    variants = VariantSolver()
    pairs = []
    for name in names:
        scenario = apply_scenario(data, name) if name != "base" else data
        reused = as_json(variants.solve(scenario))
        pairs.append((name, as_json(solve_plan(scenario)), reused))
    return pairs, variants.reused


def unique_rates(out: dict) -> dict[tuple, float]:
    prices = out["shadow_prices"]
    rates = {("demand", r["stage"]): r["usd_per_t"] for r in prices["demand"] if r["unique"]}
    rates |= {("capacity", r["offer"]): r["usd_per_t"] for r in prices["capacity"]
              if r["unique"]}
    rates |= {("limit", r["group"], r["stage"], r["bound"], r["scope"]): r["usd_per_pp"]
              for r in prices["limits"] if r["unique"]}
    return rates


@pytest.mark.parametrize("dataset", ["tiny", "default"])
def test_reused_model_gives_the_same_answers_as_fresh_solves(dataset):
    """Every scenario, in the order ``compare`` takes them (infeasible ones included):
    status, cost and every unique rate equal a solve from scratch."""
    data, _ = load(TINY if dataset == "tiny" else ONE_YEAR)
    pairs, reused = fresh_and_reused(data, ["base", *scenario_names(data)])
    assert reused >= 4          # most scenarios only change numbers
    for name, fresh, again in pairs:
        assert again["status"] == fresh["status"], name
        if fresh["status"] != "optimal":
            continue
        assert again["objective_usd"] == pytest.approx(fresh["objective_usd"], rel=1e-9), name
        expected, got = unique_rates(fresh), unique_rates(again)
        for key in expected.keys() & got.keys():
            assert got[key] == pytest.approx(expected[key], rel=1e-7, abs=1e-6), (name, key)


def test_a_new_structure_is_built_not_reused():


    data, _ = load(TINY)
    assert structure(replace(data, zone=ZoneStatus.JOINED)) == structure(data)
    extra = replace(data, limits=(*data.limits, Limit("AU", "magnet", max_share=0.5)))
    assert structure(extra) != structure(data)
    valued = replace(data, limits=(Limit("CN", "oxide", max_share=0.4, basis=Basis.VALUE),))
    joined = replace(valued, zone=ZoneStatus.JOINED)
    assert structure(joined) != structure(valued)   # value weights are in the matrix


def test_compare_reports_embedded_china_share_and_scope_of_limits():
    result = CliRunner().invoke(main, ["compare", "--inputs", str(ONE_YEAR),
                                       "--format", "json", "base", "eu-style-65"])
    columns = {c["scenario"]: c for c in json.loads(result.stdout)["columns"]}
    eu = columns["eu-style-65"]
    assert max(eu["cn_embedded_share"].values()) <= 0.65 + 1e-9
    assert columns["base"]["cn_embedded_share"]["magnet"] >= columns["base"]["cn_share"]["magnet"]
    assert any("embedded" in b["limit"] for b in eu["binding_limits"])
    assert eu["reused_model"] is False


def test_exit_1_when_no_scenario_has_a_plan(tmp_path: Path):
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    with (folder / "scenarios.csv").open("a", encoding="utf-8") as handle:
        handle.write("impossible,max_share,CN:oxide,0\nimpossible,max_share,AU:oxide,0\n")
    result = CliRunner().invoke(main, ["compare", "--inputs", str(folder), "impossible",
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    (column,) = json.loads(result.stdout)["columns"]
    assert column["status"] == "infeasible"
    assert "CN:oxide" in column["diagnosis"]


def test_reused_model_with_a_soft_limit_equals_fresh_solves():
    """Soft-limit penalties are settled again on every reused solve."""
    data, _ = load(TINY)
    soft = replace(data, limits=(Limit("CN", "oxide", max_share=0.4,
                                       max_cost_usd_per_pp=15.0),))
    variants = VariantSolver()
    for zone in (ZoneStatus.OBSERVER, ZoneStatus.JOINED, ZoneStatus.OBSERVER):
        scenario = replace(soft, zone=zone)
        again = variants.solve(scenario)
        fresh = solve_plan(scenario)
        assert again.cost_usd == pytest.approx(fresh.cost_usd, rel=1e-9)
        assert again.penalty_usd == pytest.approx(fresh.penalty_usd, rel=1e-9, abs=1e-9)
    assert variants.reused == 2
