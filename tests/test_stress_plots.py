"""`planner stress --plot`: the figure of a stress result (costs by branch, sampled
futures, stock paths) on the shipped dataset with disruptions, without them, on one
year (no stocks), with and without sampled futures; what is drawn is checked against
the JSON it was drawn from."""

from __future__ import annotations

import copy
import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_first_year
from matplotlib.figure import Figure

from planner.api import default_inputs
from planner.cli import main
from planner.reports.stress_plots import (
    axis_unit,
    branches,
    draw_stress,
    family,
    plot_stress,
    tail_rows,
)

# Three disruptions in two families on the shipped data (a reduced copy of the Korean
# pending set): Dy/Tb exports stop in 2026 or 2028, Chinese magnet supply is cut in 2027.
DISRUPTIONS = """disruption,probability,period,duration,setting,target,value
cn-dytb-stop-2026,0.05,2026,1,capacity_factor,CN:dytb-oxide,0
cn-dytb-stop-2026,0.05,2026,1,capacity_factor,CN:dytb-metal,0
cn-dytb-stop-2026,0.05,2026,1,price_factor,ex-cn:dytb-oxide,3.16
cn-dytb-stop-2026,0.05,2026,1,price_factor,ex-cn:dytb-metal,3.16
cn-dytb-stop-2028,0.045,2028,1,capacity_factor,CN:dytb-oxide,0
cn-dytb-stop-2028,0.045,2028,1,capacity_factor,CN:dytb-metal,0
cn-dytb-stop-2028,0.045,2028,1,price_factor,ex-cn:dytb-oxide,3.16
cn-dytb-stop-2028,0.045,2028,1,price_factor,ex-cn:dytb-metal,3.16
cn-magnet-half-2027,0.02,2027,1,capacity_factor,CN:magnet,0.25
cn-magnet-half-2027,0.02,2027,1,price_factor,ex-cn:magnet,1.7
"""


def stress(inputs: Path) -> dict:
    """`planner stress --format json` on ``inputs``."""
    result = CliRunner().invoke(main, ["stress", "--format", "json", "--inputs", str(inputs)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def disrupted(tmp_path_factory) -> dict:
    """The shipped data with three disruptions: four branches, four stocks."""
    folder = tmp_path_factory.mktemp("disrupted")
    for path in default_inputs().glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "disruptions.csv").write_text(DISRUPTIONS, encoding="utf-8")
    return stress(folder)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict:
    """The shipped data without its disruptions: one branch, stocks."""
    folder = tmp_path_factory.mktemp("no-disruptions")
    for path in default_inputs().glob("*.csv"):
        if path.name != "disruptions.csv":
            (folder / path.name).write_bytes(path.read_bytes())
    return stress(folder)


@pytest.fixture(scope="module")
def one_year(tmp_path_factory) -> dict:
    """The shipped data as one year: one branch, no stocks."""
    return stress(write_first_year(tmp_path_factory.mktemp("one-year")))


def with_samples(out: dict, costs: bool) -> dict:
    """``out`` with sampled futures (as ``--samples`` will add them), each future's cost
    listed or not."""
    rng = np.random.default_rng(3)
    base = min(b["cost_usd"] for b in out["branches"])
    draws = base + rng.gamma(0.5, 4e7, 500)
    tail = np.sort(draws)[-50:]
    samples = {"n": 500, "seed": 3, "mean_usd": float(draws.mean()),
               "p50_usd": float(np.quantile(draws, 0.5)),
               "p90_usd": float(np.quantile(draws, 0.9)),
               "p99_usd": float(np.quantile(draws, 0.99)), "cvar_usd": float(tail.mean()),
               "shortage_probability": 0.08}
    if costs:
        samples["costs_usd"] = [float(c) for c in draws]
    return copy.deepcopy(out) | {"samples": samples}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def drawn(out: dict, names: dict | None = None) -> Figure:
    fig = Figure(figsize=(11, 10), layout="constrained")
    draw_stress(fig, out, names or {})
    return fig


def by_gid(fig: Figure, gid: str) -> list:
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def scale(ax) -> float:
    """Dollars per unit of the money axis, read from its label."""
    name = ax.get_xlabel().rsplit("(", 1)[1]
    return next(s for s, n in ((1e9, "USD bn"), (1e6, "USD M"), (1e3, "USD k"), (1, "USD"))
                if name.startswith(n))


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(
        lambda a: hasattr(a, "get_text") and callable(a.get_text)))


# -- files -------------------------------------------------------------------------------

