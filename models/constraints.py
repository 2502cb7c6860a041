"""Objective and constraint rules of the sourcing LP, one function per family.

Each rule reads the index sets and coefficients ``build.create_model`` puts on
the model (``m.chain``, ``m.offer``, ``m.process``, ``m.demand``, ``m.landed``,
``m.rows``) and the plain-dict views ``m.buy_var`` / ``m.make_var`` of the
variables (a dict lookup is several times cheaper than indexing a Pyomo Var).

Notation (SPEC §3): x[o] tonnes bought via offer o, z[p] tonnes of output of
domestic process p, s(o) the offer's stage, c(o) its country.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from .data import Scope


def linear(terms: Iterable[tuple[float, pyo.Var]]) -> LinearExpression:
    """Σ coef·var built directly as one LinearExpression (far cheaper than ``sum``)."""
    return LinearExpression(args=[var if coef == 1 else MonomialTermExpression((coef, var))
                                  for coef, var in terms])


def total_landed_cost(m):
    r"""Landed cost, processing, unmet demand at its shortage price, soft penalties.

    .. math:: \min \sum_o c_o x_o + \sum_p \text{cost}_p z_p + \sum_s \text{short}_s u_s
              + \sum_i k_i e_i, \qquad k_i = 100\,\pi_i / T^{\text{ref}}_i

    Inputs: offers.price_usd_per_t, freight_usd_per_t; tariffs; benchmarks;
    settings.zone; processes.cost_usd_per_t; stages.shortage_usd_per_t;
    limits.max_cost_usd_per_pp.
    """
    return linear(_yearly_cost_terms(m))


def _yearly_cost_terms(m) -> list:
    """The terms of ``total_landed_cost``: one year's cost of one period (USD/yr)."""
    return ([(m.landed[o], var) for o, var in m.buy_var.items()]
            + [(m.process[p].cost_usd_per_t, var) for p, var in m.make_var.items()]
            + [(m.shortage[s], m.short[s]) for s in m.SHORT_STAGES]
            + [(m.penalty[i], m.excess[i]) for i in m.SOFT_ROWS])


def demand_balance(m, s):
    r"""Supply into a stage, less what processes take from it, plus unmet demand, ≥ demand.

    .. math:: \sum_{s(o)=s} x_o + \sum_p \text{out}_{p,s} z_p - \sum_p \text{in}_{p,s} z_p
              + u_s \ge d_s \quad \forall s

    out[p, to(p)] = 1 and in[p, from(p)] = 1/yield; ``process_flows`` adds further
    inputs and co-products. 0 ≤ u_s ≤ d_s exists only where the stage has a shortage
    price. Supply beyond demand (a co-product nobody needs) is allowed. Over time
    (SPEC §3a) a stock of s adds its release r_s and takes its put p_s (t/yr):
    :math:`\ldots + r_s - p_s + u_s \ge d_s`.
    Inputs: stages.demand_t, shortage_usd_per_t; offers.stage; processes.from_stage,
    to_stage, yield; process_flows; stocks.stage.
    """
    idx, buy, make = m.chain, m.buy_var, m.make_var
    terms = [(1.0, buy[o]) for o in idx.offers_at.get(s, [])]
    terms += [(idx.flows.outputs[p][s], make[p]) for p in idx.processes_into.get(s, [])]
    terms += [(-idx.flows.inputs[p][s], make[p]) for p in idx.processes_from.get(s, [])]
    if s in m.SHORT_STAGES:
        terms.append((1.0, m.short[s]))
    if s in m.STOCKED:
        terms += [(1.0, m.stock_release[s]), (-1.0, m.stock_put[s])]
    if not terms:  # nothing supplies the stage: the engine reports positive demand first
        return pyo.Constraint.Skip
    return linear(terms) >= m.demand[s]


def offer_capacity(m, o):
    r"""An offer sells at most its capacity, plus capacity added by expansions usable here.

    .. math:: x_o \le \text{cap}_o + \sum_{(e,t') \text{ usable}} a_{e,t'}
              \quad \forall o \text{ with a capacity}

    Inputs: offers.capacity_t (blank = unlimited, no row); expansions.
    """
    return _with_additions(m, m.buy_var[o], ("offer", o)) <= m.offer[o].capacity_t


def _with_additions(m, var, target):
    """``var`` less the expansion capacity usable at ``target`` in this period."""
    added = m.added.get(target, [])
    return linear([(1.0, var)] + [(-1.0, a) for a in added]) if added else var


def offer_minimum(m, o):
    r"""A contracted minimum offtake is bought.

    .. math:: x_o \ge \text{min}_o \quad \forall o \text{ with } \text{min}_o > 0

    Inputs: offers.min_t.
    """
    return m.buy_var[o] >= m.offer[o].min_t


