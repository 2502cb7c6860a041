"""The Python API (SPEC §7): the CLI's engine for notebooks and scripts.

    import planner
    data = planner.load("inputs/")          # a folder, an .xlsx, or {table: DataFrame}
    plan = planner.solve(data, caps={"CN:magnet": 0.6})
    plan.purchases                          # DataFrames with the JSON's columns
    plan.shadow_prices["limits"]

Bad input raises ``planner.InputError`` (``.problems``: what ``planner check``
prints). Warnings (a country code missing from ``countries``, say) are issued
with :mod:`warnings`, so a notebook shows them once.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from planner.analysis import breakeven
from planner.analysis.compare import compare_scenarios, default_names
from planner.analysis.scenarios import (
    CapOverride,
    apply_caps,
    apply_scenario,
    cap_override,
    override,
    target_problems,
)
from planner.analysis.stress import Sampling
from planner.analysis.stress import stress as run_stress
from planner.analysis.sweep import VERIFICATION as SWEEP_VERIFICATION
from planner.analysis.sweep import CapTarget, cap_sweep
from planner.io.problems import InputError, Problem, errors
from planner.io.read import read_inputs
from planner.io.shipped import default_inputs
from planner.io.validate import validate
from planner.models.data import Basis, Dataset, ScenarioStep, Scope
from planner.reports.compare_tables import comparison, comparison_rows
from planner.reports.manifest import build_manifest, input_digests
from planner.reports.sweep_tables import sweep_json
from planner.reports.tables import as_json, report_tables, stress_json
from planner.solving import WHOLE_COST_LIMIT, whole_cost_count
from planner.solving.engine import solve_plan
from planner.solving.result import Result, labelled

PRICE_TABLES = ("demand", "capacity", "process_capacity", "minimum", "limits", "reduced_costs")
HTML_TABLES = ("purchases", "production", "shares")
# The SPEC §5 columns of each table: an empty frame (no plan, no limit) still has them.
SPEC_COLUMNS = {
    "purchases": ["offer", "stage", "supplier", "country", "tonnes", "landed_usd_per_t"],
    "production": ["process", "tonnes"],
    "shares": ["group", "stage", "share", "basis", "scope"],
    "demand": ["stage", "usd_per_t"], "capacity": ["offer", "usd_per_t"],
    "process_capacity": ["process", "usd_per_t"], "minimum": ["offer", "usd_per_t"],
    "limits": ["group", "stage", "bound", "usd_per_pp", "valid_from", "valid_to"],
    "reduced_costs": ["offer", "reduced_cost_usd_per_t"]}
ZONES = ("joined", "observer")


@dataclass(frozen=True)
class Inputs:
    """A validated dataset and where it came from (for the run manifest)."""

    dataset: Dataset
    digests: tuple[dict, ...] = ()   # each input file or frame, hashed when read
    warnings: tuple[Problem, ...] = ()

    def __repr__(self) -> str:
        d = self.dataset
        return (f"<planner.Inputs {d.name or 'unnamed'}: {len(d.stages)} stages, "
                f"{len(d.offers)} offers, {len(d.processes)} processes, "
                f"{len(d.limits)} limits, {len({s.scenario for s in d.scenarios})} scenarios>")


def load(source: str | Path | Mapping[str, pd.DataFrame] | None = None) -> Inputs:
    """Read and validate a dataset: a folder of CSV files, one ``.xlsx`` workbook, or a
    dict of DataFrames (table name → frame with the SPEC §2 columns), all validated
    alike; the shipped default dataset when none is given. Raises ``InputError``
    listing every problem."""
    if source is None:
        source = default_inputs()
    if isinstance(source, Mapping):
        kept: Path | dict = dict(source)
    elif isinstance(source, str | Path):
        kept = Path(source)
    else:
        raise InputError([Problem("load", "a folder, an .xlsx workbook or a dict of "
                                  "DataFrames (table name -> frame)",
                                  value=type(source).__name__)])
    dataset, found = validate(read_inputs(kept))
    for problem in found:
        warnings.warn(str(problem), stacklevel=2)
    return Inputs(dataset, tuple(input_digests(kept)), tuple(found))


def _inputs(data: Inputs | Dataset | str | Path | Mapping) -> Inputs:
    if isinstance(data, Inputs):
        return data
    if isinstance(data, Dataset):
        return Inputs(data)
    return load(data)


def prepare(data: Dataset, scenario: str | None = None,
            caps: list[CapOverride] | None = None,
            zone: str | None = None, period: str | None = None
            ) -> tuple[Dataset, list[Problem]]:
    """The dataset a run solves: ``scenario``'s rows, then ``caps`` (over time: in
    ``period`` only, or in every period), then ``zone``. Raises ``InputError`` on an
    unknown scenario, zone, group, stage or period; returns the warnings."""
    if zone is not None and zone not in ZONES:
        raise InputError([Problem("zone", "joined or observer", value=str(zone))])
    if period is not None and not caps:
        raise InputError([Problem("period", "a cap to hold in that period (--cap / caps); "
                                  "without one a period changes nothing", value=str(period))])
    check_period(data, period)
    if scenario:
        data = apply_scenario(data, scenario)
    overrides = caps or []
    problems = target_problems(data, [(c.group, c.stage) for c in overrides])
    if errors(problems):
        raise InputError(errors(problems))
    data = apply_caps(data, overrides, period)
    if zone:
        data = override(data, ScenarioStep("--zone", "zone", "", zone, "command line: --zone"))
    return data, problems


def check_period(data: Dataset, period: str | None) -> None:
    """``InputError`` unless ``period`` is None or a period id of ``data``."""
    if period is not None and period not in {p.period for p in data.periods}:
        known = ", ".join(p.period for p in data.periods) or "none: the dataset has no periods"
        raise InputError([Problem("period", f"a period id from periods ({known})",
                                  value=str(period))])


def _cap_overrides(caps: Mapping[str, float]) -> list[CapOverride]:
    if not isinstance(caps, Mapping):
        raise InputError([Problem("caps", "a dict of GROUP:STAGE to a share in [0, 1], e.g. "
                                  "{'CN:magnet': 0.6}", value=repr(caps))])
    overrides, bad = [], []
    for target, share in caps.items():
        cap = cap_override(str(target), share)
        if cap is None:
            bad.append(Problem("caps", "GROUP:STAGE mapped to a share in [0, 1], e.g. "
                               "{'CN:magnet': 0.6}", column=str(target), value=str(share)))
        else:
            overrides.append(cap)
    if bad:
        raise InputError(bad)
    return overrides


def _frame(rows: list[dict], name: str = "") -> pd.DataFrame:
    """Report rows as a frame; an empty one keeps the SPEC's columns of table ``name``."""
    if rows:
        return pd.DataFrame.from_records(rows)
    return pd.DataFrame(columns=SPEC_COLUMNS.get(name, []))


