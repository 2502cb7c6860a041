"""Shared helpers: solve a hand-built ``Dataset`` and read the SPEC §5 JSON by key."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from plan_json import as_json
from planner.models.data import Dataset

from planner.solving.engine import solve_plan


class Plan:
    """The JSON object ``as_json`` returns, with lookups by business key."""

    def __init__(self, out: dict):
        self.out = out
        self.prices = out.get("shadow_prices", {})

    @property
    def objective(self) -> float:
        return self.out["objective_usd"]

    def tonnes(self) -> dict[str, float]:
        """Offer → tonnes, for every offer the plan buys."""
        return {r["offer"]: r["tonnes"] for r in self.out["purchases"]}

    def purchase(self, offer: str) -> dict:
        return next(r for r in self.out["purchases"] if r["offer"] == offer)

    def production(self) -> dict[str, float]:
        return {r["process"]: r["tonnes"] for r in self.out["production"]}

    def table(self, name: str, key: str = "offer") -> dict[str, dict]:
        """A shadow-price table keyed by ``key`` (offer, process or stage)."""
        return {r[key]: r for r in self.prices[name]}

    def values(self, name: str, field: str = "usd_per_t", key: str = "offer") -> dict:
        """One field of a shadow-price table, keyed: e.g. every capacity value."""
        return {k: r[field] for k, r in self.table(name, key).items()}

    def demand(self) -> dict[str, float]:
        return self.values("demand", key="stage")

    def reduced_costs(self) -> dict[str, float]:
        """Every unused offer and process → reduced cost, USD per t."""
        return self.values("reduced_costs", "reduced_cost_usd_per_t")

    def limit(self, group: str, stage: str, bound: str = "max") -> dict:
        rows = [r for r in self.prices["limits"]
                if (r["group"], r["stage"], r["bound"]) == (group, stage, bound)]
        assert len(rows) == 1, f"expected one {bound} row for {group}:{stage}, got {rows}"
        return rows[0]

    def share(self, group: str, stage: str, basis: str = "volume") -> float:
        rows = [r["share"] for r in self.out["shares"]
                if (r["group"], r["stage"], r["basis"], r["scope"])
                == (group, stage, basis, "direct")]
        assert len(rows) == 1, f"expected one {basis} share of {group}:{stage}, got {rows}"
        return rows[0]


@pytest.fixture
def solve() -> Callable[[Dataset], Plan]:
    """Solve with sensitivity analysis and return the report JSON as a ``Plan``."""
    return lambda data: Plan(as_json(solve_plan(data)))


@pytest.fixture
def cost() -> Callable[[Dataset], float]:
    """Optimal objective only (no sensitivity analysis): for finite-difference re-solves."""
    def run(data: Dataset) -> float:
        result = solve_plan(data, sensitivity=False)
        assert result.optimal, f"re-solve is {result.status}: {result.message}"
        return float(result.solution.objective)
    return run


def read_rows(folder: Path, table: str) -> list[list[str]]:
    """All rows of ``folder/table.csv``, header included."""
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    """Write ``rows`` (header included) to ``folder/table.csv``."""
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


FIRST_YEAR = "2025"   # the default dataset's first period: its base tables, no period_values
OVER_TIME = ("periods.csv", "period_values.csv", "stocks.csv", "expansions.csv",
             "disruptions.csv")


def write_first_year(folder: Path) -> Path:
    """The shipped dataset as one year (2025): its CSV tables without the tables of plans
    over time and under disruption, and the scenario rows that hold in every period or in
    2025 (others dropped). The single-year model on the calibration year, for tests of
    one-period mechanics on real data."""
    from planner.api import default_inputs

    folder.mkdir(parents=True, exist_ok=True)
    for path in default_inputs().glob("*.csv"):
        if path.name in OVER_TIME:
            continue
        if path.name == "scenarios.csv":
            with path.open(newline="", encoding="utf-8") as handle:
                rows = [r for r in csv.DictReader(handle) if r["period"] in ("", FIRST_YEAR)]
            with (folder / path.name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["scenario", "setting", "target", "value"])
                writer.writerows([r["scenario"], r["setting"], r["target"], r["value"]]
                                 for r in rows)
            continue
        (folder / path.name).write_bytes(path.read_bytes())
    return folder

