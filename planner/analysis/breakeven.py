"""`planner stress --break-even PATTERN`: the probability of a disruption above which joining
the trade zone is cheaper than observing it (issue 12 point 3).

The chosen disruptions (ids matching PATTERN) keep their proportions w_d = π_d / Σ π and
share a total probability t; the base branch takes what they give up: π_base = 1 − q − t,
q the other disruptions' total. Every node's probability is then affine in t, and so is
the LP's cost vector, c(t) = c(0) + t·Δc (constraints do not depend on t). The optimum

    V(t) = min_x c(t)·x   over a fixed feasible set

is a minimum of functions affine in t: concave and piecewise linear (with CVaR too: its
Rockafellar–Uryasev rows are linear in the probabilities). Each solve at t gives V(t)
and a supporting line of slope Δc·x*(t). The breakpoints are found exactly by the
sandwich method: intersect the lines at the ends of an interval; if V there equals the
lines, the interval has at most that one breakpoint; else split there and go on — a
finite number of warm re-solves, each on the same model with its costs moved. V is then
the minimum of the lines found, for each zone status, and the break-even probability is
where V_joined − V_observer changes sign (linear between the union of breakpoints).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

import numpy as np

from planner.io.problems import InputError, Problem
from planner.models.data import Dataset
from planner.models.highs import HighsSolver, SolveStatus, compile_lp
from planner.models.horizon import create_horizon

TOLERANCE = 1e-9   # relative: a line within this of V at a point touches V there


@dataclass(frozen=True)
class Touch:
    """V at probability t and the slope of the supporting line the optimum gives there."""

    t: float
    value: float
    slope: float

    def line(self, t: float) -> float:
        """The supporting line at another probability."""
        return self.value + self.slope * (t - self.t)

    def meets(self, later: Touch) -> float | None:
        """Where this line crosses the line of a touch at a higher t (None: the two are
        one line, their slopes equal within the tolerance)."""
        if self.slope - later.slope <= TOLERANCE * max(1.0, abs(self.slope)):
            return None
        return (later.value - later.slope * later.t - self.value + self.slope * self.t) / (
            self.slope - later.slope)


@dataclass(frozen=True)
class Curve:
    """V(t) of one zone status on [0, t_max]: the minimum of its supporting lines."""

    zone: str
    touches: tuple[Touch, ...]   # by t; every breakpoint lies between two of them

    def value(self, t: float) -> float:
        """V(t), exact between the breakpoints found."""
        return min(touch.line(t) for touch in self.touches)

    def breakpoints(self) -> list[float]:
        """Where consecutive supporting lines cross."""
        crossings = (left.meets(right) for left, right in zip(self.touches, self.touches[1:],
                                                              strict=False))
        return [t for t in crossings if t is not None]


@dataclass(frozen=True)
class BreakEven:
    """Both zone statuses' optimum as the chosen disruptions' probability moves."""

    disruptions: tuple[str, ...]
    weights: dict[str, float]
    now: float                    # their total probability in the dataset
    t_max: float
    joined: Curve
    observer: Curve
    crossings: list[tuple[float, str]]   # (t, the status cheaper above t)

    @property
    def probability(self) -> float | None:
        """The lowest probability above which joining is cheaper (None: it never is, or
        it is from 0)."""
        return next((t for t, cheaper in self.crossings if cheaper == "joined"), None)

    def summary(self) -> dict:
        """The JSON object: the probability, where each status is cheaper, both curves."""
        def points(curve: Curve) -> list[dict]:
            inside = {round(min(max(t, 0.0), self.t_max), 12) for t in curve.breakpoints()}
            return [{"probability": t, "objective_usd": curve.value(t)}
                    for t in sorted({0.0, self.now, self.t_max} | inside)]

        return {"disruptions": list(self.disruptions), "weights": self.weights,
                "probability_now": self.now, "max_probability": self.t_max,
                "break_even_probability": self.probability,
                "crossings": [{"probability": t, "cheaper_above": cheaper}
                              for t, cheaper in self.crossings],
                "joined_now_usd": self.joined.value(self.now),
                "observer_now_usd": self.observer.value(self.now),
                "cheaper_now": ("joined" if self.joined.value(self.now)
                                < self.observer.value(self.now) else "observer"),
                "joined": points(self.joined), "observer": points(self.observer)}


def chosen(data: Dataset, pattern: str) -> tuple[str, ...]:
    """The disruption ids matching ``pattern`` (a shell-style glob); an input error if
    none does."""
    ids = tuple(d.disruption for d in data.disruptions if fnmatchcase(d.disruption, pattern))
    if not ids:
        known = [d.disruption for d in data.disruptions]
        raise InputError([Problem("--break-even", "a pattern (shell-style: cn-*, *dytb*) "
                                  "matching one or more of the dataset's disruptions: "
                                  + (", ".join(known) if known else "it has none"),
                                  value=pattern)])
    return ids


def break_even(joined: Dataset, observer: Dataset, pattern: str) -> BreakEven:
    """Both zone statuses' optimum (``joined`` and ``observer``: the same dataset under
    each) as a function of the chosen disruptions' probability, and where they cross."""
    data = observer
    ids = chosen(data, pattern)
    mine = [d for d in data.disruptions if d.disruption in ids]
    total = sum(d.probability for d in mine)
    weights = {d.disruption: (d.probability / total if total else 1.0 / len(mine))
               for d in mine}
    t_max = 1.0 - sum(d.probability for d in data.disruptions if d.disruption not in ids)
    curves = [curve(one, weights, t_max, zone) for one, zone in ((joined, "joined"),
                                                               (observer, "observer"))]
    return BreakEven(ids, weights, total, t_max, *curves, crossings(*curves, t_max))


