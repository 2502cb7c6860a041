"""The ``planner`` command (click). Thin: parse options, call library functions,
map outcomes to exit codes.

Exit codes: 0 a plan was found; 1 no feasible plan (the report says why);
2 bad usage or bad input data; 3 the solver failed or stopped without a
verified plan.
"""

from __future__ import annotations

import io
import re
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.io import write as writers
from planner.io.problems import InputError, Problem, Severity, errors
from planner.io.shipped import default_inputs
from planner.models.data import Basis, Dataset, Scope, ZoneStatus
from planner.reports.sweep_tables import closing_line, sweep_json, sweep_tables
from planner.solving import WHOLE_COST_LIMIT, whole_cost_count

if TYPE_CHECKING:
    from planner.analysis.scenarios import CapOverride
    from planner.analysis.sweep import CapTarget

# Start-up: the rest (pandas, Pyomo, HiGHS, scipy, rich, the report tables) is imported
# inside the commands that use it, so `--help` loads only click and small modules and
# `check` no solver (tests/test_startup.py; bench/startup_benchmark.py measures it).

EXIT_PLAN, EXIT_INFEASIBLE, EXIT_BAD_INPUT, EXIT_SOLVER = 0, 1, 2, 3


def load(path) -> tuple[Dataset, list[Problem]]:
    """Read and validate a dataset (a folder, an .xlsx workbook, or a dict of pandas
    DataFrames: table name -> frame); raises InputError with every problem."""
    from planner.io.read import read_inputs  # pandas: only when a dataset is read
    from planner.io.validate import validate

    return validate(read_inputs(path))


class WholeCosts(click.ParamType):
    """``--whole-costs``: a count of binding limits (≥ 0) or ``all`` (None)."""

    name = "N|all"

    def convert(self, value, param, ctx):
        """A count, or None for ``all``; a usage error otherwise."""
        try:
            return whole_cost_count(int(value) if str(value).isdigit() else value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


WHOLE_COSTS_OPTION = click.option(
    "--whole-costs", "whole_costs", type=WholeCosts(), default=str(WHOLE_COST_LIMIT),
    show_default=True, help="Measure the whole cost of this many binding share limits, "
    "largest USD/pp first (one warm re-solve each), or of all of them.")

PERIOD_OPTION = click.option(
    "--period", metavar="PERIOD", help="Over time: apply --cap in this period only "
    "(default: in every period).")


def parse_cap(_ctx, _param, values: tuple[str, ...]) -> list[CapOverride]:
    """``GROUP:STAGE=SHARE`` → CapOverride; a usage error otherwise."""
    from planner.analysis.scenarios import cap_override  # pandas: only with --cap
    caps = []
    for text in values:
        target, sep, share = text.partition("=")
        cap = cap_override(target, share) if sep else None
        if cap is None:
            raise click.BadParameter(f"{text!r}: expected GROUP:STAGE=SHARE with SHARE in "
                                     "[0, 1], e.g. CN:magnet=0.6")
        caps.append(cap)
    return caps


inputs_option = click.option(
    "--inputs", type=click.Path(path_type=Path), default=None,
    help="Dataset: a folder of CSV files or one .xlsx workbook (default: shipped Korea 2025).")


@click.group()
@click.version_option(package_name="supply-planner")
def main() -> None:
    """Plan critical-mineral sourcing: least landed cost under dependence caps and trade rules."""


@main.command()
@inputs_option
@click.option("--scenario", help="Apply a named scenario from the dataset's scenarios table.")
@click.option("--cap", "caps", multiple=True, callback=parse_cap, metavar="GROUP:STAGE=SHARE",
              help="Set the max share (direct, volume) of a group at a stage; repeatable.")
@click.option("--zone", type=click.Choice(["joined", "observer"]),
              help="Buyer's trade-zone status (overrides settings and scenario).")
@PERIOD_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table", show_default=True, help="Output format.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Write here instead of the terminal (a folder for csv, a file otherwise).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True),
              help="Stop the solver after this many seconds.")
