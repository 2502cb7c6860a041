"""Turn a ``PlanResult`` into report tables and the JSON object of SPEC §5.

Every table is a list of flat records (dicts), so one writer serves the
terminal, JSON, CSV and Excel. Shadow prices get business units:

- demand ``usd_per_t``: cost of one more t of final demand at the stage (dual of balance[s]).
- capacity ``usd_per_t``: saving from one more t of an offer's or process's capacity (−dual).
- minimum ``usd_per_t``: cost of one more t of a contracted minimum (dual of minimum[o]).
- limits ``usd_per_pp``: cost of tightening the share limit by one percentage point
  (−dual·T*/100 for a max share, +dual·T*/100 for a min share; ≥ 0 when binding).

Each headline number is the rate in the direction its name says. At a degenerate
optimum the two directions differ (``unique`` false): the headline is still the
named direction, measured by re-solving, and both one-sided values are listed.
- reduced costs: how much an unused offer's landed cost must fall before the plan uses it.
"""

from __future__ import annotations

from collections import defaultdict

from planner.analysis.origins import origin_shares, segregated_share
from planner.models.data import Basis, Bound, Scope
from planner.models.groups import in_group, is_country_code
from planner.solve.engine import PlanResult

TONNES_EPS = 1e-9
PP = 0.01  # one percentage point of share


def _clean(x: float, digits: int = 9) -> float:
    """Round away solver noise and negative zero for display and JSON."""
    value = round(float(x), digits)
    return 0.0 if value == 0 else value


def _bound(x: float) -> float | None:
    """A range end; None (JSON null) for an unbounded side."""
    return None if abs(x) >= 1e20 else _clean(x)


def purchases(result: PlanResult) -> list[dict]:
    """Every offer bought, with its landed-cost components and share of its stage."""
    built = result.built
    supply = stage_supply(result)
    rows = []
    for offer, tonnes in zip(result.data.offers, result.bought, strict=True):
        if tonnes <= TONNES_EPS:
            continue
        cost = built.landed[offer.offer]
        total = supply[offer.stage]
        rows.append({
            "offer": offer.offer, "stage": offer.stage, "supplier": offer.supplier,
            "country": offer.country, "tonnes": _clean(tonnes),
            "share": _clean(tonnes / total) if total > 0 else 0.0,
            "landed_usd_per_t": _clean(cost.total), "price_usd_per_t": _clean(cost.price),
            "freight_usd_per_t": _clean(cost.freight), "duty_rate": _clean(cost.duty_rate),
            "duty_usd_per_t": _clean(cost.duty),
            "levy_usd_per_t": _clean(cost.levy), "cost_usd": _clean(tonnes * cost.total, 2),
        })
    return rows


def production(result: PlanResult) -> list[dict]:
    """Domestic output of every process, with the input it draws."""
    rows = []
    for process, tonnes in zip(result.data.processes, result.made, strict=True):
        rows.append({
            "process": process.process, "from_stage": process.from_stage,
            "to_stage": process.to_stage, "tonnes": _clean(tonnes),
            "input_t": _clean(tonnes / process.yield_t_per_t),
            "cost_usd_per_t": _clean(process.cost_usd_per_t),
            "cost_usd": _clean(tonnes * process.cost_usd_per_t, 2),
        })
    return rows


def stage_supply(result: PlanResult) -> dict[str, float]:
    """Tonnes supplied into each stage: purchases plus domestic output."""
    supply: dict[str, float] = defaultdict(float)
    for offer, tonnes in zip(result.data.offers, result.bought, strict=True):
        supply[offer.stage] += tonnes
    for process, tonnes in zip(result.data.processes, result.made, strict=True):
        supply[process.to_stage] += tonnes
    return supply