@dataclass
class Plan:
    """One solve: its status, cost, mix and shadow prices as DataFrames.

    ``purchases``, ``production``, ``shares`` and each ``shadow_prices[name]`` have the
    columns of the CLI's JSON; ``tables`` holds every report table (as ``--format
    csv`` writes them); ``result`` the labelled quantities (frames indexed by
    period, branch and key); ``manifest`` what reproduces the run.
    """

    result: Result
    manifest: dict
    warnings: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``optimal``, ``infeasible`` or ``error`` (SPEC §5)."""
        return self.result.status

    @property
    def message(self) -> str:
        """What happened, in one line."""
        return self.result.message

    @property
    def objective_usd(self) -> float | None:
        """Total landed cost in USD (None without a plan)."""
        return self.result.objective_usd if self.result.optimal else None

    @cached_property
    def _json(self) -> dict:
        return as_json(self.result)

    def to_json(self) -> dict:
        """The CLI's JSON object (``planner solve --format json``), manifest included."""
        return {**self._json, "manifest": self.manifest}

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every report table by name, as the csv folder and the workbook hold them."""
        return {name: _frame(rows) for name, rows in report_tables(self.result).items()}

    @property
    def purchases(self) -> pd.DataFrame:
        """Offers bought: tonnes, landed cost and its parts, share of the stage."""
        return _frame(self._json.get("purchases", []), "purchases")

    @property
    def production(self) -> pd.DataFrame:
        """Domestic output of each process (t) and its cost."""
        return _frame(self._json.get("production", []), "production")

    @property
    def shares(self) -> pd.DataFrame:
        """Each stage's share by supplying country and limited group."""
        return _frame(self._json.get("shares", []), "shares")

    @property
    def shadow_prices(self) -> dict[str, pd.DataFrame]:
        """One frame per price table: demand, capacity, process_capacity, minimum,
        limits, reduced_costs (empty frames without a plan)."""
        prices = self._json.get("shadow_prices", {})
        return {name: _frame(prices.get(name, []), name) for name in PRICE_TABLES}

    @property
    def diagnosis(self) -> dict | None:
        """Why no plan exists (conflicting rows, tightest feasible limits), or None."""
        found = self.result.diagnosis
        return None if found is None else found.as_dict()

    def __repr__(self) -> str:
        if self.result.optimal:
            out = self._json
            return (f"<planner.Plan optimal: {self.result.objective_usd:,.2f} USD; "
                    f"{len(out['purchases'])} purchases, "
                    f"{sum(r['binding'] for r in out['shadow_prices']['limits'])} binding "
                    "limits>")
        return f"<planner.Plan {self.status}: {self.message}>"

    def _repr_html_(self) -> str:
        head = f"<p><b>{html.escape(self.status)}</b>"
        if self.result.optimal:
            head += f": total landed cost {self.result.objective_usd:,.2f} USD"
        else:
            head += f": {html.escape(self.message)}"
        parts = [head + "</p>"]
        if self.result.optimal:
            tables = {name: getattr(self, name) for name in HTML_TABLES}
            prices = self.shadow_prices
            tables |= {"demand prices (USD/t)": prices["demand"],
                       "limit prices (USD/pp)": prices["limits"]}
            for name, frame in tables.items():
                parts.append(f"<h4>{html.escape(name)}</h4>"
                             + frame.to_html(index=False, max_rows=30, na_rep="–"))
        elif self.result.diagnosis is not None:
            parts.append(f"<pre>{html.escape(self.result.diagnosis.summary)}</pre>")
        return "\n".join(parts)


