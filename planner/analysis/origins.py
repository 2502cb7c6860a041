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

from planner.models.data import Basis, Dataset
from planner.models.groups import in_group, origin_mix, process_order
from planner.solve.engine import PlanResult

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


def segregated_groups(result: PlanResult) -> set[str]:
    """Groups whose origin split is a decision of the model (they have an embedded limit)."""
    return {row.group for row in result.built.share_rows if row.embedded}


def segregated_share(result: PlanResult, group: str, stage: str, basis: Basis) -> float:
    """Share of ``stage``'s supply of ``group`` origin in the plan's own chain of custody.

    A[g,s] = Σ φ_g(o)·w·x[o] + Σ_{to(p)=s} w_p·y_p·u[g,p], over T[s] = Σ w·x + Σ w_p·z[p],
    with φ and w from the model's own index.
    """
    m, idx, b = result.built.model, result.built.index, basis.value
    bought = {o: result.value(m.buy[o]) for o in idx.offers_at.get(stage, [])}
    made = {p: result.value(m.make[p]) for p in idx.processes_into.get(stage, [])}
    part = sum(phi * idx.weight[(b, o)] * bought[o] for o, phi in idx.origin_offers[(group,
                                                                                      stage)])
    part += sum(idx.weight[(b, p)] * m.process[p].yield_t_per_t
                * result.value(m.origin_input[group, p]) for p in made)
    total = (sum(idx.weight[(b, o)] * t for o, t in bought.items())
             + sum(idx.weight[(b, p)] * z for p, z in made.items()))
    return part / total if total > 0 else 0.0


def origin_shares(result: PlanResult, direct: dict[tuple[str, str], float]) -> list[dict]:
    """Direct and embedded volume shares side by side, per stage, for every country
    that sells into or whose material reaches the stage and every limited group.

    ``direct`` maps (group, stage) to the direct volume share, for the sellers and
    limited groups of each stage (``report.shares``).
    """
    data = result.data
    countries = {c.country: c for c in data.countries}
    tonnes = mixed_origin_tonnes(data, result.bought, result.made)
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
