"""The planner against an independent second opinion, on hundreds of random datasets.

``second_formulation`` builds SPEC §3 from the SPEC (own landed costs, per-flow
share rows, no aggregate variables) as a scipy.sparse matrix and solves it with
OR-Tools GLOP. For every seed of ``SEEDS`` (random datasets from ``generator``):

- same status (optimal / infeasible) and the same optimal cost to 1e-6 relative;
- the planner's plan (``result.bought`` / ``result.made``) satisfies the second
  formulation's constraints to 1e-6 (scaled) and costs what the planner says at the
  second formulation's own landed costs;
- on non-degenerate optima (every rate the planner reports is ``unique: true``),
  every demand, binding capacity, process capacity, minimum and binding share-limit
  rate equals a central finite difference of the second formulation's optimal cost
  (step 1e-6 relative, or half the way to a reported range end if that is closer;
  tolerance 1e-6 relative plus the objective's round-off over the step);
- (slow) each end of each demand range and binding limit range holds just inside:
  the cost there is what the rate's formula says (linear in the right-hand side;
  linear-fractional in the share) and the local rate is the formula's.

Regression cases at the end pin bugs these checks found (fixed): share-limit ranges
that collapsed to [σ, σ] on round-off in nonbasic rows, and a rate infinite on one
side reported as unique.

Reproduce the counts: ``python -m pytest tests/test_cross_check.py -q -rA -s``
prints one line per test with the numbers of datasets and rows checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pytest
import second_formulation as sf
from generator import random_dataset, write_csv
from planner.models.data import Basis, Dataset, Limit, Offer, Process, Stage

from planner.cli import load
from planner.engine import PlanResult, solve_plan
from planner.report import as_json

SEEDS = range(300)
REL = 1e-6            # objectives, duals
FEASIBLE = 1e-6       # scaled constraint violation
STEP = 1e-6           # finite-difference step, relative to the right-hand side (share: absolute)
NOISE = 1e-14         # round-off of an optimal cost, relative to its size
KINDS = ("demand", "capacity", "process_capacity", "minimum", "limits")


@dataclass
class Case:
    seed: int
    data: Dataset
    result: PlanResult
    out: dict
    second: sf.Outcome

    @property
    def unique(self) -> bool:
        """Every reported rate (binding limits included) says ``unique: true``."""
        prices = self.out.get("shadow_prices", {})
        return all(row.get("unique") is True for kind in KINDS for row in prices.get(kind, [])
                   if kind != "limits" or row["binding"])


@cache
def case(seed: int) -> Case:
    data = random_dataset(seed)
    result = solve_plan(data, sensitivity=True)
    return Case(seed, data, result, as_json(result), sf.solve(data))


def report(name: str, **counts) -> None:
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in counts.items()))


# ---------------------------------------------------------------- the generator itself

def test_generator_is_deterministic_and_small():
    for seed in (0, 1, 17, 12345):
        assert random_dataset(seed) == random_dataset(seed)
    assert random_dataset(1) != random_dataset(2)
    assert max(len(random_dataset(s).offers) for s in SEEDS) <= 40


def test_generator_covers_every_feature():
    seen: set[str] = set()
    for seed in SEEDS:
        d = random_dataset(seed)
        stages = {s.stage: s for s in d.stages}
        order = {s.stage: i for i, s in enumerate(sorted(d.stages, key=lambda s: s.order))}
        seen.add(f"stages={len(d.stages)}")
        seen.add(f"zone={d.zone.value}")
        seen |= {"benchmark-joined"} if d.benchmarks and d.zone.value == "joined" else set()
        into = [p.to_stage for p in d.processes]
        for p in d.processes:
            seen.add("chain" if order[p.to_stage] - order[p.from_stage] == 1 else "skip")
            if stages[p.from_stage].demand_t == 0:
                seen.add("intermediate-zero-demand")
            seen.add("process-unlimited" if p.capacity_t is None else "process-capped")
        if len(into) != len(set(into)):
            seen.add("two-processes-into-one-stage")
        for o in d.offers:
            seen.add("unlimited" if o.capacity_t is None else "capped")
            seen |= {"minimum"} if o.min_t > 0 else set()
            seen |= {"domestic-offer"} if o.country == d.buyer else set()
            seen |= {"freight"} if o.freight_usd_per_t > 0 else set()
        listed = {c.country for c in d.countries}
        if any(o.country not in listed for o in d.offers):
            seen.add("unlisted-country")
        for t in d.tariffs:
            seen.add(f"tariff-{'any' if t.country == '*' else 'country'}-"
                     f"{'any' if t.stage == '*' else 'stage'}")
        for lim in d.limits:
            group = lim.group
            form = ("each" if group == "each" else "zone" if group == "zone" else
                    "non-zone" if group == "non-zone" else
                    "country" if len(group) == 2 and group.isupper() else "tag")
            seen |= {f"group-{form}", f"basis-{lim.basis.value}"}
            seen |= {"stage-*"} if lim.stage == "*" else set()
            seen |= {"max"} if lim.max_share is not None else set()
            seen |= {"min"} if lim.min_share is not None else set()
    wanted = {f"stages={n}" for n in (1, 2, 3, 4)} | {
        "zone=joined", "zone=observer", "benchmark-joined", "chain", "skip",
        "two-processes-into-one-stage", "intermediate-zero-demand", "process-unlimited",
        "process-capped", "unlimited", "capped", "minimum", "domestic-offer", "freight",
        "unlisted-country", "tariff-any-any", "tariff-any-stage", "tariff-country-any",
        "tariff-country-stage", "group-each", "group-zone", "group-non-zone",
        "group-country", "group-tag", "basis-volume", "basis-value", "stage-*", "max", "min"}
    assert wanted <= seen, sorted(wanted - seen)
    infeasible = sum(not case(s).result.optimal for s in SEEDS)
    assert 0.1 * len(SEEDS) <= infeasible <= 0.4 * len(SEEDS), infeasible
    report("generator", datasets=len(SEEDS), infeasible=infeasible, features=len(seen))


def test_generated_datasets_are_valid_input(tmp_path):
    """Written as CSV files, the datasets pass the planner's validation unchanged."""
    def strip(records):
        return tuple(replace(r, origin="") for r in records)

    for seed in range(0, 300, 12):
        data = random_dataset(seed)
        write_csv(data, tmp_path / str(seed))
        back, _warnings = load(tmp_path / str(seed))
        for table in ("stages", "offers", "processes", "countries", "tariffs", "limits"):
            assert strip(getattr(back, table)) == strip(getattr(data, table)), (seed, table)
        assert (back.benchmarks, back.zone, back.buyer) == (data.benchmarks, data.zone,
                                                            data.buyer)


