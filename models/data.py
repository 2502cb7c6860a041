"""Typed input records the model is built from.

These are plain, immutable records: the loader (``planner.loading`` and
``planner.validation``) turns tables into them, scenario code derives new ones
with ``dataclasses.replace``, and ``build.create_model`` reads them. Each record
keeps ``origin``, a human-readable pointer to the input row it came from
(``"offers.csv row 4"``, ``"--cap CN:oxide=0.4"``), so reports and infeasibility
diagnoses can name the row a planner must look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

EACH = "each"
ZONE = "zone"
NON_ZONE = "non-zone"
ALL_STAGES = "*"
UNKNOWN_ORIGIN = "XX"   # ISO 3166 user-assigned: the origin of a stock nobody traced


class Basis(StrEnum):
    """How a share limit weighs flows: tonnes, or landed/process value in USD."""

    VOLUME = "volume"
    VALUE = "value"


class Scope(StrEnum):
    """Which origin a share limit counts: the seller's country, or upstream origin."""

    DIRECT = "direct"
    EMBEDDED = "embedded"


class ZoneStatus(StrEnum):
    """Whether the buyer has joined the preferential trade zone."""

    JOINED = "joined"
    OBSERVER = "observer"


class Bound(StrEnum):
    """Which side of a share limit a constraint row enforces."""

    MAX = "max"
    MIN = "min"


class Role(StrEnum):
    """Whether a ``process_flows`` row is an extra input or a co-product."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of the network; ``demand_t`` is the buyer's final need there.

    ``material`` labels stages in reports; ``shortage_usd_per_t`` prices unmet demand
    (None: demand must be met); ``value_usd_per_t`` weighs domestic output into the
    stage in value-basis shares (None: the process's cost, or for a co-product the
    median offer price at the stage).
    """

    stage: str
    order: int
    demand_t: float
    origin: str = ""
    material: str = ""
    shortage_usd_per_t: float | None = None
    value_usd_per_t: float | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    """A supplier's offer at one stage; ``capacity_t`` None means unlimited, 0 closed.
    A ``members_only`` offer is open to the buyer only while it has joined the zone."""

    offer: str
    stage: str
    supplier: str
    country: str
    price_usd_per_t: float
    capacity_t: float | None = None
    min_t: float = 0.0
    freight_usd_per_t: float = 0.0
    origin: str = ""
    members_only: bool = False


@dataclass(frozen=True, slots=True)
class Process:
    """Domestic processing from its main input stage into its main output stage;
    ``process_flows`` rows add further inputs and co-products."""

    process: str
    from_stage: str
    to_stage: str
    yield_t_per_t: float
    cost_usd_per_t: float
    capacity_t: float | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ProcessFlow:
    """A further input or a co-product of a process, per t of its main output."""

    process: str
    stage: str
    role: Role
    t_per_t: float
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Country:
    """A country's trade-zone membership and tags (``groups``)."""

    country: str
    name: str = ""
    zone_member: bool = False
    groups: frozenset[str] = frozenset()
    origin: str = ""


@dataclass(frozen=True, slots=True)
class TariffRule:
    """Ad valorem rates for a country (or ``*``) at a stage (or ``*``)."""

    country: str
    stage: str
    mfn_rate: float = 0.0
    zone_rate: float = 0.0
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Limit:
    """A share limit for a group at a stage (or ``*``, every stage).

    ``max_cost_usd_per_pp`` makes it soft: the plan may pass the share by paying
    that much per percentage point (None: a hard limit).
    """

    group: str
    stage: str
    min_share: float | None = None
    max_share: float | None = None
    basis: Basis = Basis.VOLUME
    scope: Scope = Scope.DIRECT
    origin: str = ""
    max_cost_usd_per_pp: float | None = None

    @property
    def key(self) -> tuple[str, str, Basis, Scope]:
        """Identity used by ``--cap`` and scenarios to replace a limit."""
        return (self.group, self.stage, self.basis, self.scope)


