"""The Python API (SPEC §7) against hand-solved values and against the CLI."""

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import planner
from planner.cli import main

TINY = Path(__file__).parent / "data" / "tiny-chain"
PURCHASE_COLUMNS = {"offer", "stage", "supplier", "country", "tonnes", "landed_usd_per_t"}
LIMIT_COLUMNS = {"group", "stage", "bound", "usd_per_pp", "valid_from", "valid_to"}


@pytest.fixture(scope="module")
def tiny():
    return planner.load(TINY)


def test_solve_gives_the_hand_solution_as_frames(tiny):
    # Hand solution (shared/conformance/check.py): 8 t CN + 12 t AU oxide, 10 t
    # Chinese magnets = 4,100 USD; oxide demand dual 80, magnet 250; cap +10 USD/pp.
    plan = planner.solve(tiny)
    assert plan.status == "optimal"
    assert plan.objective_usd == pytest.approx(4_100)
    assert set(plan.purchases.columns) >= PURCHASE_COLUMNS
    tonnes = plan.purchases.set_index("offer")["tonnes"]
    assert tonnes.to_dict() == pytest.approx({"ox_cn": 8, "ox_au": 12, "mg_cn": 10})
    demand = plan.shadow_prices["demand"].set_index("stage")["usd_per_t"]
    assert demand.to_dict() == pytest.approx({"oxide": 80, "magnet": 250})
    limits = plan.shadow_prices["limits"]
    assert set(limits.columns) >= LIMIT_COLUMNS
    assert limits.loc[0, "usd_per_pp"] == pytest.approx(10)


def test_caps_move_the_plan_like_the_cli_flag(tiny):
    # China at most 30 % of oxide: 6 t CN + 14 t AU = 1,700; magnets still Chinese
    # (Korean route 2 x 85 + 100 = 270 > 250): 4,200 USD.
    plan = planner.solve(tiny, caps={"CN:oxide": 0.3})
    assert plan.objective_usd == pytest.approx(4_200)
    cli = CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--cap", "CN:oxide=0.3",
                                    "--format", "json"])
    from_cli = json.loads(cli.stdout)
    ours = plan.to_json()
    assert ours["objective_usd"] == from_cli["objective_usd"]
    assert ours["purchases"] == from_cli["purchases"]
    assert ours["shadow_prices"] == from_cli["shadow_prices"]
    assert ours["manifest"]["arguments"]["caps"] == {"CN:oxide": 0.3}


def test_zone_and_scenario(tiny):
    # tests/data/tiny-chain/README.md: joined, the Korean route wins: 4,840 USD.
    assert planner.solve(tiny, zone="joined").objective_usd == pytest.approx(4_840)
    assert planner.solve(tiny, scenario="join").objective_usd == pytest.approx(4_840)


def test_solve_takes_a_path_directly():
    assert planner.solve(str(TINY)).objective_usd == pytest.approx(4_100)


def test_an_infeasible_plan_has_a_diagnosis_and_no_numbers(tiny):
    # Oxide comes only from CN and AU: no country above 40 % cannot cover 100 %.
    plan = planner.solve(tiny, caps={"each:oxide": 0.4})
    assert plan.status == "infeasible"
    assert plan.objective_usd is None
    assert plan.purchases.empty
    assert plan.shadow_prices["demand"].empty
    assert plan.diagnosis["conflicts"]
    assert "infeasible" in repr(plan)


def test_bad_input_raises_input_error_with_the_problem_list(tmp_path):
    for table in TINY.glob("*.csv"):
        (tmp_path / table.name).write_text(table.read_text())
    offers = tmp_path / "offers.csv"
    offers.write_text(offers.read_text().replace("ox_au,oxide,Oxide Australia,AU,100",
                                                 "ox_au,oxide,Oxide Australia,AU,-100"))
    with pytest.raises(planner.InputError) as caught:
        planner.load(tmp_path)
    [problem] = caught.value.problems
    assert (problem.table, problem.row, problem.column, problem.value) == (
        "offers.csv", 3, "price_usd_per_t", "-100")


