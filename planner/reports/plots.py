"""Draw a ``planner sweep`` result (the sweep JSON object) as a PNG or SVG chart.

One chart per kind of sweep, for people who buy the material:

* exact curve of one cap: total cost against the cap, drawn from each segment's
  formula, with the breakpoints and the region where no plan exists; below it the
  marginal cost of tightening one percentage point (a step at each breakpoint);
* grid over one cap: the same two panels from the points solved;
* grid over two caps: a heat map of total cost, cells without a plan hatched;
* parameter sweep: total cost against the value (observer vs joined as bars).

Caps run from loose on the left to tight on the right, so "tightening" reads left
to right. Figures are built on ``matplotlib.figure.Figure`` (no pyplot, no global
backend) and written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from planner.io.write import _atomic

SIZE, DPI = (9.0, 7.0), 130   # inches, dots per inch (PNG)
LINE, MARK, NOPLAN = "#1f4e79", "#c0392b", "#9e9e9e"
STYLE = {"font.size": 10.5, "axes.titlesize": 12, "axes.labelsize": 10.5,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.color": "#e3e3e3", "grid.linewidth": 0.8, "svg.fonttype": "none",
         "font.family": "DejaVu Sans"}
UNITS = ((1e9, "USD bn"), (1e6, "USD M"), (1e3, "USD k"))


class Unit(NamedTuple):
    """How amounts of money are shown: divided by ``scale``, labelled ``name``."""

    scale: float
    name: str


class ExactCurve(NamedTuple):
    """The exact curve sampled densely: caps (share), cost (USD), marginal (USD/pp)."""

    cap: np.ndarray
    cost_usd: np.ndarray
    usd_per_pp: np.ndarray


def plot_sweep(out: dict, path: Path, names: Mapping[str, str] | None = None) -> None:
    """Draw the sweep ``out`` (as ``sweep_json`` returns it) to ``path`` (.png or .svg).

    ``names``: display names of groups (``{"CN": "China"}``); codes are shown otherwise.
    """
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SIZE, layout="constrained")
        DRAW[sweep_kind(out)](fig, out, names or {})
        save(fig, path)


def sweep_kind(out: dict) -> str:
    """``exact``, ``grid``, ``grid2``, ``parameter`` or ``category`` (e.g. the zone)."""
    if "parameter" in out:
        return "parameter" if all(_number(p["value"]) is not None
                                  for p in out["points"]) else "category"
    if "cap2" in out:
        return "grid2"
    return "exact" if out.get("segments") else "grid"


def save(fig: Figure, path: Path) -> None:
    """Write the figure atomically, in the format its suffix names (no timestamp in SVG)."""
    fmt = path.suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt == "svg" else None
    _atomic(path, lambda handle: fig.savefig(handle, format=fmt, dpi=DPI,
                                             metadata=metadata))


# -- the exact curve ---------------------------------------------------------------------

def exact_curve(out: dict, per_segment: int = 200) -> ExactCurve:
    """The exact curve from the segment formulas, ``per_segment`` samples per segment
    (both ends included, so a breakpoint appears twice: a jump in the marginal cost).

    In a segment the cost at cap c is ``anchor_objective − rate·d/(1 + d·u)`` with
    d = anchor_cap − c, and the marginal cost per percentage point tighter is
    ``−rate/(1 + d·u)² / 100``. Above the share the group has without a cap the cap
    does not bind: the curve is flat there, up to the loosest cap solved.
    """
    caps, costs, rates = [], [], []
    segments = out["segments"]
    loosest = max(p["cap"] for p in out["points"] if p["status"] == "optimal")
    if out.get("unconstrained_share") is not None and loosest > segments[0]["cap_from"]:
        caps.append(np.array([loosest, segments[0]["cap_from"]]))
        costs.append(np.full(2, segments[0]["objective_from"]))
        rates.append(np.zeros(2))
    for segment in segments:
        f = segment["formula"]
        c = np.linspace(segment["cap_from"], segment["cap_to"], per_segment)
        d = f["anchor_cap"] - c
        caps.append(c)
        costs.append(f["anchor_objective"] - f["rate_usd_per_share"] * d / (1 + d * f["u"]))
        rates.append(-f["rate_usd_per_share"] / (1 + d * f["u"]) ** 2 / 100
                     / f.get("rate_weight", 1.0))   # a period's cap: in its own money
    return ExactCurve(np.concatenate(caps), np.concatenate(costs), np.concatenate(rates))


def draw_exact(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """Cost and marginal cost against the cap, from the segment formulas."""
    curve = exact_curve(out)
    cost, rate = money_unit(curve.cost_usd), money_unit(curve.usd_per_pp)
    top, bottom = _two_panels(fig, out, names, cost, rate)
    pct, y, m = 100 * curve.cap, curve.cost_usd / cost.scale, curve.usd_per_pp / rate.scale
    top.plot(pct, y, color=LINE, lw=2.2, zorder=3)
    bottom.plot(pct, m, color=MARK, lw=1.8, zorder=3)
    bottom.fill_between(pct, m, color=MARK, alpha=0.12, lw=0)
    _mark_breakpoints(top, bottom, [100 * b["cap"] for b in out["breakpoints"]], pct, y)
    _label_steps(bottom, out["segments"], float(pct.max() - pct.min()), rate)
    _extra_cost_axis(top, out, curve.cap[0], y[0], cost)
    _mark_unconstrained(top, out, pct, y)
    _finish_cap_axes(top, bottom, out, pct)


def _mark_breakpoints(top, bottom, caps: list[float], pct: np.ndarray, y: np.ndarray) -> None:
    """A dot on the cost curve and a thin vertical line through both panels at each."""
    costs = [np.interp(-c, -pct, y) for c in caps]
    for ax in (top, bottom):
        for c in caps:
            ax.axvline(c, color="#8a8a8a", lw=0.6, ls=(0, (3, 3)), zorder=1)
    top.plot(caps, costs, "o", ms=5.5, color="white", mec=LINE, mew=1.6, zorder=4,
             label="breakpoint: the marginal supplier changes")


def _extra_cost_axis(ax, out: dict, loosest: float, base: float, cost: Unit) -> None:
    """A right-hand axis: cost above ``base``, that at the loosest cap drawn (no cap
    when the curve starts where the cap does not bind)."""
    extra = ax.secondary_yaxis("right", functions=(lambda y: y - base, lambda y: y + base))
    versus = ("no cap" if out.get("unconstrained_share") is not None
              else f"a cap of {100 * loosest:.3g} %")
    extra.set_ylabel(f"extra cost vs. {versus} ({cost.name} / year)", color="#555555")
    extra.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
    extra.yaxis.set_major_formatter(FuncFormatter(_number_label))


def _label_steps(ax, segments: list[dict], span: float, rate: Unit) -> None:
    """The marginal cost over each run of segments at one rate, where the run is at
    least 3.5 % of the axis wide, and over the last (tightest) one."""
    runs: list[list[float]] = []       # [cap_from, cap_to, lowest, highest rate]
    for s in segments:
        low, high = sorted((s["usd_per_pp_from"] / rate.scale, s["usd_per_pp_to"] / rate.scale))
        if runs and low == high and runs[-1][2] == runs[-1][3] == low:
            runs[-1][1] = s["cap_to"]
        else:
            runs.append([s["cap_from"], s["cap_to"], low, high])
    for i, (start, end, low, high) in enumerate(runs):
        if high > 0 and (100 * (start - end) >= 0.035 * span or i == len(runs) - 1):
            ax.annotate(_short((low + high) / 2), (50 * (start + end), high), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=9,
                        color=MARK)


def _mark_unconstrained(ax, out: dict, pct: np.ndarray, y: np.ndarray) -> None:
    """Where the cap starts to bind: the group's share in the plan without a cap."""
    share = out.get("unconstrained_share")
    if share is None or 100 * share >= pct[0] - 1e-7:
        return
    ax.annotate(f"no extra cost above {100 * share:.3g} %,\nthe share without a cap",
                ((pct[0] + 100 * share) / 2, y[0]),
                xytext=(0, 8), textcoords="offset points", ha="center", va="bottom",
                fontsize=9, color="#555555")


