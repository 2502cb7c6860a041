"""Shadow prices checked by re-solving with the right-hand side or the share moved.

Each reported rate must equal the finite difference of the optimal cost:

- demand ``usd_per_t`` = (cost(d + h) − cost(d)) / h;
- capacity ``usd_per_t`` = −(cost(cap + h) − cost(cap)) / h;
- limit ``usd_per_pp`` = (cost(σ tightened by h) − cost(σ)) / (100·h);

and each reported range must be where that rate holds: just inside it the cost
moves as the rate says, just outside it the rate is different. Degenerate optima
must say ``unique: false`` and give one-sided rates that match one-sided
re-solves. Hand values are derived in the docstrings of the cases.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from planner.models.data import Basis, Dataset, Limit, Offer, Process, Stage

from planner.analysis.scenarios import CapOverride, apply_caps, set_share
from planner.solving.engine import solve_plan

H_RHS = 1e-3       # demand / capacity step, relative to the right-hand side
H_SHARE = 1e-6     # share step (fraction)
INSIDE = 1e-6      # distance inside a range end
OUTSIDE = 1e-3     # distance beyond a range end


def near(expected, rel: float = 1e-6, abs_: float = 1e-6):
    return pytest.approx(expected, rel=rel, abs=abs_)


def offer(name: str, stage: str, country: str, price: float,
          capacity: float | None = None) -> Offer:
    return Offer(name, stage, f"supplier {name}", country, price, capacity)


# ---------------------------------------------------------------- cases

MERIT = Dataset(
    stages=(Stage("ore", 0, 100.0),),
    offers=(offer("ore_cn", "ore", "CN", 10.0, 40.0), offer("ore_au", "ore", "AU", 20.0, 30.0),
            offer("ore_us", "ore", "US", 30.0, 50.0), offer("ore_jp", "ore", "JP", 45.0)),
)
"""Merit order CN 40 t, AU 30 t, US 30 t of 50: demand dual 30 on [70, 120]."""

CHAIN = Dataset(
    stages=(Stage("oxide", 0, 10.0), Stage("metal", 1, 20.0)),
    offers=(offer("ox_cn", "oxide", "CN", 100.0), offer("ox_au", "oxide", "AU", 150.0),
            offer("mt_cn", "metal", "CN", 400.0), offer("mt_jp", "metal", "JP", 450.0)),
    processes=(Process("kr_metal", "oxide", "metal", 0.8, 50.0, 15.0),),
)
"""Process (route 100/0.8 + 50 = 175) at its 15 t capacity: duals oxide 100, metal 400,
process capacity 225; metal demand range [15, ∞)."""

SHARES = Dataset(
    stages=(Stage("oxide", 0, 100.0),),
    offers=(offer("ox_cn", "oxide", "CN", 50.0), offer("ox_au", "oxide", "AU", 80.0),
            offer("ox_jp", "oxide", "JP", 90.0), offer("ox_us", "oxide", "US", 100.0)),
    limits=(Limit("CN", "oxide", max_share=0.6), Limit("JP", "oxide", min_share=0.1)),
)
"""Fixed total 100 t: CN 60 (≤ 60 %), JP 10 (≥ 10 %), AU 30. CN cap 30 USD/pp on
σ ∈ [0, 0.9]; JP floor 10 USD/pp on σ ∈ [0, 0.4]; demand dual 63."""

EACH = Dataset(
    stages=(Stage("ore", 0, 10.0),),
    offers=(offer("ore_cn", "ore", "CN", 10.0), offer("ore_au", "ore", "AU", 20.0, 3.0),
            offer("ore_br", "ore", "BR", 30.0), offer("ore_ru", "ore", "RU", 40.0)),
    limits=(Limit("each", "ore", max_share=0.5),),
)
"""CN 5 t (50 %), AU 3 t (full), BR 2 t: CN row 2 USD/pp on [0.2, 0.7] (below 0.2 BR's
own 50 % row binds and RU takes over: 0.1 t · (40 − 10) = 3 USD/pp; above 0.7 BR is
gone and CN displaces AU, whose capacity goes slack: 0.1 t · (20 − 10) = 1 USD/pp)."""

FRACTIONAL = Dataset(
    stages=(Stage("oxide", 0, 2.0), Stage("magnet", 1, 10.0)),
    offers=(offer("ox_cn", "oxide", "CN", 50.0), offer("ox_au", "oxide", "AU", 100.0, 6.0),
            offer("mg_jp", "magnet", "JP", 400.0)),
    processes=(Process("kr_magnet", "oxide", "magnet", 0.5, 100.0),),
    limits=(Limit("CN", "oxide", max_share=0.4),),
)
"""Oxide supply is capped by CN ≤ σ of it and AU ≤ 6 t, and all of it is worth using:
the domestic route (2 t oxide at ≤ 100 + 100) beats JP magnets (400). So
T = 6/(1 − σ) t of oxide, CN = 6σ/(1 − σ), process z = (T − 2)/2, JP = 10 − z;
the stage total itself moves with σ (linear-fractional cost):

    cost(σ) = 50·6σ/(1−σ) + 600 + 100·z + 400·(10 − z) = 4,900 + (300σ − 900)/(1 − σ)
    d cost/dσ = −600/(1 − σ)²   →   usd_per_pp(σ) = 6/(1 − σ)²  (16.667 at σ = 0.4)

