"""An independent second formulation of SPEC §3, used only by the tests.

Written from SPEC §2–§3, not from ``planner.models``: it reads the ``Dataset``
records (plain data) and nothing else of the planner. Landed costs, process
recipes, value weights, group membership and origins are computed here; the LP is a
``scipy.sparse`` matrix with SPEC §3's own rows — one row per share limit with a
coefficient per offer and process,

    Σ_{flows into s from g} w·flow − σ · Σ_{all flows into s} w·flow ≤ 0   (max)
                                                                 ≥ 0   (min)

and no aggregate variables — and it is solved with OR-Tools GLOP, not HiGHS.

Columns, in this order: x[o] per offer, z[p] per process, u[s] per stage with a
``shortage_usd_per_t`` (unmet demand, priced in the objective), then — only when a
limit has embedded scope — v[c,p,s] per process p, input stage s of p and origin
country c that can reach s.

A process p makes per t of its main output out[p,s] t of each stage it outputs
into (1 at ``to_stage``, and every ``process_flows`` output) from in[p,s] t of each
stage it draws from (1/yield at ``from_stage``, and every ``process_flows`` input);
I_p = Σ_s in[p,s].

Rows carry business keys so tests can move one right-hand side or one share,
drop rows, or keep only some (the rows of an infeasibility diagnosis):

    ("demand", stage)            balance: Σx + Σ_p out·z − Σ_p in·z + u ≥ demand
    ("capacity", offer)          x ≤ capacity             (capacity 0 included: closed)
    ("minimum", offer)           x ≥ min_t                (min_t > 0, offer open only)
    ("process_capacity", proc)   z ≤ capacity             (0: a plant not yet built)
    ("share", group, stage, bound, basis, n)      one expanded direct limit (n counts repeats)
    ("embedded", group, stage, bound, basis, n)   one expanded embedded limit

and rows that are physics (``drop`` and ``keep`` never remove them):

    ("unmet", stage)             u ≤ demand               (the ``demand`` right-hand side:
                                                           moving demand moves both)
    ("members_only", offer)      x ≤ 0                    (a members-only offer, buyer observer;
                                                           whatever its min_t)
    ("draw", p, s)               Σ_c v[c,p,s] − in[p,s]·z = 0
    ("custody", c, s)            Σ_p v[c,p,s] − Σ_{s(o)=s} φ_c(o)·x
                                   − Σ_p (out[p,s]/I_p)·Σ_{s'} v[c,p,s'] ≤ 0

Embedded scope (SPEC §3, segregated chain of custody) is written with every origin
country explicit: one split by origin serves every group. A process's input from
stage s of origin c is v[c,p,s]; its outputs, main and co-products alike, carry
the mass-weighted origin mix of all its inputs (origin-c output into s is
out[p,s]·Σ_{s'} v[c,p,s'] / I_p); and no stage passes on more origin-c material
than it receives (``custody``). φ_c(o) is offer o's content share from origin c, or
[c(o) = c] for an offer without content rows. An embedded limit row is then, with
w the landed cost (value basis) or 1, and w_{p,s} the value weight of p's output
into s:

    Σ_{s(o)=s} (Σ_{c∈g} φ_c(o) − σ)·w_o·x_o
      + Σ_p w_{p,s}·(out[p,s]/I_p)·Σ_{c∈g} Σ_{s'} v[c,p,s'] − σ·Σ_p w_{p,s}·out[p,s]·z_p
                                                                  ≤ 0 (max), ≥ 0 (min)

Value weights (SPEC §3): a purchase weighs its landed cost; a tonne of domestic
output into s weighs ``stages.value_usd_per_t`` of s where given, else the
process's ``cost_usd_per_t`` for its main output and, for a co-product, the median
``price_usd_per_t`` of all the offers at s (0 if s has none).

Reading of the SPEC where it leaves a choice (documented so a reviewer can
disagree): group ``each`` expands, in direct scope, to every country with an offer
at the stage (members-only and closed offers included: they are the stage's
offers) and the buyer where a domestic process outputs into it (main output or
co-product); in embedded scope, to every origin that can reach the stage (content
origins with a positive share, or the country, of its offers, and recursively
every origin that can reach an input stage of a process outputting into it). A
stage nothing feeds has no balance row terms, so positive demand there is
infeasible unless it has a shortage price, and zero demand is no constraint.
u[s] exists on every stage with a shortage price; its bound is the demand, so at
demand 0 it is 0 (and one more tonne of demand there may be left unmet).

Over time (SPEC §3a) and under disruption (§3b) ``build_periods`` writes the blocks above
once per node of the scenario tree (``tree``): the base branch's periods, shared by every
branch until its disruption starts, then each disruption's own periods from its first
on, with its settings applied after the period's ``period_values`` while it lasts and
the stock floor waived there (a node's data: ``node_dataset``; the run's ``overrides``
are not applied: the cross-check's datasets have none). Shared periods are one set of
columns (non-anticipativity by construction). The objective is (1 − λ)·Σ_b π_b·C_b +
λ·(η + Σ_b π_b·ξ_b/(1 − α)) with ξ_b ≥ C_b − η, ξ_b ≥ 0 and η free (Rockafellar–
Uryasev); ``Lp.branch_cost`` gives each C_b as a cost vector, ``cvar`` the exact CVaR of
given branch costs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.linear_solver import pywraplp
from planner.models.data import Dataset, Disruption, Limit, Period, ScenarioStep, ZoneStatus
from scipy import sparse

OPTIMAL, INFEASIBLE, OTHER = "optimal", "infeasible", "other"
GLOP_PARAMETERS = ("primal_feasibility_tolerance: 1e-10 "
                   "dual_feasibility_tolerance: 1e-10 "
                   "use_preprocessing: false")
# When GLOP (no presolve, tight tolerances) finds no plan, it asks again with these:
# near a share where a stage's supply can first be positive (a cost jump), GLOP
# without presolve has called feasible LPs infeasible (seeds 661, 988 at a range end;
# embedded seed 464). A plan is taken only if it meets every row to 1e-9 (scaled).
RETRY_PARAMETERS = (GLOP_PARAMETERS.replace("use_preprocessing: false",
                                            "use_preprocessing: true"),
                    GLOP_PARAMETERS.replace("use_preprocessing: false",
                                            "use_preprocessing: true")
                    + " use_dual_simplex: true")
RETRY_FEASIBLE = 1e-9
PHYSICS = ("unmet", "members_only", "draw", "custody", "stock", "stock_split",
           "stock_origin", "expansion_min", "tail")


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


def closed(data: Dataset) -> set[str]:
    """Offers fixed at 0 (SPEC §3): members-only offers while the buyer is an observer."""
    if data.zone.value == "joined":
        return set()
    return {o.offer for o in data.offers if o.members_only}


# ---------------------------------------------------------------- process recipes

@dataclass(frozen=True)
class Recipe:
    """in[p,s] and out[p,s] of one process, t per t of its main output."""

    inputs: dict[str, float]
    outputs: dict[str, float]

    @property
    def input_total(self) -> float:
        """I_p: every input stage's tonnes per t of main output."""
        return math.fsum(self.inputs.values())