# ---------------------------------------------------------------- status, cost, plan

def test_second_formulation_agrees_on_status_cost_and_plan():
    checked = optimal = 0
    failures = []
    for seed in SEEDS:
        c = case(seed)
        checked += 1
        status = "optimal" if c.result.optimal else c.result.status.value
        if status != c.second.status:
            failures.append(f"seed {seed}: planner {status}, second formulation "
                            f"{c.second.status}")
            continue
        if not c.result.optimal:
            assert c.out["status"] == "infeasible", seed
            assert c.out["diagnosis"]["conflicts"], seed
            continue
        optimal += 1
        ours, theirs = c.second.objective, float(c.result.solution.objective)
        if abs(ours - theirs) > REL * max(1.0, abs(ours)):
            failures.append(f"seed {seed}: objective {theirs!r} vs second {ours!r}")
        violation = c.second.violation(c.result.bought, c.result.made)
        if violation > FEASIBLE:
            failures.append(f"seed {seed}: planner's plan violates the second formulation "
                            f"by {violation:.2e}")
        at_our_costs = float(c.second.lp.c @ np.concatenate([c.result.bought, c.result.made]))
        if abs(at_our_costs - theirs) > REL * max(1.0, abs(theirs)):
            failures.append(f"seed {seed}: the plan costs {at_our_costs!r} at the second "
                            f"formulation's landed costs, planner says {theirs!r}")
        assert c.out["objective_usd"] == pytest.approx(theirs, rel=1e-9, abs=1e-6)
    assert not failures, "\n".join(failures)
    assert checked >= 200
    assert optimal >= 150
    report("status-cost-plan", datasets=checked, optimal=optimal,
           infeasible=checked - optimal)


