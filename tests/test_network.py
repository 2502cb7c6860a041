"""Several materials as one network (SPEC §2, §3): co-products, recipes, shortage,
members-only offers, closed capacity, tied orders, the origin split by country.

Every expected number is solved by hand in the test's docstring; every dual is also
checked against re-solves with the right-hand side moved.
"""

from dataclasses import replace

import pytest
from planner.models.data import (
    Basis,
    Country,
    Dataset,
    Limit,
    Offer,
    Process,
    ProcessFlow,
    Role,
    Scope,
    Stage,
    ZoneStatus,
)

import planner

H = 1e-3


def solve(data: Dataset) -> dict:
    return planner.solve(data).to_json()


def cost(data: Dataset) -> float:
    return planner.solve(data).objective_usd


def with_demand(data: Dataset, stage: str, demand: float) -> Dataset:
    return replace(data, stages=tuple(replace(s, demand_t=demand) if s.stage == stage else s
                                      for s in data.stages))


def by(rows: list[dict], key: str, value: str = "usd_per_t") -> dict:
    return {r[key]: r[value] for r in rows}


# Separation of concentrate yields NdPr oxide (main output) and, per t of it, 1 t of
# Ce/La oxide. Concentrate 5 USD/t, 2 t per t NdPr (yield 0.5), cost 6 per t NdPr.
JOINT = Dataset(
    stages=(Stage("concentrate", 0, 0.0, material="mixed"),
            Stage("ndpr-oxide", 1, 10.0, material="NdPr"),
            Stage("cela-oxide", 1, 20.0, material="CeLa")),
    offers=(Offer("conc_au", "concentrate", "s", "AU", 5.0),
            Offer("ndpr_cn", "ndpr-oxide", "s", "CN", 40.0),
            Offer("cela_cn", "cela-oxide", "s", "CN", 15.0)),
    processes=(Process("sep", "concentrate", "ndpr-oxide", 0.5, 6.0),),
    process_flows=(ProcessFlow("sep", "cela-oxide", Role.OUTPUT, 1.0),),
    countries=(Country("AU"), Country("CN"), Country("KR")))


def test_joint_production_hand_solution():
    """Separating x t costs 16x and yields x t NdPr and x t CeLa. For x ≤ 10 the plan
    buys NdPr at 40 and CeLa at 15: 700 − 39x; for 10 ≤ x ≤ 20 it buys CeLa only:
    300 + x. Optimum x = 10: 310 USD. Duals: CeLa 15 (bought at the margin); NdPr
    16 − 15 = 1 (one more separated, less CeLa bought: the co-product credit);
    concentrate 5 (bought at the margin, no demand)."""
    out = solve(JOINT)
    assert out["objective_usd"] == pytest.approx(310.0)
    assert by(out["production"], "process", "tonnes") == pytest.approx({"sep": 10.0})
    assert by(out["purchases"], "offer", "tonnes") == pytest.approx(
        {"conc_au": 20.0, "cela_cn": 10.0})
    demand = by(out["shadow_prices"]["demand"], "stage")
    assert demand == pytest.approx({"concentrate": 5.0, "ndpr-oxide": 1.0, "cela-oxide": 15.0})
    for stage, dual in demand.items():
        base = JOINT.stages[[s.stage for s in JOINT.stages].index(stage)].demand_t
        assert (cost(with_demand(JOINT, stage, base + H)) - 310.0) / H == pytest.approx(dual)
    flows = {(f["process"], f["stage"], f["role"]): f["tonnes"] for f in out["flows"]}
    assert flows == pytest.approx({("sep", "concentrate", "input"): 20.0,
                                   ("sep", "ndpr-oxide", "output"): 10.0,
                                   ("sep", "cela-oxide", "output"): 10.0})
    shares = {(r["group"], r["stage"]): r["share"] for r in out["shares"]}
    assert shares[("KR", "cela-oxide")] == pytest.approx(0.5)   # the co-product is domestic
    assert shares[("CN", "cela-oxide")] == pytest.approx(0.5)


def test_an_unwanted_co_product_is_surplus():
    """CeLa demand 0: separating costs 16 per t NdPr against 40 bought, so 10 t are
    separated and the 10 t of CeLa are surplus, free: 160 USD."""
    out = solve(with_demand(JOINT, "cela-oxide", 0.0))
    assert out["objective_usd"] == pytest.approx(160.0)
    surplus = by(out["cost_by_stage"], "stage", "surplus_t")
    assert surplus["cela-oxide"] == pytest.approx(10.0)
    assert surplus["ndpr-oxide"] == pytest.approx(0.0)


def test_reports_group_stages_by_material_then_order():
    stages = [r["stage"] for r in solve(JOINT)["cost_by_stage"]]
    # mixed (its first stage most upstream), then CeLa and NdPr (tied: by name)
    assert stages == ["concentrate", "cela-oxide", "ndpr-oxide"]


