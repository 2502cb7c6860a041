"""Explain an infeasible plan in a planner's terms.

1. HiGHS's irreducible infeasible subset (IIS) of rows, mapped back to the input
   rows (a stage's demand, an offer's capacity or minimum, a process capacity,
   a share limit) that together cannot all hold.
2. For each share limit in that set, the tightest value that is feasible: the
   auxiliary LP that minimises the group's share (maximises it, for a minimum
   share) subject to every other constraint. The share G/T is a ratio, so the
   LP is solved in Charnes–Cooper form: with y = t·x and t ≥ 0,
   ``min y_G  s.t.  lower·t ≤ A y ≤ upper·t,  y_T = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from planner.models.build import ShareColumns, share_columns
from planner.models.data import Bound, Dataset
from planner.models.groups import closed_offers, process_flows
from planner.models.highs import INF, HighsSolver, LinearProgram, SolveStatus
from planner.models.scipy_sparse import sparse

if TYPE_CHECKING:
    from planner.solving.engine import PlanResult


@dataclass(frozen=True)
class Conflict:
    """One input row in the conflicting set."""

    kind: str          # demand, capacity, minimum, process_capacity, limit
    name: str          # stage, offer, process, or GROUP:STAGE
    detail: str        # e.g. "demand 20 t", "max_share 0.1 (volume, direct)"
    origin: str        # input row, or the flag that set it


@dataclass(frozen=True)
class TightestShare:
    """The tightest feasible value of one violated share limit."""

    group: str
    stage: str
    bound: str
    limit: float
    tightest_feasible: float | None   # None: infeasible even without this limit
    origin: str


@dataclass
class Diagnosis:
    """Why no plan exists."""

    summary: str
    conflicts: list[Conflict] = field(default_factory=list)
    limits: list[TightestShare] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"summary": self.summary,
                "conflicts": [vars(c) for c in self.conflicts],
                "limits": [vars(t) for t in self.limits]}


def unreachable_demand(data: Dataset, stocked: set[str] | frozenset[str] = frozenset()
                       ) -> Diagnosis | None:
    """Stages with demand but no offer, no process and no stock (``stocked``) feeding
    them (no LP needed)."""
    closed = closed_offers(data)
    fed = {o.stage for o in data.offers if o.offer not in closed} | stocked
    fed |= {stage for outputs in process_flows(data).outputs.values() for stage in outputs}
    stages = [s for s in data.stages if s.demand_t > 0 and s.stage not in fed
              and s.shortage_usd_per_t is None]
    if not stages:
        return None
    conflicts = [Conflict("demand", s.stage, f"demand {s.demand_t:,g} t with no offer open "
                          "to the buyer and no process supplying the stage", s.origin)
                 for s in stages]
    return Diagnosis("demand at " + ", ".join(s.stage for s in stages)
                     + " cannot be met: nothing supplies it", conflicts)


def diagnose(result: PlanResult, solver: HighsSolver) -> Diagnosis:
    """The input rows that cannot all hold, irreducibly, and the tightest feasible
    value of each share limit among them."""
    index = {id(con): (view, component, key) for view, component, key, con in _rows_of(result)}
    inputs = {row: index[id(con)] for row, con in enumerate(result.lp.rows)
              if _is_input_row(*index[id(con)])}
    start = [row for row in solver.iis().rows if row in inputs]
    rows = ConflictFilter(result.lp, list(inputs)).irreducible(start)
    conflicts = [_conflict(result, *inputs[row]) for row in rows]
    limits = [_tightest(view, share_columns(view.built, result.lp)[key],
                        view.period if result.linked else None)
              for view, component, key in (inputs[row] for row in rows)
              if component in ("share_max", "share_min")]
    names = "; ".join(f"{c.kind} {c.name} ({c.detail})" for c in conflicts)
    summary = ("these cannot all hold: " + names) if conflicts else (
        "the solver proved no plan exists but found no small conflicting set")
    return Diagnosis(summary, conflicts, limits)


# definitions of aggregates and the origin split of embedded scope, how a stock's level
# follows its puts and releases, branch costs and CVaR tails: no input row to change
PERIOD_STRUCTURE = ("supply_total_def", "group_supply_def", "origin_draw_total",
                    "origin_outflow", "stock_origin_total")
LINK_STRUCTURE = ("stock_flow", "stock_origin_flow", "branch_cost_def", "cvar_tail")
STRUCTURAL = PERIOD_STRUCTURE + LINK_STRUCTURE


def _is_input_row(view: PlanResult | None, component: str, key) -> bool:
    """Rows a planner can change: a positive demand, capacities, minimums, limits, stock
    floors and capacities, expansion maximums. Definitions of aggregates and a zero-demand
    stage's material balance are physics."""
    if component == "balance":
        return view.built.model.demand[key] > 0
    return component not in STRUCTURAL


