"""Solve a dataset end to end: build, solve, verify, analyse, diagnose.

The one place that sequences the model, the solver adapter, the sensitivity
analysis and the infeasibility diagnosis; reports read its ``PlanResult``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from planner.io.problems import InputError, Problem
from planner.models.build import (
    ShareColumns,
    SourcingModel,
    penalty_per_unit,
    share_columns,
)
from planner.models.costs import landed_costs
from planner.models.data import Dataset, ZoneStatus
from planner.models.groups import closed_offers
from planner.models.highs import (
    INF,
    HighsSolver,
    LinearProgram,
    LpSolution,
    SolveStatus,
    compile_lp,
    solution_residuals,
)
from planner.models.horizon import HorizonModel, create_horizon
from planner.models.periods import BASE_BRANCH, BASE_PERIOD, over_time, period_datasets
from planner.solving import WHOLE_COST_LIMIT
from planner.solving.diagnosis import Diagnosis, diagnose, unreachable_demand
from planner.solving.sensitivity import RowRate, Sensitivity, ShareRange

RESIDUAL_TOLERANCE = 1e-6
PENALTY_ROUNDS = 30  # re-solves allowed for soft-limit penalties to settle


@dataclass
class PlanResult:
    """Everything one solve produced; only an OPTIMAL result carries a plan."""

    status: SolveStatus
    message: str
    data: Dataset
    built: SourcingModel | None = None
    lp: LinearProgram | None = None
    solution: LpSolution | None = None
    residuals: dict[str, float] = field(default_factory=dict)
    row_rates: dict[int, RowRate] = field(default_factory=dict)     # by LP row
    share_ranges: dict[int, ShareRange] = field(default_factory=dict)  # by share row
    rule_costs: dict[int, float | None] = field(default_factory=dict)  # by share row
    whole_costs_measured: tuple[int, int] = (0, 0)  # (whole costs measured, binding rows)
    unconstrained: tuple[np.ndarray, np.ndarray] | None = None  # (bought, made), no limits
    other_zone_objective: float | None = None    # optimum under the other zone status
    diagnosis: Diagnosis | None = None
    horizon: HorizonModel | None = None   # the whole model (several periods: ``views``)
    period: str = BASE_PERIOD.period      # a view: its period, and the weight of one
    weight: float = 1.0                   # year of its costs (years × discount factor)
    years: float = 1.0                    # and its length
    branch: str = BASE_BRANCH             # a view of a node: its branch and the
    mass: float = 1.0                     # probability of the branches through it

    @property
    def optimal(self) -> bool:
        """Whether a verified optimal plan is available."""
        return self.status is SolveStatus.OPTIMAL

    @property
    def linked(self) -> bool:
        """Whether this is a plan over several linked periods (read it through ``views``)."""
        return self.horizon is not None and self.horizon.linked

    @cached_property
    def views(self) -> list[PlanResult]:
        """One result per period, reading the shared LP through that period's block: a
        view's ``data`` is the period's dataset, its prices are still in the objective's
        (discounted) units — divide by ``weight`` for the period's own money. A plan of one
        period is its own view."""
        if not self.linked:
            return [self]
        return [PlanResult(self.status, self.message, node.data, built, self.lp,
                           self.solution, self.residuals, self.row_rates,
                           period=node.period.period, weight=node.weight,
                           years=node.period.years, branch=node.branch, mass=node.mass)
                for node, built in zip(self.horizon.periods, self.horizon.slices,
                                       strict=True)]

    @property
    def price_scale(self) -> float:
        """A view's objective units per USD of its own money (SPEC §4): years × discount
        factor × the probability of the branches that share it."""
        return self.weight * self.mass

    @property
    def risk_weighted(self) -> bool:
        """Whether the objective mixes in CVaR (its costs then sit in branch rows)."""
        return self.linked and self.horizon.model.risk_weight > 0

    def value(self, var) -> float:
        """Optimal value of a Pyomo variable (0 for one the compiler dropped)."""
        column = self._columns.get(id(var))
        return 0.0 if column is None else float(self.solution.col_value[column])

    def lp_row(self, constraint) -> int:
        """Index of a Pyomo constraint's row in the compiled LP."""
        return self._rows[id(constraint)]

    def rate(self, constraint) -> RowRate:
        """Rate and range of a demand, capacity or minimum constraint."""
        return self.row_rates[self._rows[id(constraint)]]

    def __post_init__(self) -> None:
        self._columns = self.lp.column_of() if self.lp else {}
        self._rows = self.lp.row_of() if self.lp else {}

    @cached_property
    def share_columns(self) -> list[ShareColumns]:
        """Each share row's LP row and its G, T (and e) columns, in ``share_rows`` order."""
        return share_columns(self.built, self.lp)

    def share_total(self, i: int) -> float:
        """The plan's stage total T of share row ``i`` (t or USD, by the row's basis)."""
        return float(self.solution.col_value[self.share_columns[i].total])

    def share_group(self, i: int) -> float:
        """The plan's group supply G of share row ``i``."""
        return float(self.solution.col_value[self.share_columns[i].group])

    @cached_property
    def _offer_columns(self) -> np.ndarray:
        m = self.built.model
        return self._columns_of([m.buy[o.offer] for o in self.data.offers])

    @cached_property
    def _process_columns(self) -> np.ndarray:
        m = self.built.model
        return self._columns_of([m.make[p.process] for p in self.data.processes])

    def _columns_of(self, variables) -> np.ndarray:
        return np.array([self._columns.get(id(v), -1) for v in variables], dtype=np.int64)

    @staticmethod
    def _take(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """``values`` (per LP column) at ``columns``; 0 where the compiler dropped a variable."""
        return np.where(columns >= 0, values[columns] if len(values) else 0.0, 0.0)

    @property
    def penalty_usd(self) -> float:
        """What the plan pays, in the objective, for passing soft share limits (a view:
        per year of its period, undiscounted)."""
        if self.linked:
            return sum(view.price_scale * view.penalty_usd for view in self.views)
        m = self.built.model
        return sum(m.penalty[i] * self.value(m.excess[i]) for i in m.SOFT_ROWS)

    @property
    def yearly_cost_usd(self) -> float:
        """A view's landed cost of one year of its period, undiscounted (purchases,
        processing, unmet demand; without soft-limit penalties)."""
        m = self.built.model
        return (float(np.dot([m.landed[o.offer] for o in self.data.offers], self.bought))
                + float(np.dot([p.cost_usd_per_t for p in self.data.processes], self.made))
                + sum(m.shortage[s] * self.value(m.short[s]) for s in m.SHORT_STAGES))

    @property
    def unmet_t(self) -> float:
        """Demand left unmet, t: a view's over its period (per year × years); a plan
        over time, summed over its nodes (one path: over the horizon)."""
        if self.linked:
            return sum(view.unmet_t for view in self.views)
        m = self.built.model
        return self.years * sum(self.value(m.short[s]) for s in m.SHORT_STAGES)

    @property
    def cost_usd(self) -> float:
        """Landed cost of the plan: purchases and processing, without soft-limit penalties."""
        return float(self.solution.objective) - self.penalty_usd

    @property
    def bought(self) -> np.ndarray:
        """Tonnes bought via each offer, in ``data.offers`` order."""
        return self._take(self.solution.col_value, self._offer_columns)

    @property
    def made(self) -> np.ndarray:
        """Tonnes made by each process, in ``data.processes`` order."""
        return self._take(self.solution.col_value, self._process_columns)

    @property
    def offer_reduced_costs(self) -> np.ndarray:
        """Reduced cost of each offer's purchase variable, in ``data.offers`` order."""
        return self._take(self.solution.col_dual, self._offer_columns)

    @property
    def process_reduced_costs(self) -> np.ndarray:
        """Reduced cost of each process's output variable, in ``data.processes`` order."""
        return self._take(self.solution.col_dual, self._process_columns)


def solve_plan(data: Dataset, time_limit: float | None = None,
               sensitivity: bool = True, context: bool = False,
               whole_costs: int | None = WHOLE_COST_LIMIT) -> PlanResult:
    """Build and solve ``data``; verify the optimum and analyse it, or diagnose.

    ``context`` adds two comparisons to an optimal plan, re-solved warm on the same
    solver: the plan without share limits (concentration before/after) and the
    optimum under the other zone status (what joining the zone costs).
    ``whole_costs``: how many binding share rows get their whole cost (None: all).
    """
    result, solver = start(data, time_limit)
    return finish(result, solver, time_limit, sensitivity, context, whole_costs)


def start(data: Dataset, time_limit: float | None,
          loaded: tuple[SourcingModel, LinearProgram, HighsSolver] | None = None,
          fixed: Mapping[str, float] | None = None) -> tuple[PlanResult, HighsSolver | None]:
    """First solve of ``data``: on a new model, or warm on ``loaded`` (a built model,
    its LP and solver that already hold ``data``'s numbers, see ``planner.solving.variants``).
    ``fixed``: variables (by name) held at these values — another plan's decisions carried
    into this model; an infeasible result is then not diagnosed (the fixing is the cause)."""
    if over_time(data) and any(limit.max_cost_usd_per_pp is not None
                               for period in period_datasets(data) for limit in period.data.limits):
        raise InputError([Problem("limits", "no max_cost_usd_per_pp over periods: soft limits "
                                  "are not built for plans over time in this version (each "
                                  "period's penalty needs its own stage total); make the "
                                  "limit hard or solve one period", column="max_cost_usd_per_pp")])
    missing = unreachable(data)
    if missing:
        return PlanResult(SolveStatus.INFEASIBLE, "no feasible plan", data,
                          diagnosis=missing), None
    if loaded is None:
        horizon = create_horizon(data)
        lp = compile_lp(horizon.model)
        if fixed is not None:
            fix_columns(lp, fixed)
        solver = HighsSolver(lp, time_limit=time_limit)
        return _solve(data, horizon, lp, solver, time_limit, explain=fixed is None), solver
    built, lp, solver = loaded
    horizon = HorizonModel(built.model, data, period_datasets(data), [built])
    return _solve(data, horizon, lp, solver, time_limit, presolve=False), solver


def fix_columns(lp: LinearProgram, fixed: Mapping[str, float]) -> None:
    """Hold each named variable of ``lp`` at its value; every name must be a column (one
    the compiler dropped, being in no row, may only be fixed at 0)."""
    found = 0
    for j, var in enumerate(lp.columns):
        value = fixed.get(var.name)
        if value is not None:
            lp.col_lower[j] = lp.col_upper[j] = value
            found += 1
    if found < sum(1 for value in fixed.values() if value != 0.0):
        missing = sorted(set(fixed) - {var.name for var in lp.columns})
        raise ValueError(f"cannot fix {len(missing)} variable(s) absent from the model, "
                         f"e.g. {missing[:3]}")


def unreachable(data: Dataset) -> Diagnosis | None:
    """Demand that nothing can supply, in any period (a stock counts as a supply)."""
    if not over_time(data):
        return unreachable_demand(data)
    stocked = {s.stage for s in data.stocks}
    found = [(p.period.period, unreachable_demand(p.data, stocked))
             for p in period_datasets(data)]
    found = [(period, d) for period, d in found if d is not None]
    if not found:
        return None
    conflicts = [replace(c, name=f"{c.name} in {period}") for period, d in found
                 for c in d.conflicts]
    return Diagnosis("; ".join(f"{d.summary} in {period}" for period, d in found), conflicts)


def finish(result: PlanResult, solver: HighsSolver | None, time_limit: float | None,
           sensitivity: bool = True, context: bool = False,
           whole_costs: int | None = WHOLE_COST_LIMIT) -> PlanResult:
    """Settle soft-limit penalties, then shadow prices and context of an optimal plan."""
    if result.optimal and not result.linked and result.built.model.SOFT_ROWS:
        result = _settle_penalties(result, solver, time_limit)
    if result.optimal and sensitivity:
        _analyse(result, solver, whole_costs)
    if result.optimal and context and not result.risk_weighted:
        _add_context(result, solver)   # (under CVaR, costs sit in the branch rows)
    return result


def _add_context(result: PlanResult, solver: HighsSolver) -> None:
    """Re-solve warm from the optimum (no rebuild): once with every share row relaxed,
    once under the other zone status (the offers' landed costs, and members-only offers
    opened or closed); restore after."""
    base_basis = solver.basis()
    views = result.views
    rows = [placed.lp_row for view in views for placed in view.share_columns]
    if rows:
        with solver.temporary(basis=base_basis, resolve=False) as edits:
            edits.set_row_bounds(rows, -INF, INF)
            free = solver.solve(presolve=False)
        if free.status is SolveStatus.OPTIMAL:
            for view in views:
                view.unconstrained = (view._take(free.col_value, view._offer_columns),
                                      view._take(free.col_value, view._process_columns))
    columns, costs, switched, uppers = [], [], [], []
    for view in views:
        data = view.data
        other = ZoneStatus.OBSERVER if data.zone is ZoneStatus.JOINED else ZoneStatus.JOINED
        flipped_data = replace(data, zone=other)
        flipped = landed_costs(flipped_data)
        used = view._offer_columns >= 0
        columns.append(view._offer_columns[used])
        costs.append(view.price_scale
                     * np.array([flipped[o.offer].total for o in data.offers])[used])
        closed_now, closed_then = closed_offers(data), closed_offers(flipped_data)
        for column, offer in zip(view._offer_columns, data.offers, strict=True):
            if column >= 0 and (offer.offer in closed_now) != (offer.offer in closed_then):
                switched.append(column)
                uppers.append(0.0 if offer.offer in closed_then else INF)
    with solver.temporary(basis=base_basis) as edits:
        edits.set_costs(np.concatenate(columns), np.concatenate(costs))
        if switched:   # members-only offers: open to a member, closed to an observer
            edits.set_col_bounds(switched, 0.0, np.array(uppers))
        status, _ = solver.run(presolve=False)
        if status is SolveStatus.OPTIMAL:
            result.other_zone_objective = solver.objective()


def _settle_penalties(result: PlanResult, solver: HighsSolver,
                      time_limit: float | None) -> PlanResult:
    """Soft limits: price each penalty at the plan's own stage total.

    A willingness to pay π USD/pp costs 100·π/T per unit of allowance, and T (the
    stage's weighted total) is part of the plan: set T to the plan's total and
    re-solve, until no coefficient moves (relative 1e-9). At such a fixed point the
    limit is passed only as far as each point would cost more than π to keep, and the
    penalty reported is π times the points passed. The cost against the share need
    not be convex, so there can be several fixed points (hold the limit, or pass it
    far where passing also raises T): the iteration starts once from the strictest
    pricing (T = 1, as if hard) and once from none (as if absent), and the cheaper
    fixed point is kept. Both starts are fixed, so the answer does not depend on what
    the same model solved before (``planner.solving.variants``).
    """
    m = result.built.model
    soft = list(m.SOFT_ROWS)
    placed = result.share_columns
    columns = np.array([placed[i].excess for i in soft], dtype=np.int64)
    strict = np.array([penalty_per_unit(result.built.share_rows[i], 1.0) for i in soft])
    settled = []
    for start in (strict, np.zeros(len(soft))):
        result = _reprice(result, solver, columns, start, time_limit)
        if result.optimal:
            result = _fixed_point(result, solver, columns, time_limit)
        settled.append((result, result.lp.c[columns].copy()))
    candidates = [(r, costs) for r, costs in settled if r.optimal] or settled[-1:]
    best, costs = min(candidates, key=lambda pair: pair[0].solution.objective
                      if pair[0].optimal else np.inf)
    return best if best is result else _reprice(result, solver, columns, costs, time_limit)


def _fixed_point(result: PlanResult, solver: HighsSolver, columns: np.ndarray,
                 time_limit: float | None) -> PlanResult:
    """Re-price at the plan's own totals until no penalty coefficient moves."""
    soft = list(result.built.model.SOFT_ROWS)
    for _ in range(PENALTY_ROUNDS):
        costs = np.array([_settled_penalty(result, i) for i in soft])
        if np.allclose(costs, result.lp.c[columns], rtol=1e-9, atol=0.0):
            return result
        result = _reprice(result, solver, columns, costs, time_limit)
        if not result.optimal:
            return result
    result.message = (f"soft-limit penalties still moving after {PENALTY_ROUNDS} re-solves; "
                      "the plan prices them at the last stage totals")
    return result


def _reprice(result: PlanResult, solver: HighsSolver, columns: np.ndarray, costs: np.ndarray,
             time_limit: float | None) -> PlanResult:
    """Set the soft rows' penalty coefficients (model, LP copy and HiGHS) and re-solve warm."""
    m = result.built.model
    m.penalty.update(zip(m.SOFT_ROWS, costs.tolist(), strict=True))
    solver.set_costs(columns, costs)
    return _solve(result.data, result.horizon, solver.lp, solver, time_limit, presolve=False)


def _settled_penalty(result: PlanResult, i: int) -> float:
    """Penalty per unit of soft row ``i`` at the plan's total (kept where the total is 0)."""
    total = result.share_total(i)
    return (penalty_per_unit(result.built.share_rows[i], total) if total > 1e-9
            else result.built.model.penalty[i])


def _solve(data: Dataset, horizon: HorizonModel, lp: LinearProgram, solver: HighsSolver,
           time_limit: float | None, presolve: bool = True, explain: bool = True
           ) -> PlanResult:
    """Solve, confirm infeasibility without presolve, verify an optimum, or diagnose
    (``explain``)."""
    solution = solver.solve(presolve=presolve)
    if solution.status in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_OR_UNBOUNDED,
                           SolveStatus.UNBOUNDED):
        solution = solver.solve(presolve=False)  # confirm without presolve before we say so
    built = None if horizon.linked else horizon.slices[0]
    result = PlanResult(solution.status, solution.message, data, built, lp, solution,
                        horizon=horizon)
    if solution.status is SolveStatus.INFEASIBLE:
        result.message = "no feasible plan"
        result.diagnosis = diagnose(result, solver) if explain else None
        return result
    if not result.optimal:
        result.message = failure_message(result, time_limit)
        return result
    result.residuals = solution_residuals(lp, solution)
    worst = max(result.residuals.values())
    if worst > RESIDUAL_TOLERANCE:
        result.status = SolveStatus.ERROR
        result.message = ("the solver's answer failed verification (residuals "
                          + ", ".join(f"{k} {v:.2e}" for k, v in result.residuals.items())
                          + "); no plan is reported")
    return result


