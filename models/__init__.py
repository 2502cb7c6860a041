"""The sourcing LP (SPEC §3), installed as ``planner.models``.

Pure model code: typed records (``data``), landed costs (``costs``), group
membership (``groups``), the Pyomo formulation (``build``, ``constraints``) and
the one adapter to HiGHS (``highs``). Nothing here reads files or imports the CLI.

Notation
========

=================  ==========================  =====================================  ========
symbol             Pyomo component             input column                           unit
=================  ==========================  =====================================  ========
x_o                ``buy[o]``                  offers.offer                           t
z_p                ``make[p]``                 processes.process                      t output
c_o                objective coefficient       price, freight, tariffs, benchmarks    USD/t
cost_p             objective coefficient       processes.cost_usd_per_t               USD/t
d_s                ``balance[s]`` RHS          stages.demand_t                        t
in/out_{p,s}       ``balance`` coefficients    processes.yield, process_flows         t/t
I_p                Σ_s in_{p,s}                processes.yield, process_flows         t/t
u_s                ``short[s]``                stages.shortage_usd_per_t (price)      t
cap_o, min_o       ``capacity[o]``,            offers.capacity_t, min_t               t
                   ``minimum[o]``
cap_p              ``process_capacity[p]``     processes.capacity_t                   t
w^b                aggregate coefficient       limits.basis (1 or USD/t);             –
                                               stages.value_usd_per_t
T_{s,b}            ``supply_total[s,b]``       –                                      t or USD
G_{g,s,b,scope}    ``group_supply[g,s,b,sc]``  limits.group, scope, countries         t or USD
φ_c(o)             aggregate coefficient       content (origin, share)                fraction
v_{c,p,s}          ``origin_draw[c,p,s]``      limits with scope embedded             t input
σ̄, σ̲              ``share_max[i]``,           limits.max_share, min_share            fraction
                   ``share_min[i]``
e_i                ``excess[i]``               limits.max_cost_usd_per_pp             t or USD
k_i = 100π/T_ref   objective coefficient       limits.max_cost_usd_per_pp             USD/unit
=================  ==========================  =====================================  ========
"""
