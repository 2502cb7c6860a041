"""Upstream origin of a plan's supply (embedded scope, SPEC §3).

Two readings of where material in a stage comes from:

- **segregated** (the model's, for every group with an embedded limit): the plan
  chooses which origin's material each domestic process draws, within what
  arrives in the stage (``origin_input[g, p]``); read back from the LP.
- **mixed** (for every other country and group): each stage is one pool, so a
  process's output carries the origin mix of the stage it draws from. Computed
  from the plan alone, stage by stage downstream.

Imports carry their ``content`` mix (or their own country) in both readings.
"""

from __future__ import annotations

from collections import defaultdict

from planner.models.data import Basis, Dataset, Scope
from planner.models.groups import in_group, origin_mix, process_order
from planner.solving.result import Result, base

SEGREGATED = "segregated"
MIXED = "mixed"


def mixed_origin_tonnes(data: Dataset, bought, made) -> dict[str, dict[str, float]]:
    """Tonnes of each origin country in each stage's supply, pools fully mixed."""
    mix = origin_mix(data)
    tonnes: dict[str, dict[str, float]] = {s.stage: defaultdict(float) for s in data.stages}
    for offer, t in zip(data.offers, bought, strict=True):
        for country, share in mix[offer.offer].items():
            tonnes[offer.stage][country] += t * share
    made_by = dict(zip((p.process for p in data.processes), made, strict=True))
    for stage in process_order(data):
        for process in (p for p in data.processes if p.to_stage == stage):
            source = tonnes[process.from_stage]
            total = sum(source.values())
            for country, t in list(source.items()):
                if total > 0:
                    tonnes[stage][country] += made_by[process.process] * t / total
    return tonnes


def segregated_groups(result: Result) -> set[str]:
    """Groups whose origin split is a decision of the model (they have an embedded limit)."""
    limits = base(result.limits)
    return set(limits.loc[limits["scope"] == Scope.EMBEDDED.value, "group"])


def segregated_share(result: Result, group: str, stage: str, basis: Basis) -> float:
    """Share of ``stage``'s supply of ``group`` origin in the plan's own chain of custody
    (``Result.embedded``)."""
    return float(base(result.embedded).at[(group, stage, basis.value), "share"])


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
    segregated = segregated_groups(result)
    rows = []
    for stage in sorted(data.stages, key=lambda s: s.order):
        pool = tonnes[stage.stage]
        total = sum(pool.values())
        origins = sorted(c for c, t in pool.items() if t > 1e-9)
        reported = [g for (g, s) in direct if s == stage.stage]  # sellers, limit groups
        for group in dict.fromkeys([*reported, *origins]):
            if group in segregated:
                embedded, custody = segregated_share(result, group, stage.stage,
                                                     Basis.VOLUME), SEGREGATED
            else:
                part = sum(t for c, t in pool.items() if in_group(group, c, countries))
                embedded, custody = (part / total if total > 0 else 0.0), MIXED
            rows.append({"group": group, "stage": stage.stage,
                         "direct_share": direct.get((group, stage.stage), 0.0),
                         "embedded_share": embedded, "custody": custody})
    return rows