@WHOLE_COSTS_OPTION
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected errors.")
def solve(inputs, scenario, caps, zone, period, fmt, output, time_limit, whole_costs,
          debug) -> None:
    """Solve the sourcing plan and report the mix and its shadow prices."""
    # The solver stack and the report tables: only for the commands that need them.
    from planner.reports.manifest import build_manifest
    from planner.reports.tables import as_json, report_tables
    from planner.solving.engine import solve_plan
    from planner.solving.result import labelled

    inputs = inputs or default_inputs()
    with _Guard(debug, fmt):
        output_check(fmt, output, inputs)
        data, digests = _prepare(inputs, scenario, caps, zone, period)
        result = labelled(solve_plan(data, time_limit=time_limit, context=True,
                                     whole_costs=whole_costs))
        manifest = build_manifest("solve", {
            "inputs": inputs, "scenario": scenario,
            "caps": [f"{c.group}:{c.stage}={c.share:g}" for c in caps],
            "zone": zone, "period": period, "format": fmt, "output": output,
            "time_limit": time_limit, "whole_costs": _count_or_all(whole_costs)},
            digests, result.residuals)
        emit(fmt, output, lambda: as_json(result), lambda: report_tables(result), manifest)
        click.echo(outcome_line(result), err=True)
        if result.optimal:
            sys.exit(EXIT_PLAN)
        sys.exit(EXIT_INFEASIBLE if result.diagnosis is not None else EXIT_SOLVER)


def _count_or_all(whole_costs: int | None) -> int | str:
    """``--whole-costs`` as the manifest records it."""
    return "all" if whole_costs is None else whole_costs


def outcome_line(result) -> str:
    """The one line that closes every solve: status and what it means."""
    if result.optimal:
        return f"optimal: total landed cost {result.objective_usd:,.2f} USD"
    if result.diagnosis is not None:
        return f"infeasible: {result.diagnosis.summary}"
    return f"error: {result.message}"


def output_check(fmt: str, path: Path | None, inputs: Path) -> None:
    """Usage error when a file format has no --output, or --output would land in the
    inputs or cannot be written."""
    if fmt in ("csv", "xlsx") and path is None:
        raise click.UsageError(f"--format {fmt} writes files: give --output PATH")
    if path is None:
        return
    if fmt == "xlsx" and path.suffix.lower() != ".xlsx":
        raise click.UsageError(f"--format xlsx writes a workbook: give --output a name "
                               f"ending in .xlsx (not {path.name!r})")
    try:
        writers.check_target(path, inputs, folder=fmt == "csv")
    except writers.OutputError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@inputs_option
def check(inputs) -> None:
    """Validate a dataset and list every problem (exit 2 if any error)."""
    from planner.io.read import read_dataset  # pandas, not the solver stack
    inputs = inputs or default_inputs()
    with _Guard(False, "table"):
        # Typed frames only, no per-row records; validation also checks every scenario
        # row as applying it would (scenario_step_problems).
        from planner.io.validate import validate_frames

        tables, warnings = validate_frames(read_dataset(inputs))
        for problem in warnings:
            click.echo(str(problem), err=True)
        names = tables.scenario_names()
        click.echo(f"{inputs}: OK — {len(tables['stages'])} stages, "
                   f"{len(tables['offers'])} offers, {len(tables['processes'])} process(es), "
                   f"{len(tables['limits'])} limit(s), "
                   + "".join(f"{len(tables[name])} {label}, " for name, label in (
                       ("periods", "period(s)"), ("stocks", "stock(s)"),
                       ("expansions", "expansion(s)")) if len(tables[name]))
                   + f"{len(names)} scenarios" + (f" ({', '.join(names)})" if names else "")
                   + (f", {len(warnings)} warning(s)" if warnings else ""))


