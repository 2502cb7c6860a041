"""The whole cost of each rule, the cost of joining the zone, and concentration
metrics before and after optimisation (issue 4, parts 3 and 4), on the tiny chain.

Hand values (tests/data/tiny-chain: oxide demand 20 t, magnet 10 t, CN ≤ 40 % of oxide):
- with the cap: 4,100 (conformance derivation). Without it all oxide is Chinese at 50,
  so Korean magnets cost 2 × 50 + 100 = 200 < 250: 40 t CN oxide (2,000) + 10 t made
  (1,000) = 3,000. The cap's whole cost is 1,100 (its next point costs 10 USD/pp).
- joined (benchmarks oxide 90, magnet 295; CN not a member): 4,840 (tests/data README),
  so joining costs 740.
- shares after: oxide CN 0.4 / AU 0.6 → HHI 1,600 + 3,600 = 5,200; magnet CN 1 → 10,000.
  Before (no limits): oxide CN 1 → 10,000; magnet made at home, KR 1 → 10,000, CN 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main

TINY = Path(__file__).parent / "data" / "tiny-chain"


@pytest.fixture(scope="module")
def plan() -> dict:
    result = CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_whole_cost_of_a_binding_cap(plan):
    (cap,) = [r for r in plan["shadow_prices"]["limits"] if r["group"] == "CN"]
    assert cap["usd_per_pp"] == pytest.approx(10.0)
    assert cap["whole_cost_usd"] == pytest.approx(1100.0)


def test_whole_cost_of_a_slack_limit_is_zero():
    result = CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--cap",
                                       "AU:oxide=0.9", "--format", "json"])
    rows = json.loads(result.stdout)["shadow_prices"]["limits"]
    (au,) = [r for r in rows if r["group"] == "AU"]
    assert au["binding"] is False
    assert au["whole_cost_usd"] == 0.0


def test_cost_of_joining_the_zone(plan):
    assert plan["totals"]["cost_of_joining_usd"] == pytest.approx(740.0)
    joined = CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--zone", "joined",
                                       "--format", "json"])
    assert json.loads(joined.stdout)["totals"]["cost_of_joining_usd"] == pytest.approx(740.0)


MEMBERS_ONLY = {
    "stages.csv": "stage,order,demand_t\nmagnet,1,10\n",
    "countries.csv": "country,name,zone_member,groups\nCN,China,false,\nJP,Japan,true,\n"
                     "US,United States,true,\nKR,Korea,true,\n",
    "offers.csv": "offer,stage,supplier,country,price_usd_per_t,capacity_t,min_t,"
                  "freight_usd_per_t,members_only\nmg_cn,magnet,A,CN,100,5,0,0,false\n"
                  "mg_jp,magnet,B,JP,200,,0,0,false\nmg_vault,magnet,Vault,US,120,4,0,0,true\n",
    "settings.csv": "key,value\nbuyer,KR\nzone,observer\n",
}


@pytest.mark.parametrize("zone", ["observer", "joined"])
def test_cost_of_joining_opens_members_only_offers(tmp_path, zone):
    """No levy, no duty: joining only opens the Vault (120 USD/t, 4 t) to a buyer whose
    marginal tonne comes from Japan at 200. Observer 5·100 + 5·200 = 1,500; joined
    5·100 + 4·120 + 1·200 = 1,180: joining costs −320, seen from either side."""
    for name, text in MEMBERS_ONLY.items():
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["solve", "--inputs", str(tmp_path), "--zone", zone,
                                       "--format", "json"])
    out = json.loads(result.stdout)
    assert out["objective_usd"] == pytest.approx(1500 if zone == "observer" else 1180)
    assert out["totals"]["cost_of_joining_usd"] == pytest.approx(-320.0)


def test_concentration_before_and_after(plan):
    rows = {r["stage"]: r for r in plan["concentration"]}
    assert rows["oxide"]["hhi_after"] == pytest.approx(5200.0)
    assert rows["oxide"]["cn_after"] == pytest.approx(0.4)
    assert rows["oxide"]["top3_after"] == pytest.approx(1.0)
    assert rows["oxide"]["hhi_before"] == pytest.approx(10000.0)
    assert rows["oxide"]["cn_before"] == pytest.approx(1.0)
    assert rows["magnet"]["hhi_after"] == pytest.approx(10000.0)
    assert rows["magnet"]["cn_after"] == pytest.approx(1.0)
    assert rows["magnet"]["cn_before"] == pytest.approx(0.0)
