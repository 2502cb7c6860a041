"""Every solver outcome maps to its exit code and one closing line (issue 3, part 3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from planner.models.data import Country, Dataset, Offer, Stage
from planner.models.highs import HighsSolver, LpSolution, SolveStatus

from planner.cli import main
from planner.solving import engine
from planner.solving.engine import solve_plan

TINY = Path(__file__).parent / "data" / "tiny-chain"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_optimal_exits_0_with_the_cost():
    result = run("solve", "--inputs", str(TINY), "--format", "json")
    assert result.exit_code == 0
    assert last_line(result) == "optimal: total landed cost 4,100.00 USD"


def test_infeasible_exits_1_with_the_conflict():
    result = run("solve", "--inputs", str(TINY), "--cap", "CN:oxide=0", "--cap",
                 "AU:oxide=0.5", "--format", "json")
    assert result.exit_code == 1
    assert last_line(result).startswith("infeasible: these cannot all hold: ")
    assert "AU:oxide" in last_line(result)
    assert json.loads(result.stdout)["status"] == "infeasible"


def test_unbounded_names_the_offer_with_negative_cost_and_no_capacity():
    """Validation rejects negative prices, so only a hand-built dataset can get here."""
    data = Dataset(stages=(Stage("oxide", 0, 10.0),),
                   offers=(Offer("free_money", "oxide", "s", "CN", -5.0),
                           Offer("normal", "oxide", "s", "AU", 10.0, capacity_t=20.0)),
                   countries=(Country("CN"), Country("AU")))
    result = solve_plan(data)
    assert result.status is SolveStatus.UNBOUNDED
    assert "free_money" in result.message
    assert "normal" not in result.message


def test_negative_price_is_rejected_before_any_solve(tmp_path):
    folder = tmp_path / "neg"
    folder.mkdir()
    for path in TINY.glob("*.csv"):
        (folder / path.name).write_text(path.read_text().replace(
            "ox_cn,oxide,Oxide China,CN,50,", "ox_cn,oxide,Oxide China,CN,-50,"))
    result = run("solve", "--inputs", str(folder))
    assert result.exit_code == 2
    assert "price_usd_per_t" in result.stderr


def test_infeasible_or_unbounded_is_resolved_without_presolve(monkeypatch):
    calls = []
    real = HighsSolver.solve

    def solve(self, presolve: bool = True):
        calls.append(presolve)
        if presolve:
            return LpSolution(SolveStatus.INFEASIBLE_OR_UNBOUNDED, "Primal infeasible or unbounded")
        return real(self, presolve)

    monkeypatch.setattr(HighsSolver, "solve", solve)
    result = run("solve", "--inputs", str(TINY), "--cap", "CN:oxide=0", "--cap",
                 "AU:oxide=0.5", "--format", "json")
    assert calls[:2] == [True, False]
    assert result.exit_code == 1
    assert last_line(result).startswith("infeasible:")


def test_time_limit_without_a_plan_exits_3(tmp_path):
    from benchmark import generate

    generate(tmp_path / "big", 2000)
    result = run("solve", "--inputs", str(tmp_path / "big"), "--time-limit", "0.000001",
                 "--format", "json")
    assert result.exit_code == 3
    assert last_line(result) == ("error: time limit of 1e-06 s reached before a plan was "
                                 "proven optimal; no feasible plan was found in that time")
    assert json.loads(result.stdout)["status"] == "error"


def test_time_limit_with_a_feasible_plan_says_so_but_reports_none(monkeypatch):
    real = HighsSolver.solve

    def solve(self, presolve: bool = True):
        found = real(self, presolve)
        return LpSolution(SolveStatus.TIME_LIMIT, "Time limit reached", objective=4321.0,
                          col_value=found.col_value, row_value=found.row_value)

    monkeypatch.setattr(HighsSolver, "solve", solve)
    result = run("solve", "--inputs", str(TINY), "--time-limit", "5", "--format", "json")
    assert result.exit_code == 3
    assert "the best feasible plan so far costs 4,321.00 USD and is not reported" in (
        last_line(result))
    assert json.loads(result.stdout)["purchases"] == []   # no plan is reported


def test_solver_crash_is_one_line_and_debug_shows_the_traceback(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("HiGHS exploded")

    monkeypatch.setattr(engine, "compile_lp", broken)
    result = run("solve", "--inputs", str(TINY))
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert last_line(result) == ("internal error: RuntimeError: HiGHS exploded "
                                 "(run with --debug for details)")
    debug = run("solve", "--inputs", str(TINY), "--debug")
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr


@pytest.mark.parametrize("limit", ["0", "-1", "soon"])
def test_bad_time_limit_is_a_usage_error(limit):
    result = run("solve", "--inputs", str(TINY), "--time-limit", limit)
    assert result.exit_code == 2
