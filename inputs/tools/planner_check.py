"""Run the product (`planner solve --format json`) on the baseline and every scenario of the
dataset in inputs/ (`wider-zone` included: zone joined, zone_member MY and PH true), plus
`wider-zone-retaliation` (`wider-zone` then `joined-retaliation`, in a temporary copy of the
dataset: it is not a shipped scenario); report cost, China's share by value of imports
per material group (with periods: the first period's, compared with the check LP, then one line
per period) (Σ landed × tonnes over purchases from outside Korea), unmet demand and
domestic production, and compare with the independent LP (lp_check.py).

Run from the repository root (the full results go to build/planner_results.json):

    .venv/bin/python inputs/tools/planner_check.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import lp_check

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]                  # the repository root (inputs/tools -> inputs -> root)
DATASET = HERE.parent                   # inputs/
RESULTS = ROOT / "build" / "planner_results.json"

GROUPS = lp_check.MATERIAL_GROUPS
PLANNER = str(ROOT / ".venv" / "bin" / "planner")
# scenarios run one after the other as one (the CLI takes one --scenario): name -> parts
COMBINED = {"wider-zone-retaliation": ("wider-zone", "joined-retaliation")}


def run(inputs: Path, scenario: str | None) -> tuple[int, dict]:
    """Run `planner solve` as JSON; return its exit code and the parsed output."""
    cmd = [PLANNER, "solve", "--inputs", str(inputs), "--format", "json"]
    if scenario:
        cmd += ["--scenario", scenario]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    try:
        return p.returncode, json.loads(p.stdout)
    except json.JSONDecodeError:
        return p.returncode, {"status": "error", "stderr": p.stderr[-2000:],
                              "stdout": p.stdout[-500:]}


def first_period(j: dict) -> str | None:
    """The first period's id of a solve over periods (None for a one-period dataset)."""
    rows = j.get("periods") or []
    return min(rows, key=lambda r: r["order"])["period"] if rows else None


def in_period(row: dict, period: str | None) -> bool:
    """Whether a report row belongs to ``period`` of the base branch (every row when there are
    no periods; with disruptions, the other branches' rows are left out: the path shown is
    the base branch's)."""
    return period is None or (str(row.get("period")) == period
                              and row.get("branch", "base") == "base")


def shares(j: dict, buyer: str = "KR", period: str | None = None) -> dict:
    """China's share by value of imports per material group, from the planner's purchases
    (with periods: those of ``period``, by default the first)."""
    period = period or first_period(j)
    out = {}
    for name, stages in GROUPS.items():
        tot = cn = 0.0
        for p in j.get("purchases", []):
            if not in_period(p, period):
                continue
            if p["stage"] in stages and p["country"] != buyer:
                v = p["tonnes"] * p["landed_usd_per_t"]
                tot += v
                cn += v if p["country"] == "CN" else 0.0
        out[name] = cn / tot if tot else float("nan")
    return out


def unmet(j: dict, period: str | None = None) -> dict:
    """Unmet demand per stage, t/yr (the planner's cost_by_stage rows; with periods, keyed
    "stage@period" over every period unless ``period`` is given)."""
    out = {}
    for r in j.get("cost_by_stage", []):
        if not isinstance(r, dict) or r.get("shortage_t", 0) <= 1e-6:
            continue
        if period is not None and not in_period(r, period):
            continue
        key = r["stage"] if r.get("period") is None else f"{r['stage']}@{r['period']}"
        out[key] = round(r["shortage_t"], 2)
    return out


def first_period_cost(j: dict) -> float | None:
    """With periods: one year of the first period, undiscounted, without the stocks' holding
    cost (which the one-period check LP does not have) -- comparable with lp_check's cost when
    nothing couples the first period to later ones (no put into stock there)."""
    period = first_period(j)
    if period is None:
        return j.get("objective_usd")
    row = next(r for r in j["periods"] if r["period"] == period)
    return row["cost_usd_per_yr"] - holding_cost(j, period)


def holding_cost(j: dict, period: str) -> float:
    """Holding cost of the stock levels at the end of ``period`` (USD per year), from the
    dataset's stocks table and the planner's stock rows."""
    import csv
    path = DATASET / "stocks.csv"
    if not path.exists():
        return 0.0
    rate = {r["stage"]: float(r["holding_usd_per_t_yr"] or 0)
            for r in csv.DictReader(path.open())}
    return sum(rate.get(r["stage"], 0.0) * r["level_t"] for r in j.get("stocks", [])
               if in_period(r, period) and r.get("branch", "base") == "base")


