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

import pyomo.core as pyo

from . import constraints as rules
from .build import SourcingModel, create_model, populate
from .data import Dataset, Scope
from .periods import PeriodData, ancestry, decision_positions, over_time, tree, usable


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
    """Build the LP of ``data`` over all its periods and branches."""
    nodes, branches = tree(data)
    if not over_time(data):
        built = create_model(nodes[0].data)
        return HorizonModel(built.model, data, nodes, [built])
    h = pyo.ConcreteModel(name=data.name or "sourcing over time")
    keys = [n.key for n in nodes]
    h.nodes = {n.key: n for n in nodes}
    h.branches = branches
    h.risk_weight, h.alpha = data.risk_weight if data.disruptions else 0.0, data.cvar_alpha
    h.stock = {s.stage: s for s in data.stocks}
    h.floor = {(s.stage, *n.key): 0.0 if n.disrupted else s.floor_t(demand[s.stage])
               for n in nodes
               for demand in [{k.stage: k.demand_t for k in n.data.stages}]
               for s in n.data.stocks}
    h.expansion = {e.expansion: e for e in data.expansions}
    periods = data.periods or tuple(dict.fromkeys(n.period for n in nodes))
    h.NODES = pyo.Set(dimen=2, initialize=keys, ordered=True)
    h.EXPANSION_DECISIONS = pyo.Set(dimen=3, initialize=[
        (e.expansion, *n.key) for e in data.expansions for n in nodes
        if n.position in decision_positions(e, periods)])
    h.STOCK_LEVELS = pyo.Set(dimen=3, initialize=[(s.stage, *k) for s in data.stocks
                                                  for k in keys])
    h.CAPPED_STOCKS = pyo.Set(dimen=3, initialize=[(s.stage, *k) for s in data.stocks
                                                   if s.capacity_t is not None for k in keys])
    h.CAPPED_EXPANSIONS = pyo.Set(dimen=2, initialize=[
        (e.expansion, b.branch) for e in data.expansions if e.max_t_yr is not None
        for b in branches])
    h.BRANCHES = pyo.Set(initialize=[b.branch for b in branches] if h.risk_weight > 0 else [],
                         ordered=True)
    h.levels_at, h.decisions_at = defaultdict(list), defaultdict(list)   # node -> its keys
    for s, t, b in h.STOCK_LEVELS:
        h.levels_at[t, b].append((s, t, b))
    for e, t, b in h.EXPANSION_DECISIONS:
        h.decisions_at[t, b].append((e, t, b))
    h.expand = pyo.Var(h.EXPANSION_DECISIONS, domain=pyo.NonNegativeReals,
                       doc="a[e,n], t/yr of capacity added by expansion e, decided in node n")
    h.stock_level = pyo.Var(h.STOCK_LEVELS, domain=pyo.NonNegativeReals,
                            doc="I[s,n], t held in the stock of s at the end of node n")
    h.branch_cost = pyo.Var(h.BRANCHES, doc="K[b], discounted cost along branch b (USD)")
    h.tail = pyo.Var(h.BRANCHES, domain=pyo.NonNegativeReals,
                     doc="τ[b], the part of K[b] above the value at risk η")
    h.eta = pyo.Var(doc="η, the value at risk of CVaR_α (USD)")
    h.node = pyo.Block(h.NODES)
    track = any(limit.scope is Scope.EMBEDDED for n in nodes for limit in n.data.limits)
    slices = [populate(h.node[n.key], n.data, stocked=list(h.stock),
                       added=_usable_additions(h, data, n), objective=False,
                       track_origins=track)
              for n in nodes]
    h.ORIGIN_STOCK_LEVELS = pyo.Set(dimen=4, initialize=[
        (c, s, *n.key) for n, built in zip(nodes, slices, strict=True)
        for c, s in built.model.ORIGIN_STOCKS])
    h.split_stocks = {}   # stage -> origins its stock is split by (embedded scope)
    for c, s, t, b in h.ORIGIN_STOCK_LEVELS:
        if (t, b) == keys[0]:
            h.split_stocks.setdefault(s, []).append(c)
    h.stock_origin_level = pyo.Var(h.ORIGIN_STOCK_LEVELS, domain=pyo.NonNegativeReals,
                                   doc="L[c,s,n], origin-c part of the stock of s at the "
                                       "end of node n (embedded scope)")
    h.expected_cost = pyo.Objective(rule=rules.expected_cost, sense=pyo.minimize)
    h.branch_cost_def = pyo.Constraint(h.BRANCHES, rule=rules.branch_cost)
    h.cvar_tail = pyo.Constraint(h.BRANCHES, rule=rules.cvar_tail)
    h.stock_flow = pyo.Constraint(h.STOCK_LEVELS, rule=rules.stock_flow)
    h.stock_floor = pyo.Constraint(h.STOCK_LEVELS, rule=rules.stock_floor)
    h.stock_capacity = pyo.Constraint(h.CAPPED_STOCKS, rule=rules.stock_capacity)
    h.stock_origin_flow = pyo.Constraint(h.ORIGIN_STOCK_LEVELS, rule=rules.stock_origin_flow)
    h.expansion_limit = pyo.Constraint(h.CAPPED_EXPANSIONS, rule=rules.expansion_limit)
    return HorizonModel(h, data, nodes, slices)


def _usable_additions(h: pyo.ConcreteModel, data: Dataset, node: PeriodData
                      ) -> dict[tuple[str, str], list]:
    """("offer"|"process", id) -> the expansion variables usable at ``node``: decided at
    it or at a node before it on its branch, ``lead_periods`` or more positions earlier."""
    offers = {o.offer for o in data.offers}
    before = set(ancestry(h.nodes, node.key))
    added: dict[tuple[str, str], list] = defaultdict(list)
    for e, t, b in h.EXPANSION_DECISIONS:
        decided = h.nodes[t, b]
        expansion = h.expansion[e]
        if (t, b) in before and usable(expansion, decided.position, node.position):
            kind = "offer" if expansion.target in offers else "process"
            added[(kind, expansion.target)].append(h.expand[e, t, b])
    return added