# -- a grid over one cap -----------------------------------------------------------------

def draw_grid(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """Cost and marginal cost at each cap solved; points without a plan marked."""
    points = sorted(out["points"], key=lambda p: -p["cap"])
    ok = [p for p in points if p["objective_usd"] is not None]
    cost = money_unit([p["objective_usd"] for p in ok])
    rate = money_unit([p["usd_per_pp"] or 0.0 for p in ok])
    top, bottom = _two_panels(fig, out, names, cost, rate)
    x = [100 * p["cap"] for p in ok]
    top.plot(x, [p["objective_usd"] / cost.scale for p in ok], "-o", color=LINE, lw=1.8,
             ms=5, zorder=3)
    bottom.plot(x, [(p["usd_per_pp"] or 0.0) / rate.scale for p in ok], "-o", color=MARK,
                lw=1.4, ms=4.5, zorder=3)
    failed = [100 * p["cap"] for p in points if p["objective_usd"] is None]
    _mark_failed(top, failed, "no plan at this cap")
    _mark_failed(bottom, failed)
    _finish_cap_axes(top, bottom, out, np.array(x + failed))


def _mark_failed(ax, xs: list[float], label: str | None = None) -> None:
    """A red cross on the x axis at each value without a plan."""
    if xs:   # an empty unclipped line would still take room in the layout
        ax.plot(xs, [0.03] * len(xs), "x", color=MARK, ms=9, mew=2, clip_on=False,
                transform=ax.get_xaxis_transform(), label=label, zorder=4)


# -- shared by the two one-cap charts ----------------------------------------------------

def _two_panels(fig: Figure, out: dict, names: Mapping[str, str], cost: Unit, rate: Unit):
    """Top (cost, 2/3 of the height) and bottom (marginal cost) panels sharing the x axis."""
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    fig.suptitle(f"{cap_name(out['cap'], names)}: cost of tightening", fontsize=13.5,
                 fontweight="bold")
    top.set_ylabel(cost_label(cost))
    bottom.set_ylabel(f"marginal cost\n({rate.name} per pp tighter)")
    bottom.set_xlabel(cap_axis_label(out["cap"], names) + "   —   tighter →")
    return top, bottom


def _finish_cap_axes(top, bottom, out: dict, pct: np.ndarray) -> None:
    """Inverted % axis, the region without a plan shaded, tidy ticks, a legend."""
    tightest = out.get("tightest_feasible_cap")
    lo, hi = float(pct.min()), float(pct.max())
    reaches = tightest is not None and tightest > 0 and 100 * tightest >= lo - 1e-6
    pad = 0.08 * max(hi - lo, 1.0)
    right = max(lo - pad, 0.0) if reaches else lo - 0.02 * max(hi - lo, 1.0)
    top.set_xlim(hi + 0.02 * max(hi - lo, 1.0), right)     # inverted: loose on the left
    if reaches and 100 * tightest > right:
        for ax in (top, bottom):
            ax.axvspan(100 * tightest, right, color=NOPLAN, alpha=0.25, hatch="//",
                       ec="white", lw=0, zorder=0)
        top.text(0.5 * (100 * tightest + right), 0.5, f"no plan below {100 * tightest:.3g} %",
                 transform=top.get_xaxis_transform(), rotation=90, ha="center",
                 va="center", fontsize=9.5, color="#444444")
    bottom.set_ylim(0, bottom.get_ylim()[1] * 1.12)    # room for the step labels
    _pad_limits(top)
    top.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
    top.yaxis.set_major_formatter(FuncFormatter(_number_label))
    bottom.yaxis.set_major_formatter(FuncFormatter(_number_label))
    bottom.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    bottom.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 5, 10]))
    handles, _ = top.get_legend_handles_labels()
    if handles:
        top.legend(loc="upper left", fontsize=9.5, framealpha=0.9, edgecolor="none")


