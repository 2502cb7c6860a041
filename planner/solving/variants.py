"""Solve variants of one dataset on one built model (``planner compare``).

Scenarios mostly change numbers, not the shape of the LP: prices, the zone status,
benchmarks, capacities, demands, share values. When a variant has the same
structure as a model already built (same stages, offers, processes, countries,
content and share rows, and no value-basis weight that would move), its numbers
are written into the compiled LP and the HiGHS instance and the LP is re-solved
warm from the previous basis; otherwise the variant is built from scratch.

A result is valid until the next variant of the same structure is solved (the
model and the LP are shared): read (report) each result before the next solve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from planner.models.build import SourcingModel, attach_records, output_value, share_columns
from planner.models.costs import landed_costs
from planner.models.data import Basis, Dataset
from planner.models.groups import closed_offers, share_rows
from planner.models.highs import INF, HighsSolver
from planner.models.periods import over_time
from planner.solving import WHOLE_COST_LIMIT
from planner.solving.diagnosis import unreachable_demand
from planner.solving.engine import PlanResult, finish, start


class VariantSolver:
    """Solves datasets in turn, reusing the last built model when only numbers differ."""

    def __init__(self, time_limit: float | None = None,
                 whole_costs: int | None = WHOLE_COST_LIMIT):
        self.time_limit, self.whole_costs = time_limit, whole_costs
        self.models: dict[tuple, tuple[PlanResult, HighsSolver]] = {}  # by structure
        self.reused = 0

    def solve(self, data: Dataset, sensitivity: bool = True) -> PlanResult:
        """Solve ``data``: plan and verification, shadow prices unless ``sensitivity``
        is off, or a diagnosis."""
        if unreachable_demand(data) or over_time(data):   # a plan over time: built anew
            result, solver = start(data, self.time_limit)
            return finish(result, solver, self.time_limit, sensitivity,
                          whole_costs=self.whole_costs)
        key = structure(data)
        if key in self.models:
            last, solver = self.models[key]
            built = _retarget(last.built, data)
            _write_numbers(solver, built)
            result, _ = start(data, self.time_limit, (built, last.lp, solver))
            self.reused += 1
        else:
            result, solver = start(data, self.time_limit)
        result = finish(result, solver, self.time_limit, sensitivity,
                        whole_costs=self.whole_costs)
        self.models[key] = (result, solver)
        return result


def structure(data: Dataset) -> tuple:
    """Everything that shapes the LP's rows, columns and sparsity; the numbers a
    variant may change (prices, capacities, minimums, demands, shares) are left out,
    except value-basis weights (landed costs, process costs), which sit in the matrix."""
    rows = share_rows(data)
    value_weights = ()
    if any(row.limit.basis is Basis.VALUE for row in rows):
        landed = landed_costs(data)
        value_weights = (tuple(landed[o.offer].total for o in data.offers),
                         tuple(sorted(output_value(data, landed).items())))
    closed = closed_offers(data)
    return (
        tuple((s.stage, s.order, s.shortage_usd_per_t is not None) for s in data.stages),
        tuple((o.offer, o.stage, o.country, o.capacity_t is None, o.min_t > 0,
               o.offer in closed) for o in data.offers),
        tuple((p.process, p.from_stage, p.to_stage, p.yield_t_per_t, p.capacity_t is None)
              for p in data.processes),
        tuple((f.process, f.stage, f.role, f.t_per_t) for f in data.process_flows),
        data.countries, tuple((c.offer, c.origin_country, c.share) for c in data.content),
        data.buyer,
        tuple((r.group, r.stage, r.bound, r.limit.basis, r.limit.scope,
               r.penalty_usd_per_pp is None) for r in rows),
        value_weights,
    )


def _retarget(built: SourcingModel, data: Dataset) -> SourcingModel:
    """The built model, its records and coefficients pointed at ``data``."""
    landed = landed_costs(data)
    rows = share_rows(data)
    attach_records(built.model, data, landed, rows)
    return replace(built, data=data, landed=landed, share_rows=rows)


def _write_numbers(solver: HighsSolver, built: SourcingModel) -> None:
    """Costs, right-hand sides and share coefficients of ``built`` into the LP copy and
    HiGHS (permanent edits through the solver, which holds the last result's LP)."""
    m, lp = built.model, solver.lp
    columns, rows = lp.column_of(), lp.row_of()
    cost_of = {id(m.buy[o]): c for o, c in m.landed.items()}
    cost_of |= {id(m.make[p]): rec.cost_usd_per_t for p, rec in m.process.items()}
    cost_of |= {id(m.short[s]): m.shortage[s] for s in m.SHORT_STAGES}
    cols = np.array([columns[key] for key in cost_of if key in columns], dtype=np.int64)
    solver.set_costs(cols, [cost_of[id(lp.columns[j])] for j in cols])
    bounds = [(m.balance[s], m.demand[s], INF) for s in m.balance]
    bounds += [(m.capacity[o], -INF, m.offer[o].capacity_t) for o in m.capacity]
    bounds += [(m.minimum[o], m.offer[o].min_t, INF) for o in m.minimum]
    bounds += [(m.process_capacity[p], -INF, m.process[p].capacity_t)
               for p in m.process_capacity]
    solver.set_row_bounds([rows[id(con)] for con, _, _ in bounds],
                          [lower for _, lower, _ in bounds], [upper for _, _, upper in bounds])
    short = [columns[id(m.short[s])] for s in m.SHORT_STAGES]
    if short:
        solver.set_col_bounds(short, 0.0, [m.demand[s] for s in m.SHORT_STAGES])
    placed = share_columns(built, lp)
    solver.set_coefficients([p.lp_row for p in placed], [p.total for p in placed],
                            [-p.share_row.share for p in placed])
