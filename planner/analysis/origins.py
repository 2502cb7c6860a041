"""Upstream origin of a plan's supply (embedded scope, SPEC §3).

Two readings of where material in a stage comes from:

- **segregated** (the model's, wherever a limit has embedded scope): the plan
  chooses which origin country's material each domestic process draws from each
  input stage, within what arrives there (``origin_draw[c, p, s]``), and its
  outputs carry the mass-weighted mix of its inputs; read back from the LP for
  every origin country and every group with an embedded limit.
- **mixed** (a plan without embedded limits, and groups the split does not
  cover): each stage is one pool, so a process's outputs carry the origin mix of
  the stages it draws from. Computed from the plan alone, stage by stage downstream.

Imports carry their ``content`` mix (or their own country) in both readings.
"""

from __future__ import annotations

from collections import defaultdict

from planner.models.data import Basis, Dataset
from planner.models.groups import (
    in_group,
    is_country_code,
    origin_mix,
    process_flows,
    process_order,
)
from planner.solving.result import Result, base

SEGREGATED = "segregated"
MIXED = "mixed"


def mixed_origin_tonnes(data: Dataset, bought, made) -> dict[str, dict[str, float]]:
    """Tonnes of each origin country in each stage's supply, pools fully mixed: a
    process's outputs (main and co-products) carry the mass-weighted origin mix of all
    its inputs, each input drawn from its stage's pool."""
    mix, flows = origin_mix(data), process_flows(data)
    tonnes: dict[str, dict[str, float]] = {s.stage: defaultdict(float) for s in data.stages}
    for offer, t in zip(data.offers, bought, strict=True):
        for country, share in mix[offer.offer].items():
            tonnes[offer.stage][country] += t * share
    made_by = dict(zip((p.process for p in data.processes), made, strict=True))
    for stage in process_order(data):
        for process, outputs in flows.outputs.items():
            if stage not in outputs or made_by[process] <= 0:
                continue
            carried: dict[str, float] = defaultdict(float)   # origin t per t of input
            for source, coef in flows.inputs[process].items():
                pool = tonnes[source]
                total = sum(pool.values())
                for country, t in pool.items():
                    if total > 0:
                        carried[country] += coef * t / total
            share_of_input = outputs[stage] * made_by[process] / flows.input_total(process)
            for country, t in carried.items():
                tonnes[stage][country] += share_of_input * t
    return tonnes


def has_origin_split(result: Result) -> bool:
    """Whether the model split the plan's flows by origin country (a limit has embedded
    scope): then one split serves every group."""
    return len(base(result.embedded)) > 0


def segregated_share(result: Result, group: str, stage: str, basis: Basis) -> float:
    """Share of ``stage``'s supply of ``group`` origin in the plan's own chain of custody
    (``Result.embedded``): read directly for an origin country or a limited group, else
    the sum over the group's origin countries; 0 for an origin that cannot reach it."""
    embedded = base(result.embedded)
    if (group, stage, basis.value) in embedded.index:
        return float(embedded.at[(group, stage, basis.value), "share"])
    countries = {c.country: c for c in result.data.countries}
    at = ((embedded.index.get_level_values("stage") == stage)
          & (embedded.index.get_level_values("basis") == basis.value))
    origins = embedded.index.get_level_values("group")[at].tolist()
    return float(sum(share for origin, share in zip(origins, embedded["share"][at].tolist(),
                                                    strict=True)
                     if is_country_code(origin) and in_group(group, origin, countries)))


def origin_shares(result: Result, direct: dict[tuple[str, str], float]) -> list[dict]:
    """Direct and embedded volume shares side by side, per stage, for every country
    that sells into or whose material reaches the stage and every limited group.

    ``direct`` maps (group, stage) to the direct volume share, for the sellers and
    limited groups of each stage (``report.shares``).
    """
    data = result.data
    countries = {c.country: c for c in data.countries}
    tonnes = mixed_origin_tonnes(data, base(result.offers)["tonnes"].to_numpy(),
                                 base(result.processes)["tonnes"].to_numpy())
    split = has_origin_split(result)
    rows = []
    for stage in sorted(data.stages, key=lambda s: s.order):
        pool = tonnes[stage.stage]
        total = sum(pool.values())
        origins = sorted(c for c, t in pool.items() if t > 1e-9)
        reported = [g for (g, s) in direct if s == stage.stage]  # sellers, limit groups
        for group in dict.fromkeys([*reported, *origins]):
            if split:
                embedded, custody = segregated_share(result, group, stage.stage,
                                                     Basis.VOLUME), SEGREGATED
            else:
                part = sum(t for c, t in pool.items() if in_group(group, c, countries))
                embedded, custody = (part / total if total > 0 else 0.0), MIXED
            rows.append({"group": group, "stage": stage.stage,
                         "direct_share": direct.get((group, stage.stage), 0.0),
                         "embedded_share": embedded, "custody": custody})
    return rows
