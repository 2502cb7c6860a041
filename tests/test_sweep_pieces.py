"""Grids read off exact pieces (issue 13, target 3): a grid point that the piece of an
earlier solve holds is read off that piece's closed form instead of solved.

Each test runs a grid as ``planner sweep`` runs it (``cap_sweep``) and the same caps
point by point (``CapSweep.grid(..., read_off=False)``, every point solved), and
checks that they report the same thing: status, cost (relative 1e-7) and rate
(relative 1e-6) at every point. Each also checks that points were read off (else
the comparison would hold trivially) or, where the cap moves several rows, that
none was.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_first_year
from generator import random_dataset
from planner.models.data import Basis, Scope

from planner.analysis.sweep import (
    POLE_CONDITION,
    READ_OFF,
    SOLVED,
    CapSweep,
    CapTarget,
    cap_sweep,
)
from planner.api import default_inputs
from planner.cli import load, main
from planner.solving.engine import solve_plan

TINY = Path(__file__).parent / "data" / "tiny-chain"
ONE_YEAR = write_first_year(Path(tempfile.mkdtemp(prefix="korea-2025-")))
COST_REL, RATE_REL, RATE_ABS = 1e-7, 1e-6, 1e-9   # RATE_ABS: USD/pp, for rates of 0


def grids(data, target: CapTarget, start: float | None = None, end: float | None = None,
          steps: int = 50):
    """(the grid as the product runs it, the same caps solved point by point)."""
    product = cap_sweep(data, [target], False, start, end, steps).points
    by_point = CapSweep(data, [target])
    by_point.default_range(0)   # the same warm start as the product's first point
    solved = by_point.grid([(p.value,) for p in product], read_off=False)
    return product, solved


def assert_same_points(product, solved) -> None:
    """Every point: same cap, status, cost and rate."""
    assert [p.value for p in product] == [p.value for p in solved]
    for read, fresh in zip(product, solved, strict=True):
        assert fresh.method == SOLVED
        assert read.status == fresh.status, (read.value, read.method)
        if fresh.status != "optimal":
            continue
        assert read.objective_usd == pytest.approx(fresh.objective_usd, rel=COST_REL), (
            read.value, read.method)
        assert read.usd_per_pp == pytest.approx(fresh.usd_per_pp, rel=RATE_REL,
                                                abs=RATE_ABS), (read.value, read.method)


def read_off(points) -> int:
    return sum(p.method == READ_OFF for p in points)


# -- the tiny chain, by hand (tests/data/tiny-chain/README.md) -------------------------

def test_tiny_chain_grid_is_the_hand_solved_curve():
    """5,000 − 2,000σ (20 USD/pp) above the breakpoint σ = 0.5, 4,500 − 1,000σ
    (10 USD/pp) below; 0.5 itself, a breakpoint, is solved."""
    data, _ = load(TINY)
    product, solved = grids(data, CapTarget("CN", "oxide"), 1.0, 0.0, 51)
    assert_same_points(product, solved)
    for point in product:
        sigma = point.value
        if point.method == READ_OFF:
            above = sigma > 0.5
            assert point.objective_usd == pytest.approx(
                5_000 - 2_000 * sigma if above else 4_500 - 1_000 * sigma, rel=COST_REL)
            assert point.usd_per_pp == pytest.approx(20.0 if above else 10.0, rel=RATE_REL)
    (half,) = [p for p in product if p.value == 0.5]
    assert half.method == SOLVED
    assert half.objective_usd == pytest.approx(4_000.0)
    assert read_off(product) >= 45   # 51 points, 2 pieces


def test_a_point_is_read_off_only_strictly_inside_its_piece():
    """The piece of the basis solved at 0.8 (5,000 − 2,000σ on [0.5, 1]) gives 0.7;
    not 0.5 (its end: a breakpoint), not 0.4 (beyond it)."""
    data, _ = load(TINY)
    sweep = CapSweep(data, [CapTarget("CN", "oxide")])
    _, solution = sweep.solve_at((0.8,))
    piece = sweep._basis_piece(solution, 0.8)
    assert piece.interval == pytest.approx((0.5, 1.0))
    inside = sweep._read_off(piece, 0.7)
    assert (inside.objective_usd, inside.usd_per_pp) == pytest.approx((3_600.0, 20.0))
    assert inside.method == READ_OFF
    assert sweep._read_off(piece, 0.5) is None
    assert sweep._read_off(piece, 0.4) is None


def test_points_near_a_pole_are_solved(tmp_path: Path):
    """A contracted minimum of 5 t from China keeps its share above 0 but lets it
    approach 0 (surplus oxide dilutes it): below 12.5 % the cost is 4,750 + k·(1/σ − 8)
    for some k, linear-fractional with 1 + δ·u = 8σ, a pole at 0. Points with
    8σ < POLE_CONDITION are solved, the rest of that piece is read off."""
    for table in TINY.glob("*.csv"):
        (tmp_path / table.name).write_text(table.read_text(encoding="utf-8"), encoding="utf-8")
    offers = tmp_path / "offers.csv"
    offers.write_text(offers.read_text(encoding="utf-8").replace(
        "ox_cn,oxide,Oxide China,CN,50,,0,0", "ox_cn,oxide,Oxide China,CN,50,,5,0"),
        encoding="utf-8")
    data, _ = load(tmp_path)
    product, solved = grids(data, CapTarget("CN", "oxide"), 0.1, 1e-5, 50)
    assert_same_points(product, solved)
    near = [p for p in product if 8 * p.value < POLE_CONDITION]
    assert near
    assert all(p.method == SOLVED for p in near)
    assert read_off(product) >= 40


def test_cli_says_how_each_point_was_obtained():
    result = CliRunner().invoke(main, ["sweep", "--inputs", str(TINY), "--cap", "CN:oxide",
                                       "--from", "0.6", "--to", "0.2", "--steps", "5",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)["points"]
    assert [p["method"] for p in points] == [SOLVED, SOLVED, SOLVED, READ_OFF, READ_OFF]
    assert [p["objective_usd"] for p in points] == pytest.approx(
        [3_800.0, 4_000.0, 4_100.0, 4_200.0, 4_300.0])
    assert "3 solved and 2 read off exact pieces" in result.stderr


# -- the shipped dataset ---------------------------------------------------------------

@pytest.fixture(scope="module")
def korea():
    return load(default_inputs())[0]


def test_shipped_first_year_cap_is_read_off_pieces(korea):
    """50 points of China's cap on magnets in 2025 (the whole 2025–2030 plan, its 11
    branches; the cap of 2025, decided once for all, is one row): about one solve per
    piece of the curve the grid crosses, and the last piece is linear-fractional (its
    rate falls from USD 33.4 M to 8.8 M a point)."""
    product, solved = grids(korea, CapTarget("CN", "magnet", period="2025"))
    assert_same_points(product, solved)
    assert read_off(product) >= 35
    rates = [p.usd_per_pp for p in product if p.method == READ_OFF and p.value < 0.48]
    assert max(rates) > 2 * min(rates)   # the rate moves inside one piece


def test_calibration_year_grid_is_read_off_pieces():
    data, _ = load(ONE_YEAR)
    product, solved = grids(data, CapTarget("CN", "magnet"))
    assert_same_points(product, solved)
    assert read_off(product) >= 35


@pytest.mark.parametrize("target", [CapTarget("CN", "magnet"),            # every period
                                    CapTarget("CN", "magnet", period="2030")],  # 11 branches
                         ids=["every-period", "2030-branches"])
def test_caps_of_several_rows_are_solved_point_by_point(korea, target):
    product, solved = grids(korea, target, 0.9, 0.5, 5)
    assert_same_points(product, solved)
    assert read_off(product) == 0


def test_infeasible_caps_are_solved_and_reported_infeasible():
    """Without shortage prices, caps below the tightest feasible one have no plan: those
    points are solved (no piece holds them) and reported infeasible, as before."""
    data, _ = load(ONE_YEAR)
    data = replace(data, stages=tuple(replace(s, shortage_usd_per_t=None)
                                      for s in data.stages))
    product, solved = grids(data, CapTarget("CN", "magnet"), 0.95, 0.0, 50)
    assert_same_points(product, solved)
    infeasible = [p for p in product if p.status == "infeasible"]
    assert infeasible
    assert all(p.method == SOLVED for p in infeasible)
    assert read_off(product) >= 10


def test_two_cap_grid_is_solved_point_by_point():
    data, _ = load(ONE_YEAR)
    magnet, metal = CapTarget("CN", "magnet"), CapTarget("CN", "ndpr-metal")
    points = cap_sweep(data, [magnet, metal], False, 0.9, 0.5, 3).points
    assert {p.method for p in points} == {SOLVED}


# -- random datasets -------------------------------------------------------------------

KNOBS = [{}, {"network": True}, {"embedded": True}, {"periods": True},
         {"periods": True, "disruptions": True}]


def random_cases(count: int):
    """(seed, data, target): a feasible random dataset and a cap on a supplier of it
    (over time: the cap of one period, in its own money; one row, or one per branch
    after a disruption starts)."""
    rng = random.Random(13)
    found = 0
    for seed in range(400):
        knobs = KNOBS[seed % len(KNOBS)]
        data = random_dataset(seed, infeasible=0.0, **knobs)
        offers = [o for o in data.offers if o.country != data.buyer]
        if not offers or solve_plan(data, sensitivity=False).status.value != "optimal":
            continue
        offer = rng.choice(offers)
        period = rng.choice(data.periods).period if data.periods else None
        yield seed, data, CapTarget(offer.country, offer.stage, Scope.DIRECT,
                                    rng.choice([Basis.VOLUME, Basis.VALUE]), period)
        found += 1
        if found == count:
            return


CASES = list(random_cases(15))


@pytest.mark.parametrize(("seed", "data", "target"), CASES,
                         ids=lambda v: str(v) if isinstance(v, int) else "")
def test_random_grids_equal_point_by_point_solves(seed, data, target):
    """The default range (where the cap binds down to the tightest feasible cap) and
    the whole of [0, 1] (infeasible below the tightest cap, where there is one)."""
    for start, end in ((None, None), (1.0, 0.0)):
        product, solved = grids(data, target, start, end)
        assert_same_points(product, solved)


def test_random_grids_read_points_off():
    """Across the random cases most points are read off (a grid of 50 points crosses a
    few pieces on these small datasets)."""
    total = read = 0
    for _, data, target in CASES:
        product = cap_sweep(data, [target], False, 1.0, 0.0, 50).points
        total += len(product)
        read += read_off(product)
    assert read >= total / 2, (read, total)


def test_pieces_are_not_taken_where_breakpoints_outrun_the_grid():
    """After UNREAD solves in a row with nothing read off, only every UNREAD-th solve's
    piece is taken; the points stay those of the point-by-point grid."""
    data, _ = load(TINY)
    sweep = CapSweep(data, [CapTarget("CN", "oxide")])
    taken = []
    original = sweep._basis_piece

    def spy(solution, cap):
        taken.append(cap)
        return original(solution, cap)

    sweep._basis_piece = spy
    caps = [(c,) for c in np.linspace(0.6, 0.4, 2)] * 6   # alternate across the breakpoint
    points = sweep.grid(caps)
    assert read_off(points) == 0
    assert len(taken) == 4 + 1                            # solves 1–4, then the 8th
    assert taken == pytest.approx([0.6, 0.4, 0.6, 0.4, 0.4])
