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
    ("share", group, stage, bound, basis, n)   one expanded direct limit (n counts repeats)
    ("embedded", group, stage, bound, basis, n)   one expanded embedded limit

Embedded scope (SPEC §3, segregated chain of custody) is written here with both
origin classes explicit. For every group g that an embedded limit names (``each``
expanded) and every process p there are two input columns, ``ug[g,p]`` (tonnes of
p's input of g origin) and ``uo[g,p]`` (of any other origin), tied to the output by

    ("split", g, p)              yield·ug + yield·uo − z = 0

and each class may leave a stage only as far as it arrives there (imports split by
the fixed content fractions φ_g(o), process outputs by yield × input class):

    ("custody", g, s, "g")      Σ_{from(p)=s} ug − Σ_{to(p)=s} yield·ug − Σ_{s(o)=s} φ_g(o)·x ≤ 0
    ("custody", g, s, "other")  Σ_{from(p)=s} uo − Σ_{to(p)=s} yield·uo
                                                           − Σ_{s(o)=s} (1 − φ_g(o))·x ≤ 0

An embedded limit row is then, with w the landed cost (value basis) or 1:

    Σ_{s(o)=s} (φ_g(o) − σ)·w_o·x + Σ_{to(p)=s} w_p·yield·((1 − σ)·ug − σ·uo)  ≤ 0 (max), ≥ 0 (min)

(the stage's total is written as the sum of the two classes, not as z). These rows
are physics: ``drop`` and ``keep`` never remove ``split`` or ``custody`` rows.
φ_g(o) is the sum of o's content shares from origins in g, or [c(o) ∈ g] for an
offer without content rows; ``each`` expands to every origin that can reach the
stage (content origins with a positive share, or the offer's country, of offers at
the stage, and recursively the origins of every stage a process draws from).
Each group named has its own split (SPEC §3: "per limited group"), shared by all its
limits; two names with the same members (a tag and a code) are split independently.

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
    n_processes: int = 0
    split_process: tuple[int, ...] = ()   # per split column (after x, z): its process
    yields: tuple[float, ...] = ()        # per process
    sigma: dict[tuple, float] = field(default_factory=dict)   # share of each limit row

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
        structural = key[0] in ("split", "custody")
        if not structural and (key in drop or (keep is not None and key not in keep)):
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
    sigma: dict[tuple, float] = {}
    for key, coefs, bound in share_rows(data, cost, column, share, sigma):
        add(key, coefs, 0.0 if bound == "min" else -math.inf, math.inf if bound == "min" else 0.0)
    # embedded scope: split columns ug, uo per (group, process), then their rows
    n = n_off + len(processes)
    split: dict[tuple[str, str, str], int] = {}
    split_process: list[int] = []
    for g in embedded_groups(data):
        for j, p in enumerate(processes):
            for cls in ("g", "other"):
                split[g, cls, p.process] = n
                split_process.append(j)
                n += 1
    mix = content_mix(data)
    for g in embedded_groups(data):
        for p in processes:
            y = p.yield_t_per_t
            add(("split", g, p.process), {split[g, "g", p.process]: y,
                                          split[g, "other", p.process]: y,
                                          column[p.process]: -1.0}, 0.0, 0.0)
        for s in data.stages:
            if not any(p.from_stage == s.stage for p in processes):
                continue        # nothing leaves the stage: custody holds trivially
            for cls in ("g", "other"):
                coefs = {}
                for p in processes:
                    j = split[g, cls, p.process]
                    if p.from_stage == s.stage:
                        coefs[j] = coefs.get(j, 0.0) + 1.0
                    if p.to_stage == s.stage:
                        coefs[j] = coefs.get(j, 0.0) - p.yield_t_per_t
                for o in offers:
                    if o.stage == s.stage:
                        f = fraction(g, o, mix, data)
                        f = f if cls == "g" else 1.0 - f
                        if f:
                            coefs[column[o.offer]] = coefs.get(column[o.offer], 0.0) - f
                add(("custody", g, s.stage, cls), coefs, -math.inf, 0.0)
    for key, coefs, bound in embedded_rows(data, cost, column, split, mix, share, sigma):
        add(key, coefs, 0.0 if bound == "min" else -math.inf, math.inf if bound == "min" else 0.0)
    m = len(rows)
    r_idx = [i for i, coefs in enumerate(rows) for _ in coefs]
    c_idx = [j for coefs in rows for j in coefs]
    vals = [v for coefs in rows for v in coefs.values()]
    matrix = sparse.csr_array((vals, (r_idx, c_idx)), shape=(m, n))
    c = np.concatenate([c, np.zeros(n - c.size)])
    return Lp(c, matrix, np.array(lower, dtype=float), np.array(upper, dtype=float), keys, n_off,
              len(processes), tuple(split_process),
              tuple(p.yield_t_per_t for p in processes), sigma)


def supplying(data: Dataset, stage: str) -> list[str]:
    """Countries that can supply ``stage``: its offers' countries, and the buyer when a
    domestic process outputs into it."""
    found = {o.country for o in data.offers if o.stage == stage}
    if any(p.to_stage == stage for p in data.processes):
        found.add(data.buyer)
    return sorted(found)


def share_rows(data: Dataset, cost: Mapping[str, float], column: Mapping[str, int],
               override: Mapping[tuple, float], sigmas: dict[tuple, float] | None = None):
    """(key, coefficients, bound) of every expanded share limit, SPEC §3 per-flow form."""
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    seen: dict[tuple, int] = {}
    for limit in data.limits:
        if limit.scope.value != "direct":
            continue
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
                    key, sigma = _numbered(("share", group, stage, bound, basis), seen,
                                           sigma, override, sigmas)
                    coefs: dict[int, float] = {}
                    for j, w, member in flows:
                        coefs[j] = coefs.get(j, 0.0) + (w if member else 0.0) - sigma * w
                    yield key, coefs, bound


# ---------------------------------------------------------------- embedded scope

def content_mix(data: Dataset) -> dict[str, dict[str, float]]:
    """Offer → {origin country: share}; an offer without content rows is all its own."""
    mix: dict[str, dict[str, float]] = {o.offer: {} for o in data.offers}
    for row in data.content:
        mix[row.offer][row.origin_country] = (mix[row.offer].get(row.origin_country, 0.0)
                                              + row.share)
    for o in data.offers:
        if not mix[o.offer]:
            mix[o.offer] = {o.country: 1.0}
    return mix


def fraction(group: str, offer, mix: Mapping[str, Mapping[str, float]], data: Dataset) -> float:
    """φ_g(o): the share of offer o's upstream origin that lies in group g."""
    return math.fsum(share for origin, share in mix[offer.offer].items()
                     if belongs(group, origin, data))


def origins(data: Dataset, stage: str, mix: Mapping[str, Mapping[str, float]] | None = None,
            _seen: frozenset[str] = frozenset()) -> list[str]:
    """Every origin country that can reach ``stage`` (``each`` in embedded scope)."""
    mix = content_mix(data) if mix is None else mix
    found = {origin for o in data.offers if o.stage == stage
             for origin, share in mix[o.offer].items() if share > 0}
    for p in data.processes:
        if p.to_stage == stage and p.from_stage not in _seen:
            found |= set(origins(data, p.from_stage, mix, _seen | {stage}))
    return sorted(found)


def _expanded_embedded(data: Dataset, mix):
    """(limit, stage, group) of every embedded limit, stages in chain order."""
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    for limit in data.limits:
        if limit.scope.value != "embedded":
            continue
        for stage in stages if limit.stage == "*" else [limit.stage]:
            groups = origins(data, stage, mix) if limit.group == "each" else [limit.group]
            for group in groups:
                yield limit, stage, group


def embedded_groups(data: Dataset) -> list[str]:
    """Every group an embedded limit names, ``each`` expanded, in first-seen order."""
    mix = content_mix(data)
    return list(dict.fromkeys(g for _, _, g in _expanded_embedded(data, mix)))


def embedded_rows(data: Dataset, cost: Mapping[str, float], column: Mapping[str, int],
                  split: Mapping[tuple[str, str, str], int],
                  mix: Mapping[str, Mapping[str, float]], override: Mapping[tuple, float],
                  sigmas: dict[tuple, float] | None = None):
    """(key, coefficients, bound) of every expanded embedded limit (see the module doc)."""
    seen: dict[tuple, int] = {}
    for limit, stage, group in _expanded_embedded(data, mix):
        basis = limit.basis.value
        for bound, sigma in (("max", limit.max_share), ("min", limit.min_share)):
            if sigma is None:
                continue
            key, sigma = _numbered(("embedded", group, stage, bound, basis), seen, sigma,
                                   override, sigmas)
            coefs: dict[int, float] = {}
            for o in data.offers:
                if o.stage == stage:
                    w = cost[o.offer] if basis == "value" else 1.0
                    j = column[o.offer]
                    coefs[j] = coefs.get(j, 0.0) + (fraction(group, o, mix, data) - sigma) * w
            for p in data.processes:
                if p.to_stage == stage:
                    w = (p.cost_usd_per_t if basis == "value" else 1.0) * p.yield_t_per_t
                    for cls, coef in (("g", 1.0 - sigma), ("other", -sigma)):
                        j = split[group, cls, p.process]
                        coefs[j] = coefs.get(j, 0.0) + coef * w
            yield key, coefs, bound


# ---------------------------------------------------------------- solving with GLOP

def _numbered(base: tuple, seen: dict[tuple, int], sigma: float,
              override: Mapping[tuple, float], sigmas: dict[tuple, float] | None
              ) -> tuple[tuple, float]:
    """The row key (base plus its repeat number) and its share, overridden if asked."""
    seen[base] = seen.get(base, -1) + 1
    key = (*base, seen[base])
    sigma = override.get(key, sigma)
    if sigmas is not None:
        sigmas[key] = sigma
    return key, sigma


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
    n_xz = lp.n_offers + lp.n_processes
    return Outcome(OPTIMAL, value, values[:lp.n_offers], values[lp.n_offers:n_xz], lp)


def solve(data: Dataset, **changes) -> Outcome:
    """Build (with ``rhs``/``share``/``drop``/``keep`` changes) and solve ``data``."""
    return solve_lp(build(data, **changes))


def violation(lp: Lp, x: Iterable[float], z: Iterable[float]) -> float:
    """Largest violation of ``lp``'s rows and of v ≥ 0 by (x, z), each relative to the
    size of the terms involved (1 + Σ|a_ij v_j| + |bound|). With embedded scope the
    split columns are not given: the least violation over every split is measured."""
    v = np.concatenate([np.asarray(list(x), dtype=float), np.asarray(list(z), dtype=float)])
    if lp.A.shape[1] > v.size:
        return _violation_best_split(lp, v)
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


def _violation_best_split(lp: Lp, v: np.ndarray) -> float:
    """min e over split columns u ≥ 0 with every row within e·(1 + Σ|a_ij|·|v_j| +
    |bound|) of its bounds, x and z fixed at v; a split column counts at its largest
    possible size z/yield in that scale. Plus negative tonnes, as in ``violation``."""
    n_xz = v.size
    proc = np.asarray(lp.split_process, dtype=int)
    yields = np.asarray(lp.yields, dtype=float)
    z = v[lp.n_offers:]
    u_size = np.maximum(z[proc], 0.0) / yields[proc]
    magnitude = np.concatenate([np.abs(v), u_size])
    scale = 1.0 + abs(lp.A) @ magnitude
    bound = np.maximum(np.where(np.isfinite(lp.lower), np.abs(lp.lower), 0.0),
                       np.where(np.isfinite(lp.upper), np.abs(lp.upper), 0.0))
    weight = scale + bound
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
    inf = solver.infinity()
    cols = [solver.NumVar(float(val), float(val), f"v{j}") for j, val in enumerate(v)]
    cols += [solver.NumVar(0.0, inf, f"u{j}") for j in range(lp.A.shape[1] - n_xz)]
    e = solver.NumVar(0.0, inf, "e")
    matrix = lp.A
    for i in range(matrix.shape[0]):
        terms = [(cols[int(matrix.indices[k])], float(matrix.data[k]))
                 for k in range(matrix.indptr[i], matrix.indptr[i + 1])]
        for side, limit in ((1.0, lp.lower[i]), (-1.0, lp.upper[i])):
            if not np.isfinite(limit):
                continue
            # side·(a·v) + e·w ≥ side·limit
            row = solver.RowConstraint(side * float(limit), inf, "")
            for var, coef in terms:
                row.SetCoefficient(var, side * coef)
            row.SetCoefficient(e, float(weight[i]))
    solver.Objective().SetCoefficient(e, 1.0)
    solver.Objective().SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return math.inf
    negative = np.maximum(-v, 0.0) / (1.0 + np.abs(v))
    return float(max(e.solution_value(), np.max(negative, initial=0.0)))
