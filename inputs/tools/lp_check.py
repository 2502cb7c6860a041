"""An independent, minimal implementation of SPEC §3 (one period, direct scope) over a dataset
folder, to check the calibration and the planner's results by hand (scipy's HiGHS, not Pyomo).

Not the product: no embedded scope, no value-basis limits (not used by the scenarios checked),
no periods: with a periods table it solves the first period (scenario rows with a blank period
or the first period's id; period_values of the first period are not read -- the shipped
dataset has none).  Scenario settings: zone, zone_member, max_share, min_share, capacity_factor,
price_factor, benchmark, demand_factor (embedded_* rows are reported as skipped).

Run from the repository root (DATASET defaults to inputs/):

    .venv/bin/python inputs/tools/lp_check.py [DATASET] [--scenario NAME]... [--all] [-q]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent

MATERIAL_GROUPS = {"oxides": ("ndpr-oxide", "dytb-oxide", "cela-oxide"),
                   "metals": ("ndpr-metal", "dytb-metal"),
                   "magnet": ("magnet",),
                   "dytb-metal": ("dytb-metal",)}
TARGETS = {"oxides": (0.654, 0.05), "metals": (0.797, 0.05), "magnet": (0.899, 0.05),
           "dytb-metal": (0.95, None)}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def num(x, default=None):
    """A CSV cell as a float; ``default`` when blank."""
    if x is None or (isinstance(x, str) and x.strip() == ""):
        return default
    return float(x)


@dataclass
class Data:
    """A dataset folder, read into plain dicts and lists."""

    stages: dict
    offers: list
    countries: dict
    processes: list
    flows: list
    tariffs: list
    benchmarks: dict
    limits: list = field(default_factory=list)
    buyer: str = "KR"
    zone: str = "observer"
    scenarios: pd.DataFrame = None
    skipped: list = field(default_factory=list)
    first_period: str = ""          # the dataset's first period (periods.csv); "" without one


def load(folder: Path) -> Data:
    """Read the CSV tables of ``folder``."""
    st = _read(folder, "stages")
    stages = {r.stage: dict(order=int(r.order), demand=float(r.demand_t), material=r.material,
                            shortage=num(r.shortage_usd_per_t), value=num(r.value_usd_per_t))
              for r in st.itertuples()}
    offers = [dict(offer=r.offer, stage=r.stage, supplier=r.supplier, country=r.country,
                   price=float(r.price_usd_per_t), cap=num(r.capacity_t), min=num(r.min_t, 0.0),
                   freight=num(r.freight_usd_per_t, 0.0),
                   members_only=str(getattr(r, "members_only", "false")).lower() == "true")
              for r in _read(folder, "offers").itertuples()]
    co = _read(folder, "countries")
    countries = {r.country: dict(member=r.zone_member.lower() == "true",
                                 tags=[t.strip() for t in r.groups.split(";") if t.strip()])
                 for r in co.itertuples()}
    processes = [dict(process=r["process"], frm=r["from_stage"], to=r["to_stage"],
                      yld=float(r["yield"]), cost=float(r["cost_usd_per_t"]),
                      cap=num(r["capacity_t"]))
                 for r in _read(folder, "processes").to_dict("records")]
    flows = [dict(process=r.process, stage=r.stage, role=r.role, t=float(r.t_per_t))
             for r in _read(folder, "process_flows").itertuples()]
    tariffs = [dict(country=r.country, stage=r.stage, mfn=num(r.mfn_rate, 0.0),
                    zone=num(r.zone_rate, 0.0)) for r in _read(folder, "tariffs").itertuples()]
    benchmarks = {r.stage: float(r.benchmark_usd_per_t)
                  for r in _read(folder, "benchmarks").itertuples()}
    limits = [dict(group=r.group, stage=r.stage, min=num(r.min_share), max=num(r.max_share),
                   basis=(r.basis or "volume"), scope=(r.scope or "direct"))
              for r in _read(folder, "limits").itertuples()]
    settings = {r.key: r.value for r in _read(folder, "settings").itertuples()}
    periods = _read(folder, "periods")
    first = (min(periods.itertuples(), key=lambda r: int(r.order)).period
             if not periods.empty else "")
    # The first period is the base dataset plus its period_values (none in the shipped data);
    # stocks hold their floor and expansions start later, so the first period is SPEC §3.
    return Data(stages, offers, countries, processes, flows, tariffs, benchmarks, limits,
                settings.get("buyer", "KR"), settings.get("zone", "observer"),
                _read(folder, "scenarios"), first_period=first)


def in_group(d: Data, country: str, group: str) -> bool:
    """Whether ``country`` is in ``group``: *, zone, non-zone, a country code or a tag."""
    if group in ("*",):
        return True
    if group == "zone":
        return d.countries.get(country, {}).get("member", False)
    if group == "non-zone":
        return not d.countries.get(country, {}).get("member", False)
    if len(group) == 2 and group.isupper():
        return country == group
    return group in d.countries.get(country, {}).get("tags", [])


def apply_scenario(d: Data, name: str) -> Data:
    """A copy of ``d`` with the rows of scenario ``name`` applied in order."""
    import copy
    d = copy.deepcopy(d)
    rows = d.scenarios[d.scenarios.scenario == name]
    if rows.empty and name not in ("base",):
        raise SystemExit(f"unknown scenario {name}")
    if "period" in rows.columns:
        # one period only: the first period's rows (blank period = every period)
        rows = rows[(rows.period == "") | (rows.period == d.first_period)]
    return _apply_rows(d, rows)


def period_data(d: Data, folder: Path, period: str, scenario: str | None = None) -> Data:
    """A rough one-period view of ``period`` (a cross-check, not SPEC §3a): the base data with
    that period's period_values, the scenario's rows for it, and every expansion usable by then
    at its full max_t_yr (its one-off cost ignored); stocks held at their floor (not modelled)."""
    import copy
    d = copy.deepcopy(d)
    pv = _read(folder, "period_values")
    if not pv.empty:
        d = _apply_rows(d, pv[pv.period == period])
    if scenario:
        rows = d.scenarios[d.scenarios.scenario == scenario]
        if "period" in rows.columns:
            rows = rows[(rows.period == "") | (rows.period == period)]
        d = _apply_rows(d, rows)
    order = {r.period: int(r.order) for r in _read(folder, "periods").itertuples()}
    for e in _read(folder, "expansions").itertuples():
        start = order[e.from_period or min(order, key=order.get)] + int(e.lead_periods or 0)
        if order[period] < start:
            continue
        add = float(e.max_t_yr)
        for o in d.offers:
            if o["offer"] == e.target:
                o["cap"] += add
        for q in d.processes:
            if q["process"] == e.target:
                q["cap"] += add
    return d


def _apply_rows(d: Data, rows: pd.DataFrame) -> Data:
    """Apply scenario-style rows (setting, target, value) to ``d`` in order."""
    for r in rows.itertuples():
        s, t, v = r.setting, r.target, r.value
        if s == "zone":
            d.zone = v
        elif s == "zone_member":
            # a country not in `countries` is added with no tags
            d.countries.setdefault(t, dict(member=False, tags=[]))
            d.countries[t]["member"] = v.strip().lower() == "true"
        elif s in ("max_share", "min_share"):
            g, st = t.split(":")
            key = "max" if s == "max_share" else "min"
            for lim in d.limits:
                if (lim["group"], lim["stage"], lim["basis"], lim["scope"]) == (g, st, "volume",
                                                                                "direct"):
                    lim[key] = float(v)
                    break
            else:
                lim = dict(group=g, stage=st, min=None, max=None, basis="volume",
                           scope="direct")
                lim[key] = float(v)
                d.limits.append(lim)
        elif s in ("capacity_factor", "price_factor"):
            g, st = t.split(":")
            for o in d.offers:
                if (st in ("*", o["stage"])) and in_group(d, o["country"], g):
                    if s == "price_factor":
                        o["price"] *= float(v)
                    elif o["cap"] is not None:
                        o["cap"] *= float(v)
                        o["min"] = min(o["min"], o["cap"])
                    elif float(v) == 0:
                        o["cap"], o["min"] = 0.0, 0.0
        elif s == "benchmark":
            d.benchmarks[t] = float(v)
        elif s == "demand_factor":
            d.stages[t]["demand"] *= float(v)
        else:
            d.skipped.append(f"{s} {t} {v}")
    return d


def rate(d: Data, country: str, stage: str) -> tuple[float, float]:
    """(MFN rate, zone rate) of the most specific tariff row."""
    best, rank = (0.0, 0.0), -1
    for t in d.tariffs:
        if t["country"] in ("*", country) and t["stage"] in ("*", stage):
            k = (t["country"] != "*") * 2 + (t["stage"] != "*")
            if k > rank:
                best, rank = (t["mfn"], t["zone"]), k
    return best


def landed(d: Data, o: dict) -> float:
    """Landed cost of offer ``o``: (price + freight) x (1 + duty) + levy."""
    v = o["price"] + o["freight"]
    if o["country"] == d.buyer:
        return v
    joined = d.zone == "joined"
    member = d.countries.get(o["country"], {}).get("member", False)
    mfn, zr = rate(d, o["country"], o["stage"])
    r = zr if (joined and member) else mfn
    levy = 0.0
    if joined and not member and o["stage"] in d.benchmarks:
        levy = max(0.0, d.benchmarks[o["stage"]] - o["price"])
    return v + r * v + levy


@dataclass
class Result:
    """An LP solution: cost, purchases x, process levels z, unmet demand u, demand duals."""

    status: str
    cost: float
    x: dict
    z: dict
    u: dict
    landed: dict
    data: Data
    duals: dict = field(default_factory=dict)


def solve(d: Data) -> Result:
    """Solve the least-cost plan of ``d`` (SPEC §3, one period, direct scope)."""
    stages = list(d.stages)
    offers = [o for o in d.offers]
    procs = d.processes
    no, npr, ns = len(offers), len(procs), len(stages)
    n = no + npr + ns
    c = np.zeros(n)
    bounds = []
    lc = {}
    for i, o in enumerate(offers):
        lc[o["offer"]] = landed(d, o)
        c[i] = lc[o["offer"]]
        hi = o["cap"]
        if o["members_only"] and d.zone != "joined":
            hi, lo = 0.0, 0.0
        else:
            lo = o["min"]
        bounds.append((lo, hi))
    for j, p in enumerate(procs):
        c[no + j] = p["cost"]
        bounds.append((0.0, p["cap"]))
    for k, s in enumerate(stages):
        sh = d.stages[s]["shortage"]
        c[no + npr + k] = sh if sh is not None else 0.0
        bounds.append((0.0, d.stages[s]["demand"] if sh is not None else 0.0))
    # out/in coefficients
    coef = {}   # (proc idx, stage) -> net out per unit z
    for j, p in enumerate(procs):
        coef[(j, p["to"])] = coef.get((j, p["to"]), 0) + 1.0
        coef[(j, p["frm"])] = coef.get((j, p["frm"]), 0) - 1.0 / p["yld"]
        for f in d.flows:
            if f["process"] == p["process"]:
                sign = 1.0 if f["role"] == "output" else -1.0
                coef[(j, f["stage"])] = coef.get((j, f["stage"]), 0) + sign * f["t"]
    a_ub, b_ub = [], []
    for k, s in enumerate(stages):       # -(sum x + net z + u) <= -demand
        row = np.zeros(n)
        for i, o in enumerate(offers):
            if o["stage"] == s:
                row[i] = -1
        for j in range(npr):
            row[no + j] = -coef.get((j, s), 0.0)
        row[no + npr + k] = -1
        a_ub.append(row)
        b_ub.append(-d.stages[s]["demand"])
    # share limits (direct, volume only)
    for lim in d.limits:
        if lim["scope"] != "direct" or lim["basis"] != "volume":
            d.skipped.append(f"limit {lim}")
            continue
        sts = stages if lim["stage"] == "*" else [lim["stage"]]
        for s in sts:
            supply = np.zeros(n)
            for i, o in enumerate(offers):
                if o["stage"] == s:
                    supply[i] = 1
            for j in range(npr):
                out = coef.get((j, s), 0.0)
                if out > 0:
                    supply[no + j] = out
            if lim["group"] == "each":
                groups = sorted({o["country"] for o in offers if o["stage"] == s} | {d.buyer})
            else:
                groups = [lim["group"]]
            for g in groups:
                gv = np.zeros(n)
                for i, o in enumerate(offers):
                    if o["stage"] == s and in_group(d, o["country"], g):
                        gv[i] = 1
                if in_group(d, d.buyer, g):
                    for j in range(npr):
                        out = coef.get((j, s), 0.0)
                        if out > 0:
                            gv[no + j] = out
                if lim["max"] is not None:
                    a_ub.append(gv - lim["max"] * supply)
                    b_ub.append(0.0)
                if lim["min"] is not None:
                    a_ub.append(lim["min"] * supply - gv)
                    b_ub.append(0.0)
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status != 0:
        return Result("infeasible" if res.status == 2 else f"status {res.status}", math.nan,
                      {}, {}, {}, lc, d)
    x = {o["offer"]: res.x[i] for i, o in enumerate(offers)}
    z = {p["process"]: res.x[no + j] for j, p in enumerate(procs)}
    u = {s: res.x[no + npr + k] for k, s in enumerate(stages)}
    duals = {s: -res.ineqlin.marginals[k] for k, s in enumerate(stages)}
    return Result("optimal", res.fun, x, z, u, lc, d, duals)


def value_shares(r: Result, country="CN") -> dict:
    """``country``'s share by value of imports per material group: {group: (share, value)}."""
    out = {}
    d = r.data
    for name, sts in MATERIAL_GROUPS.items():
        tot = cn = 0.0
        for o in d.offers:
            if o["stage"] in sts and o["country"] != d.buyer:
                v = r.landed[o["offer"]] * r.x[o["offer"]]
                tot += v
                if o["country"] == country:
                    cn += v
        out[name] = (cn / tot if tot > 0 else math.nan, tot)
    return out


