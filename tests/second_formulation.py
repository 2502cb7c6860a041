"""An independent second formulation of SPEC §3, used only by the tests.

Written from SPEC §2–§3, not from ``planner.models``: it reads the ``Dataset``
records (plain data) and nothing else of the planner. Landed costs are computed
here; the LP is a ``scipy.sparse`` matrix with SPEC §3's own rows — one row per
share limit with a coefficient per offer and process,

    Σ_{flows into s from g} w·flow − σ · Σ_{all flows into s} w·flow ≤ 0   (max)
                                                                 ≥ 0   (min)

and no aggregate variables — and it is solved with OR-Tools GLOP, not HiGHS.

Rows carry business keys so tests can move one right-hand side or one share,
drop rows, or keep only some (the rows of an infeasibility diagnosis):

    ("demand", stage)            balance: Σx + Σ_{into} z − Σ_{from} z/yield ≥ demand
    ("capacity", offer)          x ≤ capacity
    ("minimum", offer)           x ≥ min_t                (min_t > 0 only)
    ("process_capacity", proc)   z ≤ capacity
    ("share", group, stage, bound, basis, n)   one expanded limit (n counts repeats)

Reading of the SPEC where it leaves a choice (documented so a reviewer can
disagree): group ``each`` expands to every country that can supply the stage
(a country with an offer there, and the buyer when a domestic process feeds
it); a stage nothing feeds has no balance row terms, so positive demand there
is infeasible and zero demand is no constraint.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.linear_solver import pywraplp
from planner.models.data import Dataset
from scipy import sparse

OPTIMAL, INFEASIBLE, OTHER = "optimal", "infeasible", "other"
GLOP_PARAMETERS = ("primal_feasibility_tolerance: 1e-10 "
                   "dual_feasibility_tolerance: 1e-10 "
                   "use_preprocessing: false")


# ---------------------------------------------------------------- landed cost (SPEC §3)

def landed_cost(data: Dataset) -> dict[str, float]:
    """c[o] = v + r·v + levy, v = price + freight; domestic purchases: v only."""
    member = {c.country: bool(c.zone_member) for c in data.countries}
    rules = {(t.country, t.stage): t for t in data.tariffs}
    joined = data.zone.value == "joined"
    costs = {}
    for o in data.offers:
        value = o.price_usd_per_t + o.freight_usd_per_t
        if o.country == data.buyer:
            costs[o.offer] = value
            continue
        in_zone = member.get(o.country, False)
        rule = None
        for key in ((o.country, o.stage), (o.country, "*"), ("*", o.stage), ("*", "*")):
            if key in rules:
                rule = rules[key]
                break
        rate = 0.0
        if rule is not None:
            rate = rule.zone_rate if (joined and in_zone) else rule.mfn_rate
        levy = 0.0
        if joined and not in_zone and o.stage in data.benchmarks:
            levy = max(0.0, data.benchmarks[o.stage] - o.price_usd_per_t)
        costs[o.offer] = value + rate * value + levy
    return costs


def belongs(group: str, country: str, data: Dataset) -> bool:
    """Group membership (SPEC §2): from the countries table only; codes are themselves."""
    record = next((c for c in data.countries if c.country == country), None)
    if group == "zone":
        return record is not None and record.zone_member
    if group == "non-zone":
        return record is None or not record.zone_member
    if len(group) == 2 and group.isalpha() and group.isupper():
        return country == group
    return record is not None and group in record.groups


# ---------------------------------------------------------------- the LP

@dataclass
class Lp:
    """min c·v  s.t.  lower ≤ A v ≤ upper,  v ≥ 0;  v = (x for offers, z for processes)."""

    c: np.ndarray
    A: sparse.csr_array
    lower: np.ndarray
    upper: np.ndarray
    keys: list[tuple]
    n_offers: int

    def index(self, key: tuple) -> int:
        return self.keys.index(key)


@dataclass
class Outcome:
    """What the second formulation says about one dataset."""

    status: str
    objective: float = float("nan")
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    z: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lp: Lp | None = None

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    def violation(self, x: Iterable[float], z: Iterable[float]) -> float:
        """Largest scaled violation of this formulation's constraints by (x, z)."""
        return violation(self.lp, x, z)