def failure_message(result: PlanResult, time_limit: float | None) -> str:
    """One line for an outcome without a verified plan (exit code 3)."""
    status, solution = result.status, result.solution
    if status is SolveStatus.UNBOUNDED:
        free = list(dict.fromkeys(
            [o.offer for view in result.views for o in view.data.offers
             if o.capacity_t is None and view.built.landed[o.offer].total < 0]
            + [p.process for view in result.views for p in view.data.processes
               if p.capacity_t is None and p.cost_usd_per_t < 0]))
        return ("unbounded: cost falls without limit; offers or processes with a negative "
                "cost and no capacity: " + (", ".join(free) or "none found"))
    if status is SolveStatus.TIME_LIMIT:
        found = solution.col_value is not None
        return (f"time limit of {time_limit:g} s reached before a plan was proven optimal"
                + (f"; the best feasible plan so far costs {solution.objective:,.2f} USD and "
                   "is not reported (its shadow prices would not be valid)" if found else
                   "; no feasible plan was found in that time"))
    if status is SolveStatus.INFEASIBLE_OR_UNBOUNDED:
        return "the solver could not tell infeasible from unbounded, even without presolve"
    return f"the solver stopped without a plan (HiGHS: {result.message})"


def _unmet_demand_rates(result: PlanResult, analysis: Sensitivity) -> dict[int, RowRate]:
    """Demand rates of stages where some demand is left unmet (u[s] > 0), in each period.

    More demand there also raises u's bound u ≤ d, which ranging the balance row alone
    does not see. Wholly unmet (u = d): moving d and the bound by δ changes nothing but
    u (its column is the balance row's unit vector), so the basis stays optimal and the
    cost moves by shortage[s]·δ for any demand from 0 up; the row's own dual (which may
    be far above the shortage price, or not unique) prices another move. Partly unmet
    (0 < u < d, u basic): the rate is the shortage price and more demand only raises u,
    whose bound rises with it, so the rate holds without an upper end; the lower end
    (where u reaches 0) is the row's. No demand (u = d = 0): the first tonne costs the
    cheaper of the row's rate and leaving it unmet. Rates are in the objective's units:
    a period's shortage price weighs years × discount factor there.

    Under CVaR (risk weight > 0) a node's shortage cost reaches the objective through the
    branch costs and the tail, at a weight the basis decides: where u sits at its bound
    (all demand unmet, or none) the rate is measured by moving the demand and u's bound
    together (``Sensitivity.unmet_demand_rate``); partly unmet, the row's own rate holds.
    """
    if result.risk_weighted:
        return _risk_unmet_demand_rates(result, analysis)
    rates = {}
    for view in result.views:
        m = view.built.model
        for s in m.SHORT_STAGES:
            unmet, row = view.value(m.short[s]), view.lp_row(m.balance[s])
            price = m.shortage[s] * view.price_scale
            if m.demand[s] <= 0 and row in result.row_rates \
                    and result.row_rates[row].rate_up <= price:
                continue   # the row's own rate is cheaper than leaving demand unmet
            if unmet >= m.demand[s] * (1 - 1e-9):
                rates[row] = RowRate(price, 0.0, INF, True, price, price)
            elif unmet > 1e-9 and row in result.row_rates:
                rates[row] = replace(result.row_rates[row], valid_to=INF)
    return rates


