"""Build the sourcing LP (SPEC §3) as a Pyomo ``ConcreteModel``.

``create_model`` is pure: no file I/O and no solving. It reads like a table of
contents; each constraint family is a module-level rule in ``constraints.py``
with its formula.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyomo.core as pyo

from . import constraints as rules
from .costs import LandedCost, landed_costs
from .data import Basis, Bound, Dataset
from .groups import (
    ProcessFlows,
    ShareRow,
    closed_offers,
    in_group,
    origin_countries,
    origin_mix,
    process_flows,
    share_rows,
)

if TYPE_CHECKING:
    from .highs import LinearProgram


@dataclass(frozen=True)
class ChainIndex:
    """Index sets and coefficients the rules read (sparsity lives here)."""

    offers_at: dict[str, list[str]]
    processes_into: dict[str, list[str]]        # stage -> processes with out[p,s] > 0
    processes_from: dict[str, list[str]]        # stage -> processes with in[p,s] > 0
    flows: ProcessFlows                         # in[p,s], out[p,s]
    weight: dict[tuple[str, str], float]        # (basis, offer) -> w
    output_weight: dict[tuple[str, str, str], float]  # (basis, process, stage) -> w
    group_offers: dict[tuple[str, str, str, str], list[str]]  # direct aggregate -> offers
    group_has_buyer: dict[tuple[str, str, str, str], bool]
    origins_at: dict[str, list[str]]            # stage -> origin countries reaching it
    origin_offers: dict[tuple[str, str], list[tuple[str, float]]]  # (c, s) -> (o, φ_c(o))
    group_origins: dict[tuple[str, str], list[str]]  # embedded (g, s) -> origins in g


@dataclass(frozen=True)
class SourcingModel:
    """The built model with what reports need to read it back."""

    model: pyo.ConcreteModel
    data: Dataset
    landed: dict[str, LandedCost]
    share_rows: list[ShareRow]
    index: ChainIndex


def create_model(data: Dataset, reference_totals: Mapping[int, float] | None = None
                 ) -> SourcingModel:
    """Build the LP for ``data``.

    ``reference_totals`` maps a soft share row (its index in ``share_rows``) to the
    stage total T_ref its penalty per percentage point is converted with (default 1;
    ``planner.engine`` re-solves until T_ref is the plan's own total).
    """
    return populate(pyo.ConcreteModel(name=data.name or "sourcing"), data, reference_totals)


def populate(m: pyo.Block, data: Dataset, reference_totals: Mapping[int, float] | None = None,
             stocked: Sequence[str] = (), added: Mapping[tuple[str, str], list] | None = None,
             objective: bool = True, track_origins: bool = False) -> SourcingModel:
    """Put the one-period model of ``data`` on ``m`` (a model, or one period's block of a
    plan over time: ``stocked`` stages get put and release variables in their balance,
    ``added`` maps ("offer"|"process", id) to the expansion variables usable there, the
    caller weighs the period's cost terms into its own objective, and ``track_origins``
    splits flows by origin even without an embedded limit in this period, because a
    stock carries origins into a period that has one)."""
    landed = landed_costs(data)
    rows = share_rows(data)
    index = _chain_index(data, landed, rows, track_origins)
    m.chain = index

    closed = closed_offers(data)
    m.STAGES = pyo.Set(initialize=[s.stage for s in data.stages], ordered=True)
    m.SHORT_STAGES = pyo.Set(initialize=[s.stage for s in data.stages
                                         if s.shortage_usd_per_t is not None])
    m.OFFERS = pyo.Set(initialize=[o.offer for o in data.offers], ordered=True)
    m.PROCESSES = pyo.Set(initialize=[p.process for p in data.processes], ordered=True)
    m.CAPPED_OFFERS = pyo.Set(initialize=[o.offer for o in data.offers if o.capacity_t is not None])
    m.MIN_OFFERS = pyo.Set(initialize=[o.offer for o in data.offers
                                       if o.min_t > 0 and o.offer not in closed])
    m.CAPPED_PROCESSES = pyo.Set(
        initialize=[p.process for p in data.processes if p.capacity_t is not None])
    m.SUPPLY_TOTALS = pyo.Set(dimen=2, initialize=sorted({(r.stage, r.limit.basis.value)
                                                          for r in rows}))
    m.GROUP_SUPPLIES = pyo.Set(dimen=4, initialize=sorted({r.aggregate for r in rows}))
    m.SHARE_MAX = pyo.Set(initialize=[i for i, r in enumerate(rows) if r.bound is Bound.MAX])
    m.SHARE_MIN = pyo.Set(initialize=[i for i, r in enumerate(rows) if r.bound is Bound.MIN])
    m.SOFT_ROWS = pyo.Set(initialize=[i for i, r in enumerate(rows)
                                      if r.penalty_usd_per_pp is not None])
    m.ORIGIN_DRAWS = pyo.Set(dimen=3, initialize=[
        (c, p, s) for p, inputs in index.flows.inputs.items() for s in inputs
        for c in index.origins_at.get(s, [])])
    m.DRAW_TOTALS = pyo.Set(dimen=2, initialize=[
        (p, s) for p, inputs in index.flows.inputs.items() for s in inputs]
        if index.origins_at else [])
    m.ORIGIN_POOLS = pyo.Set(dimen=2, initialize=[
        (c, s) for s in index.processes_from for c in index.origins_at.get(s, [])])
    m.STOCKED = pyo.Set(initialize=list(stocked), ordered=True)
    m.ORIGIN_STOCKS = pyo.Set(dimen=2, initialize=[
        (c, s) for s in stocked if s in index.processes_from
        for c in index.origins_at.get(s, [])])
    m.STOCK_SIDES = pyo.Set(dimen=2, initialize=sorted(
        {(s, side) for _, s in m.ORIGIN_STOCKS for side in ("put", "release")}))
    m.added = dict(added or {})

    attach_records(m, data, landed, rows)
    totals = reference_totals or {}
    m.penalty = {i: penalty_per_unit(rows[i], totals.get(i, 1.0)) for i in m.SOFT_ROWS}

    m.buy = pyo.Var(m.OFFERS, domain=pyo.NonNegativeReals, doc="x[o], t bought via offer o")
    m.make = pyo.Var(m.PROCESSES, domain=pyo.NonNegativeReals,
                     doc="z[p], t of output made by domestic process p")
    m.supply_total = pyo.Var(m.SUPPLY_TOTALS, domain=pyo.NonNegativeReals,
                             doc="T[s,b], weighted supply into stage s")
    m.group_supply = pyo.Var(m.GROUP_SUPPLIES, domain=pyo.NonNegativeReals,
                             doc="G[g,s,b,scope], weighted supply into stage s from "
                                 "group g (by seller or by upstream origin)")
    m.short = pyo.Var(m.SHORT_STAGES, domain=pyo.NonNegativeReals,
                      bounds=lambda m, s: (0.0, m.demand[s]),
                      doc="u[s], t of demand at s left unmet (priced at shortage_usd_per_t)")
    m.origin_draw = pyo.Var(m.ORIGIN_DRAWS, domain=pyo.NonNegativeReals,
                            doc="v[c,p,s], t of stage s drawn by process p whose origin is c")
    m.excess = pyo.Var(m.SOFT_ROWS, domain=pyo.NonNegativeReals,
                       doc="e[i], allowance bought beyond soft share row i (t or USD)")
    m.stock_put = pyo.Var(m.STOCKED, domain=pyo.NonNegativeReals,
                          doc="p[s], t/yr bought or made and put into the stock of s")
    m.stock_release = pyo.Var(m.STOCKED, domain=pyo.NonNegativeReals,
                              doc="r[s], t/yr released from the stock of s")
    m.stock_origin_put = pyo.Var(m.ORIGIN_STOCKS, domain=pyo.NonNegativeReals,
                                 doc="p[c,s], origin-c part of the put into the stock of s")
    m.stock_origin_release = pyo.Var(m.ORIGIN_STOCKS, domain=pyo.NonNegativeReals,
                                     doc="r[c,s], origin-c part of the release from it")

    for o in closed:
        m.buy[o].setub(0.0)  # members only, and the buyer is an observer

    m.buy_var = dict(m.buy.items())
    m.make_var = dict(m.make.items())

    if objective:
        m.total_cost = pyo.Objective(rule=rules.total_landed_cost, sense=pyo.minimize)
    m.balance = pyo.Constraint(m.STAGES, rule=rules.demand_balance)
    m.capacity = pyo.Constraint(m.CAPPED_OFFERS, rule=rules.offer_capacity)
    m.minimum = pyo.Constraint(m.MIN_OFFERS, rule=rules.offer_minimum)
    m.process_capacity = pyo.Constraint(m.CAPPED_PROCESSES, rule=rules.process_capacity)
    m.supply_total_def = pyo.Constraint(m.SUPPLY_TOTALS, rule=rules.supply_total_definition)
    m.group_supply_def = pyo.Constraint(m.GROUP_SUPPLIES, rule=rules.group_supply_definition)
    m.origin_draw_total = pyo.Constraint(m.DRAW_TOTALS, rule=rules.origin_draw_total)
    m.origin_outflow = pyo.Constraint(m.ORIGIN_POOLS, rule=rules.origin_outflow)
    m.stock_origin_total = pyo.Constraint(m.STOCK_SIDES, rule=rules.stock_origin_total)
    m.share_max = pyo.Constraint(m.SHARE_MAX, rule=rules.group_share_max)
    m.share_min = pyo.Constraint(m.SHARE_MIN, rule=rules.group_share_min)
    return SourcingModel(m, data, landed, rows, index)


@dataclass(frozen=True)
class ShareColumns:
    """Where one share row sits in the compiled LP: the row ``G − σ·T (± e)`` and the
    columns it reads (SPEC §3, ``constraints.group_share_max`` / ``group_share_min``)."""

    index: int              # position in ``SourcingModel.share_rows``
    share_row: ShareRow
    lp_row: int             # LP row of ``share_max[index]`` or ``share_min[index]``
    group: int              # column of the group aggregate G (coefficient 1)
    total: int              # column of the stage total T (coefficient −σ)
    excess: int | None      # column of e for a soft row (−1 in a max row, +1 in a min
                            # row), None for a hard row


def share_columns(built: SourcingModel, lp: LinearProgram) -> list[ShareColumns]:
    """Every share row of ``built`` in the LP compiled from it, in ``share_rows`` order.

    The one place that maps a share row to its LP row and columns; ``built`` may be
    retargeted to another dataset of the same structure (``planner.solving.variants``).
    """
    m = built.model
    rows, columns = lp.row_of(), lp.column_of()
    soft = set(m.SOFT_ROWS)
    placed = []
    for i, share_row in enumerate(built.share_rows):
        constraint = (m.share_max if share_row.bound is Bound.MAX else m.share_min)[i]
        total = m.supply_total[share_row.stage, share_row.limit.basis.value]
        placed.append(ShareColumns(
            i, share_row, rows[id(constraint)], columns[id(m.group_supply[share_row.aggregate])],
            columns[id(total)], columns[id(m.excess[i])] if i in soft else None))
    return placed


def attach_records(m: pyo.ConcreteModel, data: Dataset, landed: dict[str, LandedCost],
                   rows: list[ShareRow]) -> None:
    """The records and coefficients the rules read (``m.offer``, ``m.process``,
    ``m.demand``, ``m.shortage``, ``m.landed``, ``m.rows``), from ``data``; also how a
    built model is pointed at a variant of the same structure."""
    m.offer = {o.offer: o for o in data.offers}
    m.process = {p.process: p for p in data.processes}
    m.demand = {s.stage: s.demand_t for s in data.stages}
    m.shortage = {s.stage: s.shortage_usd_per_t for s in data.stages}
    m.landed = {o: c.total for o, c in landed.items()}
    m.rows = rows


def penalty_per_unit(row: ShareRow, reference_total: float) -> float:
    """Objective cost of one unit of allowance (t or USD) beyond a soft share row.

    One percentage point of a stage whose weighted total is T is T/100 units, so a
    willingness to pay of π USD/pp is 100·π/T per unit, at T = ``reference_total``.
    """
    return 100.0 * row.penalty_usd_per_pp / max(reference_total, 1e-9)


def output_value(data: Dataset, landed: dict[str, LandedCost]
                 ) -> dict[tuple[str, str], float]:
    """Value per t of each process's output into each of its stages (value basis):
    ``stages.value_usd_per_t`` where given, else the process's cost for its main
    output and the median offer price at the stage for a co-product (0 if none)."""
    prices: dict[str, list[float]] = defaultdict(list)
    for o in data.offers:
        prices[o.stage].append(o.price_usd_per_t)
    given = {s.stage: s.value_usd_per_t for s in data.stages}
    flows = process_flows(data)
    values = {}
    for p in data.processes:
        for stage in flows.outputs[p.process]:
            if given.get(stage) is not None:
                values[(p.process, stage)] = given[stage]
            elif stage == p.to_stage:
                values[(p.process, stage)] = p.cost_usd_per_t
            else:
                values[(p.process, stage)] = (float(np.median(prices[stage]))
                                              if prices[stage] else 0.0)
    return values


def _chain_index(data: Dataset, landed: dict[str, LandedCost],
                 rows: list[ShareRow], track_origins: bool = False) -> ChainIndex:
    flows = process_flows(data)
    offers_at: dict[str, list[str]] = defaultdict(list)
    processes_into: dict[str, list[str]] = defaultdict(list)
    processes_from: dict[str, list[str]] = defaultdict(list)
    weight: dict[tuple[str, str], float] = {}
    for o in data.offers:
        offers_at[o.stage].append(o.offer)
        weight[(Basis.VOLUME.value, o.offer)] = 1.0
        weight[(Basis.VALUE.value, o.offer)] = landed[o.offer].total
    output_weight: dict[tuple[str, str, str], float] = {}
    for (process, stage), value in output_value(data, landed).items():
        processes_into[stage].append(process)
        output_weight[(Basis.VOLUME.value, process, stage)] = 1.0
        output_weight[(Basis.VALUE.value, process, stage)] = value
    for process, inputs in flows.inputs.items():
        for stage in inputs:
            processes_from[stage].append(process)
    countries = {c.country: c for c in data.countries}
    offers_by_origin: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for o in data.offers:
        offers_by_origin[o.stage][o.country].append(o.offer)
    supplying = {o.country for o in data.offers}
    group_offers: dict[tuple[str, str, str, str], list[str]] = {}
    group_has_buyer: dict[tuple[str, str, str, str], bool] = {}
    members: dict[str, set[str]] = {}   # group -> the supplying countries in it
    for key in sorted({r.aggregate for r in rows if not r.embedded}):   # direct scope only
        group, stage, _, _ = key
        if group not in members:
            members[group] = {c for c in supplying if in_group(group, c, countries)}
        group_offers[key] = [offer for country, offers in offers_by_origin[stage].items()
                             if country in members[group] for offer in offers]
        group_has_buyer[key] = in_group(group, data.buyer, countries)
    origins_at: dict[str, list[str]] = {}
    origin_offers: dict[tuple[str, str], list[tuple[str, float]]] = {}
    group_origins: dict[tuple[str, str], list[str]] = {}
    if track_origins or any(r.embedded for r in rows):   # one split by origin country
                                                          # serves every group
        origins_at = origin_countries(data)
        mix = origin_mix(data)
        for o in data.offers:
            for country, phi in mix[o.offer].items():
                if phi > 0:
                    origin_offers.setdefault((country, o.stage), []).append((o.offer, phi))
        for group, stage in sorted({(r.group, r.stage) for r in rows if r.embedded}):
            group_origins[(group, stage)] = [c for c in origins_at[stage]
                                             if in_group(group, c, countries)]
    return ChainIndex(dict(offers_at), dict(processes_into), dict(processes_from), flows,
                      weight, output_weight, group_offers, group_has_buyer, origins_at,
                      origin_offers, group_origins)
