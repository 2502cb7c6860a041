"""The run manifest in every output format; a closed pipe; numbers never folded."""

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_first_year

from planner.cli import main
from planner.reports.render import _text

TINY = Path(__file__).parent / "data" / "tiny-chain"
PLANNER = [str(Path(sys.executable).with_name("planner"))]  # the console script


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def digests(folder: Path) -> dict[str, str]:
    return {str(p.resolve()): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.csv"))}


def test_json_manifest_names_versions_inputs_arguments_and_residuals():
    result = run("solve", "--inputs", TINY, "--cap", "CN:oxide=0.3", "--format", "json")
    out = json.loads(result.stdout)
    manifest = out["manifest"]
    assert manifest["version"] == metadata.version("supply-planner")
    assert manifest["libraries"]["pyomo"] == metadata.version("pyomo")
    assert manifest["libraries"]["highspy"] == metadata.version("highspy")
    assert manifest["python"] == ".".join(map(str, sys.version_info[:3]))
    assert {i["file"]: i["sha256"] for i in manifest["inputs"]} == digests(TINY)
    assert manifest["arguments"]["caps"] == ["CN:oxide=0.3"]
    assert manifest["arguments"]["inputs"] == str(TINY)
    assert manifest["verification"] == out["verification"]
    assert manifest["ran_at"].endswith("+00:00")


def test_an_edited_input_changes_its_digest(tmp_path):
    for table in TINY.glob("*.csv"):
        (tmp_path / table.name).write_bytes(table.read_bytes())
    before = json.loads(run("solve", "--inputs", tmp_path, "--format", "json").stdout)
    with (tmp_path / "stages.csv").open("a") as handle:
        handle.write("\n")
    after = json.loads(run("solve", "--inputs", tmp_path, "--format", "json").stdout)
    changed = [a["file"] for a, b in zip(after["manifest"]["inputs"],
                                         before["manifest"]["inputs"], strict=True)
               if a["sha256"] != b["sha256"]]
    assert changed == [str((tmp_path / "stages.csv").resolve())]


def test_csv_folder_has_a_manifest_file(tmp_path):
    run("solve", "--inputs", TINY, "--format", "csv", "--output", tmp_path / "out")
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv")
    values = dict(zip(manifest["key"], manifest["value"], strict=True))
    for file, sha in digests(TINY).items():
        assert values[f"input {file}"].startswith(f"sha256 {sha} (")
    assert values["command"] == "solve"


def test_workbook_has_a_manifest_sheet(tmp_path):
    run("solve", "--inputs", TINY, "--format", "xlsx", "--output", tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx", read_only=True)
    rows = list(book["manifest"].iter_rows(values_only=True))
    assert rows[0] == ("key", "value")
    assert ("version", metadata.version("supply-planner")) in rows


def test_terminal_ends_with_the_manifest():
    text = run("solve", "--inputs", TINY).stdout
    assert "Run manifest" in text
    assert all(sha in text for sha in digests(TINY).values())


@pytest.mark.parametrize("command", [["compare", "--inputs", str(TINY), "join"],
                                     ["sweep", "--inputs", str(TINY), "--cap", "CN:oxide",
                                      "--exact"]])
def test_compare_and_sweep_carry_the_manifest(command):
    out = json.loads(run(*command, "--format", "json").stdout)
    assert out["manifest"]["command"] == command[0]
    assert len(out["manifest"]["inputs"]) == len(digests(TINY))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_closed_pipe_is_not_an_infeasible_plan(fmt):
    """The reader is gone before the planner writes a byte (``planner solve | head``
    at its harshest): the exit code is still the plan's, and nothing is traced back."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([*PLANNER, "solve", "--inputs", str(TINY), "--format", fmt],
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "optimal: total landed cost 4,100.00 USD" in done.stderr


def test_an_infeasible_plan_on_a_closed_pipe_still_exits_1():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([*PLANNER, "solve", "--inputs", str(TINY), "--cap",
                               "each:oxide=0.4"], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 1, done.stderr


def test_compare_never_splits_a_number_when_not_a_terminal(tmp_path):
    """Every shipped scenario side by side (on the calibration year: the table's width is
    what matters, not the horizon): each total cost appears whole in the table (it was
    folded as "539,976,684 / .88" at 200 columns)."""
    year = write_first_year(tmp_path / "year")
    report = json.loads(run("compare", "--inputs", year, "--format", "json").stdout)
    text = run("compare", "--inputs", year).stdout
    costs = [c["objective_usd"] for c in report["columns"] if c["objective_usd"]]
    assert len(costs) >= 10
    for cost in costs:
        assert _text(cost) in text, _text(cost)


def test_zero_residuals_are_kept_in_every_format(tmp_path):
    """A verification residual of 0.0 is a value, not an unset argument."""
    run("solve", "--inputs", TINY, "--format", "csv", "--output", tmp_path / "out")
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv")
    values = dict(zip(manifest["key"], manifest["value"], strict=True))
    for name in ("primal", "dual", "gap"):
        assert f"verification {name}" in values
    swept = run("sweep", "--inputs", TINY, "--cap", "CN:oxide", "--from", "0.4", "--to", "0",
                "--steps", "3", "--format", "csv", "--output", tmp_path / "sweep")
    assert swept.exit_code == 0, swept.output
    manifest = pd.read_csv(tmp_path / "sweep" / "manifest.csv")
    assert float(dict(zip(manifest["key"], manifest["value"], strict=True))[
        "arguments to"]) == 0.0


def test_a_workbook_must_be_named_xlsx(tmp_path):
    result = run("solve", "--inputs", TINY, "--format", "xlsx", "--output", tmp_path / "x.csv")
    assert result.exit_code == 2
    assert "ending in .xlsx" in result.output
    assert not (tmp_path / "x.csv").exists()
