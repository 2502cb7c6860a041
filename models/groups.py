"""Group membership and the expansion of ``limits`` rows into share rows.

A group is a country code (``CN``), a tag from ``countries.groups``
(``feoc``), ``zone`` (all zone members), ``non-zone``, or ``each`` (the limit
applies to every supplying country separately). Membership always comes from
the ``countries`` table; an unlisted country is in no tag and not a zone member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter

from .data import (
    ALL_STAGES,
    EACH,
    NON_ZONE,
    ZONE,
    Bound,
    Country,
    Dataset,
    Limit,
    Role,
    Scope,
    ZoneStatus,
)

COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def is_country_code(text: str) -> bool:
    """True for an ISO 3166 alpha-2 shaped code: two capital letters."""
    return COUNTRY_CODE.fullmatch(text) is not None


def in_group(group: str, country: str, countries: Mapping[str, Country]) -> bool:
    """Whether ``country`` belongs to ``group`` (a code, tag, ``zone`` or ``non-zone``)."""
    record = countries.get(country)
    if group == ZONE:
        return record is not None and record.zone_member
    if group == NON_ZONE:
        return record is None or not record.zone_member
    if is_country_code(group):
        return country == group
    return record is not None and group in record.groups


@dataclass(frozen=True)
class ShareRow:
    """One concrete share-limit row: ``group``'s share of ``stage``'s supply on one bound."""

    limit: Limit
    group: str
    stage: str
    bound: Bound
    share: float

    @property
    def aggregate(self) -> tuple[str, str, str, str]:
        """Key of the group-supply aggregate this row reads: (group, stage, basis, scope)."""
        return (self.group, self.stage, self.limit.basis.value, self.limit.scope.value)

    @property
    def embedded(self) -> bool:
        """Whether the row counts upstream origin rather than the seller's country."""
        return self.limit.scope is Scope.EMBEDDED

    @property
    def penalty_usd_per_pp(self) -> float | None:
        """Willingness to pay per percentage point beyond the share (None: hard)."""
        return self.limit.max_cost_usd_per_pp


@dataclass(frozen=True)
class ProcessFlows:
    """Every process's stages in and out, t per t of its main output (SPEC §3).

    ``inputs[p][s]`` is in[p,s]: 1/yield at ``from_stage`` plus ``process_flows``
    inputs; ``outputs[p][s]`` is out[p,s]: 1 at ``to_stage`` plus co-products.
    """

    inputs: dict[str, dict[str, float]]
    outputs: dict[str, dict[str, float]]

    def input_total(self, process: str) -> float:
        """I_p = Σ_s in[p,s]: t of input (all stages) per t of main output."""
        return sum(self.inputs[process].values())


def process_flows(data: Dataset) -> ProcessFlows:
    """The inputs and outputs of every process, main and extra."""
    inputs = {p.process: {p.from_stage: 1.0 / p.yield_t_per_t} for p in data.processes}
    outputs = {p.process: {p.to_stage: 1.0} for p in data.processes}
    for flow in data.process_flows:
        side = inputs if flow.role is Role.INPUT else outputs
        side[flow.process][flow.stage] = flow.t_per_t
    return ProcessFlows(inputs, outputs)


def closed_offers(data: Dataset) -> set[str]:
    """Members-only offers while the buyer is an observer: fixed at x = 0 (SPEC §3)."""
    if data.zone is ZoneStatus.JOINED:
        return set()
    return {o.offer for o in data.offers if o.members_only}


def supplying_countries(data: Dataset) -> dict[str, list[str]]:
    """Countries that can supply each stage: its offers' countries, and the buyer
    where a domestic process outputs into it, main output or co-product (sorted, for a
    stable model)."""
    found: dict[str, set[str]] = {s.stage: set() for s in data.stages}
    for offer in data.offers:
        found[offer.stage].add(offer.country)
    for outputs in process_flows(data).outputs.values():
        for stage in outputs:
            found[stage].add(data.buyer)
    return {stage: sorted(codes) for stage, codes in found.items()}


def origin_mix(data: Dataset) -> dict[str, dict[str, float]]:
    """Upstream origin of each offer, origin country -> share (``content`` rows, or
    all from the offer's own country when it has none)."""
    declared: dict[str, dict[str, float]] = {}
    for row in data.content:
        shares = declared.setdefault(row.offer, {})
        if row.share > 0:
            shares[row.origin_country] = row.share
    return {o.offer: declared.get(o.offer, {o.country: 1.0}) for o in data.offers}


def origin_countries(data: Dataset) -> dict[str, list[str]]:
    """Countries whose material can reach each stage: the origins of its offers and of
    its stock's initial holding, and everything that can reach any input stage of a
    domestic process that outputs into it, main output or co-product (sorted)."""
    mix, flows = origin_mix(data), process_flows(data)
    found: dict[str, set[str]] = {s.stage: set() for s in data.stages}
    for offer in data.offers:
        found[offer.stage].update(mix[offer.offer])
    for stock in data.stocks:
        if stock.initial_t > 0:
            found[stock.stage].add(stock.initial_origin)
    for stage in process_order(data):
        for process, outputs in flows.outputs.items():
            if stage in outputs:
                for source in flows.inputs[process]:
                    found[stage] |= found[source]
    return {stage: sorted(codes) for stage, codes in found.items()}


def process_order(data: Dataset) -> list[str]:
    """Stages ordered so every input stage of a process comes before each of its output
    stages (validation guarantees the processes form no cycle)."""
    flows = process_flows(data)
    graph = TopologicalSorter({s.stage: set() for s in data.stages})
    for process, outputs in flows.outputs.items():
        for stage in outputs:
            graph.add(stage, *flows.inputs[process])
    return list(graph.static_order())


def share_rows(data: Dataset) -> list[ShareRow]:
    """Expand ``limits`` into one row per (group, stage, bound).

    Stage ``*`` becomes every stage; group ``each`` becomes every country that can
    supply the stage (direct scope) or whose material can reach it (embedded
    scope). A limit with neither bound yields no row.
    """
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    suppliers = supplying_countries(data)
    origins = origin_countries(data) if any(
        limit.scope is Scope.EMBEDDED for limit in data.limits) else {}
    rows: list[ShareRow] = []
    for limit in data.limits:
        countries = origins if limit.scope is Scope.EMBEDDED else suppliers
        for stage in stages if limit.stage == ALL_STAGES else [limit.stage]:
            groups: Iterable[str] = countries[stage] if limit.group == EACH else [limit.group]
            for group in groups:
                for bound, share in ((Bound.MAX, limit.max_share), (Bound.MIN, limit.min_share)):
                    if share is not None:
                        rows.append(ShareRow(limit, group, stage, bound, share))
    return rows
