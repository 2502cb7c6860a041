"""Benchmark: the report phases of ``planner solve`` after the solve, on the shipped
dataset (6 periods × 11 disruption branches: 36 nodes) or any other.

The dataset is solved once (as ``planner solve`` does: with the plan's context), then
each run times, on a result labelled afresh (a result keeps the views of its nodes, so
a second table run on the same result would pay less than a command does):

  labelled        read the solved plan into labelled frames
  report_tables   every report table (``--format csv``, ``xlsx`` and the terminal)
  as_json         the SPEC §5 object (``--format json``)
  write_json      its text

Usage: python bench/report_benchmark.py [--inputs PATH] [--scenario NAME] [--runs N]

Prints each phase's median and range over the runs (wall seconds; on a busy machine
the range shows the noise). The garbage collector's full passes walk the solved model
too (about 0.04 s on the shipped dataset) and land in one phase or another, so two
phases that do the same work (report_tables and as_json of a plan over time) can
differ by that much.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from planner.api import prepare
from planner.cli import load
from planner.io.shipped import default_inputs
from planner.io.write import write_json
from planner.reports.tables import as_json, report_tables
from planner.solving.engine import solve_plan
from planner.solving.result import labelled


def timed(work: Callable[[], object]) -> tuple[object, float]:
    """What one call returns, and its wall seconds."""
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def run_once(plan) -> dict[str, float]:
    """One run of every phase, each table phase on a freshly labelled result."""
    times = {}
    _, times["labelled"] = timed(lambda: labelled(plan))
    result = labelled(plan)
    _, times["report_tables"] = timed(lambda: report_tables(result))
    result = labelled(plan)
    out, times["as_json"] = timed(lambda: as_json(result))
    _, times["write_json"] = timed(lambda: write_json(out))
    times["labelled + report_tables"] = times["labelled"] + times["report_tables"]
    times["as_json + write_json"] = times["as_json"] + times["write_json"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=Path, default=None,
                        help="dataset folder or workbook (default: the shipped one)")
    parser.add_argument("--scenario", default=None, help="a scenario of the dataset")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    args = parser.parse_args()
    inputs = args.inputs or default_inputs()
    data, _ = load(inputs)
    data, _ = prepare(data, args.scenario, [], None, None)
    plan, solved = timed(lambda: solve_plan(data, context=True))
    result = labelled(plan)
    nodes = len(result.nodes()) or 1
    size = len(write_json(as_json(result))) / 1e6
    print(f"{data.name or inputs.name}{f' ({args.scenario})' if args.scenario else ''}: "
          f"{nodes} node(s), "
          f"{len(data.offers)} offers, {len(data.stages)} stages; solved in {solved:.2f} s; "
          f"JSON {size:.2f} MB; {args.runs} runs")
    runs = [run_once(plan) for _ in range(args.runs)]
    print(f"{'phase':26s} {'median':>8s}   range (s)")
    for phase in runs[0]:
        values = [run[phase] for run in runs]
        print(f"{phase:26s} {statistics.median(values):8.3f}   "
              f"{min(values):.3f}–{max(values):.3f}")


if __name__ == "__main__":
    main()
