"""Benchmark of ``planner sweep``: a 50-point cap grid against one cold solve.

For a cap (China's share of the last stage), on the shipped dataset and on
synthetic ones (``benchmark.generate``), all in one process and run:

  one solve       a cold HiGHS solve of the compiled LP (no build; median of 3);
  point by point  the 50 points of the grid on one built model, each solved
                  (changeCoeff, warm re-solve, verification): the grid before
                  issue 13's target 3;
  grid            the same 50 points as ``planner sweep`` runs them now
                  (``CapSweep.grid``): read off the exact piece of an earlier solve
                  where one holds the point, solved otherwise; how many of each;
  raw highspy     the 50 points through highspy directly (changeCoeff + run);
  exact           the exact curve over the grid's range: solves used against
                  breakpoints found.

Each grid starts warm from the plan without the cap (as after ``default_range``).
Times are CPU seconds of this process (``time.process_time``: HiGHS solves on one
thread here), which other work on a shared machine changes far less than the wall
clock; the grid's wall-clock ratio and the load average (1 min) are printed too.
Ratios are to the one solve measured in the same run.

Usage: python bench/sweep_benchmark.py [--offers N ...] [--exact-up-to N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmark import generate
from planner.models.highs import HighsSolver

from planner.analysis.sweep import READ_OFF, CapSweep, CapTarget, linear_values
from planner.cli import default_inputs, load

POINTS = 50


def measure(data, target: CapTarget, exact: bool) -> dict:
    """Every figure of one row of the table."""
    sweep = CapSweep(data, [target])
    start, end, _ = sweep.default_range(0)
    caps = [(c,) for c in linear_values(start, end, POINTS)]
    lp = sweep.lp
    colds = [_timed(lambda: HighsSolver(lp).solve(presolve=True)) for _ in range(3)]
    one, one_wall = (statistics.median(times[k] for times, _ in colds) for k in (0, 1))
    (by_point, _), _ = _timed_grid(sweep, caps, read_off=False)
    (grid, wall), points = _timed_grid(sweep, caps, read_off=True)
    read = sum(p.method == READ_OFF for p in points)
    figures = {"segments": "–", "breakpoints": "–", "exact_solves": "–", "exact": None}
    if exact:
        exact_sweep = CapSweep(data, [target])
        (seconds, _), curve = _timed(exact_sweep.exact)
        figures = {"segments": len(curve.segments), "breakpoints": len(curve.breakpoints()),
                   "exact_solves": exact_sweep.solves, "exact": seconds}
    return figures | {"rows": lp.shape[0], "cols": lp.shape[1], "nnz": int(lp.A.nnz),
                      "one": one, "by_point": by_point, "grid": grid,
                      "wall_ratio": wall / one_wall, "read": read,
                      "solved": len(points) - read, "raw": _raw_grid(sweep, caps)}


def _timed(work):
    """((CPU, wall) seconds, result) of ``work()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return (time.process_time() - cpu, time.perf_counter() - wall), result


def _timed_grid(sweep: CapSweep, caps: list[tuple[float]], read_off: bool):
    """((CPU, wall) seconds, points) of the grid, warm from the plan without the cap."""
    sweep.solve_at((1.0,))
    return _timed(lambda: sweep.grid(caps, read_off=read_off))


def _raw_grid(sweep: CapSweep, caps: list[tuple[float]]) -> float:
    """CPU seconds of the same grid through highspy directly: change the
    coefficient(s), run, read."""
    solver = HighsSolver(sweep.lp)
    solver.solve(presolve=True)
    highs = solver.highs
    highs.setOptionValue("presolve", "off")

    def run() -> None:
        for (cap,) in caps:
            for row, total, _ in sweep.rows[0]:
                highs.changeCoeff(row, total, -cap)
            highs.run()
            highs.getSolution()

    return _timed(run)[0][0]


def cases(offers: list[int], exact_up_to: int):
    """(name, dataset, target, trace the exact curve) for every row of the table."""
    korea = load(default_inputs())[0]
    one_year = replace(korea, periods=(), period_values=(), stocks=(), expansions=(),
                       disruptions=())
    yield "Korea, calibration year 2025", one_year, CapTarget("CN", "magnet"), True
    yield ("Korea 2025–2030 (shipped), cap of 2025", korea,
           CapTarget("CN", "magnet", period="2025"), True)
    yield ("Korea 2025–2030 (shipped), cap of every period (36 rows)", korea,
           CapTarget("CN", "magnet"), False)
    for per_stage in offers:
        folder = Path(tempfile.mkdtemp()) / f"synthetic-{per_stage}"
        generate(folder, per_stage)
        yield (f"synthetic, {4 * per_stage:,} offers", load(folder)[0],
               CapTarget("CN", "metal"), per_stage <= exact_up_to)


def main() -> None:
    """Print the table (markdown) for the shipped dataset and each synthetic size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, nargs="*", default=[2_000, 20_000],
                        help="offers per stage of the synthetic datasets")
    parser.add_argument("--exact-up-to", type=int, default=2_000,
                        help="largest offers per stage whose exact curve is traced")
    args = parser.parse_args()
    print(f"| dataset | rows | cols | nnz | one cold solve (s) | {POINTS} points, each solved "
          "(s) | ratio | grid as run now (s) | ratio | read off / solved | ratio, wall clock "
          "| raw highspy (s) | exact: segments / breakpoints / solves (s) | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, data, target, exact in cases(args.offers, args.exact_up_to):
        r = measure(data, target, exact)
        exact_cell = f"{r['segments']} / {r['breakpoints']} / {r['exact_solves']}" + (
            f" ({r['exact']:.2f})" if r["exact"] is not None else "")
        print(f"| {name} | {r['rows']:,} | {r['cols']:,} | {r['nnz']:,} | {r['one']:.4f} "
              f"| {r['by_point']:.3f} | {r['by_point'] / r['one']:.1f}× | {r['grid']:.3f} "
              f"| {r['grid'] / r['one']:.1f}× | {r['read']} / {r['solved']} "
              f"| {r['wall_ratio']:.1f}× | {r['raw']:.3f} | {exact_cell} "
              f"| {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