At σ = 0.4: T = 10, CN 4, AU 6, z = 4, JP 6, cost 3,600. Duals: magnet 400 (JP);
oxide 150 (oxide is fixed by the caps: one more t of oxide demand takes 0.5 t of
process output, replaced by JP: 0.5·(400 − 100)); AU capacity: one more t of AU
lets 1/(1−σ) t more oxide in, σ/(1−σ) of it CN, half of it becomes magnet replacing
JP: 100 + 50·σ/(1−σ) − 300/(2(1−σ)) = −350/3 → value 116.667.
Range: z ≤ 10 ⇔ 3/(1−σ) ≤ 11 ⇔ σ ≤ 8/11; CN ≥ 0 ⇔ σ ≥ 0. Beyond 8/11 all magnets
are made at home, T = 22 t is fixed and CN displaces AU: 22·50/100 = 11 USD/pp.
Demand ranges: magnet JP = d − 4 ≥ 0 → [4, ∞); oxide z = (10 − d)/2 ∈ [0, 10] → [−10, 10].
"""

VALUE = Dataset(
    stages=(Stage("metal", 0, 10.0),),
    offers=(offer("mt_cn", "metal", "CN", 100.0), offer("mt_au", "metal", "AU", 300.0)),
    limits=(Limit("CN", "metal", max_share=0.25, basis=Basis.VALUE),),
)
"""CN ≤ 25 % of the value: cn = 30σ/(1 + 2σ), cost(σ) = 3,000 − 6,000σ/(1 + 2σ),
usd_per_pp(σ) = 60/(1 + 2σ)² (26.667 at 0.25) on σ ∈ [0, 1]; demand dual 200."""


def fractional_cost(share: float) -> float:
    return 4900.0 + (300.0 * share - 900.0) / (1.0 - share)


def value_cost(share: float) -> float:
    return 3000.0 - 6000.0 * share / (1.0 + 2.0 * share)


CASES = {"merit": MERIT, "chain": CHAIN, "shares": SHARES, "each": EACH,
         "fractional": FRACTIONAL, "value": VALUE}


# ---------------------------------------------------------------- moving one input

def with_demand(data: Dataset, stage: str, demand: float) -> Dataset:
    return replace(data, stages=tuple(replace(s, demand_t=demand) if s.stage == stage else s
                                      for s in data.stages))


def with_capacity(data: Dataset, name: str, capacity: float) -> Dataset:
    return replace(
        data,
        offers=tuple(replace(o, capacity_t=capacity) if o.offer == name else o
                     for o in data.offers),
        processes=tuple(replace(p, capacity_t=capacity) if p.process == name else p
                        for p in data.processes))


def with_share(data: Dataset, row: dict, share: float) -> Dataset:
    """The dataset with one reported limit row's share moved, every other row unchanged.

    Volume basis: ``apply_caps`` (``--cap``) for a max share, ``set_share`` for a min
    share, after an ``each`` limit is rebuilt as one Limit record per supplying
    country. Value basis: the matching Limit record is rebuilt with the new share.
    """
    group, stage, bound = row["group"], row["stage"], row["bound"]
    limits: list[Limit] = []
    for lim in data.limits:
        if lim.group == "each":
            limits += [replace(lim, group=c) for c in
                       sorted({o.country for o in data.offers if o.stage == lim.stage})]
        elif row["basis"] == "value" and (lim.group, lim.stage, lim.basis.value) == (
                group, stage, "value"):
            limits.append(replace(lim, **{f"{bound}_share": share}))
        else:
            limits.append(lim)
    data = replace(data, limits=tuple(limits))
    if row["basis"] == "value":
        return data
    if bound == "max":
        return apply_caps(data, [CapOverride(group, stage, share)])
    return set_share(data, group, stage, "min_share", share, "test")


def tighter(row: dict, step: float) -> float:
    return row["limit"] - step if row["bound"] == "max" else row["limit"] + step


# ---------------------------------------------------------------- (i), (ii), (iii)

@pytest.mark.parametrize("name", CASES)
def test_demand_dual_is_the_cost_of_one_more_tonne(name, solve, cost):
    data = CASES[name]
    plan = solve(data)
    base = plan.objective
    for stage in data.stages:
        row = plan.table("demand", key="stage")[stage.stage]
        h = H_RHS * stage.demand_t
        up = (cost(with_demand(data, stage.stage, stage.demand_t + h)) - base) / h
        down = (base - cost(with_demand(data, stage.stage, stage.demand_t - h))) / h
        assert row["unique"] is True, stage.stage
        assert (up, down) == near((row["usd_per_t"], row["usd_per_t"])), stage.stage


HAND_DEMAND = {"merit": {"ore": 30.0}, "chain": {"oxide": 100.0, "metal": 400.0},
               "shares": {"oxide": 63.0}, "each": {"ore": 20.0},
               "fractional": {"oxide": 150.0, "magnet": 400.0}, "value": {"metal": 200.0}}


@pytest.mark.parametrize("name", CASES)
def test_demand_duals_match_hand_values(name, solve):
    assert solve(CASES[name]).demand() == near(HAND_DEMAND[name])


@pytest.mark.parametrize("name", ["merit", "chain", "each", "fractional"])
def test_capacity_value_is_the_saving_of_one_more_tonne(name, solve, cost):
    data = CASES[name]
    plan = solve(data)
    base = plan.objective
    rows = {**plan.table("capacity"), **plan.table("process_capacity", key="process")}
    records = {o.offer: o.capacity_t for o in data.offers if o.capacity_t is not None}
    records |= {p.process: p.capacity_t for p in data.processes if p.capacity_t is not None}
    assert set(rows) == set(records)
    for key, capacity in records.items():
        h = H_RHS * capacity
        more = -(cost(with_capacity(data, key, capacity + h)) - base) / h
        less = -(base - cost(with_capacity(data, key, capacity - h))) / h
        assert rows[key]["unique"] is True, key
        assert (more, less) == near((rows[key]["usd_per_t"],) * 2), key


def test_capacity_values_match_hand_values(solve):
    assert solve(MERIT).values("capacity") == near({"ore_cn": 20.0, "ore_au": 10.0,
                                                    "ore_us": 0.0})
    assert solve(CHAIN).values("process_capacity", key="process") == near({"kr_metal": 225.0})
    assert solve(FRACTIONAL).values("capacity") == near({"ox_au": 350.0 / 3.0})


@pytest.mark.parametrize("name", ["shares", "each", "fractional", "value"])
def test_limit_rate_is_the_cost_of_one_point_tighter(name, solve, cost):
    data = CASES[name]
    plan = solve(data)
    binding = [r for r in plan.prices["limits"] if r["binding"]]
    assert binding
    for row in binding:
        moved = cost(with_share(data, row, tighter(row, H_SHARE)))
        rate = (moved - plan.objective) / (100.0 * H_SHARE)
        assert rate == near(row["usd_per_pp"], rel=1e-4), (row["group"], row["stage"])
        assert row["usd_per_pp"] > 0


def test_limit_rates_match_hand_values(solve):
    shares = solve(SHARES)
    assert shares.limit("CN", "oxide", "max")["usd_per_pp"] == near(30.0)
    assert shares.limit("JP", "oxide", "min")["usd_per_pp"] == near(10.0)
    assert solve(EACH).limit("CN", "ore")["usd_per_pp"] == near(2.0)
    assert solve(FRACTIONAL).limit("CN", "oxide")["usd_per_pp"] == near(6.0 / 0.36)
    assert solve(VALUE).limit("CN", "metal")["usd_per_pp"] == near(60.0 / 2.25)


# ---------------------------------------------------------------- (iv) ranging

# (case, stage, hand range, hand rate just below / just above it; None: not checked,
#  the end being the domain bound 0 or ∞; INFEASIBLE: no plan beyond it)
INFEASIBLE = "infeasible"
DEMAND_RANGES = [
    ("merit", "ore", (70.0, 120.0), (20.0, 45.0)),   # AU marginal below, JP above
    ("chain", "metal", (15.0, None), (175.0, None)),  # the process is marginal below
    # below 4 t of magnets JP drops out; oxide is no longer capped: 2·(0.4·50 + 0.6·100) + 100
    ("fractional", "magnet", (4.0, None), (260.0, None)),
    # above 10 t the oxide demand exceeds what the caps let in (T = 6/(1 − 0.4) = 10)
    ("fractional", "oxide", (-10.0, 10.0), (None, INFEASIBLE)),
]


def cost_or_infeasible(data: Dataset) -> float | str:
    result = solve_plan(data, sensitivity=False)
    if result.optimal:
        return float(result.solution.objective)
    assert result.status.value == INFEASIBLE
    return INFEASIBLE


@pytest.mark.parametrize(("name", "stage", "hand", "beyond"), DEMAND_RANGES,
                         ids=[f"{c[0]}-{c[1]}" for c in DEMAND_RANGES])
def test_demand_range_is_where_the_dual_holds(name, stage, hand, beyond, solve, cost):
    """Inside the range the cost is linear with the same dual; just outside it is not."""
    data = CASES[name]
    plan = solve(data)
    row = plan.table("demand", key="stage")[stage]
    low, high = hand
    # below 0 t the basis range is outside the domain: accept it clipped to 0 or not
    assert row["valid_from"] in ([near(low)] if low >= 0 else [near(low), near(0.0)])
    assert row["valid_to"] == (None if high is None else near(high))
    dual, demand = row["usd_per_t"], row["demand_t"]
    ends = [max(low, 0.0) + INSIDE, (high if high is not None else 10.0 * demand) - INSIDE]
    for inside in ends:
        moved = with_demand(data, stage, inside)
        assert cost(moved) == near(plan.objective + dual * (inside - demand)), inside
        assert solve(moved).demand()[stage] == near(dual), inside
    for edge, step, rate in ((low, -OUTSIDE, beyond[0]), (high, OUTSIDE, beyond[1])):
        if rate is None:
            continue
        moved = cost_or_infeasible(with_demand(data, stage, edge + step))
        if rate == INFEASIBLE:
            assert moved == INFEASIBLE
            continue
        slope = (moved - cost(with_demand(data, stage, edge))) / step
        assert slope == near(rate), edge
        assert abs(slope - dual) > 1e-3 * max(1.0, abs(dual)), edge


# (case, group, stage, bound, hand range, rate just below / above the range, USD/pp;
#  None where the range end is a domain bound 0 or 1)
LIMIT_RANGES = [
    ("shares", "CN", "oxide", "max", (0.0, 0.9), (None, 0.0)),
    ("shares", "JP", "oxide", "min", (0.0, 0.4), (None, 40.0)),
    ("each", "CN", "ore", "max", (0.2, 0.7), (3.0, 1.0)),
    ("fractional", "CN", "oxide", "max", (0.0, 8.0 / 11.0), (None, 11.0)),
    ("value", "CN", "metal", "max", (0.0, 1.0), (None, None)),
]
SHARE_COST = {"fractional": (fractional_cost, lambda s: 6.0 / (1.0 - s) ** 2),
              "value": (value_cost, lambda s: 60.0 / (1.0 + 2.0 * s) ** 2)}


@pytest.mark.parametrize(("name", "group", "stage", "bound", "hand", "beyond"), LIMIT_RANGES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in LIMIT_RANGES])
def test_limit_range_is_where_the_rate_holds(name, group, stage, bound, hand, beyond,
                                             solve, cost):
    """Inside [valid_from, valid_to] the cost follows the rate's formula: linear in σ for
    a fixed stage total, the hand linear-fractional curve otherwise; the rate re-read
    at the moved share is the formula's. Just outside, the re-read rate is different."""
    data = CASES[name]
    plan = solve(data)
    row = plan.limit(group, stage, bound)
    assert (row["valid_from"], row["valid_to"]) == near(hand)
    share, per_pp = row["limit"], row["usd_per_pp"]
    sign = -1.0 if bound == "max" else 1.0   # d cost/dσ = sign · 100 · usd_per_pp
    for inside in (hand[0] + INSIDE, hand[1] - INSIDE):
        moved = with_share(data, row, inside)
        if name in SHARE_COST:
            curve, rate = SHARE_COST[name]
            expected_cost, expected_rate = curve(inside), rate(inside)
        else:
            expected_cost = plan.objective + sign * 100.0 * per_pp * (inside - share)
            expected_rate = per_pp
        assert cost(moved) == near(expected_cost), inside
        assert solve(moved).limit(group, stage, bound)["usd_per_pp"] == near(
            expected_rate, rel=1e-5), inside
    for edge, step, rate in ((hand[0], -OUTSIDE, beyond[0]), (hand[1], OUTSIDE, beyond[1])):
        if rate is None:
            continue
        moved = solve(with_share(data, row, edge + step)).limit(group, stage, bound)
        assert moved["usd_per_pp"] == near(rate), edge + step
        assert abs(moved["usd_per_pp"] - per_pp) > 1e-3


