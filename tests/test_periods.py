"""Plans over time (issue 11; SPEC §2, §3a, §4, §5; /work/periods-contract.md): periods,
period_values, a strategic stock, capacity expansions.

Every expected number is solved by hand in the test's docstring (each was also checked
with an independent scipy/HiGHS LP written apart from the product), and every price
checked is also checked by a re-solve with its right-hand side moved: the objective
change, divided by the weight the contract names, must equal the reported price.

Notation: period t has years y_t, discount factor df_t and weight w_t = y_t · df_t; x are
purchases in t/yr, I_t the stock level (t) at the end of t. Prices in the JSON are in the
period's own money: a raw dual ÷ w_t (demand, capacity, limits, stock floors and the
initial stock, as the contract says), ÷ df_t for the one-off expansion cost.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import planner
from planner import InputError

D = 0.01            # the right-hand side step of the finite differences
TINY = Path(__file__).parent / "data" / "tiny-chain"


# -- helpers -------------------------------------------------------------------------------

def frames(tables: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    """Tables of text cells (None = blank), as a planner would type them."""
    return {name: pd.DataFrame([{k: "" if v is None else str(v) for k, v in row.items()}
                                for row in rows])
            for name, rows in tables.items() if rows}


def run(tables: dict[str, list[dict]]) -> dict:
    plan = planner.solve(planner.load(frames(tables)))
    assert plan.status == "optimal", plan.message
    return plan.to_json()


def cost(tables: dict[str, list[dict]]) -> float:
    return run(tables)["objective_usd"]


def rows(out_rows: list[dict], **match) -> list[dict]:
    return [r for r in out_rows if all(r.get(k) == v for k, v in match.items())]


def one(out_rows: list[dict], **match) -> dict:
    found = rows(out_rows, **match)
    assert len(found) == 1, f"expected one row with {match}, got {found}"
    return found[0]


def per_period(out_rows: list[dict], field: str, **match) -> dict[str, float]:
    """period -> field, over the rows that match (one row per period)."""
    found = rows(out_rows, **match)
    result = {r["period"]: r[field] for r in found}
    assert len(result) == len(found), f"more than one row per period for {match}: {found}"
    return result


def bought(out: dict, offer: str) -> dict[str, float]:
    """period -> t/yr bought through offer (unlisted or 0: left out, SPEC §5)."""
    return {p: t for p, t in per_period(out["purchases"], "tonnes", offer=offer).items()
            if abs(t) > 1e-9}


def periods(*spec: tuple[str, float, float]) -> list[dict]:
    return [{"period": p, "order": i + 1, "years": y, "discount_factor": df}
            for i, (p, y, df) in enumerate(spec)]


def slope(base: float, moved: float, step: float = D) -> float:
    return (moved - base) / step


def near(value: float) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-4)


# -- 1. stock arbitrage: a floor that binds in period 1 -------------------------------------

def arbitrage(d1: float = 10, d2: float = 10, initial: float = 12, floor: float = 5,
              capacity: float = 40) -> dict[str, list[dict]]:
    values = [{"period": "p2", "setting": "price_factor", "target": "CN:metal", "value": 1.2}]
    for period, demand in (("p1", d1), ("p2", d2)):
        if demand != 10:
            values.append({"period": period, "setting": "demand_factor", "target": "metal",
                           "value": repr(demand / 10)})
    return {
        "stages": [{"stage": "metal", "order": 1, "demand_t": 10}],
        "offers": [{"offer": "m_cn", "stage": "metal", "supplier": "s", "country": "CN",
                    "price_usd_per_t": 100, "capacity_t": None}],
        "countries": [{"country": "CN"}, {"country": "KR"}],
        "periods": periods(("p1", 1, 1.0), ("p2", 2, 0.8)),
        "period_values": values,
        "stocks": [{"stage": "metal", "initial_t": initial, "capacity_t": capacity,
                    "holding_usd_per_t_yr": 10, "min_t": floor}],
    }


def test_stock_released_down_to_a_floor_that_binds_in_period_1():
    """Metal, demand 10 t/yr in both periods; m_cn 100 USD/t, 120 in p2 (price_factor 1.2).
    p1: 1 yr, df 1 (w 1); p2: 2 yr, df 0.8 (w 1.6). Stock: initial 12, capacity 40,
    holding 10 USD/t/yr, floor 5.

        objective = 100·x1 + 10·I1  +  1.6·120·x2 + 10·2·0.8·I2 = 100 x1 + 10 I1 + 192 x2 + 16 I2

    A tonne of the initial stock released in p1 saves a p1 purchase: 100. Carried to p2
    it costs 10 of holding in p1 and, released over 2 years (0.5 t/yr), saves
    0.5 · 192 = 96: 86 < 100. Buying in p1 to carry costs 110 > 96. So release down to
    the floor in p1 and hold exactly the floor to the end:
      p1: I1 = 5 (floor binds), net release 7 t/yr, x1 = 3;  p2: I2 = 5, x2 = 10.
      objective = 300 + 50 + 1,920 + 80 = 2,350 USD.  Capacity 40 does not bind.
    Days of cover: 5 / 10 · 365 = 182.5 in both periods.
    Periods (undiscounted per year, holding included / discounted):
      p1: 300 + 10·5 = 350 / 350;  p2: 1,200 + 10·5 = 1,250 / 0.8 · 2 · 1,250 = 2,000.

    Prices (raw dual, then ÷ w_t):
      demand p1: x1 basic, 100 → 100;  demand p2: x2 basic, 192 → 120.
      initial stock: one more t is released in p1 and replaces a purchase: value 100
        → ÷ w_p1 = 1 → 100.
      floor p1: one more t at the end of p1 only: buy 1 more in p1 (+100), hold it (+10),
        release it in p2 (0.5 t/yr less bought: −96): 14 → 14.
      floor p2: one more t at the end of p2 only: 0.5 t/yr more bought in p2 (+96), held
        (+16): 112 → ÷ 1.6 = 70.
      stock capacity: not binding, 0 in both periods.
    Unique: put and release are mirror columns (only their difference matters) and
    x1, x2, I1, I2 and the two net releases are basic against six binding rows.
    """
    out = run(arbitrage())
    assert out["objective_usd"] == near(2350)
    assert bought(out, "m_cn") == near({"p1": 3, "p2": 10})

    stock = {r["period"]: r for r in rows(out["stocks"], stage="metal")}
    assert {r["branch"] for r in out["stocks"]} == {"base"}
    assert {p: r["level_t"] for p, r in stock.items()} == near({"p1": 5, "p2": 5})
    assert {p: r["release_t"] - r["put_t"] for p, r in stock.items()} == near(
        {"p1": 7, "p2": 0})
    assert stock["p1"]["put_t"] == near(0)                     # net: one of them is 0
    assert {p: r["days_of_cover"] for p, r in stock.items()} == near(
        {"p1": 182.5, "p2": 182.5})

    period_rows = {r["period"]: r for r in out["periods"]}
    assert {p: r["discounted_cost_usd"] for p, r in period_rows.items()} == near(
        {"p1": 350, "p2": 2000})
    # The contract leaves open whether the undiscounted costs include holding; a row that
    # reports holding apart ("holding_usd", whole period) may leave it out of them.
    years = {"p1": 1, "p2": 2}
    with_holding = {p: r["cost_usd_per_yr"] + r.get("holding_usd", 0) / years[p]
                    for p, r in period_rows.items()}
    assert with_holding == near({"p1": 350, "p2": 1250})
    assert {p: r["cost_usd"] for p, r in period_rows.items()} == near(
        {p: r["cost_usd_per_yr"] * years[p] for p, r in period_rows.items()})

    prices = out["shadow_prices"]
    assert per_period(prices["demand"], "usd_per_t", stage="metal") == near(
        {"p1": 100, "p2": 120})
    stock_prices = {r["period"]: r for r in rows(prices["stocks"], stage="metal")}
    assert {p: r["initial_usd_per_t"] for p, r in stock_prices.items()} == near(
        {"p1": 100, "p2": 100})
    assert {p: r["floor_usd_per_t"] for p, r in stock_prices.items()} == near(
        {"p1": 14, "p2": 70})
    assert {p: r["capacity_usd_per_t"] for p, r in stock_prices.items()} == near(
        {"p1": 0, "p2": 0})


def test_stock_prices_match_re_solves():
    """The prices above by finite differences (w_p1 = 1, w_p2 = 1.6):
      demand p1 ±δ: ±100;  demand p2 ±δ: ±192 = 120 · 1.6;
      initial +δ and −δ: −100 and +100 (value 100 · w_p1);
      floor (min_t moves the floor of BOTH periods): 14 · 1 + 70 · 1.6 = 126 either way;
      capacity +δ: 0.
    """
    base = cost(arbitrage())
    assert base == near(2350)
    assert slope(base, cost(arbitrage(d1=10 + D))) == near(100)
    assert slope(base, cost(arbitrage(d1=10 - D)), -D) == near(100)
    assert slope(base, cost(arbitrage(d2=10 + D))) == near(120 * 1.6)
    assert slope(base, cost(arbitrage(d2=10 - D)), -D) == near(120 * 1.6)
    assert -slope(base, cost(arbitrage(initial=12 + D))) == near(100 * 1)
    assert -slope(base, cost(arbitrage(initial=12 - D)), -D) == near(100 * 1)
    assert slope(base, cost(arbitrage(floor=5 + D))) == near(14 * 1 + 70 * 1.6)
    assert slope(base, cost(arbitrage(floor=5 - D)), -D) == near(14 * 1 + 70 * 1.6)
    assert slope(base, cost(arbitrage(capacity=40 + D))) == near(0)


def long_first_period(initial: float = 4, floor: float = 1) -> dict[str, list[dict]]:
    return {
        "stages": [{"stage": "metal", "order": 1, "demand_t": 10}],
        "offers": [{"offer": "m_cn", "stage": "metal", "supplier": "s", "country": "CN",
                    "price_usd_per_t": 100, "capacity_t": None}],
        "periods": periods(("p1", 2, 0.9)),
        "stocks": [{"stage": "metal", "initial_t": initial, "capacity_t": None,
                    "holding_usd_per_t_yr": 5, "min_t": floor}],
    }


def test_stock_prices_in_a_two_year_first_period_are_divided_by_its_weight():
    """One period of 2 years, df 0.9 (w 1.8); demand 10 t/yr at 100; stock initial 4,
    floor 1, holding 5. The 3 t above the floor are released over 2 years (1.5 t/yr):
    x = 8.5; objective = 1.8 · 850 + 5 · 2 · 1 · 0.9 = 1,530 + 9 = 1,539 USD.
      initial +1 t: 0.5 t/yr less bought: raw −90; contract ÷ w = 1.8 → 50.
      floor +1 t: 0.5 t/yr more bought (+90) and held (+9): raw 99 → ÷ 1.8 = 55.
    (The contract divides these tonne-valued prices by years × df, the weight of a t/yr;
    per tonne in p1's own money they would be 100 and 110, ÷ df only. This test pins
    the contract as written: see the report.)
    """
    out = run(long_first_period())
    assert out["objective_usd"] == near(1539)
    [stock] = rows(out["shadow_prices"]["stocks"], stage="metal")
    assert stock["initial_usd_per_t"] == near(50)
    assert stock["floor_usd_per_t"] == near(55)
    base = out["objective_usd"]
    assert -slope(base, cost(long_first_period(initial=4 + D))) == near(50 * 1.8)
    assert slope(base, cost(long_first_period(floor=1 + D))) == near(55 * 1.8)


# -- 2. an expansion with a lead time ------------------------------------------------------

def expansion(usd: float, max_t_yr: float = 5, au_capacity: float = 2) -> dict[str, list[dict]]:
    return {
        "stages": [{"stage": "metal", "order": 1, "demand_t": 10}],
        "offers": [
            {"offer": "a_au", "stage": "metal", "supplier": "s", "country": "AU",
             "price_usd_per_t": 100, "capacity_t": au_capacity},
            {"offer": "m_cn", "stage": "metal", "supplier": "s", "country": "CN",
             "price_usd_per_t": 200, "capacity_t": None}],
        "countries": [{"country": "AU"}, {"country": "CN"}, {"country": "KR"}],
        "periods": periods(("p1", 1, 1.0), ("p2", 1, 0.9), ("p3", 2, 0.8)),
        "expansions": [{"expansion": "mine", "target": "a_au", "usd_per_t_yr": usd,
                        "max_t_yr": max_t_yr, "lead_periods": 2, "from_period": None}],
    }


def test_an_expansion_that_pays_is_usable_two_periods_later_up_to_its_max():
    """Metal, demand 10 t/yr; a_au 100 USD/t, capacity 2; m_cn 200, unlimited. Periods
    p1 (1 yr, df 1, w 1), p2 (1 yr, df 0.9, w 0.9), p3 (2 yr, df 0.8, w 1.6). Expansion
    `mine` of a_au: 60 USD per t/yr, at most 5 t/yr, lead 2: decided in p1 it is usable in
    p3 only; decided in p2 or p3 it is never usable.
    Without it: 2 · 100 + 8 · 200 = 1,800 per year, × (1 + 0.9 + 1.6) = 6,300.
    One t/yr decided in p1 moves 1 t/yr of p3 from China to Australia: saves 100 · 1.6 =
    160, costs 60 · df_p1 = 60: it pays, up to the max: a = 5 in p1, usable from p3.
      p3: a_au 7, m_cn 3 (1,300 per year); p1, p2 unchanged (a_au 2: not usable yet).
      objective = 1,800 + 0.9 · 1,800 + 1.6 · 1,300 + 60 · 5 = 5,800 USD (= 6,300 − 5 · 100).
    Prices: max_t_yr binds, worth 160 − 60 = 100 per t/yr (present value). The p1 decision
    is used: reduced cost 0, break-even = 60 − 0 = 60. Demand 200 and a_au capacity
    100 in every period (m_cn is at the margin everywhere, also in p3).
    Non-degenerate: a_au, m_cn in 3 periods and a_p1 basic against 3 balances, 3 capacity
    rows and the max row.
    """
    out = run(expansion(60))
    assert out["objective_usd"] == near(5800)
    assert bought(out, "a_au") == near({"p1": 2, "p2": 2, "p3": 7})
    assert bought(out, "m_cn") == near({"p1": 8, "p2": 8, "p3": 3})

    added = {r["period"]: r for r in rows(out["expansions"], expansion="mine")}
    assert added["p1"]["added_t_yr"] == near(5)
    assert added["p1"]["usable_from"] == "p3"
    assert added["p1"]["target"] == "a_au"
    assert all(r["added_t_yr"] == near(0) for p, r in added.items() if p != "p1")

    prices = out["shadow_prices"]
    assert per_period(prices["demand"], "usd_per_t", stage="metal") == near(
        {"p1": 200, "p2": 200, "p3": 200})
    assert per_period(prices["capacity"], "usd_per_t", offer="a_au") == near(
        {"p1": 100, "p2": 100, "p3": 100})
    e = {r["period"]: r for r in rows(prices["expansions"], expansion="mine")}
    assert e["p1"]["reduced_cost_usd_per_t_yr"] == near(0)
    assert e["p1"]["break_even_usd_per_t_yr"] == near(60)
    assert {p: r["max_usd_per_t_yr"] for p, r in e.items()} == near(
        {"p1": 100, "p2": 100, "p3": 100})


def test_a_useless_decision_under_a_binding_max_costs_its_price_plus_the_max_value():
    """Same plan (60 USD per t/yr). A t/yr decided in p2 or p3 is never usable and, with
    the max binding, takes a t/yr from the p1 decision: its reduced cost (present value)
    is the cost 60 · df plus the max's value 100: p2 (54 + 100)/0.9 = 171.11, break-even
    60 − 171.11 = −111.11; p3 (48 + 100)/0.8 = 185, break-even −125. Unique: the optimum
    is non-degenerate (see above)."""
    e = {r["period"]: r for r in rows(run(expansion(60))["shadow_prices"]["expansions"],
                                      expansion="mine")}
    assert e["p2"]["reduced_cost_usd_per_t_yr"] == near(154 / 0.9)
    assert e["p2"]["break_even_usd_per_t_yr"] == near(60 - 154 / 0.9)
    assert e["p3"]["reduced_cost_usd_per_t_yr"] == near(185)
    assert e["p3"]["break_even_usd_per_t_yr"] == near(-125)


def test_the_api_json_of_an_expansion_plan_is_strict_json():
    """SPEC §7: to_json() is the CLI's JSON object. Decisions of p2 and p3 are never
    usable in a 3-period horizon with lead 2: their usable_from has no period — null in
    JSON (the CLI prints null), never a float NaN, which JSON cannot hold."""
    out = run(expansion(60))
    json.dumps(out, allow_nan=False)
    usable = {r["period"]: r["usable_from"] for r in out["expansions"]}
    assert usable["p1"] == "p3"
    assert all(usable.get(p) is None for p in ("p2", "p3"))


def test_expansion_prices_that_pay_match_re_solves():
    """max_t_yr 5 + δ: 100 · δ less (the max's value). Cost 60 ± δ: ± 5 · δ (5 t/yr
    decided in p1, df 1). a_au's capacity + δ raises it in all three periods:
    −100 · (1 + 0.9 + 1.6) = −350 per t. Demand p3 is not moved here (see the stock case)."""
    base = cost(expansion(60))
    assert -slope(base, cost(expansion(60, max_t_yr=5 + D))) == near(100)
    assert slope(base, cost(expansion(60 + D))) == near(5)
    assert slope(base, cost(expansion(60 - D)), -D) == near(5)
    assert -slope(base, cost(expansion(60, au_capacity=2 + D))) == near(100 * 3.5)


def test_an_expansion_that_does_not_pay_reports_its_break_even():
    """Same data, the expansion at 200 USD per t/yr: a t/yr decided in p1 saves 160 (as
    above) and costs 200: nothing is added; objective 6,300 USD.
      p1: reduced cost (200 − 160)/df 1 = 40, break-even 200 − 40 = 160.
      p2: never usable: reduced cost (0.9 · 200 − 0)/0.9 = 200, break-even 0.
      p3: never usable: (0.8 · 200)/0.8 = 200, break-even 0 (÷ df only: ÷ w = 1.6 would
          give 100).
      max_t_yr does not bind: 0.
    """
    out = run(expansion(200))
    assert out["objective_usd"] == near(6300)
    assert all(r["added_t_yr"] == near(0) for r in out["expansions"])
    assert bought(out, "a_au") == near({"p1": 2, "p2": 2, "p3": 2})
    e = {r["period"]: r for r in rows(out["shadow_prices"]["expansions"], expansion="mine")}
    assert {p: r["reduced_cost_usd_per_t_yr"] for p, r in e.items()} == near(
        {"p1": 40, "p2": 200, "p3": 200})
    assert {p: r["break_even_usd_per_t_yr"] for p, r in e.items()} == near(
        {"p1": 160, "p2": 0, "p3": 0})
    assert {p: r["max_usd_per_t_yr"] for p, r in e.items()} == near(
        {"p1": 0, "p2": 0, "p3": 0})


def test_the_break_even_cost_matches_re_solves():
    """Just below the break-even (160 − δ) the plan adds the max, 5 t/yr in p1, gaining
    δ per t/yr: 6,300 − 5 δ; just above (160 + δ) it adds nothing: 6,300. Cost 200 ± δ
    changes nothing (reduced cost 40 > δ); max_t_yr + δ neither."""
    assert cost(expansion(160 - D)) == near(6300 - 5 * D)
    out = run(expansion(160 - D))
    assert one(out["expansions"], expansion="mine", period="p1")["added_t_yr"] == near(5)
    assert cost(expansion(160 + D)) == near(6300)
    assert cost(expansion(200 - D)) == near(6300)
    assert cost(expansion(200, max_t_yr=5 + D)) == near(6300)


# -- 3. a cap trajectory ---------------------------------------------------------------------

def trajectory(p1: float = 0.8, p2: float = 0.6, p3: float = 0.5,
               demand_p2: float = 10) -> dict[str, list[dict]]:
    values = [{"period": "p2", "setting": "max_share", "target": "CN:magnet", "value": p2},
              {"period": "p3", "setting": "max_share", "target": "CN:magnet", "value": p3}]
    if demand_p2 != 10:
        values.append({"period": "p2", "setting": "demand_factor", "target": "magnet",
                       "value": repr(demand_p2 / 10)})
    return {
        "stages": [{"stage": "magnet", "order": 1, "demand_t": 10}],
        "offers": [
            {"offer": "mag_cn", "stage": "magnet", "supplier": "s", "country": "CN",
             "price_usd_per_t": 100, "capacity_t": None},
            {"offer": "mag_jp", "stage": "magnet", "supplier": "s", "country": "JP",
             "price_usd_per_t": 150, "capacity_t": None}],
        "countries": [{"country": "CN"}, {"country": "JP"}, {"country": "KR"}],
        "limits": [{"group": "CN", "stage": "magnet", "min_share": None, "max_share": p1,
                    "basis": "volume", "scope": "direct"}],
        "periods": periods(("p1", 1, 1.0), ("p2", 1, 0.9), ("p3", 1, 0.8)),
        "period_values": values,
    }


def test_a_tightening_cap_trajectory_is_priced_per_period_in_own_money():
    """Magnets, demand 10 t/yr; China 100, Japan 150, both unlimited. China's cap: 80 % in
    the limits table (p1), 60 % in p2 and 50 % in p3 by period_values. Periods of 1 year,
    df 1, 0.9, 0.8. China fills its cap in each period:
      p1: CN 8, JP 2: 1,100;  p2: CN 6, JP 4: 1,200;  p3: CN 5, JP 5: 1,250 per year.
      objective = 1,100 + 0.9 · 1,200 + 0.8 · 1,250 = 1,100 + 1,080 + 1,000 = 3,180 USD.
    One pp tighter moves 0.1 t/yr from China to Japan: + 5 USD per year in every period:
    5 USD/pp in own money (raw 5, 4.5, 4). Demand: one more t/yr is split at the cap:
    p1 0.8·100 + 0.2·150 = 110; p2 120; p3 125. Non-degenerate (two offers basic
    against the balance and the cap in each period).
    """
    out = run(trajectory())
    assert out["objective_usd"] == near(3180)
    assert bought(out, "mag_cn") == near({"p1": 8, "p2": 6, "p3": 5})
    assert bought(out, "mag_jp") == near({"p1": 2, "p2": 4, "p3": 5})
    share = per_period(out["shares"], "share", group="CN", stage="magnet", basis="volume",
                       scope="direct")
    assert share == near({"p1": 0.8, "p2": 0.6, "p3": 0.5})
    prices = out["shadow_prices"]
    limit = per_period(prices["limits"], "usd_per_pp", group="CN", stage="magnet", bound="max")
    assert limit == near({"p1": 5, "p2": 5, "p3": 5})
    assert per_period(prices["demand"], "usd_per_t", stage="magnet") == near(
        {"p1": 110, "p2": 120, "p3": 125})


def test_cap_trajectory_prices_match_re_solves():
    """Each period's cap moved alone by ± 1 pp (p1 through the limits table: period_values
    replace it in p2 and p3, so only p1 moves): objective ± 5 · w_t = 5, 4.5, 4. Demand of
    p2 + δ: 120 · 0.9."""
    base = cost(trajectory())
    for kwargs, weight in (({"p1": 0.79}, 1.0), ({"p2": 0.59}, 0.9), ({"p3": 0.49}, 0.8)):
        assert cost(trajectory(**kwargs)) - base == near(5 * weight), kwargs
    for kwargs, weight in (({"p1": 0.81}, 1.0), ({"p2": 0.61}, 0.9), ({"p3": 0.51}, 0.8)):
        assert base - cost(trajectory(**kwargs)) == near(5 * weight), kwargs
    assert slope(base, cost(trajectory(demand_p2=10 + D))) == near(120 * 0.9)


# -- 4. the zone joined from the second period ----------------------------------------------

def zone_path(n_periods: int = 2, vault: float = 3, demand_p2: float = 10) -> dict:
    values = [{"period": "p2", "setting": "zone", "target": None, "value": "joined"}]
    if demand_p2 != 10:
        values.append({"period": "p2", "setting": "demand_factor", "target": "oxide",
                       "value": repr(demand_p2 / 10)})
    return {
        "stages": [{"stage": "oxide", "order": 1, "demand_t": 10}],
        "offers": [
            {"offer": "ox_cn", "stage": "oxide", "supplier": "s", "country": "CN",
             "price_usd_per_t": 100, "capacity_t": None, "members_only": "false"},
            {"offer": "ox_au", "stage": "oxide", "supplier": "s", "country": "AU",
             "price_usd_per_t": 115, "capacity_t": None, "members_only": "false"},
            {"offer": "vault", "stage": "oxide", "supplier": "Vault", "country": "US",
             "price_usd_per_t": 90, "capacity_t": vault, "members_only": "true"}],
        "countries": [{"country": "CN", "zone_member": "false"},
                      {"country": "AU", "zone_member": "true"},
                      {"country": "US", "zone_member": "true"},
                      {"country": "KR", "zone_member": "true"}],
        "tariffs": [{"country": "*", "stage": "*", "mfn_rate": 0.1, "zone_rate": 0}],
        "benchmarks": [{"stage": "oxide", "benchmark_usd_per_t": 120}],
        "settings": [{"key": "buyer", "value": "KR"}, {"key": "zone", "value": "observer"}],
        "periods": periods(*[("p1", 1, 1.0), ("p2", 1, 0.9), ("p3", 1, 0.8)][:n_periods]),
        "period_values": values,
    }


def test_zone_joined_from_the_second_period():
    """Oxide, demand 10 t/yr. MFN duty 10 % on everything, zone rate 0; benchmark 120.
    p1 observer: CN 100 · 1.1 = 110; AU 115 · 1.1 = 126.5; the Vault (members only) shut.
      Buy 10 CN: 1,100.
    p2 joined (period_values zone joined): CN 110 + levy (120 − 100) = 130; AU 115 (zone
      rate 0); Vault 90 (US, member), capacity 3. Buy 3 Vault + 7 AU: 270 + 805 = 1,075.
    Periods 1 year, df 1 and 0.9: objective = 1,100 + 0.9 · 1,075 = 2,067.5 USD.
    Prices in own money: demand p1 110 (CN at the margin), p2 115 (AU); Vault's capacity
    in p2 115 − 90 = 25. Reduced costs: p1 AU 126.5 − 110 = 16.5; p2 CN 130 − 115 = 15.
    """
    out = run(zone_path())
    assert out["objective_usd"] == near(2067.5)
    assert bought(out, "ox_cn") == near({"p1": 10})
    assert bought(out, "ox_au") == near({"p2": 7})
    assert bought(out, "vault") == near({"p2": 3})
    landed = {(r["offer"], r["period"]): r["landed_usd_per_t"] for r in out["purchases"]}
    assert landed == near({("ox_cn", "p1"): 110, ("ox_au", "p2"): 115, ("vault", "p2"): 90})
    prices = out["shadow_prices"]
    assert per_period(prices["demand"], "usd_per_t", stage="oxide") == near(
        {"p1": 110, "p2": 115})
    assert one(prices["capacity"], offer="vault", period="p2")["usd_per_t"] == near(25)
    reduced = {(r["offer"], r["period"]): r["reduced_cost_usd_per_t"]
               for r in prices["reduced_costs"]}
    assert reduced[("ox_au", "p1")] == near(16.5)
    assert reduced[("ox_cn", "p2")] == near(15)

    base = out["objective_usd"]
    assert -slope(base, cost(zone_path(vault=3 + D))) == near(25 * 0.9)
    assert slope(base, cost(zone_path(demand_p2=10 + D))) == near(115 * 0.9)


def test_a_period_value_is_not_carried_to_the_next_period():
    """As above with a third period (1 year, df 0.8) that has no period_values: the buyer
    is an observer again, the Vault shut, CN at 110: objective 2,067.5 + 0.8 · 1,100 =
    2,947.5 USD; demand price in p3 110."""
    out = run(zone_path(n_periods=3))
    assert out["objective_usd"] == near(2947.5)
    assert bought(out, "ox_cn") == near({"p1": 10, "p3": 10})
    assert "p3" not in bought(out, "vault")
    assert one(out["shadow_prices"]["demand"], stage="oxide", period="p3")["usd_per_t"] == \
        near(110)


# -- 5. discounting --------------------------------------------------------------------------

def discounted(weights: bool = True, demand_p2: float = 15, capacity: float = 4) -> dict:
    spec = (("p1", 2, 1.0), ("p2", 3, 0.7)) if weights else (("p1", 1, 1.0), ("p2", 1, 1.0))
    return {
        "stages": [{"stage": "metal", "order": 1, "demand_t": 10}],
        "offers": [
            {"offer": "a_au", "stage": "metal", "supplier": "s", "country": "AU",
             "price_usd_per_t": 100, "capacity_t": capacity},
            {"offer": "b_jp", "stage": "metal", "supplier": "s", "country": "JP",
             "price_usd_per_t": 130, "capacity_t": None}],
        "periods": periods(*spec),
        "period_values": [{"period": "p2", "setting": "demand_factor", "target": "metal",
                           "value": repr(demand_p2 / 10)}],
    }


def test_discounting_weighs_the_objective_and_leaves_prices_in_own_money():
    """Metal: a_au 100 (capacity 4), b_jp 130; demand 10 t/yr in p1, 15 in p2
    (demand_factor 1.5). Nothing links the periods, so the plan is the same whatever the
    weights: p1 a 4 + b 6 = 1,180 per year; p2 a 4 + b 11 = 1,830 per year.
      years 1, df 1 both:        objective 1,180 + 1,830 = 3,010 USD.
      p1 2 yr df 1 (w 2), p2 3 yr df 0.7 (w 2.1): 2 · 1,180 + 2.1 · 1,830 = 2,360 + 3,843
                                                  = 6,203 USD.
    Prices are undiscounted in both: demand 130, a_au's capacity 30 in each period.
    Periods: cost_usd_per_yr 1,180 / 1,830; cost_usd 2,360 / 5,490; discounted 2,360 /
    3,843 (sum 6,203).
    """
    flat, weighted = run(discounted(weights=False)), run(discounted())
    assert flat["objective_usd"] == near(3010)
    assert weighted["objective_usd"] == near(6203)
    for out in (flat, weighted):
        assert bought(out, "a_au") == near({"p1": 4, "p2": 4})
        assert bought(out, "b_jp") == near({"p1": 6, "p2": 11})
        prices = out["shadow_prices"]
        assert per_period(prices["demand"], "usd_per_t", stage="metal") == near(
            {"p1": 130, "p2": 130})
        assert per_period(prices["capacity"], "usd_per_t", offer="a_au") == near(
            {"p1": 30, "p2": 30})
    period_rows = {r["period"]: r for r in weighted["periods"]}
    assert {p: (r["years"], r["discount_factor"]) for p, r in period_rows.items()} == {
        "p1": (2, 1.0), "p2": (3, 0.7)}
    assert {p: r["cost_usd_per_yr"] for p, r in period_rows.items()} == near(
        {"p1": 1180, "p2": 1830})
    assert {p: r["cost_usd"] for p, r in period_rows.items()} == near(
        {"p1": 2360, "p2": 5490})
    assert {p: r["discounted_cost_usd"] for p, r in period_rows.items()} == near(
        {"p1": 2360, "p2": 3843})
    assert sum(r["discounted_cost_usd"] for r in period_rows.values()) == near(
        weighted["objective_usd"])


def test_discounted_prices_match_re_solves():
    """Demand of p2 ± δ: ± 130 · 2.1; a_au's capacity + δ (both periods): −30 · (2 + 2.1)."""
    base = cost(discounted())
    assert slope(base, cost(discounted(demand_p2=15 + D))) == near(130 * 2.1)
    assert slope(base, cost(discounted(demand_p2=15 - D)), -D) == near(130 * 2.1)
    assert -slope(base, cost(discounted(capacity=4 + D))) == near(30 * 4.1)