def recipes(data: Dataset) -> dict[str, Recipe]:
    """Process → its recipe: the main input and output plus ``process_flows`` rows."""
    found = {p.process: Recipe({p.from_stage: 1.0 / p.yield_t_per_t}, {p.to_stage: 1.0})
             for p in data.processes}
    for row in data.process_flows:
        side = found[row.process].inputs if row.role.value == "input" else \
            found[row.process].outputs
        side[row.stage] = side.get(row.stage, 0.0) + row.t_per_t
    return found


def output_weights(data: Dataset) -> dict[tuple[str, str], float]:
    """(process, stage) → value per t of the process's output into that stage."""
    given = {s.stage: s.value_usd_per_t for s in data.stages}
    prices: dict[str, list[float]] = {}
    for o in data.offers:
        prices.setdefault(o.stage, []).append(o.price_usd_per_t)
    weights = {}
    for p in data.processes:
        for stage in recipes(data)[p.process].outputs:
            if given.get(stage) is not None:
                weights[p.process, stage] = given[stage]
            elif stage == p.to_stage:
                weights[p.process, stage] = p.cost_usd_per_t
            else:
                weights[p.process, stage] = (statistics.median(prices[stage])
                                             if prices.get(stage) else 0.0)
    return weights


# ---------------------------------------------------------------- the LP

@dataclass
class Lp:
    """min c·v  s.t.  lower ≤ A v ≤ upper,  v ≥ 0;  v = (x, z, u, v-split)."""

    c: np.ndarray
    A: sparse.csr_array
    lower: np.ndarray
    upper: np.ndarray
    keys: list[tuple]
    n_offers: int
    n_processes: int = 0
    n_unmet: int = 0
    # per column after x, z (u then the split): its size for scaling a violation is
    # factor · |value of column ref| (ref ≥ 0) or factor (ref = −1)
    free_ref: tuple[int, ...] = ()
    free_factor: tuple[float, ...] = ()
    sigma: dict[tuple, float] = field(default_factory=dict)   # share of each limit row
    columns: list[tuple] = field(default_factory=list)        # key of every column
    free_columns: tuple[int, ...] = ()                         # columns without v ≥ 0 (η)
    # SPEC §3b: branch → the discounted cost of each column along it (C_b = that · v),
    # branch → π_b, λ and α (one branch "base" of probability 1 without disruptions)
    branch_cost: dict[str, np.ndarray] = field(default_factory=dict)
    probability: dict[str, float] = field(default_factory=lambda: {"base": 1.0})
    risk_weight: float = 0.0
    alpha: float = 0.9

    def index(self, key: tuple) -> int:
        return self.keys.index(key)


@dataclass
class Outcome:
    """What the second formulation says about one dataset."""

    status: str
    objective: float = float("nan")
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    z: np.ndarray = field(default_factory=lambda: np.zeros(0))
    u: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lp: Lp | None = None
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    def value(self, key: tuple) -> float:
        """The optimal value of the column with this key (0 if there is none)."""
        columns = self.lp.columns
        return float(self.values[columns.index(key)]) if key in columns else 0.0

    def violation(self, x: Iterable[float], z: Iterable[float],
                  u: Iterable[float] | None = None) -> float:
        """Largest scaled violation of this formulation's constraints by (x, z[, u])."""
        return violation(self.lp, x, z, u)


