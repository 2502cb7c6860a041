"""The shipped Korean dataset: calibration (SPEC §5a), scenarios, workbook copy."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from planner.models.periods import period_datasets

from planner.analysis.scenarios import apply_scenario, scenario_names
from planner.cli import default_inputs, load, main
from planner.io.read import dataset_cells, read_dataset
from planner.reports.tables import shares
from planner.solving.engine import solve_plan
from planner.solving.result import labelled

INPUTS = default_inputs()
WORKBOOK = INPUTS / "korea-2025.xlsx"

# SPEC §5a: Korea's observed dependence on China by value of imports, 2024 trade
# statistics, ± 5 pp (compounds 65.4 %, metals 79.7 %, magnets 89.9 %), Dy/Tb metal ≥ 95 %.
CALIBRATION = {"oxides": (0.604, 0.704), "metals": (0.747, 0.847), "magnet": (0.849, 0.949),
               "dytb-metal": (0.95, 1.0)}
STAGES = {"concentrate", "ndpr-oxide", "ndpr-metal", "dytb-oxide", "dytb-metal",
          "cela-oxide", "magnet"}


def stage_group(stage: str) -> list[str]:
    """The calibration groups a stage's imports count in."""
    groups = ["oxides"] if stage.endswith("-oxide") else ["metals"] if stage.endswith(
        "-metal") else [stage]
    return groups + ([stage] if stage == "dytb-metal" else [])


FIRST = "2025"   # the calibration year: SPEC §5a's baseline is the first period


def first_year(data):
    """The default dataset's first period as a one-period dataset (no stocks, new
    capacity or disruptions): the single-year model on the calibration year's numbers."""
    return replace(period_datasets(data)[0].data, stocks=(), disruptions=())


def china_by_value(plan: dict) -> dict[str, float]:
    """China's share of Σ landed cost × t over purchases from outside Korea, per
    calibration group, in the first period, computed from the JSON's purchases (not
    from a report table)."""
    spend: dict[str, list[float]] = {}
    for row in plan["purchases"]:
        if row["country"] == "KR" or row["period"] != FIRST:
            continue
        usd = row["tonnes"] * row["landed_usd_per_t"]
        for group in stage_group(row["stage"]):
            total = spend.setdefault(group, [0.0, 0.0])
            total[0] += usd if row["country"] == "CN" else 0.0
            total[1] += usd
    return {group: cn / total for group, (cn, total) in spend.items() if total > 0}


@pytest.fixture(scope="module")
def dataset():
    data, warnings = load(INPUTS)
    assert not warnings, [str(w) for w in warnings]
    return data


def test_baseline_reproduces_observed_dependence_on_china_by_value():
    """SPEC §5a: the calibrated baseline (observer, no overrides) holds China's share of
    imports by value within 5 pp of the trade statistics, Dy/Tb metal at least 95 %."""
    plan = solve_json()
    found = china_by_value(plan)
    for group, (low, high) in CALIBRATION.items():
        assert low <= found[group] <= high, (group, found[group])
    report = {r["name"]: r["share_by_value"] for r in plan["import_shares"]
              if r["level"] == "stage" and r["country"] == "CN" and r["period"] == FIRST}
    assert report["magnet"] == pytest.approx(found["magnet"], abs=1e-9)
    assert report["dytb-metal"] == pytest.approx(found["dytb-metal"], abs=1e-9)