def by_period(j: dict) -> list[str]:
    """One line per period of the base branch: cost per year, China by value, unmet, stock
    puts, expansions."""
    lines = []
    for per in sorted((r for r in j.get("periods") or [] if r.get("branch", "base") == "base"),
                      key=lambda r: r["order"]):
        pid = per["period"]
        sh = " / ".join(f"{v * 100:5.1f}" for v in shares(j, period=pid).values())
        um = unmet(j, pid)
        puts = {r["stage"]: round(r["put_t"] - r["release_t"], 2) for r in j.get("stocks", [])
                if in_period(r, pid) and abs(r["put_t"] - r["release_t"]) > 1e-6}
        added = {e["expansion"]: round(e["added_t_yr"], 1) for e in j.get("expansions", [])
                 if in_period(e, pid) and e["added_t_yr"] > 1e-6}
        lines.append(f"{pid}: {per['cost_usd_per_yr'] / 1e6:8.2f} M/yr  CN {sh} %"
                     + (f"  unmet {um}" if um else "") + (f"  stock net put {puts}" if puts
                                                          else "")
                     + (f"  added {added}" if added else ""))
    return lines


def with_combined(folder: Path) -> Path:
    """Copy inputs/ into ``folder``, its scenarios table extended with COMBINED."""
    table = (DATASET / "scenarios.csv").read_text()
    lines = table.splitlines()
    for name, parts in COMBINED.items():
        for part in parts:
            lines += [name + line[len(part):] for line in lines[1:]
                      if line.startswith(part + ",")]
    for f in DATASET.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    (folder / "scenarios.csv").write_text("\n".join(lines) + "\n")
    return folder


def main() -> None:
    """Run every scenario through the planner and the check LP and print the table."""
    d = lp_check.load(DATASET)
    names = [None, *dict.fromkeys(d.scenarios.scenario)]
    with tempfile.TemporaryDirectory() as tmp:
        combined = with_combined(Path(tmp))
        runs = [(DATASET, n, n or "baseline") for n in names]
        runs += [(combined, n, n) for n in COMBINED]
        rows = [check(inputs, scen, label) for inputs, scen, label in runs]
    for r in rows:
        print_row(r)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=1, default=str))


def check(inputs: Path, scen: str | None, label: str) -> dict:
    """One run of the planner and of the check LP, summarised."""
    code, j = run(inputs, scen)
    data = lp_check.load(inputs)
    ref = lp_check.solve(lp_check.apply_scenario(data, scen) if scen else data)
    s = shares(j) if j.get("status") == "optimal" else {}
    prod = {p["process"]: round(p["tonnes"], 1) for p in j.get("production", [])
            if p.get("tonnes", 0) > 1e-6}
    totals = j.get("totals", {}) or {}
    fp = first_period(j)
    if fp is not None:
        prod = {p["process"]: round(p["tonnes"], 1) for p in j.get("production", [])
                if p.get("tonnes", 0) > 1e-6 and in_period(p, fp)}
    return dict(label=label, exit=code, status=j.get("status"),
                levy=totals.get("levy_usd"), shortage_usd=totals.get("shortage_usd"),
                cost=first_period_cost(j) if j.get("status") == "optimal" else None,
                objective=j.get("objective_usd"),
                ref=ref.cost if ref.status == "optimal" else None,
                ref_skipped=ref.data.skipped, shares=s, unmet=unmet(j, fp), prod=prod,
                periods=by_period(j), diagnosis=j.get("diagnosis"), err=j.get("stderr"))


def print_row(r: dict) -> None:
    """Print one run: cost against the check LP, China's shares, levy, unmet, production."""
    cost = f"{r['cost'] / 1e6:9.3f}" if isinstance(r["cost"], (int, float)) else "      n/a"
    ref = f"{r['ref'] / 1e6:9.3f}" if r["ref"] is not None else "      n/a"
    sh = " / ".join(f"{r['shares'].get(k, float('nan')) * 100:5.1f}" for k in GROUPS)
    print(f"{r['label']:32s} exit {r['exit']} {r['status']!s:10s} planner {cost} M  "
          f"check {ref} M{' (embedded skipped)' if r['ref_skipped'] else ''}  "
          f"CN by value ox/met/mag/dytbm {sh} %")
    if r["levy"]:
        print(f"{'':34s}levy: {r['levy'] / 1e6:,.1f} M")
    if r["unmet"]:
        print(f"{'':34s}unmet t: {r['unmet']}  (shortage cost {r['shortage_usd'] / 1e6:,.1f} M)")
    if r["prod"]:
        print(f"{'':34s}production: {r['prod']}")
    if r.get("periods"):
        print(f"{'':34s}objective (all periods, discounted): {r['objective'] / 1e6:,.1f} M")
        for line in r["periods"]:
            print(f"{'':36s}{line}")
    if r["err"]:
        print(f"{'':34s}error: {r['err']}")
    if r["status"] not in ("optimal", None) and r["diagnosis"]:
        print(f"{'':34s}diagnosis: {json.dumps(r['diagnosis'])[:600]}")


if __name__ == "__main__":
    main()
