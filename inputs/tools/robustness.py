"""Perturb every price, capacity, minimum, demand and process cost/capacity by U(1-e, 1+e)
independently and report the range of the calibration shares (by value).

Run from the repository root:

    .venv/bin/python inputs/tools/robustness.py
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import lp_check

DATASET = Path(__file__).resolve().parent.parent      # inputs/


def run(eps: float, n: int = 300, seed: int = 1) -> None:
    """Solve ``n`` perturbed baselines at ±``eps`` and print each group's range of shares."""
    rng = random.Random(seed)
    d0 = lp_check.load(DATASET)
    lo, hi, bad = {}, {}, 0

    def f() -> float:
        return rng.uniform(1 - eps, 1 + eps)

    for _ in range(n):
        d = copy.deepcopy(d0)
        for o in d.offers:
            o["price"] *= f()
            if o["cap"]:
                o["cap"] *= f()
            o["min"] *= f()
            if o["cap"] is not None:
                o["min"] = min(o["min"], o["cap"])
        for s in d.stages.values():
            s["demand"] *= f()
        for p in d.processes:
            p["cost"] *= f()
            if p["cap"]:
                p["cap"] *= f()
        r = lp_check.solve(d)
        if r.status != "optimal":
            bad += 1
            continue
        for k, (v, _) in lp_check.value_shares(r).items():
            lo[k] = min(lo.get(k, 1), v)
            hi[k] = max(hi.get(k, 0), v)
    print(f"±{eps * 100:.0f} %: "
          + "; ".join(f"{k} {lo[k] * 100:.1f}-{hi[k] * 100:.1f} %" for k in lo)
          + (f"; {bad} not optimal" if bad else ""))


def main() -> None:
    """The three perturbation sizes quoted in SOURCES.md §10."""
    for e in (0.02, 0.05, 0.10):
        run(e)


if __name__ == "__main__":
    main()
