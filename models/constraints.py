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

from .data import Scope


def linear(terms: Iterable[tuple[float, pyo.Var]]) -> LinearExpression:
    """Σ coef·var built directly as one LinearExpression (far cheaper than ``sum``)."""
    return LinearExpression(args=[var if coef == 1 else MonomialTermExpression((coef, var))
                                  for coef, var in terms])


def total_landed_cost(m):
    r"""Total landed cost of purchases and domestic processing, plus soft-limit penalties.

    .. math:: \min \sum_o c_o x_o + \sum_p \text{cost}_p z_p + \sum_i k_i e_i,
              \qquad k_i = 100\,\pi_i / T^{\text{ref}}_i

    Inputs: offers.price_usd_per_t, freight_usd_per_t; tariffs; benchmarks;
    settings.zone; processes.cost_usd_per_t; limits.max_cost_usd_per_pp.
    """
    return linear([(m.landed[o], var) for o, var in m.buy_var.items()]
                  + [(m.process[p].cost_usd_per_t, var) for p, var in m.make_var.items()]
                  + [(m.penalty[i], m.excess[i]) for i in m.SOFT_ROWS])


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


def group_supply_definition(m, g, s, b, scope):
    r"""Weighted supply into a stage from a group, by seller or by upstream origin.

    Direct scope counts the seller's country (domestic output as the buyer's);
    embedded scope traces imports through ``content`` and domestic output back
    through its inputs.

    .. math:: G_{g,s,b,\text{direct}} = \sum_{s(o)=s,\, c(o) \in g} w^b_o x_o
              + [\text{buyer} \in g] \sum_{to(p)=s} w^b_p z_p

    .. math:: G_{g,s,b,\text{embedded}} = \sum_{s(o)=s} \varphi_g(o)\, w^b_o x_o
              + \sum_{to(p)=s} w^b_p\, y_p\, u_{g,p}

    for every (g,s,b,scope) used by a limit; φ_g(o) is the share of offer o's
    upstream origin in g, and y_p·u[g,p] the g-origin part of process p's output.
    Inputs: limits.group, scope; countries.zone_member, groups; offers.country;
    content; settings.buyer.
    """
    idx, buy, make = m.index, m.buy_var, m.make_var
    key = (g, s, b, scope)
    if scope == Scope.EMBEDDED:
        terms = [(phi * idx.weight[(b, o)], buy[o]) for o, phi in idx.origin_offers[(g, s)]]
        terms += [(idx.weight[(b, p)] * m.process[p].yield_t_per_t, m.origin_input[g, p])
                  for p in idx.processes_into.get(s, [])]
    else:
        terms = [(idx.weight[(b, o)], buy[o]) for o in idx.group_offers[key]]
        if idx.group_has_buyer[key]:
            terms += [(idx.weight[(b, p)], make[p]) for p in idx.processes_into.get(s, [])]
    return linear([*terms, (-1.0, m.group_supply[key])]) == 0


def origin_input_limit(m, g, p):
    r"""A process's g-origin input is part of its input (the other part is ≥ 0).

    .. math:: u_{g,p} \le z_p / y_p \quad \forall g \text{ with an embedded limit}, p

    Inputs: processes.yield; limits with scope embedded.
    """
    return linear([(1.0, m.origin_input[g, p]),
                   (-1.0 / m.process[p].yield_t_per_t, m.make_var[p])]) <= 0


def _arriving_from_origin(m, g, s) -> list:
    """Terms of A[g,s], the tonnes of g-origin material arriving in stage s."""
    idx = m.index
    return ([(phi, m.buy_var[o]) for o, phi in idx.origin_offers[(g, s)]]
            + [(m.process[p].yield_t_per_t, m.origin_input[g, p])
               for p in idx.processes_into.get(s, [])])


def origin_outflow(m, g, s):
    r"""Processes draw no more g-origin material from a stage than arrives in it.

    Segregated chain of custody: a stage passes on what it receives, by origin.

    .. math:: \sum_{from(p)=s} u_{g,p} \le A_{g,s} = \sum_{s(o)=s} \varphi_g(o)\, x_o
              + \sum_{to(p)=s} y_p\, u_{g,p}

    for every group g with an embedded limit and every stage s processes draw from.
    Inputs: content; offers; processes.
    """
    idx = m.index
    outflow = [(1.0, m.origin_input[g, p]) for p in idx.processes_from[s]]
    arriving = [(-coef, var) for coef, var in _arriving_from_origin(m, g, s)]
    return linear(outflow + arriving) <= 0


def other_origin_outflow(m, g, s):
    r"""Processes draw no more material of other origin from a stage than arrives in it.

    What processes draw from a stage outside group g is at most what arrives
    there from outside g.

    .. math:: \sum_{from(p)=s} (z_p / y_p - u_{g,p}) \le
              \sum_{s(o)=s} x_o + \sum_{to(p)=s} z_p - A_{g,s}

    Inputs: content; offers; processes.
    """
    idx, make = m.index, m.make_var
    outflow = [(1.0 / m.process[p].yield_t_per_t, make[p]) for p in idx.processes_from[s]]
    outflow += [(-1.0, m.origin_input[g, p]) for p in idx.processes_from[s]]
    supply = [(-1.0, m.buy_var[o]) for o in idx.offers_at.get(s, [])]
    supply += [(-1.0, make[p]) for p in idx.processes_into.get(s, [])]
    return linear(outflow + supply + _arriving_from_origin(m, g, s)) <= 0


def group_share_max(m, i):
    r"""A group's share of a stage's supply stays at or below the limit.

    .. math:: G_{g,s,b} - \bar\sigma \, T_{s,b} \le 0 \quad \forall \text{ max\_share rows}

    A soft limit (a willingness to pay π) may be passed by e ≥ 0, priced in the
    objective: :math:`G - \bar\sigma T - e \le 0`.

    Inputs: limits.max_share, max_cost_usd_per_pp (or ``--cap``, scenario
    ``max_share``).
    """
    return linear(_share_terms(m, i, -1.0)) <= 0


def group_share_min(m, i):
    r"""A group's share of a stage's supply stays at or above the limit.

    .. math:: G_{g,s,b} - \underline\sigma \, T_{s,b} \ge 0
              \quad \forall \text{ min\_share rows}

    A soft limit may be passed by e ≥ 0: :math:`G - \underline\sigma T + e \ge 0`.

    Inputs: limits.min_share, max_cost_usd_per_pp (or scenario ``min_share``).
    """
    return linear(_share_terms(m, i, 1.0)) >= 0


def _share_terms(m, i, excess_sign: float) -> list:
    """G − σ·T, plus ``excess_sign``·e for a soft row."""
    row = m.rows[i]
    terms = [(1.0, m.group_supply[row.aggregate]),
             (-row.share, m.supply_total[row.stage, row.limit.basis.value])]
    if i in m.penalty:
        terms.append((excess_sign, m.excess[i]))
    return terms