def process_capacity(m, p):
    r"""A domestic process makes at most its capacity, plus usable expansions.

    .. math:: z_p \le \text{cap}_p + \sum_{(e,t') \text{ usable}} a_{e,t'}
              \quad \forall p \text{ with a capacity}

    Inputs: processes.capacity_t (blank = unlimited, no row); expansions.
    """
    return _with_additions(m, m.make_var[p], ("process", p)) <= m.process[p].capacity_t


def supply_total_definition(m, s, b):
    r"""Weighted supply into a stage: purchases plus domestic output (co-products too).

    .. math:: T_{s,b} = \sum_{s(o)=s} w^b_o x_o + \sum_p w^b_{p,s}\, \text{out}_{p,s} z_p
              \quad \forall (s,b) \text{ used by a limit}

    with w = 1 (volume) or, for value, landed cost per t of a purchase and, per t of
    domestic output, stages.value_usd_per_t, else the process's cost (main output) or
    the stage's median offer price (co-product).
    Inputs: limits.stage, basis; offers; processes; process_flows; stages.value_usd_per_t.
    """
    idx, buy = m.chain, m.buy_var
    terms = [(idx.weight[(b, o)], buy[o]) for o in idx.offers_at.get(s, [])]
    terms += _domestic_output(m, s, b)
    return linear([*terms, (-1.0, m.supply_total[s, b])]) == 0


def _domestic_output(m, s, b) -> list:
    """Terms of Σ_p w_{p,s}·out[p,s]·z_p: domestic output into stage s, weighted."""
    idx, make = m.chain, m.make_var
    return [(idx.output_weight[(b, p, s)] * idx.flows.outputs[p][s], make[p])
            for p in idx.processes_into.get(s, [])]


def group_supply_definition(m, g, s, b, scope):
    r"""Weighted supply into a stage from a group, by seller or by upstream origin.

    Direct scope counts the seller's country (domestic output as the buyer's);
    embedded scope sums the group's origin countries in the split by origin.

    .. math:: G_{g,s,b,\text{direct}} = \sum_{s(o)=s,\, c(o) \in g} w^b_o x_o
              + [\text{buyer} \in g] \sum_p w^b_{p,s}\, \text{out}_{p,s} z_p

    .. math:: G_{g,s,b,\text{embedded}} = \sum_{c \in g} \Big( \sum_{s(o)=s}
              \varphi_c(o)\, w^b_o x_o + \sum_p w^b_{p,s}\, \frac{\text{out}_{p,s}}{I_p}
              \sum_{s'} v_{c,p,s'} \Big)

    for every (g,s,b,scope) used by a limit; φ_c(o) is the share of offer o's upstream
    origin in country c, I_p = Σ_s' in[p,s'] the input per t of main output, so a
    process's outputs carry the mass-weighted origin mix of all its inputs.
    Inputs: limits.group, scope; countries.zone_member, groups; offers.country;
    content; settings.buyer; process_flows.
    """
    idx, buy = m.chain, m.buy_var
    key = (g, s, b, scope)
    if scope == Scope.EMBEDDED:
        terms = []
        for c in idx.group_origins[(g, s)]:
            terms += [(phi * idx.weight[(b, o)], buy[o])
                      for o, phi in idx.origin_offers.get((c, s), [])]
            terms += [(idx.output_weight[(b, p, s)] * coef, var)
                      for p in idx.processes_into.get(s, [])
                      for coef, var in _origin_output(m, c, p, s)]
    else:
        terms = [(idx.weight[(b, o)], buy[o]) for o in idx.group_offers[key]]
        if idx.group_has_buyer[key]:
            terms += _domestic_output(m, s, b)
    return linear([*terms, (-1.0, m.group_supply[key])]) == 0


def _origin_output(m, c, p, s) -> list:
    """Terms of the origin-c part of process p's output into stage s (t):
    out[p,s]/I_p · Σ_s' v[c,p,s']."""
    idx = m.chain
    ratio = idx.flows.outputs[p][s] / idx.flows.input_total(p)
    return [(ratio, m.origin_draw[c, p, source]) for source in idx.flows.inputs[p]
            if (c, p, source) in m.origin_draw]


def origin_draw_total(m, p, s):
    r"""A process's draw from one input stage, split by origin, adds up to the draw.

    .. math:: \sum_c v_{c,p,s} = \text{in}_{p,s}\, z_p
              \quad \forall p, s \text{ input of } p \text{ (embedded limits only)}

    Inputs: processes.yield; process_flows; limits with scope embedded.
    """
    draws = [(1.0, m.origin_draw[c, p, s]) for c in m.chain.origins_at.get(s, [])]
    return linear([*draws, (-m.chain.flows.inputs[p][s], m.make_var[p])]) == 0