def test_fractional_limit_follows_the_curve_not_a_line(solve, cost):
    """The linear-fractional case really is curved: over the range the cost leaves the
    tangent line dual·T·Δσ by far more than round-off (sanity check of the case)."""
    plan = solve(FRACTIONAL)
    per_pp = plan.limit("CN", "oxide")["usd_per_pp"]
    moved = cost(apply_caps(FRACTIONAL, [CapOverride("CN", "oxide", 0.7)]))
    assert moved == near(fractional_cost(0.7))
    assert abs(moved - (plan.objective - 100.0 * per_pp * 0.3)) > 10.0


# ---------------------------------------------------------------- (v) degenerate optima

DEGENERATE_DEMAND = Dataset(
    stages=(Stage("ore", 0, 10.0),),
    offers=(offer("ore_cn", "ore", "CN", 10.0, 10.0), offer("ore_au", "ore", "AU", 20.0)),
)
"""Demand 10 t exactly equals CN's capacity: AU (20) is used only for more demand.
Demand: 10 USD/t for less, 20 USD/t for more. CN capacity: worth 10 USD/t when it
shrinks (AU replaces it), 0 when it grows (nothing more to buy)."""

DEGENERATE_LIMIT = Dataset(
    stages=(Stage("oxide", 0, 10.0),),
    offers=(offer("ox_cn", "oxide", "CN", 50.0), offer("ox_au", "oxide", "AU", 100.0, 5.0),
            offer("ox_jp", "oxide", "JP", 150.0)),
    limits=(Limit("CN", "oxide", max_share=0.5),),
)
"""CN ≤ 50 % of 10 t and AU's 5 t capacity both bind at CN 5, AU 5 (JP at 0).
One pp tighter: 0.1 t CN → JP: 10 USD/pp. One pp looser: 0.1 t AU → CN: saves 5.
Demand: +1 t goes half CN, half JP: 100; −1 t drops half CN, half AU: 75.
AU capacity: −1 t is replaced by JP: worth 50; +1 t is not used (CN fills its 50 %): 0."""