@pytest.mark.parametrize("caps", [{"CN:oxide": 1.5}, {"CN-oxide": 0.5}, {"XX:nowhere": 0.5}])
def test_bad_caps_raise_input_error(tiny, caps):
    with pytest.raises(planner.InputError):
        planner.solve(tiny, caps=caps)


def test_an_unlisted_country_in_a_cap_is_a_warning(tiny):
    with pytest.warns(UserWarning, match="countries"):
        plan = planner.solve(tiny, caps={"ZZ:oxide": 0.5})
    assert plan.status == "optimal"


def test_a_plan_is_short_in_a_repr_and_tables_in_a_notebook(tiny):
    plan = planner.solve(tiny)
    assert len(repr(plan)) < 200
    assert "4,100.00 USD" in repr(plan)
    page = plan._repr_html_()
    assert page.count("<table") == 5
    assert "ox_cn" in page
    assert "usd_per_pp" in page


def test_default_dataset_repr_stays_small():
    plan = planner.solve(planner.load())
    assert len(repr(plan)) < 200
    assert len(plan._repr_html_()) < 40_000


def test_tables_are_the_csv_tables(tiny, tmp_path):
    plan = planner.solve(tiny)
    out = tmp_path / "out"
    CliRunner().invoke(main, ["solve", "--inputs", str(TINY), "--format", "csv",
                              "--output", str(out)])
    written = pd.read_csv(out / "purchases.csv")
    assert list(written.columns) == list(plan.tables["purchases"].columns)
    assert written["tonnes"].tolist() == pytest.approx(plan.tables["purchases"]["tonnes"])


def test_labelled_result_has_period_and_branch_levels(tiny):
    result = planner.solve(tiny).result
    for frame in (result.offers, result.processes, result.stages, result.rates,
                  result.limits):
        assert list(frame.index.names[:2]) == ["period", "branch"]
        assert set(frame.index.get_level_values("period")) == {"base"}
    assert result.offers.loc[("base", "base", "ox_cn"), "tonnes"] == pytest.approx(8)
    assert result.rates.loc[("base", "base", "balance", "oxide"), "dual"] == pytest.approx(80)


def test_compare_returns_one_column_per_scenario(tiny):
    frame = planner.compare(tiny, ["base", "join", "double-magnets"])
    assert list(frame.columns) == ["base", "join", "double-magnets"]
    costs = frame.loc["total cost (USD)"]
    assert costs.tolist() == pytest.approx([4_100, 4_840,
                                            planner.solve(tiny, "double-magnets").objective_usd])


def test_sweep_returns_frames_that_match_re_solves(tiny):
    swept = planner.sweep(tiny, "CN:oxide", exact=True)
    assert {"cap_from", "cap_to", "objective_from", "objective_to"} <= set(swept.segments.columns)
    for segment in swept.segments.itertuples():
        for cap, cost in ((segment.cap_from, segment.objective_from),
                          (segment.cap_to, segment.objective_to)):
            if cost is not None and cap > 0:
                assert planner.solve(tiny, caps={"CN:oxide": cap}).objective_usd == \
                    pytest.approx(cost)
    assert swept.tightest_feasible_cap == pytest.approx(0.0)
    grid = planner.sweep(tiny, "CN:oxide", start=0.2, end=0.4, steps=3)
    assert grid.points["objective_usd"].tolist() == pytest.approx(
        [planner.solve(tiny, caps={"CN:oxide": c}).objective_usd for c in (0.2, 0.3, 0.4)])


def test_warnings_from_loading_are_issued(tmp_path):
    for table in TINY.glob("*.csv"):
        (tmp_path / table.name).write_text(table.read_text())
    offers = tmp_path / "offers.csv"
    offers.write_text(offers.read_text() + "ox_zz,oxide,Oxide Z,ZZ,500,,0,0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = planner.load(tmp_path)
    assert any("ZZ" in str(w.message) for w in caught)
    assert data.warnings


def tiny_frames() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in TINY.glob("*.csv")}