def _whole_cost_count(whole_costs: int | str) -> int | None:
    """``whole_costs`` as the engine takes it (None: all); an input error otherwise."""
    try:
        return whole_cost_count(whole_costs)
    except ValueError:
        raise InputError([Problem("whole_costs", "a count (0, 1, 2, ...) or 'all'",
                                  value=str(whole_costs))]) from None


def solve(data: Inputs | Dataset | str | Path | Mapping, scenario: str | None = None,
          caps: Mapping[str, float] | None = None, zone: str | None = None,
          time_limit: float | None = None, period: str | None = None,
          whole_costs: int | str = WHOLE_COST_LIMIT) -> Plan:
    """Solve a dataset (from ``load``, or anything ``load`` takes) under a scenario, caps
    (``{"GROUP:STAGE": max_share}``, direct and volume, like ``--cap``) and a zone
    status; the plan, its shadow prices, or the diagnosis of why none exists.
    ``whole_costs``: how many binding share limits get their whole cost, largest rates
    first (``"all"``: every one), like ``--whole-costs``."""
    if time_limit is not None and not time_limit > 0:
        raise InputError([Problem("time_limit", "seconds > 0", value=str(time_limit))])
    count = _whole_cost_count(whole_costs)
    inputs = _inputs(data)
    dataset, found = prepare(inputs.dataset, scenario, _cap_overrides(caps or {}), zone, period)
    for problem in found:
        warnings.warn(str(problem), stacklevel=2)
    result = labelled(solve_plan(dataset, time_limit=time_limit, context=True,
                                 whole_costs=count))
    manifest = build_manifest("planner.solve", {"scenario": scenario, "caps": dict(caps or {}),
                                                "zone": zone, "period": period,
                                                "time_limit": time_limit,
                                                "whole_costs": whole_costs},
                              list(inputs.digests), result.residuals)
    return Plan(result, manifest, [*inputs.warnings, *found])


def compare(data: Inputs | Dataset | str | Path | Mapping,
            scenarios: list[str] | str | None = None,
            whole_costs: int | str = WHOLE_COST_LIMIT) -> pd.DataFrame:
    """Scenarios side by side (default: the base dataset, then every scenario): one row
    per metric, one column per scenario, as ``planner compare`` prints. The run
    manifest is in ``frame.attrs["manifest"]``. ``whole_costs`` as for ``solve``."""
    count = _whole_cost_count(whole_costs)
    inputs = _inputs(data)
    dataset = inputs.dataset
    names = [scenarios] if isinstance(scenarios, str) else list(
        scenarios or default_names(dataset))
    outcomes = compare_scenarios(dataset, names, count)
    report = comparison(outcomes)
    stages = [s.stage for s in sorted(dataset.stages, key=lambda s: s.order)]
    frame = pd.DataFrame.from_records(comparison_rows(report, stages)).set_index("metric")
    frame.attrs["manifest"] = build_manifest(
        "planner.compare", {"scenarios": names, "whole_costs": whole_costs}, list(inputs.digests),
        {o.name: o.result.residuals for o in outcomes})
    return frame