@dataclass(frozen=True, slots=True)
class ContentShare:
    """Upstream-origin share of an offer (embedded scope)."""

    offer: str
    origin_country: str
    share: float
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ScenarioStep:
    """One row of a scenario: a setting applied to a target with a value, in every
    period or only in ``period``."""

    scenario: str
    setting: str
    target: str
    value: str
    origin: str = ""
    period: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """One period of a plan over time (SPEC §3a): flows are t/yr within it, its costs
    weigh ``years`` × ``discount_factor`` in the objective."""

    period: str
    order: int
    years: float = 1.0
    discount_factor: float = 1.0
    origin: str = ""

    @property
    def weight(self) -> float:
        """Weight of one year's cost of this period in the objective."""
        return self.years * self.discount_factor


@dataclass(frozen=True, slots=True)
class Stock:
    """A strategic stock of one stage: ``initial_t`` held at the start, at most
    ``capacity_t`` (None: unlimited), at least ``min_t`` (the reserve floor) at the end of
    every period, ``holding_usd_per_t_yr`` per t held per year. ``initial_origin`` is the
    upstream origin country of the initial stock in embedded scope (``XX``: unknown, a
    country of its own in no group)."""

    stage: str
    initial_t: float = 0.0
    capacity_t: float | None = None
    holding_usd_per_t_yr: float = 0.0
    min_t: float = 0.0
    origin: str = ""
    initial_origin: str = UNKNOWN_ORIGIN
    floor_days: float | None = None   # a setting stock_floor_days in force: the floor is
                                      # that many days of the period's own demand

    def floor_t(self, demand_t: float) -> float:
        """The reserve floor (t) where the stage's demand is ``demand_t`` t/yr."""
        return self.min_t if self.floor_days is None else demand_t * self.floor_days / 365.0


@dataclass(frozen=True, slots=True)
class Expansion:
    """New capacity for an offer or process (``target``): ``usd_per_t_yr`` one-off per
    t/yr added, at most ``max_t_yr`` in all (None: unlimited), usable ``lead_periods``
    periods after the decision, decided from ``from_period`` (None: the first) on."""

    expansion: str
    target: str
    usd_per_t_yr: float
    max_t_yr: float | None = None
    lead_periods: int = 0
    from_period: str | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Disruption:
    """A disruption (SPEC §3b): with ``probability`` it starts in ``period`` (None: the
    only period) and lasts ``duration`` periods, with ``steps`` (scenario settings; their
    ``scenario`` is the disruption id) in force while it lasts."""

    disruption: str
    probability: float
    period: str | None
    duration: int
    steps: tuple[ScenarioStep, ...]
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """Everything one solve needs, after validation."""

    stages: tuple[Stage, ...]
    offers: tuple[Offer, ...]
    processes: tuple[Process, ...] = ()
    process_flows: tuple[ProcessFlow, ...] = ()
    countries: tuple[Country, ...] = ()
    tariffs: tuple[TariffRule, ...] = ()
    benchmarks: dict[str, float] = field(default_factory=dict)
    limits: tuple[Limit, ...] = ()
    content: tuple[ContentShare, ...] = ()
    scenarios: tuple[ScenarioStep, ...] = ()
    periods: tuple[Period, ...] = ()
    period_values: tuple[ScenarioStep, ...] = ()   # ``scenario`` holds the period id
    stocks: tuple[Stock, ...] = ()
    expansions: tuple[Expansion, ...] = ()
    overrides: tuple[ScenarioStep, ...] = ()   # over time: scenario rows and flags applied
                                               # to every period after its period_values
    disruptions: tuple[Disruption, ...] = ()
    future: tuple[str, ...] | None = None   # one sampled future: the disruptions that
                                            # occur in it (None: the tree of SPEC §3b)
    risk_weight: float = 0.0     # λ: weight of CVaR against expected cost (SPEC §3b)
    cvar_alpha: float = 0.9      # α of CVaR
    buyer: str = "KR"
    zone: ZoneStatus = ZoneStatus.OBSERVER
    name: str = ""