def cost_by_stage(result: PlanResult) -> list[dict]:
    """Purchase and processing cost attributed to the stage they supply, with the duty
    and zone levy inside the purchase cost shown apart."""
    built = result.built
    parts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for offer, tonnes in zip(result.data.offers, result.bought, strict=True):
        cost, stage = built.landed[offer.offer], parts[offer.stage]
        stage["purchases_usd"] += tonnes * cost.total
        stage["duty_usd"] += tonnes * cost.duty
        stage["levy_usd"] += tonnes * cost.levy
    for process, tonnes in zip(result.data.processes, result.made, strict=True):
        parts[process.to_stage]["processing_usd"] += tonnes * process.cost_usd_per_t
    supply = stage_supply(result)
    rows = []
    for s in sorted(result.data.stages, key=lambda s: s.order):
        p = parts[s.stage]
        rows.append({"stage": s.stage, "demand_t": _clean(s.demand_t),
                     "supply_t": _clean(supply[s.stage]),
                     "purchases_usd": _clean(p["purchases_usd"], 2),
                     "of_which_duty_usd": _clean(p["duty_usd"], 2),
                     "of_which_levy_usd": _clean(p["levy_usd"], 2),
                     "processing_usd": _clean(p["processing_usd"], 2),
                     "total_usd": _clean(p["purchases_usd"] + p["processing_usd"], 2)})
    return rows


def totals(result: PlanResult, stages: list[dict]) -> dict[str, float]:
    """Total cost and the duty and zone levy inside it (paid at the border; the levy is
    what joining the zone adds on non-member supply), from the ``cost_by_stage`` rows."""
    duty = sum(r["of_which_duty_usd"] for r in stages)
    levy = sum(r["of_which_levy_usd"] for r in stages)
    total = result.cost_usd
    out = {"total_usd": _clean(total, 2), "duty_usd": _clean(duty, 2),
           "levy_usd": _clean(levy, 2), "total_less_levy_usd": _clean(total - levy, 2)}
    if result.built.model.SOFT_ROWS:
        out["penalty_usd"] = _clean(result.penalty_usd, 2)
        out["total_with_penalties_usd"] = _clean(result.solution.objective, 2)
    other = result.other_zone_objective  # same feasible set: only prices differ
    if other is not None:   # both optima as solved (with penalties, if soft limits pass)
        this = float(result.solution.objective)
        joined, observer = (this, other) if result.data.zone.value == "joined" else (
            other, this)
        out["cost_of_joining_usd"] = _clean(joined - observer, 2)
    return out


def shares(result: PlanResult) -> list[dict]:
    """Share of each stage's supply by every supplying country and every limited group.

    Volume basis, direct scope for countries and limit groups; plus each limit's
    own basis and scope. Direct shares are computed from the plan, independently of
    the LP's rows; embedded shares of a limited group read the plan's origin split.
    """
    data = result.data
    countries = {c.country: c for c in data.countries}
    by_country: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for offer, t in zip(data.offers, result.bought, strict=True):
        flow = by_country[(offer.stage, offer.country)]
        flow[0] += t
        flow[1] += t * result.built.landed[offer.offer].total
    for process, t in zip(data.processes, result.made, strict=True):
        flow = by_country[(process.to_stage, data.buyer)]
        flow[0] += t
        flow[1] += t * process.cost_usd_per_t
    flows: dict[str, list[tuple[str, float, float]]] = defaultdict(list)  # (country, t, USD)
    for (stage, country), (t, usd) in by_country.items():
        flows[stage].append((country, t, usd))
    wanted: list[tuple[str, str, Basis, Scope]] = []
    for row in result.built.share_rows:
        for basis in (Basis.VOLUME, row.limit.basis):
            wanted.append((row.group, row.stage, basis, row.limit.scope))
    rows, seen = [], set()
    for stage in sorted(data.stages, key=lambda s: s.order):
        stage_flows = flows[stage.stage]
        suppliers = sorted({c for c, t, _ in stage_flows if t > TONNES_EPS})
        groups = [(c, stage.stage, Basis.VOLUME, Scope.DIRECT) for c in suppliers]
        groups += [w for w in wanted if w[1] == stage.stage]
        for key in groups:
            if key in seen:
                continue
            seen.add(key)
            group, _, basis, scope = key
            if scope is Scope.EMBEDDED:
                share = segregated_share(result, group, stage.stage, basis)
            else:
                pick = 1 if basis is Basis.VOLUME else 2
                total = sum(f[pick] for f in stage_flows)
                part = sum(f[pick] for f in stage_flows if in_group(group, f[0], countries))
                share = part / total if total > 0 else 0.0
            rows.append({"group": group, "stage": stage.stage, "share": _clean(share),
                         "basis": basis.value, "scope": scope.value,
                         "kind": "country" if is_country_code(group) else "group"})
    return rows