@dataclass(repr=False)
class Sweep:
    """A cap sweep: the points solved, the exact segments (``exact=True``) and the
    tightest feasible cap, as ``planner sweep --format json`` reports them."""

    report: dict
    points: pd.DataFrame
    segments: pd.DataFrame
    breakpoints: pd.DataFrame
    tightest_feasible_cap: float | None

    def to_json(self) -> dict:
        """The CLI's sweep JSON object, manifest included."""
        return self.report

    def __repr__(self) -> str:
        cap = self.report.get("cap", {})
        return (f"<planner.Sweep {cap.get('group')}:{cap.get('stage')} "
                f"({cap.get('scope')}, {cap.get('basis')}): {len(self.points)} points, "
                f"{len(self.segments)} segments, tightest feasible cap "
                f"{self.tightest_feasible_cap}>")

    def _repr_html_(self) -> str:
        parts = [f"<p>{html.escape(repr(self))}</p>"]
        for name in ("segments", "points"):
            frame = getattr(self, name)
            if len(frame):
                parts.append(f"<h4>{name}</h4>"
                             + frame.to_html(index=False, max_rows=30, na_rep="–"))
        return "\n".join(parts)


def sweep(data: Inputs | Dataset | str | Path | Mapping, cap: str, exact: bool = False,
          start: float | None = None, end: float | None = None, steps: int = 11,
          scope: str = "direct", basis: str = "volume", scenario: str | None = None,
          period: str | None = None) -> Sweep:
    """Optimal cost against the max share of ``cap`` (``"CN:magnet"``): the exact curve
    piece by piece, or a grid of ``steps`` points from ``start`` to ``end``."""
    inputs = _inputs(data)
    dataset, _ = prepare(inputs.dataset, scenario)
    check_period(dataset, period)
    group, colon, stage = str(cap).partition(":")
    problems = _sweep_problems(colon, group, stage, exact, start, end, steps, scope, basis)
    problems += target_problems(dataset, [(group, stage)]) if not problems else []
    if errors(problems):
        raise InputError(errors(problems))
    target = CapTarget(group, stage, Scope(scope), Basis(basis), period)
    out = sweep_json(cap_sweep(dataset, [target], exact, start, end, steps, lambda *_: None))
    out["manifest"] = build_manifest(
        "planner.sweep", {"cap": cap, "exact": exact, "from": start, "to": end,
                          "steps": steps, "scope": scope, "basis": basis,
                          "scenario": scenario, "period": period}, list(inputs.digests),
        SWEEP_VERIFICATION)
    return Sweep(out, _frame(out["points"]), _frame(out.get("segments", [])),
                 _frame(out.get("breakpoints", [])), out.get("tightest_feasible_cap"))


def _sweep_problems(colon: str, group: str, stage: str, exact: bool, start: float | None,
                    end: float | None, steps: int, scope: str, basis: str) -> list[Problem]:
    """What ``planner sweep`` refuses as bad usage, as problems."""
    problems = []
    if not (colon and group and stage):
        problems.append(Problem("cap", "GROUP:STAGE, e.g. CN:magnet",
                                value=f"{group}{colon}{stage}"))
    if scope not in ("direct", "embedded"):
        problems.append(Problem("scope", "direct or embedded", value=str(scope)))
    if basis not in ("volume", "value"):
        problems.append(Problem("basis", "volume or value", value=str(basis)))
    for name, value in (("start", start), ("end", end)):
        if value is not None and not 0.0 <= value <= 1.0:
            problems.append(Problem(name, "a share in [0, 1]", value=str(value)))
    if not (isinstance(steps, int) and steps >= 1):
        problems.append(Problem("steps", "a whole number ≥ 1", value=str(steps)))
    if exact and (group == "each" or stage == "*"):
        problems.append(Problem("cap", "one row for an exact sweep: a country, tag, zone "
                                "or non-zone at one stage (sweep each or * on a grid)",
                                value=f"{group}:{stage}"))
    return problems


@dataclass
class Stress:
    """The plan under disruption branches (``planner stress``): expected cost, CVaR, the
    value of the reserve and of the stochastic solution, per-branch costs and stocks."""

    report: dict
    branches: pd.DataFrame
    stocks: pd.DataFrame
    samples: pd.DataFrame   # each distinct sampled future (none without samples)

    def to_json(self) -> dict:
        """The CLI's stress JSON object, manifest included."""
        return self.report

    def __repr__(self) -> str:
        r = self.report
        return (f"<planner.Stress {r.get('status')}: expected {r.get('expected_cost_usd')} "
                f"USD, CVaR {r.get('cvar_usd')} USD; reserve worth {r.get('reserve_value_usd')}"
                f", VSS {r.get('vss_usd')}>")


