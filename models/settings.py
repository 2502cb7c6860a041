"""Settings applied to a dataset (SPEC §5's scenario settings): pure record changes.

One setting — a scenario row, a ``period_values`` row, a ``--cap`` — is a
``ScenarioStep``; ``apply_setting`` returns the dataset with it applied. The rows are
checked when they are read (``planner.io.validate``); this module assumes valid rows.
"""

from __future__ import annotations

from dataclasses import replace

from .data import (
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
from .groups import in_group

SHARE_SETTINGS = ("max_share", "min_share", "embedded_max_share", "embedded_min_share")


def apply_setting(data: Dataset, step: ScenarioStep) -> Dataset:
    """``data`` with one setting applied (SPEC §5 meanings)."""
    setting = step.setting
    if setting == "zone":
        return replace(data, zone=ZoneStatus(step.value))
    if setting == "zone_member":
        return set_zone_member(data, step.target, step.value.strip().lower() == "true")
    value = float(step.value)
    if setting == "stock_floor_days":
        return _floor_days(data, step.target, value, step.origin)
    if setting in ("benchmark", "demand_factor"):
        return _stage_setting(data, setting, step.target, value, step.origin)
    group, _, stage = step.target.partition(":")
    if setting in SHARE_SETTINGS:
        scope = Scope.EMBEDDED if setting.startswith("embedded_") else Scope.DIRECT
        return set_share(data, group, stage, setting.removeprefix("embedded_"), value,
                         step.origin, scope)
    return _scale_offers(data, setting, group, stage, value, step.origin)


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


def _also(origin: str, step_origin: str) -> str:
    """A record's origin with the setting that changed it (a diagnosis names both)."""
    return f"{origin}, {step_origin}".strip(", ") if step_origin else origin


def _stage_setting(data: Dataset, setting: str, stage: str, value: float,
                   step_origin: str = "") -> Dataset:
    if setting == "benchmark":
        return replace(data, benchmarks={**data.benchmarks, stage: value})
    stages = tuple(replace(s, demand_t=s.demand_t * value, origin=_also(s.origin, step_origin))
                   if s.stage == stage else s for s in data.stages)
    return replace(data, stages=stages)


def _floor_days(data: Dataset, stage: str, days: float, step_origin: str = "") -> Dataset:
    """The reserve floor of the stock of ``stage`` (``*``: every stock) set to ``days``
    of the stage's demand, the demand as the period's settings leave it, whatever their
    order (``Stock.floor_t``)."""
    stocks = tuple(replace(k, floor_days=days, origin=_also(k.origin, step_origin))
                   if stage in (ALL_STAGES, k.stage) else k for k in data.stocks)
    return replace(data, stocks=stocks)


def _scale_offers(data: Dataset, setting: str, group: str, stage: str,
                  factor: float, step_origin: str = "") -> Dataset:
    countries = {c.country: c for c in data.countries}

    def targeted(offer: Offer) -> bool:
        return ((stage == ALL_STAGES or offer.stage == stage)
                and (group == ALL_STAGES or in_group(group, offer.country, countries)))

    offers = tuple(replace(_scaled(o, setting, factor), origin=_also(o.origin, step_origin))
                   if targeted(o) else o for o in data.offers)
    return replace(data, offers=offers)


def _scaled(offer: Offer, setting: str, factor: float) -> Offer:
    if setting == "price_factor":
        return replace(offer, price_usd_per_t=offer.price_usd_per_t * factor)
    if offer.capacity_t is None and factor != 0:  # unlimited stays unlimited, but a
        return offer                                # factor of 0 closes the offer
    capacity = 0.0 if offer.capacity_t is None else offer.capacity_t * factor
    return replace(offer, capacity_t=capacity, min_t=min(offer.min_t, capacity))
