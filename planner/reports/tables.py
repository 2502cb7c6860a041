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
from functools import cache, cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.analysis.origins import origin_shares, segregated_share
from planner.models.data import Basis, Bound, Dataset, Scope
from planner.models.groups import in_group, is_country_code
from planner.solving.result import BASE, LEVELS, Result

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


def _capacity(x: float) -> float | None:
    """A capacity: None for unlimited (NaN in the labelled result)."""
    return None if math.isnan(x) else _clean(x)


# -- a result's frames, read once per report ------------------------------------

Node = tuple[str, str]     # (period, branch): a node of a plan over time
BASE_NODE = (BASE, BASE)   # the one node of a one-period result, or of a node's view


def _records(frame: pd.DataFrame, keys: list) -> list:
    """Rows of ``frame`` as named tuples, ``keys`` (one per row) first as ``key``, built
    from whole columns (pandas' own row iteration is many times slower on text columns)."""
    row = namedtuple("Row", ["key", *frame.columns])
    columns = [keys, *(frame[c].tolist() for c in frame.columns)]
    return [row._make(values) for values in zip(*columns, strict=True)]


def _by_node(frame: pd.DataFrame) -> defaultdict[Node, list]:
    """Rows of ``frame`` as named tuples (``_records``), by node, in the frame's order;
    ``key`` is the row's own key (its index without period and branch)."""
    rows: defaultdict[Node, list] = defaultdict(list)
    if frame.empty:
        return rows
    index = frame.index
    records = _records(frame, index.droplevel(list(LEVELS)).tolist())
    nodes = zip(index.get_level_values("period").tolist(),
                index.get_level_values("branch").tolist(), strict=True)
    for node, record in zip(nodes, records, strict=True):
        rows[node].append(record)
    return rows


def _in_order(stages: list) -> list:
    """Stages grouped by material (the material whose first stage is most upstream
    first, then by name), then upstream first; ties keep the input order."""
    first: dict[str, int] = {}
    for s in stages:
        first[s.material] = min(first.get(s.material, s.order), s.order)
    return sorted(stages, key=lambda s: (first[s.material], s.material.lower(), s.order))


