"""Build a plan over time (SPEC §3a): one block per period, linked by stocks and new
capacity, under one discounted objective.

Each period's block is the one-period model of ``build.populate`` on that period's
own dataset (``periods.period_datasets``); the top model adds the stock levels
I[s,t] (the blocks hold the puts and releases in their balances) and the expansion
decisions a[e,t] (the blocks' capacity rows read the usable ones). A dataset with
one period and no stocks or expansions is the plain model of SPEC §3, built as such.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyomo.environ as pyo

from . import constraints as rules
from .build import SourcingModel, create_model, populate
from .data import Dataset
from .periods import PeriodData, decision_positions, over_time, period_datasets, usable


@dataclass(frozen=True)
class HorizonModel:
    """The model to compile, and each period's part of it."""

    model: pyo.ConcreteModel
    data: Dataset                   # the whole dataset (stocks, expansions, periods)
    periods: list[PeriodData]       # in order
    slices: list[SourcingModel]     # per period: its block (the model itself with one)

    @property
    def linked(self) -> bool:
        """Whether periods are linked (SPEC §3a) rather than the one-period model."""
        return self.model is not self.slices[0].model


def create_horizon(data: Dataset) -> HorizonModel:
    """Build the LP of ``data`` over all its periods."""
    periods = period_datasets(data)
    if not over_time(data):
        built = create_model(periods[0].data)
        return HorizonModel(built.model, data, periods, [built])
    h = pyo.ConcreteModel(name=data.name or "sourcing over time")
    ids = [p.period.period for p in periods]
    h.periods = {p.period.period: p for p in periods}
    h.previous = dict(zip(ids, [None, *ids[:-1]], strict=True))
    h.stock = {s.stage: s for s in data.stocks}
    h.expansion = {e.expansion: e for e in data.expansions}
    h.PERIODS = pyo.Set(initialize=ids, ordered=True)
    h.EXPANSION_DECISIONS = pyo.Set(dimen=2, initialize=[
        (e.expansion, ids[k]) for e in data.expansions
        for k in decision_positions(e, data.periods or tuple(p.period for p in periods))])
    h.STOCK_LEVELS = pyo.Set(dimen=2, initialize=[(s.stage, t) for s in data.stocks
                                                  for t in ids])
    h.CAPPED_STOCKS = pyo.Set(dimen=2, initialize=[(s.stage, t) for s in data.stocks
                                                   if s.capacity_t is not None for t in ids])
    h.CAPPED_EXPANSIONS = pyo.Set(initialize=[e.expansion for e in data.expansions
                                              if e.max_t_yr is not None])
    h.expand = pyo.Var(h.EXPANSION_DECISIONS, domain=pyo.NonNegativeReals,
                       doc="a[e,t], t/yr of capacity added by expansion e, decided in t")
    h.stock_level = pyo.Var(h.STOCK_LEVELS, domain=pyo.NonNegativeReals,
                            doc="I[s,t], t held in the stock of s at the end of t")
    h.period = pyo.Block(h.PERIODS)
    slices = [populate(h.period[p.period.period], p.data, stocked=list(h.stock),
                       added=_usable_additions(h, data, p, ids), objective=False)
              for p in periods]
    h.discounted_cost = pyo.Objective(rule=rules.discounted_cost, sense=pyo.minimize)
    h.stock_flow = pyo.Constraint(h.STOCK_LEVELS, rule=rules.stock_flow)
    h.stock_floor = pyo.Constraint(h.STOCK_LEVELS, rule=rules.stock_floor)
    h.stock_capacity = pyo.Constraint(h.CAPPED_STOCKS, rule=rules.stock_capacity)
    h.expansion_limit = pyo.Constraint(h.CAPPED_EXPANSIONS, rule=rules.expansion_limit)
    return HorizonModel(h, data, periods, slices)


def _usable_additions(h: pyo.ConcreteModel, data: Dataset, period: PeriodData,
                      ids: list[str]) -> dict[tuple[str, str], list]:
    """("offer"|"process", id) -> the expansion variables usable in ``period``."""
    offers = {o.offer for o in data.offers}
    added: dict[tuple[str, str], list] = defaultdict(list)
    for e, t in h.EXPANSION_DECISIONS:
        expansion = h.expansion[e]
        if usable(expansion, ids.index(t), period.position):
            kind = "offer" if expansion.target in offers else "process"
            added[(kind, expansion.target)].append(h.expand[e, t])
    return added