def test_feasibility_check_is_not_vacuous():
    """The second formulation's check rejects a plan that falls 0.1 % short."""
    rejected = 0
    for seed in range(60):
        c = case(seed)
        if not c.result.optimal or not any(s.demand_t > 0 for s in c.data.stages):
            continue
        assert c.second.violation(c.second.x, c.second.z) <= FEASIBLE
        assert c.second.violation(0.999 * c.result.bought, 0.999 * c.result.made) > FEASIBLE
        rejected += 1
    assert rejected >= 30


# ---------------------------------------------------------------- duals

@dataclass(frozen=True)
class Rate:
    """A reported rate and how it reads the second formulation's cost f(value):
    rate = sign · f'(value) / unit."""

    key: tuple
    value: float
    rate: float
    sign: float
    unit: float
    row: dict
    low: float = -math.inf     # the domain of the value
    high: float = math.inf

    @property
    def share(self) -> bool:
        return self.key[0] == "share"

    def changes(self, value: float) -> dict:
        return {"share": {self.key: value}} if self.share else {"rhs": {self.key: value}}

    def step(self) -> float:
        """STEP (relative), at most half the way to a reported range end: a breakpoint
        closer than STEP is real (the rate is unique but holds only that far). An end
        at the value itself is ignored (a collapsed range, see the BUG below)."""
        h = STEP if self.share else STEP * max(1.0, abs(self.value))
        for end in (self.row.get("valid_from"), self.row.get("valid_to")):
            gap = math.inf if end is None else abs(end - self.value)
            if gap > 1e-12 * max(1.0, abs(self.value)):
                h = min(h, gap / 2)
        return h


def share_key(c: Case, row: dict) -> tuple | None:
    """The second formulation's row for a reported limit row (None if ambiguous)."""
    keys = [k for k in c.second.lp.keys if k[0] == "share"
            and k[1:5] == (row["group"], row["stage"], row["bound"], row["basis"])]
    return keys[0] if len(keys) == 1 else None


def rates(c: Case, binding_only: bool = True) -> list[Rate]:
    """Every demand rate, and every binding capacity, process capacity, minimum and
    share-limit rate, with its key in the second formulation."""
    prices = c.out["shadow_prices"]
    found = [Rate(("demand", r["stage"]), r["demand_t"], r["usd_per_t"], 1.0, 1.0, r)
             for r in prices["demand"]]
    for kind, name in (("capacity", "offer"), ("process_capacity", "process")):
        for r in prices[kind]:
            if not binding_only or r["used_t"] >= r["capacity_t"] * (1 - 1e-9):
                found.append(Rate((kind, r[name]), r["capacity_t"], r["usd_per_t"], -1.0, 1.0,
                                  r, low=0.0))
    found += [Rate(("minimum", r["offer"]), r["min_t"], r["usd_per_t"], 1.0, 1.0, r, low=0.0)
              for r in prices["minimum"]]
    for r in prices["limits"]:
        key = share_key(c, r)
        if r["binding"] and key is not None:
            sign = -1.0 if r["bound"] == "max" else 1.0
            found.append(Rate(key, r["limit"], r["usd_per_pp"], sign, 100.0, r, 0.0, 1.0))
    return found


def cost(c: Case, rate: Rate, value: float) -> float:
    """The second formulation's optimal cost with the rate's value moved (inf: infeasible)."""
    outcome = sf.solve(c.data, **rate.changes(value))
    return outcome.objective if outcome.optimal else math.inf


def slope(c: Case, rate: Rate, at: float, h: float, base: float | None = None) -> float:
    """sign · f'(at) / unit by a central difference (one-sided at the domain's ends)."""
    lo, hi = max(at - h, rate.low), min(at + h, rate.high)
    f_lo = base if lo == at and base is not None else cost(c, rate, lo)
    f_hi = base if hi == at and base is not None else cost(c, rate, hi)
    return rate.sign * (f_hi - f_lo) / (hi - lo) / rate.unit


def tolerance(c: Case, rate: Rate, h: float, reference: float) -> float:
    noise = NOISE * (1.0 + abs(c.second.objective)) / (h * rate.unit)
    return REL * max(1.0, abs(reference)) + noise