def test_the_dataset_has_the_spec_disruptions_and_the_vault(dataset):
    """SPEC §5a: disruptions for a Chinese export stop of Dy/Tb and a halving of China's
    magnet exports, each with a probability, and Project Vault as a members_only release
    offer that is drawn only in disruption branches (never in the base branch)."""
    steps = {}
    for d in dataset.disruptions:
        assert 0 < d.probability < 1, d
        assert d.period, d
        assert d.duration == 1, d
        steps.setdefault(d.disruption.rsplit("-", 1)[0], set()).update(
            (s.setting, s.target, float(s.value)) for s in d.steps)
    assert set(steps) == {"cn-dytb-stop", "cn-magnet-half"}
    assert {("capacity_factor", "CN:dytb-oxide", 0.0),
            ("capacity_factor", "CN:dytb-metal", 0.0)} <= steps["cn-dytb-stop"]
    assert ("capacity_factor", "CN:magnet", 0.25) in steps["cn-magnet-half"]
    assert sum(d.probability for d in dataset.disruptions) < 1
    vault = {o.offer: o for o in dataset.offers if o.members_only}
    assert {o.stage for o in vault.values()} == {"dytb-oxide", "dytb-metal"}
    observer, joined = solve_json(), solve_json("--zone", "joined")
    for plan in (observer, joined):
        assert len(plan["branches"]) == 1 + len(dataset.disruptions)
    drawn = {(r["branch"], r["offer"]) for r in joined["purchases"]
             if r["offer"] in vault and r["tonnes"] > 1e-9}
    assert drawn
    assert all(branch != "base" for branch, _ in drawn)
    assert not [r for r in observer["purchases"] if r["offer"] in vault and r["tonnes"] > 1e-9]


def test_the_dataset_is_the_spec_network(dataset):
    """SPEC §5a stages, a magnet recipe (NdPr and Dy/Tb metal) and a separation with
    co-products (NdPr, Dy/Tb and Ce/La oxides from concentrate)."""
    assert {s.stage for s in dataset.stages} == STAGES
    flows = {(f.process, f.stage, f.role.value) for f in dataset.process_flows}
    by_process = {p.process: p for p in dataset.processes}
    recipe = [p for p in dataset.processes if p.to_stage == "magnet"
              and (p.process, "dytb-metal", "input") in flows]
    assert recipe
    assert recipe[0].from_stage == "ndpr-metal"
    separation = [name for name, p in by_process.items() if p.from_stage == "concentrate"]
    assert separation
    assert {(separation[0], "dytb-oxide", "output"),
            (separation[0], "cela-oxide", "output")} <= flows


def test_default_dataset_ships_the_spec_scenarios(dataset):
    assert {"observer", "joined", "joined-retaliation", "target-2030"} <= set(
        scenario_names(dataset))


@pytest.mark.parametrize("name", scenario_names(load(INPUTS)[0]))
def test_every_scenario_solves_or_explains_itself(dataset, name):
    result = solve_plan(apply_scenario(dataset, name))
    assert result.optimal or (result.diagnosis is not None and result.diagnosis.conflicts)


def test_target_2030_keeps_every_country_at_or_below_half(dataset):
    """A trajectory: each period's direct country shares within that period's cap (the
    scenario's rows with that period), and 50 % in 2030."""
    data = apply_scenario(dataset, "target-2030")
    caps = {step.period: float(step.value) for step in data.overrides}
    assert caps["2030"] == 0.5
    result = labelled(solve_plan(data))
    assert result.optimal
    for period, branch in result.nodes():
        top = max(r["share"] for r in shares(result.at(period, branch))
                  if r["kind"] == "country" and r["scope"] == "direct")
        assert top <= caps.get(period, 1.0) + 1e-9, period


def test_joining_costs_more_than_observing_and_levies_chinese_oxide(dataset):
    year = first_year(dataset)
    observer = solve_plan(apply_scenario(year, "observer"))
    joined = solve_plan(apply_scenario(year, "joined"))
    assert joined.solution.objective > observer.solution.objective
    levies = [joined.built.landed[o.offer].levy for o in joined.data.offers
              if o.country == "CN" and o.stage == "ndpr-oxide"]
    assert levies
    assert all(levy > 0 for levy in levies)


def test_a_wider_zone_spares_malaysian_oxide_the_levy(dataset):
    """wider-zone: joined, with Malaysia and the Philippines in the zone (zone_member
    rows): their offers pay no levy, so it costs less than joining alone."""
    year = first_year(dataset)
    joined = solve_plan(apply_scenario(year, "joined"))
    wider = solve_plan(apply_scenario(year, "wider-zone"))
    assert wider.solution.objective < joined.solution.objective
    for country in ("MY", "PH"):
        offers = [o.offer for o in dataset.offers if o.country == country]
        assert offers
        assert all(wider.built.landed[o].levy == 0 for o in offers)


def solve_json(*args: str) -> dict:
    """`planner solve --format json` on the shipped dataset (exit 0 expected)."""
    run = CliRunner().invoke(main, ["solve", "--format", "json", *args])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)