class _Frames:
    """A result's frames read once for its report tables: each frame's rows by node
    (``_by_node``), and the sums the tables share, each one pandas groupby over every
    node with period and branch among its keys. pandas sums every group on its own, in
    row order, so a node's sum is, to the last bit, the one its own rows would give."""

    def __init__(self, result: Result, nodes: dict[Node, Dataset], over_time: bool):
        self.result = result
        self.nodes = nodes            # the nodes the tables show, in order: their datasets
        self.over_time = over_time

    @classmethod
    def one(cls, result: Result) -> _Frames:
        """A one-period result, or the view of one node (``Result.at``): the base node."""
        return cls(result, {BASE_NODE: result.data}, over_time=False)

    @classmethod
    def path(cls, result: Result) -> _Frames:
        """Every node of a plan over time, with its own dataset."""
        return cls(result, {key: result.period_data.get(key, result.data)
                            for key in result.nodes()}, over_time=True)

    def view(self, node: Node) -> Result:
        """The result seen from ``node`` (``planner.analysis.origins`` reads one)."""
        return self.result.at(*node) if self.over_time else self.result

    @cached_property
    def offers(self) -> defaultdict[Node, list]:
        return _by_node(self.result.offers)

    @cached_property
    def offer_at(self) -> defaultdict[Node, dict]:
        """Each node's offers by id."""
        return defaultdict(dict, {node: {o.key: o for o in rows}
                                  for node, rows in self.offers.items()})

    @cached_property
    def processes(self) -> defaultdict[Node, list]:
        return _by_node(self.result.processes)

    @cached_property
    def process_at(self) -> defaultdict[Node, dict]:
        """Each node's processes by id."""
        return defaultdict(dict, {node: {p.key: p for p in rows}
                                  for node, rows in self.processes.items()})

    @cached_property
    def flows(self) -> defaultdict[Node, list]:
        """Each node's process inputs and outputs, ``key`` (process, stage)."""
        return _by_node(self.result.flows)

    @cached_property
    def stages(self) -> dict[Node, list]:
        """Each node's stages, in report order (``_in_order``)."""
        return {node: _in_order(rows) for node, rows in _by_node(self.result.stages).items()}

    @cached_property
    def rates(self) -> defaultdict[Node, defaultdict[str, dict]]:
        """Each node's rate rows by kind, then by key (a stage, offer or process)."""
        rates: defaultdict[Node, defaultdict[str, dict]] = defaultdict(
            lambda: defaultdict(dict))
        for node, rows in _by_node(self.result.rates).items():
            for rate in rows:
                kind, key = rate.key
                rates[node][kind][key] = rate
        return rates

    @cached_property
    def limits(self) -> defaultdict[Node, list]:
        return _by_node(self.result.limits)

    @cached_property
    def stocks(self) -> defaultdict[Node, list]:
        """Each node's stocks, ``key`` the stage."""
        return _by_node(self.result.stocks)

    def _flows(self, role: str) -> pd.DataFrame:
        flows = self.result.flows
        return flows[flows["role"] == role]

    @cached_property
    def supply(self) -> defaultdict[tuple[str, str, str], float]:
        """Tonnes supplied into each (period, branch, stage): purchases plus domestic
        output (main output and co-products)."""
        supply: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        for frame in (self.result.offers, self._flows("output")):
            for key, tonnes in frame.groupby([*LEVELS, "stage"])["tonnes"].sum().items():
                supply[key] += tonnes
        return supply

    @cached_property
    def purchase_costs(self) -> dict[tuple[str, str, str], tuple[float, float, float]]:
        """Per (period, branch, stage): purchases, and the duty and zone levy in them (USD)."""
        offers = self.result.offers
        bought = pd.DataFrame({
            "stage": offers["stage"],
            "purchases_usd": offers["tonnes"] * offers["landed_usd_per_t"],
            "duty_usd": offers["tonnes"] * offers["duty_usd_per_t"],
            "levy_usd": offers["tonnes"] * offers["levy_usd_per_t"]})
        parts = bought.groupby([*LEVELS, "stage"]).sum()
        return dict(zip(parts.index, zip(*(parts[c].tolist() for c in parts.columns),
                                         strict=True), strict=True))

    @cached_property
    def processing_costs(self) -> dict[tuple[str, str, str], float]:
        """Per (period, branch, stage): processing cost of its main output (USD)."""
        processes = self.result.processes
        made = pd.DataFrame({"to_stage": processes["to_stage"],
                             "usd": processes["tonnes"] * processes["cost_usd_per_t"]})
        return made.groupby([*LEVELS, "to_stage"])["usd"].sum().to_dict()

    @cached_property
    def used(self) -> dict[tuple[str, str, str], float]:
        """Per (period, branch, stage): tonnes drawn by processes."""
        return self._flows("input").groupby([*LEVELS, "stage"])["tonnes"].sum().to_dict()

    @cached_property
    def country_supply(self) -> defaultdict[Node, dict[str, tuple]]:
        """Per node and stage: the selling countries in order of first appearance
        (purchases by seller, then domestic output as the buyer's), and their tonnes and
        value (USD; output at its value-basis weight) as arrays of the summed column's
        dtype, so a total over them is the one the column's own ``sum`` gives."""
        offers, made = self.result.offers.reset_index(), self._flows("output").reset_index()
        buyers = [self.nodes[node].buyer for node in zip(
            made["period"].tolist(), made["branch"].tolist(), strict=True)]
        flows = pd.concat([
            pd.DataFrame({"period": offers["period"], "branch": offers["branch"],
                          "stage": offers["stage"], "country": offers["country"],
                          "volume": offers["tonnes"],
                          "value": offers["tonnes"] * offers["landed_usd_per_t"]}),
            pd.DataFrame({"period": made["period"], "branch": made["branch"],
                          "stage": made["stage"], "country": buyers,
                          "volume": made["tonnes"],
                          "value": made["tonnes"] * made["value_usd_per_t"]})])
        sums = flows.groupby([*LEVELS, "stage", "country"], sort=False)[["volume", "value"]].sum()
        keys = sums.index.tolist()   # (period, branch, stage, country)
        at: defaultdict[tuple[str, str, str], list[int]] = defaultdict(list)
        for position, (period, branch, stage, _) in enumerate(keys):
            at[period, branch, stage].append(position)
        volume, value = sums["volume"].to_numpy(), sums["value"].to_numpy()
        supply: defaultdict[Node, dict[str, tuple]] = defaultdict(dict)
        for (period, branch, stage), rows in at.items():
            supply[period, branch][stage] = ([keys[i][3] for i in rows], volume[rows],
                                             value[rows])
        return supply

    @cached_property
    def imports(self) -> defaultdict[Node, list]:
        """Per node, spend on imports (purchases from outside the buyer's country) by
        stage, then by material: (level, name, country, USD, the name's total USD), in
        order of first appearance."""
        offers = self.result.offers.reset_index()
        keys = list(zip(offers["period"].tolist(), offers["branch"].tolist(),
                        offers["stage"].tolist(), strict=True))
        material = {(*node, s.key): s.material for node, rows in self.stages.items()
                    for s in rows}
        spend = pd.DataFrame({
            "period": offers["period"], "branch": offers["branch"], "stage": offers["stage"],
            "country": offers["country"], "material": [material[key] for key in keys],
            "usd": offers["tonnes"] * offers["landed_usd_per_t"]})
        spend = spend[spend["country"] != [self.nodes[key[:2]].buyer for key in keys]]
        imports: defaultdict[Node, list] = defaultdict(list)
        for level in ("stage", "material"):
            by = spend.groupby([*LEVELS, level, "country"], sort=False)["usd"].sum()
            totals = spend.groupby([*LEVELS, level], sort=False)["usd"].sum().to_dict()
            for (period, branch, name, country), usd in by.items():
                imports[period, branch].append(
                    (level, name, country, usd, totals[(period, branch, name)]))
        return imports