class _Matrix:
    """Columns and rows by key, then the sparse matrix."""

    def __init__(self, drop: set, keep: set | None):
        self.columns: dict[tuple, int] = {}
        self.cost: list[float] = []
        self.rows: list[dict[int, float]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.keys: list[tuple] = []
        self.drop, self.keep = drop, keep

    def column(self, key: tuple, cost: float) -> None:
        self.columns[key] = len(self.cost)
        self.cost.append(cost)

    def row(self, key: tuple, terms: Iterable[tuple[tuple, float]], low: float,
            high: float) -> None:
        """Add Σ coef·column(key) in [low, high]; terms on one column add up."""
        if key[0] not in PHYSICS and (key in self.drop
                                      or (self.keep is not None and key not in self.keep)):
            return
        coefs: dict[int, float] = {}
        for column, coef in terms:
            j = self.columns[column]
            coefs[j] = coefs.get(j, 0.0) + coef
        self.rows.append(coefs)
        self.lower.append(low)
        self.upper.append(high)
        self.keys.append(key)

    def matrix(self) -> sparse.csr_array:
        m, n = len(self.rows), len(self.cost)
        r_idx = [i for i, coefs in enumerate(self.rows) for _ in coefs]
        c_idx = [j for coefs in self.rows for j in coefs]
        vals = [v for coefs in self.rows for v in coefs.values()]
        return sparse.csr_array((vals, (r_idx, c_idx)), shape=(m, n))


def build(data: Dataset, rhs: Mapping[tuple, float] | None = None,
          share: Mapping[tuple, float] | None = None,
          drop: Iterable[tuple] = (), keep: Iterable[tuple] | None = None) -> Lp:
    """The LP of ``data``; ``rhs``/``share`` override one row's bound or σ by key,
    ``drop`` removes rows, ``keep`` (if given) keeps only those rows (physics stays).
    A dataset with periods, stocks, expansions or disruptions gets the SPEC §3a/§3b LP
    (``build_periods``)."""
    if data.periods or data.stocks or data.expansions or data.disruptions:
        return build_periods(data, rhs, share, drop, keep)
    rhs, share = dict(rhs or {}), dict(share or {})
    lp = _Matrix(set(drop), None if keep is None else set(keep))
    sigma: dict[tuple, float] = {}
    _period_block(lp, data, rhs, share, sigma)
    offers, processes = list(data.offers), list(data.processes)
    recipe = recipes(data)
    short = [s for s in data.stages if s.shortage_usd_per_t is not None]
    matrix = lp.matrix()
    # sizes of the columns after x and z, for scaling violations
    free_ref, free_factor = [], []
    demands = {s.stage: rhs.get(("demand", s.stage), s.demand_t) for s in data.stages}
    for key in list(lp.columns)[len(offers) + len(processes):]:
        if key[0] == "u":
            free_ref.append(-1)
            free_factor.append(max(demands[key[1]], 0.0))
        else:
            _, _, process, stage = key
            free_ref.append(lp.columns[("z", process)])
            free_factor.append(recipe[process].inputs[stage])
    cost = np.array(lp.cost, dtype=float)
    return Lp(cost, matrix, np.array(lp.lower, dtype=float),
              np.array(lp.upper, dtype=float), lp.keys, len(offers), len(processes),
              len(short), tuple(free_ref), tuple(free_factor), sigma, list(lp.columns),
              branch_cost={"base": cost})


def _period_block(lp, data: Dataset, rhs: Mapping[tuple, float],
                  share: Mapping[tuple, float], sigma: dict[tuple, float],
                  track: bool | None = None) -> None:
    """The columns and rows of SPEC §3 for one period's data (``lp``: the matrix, or a
    ``_Scoped`` view of it that tags every key with the period). ``track``: split flows
    by origin (the split and ``custody`` rows) even without an embedded limit in this
    period's data (None: only with one)."""
    offers, processes = list(data.offers), list(data.processes)
    recipe = recipes(data)
    cost = landed_cost(data)
    shut = closed(data)
    short = [s for s in data.stages if s.shortage_usd_per_t is not None]
    embedded = any(limit.scope.value == "embedded" for limit in data.limits)
    track = embedded if track is None else (track or embedded)
    reach = origins_by_stage(data) if track else {}

    for o in offers:
        lp.column(("x", o.offer), cost[o.offer])
    for p in processes:
        lp.column(("z", p.process), p.cost_usd_per_t)
    for s in short:
        lp.column(("u", s.stage), s.shortage_usd_per_t)
    for p in processes:
        for stage in recipe[p.process].inputs:
            for c in reach.get(stage, []):
                lp.column(("v", c, p.process, stage), 0.0)

    # material balances, and unmet demand up to the demand
    for s in data.stages:
        terms = [(("x", o.offer), 1.0) for o in offers if o.stage == s.stage]
        for p in processes:
            made, used = recipe[p.process].outputs, recipe[p.process].inputs
            if s.stage in made:
                terms.append((("z", p.process), made[s.stage]))
            if s.stage in used:
                terms.append((("z", p.process), -used[s.stage]))
        demand = rhs.get(("demand", s.stage), s.demand_t)
        if s.shortage_usd_per_t is not None:
            terms.append((("u", s.stage), 1.0))
            lp.row(("unmet", s.stage), [(("u", s.stage), 1.0)], -math.inf, max(demand, 0.0))
        lp.row(("demand", s.stage), terms, demand, math.inf)
    # offers and processes
    for o in offers:
        if o.capacity_t is not None:
            key = ("capacity", o.offer)
            lp.row(key, [(("x", o.offer), 1.0)], -math.inf, rhs.get(key, o.capacity_t))
        if o.offer in shut:
            lp.row(("members_only", o.offer), [(("x", o.offer), 1.0)], -math.inf, 0.0)
        elif o.min_t > 0:
            key = ("minimum", o.offer)
            lp.row(key, [(("x", o.offer), 1.0)], rhs.get(key, o.min_t), math.inf)
    for p in processes:
        if p.capacity_t is not None:
            key = ("process_capacity", p.process)
            lp.row(key, [(("z", p.process), 1.0)], -math.inf, rhs.get(key, p.capacity_t))
    # share limits
    weights = output_weights(data)
    for key, terms, bound in share_rows(data, cost, weights, share, sigma):
        lp.row(key, terms, 0.0 if bound == "min" else -math.inf,
               math.inf if bound == "min" else 0.0)
    if track:
        mix = content_mix(data)
        custody_rows(data, recipe, reach, mix, lp)
    if embedded:
        for key, terms, bound in embedded_rows(data, cost, weights, recipe, reach, mix,
                                               share, sigma):
            lp.row(key, terms, 0.0 if bound == "min" else -math.inf,
                   math.inf if bound == "min" else 0.0)


# ---------------------------------------------------------------- over time (SPEC §3a)

BASE_PERIOD = Period("base", 0)      # no ``periods`` table: one implicit period


def periods_of(data: Dataset) -> list[Period]:
    """The periods in time order (by ``order``); one implicit ``base`` without a table."""
    return sorted(data.periods, key=lambda p: p.order) or [BASE_PERIOD]


def _split(target: str) -> tuple[str, str]:
    group, _, stage = target.partition(":")
    return group, stage


def apply_step(data: Dataset, step: ScenarioStep) -> Dataset:
    """One scenario setting (SPEC §5's meanings) applied to ``data``."""
    setting, target, value = step.setting.strip(), step.target.strip(), step.value.strip()
    if setting == "zone":
        return replace(data, zone=ZoneStatus(value))
    if setting in ("max_share", "min_share"):
        group, stage = _split(target)
        field_name, sigma = setting, float(value)
        limits, found = [], False
        for lim in data.limits:
            if (lim.group, lim.stage, lim.basis.value, lim.scope.value) == (
                    group, stage, "volume", "direct"):
                lim = replace(lim, **{field_name: sigma})
                found = True
            limits.append(lim)
        if not found:
            limits.append(Limit(group, stage, **{field_name: sigma}))
        return replace(data, limits=tuple(limits))
    if setting in ("capacity_factor", "price_factor"):
        group, stage = _split(target)
        factor = float(value)
        offers = []
        for o in data.offers:
            if (stage in ("*", o.stage)) and (group == "*" or belongs(group, o.country, data)):
                if setting == "price_factor":
                    o = replace(o, price_usd_per_t=o.price_usd_per_t * factor)
                else:
                    cap = o.capacity_t
                    cap = (0.0 if factor == 0 else None) if cap is None else cap * factor
                    o = replace(o, capacity_t=cap,
                                min_t=o.min_t if cap is None else min(o.min_t, cap))
            offers.append(o)
        return replace(data, offers=tuple(offers))
    if setting == "stock_floor_days":
        return _floor_days(data, target, float(value))
    if setting == "benchmark":
        return replace(data, benchmarks={**data.benchmarks, target: float(value)})
    if setting == "demand_factor":
        factor = float(value)
        return replace(data, stages=tuple(
            replace(s, demand_t=s.demand_t * factor) if target in ("*", s.stage) else s
            for s in data.stages))
    raise ValueError(f"unknown setting {setting!r}")


DAYS_PER_YEAR = 365.0


def _floor_days(data: Dataset, stage: str, days: float) -> Dataset:
    """``stock_floor_days``: the reserve floor of the stock of ``stage`` (``*``: every
    stock) is ``days`` of the stage's demand in ``data``: demand_t × days / 365."""
    demand = {s.stage: s.demand_t for s in data.stages}
    return replace(data, stocks=tuple(
        replace(st, min_t=demand[st.stage] * days / DAYS_PER_YEAR)
        if stage in ("*", st.stage) else st for st in data.stocks))


def period_dataset(data: Dataset, period: str) -> Dataset:
    """The base dataset with the ``period_values`` rows of ``period`` applied in row
    order (SPEC §2: for that period only); ``stock_floor_days`` rows last, so a floor
    in days is of that period's demand (whatever the row order)."""
    steps = [step for step in data.period_values if step.scenario == period]
    for step in steps:
        if step.setting.strip() != "stock_floor_days":
            data = apply_step(data, step)
    for step in steps:
        if step.setting.strip() == "stock_floor_days":
            data = apply_step(data, step)
    return data


class _Scoped:
    """A view of a ``_Matrix`` that tags every column and row key with a period, adds
    each column's cost × the period's weight, and appends ``extra`` terms (whole keys)
    to the rows named there (untagged keys)."""

    def __init__(self, base: _Matrix, tag: str, weight: float,
                 extra: Mapping[tuple, list[tuple[tuple, float]]]):
        self.base, self.tag, self.weight, self.extra = base, tag, weight, extra

    def column(self, key: tuple, cost: float) -> None:
        self.base.column((*key, self.tag), cost * self.weight)

    def row(self, key: tuple, terms: Iterable[tuple[tuple, float]], low: float,
            high: float) -> None:
        terms = [((*col, self.tag), coef) for col, coef in terms]
        self.base.row((*key, self.tag), terms + list(self.extra.get(key, [])), low, high)


def _local(overrides: Mapping[tuple, float], tag: str) -> dict[tuple, float]:
    """The overrides of one period, keys without the period."""
    return {k[:-1]: v for k, v in overrides.items() if k and k[-1] == tag}


def build_periods(data: Dataset, rhs: Mapping[tuple, float] | None = None,
                  share: Mapping[tuple, float] | None = None,
                  drop: Iterable[tuple] = (), keep: Iterable[tuple] | None = None) -> Lp:
    """SPEC §3a (and §3b: see ``tree`` and below): §3's columns and rows per node of the
    scenario tree — per period t when there are no disruptions — keys ending with the node
    (its period id on the base branch: ("x", offer, t), ("demand", stage, t),
    ("share", group, stage, bound, basis, n, t)…; ``node_tag``), every per-year cost ×
    years[t]·discount_factor[t]; and

        ("I", s, t), ("put", s, t), ("rel", s, t)   stock level (t) and put/release (t/yr)
        ("a", e, t)                                  capacity added by expansion e in t
        ("stock", s, t)            I[s,t] − I[s,t−1] − years[t]·(put − rel) = initial (first t)
                                                                              or 0
        ("stock_floor", s, t)      I[s,t] ≥ min_t
        ("stock_capacity", s, t)   I[s,t] ≤ capacity_t
        ("expansion_max", e)       Σ_t a[e,t] ≤ max_t_yr

    balance[s,t] gains rel − put; the capacity row of a target in τ gains −a[e,t] for
    every t with position(τ) − position(t) ≥ lead; I costs holding × years × df,
    a costs usd_per_t_yr × df. The floor of period t is that period's ``min_t``
    (``stock_floor_days``: days of that period's demand).

    Origins (SPEC §3a "a stock keeps its material's origin"): once any period has an
    embedded limit, every period splits flows by origin (``custody`` rows in each), and
    a stock at a stage processes draw from splits by origin c ∈ origins(s) (which holds
    ``initial_origin`` when initial_t > 0):

        ("L", c, s, t), ("put_o", c, s, t), ("rel_o", c, s, t)   ≥ 0
        ("stock_split", "put"|"rel", s, t)   Σ_c put_o − put = 0 (rel_o − rel likewise)
        ("stock_origin", c, s, t)   L[c,s,t] − L[c,s,t−1] − years·(put_o − rel_o)
                                      = initial_t (first t, c = initial_origin) or 0
        ("custody", c, s, t)        gains + put_o − rel_o (draws + put ≤ arrivals + release)

    Moving the right-hand side of ("stock", s, first) moves the ``stock_origin`` row of
    the initial origin with it (one more t of initial stock, of that origin).
    ("expansion_min", e, t): a[e,t] ≥ rhs, written only when ``rhs`` names it (the
    finite difference of an expansion's reduced cost).

    Under disruption (SPEC §3b) t above is a node of ``tree(data)``: a period of one
    branch. "t − 1" is the node's parent on its branch (a branch starts from the shared
    level at the end of the period before its disruption); the capacity row of a target
    at a node gains the decisions of the nodes on its own path; each branch b has its
    own ("expansion_max", e, b) over its path (the base branch's key is
    ("expansion_max", e)); the floor is 0 where the node's disruption is in force. The
    objective is (1 − λ)·Σ_b π_b·C_b + λ·(η + Σ_b π_b·ξ_b/(1 − α)): column costs
    (1 − λ)·P(node)·cost (P the probability of the branches through the node), and with
    λ > 0 the columns ("eta",) (free) and ("excess", b) ≥ 0 with

        ("tail", b)                ξ_b + η − C_b ≥ 0,   C_b = Σ_{nodes n of b} cost_n·v

    where cost is the column's discounted cost above (``Lp.branch_cost``)."""
    rhs, share = dict(rhs or {}), dict(share or {})
    branches = tree(data)
    periods = branches.periods
    position = {p.period: i for i, p in enumerate(periods)}
    nodes = {n.tag: n for n in branches.nodes}
    locals_ = {n.tag: node_dataset(data, n) for n in branches.nodes}
    track = any(lim.scope.value == "embedded" for local in locals_.values()
                for lim in local.limits)
    recipe = recipes(data)
    drawn = {stage for r in recipe.values() for stage in r.inputs}
    reach = origins_by_stage(data) if track else {}
    split = [st for st in data.stocks if track and st.stage in drawn]
    lp = _Matrix(set(drop), None if keep is None else set(keep))
    targets = {o.offer: "capacity" for o in data.offers}
    targets.update({p.process: "process_capacity" for p in data.processes})
    # columns of stocks and expansions first (rows of each node refer to them)
    for n in branches.nodes:
        t = n.period
        for st in data.stocks:
            lp.column(("I", st.stage, n.tag),
                      st.holding_usd_per_t_yr * t.years * t.discount_factor)
            lp.column(("put", st.stage, n.tag), 0.0)
            lp.column(("rel", st.stage, n.tag), 0.0)
        for st in split:
            for c in reach[st.stage]:
                for kind in ("L", "put_o", "rel_o"):
                    lp.column((kind, c, st.stage, n.tag), 0.0)
    for e in data.expansions:
        first = position[e.from_period] if e.from_period else 0
        for n in branches.nodes:
            if n.position >= first:
                lp.column(("a", e.expansion, n.tag),
                          e.usd_per_t_yr * n.period.discount_factor)
    sigma: dict[tuple, float] = {}
    demands: dict[tuple, float] = {}
    for tau in branches.nodes:
        path = branches.paths[tau.branch][:tau.position + 1]
        extra: dict[tuple, list[tuple[tuple, float]]] = {}
        for st in data.stocks:
            extra[("demand", st.stage)] = [(("rel", st.stage, tau.tag), 1.0),
                                           (("put", st.stage, tau.tag), -1.0)]
        for st in split:
            for c in reach[st.stage]:
                extra[("custody", c, st.stage)] = [
                    (("put_o", c, st.stage, tau.tag), 1.0),
                    (("rel_o", c, st.stage, tau.tag), -1.0)]
        for e in data.expansions:
            row = (targets[e.target], e.target)
            extra.setdefault(row, [])
            for tag in path:
                if (("a", e.expansion, tag) in lp.columns
                        and tau.position - nodes[tag].position >= e.lead_periods):
                    extra[row].append((("a", e.expansion, tag), -1.0))
        local = locals_[tau.tag]
        t = tau.period
        view = _Scoped(lp, tau.tag, t.years * t.discount_factor, extra)
        mine: dict[tuple, float] = {}
        local_rhs = _local(rhs, tau.tag)
        before = len(lp.keys)
        _period_block(view, local, local_rhs, _local(share, tau.tag), mine, track)
        if split:     # every split stock's custody rows were written (and took its terms)
            written = set(lp.keys[before:])
            assert all(("custody", c, st.stage, tau.tag) in written
                       for st in split for c in reach[st.stage]), "custody rows missing"
        sigma.update({(*k, tau.tag): v for k, v in mine.items()})
        for s in local.stages:
            demands[s.stage, tau.tag] = local_rhs.get(("demand", s.stage), s.demand_t)
    # stock dynamics, floors and capacities
    for st in data.stocks:
        for n in branches.nodes:
            t = n.period
            terms = [(("I", st.stage, n.tag), 1.0),
                     (("put", st.stage, n.tag), -t.years),
                     (("rel", st.stage, n.tag), t.years)]
            if n.parent is not None:
                terms.append((("I", st.stage, n.parent), -1.0))
            key = ("stock", st.stage, n.tag)
            level = rhs.get(key, st.initial_t if n.parent is None else 0.0)
            lp.row(key, terms, level, level)
            floor = 0.0 if n.disrupted else next(
                k.min_t for k in locals_[n.tag].stocks if k.stage == st.stage)
            key = ("stock_floor", st.stage, n.tag)
            lp.row(key, [(("I", st.stage, n.tag), 1.0)], rhs.get(key, floor), math.inf)
            if st.capacity_t is not None:
                key = ("stock_capacity", st.stage, n.tag)
                lp.row(key, [(("I", st.stage, n.tag), 1.0)], -math.inf,
                       rhs.get(key, st.capacity_t))
    for st in split:
        initial = rhs.get(("stock", st.stage, periods[0].period), st.initial_t)
        for n in branches.nodes:
            t = n.period
            for side in ("put", "rel"):
                lp.row(("stock_split", side, st.stage, n.tag),
                       [((f"{side}_o", c, st.stage, n.tag), 1.0) for c in reach[st.stage]]
                       + [((side, st.stage, n.tag), -1.0)], 0.0, 0.0)
            for c in reach[st.stage]:
                terms = [(("L", c, st.stage, n.tag), 1.0),
                         (("put_o", c, st.stage, n.tag), -t.years),
                         (("rel_o", c, st.stage, n.tag), t.years)]
                if n.parent is not None:
                    terms.append((("L", c, st.stage, n.parent), -1.0))
                key = ("stock_origin", c, st.stage, n.tag)
                level = initial if (n.parent is None and c == st.initial_origin) else 0.0
                level = rhs.get(key, level)
                lp.row(key, terms, level, level)
    for key, value in rhs.items():
        if key[0] == "expansion_min":
            lp.row(key, [(("a", key[1], key[2]), 1.0)], value, math.inf)
    for e in data.expansions:
        if e.max_t_yr is not None:
            for b, path in branches.paths.items():
                key = ("expansion_max", e.expansion) if b == BASE_BRANCH else \
                    ("expansion_max", e.expansion, b)
                lp.row(key, [(("a", e.expansion, tag), 1.0) for tag in path
                             if ("a", e.expansion, tag) in lp.columns],
                       -math.inf, rhs.get(key, e.max_t_yr))
    # the objective of SPEC §3b: each column's cost is its node's, C_b sums its path's
    cost = np.array(lp.cost, dtype=float)
    branch_cost: dict[str, np.ndarray] = {}
    free_columns: tuple[int, ...] = ()
    if data.disruptions:
        node_of = [key[-1] for key in lp.columns]
        for b, path in branches.paths.items():
            on = set(path)
            branch_cost[b] = np.array([c if tag in on else 0.0
                                       for c, tag in zip(cost, node_of, strict=True)])
        risk = data.risk_weight
        lp.cost = [(1.0 - risk) * nodes[tag].probability * c
                   for c, tag in zip(cost, node_of, strict=True)]
        if risk > 0:
            lp.column(("eta",), risk)
            free_columns = (lp.columns[("eta",)],)
            for b in branches.paths:
                lp.column(("excess", b),
                          risk * branches.probability[b] / (1.0 - data.cvar_alpha))
            keys = list(lp.columns)[:cost.size]
            for b in branches.paths:
                terms = [(("excess", b), 1.0), (("eta",), 1.0)]
                terms += [(key, -float(c)) for key, c in zip(keys, branch_cost[b], strict=True)
                          if c != 0.0]
                lp.row(("tail", b), terms, 0.0, math.inf)
            n_extra = len(lp.cost) - cost.size
            branch_cost = {b: np.concatenate([v, np.zeros(n_extra)])
                           for b, v in branch_cost.items()}
    else:
        branch_cost[BASE_BRANCH] = cost
    # sizes of columns a plan may leave out (u, the split), for scaling violations
    free_ref, free_factor = [], []
    for key in lp.columns:
        if key[0] == "u":
            free_ref.append(-1)
            free_factor.append(max(demands[key[1], key[2]], 0.0))
        elif key[0] == "v":
            _, _, process, stage, tag = key
            free_ref.append(lp.columns[("z", process, tag)])
            free_factor.append(recipe[process].inputs[stage])
        elif key[0] == "L":
            free_ref.append(lp.columns[("I", key[2], key[3])])
            free_factor.append(1.0)
        else:
            free_ref.append(-1)
            free_factor.append(0.0)
    return Lp(np.array(lp.cost, dtype=float), lp.matrix(), np.array(lp.lower, dtype=float),
              np.array(lp.upper, dtype=float), lp.keys, 0, 0, 0, tuple(free_ref),
              tuple(free_factor), sigma, list(lp.columns), free_columns, branch_cost,
              dict(branches.probability), data.risk_weight if data.disruptions else 0.0,
              data.cvar_alpha)


# ---------------------------------------------------------------- under disruption (SPEC §3b)

BASE_BRANCH = "base"


def node_tag(period: str, branch: str) -> str:
    """The key suffix of a node: the period id on the base branch (which every branch
    shares until its disruption starts), ``period@branch`` on a disruption's own nodes."""
    return period if branch == BASE_BRANCH else f"{period}@{branch}"


@dataclass(frozen=True)
class Node:
    """One period of one branch: ``branch`` owns it (``base``: shared with every branch
    whose disruption has not started), ``probability`` is the total probability of the
    branches through it, ``disruption`` the one in force there (None: none)."""

    tag: str
    period: Period
    branch: str
    position: int
    parent: str | None
    probability: float
    disruption: Disruption | None = None

    @property
    def disrupted(self) -> bool:
        return self.disruption is not None


@dataclass(frozen=True)
class Tree:
    """SPEC §3b's scenario tree: the base branch (π₀ = 1 − Σ π_d) and one branch per
    disruption d, sharing the base branch's nodes before d's first period."""

    periods: list[Period]
    nodes: list[Node]                  # the base branch's, then each disruption's own
    paths: dict[str, list[str]]        # branch → its node per period, in time order
    probability: dict[str, float]      # branch → π_b
    starts: dict[str, int]             # disruption → position of its first period


def tree(data: Dataset) -> Tree:
    """The branches of ``data`` (just the base branch without disruptions). A disruption
    with no period starts in the first (the only) period; it is in force in the periods
    at positions start … start + duration − 1."""
    periods = periods_of(data)
    position = {p.period: i for i, p in enumerate(periods)}
    starts = {d.disruption: position[d.period] if d.period else 0
              for d in data.disruptions}
    probability = {BASE_BRANCH: 1.0 - math.fsum(d.probability for d in data.disruptions)}
    probability.update({d.disruption: d.probability for d in data.disruptions})
    paths = {b: [node_tag(t.period, b if i >= starts.get(b, len(periods)) else BASE_BRANCH)
                 for i, t in enumerate(periods)] for b in probability}
    by = {d.disruption: d for d in data.disruptions}
    nodes: list[Node] = []
    seen: set[str] = set()
    for b, path in paths.items():
        for i, tag in enumerate(path):
            if tag in seen:
                continue
            seen.add(tag)
            owner = BASE_BRANCH if tag == periods[i].period else b
            through = math.fsum(probability[c] for c, other in paths.items() if other[i] == tag)
            d = by.get(owner)
            active = d if d is not None and starts[owner] <= i < starts[owner] + d.duration \
                else None
            nodes.append(Node(tag, periods[i], owner, i, path[i - 1] if i else None, through,
                              active))
    return Tree(periods, nodes, paths, probability, starts)


def node_dataset(data: Dataset, node: Node) -> Dataset:
    """A node's data: its period's (``period_dataset``), with the settings of the
    disruption in force there applied after them, in row order."""
    local = period_dataset(data, node.period.period)
    if node.disruption is not None:
        for step in node.disruption.steps:
            local = apply_step(local, step)
    return local


def node_weights(data: Dataset) -> dict[str, float]:
    """Node → years × discount_factor × the probability of the branches through it: what
    a dual of the node's rows is divided by to be in that period's and branch's money."""
    return {n.tag: n.period.years * n.period.discount_factor * n.probability
            for n in tree(data).nodes}


def expected_cost_range(outcome: Outcome, slack: float = 1e-9) -> tuple[float, float]:
    """The least and the largest expected cost Σ π_b C_b over the optimal face of an
    optimal ``outcome`` (objective within ``slack`` relative of the optimum): what any
    optimal plan's expected cost may be when λ and α do not fix it."""
    lp = outcome.lp
    expected = sum(lp.probability[b] * c for b, c in lp.branch_cost.items())
    top = outcome.objective + slack * max(1.0, abs(outcome.objective))
    face = replace(lp, A=sparse.csr_array(sparse.vstack([lp.A, sparse.csr_array(lp.c[None, :])])),
                   lower=np.append(lp.lower, -math.inf), upper=np.append(lp.upper, top),
                   keys=[*lp.keys, ("optimal_face",)])
    ends = []
    for sign in (1.0, -1.0):
        found = solve_lp(replace(face, c=sign * expected))
        if not found.optimal:
            return -math.inf, math.inf
        ends.append(math.fsum(float(a) * float(v) for a, v in zip(expected, found.values,
                                                                   strict=True)))
    return ends[0], ends[1]


def cvar(costs: Mapping[str, float], probability: Mapping[str, float], alpha: float
         ) -> float:
    """CVaR_α exactly: min over η of η + Σ π_b·max(0, C_b − η)/(1 − α); a minimum is at
    one of the C_b (the function is piecewise linear in η with breakpoints there)."""
    return min(eta + math.fsum(probability[b] * max(0.0, c - eta)
                               for b, c in costs.items()) / (1.0 - alpha)
               for eta in costs.values())


def branch_costs(lp: Lp, values: np.ndarray) -> dict[str, float]:
    """C_b of every branch at these column values."""
    return {b: math.fsum(float(a) * float(v) for a, v in zip(c, values, strict=True) if a)
            for b, c in lp.branch_cost.items()}


def risk_objective(lp: Lp, costs: Mapping[str, float]) -> tuple[float, float, float]:
    """(expected cost Σ π_b C_b, CVaR_α(C), the objective (1 − λ)·E + λ·CVaR) of SPEC §3b
    for these branch costs."""
    expected = math.fsum(lp.probability[b] * c for b, c in costs.items())
    tail = cvar(costs, lp.probability, lp.alpha)
    return expected, tail, (1.0 - lp.risk_weight) * expected + lp.risk_weight * tail


def weights_of(data: Dataset) -> dict[str, float]:
    """Period → years × discount_factor (the weight of one year's cost)."""
    return {p.period: p.years * p.discount_factor for p in periods_of(data)}


def violation_by_key(lp: Lp, given: Mapping[tuple, float]) -> float:
    """Largest scaled violation of ``lp``'s rows by a plan given by column key (columns
    not given are free: the least violation over them, as in ``violation``). A key the
    LP does not have counts as a violation of its size unless its value is 0."""
    index = {key: j for j, key in enumerate(lp.columns)}
    stray = [abs(v) for k, v in given.items() if k not in index]
    stray_worst = max((v / (1.0 + v) for v in stray if v > 1e-9), default=0.0)
    fixed = {index[k]: float(v) for k, v in given.items() if k in index}
    n = lp.A.shape[1]
    refs = np.asarray(lp.free_ref, dtype=int)
    factors = np.asarray(lp.free_factor, dtype=float)
    known = np.zeros(n)
    for j, v in fixed.items():
        known[j] = v
    magnitude = np.abs(known)
    for j in range(n):
        if j not in fixed:
            magnitude[j] = factors[j] * (abs(known[refs[j]]) if refs[j] >= 0 else 1.0)
    scale = 1.0 + abs(lp.A) @ magnitude
    bound = np.maximum(np.where(np.isfinite(lp.lower), np.abs(lp.lower), 0.0),
                       np.where(np.isfinite(lp.upper), np.abs(lp.upper), 0.0))
    weight = scale + bound
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
    inf = solver.infinity()
    free = set(lp.free_columns)
    cols = [solver.NumVar(fixed[j], fixed[j], f"v{j}") if j in fixed
            else solver.NumVar(-inf if j in free else 0.0, inf, f"w{j}") for j in range(n)]
    e = solver.NumVar(0.0, inf, "e")
    matrix = lp.A
    for i in range(matrix.shape[0]):
        terms = [(cols[int(matrix.indices[k])], float(matrix.data[k]))
                 for k in range(matrix.indptr[i], matrix.indptr[i + 1])]
        for side, limit in ((1.0, lp.lower[i]), (-1.0, lp.upper[i])):
            if not np.isfinite(limit):
                continue
            row = solver.RowConstraint(side * float(limit), inf, "")
            for var, coef in terms:
                row.SetCoefficient(var, side * coef)
            row.SetCoefficient(e, float(weight[i]))
    solver.Objective().SetCoefficient(e, 1.0)
    solver.Objective().SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return math.inf
    negative = max((max(-v, 0.0) / (1.0 + abs(v)) for v in fixed.values()), default=0.0)
    return float(max(e.solution_value(), negative, stray_worst))


def supplying(data: Dataset, stage: str) -> list[str]:
    """Countries that can supply ``stage``: its offers' countries, and the buyer when a
    domestic process outputs into it (main output or co-product)."""
    found = {o.country for o in data.offers if o.stage == stage}
    if any(stage in r.outputs for r in recipes(data).values()):
        found.add(data.buyer)
    return sorted(found)


def _limits(data: Dataset, scope: str):
    """(limit, stage) of every limit of ``scope``, stage ``*`` expanded in stage order."""
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    for limit in data.limits:
        if limit.scope.value == scope:
            for stage in stages if limit.stage == "*" else [limit.stage]:
                yield limit, stage


def share_rows(data: Dataset, cost: Mapping[str, float],
               weights: Mapping[tuple[str, str], float], override: Mapping[tuple, float],
               sigmas: dict[tuple, float] | None = None):
    """(key, terms, bound) of every expanded direct share limit, SPEC §3 per-flow form;
    domestic output counts as the buyer's."""
    recipe = recipes(data)
    seen: dict[tuple, int] = {}
    for limit, stage in _limits(data, "direct"):
        basis = limit.basis.value
        groups = supplying(data, stage) if limit.group == "each" else [limit.group]
        for group in groups:
            flows = [(("x", o.offer), cost[o.offer] if basis == "value" else 1.0,
                      belongs(group, o.country, data))
                     for o in data.offers if o.stage == stage]
            buyer_in = belongs(group, data.buyer, data)
            flows += [(("z", p.process), recipe[p.process].outputs[stage]
                       * (weights[p.process, stage] if basis == "value" else 1.0), buyer_in)
                      for p in data.processes if stage in recipe[p.process].outputs]
            for bound, sigma in (("max", limit.max_share), ("min", limit.min_share)):
                if sigma is None:
                    continue
                key, sigma = _numbered(("share", group, stage, bound, basis), seen,
                                       sigma, override, sigmas)
                yield key, [(j, (w if member else 0.0) - sigma * w)
                            for j, w, member in flows], bound


# ---------------------------------------------------------------- embedded scope

def content_mix(data: Dataset) -> dict[str, dict[str, float]]:
    """Offer → {origin country: share > 0}; an offer without content rows is all its own."""
    mix: dict[str, dict[str, float]] = {o.offer: {} for o in data.offers}
    for row in data.content:
        if row.share > 0:
            mix[row.offer][row.origin_country] = (mix[row.offer].get(row.origin_country, 0.0)
                                                  + row.share)
    declared = {row.offer for row in data.content}
    for o in data.offers:
        if o.offer not in declared:
            mix[o.offer] = {o.country: 1.0}
    return mix


def fraction(group: str, offer, mix: Mapping[str, Mapping[str, float]], data: Dataset) -> float:
    """φ_g(o): the share of offer o's upstream origin that lies in group g."""
    return math.fsum(share for origin, share in mix[offer.offer].items()
                     if belongs(group, origin, data))


def origins_by_stage(data: Dataset) -> dict[str, list[str]]:
    """Stage → every origin country whose material can reach it (``each`` in embedded
    scope, and the origins split at every stage): its offers' origins, the origin of its
    stock's initial holding (``initial_origin``, when ``initial_t`` > 0), and whatever
    reaches an input stage of a process that outputs into it (a fixed point over the
    process graph, so no stage order is assumed)."""
    mix = content_mix(data)
    recipe = recipes(data)
    found: dict[str, set[str]] = {s.stage: set() for s in data.stages}
    for o in data.offers:
        found[o.stage] |= set(mix[o.offer])
    for st in data.stocks:               # SPEC §3a: a stock keeps its material's origin
        if st.initial_t > 0:
            found[st.stage].add(st.initial_origin)
    changed = True
    while changed:
        changed = False
        for r in recipe.values():
            arriving = set().union(*(found[s] for s in r.inputs))
            for stage in r.outputs:
                if not arriving <= found[stage]:
                    found[stage] |= arriving
                    changed = True
    return {stage: sorted(codes) for stage, codes in found.items()}


def origins(data: Dataset, stage: str) -> list[str]:
    """Every origin country that can reach ``stage``."""
    return origins_by_stage(data)[stage]


def _origin_output(recipe: Recipe, process: str, stage: str, c: str,
                   reach: Mapping[str, list[str]]) -> list[tuple[tuple, float]]:
    """Terms of the origin-c tonnes of ``process``'s output into ``stage``:
    out[p,s]/I_p · Σ_{s'} v[c,p,s']."""
    ratio = recipe.outputs[stage] / recipe.input_total
    return [(("v", c, process, source), ratio) for source in recipe.inputs
            if c in reach[source]]


def custody_rows(data: Dataset, recipe: Mapping[str, Recipe],
                 reach: Mapping[str, list[str]], mix: Mapping[str, Mapping[str, float]],
                 lp: _Matrix) -> None:
    """The split's physics: each process's draw from a stage adds up over origins, and
    no stage passes on more origin-c material than arrives there."""
    for p in data.processes:
        for stage, amount in recipe[p.process].inputs.items():
            terms = [(("v", c, p.process, stage), 1.0) for c in reach[stage]]
            lp.row(("draw", p.process, stage), [*terms, (("z", p.process), -amount)],
                   0.0, 0.0)
    for s in data.stages:
        drawing = [p for p in data.processes if s.stage in recipe[p.process].inputs]
        if not drawing:
            continue
        for c in reach[s.stage]:
            terms = [(("v", c, p.process, s.stage), 1.0) for p in drawing]
            terms += [(("x", o.offer), -mix[o.offer][c]) for o in data.offers
                      if o.stage == s.stage and c in mix[o.offer]]
            for p in data.processes:
                if s.stage in recipe[p.process].outputs:
                    terms += [(col, -coef) for col, coef in
                              _origin_output(recipe[p.process], p.process, s.stage, c, reach)]
            lp.row(("custody", c, s.stage), terms, -math.inf, 0.0)


def embedded_rows(data: Dataset, cost: Mapping[str, float],
                  weights: Mapping[tuple[str, str], float], recipe: Mapping[str, Recipe],
                  reach: Mapping[str, list[str]], mix: Mapping[str, Mapping[str, float]],
                  override: Mapping[tuple, float], sigmas: dict[tuple, float] | None = None):
    """(key, terms, bound) of every expanded embedded limit (see the module doc)."""
    seen: dict[tuple, int] = {}
    for limit, stage in _limits(data, "embedded"):
        basis = limit.basis.value
        groups = reach[stage] if limit.group == "each" else [limit.group]
        for group in groups:
            members = [c for c in reach[stage] if belongs(group, c, data)]
            for bound, sigma in (("max", limit.max_share), ("min", limit.min_share)):
                if sigma is None:
                    continue
                key, sigma = _numbered(("embedded", group, stage, bound, basis), seen, sigma,
                                       override, sigmas)
                terms: list[tuple[tuple, float]] = []
                for o in data.offers:
                    if o.stage == stage:
                        w = cost[o.offer] if basis == "value" else 1.0
                        terms.append((("x", o.offer),
                                      (fraction(group, o, mix, data) - sigma) * w))
                for p in data.processes:
                    r = recipe[p.process]
                    if stage not in r.outputs:
                        continue
                    w = weights[p.process, stage] if basis == "value" else 1.0
                    terms.append((("z", p.process), -sigma * w * r.outputs[stage]))
                    for c in members:
                        terms += [(col, w * coef) for col, coef in
                                  _origin_output(r, p.process, stage, c, reach)]
                yield key, terms, bound


def embedded_groups(data: Dataset) -> list[str]:
    """Every group an embedded limit names, ``each`` expanded, in first-seen order."""
    reach = origins_by_stage(data)
    found: list[str] = []
    for limit, stage in _limits(data, "embedded"):
        found += reach[stage] if limit.group == "each" else [limit.group]
    return list(dict.fromkeys(found))


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
    """Solve with OR-Tools GLOP; the objective is recomputed as an exact sum of c·v.
    Without a plan, ask again with ``RETRY_PARAMETERS`` (a plan found must meet every
    row to ``RETRY_FEASIBLE``, scaled)."""
    outcome = _glop(lp, GLOP_PARAMETERS)
    for parameters in RETRY_PARAMETERS:
        if outcome.optimal:
            break
        again = _glop(lp, parameters)
        if again.optimal and violation(lp, again.values[:lp.n_offers],
                                       again.values[lp.n_offers:]) <= RETRY_FEASIBLE:
            outcome = again
    return outcome


def _glop(lp: Lp, parameters: str) -> Outcome:
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(parameters)
    inf = solver.infinity()
    n = lp.c.size
    free = set(lp.free_columns)
    v = [solver.NumVar(-inf if j in free else 0.0, inf, f"v{j}") for j in range(n)]
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
    n_x, n_xz = lp.n_offers, lp.n_offers + lp.n_processes
    return Outcome(OPTIMAL, value, values[:n_x], values[n_x:n_xz],
                   values[n_xz:n_xz + lp.n_unmet], lp, values)


def solve(data: Dataset, **changes) -> Outcome:
    """Build (with ``rhs``/``share``/``drop``/``keep`` changes) and solve ``data``."""
    return solve_lp(build(data, **changes))


def plan_cost(lp: Lp, x: Iterable[float], z: Iterable[float],
              u: Iterable[float] = ()) -> float:
    """Σ c·(x, z, u) at this formulation's costs (the split columns cost nothing)."""
    given = np.concatenate([np.asarray(list(a), dtype=float) for a in (x, z, u)])
    return math.fsum(float(a) * float(b) for a, b in zip(lp.c[:given.size], given,
                                                          strict=True))


def violation(lp: Lp, x: Iterable[float], z: Iterable[float],
              u: Iterable[float] | None = None) -> float:
    """Largest violation of ``lp``'s rows and of v ≥ 0 by (x, z[, u]), each relative to
    the size of the terms involved (1 + Σ|a_ij v_j| + |bound|). Columns not given (the
    embedded split; u when not given) are free: the least violation over them is
    measured."""
    parts = [np.asarray(list(x), dtype=float), np.asarray(list(z), dtype=float)]
    if u is not None:
        parts.append(np.asarray(list(u), dtype=float))
    v = np.concatenate(parts)
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
    negative[list(lp.free_columns)] = 0.0            # η of CVaR may be negative
    return float(max(np.max(worst, initial=0.0), np.max(negative, initial=0.0)))


def _violation_best_split(lp: Lp, v: np.ndarray) -> float:
    """min e over the free columns w ≥ 0 with every row within e·(1 + Σ|a_ij|·|v_j| +
    |bound|) of its bounds, the given columns fixed at v; a free column counts at its
    largest possible size (u: the demand; v[c,p,s]: in[p,s]·z_p) in that scale. Plus
    negative tonnes, as in ``violation``."""
    n_xz = lp.n_offers + lp.n_processes
    refs = np.asarray(lp.free_ref, dtype=int)
    factors = np.asarray(lp.free_factor, dtype=float)
    known = np.concatenate([v, np.zeros(len(refs))])
    sizes = np.where(refs >= 0, factors * np.abs(known[np.maximum(refs, 0)]), factors)
    magnitude = np.concatenate([np.abs(v), sizes[v.size - n_xz:]])
    scale = 1.0 + abs(lp.A) @ magnitude
    bound = np.maximum(np.where(np.isfinite(lp.lower), np.abs(lp.lower), 0.0),
                       np.where(np.isfinite(lp.upper), np.abs(lp.upper), 0.0))
    weight = scale + bound
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
    inf = solver.infinity()
    cols = [solver.NumVar(float(val), float(val), f"v{j}") for j, val in enumerate(v)]
    cols += [solver.NumVar(0.0, inf, f"w{j}") for j in range(lp.A.shape[1] - v.size)]
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