def at_probability(data: Dataset, weights: dict[str, float], t: float) -> Dataset:
    """``data`` with the chosen disruptions' probabilities summing to ``t``."""
    return replace(data, disruptions=tuple(
        replace(d, probability=t * weights[d.disruption]) if d.disruption in weights else d
        for d in data.disruptions))


def curve(data: Dataset, weights: dict[str, float], t_max: float, zone: str) -> Curve:
    """V(t) on [0, t_max] for ``data`` (under ``zone``), exact (see the module)."""
    models = [create_horizon(at_probability(data, weights, t)).model for t in (0.0, t_max)]
    start, end = (compile_lp(model) for model in models)
    names = [var.name for var in start.columns]
    if names != [var.name for var in end.columns] or start.shape != end.shape:
        raise RuntimeError("the model's shape changed with the probability")
    costs = start.c.copy()   # the solver edits its LP's costs in place
    step = (end.c - costs) / t_max
    offset_step = (end.offset - start.offset) / t_max
    solver = HighsSolver(start)
    columns = np.arange(len(names))

    def touch(t: float) -> Touch:
        solver.set_costs(columns, costs + t * step)
        solution = solver.solve(presolve=False)
        if solution.status is not SolveStatus.OPTIMAL:
            raise InputError([Problem("disruptions", "a plan at every probability of the "
                                      f"chosen disruptions; at {t:.6g} ({zone}) "
                                      f"the solver says {solution.message}")])
        x = solution.col_value
        return Touch(t, solution.objective + t * offset_step, float(step @ x) + offset_step)

    ends = (touch(0.0), touch(t_max))
    found = list(ends)
    pending = [ends]
    while pending:
        left, right = pending.pop()
        t = left.meets(right)
        if t is None or not left.t < t < right.t:
            continue   # one line over the whole interval
        middle = touch(t)
        if left.line(t) - middle.value <= TOLERANCE * max(1.0, abs(middle.value)):
            continue   # V touches both lines at t: the interval's one breakpoint
        found.append(middle)
        pending += [(left, middle), (middle, right)]
    return Curve(zone, tuple(sorted(found, key=lambda touch: touch.t)))


def crossings(joined: Curve, observer: Curve, t_max: float) -> list[tuple[float, str]]:
    """Where V_joined − V_observer changes sign, and which status is cheaper above."""
    grid = sorted({0.0, t_max, *joined.breakpoints(), *observer.breakpoints()})
    gap = [joined.value(t) - observer.value(t) for t in grid]
    scale = TOLERANCE * max(1.0, *(abs(observer.value(t)) for t in grid))
    found = []
    for (t0, g0), (t1, g1) in zip(zip(grid, gap, strict=True), zip(grid[1:], gap[1:],
                                                                 strict=True), strict=False):
        if (g0 > scale and g1 < -scale) or (g0 < -scale and g1 > scale):
            found.append((t0 + (t1 - t0) * g0 / (g0 - g1), "joined" if g1 < 0 else "observer"))
    return found