def test_duals_equal_finite_differences_of_the_second_formulation():
    cases = rows = skipped = 0
    failures = []
    for seed in SEEDS:
        c = case(seed)
        if not c.result.optimal:
            continue
        if not c.unique:
            skipped += 1
            continue
        cases += 1
        for rate in rates(c):
            if rate.rate is None:
                continue          # unbounded in the named direction (see BUG E below)
            h = rate.step()
            measured = slope(c, rate, rate.value, h, base=c.second.objective)
            rows += 1
            if abs(measured - rate.rate) > tolerance(c, rate, h, rate.rate):
                failures.append(f"seed {seed} {rate.key}: reported {rate.rate!r}, "
                                f"finite difference {measured!r}")
    assert not failures, "\n".join(failures)
    assert cases >= 150, cases
    report("duals", datasets=cases, rows=rows, skipped_not_unique=skipped)


# ---------------------------------------------------------------- ranges

def range_ends(rate: Rate) -> list[tuple[float, float]]:
    """(end, outward direction) of the reported range; an open end becomes a far point."""
    low, high = rate.row["valid_from"], rate.row["valid_to"]
    far = 10.0 * max(1.0, abs(rate.value))
    return [(rate.value - far if low is None else low, -1.0),
            (rate.value + far if high is None else high, 1.0)]


@pytest.mark.slow
def test_range_ends_hold_just_inside():
    """Just inside each end of each demand range and binding limit range, the cost is
    the rate's formula (linear in demand; for a share σ, with Δ = σ' − σ and f the
    cost, f(σ') = f(σ) + gΔ/(1 − uΔ), u fitted at the midpoint) and the local rate
    is the formula's: g for demand, g/(1 − uΔ)² for a share."""
    ends = collapsed = cases = 0
    failures = []
    for seed in SEEDS:
        c = case(seed)
        if not c.result.optimal or not c.unique:
            continue
        cases += 1
        base = c.second.objective
        for rate in rates(c):
            if rate.key[0] not in ("demand", "share") or rate.rate is None:
                continue
            g = rate.rate * rate.unit / rate.sign        # f'(value)
            for end, outward in range_ends(rate):
                width = abs(end - rate.value)
                if width <= 1e-9 * max(1.0, abs(rate.value)):
                    collapsed += 1
                    continue
                eps = min(STEP * max(1.0, abs(end)), width / 4)
                inside = end - outward * eps
                ends += 1
                actual = cost(c, rate, inside)
                delta = inside - rate.value
                if rate.share:
                    mid = rate.value + delta / 2
                    f_mid = cost(c, rate, mid) - base
                    u = 0.0 if abs(f_mid) < 1e-12 else (1 - g * (delta / 2) / f_mid) / (delta / 2)
                    expected = base + g * delta / (1 - u * delta)
                    local = rate.rate / (1 - u * delta) ** 2
                else:
                    expected, local = base + g * delta, rate.rate
                allowed = 1e-6 * abs(expected - base) + 1e-9 * (1 + abs(base))
                if not abs(actual - expected) <= allowed:
                    failures.append(f"seed {seed} {rate.key} end {end!r}: cost at {inside!r} is "
                                    f"{actual!r}, the rate's formula says {expected!r}")
                    continue
                measured = slope(c, rate, inside, eps / 2)
                if abs(measured - local) > tolerance(c, rate, eps / 2, local):
                    failures.append(f"seed {seed} {rate.key} end {end!r}: rate at {inside!r} "
                                    f"is {measured!r}, the formula says {local!r}")
    assert not failures, "\n".join(failures)
    report("range-ends-inside", datasets=cases, ends=ends, collapsed=collapsed)


def one_sided(c: Case, rate: Rate, side: float, h: float) -> float:
    """sign · (one-sided derivative of f on ``side`` of the value) / unit, Richardson-
    extrapolated (2·D(h/2) − D(h)) so a curved cost adds no O(h) error; inf: infeasible."""
    base = c.second.objective

    def d(step: float) -> float:
        moved = rate.value + side * step
        if not rate.low <= moved <= rate.high:
            return math.inf
        return side * (cost(c, rate, moved) - base) / step

    value = 2 * d(h / 2) - d(h)
    return rate.sign * value / rate.unit if math.isfinite(value) else math.inf


ONE_SIDED_FIELDS = {   # (field for the lower side, field for the upper side)
    "rhs": ("usd_per_t_down", "usd_per_t_up"),
    "max": ("usd_per_pp_tighter", "usd_per_pp_looser"),
    "min": ("usd_per_pp_looser", "usd_per_pp_tighter"),
}


