"""Read the links between periods of a plan over time (SPEC §3a) into labelled frames:
the path of costs, each stock's level and prices, each expansion's decisions and prices.

Prices are in each period's own money (SPEC §4): a stock row's dual divided by the
period's years × discount factor; an expansion decision's reduced cost divided by
the discount factor of the period it is decided in (a one-off cost per t/yr, which no
number of years multiplies).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from planner.models.periods import usable

if TYPE_CHECKING:
    from planner.solving.engine import PlanResult
    from planner.solving.result import Result

DAYS_PER_YEAR = 365.0


def read_links(plan: PlanResult, result: Result) -> None:
    """Fill ``result.periods``, ``result.stocks`` and ``result.expansions`` from ``plan``."""
    h = plan.horizon.model
    result.stocks = _stocks(plan, h)
    result.expansions = _expansions(plan, h)
    result.periods = _periods(plan, h, result.stocks, result.expansions)


def _declared(component, key):
    """The constraint of ``component`` at ``key``; None where there is none (no capacity,
    no maximum)."""
    try:
        return component[key]
    except KeyError:
        return None


def _rate_up(plan: PlanResult, constraint) -> float:
    """d(objective)/d(right-hand side) upward, or the dual where no rate was measured."""
    row = plan.lp_row(constraint)
    rate = plan.row_rates.get(row)
    return float(rate.rate_up if rate is not None else plan.solution.row_dual[row])


def _stocks(plan: PlanResult, h) -> pd.DataFrame:
    records = []
    first = plan.views[0]
    for view in plan.views:
        t, block = view.period, view.built.model
        demand = {s.stage: s.demand_t for s in view.data.stages}
        for stage, stock in h.stock.items():
            net = view.value(block.stock_put[stage]) - view.value(block.stock_release[stage])
            level = plan.value(h.stock_level[stage, t])
            capacity = _declared(h.stock_capacity, (stage, t))
            records.append({
                "period": t, "branch": "base", "stage": stage, "level_t": level,
                "put_t": max(net, 0.0), "release_t": max(-net, 0.0),
                "demand_t": demand[stage],
                "days_of_cover": (level / demand[stage] * DAYS_PER_YEAR if demand[stage] > 0
                                  else math.nan),
                "floor_t": h.floor[stage, t],
                "capacity_t": math.nan if stock.capacity_t is None else stock.capacity_t,
                "holding_usd": stock.holding_usd_per_t_yr * view.years * level,
                "initial_usd_per_t": _initial_value(plan, h, stage, first),
                "floor_usd_per_t": _rate_up(plan, h.stock_floor[stage, t]) / view.weight,
                "capacity_usd_per_t": (-_rate_up(plan, capacity) / view.weight
                                       if capacity is not None else 0.0)})
    return _indexed(records, "stage")


def _initial_value(plan: PlanResult, h, stage: str, first: PlanResult) -> float:
    """One more t of initial stock: minus the rate of the first period's flow row that
    holds it (the initial origin's, for a stock split by origin), in that period's
    money. NaN for a split stock whose initial origin is none of its origins (no initial
    stock): a first tonne would add an origin, not move a row."""
    row = (_declared(h.stock_origin_flow, (h.stock[stage].initial_origin, stage,
                                           first.period))
           if stage in h.split_stocks else h.stock_flow[stage, first.period])
    return math.nan if row is None else -_rate_up(plan, row) / first.weight


def _expansions(plan: PlanResult, h) -> pd.DataFrame:
    ids = [view.period for view in plan.views]
    factors = {view.period: view.weight / view.years for view in plan.views}
    records = []
    for e, t in h.EXPANSION_DECISIONS:
        expansion, var = h.expansion[e], h.expand[e, t]
        decided = ids.index(t)
        first_use = next((ids[k] for k in range(decided, len(ids))
                          if usable(expansion, decided, k)), None)
        limit = _declared(h.expansion_limit, e)
        reduced = plan.solution.col_dual[plan._columns[id(var)]] / factors[t]
        records.append({
            "period": t, "branch": "base", "expansion": e, "target": expansion.target,
            "added_t_yr": plan.value(var), "usable_from": first_use,
            "usd_per_t_yr": expansion.usd_per_t_yr,
            "reduced_cost_usd_per_t_yr": float(reduced),
            "break_even_usd_per_t_yr": expansion.usd_per_t_yr - float(reduced),
            "cost_usd": expansion.usd_per_t_yr * plan.value(var),
            "max_t_yr": math.nan if expansion.max_t_yr is None else expansion.max_t_yr,
            "max_usd_per_t_yr": -_rate_up(plan, limit) if limit is not None else 0.0})
    return _indexed(records, "expansion")


def _periods(plan: PlanResult, h, stocks: pd.DataFrame, expansions: pd.DataFrame
             ) -> pd.DataFrame:
    """One row per period: one year's cost, the period's, its holding and the new capacity
    decided in it (all undiscounted), and discounted (these sum to the objective)."""
    holding = stocks.groupby(level="period")["holding_usd"].sum() if len(stocks) else {}
    built = expansions.groupby(level="period")["cost_usd"].sum() if len(expansions) else {}
    records = []
    for view, period in zip(plan.views, plan.horizon.periods, strict=True):
        yearly = view.yearly_cost_usd
        held = float(holding.get(view.period, 0.0)) if len(stocks) else 0.0
        records.append({
            "period": view.period, "order": period.period.order, "years": view.years,
            "discount_factor": period.period.discount_factor, "weight": view.weight,
            "cost_usd_per_yr": yearly, "cost_usd": yearly * view.years,
            "holding_usd": held,
            "expansion_usd": float(built.get(view.period, 0.0)) if len(expansions) else 0.0,
            "discounted_cost_usd": view.weight * yearly
            + (held + (float(built.get(view.period, 0.0)) if len(expansions) else 0.0))
            * period.period.discount_factor})
    return pd.DataFrame(records).set_index("period")


def _indexed(records: list[dict], key: str) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    return frame.set_index(["period", "branch", key]) if records else frame
