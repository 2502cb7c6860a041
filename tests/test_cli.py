"""The `planner` command end to end (SPEC §5), on tests/data/tiny-chain.

Expected values are worked out by hand from SPEC §3; the base case is the one in
the docstring of shared/conformance/check.py (objective 4,100 USD):

  oxide:  8 t China at 50 + 12 t Australia at 100 (China capped at 40 %) = 1,600
  magnet: Korean route 2 x 80 + 100 = 260/t > Chinese magnets 250/t -> 10 t x 250 = 2,500

Rule used below: with China at its cap q on oxide, blended oxide costs
q x landed(ox_cn) + (1 - q) x landed(ox_au), and the Korean magnet route costs
2 x blended + 100 per t of magnet.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_rows, write_rows
from openpyxl import load_workbook

from planner.cli import default_inputs, main

TINY = Path(__file__).parent / "data" / "tiny-chain"
HYPERLINK = '=HYPERLINK("http://evil.example","click")'


# -- helpers -------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def solve_json(inputs: Path, *args: str) -> tuple[int, dict]:
    result = run("solve", "--inputs", inputs, "--format", "json", *args)
    assert "Traceback" not in result.output
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON object (exit {result.exit_code}):\n{result.output}")


def copy_tiny(tmp_path: Path, name: str = "tiny") -> Path:
    folder = tmp_path / name
    shutil.copytree(TINY, folder)
    return folder


def set_cells(folder: Path, table: str, offer_or_key: str, **values: str) -> None:
    """Set cells of the row whose first column is ``offer_or_key``."""
    rows = read_rows(folder, table)
    header = rows[0]
    for row in rows[1:]:
        if row[0] == offer_or_key:
            for column, value in values.items():
                row[header.index(column)] = value
            break
    else:
        raise AssertionError(f"{table}: no row {offer_or_key}")
    write_rows(folder, table, rows)


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def near(a, b, tol: float = 1e-6) -> bool:
    return isinstance(a, int | float) and abs(a - b) <= tol * max(1.0, abs(b))


def bought(report: dict) -> dict[str, float]:
    return {r["offer"]: r["tonnes"] for r in report["purchases"]}


def landed(report: dict) -> dict[str, float]:
    """Landed USD/t of every offer: purchases for used ones, reduced costs for the rest."""
    costs = {r["offer"]: r["landed_usd_per_t"] for r in report["purchases"]}
    for r in report["shadow_prices"].get("reduced_costs", []):
        if r.get("kind", "offer") == "offer":
            costs.setdefault(r["offer"], r["cost_usd_per_t"])
    return costs


# -- table / json / csv / xlsx ------------------------------------------------------------

def test_table_format_shows_objective():
    result = run("solve", "--inputs", TINY)
    assert result.exit_code == 0, result.output
    assert re.search(r"objective_usd\W+4,100\b", result.stdout), result.stdout
    assert "Traceback" not in result.output


def test_json_has_spec_keys_and_hand_values():
    code, d = solve_json(TINY)
    assert code == 0
    assert d["status"] == "optimal"
    assert near(d["objective_usd"], 4100.0)
    required = {
        "purchases": {"offer", "stage", "supplier", "country", "tonnes", "landed_usd_per_t"},
        "production": {"process", "tonnes"},
        "shares": {"group", "stage", "share", "basis", "scope"},
    }
    for key, fields in required.items():
        assert d[key], f"{key} is empty"
        for row in d[key]:
            assert fields <= row.keys(), f"{key} row {row} lacks {fields - row.keys()}"
    sp = d["shadow_prices"]
    sp_fields = {"demand": {"stage", "usd_per_t"}, "capacity": {"offer", "usd_per_t"},
                 "limits": {"group", "stage", "bound", "usd_per_pp", "valid_from", "valid_to"}}
    for key, fields in sp_fields.items():
        assert isinstance(sp[key], list)
        for row in sp[key]:
            assert fields <= row.keys(), f"shadow_prices.{key} row {row} lacks fields"
    assert bought(d) == pytest.approx({"ox_cn": 8.0, "ox_au": 12.0, "mg_cn": 10.0})
    purchase = {r["offer"]: r for r in d["purchases"]}
    assert purchase["ox_cn"]["supplier"] == "Oxide China"
    assert purchase["ox_cn"]["country"] == "CN"
    assert purchase["ox_cn"]["stage"] == "oxide"
    assert purchase["ox_au"]["landed_usd_per_t"] == pytest.approx(100.0)
    assert {r["process"]: r["tonnes"] for r in d["production"]} == pytest.approx(
        {"kr_magnets": 0.0})
    shares = {(r["group"], r["stage"]): r["share"] for r in d["shares"]
              if r["basis"] == "volume" and r["scope"] == "direct"}
    assert shares[("CN", "oxide")] == pytest.approx(0.4)
    assert shares[("AU", "oxide")] == pytest.approx(0.6)
    assert shares[("CN", "magnet")] == pytest.approx(1.0)
    demand = {r["stage"]: r["usd_per_t"] for r in sp["demand"]}
    assert demand == pytest.approx({"oxide": 80.0, "magnet": 250.0})
    (limit,) = [r for r in sp["limits"] if (r["group"], r["stage"]) == ("CN", "oxide")]
    assert limit["bound"] == "max"
    assert limit["usd_per_pp"] == pytest.approx(10.0)
    # the rate holds while the Korean route stays dearer than Chinese magnets:
    # 2 x (q x 50 + (1 - q) x 100) + 100 >= 250  <=>  q >= 0.5 ... and down to 0
    assert limit["valid_from"] == pytest.approx(0.0)
    assert limit["valid_to"] == pytest.approx(0.5)


def test_json_capacity_dual_of_binding_offer(tmp_path):
    # ox_cn limited to 6 t (below the 40 % cap of 8 t): oxide 6 x 50 + 14 x 100 = 1,700,
    # marginal oxide is Australian (100), Korean route 300 > 250: magnets 2,500.
    # One more t of Chinese capacity replaces 1 t of Australian oxide: saves 50 USD.
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_cn", capacity_t="6")
    code, d = solve_json(folder)
    assert code == 0
    assert near(d["objective_usd"], 4200.0)
    capacity = {r["offer"]: r["usd_per_t"] for r in d["shadow_prices"]["capacity"]}
    assert capacity["ox_cn"] == pytest.approx(50.0)
    (limit,) = [r for r in d["shadow_prices"]["limits"] if r["group"] == "CN"]
    assert limit["usd_per_pp"] == pytest.approx(0.0)


def test_csv_output_one_file_per_table(tmp_path):
    out = tmp_path / "out"
    result = run("solve", "--inputs", TINY, "--format", "csv", "--output", out)
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"purchases.csv", "production.csv", "shares.csv"} <= names
    assert any("demand" in n for n in names)
    with (out / "purchases.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"offer", "stage", "supplier", "country", "tonnes", "landed_usd_per_t"} <= set(rows[0])
    assert {r["offer"]: float(r["tonnes"]) for r in rows} == pytest.approx(
        {"ox_cn": 8.0, "ox_au": 12.0, "mg_cn": 10.0})


def test_xlsx_output_one_sheet_per_table(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = run("solve", "--inputs", TINY, "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert {"purchases", "production", "shares"} <= set(book.sheetnames)
    rows = list(book["purchases"].iter_rows(values_only=True))
    header = list(rows[0])
    assert {"offer", "tonnes", "landed_usd_per_t"} <= set(header)
    tonnes = {r[header.index("offer")]: r[header.index("tonnes")] for r in rows[1:]}
    assert tonnes == pytest.approx({"ox_cn": 8.0, "ox_au": 12.0, "mg_cn": 10.0})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_file_formats_need_output(fmt):
    result = run("solve", "--inputs", TINY, "--format", fmt)
    assert result.exit_code == 2
    assert "--output" in result.output
    assert "Traceback" not in result.output


# -- --cap ---------------------------------------------------------------------------------

def test_cap_tightens_by_reported_rate():
    # 0.39: 7.8 t China at 50 + 12.2 t Australia at 100 = 1,610; magnets 2,500 -> 4,110
    code, d = solve_json(TINY, "--cap", "CN:oxide=0.39")
    assert code == 0
    assert near(d["objective_usd"], 4110.0)
    assert bought(d)["ox_cn"] == pytest.approx(7.8)


def test_cap_on_every_stage_adds_a_row_and_keeps_the_stage_row():
    # --cap CN:*=0.3 adds a row for stage *; the limits row CN:oxide 0.4 still applies, so
    # oxide is held at 0.3 and magnet at 0.3. Blended oxide 0.3 x 50 + 0.7 x 100 = 85,
    # Korean route 2 x 85 + 100 = 270 < mg_jp 300: magnets 3 t CN x 250 + 7 t Korean
    # x 270 = 2,640; oxide demand 20 t x 85 = 1,700. Total 4,340.
    code, d = solve_json(TINY, "--cap", "CN:*=0.3")
    assert code == 0
    assert near(d["objective_usd"], 4340.0)
    assert {r["process"]: r["tonnes"] for r in d["production"]} == pytest.approx(
        {"kr_magnets": 7.0})


def test_value_basis_limit_and_its_shares(tmp_path):
    # feoc (China) at most 20 % of oxide by value: 50 a <= 0.2 (50 a + 100 b) -> a <= b / 2,
    # tighter than the 40 % volume cap. a + b = 20: a = 20/3, b = 40/3;
    # oxide 50 a + 100 b = 5,000/3; Korean route 2 x 250/3 + 100 > 250: magnets 2,500.
    folder = copy_tiny(tmp_path)
    rows = read_rows(folder, "limits")
    rows.append(["feoc", "oxide", "", "0.2", "value", "direct"])
    write_rows(folder, "limits", rows)
    code, d = solve_json(folder)
    assert code == 0
    assert near(d["objective_usd"], 2500.0 + 5000.0 / 3)
    shares = {(r["group"], r["stage"], r["basis"], r["scope"]): r["share"] for r in d["shares"]}
    assert shares[("feoc", "oxide", "value", "direct")] == pytest.approx(0.2)
    assert shares[("feoc", "oxide", "volume", "direct")] == pytest.approx(1 / 3)
    assert shares[("CN", "oxide", "volume", "direct")] == pytest.approx(1 / 3)
    limits = {(r["group"], r["bound"]): r for r in d["shadow_prices"]["limits"]}
    assert limits[("feoc", "max")]["usd_per_pp"] > 0
    assert limits[("CN", "max")]["usd_per_pp"] == pytest.approx(0.0)


# -- --zone --------------------------------------------------------------------------------

def test_benchmarks_do_nothing_for_an_observer():
    code, d = solve_json(TINY, "--zone", "observer")
    assert code == 0
    assert near(d["objective_usd"], 4100.0)
    assert landed(d) == pytest.approx(
        {"ox_cn": 50.0, "ox_au": 100.0, "mg_jp": 300.0, "mg_cn": 250.0})


def test_zone_joined_levies_non_members_below_benchmark():
    # tests/data/tiny-chain/README.md: levy on CN (not a member) up to the benchmark:
    # ox_cn 50 + 40 = 90, mg_cn 250 + 45 = 295; members unchanged. Korean route
    # 2 x 96 + 100 = 292 < 295: 10 t made at home from 40 t oxide -> 4,840.
    code, d = solve_json(TINY, "--zone", "joined")
    assert code == 0
    assert d.get("zone", "joined") == "joined"
    assert landed(d) == pytest.approx(
        {"ox_cn": 90.0, "ox_au": 100.0, "mg_jp": 300.0, "mg_cn": 295.0})
    purchase = {r["offer"]: r for r in d["purchases"]}
    assert purchase["ox_cn"].get("levy_usd_per_t", 40.0) == pytest.approx(40.0)
    assert near(d["objective_usd"], 4840.0)
    assert bought(d) == pytest.approx({"ox_cn": 16.0, "ox_au": 24.0})
    assert {r["process"]: r["tonnes"] for r in d["production"]} == pytest.approx(
        {"kr_magnets": 10.0})
    demand = {r["stage"]: r["usd_per_t"] for r in d["shadow_prices"]["demand"]}
    assert demand == pytest.approx({"oxide": 96.0, "magnet": 292.0})


@pytest.mark.parametrize(("zone", "expected_landed", "objective"), [
    # observer: MFN everywhere: ox_cn 55, ox_au 110, mg_jp 330, mg_cn 250 x 1.2 = 300;
    # KR is domestic: 120, no duty. Blended oxide 0.4 x 55 + 0.6 x 110 = 88, Korean
    # route 276 < 300: 40 t oxide x 88 + 1,000 = 4,520.
    ("observer", {"ox_cn": 55.0, "ox_au": 110.0, "ox_kr": 120.0, "mg_jp": 330.0,
                  "mg_cn": 300.0}, 4520.0),
    # joined: members pay zone_rate 0; CN pays MFN plus the levy: ox_cn 55 + 40 = 95,
    # mg_cn 300 + 45 = 345 (levy uses the FOB price: 295 - 250). Blended 98, Korean
    # route 296 < 300: 16 t x 95 + 24 t x 100 + 1,000 = 4,920.
    ("joined", {"ox_cn": 95.0, "ox_au": 100.0, "ox_kr": 120.0, "mg_jp": 300.0,
                "mg_cn": 345.0}, 4920.0),
])
def test_zone_duty_rates_and_domestic_offer(tmp_path, zone, expected_landed, objective):
    folder = copy_tiny(tmp_path)
    write_rows(folder, "tariffs", [["country", "stage", "mfn_rate", "zone_rate"],
                                   ["*", "*", "0.1", "0"], ["CN", "magnet", "0.2", "0.2"]])
    rows = read_rows(folder, "offers")
    rows.append(["ox_kr", "oxide", "Oxide Korea", "KR", "120", "", "0", "0"])
    write_rows(folder, "offers", rows)
    code, d = solve_json(folder, "--zone", zone)
    assert code == 0
    assert landed(d) == pytest.approx(expected_landed)
    assert near(d["objective_usd"], objective)


# -- --scenario ----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "objective"), [
    # rows in order: 0.1 then 0.3 -> 0.3 holds: oxide 20 x 85 = 1,700 + 2,500
    (["--scenario", "order"], 4200.0),
    # flags after the scenario: --cap 0.2 beats the scenario's 0.3: 20 x 90 + 2,500
    (["--scenario", "order", "--cap", "CN:oxide=0.2"], 4300.0),
    (["--scenario", "join"], 4840.0),
    # --zone after the scenario's zone row
    (["--scenario", "join", "--zone", "observer"], 4100.0),
    # mg_cn 300 = mg_jp: Korean route 260 wins, 40 t oxide x 80 + 1,000
    (["--scenario", "pricey-cn-magnets"], 4200.0),
    # magnet demand 20 t x 250 + 1,600
    (["--scenario", "double-magnets"], 6600.0),
    # every capacity is unlimited and stays unlimited
    (["--scenario", "squeeze"], 4100.0),
    # joined, magnet benchmark 255: mg_cn 255 < Korean 292: oxide 8 x 90 + 12 x 100 + 2,550
    (["--scenario", "low-floor"], 4470.0),
])
def test_scenarios(args, objective):
    code, d = solve_json(TINY, *args)
    assert code == 0
    assert near(d["objective_usd"], objective), d["objective_usd"]


def test_capacity_factor_lowers_min_to_new_capacity(tmp_path):
    # ox_cn: capacity 10, contracted minimum 8. squeeze (x 0.5): capacity 5, so the
    # minimum must drop to 5; ox_au stays unlimited. Oxide 5 x 50 + 15 x 100 = 1,750;
    # Korean route 2 x 87.5 + 100 = 275 > 250: magnets 2,500. Total 4,250.
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_cn", capacity_t="10", min_t="8")
    code, d = solve_json(folder)
    assert code == 0
    assert near(d["objective_usd"], 4100.0)
    code, d = solve_json(folder, "--scenario", "squeeze")
    assert code == 0, d
    assert near(d["objective_usd"], 4250.0)
    assert bought(d) == pytest.approx({"ox_cn": 5.0, "ox_au": 15.0, "mg_cn": 10.0})


# -- infeasible ----------------------------------------------------------------------------

def test_infeasible_exits_1_with_diagnosis(tmp_path):
    # Australia can sell only 10 t of oxide; China capped at 10 % of 20 t: impossible.
    # Tightest feasible China share: 10 t of 20 t = 0.5 (home magnets only add oxide demand).
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_au", capacity_t="10")
    code, d = solve_json(folder, "--cap", "CN:oxide=0.1")
    assert code == 1
    assert d["status"] == "infeasible"
    assert "diagnosis" in d
    tightest = [r for r in d["diagnosis"].get("limits", []) if r.get("group") == "CN"]
    assert tightest
    assert tightest[0]["tightest_feasible"] == pytest.approx(0.5, abs=1e-6)


def test_infeasible_table_format_exits_1(tmp_path):
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_au", capacity_t="10")
    result = run("solve", "--inputs", folder, "--cap", "CN:oxide=0.1")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "infeasible" in result.output.lower()


# -- --output safety -----------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "target"), [
    ("csv", "."),                 # the inputs folder itself
    ("csv", "out"),               # a new folder inside it
    ("json", "offers.csv"),       # over an input file
    ("json", "plan.json"),        # a new file inside it
    ("xlsx", "plan.xlsx"),
    ("table", "sub/plan.txt"),
])
def test_output_into_inputs_is_refused(tmp_path, fmt, target):
    folder = copy_tiny(tmp_path)
    before = snapshot(folder)
    result = run("solve", "--inputs", folder, "--format", fmt, "--output", folder / target)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "input" in result.output.lower()
    assert snapshot(folder) == before


def test_output_into_shipped_default_inputs_is_refused():
    inputs = default_inputs()
    target = inputs / "plan-from-test.json"
    try:
        result = run("solve", "--format", "json", "--output", target)
        assert result.exit_code == 2, result.output
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_output_next_to_inputs_is_allowed(tmp_path):
    folder = copy_tiny(tmp_path)
    before = snapshot(folder)
    result = run("solve", "--inputs", folder, "--format", "json", "--output",
                 tmp_path / "tiny-plan.json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "tiny-plan.json").read_text())["status"] == "optimal"
    assert snapshot(folder) == before


# -- formula injection ---------------------------------------------------------------------

def _hostile_dataset(tmp_path: Path) -> Path:
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_cn", supplier=HYPERLINK)
    set_cells(folder, "offers", "ox_au", supplier="+61 Oxide")
    set_cells(folder, "offers", "mg_cn", supplier="@SUM(A1)")
    set_cells(folder, "settings", "name", value="-2+3")
    return folder


def test_csv_output_neutralises_formulas(tmp_path):
    folder = _hostile_dataset(tmp_path)
    out = tmp_path / "out"
    result = run("solve", "--inputs", folder, "--format", "csv", "--output", out)
    assert result.exit_code == 0, result.output
    with (out / "purchases.csv").open(newline="", encoding="utf-8") as handle:
        suppliers = {r["offer"]: r["supplier"] for r in csv.DictReader(handle)}
    assert suppliers == {"ox_cn": "'" + HYPERLINK, "ox_au": "'+61 Oxide",
                         "mg_cn": "'@SUM(A1)"}
    for path in out.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")), (path.name, cell)
                    assert not (cell.startswith("-") and not _is_number(cell)), (path.name, cell)


def test_xlsx_output_neutralises_formulas(tmp_path):
    folder = _hostile_dataset(tmp_path)
    out = tmp_path / "plan.xlsx"
    result = run("solve", "--inputs", folder, "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    rows = list(book["purchases"].iter_rows(values_only=True))
    header = list(rows[0])
    suppliers = {r[header.index("offer")]: r[header.index("supplier")] for r in rows[1:]}
    assert suppliers["ox_cn"] == "'" + HYPERLINK
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (
                        sheet.title, cell.coordinate, cell.value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- bugs found ----------------------------------------------------------------------------

def test_capacity_factor_each_is_applied_or_rejected(tmp_path):
    # same data as test_capacity_factor_lowers_min_to_new_capacity: 'each' (every country
    # separately) scaled by 0.5 must give what '*' gives (4,250), or be refused (exit 2)
    folder = copy_tiny(tmp_path)
    set_cells(folder, "offers", "ox_cn", capacity_t="10", min_t="8")
    rows = read_rows(folder, "scenarios")
    rows.append(["each-squeeze", "capacity_factor", "each:oxide", "0.5"])
    write_rows(folder, "scenarios", rows)
    result = run("solve", "--inputs", folder, "--scenario", "each-squeeze", "--format", "json")
    assert "Traceback" not in result.output
    if result.exit_code != 2:
        assert result.exit_code == 0, result.output
        assert near(json.loads(result.stdout)["objective_usd"], 4250.0)


@pytest.mark.parametrize(("fmt", "target"), [
    ("json", "afile/plan.json"),     # parent is a regular file
    ("csv", "afile/plans"),
    ("json", "adir"),                # an existing folder where a file is wanted
    ("xlsx", "adir"),
])
def test_unwritable_output_is_a_usage_error(tmp_path, fmt, target):
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "adir").mkdir()
    result = run("solve", "--inputs", TINY, "--format", fmt, "--output", tmp_path / target)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    assert result.exit_code == 2, result.output


def test_unknown_scenario_suggests_the_closest_name():
    result = CliRunner().invoke(main, ["solve", "--scenario", "jioned"])
    assert result.exit_code == 2
    assert "did you mean joined?" in result.output
