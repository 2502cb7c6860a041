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

from .data import ALL_STAGES, EACH, NON_ZONE, ZONE, Bound, Country, Dataset, Limit, Scope

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


def supplying_countries(data: Dataset) -> dict[str, list[str]]:
    """Countries that can supply each stage: its offers' countries, and the buyer
    where a domestic process outputs into it (sorted, for a stable model)."""
    found: dict[str, set[str]] = {s.stage: set() for s in data.stages}
    for offer in data.offers:
        found[offer.stage].add(offer.country)
    for process in data.processes:
        found[process.to_stage].add(data.buyer)
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
    """Countries whose material can reach each stage: the origins of its offers, and
    everything that can reach the input stage of a domestic process into it (sorted)."""
    mix = origin_mix(data)
    found: dict[str, set[str]] = {s.stage: set() for s in data.stages}
    for offer in data.offers:
        found[offer.stage].update(mix[offer.offer])
    for stage in process_order(data):
        for process in data.processes:
            if process.to_stage == stage:
                found[stage] |= found[process.from_stage]
    return {stage: sorted(codes) for stage, codes in found.items()}


def process_order(data: Dataset) -> list[str]:
    """Stages ordered so every process's input stage comes before its output stage
    (validation guarantees the processes form no cycle)."""
    graph = TopologicalSorter({s.stage: set() for s in data.stages})
    for process in data.processes:
        graph.add(process.to_stage, process.from_stage)
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
