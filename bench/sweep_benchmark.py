"""Benchmark of ``planner sweep``: warm sweeps on one model against the alternatives.

For a cap (China's share of the last stage), on the shipped dataset and on
synthetic ones (``benchmark.generate``), all in one process and run:

  one solve      a cold HiGHS solve of the compiled LP (no build);
  grid, planner  a 50-point grid on one built model (``CapSweep.grid``: changeCoeff,
                 warm re-solve, verification of every point);
  grid, raw      the same 50 points through highspy directly (changeCoeff + run);
  rebuild        build + compile + cold solve per point (measured on REBUILT points
                 and scaled to 50 when the LP is large);
  exact          the exact curve: solves used against breakpoints found.

Usage: python bench/sweep_benchmark.py [--offers N ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmark import generate
from planner.models.build import create_model
from planner.models.highs import HighsSolver, compile_lp

from planner.analysis.scenarios import set_share
from planner.analysis.sweep import CapSweep, CapTarget, linear_values
from planner.cli import default_inputs, load

POINTS = 50


def measure(data, target: CapTarget, rebuilt: int, exact: bool) -> dict:
    """Every figure of one row of the table."""
    sweep = CapSweep(data, [target])
    start, end, _ = sweep.default_range(0)
    caps = linear_values(start, end, POINTS)
    lp = sweep.lp
    clock = time.perf_counter()
    HighsSolver(lp).solve(presolve=True)
    one = time.perf_counter() - clock

    clock = time.perf_counter()
    points = sweep.grid([(c,) for c in caps])
    grid = time.perf_counter() - clock

    raw = _raw_grid(sweep, caps)

    clock = time.perf_counter()
    for cap in caps[:rebuilt]:
        varied = set_share(data, target.group, target.stage, "max_share", cap, "bench")
        built = create_model(varied)
        HighsSolver(compile_lp(built.model)).solve(presolve=True)
    rebuild = (time.perf_counter() - clock) * POINTS / rebuilt

    figures = {"segments": "–", "breakpoints": "–", "exact_solves": "–", "exact": None}
    if exact:
        exact_sweep = CapSweep(data, [target])
        clock = time.perf_counter()
        curve = exact_sweep.exact()
        figures = {"segments": len(curve.segments), "breakpoints": len(curve.breakpoints()),
                   "exact_solves": exact_sweep.solves, "exact": time.perf_counter() - clock}
    return figures | {"rows": lp.shape[0], "cols": lp.shape[1], "nnz": int(lp.A.nnz), "one": one,
            "grid": grid, "raw": raw, "rebuild": rebuild, "rebuilt": rebuilt,
            "feasible": sum(p.status == "optimal" for p in points)}


def _raw_grid(sweep: CapSweep, caps: list[float]) -> float:
    """The same grid through highspy directly: change the coefficient, run, read."""
    solver = HighsSolver(sweep.lp)
    solver.solve(presolve=True)
    highs = solver.highs
    (row, total, _), = sweep.rows[0]
    clock = time.perf_counter()
    for cap in caps:
        highs.changeCoeff(row, total, -cap)
        highs.setOptionValue("presolve", "off")
        highs.run()
        highs.getSolution()
    return time.perf_counter() - clock


def main() -> None:
    """Print the table (markdown) for the shipped dataset and each synthetic size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, nargs="*", default=[2_000, 20_000],
                        help="offers per stage of the synthetic datasets")
    parser.add_argument("--exact-up-to", type=int, default=2_000,
                        help="largest offers per stage whose exact curve is traced")
    args = parser.parse_args()
    cases = [("Korea 2025 (shipped)", load(default_inputs())[0], CapTarget("CN", "magnet"),
              POINTS, True)]
    for per_stage in args.offers:
        folder = Path(tempfile.mkdtemp()) / f"synthetic-{per_stage}"
        generate(folder, per_stage)
        cases.append((f"synthetic, {4 * per_stage:,} offers", load(folder)[0],
                      CapTarget("CN", "metal"), 5 if per_stage > 5_000 else POINTS,
                      per_stage <= args.exact_up_to))
    print("| dataset | rows | cols | nnz | one cold solve (s) | 50-pt grid, planner (s) "
          "| ratio to one solve | 50-pt grid, raw highspy (s) | planner / raw "
          "| 50 points, rebuilt each (s) | exact: segments / breakpoints / solves (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, data, target, rebuilt, exact in cases:
        r = measure(data, target, rebuilt, exact)
        scaled = ("" if r["rebuilt"] == POINTS
                  else f" ({r['rebuilt']} built, ×{POINTS // r['rebuilt']})")
        print(f"| {name} | {r['rows']:,} | {r['cols']:,} | {r['nnz']:,} | {r['one']:.3f} "
              f"| {r['grid']:.3f} | {r['grid'] / r['one']:.1f}× | {r['raw']:.3f} "
              f"| {r['grid'] / r['raw']:.2f}× | {r['rebuild']:.2f}{scaled} "
              f"| {r['segments']} / {r['breakpoints']} / {r['exact_solves']}"
              + (f" ({r['exact']:.2f})" if r["exact"] is not None else "") + " |",
              flush=True)


if __name__ == "__main__":
    main()
