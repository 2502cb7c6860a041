"""Embedded scope (SPEC §3): limits on the upstream origin of a stage's supply.

Hand-solved two-stage chain (no tariffs, buyer KR, observer):

    oxide offers   CN 10 USD/t, AU 14 USD/t, unlimited
    magnet offers  CN 90 USD/t, JP 100 USD/t (content: 50 % CN, 50 % JP), unlimited
    process        KR oxide → magnet, yield 0.5 (2 t oxide per t magnet),
                   20 USD per t magnet, capacity 60 t
    demand         magnet 100 t (oxide 0 t, or 30 t in the segregation case)

Per t of magnet: made at home from CN oxide 2·10 + 20 = 40, from AU oxide 48, CN
magnet 90, JP magnet 100. Without limits: 60 t made from CN oxide (2,400) + 40 t CN
magnets (3,600) = 6,000, and 100 % of magnet supply is Chinese by origin while only
40 % is bought from China.

Cap the embedded CN share of magnets at 50 %: 10 t of CN origin must go. Switching
home-made magnets to AU oxide costs 8 USD per t of CN origin removed (48 − 40);
switching CN magnets to JP costs 10 per 0.5 t = 20. So 50 t are made from AU oxide:
6,000 + 50·8 = 6,400; the next point costs 8 USD/pp (T = 100 t, 1 pp = 1 t), until all
60 t are made from AU oxide (cap 0.4); above a cap of 1.0 nothing binds. From 0.4 down
the rate is 20 USD/pp (down to 0.2, when every CN magnet is replaced by a JP one).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from planner.models.data import (
    Basis,
    ContentShare,
    Dataset,
    Limit,
    Offer,
    Process,
    Scope,
    Stage,
)

from planner.cli import main

CHAIN = Dataset(
    stages=(Stage("oxide", 1, 0.0), Stage("magnet", 2, 100.0)),
    offers=(Offer("CN-OX", "oxide", "cn", "CN", 10.0), Offer("AU-OX", "oxide", "au", "AU", 14.0),
            Offer("CN-MAG", "magnet", "cn", "CN", 90.0),
            Offer("JP-MAG", "magnet", "jp", "JP", 100.0)),
    processes=(Process("KR-MAG", "oxide", "magnet", 0.5, 20.0, 60.0),),
    content=(ContentShare("JP-MAG", "CN", 0.5), ContentShare("JP-MAG", "JP", 0.5)),
)


def capped(share: float, scope: Scope = Scope.EMBEDDED, data: Dataset = CHAIN,
           basis: Basis = Basis.VOLUME) -> Dataset:
    return replace(data, limits=(Limit("CN", "magnet", max_share=share, basis=basis,
                                       scope=scope),))


def embedded_share(plan, group: str, stage: str) -> float:
    rows = [r["share"] for r in plan.out["shares"]
            if (r["group"], r["stage"], r["basis"], r["scope"])
            == (group, stage, "volume", "embedded")]
    assert len(rows) == 1, rows
    return rows[0]


def side_by_side(plan) -> dict[tuple[str, str], dict]:
    return {(r["group"], r["stage"]): r for r in plan.out["direct_and_embedded"]}


def test_hand_solved_primal(solve):
    plan = solve(capped(0.5))
    assert plan.objective == pytest.approx(6400.0)
    assert plan.tonnes() == pytest.approx({"CN-OX": 20.0, "AU-OX": 100.0, "CN-MAG": 40.0})
    assert plan.production() == pytest.approx({"KR-MAG": 60.0})
    assert embedded_share(plan, "CN", "magnet") == pytest.approx(0.5)
    assert plan.share("CN", "magnet") == pytest.approx(0.4)   # direct: bought from China


def test_hand_solved_dual_and_range(solve):
    row = solve(capped(0.5)).limit("CN", "magnet")
    assert row["scope"] == "embedded"
    assert row["binding"] is True
    assert row["usd_per_pp"] == pytest.approx(8.0)
    assert (row["valid_from"], row["valid_to"]) == pytest.approx((0.4, 1.0))
    assert row["unique"] is True
    assert row["whole_cost_usd"] == pytest.approx(400.0)


@pytest.mark.parametrize(("cap", "expected"), [
    (0.45, 6400.0 + 5 * 8.0),            # inside the range: 8 USD per pp
    (0.40, 6000.0 + 60 * 8.0),           # its end: all home-made magnets from AU oxide
    (0.35, 6480.0 + 5 * 20.0),           # past it: CN magnets → JP at 20 USD per pp
    (1.00, 6000.0),                      # nothing binds
])
def test_cost_at_other_caps_follows_the_reported_rates(cost, cap, expected):
    assert cost(capped(cap)) == pytest.approx(expected)


def test_rate_equals_finite_difference_of_re_solves(solve, cost):
    row = solve(capped(0.5)).limit("CN", "magnet")
    h = 0.001
    slope = (cost(capped(0.5 - h)) - cost(capped(0.5))) / (100 * h)   # USD per pp tighter
    assert row["usd_per_pp"] == pytest.approx(slope, rel=1e-9)


def test_embedded_cap_costs_more_than_the_same_direct_cap(cost):
    assert cost(capped(0.5, Scope.DIRECT)) == pytest.approx(6000.0)   # direct CN is 40 %
    assert cost(capped(0.5)) > cost(capped(0.5, Scope.DIRECT))


def test_segregated_chain_of_custody(solve):
    """With oxide demand of its own, Chinese oxide can serve it while Australian oxide
    feeds the magnet line: the cap holds in the plan's chain of custody, although a
    fully mixed oxide pool would put more Chinese origin into the magnets."""
    data = replace(capped(0.5), stages=(Stage("oxide", 1, 30.0), Stage("magnet", 2, 100.0)))
    plan = solve(data)
    assert plan.objective == pytest.approx(6400.0 + 30 * 10.0)
    assert plan.tonnes()["CN-OX"] == pytest.approx(50.0)
    rows = side_by_side(plan)
    assert rows[("CN", "magnet")]["custody"] == "segregated"
    assert rows[("CN", "magnet")]["embedded_share"] == pytest.approx(0.5)
    # One split by origin country serves every group (SPEC §3): AU has no limit of its
    # own but is read from the same split. Of the 60 t made at home, 10 t carry CN
    # origin (40 + 10 = 50 %) and 50 t AU: the by-origin shares add up to 1.
    assert rows[("AU", "magnet")]["custody"] == "segregated"
    assert rows[("AU", "magnet")]["embedded_share"] == pytest.approx(0.5)
    assert rows[("AU", "magnet")]["direct_share"] == 0.0
    segregated = [r["embedded_share"] for (_, stage), r in rows.items()
                  if stage == "magnet" and r["custody"] == "segregated"
                  and len(r["group"]) == 2 and r["group"] != "KR"]
    assert sum(segregated) == pytest.approx(1.0)


def test_direct_and_embedded_side_by_side_without_embedded_limits(solve):
    rows = side_by_side(solve(CHAIN))
    cn = rows[("CN", "magnet")]
    assert (cn["direct_share"], cn["embedded_share"], cn["custody"]) == pytest.approx(
        (0.4, 1.0, "mixed"))
    kr = rows[("KR", "magnet")]
    assert (kr["direct_share"], kr["embedded_share"]) == pytest.approx((0.6, 0.0))


def test_value_basis_embedded_rate_equals_finite_difference(solve, cost):
    data = capped(0.5, basis=Basis.VALUE)
    row = solve(data).limit("CN", "magnet")
    assert row["binding"] is True
    assert row["unique"] is True
    h = 0.001
    slope = (cost(capped(0.5 - h, basis=Basis.VALUE)) - cost(data)) / (100 * h)
    assert row["usd_per_pp"] == pytest.approx(slope, rel=1e-6)
    for end in (row["valid_from"], row["valid_to"]):   # the rate holds up to both ends
        inside = end + (0.5 - end) * 1e-3
        assert cost(capped(inside, basis=Basis.VALUE)) == pytest.approx(
            cost(data) + row["usd_per_pp"] * 100 * (0.5 - inside), rel=1e-7)


def test_embedded_min_share(solve):
    """A floor on Australian origin at the magnet stage: 30 % must be Australian by
    origin, so 30 t of magnets are made from AU oxide (8 USD per t dearer)."""
    data = replace(CHAIN, limits=(Limit("AU", "magnet", min_share=0.3, scope=Scope.EMBEDDED),))
    plan = solve(data)
    assert plan.objective == pytest.approx(6000.0 + 30 * 8.0)
    row = plan.limit("AU", "magnet", "min")
    assert row["usd_per_pp"] == pytest.approx(8.0)
    assert (row["valid_from"], row["valid_to"]) == pytest.approx((0.0, 0.6))


def test_embedded_each_covers_origins_that_do_not_sell_at_the_stage(solve):
    """``each`` in embedded scope caps every origin country reaching the stage: at the
    magnet stage that includes AU (only an oxide seller)."""
    data = replace(CHAIN, limits=(Limit("each", "magnet", max_share=0.5, scope=Scope.EMBEDDED),))
    plan = solve(data)
    groups = {r["group"] for r in plan.prices["limits"]}
    assert groups == {"AU", "CN", "JP"}
    assert plan.objective == pytest.approx(6400.0)


CSV = {
    "stages": "stage,order,demand_t\noxide,1,0\nmagnet,2,100\n",
    "offers": "offer,stage,supplier,country,price_usd_per_t\nCN-OX,oxide,cn,CN,10\n"
              "AU-OX,oxide,au,AU,14\nCN-MAG,magnet,cn,CN,90\nJP-MAG,magnet,jp,JP,100\n",
    "processes": "process,from_stage,to_stage,yield,cost_usd_per_t,capacity_t\n"
                 "KR-MAG,oxide,magnet,0.5,20,60\n",
    "content": "offer,origin,share\nJP-MAG,CN,0.5\nJP-MAG,JP,0.5\n",
    "scenarios": "scenario,setting,target,value\neu,embedded_max_share,CN:magnet,0.5\n",
}


def test_cli_embedded_scenario_and_content_table(tmp_path: Path):
    for table, text in CSV.items():
        (tmp_path / f"{table}.csv").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", "--inputs", str(tmp_path), "--scenario", "eu",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["objective_usd"] == pytest.approx(6400.0)
    (row,) = out["shadow_prices"]["limits"]
    assert (row["scope"], row["usd_per_pp"]) == ("embedded", pytest.approx(8.0))
    base = CliRunner().invoke(main, ["solve", "--inputs", str(tmp_path), "--format", "json"])
    assert json.loads(base.stdout)["objective_usd"] == pytest.approx(6000.0)
