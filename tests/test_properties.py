"""Properties of the planner that must hold on every dataset (hypothesis).

Each property draws a random dataset from ``generator.random_dataset`` by seed,
plus a few small parameters, and checks one law of the LP (SPEC §3–§4):

- tightening a constraint (a cap, a floor, a capacity, a minimum, a demand) never
  lowers the cost, and an infeasible plan stays infeasible;
- adding an offer never raises the cost;
- scaling every price (and freight, process costs, benchmarks) by k scales the cost
  and every USD rate by k;
- scaling every tonnage (demand, capacities, minimums, process capacities) by k
  scales the cost by k, leaves USD/t rates unchanged and scales USD/pp by k;
- permuting the rows of every table changes nothing (cost, purchases by offer id,
  rates by key);
- strong duality: the planner's own gap is ≤ 1e-6, and the dual objective rebuilt
  from the reported rates (b·y) equals the cost;
- embedded scope without ``content``: for a group without the buyer, the embedded
  share is never below the direct share, and the same cap counted by origin never
  costs less than counted by seller;
- every infeasibility diagnosis is infeasible on its own and becomes feasible when
  any one of its rows is dropped; each violated limit is feasible at its tightest
  feasible value and not beyond it.

Fixed seed (``derandomize``), 200 examples each: ``python -m pytest
tests/test_properties.py -q``. Limit rates the planner measured by re-solving (a range
that ends at the limit itself) are left out of the scaling and permutation laws.

The diagnosis laws run as sweeps over the fixed seeds ``SWEEP`` as well as under
hypothesis, with hand-made regression cases for the bugs they found (fixed): a
diagnosis that was not irreducible, a zero-demand material balance blamed as a
demand, and a tightest feasible value where no plan exists without the limit.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest
import second_formulation as sf
from generator import COUNTRY_POOL, random_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_json import as_json
from planner.models.data import (
    Basis,
    Country,
    Dataset,
    Limit,
    Offer,
    Process,
    Scope,
    Stage,
)
from planner.models.groups import in_group

from planner.solving.engine import PlanResult, solve_plan

EXAMPLES = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(min_value=0, max_value=2**31 - 1)
PICK = st.integers(min_value=0, max_value=10**6)
REL = 1e-6
SWEEP = range(300)   # seeds of the deterministic sweeps that pin known bugs


def solve(data: Dataset, sensitivity: bool = False) -> PlanResult:
    return solve_plan(data, sensitivity=sensitivity)


def cost(data: Dataset) -> float:
    """Optimal cost, +inf when infeasible (anything else fails the test)."""
    result = solve(data)
    if result.optimal:
        return float(result.solution.objective)
    assert result.status.value == "infeasible", result.message
    return math.inf


def close(a: float, b: float, rel: float = REL, scale: float = 1.0) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b), scale)


# ---------------------------------------------------------------- tightening, adding

TIGHTEN = ("max_share", "min_share", "capacity", "process_capacity", "minimum", "demand")


def tightened(data: Dataset, kind: str, pick: int, factor: float) -> Dataset | None:
    """``data`` with one constraint made tighter (None if it has no such constraint)."""
    if kind in ("max_share", "min_share"):
        rows = [i for i, lim in enumerate(data.limits) if getattr(lim, kind) is not None]
        if not rows:
            if kind == "min_share" or not data.offers:
                return None
            o = data.offers[pick % len(data.offers)]      # a new cap on a supplier
            return replace(data, limits=(*data.limits, Limit(o.country, o.stage,
                                                             max_share=round(factor, 3))))
        i = rows[pick % len(rows)]
        lim = data.limits[i]
        if kind == "max_share":
            new = replace(lim, max_share=lim.max_share * factor)
        else:
            top = lim.max_share if lim.max_share is not None else 1.0
            new = replace(lim, min_share=lim.min_share + (top - lim.min_share) * (1 - factor))
        return replace(data, limits=(*data.limits[:i], new, *data.limits[i + 1:]))
    if kind in ("capacity", "minimum"):
        o = data.offers[pick % len(data.offers)]
        if kind == "capacity":
            cap = 100.0 if o.capacity_t is None else o.capacity_t
            new = replace(o, capacity_t=max(cap * factor, o.min_t, 1e-3))
        else:
            room = 100.0 if o.capacity_t is None else o.capacity_t - o.min_t
            new = replace(o, min_t=o.min_t + room * (1 - factor))
        return replace(data, offers=tuple(new if x is o else x for x in data.offers))
    if kind == "process_capacity":
        if not data.processes:
            return None
        p = data.processes[pick % len(data.processes)]
        cap = 100.0 if p.capacity_t is None else p.capacity_t
        new = replace(p, capacity_t=cap * factor)
        return replace(data, processes=tuple(new if x is p else x for x in data.processes))
    s = data.stages[pick % len(data.stages)]
    new = replace(s, demand_t=s.demand_t / factor + 1.0)
    return replace(data, stages=tuple(new if x is s else x for x in data.stages))


@EXAMPLES
@given(seed=SEEDS, kind=st.sampled_from(TIGHTEN), pick=PICK,
       factor=st.floats(min_value=0.05, max_value=0.99))
def test_tightening_never_lowers_cost(seed, kind, pick, factor):
    data = random_dataset(seed)
    tight = tightened(data, kind, pick, factor)
    if tight is None:
        return
    loose_cost, tight_cost = cost(data), cost(tight)
    if math.isinf(loose_cost):
        assert math.isinf(tight_cost), "tightening made an infeasible plan feasible"
        return
    assert tight_cost >= loose_cost - REL * max(1.0, abs(loose_cost)), (kind, loose_cost,
                                                                         tight_cost)


def each_floor_at(data: Dataset, stage: str) -> bool:
    return any(lim.group == "each" and lim.stage in (stage, "*") and lim.min_share
               for lim in data.limits)


@EXAMPLES
@given(seed=SEEDS, pick=PICK, price=st.floats(min_value=0.3, max_value=3.0),
       capacity=st.one_of(st.none(), st.floats(min_value=1.0, max_value=500.0)))
def test_adding_an_offer_never_raises_cost(seed, pick, price, capacity):
    """A new offer (no minimum) only adds a column: the old plan stays feasible. The one
    exception is by definition: under an ``each`` floor at the stage, a country new to
    the stage gets a floor of its own, so the new offer's country is then one already
    supplying the stage."""
    data = random_dataset(seed)
    rng = random.Random(pick)
    stage = rng.choice(data.stages).stage
    at = sorted({o.country for o in data.offers if o.stage == stage})
    countries = at if each_floor_at(data, stage) else [*COUNTRY_POOL, "KR", "NO"]
    if not countries:
        return
    model = next((o for o in data.offers if o.stage == stage), None)
    base_price = 100.0 if model is None else model.price_usd_per_t
    new = Offer("added", stage, "new supplier", rng.choice(countries),
                round(base_price * price, 2), capacity, 0.0, 0.0, "test")
    before, after = cost(data), cost(replace(data, offers=(*data.offers, new)))
    if math.isinf(before):
        return
    assert after <= before + REL * max(1.0, abs(before)), (before, after)


# ---------------------------------------------------------------- scaling

def scaled_prices(data: Dataset, k: float) -> Dataset:
    return replace(
        data,
        offers=tuple(replace(o, price_usd_per_t=o.price_usd_per_t * k,
                             freight_usd_per_t=o.freight_usd_per_t * k) for o in data.offers),
        processes=tuple(replace(p, cost_usd_per_t=p.cost_usd_per_t * k) for p in data.processes),
        benchmarks={s: v * k for s, v in data.benchmarks.items()})


def scaled_tonnes(data: Dataset, k: float) -> Dataset:
    def times(value: float | None) -> float | None:
        return None if value is None else value * k

    return replace(
        data,
        stages=tuple(replace(s, demand_t=s.demand_t * k) for s in data.stages),
        offers=tuple(replace(o, capacity_t=times(o.capacity_t), min_t=o.min_t * k)
                     for o in data.offers),
        processes=tuple(replace(p, capacity_t=times(p.capacity_t)) for p in data.processes))


RATE_FIELDS = ("usd_per_t", "usd_per_t_down", "usd_per_t_up", "usd_per_pp",
               "usd_per_pp_tighter", "usd_per_pp_looser")


def rates_by_key(out: dict) -> dict[tuple, dict]:
    """Every shadow-price row by a business key, with its rate fields and ``unique``."""
    prices = out["shadow_prices"]
    found: dict[tuple, dict] = {}
    for kind, name in (("demand", "stage"), ("capacity", "offer"),
                       ("process_capacity", "process"), ("minimum", "offer")):
        for r in prices[kind]:
            found[(kind, r[name])] = r
    seen: dict[tuple, int] = {}
    for r in prices["limits"]:
        key = ("limit", r["group"], r["stage"], r["bound"], r["basis"], r["limit"])
        seen[key] = seen.get(key, -1) + 1
        found[(*key, seen[key])] = r
    return found


def all_unique(out: dict) -> bool:
    return all(r.get("unique") is True for r in rates_by_key(out).values()
               if "binding" not in r or r["binding"])


def resolved_limit(row: dict) -> bool:
    """A binding limit whose range ends at its own value: the planner measured its rate
    by re-solving with σ moved 1e-5, not as dual·T (see the BUG of collapsed ranges in
    test_cross_check: in random data these are spurious, and the measured rate is off by
    up to ~3e-5 relative)."""
    return bool(row.get("binding")) and row["limit"] in (row.get("valid_from"),
                                                          row.get("valid_to"))


def compare_rates(base: dict, other: dict, factor_t: float, factor_pp: float,
                  resolved: bool = False) -> list[str]:
    """Rates of ``other`` against ``base`` × factor (USD/t rows: factor_t, limits:
    factor_pp), where both say the rate is determined (``unique`` not null); limits
    rated by re-solve in either result only if ``resolved``."""
    problems = []
    a, b = rates_by_key(base), rates_by_key(other)
    assert a.keys() == b.keys()
    for key, row in a.items():
        if row.get("unique") is None or b[key].get("unique") is None:
            continue
        if not resolved and (resolved_limit(row) or resolved_limit(b[key])):
            continue
        factor = factor_pp if key[0] == "limit" else factor_t
        for field in RATE_FIELDS:
            if field in row and field in b[key]:
                x, y = row[field], b[key][field]
                if x is None or y is None:
                    ok = x is None and y is None
                else:
                    ok = close(x * factor, y, rel=REL)
                if not ok:
                    problems.append(f"{key} {field}: {x!r} × {factor:g} vs {y!r}")
    return problems


@EXAMPLES
@given(seed=SEEDS, k=st.sampled_from([0.1, 0.5, 2.0, 3.0, 7.5, 100.0]))
def test_scaling_prices_scales_cost_and_usd_rates(seed, k):
    data = random_dataset(seed)
    base, moved = solve(data, sensitivity=True), solve(scaled_prices(data, k), True)
    assert base.status == moved.status
    if not base.optimal:
        return
    assert close(moved.solution.objective, k * base.solution.objective, rel=1e-9)
    a, b = as_json(base), as_json(moved)
    problems = compare_rates(a, b, k, k)
    if all_unique(a) and all_unique(b):
        reduced_a = {r["offer"]: r["reduced_cost_usd_per_t"]
                     for r in a["shadow_prices"]["reduced_costs"]}
        reduced_b = {r["offer"]: r["reduced_cost_usd_per_t"]
                     for r in b["shadow_prices"]["reduced_costs"]}
        scale = max(abs(x) for x in [1.0, *reduced_a.values()])
        problems += [f"reduced cost {name}: {value!r} × {k:g} vs {reduced_b.get(name)!r}"
                     for name, value in reduced_a.items()
                     if name not in reduced_b or not close(k * value, reduced_b[name],
                                                           scale=k * scale)]
    assert not problems, "\n".join(problems)


def test_scaling_prices_scales_limit_rates_measured_by_re_solve():
    """The price-scaling law for the limit rows the test above leaves out (a seed sweep,
    not hypothesis: a known failure must fail on every run)."""
    failures = []
    for seed in SWEEP:
        data = random_dataset(seed)
        base = solve(data, sensitivity=True)
        if not base.optimal:
            continue
        for k in (3.0, 0.1):
            moved = solve(scaled_prices(data, k), sensitivity=True)
            failures += [f"seed {seed} k {k}: {p}" for p in
                         compare_rates(as_json(base), as_json(moved), k, k, resolved=True)]
    assert not failures, "\n".join(failures)


@EXAMPLES
@given(seed=SEEDS, k=st.sampled_from([0.1, 0.5, 2.0, 3.0, 7.5, 100.0]))
def test_scaling_tonnes_scales_cost_not_usd_per_t(seed, k):
    data = random_dataset(seed)
    base, moved = solve(data, sensitivity=True), solve(scaled_tonnes(data, k), True)
    assert base.status == moved.status
    if not base.optimal:
        return
    assert close(moved.solution.objective, k * base.solution.objective, rel=1e-9)
    problems = compare_rates(as_json(base), as_json(moved), 1.0, k)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- permutations

def shuffled(data: Dataset, rng: random.Random) -> Dataset:
    def mix(rows):
        rows = list(rows)
        rng.shuffle(rows)
        return tuple(rows)

    benchmarks = list(data.benchmarks.items())
    rng.shuffle(benchmarks)
    return replace(data, stages=mix(data.stages), offers=mix(data.offers),
                   processes=mix(data.processes), countries=mix(data.countries),
                   tariffs=mix(data.tariffs), limits=mix(data.limits),
                   benchmarks=dict(benchmarks))


@EXAMPLES
@given(seed=SEEDS, order=st.integers(min_value=0, max_value=2**31 - 1))
def test_permuting_rows_changes_nothing(seed, order):
    """Same status and cost; the same purchases by offer id and the same rates by key —
    unless the optimum is not unique (ties the zone levy makes, or a value-basis share,
    whose weights are the objective's own costs), where the two plans must both be
    feasible and cost the optimum, i.e. both be optimal."""
    data = random_dataset(seed)
    mixed = shuffled(data, random.Random(order))
    base, moved = solve(data, sensitivity=True), solve(mixed, sensitivity=True)
    assert base.status == moved.status
    if not base.optimal:
        return
    assert close(moved.solution.objective, base.solution.objective, rel=1e-9)
    tonnes_a = {o.offer: t for o, t in zip(data.offers, base.bought, strict=True)}
    tonnes_b = {o.offer: t for o, t in zip(mixed.offers, moved.bought, strict=True)}
    scale = max([1.0, *tonnes_a.values()])
    if all(abs(tonnes_a[name] - tonnes_b[name]) <= REL * scale for name in tonnes_a):
        problems = compare_rates(as_json(base), as_json(moved), 1.0, 1.0)
        assert not problems, "\n".join(problems)
        return
    # alternative optima: both plans feasible at the optimal cost (second formulation)
    second = sf.solve(data)
    for plan, records in ((base, data), (moved, mixed)):
        check = sf.solve(records)
        assert check.violation(plan.bought, plan.made) <= REL
        cost_of_plan = float(check.lp.c @ np.concatenate([plan.bought, plan.made]))
        assert close(cost_of_plan, second.objective, rel=1e-9)


# ---------------------------------------------------------------- strong duality

@EXAMPLES
@given(seed=SEEDS)
def test_strong_duality(seed):
    """The planner's own residuals are ≤ 1e-6; where every rate is unique (so each
    headline rate is the row's dual), the dual objective b·y rebuilt from the JSON —
    Σ demand·rate − Σ capacity·value + Σ minimum·rate − Σ process capacity·value
    (share rows have right-hand side 0) — equals the cost."""
    data = random_dataset(seed)
    result = solve(data, sensitivity=True)
    if not result.optimal:
        return
    out = as_json(result)
    verification = out["verification"]
    assert verification["gap"] <= 1e-6
    assert verification["primal"] <= 1e-6
    assert verification["dual"] <= 1e-6
    prices = out["shadow_prices"]
    headline = [r["usd_per_t"] for kind in ("demand", "capacity", "process_capacity",
                                           "minimum") for r in prices[kind]]
    if not all_unique(out) or None in headline:
        return    # a one-sided or unbounded rate is not the row's dual (see BUG E)
    dual = sum(r["demand_t"] * r["usd_per_t"] for r in prices["demand"])
    dual -= sum(r["capacity_t"] * r["usd_per_t"] for r in prices["capacity"])
    dual -= sum(r["capacity_t"] * r["usd_per_t"] for r in prices["process_capacity"])
    dual += sum(r["min_t"] * r["usd_per_t"] for r in prices["minimum"])
    objective = out["objective_usd"]
    assert dual == pytest.approx(objective, rel=REL, abs=REL)


# ---------------------------------------------------------------- infeasibility diagnosis

def conflict_keys(data: Dataset, conflicts: list[dict]) -> list[tuple]:
    """The second formulation's row of each conflicting input row."""
    keys = sf.build(data).keys
    found = []
    for c in conflicts:
        if c["kind"] == "limit":
            group, stage = c["name"].split(":")
            bound = c["detail"].split("_share")[0]
            share = float(c["detail"].split()[1])
            basis = c["detail"].split("(")[1].split(",")[0]
            matches = [k for k in keys if k[:5] == ("share", group, stage, bound, basis)]
            found.append(next(k for k in matches
                              if f"{share_of(data, k):g}" == f"{share:g}"))
        else:
            found.append((c["kind"], c["name"]))
    return found


def share_of(data: Dataset, key: tuple) -> float:
    """σ of an expanded share row of the second formulation."""
    _, group, stage, bound, basis, n = key
    seen = -1
    for lim in data.limits:
        if lim.basis.value != basis or lim.stage not in (stage, "*"):
            continue
        if lim.group not in (group, "each"):
            continue
        if lim.group == "each" and group not in sf.supplying(data, stage):
            continue
        value = getattr(lim, f"{bound}_share")
        if value is not None:
            seen += 1
            if seen == n:
                return value
    raise AssertionError(key)


def only(data: Dataset, keys: list[tuple]) -> Dataset:
    """``data`` with only the given rows: other demands 0, capacities unlimited,
    minimums 0, limits gone; each listed limit becomes one direct limit row."""
    keys = set(keys)
    limits = []
    for key in sorted(k for k in keys if k[0] == "share"):
        _, group, stage, bound, basis, _n = key
        limits.append(Limit(group, stage, basis=Basis(basis),
                            **{f"{bound}_share": share_of(data, key)}))
    return replace(
        data,
        stages=tuple(replace(s, demand_t=s.demand_t if ("demand", s.stage) in keys else 0.0)
                     for s in data.stages),
        offers=tuple(replace(o, capacity_t=o.capacity_t if ("capacity", o.offer) in keys
                             else None,
                             min_t=o.min_t if ("minimum", o.offer) in keys else 0.0)
                     for o in data.offers),
        processes=tuple(replace(p, capacity_t=p.capacity_t
                                if ("process_capacity", p.process) in keys else None)
                        for p in data.processes),
        limits=tuple(limits))


def diagnosed(seed: int) -> tuple[Dataset, dict, list[tuple]] | None:
    """An infeasible random dataset (60 % are made so), its diagnosis and the second
    formulation's row of each conflicting input row; None if the dataset is feasible."""
    data = random_dataset(seed, infeasible=0.6)
    result = solve(data)
    if result.optimal:
        return None
    diagnosis = as_json(result)["diagnosis"]
    assert diagnosis["conflicts"], diagnosis["summary"]
    return data, diagnosis, conflict_keys(data, diagnosis["conflicts"])


@EXAMPLES
@given(seed=SEEDS)
def test_every_diagnosis_is_infeasible_on_its_own(seed):
    """The listed rows alone — every other demand 0, capacity unlimited, minimum 0 and
    limit removed — still admit no plan (planner and second formulation), and neither
    do the listed LP rows alone in the second formulation."""
    found = diagnosed(seed)
    if found is None:
        return
    data, _, keys = found
    alone = only(data, keys)
    assert not solve(alone).optimal, "the conflicting rows alone have a plan"
    assert not sf.solve(alone).optimal
    assert not sf.solve(data, **as_lp_rows(data, keys)).optimal


def as_lp_rows(data, keys) -> dict:
    """The listed rows alone as LP rows of the second formulation: every stage's
    material balance stays (physics), at demand 0 unless its demand is listed."""
    balances = [("demand", s.stage) for s in data.stages]
    return {"keep": list(dict.fromkeys([*keys, *balances])),
            "rhs": {key: 0.0 for key in balances if key not in keys}}


def infeasible_seeds():
    """(seed, dataset, diagnosis, keys) of the infeasible datasets of the sweep."""
    for seed in SWEEP:
        found = diagnosed(seed)
        if found is not None:
            yield (seed, *found)


def test_every_diagnosis_is_irreducible_as_lp_rows():
    """Keeping only the listed rows in the second formulation (other stages' material
    balances kept at demand 0) and dropping any one of them leaves a feasible LP."""
    failures = []
    for seed, data, _, keys in infeasible_seeds():
        failures += [f"seed {seed}: still infeasible without {key}" for key in keys
                     if not sf.solve(data, **as_lp_rows(
                         data, [k for k in keys if k != key])).optimal]
    assert not failures, "\n".join(failures)


def test_every_diagnosis_loses_infeasibility_when_any_row_is_dropped():
    """Of the listed rows alone, dropping any one (capacity → unlimited, minimum → 0,
    limit → removed, demand → 0) leaves a feasible plan. (A seed sweep.)"""
    failures = []
    for seed, data, _, keys in infeasible_seeds():
        for key in keys:
            relaxed = only(data, [k for k in keys if k != key])
            if not solve(relaxed).optimal or not sf.solve(relaxed).optimal:
                failures.append(f"seed {seed}: still infeasible without {key}")
    assert not failures, "\n".join(failures)


def tightest_rows(seed: int):
    """(dataset, key, reported row, feasible without the limit?) for each violated limit
    of an infeasible random dataset."""
    found = diagnosed(seed)
    if found is None:
        return []
    data, diagnosis, keys = found
    limits = [(c, k) for c, k in zip(diagnosis["conflicts"], keys, strict=True)
              if c["kind"] == "limit"]
    rows = []
    for row in diagnosis["limits"]:
        key = next(k for c, k in limits if c["name"] == f"{row['group']}:{row['stage']}"
                   and c["detail"].startswith(f"{row['bound']}_share"))
        rows.append((data, key, row, sf.solve(data, drop=[key]).optimal))
    return rows


@EXAMPLES
@given(seed=SEEDS)
def test_tightest_feasible_value_is_exactly_feasible(seed):
    """Where a plan exists without the violated limit (every other row as it is), the
    reported ``tightest_feasible`` is the edge: 1e-6 looser a plan exists, 1e-5 tighter
    none does."""
    for data, key, row, feasible_without in tightest_rows(seed):
        if not feasible_without:
            continue
        value = row["tightest_feasible"]
        assert value is not None, key
        sign = 1.0 if row["bound"] == "max" else -1.0
        outcome = sf.solve(data, share={key: value + sign * 1e-6})
        if outcome.status == sf.OTHER:
            # an infimum not attained (e.g. a contracted minimum diluted by buying ~1e6
            # times as much elsewhere): GLOP gives up on the extreme LP; 1e-4 looser
            outcome = sf.solve(data, share={key: value + sign * 1e-4})
        assert outcome.optimal, (key, value, outcome.status)
        tighter = value - 1e-5 if row["bound"] == "max" else value + 1e-5
        if 0.0 <= tighter <= 1.0:
            assert not sf.solve(data, share={key: tighter}).optimal, (key, value)


def test_tightest_feasible_is_null_when_no_plan_exists_without_the_limit():
    """(A seed sweep.)"""
    failures = [f"seed {seed} {key}: {row['tightest_feasible']!r}"
                for seed in SWEEP for _data, key, row, feasible_without in tightest_rows(seed)
                if not feasible_without and row["tightest_feasible"] is not None]
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- the diagnosis bugs, by hand

REDUCIBLE = Dataset(
    stages=(Stage("oxide", 0, 256.24),),
    offers=(Offer("ox_jp", "oxide", "s", "JP", 490.0, 58.423),
            Offer("ox_us", "oxide", "s", "US", 250.0), Offer("ox_au", "oxide", "s", "AU", 650.0)),
    countries=(Country("AU", zone_member=True), Country("US", zone_member=True),
               Country("JP")),
    limits=(Limit("zone", "oxide", max_share=0.653), Limit("AU", "oxide", min_share=0.319),
            Limit("each", "oxide", max_share=0.225)),
)
"""Shrunk from seed 5403957 (infeasible=0.6). Oxide comes from AU, US (zone) and JP.
Several sets of rows conflict on their own: {demand, AU max 22.5 %, AU min 31.9 %},
{demand, zone max 65.3 %, JP max 22.5 %}, {demand, AU, US and JP max 22.5 %}."""


def reported_keys(data: Dataset) -> list[tuple]:
    return conflict_keys(data, as_json(solve(data))["diagnosis"]["conflicts"])


def test_reducible_case_has_small_conflicts():
    au = [("demand", "oxide"), ("share", "AU", "oxide", "max", "volume", 0),
          ("share", "AU", "oxide", "min", "volume", 0)]
    zone = [("demand", "oxide"), ("share", "zone", "oxide", "max", "volume", 0),
            ("share", "JP", "oxide", "max", "volume", 0)]
    for keys in (au, zone):
        assert not sf.solve(REDUCIBLE, keep=keys).optimal
        for key in keys:
            assert sf.solve(REDUCIBLE, keep=[k for k in keys if k != key]).optimal


def test_diagnosis_lists_a_reducible_set():
    keys = reported_keys(REDUCIBLE)
    assert not sf.solve(REDUCIBLE, keep=keys).optimal
    still = [k for k in keys if not sf.solve(REDUCIBLE, keep=[x for x in keys if x != k]).optimal]
    assert not still, f"dropping any of {still} leaves the listed rows infeasible"


STARVED = Dataset(
    stages=(Stage("oxide", 0, 0.0), Stage("magnet", 1, 10.0)),
    offers=(Offer("ox_au", "oxide", "s", "AU", 100.0, 8.0),),
    processes=(Process("kr_magnet", "oxide", "magnet", 0.5, 50.0),),
)
"""10 t of magnets need 20 t of oxide through the only route (yield 0.5), and AU sells
8 t: magnet demand and AU's capacity conflict. Oxide has no demand of its own."""


def test_diagnosis_does_not_blame_a_zero_demand():
    conflicts = as_json(solve(STARVED))["diagnosis"]["conflicts"]
    assert {(c["kind"], c["name"]) for c in conflicts} >= {("demand", "magnet"),
                                                           ("capacity", "ox_au")}
    assert ("demand", "oxide") not in {(c["kind"], c["name"]) for c in conflicts}


TWO_STAGES = Dataset(
    stages=(Stage("ore", 0, 10.0), Stage("oxide", 1, 10.0)),
    offers=(Offer("ore_au", "ore", "s", "AU", 10.0), Offer("ore_cn", "ore", "s", "CN", 8.0),
            Offer("ox_au", "oxide", "s", "AU", 50.0), Offer("ox_cn", "oxide", "s", "CN", 40.0)),
    limits=(Limit("CN", "*", max_share=0.0), Limit("AU", "*", max_share=0.5)),
)
"""CN at most 0 % and AU at most 50 % of every stage: both ore and oxide are short of
50 %. Loosening one stage's caps alone cannot give a plan: the other stage's still
conflict."""


def test_two_stages_each_conflict_alone():
    for stage in ("ore", "oxide"):
        for group in ("CN", "AU"):
            assert not sf.solve(TWO_STAGES,
                                drop=[("share", group, stage, "max", "volume", 0)]).optimal


def test_tightest_feasible_is_null_when_another_stage_still_conflicts():
    limits = as_json(solve(TWO_STAGES))["diagnosis"]["limits"]
    assert limits
    assert [r["tightest_feasible"] for r in limits] == [None] * len(limits)


# ---------------------------------------------------------------- embedded scope

def buyer_outside(data: Dataset, group: str) -> bool:
    countries = {c.country: c for c in data.countries}
    return not in_group(group, data.buyer, countries)


def as_embedded(data: Dataset, pick: int) -> Dataset:
    """One of the dataset's limits (by ``pick``) moved to embedded scope."""
    limits = list(data.limits)
    if limits:
        i = pick % len(limits)
        limits[i] = replace(limits[i], scope=Scope.EMBEDDED)
    return replace(data, limits=tuple(limits))


@given(seed=SEEDS, pick=PICK)
@EXAMPLES
def test_embedded_share_is_at_least_the_direct_share_without_content(seed, pick):
    """Without ``content``, an import's origin is its seller's country and domestic
    output is traced back to imports: for a group without the buyer, the embedded
    share of every stage (mixed pool or the plan's own segregated split) is at least
    the direct share."""
    data = as_embedded(random_dataset(seed, infeasible=0.0), pick)
    assert not data.content
    result = solve(data, sensitivity=True)
    if not result.optimal:
        return
    out = as_json(result)
    for row in out["direct_and_embedded"]:
        if buyer_outside(data, row["group"]):
            assert row["embedded_share"] >= row["direct_share"] - 1e-7, row
    direct = {(r["group"], r["stage"], r["basis"]): r["share"] for r in out["shares"]
              if r["scope"] == "direct"}
    for r in out["shares"]:
        if r["scope"] == "embedded" and buyer_outside(data, r["group"]) and (
                key := (r["group"], r["stage"], r["basis"])) in direct:
            assert r["share"] >= direct[key] - 1e-7, r


@given(seed=SEEDS, pick=PICK)
@EXAMPLES
def test_embedded_cap_costs_at_least_the_direct_cap_without_content(seed, pick):
    """The same max share on a group without the buyer, counted by origin instead of by
    seller, can only cost more (or become infeasible): the embedded share is larger."""
    data = random_dataset(seed, infeasible=0.0)
    caps = [i for i, limit in enumerate(data.limits)
            if limit.max_share is not None and limit.min_share is None
            and limit.group != "each" and buyer_outside(data, limit.group)]
    if not caps:
        return
    base, embedded = cost(data), cost(as_embedded(data, caps[pick % len(caps)]))
    if math.isinf(base):
        assert math.isinf(embedded)
    else:
        assert embedded >= base - REL * max(1.0, abs(base))
