"""Whole cost of binding share limits within a count (issue 13): the largest rates
first, the rest left unmeasured, ``--whole-costs all`` for every one.

Hand case: one stage, demand 100 t; offers from A, B, C, D (US, NZ, JP, DE) at 10,
20, 30, 40 USD/t
(100 t each); no country above 30 %. The plan buys 30 t each of A, B, C and 10 t of
D: 2,200 USD. Each binding cap's rate is (40 − its price) × 100 t per unit share:
A 30, B 20, C 10 USD/pp. Without A's cap all 100 t come from A (1,000 USD): A's cap
costs 1,200; without B's, 30 A + 70 B = 1,700: 500; without C's, 30 A + 30 B + 40 C
= 2,100: 100.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from planner.cli import main

A, B, C, D = "US", "NZ", "JP", "DE"   # alphabetical (LP row) order is not rate order
WHOLE = {A: 1200.0, B: 500.0, C: 100.0}
RATE = {A: 30.0, B: 20.0, C: 10.0}


@pytest.fixture(scope="module")
def four_sellers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("four-sellers")
    tables = {
        "stages": "stage,order,demand_t\noxide,0,100\n",
        "offers": "offer,stage,supplier,country,price_usd_per_t,capacity_t\n"
                  + "".join(f"ox_{c},oxide,Seller {c},{c},{p},100\n"
                            for c, p in zip((A, B, C, D), (10, 20, 30, 40), strict=True)),
        "countries": "country,name,zone_member,groups\n"
                     + "".join(f"{c},Country {c},false,\n" for c in (A, B, C, D))
                     + "KR,Korea,false,\n",
        "limits": "group,stage,min_share,max_share,basis,scope\n"
                  "each,oxide,,0.3,volume,direct\n",
        "settings": "key,value\nbuyer,KR\n",
    }
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def limits(folder, *args: str) -> dict[str, dict]:
    result = CliRunner().invoke(main, ["solve", "--inputs", str(folder), "--format", "json",
                                       *args])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["objective_usd"] == pytest.approx(2200.0)
    return {r["group"]: r for r in plan["shadow_prices"]["limits"]}


def test_every_whole_cost_by_hand(four_sellers):
    rows = limits(four_sellers, "--whole-costs", "all")
    assert {g: r["usd_per_pp"] for g, r in rows.items() if r["binding"]} == \
        pytest.approx(RATE)
    assert {g: r["whole_cost_usd"] for g, r in rows.items() if r["binding"]} == \
        pytest.approx(WHOLE)
    assert rows[D]["binding"] is False
    assert rows[D]["whole_cost_usd"] == 0.0


@pytest.mark.parametrize(("count", "measured"), [(0, ()), (1, (A,)), (2, (A, B)),
                                             (3, (A, B, C)), (20, (A, B, C))])
def test_largest_rates_first_within_the_count(four_sellers, count, measured):
    rows = limits(four_sellers, "--whole-costs", str(count))
    for group in (A, B, C):
        expected = WHOLE[group] if group in measured else None
        assert rows[group]["whole_cost_usd"] == (pytest.approx(expected) if expected
                                                 else None), group
    assert rows[D]["whole_cost_usd"] == 0.0   # slack: known without a re-solve


def test_the_count_is_a_usage_error_when_not_a_count(four_sellers):
    result = CliRunner().invoke(main, ["solve", "--inputs", str(four_sellers),
                                       "--whole-costs", "-1"])
    assert result.exit_code == 2
    assert "--whole-costs" in result.output


def plan_json(folder, *args: str) -> dict:
    result = CliRunner().invoke(main, ["solve", "--inputs", str(folder), "--format", "json",
                                       *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_report_says_how_many_were_left_out(four_sellers):
    assert plan_json(four_sellers, "--whole-costs", "1")["whole_costs"] == {
        "measured": 1, "binding_limits": 3, "not_measured": 2,
        "measure_all": "--whole-costs all"}
    assert "whole_costs" not in plan_json(four_sellers, "--whole-costs", "3")
    table = CliRunner().invoke(main, ["solve", "--inputs", str(four_sellers),
                                      "--whole-costs", "2"]).stdout
    assert "2 of 3 binding limits measured" in table
    assert "binding limits measured" not in CliRunner().invoke(
        main, ["solve", "--inputs", str(four_sellers)]).stdout


def test_the_api_takes_a_count_or_all(four_sellers):
    import planner

    data = planner.load(four_sellers)
    some = planner.solve(data, whole_costs=1).to_json()
    every = planner.solve(data, whole_costs="all").to_json()
    assert some["whole_costs"]["measured"] == 1
    assert "whole_costs" not in every
    measured = {r["group"]: r["whole_cost_usd"] for r in every["shadow_prices"]["limits"]
                if r["binding"]}
    assert measured == pytest.approx(WHOLE)
    with pytest.raises(planner.InputError):
        planner.solve(data, whole_costs=-2)