def direct_and_embedded(result: PlanResult, share_table: list[dict]) -> list[dict]:
    """Direct and embedded (upstream-origin) volume shares side by side, per stage."""
    direct = {(r["group"], r["stage"]): r["share"] for r in share_table
              if r["basis"] == Basis.VOLUME and r["scope"] == Scope.DIRECT}
    return [{**row, "embedded_share": _clean(row["embedded_share"])}
            for row in origin_shares(result, direct)]


def demand_prices(result: PlanResult) -> list[dict]:
    """USD per t of extra final demand at each stage, with its valid range in t."""
    m = result.built.model
    rows = []
    for stage in sorted(result.data.stages, key=lambda s: s.order):
        if stage.stage not in m.balance:
            continue  # no supply route and no demand: no row
        con = m.balance[stage.stage]
        rate = result.rate(con)
        rows.append({"stage": stage.stage, "demand_t": _clean(stage.demand_t),
                     "usd_per_t": _bound(rate.rate_up), **_range_fields(rate)})
    return rows


def capacity_prices(result: PlanResult) -> list[dict]:
    """USD saved per t of extra capacity, for offers and processes with a capacity."""
    m = result.built.model
    used = {o.offer: t for o, t in zip(result.data.offers, result.bought, strict=True)}
    used |= {p.process: t for p, t in zip(result.data.processes, result.made, strict=True)}
    rows = []
    for kind, component, records in (("offer", m.capacity, m.offer),
                                     ("process", m.process_capacity, m.process)):
        for key, con in component.items():
            rate = result.rate(con)
            rows.append({kind: key, "kind": kind,
                         "capacity_t": _clean(records[key].capacity_t), "used_t": _clean(used[key]),
                         "usd_per_t": _bound(-rate.rate_up), **_range_fields(rate, flip=True)})
    return rows


def minimum_prices(result: PlanResult) -> list[dict]:
    """Cost per t of each contracted minimum (0 where the plan buys more anyway)."""
    m = result.built.model
    rows = []
    for key, con in m.minimum.items():
        rate = result.rate(con)
        rows.append({"offer": key, "min_t": _clean(m.offer[key].min_t),
                     "usd_per_t": _bound(rate.rate_up), **_range_fields(rate)})
    return rows


def _range_fields(rate, flip: bool = False) -> dict:
    sign = -1.0 if flip else 1.0
    fields = {"valid_from": _bound(rate.valid_from), "valid_to": _bound(rate.valid_to),
              "unique": rate.unique}
    if rate.unique is False:
        down, up = sign * rate.rate_down, sign * rate.rate_up
        fields |= {"usd_per_t_down": _bound(down), "usd_per_t_up": _bound(up)}
    return fields


def limit_prices(result: PlanResult) -> list[dict]:
    """Every share-limit row: its current share, USD per pp of tightening, valid range."""
    m = result.built.model
    rows = []
    for i, row in enumerate(result.built.share_rows):
        total = result.value(m.supply_total[row.stage, row.limit.basis.value])
        group = result.value(m.group_supply[row.aggregate])
        actual = group / total if total > 0 else 0.0
        share_range = result.share_ranges.get(i)
        record = {"group": row.group, "stage": row.stage, "bound": row.bound.value,
                  "limit": _clean(row.share), "share": _clean(actual),
                  "basis": row.limit.basis.value, "scope": row.limit.scope.value,
                  "binding": share_range is not None,
                  "usd_per_pp": 0.0 if share_range is None else _one_sided_pp(
                      row.bound, share_range)["usd_per_pp_tighter"],
                  "whole_cost_usd": _whole_cost(result, i),
                  "origin": row.limit.origin}
        if row.penalty_usd_per_pp is not None:
            record |= _soft_fields(result, i, total)
        if share_range is not None:
            low, high = _headline_range(row.bound, share_range)
            record |= {"valid_from": _clean(low), "valid_to": _clean(high),
                       "unique": share_range.unique}
            if not share_range.unique:
                record |= _one_sided_pp(row.bound, share_range)
        else:  # slack: tightening costs nothing until the limit reaches the current share
            lo, hi = (actual, 1.0) if row.bound is Bound.MAX else (0.0, actual)
            record |= {"valid_from": _clean(lo), "valid_to": _clean(hi), "unique": True}
        rows.append(record)
    return rows


