"""Joining vs observing under risk: the break-even probability (issue 12 point 3).

Case ZONE (by hand): one period, magnet demand 10 t; mg_cn (CN, non-member) 100 USD/t,
unlimited; mg_vault (US, member, members_only: a Project Vault release) 150 USD/t, 6 t;
benchmark 120 USD/t, so a joined buyer pays a levy of 20 USD/t on Chinese magnets;
shortage 500 USD/t. Disruption cn_stop (China closed) with probability p.
  observer: (1 − p)·1,000 + p·10·500             = 1,000 + 4,000 p
  joined:   (1 − p)·1,200 + p·(6·150 + 4·500)    = 1,200 + 1,700 p
  equal at 2,300 p = 200: p* = 2/23 ≈ 0.0870; joining is cheaper above it.

Case RESERVE: two periods with a stock bought before a stop in p2 — its optimum is
piecewise linear in the stop's probability (the reserve is worth buying only above a
threshold); the curve found must equal a fresh solve of the model at any probability.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import planner
from planner.analysis.breakeven import at_probability, break_even, curve
from planner.api import load, prepare
from planner.cli import main
from planner.solving.engine import start

ZONE = {
    "stages.csv": "stage,order,demand_t,shortage_usd_per_t\nmagnet,1,10,500\n",
    "countries.csv": "country,name,zone_member,groups\nCN,China,false,\nUS,United States,"
                     "true,\nKR,Korea,true,\n",
    "offers.csv": "offer,stage,supplier,country,price_usd_per_t,capacity_t,min_t,"
                  "freight_usd_per_t,members_only\nmg_cn,magnet,A,CN,100,,0,0,false\n"
                  "mg_vault,magnet,Vault,US,150,6,0,0,true\n",
    "benchmarks.csv": "stage,benchmark_usd_per_t\nmagnet,120\n",
    "disruptions.csv": "disruption,probability,period,duration,setting,target,value\n"
                       "cn_stop,0.05,,1,capacity_factor,CN:magnet,0\n",
    "settings.csv": "key,value\nbuyer,KR\nzone,observer\nname,zone\n",
}

RESERVE = {
    "stages.csv": "stage,order,demand_t,shortage_usd_per_t\nmagnet,1,10,1000\n",
    "countries.csv": "country,name,zone_member,groups\nCN,China,false,\nJP,Japan,true,\n"
                     "KR,Korea,true,\n",
    "offers.csv": "offer,stage,supplier,country,price_usd_per_t,capacity_t,min_t,"
                  "freight_usd_per_t\nmg_cn,magnet,A,CN,100,,0,0\nmg_jp,magnet,B,JP,150,4,0,0\n",
    "benchmarks.csv": "stage,benchmark_usd_per_t\nmagnet,110\n",
    "periods.csv": "period,order,years,discount_factor\np1,1,1,1\np2,2,1,1\n",
    "stocks.csv": "stage,initial_t,capacity_t,holding_usd_per_t_yr,min_t\nmagnet,0,,20,0\n",
    "disruptions.csv": "disruption,probability,period,duration,setting,target,value\n"
                       "cn_stop,0.2,p2,1,capacity_factor,CN:magnet,0\n",
    "settings.csv": "key,value\nbuyer,KR\nzone,observer\nname,reserve\n",
}


def folder(tmp_path: Path, tables: dict[str, str]) -> Path:
    for name, text in tables.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def both(path: Path, **settings):
    raw = load(path).dataset
    return [replace(prepare(raw, zone=zone)[0], **settings) for zone in ("joined", "observer")]


def test_zone_break_even_by_hand(tmp_path):
    joined, observer = both(folder(tmp_path, ZONE))
    found = break_even(joined, observer, "cn_*")
    assert found.probability == pytest.approx(2 / 23, rel=1e-9)
    assert found.crossings == [(pytest.approx(2 / 23), "joined")]
    for t in (0.0, 0.3, 1.0):
        assert found.observer.value(t) == pytest.approx(1000 + 4000 * t)
        assert found.joined.value(t) == pytest.approx(1200 + 1700 * t)
    out = found.summary()
    assert out["cheaper_now"] == "observer"            # at 5 %, below 8.7 %
    assert out["probability_now"] == pytest.approx(0.05)


def test_no_break_even_when_joining_never_pays(tmp_path):
    """No Vault, and India (a non-member, 200 USD/t) as the other supplier; benchmark 300:
    joined pays 300 for every tonne in any future, 3,000 flat; observer 1,000 + 1,000 p
    ≤ 2,000. Joining is dearer at every probability: no break-even."""
    tables = ZONE | {
        "countries.csv": ZONE["countries.csv"] + "IN,India,false,\n",
        "offers.csv": "offer,stage,supplier,country,price_usd_per_t,capacity_t,min_t,"
                      "freight_usd_per_t\nmg_cn,magnet,A,CN,100,,0,0\n"
                      "mg_in,magnet,B,IN,200,,0,0\n",
        "benchmarks.csv": "stage,benchmark_usd_per_t\nmagnet,300\n"}
    joined, observer = both(folder(tmp_path, tables))
    found = break_even(joined, observer, "*")
    assert found.probability is None
    assert found.crossings == []
    for t in (0.0, 0.5, 1.0):
        assert found.joined.value(t) == pytest.approx(3000)
        assert found.observer.value(t) == pytest.approx(1000 + 1000 * t)


@pytest.mark.parametrize("risk_weight", [0.0, 0.7])
def test_the_curve_is_the_optimum_at_every_probability(tmp_path, risk_weight):
    """RESERVE, expected cost and a CVaR mix: the piecewise-linear curve (its breakpoints
    found by the sandwich method) equals a fresh solve of the model at 11 probabilities,
    kinks included, in both zone statuses; and it has a kink (the reserve's threshold)."""
    for data in both(folder(tmp_path, RESERVE), risk_weight=risk_weight, cvar_alpha=0.5):
        weights = {"cn_stop": 1.0}
        found = curve(data, weights, 1.0, data.zone.value)
        assert found.breakpoints(), "the reserve makes the optimum bend"
        probes = [0.0, 0.05, 0.1, 0.2, 0.33, 0.5, 0.66, 0.8, 0.95, 1.0,
                  *found.breakpoints()]
        for t in probes:
            fresh, _ = start(at_probability(data, weights, t), None)
            assert fresh.optimal
            assert found.value(t) == pytest.approx(float(fresh.solution.objective),
                                                   rel=1e-9, abs=1e-6), t


def test_cli_break_even_json_and_refusal(tmp_path):
    path = folder(tmp_path, ZONE)
    result = CliRunner().invoke(main, ["stress", "--inputs", str(path), "--break-even",
                                       "cn_*", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["break_even"]
    assert out["break_even_probability"] == pytest.approx(2 / 23)
    assert out["disruptions"] == ["cn_stop"]
    points = {p["probability"]: p["objective_usd"] for p in out["observer"]}
    assert points[0.0] == pytest.approx(1000)
    assert points[1.0] == pytest.approx(5000)
    bad = CliRunner().invoke(main, ["stress", "--inputs", str(path), "--break-even", "us-*"])
    assert bad.exit_code == 2
    assert "us-*" in bad.output


def test_api_break_even(tmp_path):
    out = planner.stress(folder(tmp_path, ZONE), break_even="*").to_json()["break_even"]
    assert out["break_even_probability"] == pytest.approx(2 / 23)


def test_compare_joined_and_observer_under_risk(tmp_path):
    """`planner compare base joined` on ZONE (π = 0.05): expected cost observer
    1,000 + 4,000·0.05 = 1,200, joined 1,200 + 1,700·0.05 = 1,285; CVaR_0.9 = the mean of
    the worst 10 % (the 5 % stop and 5 % of the base): observer (5,000 + 1,000)/2 = 3,000,
    joined (2,900 + 1,200)/2 = 2,050 — joining is dearer on average, cheaper in the tail;
    each branch's cost and unmet demand side by side."""
    tables = ZONE | {"scenarios.csv": "scenario,setting,target,value\njoined,zone,,joined\n"}
    result = CliRunner().invoke(main, ["compare", "--inputs", str(folder(tmp_path, tables)),
                                       "base", "joined", "--format", "json"])
    assert result.exit_code == 0, result.output
    base, joined = json.loads(result.stdout)["columns"]
    assert (base["expected_cost_usd"], joined["expected_cost_usd"]) == (
        pytest.approx(1200), pytest.approx(1285))
    assert (base["cvar_usd"], joined["cvar_usd"]) == (pytest.approx(3000), pytest.approx(2050))
    assert base["branches"]["cn_stop"] == {"cost_usd": pytest.approx(5000),
                                           "shortage_t": pytest.approx(10)}
    assert joined["branches"]["cn_stop"] == {"cost_usd": pytest.approx(2900),
                                             "shortage_t": pytest.approx(4)}
