"""Build the sourcing LP (SPEC §3) as a Pyomo ``ConcreteModel``.

``create_model`` is pure: no file I/O and no solving. It reads like a table of
contents; each constraint family is a module-level rule in ``constraints.py``
with its formula.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyomo.environ as pyo

from . import constraints as rules
from .costs import LandedCost, landed_costs
from .data import Basis, Bound, Dataset
from .groups import ShareRow, in_group, origin_mix, share_rows

if TYPE_CHECKING:
    from .highs import LinearProgram


@dataclass(frozen=True)
class ChainIndex:
    """Index sets and coefficients the rules read (sparsity lives here)."""

    offers_at: dict[str, list[str]]
    processes_into: dict[str, list[str]]
    processes_from: dict[str, list[str]]
    weight: dict[tuple[str, str], float]        # (basis, offer or process) -> w
    group_offers: dict[tuple[str, str, str, str], list[str]]  # direct aggregate -> offers
    group_has_buyer: dict[tuple[str, str, str, str], bool]
    origin_offers: dict[tuple[str, str], list[tuple[str, float]]]  # (g, s) -> (o, φ_g(o))


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
    landed = landed_costs(data)
    rows = share_rows(data)
    index = _chain_index(data, landed, rows)
    m = pyo.ConcreteModel(name=data.name or "sourcing")
    m.index = index

    m.STAGES = pyo.Set(initialize=[s.stage for s in data.stages], ordered=True)
    m.OFFERS = pyo.Set(initialize=[o.offer for o in data.offers], ordered=True)
    m.PROCESSES = pyo.Set(initialize=[p.process for p in data.processes], ordered=True)
    m.CAPPED_OFFERS = pyo.Set(initialize=[o.offer for o in data.offers if o.capacity_t is not None])
    m.MIN_OFFERS = pyo.Set(initialize=[o.offer for o in data.offers if o.min_t > 0])
    m.CAPPED_PROCESSES = pyo.Set(
        initialize=[p.process for p in data.processes if p.capacity_t is not None])
    m.SUPPLY_TOTALS = pyo.Set(dimen=2, initialize=sorted({(r.stage, r.limit.basis.value)
                                                          for r in rows}))
    m.GROUP_SUPPLIES = pyo.Set(dimen=4, initialize=sorted({r.aggregate for r in rows}))
    m.SHARE_MAX = pyo.Set(initialize=[i for i, r in enumerate(rows) if r.bound is Bound.MAX])
    m.SHARE_MIN = pyo.Set(initialize=[i for i, r in enumerate(rows) if r.bound is Bound.MIN])
    m.SOFT_ROWS = pyo.Set(initialize=[i for i, r in enumerate(rows)
                                      if r.penalty_usd_per_pp is not None])
    origin_groups = sorted({r.group for r in rows if r.embedded})
    m.ORIGIN_SPLITS = pyo.Set(dimen=2, initialize=[(g, p.process) for g in origin_groups
                                                   for p in data.processes])
    m.ORIGIN_POOLS = pyo.Set(dimen=2, initialize=[(g, s) for g in origin_groups
                                                  for s in index.processes_from])

    m.offer = {o.offer: o for o in data.offers}
    m.process = {p.process: p for p in data.processes}
    m.demand = {s.stage: s.demand_t for s in data.stages}
    m.landed = {o: c.total for o, c in landed.items()}
    m.rows = rows
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
    m.origin_input = pyo.Var(m.ORIGIN_SPLITS, domain=pyo.NonNegativeReals,
                             doc="u[g,p], t of process p's input whose origin is in group g")
    m.excess = pyo.Var(m.SOFT_ROWS, domain=pyo.NonNegativeReals,
                       doc="e[i], allowance bought beyond soft share row i (t or USD)")

    m.buy_var = dict(m.buy.items())
    m.make_var = dict(m.make.items())

    m.total_cost = pyo.Objective(rule=rules.total_landed_cost, sense=pyo.minimize)
    m.balance = pyo.Constraint(m.STAGES, rule=rules.demand_balance)
    m.capacity = pyo.Constraint(m.CAPPED_OFFERS, rule=rules.offer_capacity)
    m.minimum = pyo.Constraint(m.MIN_OFFERS, rule=rules.offer_minimum)
    m.process_capacity = pyo.Constraint(m.CAPPED_PROCESSES, rule=rules.process_capacity)
    m.supply_total_def = pyo.Constraint(m.SUPPLY_TOTALS, rule=rules.supply_total_definition)
    m.group_supply_def = pyo.Constraint(m.GROUP_SUPPLIES, rule=rules.group_supply_definition)
    m.origin_input_limit = pyo.Constraint(m.ORIGIN_SPLITS, rule=rules.origin_input_limit)
    m.origin_outflow = pyo.Constraint(m.ORIGIN_POOLS, rule=rules.origin_outflow)
    m.other_origin_outflow = pyo.Constraint(m.ORIGIN_POOLS, rule=rules.other_origin_outflow)
    m.share_max = pyo.Constraint(m.SHARE_MAX, rule=rules.group_share_max)
    m.share_min = pyo.Constraint(m.SHARE_MIN, rule=rules.group_share_min)
    return SourcingModel(m, data, landed, rows, index)


@dataclass(frozen=True)
class ShareColumns:
    """Where one share row sits in the compiled LP: the row ``G − σ·T (± e)`` and the
    columns it reads (SPEC §3, ``constraints.group_share_max`` / ``group_share_min``)."""

    index: int              # position in ``SourcingModel.share_rows``
    share_row: ShareRow
    row: int                # LP row of ``share_max[index]`` or ``share_min[index]``
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


def penalty_per_unit(row: ShareRow, reference_total: float) -> float:
    """Objective cost of one unit of allowance (t or USD) beyond a soft share row.

    One percentage point of a stage whose weighted total is T is T/100 units, so a
    willingness to pay of π USD/pp is 100·π/T per unit, at T = ``reference_total``.
    """
    return 100.0 * row.penalty_usd_per_pp / max(reference_total, 1e-9)


def _chain_index(data: Dataset, landed: dict[str, LandedCost],
                 rows: list[ShareRow]) -> ChainIndex:
    offers_at: dict[str, list[str]] = defaultdict(list)
    processes_into: dict[str, list[str]] = defaultdict(list)
    processes_from: dict[str, list[str]] = defaultdict(list)
    weight: dict[tuple[str, str], float] = {}
    for o in data.offers:
        offers_at[o.stage].append(o.offer)
        weight[(Basis.VOLUME.value, o.offer)] = 1.0
        weight[(Basis.VALUE.value, o.offer)] = landed[o.offer].total
    for p in data.processes:
        processes_into[p.to_stage].append(p.process)
        processes_from[p.from_stage].append(p.process)
        weight[(Basis.VOLUME.value, p.process)] = 1.0
        weight[(Basis.VALUE.value, p.process)] = p.cost_usd_per_t
    countries = {c.country: c for c in data.countries}
    offers_by_origin: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in data.offers:
        offers_by_origin[(o.stage, o.country)].append(o.offer)
    group_offers: dict[tuple[str, str, str, str], list[str]] = {}
    group_has_buyer: dict[tuple[str, str, str, str], bool] = {}
    for key in sorted({r.aggregate for r in rows if not r.embedded}):   # direct scope only
        group, stage, _, _ = key
        group_offers[key] = [offer for (at, country), offers in offers_by_origin.items()
                             if at == stage and in_group(group, country, countries)
                             for offer in offers]
        group_has_buyer[key] = in_group(group, data.buyer, countries)
    mix = origin_mix(data)
    origin_offers: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for group in sorted({r.group for r in rows if r.embedded}):
        for stage in (s.stage for s in data.stages):
            origin_offers[(group, stage)] = [
                (o, phi) for o in offers_at.get(stage, [])
                if (phi := sum(share for origin, share in mix[o].items()
                               if in_group(group, origin, countries))) > 0]
    return ChainIndex(dict(offers_at), dict(processes_into), dict(processes_from), weight,
                      group_offers, group_has_buyer, origin_offers)
