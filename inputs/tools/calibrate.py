"""Find the calibration settings (contract minimums of non-Chinese offers, China's capacity to
Korea) that make the baseline reproduce KITA's China shares by value of imports, write the
dataset, and print the check.

Fixed by assumption (not solved for): JP-MAGNET min 50 t, the Ce/La minimums FR 150, EE 50,
and the two contract minimums anchored to sources (US-NDPR-MP 30 t: Seongan's 30 t of US
oxide; VN-NDPR-OXIDE 35 t: KSM's Vietnamese feed for 30 t of metal, set in make_dataset.py).
Solved for (bisection on the LP, rounded to whole tonnes):
  PH-MAGNET min             -> magnet 89.9 %
  JP-/VN-NDPR-METAL min (equal) -> metals 79.7 %
  JP-CELA-OXIDE min         -> oxides 65.4 % (Lynas stays at 0: nothing says it sells to Korea)
Then China's capacity at every stage = 2 x its baseline tonnage (rounded up).

Writes inputs/tools/calibration.txt and the CSVs of inputs/.  Run from the repository root:

    .venv/bin/python inputs/tools/calibrate.py
"""

from __future__ import annotations

import math
from pathlib import Path

import lp_check
import make_dataset

HERE = Path(__file__).resolve().parent

CN_STAGES = ("ndpr-oxide", "dytb-oxide", "cela-oxide", "ndpr-metal", "dytb-metal", "magnet")


def base_calib() -> dict:
    """The settings fixed by assumption; the solved-for ones start at 0, China uncapped."""
    c = {f"cap_CN_{s}": None for s in CN_STAGES}
    c.update({"min_JP-MAGNET": 50, "min_PH-MAGNET": 0, "min_JP-NDPR-METAL": 0,
              "min_VN-NDPR-METAL": 0, "min_MY-NDPR-LYNAS": 0,
              "min_JP-CELA-OXIDE": 300, "min_FR-CELA-SOLVAY": 150, "min_EE-CELA-NEO": 50})
    return c


def shares(calib: dict) -> tuple[dict, lp_check.Result]:
    """Write the dataset with ``calib``, solve the baseline and return China's value shares."""
    make_dataset.write_all(calib)
    r = lp_check.solve(lp_check.load(make_dataset.OUT))
    assert r.status == "optimal", r.status
    return {k: v[0] for k, v in lp_check.value_shares(r).items()}, r


def bisect(calib: dict, keys: list[str], group: str, target: float, hi: float) -> float:
    """Set ``keys`` (all equal) to the whole tonnage that brings ``group`` to ``target``."""
    lo_v, hi_v = 0.0, hi
    for _ in range(40):
        mid = (lo_v + hi_v) / 2
        for k in keys:
            calib[k] = mid
        s, _ = shares(calib)
        if s[group] > target:
            lo_v = mid
        else:
            hi_v = mid
    best = round((lo_v + hi_v) / 2)
    for k in keys:
        calib[k] = best
    return best


def main() -> None:
    """Solve for the settings, print the check and write calibration.txt."""
    calib = base_calib()
    print("PH-MAGNET min:", bisect(calib, ["min_PH-MAGNET"], "magnet", 0.899, 900))
    print("JP/VN-NDPR-METAL min:", bisect(calib, ["min_JP-NDPR-METAL", "min_VN-NDPR-METAL"],
                                          "metals", 0.797, 40))
    # refine the metal pair: the closest whole-tonne split to the target
    best = min((abs(shares({**calib, "min_JP-NDPR-METAL": a, "min_VN-NDPR-METAL": b})[0]["metals"]
                    - 0.797), a, b) for a in range(4, 11) for b in range(4, 11))
    calib["min_JP-NDPR-METAL"], calib["min_VN-NDPR-METAL"] = best[1], best[2]
    print("refined JP/VN-NDPR-METAL min:", best[1:])
    print("JP-CELA-OXIDE min:", bisect(calib, ["min_JP-CELA-OXIDE"], "oxides", 0.654, 600))
    s, r = shares(calib)
    for st in CN_STAGES:
        take = sum(r.x[o["offer"]] for o in r.data.offers
                   if o["stage"] == st and o["country"] == "CN")
        step = 100 if take > 1000 else (10 if take > 50 else 1)
        calib[f"cap_CN_{st}"] = math.ceil(2 * take / step) * step
        print(f"China {st}: baseline {take:,.2f} t -> capacity {calib[f'cap_CN_{st}']}")
    s, r = shares(calib)
    print({k: round(v * 100, 2) for k, v in s.items()})
    (HERE / "calibration.txt").write_text(
        "\n".join(f"{k} = {v}" for k, v in calib.items()) + "\n")


if __name__ == "__main__":
    main()