@main.command()
@inputs_option
@click.option("--scenario", help="Apply a named scenario from the dataset's scenarios table.")
@click.option("--zone", type=click.Choice(["joined", "observer"]),
              help="Buyer's trade-zone status (overrides settings and scenario).")
@click.option("--risk-weight", "risk_weight", type=click.FloatRange(0, 1),
              help="λ: weight of CVaR against expected cost (default: settings risk_weight).")
@click.option("--alpha", type=click.FloatRange(0, 1, max_open=True),
              help="α of CVaR (default: settings cvar_alpha).")
@click.option("--samples", type=click.IntRange(min=1),
              help="Test the plan on N sampled futures (solved on Dask).")
@click.option("--seed", type=click.IntRange(min=0),
              help="Seed of the sampled futures (default 0).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Solve the futures on an existing Dask cluster (e.g. tcp://host:8786).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes of the local Dask cluster (default: one per core).")
@click.option("--plot", type=click.Path(path_type=Path),
              help="Also draw the branch costs, sampled futures and stock paths (.png/.svg).")
@click.option("--break-even", "break_even", metavar="PATTERN",
              help="The probability of the disruptions matching PATTERN (e.g. 'cn-*') above "
                   "which joining the zone is cheaper than observing it, found exactly.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table", show_default=True, help="Output format.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Write here instead of the terminal (a folder for csv, a file otherwise).")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected errors.")
def stress(inputs, scenario, zone, risk_weight, alpha, samples, seed, scheduler, workers, plot,
           break_even, fmt, output, debug) -> None:
    """The plan under disruption branches: expected cost, CVaR, the value of the reserve
    and of planning for the disruptions; with --samples, the plan on sampled futures."""
    # The solver stack and the report tables: only for the commands that need them.
    from planner.analysis import breakeven
    from planner.analysis.stress import Sampling
    from planner.api import stress_problems, stress_report, zone_break_even
    from planner.reports.manifest import build_manifest
    from planner.reports.render import LazyProgress
    from planner.reports.tables import stress_tables

    inputs = inputs or default_inputs()
    with _Guard(debug, fmt):
        problems = stress_problems(risk_weight, alpha, samples, seed, scheduler, workers)
        if problems:   # the API's words, with the flags' names
            raise click.UsageError("; ".join(
                re.sub(r"\b(samples|seed|scheduler|workers|risk_weight|alpha)\b",
                       lambda m: "--" + m.group(1).replace("_", "-"), p.expected)
                + (f" (got {p.value})" if p.value else "") for p in problems))
        output_check(fmt, output, inputs)
        if plot is not None:
            plot_check(plot, inputs)
        data, digests = _prepare(inputs, scenario, [], zone)
        if break_even is not None:   # before any solve: a pattern that matches nothing
            breakeven.chosen(data, break_even)
        with LazyProgress("sampled futures") as progress:
            sampling = None if samples is None else Sampling(
                samples, seed or 0, scheduler, workers, progress.advance)
            result, out = stress_report(data, risk_weight, alpha, sampling)
        if break_even is not None and result.optimal:
            out["break_even"] = zone_break_even(data, break_even, risk_weight, alpha)
        manifest = build_manifest("stress", {
            "inputs": inputs, "scenario": scenario, "zone": zone, "risk_weight": risk_weight,
            "alpha": alpha, "samples": samples, "seed": seed, "scheduler": scheduler,
            "workers": workers, "plot": plot, "break_even": break_even, "format": fmt,
            "output": output}, digests, result.residuals)
        emit(fmt, output, lambda: out, lambda: stress_tables(result, out), manifest)
        if plot is not None:
            from planner.reports.stress_plots import plot_stress  # matplotlib only if asked
            plot_stress(out, plot, names={c.country: c.name for c in data.countries if c.name})
            click.echo(f"wrote plot to {plot}", err=True)
        click.echo(outcome_line(result), err=True)
        failed = out.get("samples", {}).get("failed")
        if failed:
            click.echo(f"{sum(f['count'] for f in failed)} of {samples} sampled future(s) "
                       f"not solved ({len(failed)} distinct): see samples.failed", err=True)
        if result.optimal and not failed:
            sys.exit(EXIT_PLAN)
        sys.exit(EXIT_INFEASIBLE if result.diagnosis is not None else EXIT_SOLVER)



