"""Declarations of the input tables (SPEC §2): adding a column is one entry here.

The loader, the validator, the error messages and the README's table reference
all read these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a cell is parsed and what a problem message says was expected."""

    ID = "a non-empty identifier"
    TEXT = "text"
    INT = "a whole number"
    NUMBER = "a number"
    BOOL = "true or false"
    COUNTRY = "a country code of two capital letters"
    COUNTRY_OR_ANY = "a country code of two capital letters, or *"
    STAGE = "a stage id from stages"
    STAGE_OR_ANY = "a stage id from stages, or *"
    CHOICE = "one of the listed values"


MISSING = object()  # column has no default: a blank cell is an error


@dataclass(frozen=True)
class Column:
    """One column: its kind, default for blank cells, and numeric range."""

    name: str
    kind: Kind
    default: object = MISSING
    minimum: float | None = None
    strict_minimum: bool = False
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        """A column without a default must be present in the table."""
        return self.default is MISSING

    def expectation(self) -> str:
        """What a valid cell looks like, for messages."""
        if self.kind is Kind.CHOICE:
            return "one of " + ", ".join(self.choices)
        text = self.kind.value
        if self.minimum is not None and self.maximum is not None:
            text += f" in {'(' if self.strict_minimum else '['}{self.minimum:g}, {self.maximum:g}]"
        elif self.minimum is not None:
            text += f" {'>' if self.strict_minimum else '≥'} {self.minimum:g}"
        return text