def origin_outflow(m, c, s):
    r"""Processes draw no more origin-c material from a stage than arrives in it.

    Segregated chain of custody, every origin country explicit: a stage passes on what
    it receives, by origin; so the by-origin shares of a stage add up to 1.

    .. math:: \sum_p v_{c,p,s} \le \sum_{s(o)=s} \varphi_c(o)\, x_o
              + \sum_p \frac{\text{out}_{p,s}}{I_p} \sum_{s'} v_{c,p,s'}

    for every origin country c that can reach a stage s that processes draw from. Over
    time, a stock of s takes its put p[c,s] from what arrives and adds its release
    r[c,s], origin by origin (SPEC §3a: a stock keeps its material's origin).
    Inputs: content; offers; processes; process_flows; stocks.
    """
    idx = m.chain
    outflow = [(1.0, m.origin_draw[c, p, s]) for p in idx.processes_from[s]]
    arriving = [(phi, m.buy_var[o]) for o, phi in idx.origin_offers.get((c, s), [])]
    for p in idx.processes_into.get(s, []):
        arriving += _origin_output(m, c, p, s)
    if (c, s) in m.ORIGIN_STOCKS:
        outflow.append((1.0, m.stock_origin_put[c, s]))
        arriving.append((1.0, m.stock_origin_release[c, s]))
    return linear(outflow + [(-coef, var) for coef, var in arriving]) <= 0


def stock_origin_total(m, s, side):
    r"""A stock's put (or release), split by origin, adds up to the put (or release).

    .. math:: \sum_c p_{c,s} = p_s, \quad \sum_c r_{c,s} = r_s
              \quad \forall s \text{ stocked, drawn by processes, origins tracked}

    Inputs: stocks; limits with scope embedded (in any period).
    """
    parts, whole = ((m.stock_origin_put, m.stock_put) if side == "put"
                    else (m.stock_origin_release, m.stock_release))
    return linear([(1.0, parts[c, s]) for c, stage in m.ORIGIN_STOCKS if stage == s]
                  + [(-1.0, whole[s])]) == 0


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





# -- over time (SPEC §3a, §3b): rules of the model that links the periods' blocks ------
# ``h`` is the top model. A node n = (t, b) is period t of branch b (``base`` for a period
# the branches still share): ``h.node[t, b]`` is its block (the rules above),
# ``h.nodes[n]`` its ``PeriodData`` (years, discount factor, probability mass, parent).


def expected_cost(h):
    r"""Expected discounted cost over the branches, mixed with CVaR by the risk weight.

    Each node's yearly cost weighs years × discount factor × the probability of the
    branches through it, with its holding and its expansions (λ = 0); with a risk weight
    λ > 0, (1 − λ)·expected cost + λ·CVaR_α (Rockafellar–Uryasev).

    .. math:: \min \sum_n \pi_n \big(y_n \delta_n C_n + \sum_s h_s y_n \delta_n I_{s,n}
              + \sum_e k_e \delta_n a_{e,n}\big)
              \quad\text{or}\quad (1-\lambda)\sum_b \pi_b K_b
              + \lambda\big(\eta + \sum_b \pi_b \tau_b / (1-\alpha)\big)

    C_n is node n's ``total_landed_cost`` (USD/yr), π_n the probability of the branches
    through n, K_b branch b's discounted cost (``branch_cost``), τ_b ≥ K_b − η its tail.
    Inputs: periods.years, discount_factor; stocks.holding_usd_per_t_yr;
    expansions.usd_per_t_yr; disruptions.probability; settings risk_weight, cvar_alpha.
    """
    if h.risk_weight > 0:
        weight = 1.0 - h.risk_weight
        return linear([(weight * b.probability, h.branch_cost[b.branch]) for b in h.branches]
                      + [(h.risk_weight, h.eta)]
                      + [(h.risk_weight * b.probability / (1.0 - h.alpha),
                          h.tail[b.branch]) for b in h.branches])
    return linear([(h.nodes[n].mass * coef, var) for n in h.NODES
                   for coef, var in _node_cost_terms(h, n)])


def _node_cost_terms(h, n) -> list:
    """One node's discounted cost: y·δ × its yearly cost, holding, expansions decided."""
    node = h.nodes[n]
    terms = [(node.weight * coef, var) for coef, var in _yearly_cost_terms(h.node[n])]
    terms += [(h.stock[key[0]].holding_usd_per_t_yr * node.weight, h.stock_level[key])
              for key in h.levels_at[n] if h.stock[key[0]].holding_usd_per_t_yr]
    terms += [(h.expansion[key[0]].usd_per_t_yr * node.period.discount_factor, h.expand[key])
              for key in h.decisions_at[n] if h.expansion[key[0]].usd_per_t_yr]
    return terms