# -- the one-period tables, node by node ----------------------------------------

def _purchases(f: _Frames, node: Node) -> list[dict]:
    """Every offer bought, with its landed-cost components and share of its stage."""
    rows = []
    for o in f.offers[node]:
        if o.tonnes <= TONNES_EPS:
            continue
        supply = f.supply[(*node, o.stage)]
        rows.append({
            "offer": o.key, "stage": o.stage, "supplier": o.supplier, "country": o.country,
            "tonnes": _clean(o.tonnes),
            "share": _clean(o.tonnes / supply) if supply > 0 else 0.0,
            "landed_usd_per_t": _clean(o.landed_usd_per_t),
            "price_usd_per_t": _clean(o.price_usd_per_t),
            "freight_usd_per_t": _clean(o.freight_usd_per_t), "duty_rate": _clean(o.duty_rate),
            "duty_usd_per_t": _clean(o.duty_usd_per_t),
            "levy_usd_per_t": _clean(o.levy_usd_per_t),
            "cost_usd": _clean(o.tonnes * o.landed_usd_per_t, 2)})
    return rows


def _production(f: _Frames, node: Node) -> list[dict]:
    """Domestic output of every process (t of main output), with the input it draws."""
    return [{"process": p.key, "from_stage": p.from_stage, "to_stage": p.to_stage,
             "tonnes": _clean(p.tonnes), "input_t": _clean(p.tonnes / p.yield_t_per_t),
             "cost_usd_per_t": _clean(p.cost_usd_per_t),
             "cost_usd": _clean(p.tonnes * p.cost_usd_per_t, 2)}
            for p in f.processes[node]]


def _process_flows(f: _Frames, node: Node) -> list[dict]:
    """Every input and output of every process (main ones and ``process_flows``), t."""
    return [{"process": flow.key[0], "stage": flow.key[1], "role": flow.role,
             "main": flow.main, "t_per_t": _clean(flow.t_per_t), "tonnes": _clean(flow.tonnes)}
            for flow in f.flows[node]]