# A magnet = 1 t NdPr metal + 0.1 t Dy/Tb metal (a recipe), made at home for 20 USD/t.
RECIPE = Dataset(
    stages=(Stage("ndpr-metal", 0, 0.0), Stage("dytb-metal", 0, 0.0),
            Stage("magnet", 1, 10.0)),
    offers=(Offer("ndpr_cn", "ndpr-metal", "s", "CN", 50.0),
            Offer("dytb_cn", "dytb-metal", "s", "CN", 400.0),
            Offer("dytb_au", "dytb-metal", "s", "AU", 600.0),
            Offer("mag_jp", "magnet", "s", "JP", 300.0)),
    processes=(Process("mk", "ndpr-metal", "magnet", 1.0, 20.0),),
    process_flows=(ProcessFlow("mk", "dytb-metal", Role.INPUT, 0.1),),
    countries=(Country("AU"), Country("CN"), Country("JP"), Country("KR")),
    limits=(Limit("CN", "dytb-metal", max_share=0.5),))


def test_recipe_with_a_cap_hand_solution():
    """China at most half of Dy/Tb: a t of Dy/Tb costs 0.5·400 + 0.5·600 = 500; a home
    magnet 50 + 0.1·500 + 20 = 120 < 300 from Japan. 10 magnets: 500 NdPr + 500 Dy/Tb
    (0.5 t each) + 200 = 1,200. Duals: NdPr 50, Dy/Tb 500, magnet 120. One pp tighter
    moves 0.01 t of Dy/Tb from China to Australia: +2 USD per pp."""
    out = solve(RECIPE)
    assert out["objective_usd"] == pytest.approx(1200.0)
    assert by(out["purchases"], "offer", "tonnes") == pytest.approx(
        {"ndpr_cn": 10.0, "dytb_cn": 0.5, "dytb_au": 0.5})
    demand = by(out["shadow_prices"]["demand"], "stage")
    assert demand == pytest.approx({"ndpr-metal": 50.0, "dytb-metal": 500.0, "magnet": 120.0})
    for stage, dual in demand.items():
        base = next(s.demand_t for s in RECIPE.stages if s.stage == stage)
        assert (cost(with_demand(RECIPE, stage, base + H)) - 1200.0) / H == pytest.approx(dual)
    [limit] = out["shadow_prices"]["limits"]
    assert limit["usd_per_pp"] == pytest.approx(2.0)
    tighter = replace(RECIPE, limits=(Limit("CN", "dytb-metal", max_share=0.49),))
    assert cost(tighter) - 1200.0 == pytest.approx(2.0)


def test_embedded_cap_on_magnets_reaches_through_the_recipe():
    """China at most 30 % of magnet supply by origin. A home magnet draws 1 t NdPr (all
    Chinese: the only offer) and 0.1 t Dy/Tb, and carries the mass-weighted mix of its
    1.1 t of input: (1 + d)/1.1 Chinese, d the Chinese Dy/Tb per magnet. With m home
    magnets, m·(1 + d)/1.1 ≤ 3, so m = 3.3/(1 + d), the rest from Japan at 300; a home
    magnet costs 130 − 200·d. Cost 3,000 − 3.3·(170 + 200·d)/(1 + d) falls as d
    rises: all Dy/Tb Chinese (d = 0.1), m = 3, 7 t from Japan: 330 + 2,100 = 2,430."""
    data = replace(RECIPE, limits=(Limit("CN", "magnet", max_share=0.3,
                                         scope=Scope.EMBEDDED),))
    out = solve(data)
    assert out["objective_usd"] == pytest.approx(2430.0)
    assert by(out["production"], "process", "tonnes")["mk"] == pytest.approx(3.0)
    bought = by(out["purchases"], "offer", "tonnes")
    assert bought["mag_jp"] == pytest.approx(7.0)
    assert bought["dytb_cn"] == pytest.approx(0.3)
    embedded = {r["group"]: r["embedded_share"] for r in out["direct_and_embedded"]
                if r["stage"] == "magnet"}
    assert embedded["CN"] == pytest.approx(0.3)
    assert embedded["JP"] == pytest.approx(0.7)


SHORT = Dataset(
    stages=(Stage("magnet", 0, 10.0, shortage_usd_per_t=500.0),),
    offers=(Offer("mag_cn", "magnet", "s", "CN", 300.0, capacity_t=4.0),
            Offer("mag_jp", "magnet", "s", "JP", 600.0)),
    countries=(Country("CN"), Country("JP")))