@main.command()
@inputs_option
@click.argument("names", nargs=-1, metavar="[SCENARIO]...")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table", show_default=True, help="Output format.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Write here instead of the terminal (a folder for csv, a file otherwise).")
@WHOLE_COSTS_OPTION
def compare(inputs, names, fmt, output, whole_costs) -> None:
    """Solve scenarios side by side (default: the base dataset, then every scenario)."""
    # The solver stack and the report tables: only for the commands that need them.
    from planner.analysis.compare import compare_scenarios, default_names
    from planner.reports.compare_tables import comparison, comparison_rows
    from planner.reports.manifest import build_manifest, input_digests

    inputs = inputs or default_inputs()
    with _Guard(False, fmt):
        output_check(fmt, output, inputs)
        data, warnings = load(inputs)
        digests = input_digests(inputs)
        for problem in warnings:
            click.echo(str(problem), err=True)
        wanted = list(names) or default_names(data)
        outcomes = compare_scenarios(data, wanted, whole_costs)
        report = comparison(outcomes)
        stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
        manifest = build_manifest("compare", {"inputs": inputs, "scenarios": wanted,
                                              "format": fmt, "output": output,
                                              "whole_costs": _count_or_all(whole_costs)},
                                  digests,
                                  {o.name: o.result.residuals for o in outcomes})
        emit(fmt, output, lambda: report,
             lambda: {"comparison": comparison_rows(report, stages)}, manifest)
        solved = sum(c["status"] == "optimal" for c in report["columns"])
        click.echo(f"compared {len(wanted)} scenario(s): {solved} with a plan", err=True)
        sys.exit(EXIT_PLAN if solved else EXIT_INFEASIBLE)


