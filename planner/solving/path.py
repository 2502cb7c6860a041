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

import numpy as np
import pandas as pd

from planner.models.periods import ancestry, usable

if TYPE_CHECKING:
    from planner.solving.engine import PlanResult
    from planner.solving.result import Result

DAYS_PER_YEAR = 365.0


def read_links(plan: PlanResult, result: Result) -> None:
    """Fill ``result.periods`` (one row per node), ``stocks``, ``expansions`` and the
    branches with their costs, expected cost and CVaR, from ``plan``."""
    h = plan.horizon.model
    result.stocks = _stocks(plan, h)
    result.expansions = _expansions(plan, h)
    result.periods = _periods(plan, result.stocks, result.expansions)
    result.branches = _branches(plan, h, result.periods)
    probability, cost = result.branches["probability"], result.branches["cost_usd"]
    result.expected_cost_usd = float((probability * cost).sum())
    result.cvar_usd = cvar(cost.to_numpy(), probability.to_numpy(), h.alpha)


def cvar(costs, probabilities, alpha: float) -> float:
    """CVaR_α of a discrete distribution, exactly: min over η of η + E[(C − η)+]/(1 − α),
    attained at one of the costs (Rockafellar–Uryasev)."""
    return min(float(eta + sum(p * max(c - eta, 0.0) for c, p in
                               zip(costs, probabilities, strict=True)) / (1.0 - alpha))
               for eta in costs)


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
    initial = {stage: _initial_value(plan, h, stage) for stage in h.stock}
    for view in plan.views:
        t, b, block = view.period, view.branch, view.built.model
        demand = {s.stage: s.demand_t for s in view.data.stages}
        for stage, stock in h.stock.items():
            net = view.value(block.stock_put[stage]) - view.value(block.stock_release[stage])
            level = plan.value(h.stock_level[stage, t, b])
            capacity = _declared(h.stock_capacity, (stage, t, b))
            records.append({
                "period": t, "branch": b, "stage": stage, "level_t": level,
                "put_t": max(net, 0.0), "release_t": max(-net, 0.0),
                "demand_t": demand[stage],
                "days_of_cover": (level / demand[stage] * DAYS_PER_YEAR if demand[stage] > 0
                                  else math.nan),
                "floor_t": h.floor[stage, t, b],
                "capacity_t": math.nan if stock.capacity_t is None else stock.capacity_t,
                "holding_usd": stock.holding_usd_per_t_yr * view.years * level,
                "initial_usd_per_t": initial[stage],
                "floor_usd_per_t": 0.0 if h.nodes[t, b].disrupted   # waived: moving the
                else _rate_up(plan, h.stock_floor[stage, t, b]) / view.price_scale,  # floor
                # changes nothing there
                "capacity_usd_per_t": (-_rate_up(plan, capacity) / view.price_scale
                                       if capacity is not None else 0.0)})
    return _indexed(records, "stage")


def _initial_value(plan: PlanResult, h, stage: str) -> float:
    """One more t of initial stock: minus the rates of the first period's flow rows that
    hold it (the initial origin's, for a stock split by origin) — one per node of the
    first period: the base branch's, and each disruption's that starts there, since every
    branch starts from the same initial stock — in that period's money (all branches:
    probability 1). NaN for a split stock whose initial origin is none of its origins (no
    initial stock): a first tonne would add an origin, not move a row."""
    roots = [key for key, node in h.nodes.items() if node.parent is None]
    rows = [(_declared(h.stock_origin_flow, (h.stock[stage].initial_origin, stage, *key))
             if stage in h.split_stocks else h.stock_flow[(stage, *key)]) for key in roots]
    if any(row is None for row in rows):
        return math.nan
    return -sum(_rate_up(plan, row) for row in rows) / h.nodes[roots[0]].weight