def _soft_fields(result: PlanResult, i: int, total: float) -> dict:
    """A soft limit: how far the plan passed it (pp of the stage's total) and the
    penalty paid for that, at the willingness to pay per pp."""
    m = result.built.model
    excess = result.value(m.excess[i])
    return {"soft": True,
            "max_cost_usd_per_pp": _clean(result.built.share_rows[i].penalty_usd_per_pp),
            "exceeded_pp": _clean(100.0 * excess / total) if total > 0 else 0.0,
            "penalty_usd": _clean(m.penalty[i] * excess, 2)}


def _headline_range(bound: Bound, share_range) -> tuple[float, float]:
    """Where the headline rate (one pp tighter) holds: the optimal basis's interval, or
    at a degenerate optimum the interval of the basis just on the tighter side."""
    side = share_range.range_down if bound is Bound.MAX else share_range.range_up
    if share_range.unique or side is None:
        return share_range.valid_from, share_range.valid_to
    return side


def _whole_cost(result: PlanResult, i: int) -> float | None:
    """Total cost of limit row ``i``: 0 when slack; None when it could not be measured."""
    if i not in result.share_ranges:
        return 0.0
    cost = result.rule_costs.get(i)
    return None if cost is None else _clean(cost, 2)


def concentration(result: PlanResult) -> list[dict]:
    """Per stage: Herfindahl–Hirschman index of country shares (0–10,000), top-3
    countries' share and China's share, for the least-cost plan without any share
    limit ("before") and for this plan ("after"). Volume basis, direct scope."""
    after = _country_shares(result.data, result.bought, result.made)
    before = (_country_shares(result.data, *result.unconstrained) if result.unconstrained
              else after)
    rows = []
    for stage in sorted(result.data.stages, key=lambda s: s.order):
        row = {"stage": stage.stage}
        for label, shares_by_country in (("before", before), ("after", after)):
            values = sorted(shares_by_country.get(stage.stage, {}).values(), reverse=True)
            row |= {f"hhi_{label}": _clean(sum((100 * v) ** 2 for v in values), 2),
                    f"top3_{label}": _clean(sum(values[:3])),
                    f"cn_{label}": _clean(shares_by_country.get(stage.stage, {}).get("CN", 0.0))}
        rows.append(row)
    return rows


def _country_shares(data, bought, made) -> dict[str, dict[str, float]]:
    flows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for offer, t in zip(data.offers, bought, strict=True):
        flows[offer.stage][offer.country] += t
    for process, t in zip(data.processes, made, strict=True):
        flows[process.to_stage][data.buyer] += t
    shares_by_stage = {}
    for stage, by_country in flows.items():
        total = sum(by_country.values())
        shares_by_stage[stage] = {c: t / total for c, t in by_country.items()
                                  if total > 0 and t > TONNES_EPS}
    return shares_by_stage


def _one_sided_pp(bound: Bound, share_range) -> dict:
    """Degenerate optimum: cost of one pp tighter and saving of one pp looser differ."""
    down, up = share_range.rate_down, share_range.rate_up   # d(cost)/dσ each way
    if bound is Bound.MAX:
        return {"usd_per_pp_tighter": _bound(-down * PP), "usd_per_pp_looser": _bound(-up * PP)}
    return {"usd_per_pp_tighter": _bound(up * PP), "usd_per_pp_looser": _bound(down * PP)}