def _cost_by_stage(f: _Frames, node: Node) -> list[dict]:
    """Purchase and processing cost attributed to the stage they supply, with the duty
    and zone levy inside the purchase cost shown apart."""
    stages = f.stages[node]
    labelled = any(s.material != "" for s in stages)
    priced = any(not math.isnan(s.shortage_usd_per_t) for s in stages)
    stocked = {s.key: s for s in f.stocks[node]}
    rows = []
    for s in stages:
        key = (*node, s.key)
        purchase, duty, levy = f.purchase_costs.get(key, (0.0, 0.0, 0.0))
        made = f.processing_costs.get(key, 0.0)
        used = f.used.get(key, 0.0)
        short = s.shortage_t
        lost = short * s.shortage_usd_per_t if short > 0 else 0.0
        row = {"material": s.material} if labelled else {}
        row |= {"stage": s.key, "demand_t": _clean(s.demand_t),
                "supply_t": _clean(f.supply[key]), "used_t": _clean(used)}
        into_stock = 0.0
        if s.key in stocked:
            put, released = stocked[s.key].put_t, stocked[s.key].release_t
            into_stock = put - released
            row |= {"stock_put_t": _clean(put), "stock_release_t": _clean(released)}
        row["surplus_t"] = _clean(f.supply[key] - used - s.demand_t + short - into_stock, 6)
        if priced:
            row |= {"shortage_t": _clean(short), "shortage_usd": _clean(lost, 2)}
        row |= {"purchases_usd": _clean(purchase, 2), "of_which_duty_usd": _clean(duty, 2),
                "of_which_levy_usd": _clean(levy, 2), "processing_usd": _clean(made, 2),
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
    """Share of each stage's supply by every supplying country and every limited group
    (``_shares``), of a one-period result or of one node's view."""
    return _shares(_Frames.one(result), BASE_NODE)


def _shares(f: _Frames, node: Node) -> list[dict]:
    """Share of each stage's supply by every supplying country and every limited group.

    Volume basis, direct scope for countries and limit groups; plus each limit's
    own basis and scope. Direct shares are computed from the plan, independently of
    the LP's rows; embedded shares of a limited group read the plan's origin split.
    """
    countries = {c.country: c for c in f.nodes[node].countries}
    member = cache(lambda group, country: in_group(group, country, countries))  # per pair
    wanted = [(row.group, row.stage, basis, Scope(row.scope))
              for row in f.limits[node] for basis in (Basis.VOLUME, Basis(row.basis))]
    nobody = ([], np.zeros(0), np.zeros(0))
    rows, seen = [], set()
    for s in f.stages[node]:
        stage = s.key
        sellers, volume, value = f.country_supply[node].get(stage, nobody)
        suppliers = sorted(c for c, t in zip(sellers, volume, strict=True) if t > TONNES_EPS)
        groups = [(c, stage, Basis.VOLUME, Scope.DIRECT) for c in suppliers]
        groups += [w for w in wanted if w[1] == stage]
        for key in groups:
            if key in seen:
                continue
            seen.add(key)
            group, _, basis, scope = key
            if scope is Scope.EMBEDDED:
                share = segregated_share(f.view(node), group, stage, basis)
            else:
                column = volume if basis is Basis.VOLUME else value
                total = column.sum()
                members = np.array([member(group, c) for c in sellers], dtype=bool)
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


def _demand_prices(f: _Frames, node: Node) -> list[dict]:
    """USD per t of extra final demand at each stage, with its valid range in t."""
    rates = f.rates[node]["balance"]
    rows = []
    for s in f.stages[node]:
        rate = rates.get(s.key)
        if rate is None:
            continue   # no supply route and no demand: no row
        rows.append({"stage": s.key, "demand_t": _clean(s.demand_t),
                     "usd_per_t": _bound(rate.rate_up), **_range_fields(rate),
                     "valid_from": _bound(max(rate.valid_from, 0.0))})   # demand ≥ 0
    return rows


def _capacity_prices(f: _Frames, node: Node) -> list[dict]:
    """USD saved per t of extra capacity, for offers and processes with a capacity."""
    rows = []
    for kind, rate_kind, records in (("offer", "capacity", f.offer_at[node]),
                                     ("process", "process_capacity", f.process_at[node])):
        for key, rate in f.rates[node][rate_kind].items():
            used = records[key]
            rows.append({kind: key, "kind": kind, "capacity_t": _capacity(used.capacity_t),
                         "used_t": _clean(used.tonnes), "usd_per_t": _bound(-rate.rate_up),
                         **_range_fields(rate, flip=True)})
    return rows


def _minimum_prices(f: _Frames, node: Node) -> list[dict]:
    """Cost per t of each contracted minimum (0 where the plan buys more anyway)."""
    offers = f.offer_at[node]
    return [{"offer": key, "min_t": _clean(offers[key].min_t), "usd_per_t": _bound(rate.rate_up),
             **_range_fields(rate)}
            for key, rate in f.rates[node]["minimum"].items()]


def _range_fields(rate, flip: bool = False) -> dict:
    """A rate row's valid range, and at a degenerate optimum its one-sided rates."""
    sign = -1.0 if flip else 1.0
    unique = None if pd.isna(rate.unique) else bool(rate.unique)
    fields = {"valid_from": _bound(rate.valid_from), "valid_to": _bound(rate.valid_to),
              "unique": unique}
    if unique is False:
        down, up = sign * rate.rate_down, sign * rate.rate_up
        fields |= {"usd_per_t_down": _bound(down), "usd_per_t_up": _bound(up)}
    return fields


def limit_prices(result: Result) -> list[dict]:
    """Every share-limit row (``_limit_prices``) of a one-period result or of one node's
    view."""
    return _limit_prices(_Frames.one(result), BASE_NODE)


def _limit_prices(f: _Frames, node: Node) -> list[dict]:
    """Every share-limit row: its current share, USD per pp of tightening, valid range."""
    rows = []
    for limit in f.limits[node]:
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


def _import_shares(f: _Frames, node: Node) -> list[dict]:
    """Dependence on each selling country by value of imports (SPEC §5a's calibration
    measure): its share of Σ landed cost × t over purchases from outside the buyer's
    country, per stage and per material (stages of one material together)."""
    return [{"level": level, "name": name, "country": country,
             "imports_usd": _clean(usd, 2), "share_by_value": _clean(usd / total)}
            for level, name, country, usd, total in f.imports[node]
            if usd > 0 and not (level == "material" and name == "")]


def _concentration(f: _Frames, node: Node) -> list[dict]:
    """Per stage: Herfindahl–Hirschman index of country shares (0–10,000), top-3
    countries' share and China's share, for the least-cost plan without any share
    limit ("before") and for this plan ("after"). Volume basis, direct scope."""
    after = _country_shares(f, node, "tonnes")
    before = _country_shares(f, node, "tonnes_unconstrained")
    rows = []
    for s in f.stages[node]:
        row = {"stage": s.key}
        for label, shares_by_country in (("before", before), ("after", after)):
            values = sorted(shares_by_country.get(s.key, {}).values(), reverse=True)
            row |= {f"hhi_{label}": _clean(sum((100 * v) ** 2 for v in values), 2),
                    f"top3_{label}": _clean(sum(values[:3])),
                    f"cn_{label}": _clean(shares_by_country.get(s.key, {}).get("CN", 0.0))}
        rows.append(row)
    return rows


def _country_shares(f: _Frames, node: Node, column: str) -> dict[str, dict[str, float]]:
    """Each stage's volume shares by seller country, reading tonnes from ``column`` of
    the offers and processes (domestic output: main output and co-products)."""
    buyer, processes = f.nodes[node].buyer, f.process_at[node]
    flows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for o in f.offers[node]:
        flows[o.stage][o.country] += getattr(o, column)
    for flow in f.flows[node]:
        if flow.role == "output":
            process, stage = flow.key
            flows[stage][buyer] += flow.t_per_t * getattr(processes[process], column)
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


def _reduced_costs(f: _Frames, node: Node) -> list[dict]:
    """Unused offers and processes: how much their cost must fall before the plan uses
    them. A members-only offer shut while the buyer is an observer opens only by joining
    the zone, not by a lower price: no reduced cost, a note instead."""
    rows = [{"offer": o.key, "kind": "offer", "stage": o.stage, "country": o.country,
             "cost_usd_per_t": _clean(o.landed_usd_per_t),
             "reduced_cost_usd_per_t": None if o.closed else _clean(o.reduced_cost_usd_per_t),
             **({"note": "members only: open once the buyer joins the zone"} if o.closed
                else {})}
            for o in f.offers[node] if o.tonnes <= TONNES_EPS]
    rows += [{"offer": p.key, "kind": "process", "stage": p.to_stage,
              "country": f.nodes[node].buyer, "cost_usd_per_t": _clean(p.cost_usd_per_t),
              "reduced_cost_usd_per_t": _clean(p.reduced_cost_usd_per_t)}
             for p in f.processes[node] if p.tonnes <= TONNES_EPS]
    return rows


def _node_tables(f: _Frames, node: Node) -> dict[str, list[dict]]:
    """Every one-period table of ``node``, by name (the CSV file / Excel sheet names)."""
    share_table, capacities = _shares(f, node), _capacity_prices(f, node)
    return {
        "purchases": _purchases(f, node), "production": _production(f, node),
        "process_flows": _process_flows(f, node), "cost_by_stage": _cost_by_stage(f, node),
        "shares": share_table,
        "direct_and_embedded": direct_and_embedded(f.view(node), share_table),
        "demand_prices": _demand_prices(f, node),
        "capacity_prices": [r for r in capacities if r["kind"] == "offer"],
        "process_capacity_prices": [r for r in capacities if r["kind"] == "process"],
        "minimum_prices": _minimum_prices(f, node), "limit_prices": _limit_prices(f, node),
        "reduced_costs": _reduced_costs(f, node), "concentration": _concentration(f, node),
        "import_shares": _import_shares(f, node)}


def report_tables(result: Result) -> dict[str, list[dict]]:
    """All report tables by name (the CSV file / Excel sheet names)."""
    if result.optimal and len(result.periods):
        return path_tables(result)
    node = _node_tables(_Frames.one(result), BASE_NODE) if result.optimal else {}
    tables = {"summary": summary(result, node.get("cost_by_stage"))}
    if result.optimal:
        tables |= node if result.data.process_flows else node | {"process_flows": []}
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


def summary(result: Result, stages: list[dict] | None = None) -> list[dict]:
    """Dataset, zone status, outcome and total cost; ``stages`` is the ``cost_by_stage``
    table where the caller has it already."""
    rows = summary_head(result)
    if result.optimal and len(result.periods):   # over time: the path table has the rest
        return _path_summary(result, rows, path_totals(result))
    if result.optimal:
        if stages is None:
            stages = _cost_by_stage(_Frames.one(result), BASE_NODE)
        rows.append({"key": "objective_usd", "value": _clean(result.objective_usd, 2)})
        rows += [{"key": key, "value": value}
                 for key, value in totals(result, stages).items() if key != "total_usd"]
    return rows + _whole_costs_row(result)


def _whole_costs_row(result: Result) -> list[dict]:
    """The summary's row saying how many binding limits have their whole cost, when
    not all."""
    unmeasured = whole_costs_left(result)
    if not unmeasured:
        return []
    return [{"key": "whole_costs", "value": (
        f"{unmeasured['measured']} of {unmeasured['binding_limits']} binding limits "
        f"measured, largest USD/pp first; {unmeasured['measure_all']} for every one")}]


def whole_costs_left(result: Result) -> dict | None:
    """How many binding share limits have no whole cost (``--whole-costs``), when any."""
    measured, binding = result.whole_costs_measured
    if measured >= binding:
        return None
    return {"measured": measured, "binding_limits": binding, "not_measured": binding - measured,
            "measure_all": "--whole-costs all"}


def as_json(result: Result) -> dict:
    """The SPEC §5 JSON object (with extra keys beside the required ones)."""
    if result.optimal and len(result.periods):
        return _with_whole_costs_left(path_json(result), result)
    out: dict = {"status": result.status, "message": result.message,
                 "dataset": result.data.name, "zone": result.data.zone.value}
    if result.optimal:
        t = _node_tables(_Frames.one(result), BASE_NODE)
        out |= {
            "objective_usd": _clean(result.objective_usd, 6),
            "totals": totals(result, t["cost_by_stage"]),
            "purchases": t["purchases"], "production": t["production"],
            **({"flows": t["process_flows"]} if result.data.process_flows else {}),
            "cost_by_stage": t["cost_by_stage"], "shares": t["shares"],
            "direct_and_embedded": t["direct_and_embedded"],
            "concentration": t["concentration"], "import_shares": t["import_shares"],
            "shadow_prices": {
                "demand": t["demand_prices"], "capacity": t["capacity_prices"],
                "process_capacity": t["process_capacity_prices"],
                "minimum": t["minimum_prices"], "limits": t["limit_prices"],
                "reduced_costs": t["reduced_costs"]},
            "verification": dict(result.residuals)}
    else:   # SPEC §5's keys are always there: no plan buys, makes or prices nothing
        out |= {"objective_usd": None, "purchases": [], "production": [], "shares": [],
                "shadow_prices": {"demand": [], "capacity": [], "limits": []}}
    if result.diagnosis is not None:
        out["diagnosis"] = result.diagnosis.as_dict()
    return _with_whole_costs_left(out, result)


def _with_whole_costs_left(out: dict, result: Result) -> dict:
    """``out`` with the ``whole_costs`` key where some binding limit was not measured."""
    unmeasured = whole_costs_left(result)
    return {**out, "whole_costs": unmeasured} if unmeasured else out


# -- a plan over time (SPEC §3a): the one-period tables per period, and the path -----

def _node_label(result: Result, period: str, branch: str) -> dict:
    """The period, and the branch where the dataset has disruptions (SPEC §5)."""
    return {"period": period, **({"branch": branch} if result.disrupted else {})}


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


def _path_rows(f: _Frames, by_node: dict[Node, dict[str, list[dict]]]) -> list[dict]:
    """The path at a glance, one row per period: cost (USD M a year, and discounted with
    holding and expansions), China's share of imports by value per material (%), each
    stock's cover (days of that period's demand)."""
    result, rows = f.result, []
    for key, p in result.periods.iterrows():
        by_material = [r for r in by_node[key]["import_shares"] if r["level"] == "material"]
        china = {r["name"]: r["share_by_value"] for r in by_material if r["country"] == "CN"}
        row = {**_node_label(result, *key), "zone": f.nodes[key].zone.value,
               "USD M/yr": _clean(p["cost_usd_per_yr"] / 1e6, 2),
               "discounted USD M": _clean(p["discounted_cost_usd"] / 1e6, 2)}
        row |= {f"CN % {m}": _clean(100 * china.get(m, 0.0), 1)
                for m in dict.fromkeys(r["name"] for r in by_material)}
        row |= {f"days {s.key}": _clean(s.days_of_cover, 1) for s in f.stocks[key]
                if not math.isnan(s.days_of_cover)}
        rows.append(row)
    return rows


def path_totals(result: Result) -> dict[str, float]:
    """``totals`` over the whole path (``_path_totals``)."""
    return _path_report(result)[1]


def _path_totals(result: Result, by_node: dict[Node, dict[str, list[dict]]]
                 ) -> dict[str, float]:
    """``totals`` over the whole path, discounted like the objective: each period's duty,
    levy and shortage cost × years × discount factor; the cost of joining (every period's
    zone status flipped) where all periods share one status."""
    weights = (result.periods["weight"] * result.periods["probability"]).to_dict()
    per = {key: totals(result.at(*key), tables["cost_by_stage"])
           for key, tables in by_node.items()}
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
    return [{"stage": s.key[2], "period": s.key[0], "branch": s.key[1],
             "level_t": _clean(s.level_t), "put_t": _clean(s.put_t),
             "release_t": _clean(s.release_t),
             "days_of_cover": None if math.isnan(s.days_of_cover) else _clean(s.days_of_cover, 2),
             "floor_t": _clean(s.floor_t), "capacity_t": _capacity(s.capacity_t),
             "holding_usd": _clean(s.holding_usd, 2)}
            for s in _records(result.stocks, result.stocks.index.tolist())]


def stock_prices(result: Result) -> list[dict]:
    """SPEC §5 ``shadow_prices.stocks``, in each period's own money."""
    return [{"stage": s.key[2], "period": s.key[0], "branch": s.key[1],
             "initial_usd_per_t": (None if math.isnan(s.initial_usd_per_t)
                                   else _clean(s.initial_usd_per_t)),
             "floor_usd_per_t": _clean(s.floor_usd_per_t),
             "capacity_usd_per_t": _clean(s.capacity_usd_per_t)}
            for s in _records(result.stocks, result.stocks.index.tolist())]


def expansion_rows(result: Result) -> list[dict]:
    """SPEC §5 ``expansions``: t/yr added by each decision, and from when it is usable."""
    return [{"expansion": e.key[2], "target": e.target, "period": e.key[0],
             "branch": e.key[1],
             "added_t_yr": _clean(e.added_t_yr),
             "usable_from": e.usable_from if isinstance(e.usable_from, str) else None,
             "cost_usd": _clean(e.cost_usd, 2)}
            for e in _records(result.expansions, result.expansions.index.tolist())]


def expansion_prices(result: Result) -> list[dict]:
    """Per decision: how far its cost per t/yr must fall before the plan adds capacity
    then (0 where it does), the cost at which it breaks even, and the value of one more
    t/yr of its maximum (present value; 0 without a maximum or where it does not bind)."""
    return [{"expansion": e.key[2], "period": e.key[0], "branch": e.key[1],
             "usd_per_t_yr": _clean(e.usd_per_t_yr, 2),
             "reduced_cost_usd_per_t_yr": _clean(e.reduced_cost_usd_per_t_yr),
             "break_even_usd_per_t_yr": _clean(e.break_even_usd_per_t_yr),
             "max_usd_per_t_yr": _clean(e.max_usd_per_t_yr)}
            for e in _records(result.expansions, result.expansions.index.tolist())]


def _path_summary(result: Result, rows: list[dict], whole: dict[str, float]) -> list[dict]:
    """``summary`` of a plan over time: the objective, the periods, the path's totals."""
    return [*rows, {"key": "objective_usd", "value": _clean(result.objective_usd, 2)},
            {"key": "periods", "value": ", ".join(dict.fromkeys(
                period for period, _ in result.nodes()))},
            *({"key": key, "value": value} for key, value in whole.items()
              if key != "total_usd"), *_whole_costs_row(result)]


def path_tables(result: Result) -> dict[str, list[dict]]:
    """The report tables of a plan over time (CSV files / Excel sheets)."""
    return _path_report(result)[0]


def _path_report(result: Result) -> tuple[dict[str, list[dict]], dict[str, float]]:
    """The report tables of a plan over time and its ``path_totals``, from one reading
    of its frames: every node's one-period tables, each row tagged with its period (and
    branch), then the path's own tables."""
    f = _Frames.path(result)
    by_node = {node: _node_tables(f, node) for node in f.nodes}
    whole = _path_totals(result, by_node)
    tables = {"summary": _path_summary(result, summary_head(result), whole),
              "path": _path_rows(f, by_node), "periods": period_rows(result)}
    for node, named in by_node.items():
        label = _node_label(result, *node)
        for name, rows in named.items():
            tables.setdefault(name, []).extend({**label, **row} for row in rows)
    tables |= {"stocks": stock_rows(result), "stock_prices": stock_prices(result),
               "expansions": expansion_rows(result),
               "expansion_prices": expansion_prices(result)}
    return tables, whole


def path_json(result: Result) -> dict:
    """SPEC §5's JSON object for a plan over time: every row of the one-period keys
    carries its ``period``; ``periods``, ``stocks``, ``expansions`` and the stock and
    expansion prices describe the path."""
    tables, whole = _path_report(result)
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
