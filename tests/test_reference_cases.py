"""Hand-solved reference cases (cvxpy style): expected primal AND dual values.

Every expected number below comes from the derivation in the test's docstring,
never from running the planner. Each case is built directly as ``Dataset``
records and read back through ``as_json(solve_plan(data))`` (the JSON the CLI
prints), so the tests pin the report's units and sign conventions:

- demand ``usd_per_t``: cost of one more t of final demand (> 0);
- capacity ``usd_per_t``: saving from one more t of capacity (≥ 0);
- minimum ``usd_per_t``: cost of the last t of a contracted minimum (≥ 0);
- limit ``usd_per_pp``: cost of tightening a share limit by one percentage point (≥ 0);
- reduced costs: how far an unused offer's landed cost must fall before it is used.

Buyer KR, zone observer and no tariffs unless a case says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from plan_json import as_json
from planner.models.data import (
    Basis,
    Country,
    Dataset,
    Limit,
    Offer,
    Process,
    Stage,
    TariffRule,
    ZoneStatus,
)

from planner.solving.engine import solve_plan


def near(expected, rel: float = 1e-6, abs_: float = 1e-6):
    """``pytest.approx`` at the tolerance of hand-derived values (solver round-off only)."""
    return pytest.approx(expected, rel=rel, abs=abs_)


def offer(name: str, stage: str, country: str, price: float, capacity: float | None = None,
          min_t: float = 0.0, freight: float = 0.0) -> Offer:
    return Offer(name, stage, f"supplier {name}", country, price, capacity, min_t, freight)


# ---------------------------------------------------------------- (a) merit order

MERIT = Dataset(
    stages=(Stage("ore", 0, 100.0),),
    offers=(offer("ore_cn", "ore", "CN", 10.0, capacity=40.0),
            offer("ore_au", "ore", "AU", 18.0, capacity=30.0, freight=2.0),
            offer("ore_us", "ore", "US", 30.0, capacity=50.0),
            offer("ore_jp", "ore", "JP", 45.0)),
)


def test_merit_order_with_capacities(solve):
    """One stage, demand 100 t. Landed costs: CN 10, AU 18 + 2 freight = 20, US 30, JP 45.

    Merit order: CN 40 t (full), AU 30 t (full), US the remaining 30 t of its 50 t;
    JP unused. Objective 40·10 + 30·20 + 30·30 = 1,900.
    US is the marginal supplier: demand dual 30 USD/t.
    Capacity values = price difference to the marginal supplier:
    CN 30 − 10 = 20, AU 30 − 20 = 10, US 0 (20 t slack).
    Reduced cost of JP: 45 − 30 = 15.
    Ranges (basis: CN, AU at capacity, US basic): US = d − 70 ∈ [0, 50] so demand
    ∈ [70, 120]; US = 70 − cap_CN ∈ [0, 50] so cap_CN ∈ [20, 70]; likewise
    cap_AU ∈ [10, 60]. US's own capacity row is slack: its rate 0 holds while it stays
    slack, cap_US ∈ [30, ∞) (at cap_US = 20 JP would replace 10 t of US: value 15).
    """
    plan = solve(MERIT)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(1900.0)
    assert plan.tonnes() == near({"ore_cn": 40.0, "ore_au": 30.0, "ore_us": 30.0})
    assert plan.purchase("ore_au")["landed_usd_per_t"] == near(20.0)
    assert plan.demand() == near({"ore": 30.0})
    assert plan.values("capacity") == near({"ore_cn": 20.0, "ore_au": 10.0, "ore_us": 0.0})
    assert plan.reduced_costs() == near({"ore_jp": 15.0})
    demand = plan.table("demand", key="stage")["ore"]
    assert (demand["valid_from"], demand["valid_to"]) == near((70.0, 120.0))
    assert demand["unique"] is True
    capacity = plan.table("capacity")
    assert (capacity["ore_cn"]["valid_from"], capacity["ore_cn"]["valid_to"]) == near((20, 70))
    assert (capacity["ore_au"]["valid_from"], capacity["ore_au"]["valid_to"]) == near((10, 60))
    assert capacity["ore_us"]["valid_from"] == near(30.0)
    assert capacity["ore_us"]["valid_to"] is None
    assert plan.prices["minimum"] == []
    assert plan.prices["limits"] == []


# ---------------------------------------------------------------- (b) minimum contract

MINIMUM = Dataset(
    stages=(Stage("oxide", 0, 50.0),),
    offers=(offer("ox_cn", "oxide", "CN", 40.0, min_t=5.0),
            offer("ox_au", "oxide", "AU", 70.0, min_t=10.0),
            offer("ox_jp", "oxide", "JP", 60.0)),
)


def test_minimum_contract_above_merit_order(solve):
    """Oxide demand 50 t. CN 40 (min 5 t), AU 70 (min 10 t), JP 60; all unlimited.

    Without the contract the plan buys only CN. AU's 10 t minimum is forced in
    above the merit order; CN covers the other 40 t (its own 5 t minimum is slack).
    Objective 40·40 + 10·70 = 2,300. Demand dual 40 (CN marginal).
    Minimum duals: AU 70 − 40 = 30 USD per t of contracted minimum; CN 0.
    Reduced cost of JP: 60 − 40 = 20.
    Ranges: CN = d − 10 must stay ≥ its own 5 t minimum, so demand ∈ [15, ∞);
    CN = 50 − min_AU ≥ 5 and AU = min_AU ≥ 0, so the AU minimum ∈ [0, 45].
    CN's slack minimum keeps its rate 0 while min_CN ≤ 40 t (what the plan buys).
    """
    plan = solve(MINIMUM)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(2300.0)
    assert plan.tonnes() == near({"ox_cn": 40.0, "ox_au": 10.0})
    assert plan.demand() == near({"oxide": 40.0})
    assert plan.values("minimum") == near({"ox_au": 30.0, "ox_cn": 0.0})
    assert plan.reduced_costs() == near({"ox_jp": 20.0})
    assert plan.prices["capacity"] == []
    demand = plan.table("demand", key="stage")["oxide"]
    assert demand["valid_from"] == near(15.0)
    assert demand["valid_to"] is None
    minimum = plan.table("minimum")["ox_au"]
    assert (minimum["valid_from"], minimum["valid_to"]) == near((0.0, 45.0))
    slack = plan.table("minimum")["ox_cn"]
    assert slack["valid_from"] is None
    assert slack["valid_to"] == near(40.0)


# ---------------------------------------------------------------- (c) two-stage chain

def chain(metal_demand: float) -> Dataset:
    """Oxide (demand 10 t) → metal; a Korean process with yield 0.8 and capacity 15 t."""
    return Dataset(
        stages=(Stage("oxide", 0, 10.0), Stage("metal", 1, metal_demand)),
        offers=(offer("ox_cn", "oxide", "CN", 100.0),
                offer("ox_au", "oxide", "AU", 150.0),
                offer("mt_cn", "metal", "CN", 400.0),
                offer("mt_jp", "metal", "JP", 450.0)),
        processes=(Process("kr_metal", "oxide", "metal", 0.8, 50.0, 15.0),),
    )


def test_chain_process_at_capacity(solve):
    """Metal demand 20 t. Oxide dual 100 (CN oxide, unlimited, marginal).

    Domestic route per t of metal: 1/0.8 t oxide · 100 + 50 = 175 < 400 (CN metal),
    so the process runs at its 15 t capacity; CN metal supplies the other 5 t.
    Oxide bought: 10 t demand + 15/0.8 = 18.75 t input = 28.75 t from CN.
    Objective 28.75·100 + 15·50 + 5·400 = 2,875 + 750 + 2,000 = 5,625.
    Demand duals: oxide 100; metal 400 (CN metal marginal).
    Process capacity value: 400 − 175 = 225 USD per t of extra capacity.
    Reduced costs: AU oxide 150 − 100 = 50, JP metal 450 − 400 = 50.
    Ranges: CN metal = d − 15 ≥ 0 so metal demand ∈ [15, ∞); the process
    capacity ∈ [0, 20] (CN metal = 20 − cap ≥ 0).
    """
    plan = solve(chain(20.0))
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(5625.0)
    assert plan.tonnes() == near({"ox_cn": 28.75, "mt_cn": 5.0})
    assert plan.production() == near({"kr_metal": 15.0})
    assert plan.demand() == near({"oxide": 100.0, "metal": 400.0})
    assert plan.values("process_capacity", key="process") == near({"kr_metal": 225.0})
    assert plan.reduced_costs() == near({"ox_au": 50.0, "mt_jp": 50.0})
    metal = plan.table("demand", key="stage")["metal"]
    assert metal["valid_from"] == near(15.0)
    assert metal["valid_to"] is None
    process = plan.table("process_capacity", key="process")["kr_metal"]
    assert (process["valid_from"], process["valid_to"]) == near((0.0, 20.0))


def test_chain_process_marginal(solve):
    """Metal demand 12 t < capacity 15 t: the domestic process is the marginal source.

    Process makes all 12 t of metal from 12/0.8 = 15 t of CN oxide; oxide bought
    10 + 15 = 25 t. Objective 25·100 + 12·50 = 3,100.
    Demand duals: oxide 100; metal = oxide dual / yield + process cost
    = 100/0.8 + 50 = 175. Process capacity value 0 (3 t slack).
    Reduced costs: AU oxide 50; CN metal 400 − 175 = 225; JP metal 450 − 175 = 275.
    Metal demand range: process output = d ∈ [0, 15].
    """
    plan = solve(chain(12.0))
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(3100.0)
    assert plan.tonnes() == near({"ox_cn": 25.0})
    assert plan.production() == near({"kr_metal": 12.0})
    assert plan.demand() == near({"oxide": 100.0, "metal": 175.0})
    assert plan.values("process_capacity", key="process") == near({"kr_metal": 0.0})
    assert plan.reduced_costs() == near({"ox_au": 50.0, "mt_cn": 225.0, "mt_jp": 275.0})
    metal = plan.table("demand", key="stage")["metal"]
    assert (metal["valid_from"], metal["valid_to"]) == near((0.0, 15.0))


# ---------------------------------------------------------------- (d) tariffs and zone levy

TARIFFS = Dataset(
    stages=(Stage("oxide", 0, 45.0), Stage("metal", 1, 10.0)),
    offers=(offer("ox_cn", "oxide", "CN", 100.0, capacity=10.0, freight=10.0),
            offer("ox_au", "oxide", "AU", 90.0, capacity=10.0, freight=10.0),
            offer("ox_vn", "oxide", "VN", 130.0, capacity=10.0),
            offer("ox_kr", "oxide", "KR", 110.0, capacity=10.0, freight=5.0),
            offer("ox_jp", "oxide", "JP", 200.0),
            offer("mt_cn", "metal", "CN", 300.0, capacity=4.0),
            offer("mt_au", "metal", "AU", 380.0, capacity=4.0),
            offer("mt_vn", "metal", "VN", 350.0),
            offer("mt_jp", "metal", "JP", 380.0)),
    # VN and the buyer KR are not listed: in no group and not zone members.
    countries=(Country("CN", "China"), Country("AU", "Australia", zone_member=True),
               Country("JP", "Japan", zone_member=True)),
    tariffs=(TariffRule("CN", "oxide", mfn_rate=0.10),
             TariffRule("CN", "*", mfn_rate=0.25),
             TariffRule("AU", "*", mfn_rate=0.08, zone_rate=0.01),
             TariffRule("*", "oxide", mfn_rate=0.05, zone_rate=0.02),
             TariffRule("*", "*", mfn_rate=0.50, zone_rate=0.30)),
    benchmarks={"oxide": 120.0, "metal": 400.0},
    zone=ZoneStatus.JOINED,
)

# offer: (price, freight, duty, levy, landed) when KR has joined the zone
JOINED_LANDED = {
    "ox_cn": (100.0, 10.0, 11.0, 20.0, 141.0),   # CN+oxide 10 % of 110; levy 120 − 100
    "ox_au": (90.0, 10.0, 1.0, 0.0, 101.0),      # AU+* beats *+oxide: zone 1 % of 100; member
    "ox_vn": (130.0, 0.0, 6.5, 0.0, 136.5),      # *+oxide mfn 5 %; price above benchmark
    "ox_kr": (110.0, 5.0, 0.0, 0.0, 115.0),      # buyer's own country: no duty, no levy
    "ox_jp": (200.0, 0.0, 4.0, 0.0, 204.0),      # *+oxide zone 2 %
    "mt_cn": (300.0, 0.0, 75.0, 100.0, 475.0),   # CN+* beats *+*: mfn 25 %; levy 400 − 300
    "mt_au": (380.0, 0.0, 3.8, 0.0, 383.8),      # AU+* zone 1 %
    "mt_vn": (350.0, 0.0, 175.0, 50.0, 575.0),   # *+* mfn 50 %; levy 400 − 350
    "mt_jp": (380.0, 0.0, 114.0, 0.0, 494.0),    # *+* zone 30 %
}
COMPONENTS = ("price_usd_per_t", "freight_usd_per_t", "duty_usd_per_t", "levy_usd_per_t",
              "landed_usd_per_t")


def test_tariff_specificity_and_zone_levy_joined(solve):
    """KR joined. Landed costs (price + freight + duty + levy) as in ``JOINED_LANDED``:
    country+stage beats country+* beats *+stage beats *+*; members pay zone_rate and
    no levy; non-members pay mfn_rate and max(0, benchmark − price); KR pays neither.

    Oxide (45 t): merit AU 101, KR 115, VN 136.5, CN 141 (10 t each), JP 204 for the
    last 5 t. Oxide dual 204; capacity values 204 − landed: AU 103, KR 89, VN 67.5, CN 63.
    Metal (10 t): AU 383.8 (4 t), CN 475 (4 t), JP 494 the last 2 t; VN 575 unused.
    Metal dual 494; capacity values AU 110.2, CN 19; reduced cost VN 575 − 494 = 81.
    Objective: oxide 1,010 + 1,150 + 1,365 + 1,410 + 1,020 = 5,955;
    metal 1,535.2 + 1,900 + 988 = 4,423.2; total 10,378.2.
    """
    plan = solve(TARIFFS)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(10378.2)
    assert plan.tonnes() == near({"ox_cn": 10.0, "ox_au": 10.0, "ox_vn": 10.0, "ox_kr": 10.0,
                                  "ox_jp": 5.0, "mt_cn": 4.0, "mt_au": 4.0, "mt_jp": 2.0})
    for name, expected in JOINED_LANDED.items():
        if name in plan.tonnes():
            row = plan.purchase(name)
            assert tuple(row[k] for k in COMPONENTS) == near(expected), name
    unused = plan.table("reduced_costs")["mt_vn"]
    assert unused["cost_usd_per_t"] == near(575.0)
    assert plan.demand() == near({"oxide": 204.0, "metal": 494.0})
    assert plan.values("capacity") == near({"ox_cn": 63.0, "ox_au": 103.0, "ox_vn": 67.5,
                                            "ox_kr": 89.0, "mt_cn": 19.0, "mt_au": 110.2})
    assert plan.reduced_costs() == near({"mt_vn": 81.0})


def test_tariffs_observer_pay_mfn_and_no_levy(solve):
    """Same data, KR an observer: everyone pays the mfn rate of the most specific rule, no levy.

    Landed: ox_cn 110·1.10 = 121, ox_au 100·1.08 = 108, ox_vn 136.5, ox_kr 115,
    ox_jp 200·1.05 = 210; mt_cn 300·1.25 = 375, mt_au 380·1.08 = 410.4,
    mt_vn 350·1.5 = 525, mt_jp 380·1.5 = 570.
    Oxide: the four capped offers full (10 t each), JP 5 t: dual 210, objective
    1,210 + 1,080 + 1,365 + 1,150 + 1,050 = 5,855; capacity values CN 89, AU 102,
    VN 73.5, KR 95.
    Metal: CN 4 t, AU 4 t, VN 2 t marginal: dual 525; 1,500 + 1,641.6 + 1,050 = 4,191.6;
    capacity values CN 150, AU 114.6; JP unused, reduced cost 570 − 525 = 45.
    Total 10,046.6.
    """
    plan = solve(replace(TARIFFS, zone=ZoneStatus.OBSERVER))
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(10046.6)
    assert plan.tonnes() == near({"ox_cn": 10.0, "ox_au": 10.0, "ox_vn": 10.0, "ox_kr": 10.0,
                                  "ox_jp": 5.0, "mt_cn": 4.0, "mt_au": 4.0, "mt_vn": 2.0})
    landed = {"ox_cn": (11.0, 121.0), "ox_au": (8.0, 108.0), "ox_vn": (6.5, 136.5),
              "ox_kr": (0.0, 115.0), "ox_jp": (10.0, 210.0), "mt_cn": (75.0, 375.0),
              "mt_au": (30.4, 410.4), "mt_vn": (175.0, 525.0)}
    for name, (duty, total) in landed.items():
        row = plan.purchase(name)
        assert (row["duty_usd_per_t"], row["levy_usd_per_t"], row["landed_usd_per_t"]) == near(
            (duty, 0.0, total)), name
    assert plan.table("reduced_costs")["mt_jp"]["cost_usd_per_t"] == near(570.0)
    assert plan.demand() == near({"oxide": 210.0, "metal": 525.0})
    assert plan.values("capacity") == near({"ox_cn": 89.0, "ox_au": 102.0, "ox_vn": 73.5,
                                            "ox_kr": 95.0, "mt_cn": 150.0, "mt_au": 114.6})
    assert plan.reduced_costs() == near({"mt_jp": 45.0})


# ---------------------------------------------------------------- (e) max and min share

SHARES = Dataset(
    stages=(Stage("oxide", 0, 100.0),),
    offers=(offer("ox_cn", "oxide", "CN", 50.0), offer("ox_au", "oxide", "AU", 80.0),
            offer("ox_jp", "oxide", "JP", 90.0), offer("ox_us", "oxide", "US", 100.0)),
    limits=(Limit("CN", "oxide", max_share=0.6), Limit("JP", "oxide", min_share=0.1)),
)


def test_max_and_min_share_binding(solve):
    """Oxide 100 t (fixed total: no process). CN 50, AU 80, JP 90, US 100, all unlimited.
    CN at most 60 %, JP at least 10 %.

    Plan: CN 60 t (cap binds), JP 10 t (floor binds), AU the other 30 t; US unused.
    Objective 60·50 + 30·80 + 10·90 = 6,300.
    Demand dual: one more t is bought 60/10/30 %: 0.6·50 + 0.1·90 + 0.3·80 = 63.
    CN cap: one pp tighter moves 1 t from CN to AU: +30 USD/pp
    (row dual −30 per t of allowance; −dual·T/100 = 30·100/100).
    JP floor: one pp tighter moves 1 t from AU to JP: +10 USD/pp (dual +10; +dual·T/100).
    Reduced cost of US: it can only displace AU (CN and JP are pinned at 60 % and
    10 % of the fixed total): 100 − 80 = 20.
    Ranges (AU basic, = 100·(0.9 − σ_CN) = 100·(0.4 − σ_JP)): σ_CN ∈ [0, 0.9],
    σ_JP ∈ [0, 0.4]; demand ∈ [0, ∞) (the mix is proportional). The dual of the
    equality row T = Σx, 1 − 30σ_CN, changes sign at σ_CN = 1/30: not a basis change.
    """
    plan = solve(SHARES)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(6300.0)
    assert plan.tonnes() == near({"ox_cn": 60.0, "ox_au": 30.0, "ox_jp": 10.0})
    assert plan.demand() == near({"oxide": 63.0})
    cap, floor = plan.limit("CN", "oxide", "max"), plan.limit("JP", "oxide", "min")
    assert cap["usd_per_pp"] == near(30.0)
    assert floor["usd_per_pp"] == near(10.0)
    assert cap["binding"] is True
    assert floor["binding"] is True
    assert cap["unique"] is True
    assert floor["unique"] is True
    assert (cap["valid_from"], cap["valid_to"]) == near((0.0, 0.9))
    assert (floor["valid_from"], floor["valid_to"]) == near((0.0, 0.4))
    assert plan.reduced_costs() == near({"ox_us": 20.0})
    assert (plan.share("CN", "oxide"), plan.share("JP", "oxide"),
            plan.share("AU", "oxide")) == near((0.6, 0.1, 0.3))
    demand = plan.table("demand", key="stage")["oxide"]
    assert demand["valid_from"] == near(0.0)
    assert demand["valid_to"] is None


# ---------------------------------------------------------------- (f) value basis

def test_value_basis_limit(solve):
    """Metal 10 t. CN 100, AU 300, JP 350 (all unlimited). CN at most 25 % of the VALUE.

    Value share: 100·cn ≤ 0.25·(100·cn + 300·au) ⇔ 75·cn ≤ 75·au ⇔ cn ≤ au;
    with cn + au = 10: cn = au = 5 t (volume share 50 %, value share 500/2,000 = 25 %).
    Objective 500 + 1,500 = 2,000. Demand dual: a new t splits 50/50: 200.
    Limit: cn(σ) = 30σ/(1 + 2σ) (from 100·cn = σ·(3,000 − 200·cn)), cost
    3,000 − 200·cn = 3,000 − 6,000σ/(1 + 2σ); d cost/dσ = −6,000/(1 + 2σ)² =
    −2,666.67 at σ = 0.25, so 26.6667 USD per pp of tightening. (Row form: dual
    −4/3 per USD of allowance × T = 2,000 USD.)
    Reduced cost of JP (350 t adds 0.25·350 = 87.5 USD of allowance):
    350 − 200 − (4/3)·87.5 = 33.333.
    Range: 0 ≤ cn(σ) ≤ 10 for σ ∈ [0, 1].
    """
    data = Dataset(
        stages=(Stage("metal", 0, 10.0),),
        offers=(offer("mt_cn", "metal", "CN", 100.0), offer("mt_au", "metal", "AU", 300.0),
                offer("mt_jp", "metal", "JP", 350.0)),
        limits=(Limit("CN", "metal", max_share=0.25, basis=Basis.VALUE),),
    )
    plan = solve(data)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(2000.0)
    assert plan.tonnes() == near({"mt_cn": 5.0, "mt_au": 5.0})
    assert plan.demand() == near({"metal": 200.0})
    limit = plan.limit("CN", "metal")
    assert limit["basis"] == "value"
    assert limit["usd_per_pp"] == near(80.0 / 3.0)
    assert limit["share"] == near(0.25)
    assert (limit["valid_from"], limit["valid_to"]) == near((0.0, 1.0))
    assert plan.reduced_costs() == near({"mt_jp": 100.0 / 3.0})
    assert plan.share("CN", "metal", "volume") == near(0.5)
    assert plan.share("CN", "metal", "value") == near(0.25)


# ---------------------------------------------------------------- (g) stage * and group each

def test_each_country_at_most_half_at_every_stage(solve):
    """Limit ``each`` at stage ``*``: no country above 50 % of any stage.

    Ore 10 t: CN 10 (unlimited), AU 20 (cap 3), BR 30, RU 40. CN 5 t (its 50 %),
    AU 3 t (full), BR 2 t marginal; RU unused. Cost 50 + 60 + 60 = 170.
    Ore dual: a new t goes half CN, half BR: 0.5·10 + 0.5·30 = 20.
    AU capacity value: one more t of AU displaces BR: 30 − 20 = 10.
    CN:ore, one pp tighter moves 0.1 t CN → BR: 0.1·20 = 2 USD/pp.
    RU reduced cost: it displaces BR at the fixed total: 40 − 30 = 10.
    Oxide 20 t: CN 100, JP 120 (cap 6), US 150, IN 200. CN 10 t, JP 6 t, US 4 t;
    IN unused. Cost 1,000 + 720 + 600 = 2,320. Oxide dual 0.5·100 + 0.5·150 = 125.
    JP capacity value: one more t of JP displaces US (CN pinned at 50 %): 150 − 120 = 30.
    CN:oxide 0.2 t · 50 = 10 USD/pp. IN: 200 − 150 = 50.
    Objective 2,490. Other countries' rows are slack: usd_per_pp 0, not binding.
    CN ranges: ore BR = 7 − 10σ must stay in [0, 5] (BR's own 50 % row), oxide
    US = 14 − 20σ ∈ [0, 10]: both σ ∈ [0.2, 0.7].
    """
    data = Dataset(
        stages=(Stage("ore", 0, 10.0), Stage("oxide", 1, 20.0)),
        offers=(offer("ore_cn", "ore", "CN", 10.0), offer("ore_au", "ore", "AU", 20.0, 3.0),
                offer("ore_br", "ore", "BR", 30.0), offer("ore_ru", "ore", "RU", 40.0),
                offer("ox_cn", "oxide", "CN", 100.0), offer("ox_jp", "oxide", "JP", 120.0, 6.0),
                offer("ox_us", "oxide", "US", 150.0), offer("ox_in", "oxide", "IN", 200.0)),
        limits=(Limit("each", "*", max_share=0.5),),
    )
    plan = solve(data)
    assert plan.out["status"] == "optimal"
    assert plan.objective == near(2490.0)
    assert plan.tonnes() == near({"ore_cn": 5.0, "ore_au": 3.0, "ore_br": 2.0,
                                  "ox_cn": 10.0, "ox_jp": 6.0, "ox_us": 4.0})
    assert plan.demand() == near({"ore": 20.0, "oxide": 125.0})
    assert plan.values("capacity") == near({"ore_au": 10.0, "ox_jp": 30.0})
    assert plan.reduced_costs() == near({"ore_ru": 10.0, "ox_in": 50.0})
    rows = {(r["group"], r["stage"]): r for r in plan.prices["limits"]}
    assert set(rows) == {(c, "ore") for c in ("CN", "AU", "BR", "RU")} | {
        (c, "oxide") for c in ("CN", "JP", "US", "IN")}
    per_pp = {key: r["usd_per_pp"] for key, r in rows.items()}
    assert per_pp == near({("CN", "ore"): 2.0, ("AU", "ore"): 0.0, ("BR", "ore"): 0.0,
                           ("RU", "ore"): 0.0, ("CN", "oxide"): 10.0, ("JP", "oxide"): 0.0,
                           ("US", "oxide"): 0.0, ("IN", "oxide"): 0.0})
    assert {key for key, r in rows.items() if r["binding"]} == {("CN", "ore"), ("CN", "oxide")}
    for stage in ("ore", "oxide"):
        cn = rows[("CN", stage)]
        assert (cn["valid_from"], cn["valid_to"]) == near((0.2, 0.7)), stage
    shares = {(g, s): plan.share(g, s) for g, s in rows}
    assert shares == near({("CN", "ore"): 0.5, ("AU", "ore"): 0.3, ("BR", "ore"): 0.2,
                           ("RU", "ore"): 0.0, ("CN", "oxide"): 0.5, ("JP", "oxide"): 0.3,
                           ("US", "oxide"): 0.2, ("IN", "oxide"): 0.0})


# ---------------------------------------------------------------- (h) infeasible

def infeasible_case(limit: Limit, capped: str) -> Dataset:
    """Oxide 20 t from CN 50 and AU 100; the ``capped`` offer sells at most 10 t."""
    offers = tuple(offer(name, "oxide", country, price, 10.0 if name == capped else None)
                   for name, country, price in (("ox_cn", "CN", 50.0), ("ox_au", "AU", 100.0)))
    return Dataset(stages=(Stage("oxide", 0, 20.0, origin="stages.csv row 2"),),
                   offers=offers, limits=(replace(limit, origin="--cap test"),))


def test_infeasible_max_share():
    """CN at most 10 % of oxide, but AU sells at most 10 t of the 20 t needed.

    Any plan has CN ≥ 20 − 10 = 10 t; buying more than 20 t only adds CN, so the
    least CN share is 10/(10 + 10) = 0.5 > 0.1: no plan. The conflicting rows are
    oxide demand, AU's capacity and the CN:oxide cap (dropping any one of them makes
    the plan feasible). The tightest feasible value of the cap is 0.5.
    Status "infeasible" (CLI exit 1: a diagnosis is present), no objective.
    """
    data = infeasible_case(Limit("CN", "oxide", max_share=0.1), capped="ox_au")
    result = solve_plan(data)
    out = as_json(result)
    assert out["status"] == "infeasible"
    assert not result.optimal
    assert result.diagnosis is not None
    assert out["objective_usd"] is None
    assert out["purchases"] == []
    conflicts = {(c["kind"], c["name"]) for c in out["diagnosis"]["conflicts"]}
    assert conflicts == {("demand", "oxide"), ("capacity", "ox_au"), ("limit", "CN:oxide")}
    origins = {c["origin"] for c in out["diagnosis"]["conflicts"]}
    assert {"stages.csv row 2", "--cap test"} <= origins
    [tight] = out["diagnosis"]["limits"]
    assert (tight["group"], tight["stage"], tight["bound"]) == ("CN", "oxide", "max")
    assert tight["limit"] == near(0.1)
    assert tight["tightest_feasible"] == near(0.5)


def test_infeasible_min_share():
    """AU at least 60 % of oxide, but AU sells at most 10 t of the 20 t needed.

    AU's share is at most 10/(10 + CN) with CN ≥ 10: at most 0.5 < 0.6. Conflict:
    demand, AU capacity, the AU:oxide floor; tightest feasible floor 0.5.
    """
    data = infeasible_case(Limit("AU", "oxide", min_share=0.6), capped="ox_au")
    out = as_json(solve_plan(data))
    assert out["status"] == "infeasible"
    conflicts = {(c["kind"], c["name"]) for c in out["diagnosis"]["conflicts"]}
    assert conflicts == {("demand", "oxide"), ("capacity", "ox_au"), ("limit", "AU:oxide")}
    [tight] = out["diagnosis"]["limits"]
    assert (tight["group"], tight["stage"], tight["bound"]) == ("AU", "oxide", "min")
    assert tight["tightest_feasible"] == near(0.5)
