"""The labelled result of one solve: every quantity a pandas frame with named levels.

This is the one place that reads Pyomo components and LP rows back into planner
terms. Reports, compare, sweeps, the API and every output format read only the
``Result`` built here, never the model or the solver.

Every frame's index starts with the levels ``period`` and ``branch`` (one value,
``base``, for a dataset with neither), then the frame's own key:

=================  ===========================  =====================================
frame              index                        columns
=================  ===========================  =====================================
``offers``         period, branch, offer        stage, supplier, country, capacity_t,
                                                min_t, members_only, closed (members
                                                only, buyer an observer), tonnes,
                                                landed components
                                                (USD/t), reduced_cost_usd_per_t,
                                                tonnes_unconstrained
``processes``      period, branch, process      from_stage, to_stage, yield_t_per_t,
                                                cost_usd_per_t,
                                                capacity_t, tonnes, reduced cost,
                                                tonnes_unconstrained
``flows``          period, branch, process,     role (input, output), main, t_per_t
                   stage                        (per t of main output), tonnes,
                                                value_usd_per_t (value-basis weight)
``stages``         period, branch, stage        order, material, demand_t,
                                                shortage_usd_per_t, shortage_t
``rates``          period, branch, kind, key    dual, rate_down, rate_up, valid_from,
                                                valid_to, unique (rows in their own
                                                units: t of demand, capacity, minimum)
``limits``         period, branch, limit_row    group, stage, bound, share_limit,
                                                basis, scope, origin, total, group_value,
                                                binding, rates and ranges of σ, whole
                                                cost, soft-limit fields
``embedded``       period, branch, group,       share of the stage by upstream origin
                   stage, basis                 (every origin country and every group
                                                with an embedded limit), as the plan's
                                                chain of custody splits it
=================  ===========================  =====================================

``kind`` in ``rates`` is ``balance`` (key: stage), ``capacity`` / ``minimum`` (key:
offer) or ``process_capacity`` (key: process).

Over time (SPEC §3a) the frames hold a row per period (``period`` is the period id),
and three more frames describe the path: ``periods`` (index period: order, years,
discount_factor, weight, cost_usd_per_yr, cost_usd, discounted_cost_usd), ``stocks``
(index period, branch, stage: level_t, put_t, release_t, demand_t, days_of_cover,
floor_t, capacity_t, initial_usd_per_t, floor_usd_per_t, capacity_usd_per_t) and
``expansions`` (index period, branch, expansion: target, added_t_yr, usable_from,
usd_per_t_yr, reduced_cost_usd_per_t_yr, break_even_usd_per_t_yr, max_t_yr,
max_usd_per_t_yr). Every price is in its period's own money (SPEC §4): a dual divided
by years × discount factor (USD per t of demand in that period), an expansion's by the
discount factor of the period it is decided in (a one-off cost per t/yr).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.models.data import Basis, Dataset
from planner.models.groups import closed_offers
from planner.solving import path

if TYPE_CHECKING:  # the engine pulls in Pyomo; this module is read without it
    from planner.solving.diagnosis import Diagnosis
    from planner.solving.engine import PlanResult

BASE = "base"  # the one period and the one branch of a dataset without either
LEVELS = ("period", "branch")
NO_RANGE = (math.nan, math.nan)


@dataclass
class Result:
    """One solve, labelled. Only an optimal result has frames with rows."""

    status: str                      # SPEC §5: optimal, infeasible or error
    message: str
    data: Dataset
    objective_usd: float = math.nan  # landed cost (purchases and processing)
    penalty_usd: float = 0.0         # soft-limit penalties in the objective, not paid
    has_soft_limits: bool = False
    other_zone_objective_usd: float | None = None  # optimum under the other zone status
    whole_costs_measured: tuple[int, int] = (0, 0)  # (whole costs measured, binding limits)
    residuals: dict[str, float] = field(default_factory=dict)
    diagnosis: Diagnosis | None = None
    offers: pd.DataFrame = field(default_factory=pd.DataFrame)
    processes: pd.DataFrame = field(default_factory=pd.DataFrame)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    rates: pd.DataFrame = field(default_factory=pd.DataFrame)
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    embedded: pd.DataFrame = field(default_factory=pd.DataFrame)
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    stocks: pd.DataFrame = field(default_factory=pd.DataFrame)
    expansions: pd.DataFrame = field(default_factory=pd.DataFrame)
    period_data: dict[tuple[str, str], Dataset] = field(default_factory=dict)  # per node
    branches: pd.DataFrame = field(default_factory=pd.DataFrame)  # branch: probability, cost
    expected_cost_usd: float = math.nan
    cvar_usd: float = math.nan
    _views: dict[tuple[str, str], Result] = field(default_factory=dict, repr=False,
                                                  compare=False)
    _split: dict[str, tuple[pd.DataFrame, dict]] = field(default_factory=dict, repr=False,
                                                         compare=False)

    @property
    def over_time(self) -> bool:
        """Whether the dataset has a periods table (report rows then carry the period)."""
        return bool(self.data.periods)

    @property
    def disrupted(self) -> bool:
        """Whether the dataset has disruptions (report rows then carry the branch)."""
        return bool(self.data.disruptions)

    def nodes(self) -> list[tuple[str, str]]:
        """(period, branch) of every node of a plan over time, in order."""
        return list(self.periods.index)

    def at(self, period: str, branch: str = BASE) -> Result:
        """The result seen from one node: its frames' rows of ``period`` and ``branch``,
        relabelled as the base period and branch, and that node's dataset (so one-period
        reports read it). Kept once made: reports ask for each node's view table by table."""
        key = (period, branch)
        if key not in self._views:
            self._views[key] = self._view(key)
        return self._views[key]

    def _view(self, key: tuple[str, str]) -> Result:
        frames = {name: self._rows_at(name, key) for name in PERIOD_FRAMES}
        yearly = (float(self.periods.loc[key, "cost_usd_per_yr"]) if len(self.periods)
                  else self.objective_usd)
        return replace(self, data=self.period_data.get(key, self.data), **frames,
                       objective_usd=yearly, penalty_usd=0.0, other_zone_objective_usd=None,
                       _views={}, _split={})

    def _rows_at(self, name: str, key: tuple[str, str]) -> pd.DataFrame:
        """The rows of frame ``name`` at node ``key``, relabelled as the base period and
        branch; each frame is split by node once, not searched once per node."""
        frame = getattr(self, name)
        if frame.empty:
            return frame
        if name not in self._split:
            self._split[name] = _split_by_node(frame)
        relabelled, rows = self._split[name]
        return relabelled.iloc[rows.get(key, [])]

    @property
    def optimal(self) -> bool:
        """Whether a verified optimal plan is available."""
        return self.status == "optimal"

    @property
    def objective_with_penalties_usd(self) -> float:
        """What the LP minimised: landed cost plus soft-limit penalties."""
        return self.objective_usd + self.penalty_usd

    def rate(self, kind: str, key: str) -> pd.Series | None:
        """The rate row of one constraint (``balance`` of a stage, ``capacity`` of an
        offer, …) in the base period and branch; None where the model has no such row."""
        try:
            return self.rates.loc[(BASE, BASE, kind, key)]
        except KeyError:
            return None