def one_sided_failures(c: Case, rate: Rate) -> list[str]:
    fields = ONE_SIDED_FIELDS[rate.row["bound"] if rate.share else "rhs"]
    h = rate.step()
    measured = [one_sided(c, rate, side, h) for side in (-1.0, 1.0)]
    problems = []
    for field, value in zip(fields, measured, strict=True):
        reported = rate.row[field]
        reported = math.inf if reported is None else reported
        if math.isinf(value) or math.isinf(reported):
            ok = math.isinf(value) and math.isinf(reported)
        else:
            ok = abs(value - reported) <= 3 * tolerance(c, rate, h / 2, value)
        if not ok:
            problems.append(f"{field} reported {reported!r}, re-solves give {value!r}")
    a, b = measured
    if all(map(math.isfinite, measured)) and abs(a - b) <= 3 * tolerance(c, rate, h / 2, a):
        problems.append(f"reported not unique, but both sides measure {a!r} / {b!r}")
    return problems


def test_rates_called_not_unique_have_different_one_sided_rates():
    """Where the planner says ``unique: false``, its one-sided rates are the one-sided
    derivatives of the second formulation's cost, and they really differ."""
    rows = 0
    failures = []
    for seed in SEEDS:
        c = case(seed)
        if not c.result.optimal:
            continue
        for rate in rates(c):
            if rate.row.get("unique") is not False:
                continue
            rows += 1
            failures += [f"seed {seed} {rate.key}: {p}" for p in one_sided_failures(c, rate)]
    report("not-unique", rows=rows, failures=len(failures))
    assert not failures, "\n".join(failures)


def kink(c: Case, rate: Rate, end: float, outward: float, eps: float) -> float | None:
    """Change of slope of f at ``end`` beyond what its curvature explains, in the rate's
    units: with slopes s1, s2 over the two ε-steps before ``end`` and s3 after it,
    s3 − (2·s2 − s1). None: f ends there (infeasible beyond)."""
    points = [end + outward * k * eps for k in (-2, -1, 0, 1)]
    if not all(rate.low <= p <= rate.high for p in points):
        return None
    f = [cost(c, rate, p) for p in points]
    if not math.isfinite(f[3]):
        return None
    s1, s2, s3 = (outward * (f[k + 1] - f[k]) / eps for k in range(3))
    return rate.sign * (s3 - (2 * s2 - s1)) / rate.unit


@pytest.mark.slow
def test_a_range_end_at_the_current_value_is_a_breakpoint():
    """A range that ends at the current value (σ itself, or the right-hand side itself)
    claims the basis changes right there; with a unique rate that is only possible where
    the cost's slope jumps (or the plan ends). Ends away from the value are not checked
    here: where ties or value-basis shares make the optimum dual degenerate, the basis
    may change without the rate changing (seen on seed 903's ore demand)."""
    ends = 0
    failures = []
    for seed in SEEDS:
        c = case(seed)
        if not c.result.optimal or not c.unique:
            continue
        for rate in rates(c):
            if rate.key[0] not in ("demand", "share") or rate.rate is None:
                continue
            for end, outward in range_ends(rate):
                if end != rate.value or (rate.share and not 1e-9 < end < 1 - 1e-9):
                    continue
                ends += 1
                jump = kink(c, rate, end, outward, 1e-5 * max(1.0, abs(end)))
                if jump is not None and abs(jump) <= 4 * tolerance(c, rate, 1e-5, rate.rate):
                    failures.append(f"seed {seed} {rate.key}: {rate.row['valid_from']!r}–"
                                    f"{rate.row['valid_to']!r}, no change of rate at {end!r} "
                                    f"(jump {jump:.3g})")
    report("range-ends-at-the-value", ends=ends, failures=len(failures))
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- a collapsed share range