WEAKLY_BINDING = Dataset(
    stages=(Stage("oxide", 0, 10.0),),
    offers=(offer("ox_cn", "oxide", "CN", 50.0, 5.0), offer("ox_au", "oxide", "AU", 100.0)),
    limits=(Limit("CN", "oxide", max_share=0.5),),
)
"""CN's 5 t capacity puts CN exactly at its 50 % cap. Looser: CN cannot sell more, 0.
Tighter by one pp: 0.1 t CN → AU, +5 USD. The limit's dual is not unique ([−10, 0]
per t of allowance)."""


def one_sided(base: float, lower: float, upper: float, h: float) -> tuple[float, float]:
    """(d cost/d rhs going down, going up)."""
    return (base - lower) / h, (upper - base) / h


def test_degenerate_demand_and_capacity(solve, cost):
    plan = solve(DEGENERATE_DEMAND)
    h = H_RHS * 10.0
    demand = plan.table("demand", key="stage")["ore"]
    down, up = one_sided(plan.objective, cost(with_demand(DEGENERATE_DEMAND, "ore", 10.0 - h)),
                         cost(with_demand(DEGENERATE_DEMAND, "ore", 10.0 + h)), h)
    assert (down, up) == near((10.0, 20.0))
    assert demand["unique"] is False
    assert (demand["usd_per_t_down"], demand["usd_per_t_up"]) == near((down, up))
    assert demand["usd_per_t"] == near(up)        # headline: one MORE tonne of demand
    capacity = plan.table("capacity")["ore_cn"]
    down, up = one_sided(plan.objective,
                         cost(with_capacity(DEGENERATE_DEMAND, "ore_cn", 10.0 - h)),
                         cost(with_capacity(DEGENERATE_DEMAND, "ore_cn", 10.0 + h)), h)
    assert (-down, -up) == near((10.0, 0.0))   # value of capacity = −d cost/d cap
    assert capacity["unique"] is False
    assert (capacity["usd_per_t_down"], capacity["usd_per_t_up"]) == near((-down, -up))
    assert capacity["usd_per_t"] == near(-up)     # headline: one MORE tonne of capacity


