"""A plan over time (SPEC §3a): each period's own dataset, and how periods follow.

Period t's data is the base dataset with t's ``period_values`` applied, then the
overrides of a run (scenario rows, ``--cap``, ``--zone``) that hold in every period
or in t. Without a ``periods`` table a dataset has one period, ``base`` (1 year,
discount factor 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .data import Dataset, Expansion, Period
from .settings import apply_setting

BASE_PERIOD = Period("base", 0)


BASE_BRANCH = "base"
FUTURE_BRANCH = "future"


@dataclass(frozen=True)
class PeriodData:
    """One period of one branch (a node of the tree of SPEC §3b): its position (0 first),
    its record, its one-period dataset, the branch it belongs to (``base`` for a period
    the branches still share), the probability of the branches that pass through it, the
    node before it, and whether a disruption is in force there (the floor is waived)."""

    position: int
    period: Period
    data: Dataset
    branch: str = BASE_BRANCH
    mass: float = 1.0
    parent: tuple[str, str] | None = None
    disrupted: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """(period, branch): the node's index in the model."""
        return (self.period.period, self.branch)

    @property
    def weight(self) -> float:
        """Years × discount_factor: what one year of its costs weighs in a branch's cost."""
        return self.period.weight


def over_time(data: Dataset) -> bool:
    """Whether the plan links periods or branches (a periods table, stocks, expansions or
    disruptions): the model of SPEC §3a/§3b rather than the one-period model of §3. A
    disruption without a periods table starts in the only period: its branch is a node
    of its own beside the base branch's (SPEC §2, §3b)."""
    return bool(data.periods or data.stocks or data.expansions or data.disruptions)


def periods_of(data: Dataset) -> tuple[Period, ...]:
    """The periods in order (the one ``base`` period without a periods table)."""
    return data.periods or (BASE_PERIOD,)


def period_datasets(data: Dataset) -> list[PeriodData]:
    """Each period's own dataset, a one-period dataset of SPEC §3 (its ``stocks`` carry
    the period's reserve floors; the links between periods are the horizon's)."""
    found = []
    for position, period in enumerate(periods_of(data)):
        own = data
        for step in data.period_values:
            if step.scenario == period.period:
                own = apply_setting(own, step)
        for step in data.overrides:
            if step.period in (None, period.period):
                own = apply_setting(own, step)
        own = replace(own, periods=(), period_values=(), expansions=(), overrides=())
        found.append(PeriodData(position, period, own))
    return found


@dataclass(frozen=True)
class Branch:
    """A path through the tree: the base branch or one disruption's, with its probability."""

    branch: str
    probability: float
    nodes: tuple[tuple[str, str], ...]   # node keys, first period first


def tree(data: Dataset) -> tuple[list[PeriodData], list[Branch]]:
    """Every node (base periods first, then each disruption's periods from its start) and
    every branch (SPEC §3b). Without disruptions: the base periods and one branch. With
    ``data.future``: the one path of that sampled future (``future_path``)."""
    base = period_datasets(data)
    periods = [p.period.period for p in base]
    starts = {d.disruption: periods.index(d.period) if d.period else 0
              for d in data.disruptions}
    if data.future is not None:
        return future_path(data, base, starts)
    others = sum(d.probability for d in data.disruptions)
    nodes = []
    for p in base:   # shared by the base branch and every branch not yet started
        mass = 1.0 - others + sum(d.probability for d in data.disruptions
                                  if starts[d.disruption] > p.position)
        parent = base[p.position - 1].key if p.position else None
        nodes.append(replace(p, mass=mass, parent=parent))
    branches = [Branch(BASE_BRANCH, 1.0 - others, tuple(p.key for p in base))]
    for d in data.disruptions:
        start, path = starts[d.disruption], [p.key for p in base[:starts[d.disruption]]]
        for p in base[start:]:
            active = p.position < start + d.duration
            own = p.data
            if active:
                for step in d.steps:
                    own = apply_setting(own, step)
            node = replace(p, data=own, branch=d.disruption, mass=d.probability,
                           parent=path[-1] if path else None, disrupted=active)
            nodes.append(node)
            path.append(node.key)
        branches.append(Branch(d.disruption, d.probability, tuple(path)))
    return nodes, branches


def future_path(data: Dataset, base: list[PeriodData], starts: Mapping[str, int]
                ) -> tuple[list[PeriodData], list[Branch]]:
    """The single path of one sampled future (SPEC §5, ``stress --samples``): the periods
    before any disruption can start are the tree's shared nodes (same keys, so the plan's
    decisions there can be fixed by name); from the first possible start on, one branch
    ``future`` with probability 1, in which each disruption of ``data.future`` applies its
    settings while it lasts (several at once in table order; the floor waived while any
    lasts)."""
    first = min(starts.values(), default=len(base))
    occurring = [d for d in data.disruptions if d.disruption in data.future]
    nodes, path = [], []
    for p in base:
        if p.position < first:
            node = replace(p, parent=path[-1] if path else None)
        else:
            active = [d for d in occurring
                      if starts[d.disruption] <= p.position < starts[d.disruption] + d.duration]
            own = p.data
            for step in (step for d in active for step in d.steps):
                own = apply_setting(own, step)
            node = replace(p, data=own, branch=FUTURE_BRANCH,
                           parent=path[-1] if path else None, disrupted=bool(active))
        nodes.append(node)
        path.append(node.key)
    return nodes, [Branch(FUTURE_BRANCH, 1.0, tuple(path))]


def ancestry(nodes: Mapping[tuple[str, str], PeriodData], key: tuple[str, str] | None
             ) -> list[tuple[str, str]]:
    """A node's key and those of the nodes before it on its branch."""
    keys = []
    while key is not None:
        keys.append(key)
        key = nodes[key].parent
    return keys


def decision_positions(expansion: Expansion, periods: tuple[Period, ...]) -> list[int]:
    """Positions of the periods in which ``expansion`` can be decided (from_period on)."""
    ids = [p.period for p in periods]
    first = ids.index(expansion.from_period) if expansion.from_period else 0
    return list(range(first, len(ids)))


def usable(expansion: Expansion, decided: int, used: int) -> bool:
    """Whether capacity decided at position ``decided`` is usable at position ``used``:
    ``lead_periods`` positions or more later (lead 0: the period it is decided)."""
    return used - decided >= expansion.lead_periods