COLLAPSED = Dataset(
    stages=(Stage("oxide", 0, 130.0), Stage("metal", 1, 450.0)),
    offers=(Offer("ox_au", "oxide", "s", "AU", 160.0),
            Offer("mt_vn", "metal", "s", "VN", 1360.0, 190.0),
            Offer("mt_au", "metal", "s", "AU", 1450.0)),
    processes=(Process("kr_metal", "oxide", "metal", 0.6, 100.0, 130.0),),
    limits=(Limit("each", "metal", max_share=0.5, basis=Basis.VALUE),),
)
"""Shrunk from seed 221. VN's value share of metal is capped at 50 % and binds (VN
169.75 t, AU 150.25 t, KR 130 t made). The cap's cost follows one linear-fractional
curve from σ ≈ 0.4719 (below it AU's own 50 % cap makes the plan infeasible) to
σ ≈ 0.5618 (VN's 190 t capacity binds): 296.14 USD/pp at 0.49, 295.77 at 0.5, 295.39
at 0.51 (exact derivative at 0.5: 295.765251). HiGHS re-solves warm from the optimal
basis at σ ± 1e-4 in 0 iterations."""


def collapsed_cost(share: float) -> float:
    key = ("share", "VN", "metal", "max", "value", 0)
    return sf.solve(COLLAPSED, share={key: share}).objective


def test_collapsed_case_is_one_smooth_piece_around_the_cap():
    """The second formulation's cost around σ = 0.5 is one linear-fractional piece
    f(σ') − f(0.5) = gΔ/(1 − uΔ), i.e. Δ/(f − f(0.5)) is linear in Δ: fitted at ±0.01,
    it predicts the cost from −0.025 to +0.06 to 1e-9; g/−100 is the reported rate."""
    base = collapsed_cost(0.5)

    def reciprocal(delta: float) -> float:
        return delta / (collapsed_cost(0.5 + delta) - base)

    r1, r2 = reciprocal(-0.01), reciprocal(0.01)
    intercept, slope_ = (r1 + r2) / 2, (r2 - r1) / 0.02     # 1/g and −u/g
    g, u = 1 / intercept, -slope_ / intercept
    for delta in (-0.025, -0.005, 0.03, 0.06):
        expected = g * delta / (1 - u * delta)
        assert collapsed_cost(0.5 + delta) - base == pytest.approx(expected, rel=1e-9)
    assert -g / 100 == pytest.approx(295.765251, rel=1e-8)
    key = ("share", "VN", "metal", "max", "value", 0)
    assert not sf.solve(COLLAPSED, share={key: 0.47}).optimal


def test_collapsed_case_range_covers_the_smooth_piece():
    row = next(r for r in as_json(solve_plan(COLLAPSED))["shadow_prices"]["limits"]
               if r["group"] == "VN")
    assert row["binding"] is True
    assert row["unique"] is True
    assert row["valid_from"] <= 0.48
    assert row["valid_to"] >= 0.55
    # the exact derivative (dual · T), not a one-sided 1e-5 re-solve (295.76544, 6e-7 off)
    assert row["usd_per_pp"] == pytest.approx(295.765251, rel=1e-7)


# ---------------------------------------------------------------- an infinite one-sided rate

AT_CAPACITY = Dataset(
    stages=(Stage("ore", 0, 10.0),),
    offers=(Offer("ore_au", "ore", "s", "AU", 50.0, 6.0), Offer("ore_cn", "ore", "s", "CN",
                                                                  40.0, 4.0)),
)
"""Demand 10 t is exactly AU's 6 t plus CN's 4 t. One more tonne of demand: no plan
(rate +∞); one less: AU buys 1 t less, −50 USD. One more tonne of CN capacity saves 10
(it replaces AU); one less: no plan."""


def test_at_capacity_one_sided_rates():
    key = ("demand", "ore")
    assert sf.solve(AT_CAPACITY, rhs={key: 10.001}).status == sf.INFEASIBLE
    down = (sf.solve(AT_CAPACITY).objective - sf.solve(AT_CAPACITY, rhs={key: 9.999}).objective)
    assert down / 0.001 == pytest.approx(50.0, rel=1e-9)
    assert sf.solve(AT_CAPACITY, rhs={("capacity", "ore_cn"): 3.999}).status == sf.INFEASIBLE


def test_an_infeasible_side_makes_a_rate_not_unique():
    prices = as_json(solve_plan(AT_CAPACITY))["shadow_prices"]
    demand = prices["demand"][0]
    assert demand["usd_per_t"] is None          # one more tonne: no plan
    assert demand["unique"] is False
    assert demand["usd_per_t_down"] == pytest.approx(50.0, rel=1e-9)
    cn = next(r for r in prices["capacity"] if r["offer"] == "ore_cn")
    assert cn["usd_per_t"] == pytest.approx(10.0, rel=1e-9)
    assert cn["unique"] is False
