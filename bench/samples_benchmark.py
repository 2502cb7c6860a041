"""Benchmark: `planner stress --samples` on Dask against raw highspy on the same LPs.

On a dataset with disruptions (default: the shipped Korean dataset), solves the plan,
draws N futures and measures, in one run on one machine:

  raw:      each distinct future's LP (built and compiled once here, the plan's shared
            decisions fixed) passed to a fresh highspy.Highs and solved — the solver alone
  planner:  the same futures through ``planner.analysis.sampling.sample`` on a local Dask
            cluster of 1 and of 2 workers: the draw, one task per distinct future (build,
            compile, fix, solve, verify), the statistics — with each worker's peak memory

The figures of merit are distinct LPs per second (futures drawn per second is larger by
the ratio of draws to distinct futures) and the ratio planner / raw.

Usage: python bench/samples_benchmark.py [--inputs PATH] [--samples N] [--seed S]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import highspy
from planner.models.highs import compile_lp
from planner.models.horizon import create_horizon

from planner.analysis.sampling import draw, sample
from planner.analysis.stress import shared_decisions, shared_nodes
from planner.api import default_inputs, load, prepare
from planner.solving.engine import fix_columns, start


def raw_seconds(data, fixed, futures) -> float:
    """Solve time of every distinct future's LP in a fresh highspy.Highs (build excluded)."""
    total = 0.0
    for future in futures:
        model = create_horizon(replace(data, future=future, risk_weight=0.0)).model
        lp = compile_lp(model)
        fix_columns(lp, fixed)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("solver", "simplex")
        m, n = lp.shape
        h = highspy.HighsLp()
        h.num_col_, h.num_row_ = n, m
        h.col_cost_, h.offset_ = lp.c, lp.offset
        h.col_lower_, h.col_upper_ = lp.col_lower, lp.col_upper
        h.row_lower_, h.row_upper_ = lp.row_lower, lp.row_upper
        h.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        h.a_matrix_.start_, h.a_matrix_.index_ = lp.A.indptr, lp.A.indices
        h.a_matrix_.value_ = lp.A.data
        highs.passModel(h)
        began = time.perf_counter()
        highs.run()
        total += time.perf_counter() - began
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=str(default_inputs()))
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data, _ = prepare(load(args.inputs).dataset)
    plan, _ = start(data, None)
    fixed = shared_decisions(plan, shared_nodes(plan))
    futures = list(draw(data, args.samples, args.seed))
    print(f"{args.samples} futures drawn, {len(futures)} distinct; "
          f"{len(fixed)} shared decisions fixed")
    raw = raw_seconds(data, fixed, futures)
    print(f"raw highspy: {raw:.2f} s for {len(futures)} LPs "
          f"({len(futures) / raw:.1f} LPs/s, solver only)")
    for workers in (1, 2):
        run = sample(data, fixed, args.samples, args.seed, workers=workers).run()
        print(f"planner, {workers} worker(s): {run['seconds']:.2f} s "
              f"(+ {run['startup_seconds']:.1f} s to start the cluster) "
              f"({run['lps_per_second']:.2f} LPs/s, {run['futures_per_second']:.0f} "
              f"futures/s; planner/raw {run['seconds'] / raw:.1f}x); worker peak "
              + ", ".join(f"{mb:.0f}" for mb in run["worker_peak_mb"]) + " MB")


if __name__ == "__main__":
    main()