def test_a_dict_of_dataframes_loads_like_the_folder():
    frames = tiny_frames()
    plan = planner.solve(planner.load(frames))
    assert plan.objective_usd == pytest.approx(4_100)
    manifest = plan.to_json()["manifest"]
    assert {i["table"] for i in manifest["inputs"]} == set(frames)


def test_a_bad_dataframe_cell_is_reported_like_a_bad_csv_cell():
    frames = tiny_frames()
    frames["offers"].loc[1, "price_usd_per_t"] = -100.0
    with pytest.raises(planner.InputError) as caught:
        planner.load(frames)
    [problem] = caught.value.problems
    assert "offers" in problem.table
    assert (problem.row, problem.column) == (3, "price_usd_per_t")


def test_input_error_message_lists_the_problems(tmp_path):
    for table in TINY.glob("*.csv"):
        (tmp_path / table.name).write_text(table.read_text())
    stages = tmp_path / "stages.csv"
    stages.write_text("stage,order,demand_t\noxide,0,-1\nmagnet,x,10\n")
    with pytest.raises(planner.InputError) as caught:
        planner.load(tmp_path)
    message = str(caught.value)
    assert message.startswith("2 problem(s) in the input:")
    assert "row 2, column demand_t: value '-1'" in message
    assert "row 3, column order: value 'x'" in message


def test_digests_describe_the_data_as_loaded():
    """Changing a frame after ``load`` changes neither the plan nor its manifest."""
    frames = tiny_frames()
    data = planner.load(frames)
    before = {i["table"]: i["sha256"] for i in planner.solve(data).manifest["inputs"]}
    frames["stages"].loc[0, "demand_t"] = 99_999
    plan = planner.solve(data)
    assert plan.objective_usd == pytest.approx(4_100)
    assert {i["table"]: i["sha256"] for i in plan.manifest["inputs"]} == before


def test_empty_frames_keep_the_spec_columns(tiny):
    infeasible = planner.solve(tiny, caps={"each:oxide": 0.4})
    assert list(infeasible.purchases.columns) == [
        "offer", "stage", "supplier", "country", "tonnes", "landed_usd_per_t"]
    assert list(infeasible.shadow_prices["limits"].columns) == [
        "group", "stage", "bound", "usd_per_pp", "valid_from", "valid_to"]
    out = infeasible.to_json()
    assert (out["purchases"], out["production"], out["shares"]) == ([], [], [])
    assert set(out["shadow_prices"]) >= {"demand", "capacity", "limits"}


@pytest.mark.parametrize(("call", "kwargs"), [
    ("solve", {"zone": "member"}), ("solve", {"caps": ["CN:oxide=0.6"]}),
    ("solve", {"caps": "CN:oxide=0.6"}), ("solve", {"time_limit": -1}),
    ("sweep", {"cap": "CN:oxide", "scope": "indirect"}),
    ("sweep", {"cap": "each:oxide", "exact": True}),
    ("sweep", {"cap": "CN:oxide", "start": 1.5, "end": 0.4}),
    ("sweep", {"cap": "CN:oxide", "steps": 0}), ("sweep", {"cap": "CN-oxide"})])
def test_bad_arguments_raise_input_error(tiny, call, kwargs):
    with pytest.raises(planner.InputError):
        getattr(planner, call)(tiny, **kwargs)


def test_load_refuses_what_is_not_a_dataset():
    with pytest.raises(planner.InputError):
        planner.load(5)


def test_compare_takes_one_name_and_carries_the_manifest(tiny):
    frame = planner.compare(tiny, "join")
    assert list(frame.columns) == ["join"]
    assert frame.attrs["manifest"]["command"] == "planner.compare"


def test_sweep_is_short_in_a_repr_and_carries_the_manifest(tiny):
    swept = planner.sweep(tiny, "CN:oxide", exact=True)
    assert len(repr(swept)) < 200
    assert "<table" in swept._repr_html_()
    assert swept.to_json()["manifest"]["command"] == "planner.sweep"