def test_png_of_the_disrupted_plan(tmp_path, disrupted):
    target = tmp_path / "stress.png"
    plot_stress(disrupted, target)
    width, height = png_size(target)
    assert width >= 1400
    assert height >= 1200
    assert target.stat().st_size > 50_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_svg_keeps_text_and_no_date(tmp_path, disrupted):
    target = tmp_path / "figures" / "stress.svg"             # a missing folder is created
    plot_stress(disrupted, target, names={"cn-magnet-half": "China cuts magnets by half"})
    assert ET.parse(target).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    text = target.read_text(encoding="utf-8")
    assert "total discounted cost, 2025–2030 (USD M)" in text
    assert "Stock of dytb-oxide" in text
    assert "China cuts magnets by half (2.0 %)" in text       # a named family
    assert "<dc:date>" not in text


@pytest.mark.parametrize("case", ["shipped", "one_year"])
def test_one_branch_datasets_draw(tmp_path, request, case):
    out = request.getfixturevalue(case)
    target = tmp_path / f"{case}.png"
    plot_stress(out, target)
    assert png_size(target)[0] >= 1400


@pytest.mark.parametrize("costs", [True, False])
def test_with_samples_draws(tmp_path, disrupted, costs):
    target = tmp_path / "samples.png"
    plot_stress(with_samples(disrupted, costs), target)
    assert target.stat().st_size > 50_000


# -- what is drawn -----------------------------------------------------------------------

def test_dots_are_the_branch_costs(disrupted):
    fig = drawn(disrupted)
    (dots,) = by_gid(fig, "branch-costs")
    ax = dots.axes
    rows = sorted(disrupted["branches"], key=lambda r: r["cost_usd"])
    assert len(rows) == 4
    x, y = dots.get_offsets().T
    assert list(x * scale(ax)) == pytest.approx([r["cost_usd"] for r in rows], rel=1e-12)
    assert list(y) == [0, 1, 2, 3]                                  # cheapest on top
    assert [t.get_text() for t in ax.get_yticklabels()] == [r["branch"] for r in rows]
    (expected,) = by_gid(fig, "expected")
    (cvar,) = by_gid(fig, "cvar")
    assert expected.get_xdata()[0] * scale(ax) == pytest.approx(disrupted["expected_cost_usd"])
    assert cvar.get_xdata()[0] * scale(ax) == pytest.approx(disrupted["cvar_usd"])
    assert "USD M" in ax.get_xlabel()            # 2.5 bn spread over tens of M: shown in M
    text = texts(fig)
    assert "CVaR 90 % (mean of the worst 10 %)" in text            # α of the result
    assert "88.5 %" in text                                         # base's probability


def test_alpha_from_the_manifest_names_the_tail(disrupted):
    out = copy.deepcopy(disrupted)
    del out["cvar_alpha"]   # an older result: α only in the run's arguments
    out["manifest"]["arguments"]["alpha"] = 0.95
    text = texts(drawn(out))
    assert "CVaR 95 % (mean of the worst 5 %)" in text
    assert "branches in the worst 5 % (the CVaR tail)" in text


def test_stock_lines_follow_the_stocks_table(disrupted):
    fig = drawn(disrupted)
    stocks = disrupted["stocks"]
    stages = list(dict.fromkeys(s["stage"] for s in stocks))
    assert [ax.get_title(loc="left") for ax in fig.axes
            if ax.get_title(loc="left").startswith("Stock of")] == [
        f"Stock of {s}" for s in stages]
    periods = sorted({s["period"] for s in stocks})
    for stage in stages:
        days = {(s["branch"], s["period"]): s["days_of_cover"] for s in stocks
                if s["stage"] == stage}
        (base,) = by_gid(fig, f"stock:{stage}:base")
        assert list(base.get_ydata()) == [days["base", p] for p in periods]
        (hit,) = by_gid(fig, f"stock:{stage}:cn-dytb-stop-2028")
        # from the base level of 2027 to the branch's levels from 2028 on
        assert list(hit.get_xdata()) == [2, 3, 4, 5]
        assert list(hit.get_ydata()) == [days["base", "2027"]] + [
            days["cn-dytb-stop-2028", p] for p in periods[3:]]
        (floor,) = by_gid(fig, f"floor:{stage}")
        base_rows = [s for s in stocks if s["stage"] == stage and s["branch"] == "base"]
        assert list(floor.get_ydata()) == pytest.approx(
            [s["days_of_cover"] * s["floor_t"] / s["level_t"] for s in base_rows], abs=0.01)
    # the legend names families, not branches
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["base (88.5 %)", "cn-dytb-stop (2 branches, 9.5 % together)",
                      "cn-magnet-half (2.0 %)", "below the floor (base branch)"]


