"""`planner stress` (SPEC §3b, §5): the plan under disruption branches, what its reserve
is worth, and what planning for the disruptions is worth.

- **reserve value**: the objective with every stock level held at most to the floor in
  force (0 where a disruption waives it) minus the optimum — same model, the level
  columns' upper bounds moved, re-solved warm.
- **value of the stochastic solution** (VSS): solve the model without disruptions, fix
  every variable of the nodes before the first disruption starts (purchases,
  production, stocks, expansions: matched by name, the shared nodes being built the same
  way in both models), solve the model with disruptions; that objective minus the
  optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from planner.analysis.sampling import Samples, connect, sample
from planner.models.data import Dataset
from planner.models.highs import SolveStatus
from planner.solving.engine import PlanResult, finish, start


@dataclass
class StressOutcome:
    """The optimum under branches, the values measured against it, and its sampled
    futures (when asked for)."""

    plan: PlanResult
    reserve_value_usd: float | None
    vss_usd: float | None
    reserve_days: dict[str, float]
    samples: Samples | None = None


@dataclass(frozen=True)
class Sampling:
    """What ``stress --samples`` asks for: N futures, the seed, and where to solve them."""

    n: int
    seed: int = 0
    scheduler: str | None = None
    workers: int | None = None
    progress: Callable[[int, int], None] | None = None


def stress(data: Dataset, time_limit: float | None = None,
           sampling: Sampling | None = None) -> StressOutcome:
    """Solve ``data`` with its disruptions, measure the reserve value and the VSS, and
    test the plan on sampled futures."""
    if sampling is not None and sampling.scheduler is not None:
        connect(sampling.scheduler).close()   # an unreachable cluster: say so before solving
    result, solver = start(data, time_limit)
    if not result.optimal:
        return StressOutcome(finish(result, solver, time_limit), None, None, {})
    optimum = float(result.solution.objective)
    reserve = _reserve_value(result, solver, optimum)
    vss = _vss(data, result, solver, optimum, time_limit)
    samples = None
    if sampling is not None:
        fixed = shared_decisions(result, shared_nodes(result))
        samples = sample(data, fixed, sampling.n, sampling.seed, sampling.scheduler,
                         sampling.workers, sampling.progress)
    result = finish(result, solver, time_limit)
    return StressOutcome(result, reserve, vss, _reserve_days(result), samples)


def _reserve_value(result: PlanResult, solver, optimum: float) -> float | None:
    """Objective with every stock level ≤ the floor in force, minus the optimum."""
    if not result.linked:
        return 0.0
    h = result.horizon.model
    columns = [result._columns[id(var)] for var in h.stock_level.values()]
    if not columns:
        return 0.0
    floors = [h.floor[key] for key in h.stock_level]
    lower = [float(result.lp.col_lower[c]) for c in columns]
    with solver.temporary() as edits:
        edits.set_col_bounds(columns, lower, floors)
        solution = solver.solve(presolve=False)
    return (float(solution.objective) - optimum
            if solution.status is SolveStatus.OPTIMAL else None)


def shared_decisions(plan: PlanResult, shared: set[tuple[str, str]]) -> dict[str, float]:
    """Every variable of the ``shared`` nodes (those before the first disruption starts),
    by name, at its value in ``plan`` (nothing for a plan of one period)."""
    if not plan.linked:
        return {}
    model = plan.horizon.model
    return {var.name: float(value)
            for var, value in zip(plan.lp.columns, plan.solution.col_value, strict=True)
            if _node_of(var, model) in shared}


def shared_nodes(result: PlanResult) -> set[tuple[str, str]]:
    """Nodes before the first disruption starts (every branch shares them)."""
    h = result.horizon.model
    starts = [next(i for i, key in enumerate(b.nodes) if key[1] != "base")
              for b in h.branches if b.branch != "base"]
    first_start = min(starts, default=len(h.branches[0].nodes))
    return set(h.branches[0].nodes[:first_start])


def _node_of(var, model) -> tuple[str, str] | None:
    """The node (period, branch) a variable belongs to: its block's, or the last two
    parts of a top-level variable's index."""
    block = var.parent_block()
    if block is not model:
        return tuple(block.index())
    index = var.index()
    return tuple(index[-2:]) if isinstance(index, tuple) and len(index) >= 2 else None


def _vss(data: Dataset, result: PlanResult, solver, optimum: float,
         time_limit: float | None) -> float | None:
    """Fix the shared nodes' variables at the plan made ignoring disruptions, re-solve."""
    if not data.disruptions:
        return 0.0
    blind, _ = start(replace(data, disruptions=()), time_limit)
    if not blind.optimal:
        return None
    chosen = shared_decisions(blind, shared_nodes(result))
    if not chosen:   # a disruption from the first period: no decision precedes it
        return 0.0
    columns = [j for j, var in enumerate(result.lp.columns) if var.name in chosen]
    values = np.array([chosen[result.lp.columns[j].name] for j in columns])
    with solver.temporary() as edits:
        edits.set_col_bounds(columns, values, values)
        solution = solver.solve(presolve=False)
    return (float(solution.objective) - optimum
            if solution.status is SolveStatus.OPTIMAL else None)


def _reserve_days(result: PlanResult) -> dict[str, float]:
    """Each stock's level at the end of the last shared period, in days of its demand (the
    initial stock where a disruption may start in the first period)."""
    if not result.linked:
        return {}
    h = result.horizon.model
    shared = shared_nodes(result)
    if not shared:   # a disruption from the first period: the initial stock is the reserve
        first = h.nodes[h.branches[0].nodes[0]]
        demand = {s.stage: s.demand_t for s in first.data.stages}
        return {stage: stock.initial_t / demand[stage] * 365.0
                for stage, stock in h.stock.items() if demand[stage] > 0}
    last = max(shared, key=lambda key: h.nodes[key].position)
    demand = {s.stage: s.demand_t for s in h.nodes[last].data.stages}
    return {stage: result.value(h.stock_level[(stage, *last)]) / demand[stage] * 365.0
            for stage in h.stock if demand[stage] > 0}
