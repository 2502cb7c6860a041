"""``planner compare`` as a report: one column per scenario, one row per metric.

Reads each scenario's labelled result (``planner.analysis.compare``) through the
report tables: total cost and its change against the first column, cost per stage,
China's share per stage (direct and embedded), the top suppliers by spend, the
binding limits with their USD per pp and whole cost, and, for an infeasible
scenario, its diagnosis in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.reports.tables import as_json

if TYPE_CHECKING:  # the comparison runs the solver; reading its outcomes needs neither
    from planner.analysis.compare import ScenarioOutcome

TOP_SUPPLIERS = 3


def scenario_column(outcome: ScenarioOutcome, first_cost: float | None) -> dict:
    """What one scenario contributes: JSON-ready, one entry per metric."""
    out = as_json(outcome.result)
    column: dict = {"scenario": outcome.name, "status": out["status"],
                    "objective_usd": out["objective_usd"], "seconds": round(outcome.seconds, 3),
                    "reused_model": outcome.reused_model}
    if out["status"] != "optimal":
        diagnosis = out.get("diagnosis", {})
        column["diagnosis"] = diagnosis.get("summary", out.get("message"))
        return column
    cost = out["objective_usd"]
    column["change_usd"] = None if first_cost is None else round(cost - first_cost, 2)
    column["levy_usd"] = out["totals"]["levy_usd"]
    if "branches" in out:   # under disruption: the risk, and each branch's cost and shortfall
        column |= {"expected_cost_usd": out["expected_cost_usd"], "cvar_usd": out["cvar_usd"],
                   "branches": {b["branch"]: {"cost_usd": b["cost_usd"],
                                              "shortage_t": b["shortage_t"]}
                                for b in out["branches"]}}
    if "periods" in out:
        return column | _path_column(out)
    column["cost_by_stage_usd"] = {r["stage"]: r["total_usd"] for r in out["cost_by_stage"]}
    column["cn_share"] = {r["stage"]: r["cn_after"] for r in out["concentration"]}
    column["cn_embedded_share"] = {r["stage"]: r["embedded_share"]
                                   for r in out["direct_and_embedded"] if r["group"] == "CN"}
    if "penalty_usd" in out["totals"]:
        column["penalty_usd"] = out["totals"]["penalty_usd"]
    column["hhi"] = {r["stage"]: r["hhi_after"] for r in out["concentration"]}
    column["cn_import_share_by_value"] = {
        r["name"]: r["share_by_value"] for r in out["import_shares"]
        if r["level"] == "material" and r["country"] == "CN"}
    column["unmet_t"] = {r["stage"]: r["shortage_t"] for r in out["cost_by_stage"]
                         if r.get("shortage_t", 0.0) > 0}
    spend: dict[str, float] = {}
    for row in out["purchases"]:
        key = f"{row['supplier']} ({row['country']})"
        spend[key] = spend.get(key, 0.0) + row["cost_usd"]
    top = sorted(spend.items(), key=lambda item: -item[1])[:TOP_SUPPLIERS]
    column["top_suppliers"] = [{"supplier": s, "share_of_cost": round(v / cost, 4)}
                               for s, v in top]
    column["binding_limits"] = [
        {"limit": f"{r['group']}:{r['stage']} {r['bound']} {r['limit']:g}"
                  + ("" if (r["basis"], r["scope"]) == ("volume", "direct")
                     else f" ({r['basis']}, {r['scope']})"),
         "usd_per_pp": r["usd_per_pp"], "whole_cost_usd": r["whole_cost_usd"]}
        for r in out["shadow_prices"]["limits"] if r["binding"]]
    return column


def _path_column(out: dict) -> dict:
    """A plan over time's metrics, per period: a year's cost, China's share of imports
    by value per material, each stock's days of cover, demand left unmet, binding
    limits; the top suppliers by spend over the whole path (undiscounted)."""
    path: dict[str, dict] = {_node(row): {"cost_usd_per_yr": row["cost_usd_per_yr"],
                                          "cn_import_share_by_value": {},
                                          "days_of_cover": {}, "unmet_t": {}}
                             for row in out["periods"]}
    years = {_node(row): row["years"] for row in out["periods"]}
    for row in out["import_shares"]:
        if row["level"] == "material" and row["country"] == "CN":
            path[_node(row)]["cn_import_share_by_value"][row["name"]] = row["share_by_value"]
    for row in out["stocks"]:
        path[_node(row)]["days_of_cover"][row["stage"]] = row["days_of_cover"]
    for row in out["cost_by_stage"]:
        if row.get("shortage_t", 0.0) > 0:
            path[_node(row)]["unmet_t"][row["stage"]] = row["shortage_t"]
    spend: dict[str, float] = {}   # the base branch's purchases (shared periods included)
    for row in out["purchases"]:
        if row.get("branch", "base") != "base":
            continue
        key = f"{row['supplier']} ({row['country']})"
        spend[key] = spend.get(key, 0.0) + row["cost_usd"] * years[_node(row)]
    total = sum(spend.values()) or 1.0
    top = sorted(spend.items(), key=lambda item: -item[1])[:TOP_SUPPLIERS]
    return {"path": path,
            "top_suppliers": [{"supplier": s, "share_of_cost": round(v / total, 4)}
                              for s, v in top],
            "binding_limits": [
                {"limit": f"{_node(r)} {r['group']}:{r['stage']} {r['bound']} "
                          f"{r['limit']:g}", "usd_per_pp": r["usd_per_pp"],
                 "whole_cost_usd": r["whole_cost_usd"]}
                for r in out["shadow_prices"]["limits"] if r["binding"]]}


def _node(row: dict) -> str:
    """A row's period, with its branch where it is not the base branch ("2028 [cn-cut]")."""
    branch = row.get("branch", "base")
    return row["period"] if branch == "base" else f"{row['period']} [{branch}]"


