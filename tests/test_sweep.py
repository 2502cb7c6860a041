"""``planner sweep`` (issue 5): exact cost-against-cap curves, grids, parameter sweeps.

Hand-solved on the tiny chain (tests/data/tiny-chain): oxide demand 20 t, magnet
demand 10 t; oxide CN 50, AU 100 USD/t (unlimited); magnets CN 250 USD/t or made in
Korea from 2 t oxide + 100 USD. With China capped at σ of oxide supply (binding:
CN = σ·T, T = 20 + 2m for m t of Korean magnets) the cost is
4,500 − 1,000σ + m·(50 − 100σ): above σ = 0.5 all 10 t are made at home, cost
5,000 − 2,000σ (20 USD per pp); below it none, 4,500 − 1,000σ (10 USD per pp). At
σ = 1: 3,000 (no cap), at 0.4: 4,100 (the conformance value), at 0: 4,500 (AU is
unlimited, so every cap down to 0 is feasible).
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_first_year
from generator import random_dataset
from planner.models.data import Basis, Scope, ZoneStatus

from planner.analysis.scenarios import set_share
from planner.analysis.sweep import CapSweep, CapTarget, cap_sweep, parameter_sweep
from planner.cli import load, main
from planner.solving.engine import solve_plan

ONE_YEAR = write_first_year(Path(tempfile.mkdtemp(prefix="korea-2025-")))  # one-year mechanics
TINY = Path(__file__).parent / "data" / "tiny-chain"
REL = 1e-6


def fresh_cost(data, target: CapTarget, cap: float, cap2: tuple | None = None) -> float:
    """Cost from a new model with the cap set (math.inf when infeasible)."""
    data = set_share(data, target.group, target.stage, "max_share", cap, "test", target.scope,
                     target.basis)
    if cap2 is not None:
        other, value = cap2
        data = set_share(data, other.group, other.stage, "max_share", value, "test",
                         other.scope, other.basis)
    result = solve_plan(data, sensitivity=False)
    if not result.optimal:
        assert result.status.value == "infeasible", result.message
        return math.inf
    return result.cost_usd


def check_curve_against_re_solves(data, target: CapTarget, points_per_segment: int = 4):
    """Every segment's formula equals a fresh solve at its ends and inside (1e-6)."""
    curve = CapSweep(data, [target]).exact()
    assert curve.segments, "a curve with no segment"
    checked = 0
    for seg in curve.segments:
        for cap in np.linspace(seg.cap_to, seg.cap_from, points_per_segment):
            expected = fresh_cost(data, target, float(cap))
            assert seg.piece.cost_at(float(cap)) == pytest.approx(expected, rel=REL), (
                target, seg.cap_from, seg.cap_to, cap)
            checked += 1
    for before, after in zip(curve.segments, curve.segments[1:], strict=False):
        assert before.cap_to == after.cap_from   # contiguous
    tightest, last = curve.tightest_feasible_cap, curve.segments[-1].cap_to
    assert tightest <= last <= tightest + 1e-2   # the floor, or just above an infimum
    assert math.isfinite(fresh_cost(data, target, last))
    if tightest > 1e-6:
        assert math.isinf(fresh_cost(data, target, tightest - 1e-6))
    return curve, checked


def test_hand_solved_tiny_chain_curve():
    data, _ = load(TINY)
    sweep = CapSweep(data, [CapTarget("CN", "oxide")])
    curve = sweep.exact()
    ends = [end for s in curve.segments for end in (s.cap_from, s.cap_to)]
    assert ends == pytest.approx([1.0, 0.5, 0.5, 0.0])
    first, second = curve.segments
    assert first.piece.cost_at(1.0) == pytest.approx(3000.0)
    assert first.piece.cost_at(0.5) == pytest.approx(4000.0)
    assert second.piece.cost_at(0.4) == pytest.approx(4100.0)
    assert second.piece.cost_at(0.0) == pytest.approx(4500.0)
    assert first.as_dict()["usd_per_pp_from"] == pytest.approx(20.0)
    assert second.as_dict()["usd_per_pp_to"] == pytest.approx(10.0)
    (bp,) = curve.breakpoints()
    assert bp["cap"] == pytest.approx(0.5)
    assert bp["enter"] == ["mg_cn"]
    assert bp["leave"] == ["kr_magnets"]
    assert curve.tightest_feasible_cap == pytest.approx(0.0)
    assert sweep.solves <= len(curve.breakpoints()) + 2


@pytest.mark.parametrize(("group", "stage", "scope", "basis"), [
    ("CN", "magnet", Scope.DIRECT, Basis.VOLUME),
    ("CN", "ndpr-oxide", Scope.DIRECT, Basis.VOLUME),
    ("CN", "ndpr-metal", Scope.DIRECT, Basis.VALUE),
    ("CN", "magnet", Scope.EMBEDDED, Basis.VOLUME),
    ("non-zone", "magnet", Scope.DIRECT, Basis.VOLUME),
])
def test_default_dataset_curves_equal_re_solves(group, stage, scope, basis):
    data, _ = load(ONE_YEAR)
    curve, checked = check_curve_against_re_solves(data, CapTarget(group, stage, scope, basis))
    assert checked >= 4