def test_degenerate_limit_and_demand(solve, cost):
    plan = solve(DEGENERATE_LIMIT)
    limit = plan.limit("CN", "oxide")
    tight = cost(with_share(DEGENERATE_LIMIT, limit, 0.5 - H_SHARE))
    loose = cost(with_share(DEGENERATE_LIMIT, limit, 0.5 + H_SHARE))
    tighter_pp = (tight - plan.objective) / (100 * H_SHARE)
    looser_pp = (plan.objective - loose) / (100 * H_SHARE)
    assert (tighter_pp, looser_pp) == near((10.0, 5.0), rel=1e-4)
    assert limit["binding"] is True
    assert limit["unique"] is False
    assert (limit["usd_per_pp_tighter"], limit["usd_per_pp_looser"]) == near(
        (tighter_pp, looser_pp), rel=1e-4)
    assert limit["usd_per_pp"] == near(tighter_pp, rel=1e-4)   # headline: one pp TIGHTER
    h = H_RHS * 10.0
    demand = plan.table("demand", key="stage")["oxide"]
    down, up = one_sided(plan.objective,
                         cost(with_demand(DEGENERATE_LIMIT, "oxide", 10.0 - h)),
                         cost(with_demand(DEGENERATE_LIMIT, "oxide", 10.0 + h)), h)
    assert (down, up) == near((75.0, 100.0))
    assert demand["unique"] is False
    assert (demand["usd_per_t_down"], demand["usd_per_t_up"]) == near((down, up))