def _risk_unmet_demand_rates(result: PlanResult, analysis: Sensitivity
                             ) -> dict[int, RowRate]:
    """``_unmet_demand_rates`` under CVaR: every node's stage whose unmet demand sits at
    its bound (u = demand, 0 included), re-solved with the demand and u's bound moved."""
    rates = {}
    for view in result.views:
        m = view.built.model
        for s in m.SHORT_STAGES:
            column = view._columns.get(id(m.short[s]))
            if column is None:
                continue
            if view.value(m.short[s]) >= m.demand[s] * (1 - 1e-9):
                row = view.lp_row(m.balance[s])
                rates[row] = analysis.unmet_demand_rate(row, column)
    return rates


def _analyse(result: PlanResult, solver: HighsSolver,
             whole_costs: int | None = WHOLE_COST_LIMIT) -> None:
    """Rates and ranges of every demand, capacity, minimum and binding share row, in
    every period, and of the stock and expansion rows that link periods; the whole cost
    of the ``whole_costs`` binding share rows with the largest rates (None: of all)."""
    analysis = Sensitivity(solver, result.lp, result.solution)
    rows = [view.lp_row(con) for view in result.views
            for component in (view.built.model.balance, view.built.model.minimum,
                              view.built.model.process_capacity, view.built.model.capacity)
            for con in component.values()]
    if result.linked:
        h = result.horizon.model
        rows += [result.lp_row(con) for component in (h.stock_flow, h.stock_origin_flow,
                                                      h.stock_floor, h.stock_capacity,
                                                      h.expansion_limit)
                 for con in component.values()]
    result.row_rates.update(analysis.row_rates(rows))
    result.row_rates.update(_unmet_demand_rates(result, analysis))
    binding = []
    for view in result.views:
        for placed in view.share_columns:
            i, row = placed.index, placed.lp_row
            total = view.share_total(i)
            slack = abs(result.solution.row_value[row])  # the row is G − σ·T, bound 0
            if abs(result.solution.row_dual[row]) <= 1e-9 and slack > 1e-9 * max(1.0, total):
                continue  # slack: no rate to range
            view.share_ranges[i] = analysis.share_range(row, placed.total,
                                                        placed.share_row.share)
            binding.append((view, i, row))
    _whole_costs(result, analysis, binding, whole_costs)


def _whole_costs(result: PlanResult, analysis: Sensitivity,
                 binding: list[tuple[PlanResult, int, int]], limit: int | None) -> None:
    """The whole cost of the binding share rows (view, share row, LP row) with the
    largest rates, up to ``limit`` of them (None: all): one warm re-solve each, so their
    number, not the count of binding rows, bounds the time. Largest |d cost / dσ| in the
    objective's units first, ties in LP row order; the others stay unmeasured."""
    def rate(item: tuple[PlanResult, int, int]) -> float:
        view, i, _ = item
        found = view.share_ranges[i]
        return max(abs(found.rate_down), abs(found.rate_up))

    chosen = sorted(binding, key=rate, reverse=True)[:limit]
    costs = analysis.whole_costs([row for _, _, row in chosen])
    for view, i, row in chosen:
        view.rule_costs[i] = costs[row]
    result.whole_costs_measured = (len(chosen), len(binding))