PERIOD_FRAMES = ("offers", "processes", "flows", "stages", "rates", "limits", "embedded",
                 "stocks", "expansions")


def labelled(plan: PlanResult) -> Result:
    """Read a solved ``PlanResult`` into labelled frames (copies: the model may be
    reused and re-solved right after)."""
    result = Result(_json_status(plan), plan.message, plan.data, diagnosis=plan.diagnosis,
                    residuals={k: float(v) for k, v in plan.residuals.items()})
    if not plan.optimal:
        return result
    views = plan.views
    result.has_soft_limits = any(len(view.built.model.SOFT_ROWS) for view in views)
    result.penalty_usd = float(plan.penalty_usd)
    result.objective_usd = float(plan.cost_usd)
    result.other_zone_objective_usd = plan.other_zone_objective
    result.whole_costs_measured = plan.whole_costs_measured
    result.period_data = {(view.period, view.branch): view.data for view in views}
    for name, (read, key, columns) in READERS.items():
        setattr(result, name, _frame(views, read, key, columns))
    if plan.linked:
        path.read_links(plan, result)
    return result


def _split_by_node(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``frame`` with every row relabelled as the base period and branch, and each
    node's (period, branch) rows in it, in the frame's order: a slice where they are
    consecutive (as ``labelled`` writes them; a view, not a copy), else their positions."""
    index = frame.index
    at_base = np.zeros(len(frame), dtype=np.int8)
    relabelled = frame.set_axis(pd.MultiIndex(
        levels=[[BASE], [BASE], *index.levels[2:]], codes=[at_base, at_base, *index.codes[2:]],
        names=index.names, verify_integrity=False))
    nodes = frame.groupby(level=list(LEVELS), sort=False).indices
    return relabelled, {key: _run(rows) for key, rows in nodes.items()}


def _run(rows: np.ndarray) -> slice | np.ndarray:
    """Ascending row positions as a slice where they are consecutive."""
    return slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] + 1 == len(rows) else rows


def _json_status(plan: PlanResult) -> str:
    if plan.optimal:
        return "optimal"
    return "infeasible" if plan.diagnosis is not None else "error"


def _frame(views: list[PlanResult], read, key: list[str], columns: list[str]
           ) -> pd.DataFrame:
    """Every view's records (``read``), node after node → one frame indexed by
    (period, branch, *key), built once rather than once per node and concatenated."""
    records, periods, branches = [], [], []
    for view in views:
        rows = read(view)
        records += rows
        periods += [view.period] * len(rows)
        branches += [view.branch] * len(rows)
    frame = pd.DataFrame(records, columns=[*key, *columns])
    frame.insert(0, "branch", pd.array(branches, dtype="str"))
    frame.insert(0, "period", pd.array(periods, dtype="str"))
    return frame.set_index([*LEVELS, *key])


OFFER_COLUMNS = [
    "stage", "supplier", "country", "capacity_t", "min_t", "members_only", "closed", "tonnes",
    "landed_usd_per_t", "price_usd_per_t", "freight_usd_per_t", "duty_rate", "duty_usd_per_t",
    "levy_usd_per_t", "reduced_cost_usd_per_t", "tonnes_unconstrained"]


def _offers(plan: PlanResult) -> list[dict]:
    landed = plan.built.landed
    closed = closed_offers(plan.data)
    before = plan.unconstrained[0] if plan.unconstrained else plan.bought
    records = []
    for o, tonnes, reduced, free in zip(plan.data.offers, plan.bought,
                                        plan.offer_reduced_costs, before, strict=True):
        cost = landed[o.offer]
        records.append({
            "offer": o.offer, "stage": o.stage, "supplier": o.supplier, "country": o.country,
            "capacity_t": math.nan if o.capacity_t is None else o.capacity_t,
            "min_t": o.min_t, "members_only": o.members_only, "closed": o.offer in closed,
            "tonnes": float(tonnes),
            "landed_usd_per_t": cost.total, "price_usd_per_t": cost.price,
            "freight_usd_per_t": cost.freight, "duty_rate": cost.duty_rate,
            "duty_usd_per_t": cost.duty, "levy_usd_per_t": cost.levy,
            "reduced_cost_usd_per_t": float(reduced) / plan.price_scale,
            "tonnes_unconstrained": float(free)})
    return records


PROCESS_COLUMNS = ["from_stage", "to_stage", "yield_t_per_t", "cost_usd_per_t", "capacity_t",
                   "tonnes", "reduced_cost_usd_per_t", "tonnes_unconstrained"]


def _processes(plan: PlanResult) -> list[dict]:
    before = plan.unconstrained[1] if plan.unconstrained else plan.made
    return [{"process": p.process, "from_stage": p.from_stage, "to_stage": p.to_stage,
             "yield_t_per_t": p.yield_t_per_t, "cost_usd_per_t": p.cost_usd_per_t,
             "capacity_t": math.nan if p.capacity_t is None else p.capacity_t,
             "tonnes": float(t), "reduced_cost_usd_per_t": float(r) / plan.price_scale,
             "tonnes_unconstrained": float(f)}
            for p, t, r, f in zip(plan.data.processes, plan.made,
                                  plan.process_reduced_costs, before, strict=True)]


RATE_COLUMNS = ["dual", "rate_down", "rate_up", "valid_from", "valid_to", "unique"]


def _rates(plan: PlanResult) -> list[dict]:
    m = plan.built.model
    records = []
    for kind, component in (("balance", m.balance), ("capacity", m.capacity),
                            ("minimum", m.minimum), ("process_capacity", m.process_capacity)):
        for key, con in component.items():
            rate = plan.row_rates.get(plan.lp_row(con))
            if rate is None:
                continue
            records.append({"kind": kind, "key": key, "dual": rate.dual / plan.price_scale,
                            "rate_down": rate.rate_down / plan.price_scale,
                            "rate_up": rate.rate_up / plan.price_scale,
                            "valid_from": rate.valid_from, "valid_to": rate.valid_to,
                            "unique": rate.unique})
    return records


LIMIT_COLUMNS = [
    "group", "stage", "bound", "share_limit", "basis", "scope", "origin", "total",
    "group_value", "binding", "unique", "rate_down", "rate_up", "valid_from", "valid_to",
    "range_down_from", "range_down_to", "range_up_from", "range_up_to", "whole_cost_usd",
    "max_cost_usd_per_pp", "excess", "penalty_per_unit"]


def _limits(plan: PlanResult) -> list[dict]:
    """Each share-limit row: the share value σ, the plan's group and stage totals, and
    d(cost)/dσ with where it holds (``binding`` false: slack, no rate measured)."""
    m = plan.built.model
    records = []
    for i, row in enumerate(plan.built.share_rows):
        total = plan.share_total(i)
        share_range = plan.share_ranges.get(i)
        down = share_range.range_down if share_range and share_range.range_down else NO_RANGE
        up = share_range.range_up if share_range and share_range.range_up else NO_RANGE
        soft = row.penalty_usd_per_pp is not None
        records.append({
            "limit_row": i, "group": row.group, "stage": row.stage, "bound": row.bound.value,
            "share_limit": row.share, "basis": row.limit.basis.value,
            "scope": row.limit.scope.value, "origin": row.limit.origin, "total": total,
            "group_value": plan.share_group(i),
            "binding": share_range is not None,
            "unique": share_range.unique if share_range else True,
            "rate_down": share_range.rate_down / plan.price_scale if share_range else 0.0,
            "rate_up": share_range.rate_up / plan.price_scale if share_range else 0.0,
            "valid_from": share_range.valid_from if share_range else math.nan,
            "valid_to": share_range.valid_to if share_range else math.nan,
            "range_down_from": down[0], "range_down_to": down[1],
            "range_up_from": up[0], "range_up_to": up[1],
            "whole_cost_usd": (0.0 if share_range is None      # objective units: over
                               else _none_nan(plan.rule_costs.get(i))),  # periods, present value
            "max_cost_usd_per_pp": row.penalty_usd_per_pp if soft else math.nan,
            "excess": plan.value(m.excess[i]) if soft else 0.0,
            "penalty_per_unit": m.penalty[i] if soft else 0.0})
    return records


def _none_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


FLOW_COLUMNS = ["role", "main", "t_per_t", "tonnes", "value_usd_per_t"]


def _flows(plan: PlanResult) -> list[dict]:
    """Every process's inputs and outputs (main and ``process_flows``): t per t of main
    output, tonnes in the plan, and per t of output the value weight of value-basis
    shares (NaN for an input)."""
    idx = plan.built.index
    made = dict(zip((p.process for p in plan.data.processes), plan.made.tolist(), strict=True))
    mains = {p.process: (p.from_stage, p.to_stage) for p in plan.data.processes}
    records = []
    for role, side in (("input", idx.flows.inputs), ("output", idx.flows.outputs)):
        for process, stages in side.items():
            for stage, coef in stages.items():
                records.append({
                    "process": process, "stage": stage, "role": role,
                    "main": stage == mains[process][0 if role == "input" else 1],
                    "t_per_t": coef, "tonnes": coef * made[process],
                    "value_usd_per_t": idx.output_weight.get(
                        (Basis.VALUE.value, process, stage), math.nan)})
    return records


STAGE_COLUMNS = ["order", "material", "demand_t", "shortage_usd_per_t", "shortage_t"]


def _stages(plan: PlanResult) -> list[dict]:
    m = plan.built.model
    return [{"stage": s.stage, "order": s.order, "material": s.material,
             "demand_t": s.demand_t,
             "shortage_usd_per_t": (math.nan if s.shortage_usd_per_t is None
                                    else s.shortage_usd_per_t),
             "shortage_t": plan.value(m.short[s.stage]) if s.stage in m.SHORT_STAGES
             else 0.0}
            for s in plan.data.stages]


def _embedded(plan: PlanResult) -> list[dict]:
    """Share of each stage's supply by upstream origin, in the plan's own chain of
    custody (the split by origin country exists where a limit has embedded scope): every
    origin country, and every group with an embedded limit, both bases.

    A[c,s] = Σ φ_c(o)·w·x[o] + Σ_p w_{p,s}·out[p,s]/I_p·Σ_s' v[c,p,s'], a group's the
    sum over its origins, over T[s] = Σ w·x + Σ_p w_{p,s}·out[p,s]·z[p]; φ and w from
    the model's own index.
    """
    m, idx = plan.built.model, plan.built.index
    if not idx.origins_at:
        return []
    draws = {key: plan.value(var) for key, var in m.origin_draw.items()}
    made = dict(zip((p.process for p in plan.data.processes), plan.made.tolist(), strict=True))
    bought = dict(zip((o.offer for o in plan.data.offers), plan.bought.tolist(), strict=True))
    groups: dict[tuple[str, str], list[str]] = {
        (c, s): [c] for s, origins in idx.origins_at.items() for c in origins}
    groups |= idx.group_origins
    records = []
    for (group, stage), origins in sorted(groups.items()):
        for basis in (Basis.VOLUME.value, Basis.VALUE.value):
            part = sum(phi * idx.weight[(basis, o)] * bought[o] for c in origins
                       for o, phi in idx.origin_offers.get((c, stage), []))
            part += sum(idx.output_weight[(basis, p, stage)] * idx.flows.outputs[p][stage]
                        / idx.flows.input_total(p) * draws.get((c, p, source), 0.0)
                        for c in origins for p in idx.processes_into.get(stage, [])
                        for source in idx.flows.inputs[p])
            total = (sum(idx.weight[(basis, o)] * bought[o] for o in idx.offers_at.get(stage, []))
                     + sum(idx.output_weight[(basis, p, stage)] * idx.flows.outputs[p][stage]
                           * made[p] for p in idx.processes_into.get(stage, [])))
            records.append({"group": group, "stage": stage, "basis": basis,
                            "share": part / total if total > 0 else 0.0})
    return records


READERS = {   # frame: (reader of one view, its own key, its columns)
    "offers": (_offers, ["offer"], OFFER_COLUMNS),
    "processes": (_processes, ["process"], PROCESS_COLUMNS),
    "flows": (_flows, ["process", "stage"], FLOW_COLUMNS),
    "stages": (_stages, ["stage"], STAGE_COLUMNS),
    "rates": (_rates, ["kind", "key"], RATE_COLUMNS),
    "limits": (_limits, ["limit_row"], LIMIT_COLUMNS),
    "embedded": (_embedded, ["group", "stage", "basis"], ["share"])}


def base(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the base period and branch, indexed by the frame's own key."""
    if frame.empty:
        return frame.reset_index(list(LEVELS), drop=True)
    if all(len(level) == 1 and level[0] == BASE for level in frame.index.levels[:2]):
        return frame.droplevel(list(LEVELS))   # one node's rows (a view's): all of them
    return frame.xs((BASE, BASE), level=list(LEVELS))
