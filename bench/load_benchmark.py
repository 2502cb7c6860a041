"""Benchmark: loading a dataset (read + validate), CSV folder and .xlsx workbook.

Generates the synthetic dataset of bench/benchmark.py (4 stages x N offers, default
57,000 each: 228,000 offers) and a workbook of it (``planner convert``), then
measures, each in a fresh process (so peak memory is that process's own):

  check    ``planner check --inputs X`` in-process (what the command does: read,
           validate, count); time from the end of the imports, peak RSS above the
           RSS after the imports (the import baseline)
  records  ``validate(read_dataset(X))``: the records a solve builds its model from

Usage: python bench/load_benchmark.py [--offers-per-stage N] [--workdir DIR]
                                      [--repeat R] [--modes check,records] [--json OUT]

The code measured is the ``planner`` package the interpreter imports: run it once
as is, and once with ``PYTHONPATH=/path/to/other/checkout`` (a ``git worktree`` of
another commit) to compare two versions on the same machine and the same inputs
(keep ``--workdir`` the same so both read the same files). ``models/`` is taken
from the checkout that holds the imported ``planner``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from probe import SAME_CHECKOUT

HERE = Path(__file__).resolve().parent

PROBE = SAME_CHECKOUT + r"""
import json, resource, time

from planner.cli import main
from planner.io.read import read_dataset
from planner.io.validate import validate
for name in ("python_calamine", "openpyxl.reader.excel", "defusedxml.ElementTree"):
    try:  # reader libraries count in the import baseline, whichever the code uses
        __import__(name)
    except ImportError:
        pass

unit = 1 if sys.platform == "darwin" else 1024
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2**20
mode, path = sys.argv[1], Path(sys.argv[2])
before, start = peak(), time.perf_counter()
code = 0
if mode == "check":
    try:
        main(["check", "--inputs", str(path)], standalone_mode=False)
    except SystemExit as done:
        code = done.code
else:
    data, _ = validate(read_dataset(path))
seconds = time.perf_counter() - start
print(json.dumps({"code": code, "seconds": seconds, "grew_mb": peak() - before,
                  "baseline_mb": before, "root": str(root)}))
"""


def prepare(workdir: Path, offers_per_stage: int) -> tuple[Path, Path]:
    """The CSV folder and its workbook, made once per workdir and reused."""
    sys.path.insert(0, str(HERE))
    from benchmark import generate

    folder = workdir / f"synthetic-{offers_per_stage}"
    book = workdir / f"synthetic-{offers_per_stage}.xlsx"
    if not (folder / "offers.csv").exists():
        generate(folder, offers_per_stage=offers_per_stage)
    if not book.exists():
        subprocess.run([sys.executable, "-P", "-c", "from planner.cli import main; main()",
                        "convert", "--inputs", str(folder), "--output", str(book)],
                       check=True, env={**os.environ, "PYTHONPATH": ""})
    return folder, book


def measure(mode: str, path: Path) -> dict:
    # -P: the working directory is not put on sys.path (PYTHONPATH picks the code)
    proc = subprocess.run([sys.executable, "-P", "-c", PROBE, mode, str(path)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {path}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers-per-stage", type=int, default=57_000)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "planner-load-benchmark")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="check,records")
    parser.add_argument("--inputs", default="csv,xlsx", help="csv, xlsx or both")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    folder, book = prepare(args.workdir, args.offers_per_stage)
    inputs = {"csv": folder, "xlsx": book}
    results = []
    for kind in args.inputs.split(","):
        for mode in args.modes.split(","):
            runs = [measure(mode, inputs[kind]) for _ in range(args.repeat)]
            codes = {r["code"] for r in runs}
            row = {"inputs": kind, "mode": mode, "exit": sorted(codes),
                   "seconds_min": min(r["seconds"] for r in runs),
                   "seconds_median": statistics.median(r["seconds"] for r in runs),
                   "grew_mb_median": statistics.median(r["grew_mb"] for r in runs),
                   "baseline_mb": statistics.median(r["baseline_mb"] for r in runs),
                   "root": runs[0]["root"]}
            results.append(row)
            print(f"{kind:5} {mode:8} exit {row['exit']}  time min {row['seconds_min']:.2f} s "
                  f"median {row['seconds_median']:.2f} s  peak RSS +{row['grew_mb_median']:.0f}"
                  f" MB over an import baseline of {row['baseline_mb']:.0f} MB", flush=True)
    print(f"code measured: {results[0]['root'] if results else '?'}; "
          f"{args.offers_per_stage * 4:,} offers; {args.repeat} run(s) each")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
