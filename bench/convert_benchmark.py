"""Benchmark: ``planner convert`` of a CSV folder into one .xlsx workbook.

Generates the synthetic dataset of bench/benchmark.py (4 stages x N offers, default
57,000 each: 228,000 offers), then runs ``planner convert --inputs FOLDER --output
BOOK.xlsx`` in a fresh process, R times, and reports for each run what a user waits
for and what the machine must hold: wall time from start to exit (imports included),
CPU time (user + system) and peak RSS of that process (``os.wait4``, the same figure
``/usr/bin/time -v`` prints as "Maximum resident set size").

Usage: python bench/convert_benchmark.py [--offers-per-stage N] [--workdir DIR]
                                         [--repeat R] [--json OUT]

The code measured is the ``planner`` package the interpreter imports: run it once
as is, and once with ``PYTHONPATH=/path/to/other/checkout`` (a ``git worktree`` of
another commit) to compare two versions on the same machine and the same inputs.
``models/`` is taken from the checkout that holds the imported ``planner``. Other
work on the machine slows a run: compare runs made one after the other, and take
the CPU time where the wall times disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from probe import SAME_CHECKOUT

HERE = Path(__file__).resolve().parent

PROBE = SAME_CHECKOUT + r"""
print(root, file=sys.stderr)
from planner.cli import main
main(["convert", "--inputs", sys.argv[1], "--output", sys.argv[2]])
"""


def prepare(workdir: Path, offers_per_stage: int) -> Path:
    """The CSV folder, made once per workdir and reused."""
    sys.path.insert(0, str(HERE))
    from benchmark import generate

    folder = workdir / f"synthetic-{offers_per_stage}"
    if not (folder / "offers.csv").exists():
        generate(folder, offers_per_stage=offers_per_stage)
    return folder


def measure(folder: Path, book: Path) -> dict:
    """One ``planner convert`` in a fresh process: wall, CPU, peak RSS, exit code."""
    book.unlink(missing_ok=True)
    start = time.perf_counter()
    # -P: the working directory is not put on sys.path (PYTHONPATH picks the code)
    proc = subprocess.Popen([sys.executable, "-P", "-c", PROBE, str(folder), str(book)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"convert failed ({proc.returncode}): {err[-3000:]}")
    unit = 1 if sys.platform == "darwin" else 1024
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss * unit / 2**20, "bytes": book.stat().st_size,
            "root": err.strip().splitlines()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers-per-stage", type=int, default=57_000)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "planner-convert-benchmark")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    folder = prepare(args.workdir, args.offers_per_stage)
    runs = []
    for number in range(1, args.repeat + 1):
        run = measure(folder, args.workdir / "converted.xlsx")
        runs.append(run)
        print(f"run {number}: {run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU, "
              f"peak RSS {run['peak_mb']:.0f} MB, workbook {run['bytes'] / 2**20:.1f} MB",
              flush=True)
    print(f"code measured: {runs[0]['root']}; {args.offers_per_stage * 4:,} offers; "
          f"median {statistics.median(r['seconds'] for r in runs):.1f} s wall, "
          f"{statistics.median(r['peak_mb'] for r in runs):.0f} MB peak RSS")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