# -- 7. one period is the model of §3 --------------------------------------------------------

def tiny_frames() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted(TINY.glob("*.csv"))}


def same_numbers(without: object, with_periods: object, where: str = "",
                 keys_missing_ok: bool = False) -> None:
    """Every value of the JSON without periods equals the one with a periods table, the
    "period" fields (and the manifest: hashes, times) aside. Keys the periods table adds
    (e.g. "periods") are allowed; with ``keys_missing_ok`` a key the periods JSON lacks is
    skipped (the key sets are compared by their own test)."""
    if isinstance(without, dict):
        assert isinstance(with_periods, dict), where
        for key, value in without.items():
            if key in ("period", "manifest"):
                continue
            if keys_missing_ok and key not in with_periods:
                continue
            assert key in with_periods, f"{where}.{key} missing with a periods table"
            same_numbers(value, with_periods[key], f"{where}.{key}", keys_missing_ok)
    elif isinstance(without, list):
        assert isinstance(with_periods, list), where
        assert len(without) == len(with_periods), where
        for i, (a, b) in enumerate(zip(without, with_periods, strict=True)):
            same_numbers(a, b, f"{where}[{i}]", keys_missing_ok)
    elif isinstance(without, float) and isinstance(with_periods, float | int):
        assert with_periods == pytest.approx(without, rel=1e-9, abs=1e-9), where
    else:
        assert with_periods == without, where


