r"""Landed cost of an offer (SPEC §3), with each component kept for reports.

.. math::

    v_o &= \text{price}_o + \text{freight}_o \\
    \text{duty}_o &= r_o \, v_o, \quad
        r_o = \begin{cases} \text{zone\_rate}
              & \text{buyer joined and } c(o) \in \text{zone} \\
                             \text{mfn\_rate} & \text{otherwise} \end{cases} \\
    \text{levy}_o &= \max(0, \text{benchmark}_{s(o)} - \text{price}_o)
        \quad \text{if buyer joined, } c(o) \notin \text{zone}, \text{ benchmark exists} \\
    c_o &= v_o + \text{duty}_o + \text{levy}_o

A purchase from the buyer's own country is domestic: no duty, no levy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .data import ALL_STAGES, Country, Dataset, Offer, TariffRule, ZoneStatus


@dataclass(frozen=True)
class LandedCost:
    """Components of one offer's landed cost, USD per t."""

    price: float
    freight: float
    duty_rate: float
    duty: float
    levy: float

    @property
    def total(self) -> float:
        """Landed cost c[o] = price + freight + duty + levy."""
        return self.price + self.freight + self.duty + self.levy


def tariff_rule(
    rules: Mapping[tuple[str, str], TariffRule], country: str, stage: str
) -> TariffRule | None:
    """The most specific rule: country+stage, country+*, *+stage, then *+*."""
    for key in ((country, stage), (country, ALL_STAGES), (ALL_STAGES, stage),
                (ALL_STAGES, ALL_STAGES)):
        if key in rules:
            return rules[key]
    return None


def landed_costs(data: Dataset) -> dict[str, LandedCost]:
    """Landed cost of every offer under the dataset's tariffs, benchmarks and zone status."""
    countries = {c.country: c for c in data.countries}
    rules = {(r.country, r.stage): r for r in data.tariffs}
    applicable = {(o.country, o.stage) for o in data.offers}
    rule_of = {key: tariff_rule(rules, *key) for key in applicable}
    joined = data.zone is ZoneStatus.JOINED
    return {o.offer: _landed_cost(o, data, joined, countries, rule_of[(o.country, o.stage)])
            for o in data.offers}


def _landed_cost(
    offer: Offer,
    data: Dataset,
    joined: bool,
    countries: Mapping[str, Country],
    rule: TariffRule | None,
) -> LandedCost:
    price, freight = offer.price_usd_per_t, offer.freight_usd_per_t
    if offer.country == data.buyer:
        return LandedCost(price, freight, 0.0, 0.0, 0.0)
    member = offer.country in countries and countries[offer.country].zone_member
    rate = 0.0 if rule is None else (rule.zone_rate if joined and member else rule.mfn_rate)
    benchmark = data.benchmarks.get(offer.stage)
    levy = max(0.0, benchmark - price) if joined and not member and benchmark is not None else 0.0
    return LandedCost(price, freight, rate, rate * (price + freight), levy)
