"""Apply scenario rows and command-line overrides to a dataset (SPEC §5).

A scenario is the base dataset with its rows applied in order; flags given on
the command line apply after the scenario's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from difflib import get_close_matches

from planner.io.problems import InputError, Problem, Severity
from planner.io.validate import scenario_step_problems
from planner.models.data import Dataset, ScenarioStep
from planner.models.groups import is_country_code
from planner.models.settings import apply_setting, set_share, set_zone_member

__all__ = ["CapOverride", "apply_caps", "apply_scenario", "apply_step", "cap_override",
           "override", "scenario_names", "set_share", "set_zone_member", "stage_problems",
           "target_problems"]


@dataclass(frozen=True)
class CapOverride:
    """``--cap GROUP:STAGE=SHARE``: the direct, volume-basis max share of a group."""

    group: str
    stage: str
    share: float

    @property
    def text(self) -> str:
        """Where it came from, for reports."""
        return f"command line: --cap {self.group}:{self.stage}={self.share:g}"


def cap_override(target: str, share: object) -> CapOverride | None:
    """``GROUP:STAGE`` and a share in [0, 1] as a cap; None when either is malformed."""
    group, colon, stage = target.partition(":")
    try:
        value = float(share)
    except (TypeError, ValueError):
        return None
    if not (colon and group and stage and 0.0 <= value <= 1.0):
        return None
    return CapOverride(group, stage, value)


def scenario_names(data: Dataset) -> list[str]:
    """Scenario names in order of first appearance."""
    return list(dict.fromkeys(step.scenario for step in data.scenarios))


def apply_scenario(data: Dataset, name: str) -> Dataset:
    """The base dataset with scenario ``name``'s rows applied in order."""
    steps = [s for s in data.scenarios if s.scenario == name]
    if not steps:
        names = scenario_names(data)
        close = get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        known = ", ".join(names) or "none defined"
        raise InputError([Problem("scenarios", f"{hint}a scenario defined in the dataset "
                                  f"({known})", column="scenario", value=name)])
    for step in steps:
        data = apply_step(data, step)
    return replace(data, name=f"{data.name} [{name}]" if data.name else name)


def apply_step(data: Dataset, step: ScenarioStep) -> Dataset:
    """Apply one scenario row (checked first). Over time (a ``periods`` table) the row
    becomes an override of every period's data (or of ``step.period``'s), applied after
    that period's ``period_values``."""
    stages = {s.stage for s in data.stages}
    tags = {t for c in data.countries for t in c.groups}
    problems = scenario_step_problems(step.setting, step.target, step.value, stages, tags)
    if step.period is not None and step.period not in {p.period for p in data.periods}:
        problems.append(("period", "a period id from periods ("
                         + (", ".join(p.period for p in data.periods) or "none defined") + ")"))
    if problems:
        shown = {"value": step.value, "period": step.period}
        raise InputError([Problem("scenarios", expected, column=column,
                                  value=shown.get(column, step.target))
                          for column, expected in problems])
    return override(data, step)


def override(data: Dataset, step: ScenarioStep) -> Dataset:
    """A checked setting applied now, or, over time, kept for every period's data."""
    if data.periods:
        return replace(data, overrides=(*data.overrides, step))
    return apply_setting(data, step)


def apply_caps(data: Dataset, caps: list[CapOverride], period: str | None = None) -> Dataset:
    """Apply ``--cap`` overrides in order (over time: in every period, or in ``period``)."""
    for cap in caps:
        data = override(data, ScenarioStep("--cap", "max_share", f"{cap.group}:{cap.stage}",
                                           repr(cap.share), cap.text, period))
    return data


def stage_problems(data: Dataset, stages: list[str], flag: str,
                   any_stage: bool = True) -> list[Problem]:
    """A problem for each stage that is not a stage of the dataset (nor ``*`` where
    ``any_stage`` allows it)."""
    names = sorted(s.stage for s in data.stages)
    allowed = {*names, "*"} if any_stage else set(names)
    expected = f"a stage from stages ({', '.join(names)})" + (" or *" if any_stage else "")
    return [Problem(flag, expected, column="STAGE", value=stage)
            for stage in stages if stage not in allowed]


def target_problems(data: Dataset, targets: list[tuple[str, str]],
                    flag: str = "--cap") -> list[Problem]:
    """Problems with the groups and stages of ``--cap`` (or ``--capacity-factor``, where
    the group may be ``*``): errors for an unknown stage or group, a warning for a
    well-formed country code that ``countries`` does not list."""
    special = {"zone", "non-zone", "each"} if flag == "--cap" else {"zone", "non-zone", "*"}
    problems = stage_problems(data, [stage for _, stage in targets], flag)
    problems += [Problem(flag, "a country code, a tag from countries.groups, "
                         + ", ".join(sorted(special)), column="GROUP", value=group)
                 for group, _ in targets
                 if not (is_country_code(group) or group in special
                         or any(group in k.groups for k in data.countries))]
    listed = {c.country for c in data.countries}
    problems += [Problem(flag, "a country listed in countries (is the code a typo?)",
                         column="GROUP", value=group, severity=Severity.WARNING)
                 for group, _ in targets
                 if is_country_code(group) and listed and group not in listed]
    return problems
