"""Seeded random datasets in the SPEC §2 format, for cross-checks and property tests.

``random_dataset(seed, **knobs)`` returns a small ``Dataset`` (≤ ``max_offers``
offers) that exercises every feature of SPEC §3 in direct scope:

- 1–4 stages; domestic processes with yields: chains (i → i+1), skips (i → i+2) and
  two processes into one stage; intermediate stages with zero final demand;
- offers with and without capacity, contracted minimums, freight, domestic offers
  (the buyer's own country);
- a ``countries`` table with zone members, tags (``feoc``, ``ally``, ``asia``, ``g7``)
  and some supplying countries left unlisted;
- tariff rows of every specificity (``*``/``*``, ``*``/stage, country/``*``,
  country/stage), benchmarks, buyer ``joined`` or ``observer``;
- limits of every kind: min and max share, volume and value basis, groups of every
  form (a supplying country, a country nobody supplies under, a tag, ``zone``,
  ``non-zone``, ``each``) and stage ``*``;
- a share of infeasible cases: demand beyond every capacity, ``each`` caps that
  cannot all hold, a contracted minimum against a zero cap, a downstream demand that
  the capped supply upstream of a process cannot feed (``infeasible`` knob),
  besides the infeasibility that random limits produce on their own.

With ``embedded=True`` (default off: the datasets above are unchanged, draw for draw)
the same dataset gets, from a second random stream, a ``content`` table (some offers
made of 2–3 upstream origins, some entirely of another country's material, some
with a zero-share row; shares with three decimals summing to exactly 1.0) and 1–3
limits with ``scope`` embedded of every form (an origin country, a country nobody
supplies under, a tag, ``zone``, ``non-zone``, ``each``; stage ``*``; volume and value;
min and max; sometimes on the same group and stage as a direct limit).

With ``network=True`` (default off, likewise: applied after the seed's dataset, and
before ``embedded``, from a stream of its own) the dataset grows the tables of issue
10: parallel stages (``oxide-b``: a second material at the same chain level, with
offers, often with a stage order tied to its twin's, sometimes fed by a new domestic
process), a tie between two stage orders, ``process_flows`` (co-products into stages
above every input, extra inputs from stages below every output, so the process graph
stays acyclic), ``shortage_usd_per_t`` and ``value_usd_per_t`` on some stages (at zero
demand too), ``members_only`` offers (some cheaper, some with a contracted minimum; the
zone joined or observer as drawn), offers and processes with capacity 0, and a
direct limit or two (value basis more often) at stages with domestic output,
co-products first.

With ``disruptions=True`` (default off; last, from a stream of its own) the dataset
gets 1–3 disruptions (SPEC §2, §3b): each starts in a random period (blank without a
``periods`` table), lasts 1–3 periods (sometimes past the horizon), has a probability
(together below 1) and 1–2 settings — mostly ``capacity_factor`` of a country's or a
group's offers (often 0: an export stop) and ``price_factor`` (a price spike), sometimes
``demand_factor``, ``zone`` or ``max_share`` — and the settings ``risk_weight`` λ ∈
{0, 0.5, 1} and ``cvar_alpha`` α ∈ {0, 0.5, 0.9}.

Numbers are drawn as floats with a few decimals so that ties (and so degenerate
optima) are rare, and shares with at most three decimals so reports that print
them with ``:g`` print them exactly. The same seed and knobs give the same dataset.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path

from planner.models.data import (
    Basis,
    ContentShare,
    Country,
    Dataset,
    Disruption,
    Expansion,
    Limit,
    Offer,
    Period,
    Process,
    ProcessFlow,
    Role,
    ScenarioStep,
    Scope,
    Stage,
    Stock,
    TariffRule,
    ZoneStatus,
)

BUYER = "KR"
COUNTRY_POOL = ("CN", "AU", "US", "JP", "VN", "MY", "EE", "FR", "IN", "BR", "CA", "ZA", "PH")
TAGS = ("feoc", "ally", "asia", "g7")
STAGE_NAMES = ("ore", "oxide", "metal", "magnet")
INFEASIBLE_KINDS = ("capacity", "each", "minimum", "chain")


@dataclass(frozen=True)
class Knobs:
    """What ``random_dataset`` may vary; every field has a default."""

    n_stages: int | None = None          # 1–4; None: drawn
    max_offers: int = 40
    zone: ZoneStatus | None = None       # None: drawn
    infeasible: float = 0.1              # chance of an injected conflict
    infeasible_kind: str | None = None   # one of INFEASIBLE_KINDS; None: drawn
    limits: bool = True
    processes: bool = True
    minimums: bool = True
    max_limits: int = 4
    embedded: bool = False               # add content rows and embedded-scope limits
    network: bool = False                # add parallel stages, process_flows, shortage and
                                         # value prices, members-only and closed offers
    periods: bool = False                # add periods, period_values, stocks, expansions
    disruptions: bool = False            # add 1–3 disruptions, risk_weight and cvar_alpha


def random_dataset(seed: int, **knobs) -> Dataset:
    """A random, valid, small dataset; deterministic for a given seed and knobs."""
    return _Generator(seed, Knobs(**knobs)).dataset()


class _Generator:
    def __init__(self, seed: int, knobs: Knobs):
        self.rng = random.Random(seed)
        self.seed = seed
        self.k = knobs

    # ------------------------------------------------------------ helpers

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self.rng.uniform(low, high), digits)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # ------------------------------------------------------------ dataset

    def dataset(self) -> Dataset:
        rng, k = self.rng, self.k
        n = k.n_stages if k.n_stages is not None else rng.randint(1, 4)
        first = rng.randint(0, 4 - n)
        names = list(STAGE_NAMES[first:first + n])
        base = {s: 100.0 * 3.0 ** (first + i) for i, s in enumerate(names)}
        orders = {s: 10 * i + rng.randint(0, 5) for i, s in enumerate(names)}
        processes = self.processes(names, base) if k.processes and n > 1 else []
        drawn_from = {p.from_stage for p in processes}
        demand = {}
        for i, s in enumerate(names):
            zero = s in drawn_from and i < n - 1 and self.chance(0.35)
            demand[s] = 0.0 if zero else self.uniform(5.0, 500.0)
        offers = self.offers(names, base, demand)
        zone = k.zone if k.zone is not None else rng.choice(list(ZoneStatus))
        suppliers = sorted({o.country for o in offers} | {BUYER})
        countries = self.countries(suppliers)
        tariffs = self.tariffs(names, suppliers)
        benchmarks = {s: self.uniform(0.8, 1.5, 2) * base[s] for s in names if self.chance(0.5)}
        benchmarks = {s: round(v, 2) for s, v in benchmarks.items()}
        limits = self.limits(names, offers, countries) if k.limits else []
        stages = [Stage(s, orders[s], demand[s], f"stages row {i + 2}")
                  for i, s in enumerate(names)]
        data = Dataset(stages=tuple(stages), offers=tuple(offers), processes=tuple(processes),
                       countries=tuple(countries), tariffs=tuple(tariffs),
                       benchmarks=benchmarks, limits=tuple(limits), buyer=BUYER, zone=zone,
                       name=f"random-{self.seed}")
        if self.chance(k.infeasible):
            data = self.make_infeasible(data)
        if k.network:
            data = _Networker(random.Random(f"network-{self.seed}"), k.max_offers).extend(data)
        if k.embedded:
            data = _Embedder(random.Random(f"embedded-{self.seed}")).embed(data)
        if k.periods:
            data = _Planner(random.Random(f"periods-{self.seed}"),
                            random.Random(f"periods-origin-{self.seed}")).extend(data)
        if k.disruptions:
            data = _Disrupter(random.Random(f"disruptions-{self.seed}")).extend(data)
        return data

    def processes(self, names: list[str], base: dict[str, float]) -> list[Process]:
        rng, n = self.rng, len(names)
        edges: list[tuple[int, int]] = []
        for _ in range(rng.randint(0, 3)):
            kind = rng.random()
            if kind < 0.6 or n == 2:          # chain link i → i+1
                i = rng.randint(0, n - 2)
                edges.append((i, i + 1))
            elif kind < 0.8:                  # skip a stage
                i = rng.randint(0, n - 3)
                edges.append((i, i + 2))
            else:                             # two processes into one stage
                j = rng.randint(1, n - 1)
                edges += [(rng.randint(0, j - 1), j), (rng.randint(0, j - 1), j)]
        result = []
        for number, (i, j) in enumerate(edges):
            to = names[j]
            result.append(Process(
                f"p{number}_{names[i]}_{to}", names[i], to, self.uniform(0.4, 1.2),
                round(self.uniform(0.05, 0.8) * base[to], 2),
                None if self.chance(0.3) else self.uniform(5.0, 300.0),
                f"processes row {number + 2}"))
        return result

    def offers(self, names: list[str], base: dict[str, float],
               demand: dict[str, float]) -> list[Offer]:
        rng, k = self.rng, self.k
        per_stage = max(2, k.max_offers // len(names))
        result: list[Offer] = []
        for s in names:
            count = rng.randint(2, min(per_stage, 10))
            pool = list(COUNTRY_POOL[:rng.randint(3, len(COUNTRY_POOL))])
            scale = max(demand[s], 50.0)
            unlimited_backup = self.chance(0.85)
            for j in range(count):
                country = BUYER if self.chance(0.08) else rng.choice(pool)
                price = round(base[s] * rng.uniform(0.5, 1.8), 2)
                freight = 0.0 if self.chance(0.4) else round(base[s] * rng.uniform(0, 0.1), 2)
                unlimited = (j == count - 1 and unlimited_backup) or self.chance(0.15)
                capacity = None if unlimited else self.uniform(0.05, 0.7) * scale
                capacity = None if capacity is None else round(capacity, 3)
                minimum = 0.0
                if k.minimums and self.chance(0.12):
                    cap = capacity if capacity is not None else 0.3 * scale
                    minimum = self.uniform(0.05, 0.3) * cap
                    minimum = round(minimum, 3)
                if unlimited and j == count - 1:
                    price = round(price * 1.6, 2)       # the backup is dear
                result.append(Offer(f"{s}_{j}_{country.lower()}", s, f"supplier {s} {j}",
                                    country, price, capacity, minimum, freight,
                                    f"offers row {len(result) + 2}"))
        return result

    def countries(self, suppliers: list[str]) -> list[Country]:
        rng = self.rng
        listed = [c for c in suppliers if c == BUYER and self.chance(0.8)
                  or c != BUYER and self.chance(0.85)]
        result = []
        for i, code in enumerate(listed):
            tags = frozenset(t for t in TAGS if self.chance(0.3))
            result.append(Country(code, f"country {code}", self.chance(0.5), tags,
                                  f"countries row {i + 2}"))
        rng.shuffle(result)
        return result

    def tariffs(self, names: list[str], suppliers: list[str]) -> list[TariffRule]:
        rng = self.rng
        keys: list[tuple[str, str]] = []
        if self.chance(0.6):
            keys.append(("*", "*"))
        keys += [("*", s) for s in names if self.chance(0.4)]
        keys += [(c, "*") for c in suppliers if self.chance(0.2)]
        keys += [(c, s) for c in suppliers for s in names if self.chance(0.08)]
        result = []
        for i, (country, stage) in enumerate(dict.fromkeys(keys)):
            mfn = 0.0 if self.chance(0.2) else self.uniform(0.0, 0.25, 4)
            zone_rate = 0.0 if self.chance(0.5) else round(mfn * rng.uniform(0, 1), 4)
            result.append(TariffRule(country, stage, mfn, zone_rate, f"tariffs row {i + 2}"))
        return result

    def limits(self, names: list[str], offers: list[Offer],
               countries: list[Country]) -> list[Limit]:
        rng, k = self.rng, self.k
        if not self.chance(0.85):
            return []
        tags = sorted({t for c in countries for t in c.groups})
        listed = {c.country: c for c in countries}

        def member(group: str, country: str) -> bool:
            return _member(listed, group, country)

        def supplied(group: str, stage: str) -> bool:
            """Whether the group has an offer at every stage the limit covers."""
            return group == "each" or all(
                any(o.stage == s and member(group, o.country) for o in offers)
                for s in (names if stage == "*" else [stage]))

        result: list[Limit] = []
        seen = set()
        for _ in range(rng.randint(1, k.max_limits)):
            stage = "*" if self.chance(0.25) else rng.choice(names)
            at = [o.country for o in offers if stage in ("*", o.stage)]
            forms = ["country", "country", "other-country", "zone", "non-zone", "each"]
            forms += ["tag"] if tags else []
            form = rng.choice(forms)
            if form == "country":
                group = rng.choice(at)
            elif form == "other-country":
                group = rng.choice(["RU", "ZA", "CN", "MY"])
            elif form == "tag":
                group = rng.choice(tags)
            else:
                group = form
            basis = Basis.VALUE if self.chance(0.3) else Basis.VOLUME
            if (group, stage, basis) in seen:
                continue
            seen.add((group, stage, basis))
            kind = rng.random()
            low = {"each": 0.4, "country": 0.35, "other-country": 0.0}.get(form, 0.5)
            maximum = self.uniform(low, 0.95) if kind < 0.8 else None
            minimum = None
            if kind >= 0.55 and (supplied(group, stage) or self.chance(0.1)):
                top = 0.15 if group == "each" else 0.35
                minimum = self.uniform(0.01, top)
                if maximum is not None and minimum > maximum:
                    minimum, maximum = maximum, minimum
            result.append(Limit(group, stage, minimum, maximum, basis,
                                origin=f"limits row {len(result) + 2}"))
        return result

    # ------------------------------------------------------------ infeasible cases

    def make_infeasible(self, data: Dataset) -> Dataset:
        rng = self.rng
        kind = self.k.infeasible_kind or rng.choice(INFEASIBLE_KINDS)
        fed = {p.to_stage for p in data.processes}
        if kind == "chain" and data.processes:
            return self.starve_chain(data, rng.choice(data.processes))
        if kind == "chain":
            kind = "capacity"
        if kind == "capacity":
            # a stage no process feeds: every offer capped, demand beyond their sum
            candidates = [s for s in data.stages if s.stage not in fed] or list(data.stages)
            stage = rng.choice(candidates)
            offers, total = [], 0.0
            for o in data.offers:
                if o.stage == stage.stage:
                    cap = o.capacity_t if o.capacity_t is not None else self.uniform(5, 100)
                    o = replace(o, capacity_t=cap, min_t=min(o.min_t, cap))
                    total += cap
                offers.append(o)
            extra = sum(p.capacity_t or 1e4 for p in data.processes if p.to_stage == stage.stage)
            demand = round(total + extra + self.uniform(1.0, 50.0), 3)
            stages = tuple(replace(s, demand_t=demand) if s is stage else s for s in data.stages)
            return replace(data, offers=tuple(offers), stages=stages)
        if kind == "each":
            # every supplying country at most 1/(n+1) of a stage with demand
            stage = max(data.stages, key=lambda s: s.demand_t)
            n = len({o.country for o in data.offers if o.stage == stage.stage}
                    | ({data.buyer} if stage.stage in fed else set()))
            share = round(0.9 / (n + 1), 3)
            limits = [lim for lim in data.limits
                      if (lim.group, lim.stage, lim.basis) != ("each", stage.stage, Basis.VOLUME)]
            limits.append(Limit("each", stage.stage, None, share, origin="limits row 99"))
            return replace(data, limits=tuple(limits))
        # a contracted minimum from a country whose share of that stage is capped at 0
        offer = rng.choice(data.offers)
        cap = offer.capacity_t
        minimum = round(self.uniform(0.2, 0.9) * (cap if cap is not None else 50.0), 3)
        offers = tuple(replace(o, min_t=minimum) if o is offer else o for o in data.offers)
        limits = [lim for lim in data.limits
                  if (lim.group, lim.stage, lim.basis) != (offer.country, offer.stage,
                                                          Basis.VOLUME)]
        limits.append(Limit(offer.country, offer.stage, None, 0.0, origin="limits row 99"))
        return replace(data, offers=offers, limits=tuple(limits))


    def starve_chain(self, data: Dataset, process: Process) -> Dataset:
        """Stage b = ``process.to_stage`` needs more than its capped offers, its other
        capped processes and ``process`` (unlimited) fed by the capped supply of stage
        a = ``process.from_stage`` can give: the balance of a is part of the conflict."""
        a, b = process.from_stage, process.to_stage

        def capped(o: Offer) -> Offer:
            if o.stage not in (a, b):
                return o
            cap = o.capacity_t if o.capacity_t is not None else self.uniform(5.0, 100.0)
            return replace(o, capacity_t=cap, min_t=min(o.min_t, cap))

        offers = tuple(capped(o) for o in data.offers)
        processes = []
        for p in data.processes:
            if p is process:
                p = replace(p, capacity_t=None)
            elif p.to_stage in (a, b) and p.capacity_t is None:
                p = replace(p, capacity_t=self.uniform(5.0, 50.0))
            processes.append(p)
        demand = {s.stage: s.demand_t for s in data.stages}
        supply_a = (sum(o.capacity_t for o in offers if o.stage == a)
                    + sum(p.capacity_t for p in processes if p.to_stage == a))
        most_b = (sum(o.capacity_t for o in offers if o.stage == b)
                  + sum(p.capacity_t for p in processes
                        if p.to_stage == b and p.process != process.process)
                  + process.yield_t_per_t * max(0.0, supply_a - demand[a]))
        need = round(most_b + self.uniform(1.0, 5.0), 3)
        stages = tuple(replace(s, demand_t=need) if s.stage == b else s for s in data.stages)
        return replace(data, stages=stages, offers=offers, processes=tuple(processes))


def _member(listed: dict[str, Country], group: str, country: str) -> bool:
    record = listed.get(country)
    if group == "zone":
        return record is not None and record.zone_member
    if group == "non-zone":
        return record is None or not record.zone_member
    if len(group) == 2 and group.isupper():
        return group == country
    return record is not None and group in record.groups


def _recipes(data: Dataset) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Process → its input stages, and → its output stages (main and ``process_flows``)."""
    inputs = {p.process: {p.from_stage} for p in data.processes}
    outputs = {p.process: {p.to_stage} for p in data.processes}
    for row in data.process_flows:
        (inputs if row.role is Role.INPUT else outputs)[row.process].add(row.stage)
    return inputs, outputs