@dataclass(frozen=True)
class Table:
    """One input table: its columns and the columns whose values must be unique."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    doc: str = ""

    def column(self, name: str) -> Column:
        """The declaration of column ``name``."""
        return next(c for c in self.columns if c.name == name)


def _nonneg(name: str, default: object = MISSING, doc: str = "") -> Column:
    return Column(name, Kind.NUMBER, default, minimum=0.0, doc=doc)


def _fraction(name: str, default: object, doc: str) -> Column:
    return Column(name, Kind.NUMBER, default, minimum=0.0, maximum=1.0, doc=doc)


def _nonneg_or_blank(name: str, doc: str) -> Column:
    return Column(name, Kind.NUMBER, None, minimum=0.0, doc=doc)


STAGES = Table("stages", True, (
    Column("stage", Kind.ID, doc="stage id"),
    Column("order", Kind.INT, doc="upstream first; ties allowed (parallel stages); sorts "
                                  "reports"),
    _nonneg("demand_t", doc="buyer's final need at this stage, t"),
    Column("material", Kind.TEXT, "", doc="label that groups stages in reports (NdPr, DyTb)"),
    _nonneg_or_blank("shortage_usd_per_t", "value of lost supply: cost of each t of demand "
                     "left unmet; blank = demand must be met"),
    _nonneg_or_blank("value_usd_per_t", "value of a t of domestic output into the stage in "
                     "value-basis shares; blank = the process's cost (main output) or the "
                     "stage's median offer price (co-product)"),
), key=("stage",), doc="the network's stages")

OFFERS = Table("offers", True, (
    Column("offer", Kind.ID, doc="offer id"),
    Column("stage", Kind.STAGE, doc="stage the offer sells into"),
    Column("supplier", Kind.TEXT, doc="supplier name"),
    Column("country", Kind.COUNTRY, doc="ISO 3166 alpha-2 code of the seller"),
    _nonneg("price_usd_per_t", doc="FOB price, USD/t"),
    _nonneg_or_blank("capacity_t", "t available to the buyer; blank = unlimited, 0 = closed "
                     "today"),
    _nonneg("min_t", 0.0, "contracted minimum offtake, t"),
    _nonneg("freight_usd_per_t", 0.0, "freight to the buyer, USD/t"),
    Column("members_only", Kind.BOOL, False, doc="open to the buyer only while it has joined "
                                                 "the zone (a release from the zone's reserve)"),
), key=("offer",), doc="what each supplier offers")

COUNTRIES = Table("countries", False, (
    Column("country", Kind.COUNTRY, doc="ISO 3166 alpha-2 code"),
    Column("name", Kind.TEXT, "", doc="display name"),
    Column("zone_member", Kind.BOOL, False, doc="member of the preferential trade zone"),
    Column("groups", Kind.TEXT, "", doc="tags separated by ;"),
), key=("country",), doc="zone membership and tags")

PROCESSES = Table("processes", False, (
    Column("process", Kind.ID, doc="process id"),
    Column("from_stage", Kind.STAGE, doc="input stage"),
    Column("to_stage", Kind.STAGE, doc="output stage"),
    Column("yield", Kind.NUMBER, minimum=0.0, strict_minimum=True,
           doc="t output per t input"),
    _nonneg("cost_usd_per_t", doc="processing cost per t output, USD"),
    _nonneg_or_blank("capacity_t", "t output per year; blank = unlimited, 0 = a plant not "
                     "yet built"),
), key=("process",), doc="domestic processing")

PROCESS_FLOWS = Table("process_flows", False, (
    Column("process", Kind.ID, doc="process id from processes"),
    Column("stage", Kind.STAGE, doc="stage consumed or made (not the process's from/to stage)"),
    Column("role", Kind.CHOICE, choices=("input", "output"),
           doc="input: an extra input (a recipe); output: a co-product"),
    Column("t_per_t", Kind.NUMBER, minimum=0.0, strict_minimum=True,
           doc="t of the stage per t of the process's main output"),
), key=("process", "stage"), doc="recipes and co-products of processes")

TARIFFS = Table("tariffs", False, (
    Column("country", Kind.COUNTRY_OR_ANY, doc="country code or *"),
    Column("stage", Kind.STAGE_OR_ANY, doc="stage or *"),
    _nonneg("mfn_rate", 0.0, "ad valorem MFN rate (fraction)"),
    _nonneg("zone_rate", 0.0, "rate for zone members once the buyer has joined"),
), key=("country", "stage"), doc="ad valorem duties; the most specific row wins")

BENCHMARKS = Table("benchmarks", False, (
    Column("stage", Kind.STAGE, doc="stage"),
    _nonneg("benchmark_usd_per_t", doc="zone reference price, USD/t"),
), key=("stage",), doc="zone benchmark prices")

LIMITS = Table("limits", False, (
    Column("group", Kind.ID, doc="country code, tag, zone, non-zone or each"),
    Column("stage", Kind.STAGE_OR_ANY, doc="stage or * (every stage)"),
    _fraction("min_share", None, "lowest share of the stage's supply"),
    _fraction("max_share", None, "highest share of the stage's supply"),
    Column("basis", Kind.CHOICE, "volume", choices=("volume", "value"),
           doc="weigh by tonnes or by value"),
    Column("scope", Kind.CHOICE, "direct", choices=("direct", "embedded"),
           doc="seller's country, or upstream origin"),
    _nonneg("max_cost_usd_per_pp", None,
            doc="soft limit: USD per pp the plan may pay to pass the share (blank: hard)"),
), key=("group", "stage", "basis", "scope"), doc="share limits")

CONTENT = Table("content", False, (
    Column("offer", Kind.ID, doc="offer id"),
    Column("origin", Kind.COUNTRY, doc="upstream origin country"),
    _fraction("share", MISSING, "fraction of the offer from that origin"),
), key=("offer", "origin"), doc="upstream origin mix of offers")

SETTINGS = Table("settings", False, (
    Column("key", Kind.CHOICE, choices=("buyer", "zone", "name", "risk_weight", "cvar_alpha"),
           doc="setting name"),
    Column("value", Kind.TEXT, doc="setting value"),
), key=("key",), doc="buyer, zone status, dataset name")

SCENARIOS = Table("scenarios", False, (
    Column("scenario", Kind.ID, doc="scenario name"),
    Column("setting", Kind.CHOICE, choices=(
        "zone", "max_share", "min_share", "embedded_max_share", "embedded_min_share",
        "capacity_factor", "price_factor", "benchmark", "demand_factor", "zone_member",
        "stock_floor_days"),
        doc="what the row changes"),
    Column("target", Kind.TEXT, "", doc="GROUP:STAGE or STAGE, by setting"),
    Column("value", Kind.TEXT, doc="new value or factor"),
    Column("period", Kind.TEXT, "", doc="a period id: the row applies in that period only "
                                        "(blank: every period)"),
), doc="named variations of the base dataset, applied in row order")

PERIODS = Table("periods", False, (
    Column("period", Kind.ID, doc="period id"),
    Column("order", Kind.INT, doc="earliest first; unique"),
    Column("years", Kind.NUMBER, 1.0, minimum=0.0, strict_minimum=True,
           doc="length; flows are t per year within it"),
    Column("discount_factor", Kind.NUMBER, 1.0, minimum=0.0, strict_minimum=True, maximum=1.0,
           doc="weight of the period's costs in the objective, in (0, 1]"),
), key=("period",), doc="periods of a plan over time (none: one period)")

PERIOD_VALUES = Table("period_values", False, (
    Column("period", Kind.ID, doc="period id from periods"),
    *SCENARIOS.columns[1:4],
), doc="settings (as in scenarios) applied to the base dataset in one period only")

STOCKS = Table("stocks", False, (
    Column("stage", Kind.STAGE, doc="stage whose product is stocked"),
    _nonneg("initial_t", 0.0, "t held at the start of the first period"),
    Column("capacity_t", Kind.NUMBER, None, minimum=0.0, strict_minimum=True,
           doc="most t held; blank = unlimited"),
    _nonneg("holding_usd_per_t_yr", 0.0, "cost of holding one t for a year, USD"),
    _nonneg("min_t", 0.0, "reserve floor: t held at the end of every period"),
    Column("initial_origin", Kind.COUNTRY, "XX", doc="upstream origin of the initial stock "
           "in embedded scope (XX: unknown, in no group)"),
), key=("stage",), doc="strategic stocks")

EXPANSIONS = Table("expansions", False, (
    Column("expansion", Kind.ID, doc="expansion id"),
    Column("target", Kind.ID, doc="an offer or process id with a capacity"),
    _nonneg("usd_per_t_yr", doc="one-off cost of one t/yr of added capacity, USD"),
    Column("max_t_yr", Kind.NUMBER, None, minimum=0.0, strict_minimum=True,
           doc="most t/yr added in all; blank = unlimited"),
    Column("lead_periods", Kind.INT, 0, minimum=0.0,
           doc="periods between the decision and first use"),
    Column("from_period", Kind.TEXT, "", doc="first period it can be decided (blank: the "
                                             "first)"),
), key=("expansion",), doc="new capacity for offers and processes")

DISRUPTIONS = Table("disruptions", False, (
    Column("disruption", Kind.ID, doc="disruption id (rows of one id describe one disruption)"),
    Column("probability", Kind.NUMBER, minimum=0.0, strict_minimum=True, maximum=1.0,
           doc="probability that it happens, in (0, 1]; the ids' sum at most 1"),
    Column("period", Kind.TEXT, "", doc="the period it starts in (blank: the only period, "
                                        "without a periods table)"),
    Column("duration", Kind.INT, 1, minimum=1.0, doc="periods it lasts"),
    *SCENARIOS.columns[1:4],
), doc="disruption branches: settings in force while each lasts")


TABLES: tuple[Table, ...] = (STAGES, OFFERS, COUNTRIES, PROCESSES, PROCESS_FLOWS, TARIFFS,
                             BENCHMARKS, LIMITS, CONTENT, SETTINGS, SCENARIOS, PERIODS,
                             PERIOD_VALUES, STOCKS, EXPANSIONS, DISRUPTIONS)
