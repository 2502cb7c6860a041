"""A plan over time (SPEC §3a): each period's own dataset, and how periods follow.

Period t's data is the base dataset with t's ``period_values`` applied, then the
overrides of a run (scenario rows, ``--cap``, ``--zone``) that hold in every period
or in t. Without a ``periods`` table a dataset has one period, ``base`` (1 year,
discount factor 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .data import Dataset, Expansion, Period
from .settings import apply_setting

BASE_PERIOD = Period("base", 0)


@dataclass(frozen=True)
class PeriodData:
    """One period: its position (0 first), its record and its one-period dataset."""

    position: int
    period: Period
    data: Dataset

    @property
    def weight(self) -> float:
        """Years × discount_factor: what one year of its costs weighs in the objective."""
        return self.period.weight


def over_time(data: Dataset) -> bool:
    """Whether the plan links periods (a periods table, stocks or expansions): the model
    of SPEC §3a rather than the one-period model of §3."""
    return bool(data.periods or data.stocks or data.expansions)


def periods_of(data: Dataset) -> tuple[Period, ...]:
    """The periods in order (the one ``base`` period without a periods table)."""
    return data.periods or (BASE_PERIOD,)


def period_datasets(data: Dataset) -> list[PeriodData]:
    """Each period's own dataset, a one-period dataset of SPEC §3."""
    found = []
    for position, period in enumerate(periods_of(data)):
        own = data
        for step in data.period_values:
            if step.scenario == period.period:
                own = apply_setting(own, step)
        for step in data.overrides:
            if step.period in (None, period.period):
                own = apply_setting(own, step)
        own = replace(own, periods=(), period_values=(), stocks=(), expansions=(),
                      overrides=())
        found.append(PeriodData(position, period, own))
    return found


def decision_positions(expansion: Expansion, periods: tuple[Period, ...]) -> list[int]:
    """Positions of the periods in which ``expansion`` can be decided (from_period on)."""
    ids = [p.period for p in periods]
    first = ids.index(expansion.from_period) if expansion.from_period else 0
    return list(range(first, len(ids)))


def usable(expansion: Expansion, decided: int, used: int) -> bool:
    """Whether capacity decided at position ``decided`` is usable at position ``used``:
    ``lead_periods`` positions or more later (lead 0: the period it is decided)."""
    return used - decided >= expansion.lead_periods