def stage_table(r: Result) -> list[tuple]:
    """Per stage: bought, from China, domestic, unmet, import value, demand dual."""
    d = r.data
    rows = []
    for s in d.stages:
        buy = sum(r.x[o["offer"]] for o in d.offers if o["stage"] == s)
        cn = sum(r.x[o["offer"]] for o in d.offers if o["stage"] == s and o["country"] == "CN")
        dom = 0.0
        for p in d.processes:
            if p["to"] == s:
                dom += r.z[p["process"]]
            for f in d.flows:
                if f["process"] == p["process"] and f["stage"] == s and f["role"] == "output":
                    dom += f["t"] * r.z[p["process"]]
        val = sum(r.landed[o["offer"]] * r.x[o["offer"]] for o in d.offers if o["stage"] == s)
        rows.append((s, buy, cn, dom, r.u[s], val, r.duals.get(s, math.nan)))
    return rows


def report(r: Result, name: str, verbose=True) -> None:
    """Print the cost and China's value shares (and, verbose, the stage table and purchases)."""
    print(f"\n=== {name}: {r.status}  cost {r.cost/1e6:,.3f} M USD"
          + (f"   (skipped: {r.data.skipped})" if r.data.skipped else ""))
    if r.status != "optimal":
        return
    vs = value_shares(r)
    print("  China share by value of imports: " + "; ".join(
        f"{k} {v[0]*100:5.1f} % of {v[1]/1e6:,.2f} M" for k, v in vs.items()))
    if verbose:
        print(f"  {'stage':12s} {'bought t':>10s} {'from CN':>9s} {'CN vol%':>7s} "
              f"{'domestic':>9s} {'unmet':>7s} {'import M$':>10s} {'dual $/t':>11s}")
        for s, buy, cn, dom, u, val, du in stage_table(r):
            share = cn / (buy + dom) * 100 if buy + dom > 0 else float("nan")
            print(f"  {s:12s} {buy:10.2f} {cn:9.2f} {share:7.1f} {dom:9.2f} {u:7.2f} "
                  f"{val/1e6:10.3f} {du:11,.0f}")
        used = [(o["offer"], r.x[o["offer"]], r.landed[o["offer"]]) for o in r.data.offers
                if r.x[o["offer"]] > 1e-9]
        print("  purchases: " + ", ".join(f"{a} {b:,.1f}t@{c:,.0f}" for a, b, c in used))
        print("  processes: " + ", ".join(f"{k} {v:,.1f}" for k, v in r.z.items() if v > 1e-9))


def main() -> None:
    """Solve the baseline of a dataset and any scenarios named."""
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", nargs="?", default=str(DEFAULT))
    ap.add_argument("--scenario", action="append")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("-q", action="store_true")
    ap.add_argument("--period", help="a rough one-period view of this period (see period_data)")
    a = ap.parse_args()
    d = load(Path(a.dataset))
    if a.period:
        for nm in [None, *(a.scenario or [])]:
            report(solve(period_data(d, Path(a.dataset), a.period, nm)),
                   f"{nm or 'baseline'} @ {a.period}", not a.q)
        return
    names = a.scenario or []
    if a.all:
        names = list(dict.fromkeys(d.scenarios.scenario))
    r = solve(d)
    report(r, "baseline", not a.q)
    for nm in names:
        report(solve(apply_scenario(d, nm)), nm, not a.q)


if __name__ == "__main__":
    main()