def parse_target(_ctx, _param, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """``GROUP:STAGE`` → (group, stage); a usage error otherwise."""
    targets = []
    for text in values:
        group, colon, stage = text.partition(":")
        if not (colon and group and stage) or "=" in text:
            raise click.BadParameter(f"{text!r}: expected GROUP:STAGE, e.g. CN:magnet")
        targets.append((group, stage))
    return targets


@main.command()
@inputs_option
@click.option("--cap", "targets", multiple=True, callback=parse_target, metavar="GROUP:STAGE",
              help="The cap to move: max share of a group at a stage (twice for a grid).")
@click.option("--scope", type=click.Choice(["direct", "embedded"]),
              help="Count the cap by seller or by upstream origin (default: as the "
                   "dataset's limit for that group and stage, else direct).")
@click.option("--basis", type=click.Choice(["volume", "value"]),
              help="Weigh the cap's share by tonnes or by value (default: as the dataset's "
                   "limit, else volume).")
@click.option("--exact", is_flag=True, help="The exact cost curve, piece by piece (one cap).")
@click.option("--from", "start", type=float, help="First value (cap: share in [0, 1]).")
@click.option("--to", "end", type=float, help="Last value (cap: share in [0, 1]).")
@click.option("--steps", type=click.IntRange(min=1), help="Points of a grid (default 11).")
@click.option("--benchmark", metavar="STAGE", help="Sweep a stage's zone benchmark (USD/t).")
@click.option("--capacity-factor", metavar="GROUP:STAGE",
              help="Sweep the capacity factor of a group's offers at a stage.")
@click.option("--zone", "zone_sweep", is_flag=True, help="Compare observer and joined.")
@click.option("--scenario", help="Sweep within a named scenario of the dataset.")
@PERIOD_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table", show_default=True, help="Output format.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Write here instead of the terminal (a folder for csv, a file otherwise).")
@click.option("--plot", type=click.Path(path_type=Path),
              help="Also draw the sweep (.png or .svg).")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected errors.")
def sweep(inputs, targets, scope, basis, exact, start, end, steps, benchmark, capacity_factor,
          zone_sweep, scenario, period, fmt, output, plot, debug) -> None:
    """Optimal cost against a cap (exact curve or grid), or against a parameter."""
    # The solver stack and the report tables: only for the commands that need them.
    from planner.analysis.scenarios import stage_problems
    from planner.analysis.sweep import VERIFICATION as SWEEP_VERIFICATION
    from planner.analysis.sweep import cap_sweep, parameter_sweep
    from planner.api import check_period
    from planner.reports.manifest import build_manifest
    from planner.reports.render import LazyProgress

    inputs = inputs or default_inputs()
    with _Guard(debug, fmt):
        mode = _sweep_mode(targets, exact, start, end, steps, benchmark, capacity_factor,
                           zone_sweep)
        output_check(fmt, output, inputs)
        if plot is not None:
            plot_check(plot, inputs)
        if period is not None and mode != "cap":
            raise click.UsageError("--period chooses the period of a swept --cap")
        data, digests = _prepare(inputs, scenario, [], None)
        check_period(data, period)
        with LazyProgress("solving", None if exact else (steps or 11)) as progress:
            if mode == "cap":
                check_targets(data, targets)
                if any(lim.max_cost_usd_per_pp is not None for lim in data.limits):
                    click.echo("note: soft limits in the dataset are held hard during a cap "
                               "sweep", err=True)
                result = cap_sweep(data, [cap_target(data, g, s, scope, basis, period)
                                          for g, s in targets], exact, start, end,
                                   steps or 11, progress)
            else:
                setting, target, values = _parameter(mode, benchmark, capacity_factor, start,
                                                     end, steps or 11)
                if setting == "benchmark" and (bad := stage_problems(
                        data, [target], "--benchmark", any_stage=False)):
                    raise InputError(bad)
                if setting == "capacity_factor":
                    check_targets(data, [tuple(target.split(":", 1))], "--capacity-factor")
                if setting == "benchmark" and data.zone is ZoneStatus.OBSERVER:
                    click.echo("note: benchmarks apply only when the buyer has joined the "
                               "zone; the buyer is an observer here (try --scenario joined)",
                               err=True)
                result = parameter_sweep(data, setting, target, values, progress)
        out = sweep_json(result)
        manifest = build_manifest("sweep", {
            "inputs": inputs, "cap": [f"{g}:{s}" for g, s in targets], "scope": scope,
            "basis": basis, "exact": exact, "from": start, "to": end, "steps": steps,
            "benchmark": benchmark, "capacity_factor": capacity_factor, "zone": zone_sweep,
            "scenario": scenario, "period": period, "format": fmt, "output": output,
            "plot": plot}, digests,
            SWEEP_VERIFICATION)
        emit(fmt, output, lambda: out, lambda: sweep_tables(out), manifest)
        if plot is not None:
            from planner.reports.plots import plot_sweep  # matplotlib only when a plot is asked for
            plot_sweep(out, plot, names={c.country: c.name for c in data.countries if c.name})
            click.echo(f"wrote plot to {plot}", err=True)
        click.echo(closing_line(out), err=True)
        sys.exit({"optimal": EXIT_PLAN, "infeasible": EXIT_INFEASIBLE}.get(result.status,
                                                                          EXIT_SOLVER))


def cap_target(data: Dataset, group: str, stage: str, scope: str | None,
               basis: str | None, period: str | None = None) -> CapTarget:
    """The cap to sweep: scope and basis as given, else as the dataset's one max-share
    limit for exactly this group and stage, else direct and volume."""
    from planner.analysis.sweep import CapTarget  # the solver stack: sweep only
    limits = [lim for lim in data.limits if (lim.group, lim.stage) == (group, stage)
              and lim.max_share is not None and (scope is None or lim.scope.value == scope)
              and (basis is None or lim.basis.value == basis)]
    found = limits[0] if len(limits) == 1 else None
    return CapTarget(group, stage,
                     Scope(scope) if scope else (found.scope if found else Scope.DIRECT),
                     Basis(basis) if basis else (found.basis if found else Basis.VOLUME),
                     period)


def _sweep_mode(targets, exact, start, end, steps, benchmark, capacity_factor,
                zone_sweep) -> str:
    """Which sweep the options ask for; a usage error when they do not fit together."""
    chosen = [m for m, on in (("cap", bool(targets)), ("benchmark", bool(benchmark)),
                              ("capacity_factor", bool(capacity_factor)),
                              ("zone", zone_sweep)) if on]
    if len(chosen) != 1:
        raise click.UsageError("sweep one thing: --cap GROUP:STAGE (once, or twice for a "
                               "grid), --benchmark STAGE, --capacity-factor GROUP:STAGE or "
                               "--zone")
    mode = chosen[0]
    if len(targets) > 2 or len(set(targets)) != len(targets):
        raise click.UsageError("at most two different --cap (a grid over both)")
    if exact and (mode != "cap" or len(targets) != 1 or steps is not None):
        raise click.UsageError("--exact sweeps one --cap (and takes no --steps)")
    if exact and (targets[0][0] == "each" or targets[0][1] == "*"):
        raise click.UsageError("--exact needs a cap that is one row: a country, tag, zone or "
                               "non-zone at one stage (each and stage * give one row per "
                               "country or stage; sweep them on a grid)")
    if mode == "zone" and (start is not None or end is not None or steps is not None):
        raise click.UsageError("--zone compares observer and joined: no --from/--to/--steps")
    if mode == "cap" and any(v is not None and not 0.0 <= v <= 1.0 for v in (start, end)):
        raise click.UsageError("--from and --to of a cap are shares in [0, 1]")
    if mode in ("benchmark", "capacity_factor") and (start is None or end is None
                                                     or min(start, end) < 0):
        raise click.UsageError(f"--{mode.replace('_', '-')} needs --from and --to (≥ 0)")
    return mode


def _parameter(mode: str, benchmark, capacity_factor, start, end,
               steps: int) -> tuple[str, str, list[str]]:
    from planner.analysis.sweep import linear_values  # the solver stack: sweep only
    if mode == "zone":
        return "zone", "", [ZoneStatus.OBSERVER.value, ZoneStatus.JOINED.value]
    target = benchmark if mode == "benchmark" else capacity_factor
    if mode == "capacity_factor" and ":" not in target:
        raise click.BadParameter(f"{target!r}: expected GROUP:STAGE",
                                 param_hint="--capacity-factor")
    return mode, target, [f"{v:.12g}" for v in linear_values(start, end, steps)]


def plot_check(path: Path, inputs: Path) -> None:
    """A usage error unless the plot is a .png or .svg that may be written there."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise click.UsageError("--plot writes a .png or .svg file")
    try:
        writers.check_target(path, inputs, folder=False, flag="--plot")
    except writers.OutputError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@inputs_option
@click.option("--output", type=click.Path(path_type=Path), required=True,
              help="An .xlsx file (from a folder) or a folder (from a workbook).")
def convert(inputs, output) -> None:
    """Convert a dataset between a CSV folder and one .xlsx workbook (cells kept as they are)."""
    # pandas: not for --help
    from planner.io.read import dataset_cells, read_dataset, table_cells
    from planner.io.validate import validate_frames
    inputs = inputs or default_inputs()
    with _Guard(False, "table"):
        to_workbook = output.suffix.lower() == ".xlsx"
        output_check("xlsx" if to_workbook else "csv", output, inputs)
        raw = read_dataset(inputs)
        validate_frames(raw)  # refuse to convert a dataset with errors (read once)
        if to_workbook:
            writers.write_dataset_workbook(output, table_cells(raw))
        else:
            writers.write_dataset_folder(output, dataset_cells(raw))
        click.echo(f"wrote {len(raw.tables)} tables to {output}")


def _prepare(inputs: Path, scenario: str | None, caps: list[CapOverride],
             zone: str | None, period: str | None = None) -> tuple[Dataset, list[dict]]:
    """The dataset to solve, with the digests of the input files as they were read."""
    from planner.api import prepare  # the solver stack: only for the commands that solve
    from planner.reports.manifest import input_digests

    data, found = load(inputs)
    digests = input_digests(inputs)
    for problem in found:
        click.echo(str(problem), err=True)
    data, found = prepare(data, scenario, caps, zone, period)
    for problem in found:
        click.echo(str(problem), err=True)
    return data, digests


def check_targets(data: Dataset, targets: list[tuple[str, str]], flag: str = "--cap") -> None:
    """Exit 2 on an unknown group or stage of ``--cap`` (or ``--capacity-factor``);
    print the warnings."""
    from planner.analysis.scenarios import target_problems  # pandas: not for --help
    problems = target_problems(data, targets, flag)
    if errors(problems):
        raise InputError(errors(problems))
    for problem in problems:
        click.echo(str(problem), err=True)


def emit(fmt: str, path: Path | None, json_object, tables, manifest: dict) -> None:
    """Write a report: ``json_object()`` for json, ``tables()`` for every other format;
    each carries the run ``manifest`` (a key, a file, a sheet, a closing table)."""
    # rich and the manifest's table (pandas): only when a report is written.
    from rich.console import Console

    from planner.reports.manifest import manifest_rows
    from planner.reports.render import PipeConsole, render, silence_stdout

    if fmt == "json":
        text = writers.write_json({**json_object(), "manifest": manifest})
        if path is None:
            try:
                click.echo(text)
            except BrokenPipeError:   # the reader closed the pipe: not an error of the plan
                silence_stdout()
            return
        writers.write_text(path, text + "\n")
        click.echo(f"wrote {fmt} to {path}", err=True)
        return
    with_manifest = {**tables(), "manifest": manifest_rows(manifest)}
    if fmt == "csv":
        writers.write_csv_folder(path, with_manifest)
    elif fmt == "xlsx":
        from planner.reports.workbook import write_report_workbook  # xlsxwriter when asked

        write_report_workbook(path, with_manifest)
    elif path is None:
        render(with_manifest, PipeConsole(width=None if sys.stdout.isatty() else 200))
        return
    else:
        buffer = Console(record=True, width=200, file=io.StringIO())
        render(with_manifest, buffer)
        writers.write_text(path, buffer.export_text())
    click.echo(f"wrote {fmt} to {path}", err=True)


class _Guard:
    """Turn input problems into exit 2 and unexpected errors into one line (exit 3)."""

    def __init__(self, debug: bool, fmt: str):
        self.debug, self.fmt = debug, fmt

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is None or isinstance(error, SystemExit | click.ClickException | click.Abort):
            return False
        if isinstance(error, InputError):
            for problem in error.problems:
                click.echo(str(problem), err=True)
            count = sum(p.severity is Severity.ERROR for p in error.problems)
            click.echo(f"{count} error(s) in the input; nothing was solved.", err=True)
            if self.fmt == "json":
                click.echo(writers.write_json({"status": "error", "problems": [
                    {"table": p.table, "row": p.row, "column": p.column, "value": p.value,
                     "expected": p.expected, "severity": p.severity.value}
                    for p in error.problems]}))
            sys.exit(EXIT_BAD_INPUT)
        if isinstance(error, writers.OutputError):
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        if self.debug:
            traceback.print_exception(kind, error, tb)
        else:
            click.echo(f"internal error: {error.__class__.__name__}: {error} "
                       "(run with --debug for details)", err=True)
        sys.exit(EXIT_SOLVER)