class ConflictFilter:
    """Deletion filter over input rows: relax one row at a time (a demand to 0, any
    other row removed) and keep it relaxed while the rest stays infeasible. What is
    left is irreducible: relaxing any one of its rows makes a plan possible."""

    def __init__(self, lp: LinearProgram, input_rows: list[int]):
        self.lp, self.input_rows = lp, input_rows
        self.index = np.asarray(input_rows, dtype=np.int64)
        # its own copy: the filter's bound edits must not reach ``lp``
        feasibility = LinearProgram(lp.A.copy(), np.zeros(lp.shape[1]), 0.0,
                                    lp.row_lower.copy(), lp.row_upper.copy(),
                                    lp.col_lower.copy(), lp.col_upper.copy(), lp.rows,
                                    lp.columns)
        self.solver = HighsSolver(feasibility)

    def irreducible(self, start: list[int]) -> list[int]:
        """An irreducible conflicting subset, starting from ``start`` (HiGHS's IIS)."""
        kept = set(start)
        if not self._infeasible(kept):
            kept = set(self.input_rows)      # the IIS leaned on rows we treat as physics
            if not self._infeasible(kept):
                return sorted(start)
        for row in sorted(kept):
            if self._infeasible(kept - {row}):
                kept.discard(row)
        return sorted(kept)

    def _infeasible(self, kept: set[int]) -> bool:
        lower, upper = self.lp.row_lower[self.index], self.lp.row_upper[self.index]
        bounds = [(lo, up) if row in kept else _relaxed(lo, up)
                  for row, lo, up in zip(self.input_rows, lower.tolist(), upper.tolist(),
                                         strict=True)]
        self.solver.set_row_bounds(self.index, [lo for lo, _ in bounds],
                                   [up for _, up in bounds])
        status, _ = self.solver.run(presolve=False)
        return status is SolveStatus.INFEASIBLE


def _relaxed(lower: float, upper: float) -> tuple[float, float]:
    """A demand row (≥ d) becomes ≥ 0; any other input row is dropped."""
    if np.isfinite(lower) and not np.isfinite(upper) and lower > 0:
        return 0.0, upper
    return -INF, INF


def _rows_of(result: PlanResult):
    """(view, component, key, constraint) of every row: each period's rows, then those
    that link periods (view None)."""
    for view in result.views:
        m = view.built.model
        for name in ("balance", "capacity", "minimum", "process_capacity", "share_max",
                     "share_min", *PERIOD_STRUCTURE):
            for key, con in getattr(m, name).items():
                yield view, name, key, con
    if result.linked:
        h = result.horizon.model
        for name in ("stock_floor", "stock_capacity", "expansion_limit", *LINK_STRUCTURE):
            for key, con in getattr(h, name).items():
                yield None, name, key, con


def _conflict(result: PlanResult, view: PlanResult | None, component: str,
              key) -> Conflict | None:
    if view is None:
        return _link_conflict(result, component, key)
    conflict = _period_conflict(view, component, key)
    if conflict is not None and result.linked:
        where = view.period if view.branch == "base" else f"{view.period} [{view.branch}]"
        conflict = replace(conflict, name=f"{conflict.name} in {where}")
    return conflict


def _period_conflict(view: PlanResult, component: str, key) -> Conflict | None:
    data, m = view.data, view.built.model
    if component == "balance":
        stage = next(s for s in data.stages if s.stage == key)
        return Conflict("demand", key, f"demand {stage.demand_t:,g} t", stage.origin)
    if component in ("capacity", "minimum"):
        offer = m.offer[key]
        if component == "capacity":
            return Conflict("capacity", key, f"capacity {offer.capacity_t:,g} t", offer.origin)
        return Conflict("minimum", key, f"contracted minimum {offer.min_t:,g} t", offer.origin)
    if component == "process_capacity":
        process = m.process[key]
        return Conflict("process_capacity", key, f"capacity {process.capacity_t:,g} t",
                        process.origin)
    if component in ("share_max", "share_min"):
        row = view.built.share_rows[key]
        limit = row.limit
        return Conflict("limit", f"{row.group}:{row.stage}",
                        f"{row.bound.value}_share {row.share:g} ({limit.basis.value}, "
                        f"{limit.scope.value})", limit.origin)
    return None  # definitions of aggregates: structural, not an input row