class _Networker:
    """Parallel stages, recipes and co-products, shortage and value prices, members-only
    and closed offers, drawn from their own random stream (SPEC §2 as of issue 10).

    Every stage has a level (its chain position; a parallel stage shares its twin's);
    a process draws only from stages below every stage it outputs into, so the process
    graph stays acyclic whatever flows are added."""

    def __init__(self, rng: random.Random, max_offers: int):
        self.rng = rng
        self.max_offers = max_offers

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self.rng.uniform(low, high), digits)

    def extend(self, data: Dataset) -> Dataset:
        rng = self.rng
        level = {s.stage: STAGE_NAMES.index(s.stage) for s in data.stages}
        base = {s: 100.0 * 3.0 ** lv for s, lv in level.items()}
        stages = list(data.stages)
        offers = list(data.offers)
        processes = list(data.processes)
        # parallel stages (a second material at the same level), orders tied or not
        for twin in list(data.stages):
            room = self.max_offers - len(offers)
            if not self.chance(0.3) or room <= 0:
                continue
            name = f"{twin.stage}-b"
            level[name], base[name] = level[twin.stage], base[twin.stage] * rng.choice((0.5, 2.0))
            order = twin.order if self.chance(0.7) else rng.choice(stages).order
            demand = 0.0 if self.chance(0.35) else self.uniform(5.0, 200.0)
            stages.append(Stage(name, order, demand, f"stages row {len(stages) + 2}"))
            count = min(rng.randint(1, 4), room)
            for j in range(count):
                country = rng.choice(COUNTRY_POOL[:8])
                unlimited = j == count - 1 and self.chance(0.7)
                capacity = None if unlimited else self.uniform(0.1, 0.8) * max(demand, 50.0)
                capacity = None if capacity is None else round(capacity, 3)
                price = round(base[name] * rng.uniform(0.5, 1.8) * (1.6 if unlimited else 1), 2)
                freight = 0.0 if self.chance(0.5) else round(base[name] * rng.uniform(0, 0.1), 2)
                offers.append(Offer(f"{name}_{j}_{country.lower()}", name, f"supplier {name} {j}",
                                    country, price, capacity, 0.0, freight,
                                    f"offers row {len(offers) + 2}"))
            lower = [s.stage for s in stages if level[s.stage] < level[name]]
            if lower and self.chance(0.5):     # a domestic process into the new stage
                source = rng.choice(lower)
                processes.append(Process(
                    f"q{len(processes)}_{source}_{name}", source, name, self.uniform(0.4, 1.2),
                    round(self.uniform(0.05, 0.8) * base[name], 2),
                    None if self.chance(0.3) else self.uniform(5.0, 300.0),
                    f"processes row {len(processes) + 2}"))
        # a tie between two stages of the chain
        if len(stages) > 1 and self.chance(0.15):
            a, b = rng.sample(range(len(stages)), 2)
            stages[b] = replace(stages[b], order=stages[a].order)
        # recipes (extra inputs) and co-products, keeping inputs below outputs
        flows: list[ProcessFlow] = []
        for p in processes:
            ins, outs = {p.from_stage}, {p.to_stage}
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                role = Role.OUTPUT if self.chance(0.6) else Role.INPUT
                if role is Role.OUTPUT:
                    top = max(level[s] for s in ins)
                    candidates = [s.stage for s in stages if level[s.stage] > top]
                else:
                    bottom = min(level[s] for s in outs)
                    candidates = [s.stage for s in stages if level[s.stage] < bottom]
                candidates = [s for s in candidates if s not in ins | outs]
                if not candidates:
                    continue
                stage = rng.choice(candidates)
                (outs if role is Role.OUTPUT else ins).add(stage)
                amount = (self.uniform(0.05, 1.5) if role is Role.OUTPUT
                          else self.uniform(0.02, 1.0))
                flows.append(ProcessFlow(p.process, stage, role, amount,
                                         f"process_flows row {len(flows) + 2}"))
        # shortage prices and value weights on some stages
        for i, s in enumerate(stages):
            shortage = (round(base[s.stage] * rng.uniform(0.4, 3.0), 2)
                        if self.chance(0.3) else None)
            value = round(base[s.stage] * rng.uniform(0.3, 2.0), 2) if self.chance(0.3) else None
            stages[i] = replace(s, shortage_usd_per_t=shortage, value_usd_per_t=value)
        # members-only offers (a reserve release), closed offers and plants
        for i, o in enumerate(offers):
            if self.chance(0.1):
                price = round(o.price_usd_per_t * 0.8, 2) if self.chance(0.5) else \
                    o.price_usd_per_t
                minimum = o.min_t
                if self.chance(0.3):
                    cap = o.capacity_t if o.capacity_t is not None else 20.0
                    minimum = round(self.uniform(0.1, 0.5) * cap, 3)
                offers[i] = replace(o, price_usd_per_t=price, min_t=minimum, members_only=True)
            elif self.chance(0.05):
                offers[i] = replace(o, capacity_t=0.0, min_t=0.0)
        processes = [replace(p, capacity_t=0.0) if self.chance(0.1) else p for p in processes]
        limits = list(data.limits) + self.limits(stages, offers, processes, flows, data)
        return replace(data, stages=tuple(stages), offers=tuple(offers),
                       processes=tuple(processes), process_flows=tuple(flows),
                       limits=tuple(limits))

    def limits(self, stages: list[Stage], offers: list[Offer], processes: list[Process],
               flows: list[ProcessFlow], data: Dataset) -> list[Limit]:
        """A direct limit or two at stages with domestic output (co-products first), in
        value basis more often than not: where the value weights of domestic output
        count."""
        rng = self.rng
        made = {p.to_stage for p in processes}
        co = {f.stage for f in flows if f.role is Role.OUTPUT}
        where = sorted(co) or sorted(made)
        if not where or not self.chance(0.6):
            return []
        taken = {lim.key for lim in data.limits}
        result = []
        for _ in range(rng.randint(1, 2)):
            stage = rng.choice(where)
            sellers = sorted({o.country for o in offers if o.stage == stage})
            group = rng.choice([data.buyer, data.buyer, "each", "zone", "non-zone", *sellers])
            basis = Basis.VALUE if self.chance(0.6) else Basis.VOLUME
            if (group, stage, basis, Scope.DIRECT) in taken:
                continue
            taken.add((group, stage, basis, Scope.DIRECT))
            low = 0.45 if group == "each" else 0.3
            maximum = self.uniform(low, 0.95) if self.chance(0.8) else None
            minimum = None
            if maximum is None or self.chance(0.2):
                minimum = self.uniform(0.01, 0.03 if group == "each" else 0.25)
                if maximum is not None and minimum > maximum:
                    minimum, maximum = maximum, minimum
            result.append(Limit(group, stage, minimum, maximum, basis,
                                origin=f"limits row {len(data.limits) + len(result) + 2}"))
        return result


