"""Apply scenario rows and command-line overrides to a dataset (SPEC §5).

A scenario is the base dataset with its rows applied in order; flags given on
the command line apply after the scenario's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from difflib import get_close_matches

from planner.io.problems import InputError, Problem, Severity
from planner.io.validate import SHARE_SETTINGS, scenario_step_problems
from planner.models.data import (
    ALL_STAGES,
    Basis,
    Country,
    Dataset,
    Limit,
    Offer,
    ScenarioStep,
    Scope,
    ZoneStatus,
)
from planner.models.groups import in_group, is_country_code


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
    """Apply one scenario row."""
    stages = {s.stage for s in data.stages}
    tags = {t for c in data.countries for t in c.groups}
    problems = scenario_step_problems(step.setting, step.target, step.value, stages, tags)
    if problems:
        raise InputError([Problem("scenarios", expected, column=column, value=step.value
                                  if column == "value" else step.target)
                          for column, expected in problems])
    setting = step.setting
    if setting == "zone":
        return replace(data, zone=ZoneStatus(step.value))
    if setting == "zone_member":
        return set_zone_member(data, step.target, step.value.strip().lower() == "true")
    value = float(step.value)
    if setting in ("benchmark", "demand_factor"):
        return _stage_setting(data, setting, step.target, value)
    group, _, stage = step.target.partition(":")
    if setting in SHARE_SETTINGS:
        scope = Scope.EMBEDDED if setting.startswith("embedded_") else Scope.DIRECT
        return set_share(data, group, stage, setting.removeprefix("embedded_"), value,
                         step.origin, scope)
    return _scale_offers(data, setting, group, stage, value)


def set_zone_member(data: Dataset, country: str, member: bool) -> Dataset:
    """The dataset with ``country`` in the zone (or out of it): a wider or narrower zone.
    A country not listed in ``countries`` is added with that membership."""
    listed = [c.country for c in data.countries]
    if country in listed:
        countries = tuple(replace(c, zone_member=member) if c.country == country else c
                          for c in data.countries)
    else:
        countries = (*data.countries, Country(country, zone_member=member))
    return replace(data, countries=countries)


def apply_caps(data: Dataset, caps: list[CapOverride]) -> Dataset:
    """Apply ``--cap`` overrides in order."""
    for cap in caps:
        data = set_share(data, cap.group, cap.stage, "max_share", cap.share, cap.text)
    return data


def set_share(data: Dataset, group: str, stage: str, which: str, share: float,
              origin: str, scope: Scope = Scope.DIRECT, basis: Basis = Basis.VOLUME
              ) -> Dataset:
    """Replace ``which`` (max_share/min_share) of the limit of ``basis`` and ``scope``
    for exactly this group and stage, or add such a limit; other limits still apply."""
    key = (group, stage, basis, scope)
    limits = list(data.limits)
    for i, limit in enumerate(limits):
        if limit.key == key:
            limits[i] = replace(limit, origin=f"{limit.origin}, {origin}".lstrip(", "),
                                **{which: share})
            break
    else:
        limits.append(Limit(group, stage, basis=basis, scope=scope, origin=origin,
                            **{which: share}))
    return replace(data, limits=tuple(limits))


def _stage_setting(data: Dataset, setting: str, stage: str, value: float) -> Dataset:
    if setting == "benchmark":
        return replace(data, benchmarks={**data.benchmarks, stage: value})
    stages = tuple(replace(s, demand_t=s.demand_t * value) if s.stage == stage else s
                   for s in data.stages)
    return replace(data, stages=stages)


def _scale_offers(data: Dataset, setting: str, group: str, stage: str,
                  factor: float) -> Dataset:
    countries = {c.country: c for c in data.countries}

    def targeted(offer: Offer) -> bool:
        return ((stage == ALL_STAGES or offer.stage == stage)
                and (group == ALL_STAGES or in_group(group, offer.country, countries)))

    offers = tuple(_scaled(o, setting, factor) if targeted(o) else o for o in data.offers)
    return replace(data, offers=offers)


def _scaled(offer: Offer, setting: str, factor: float) -> Offer:
    if setting == "price_factor":
        return replace(offer, price_usd_per_t=offer.price_usd_per_t * factor)
    if offer.capacity_t is None:  # unlimited stays unlimited
        return offer
    capacity = offer.capacity_t * factor
    return replace(offer, capacity_t=capacity, min_t=min(offer.min_t, capacity))


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