def test_unmet_demand_is_priced_and_caps_the_demand_dual():
    """4 t from China at 300; Japan at 600 costs more than leaving a tonne unmet (500):
    6 t short. 1,200 + 3,000 = 4,200 USD; one more tonne of demand costs 500, the
    shortage price, not Japan's 600."""
    out = solve(SHORT)
    assert out["objective_usd"] == pytest.approx(4200.0)
    row = by(out["cost_by_stage"], "stage", "shortage_t")
    assert row["magnet"] == pytest.approx(6.0)
    assert out["totals"]["shortage_usd"] == pytest.approx(3000.0)
    assert by(out["shadow_prices"]["demand"], "stage")["magnet"] == pytest.approx(500.0)
    assert cost(with_demand(SHORT, "magnet", 10.0 + H)) - 4200.0 == pytest.approx(500 * H)


def test_without_a_shortage_price_demand_must_be_met():
    data = replace(SHORT, stages=(Stage("magnet", 0, 10.0),))
    assert cost(data) == pytest.approx(4 * 300 + 6 * 600)


VAULT = Dataset(
    stages=(Stage("magnet", 0, 10.0),),
    offers=(Offer("vault", "magnet", "Project Vault release", "US", 100.0, capacity_t=4.0,
                  min_t=2.0, members_only=True),
            Offer("mag_cn", "magnet", "s", "CN", 200.0, capacity_t=5.0),
            Offer("mag_jp", "magnet", "s", "JP", 300.0)),
    countries=(Country("US", zone_member=True), Country("CN"), Country("JP")))


def test_members_only_offer_opens_only_when_joined():
    """Observer: the Vault is shut, whatever its minimum: 5 CN + 5 JP = 2,500. Joined:
    4 Vault + 5 CN + 1 JP = 1,700; the Vault's capacity is worth 300 − 100 = 200 per t."""
    observer = solve(VAULT)
    assert observer["objective_usd"] == pytest.approx(2500.0)
    assert "vault" not in by(observer["purchases"], "offer", "tonnes")
    joined = solve(replace(VAULT, zone=ZoneStatus.JOINED))
    assert joined["objective_usd"] == pytest.approx(1700.0)
    capacity = by(joined["shadow_prices"]["capacity"], "offer")
    assert capacity["vault"] == pytest.approx(200.0)


def test_capacity_zero_closes_an_offer_and_its_value_is_reported():
    """China closed (capacity 0): 10 t from Japan, 3,000; one t of China's capacity would
    save 300 − 200 = 100."""
    data = replace(VAULT, offers=(VAULT.offers[1].__class__(
        "mag_cn", "magnet", "s", "CN", 200.0, capacity_t=0.0), VAULT.offers[2]))
    out = solve(data)
    assert out["objective_usd"] == pytest.approx(3000.0)
    assert by(out["shadow_prices"]["capacity"], "offer")["mag_cn"] == pytest.approx(100.0)


def test_origin_split_under_each_adds_up_to_one():
    """`each` at 65 % by origin on magnets fed by a recipe: every stage's by-origin
    shares, read from the plan's one split, add up to 100 %."""
    data = replace(RECIPE, limits=(Limit("each", "*", max_share=0.65,
                                         scope=Scope.EMBEDDED),),
                   offers=(*RECIPE.offers, Offer("ndpr_vn", "ndpr-metal", "s", "VN", 70.0)),
                   countries=(*RECIPE.countries, Country("VN")))
    plan = planner.solve(data)
    assert plan.status == "optimal"
    rows = plan.tables["direct_and_embedded"]
    countries = rows[rows["group"].str.fullmatch("[A-Z]{2}")]
    assert set(countries["custody"]) == {"segregated"}
    for stage, group in countries.groupby("stage"):
        assert group["embedded_share"].sum() == pytest.approx(1.0), stage
        assert group["embedded_share"].max() <= 0.65 + 1e-9, stage


def test_value_shares_weigh_a_co_product_at_the_median_offer_price():
    """Value basis: the 10 t of domestic CeLa co-product are worth the median CeLa offer
    price (15, the only offer) per t, the 10 t bought from China their landed cost (15):
    China holds half of CeLa by value. With stages.value_usd_per_t = 45 on CeLa the
    domestic tonnes weigh 3× as much: China 150 / (150 + 450) = 25 %."""
    data = replace(JOINT, limits=(Limit("CN", "cela-oxide", max_share=1.0, basis=Basis.VALUE),))
    out = solve(data)
    value = {(r["group"], r["stage"], r["basis"]): r["share"] for r in out["shares"]}
    assert value[("CN", "cela-oxide", "value")] == pytest.approx(0.5)
    weighted = replace(data, stages=tuple(
        replace(s, value_usd_per_t=45.0) if s.stage == "cela-oxide" else s
        for s in data.stages))
    value = {(r["group"], r["stage"], r["basis"]): r["share"]
             for r in solve(weighted)["shares"]}
    assert value[("CN", "cela-oxide", "value")] == pytest.approx(0.25)