def comparison(outcomes: list[ScenarioOutcome]) -> dict:
    """The JSON object of ``planner compare``."""
    first = outcomes[0].result
    first_cost = first.objective_usd if first.optimal else None
    return {"scenarios": [o.name for o in outcomes],
            "columns": [scenario_column(o, first_cost) for o in outcomes]}


def comparison_rows(report: dict, stages: list[str]) -> list[dict]:
    """The same as one table: a row per metric, a column per scenario."""
    columns = report["columns"]

    def row(metric: str, pick) -> dict:
        return {"metric": metric, **{c["scenario"]: pick(c) for c in columns}}

    rows = [row("status", lambda c: c["status"]),
            row("total cost (USD)", lambda c: c.get("objective_usd")),
            row("change vs first (USD)", lambda c: c.get("change_usd")),
            row("of which zone levy (USD)", lambda c: c.get("levy_usd"))]
    if any("branches" in c for c in columns):
        rows += [row("expected cost (USD)", lambda c: c.get("expected_cost_usd")),
                 row("CVaR (USD)", lambda c: c.get("cvar_usd"))]
        branches = dict.fromkeys(b for c in columns for b in c.get("branches", {}))
        rows += [row(f"{what} [{b}]{unit}", lambda c, b=b, key=key: c.get(
                     "branches", {}).get(b, {}).get(key))
                 for b in branches for what, key, unit in (
                     ("cost", "cost_usd", " (USD)"), ("unmet", "shortage_t", " (t)"))]
    if any("penalty_usd" in c for c in columns):
        rows.append(row("soft-limit penalties, not paid (USD)", lambda c: c.get("penalty_usd")))
    if any("path" in c for c in columns):
        rows += _path_rows(columns, row)
        stages = []   # a path's rows are per period
    rows += [row(f"cost {s} (USD)", lambda c, s=s: c.get("cost_by_stage_usd", {}).get(s))
             for s in stages]
    rows += [row(f"China share {s}", lambda c, s=s: c.get("cn_share", {}).get(s))
             for s in stages]
    rows += [row(f"China share {s}, by origin", lambda c, s=s: c.get(
        "cn_embedded_share", {}).get(s)) for s in stages]
    rows += [row(f"HHI {s}", lambda c, s=s: c.get("hhi", {}).get(s)) for s in stages]
    materials = sorted({m for c in columns for m in c.get("cn_import_share_by_value", {})})
    rows += [row(f"China share of imports by value, {m}", lambda c, m=m: c.get(
        "cn_import_share_by_value", {}).get(m, 0.0 if c["status"] == "optimal" else None))
        for m in materials]
    if any(c.get("unmet_t") for c in columns):
        rows.append(row("demand left unmet (t)", lambda c: "; ".join(
            f"{s} {t:,.1f}" for s, t in c.get("unmet_t", {}).items())))
    rows.append(row("top suppliers (share of cost)", lambda c: "; ".join(
        f"{t['supplier']} {100 * t['share_of_cost']:.0f} %" for t in c.get("top_suppliers",
                                                                          []))))
    rows.append(row("binding limits (USD/pp; whole cost)", lambda c: "; ".join(
        f"{b['limit']}: {_usd(b['usd_per_pp'], 'unbounded')}/pp; "
        f"{_usd(b['whole_cost_usd'], 'not measured')}"
        for b in c.get("binding_limits", []))))
    rows.append(row("why infeasible", lambda c: c.get("diagnosis", "")))
    return rows


def _path_rows(columns: list[dict], row) -> list[dict]:
    """Rows per period: a year's cost, China's share of imports by value per material,
    days of cover of each stock, demand left unmet."""
    periods = list(dict.fromkeys(p for c in columns for p in c.get("path", {})))

    def at(c: dict, period: str, key: str, name: str | None = None):
        values = c.get("path", {}).get(period, {})
        return values.get(key) if name is None else values.get(key, {}).get(name)

    rows = []
    for period in periods:
        seen = [c["path"][period] for c in columns if period in c.get("path", {})]
        rows.append(row(f"{period}: cost a year (USD)",
                        lambda c, p=period: at(c, p, "cost_usd_per_yr")))
        for m in dict.fromkeys(m for v in seen for m in v["cn_import_share_by_value"]):
            rows.append(row(f"{period}: China share of imports by value, {m}",
                            lambda c, p=period, m=m: at(c, p, "cn_import_share_by_value", m)))
        for s in dict.fromkeys(s for v in seen for s in v["days_of_cover"]):
            rows.append(row(f"{period}: days of cover, {s}",
                            lambda c, p=period, s=s: at(c, p, "days_of_cover", s)))
        if any(v["unmet_t"] for v in seen):
            rows.append(row(f"{period}: demand left unmet (t)", lambda c, p=period: "; ".join(
                f"{s} {t:,.1f}" for s, t in (at(c, p, "unmet_t") or {}).items())))
    return rows


def _usd(value: float | None, missing: str) -> str:
    """A rate or cost in whole USD; ``missing`` where the report has none (a rate at a
    cost jump is unbounded; a whole cost may not have been measured)."""
    return missing if value is None else f"{value:,.0f}"