def _expansions(plan: PlanResult, h) -> pd.DataFrame:
    views = {(view.period, view.branch): view for view in plan.views}
    before = {key: set(ancestry(h.nodes, key)) for key in views}   # a node and its past
    records = []
    for e, t, b in h.EXPANSION_DECISIONS:
        expansion, var, view = h.expansion[e], h.expand[e, t, b], views[t, b]
        later = [other for other in plan.views if (t, b) in before[other.period, other.branch]]
        first_use = next((other.period for other in later
                          if usable(expansion, h.nodes[t, b].position,
                                    h.nodes[other.period, other.branch].position)), None)
        limit = _declared(h.expansion_limit, (e, b))
        scale = view.weight / view.years * view.mass   # δ × probability: a one-off cost
        reduced = plan.solution.col_dual[plan._columns[id(var)]] / scale
        records.append({
            "period": t, "branch": b, "expansion": e, "target": expansion.target,
            "added_t_yr": plan.value(var), "usable_from": first_use,
            "usd_per_t_yr": expansion.usd_per_t_yr,
            "reduced_cost_usd_per_t_yr": float(reduced),
            "break_even_usd_per_t_yr": expansion.usd_per_t_yr - float(reduced),
            "cost_usd": expansion.usd_per_t_yr * plan.value(var),
            "max_t_yr": math.nan if expansion.max_t_yr is None else expansion.max_t_yr,
            "max_usd_per_t_yr": -_rate_up(plan, limit) if limit is not None else 0.0})
    return _indexed(records, "expansion")


def _periods(plan: PlanResult, stocks: pd.DataFrame, expansions: pd.DataFrame
             ) -> pd.DataFrame:
    """One row per node: one year's cost, the period's, its holding and the new capacity
    decided in it (all undiscounted), and discounted (along a branch these sum to its
    cost; without disruptions, to the objective)."""
    holding = (stocks.groupby(level=["period", "branch"])["holding_usd"].sum()
               if len(stocks) else pd.Series(dtype=float))
    built = (expansions.groupby(level=["period", "branch"])["cost_usd"].sum()
             if len(expansions) else pd.Series(dtype=float))
    records = []
    for view, node in zip(plan.views, plan.horizon.periods, strict=True):
        key = (view.period, view.branch)
        yearly = view.yearly_cost_usd
        held, new = float(holding.get(key, 0.0)), float(built.get(key, 0.0))
        records.append({
            "period": view.period, "branch": view.branch, "order": node.period.order,
            "years": view.years, "discount_factor": node.period.discount_factor,
            "weight": view.weight, "probability": view.mass,
            "cost_usd_per_yr": yearly, "cost_usd": yearly * view.years,
            "holding_usd": held, "expansion_usd": new,
            "shortage_t": view.unmet_t,
            "shortage_usd": view.weight * sum(
                view.built.model.shortage[s] * view.value(view.built.model.short[s])
                for s in view.built.model.SHORT_STAGES),
            "discounted_cost_usd": view.weight * yearly
            + (held + new) * node.period.discount_factor})
    return pd.DataFrame(records).set_index(["period", "branch"])


def _branches(plan: PlanResult, h, periods: pd.DataFrame) -> pd.DataFrame:
    """Each branch: its probability, its cost (the discounted cost of every node along
    it), the demand it leaves unmet over the horizon (t) and its value (discounted)."""
    node = {column: periods[column].to_dict()
            for column in ("discounted_cost_usd", "shortage_t", "shortage_usd")}
    records = [{"branch": b.branch, "probability": b.probability,
                "cost_usd": _along(node["discounted_cost_usd"], b.nodes),
                "shortage_t": _along(node["shortage_t"], b.nodes),
                "shortage_usd": _along(node["shortage_usd"], b.nodes)}
               for b in h.branches]
    return pd.DataFrame(records).set_index("branch")


def _along(values: dict, nodes) -> float:
    """Σ ``values`` (by node) over a branch's nodes, as pandas sums those rows of the
    column (numpy's pairwise sum, NaN as 0): the same float, to the last bit."""
    return float(np.nansum([values[node] for node in nodes]))


def _indexed(records: list[dict], key: str) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    return frame.set_index(["period", "branch", key]) if records else frame