def test_default_dataset_magnet_curve_needs_few_solves():
    """Breakpoints + 2 solves at most (one per piece, plus the flat start)."""
    data, _ = load(ONE_YEAR)
    sweep = CapSweep(data, [CapTarget("CN", "magnet")])
    curve = sweep.exact()
    assert len(curve.segments) >= 5
    assert sweep.solves <= len(curve.breakpoints()) + 2


def random_targets(count: int):
    rng = random.Random(11)
    found = 0
    for seed in range(400):
        data = random_dataset(seed, infeasible=0.0)
        offers = [o for o in data.offers if o.country != data.buyer]
        if not offers or solve_plan(data, sensitivity=False).status.value != "optimal":
            continue
        offer = rng.choice(offers)
        basis = rng.choice([Basis.VOLUME, Basis.VALUE])
        yield seed, data, CapTarget(offer.country, offer.stage, Scope.DIRECT, basis)
        found += 1
        if found == count:
            return


@pytest.mark.parametrize(("seed", "data", "target"), list(random_targets(12)),
                         ids=lambda v: str(v) if isinstance(v, int) else "")
def test_random_dataset_curves_equal_re_solves(seed, data, target):
    check_curve_against_re_solves(data, target, points_per_segment=3)


def test_grid_equals_re_solves_and_marks_infeasible_points():
    """Magnet demand has a shortage price in the shipped dataset, so no cap is infeasible
    there (leaving demand unmet keeps China's share down): without it, caps below the
    tightest feasible one are."""
    data, _ = load(ONE_YEAR)
    data = replace(data, stages=tuple(replace(s, shortage_usd_per_t=None)
                                      for s in data.stages))
    target = CapTarget("CN", "magnet")
    result = cap_sweep(data, [target], False, 0.9, 0.3, 7)
    assert [p.value for p in result.points] == pytest.approx(list(np.linspace(0.9, 0.3, 7)))
    for point in result.points:
        expected = fresh_cost(data, target, point.value)
        if math.isinf(expected):
            assert point.status == "infeasible"
        else:
            assert point.objective_usd == pytest.approx(expected, rel=REL)
    assert result.points[-1].status == "infeasible"   # 0.3 is below the tightest


def test_two_cap_grid_equals_re_solves():
    data, _ = load(ONE_YEAR)
    magnet, metal = CapTarget("CN", "magnet"), CapTarget("CN", "ndpr-metal")
    result = cap_sweep(data, [magnet, metal], False, 0.9, 0.5, 3)
    assert len(result.points) == 9
    for point in result.points:
        a, b = point.value
        expected = fresh_cost(data, magnet, a, (metal, b))
        if math.isinf(expected):
            assert point.status == "infeasible"
        else:
            assert point.objective_usd == pytest.approx(expected, rel=REL)


def test_benchmark_sweep_equals_re_solves():
    """Observer: benchmarks do not apply, so the cost is flat; joined: it rises."""
    data, _ = load(TINY)
    values = ["60", "90", "120"]
    observer = parameter_sweep(data, "benchmark", "oxide", values)
    assert [p.objective_usd for p in observer.points] == pytest.approx([4100.0] * 3)
    joined_data = replace(data, zone=ZoneStatus.JOINED)
    joined = parameter_sweep(joined_data, "benchmark", "oxide", values)
    for value, point in zip(values, joined.points, strict=True):
        benchmarks = {**joined_data.benchmarks, "oxide": float(value)}
        expected = solve_plan(replace(joined_data, benchmarks=benchmarks),
                              sensitivity=False).cost_usd
        assert point.objective_usd == pytest.approx(expected, rel=REL)
    assert joined.points[0].objective_usd < joined.points[-1].objective_usd


def sweep_cli(*args: str):
    return CliRunner().invoke(main, ["sweep", *args])


