"""Turn a labelled ``Result`` (``planner.solving.result``) into report tables and the
JSON object of SPEC §5.

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

import math
from collections import defaultdict, namedtuple
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from planner.analysis.origins import origin_shares, segregated_share
from planner.models.data import Basis, Bound, Scope
from planner.models.groups import in_group, is_country_code
from planner.solving.result import Result, base

if TYPE_CHECKING:   # a type only: reports import no solver
    from planner.analysis.sampling import Samples

TONNES_EPS = 1e-9
PP = 0.01  # one percentage point of share


def _clean(x: float, digits: int = 9) -> float:
    """Round away solver noise and negative zero for display and JSON."""
    value = round(float(x), digits)
    return 0.0 if value == 0 else value


def _bound(x: float) -> float | None:
    """A range end; None (JSON null) for an unbounded side or one not measured."""
    return None if math.isnan(x) or abs(x) >= 1e20 else _clean(x)


def _records(frame: pd.DataFrame) -> list:
    """Rows of ``frame`` as named tuples, its index first as ``key``, built from whole
    columns (pandas' own row iteration is many times slower on text columns)."""
    row = namedtuple("Row", ["key", *frame.columns])
    columns = [frame.index.tolist(), *(frame[c].tolist() for c in frame.columns)]
    return [row._make(values) for values in zip(*columns, strict=True)]


def _capacity(x: float) -> float | None:
    """A capacity: None for unlimited (NaN in the labelled result)."""
    return None if math.isnan(x) else _clean(x)


def purchases(result: Result) -> list[dict]:
    """Every offer bought, with its landed-cost components and share of its stage."""
    supply = stage_supply(result)
    bought = base(result.offers)
    bought = bought[bought["tonnes"] > TONNES_EPS]
    return [{
        "offer": o.key, "stage": o.stage, "supplier": o.supplier, "country": o.country,
        "tonnes": _clean(o.tonnes),
        "share": _clean(o.tonnes / supply[o.stage]) if supply[o.stage] > 0 else 0.0,
        "landed_usd_per_t": _clean(o.landed_usd_per_t),
        "price_usd_per_t": _clean(o.price_usd_per_t),
        "freight_usd_per_t": _clean(o.freight_usd_per_t), "duty_rate": _clean(o.duty_rate),
        "duty_usd_per_t": _clean(o.duty_usd_per_t), "levy_usd_per_t": _clean(o.levy_usd_per_t),
        "cost_usd": _clean(o.tonnes * o.landed_usd_per_t, 2)}
        for o in _records(bought)]


def production(result: Result) -> list[dict]:
    """Domestic output of every process (t of main output), with the input it draws."""
    made = base(result.processes)
    return [{"process": p.key, "from_stage": p.from_stage, "to_stage": p.to_stage,
             "tonnes": _clean(p.tonnes), "input_t": _clean(p.tonnes / p.yield_t_per_t),
             "cost_usd_per_t": _clean(p.cost_usd_per_t),
             "cost_usd": _clean(p.tonnes * p.cost_usd_per_t, 2)}
            for p in _records(made)]


def process_flows(result: Result) -> list[dict]:
    """Every input and output of every process (main ones and ``process_flows``), t."""
    flows = base(result.flows)
    return [{"process": f.key[0], "stage": f.key[1], "role": f.role, "main": f.main,
             "t_per_t": _clean(f.t_per_t), "tonnes": _clean(f.tonnes)}
            for f in _records(flows)]


def _flows(result: Result, role: str) -> pd.DataFrame:
    flows = base(result.flows).reset_index()
    return flows[flows["role"] == role]


def stage_supply(result: Result) -> dict[str, float]:
    """Tonnes supplied into each stage: purchases plus domestic output (main output and
    co-products)."""
    supply: dict[str, float] = defaultdict(float)
    offers, made = base(result.offers), _flows(result, "output")
    for stage, tonnes in offers.groupby("stage")["tonnes"].sum().items():
        supply[stage] += tonnes
    for stage, tonnes in made.groupby("stage")["tonnes"].sum().items():
        supply[stage] += tonnes
    return supply


def _stages_in_order(result: Result) -> pd.DataFrame:
    """Stages grouped by material (the material whose first stage is most upstream
    first, then by name), then upstream first; ties keep the input order."""
    stages = base(result.stages)
    first = stages.groupby("material")["order"].transform("min")
    keys = pd.DataFrame({"first": first, "name": stages["material"].str.lower(),
                         "order": stages["order"]})
    return stages.loc[keys.sort_values(["first", "name", "order"], kind="stable").index]


def cost_by_stage(result: Result) -> list[dict]:
    """Purchase and processing cost attributed to the stage they supply, with the duty
    and zone levy inside the purchase cost shown apart."""
    offers, processes = base(result.offers), base(result.processes)
    bought = pd.DataFrame({"stage": offers["stage"],
                           "purchases_usd": offers["tonnes"] * offers["landed_usd_per_t"],
                           "duty_usd": offers["tonnes"] * offers["duty_usd_per_t"],
                           "levy_usd": offers["tonnes"] * offers["levy_usd_per_t"]})
    parts = bought.groupby("stage").sum()
    processing = (processes["tonnes"] * processes["cost_usd_per_t"]).groupby(
        processes["to_stage"]).sum()
    supply = stage_supply(result)
    used = _flows(result, "input").groupby("stage")["tonnes"].sum()
    stages = _stages_in_order(result)
    labelled = bool((stages["material"] != "").any())
    priced = bool(stages["shortage_usd_per_t"].notna().any())
    stocked = base(result.stocks) if len(result.stocks) else None
    rows = []
    for stage, s in stages.iterrows():
        p = parts.loc[stage] if stage in parts.index else None
        purchase = float(p["purchases_usd"]) if p is not None else 0.0
        made = float(processing.get(stage, 0.0))
        short = float(s["shortage_t"])
        lost = short * s["shortage_usd_per_t"] if short > 0 else 0.0
        row = {"material": s["material"]} if labelled else {}
        row |= {"stage": stage, "demand_t": _clean(s["demand_t"]),
                "supply_t": _clean(supply[stage]), "used_t": _clean(used.get(stage, 0.0))}
        into_stock = 0.0
        if stocked is not None and stage in stocked.index:
            put, released = stocked.loc[stage, "put_t"], stocked.loc[stage, "release_t"]
            into_stock = put - released
            row |= {"stock_put_t": _clean(put), "stock_release_t": _clean(released)}
        row["surplus_t"] = _clean(supply[stage] - used.get(stage, 0.0) - s["demand_t"] + short
                                  - into_stock, 6)
        if priced:
            row |= {"shortage_t": _clean(short), "shortage_usd": _clean(lost, 2)}
        row |= {"purchases_usd": _clean(purchase, 2),
                "of_which_duty_usd": _clean(p["duty_usd"] if p is not None else 0.0, 2),
                "of_which_levy_usd": _clean(p["levy_usd"] if p is not None else 0.0, 2),
                "processing_usd": _clean(made, 2),
                "total_usd": _clean(purchase + made + lost, 2)}
        rows.append(row)
    return rows


def totals(result: Result, stages: list[dict]) -> dict[str, float]:
    """Total cost and the duty and zone levy inside it (paid at the border; the levy is
    what joining the zone adds on non-member supply), from the ``cost_by_stage`` rows."""
    duty = sum(r["of_which_duty_usd"] for r in stages)
    levy = sum(r["of_which_levy_usd"] for r in stages)
    total = result.objective_usd
    out = {"total_usd": _clean(total, 2), "duty_usd": _clean(duty, 2),
           "levy_usd": _clean(levy, 2), "total_less_levy_usd": _clean(total - levy, 2)}
    if any("shortage_usd" in r for r in stages):
        out["shortage_usd"] = _clean(sum(r["shortage_usd"] for r in stages), 2)
    if result.has_soft_limits:
        out["penalty_usd"] = _clean(result.penalty_usd, 2)
        out["total_with_penalties_usd"] = _clean(result.objective_with_penalties_usd, 2)
    other = result.other_zone_objective_usd  # same feasible set: only prices differ
    if other is not None:   # both optima as solved (with penalties, if soft limits pass)
        this = result.objective_with_penalties_usd
        joined, observer = (this, other) if result.data.zone.value == "joined" else (
            other, this)
        out["cost_of_joining_usd"] = _clean(joined - observer, 2)
    return out


def shares(result: Result) -> list[dict]:
    """Share of each stage's supply by every supplying country and every limited group.

    Volume basis, direct scope for countries and limit groups; plus each limit's
    own basis and scope. Direct shares are computed from the plan, independently of
    the LP's rows; embedded shares of a limited group read the plan's origin split.
    """
    data = result.data
    countries = {c.country: c for c in data.countries}
    offers, made = base(result.offers), _flows(result, "output")
    flows = pd.concat([
        pd.DataFrame({"stage": offers["stage"], "country": offers["country"],
                      "volume": offers["tonnes"],
                      "value": offers["tonnes"] * offers["landed_usd_per_t"]}),
        pd.DataFrame({"stage": made["stage"], "country": data.buyer,
                      "volume": made["tonnes"],
                      "value": made["tonnes"] * made["value_usd_per_t"]})])
    by_country = flows.groupby(["stage", "country"], sort=False)[["volume", "value"]].sum()
    limits = base(result.limits)
    wanted = [(row.group, row.stage, basis, Scope(row.scope))
              for row in _records(limits) for basis in (Basis.VOLUME, Basis(row.basis))]
    rows, seen = [], set()
    for stage in _stages_in_order(result).index:
        stage_flows = (by_country.xs(stage, level="stage") if stage in
                       by_country.index.get_level_values("stage") else by_country.iloc[:0])
        suppliers = sorted(stage_flows.index[stage_flows["volume"] > TONNES_EPS])
        groups = [(c, stage, Basis.VOLUME, Scope.DIRECT) for c in suppliers]
        groups += [w for w in wanted if w[1] == stage]
        for key in groups:
            if key in seen:
                continue
            seen.add(key)
            group, _, basis, scope = key
            if scope is Scope.EMBEDDED:
                share = segregated_share(result, group, stage, basis)
            else:
                column = stage_flows[basis.value]
                total = column.sum()
                members = [in_group(group, c, countries) for c in stage_flows.index]
                share = column[members].sum() / total if total > 0 else 0.0
            rows.append({"group": group, "stage": stage, "share": _clean(share),
                         "basis": basis.value, "scope": scope.value,
                         "kind": "country" if is_country_code(group) else "group"})
    return rows


def direct_and_embedded(result: Result, share_table: list[dict]) -> list[dict]:
    """Direct and embedded (upstream-origin) volume shares side by side, per stage."""
    direct = {(r["group"], r["stage"]): r["share"] for r in share_table
              if r["basis"] == Basis.VOLUME and r["scope"] == Scope.DIRECT}
    return [{**row, "embedded_share": _clean(row["embedded_share"])}
            for row in origin_shares(result, direct)]


def _rates(result: Result, kind: str) -> pd.DataFrame:
    rates = base(result.rates)
    if rates.empty or kind not in rates.index.get_level_values("kind"):
        return rates.iloc[:0].droplevel("kind")
    return rates.xs(kind, level="kind")


def demand_prices(result: Result) -> list[dict]:
    """USD per t of extra final demand at each stage, with its valid range in t."""
    rates = _rates(result, "balance")
    rows = []
    for stage, s in zip(*_in_order(result), strict=True):
        if stage not in rates.index:
            continue   # no supply route and no demand: no row
        rate = _Rate(*rates.loc[stage, list(_Rate._fields)])
        rows.append({"stage": stage, "demand_t": _clean(s.demand_t),
                     "usd_per_t": _bound(rate.rate_up), **_range_fields(rate),
                     "valid_from": _bound(max(rate.valid_from, 0.0))})   # demand ≥ 0
    return rows


def _in_order(result: Result) -> tuple[list[str], list]:
    stages = _stages_in_order(result)
    return stages.index.tolist(), _records(stages)


def capacity_prices(result: Result) -> list[dict]:
    """USD saved per t of extra capacity, for offers and processes with a capacity."""
    rows = []
    for kind, rate_kind, records in (("offer", "capacity", base(result.offers)),
                                     ("process", "process_capacity",
                                      base(result.processes))):
        rates = _rates(result, rate_kind)
        used = records.loc[rates.index, ["capacity_t", "tonnes"]]
        for key, rate, capacity, tonnes in zip(rates.index, _rate_tuples(rates),
                                               used["capacity_t"], used["tonnes"],
                                               strict=True):
            rows.append({kind: key, "kind": kind, "capacity_t": _capacity(capacity),
                         "used_t": _clean(tonnes), "usd_per_t": _bound(-rate.rate_up),
                         **_range_fields(rate, flip=True)})
    return rows


def minimum_prices(result: Result) -> list[dict]:
    """Cost per t of each contracted minimum (0 where the plan buys more anyway)."""
    rates = _rates(result, "minimum")
    minimums = base(result.offers).loc[rates.index, "min_t"]
    return [{"offer": key, "min_t": _clean(low), "usd_per_t": _bound(rate.rate_up),
             **_range_fields(rate)}
            for key, rate, low in zip(rates.index, _rate_tuples(rates), minimums,
                                      strict=True)]


class _Rate(NamedTuple):
    """One row of ``Result.rates``, as the report reads it."""

    rate_down: float
    rate_up: float
    valid_from: float
    valid_to: float
    unique: bool | None


def _rate_tuples(rates: pd.DataFrame) -> list[_Rate]:
    columns = [rates[name].tolist() for name in _Rate._fields]
    return [_Rate(*values) for values in zip(*columns, strict=True)]


def _range_fields(rate: _Rate, flip: bool = False) -> dict:
    sign = -1.0 if flip else 1.0
    unique = None if pd.isna(rate.unique) else bool(rate.unique)
    fields = {"valid_from": _bound(rate.valid_from), "valid_to": _bound(rate.valid_to),
              "unique": unique}
    if unique is False:
        down, up = sign * rate.rate_down, sign * rate.rate_up
        fields |= {"usd_per_t_down": _bound(down), "usd_per_t_up": _bound(up)}
    return fields


def limit_prices(result: Result) -> list[dict]:
    """Every share-limit row: its current share, USD per pp of tightening, valid range."""
    rows = []
    for limit in _records(base(result.limits)):
        bound = Bound(limit.bound)
        actual = limit.group_value / limit.total if limit.total > 0 else 0.0
        record = {"group": limit.group, "stage": limit.stage, "bound": limit.bound,
                  "limit": _clean(limit.share_limit), "share": _clean(actual),
                  "basis": limit.basis, "scope": limit.scope, "binding": limit.binding,
                  "usd_per_pp": _one_sided_pp(bound, limit)["usd_per_pp_tighter"]
                  if limit.binding else 0.0,
                  "whole_cost_usd": _whole_cost(limit),
                  "origin": limit.origin}
        if not math.isnan(limit.max_cost_usd_per_pp):
            record |= _soft_fields(limit)
        if limit.binding:
            low, high = _headline_range(bound, limit)
            record |= {"valid_from": _clean(low), "valid_to": _clean(high),
                       "unique": limit.unique}
            if not limit.unique:
                record |= _one_sided_pp(bound, limit)
        else:  # slack: tightening costs nothing until the limit reaches the current share
            lo, hi = (actual, 1.0) if bound is Bound.MAX else (0.0, actual)
            record |= {"valid_from": _clean(lo), "valid_to": _clean(hi), "unique": True}
        rows.append(record)
    return rows


def _soft_fields(limit) -> dict:
    """A soft limit: how far the plan passed it (pp of the stage's total) and the
    penalty paid for that, at the willingness to pay per pp."""
    return {"soft": True, "max_cost_usd_per_pp": _clean(limit.max_cost_usd_per_pp),
            "exceeded_pp": _clean(100.0 * limit.excess / limit.total)
            if limit.total > 0 else 0.0,
            "penalty_usd": _clean(limit.penalty_per_unit * limit.excess, 2)}


def _headline_range(bound: Bound, limit) -> tuple[float, float]:
    """Where the headline rate (one pp tighter) holds: the optimal basis's interval, or
    at a degenerate optimum the interval of the basis just on the tighter side."""
    side = ((limit.range_down_from, limit.range_down_to) if bound is Bound.MAX
            else (limit.range_up_from, limit.range_up_to))
    if limit.unique or math.isnan(side[0]):
        return limit.valid_from, limit.valid_to
    return side


def _whole_cost(limit) -> float | None:
    """Total cost of a limit row: 0 when slack; None when it could not be measured."""
    if not limit.binding:
        return 0.0
    return None if math.isnan(limit.whole_cost_usd) else _clean(limit.whole_cost_usd, 2)


def import_shares(result: Result) -> list[dict]:
    """Dependence on each selling country by value of imports (SPEC §5a's calibration
    measure): its share of Σ landed cost × t over purchases from outside the buyer's
    country, per stage and per material (stages of one material together)."""
    offers = base(result.offers)
    imports = offers[offers["country"] != result.data.buyer]
    stages = base(result.stages)
    spend = pd.DataFrame({
        "stage": imports["stage"], "country": imports["country"],
        "material": stages.loc[imports["stage"], "material"].to_numpy(),
        "usd": imports["tonnes"] * imports["landed_usd_per_t"]})
    rows = []
    for level, key in (("stage", "stage"), ("material", "material")):
        by = spend.groupby([key, "country"], sort=False)["usd"].sum()
        totals = spend.groupby(key, sort=False)["usd"].sum()
        for (name, country), usd in by.items():
            if usd > 0 and not (level == "material" and name == ""):
                rows.append({"level": level, "name": name, "country": country,
                             "imports_usd": _clean(usd, 2),
                             "share_by_value": _clean(usd / totals[name])})
    return rows


def concentration(result: Result) -> list[dict]:
    """Per stage: Herfindahl–Hirschman index of country shares (0–10,000), top-3
    countries' share and China's share, for the least-cost plan without any share
    limit ("before") and for this plan ("after"). Volume basis, direct scope."""
    after = _country_shares(result, "tonnes")
    before = _country_shares(result, "tonnes_unconstrained")
    rows = []
    for stage in _stages_in_order(result).index:
        row = {"stage": stage}
        for label, shares_by_country in (("before", before), ("after", after)):
            values = sorted(shares_by_country.get(stage, {}).values(), reverse=True)
            row |= {f"hhi_{label}": _clean(sum((100 * v) ** 2 for v in values), 2),
                    f"top3_{label}": _clean(sum(values[:3])),
                    f"cn_{label}": _clean(shares_by_country.get(stage, {}).get("CN", 0.0))}
        rows.append(row)
    return rows


def _country_shares(result: Result, column: str) -> dict[str, dict[str, float]]:
    """Each stage's volume shares by seller country, reading tonnes from ``column`` of
    the offers and processes (domestic output: main output and co-products)."""
    offers, processes = base(result.offers), base(result.processes)
    made = _flows(result, "output")
    made_t = made["t_per_t"].to_numpy() * processes.loc[made["process"], column].to_numpy()
    flows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for stage, country, t in zip(offers["stage"].tolist(), offers["country"].tolist(),
                                 offers[column].tolist(), strict=True):
        flows[stage][country] += t
    for stage, t in zip(made["stage"].tolist(), made_t.tolist(), strict=True):
        flows[stage][result.data.buyer] += t
    shares_by_stage = {}
    for stage, by_country in flows.items():
        total = sum(by_country.values())
        shares_by_stage[stage] = {c: t / total for c, t in by_country.items()
                                  if total > 0 and t > TONNES_EPS}
    return shares_by_stage


def _one_sided_pp(bound: Bound, limit) -> dict:
    """Degenerate optimum: cost of one pp tighter and saving of one pp looser differ."""
    down, up = limit.rate_down, limit.rate_up   # d(cost)/dσ each way
    if bound is Bound.MAX:
        return {"usd_per_pp_tighter": _bound(-down * PP), "usd_per_pp_looser": _bound(-up * PP)}
    return {"usd_per_pp_tighter": _bound(up * PP), "usd_per_pp_looser": _bound(down * PP)}


def reduced_costs(result: Result) -> list[dict]:
    """Unused offers and processes: how much their cost must fall before the plan uses
    them. A members-only offer shut while the buyer is an observer opens only by joining
    the zone, not by a lower price: no reduced cost, a note instead."""
    offers, processes = base(result.offers), base(result.processes)
    rows = [{"offer": o.key, "kind": "offer", "stage": o.stage, "country": o.country,
             "cost_usd_per_t": _clean(o.landed_usd_per_t),
             "reduced_cost_usd_per_t": None if o.closed else _clean(o.reduced_cost_usd_per_t),
             **({"note": "members only: open once the buyer joins the zone"} if o.closed
                else {})}
            for o in _records(offers) if o.tonnes <= TONNES_EPS]
    rows += [{"offer": p.key, "kind": "process", "stage": p.to_stage,
              "country": result.data.buyer, "cost_usd_per_t": _clean(p.cost_usd_per_t),
              "reduced_cost_usd_per_t": _clean(p.reduced_cost_usd_per_t)}
             for p in _records(processes) if p.tonnes <= TONNES_EPS]
    return rows


def report_tables(result: Result) -> dict[str, list[dict]]:
    """All report tables by name (the CSV file / Excel sheet names)."""
    if result.optimal and len(result.periods):
        return path_tables(result)
    tables = {"summary": summary(result)}
    if result.optimal:
        capacities = capacity_prices(result)
        share_table = shares(result)
        tables |= {
            "purchases": purchases(result), "production": production(result),
            "process_flows": process_flows(result) if result.data.process_flows else [],
            "cost_by_stage": cost_by_stage(result), "shares": share_table,
            "direct_and_embedded": direct_and_embedded(result, share_table),
            "demand_prices": demand_prices(result),
            "capacity_prices": [r for r in capacities if r["kind"] == "offer"],
            "process_capacity_prices": [r for r in capacities if r["kind"] == "process"],
            "minimum_prices": minimum_prices(result), "limit_prices": limit_prices(result),
            "reduced_costs": reduced_costs(result),
            "concentration": concentration(result),
            "import_shares": import_shares(result)}
    if result.diagnosis is not None:
        tables["conflicts"] = [vars(c) for c in result.diagnosis.conflicts]
        tables["tightest_feasible"] = [vars(t) for t in result.diagnosis.limits]
    return tables


def summary_head(result: Result) -> list[dict]:
    """The first rows of ``summary``: dataset, buyer, zone status, outcome."""
    data = result.data
    return [{"key": "dataset", "value": data.name}, {"key": "buyer", "value": data.buyer},
            {"key": "zone", "value": data.zone.value},
            {"key": "status", "value": result.status},
            {"key": "message", "value": result.message}]


def summary(result: Result) -> list[dict]:
    """Dataset, zone status, outcome and total cost."""
    rows = summary_head(result)
    if result.optimal and len(result.periods):   # over time: the path table has the rest
        return _path_summary(result, rows, path_totals(result))
    if result.optimal:
        rows.append({"key": "objective_usd", "value": _clean(result.objective_usd, 2)})
        rows += [{"key": key, "value": value}
                 for key, value in totals(result, cost_by_stage(result)).items()
                 if key != "total_usd"]
    return rows


def as_json(result: Result) -> dict:
    """The SPEC §5 JSON object (with extra keys beside the required ones)."""
    if result.optimal and len(result.periods):
        return path_json(result)
    out: dict = {"status": result.status, "message": result.message,
                 "dataset": result.data.name, "zone": result.data.zone.value}
    if result.optimal:
        capacities = capacity_prices(result)
        stages = cost_by_stage(result)
        share_table = shares(result)
        out |= {
            "objective_usd": _clean(result.objective_usd, 6),
            "totals": totals(result, stages),
            "purchases": purchases(result), "production": production(result),
            **({"flows": process_flows(result)} if result.data.process_flows else {}),
            "cost_by_stage": stages, "shares": share_table,
            "direct_and_embedded": direct_and_embedded(result, share_table),
            "concentration": concentration(result),
            "import_shares": import_shares(result),
            "shadow_prices": {
                "demand": demand_prices(result),
                "capacity": [r for r in capacities if r["kind"] == "offer"],
                "process_capacity": [r for r in capacities if r["kind"] == "process"],
                "minimum": minimum_prices(result), "limits": limit_prices(result),
                "reduced_costs": reduced_costs(result)},
            "verification": dict(result.residuals)}
    else:   # SPEC §5's keys are always there: no plan buys, makes or prices nothing
        out |= {"objective_usd": None, "purchases": [], "production": [], "shares": [],
                "shadow_prices": {"demand": [], "capacity": [], "limits": []}}
    if result.diagnosis is not None:
        out["diagnosis"] = result.diagnosis.as_dict()
    return out


# -- a plan over time (SPEC §3a): the one-period tables per period, and the path -----

def _node_label(result: Result, period: str, branch: str) -> dict:
    """The period, and the branch where the dataset has disruptions (SPEC §5)."""
    return {"period": period, **({"branch": branch} if result.disrupted else {})}


def _per_period(result: Result, table) -> list[dict]:
    """``table`` of each node's own view (a period of a branch), each row tagged with its
    period (and branch)."""
    return [{**_node_label(result, period, branch), **row}
            for period, branch in result.nodes() for row in table(result.at(period, branch))]


def period_rows(result: Result) -> list[dict]:
    """One row per period: its zone status and cost — one year's (undiscounted, without
    holding), the period's, holding and expansions decided in it apart, and discounted
    (years × discount factor; these sum to ``objective_usd``)."""
    return [{**_node_label(result, *key), "order": int(p["order"]), "years": p["years"],
             "discount_factor": p["discount_factor"],
             "zone": result.period_data[key].zone.value,
             "cost_usd_per_yr": _clean(p["cost_usd_per_yr"], 2),
             "cost_usd": _clean(p["cost_usd"], 2), "holding_usd": _clean(p["holding_usd"], 2),
             "expansion_usd": _clean(p["expansion_usd"], 2),
             "discounted_cost_usd": _clean(p["discounted_cost_usd"], 2)}
            for key, p in result.periods.iterrows()]


def path_rows(result: Result) -> list[dict]:
    """The path at a glance, one row per period: cost (USD M a year, and discounted with
    holding and expansions), China's share of imports by value per material (%), each
    stock's cover (days of that period's demand)."""
    rows = []
    for key, p in result.periods.iterrows():
        seen = result.at(*key)
        by_material = [r for r in import_shares(seen) if r["level"] == "material"]
        china = {r["name"]: r["share_by_value"] for r in by_material if r["country"] == "CN"}
        row = {**_node_label(result, *key), "zone": seen.data.zone.value,
               "USD M/yr": _clean(p["cost_usd_per_yr"] / 1e6, 2),
               "discounted USD M": _clean(p["discounted_cost_usd"] / 1e6, 2)}
        row |= {f"CN % {m}": _clean(100 * china.get(m, 0.0), 1)
                for m in dict.fromkeys(r["name"] for r in by_material)}
        if len(seen.stocks):
            row |= {f"days {stage}": _clean(s.days_of_cover, 1)
                    for stage, s in base(seen.stocks).iterrows()
                    if not math.isnan(s.days_of_cover)}
        rows.append(row)
    return rows


def path_totals(result: Result) -> dict[str, float]:
    """``totals`` over the whole path, discounted like the objective: each period's duty,
    levy and shortage cost × years × discount factor; the cost of joining (every period's
    zone status flipped) where all periods share one status."""
    weights = result.periods["weight"] * result.periods["probability"]
    per = {key: totals(result.at(*key), cost_by_stage(result.at(*key)))
           for key in result.nodes()}
    out = {"total_usd": _clean(result.objective_usd, 2)}
    for key in ("duty_usd", "levy_usd", "shortage_usd"):
        if any(key in row for row in per.values()):
            out[key] = _clean(sum(weights[p] * row.get(key, 0.0) for p, row in per.items()), 2)
    out["total_less_levy_usd"] = _clean(result.objective_usd - out["levy_usd"], 2)
    zones = {result.period_data[p].zone.value for p in per}
    other = result.other_zone_objective_usd
    if other is not None and len(zones) == 1:
        this = result.objective_with_penalties_usd
        joined, observer = (this, other) if zones == {"joined"} else (other, this)
        out["cost_of_joining_usd"] = _clean(joined - observer, 2)
    return out


def stock_rows(result: Result) -> list[dict]:
    """SPEC §5 ``stocks``: level (t), net put or release (t/yr), days of cover."""
    return [{"stage": key[2], "period": key[0], "branch": key[1],
             "level_t": _clean(s.level_t), "put_t": _clean(s.put_t),
             "release_t": _clean(s.release_t),
             "days_of_cover": None if math.isnan(s.days_of_cover) else _clean(s.days_of_cover, 2),
             "floor_t": _clean(s.floor_t), "capacity_t": _capacity(s.capacity_t),
             "holding_usd": _clean(s.holding_usd, 2)}
            for key, s in result.stocks.iterrows()]


def stock_prices(result: Result) -> list[dict]:
    """SPEC §5 ``shadow_prices.stocks``, in each period's own money."""
    return [{"stage": key[2], "period": key[0], "branch": key[1],
             "initial_usd_per_t": (None if math.isnan(s.initial_usd_per_t)
                                   else _clean(s.initial_usd_per_t)),
             "floor_usd_per_t": _clean(s.floor_usd_per_t),
             "capacity_usd_per_t": _clean(s.capacity_usd_per_t)}
            for key, s in result.stocks.iterrows()]


def expansion_rows(result: Result) -> list[dict]:
    """SPEC §5 ``expansions``: t/yr added by each decision, and from when it is usable."""
    return [{"expansion": key[2], "target": e.target, "period": key[0], "branch": key[1],
             "added_t_yr": _clean(e.added_t_yr),
             "usable_from": e.usable_from if isinstance(e.usable_from, str) else None,
             "cost_usd": _clean(e.cost_usd, 2)}
            for key, e in result.expansions.iterrows()]


def expansion_prices(result: Result) -> list[dict]:
    """Per decision: how far its cost per t/yr must fall before the plan adds capacity
    then (0 where it does), the cost at which it breaks even, and the value of one more
    t/yr of its maximum (present value; 0 without a maximum or where it does not bind)."""
    return [{"expansion": key[2], "period": key[0], "branch": key[1],
             "usd_per_t_yr": _clean(e.usd_per_t_yr, 2),
             "reduced_cost_usd_per_t_yr": _clean(e.reduced_cost_usd_per_t_yr),
             "break_even_usd_per_t_yr": _clean(e.break_even_usd_per_t_yr),
             "max_usd_per_t_yr": _clean(e.max_usd_per_t_yr)}
            for key, e in result.expansions.iterrows()]


def _path_summary(result: Result, rows: list[dict], whole: dict[str, float]) -> list[dict]:
    """``summary`` of a plan over time: the objective, the periods, the path's totals."""
    return [*rows, {"key": "objective_usd", "value": _clean(result.objective_usd, 2)},
            {"key": "periods", "value": ", ".join(dict.fromkeys(
                period for period, _ in result.nodes()))},
            *({"key": key, "value": value} for key, value in whole.items()
              if key != "total_usd")]


def path_tables(result: Result, whole: dict[str, float] | None = None
                ) -> dict[str, list[dict]]:
    """The report tables of a plan over time (CSV files / Excel sheets); ``whole`` is
    ``path_totals`` where the caller has it already."""
    whole = path_totals(result) if whole is None else whole
    tables = {"summary": _path_summary(result, summary_head(result), whole),
              "path": path_rows(result), "periods": period_rows(result)}
    for name, table in _PERIOD_TABLES.items():
        tables[name] = _per_period(result, table)
    tables |= {"stocks": stock_rows(result), "stock_prices": stock_prices(result),
               "expansions": expansion_rows(result),
               "expansion_prices": expansion_prices(result)}
    return tables


def _offer_capacity_prices(result: Result) -> list[dict]:
    return [r for r in capacity_prices(result) if r["kind"] == "offer"]


def _process_capacity_prices(result: Result) -> list[dict]:
    return [r for r in capacity_prices(result) if r["kind"] == "process"]


def _direct_and_embedded(result: Result) -> list[dict]:
    return direct_and_embedded(result, shares(result))


_PERIOD_TABLES = {
    "purchases": purchases, "production": production, "process_flows": process_flows,
    "cost_by_stage": cost_by_stage, "shares": shares,
    "direct_and_embedded": _direct_and_embedded, "demand_prices": demand_prices,
    "capacity_prices": _offer_capacity_prices,
    "process_capacity_prices": _process_capacity_prices,
    "minimum_prices": minimum_prices, "limit_prices": limit_prices,
    "reduced_costs": reduced_costs, "concentration": concentration,
    "import_shares": import_shares}


def path_json(result: Result) -> dict:
    """SPEC §5's JSON object for a plan over time: every row of the one-period keys
    carries its ``period``; ``periods``, ``stocks``, ``expansions`` and the stock and
    expansion prices describe the path."""
    whole = path_totals(result)
    tables = path_tables(result, whole)
    first = result.at(*result.nodes()[0])
    risk = ({"expected_cost_usd": _clean(result.expected_cost_usd, 6),
             "cvar_usd": _clean(result.cvar_usd, 6),
             "branches": [{"branch": name, "probability": b.probability,
                           "cost_usd": _clean(b.cost_usd, 6),
                           "shortage_t": _clean(b.shortage_t),
                           "shortage_usd": _clean(b.shortage_usd, 6)}
                          for name, b in result.branches.iterrows()]}
            if result.disrupted else {})
    return {
        "status": result.status, "message": result.message, "dataset": result.data.name,
        "zone": first.data.zone.value,   # in the first period; each period's in "periods"
        "objective_usd": _clean(result.objective_usd, 6),
        **risk, "periods": tables["periods"], "path": tables["path"],
        "totals": whole,
        "purchases": tables["purchases"], "production": tables["production"],
        **({"flows": tables["process_flows"]} if result.data.process_flows else {}),
        "cost_by_stage": tables["cost_by_stage"], "shares": tables["shares"],
        "direct_and_embedded": tables["direct_and_embedded"],
        "import_shares": tables["import_shares"], "concentration": tables["concentration"],
        "stocks": tables["stocks"], "expansions": tables["expansions"],
        "shadow_prices": {
            "demand": tables["demand_prices"], "capacity": tables["capacity_prices"],
            "process_capacity": tables["process_capacity_prices"],
            "minimum": tables["minimum_prices"], "limits": tables["limit_prices"],
            "reduced_costs": tables["reduced_costs"],
            "stocks": tables["stock_prices"], "expansions": tables["expansion_prices"]},
        "verification": dict(result.residuals)}


def stress_json(result: Result, reserve_value_usd: float | None, vss_usd: float | None,
                reserve_days: dict[str, float], samples: Samples | None = None) -> dict:
    """SPEC §5's ``planner stress`` object: the plan's JSON with the value of the reserve,
    the value of the stochastic solution, the reserve held before any disruption (days
    of cover per stock) and, when drawn, the sampled futures."""
    out = as_json(result)
    if result.optimal and not result.disrupted:   # no branches: one, certain future
        out |= {"expected_cost_usd": out["objective_usd"], "cvar_usd": out["objective_usd"]}
    out |= {"risk_weight": result.data.risk_weight, "cvar_alpha": result.data.cvar_alpha,
            "reserve_value_usd": None if reserve_value_usd is None
            else _clean(reserve_value_usd, 6),
            "vss_usd": None if vss_usd is None else _clean(vss_usd, 6),
            "reserve_days": {stage: _clean(days, 2) for stage, days in reserve_days.items()}}
    if samples is not None:
        out |= {"samples": samples.summary(), "sampling_run": samples.run()}
    return out


STRESS_KEYS = ("expected_cost_usd", "cvar_usd", "risk_weight", "cvar_alpha",
               "reserve_value_usd", "vss_usd")
SAMPLE_KEYS = ("n", "seed", "mean_usd", "p50_usd", "p90_usd", "p99_usd", "cvar_usd", "alpha",
               "shortage_probability", "solved", "distinct")
RUN_KEYS = ("workers", "seconds", "startup_seconds", "futures_per_second", "lps_per_second")


def stress_tables(result: Result, out: dict) -> dict[str, list[dict]]:
    """``planner stress`` as tables: what the plan's risk costs and its reserve is worth,
    its branches, its sampled futures (each distinct one, failed ones named), then the
    plan's own tables."""
    tables = {"stress": [{"key": key, "value": out.get(key)} for key in STRESS_KEYS]
              + [{"key": f"reserve_days {stage}", "value": days}
                 for stage, days in out.get("reserve_days", {}).items()]}
    if out.get("branches"):
        tables["branches"] = out["branches"]
    if "samples" in out:
        s, run = out["samples"], out["sampling_run"]
        tables["samples"] = ([{"key": key, "value": s[key]} for key in SAMPLE_KEYS]
                             + [{"key": key, "value": run[key]} for key in RUN_KEYS]
                             + [{"key": "worker_peak_mb", "value": max(run["worker_peak_mb"],
                                                                        default=None)}])
        tables["sampled_futures"] = [
            {"disruptions": " + ".join(f["disruptions"]) or "none", "count": f["count"],
             "status": f.get("status", "optimal"), "cost_usd": f.get("cost_usd"),
             "unmet_t": f.get("unmet_t")} for f in s["futures"] + s["failed"]]
    if "break_even" in out:
        b = out["break_even"]
        tables["break_even"] = [{"key": key, "value": b[key]} for key in (
            "break_even_probability", "probability_now", "max_probability", "cheaper_now",
            "joined_now_usd", "observer_now_usd")] + [
            {"key": "disruptions", "value": ", ".join(b["disruptions"])}]
        observer = {p["probability"]: p["objective_usd"] for p in b["observer"]}
        joined = {p["probability"]: p["objective_usd"] for p in b["joined"]}
        tables["break_even_curve"] = [
            {"probability": t, "joined_usd": joined.get(t), "observer_usd": observer.get(t)}
            for t in sorted(set(joined) | set(observer))]
    return tables | report_tables(result)
