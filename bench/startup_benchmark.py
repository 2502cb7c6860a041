"""Benchmark: start-up of the ``planner`` command on the shipped dataset (issue 13.2).

Wall time of ``planner solve``, ``planner check`` and ``planner --help``, each run
N times in a fresh process (output to /dev/null, as to a pipe), median and range;
with the CPU time of those processes (user + system), which a busy machine inflates
less than wall time. Then the import profile (``python -X importtime``) of ``solve``
and ``check``: the time spent importing, and the packages that take it (own time of
every module, summed by top-level package).

Bytecode is cached, as after an install or a first run: the runs write and read it
in a temporary ``PYTHONPYCACHEPREFIX`` after one unmeasured run of each command
(where ``PYTHONDONTWRITEBYTECODE`` is set, every run would otherwise compile the
planner's own modules again: about 0.05 s more).

Usage: python bench/startup_benchmark.py [--runs N] [--top K]

The code measured is the ``planner`` the interpreter imports (its console script
beside the interpreter); run it from two checkouts' environments to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

COMMANDS = [["solve"], ["check"], ["--help"]]
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def planner_command() -> list[str]:
    """The console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("planner")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-P", "-c", "from planner.cli import main; main()"]


def cached_bytecode(folder: str) -> dict[str, str]:
    """The environment with bytecode written to and read from ``folder``."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": folder}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` fresh processes, after one unmeasured run."""
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=False)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall, cpu


def import_profile(args: list[str], env: dict[str, str]) -> tuple[float, Counter]:
    """Seconds spent importing while ``planner ARGS`` runs, and each top-level package's
    share of it (the own time of its modules)."""
    code = f"from planner.cli import main\nmain({args!r})"
    out = subprocess.run([sys.executable, "-P", "-X", "importtime", "-c", code],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=env, check=False)
    total, by_package = 0.0, Counter()
    for line in out.stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if not found:
            continue
        own, cumulative, indent, module = found.groups()
        by_package[module.split(".")[0]] += int(own) / 1e6
        if len(indent) == 1:   # imported from the command itself, not by another import
            total += int(cumulative) / 1e6
    return total, by_package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--top", type=int, default=8)
    options = parser.parse_args()
    command = planner_command()
    print(f"{' '.join(command)}, shipped dataset, {options.runs} runs each, bytecode cached")
    print(f"{'command':<16}{'median s':>10}{'min s':>8}{'max s':>8}{'CPU median s':>14}")
    with tempfile.TemporaryDirectory() as folder:
        env = cached_bytecode(folder)
        for args in COMMANDS:
            wall, cpu = timed(command + args, options.runs, env)
            print(f"{'planner ' + ' '.join(args):<16}{statistics.median(wall):>10.3f}"
                  f"{min(wall):>8.3f}{max(wall):>8.3f}{statistics.median(cpu):>14.3f}")
        for args in COMMANDS[:2]:
            total, by_package = import_profile(args, env)
            top = ", ".join(f"{name} {seconds:.3f}" for name, seconds
                            in by_package.most_common(options.top))
            print(f"\nimports of planner {' '.join(args)}: {total:.3f} s (-X importtime); "
                  f"by package, s: {top}")


if __name__ == "__main__":
    main()