def _link_conflict(result: PlanResult, component: str, key) -> Conflict | None:
    """A stock floor or capacity at the end of a period, or an expansion's maximum."""
    h = result.horizon.model
    if component == "expansion_limit":
        expansion = h.expansion[key[0]]
        return Conflict("expansion_limit", key[0],
                        f"at most {expansion.max_t_yr:,g} t/yr added (branch {key[1]})",
                        expansion.origin)
    stage, period, branch = key
    stock = next(s for s in h.nodes[period, branch].data.stocks if s.stage == stage)
    where = period if branch == "base" else f"{period} [{branch}]"
    if component == "stock_floor":
        return Conflict("stock_floor", f"{stage} in {where}",
                        f"reserve floor {h.floor[key]:,g} t", stock.origin)
    if component == "stock_capacity":
        return Conflict("stock_capacity", f"{stage} in {where}",
                        f"stock capacity {stock.capacity_t:,g} t", stock.origin)
    return None


def _tightest(view: PlanResult, placed: ShareColumns, period: str | None) -> TightestShare:
    """The tightest feasible value of one limit (in ``period``, over time)."""
    share_row = placed.share_row
    sense = 1.0 if share_row.bound is Bound.MAX else -1.0
    value = extreme_share(view.lp, placed.lp_row, placed.group, placed.total, sense)
    stage = share_row.stage if period is None else f"{share_row.stage} in {period}"
    return TightestShare(share_row.group, stage, share_row.bound.value,
                         share_row.share, value, share_row.limit.origin)


def extreme_share(lp: LinearProgram, drop_row: int, group_col: int, total_col: int,
                  sense: float) -> float | None:
    """Min (sense=1) or max (sense=−1) of x[group]/x[total] over the LP without one row.

    Charnes–Cooper: variables (y, t); each finite row bound becomes a homogeneous
    row a·y − bound·t (≥ or ≤) 0; each finite column bound likewise; y_T = 1.
    """
    without = LinearProgram(lp.A, np.zeros(lp.shape[1]), 0.0, lp.row_lower.copy(),
                            lp.row_upper.copy(), lp.col_lower, lp.col_upper, lp.rows,
                            lp.columns)
    without.row_lower[drop_row], without.row_upper[drop_row] = -INF, INF
    if HighsSolver(without).run(presolve=False)[0] is not SolveStatus.OPTIMAL:
        return None  # no plan even without this limit
    keep = np.array([r for r in range(lp.shape[0]) if r != drop_row], dtype=int)
    matrix_kept = sparse.csr_array(lp.A)[keep]
    lower, upper = lp.row_lower[keep], lp.row_upper[keep]
    n = lp.shape[1]
    blocks, lo, hi = [], [], []
    for bounds, is_lower in ((lower, True), (upper, False)):
        finite = np.isfinite(bounds)
        if finite.any():
            t_col = sparse.csr_array(-bounds[finite].reshape(-1, 1))
            blocks.append(sparse.hstack([matrix_kept[finite], t_col]))
            zeros = np.zeros(int(finite.sum()))
            lo.append(zeros if is_lower else np.full(zeros.shape, -INF))
            hi.append(np.full(zeros.shape, INF) if is_lower else zeros)
    for bounds, is_lower in ((lp.col_lower, True), (lp.col_upper, False)):
        finite = np.flatnonzero(np.isfinite(bounds) & (bounds != 0))
        if finite.size:
            eye = sparse.csr_array((np.ones(finite.size), (np.arange(finite.size), finite)),
                                   shape=(finite.size, n))
            blocks.append(sparse.hstack([eye, sparse.csr_array(-bounds[finite].reshape(-1, 1))]))
            zeros = np.zeros(finite.size)
            lo.append(zeros if is_lower else np.full(zeros.shape, -INF))
            hi.append(np.full(zeros.shape, INF) if is_lower else zeros)
    normalise = sparse.csr_array(([1.0], ([0], [total_col])), shape=(1, n + 1))
    blocks.append(normalise)
    lo.append(np.ones(1))
    hi.append(np.ones(1))
    matrix = sparse.csc_array(sparse.vstack(blocks))
    cost = np.zeros(n + 1)
    cost[group_col] = sense
    col_lower = np.append(np.where(np.isfinite(lp.col_lower) & (lp.col_lower == 0), 0.0, -INF),
                          0.0)
    col_upper = np.append(np.where(np.isfinite(lp.col_upper) & (lp.col_upper == 0), 0.0, INF),
                          INF)
    aux = LinearProgram(matrix, cost, 0.0, np.concatenate(lo), np.concatenate(hi), col_lower,
                        col_upper, [None] * matrix.shape[0], [None] * (n + 1))
    solution = HighsSolver(aux).solve(presolve=False)
    if solution.status is not SolveStatus.OPTIMAL:
        return None
    return round(float(solution.col_value[group_col]), 9) + 0.0  # no -0.0