def _pad_limits(ax, minimum: float = 0.02) -> None:
    """Keep a flat line readable: the y range spans at least ``minimum`` of its level."""
    low, high = ax.get_ylim()
    middle, half = (low + high) / 2, (high - low) / 2
    half = max(half, minimum * abs(middle) / 2) or 1.0
    ax.set_ylim(middle - half, middle + half)


# -- a grid over two caps ----------------------------------------------------------------

def draw_grid2(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """Heat map of cost over both caps; cells without a plan hatched grey."""
    xs = sorted({p["cap"] for p in out["points"]}, reverse=True)     # loose → tight
    ys = sorted({p["cap2"] for p in out["points"]})                  # tight (bottom) → loose
    unit = money_unit([p["objective_usd"] for p in out["points"]])
    cost = np.full((len(ys), len(xs)), np.nan)
    for p in out["points"]:
        if p["objective_usd"] is not None:
            cost[ys.index(p["cap2"]), xs.index(p["cap"])] = p["objective_usd"] / unit.scale
    ax = fig.subplots()
    mesh = ax.pcolormesh(np.ma.masked_invalid(cost), cmap="YlOrRd", edgecolors="white",
                         linewidth=1.0)
    for j, i in zip(*np.nonzero(np.isnan(cost)), strict=True):
        ax.add_patch(Rectangle((i, j), 1, 1, fc="#e6e6e6", ec="white", hatch="///",
                               lw=1.0))
    if max(len(xs), len(ys)) <= 12:
        _write_cells(ax, mesh, cost)
    ax.set(xticks=np.arange(len(xs)) + 0.5, yticks=np.arange(len(ys)) + 0.5)
    ax.set_xticklabels([f"{100 * v:.3g}" for v in xs])
    ax.set_yticklabels([f"{100 * v:.3g}" for v in ys])
    ax.grid(False)
    ax.set_xlabel(cap_axis_label(out["cap"], names) + "   —   tighter →")
    ax.set_ylabel(cap_axis_label(out["cap2"], names) + "   —   tighter ↓")
    fig.colorbar(mesh, ax=ax, label=cost_label(unit), shrink=0.9)
    ax.legend(handles=[Patch(fc="#e6e6e6", ec="#9e9e9e", hatch="///", label="no plan")],
              loc="upper left", bbox_to_anchor=(0, -0.09), frameon=False, fontsize=9.5)
    fig.suptitle(f"Cost of two caps: {cap_name(out['cap'], names)}\n"
                 f"and {cap_name(out['cap2'], names)}", fontsize=13,
                 fontweight="bold")


def _write_cells(ax, mesh, cost: np.ndarray) -> None:
    """Each cell's cost written in it, dark or light against its colour."""
    for (j, i), value in np.ndenumerate(cost):
        if np.isnan(value):
            continue
        r, g, b, _ = mesh.cmap(mesh.norm(value))
        ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else "#222222"
        ax.text(i + 0.5, j + 0.5, _short(value), ha="center", va="center", fontsize=9,
                color=ink)


# -- parameter sweeps --------------------------------------------------------------------

def draw_parameter(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """Cost against a numeric parameter; values without a plan marked on the x axis."""
    ax = fig.subplots()
    label = parameter_label(out["parameter"])
    ok = [p for p in out["points"] if p["objective_usd"] is not None]
    unit = money_unit([p["objective_usd"] for p in ok])
    ax.plot([_number(p["value"]) for p in ok], [p["objective_usd"] / unit.scale for p in ok],
            "-o", color=LINE, lw=1.8, ms=5.5, zorder=3)
    failed = [_number(p["value"]) for p in out["points"] if p["objective_usd"] is None]
    _mark_failed(ax, failed, "no plan at this value")
    if failed:
        ax.legend(loc="upper left", frameon=False)
    _pad_limits(ax)
    ax.yaxis.set_major_formatter(FuncFormatter(_number_label))
    ax.xaxis.set_major_formatter(FuncFormatter(_number_label))
    ax.set(xlabel=label, ylabel=cost_label(unit))
    fig.suptitle(f"Total cost against the {label.split(' (')[0]}", fontsize=13.5,
                 fontweight="bold")


def draw_category(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """Cost at each named value (e.g. observer and joined) as bars."""
    ax = fig.subplots()
    points = out["points"]
    unit = money_unit([p["objective_usd"] for p in points])
    values = [p["objective_usd"] / unit.scale if p["objective_usd"] is not None else 0.0
              for p in points]
    bars = ax.bar([str(p["value"]) for p in points], values, width=0.55, color=LINE)
    first = points[0]["objective_usd"]
    for bar, point in zip(bars, points, strict=True):
        text = "no plan" if point["objective_usd"] is None else f"{bar.get_height():,.1f}"
        if point is not points[0] and None not in (first, point["objective_usd"]):
            text += (f"\n({(point['objective_usd'] - first) / unit.scale:+,.1f} "
                     f"vs. {points[0]['value']})")
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                    fontsize=11)
    ax.margins(y=0.12)
    ax.grid(axis="x", visible=False)
    ax.yaxis.set_major_formatter(FuncFormatter(_number_label))
    ax.set(xlabel=parameter_label(out["parameter"]), ylabel=cost_label(unit))
    fig.suptitle(f"Total cost by {parameter_label(out['parameter'])}", fontsize=13.5,
                 fontweight="bold")


# -- labels ------------------------------------------------------------------------------

def money_unit(amounts) -> Unit:
    """USD bn, M or k: the largest unit in which the biggest amount is at least 1."""
    top = max((abs(a) for a in amounts if a is not None), default=0.0)
    return next((Unit(s, n) for s, n in UNITS if top >= s), Unit(1.0, "USD"))


def cost_label(unit: Unit) -> str:
    """The axis label of total cost."""
    return f"total landed cost ({unit.name} / year)"


def _who(cap: dict, names: Mapping[str, str]) -> str:
    return names.get(cap["group"], cap["group"])


def cap_axis_label(cap: dict, names: Mapping[str, str]) -> str:
    """E.g. "cap on China's share of magnet supply (%)"."""
    return f"cap on {_who(cap, names)}'s share of {cap['stage']} supply (%)"


def cap_name(cap: dict, names: Mapping[str, str]) -> str:
    """E.g. "China's share of magnet supply (direct, volume)"."""
    return (f"{_who(cap, names)}'s share of {cap['stage']} supply "
            f"({cap['scope']}, {cap['basis']})")


def parameter_label(parameter: dict) -> str:
    """The x axis of a parameter sweep, with its unit."""
    setting, target = parameter["setting"], parameter.get("target", "")
    return {"benchmark": f"{target} benchmark (USD/t)",
            "capacity_factor": f"capacity factor of {target} (× capacity)",
            "price_factor": f"price factor of {target} (× price)",
            "demand_factor": f"demand factor of {target} (× demand)",
            "zone": "trade-zone status"}.get(setting, f"{setting} {target}".strip())


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _short(value: float) -> str:
    """A value to read off a chart: 3 figures, at most 2 decimals."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 10 else f"{value:.2f}"


def _number_label(value: float, _pos=None) -> str:
    """Thousands separated; decimals only where the ticks need them."""
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.6g}"


DRAW = {"exact": draw_exact, "grid": draw_grid, "grid2": draw_grid2,
        "parameter": draw_parameter, "category": draw_category}
