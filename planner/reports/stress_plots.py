"""Draw a ``planner stress`` result (the stress JSON object) as a PNG or SVG chart.

For people who buy the material, one figure:

* top: what the plan costs in each disruption branch — one dot per branch, sorted by
  cost, on a stem from the base branch's cost, with its probability on the right and
  unmet demand beside it; vertical lines at the expected cost and the CVaR, the rows
  that make up the CVaR tail shaded when α is known;
* below it, when the result carries sampled futures (``samples``): their cost
  distribution (a histogram when each future's cost is given, else the quantiles on
  a strip) with the p50, p90 and p99 marked, on the same money axis;
* then one panel per stock: days of cover in each period, one line per branch (base
  bold, disrupted branches thin, coloured by disruption family: the branch id without
  its trailing year), the floor dashed.

A result without disruptions is one branch (expected cost = CVaR); one without stocks
gets a note instead of the stock panels. Built on ``matplotlib.figure.Figure`` like
:mod:`planner.reports.plots`, whose helpers it uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from planner.reports.plots import (
    LINE,
    MARK,
    STYLE,
    UNITS,
    Unit,
    _number_label,
    cost_label,
    money_unit,
    save,
)

WIDTH = 11.0                     # inches
BASE = "base"
TAIL, SAMPLE, FLOOR = "#fbe3e0", "#7f9cb8", "#d9d9d9"
FAMILY_COLOURS = ("#e67e22", "#8e44ad", "#27ae60", "#c0392b", "#16a085", "#b7950b",
                  "#d35400", "#2e86c1", "#7d3c98", "#616a6b")
LABELLED_ROWS = 24               # above this many branches, rows are not named


def plot_stress(out: dict, path: Path, names: Mapping[str, str] | None = None) -> None:
    """Draw the stress result ``out`` (as ``planner stress --format json`` writes it) to
    ``path`` (.png or .svg).

    ``names``: display names of codes (branches, disruption families, stages); codes are
    shown otherwise.
    """
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, figure_height(out)), layout="constrained")
        draw_stress(fig, out, names or {})
        save(fig, path)


def figure_height(out: dict) -> float:
    """Inches: the cost panel grows with the branches, each row of stock panels 2.9."""
    rows = math.ceil(len(stock_stages(out)) / 2)
    return (1.2 + cost_panel_height(out) + samples_panel_height(out)
            + (2.9 * rows if rows else 0.5))


def cost_panel_height(out: dict) -> float:
    """Inches of the cost panel: a row per branch (at most 40 rows' worth)."""
    return 1.6 + 0.27 * min(len(branches(out)), 40)


def samples_panel_height(out: dict) -> float:
    """Inches of the sampled futures: a histogram 2.3, a strip of quantiles 1.5."""
    samples = out.get("samples")
    return 0.0 if not samples else 2.3 if sampled_costs(samples) else 1.5


def draw_stress(fig: Figure, out: dict, names: Mapping[str, str]) -> None:
    """The whole figure on ``fig``: costs by branch, sampled futures, stock paths."""
    rows = branches(out)
    stages = stock_stages(out)
    samples = out.get("samples") or None
    ncols = 2 if len(stages) > 1 else 1
    stock_rows = math.ceil(len(stages) / ncols)
    heights = ([cost_panel_height(out)] + ([samples_panel_height(out)] if samples else [])
               + ([2.9] * stock_rows if stages else [0.5]))
    grid = fig.add_gridspec(len(heights), ncols, height_ratios=heights)
    title = out.get("dataset") or "plan"
    fig.suptitle(f"{title}: stress test of the plan ({_horizon(out)})", fontsize=13.5,
                 fontweight="bold")
    if not rows:   # no plan: nothing to draw but why
        ax = fig.add_subplot(grid[:, :])
        ax.axis("off")
        ax.text(0.5, 0.5, f"no plan: {out.get('status', '?')} — {out.get('message', '')}",
                ha="center", va="center", fontsize=12, transform=ax.transAxes)
        return
    unit = axis_unit([r["cost_usd"] for r in rows] + _sample_amounts(samples))
    colours = family_colours(rows)
    costs = fig.add_subplot(grid[0, :])
    draw_costs(costs, out, rows, unit, colours, names)
    if samples:
        draw_samples(fig.add_subplot(grid[1, :], sharex=costs), samples, unit,
                     cost_axis_label(out, unit))
    first = 2 if samples else 1
    widths = family_widths(rows)
    if stages:
        periods = period_order(out)
        for i, stage in enumerate(stages):
            ax = fig.add_subplot(grid[first + i // ncols, i % ncols])
            draw_stock(ax, stage, [s for s in out["stocks"] if s["stage"] == stage],
                       periods, colours, widths, names)
    else:
        note = fig.add_subplot(grid[first, :])
        note.axis("off")
        note.text(0.5, 0.5, "no stocks in this dataset: no stock paths to draw", ha="center",
                  va="center", fontsize=10.5, color="#555555", transform=note.transAxes)
    if stages or len(rows) > 1:
        handles = _legend(rows, colours, widths, names, floor=bool(stages))
        sizes = [len(h.get_label()) + 6 for h in handles]    # characters, with the key
        ncols = len(handles) if sum(sizes) <= 160 else max(1, 160 // max(sizes))
        fig.legend(handles=handles, loc="outside lower center", fontsize=9.5, frameon=False,
                   ncols=ncols)


# -- the data ----------------------------------------------------------------------------

def branches(out: dict) -> list[dict]:
    """The branch rows; without disruptions one certain branch (empty without a plan)."""
    if out.get("branches"):
        return list(out["branches"])
    cost = out.get("expected_cost_usd", out.get("objective_usd"))
    if cost is None:
        return []
    return [{"branch": BASE, "probability": 1.0, "cost_usd": cost,
             "shortage_t": (out.get("totals") or {}).get("shortage_t", 0.0),
             "shortage_usd": (out.get("totals") or {}).get("shortage_usd", 0.0)}]


def family(branch: str) -> str:
    """The disruption family: the branch id without its trailing year (``-2027``)."""
    return re.sub(r"[-_ ]?\d{4}$", "", branch) or branch


def family_colours(rows: list[dict]) -> dict[str, str]:
    """Family → colour, base first (dark blue), the rest in order of appearance."""
    families = dict.fromkeys([BASE] + [family(r["branch"]) for r in rows])
    others = [f for f in families if f != BASE]
    return {BASE: LINE} | {f: FAMILY_COLOURS[i % len(FAMILY_COLOURS)]
                           for i, f in enumerate(others)}


def stock_stages(out: dict) -> list[str]:
    """The stages with a stock, in the order of the stocks table."""
    return list(dict.fromkeys(s["stage"] for s in out.get("stocks") or []))


def period_order(out: dict) -> list[str]:
    """Period ids in time order (by ``order`` in the periods table, else as first seen)."""
    rank: dict[str, float] = {}
    for p in out.get("periods") or []:
        rank.setdefault(str(p["period"]), p.get("order", len(rank)))
    for s in out.get("stocks") or []:
        rank.setdefault(str(s["period"]), len(rank) + 1e6)
    return sorted(rank, key=lambda p: (rank[p], p))


def cvar_alpha(out: dict) -> float | None:
    """α of the CVaR if the result says it (``cvar_alpha``, or ``--alpha`` in the
    manifest), else None."""
    manifest = out.get("manifest") or {}
    for value in (out.get("cvar_alpha"), out.get("alpha"),
                  (manifest.get("arguments") or {}).get("alpha"),
                  (manifest.get("settings") or {}).get("cvar_alpha")):
        if isinstance(value, int | float) and 0 < value < 1:
            return float(value)
    return None


def tail_rows(rows: list[dict], alpha: float) -> list[str]:
    """The branches, costliest first, that carry the worst 1 − α of probability."""
    left, tail = 1 - alpha, []
    for r in sorted(rows, key=lambda r: -r["cost_usd"]):
        if left <= 1e-12:
            break
        tail.append(r["branch"])
        left -= r["probability"]
    return tail


def axis_unit(amounts) -> Unit:
    """The unit of the money axis: ``money_unit``, one smaller when the amounts are
    under 10 of it and spread over less than half of it (2,500–2,800 USD M rather than
    2.5–2.8 USD bn)."""
    values = [a for a in amounts if a is not None]
    unit = money_unit(values)
    spread = (max(values) - min(values)) if values else 0.0
    if values and max(map(abs, values)) < 10 * unit.scale and spread < 0.5 * unit.scale:
        smaller = [Unit(s, n) for s, n in UNITS if s < unit.scale]
        if smaller:
            return smaller[0]
    return unit


def _sample_amounts(samples: dict | None) -> list[float]:
    if not samples:
        return []
    keys = ("mean_usd", "p50_usd", "p90_usd", "p99_usd", "cvar_usd")
    return [samples[k] for k in keys if samples.get(k) is not None] + sampled_costs(samples)


def _horizon(out: dict) -> str:
    periods = period_order(out)
    if len(periods) > 1:
        return f"{periods[0]}–{periods[-1]}"
    return f"{periods[0]}" if periods else "one period"


def cost_axis_label(out: dict, unit: Unit) -> str:
    """E.g. "total discounted cost, 2025–2030 (USD M)"; a year's cost for one period."""
    if len(period_order(out)) < 2:
        return cost_label(unit)
    return f"total discounted cost, {_horizon(out)} ({unit.name})"


def _money(value: float, unit: Unit) -> str:
    return f"{value / unit.scale:,.1f} {unit.name}"


# -- costs by branch ---------------------------------------------------------------------

def draw_costs(ax, out: dict, rows: list[dict], unit: Unit, colours: Mapping[str, str],
               names: Mapping[str, str]) -> None:
    """One dot per branch (cheapest on top) on a stem from the base cost, probability on
    the right, expected cost and CVaR as vertical lines."""
    rows = sorted(rows, key=lambda r: (r["cost_usd"], r["branch"]))
    n = len(rows)
    y = np.arange(n)
    x = np.array([r["cost_usd"] for r in rows]) / unit.scale
    base = next((r["cost_usd"] for r in rows if r["branch"] == BASE), min(r["cost_usd"]
                                                                            for r in rows))
    colour = [colours[family(r["branch"])] for r in rows]
    alpha = cvar_alpha(out)
    if alpha is not None and n > 1:
        tail = set(tail_rows(rows, alpha))
        for i, r in enumerate(rows):
            if r["branch"] in tail:
                ax.axhspan(i - 0.5, i + 0.5, color=TAIL, lw=0, zorder=0)
    ax.hlines(y, base / unit.scale, x, colors=colour, lw=1.6, alpha=0.6, zorder=2)
    ax.scatter(x, y, s=[28 + 160 * math.sqrt(r["probability"]) for r in rows], c=colour,
               edgecolors="white", linewidths=0.8, zorder=4, gid="branch-costs")
    for i, r in enumerate(rows):
        if (r.get("shortage_t") or 0) > 0.05:
            ax.annotate(f"unmet {r['shortage_t']:,.3g} t", (x[i], i), xytext=(9, 0),
                        textcoords="offset points", va="center", fontsize=8.5,
                        color="#8a4b00", bbox={"fc": "white", "ec": "none", "alpha": 0.75,
                                               "pad": 0.4})
    expected, cvar = out.get("expected_cost_usd"), out.get("cvar_usd")
    cvar_name = f"CVaR {100 * alpha:.3g} % (mean of the worst {100 * (1 - alpha):.3g} %)" \
        if alpha is not None else "CVaR (mean of the worst outcomes)"
    if expected is not None:
        ax.axvline(expected / unit.scale, color="#222222", lw=1.4, zorder=3, gid="expected",
                   label=f"expected cost: {_money(expected, unit)}")
    if cvar is not None:
        ax.axvline(cvar / unit.scale, color=MARK, lw=1.6, ls=(0, (5, 3)), zorder=3,
                   gid="cvar", label=f"{cvar_name}: {_money(cvar, unit)}")
    if alpha is not None and n > 1:
        worst = f"branches in the worst {100 * (1 - alpha):.3g} % (the CVaR tail)"
        ax.add_patch(Rectangle((0, 0), 0, 0, color=TAIL, label=worst))
    _branch_rows(ax, rows, n, names)
    _money_axis(ax, x, unit)
    if n > 1:
        _extra_axis(ax, base / unit.scale, unit)
    ax.set_xlabel(cost_axis_label(out, unit))
    title = ("Total cost of the plan in each disruption branch" if n > 1 else
             "Total cost of the plan: one branch (no disruptions), so expected cost = CVaR")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.legend(loc="upper right" if n > 1 else "lower right", fontsize=9, framealpha=0.92,
              edgecolor="none")


def _branch_rows(ax, rows: list[dict], n: int, names: Mapping[str, str]) -> None:
    """Branch names on the left, probabilities on the right, cheapest row on top."""
    ax.set_ylim(n - 0.5, -0.5 - (1.2 if n > 1 else 0.6))   # room above for the legend
    ax.grid(axis="y", visible=False)
    if n > LABELLED_ROWS:
        ax.set_yticks([])
        ax.set_ylabel(f"{n} branches, cheapest on top")
        return
    ax.set_yticks(range(n), [names.get(r["branch"], r["branch"]) for r in rows])
    for label, r in zip(ax.get_yticklabels(), rows, strict=True):
        if r["branch"] == BASE:
            label.set_fontweight("bold")
    right = ax.secondary_yaxis("right")
    right.set_yticks(range(n), [f"{100 * r['probability']:.1f} %" for r in rows])
    right.set_ylabel("probability")
    right.tick_params(length=0)


def _money_axis(ax, x: np.ndarray, unit: Unit) -> None:
    low, high = float(x.min()), float(x.max())
    pad = max(0.06 * (high - low), 0.004 * abs(high), 1e-9)
    ax.set_xlim(low - pad, high + 2.2 * pad)            # room for the "unmet" notes
    ax.xaxis.set_major_locator(MaxNLocator(nbins=9, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(_number_label))


def _extra_axis(ax, base: float, unit: Unit) -> None:
    extra = ax.secondary_xaxis("top", functions=(lambda v: v - base, lambda v: v + base))
    extra.set_xlabel(f"extra cost against the base branch ({unit.name})", color="#555555")
    extra.xaxis.set_major_locator(MaxNLocator(nbins=9, steps=[1, 2, 2.5, 5, 10]))
    extra.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "0" if abs(v) < 1e-9
                                                  else f"{v:+,.6g}"))
    extra.tick_params(colors="#555555")


# -- sampled futures ---------------------------------------------------------------------

def sampled_costs(samples: dict) -> list[float]:
    """Each sampled future's cost: ``costs_usd`` where given, else each distinct future's
    cost repeated as often as it was drawn (``futures``)."""
    if samples.get("costs_usd"):
        return [c for c in samples["costs_usd"] if c is not None]
    return [f["cost_usd"] for f in samples.get("futures") or [] if f.get("cost_usd") is not None
            for _ in range(f["count"])]


def draw_samples(ax, samples: dict, unit: Unit, xlabel: str) -> None:
    """The sampled futures' costs: a histogram (each future's cost given) or the
    quantiles on a strip; p50, p90, p99, mean and CVaR marked."""
    costs = sampled_costs(samples)
    n = samples.get("n", len(costs))
    if costs:
        values = np.array(costs) / unit.scale
        bins = int(min(40, max(8, math.sqrt(len(values)))))
        ax.hist(values, bins=bins, weights=np.full(len(values), 100 / len(values)),
                color=SAMPLE, edgecolor="white", lw=0.5, gid="samples-hist")
        ax.set_ylabel("share of futures (%)")
        ax.margins(y=0.25)
    else:
        quantiles = [samples.get(k) for k in ("p50_usd", "p90_usd", "p99_usd")]
        known = [q / unit.scale for q in quantiles if q is not None]
        if known:
            ax.plot([min(known), max(known)], [0.35, 0.35], color=SAMPLE, lw=7,
                    solid_capstyle="butt", gid="samples-strip")
            ax.annotate("p50 to p99 of the sampled futures", (min(known), 0.35),
                        xytext=(0, -9), textcoords="offset points", va="top",
                        fontsize=8.5, color="#1b3a57")
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.grid(axis="y", visible=False)
    top = ax.get_xaxis_transform()
    for key, name, style in (("p50_usd", "p50", ":"), ("p90_usd", "p90", ":"),
                             ("p99_usd", "p99", ":")):
        value = samples.get(key)
        if value is None:
            continue
        ax.axvline(value / unit.scale, color="#1b3a57", lw=1.2, ls=style, gid=name)
        ax.text(value / unit.scale, 0.97, f" {name}\n {_money(value, unit)}", transform=top,
                ha="left", va="top", fontsize=8.5, color="#1b3a57")
    handles = []
    if samples.get("mean_usd") is not None:
        handles.append(ax.axvline(samples["mean_usd"] / unit.scale, color="#222222", lw=1.4,
                                  gid="samples-mean",
                                  label=f"mean: {_money(samples['mean_usd'], unit)}"))
    if samples.get("cvar_usd") is not None:
        handles.append(ax.axvline(samples["cvar_usd"] / unit.scale, color=MARK, lw=1.6,
                                  ls=(0, (5, 3)), gid="samples-cvar",
                                  label=f"CVaR: {_money(samples['cvar_usd'], unit)}"))
    if handles:
        ax.legend(handles=handles, loc="center right", fontsize=9, framealpha=0.92,
                  edgecolor="none")
    seed = f", seed {samples['seed']}" if samples.get("seed") is not None else ""
    short = samples.get("shortage_probability")
    short = f" — demand unmet in {100 * short:.3g} % of them" if short is not None else ""
    count = f"{n:,}" if isinstance(n, int) else "?"
    ax.set_title(f"Out-of-sample check: {count} sampled futures{seed}{short}", loc="left",
                 fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(FuncFormatter(_number_label))


# -- stock paths -------------------------------------------------------------------------

def draw_stock(ax, stage: str, rows: list[dict], periods: list[str],
               colours: Mapping[str, str], widths: Mapping[str, float],
               names: Mapping[str, str]) -> None:
    """Days of cover (tonnes if a period has no demand) per period, one line per branch;
    a disrupted branch starts from the base level of the period before it. Branches of
    a likelier family are drawn wider and below, so paths shared by families all show."""
    days = all(r.get("days_of_cover") is not None for r in rows)
    field = "days_of_cover" if days else "level_t"
    at = {p: i for i, p in enumerate(periods)}
    paths: dict[str, list[tuple[int, float]]] = {}
    for r in sorted(rows, key=lambda r: at[str(r["period"])]):
        paths.setdefault(r["branch"], []).append((at[str(r["period"])], r[field]))
    base = dict(paths.get(BASE, []))
    floor = _floor(rows, field)
    if floor:
        xs, ys = zip(*sorted((at[str(p)], v) for p, v in floor.items()), strict=True)
        ax.fill_between(xs, ys, color=FLOOR, alpha=0.45, lw=0, zorder=1)
        ax.plot(xs, ys, color="#555555", lw=1.0, ls=(0, (4, 3)), zorder=1,
                gid=f"floor:{stage}")
    rank = list(widths)
    for branch, path in sorted(paths.items(), key=lambda item: rank.index(
            family(item[0])) if family(item[0]) in rank else len(rank)):
        if branch == BASE:
            continue
        start = path[0]
        if start[0] - 1 in base:
            path.insert(0, (start[0] - 1, base[start[0] - 1]))
        xs, ys = zip(*path, strict=True)
        colour = colours[family(branch)]
        ax.plot(xs, ys, color=colour, lw=widths.get(family(branch), 1.2), zorder=2,
                solid_capstyle="round", gid=f"stock:{stage}:{branch}")
        ax.plot(*start, "o", ms=2.5 + widths.get(family(branch), 1.2), color=colour,
                zorder=2)
    if base:
        xs, ys = zip(*sorted(base.items()), strict=True)
        ax.plot(xs, ys, color=LINE, lw=2.8, zorder=4, marker="o", ms=4.5,
                gid=f"stock:{stage}:{BASE}")
    ax.set_xticks(range(len(periods)), periods)
    ax.set_xlim(-0.3, len(periods) - 0.7)
    ax.set_ylim(bottom=0)
    ax.margins(y=0.12)
    ax.yaxis.set_major_formatter(FuncFormatter(_number_label))
    ax.set_ylabel("days of cover" if days else "stock level (t)")
    ax.set_title(f"Stock of {names.get(stage, stage)}", loc="left", fontweight="bold")


def family_widths(rows: list[dict]) -> dict[str, float]:
    """Disruption family → line width of its stock paths: likeliest widest (drawn
    first, underneath)."""
    weight: dict[str, float] = {}
    for r in rows:
        if r["branch"] != BASE:
            weight[family(r["branch"])] = weight.get(family(r["branch"]), 0.0) + r["probability"]
    ordered = sorted(weight, key=lambda f: -weight[f])
    step = 2.4 / max(len(ordered) - 1, 1)
    return {f: 1.2 + step * (len(ordered) - 1 - i) for i, f in enumerate(ordered)}


def _floor(rows: list[dict], field: str) -> dict[str, float]:
    """The base branch's floor per period, in days of cover (level × floor / level) or
    tonnes."""
    floor = {}
    for r in rows:
        if r["branch"] != BASE or r.get("floor_t") is None:
            continue
        if field == "level_t":
            floor[r["period"]] = r["floor_t"]
        elif r["floor_t"] <= 0:
            floor[r["period"]] = 0.0
        elif r["level_t"] > 0:
            floor[r["period"]] = r["days_of_cover"] * r["floor_t"] / r["level_t"]
    return floor


def _legend(rows: list[dict], colours: Mapping[str, str], widths: Mapping[str, float],
            names: Mapping[str, str], floor: bool) -> list:
    """One entry per family with its branch count and probability, then the floor."""
    count: dict[str, int] = {}
    weight: dict[str, float] = {}
    for r in rows:
        f = family(r["branch"])
        count[f] = count.get(f, 0) + 1
        weight[f] = weight.get(f, 0.0) + r["probability"]
    handles = []
    for f, colour in colours.items():
        if f not in count:
            continue
        text = names.get(f, f)
        text += (f" ({100 * weight[f]:.1f} %)" if f == BASE or count[f] == 1
                 else f" ({count[f]} branches, {100 * weight[f]:.1f} % together)")
        handles.append(Line2D([], [], color=colour, lw=2.8 if f == BASE else widths[f],
                              label=text))
    if floor:
        handles.append(Patch(fc=FLOOR, alpha=0.6, label="below the floor (base branch)"))
    return handles