def stress(data: Inputs | Dataset | str | Path | Mapping, risk_weight: float | None = None,
           alpha: float | None = None, scenario: str | None = None, zone: str | None = None,
           samples: int | None = None, seed: int | None = None,
           scheduler: str | None = None, workers: int | None = None,
           break_even: str | None = None) -> Stress:
    """``planner stress``: the plan under the dataset's disruptions (risk weight and CVaR
    level from the arguments, else from ``settings``), its reserve value and VSS; with
    ``samples``, the plan tested on that many sampled futures on Dask (``seed``, default
    0; ``scheduler``: an existing cluster, else a local one of ``workers`` processes);
    with ``break_even`` (a pattern of disruption ids), the probability of those
    disruptions above which joining the zone is cheaper than observing it."""
    problems = stress_problems(risk_weight, alpha, samples, seed, scheduler, workers)
    if problems:
        raise InputError(problems)
    inputs = _inputs(data)
    dataset, _ = prepare(inputs.dataset, scenario, zone=zone)
    sampling = None if samples is None else Sampling(samples, seed or 0, scheduler, workers)
    result, out = stress_report(dataset, risk_weight, alpha, sampling)
    if break_even is not None:
        out["break_even"] = zone_break_even(dataset, break_even, risk_weight, alpha)
    out["manifest"] = build_manifest("planner.stress", {
        "risk_weight": risk_weight, "alpha": alpha, "scenario": scenario, "zone": zone,
        "samples": samples, "seed": seed, "scheduler": scheduler, "workers": workers,
        "break_even": break_even},
        list(inputs.digests), result.residuals)
    samples_frame = _frame(out["samples"]["futures"] if "samples" in out else [])
    return Stress(out, _frame(out.get("branches", [])), _frame(out.get("stocks", [])),
                  samples_frame)


def stress_problems(risk_weight: float | None, alpha: float | None, samples: int | None,
                    seed: int | None, scheduler: str | None, workers: int | None
                    ) -> list[Problem]:
    """What is wrong with ``stress``'s arguments (the CLI's flags say the same)."""
    found = []
    for name, value in (("risk_weight", risk_weight), ("alpha", alpha)):
        if value is not None and not (0.0 <= value <= 1.0 and (name != "alpha" or value < 1)):
            found.append(Problem(name, "a number in [0, 1]" if name == "risk_weight"
                                 else "a number in [0, 1)", value=str(value)))
    for name, value, low in (("samples", samples, 1), ("seed", seed, 0),
                             ("workers", workers, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < low):
            found.append(Problem(name, f"a whole number ≥ {low}", value=str(value)))
    if samples is None and (seed is not None or scheduler is not None or workers is not None):
        found.append(Problem("samples", "samples (a number of futures to draw): seed, "
                             "scheduler and workers apply only to sampled futures"))
    if scheduler is not None and workers is not None:
        found.append(Problem("workers", "no workers with a scheduler: the cluster at the "
                             "scheduler's address has its own", value=str(workers)))
    return found


def with_risk(dataset: Dataset, risk_weight: float | None, alpha: float | None) -> Dataset:
    """``dataset`` with λ and α from the arguments, where given."""
    return replace(dataset, risk_weight=dataset.risk_weight if risk_weight is None
                   else risk_weight, cvar_alpha=dataset.cvar_alpha if alpha is None else alpha)


def zone_break_even(dataset: Dataset, pattern: str, risk_weight: float | None,
                    alpha: float | None) -> dict:
    """The probability of the disruptions matching ``pattern`` above which joining the
    zone is cheaper than observing it (``planner.analysis.breakeven``), as JSON; from the
    prepared ``dataset`` (a zone status set last replaces the run's own)."""
    joined, observer = (with_risk(prepare(dataset, zone=zone)[0], risk_weight, alpha)
                        for zone in ("joined", "observer"))
    return breakeven.break_even(joined, observer, pattern).summary()


def stress_report(dataset: Dataset, risk_weight: float | None, alpha: float | None,
                  sampling: Sampling | None) -> tuple[Result, dict]:
    """Solve ``dataset`` under its disruptions (λ and α from the arguments, else from its
    settings): the labelled plan and SPEC §5's stress object (without its manifest)."""
    dataset = with_risk(dataset, risk_weight, alpha)
    outcome = run_stress(dataset, sampling=sampling)
    result = labelled(outcome.plan)
    return result, stress_json(result, outcome.reserve_value_usd, outcome.vss_usd,
                               outcome.reserve_days,
                               outcome.samples)