def branch_cost(h, b):
    r"""A branch's cost: the discounted cost of every node along it, shared ones included.

    .. math:: K_b = \sum_{n \in b} \big(y_n \delta_n C_n + \ldots\big)
              \quad \forall b \text{ (with a risk weight)}

    Inputs: as ``expected_cost``.
    """
    path = next(x for x in h.branches if x.branch == b).nodes
    return linear([term for n in path for term in _node_cost_terms(h, n)]
                  + [(-1.0, h.branch_cost[b])]) == 0


def cvar_tail(h, b):
    r"""The part of a branch's cost above the value at risk η (Rockafellar–Uryasev).

    .. math:: \tau_b \ge K_b - \eta, \quad \tau_b \ge 0

    Inputs: settings cvar_alpha.
    """
    return linear([(1.0, h.tail[b]), (-1.0, h.branch_cost[b]), (1.0, h.eta)]) >= 0


def stock_flow(h, s, t, b):
    r"""A stock's level moves by what is put in and released over the period's years.

    .. math:: I_{s,n} - I_{s,n^-} - y_n\,(p_{s,n} - r_{s,n}) = \begin{cases}
              I^0_s & n \text{ first} \\ 0 & \text{otherwise}\end{cases}

    n⁻ is the node before n on its branch. Its dual, for the first period, is the value
    of one more t of initial stock. A stock split by origin (``stock_origin_flow``) is
    instead the sum of its origins' parts, :math:`I_{s,n} = \sum_c L_{c,s,n}`.
    Inputs: stocks.initial_t; periods.years, order; disruptions.period.
    """
    if s in h.split_stocks:
        return linear([(1.0, h.stock_level[s, t, b])]
                      + [(-1.0, h.stock_origin_level[c, s, t, b])
                         for c in h.split_stocks[s]]) == 0
    block, node = h.node[t, b], h.nodes[t, b]
    years = node.period.years
    terms = [(1.0, h.stock_level[s, t, b]), (-years, block.stock_put[s]),
             (years, block.stock_release[s])]
    if node.parent is not None:
        terms.append((-1.0, h.stock_level[(s, *node.parent)]))
        return linear(terms) == 0
    return linear(terms) == h.stock[s].initial_t


def stock_floor(h, s, t, b):
    r"""The reserve floor is held at the end of every period, except during a disruption.

    SPEC §3b: it is waived while a disruption lasts, and holds again after.

    .. math:: I_{s,n} \ge \underline{I}_{s,n} \quad \forall s, n \text{ not disrupted}

    Its dual is the cost of one more t of floor at the end of n. The floor is
    stocks.min_t, or a setting ``stock_floor_days`` in force (days of the period's demand).
    Inputs: stocks.min_t; scenarios / period_values stock_floor_days; disruptions.
    """
    return h.stock_level[s, t, b] >= h.floor[s, t, b]


def stock_capacity(h, s, t, b):
    r"""A stock holds at most its capacity.

    .. math:: I_{s,n} \le \overline{I}_s \quad \forall s \text{ with a capacity}, n

    Inputs: stocks.capacity_t (blank = unlimited, no row).
    """
    return h.stock_level[s, t, b] <= h.stock[s].capacity_t


def stock_origin_flow(h, c, s, t, b):
    r"""Each origin's part of a stock moves by its own puts and releases.

    .. math:: L_{c,s,n} - L_{c,s,n^-} - y_n\,(p_{c,s,n} - r_{c,s,n}) = \begin{cases}
              I^0_s\,[c = c^0_s] & n \text{ first} \\ 0 & \text{otherwise}\end{cases}

    c⁰_s is the origin of the initial stock (unknown: ``XX``); the parts sum to the
    level I[s,n] (``stock_flow``), and the dual of c⁰_s's row in the first period is the
    value of one more t of initial stock.
    Inputs: stocks.initial_t, initial_origin; periods.years.
    """
    block, node = h.node[t, b], h.nodes[t, b]
    years = node.period.years
    terms = [(1.0, h.stock_origin_level[c, s, t, b]),
             (-years, block.stock_origin_put[c, s]), (years, block.stock_origin_release[c, s])]
    if node.parent is not None:
        terms.append((-1.0, h.stock_origin_level[(c, s, *node.parent)]))
        return linear(terms) == 0
    stock = h.stock[s]
    return linear(terms) == (stock.initial_t if c == stock.initial_origin else 0.0)


def expansion_limit(h, e, b):
    r"""An expansion adds at most its maximum along each branch.

    Decisions in the periods the branches share count in every branch.

    .. math:: \sum_{n \in b} a_{e,n} \le \overline{a}_e
              \quad \forall e \text{ with a maximum}, b

    Inputs: expansions.max_t_yr (blank = unlimited, no row).
    """
    path = set(next(x for x in h.branches if x.branch == b).nodes)
    return linear([(1.0, h.expand[f, t, c]) for f, t, c in h.EXPANSION_DECISIONS
                   if f == e and (t, c) in path]) <= h.expansion[e].max_t_yr