def reduced_costs(result: PlanResult) -> list[dict]:
    """Unused offers and processes: how much their cost must fall before the plan uses them."""
    data, rows = result.data, []
    for offer, t, reduced in zip(data.offers, result.bought, result.offer_reduced_costs,
                                 strict=True):
        if t <= TONNES_EPS:
            rows.append({"offer": offer.offer, "kind": "offer", "stage": offer.stage,
                         "country": offer.country,
                         "cost_usd_per_t": _clean(result.built.landed[offer.offer].total),
                         "reduced_cost_usd_per_t": _clean(reduced)})
    for process, t, reduced in zip(data.processes, result.made, result.process_reduced_costs,
                                   strict=True):
        if t <= TONNES_EPS:
            rows.append({"offer": process.process, "kind": "process",
                         "stage": process.to_stage, "country": data.buyer,
                         "cost_usd_per_t": _clean(process.cost_usd_per_t),
                         "reduced_cost_usd_per_t": _clean(reduced)})
    return rows


def report_tables(result: PlanResult) -> dict[str, list[dict]]:
    """All report tables by name (the CSV file / Excel sheet names)."""
    tables = {"summary": summary(result)}
    if result.optimal:
        capacities = capacity_prices(result)
        share_table = shares(result)
        tables |= {
            "purchases": purchases(result), "production": production(result),
            "cost_by_stage": cost_by_stage(result), "shares": share_table,
            "direct_and_embedded": direct_and_embedded(result, share_table),
            "demand_prices": demand_prices(result),
            "capacity_prices": [r for r in capacities if r["kind"] == "offer"],
            "process_capacity_prices": [r for r in capacities if r["kind"] == "process"],
            "minimum_prices": minimum_prices(result), "limit_prices": limit_prices(result),
            "reduced_costs": reduced_costs(result),
            "concentration": concentration(result)}
    if result.diagnosis is not None:
        tables["conflicts"] = [vars(c) for c in result.diagnosis.conflicts]
        tables["tightest_feasible"] = [vars(t) for t in result.diagnosis.limits]
    return tables


def summary(result: PlanResult) -> list[dict]:
    """Dataset, zone status, outcome and total cost."""
    data = result.data
    rows = [{"key": "dataset", "value": data.name}, {"key": "buyer", "value": data.buyer},
            {"key": "zone", "value": data.zone.value},
            {"key": "status", "value": json_status(result)},
            {"key": "message", "value": result.message}]
    if result.optimal:
        rows.append({"key": "objective_usd", "value": _clean(result.cost_usd, 2)})
        rows += [{"key": key, "value": value}
                 for key, value in totals(result, cost_by_stage(result)).items()
                 if key != "total_usd"]
    return rows


def json_status(result: PlanResult) -> str:
    """SPEC §5 status word: optimal, infeasible or error."""
    if result.optimal:
        return "optimal"
    return "infeasible" if result.diagnosis is not None else "error"


def as_json(result: PlanResult) -> dict:
    """The SPEC §5 JSON object (with extra keys beside the required ones)."""
    out: dict = {"status": json_status(result), "message": result.message,
                 "dataset": result.data.name, "zone": result.data.zone.value}
    if result.optimal:
        capacities = capacity_prices(result)
        stages = cost_by_stage(result)
        share_table = shares(result)
        out |= {
            "objective_usd": _clean(result.cost_usd, 6),
            "totals": totals(result, stages),
            "purchases": purchases(result), "production": production(result),
            "cost_by_stage": stages, "shares": share_table,
            "direct_and_embedded": direct_and_embedded(result, share_table),
            "concentration": concentration(result),
            "shadow_prices": {
                "demand": demand_prices(result),
                "capacity": [r for r in capacities if r["kind"] == "offer"],
                "process_capacity": [r for r in capacities if r["kind"] == "process"],
                "minimum": minimum_prices(result), "limits": limit_prices(result),
                "reduced_costs": reduced_costs(result)},
            "verification": {k: float(v) for k, v in result.residuals.items()}}
    else:
        out["objective_usd"] = None
    if result.diagnosis is not None:
        out["diagnosis"] = result.diagnosis.as_dict()
    return out