def test_families_share_a_colour(disrupted):
    fig = drawn(disrupted)
    colour = {b: by_gid(fig, f"stock:dytb-oxide:{b}")[0].get_color()
              for b in ("cn-dytb-stop-2026", "cn-dytb-stop-2028", "cn-magnet-half-2027")}
    assert colour["cn-dytb-stop-2026"] == colour["cn-dytb-stop-2028"]
    assert colour["cn-magnet-half-2027"] != colour["cn-dytb-stop-2026"]


def test_one_branch_with_stocks(shipped):
    assert "branches" not in shipped
    fig = drawn(shipped)
    (dots,) = by_gid(fig, "branch-costs")
    assert dots.get_offsets()[0][0] * scale(dots.axes) == pytest.approx(
        shipped["expected_cost_usd"])
    assert "one branch (no disruptions), so expected cost = CVaR" in texts(fig)
    assert len(by_gid(fig, "stock:ndpr-oxide:base")) == 1
    assert not [a for a in fig.findobj() if str(a.get_gid()).startswith("stock:")
                and not str(a.get_gid()).endswith(":base")]


def test_no_stocks_gets_a_note(one_year, disrupted):
    for out in (one_year, copy.deepcopy(disrupted) | {"stocks": []}):
        fig = drawn(out)
        assert "no stocks in this dataset" in texts(fig)
        assert not [ax for ax in fig.axes if ax.get_title(loc="left").startswith("Stock")]
    (dots,) = by_gid(drawn(one_year), "branch-costs")
    assert dots.axes.get_xlabel() == "total landed cost (USD M / year)"   # one period


def test_samples_histogram_and_quantiles(disrupted):
    out = with_samples(disrupted, costs=True)
    fig = drawn(out)
    bars = by_gid(fig, "samples-hist")
    assert sum(p.get_height() for p in bars) == pytest.approx(100)   # % of the futures
    ax = bars[0].axes
    costs = out["samples"]["costs_usd"]
    assert bars[0].get_x() * scale(ax) == pytest.approx(min(costs))
    assert (bars[-1].get_x() + bars[-1].get_width()) * scale(ax) == pytest.approx(max(costs))
    for key in ("p50", "p90", "p99"):
        (line,) = by_gid(fig, key)
        assert line.get_xdata()[0] * scale(ax) == pytest.approx(out["samples"][f"{key}_usd"])
    (mean,) = by_gid(fig, "samples-mean")
    assert mean.get_xdata()[0] * scale(ax) == pytest.approx(out["samples"]["mean_usd"])
    assert "500 sampled futures, seed 3 — demand unmet in 8 % of them" in texts(fig)


def test_samples_without_each_cost(disrupted):
    out = with_samples(disrupted, costs=False)
    fig = drawn(out)
    assert not by_gid(fig, "samples-hist")
    (strip,) = by_gid(fig, "samples-strip")
    ax = strip.axes
    assert [v * scale(ax) for v in strip.get_xdata()] == pytest.approx(
        [out["samples"]["p50_usd"], out["samples"]["p99_usd"]])
    assert len(by_gid(fig, "p90")) == 1


def test_no_plan_draws_the_reason():
    fig = drawn({"status": "infeasible", "message": "demand cannot be met",
                 "objective_usd": None, "stocks": []})
    assert "no plan: infeasible — demand cannot be met" in texts(fig)


# -- helpers -----------------------------------------------------------------------------

def test_family_drops_the_year():
    assert family("cn-dytb-stop-2026") == "cn-dytb-stop"
    assert family("base") == "base"
    assert family("2027") == "2027"


def test_axis_unit_follows_the_spread():
    assert axis_unit([2.50e9, 2.81e9]).name == "USD M"          # not 2.5–2.8 bn
    assert axis_unit([1.0e9, 9.0e9]).name == "USD bn"
    assert axis_unit([378.6e6]).name == "USD M"


def test_tail_rows_cover_one_minus_alpha():
    rows = [{"branch": b, "probability": p, "cost_usd": c}
            for b, p, c in (("base", 0.9, 1.0), ("a", 0.06, 3.0), ("b", 0.04, 2.0))]
    assert tail_rows(rows, 0.95) == ["a"]
    assert tail_rows(rows, 0.9) == ["a", "b"]
    assert branches({"expected_cost_usd": 5.0})[0]["probability"] == 1.0
