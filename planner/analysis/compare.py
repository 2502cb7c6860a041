"""Policy scenarios side by side (``planner compare``, issue 4 part 2).

Each scenario is solved in full (plan, verification, shadow prices), on one
built model where only numbers differ (``planner.solving.variants``); the comparison
keeps what a planner reads across columns: total cost and its change against the
first column, cost per stage, China's share per stage (direct and embedded), the
top suppliers by spend, the binding limits with their USD per pp and whole cost,
and, for an infeasible scenario, its diagnosis in one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from planner.analysis.scenarios import apply_scenario, scenario_names
from planner.models.data import Dataset
from planner.solving import WHOLE_COST_LIMIT
from planner.solving.result import Result, labelled
from planner.solving.variants import VariantSolver

BASE = "base"


@dataclass
class ScenarioOutcome:
    """One column of the comparison: the scenario's labelled result."""

    name: str
    result: Result
    seconds: float
    reused_model: bool


def compare_scenarios(data: Dataset, names: list[str],
                      whole_costs: int | None = WHOLE_COST_LIMIT) -> list[ScenarioOutcome]:
    """Solve the base dataset (``base``) or a named scenario for each name, in order,
    reusing the built model between scenarios that differ only in numbers;
    ``whole_costs`` binding share rows of each priced whole (None: all)."""
    solver = VariantSolver(whole_costs=whole_costs)
    outcomes = []
    for name in names:
        start = time.perf_counter()
        scenario = data if name == BASE else apply_scenario(data, name)
        reused = solver.reused
        result = labelled(solver.solve(scenario))   # read now: the next solve reuses the model
        outcomes.append(ScenarioOutcome(name, result, time.perf_counter() - start,
                                        solver.reused > reused))
    return outcomes


def default_names(data: Dataset) -> list[str]:
    """The base dataset first, then every scenario of the dataset."""
    return [BASE, *scenario_names(data)]