class _Embedder:
    """Content rows and embedded-scope limits, drawn from their own random stream."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def embed(self, data: Dataset) -> Dataset:
        content = self.content(data)
        limits = self.limits(replace(data, content=tuple(content)))
        return replace(data, content=tuple(content), limits=data.limits + tuple(limits))

    def shares(self, n: int) -> list[float]:
        """n shares in thousandths, each ≥ 0.001, summing to exactly 1.0 in float."""
        while True:
            cuts = sorted(self.rng.sample(range(1, 1000), n - 1))
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, 1000], strict=True)]
            shares = [p / 1000 for p in parts[:-1]]
            shares.append(round(1.0 - sum(shares), 3))
            if sum(shares) == 1.0 and math.fsum(shares) == 1.0 and min(shares) > 0:
                return shares

    def content(self, data: Dataset) -> list[ContentShare]:
        rng = self.rng
        pool = [*COUNTRY_POOL[:8], data.buyer, "RU"]     # RU: listed nowhere
        rows: list[ContentShare] = []
        for o in data.offers:
            if not self.chance(0.45):
                continue
            n = rng.choice((1, 2, 2, 2, 3, 3))
            others = [c for c in pool if c != o.country]
            if n == 1:          # entirely another country's material
                origins = [rng.choice(others)]
            else:
                origins = rng.sample(others, n - 1)
                origins.insert(rng.randint(0, n - 1),
                               o.country if self.chance(0.7) else rng.choice(
                                   [c for c in others if c not in origins]))
            for origin, share in zip(origins, self.shares(n), strict=True):
                rows.append(ContentShare(o.offer, origin, share,
                                         f"content row {len(rows) + 2}"))
            if self.chance(0.1):
                unused = [c for c in pool if c not in origins]
                rows.append(ContentShare(o.offer, rng.choice(unused), 0.0,
                                         f"content row {len(rows) + 2}"))
        return rows

    def limits(self, data: Dataset) -> list[Limit]:
        rng = self.rng
        names = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
        tags = sorted({t for c in data.countries for t in c.groups})
        mix: dict[str, list[str]] = {}
        for row in data.content:
            if row.share > 0:
                mix.setdefault(row.offer, []).append(row.origin_country)
        reach = {s: {c for o in data.offers if o.stage == s
                     for c in mix.get(o.offer, [o.country])} for s in names}
        inputs, outputs = _recipes(data)
        changed = True
        while changed:                        # origins that reach s, through processes
            changed = False
            for p in data.processes:
                arriving = set().union(*(reach[s] for s in inputs[p.process]))
                for s in outputs[p.process]:
                    if not arriving <= reach[s]:
                        reach[s] |= arriving
                        changed = True
        taken = {lim.key for lim in data.limits}
        result: list[Limit] = []
        for _ in range(rng.randint(1, 3)):
            direct = [lim for lim in data.limits if lim.group != "each"]
            if direct and self.chance(0.2):   # the same group and stage as a direct limit
                twin = rng.choice(direct)
                group, stage = twin.group, twin.stage
                form = "country" if len(group) == 2 and group.isupper() else "other"
            else:
                stage = "*" if self.chance(0.25) else rng.choice(names)
                at = sorted(set().union(*(reach[s] for s in names if stage in ("*", s))))
                forms = ["country", "country", "other-country", "zone", "non-zone", "each"]
                forms += ["tag"] if tags else []
                form = rng.choice(forms)
                if form == "country":
                    group = rng.choice(at) if at else "CN"
                elif form == "other-country":
                    group = rng.choice(["ZA", "MY", "GB"])
                elif form == "tag":
                    group = rng.choice(tags)
                else:
                    group = form
            basis = Basis.VALUE if self.chance(0.35) else Basis.VOLUME
            key = (group, stage, basis, Scope.EMBEDDED)
            if key in taken:
                continue
            taken.add(key)
            kind = rng.random()
            low = {"each": 0.45, "country": 0.35, "other-country": 0.0}.get(form, 0.5)
            maximum = round(rng.uniform(low, 0.97), 3) if kind < 0.8 else None
            minimum = None
            everywhere = all(group in reach[s] for s in names if stage in ("*", s))
            if kind >= 0.6 and form == "other-country":
                minimum = 0.0                       # a row that always holds
            elif kind >= 0.6 and (form != "country" or everywhere):
                top = {"each": 0.03, "country": 0.15}.get(form, 0.3)
                minimum = round(rng.uniform(0.005, top), 3)
                if maximum is not None and minimum > maximum:
                    minimum, maximum = maximum, minimum
            result.append(Limit(group, stage, minimum, maximum, basis, Scope.EMBEDDED,
                                origin=f"limits row {len(data.limits) + len(result) + 2}"))
        return result


class _Planner:
    """Periods, period_values, stocks and expansions (SPEC §2, §3a), drawn from their own
    random stream on top of the dataset. A second stream (``more``) draws what came later,
    so the first stream's tables stay as they were: stocks where a limit has embedded
    scope (mostly at a stage processes draw from: their origins are tracked), a stock's
    ``initial_origin``, and ``stock_floor_days`` rows in ``period_values``."""

    def __init__(self, rng: random.Random, more: random.Random | None = None):
        self.rng = rng
        self.more = more

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self.rng.uniform(low, high), digits)

    def extend(self, data: Dataset) -> Dataset:
        rng = self.rng
        n = rng.randint(2, 4)
        start = rng.choice((2025, 2026, 2030))
        periods = [Period(f"y{start + 5 * i}", start + 5 * i,
                          float(rng.choice((1, 1, 2, 3))) if self.chance(0.85)
                          else rng.choice((1.5, 2.5)),
                          1.0 if i == 0 and self.chance(0.5) else self.uniform(0.7, 1.0),
                          "") for i in range(n)]
        if self.chance(0.3):            # rows out of time order: the order column decides
            rng.shuffle(periods)
        periods = [replace(p, origin=f"periods row {i + 2}") for i, p in enumerate(periods)]
        offers = list(data.offers)
        processes = list(data.processes)
        expansions = self.expansions(data, offers, processes, periods)
        data = replace(data, offers=tuple(offers), processes=tuple(processes))
        values = self.period_values(data, periods)
        embedded = any(lim.scope is Scope.EMBEDDED for lim in data.limits)
        stocks = [] if embedded else self.stocks(data)
        if self.more is not None:
            later = _Planner(self.more)
            if embedded:
                stocks = later.embedded_stocks(data)
            stocks = [later.initial_origin(data, st) for st in stocks]
            values = later.floor_days(values, stocks, periods)
        return replace(data, periods=tuple(periods), period_values=tuple(values),
                       stocks=tuple(stocks), expansions=tuple(expansions))

    def embedded_stocks(self, data: Dataset) -> list[Stock]:
        """Stocks beside embedded limits: mostly one at a stage processes draw from (its
        puts, releases and levels split by origin), sometimes at any stage."""
        inputs, _outputs = _recipes(data)
        drawn = sorted(set().union(*inputs.values())) if inputs else []
        if not self.chance(0.8):
            return []
        if drawn and self.chance(0.8):
            pool = [s for s in data.stages if s.stage in drawn]
        else:
            pool = list(data.stages)
        return self.stocks(data, pool, always=True)

    def initial_origin(self, data: Dataset, stock: Stock) -> Stock:
        """Sometimes an initial origin: a country that sells at the stage, one of the
        content origins, the buyer, or ``XX`` written out."""
        if not self.chance(0.5):
            return stock
        here = {o.country for o in data.offers if o.stage == stock.stage}
        here |= {r.origin_country for r in data.content}
        choice = self.rng.choice([*sorted(here), *sorted(here), data.buyer, "XX"])
        return replace(stock, initial_origin=choice)

    def floor_days(self, values: list[ScenarioStep], stocks: list[Stock],
                   periods: list[Period]) -> list[ScenarioStep]:
        """Sometimes a ``stock_floor_days`` row (a stock's stage or ``*``) for one period,
        anywhere among that period's rows (before or after its demand_factor)."""
        if not stocks or not self.chance(0.45):
            return values
        rng = self.rng
        rows = list(values)
        for _ in range(rng.choice((1, 1, 2))):
            period = rng.choice(periods).period
            target = "*" if self.chance(0.4) else rng.choice(stocks).stage
            at = [i for i, r in enumerate(rows) if r.scenario == period]
            where = rng.choice([*at, at[-1] + 1]) if at else len(rows)
            rows.insert(where, ScenarioStep(period, "stock_floor_days", target,
                                            str(self.uniform(5.0, 90.0, 1))))
        return [replace(r, origin=f"period_values row {i + 2}") for i, r in enumerate(rows)]

    def price(self, data: Dataset, stage: str) -> float:
        prices = sorted(o.price_usd_per_t for o in data.offers if o.stage == stage)
        return prices[len(prices) // 2] if prices else 100.0

    def period_values(self, data: Dataset, periods: list[Period]) -> list[ScenarioStep]:
        rng = self.rng
        names = [s.stage for s in data.stages]
        countries = sorted({o.country for o in data.offers})
        tags = sorted({t for c in data.countries for t in c.groups})
        rows: list[ScenarioStep] = []
        for p in sorted(periods, key=lambda p: p.order):
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                kind = rng.choice(("demand_factor", "price_factor", "price_factor",
                                   "capacity_factor", "capacity_factor", "max_share", "zone"))
                stage = rng.choice(names)
                if kind == "demand_factor":
                    target, value = stage, self.uniform(0.6, 1.6)
                elif kind in ("price_factor", "capacity_factor"):
                    group = rng.choice([*countries, *countries, *tags, "*", "zone", "non-zone"])
                    target = f"{group}:{'*' if self.chance(0.2) else stage}"
                    if kind == "price_factor":
                        value = self.uniform(0.7, 1.8)
                    else:
                        value = 0.0 if self.chance(0.15) else self.uniform(0.3, 1.5)
                elif kind == "max_share":
                    direct = [lim for lim in data.limits if lim.scope is Scope.DIRECT
                              and lim.basis is Basis.VOLUME and lim.group != "each"
                              and lim.stage != "*" and lim.max_cost_usd_per_pp is None]
                    if direct and self.chance(0.5):
                        lim = rng.choice(direct)
                        target = f"{lim.group}:{lim.stage}"
                    else:
                        at = sorted({o.country for o in data.offers if o.stage == stage})
                        target = f"{rng.choice(at)}:{stage}"
                    value = self.uniform(0.4, 0.95)
                else:
                    target, value = "", rng.choice(("joined", "observer"))
                rows.append(ScenarioStep(p.period, kind, target, str(value),
                                         f"period_values row {len(rows) + 2}"))
        return rows

    def stocks(self, data: Dataset, pool: list[Stage] | None = None,
               always: bool = False) -> list[Stock]:
        rng = self.rng
        if not always and not self.chance(0.75):
            return []
        pool = list(data.stages) if pool is None else pool
        stages = rng.sample(pool, min(len(pool), rng.choice((1, 1, 2))))
        result = []
        for s in stages:
            scale = max(s.demand_t, 20.0)
            price = self.price(data, s.stage)
            floor = 0.0 if self.chance(0.45) else self.uniform(0.05, 0.5) * scale
            initial = 0.0 if self.chance(0.35) else self.uniform(0.0, 0.8) * scale
            capacity = None
            if self.chance(0.7):
                capacity = self.uniform(1.0, 2.5) * max(floor, initial, 0.3 * scale)
            holding = round(price * self.uniform(0.005, 0.25, 4), 3)
            result.append(Stock(s.stage, round(initial, 3),
                                None if capacity is None else round(capacity, 3),
                                holding, round(floor, 3), f"stocks row {len(result) + 2}"))
        return result

    def expansions(self, data: Dataset, offers: list[Offer], processes: list[Process],
                   periods: list[Period]) -> list[Expansion]:
        rng = self.rng
        result: list[Expansion] = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            use_process = processes and self.chance(0.35)
            pool = processes if use_process else offers
            candidates = [i for i, r in enumerate(pool) if r.capacity_t is not None]
            if not candidates:
                continue
            i = rng.choice(candidates)
            if not use_process:                 # the cheaper of two: more often worth it
                j = rng.choice(candidates)
                i = min(i, j, key=lambda k: pool[k].price_usd_per_t)
            target = pool[i]
            if self.chance(0.3):                # closed today: only an expansion opens it
                target = (replace(target, capacity_t=0.0) if use_process
                          else replace(target, capacity_t=0.0, min_t=0.0))
                pool[i] = target
            if use_process:
                name, stage = target.process, target.to_stage
                unit = target.cost_usd_per_t + self.price(data, target.from_stage)
            else:
                name, stage = target.offer, target.stage
                unit = target.price_usd_per_t
            demand = next(s.demand_t for s in data.stages if s.stage == stage)
            scale = max(demand, 20.0)
            maximum = None if self.chance(0.35) else self.uniform(0.1, 1.0) * scale
            result.append(Expansion(
                f"e{len(result)}_{name}", name, round(unit * self.uniform(0.02, 1.0), 2),
                None if maximum is None else round(maximum, 3), rng.choice((0, 0, 1, 2)),
                rng.choice(periods).period if self.chance(0.4) else None,
                f"expansions row {len(result) + 2}"))
        return result


class _Disrupter:
    """Disruptions (SPEC §3b) on top of a dataset, from their own random stream."""

    SETTINGS = ("capacity_factor", "capacity_factor", "capacity_factor", "price_factor",
                "price_factor", "demand_factor", "zone", "max_share")

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self.rng.uniform(low, high), digits)

    def extend(self, data: Dataset) -> Dataset:
        rng = self.rng
        periods = sorted(data.periods, key=lambda p: p.order)
        n = rng.choice((1, 1, 2, 2, 3))
        found = []
        for i in range(n):
            name = f"d{i}"
            if n == 1 and self.chance(0.2):
                probability = self.uniform(0.3, 0.8)
            else:
                probability = self.uniform(0.02, 0.3)
            period = rng.choice(periods).period if periods else None
            duration = rng.choice((1, 1, 2, 3))
            steps = tuple(self.step(data, name) for _ in range(rng.choice((1, 1, 2))))
            found.append(Disruption(name, probability, period, duration, steps,
                                    f"disruptions row {i + 2}"))
        return replace(data, disruptions=tuple(found), risk_weight=rng.choice((0.0, 0.5, 1.0)),
                       cvar_alpha=rng.choice((0.0, 0.5, 0.9)))

    def step(self, data: Dataset, name: str) -> ScenarioStep:
        rng = self.rng
        setting = rng.choice(self.SETTINGS)
        stages = [s.stage for s in data.stages]
        countries = sorted({o.country for o in data.offers})
        tags = sorted({t for c in data.countries for t in c.groups})
        stage = rng.choice(stages)
        if setting in ("capacity_factor", "price_factor"):
            group = rng.choice([*countries, *countries, *countries, *tags, "*", "non-zone"])
            target = f"{group}:{'*' if self.chance(0.2) else stage}"
            if setting == "capacity_factor":
                value = 0.0 if self.chance(0.5) else self.uniform(0.1, 0.8)
            else:
                value = self.uniform(1.2, 3.0)
        elif setting == "demand_factor":
            target, value = stage, self.uniform(0.5, 1.5)
        elif setting == "zone":
            target, value = "", rng.choice(("joined", "observer"))
        else:
            at = sorted({o.country for o in data.offers if o.stage == stage})
            target, value = f"{rng.choice(at)}:{stage}", self.uniform(0.4, 0.95)
        return ScenarioStep(name, setting, target, str(value))


# ---------------------------------------------------------------- as CSV files

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(data: Dataset, folder: Path) -> None:
    """Write ``data`` as a SPEC §2 folder of CSV files (for validation round trips)."""
    tables = {
        "stages": (["stage", "order", "demand_t", "shortage_usd_per_t", "value_usd_per_t"],
                   [[s.stage, s.order, s.demand_t, s.shortage_usd_per_t, s.value_usd_per_t]
                    for s in data.stages]),
        "offers": (["offer", "stage", "supplier", "country", "price_usd_per_t", "capacity_t",
                    "min_t", "freight_usd_per_t", "members_only"],
                   [[o.offer, o.stage, o.supplier, o.country, o.price_usd_per_t, o.capacity_t,
                     o.min_t, o.freight_usd_per_t, o.members_only] for o in data.offers]),
        "countries": (["country", "name", "zone_member", "groups"],
                      [[c.country, c.name, c.zone_member, ";".join(sorted(c.groups))]
                       for c in data.countries]),
        "processes": (["process", "from_stage", "to_stage", "yield", "cost_usd_per_t",
                       "capacity_t"],
                      [[p.process, p.from_stage, p.to_stage, p.yield_t_per_t,
                        p.cost_usd_per_t, p.capacity_t] for p in data.processes]),
        "process_flows": (["process", "stage", "role", "t_per_t"],
                          [[f.process, f.stage, f.role.value, f.t_per_t]
                           for f in data.process_flows]),
        "tariffs": (["country", "stage", "mfn_rate", "zone_rate"],
                    [[t.country, t.stage, t.mfn_rate, t.zone_rate] for t in data.tariffs]),
        "benchmarks": (["stage", "benchmark_usd_per_t"],
                       [[s, v] for s, v in data.benchmarks.items()]),
        "limits": (["group", "stage", "min_share", "max_share", "basis", "scope"],
                   [[lim.group, lim.stage, lim.min_share, lim.max_share, lim.basis.value,
                     lim.scope.value] for lim in data.limits]),
        "content": (["offer", "origin", "share"],
                    [[r.offer, r.origin_country, r.share] for r in data.content]),
        "settings": (["key", "value"], [["buyer", data.buyer], ["zone", data.zone.value],
                                        ["name", data.name]]),
    }
    if data.disruptions:     # SPEC §2, §3b: the branches and the weight of their risk
        tables["settings"][1].extend([["risk_weight", data.risk_weight],
                                      ["cvar_alpha", data.cvar_alpha]])
        tables["disruptions"] = (
            ["disruption", "probability", "period", "duration", "setting", "target", "value"],
            [[d.disruption, d.probability, d.period, d.duration, r.setting, r.target, r.value]
             for d in data.disruptions for r in d.steps])
    periods = {   # the tables of SPEC §3a, written only when the dataset has them
        "periods": (["period", "order", "years", "discount_factor"],
                    [[p.period, p.order, p.years, p.discount_factor] for p in data.periods]),
        "period_values": (["period", "setting", "target", "value"],
                          [[r.scenario, r.setting, r.target, r.value]
                           for r in data.period_values]),
        "stocks": (["stage", "initial_t", "capacity_t", "holding_usd_per_t_yr", "min_t",
                    "initial_origin"],
                   [[s.stage, s.initial_t, s.capacity_t, s.holding_usd_per_t_yr, s.min_t,
                     s.initial_origin] for s in data.stocks]),
        "expansions": (["expansion", "target", "usd_per_t_yr", "max_t_yr", "lead_periods",
                        "from_period"],
                       [[e.expansion, e.target, e.usd_per_t_yr, e.max_t_yr, e.lead_periods,
                         e.from_period] for e in data.expansions]),
    }
    tables.update({name: table for name, table in periods.items() if table[1]})
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([[_cell(v) for v in row] for row in rows])
