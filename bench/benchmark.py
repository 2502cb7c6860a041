"""Benchmark: the planner's pipeline against raw highspy on the same LP.

Generates a synthetic dataset in the SPEC format (CSV folder), then measures in
separate processes (so peak memory is each one's own):

  planner: load (read + validate) → build (Pyomo) → compile (standard form) →
           solve (HiGHS) → verify + sensitivity → report (JSON object)
  raw:     the same LP matrix (exported by the planner run as .npz) passed to
           a fresh highspy.Highs and solved with the same options

With ``--periods N`` the dataset is a plan over time (SPEC §2, §3a): N yearly
periods (discount factor 0.96^k), a demand path and a tightening cap on China's
share of magnets (period_values), stocks of oxide and magnets, and five
expansions of processes and offers with a lead of 1-2 periods.

With ``--wide`` the dataset is the wide, easy national model of issue 13 instead
(``generate_wide``): the planner's overhead shows where HiGHS's solve is short.

The raw run reads the dataset's CSV files with the csv module (timed in its load) and
passes the planner's exported matrix to HiGHS: it does not formulate the LP itself,
so its time is a floor for any program that does.

Usage: python bench/benchmark.py [--offers N ...] [--periods N] [--wide] [--repeat R]
The figure of merit is the ratio planner / raw (time and peak RSS), measured in
the same run on the same machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("ore", "oxide", "metal", "magnet")
WIDE_OFFERS = 17_000   # offers of the wide, easy set (``generate_wide``)


def generate(folder: Path, offers_per_stage: int, countries: int = 60, seed: int = 7,
             periods: int = 0) -> None:
    """A synthetic chain: ``countries`` countries, many offers per stage, three processes;
    with ``periods`` > 0 also that many yearly periods, their values, stocks and expansions."""
    rng = random.Random(seed)
    codes = _country_codes(countries)
    folder.mkdir(parents=True, exist_ok=True)
    write = _writer(folder)

    base = {"ore": 5_000, "oxide": 60_000, "metal": 80_000, "magnet": 55_000}
    write("stages", ["stage", "order", "demand_t"],
          [[s, i, 1_000 * offers_per_stage // 20] for i, s in enumerate(STAGES)])
    offers = []
    for stage in STAGES:
        for k in range(offers_per_stage):
            country = "CN" if rng.random() < 0.3 else rng.choice(codes[:-1])
            price = base[stage] * (0.6 if country == "CN" else 1.0) * rng.uniform(0.8, 1.5)
            offers.append([f"{stage}_{k}", stage, f"supplier {k % 200}", country,
                           round(price, 2), round(rng.uniform(20, 200), 1),
                           0 if rng.random() < 0.95 else 5, round(rng.uniform(10, 100), 1)])
    write("offers", ["offer", "stage", "supplier", "country", "price_usd_per_t", "capacity_t",
                     "min_t", "freight_usd_per_t"], offers)
    write("countries", ["country", "name", "zone_member", "groups"],
          [[c, f"Country {c}", c != "CN" and rng.random() < 0.5,
            "feoc" if c == "CN" else ""] for c in codes])
    write("processes", ["process", "from_stage", "to_stage", "yield", "cost_usd_per_t",
                        "capacity_t"],
          [["kr_sep", "ore", "oxide", 0.3, 8_000, 2_000],
           ["kr_metal", "oxide", "metal", 0.85, 6_000, 3_000],
           ["kr_magnet", "metal", "magnet", 2.75, 9_000, 4_000]])
    write("tariffs", ["country", "stage", "mfn_rate", "zone_rate"],
          [["*", "*", 0.03, 0.0], ["CN", "magnet", 0.08, 0.0]])
    write("benchmarks", ["stage", "benchmark_usd_per_t"], [["oxide", 70_000]])
    write("limits", ["group", "stage", "min_share", "max_share", "basis", "scope"],
          [["each", "*", "", 0.5, "volume", "direct"],
           ["CN", "magnet", "", 0.4, "value", "direct"],
           ["zone", "oxide", 0.3, "", "volume", "direct"]])
    write("settings", ["key", "value"], [["buyer", "KR"], ["zone", "joined"]])
    if periods:
        write_periods(write, periods, demand_t=1_000 * offers_per_stage // 20)


def generate_wide(folder: Path, materials: int = 17, offers: int = WIDE_OFFERS,
                  countries: int = 60, seed: int = 11) -> None:
    """A wide, easy national model (issue 13): ``materials`` materials × 4 levels as
    stages with unique orders, ``offers`` offers spread evenly over them from
    ``countries`` countries (China cheaper and on a third of them), one domestic
    process per level step and material, demand at every level, an ``each:*`` volume
    cap (no country above 6 % of any stage) and a ``CN:*`` value cap (China below 35 %
    of any stage's spend): several hundred binding share rows, an LP HiGHS solves in
    well under a second."""
    rng = random.Random(seed)
    codes = _country_codes(countries)
    folder.mkdir(parents=True, exist_ok=True)
    write = _writer(folder)
    stages = [(f"m{m:02d}-{level}", 4 * m + k, f"m{m:02d}", level)
              for m in range(materials) for k, level in enumerate(STAGES)]
    base = {"ore": 5_000, "oxide": 60_000, "metal": 80_000, "magnet": 55_000}
    per_stage = offers // len(stages)
    write("stages", ["stage", "order", "demand_t", "material"],
          [[s, order, 10 * per_stage if level != "ore" else 0, material]
           for s, order, material, level in stages])
    rows = []
    for s, _, _, level in stages:
        for k in range(per_stage):
            country = "CN" if rng.random() < 0.3 else rng.choice(codes[:-1])
            price = base[level] * (0.7 if country == "CN" else 1.0) * rng.uniform(0.8, 1.5)
            rows.append([f"{s}_{k}", s, f"supplier {k % 200}", country, round(price, 2),
                         round(rng.uniform(20, 200), 1), round(rng.uniform(10, 100), 1)])
    write("offers", ["offer", "stage", "supplier", "country", "price_usd_per_t",
                     "capacity_t", "freight_usd_per_t"], rows)
    write("countries", ["country", "name", "zone_member", "groups"],
          [[c, f"Country {c}", c != "CN" and rng.random() < 0.5,
            "feoc" if c == "CN" else ""] for c in codes])
    steps = [("sep", "ore", "oxide", 0.3, 8_000), ("metal", "oxide", "metal", 0.85, 6_000),
             ("magnet", "metal", "magnet", 2.75, 9_000)]
    write("processes", ["process", "from_stage", "to_stage", "yield", "cost_usd_per_t",
                        "capacity_t"],
          [[f"kr-{m:02d}-{name}", f"m{m:02d}-{source}", f"m{m:02d}-{target}", y, cost,
            2 * per_stage] for m in range(materials)
           for name, source, target, y, cost in steps])
    write("tariffs", ["country", "stage", "mfn_rate", "zone_rate"],
          [["*", "*", 0.03, 0.0]])
    write("limits", ["group", "stage", "min_share", "max_share", "basis", "scope"],
          [["each", "*", "", 0.06, "volume", "direct"],
           ["CN", "*", "", 0.35, "value", "direct"]])
    write("settings", ["key", "value"], [["buyer", "KR"], ["zone", "observer"]])


def _country_codes(countries: int) -> list[str]:
    """``countries`` two-letter codes, China first and the buyer (KR) last."""
    codes = [a + b for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
             if a + b not in ("KR",)][:countries - 1] + ["KR"]
    return ["CN" if c == "AA" else c for c in codes]


def _writer(folder: Path):
    """``write(name, header, rows)``: one CSV table of the dataset in ``folder``."""
    def write(name: str, header: list[str], rows: list[list]) -> None:
        with (folder / f"{name}.csv").open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            out.writerows(rows)
    return write


def write_periods(write, periods: int, demand_t: float) -> None:
    """Periods y2026.. (1 year each, discount 0.96^k); per period a demand growth of 3 % a
    year on every stage (faster on magnets) and China's cap on magnets (direct, volume)
    tightening from 50 % by 5 pp a year (floor 20 %); stocks of oxide and magnets (the
    magnet floor above its initial stock: the plan must build it); expansions of the three
    processes and of two offers, lead 1-2 periods, two of them decidable from the second
    period only."""
    ids = [f"y{2026 + k}" for k in range(periods)]
    write("periods", ["period", "order", "years", "discount_factor"],
          [[p, 2026 + k, 1, round(0.96 ** k, 6)] for k, p in enumerate(ids)])
    growth = {"ore": 0.03, "oxide": 0.03, "metal": 0.03, "magnet": 0.05}
    values = [[p, "demand_factor", s, round((1 + g) ** k, 6)]
              for k, p in enumerate(ids) for s, g in growth.items()]
    values += [[p, "max_share", "CN:magnet", round(max(0.5 - 0.05 * k, 0.2), 4)]
               for k, p in enumerate(ids)]
    write("period_values", ["period", "setting", "target", "value"], values)
    write("stocks", ["stage", "initial_t", "capacity_t", "holding_usd_per_t_yr", "min_t"],
          [["oxide", 0.2 * demand_t, 0.5 * demand_t, 1_200, 0.1 * demand_t],
           ["magnet", 0.1 * demand_t, 0.4 * demand_t, 1_100, 0.15 * demand_t]])
    later = ids[1] if len(ids) > 1 else ""
    write("expansions", ["expansion", "target", "usd_per_t_yr", "max_t_yr", "lead_periods",
                         "from_period"],
          [["sep_plus", "kr_sep", 15_000, 5_000, 2, ""],
           ["metal_plus", "kr_metal", 12_000, 3_000, 1, ""],
           ["magnet_plus", "kr_magnet", 10_000, 4_000, 1, later],
           ["oxide_mine", "oxide_1", 20_000, 500, 2, ""],
           ["magnet_line", "magnet_3", 8_000, "", 1, later]])


def run_planner(folder: Path, export: Path) -> dict:
    """Time each phase of the planner's pipeline; export the LP for the raw run."""
    import numpy as np
    from planner.models.highs import HighsSolver, compile_lp, solution_residuals
    from planner.models.horizon import create_horizon

    from planner.io.read import read_dataset
    from planner.io.validate import validate
    from planner.io.write import write_json
    from planner.reports.tables import as_json
    from planner.solving.engine import PlanResult, _analyse
    from planner.solving.result import labelled

    times = {}
    t0 = time.perf_counter()
    data, _ = validate(read_dataset(folder))
    t1 = time.perf_counter()
    horizon = create_horizon(data)   # the plain model of SPEC §3 for one period
    t2 = time.perf_counter()
    lp = compile_lp(horizon.model)
    t3 = time.perf_counter()
    solver = HighsSolver(lp)
    solution = solver.solve()
    t4 = time.perf_counter()
    built = None if horizon.linked else horizon.slices[0]
    result = PlanResult(solution.status, solution.message, data, built, lp, solution,
                        horizon=horizon)
    result.residuals = solution_residuals(lp, solution)
    _analyse(result, solver)
    t5 = time.perf_counter()
    report = as_json(labelled(result))
    write_json(report)
    t6 = time.perf_counter()
    times = {"load": t1 - t0, "build": t2 - t1, "compile": t3 - t2, "solve": t4 - t3,
             "verify_sensitivity": t5 - t4, "report": t6 - t5}
    np.savez(export, indptr=lp.A.indptr, indices=lp.A.indices, data=lp.A.data, c=lp.c,
             offset=lp.offset, rl=lp.row_lower, ru=lp.row_upper, cl=lp.col_lower,
             cu=lp.col_upper, shape=np.array(lp.shape))
    return {"times": times, "objective": report["objective_usd"], "rows": lp.shape[0],
            "cols": lp.shape[1], "nnz": int(lp.A.nnz), "status": report["status"],
            "peak_rss_mb": _peak_rss_mb()}


def run_raw(export: Path, folder: Path | None = None) -> dict:
    """Load the exported matrix and solve it with highspy directly (same options); with
    ``folder``, read the dataset's CSV files with the csv module first (timed in load)."""
    import highspy
    import numpy as np

    t0 = time.perf_counter()
    if folder is not None:
        for table in sorted(folder.glob("*.csv")):
            with table.open(newline="") as handle:
                list(csv.reader(handle))
    z = np.load(export)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = (int(v) for v in z["shape"])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = z["c"], z["cl"], z["cu"]
    lp.row_lower_, lp.row_upper_, lp.offset_ = z["rl"], z["ru"], float(z["offset"])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = z["indptr"], z["indices"]
    lp.a_matrix_.value_ = z["data"]
    h.passModel(lp)
    t1 = time.perf_counter()
    h.run()
    h.getSolution()
    t2 = time.perf_counter()
    return {"times": {"load": t1 - t0, "solve": t2 - t1},
            "objective": h.getInfo().objective_function_value, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, nargs="+", default=[2_000, 20_000, 60_000],
                        help="offers per stage (4 stages)")
    parser.add_argument("--periods", type=int, default=0,
                        help="a plan over N yearly periods, with stocks and expansions "
                             "(0: the one-period dataset, no periods table)")
    parser.add_argument("--wide", action="store_true",
                        help="the wide, easy set instead (17 materials × 4 levels, 17,000 "
                             "offers, several hundred binding limits); --offers ignored")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = run_planner(Path(rest[0]), Path(rest[1])) if kind == "planner" else run_raw(
            Path(rest[0]), Path(rest[1]) if len(rest) > 1 else None)
        print(json.dumps(result))
        return
    print("| offers | periods | rows | cols | nnz | load | build | compile | solve | sens. | "
          "report | planner total | raw highspy | time ratio | solve-only ratio | "
          "RSS planner / raw (MB) | RSS ratio |")
    print("|" + "---|" * 17)
    datasets = ([(WIDE_OFFERS, generate_wide)]
                if args.wide else
                [(4 * n, lambda folder, n=n: generate(folder, n, periods=args.periods))
                 for n in args.offers])   # (offers in all, writes the dataset's CSV files)
    for offers, write_dataset in datasets:
        with tempfile.TemporaryDirectory() as tmp:
            folder, export = Path(tmp) / "data", Path(tmp) / "lp.npz"
            write_dataset(folder)
            for _ in range(args.repeat):
                planner = _child("planner", str(folder), str(export))
                raw = _child("raw", str(export), str(folder))
                assert abs(planner["objective"] - raw["objective"]) <= 1e-6 * max(
                    1, abs(raw["objective"])), (planner["objective"], raw["objective"])
                pt, rt = planner["times"], raw["times"]
                core = sum(pt[k] for k in ("load", "build", "compile", "solve", "report"))
                total = sum(pt.values())
                raw_total = sum(rt.values())
                print(f"| {offers:,} | {args.periods or 1} | {planner['rows']:,} | "
                      f"{planner['cols']:,} | {planner['nnz']:,} | "
                      + " | ".join(f"{pt[k]:.2f}" for k in (
                          "load", "build", "compile", "solve", "verify_sensitivity",
                          "report")) +
                      f" | {total:.2f} | {raw_total:.2f} | {total / raw_total:.2f}× "
                      f"(core {core / raw_total:.2f}×) | {pt['solve'] / rt['solve']:.2f}× | "
                      f"{planner['peak_rss_mb']:.0f} / {raw['peak_rss_mb']:.0f} | "
                      f"{planner['peak_rss_mb'] / raw['peak_rss_mb']:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