def build(data: Dataset, rhs: Mapping[tuple, float] | None = None,
          share: Mapping[tuple, float] | None = None,
          drop: Iterable[tuple] = (), keep: Iterable[tuple] | None = None) -> Lp:
    """The LP of ``data``; ``rhs``/``share`` override one row's bound or σ by key,
    ``drop`` removes rows, ``keep`` (if given) keeps only those rows."""
    rhs, share = dict(rhs or {}), dict(share or {})
    drop = set(drop)
    keep = None if keep is None else set(keep)
    offers, processes = list(data.offers), list(data.processes)
    n_off = len(offers)
    column = {o.offer: j for j, o in enumerate(offers)}
    column |= {p.process: n_off + j for j, p in enumerate(processes)}
    cost = landed_cost(data)
    c = np.array([cost[o.offer] for o in offers] + [p.cost_usd_per_t for p in processes])
    rows: list[dict[int, float]] = []
    lower: list[float] = []
    upper: list[float] = []
    keys: list[tuple] = []

    def add(key: tuple, coefs: dict[int, float], low: float, high: float) -> None:
        if key in drop or (keep is not None and key not in keep):
            return
        rows.append(coefs)
        lower.append(low)
        upper.append(high)
        keys.append(key)

    for s in data.stages:
        coefs: dict[int, float] = {}
        for o in offers:
            if o.stage == s.stage:
                coefs[column[o.offer]] = coefs.get(column[o.offer], 0.0) + 1.0
        for p in processes:
            j = column[p.process]
            if p.to_stage == s.stage:
                coefs[j] = coefs.get(j, 0.0) + 1.0
            if p.from_stage == s.stage:
                coefs[j] = coefs.get(j, 0.0) - 1.0 / p.yield_t_per_t
        key = ("demand", s.stage)
        add(key, coefs, rhs.get(key, s.demand_t), math.inf)
    for o in offers:
        if o.capacity_t is not None:
            key = ("capacity", o.offer)
            add(key, {column[o.offer]: 1.0}, -math.inf, rhs.get(key, o.capacity_t))
        if o.min_t > 0:
            key = ("minimum", o.offer)
            add(key, {column[o.offer]: 1.0}, rhs.get(key, o.min_t), math.inf)
    for p in processes:
        if p.capacity_t is not None:
            key = ("process_capacity", p.process)
            add(key, {column[p.process]: 1.0}, -math.inf, rhs.get(key, p.capacity_t))
    for key, coefs, bound in share_rows(data, cost, column, share):
        add(key, coefs, 0.0 if bound == "min" else -math.inf, math.inf if bound == "min" else 0.0)
    m, n = len(rows), n_off + len(processes)
    r_idx = [i for i, coefs in enumerate(rows) for _ in coefs]
    c_idx = [j for coefs in rows for j in coefs]
    vals = [v for coefs in rows for v in coefs.values()]
    matrix = sparse.csr_array((vals, (r_idx, c_idx)), shape=(m, n))
    return Lp(c, matrix, np.array(lower, dtype=float), np.array(upper, dtype=float), keys, n_off)


def supplying(data: Dataset, stage: str) -> list[str]:
    """Countries that can supply ``stage``: its offers' countries, and the buyer when a
    domestic process outputs into it."""
    found = {o.country for o in data.offers if o.stage == stage}
    if any(p.to_stage == stage for p in data.processes):
        found.add(data.buyer)
    return sorted(found)