def both_ways(scenario: str | None) -> tuple[dict, dict]:
    """tiny-chain solved as it is, and with a periods table of one period (years 1,
    df 1), no stocks, no expansions."""
    without = planner.solve(planner.load(tiny_frames()), scenario=scenario).to_json()
    with_table = tiny_frames()
    with_table["periods"] = pd.DataFrame(
        [{"period": "y2025", "order": "1", "years": "1", "discount_factor": "1"}])
    with_periods = planner.solve(planner.load(with_table), scenario=scenario).to_json()
    assert without["status"] == with_periods["status"] == "optimal"
    return without, with_periods


SCENARIOS = [None, "join", "order", "double-magnets"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_period_table_gives_the_same_numbers_as_no_periods_table(scenario):
    """tiny-chain (stages, offers, a process, a cap, benchmarks, zone members,
    scenarios): SPEC §3a "with one period and no stocks or expansions the model is exactly
    §3" — every value both JSON objects carry is the same, number for number (top-level
    "zone" included: the scenario `join` joins in the one period), and the periods one
    adds a "period" field to its rows."""
    without, with_periods = both_ways(scenario)
    same_numbers(without, with_periods, keys_missing_ok=True)
    for table in ("purchases", "production", "shares"):
        assert all(r.get("period") == "y2025" for r in with_periods[table]), table
    assert all(r["period"] == "y2025" for r in with_periods["shadow_prices"]["demand"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_period_table_keeps_every_key_of_the_one_period_json(scenario):
    """The same two solves: no key of the JSON without periods (at any depth) is missing
    from the JSON with a one-period table (e.g. "totals": duty, levy, cost of joining)."""
    without, with_periods = both_ways(scenario)
    same_numbers(without, with_periods)


# -- bad input (SPEC §6) ---------------------------------------------------------------------

def write_table(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.csv").write_text(text, encoding="utf-8")


PERIODS = "period,order,years,discount_factor\np1,1,1,1\np2,2,1,0.9\n"

BAD = {
    "unknown period in period_values": (
        {"periods": PERIODS,
         "period_values": "period,setting,target,value\np2,demand_factor,magnet,1.1\n"
                          "p9,demand_factor,magnet,1.2\n"},
        ("period_values", 3, "period", "p9")),
    "expansion of an offer without a capacity": (
        {"periods": PERIODS,
         "expansions": "expansion,target,usd_per_t_yr,max_t_yr,lead_periods,from_period\n"
                       "grow,ox_cn,50,,0,\n"},
        ("expansions", 2, "target", "ox_cn")),
    "expansion of a process without a capacity": (
        {"periods": PERIODS,
         "expansions": "expansion,target,usd_per_t_yr,max_t_yr,lead_periods,from_period\n"
                       "plant,kr_magnets,50,,0,\n"},
        ("expansions", 2, "target", "kr_magnets")),
    "expansion target neither an offer nor a process": (
        {"periods": PERIODS,
         "expansions": "expansion,target,usd_per_t_yr,max_t_yr,lead_periods,from_period\n"
                       "ghost,no_such_offer,50,,0,\n"},
        ("expansions", 2, "target", "no_such_offer")),
    "stock of an unknown stage": (
        {"periods": PERIODS,
         "stocks": "stage,initial_t,capacity_t,holding_usd_per_t_yr,min_t\n"
                   "magnet,1,,0,0\nunobtainium,5,,0,0\n"},
        ("stocks", 3, "stage", "unobtainium")),
    "duplicate period order": (
        {"periods": "period,order,years,discount_factor\np1,1,1,1\np2,1,1,0.9\n"},
        ("periods", 3, "order", "1")),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_period_input_names_table_row_column_value(tmp_path, case):
    tables, (table, row, column, value) = BAD[case]
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    for name, text in tables.items():
        write_table(folder, name, text)
    with pytest.raises(InputError) as caught:
        planner.solve(planner.load(folder))
    found = [p for p in caught.value.problems
             if Path(str(p.table)).stem == table and p.row == row and p.column == column
             and str(p.value) == value]
    assert found, f"no problem at {table} row {row} column {column} value {value!r}: " \
                  f"{[str(p) for p in caught.value.problems]}"
    assert all(p.expected for p in found)
