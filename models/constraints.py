"""Objective and constraint rules of the sourcing LP, one function per family.

Each rule reads the index sets and coefficients ``build.create_model`` puts on
the model (``m.index``, ``m.offer``, ``m.process``, ``m.demand``, ``m.landed``,
``m.rows``) and the plain-dict views ``m.buy_var`` / ``m.make_var`` of the
variables (a dict lookup is several times cheaper than indexing a Pyomo Var).

Notation (SPEC §3): x[o] tonnes bought via offer o, z[p] tonnes of output of
domestic process p, s(o) the offer's stage, c(o) its country.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression


def linear(terms: Iterable[tuple[float, pyo.Var]]) -> LinearExpression:
    """Σ coef·var built directly as one LinearExpression (far cheaper than ``sum``)."""
    return LinearExpression(args=[var if coef == 1 else MonomialTermExpression((coef, var))
                                  for coef, var in terms])


def total_landed_cost(m):
    r"""Total landed cost of purchases plus domestic processing cost.

    .. math:: \min \sum_o c_o x_o + \sum_p \text{cost}_p z_p

    Inputs: offers.price_usd_per_t, freight_usd_per_t; tariffs; benchmarks;
    settings.zone; processes.cost_usd_per_t.
    """
    return linear([(m.landed[o], var) for o, var in m.buy_var.items()]
                  + [(m.process[p].cost_usd_per_t, var) for p, var in m.make_var.items()])


def demand_balance(m, s):
    r"""Supply into a stage, less what domestic processes take from it, covers demand.

    .. math:: \sum_{s(o)=s} x_o + \sum_{to(p)=s} z_p - \sum_{from(p)=s} z_p / y_p
              \ge d_s \quad \forall s

    Inputs: stages.demand_t; offers.stage; processes.from_stage, to_stage, yield.
    """
    idx, buy, make = m.index, m.buy_var, m.make_var
    terms = [(1.0, buy[o]) for o in idx.offers_at.get(s, [])]
    terms += [(1.0, make[p]) for p in idx.processes_into.get(s, [])]
    terms += [(-1.0 / m.process[p].yield_t_per_t, make[p])
              for p in idx.processes_from.get(s, [])]
    if not terms:  # nothing supplies the stage: the engine reports positive demand first
        return pyo.Constraint.Skip
    return linear(terms) >= m.demand[s]


def offer_capacity(m, o):
    r"""An offer sells at most its capacity.

    .. math:: x_o \le \text{cap}_o \quad \forall o \text{ with a capacity}

    Inputs: offers.capacity_t (blank = unlimited, no row).
    """
    return m.buy_var[o] <= m.offer[o].capacity_t


def offer_minimum(m, o):
    r"""A contracted minimum offtake is bought.

    .. math:: x_o \ge \text{min}_o \quad \forall o \text{ with } \text{min}_o > 0

    Inputs: offers.min_t.
    """
    return m.buy_var[o] >= m.offer[o].min_t


def process_capacity(m, p):
    r"""A domestic process makes at most its capacity.

    .. math:: z_p \le \text{cap}_p \quad \forall p \text{ with a capacity}

    Inputs: processes.capacity_t (blank = unlimited, no row).
    """
    return m.make_var[p] <= m.process[p].capacity_t


def supply_total_definition(m, s, b):
    r"""Weighted supply into a stage: purchases there plus domestic output into it.

    .. math:: T_{s,b} = \sum_{s(o)=s} w^b_o x_o + \sum_{to(p)=s} w^b_p z_p
              \quad \forall (s,b) \text{ used by a limit}

    with w = 1 (volume) or landed cost / process cost per t (value).
    Inputs: limits.stage, basis; offers; processes.
    """
    idx, buy, make = m.index, m.buy_var, m.make_var
    terms = [(idx.weight[(b, o)], buy[o]) for o in idx.offers_at.get(s, [])]
    terms += [(idx.weight[(b, p)], make[p]) for p in idx.processes_into.get(s, [])]
    return linear([*terms, (-1.0, m.supply_total[s, b])]) == 0


def group_supply_definition(m, g, s, b):
    r"""Weighted supply into a stage from a group; domestic output counts as the buyer's.

    .. math:: G_{g,s,b} = \sum_{s(o)=s,\, c(o) \in g} w^b_o x_o
              + [\text{buyer} \in g] \sum_{to(p)=s} w^b_p z_p
              \quad \forall (g,s,b) \text{ used by a limit}

    Inputs: limits.group; countries.zone_member, groups; offers.country; settings.buyer.
    """
    idx, buy, make = m.index, m.buy_var, m.make_var
    key = (g, s, b)
    terms = [(idx.weight[(b, o)], buy[o]) for o in idx.group_offers[key]]
    if idx.group_has_buyer[key]:
        terms += [(idx.weight[(b, p)], make[p]) for p in idx.processes_into.get(s, [])]
    return linear([*terms, (-1.0, m.group_supply[g, s, b])]) == 0


def group_share_max(m, i):
    r"""A group's share of a stage's supply stays at or below the limit.

    .. math:: G_{g,s,b} - \bar\sigma \, T_{s,b} \le 0 \quad \forall \text{ max\_share rows}

    Inputs: limits.max_share (or ``--cap``, scenario ``max_share``).
    """
    row = m.rows[i]
    b = row.limit.basis.value
    return linear([(1.0, m.group_supply[row.aggregate]),
                   (-row.share, m.supply_total[row.stage, b])]) <= 0


def group_share_min(m, i):
    r"""A group's share of a stage's supply stays at or above the limit.

    .. math:: G_{g,s,b} - \underline\sigma \, T_{s,b} \ge 0
              \quad \forall \text{ min\_share rows}

    Inputs: limits.min_share (or scenario ``min_share``).
    """
    row = m.rows[i]
    b = row.limit.basis.value
    return linear([(1.0, m.group_supply[row.aggregate]),
                   (-row.share, m.supply_total[row.stage, b])]) >= 0