def share_rows(data: Dataset, cost: Mapping[str, float], column: Mapping[str, int],
               override: Mapping[tuple, float]):
    """(key, coefficients, bound) of every expanded share limit, SPEC §3 per-flow form."""
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    seen: dict[tuple, int] = {}
    for limit in data.limits:
        basis = limit.basis.value
        for stage in stages if limit.stage == "*" else [limit.stage]:
            groups = supplying(data, stage) if limit.group == "each" else [limit.group]
            flows = []   # (column, weight, in-group?) of every flow into the stage
            for group in groups:
                flows = [(column[o.offer], cost[o.offer] if basis == "value" else 1.0,
                          belongs(group, o.country, data))
                         for o in data.offers if o.stage == stage]
                buyer_in = belongs(group, data.buyer, data)
                flows += [(column[p.process], p.cost_usd_per_t if basis == "value" else 1.0,
                           buyer_in) for p in data.processes if p.to_stage == stage]
                for bound, sigma in (("max", limit.max_share), ("min", limit.min_share)):
                    if sigma is None:
                        continue
                    base = ("share", group, stage, bound, basis)
                    seen[base] = seen.get(base, -1) + 1
                    key = (*base, seen[base])
                    sigma = override.get(key, sigma)
                    coefs: dict[int, float] = {}
                    for j, w, member in flows:
                        coefs[j] = coefs.get(j, 0.0) + (w if member else 0.0) - sigma * w
                    yield key, coefs, bound


# ---------------------------------------------------------------- solving with GLOP

def solve_lp(lp: Lp) -> Outcome:
    """Solve with OR-Tools GLOP; the objective is recomputed as an exact sum of c·v."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
    inf = solver.infinity()
    n = lp.c.size
    v = [solver.NumVar(0.0, inf, f"v{j}") for j in range(n)]
    matrix = lp.A
    for i in range(matrix.shape[0]):
        low = -inf if np.isneginf(lp.lower[i]) else float(lp.lower[i])
        high = inf if np.isposinf(lp.upper[i]) else float(lp.upper[i])
        row = solver.RowConstraint(low, high, "")
        for k in range(matrix.indptr[i], matrix.indptr[i + 1]):
            row.SetCoefficient(v[int(matrix.indices[k])], float(matrix.data[k]))
    objective = solver.Objective()
    for j in range(n):
        objective.SetCoefficient(v[j], float(lp.c[j]))
    objective.SetMinimization()
    status = solver.Solve()
    if status == pywraplp.Solver.INFEASIBLE:
        return Outcome(INFEASIBLE, lp=lp)
    if status != pywraplp.Solver.OPTIMAL:
        return Outcome(OTHER, lp=lp)
    values = np.array([var.solution_value() for var in v])
    value = math.fsum(float(a) * float(b) for a, b in zip(lp.c, values, strict=True))
    return Outcome(OPTIMAL, value, values[:lp.n_offers], values[lp.n_offers:], lp)


def solve(data: Dataset, **changes) -> Outcome:
    """Build (with ``rhs``/``share``/``drop``/``keep`` changes) and solve ``data``."""
    return solve_lp(build(data, **changes))


def violation(lp: Lp, x: Iterable[float], z: Iterable[float]) -> float:
    """Largest violation of ``lp``'s rows and of v ≥ 0 by (x, z), each relative to the
    size of the terms involved (1 + Σ|a_ij v_j| + |bound|)."""
    v = np.concatenate([np.asarray(list(x), dtype=float), np.asarray(list(z), dtype=float)])
    activity = lp.A @ v
    scale = 1.0 + abs(lp.A) @ np.abs(v)
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lp.lower), lp.lower - activity, 0.0)
        above = np.where(np.isfinite(lp.upper), activity - lp.upper, 0.0)
    bound = np.maximum(np.where(np.isfinite(lp.lower), np.abs(lp.lower), 0.0),
                       np.where(np.isfinite(lp.upper), np.abs(lp.upper), 0.0))
    worst = np.maximum(np.maximum(below, above), 0.0) / (scale + bound)
    negative = np.maximum(-v, 0.0) / (1.0 + np.abs(v))
    return float(max(np.max(worst, initial=0.0), np.max(negative, initial=0.0)))
