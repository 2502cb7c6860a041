"""Run the product (`planner solve --format json`) on the baseline and every scenario of the
dataset in inputs/ (`wider-zone` included: zone joined, zone_member MY and PH true), plus
`wider-zone-retaliation` (`wider-zone` then `joined-retaliation`, in a temporary copy of the
dataset: it is not a shipped scenario); report cost, China's share by value of imports
per material group (Σ landed × tonnes over purchases from outside Korea), unmet demand and
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


def shares(j: dict, buyer: str = "KR") -> dict:
    """China's share by value of imports per material group, from the planner's purchases."""
    out = {}
    for name, stages in GROUPS.items():
        tot = cn = 0.0
        for p in j.get("purchases", []):
            if p["stage"] in stages and p["country"] != buyer:
                v = p["tonnes"] * p["landed_usd_per_t"]
                tot += v
                cn += v if p["country"] == "CN" else 0.0
        out[name] = cn / tot if tot else float("nan")
    return out


def unmet(j: dict) -> dict:
    """Unmet demand per stage, t (the planner's cost_by_stage rows)."""
    return {r["stage"]: round(r["shortage_t"], 2) for r in j.get("cost_by_stage", [])
            if isinstance(r, dict) and r.get("shortage_t", 0) > 1e-6}


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
    return dict(label=label, exit=code, status=j.get("status"),
                levy=totals.get("levy_usd"), shortage_usd=totals.get("shortage_usd"),
                cost=j.get("objective_usd"), ref=ref.cost if ref.status == "optimal" else None,
                ref_skipped=ref.data.skipped, shares=s, unmet=unmet(j), prod=prod,
                diagnosis=j.get("diagnosis"), err=j.get("stderr"))


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
    if r["err"]:
        print(f"{'':34s}error: {r['err']}")
    if r["status"] not in ("optimal", None) and r["diagnosis"]:
        print(f"{'':34s}diagnosis: {json.dumps(r['diagnosis'])[:600]}")


if __name__ == "__main__":
    main()
