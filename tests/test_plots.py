"""`planner sweep --plot`: one chart per kind of sweep, as PNG and SVG, on the shipped
dataset; and the exact curve drawn from the segment formulas."""

from __future__ import annotations

import json
import struct
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_first_year

from planner.cli import main
from planner.reports.plots import exact_curve, sweep_kind

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

KINDS = {
    "exact": ["--cap", "CN:magnet", "--exact"],
    "grid": ["--cap", "CN:magnet", "--from", "0.6", "--to", "0.2", "--steps", "9"],
    "grid2": ["--cap", "CN:magnet", "--cap", "CN:ndpr-metal", "--steps", "6"],
    "parameter": ["--benchmark", "ndpr-oxide", "--from", "50000", "--to", "120000", "--steps",
                  "7"],
    "category": ["--zone"],
}


ONE_YEAR = write_first_year(Path(tempfile.mkdtemp(prefix="korea-2025-")))  # one-year data


def sweep(*args: str) -> tuple[int, dict]:
    """`planner sweep --format json` (on the shipped data as one year unless --inputs)."""
    inputs = [] if "--inputs" in args else ["--inputs", str(ONE_YEAR)]
    result = CliRunner().invoke(main, ["sweep", "--format", "json", *inputs,
                                       *map(str, args)])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout) if result.exit_code in (0, 1) else {}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("kind", KINDS)
def test_png_of_each_kind(tmp_path, kind):
    target = tmp_path / f"{kind}.png"
    code, out = sweep(*KINDS[kind], "--plot", target)
    assert code == 0
    assert sweep_kind(out) == kind
    assert target.stat().st_size > 10_000
    width, height = png_size(target)
    assert width >= 1000
    assert height >= 800
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp file left


@pytest.mark.parametrize("kind", KINDS)
def test_svg_of_each_kind(tmp_path, kind):
    target = tmp_path / "plots" / f"{kind}.svg"       # a missing folder is created
    code, _ = sweep(*KINDS[kind], "--plot", target)
    assert code == 0
    root = ET.parse(target).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = target.read_text(encoding="utf-8")
    assert "total landed cost (USD " in text                   # text kept as text
    assert "<dc:date>" not in text                             # reproducible


def test_exact_chart_names_the_cap(tmp_path):
    target = tmp_path / "exact.svg"
    sweep(*KINDS["exact"], "--plot", target)
    text = target.read_text(encoding="utf-8")
    assert "share of magnet supply (direct, volume): cost of tightening" in text
    # magnet demand has a shortage price: every cap has a plan (some demand unmet)
    assert "no plan below" not in text


def test_exact_chart_marks_where_no_plan_exists(tmp_path):
    """Without the shortage prices, caps below the tightest feasible one have no plan,
    and the chart says from where."""
    folder = tmp_path / "data"
    write_first_year(folder)
    stages = folder / "stages.csv"
    lines = stages.read_text().splitlines()
    column = lines[0].split(",").index("shortage_usd_per_t")
    rows = [line.split(",") for line in lines]
    for row in rows[1:]:
        row[column] = ""
    stages.write_text("\n".join(",".join(row) for row in rows) + "\n")
    target = tmp_path / "exact.svg"
    code, out = sweep("--inputs", folder, *KINDS["exact"], "--plot", target)
    assert code == 0
    tightest = out["tightest_feasible_cap"]
    assert tightest > 0
    assert f"no plan below {100 * tightest:.3g} %" in target.read_text(encoding="utf-8")


def test_plot_must_be_png_or_svg(tmp_path):
    result = CliRunner().invoke(main, ["sweep", "--zone", "--plot", str(tmp_path / "f.txt")])
    assert result.exit_code == 2
    assert ".png or .svg" in result.output
    assert not (tmp_path / "f.txt").exists()


@pytest.mark.parametrize("basis", ["volume", "value"])   # value: linear-fractional pieces
def test_exact_curve_follows_the_segment_formulas(basis):
    code, out = sweep("--cap", "CN:magnet", "--exact", "--basis", basis)
    assert code == 0
    if basis == "value":
        assert any(s["formula"]["u"] != 0 for s in out["segments"])
    per = 50
    curve = exact_curve(out, per_segment=per)
    flat = len(curve.cap) - per * len(out["segments"])
    assert flat == 2                                     # 100 % down to where the cap binds
    assert curve.cap[0] == 1.0
    assert curve.cap[1] == out["unconstrained_share"]
    assert curve.usd_per_pp[:2].tolist() == [0.0, 0.0]
    for k, s in enumerate(out["segments"]):
        first, last = flat + k * per, flat + (k + 1) * per - 1
        assert curve.cap[first] == s["cap_from"]
        assert curve.cap[last] == s["cap_to"]
        assert curve.cost_usd[first] == pytest.approx(s["objective_from"], rel=1e-8, abs=0.5)
        assert curve.cost_usd[last] == pytest.approx(s["objective_to"], rel=1e-8, abs=0.5)
        assert curve.usd_per_pp[first] == pytest.approx(s["usd_per_pp_from"], rel=1e-8)
        assert curve.usd_per_pp[last] == pytest.approx(s["usd_per_pp_to"], rel=1e-8)
    # the curve is continuous across breakpoints, and cost never falls as the cap tightens
    slack = 1.0 + 1e-8 * float(curve.cost_usd.max())   # within rounding
    assert all(abs(b - a) < slack for a, b in zip(curve.cost_usd[flat + per - 1::per],
                                                   curve.cost_usd[flat + per::per],
                                                   strict=False))
    assert (curve.cost_usd[1:] - curve.cost_usd[:-1] > -slack).all()


def test_exact_curve_without_the_flat_start():
    """--from below where the cap binds: the curve starts with the first segment."""
    _, out = sweep("--cap", "CN:magnet", "--exact", "--from", "0.8", "--to", "0.5")
    curve = exact_curve(out, per_segment=10)
    assert len(curve.cap) == 10 * len(out["segments"])
    assert curve.cap[0] == 0.8
    assert curve.cap[-1] == 0.5