def test_content_changes_no_direct_scope_plan(dataset):
    """`content.csv` (upstream origin) is read only by embedded-scope limits: the
    baseline and a direct-scope scenario solve to the same cost without it."""
    assert dataset.content
    for data in (dataset, apply_scenario(dataset, "target-2030")):
        with_content = solve_plan(data, sensitivity=False)
        without = solve_plan(replace(data, content=()), sensitivity=False)
        assert with_content.optimal
        assert without.optimal
        assert with_content.solution.objective == pytest.approx(
            without.solution.objective, rel=1e-9)


@pytest.mark.parametrize(("name", "reference"), [("eu-style-65", None),
                                                 ("joined-eu-style-65", "joined")])
def test_eu_style_rule_keeps_every_origin_at_or_below_65_percent(name, reference):
    """EU-CRMA-style rule: no country above 65 % of any stage by upstream origin.
    Optimal, every embedded country share within the cap at every stage, and it
    costs at least as much as the same zone status without the rule."""
    plan = solve_json("--scenario", name)
    assert plan["status"] == "optimal"
    embedded = [r for r in plan["shares"]
                if r["scope"] == "embedded" and r["kind"] == "country"
                and r["basis"] == "volume"]
    supplied = {r["stage"] for r in plan["cost_by_stage"] if r["supply_t"] > 0}
    assert {r["stage"] for r in embedded if r["group"] == "CN"} >= supplied
    for row in embedded:
        assert row["share"] <= 0.65 + 1e-6, row
    base = solve_json(*(("--scenario", reference) if reference else ()))
    assert plan["objective_usd"] >= base["objective_usd"] - 1e-6
    # The rule binds for China: upstream origin reaches the cap somewhere.
    assert max(r["share"] for r in embedded if r["group"] == "CN") == pytest.approx(0.65,
                                                                                    abs=1e-6)


def test_shipped_workbook_is_the_csv_tables(tmp_path):
    """`make inputs-xlsx` output matches the CSVs cell for cell (no drift)."""
    from_csv = dataset_cells(read_dataset(INPUTS))
    from_book = dataset_cells(read_dataset(WORKBOOK))
    assert from_book == from_csv


def test_default_dataset_loads_from_any_folder(tmp_path):
    """Installed package data: `planner check` works outside the repository."""
    planner = Path(sys.executable).with_name("planner")
    run = subprocess.run([str(planner), "check"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def _plan_signature(result) -> tuple:
    """Which offers and processes are used and which capacities are full: the plan's
    structure (its basis, up to ties)."""
    used = tuple(t > 1e-7 for t in result.bought) + tuple(t > 1e-7 for t in result.made)
    full = tuple(o.capacity_t is not None and t >= o.capacity_t - 1e-7
                 for o, t in zip(result.data.offers, result.bought, strict=True))
    return used + full


@pytest.mark.parametrize(("stage", "cap"), [("magnet", 0.6), ("magnet", 0.5),
                                            ("ndpr-oxide", 0.5), ("cela-oxide", 0.5),
                                            ("dytb-metal", 0.9)])
def test_limit_range_ends_are_where_the_plan_changes(dataset, stage, cap):
    """The analytic range of a China cap, checked by re-solving: just inside each end
    the plan has the same structure; just outside (unless the end is 0 or 1) it has
    another one, or none."""
    from planner.analysis.scenarios import set_share
    from planner.reports.tables import limit_prices

    year = first_year(dataset)

    def at(share: float, sensitivity: bool = False):
        return solve_plan(set_share(year, "CN", stage, "max_share", share, "test"),
                          sensitivity=sensitivity)

    result = at(cap, sensitivity=True)
    row = next(r for r in limit_prices(labelled(result))
               if r["group"] == "CN" and r["stage"] == stage)
    assert row["binding"]
    signature = _plan_signature(result)
    for end, inward in ((row["valid_from"], 1.0), (row["valid_to"], -1.0)):
        assert _plan_signature(at(end + inward * 1e-6)) == signature, (end, "inside")
        if 0.0 < end < 1.0:
            outside = at(end - inward * 1e-4)
            assert not outside.optimal or _plan_signature(outside) != signature, (end,
                                                                                "outside")
