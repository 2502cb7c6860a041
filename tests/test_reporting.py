"""Report totals, odd-but-valid chains, warnings and output files (review findings)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_rows, write_rows

from planner.cli import main

TINY = Path(__file__).parent / "data" / "tiny-chain"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_joined_totals_split_out_the_zone_levy(tiny):
    """Hand: joined, benchmarks oxide 90 / magnet 295; CN (non-member) oxide 50 → levy 40,
    landed 90; magnets via the Korean route 2 × (0.4·90 + 0.6·100) + 100 = 292 < 295, so
    40 t oxide: 16 t CN (levy 16 × 40 = 640) + 24 t AU, and 10 t made: total 4,840."""
    out = json.loads(run("solve", "--inputs", str(tiny), "--zone", "joined",
                         "--format", "json").stdout)
    assert out["objective_usd"] == pytest.approx(4840.0)
    assert out["totals"]["levy_usd"] == pytest.approx(640.0)
    assert out["totals"]["duty_usd"] == pytest.approx(0.0)
    assert out["totals"]["total_less_levy_usd"] == pytest.approx(4200.0)
    oxide = next(r for r in out["cost_by_stage"] if r["stage"] == "oxide")
    assert oxide["of_which_levy_usd"] == pytest.approx(640.0)


def test_stage_without_demand_or_supply_is_not_an_error(tiny):
    rows = read_rows(tiny, "stages")
    write_rows(tiny, "stages", [*rows, ["alloy", "5", "0"]])
    result = run("solve", "--inputs", str(tiny), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["objective_usd"] == pytest.approx(4100.0)


def test_stage_with_demand_but_no_supply_is_infeasible_with_reason(tiny):
    rows = read_rows(tiny, "stages")
    write_rows(tiny, "stages", [*rows, ["alloy", "5", "3"]])
    result = run("solve", "--inputs", str(tiny), "--format", "json")
    assert result.exit_code == 1
    diagnosis = json.loads(result.stdout)["diagnosis"]
    assert diagnosis["conflicts"][0]["name"] == "alloy"
    assert "nothing supplies it" in diagnosis["summary"]


@pytest.mark.parametrize("where", ["limits", "cap", "scenario"])
def test_cap_on_unlisted_country_warns(tiny, where):
    args = ["solve", "--inputs", str(tiny)]
    if where == "limits":
        write_rows(tiny, "limits", [*read_rows(tiny, "limits"),
                                    ["ZZ", "magnet", "", "0.5", "volume", "direct"]])
    elif where == "cap":
        args += ["--cap", "ZZ:magnet=0.5"]
    else:
        write_rows(tiny, "scenarios", [["scenario", "setting", "target", "value"],
                                       ["typo", "max_share", "ZZ:magnet", "0.5"]])
        args += ["--scenario", "typo"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr
    assert "ZZ" in result.stderr


def test_absurdly_large_number_is_an_input_error(tiny):
    rows = read_rows(tiny, "offers")
    rows[1][4] = "1e308"
    write_rows(tiny, "offers", rows)
    result = run("check", "--inputs", str(tiny))
    assert result.exit_code == 2
    assert "price_usd_per_t" in result.stderr
    assert "1e308" in result.stderr


def test_output_files_are_readable_by_others(tiny, tmp_path):
    target = tmp_path / "plan.json"
    previous = os.umask(0o022)
    try:
        result = run("solve", "--inputs", str(tiny), "--format", "json", "--output",
                     str(target))
    finally:
        os.umask(previous)
    assert result.exit_code == 0
    assert "wrote json" in result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_empty_tables_are_not_written_as_empty_files(tiny, tmp_path):
    write_rows(tiny, "limits", read_rows(tiny, "limits")[:1])
    folder = tmp_path / "out"
    assert run("solve", "--inputs", str(tiny), "--format", "csv", "--output",
               str(folder)).exit_code == 0
    assert not (folder / "limit_prices.csv").exists()
    assert all(path.stat().st_size > 1 for path in folder.iterdir())


def test_output_write_is_atomic_when_it_fails_midway(tmp_path, monkeypatch):
    """A crash while writing leaves the previous file whole and no temporary file."""
    from planner.io import write as output

    target = tmp_path / "plan.json"
    target.write_text("previous plan\n")

    def half_written(handle):
        handle.write(b"{\"status\": ")
        raise OSError("disk full")

    with pytest.raises(output.OutputError, match="disk full"):
        output._atomic(target, half_written)
    assert target.read_text() == "previous plan\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