def test_degenerate_capacity_basic_at_its_bound(solve, cost):
    """AU's capacity row can come back BASIC at its bound (the limit row carries the
    degeneracy): it must not be read as slack (rate 0, unique, range [activity, ∞)).
    Found in a56ed28/af2d041, where it was reported ``unique: true`` at 0 USD/t."""
    plan = solve(DEGENERATE_LIMIT)
    h = H_RHS * 5.0
    down, up = one_sided(plan.objective,
                         cost(with_capacity(DEGENERATE_LIMIT, "ox_au", 5.0 - h)),
                         cost(with_capacity(DEGENERATE_LIMIT, "ox_au", 5.0 + h)), h)
    assert (-down, -up) == near((50.0, 0.0))
    capacity = plan.table("capacity")["ox_au"]
    assert capacity["unique"] is False
    assert (capacity["usd_per_t_down"], capacity["usd_per_t_up"]) == near((-down, -up))


def test_weakly_binding_limit_is_not_reported_as_free(solve, cost):
    """HiGHS returns the limit's dual as 0 here; a limit that holds with equality must
    still be ranged. Found in 7c31072..af2d041, where ``engine._analyse`` skipped rows
    with dual 0 and reported binding false, unique true, 0 USD/pp."""
    plan = solve(WEAKLY_BINDING)
    limit = plan.limit("CN", "oxide")
    tight = cost(with_share(WEAKLY_BINDING, limit, 0.5 - H_SHARE))
    loose = cost(with_share(WEAKLY_BINDING, limit, 0.5 + H_SHARE))
    tighter_pp = (tight - plan.objective) / (100 * H_SHARE)
    looser_pp = (plan.objective - loose) / (100 * H_SHARE)
    assert (tighter_pp, looser_pp) == near((5.0, 0.0), rel=1e-4)
    assert limit["share"] == near(0.5)
    assert limit["binding"] is True
    assert limit["unique"] is False
    assert (limit["usd_per_pp_tighter"], limit["usd_per_pp_looser"]) == near(
        (tighter_pp, looser_pp), rel=1e-4)
    assert limit["usd_per_pp"] == near(tighter_pp, rel=1e-4)