def test_cli_exact_json_has_the_spec_keys():
    result = sweep_cli("--inputs", str(TINY), "--cap", "CN:oxide", "--exact", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["cap"] == {"group": "CN", "stage": "oxide", "scope": "direct",
                          "basis": "volume"}
    assert {"cap", "status", "objective_usd", "usd_per_pp"} <= set(out["points"][0])
    assert [s[key] for s in out["segments"] for key in
            ("cap_from", "cap_to", "objective_from", "objective_to")] == pytest.approx(
        [1.0, 0.5, 3000.0, 4000.0, 0.5, 0.0, 4000.0, 4500.0])
    assert out["tightest_feasible_cap"] == pytest.approx(0.0)


def test_cli_grid_zone_and_capacity_factor(tmp_path: Path):
    grid = sweep_cli("--inputs", str(TINY), "--cap", "CN:oxide", "--from", "0.6", "--to",
                     "0.2", "--steps", "5", "--format", "json")
    points = json.loads(grid.stdout)["points"]
    assert [p["objective_usd"] for p in points] == pytest.approx(
        [3800.0, 4000.0, 4100.0, 4200.0, 4300.0])   # 5,000 − 2,000σ above 0.5, 4,500 − 1,000σ
    assert [p["usd_per_pp"] for p in points[2:]] == pytest.approx([10.0, 10.0, 10.0])
    zone = sweep_cli("--inputs", str(TINY), "--zone", "--format", "json")
    assert [p["objective_usd"] for p in json.loads(zone.stdout)["points"]] == pytest.approx(
        [4100.0, 4840.0])
    factor = sweep_cli("--inputs", str(TINY), "--capacity-factor", "*:*", "--from", "1",
                       "--to", "0.5", "--steps", "2", "--format", "csv", "--output",
                       str(tmp_path / "out"))
    assert factor.exit_code == 0, factor.output
    assert (tmp_path / "out" / "points.csv").exists()


@pytest.mark.parametrize("args", [
    [],                                                   # nothing to sweep
    ["--cap", "CN:oxide", "--zone"],                      # two things
    ["--cap", "CN:oxide", "--cap", "AU:oxide", "--exact"],
    ["--cap", "CN:oxide", "--from", "1.5"],
    ["--cap", "CN=0.5"],
    ["--cap", "CN:ore"],                                  # unknown stage
    ["--benchmark", "oxide"],                             # no --from/--to
    ["--cap", "CN:oxide", "--exact", "--plot", "curve.txt"],
    ["--cap", "each:oxide", "--exact"],                   # many rows: grid only
    ["--cap", "CN:*", "--exact"],
    ["--cap", "CN:oxide", "--cap", "CN:oxide"],           # the same cap twice
    ["--zone", "--steps", "3"],                           # nothing to step
    ["--benchmark", "oxides", "--from", "1", "--to", "2"],  # unknown stage, named
    ["--capacity-factor", "CN:oxides", "--from", "1", "--to", "2"],
])
def test_cli_usage_errors_exit_2(args):
    result = sweep_cli("--inputs", str(TINY), *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    if any(a.endswith("oxides") for a in args):
        assert "a stage from stages (magnet, oxide)" in result.output


def test_cli_all_points_infeasible_exits_1():
    result = sweep_cli("--inputs", str(TINY), "--cap", "each:oxide", "--from", "0.4",
                       "--to", "0.1", "--steps", "2", "--format", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["status"] == "infeasible"


def test_cap_takes_scope_and_basis_from_the_dataset_limit(tmp_path: Path):
    """``--cap CN:magnet`` on a dataset whose only CN:magnet cap is embedded and by
    value sweeps that cap; ``--scope`` / ``--basis`` override it."""
    folder = tmp_path / "data"
    CliRunner().invoke(main, ["convert", "--inputs", str(ONE_YEAR), "--output",
                              str(folder)])
    (folder / "limits.csv").write_text("group,stage,max_share,basis,scope\n"
                                       "CN,magnet,0.8,value,embedded\n", encoding="utf-8")
    found = sweep_cli("--inputs", str(folder), "--cap", "CN:magnet", "--steps", "2",
                      "--format", "json")
    assert json.loads(found.stdout)["cap"] == {"group": "CN", "stage": "magnet",
                                               "scope": "embedded", "basis": "value"}
    given = sweep_cli("--inputs", str(folder), "--cap", "CN:magnet", "--scope", "direct",
                      "--steps", "2", "--format", "json")
    assert json.loads(given.stdout)["cap"]["scope"] == "direct"


def test_solve_at_a_breakpoint_reports_the_tighter_side_and_its_range(solve):
    """At a breakpoint of the exact curve, ``solve`` says the rate is not unique, heads
    with the rate of the segment below (tighter) and gives that segment's range; the
    looser rate is the segment above's."""
    data, _ = load(ONE_YEAR)
    curve = CapSweep(data, [CapTarget("CN", "magnet")]).exact()
    segments = curve.segments
    for above, below, after in zip(segments, segments[1:], [*segments[2:], None],
                                   strict=False):
        tighter = -below.piece.rate_at(below.cap_from) / 100
        looser = -above.piece.rate_at(above.cap_to) / 100
        if abs(tighter - looser) <= 1e-6 * tighter:
            continue   # the basis changes but the rate does not
        row = solve(set_share(data, "CN", "magnet", "max_share", above.cap_to, "t")).limit(
            "CN", "magnet")
        assert row["unique"] is False
        assert row["usd_per_pp"] == pytest.approx(tighter, rel=1e-9)
        assert row["usd_per_pp_looser"] == pytest.approx(looser, rel=1e-9)
        assert row["valid_to"] == pytest.approx(above.cap_to, abs=1e-9)
        assert row["valid_from"] < row["valid_to"]
        # the range ends where the rate changes: at the segment's end, or beyond it
        # where the next basis keeps the same rate there
        same_rate_beyond = after is not None and -after.piece.rate_at(
            after.cap_from) / 100 == pytest.approx(-below.piece.rate_at(below.cap_to) / 100,
                                                   rel=1e-7)
        assert below.cap_to - 1e-9 <= row["valid_from"] or same_rate_beyond
