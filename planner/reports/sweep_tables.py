"""What ``planner sweep`` prints: the SPEC §5 sweep object and its tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sweep runs the solver; reading its result needs neither
    from planner.analysis.sweep import Point, SweepResult

READ_OFF = "exact piece"   # planner.analysis.sweep.READ_OFF (not imported: no solver here)


def _clean(x: float | None, digits: int = 9) -> float | None:
    if x is None:
        return None
    value = round(float(x), digits)
    return 0.0 if value == 0 else value


def sweep_json(result: SweepResult) -> dict:
    """The JSON object: SPEC §5 keys (``cap``, ``points``, ``segments`` with --exact,
    ``tightest_feasible_cap``) and the breakpoints, solves and timing."""
    out: dict = {"status": result.status}
    if result.parameter is not None:
        out["parameter"] = result.parameter
        out["points"] = [{"value": p.value, "status": p.status,
                          "objective_usd": _clean(p.objective_usd, 6)} for p in result.points]
    else:
        out["cap"] = result.targets[0].as_dict()
        if len(result.targets) > 1:
            out["cap2"] = result.targets[1].as_dict()
        out["points"] = [_cap_point(p) for p in result.points]
        out["tightest_feasible_cap"] = _clean(result.tightest_feasible_cap)
    if result.curve is not None:
        out["segments"] = [{k: _clean(v, 9 if k.startswith("cap") else 6)
                            if not isinstance(v, dict) else v
                            for k, v in s.as_dict().items()} for s in result.curve.segments]
        out["breakpoints"] = [{k: _clean(v, 9 if k == "cap" else 6) if isinstance(v, float)
                               else v for k, v in b.items()}
                              for b in result.curve.breakpoints()]
        out["unconstrained_share"] = _clean(result.curve.unconstrained_share)
    out["solves"] = result.solves
    out["seconds"] = round(result.seconds, 3)
    return out


def _cap_point(point: Point) -> dict:
    caps = point.value if isinstance(point.value, tuple) else (point.value,)
    row = {"cap": _clean(caps[0])}
    if len(caps) > 1:
        row["cap2"] = _clean(caps[1])
    return row | {"status": point.status, "objective_usd": _clean(point.objective_usd, 6),
                  "usd_per_pp": _clean(point.usd_per_pp, 6), "method": point.method}


def sweep_tables(out: dict) -> dict[str, list[dict]]:
    """The same as tables (terminal, CSV, Excel)."""
    what = out.get("parameter") or out["cap"]
    summary = [{"key": k, "value": v} for k, v in what.items()]
    if "cap2" in out:
        summary += [{"key": f"second cap {k}", "value": v} for k, v in out["cap2"].items()]
    summary += [{"key": key, "value": out[key]} for key in
                ("status", "tightest_feasible_cap", "unconstrained_share", "solves", "seconds")
                if key in out]
    tables = {"sweep": summary, "walk" if "segments" in out else "points": out["points"]}
    if "segments" in out:
        tables["segments"] = [{k: v for k, v in s.items() if k != "formula"}
                              for s in out["segments"]]
        tables["breakpoints"] = [{k: "; ".join(v) if isinstance(v, list) else v
                                  for k, v in b.items()} for b in out["breakpoints"]]
    return tables


def closing_line(out: dict) -> str:
    """The one stderr line that ends a sweep: how many points, how many of them were read
    off exact pieces rather than solved, how many have a plan."""
    points = out["points"]
    with_plan = sum(p["status"] == "optimal" for p in points)
    read_off = sum(p.get("method") == READ_OFF for p in points)
    how = (f", {len(points) - read_off} solved and {read_off} read off exact pieces"
           if read_off else " solved")
    line = f"sweep: {len(points)} point(s){how}, {with_plan} with a plan"
    if "segments" in out:
        line += f"; exact curve of {len(out['segments'])} segment(s)"
    if out.get("tightest_feasible_cap") is not None:
        line += f"; tightest feasible cap {out['tightest_feasible_cap']:.6g}"
    return line