def test_exact_sweep_through_a_recipe_matches_re_solves():
    swept = planner.sweep(RECIPE, "CN:dytb-metal", exact=True)
    assert len(swept.segments) >= 1
    for segment in swept.segments.itertuples():
        for cap, expected in ((segment.cap_from, segment.objective_from),
                              (segment.cap_to, segment.objective_to)):
            data = replace(RECIPE, limits=(Limit("CN", "dytb-metal", max_share=cap),))
            assert cost(data) == pytest.approx(expected, rel=1e-7)  # caps to 1e-7


def test_an_impossible_recipe_is_diagnosed():
    """Dy/Tb only from China, China at most 50 % of Dy/Tb: no magnet can be made at home,
    and with Japan's magnets shut (capacity 0) the magnet demand cannot be met. The
    diagnosis names the demand, the cap and Japan's capacity."""
    offers = tuple(o for o in RECIPE.offers if o.offer != "dytb_au")
    offers = tuple(replace(o, capacity_t=0.0) if o.offer == "mag_jp" else o for o in offers)
    plan = planner.solve(replace(RECIPE, offers=offers))
    assert plan.status == "infeasible"
    kinds = {(c["kind"], c["name"]) for c in plan.diagnosis["conflicts"]}
    assert ("limit", "CN:dytb-metal") in kinds
    assert ("capacity", "mag_jp") in kinds
    assert ("demand", "magnet") in kinds


def test_demand_left_wholly_unmet_is_priced_at_the_shortage_value():
    """Japan at 600 only, shortage 500: all 10 t are left unmet, 5,000 USD. One more
    tonne of demand is one more tonne unmet: 500 (the balance row alone would say 600,
    buying it, since u ≤ d moves with d), for any demand from 0 up."""
    data = replace(SHORT, offers=(SHORT.offers[1],))
    out = solve(data)
    assert out["objective_usd"] == pytest.approx(5000.0)
    [row] = out["shadow_prices"]["demand"]
    assert row["usd_per_t"] == pytest.approx(500.0)
    assert (row["valid_from"], row["valid_to"], row["unique"]) == (0.0, None, True)
    assert cost(with_demand(data, "magnet", 10.0 + H)) - 5000.0 == pytest.approx(500 * H)
    assert 5000.0 - cost(with_demand(data, "magnet", 10.0 - H)) == pytest.approx(500 * H)


def test_a_demand_range_never_goes_below_zero():
    out = solve(JOINT)
    assert all(r["valid_from"] >= 0 for r in out["shadow_prices"]["demand"])


def test_a_shut_members_only_offer_has_a_note_not_a_reduced_cost():
    out = solve(VAULT)
    row = next(r for r in out["shadow_prices"]["reduced_costs"] if r["offer"] == "vault")
    assert row["reduced_cost_usd_per_t"] is None
    assert "joins the zone" in row["note"]


def test_partly_unmet_demand_is_priced_at_the_shortage_value_without_an_upper_end():
    """SHORT: 6 of 10 t unmet; more demand is more unmet at 500, however much."""
    [row] = solve(SHORT)["shadow_prices"]["demand"]
    assert row["usd_per_t"] == pytest.approx(500.0)
    assert row["valid_to"] is None
    assert row["valid_from"] == pytest.approx(4.0)     # below 4 t China covers it all
    assert cost(with_demand(SHORT, "magnet", 30.0)) - 4200.0 == pytest.approx(20 * 500)


def test_a_cycle_through_a_co_product_names_both_rows(tmp_path):
    """SEP makes b-ox as a co-product from ore; REC turns b-ox back into ore: the error
    names REC's processes row and SEP's process_flows row, each with its value."""
    from click.testing import CliRunner

    from planner.cli import main

    tables = {
        "stages": "stage,order,demand_t\nore,0,0\na-ox,1,5\nb-ox,1,5\n",
        "offers": "offer,stage,supplier,country,price_usd_per_t\no1,ore,s,AU,10\n"
                  "o2,a-ox,s,AU,100\no3,b-ox,s,AU,100\n",
        "processes": "process,from_stage,to_stage,yield,cost_usd_per_t\n"
                     "SEP,ore,a-ox,0.5,10\nREC,b-ox,ore,1,5\n",
        "process_flows": "process,stage,role,t_per_t\nSEP,b-ox,output,0.5\n"}
    for name, text in tables.items():
        (tmp_path / f"{name}.csv").write_text(text)
    run = CliRunner().invoke(main, ["check", "--inputs", str(tmp_path)])
    assert run.exit_code == 2
    expected = "processes without a cycle"
    assert f"processes.csv, row 3, column to_stage: value 'ore': {expected}" in run.output
    assert f"process_flows.csv, row 2, column stage: value 'b-ox': {expected}" in run.output
    assert "Traceback" not in run.output
