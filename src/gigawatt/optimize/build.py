"""Assemble the linear program from the constraint families, in one pass, vectorised."""

from __future__ import annotations

import linopy
import pandas as pd

from gigawatt.optimize import (capacity, cash, demand, nonanticipativity, objective, policy, power,
                               renegotiation_recourse, variables)
from gigawatt.optimize.context import CashRisk, Context
from gigawatt.portfolio import Portfolio


# "No silent wrong answers" (linopy doc/design/convention.rst): shared dimensions must align exactly and
# absent slots propagate; where absent means zero, the builders say so with .fillna(0).
linopy.options["semantics"] = "v1"


# The model's families in build order: variables first, then constraints, then the objective. Each is a
# function of the Context alone; optimize/fastpath.py rebuilds only the families whose inputs changed.
FAMILIES = (
    ("Supply-dispatch", variables.define_dispatch),
    ("Own-chips", variables.define_own_chips),
    ("Site-power", variables.define_site_power),
    ("Workload-unmet", variables.define_unmet),
    ("own-chips-balance", capacity.define_own_chips_balance),
    ("own-capacity", capacity.define_own_capacity),
    ("lease-capacity", capacity.define_lease_capacity),
    ("contract-capacity", capacity.define_contract_capacity),
    ("purchase-limits", capacity.define_purchase_limits),
    ("site-power", power.define_site_power),
    ("demand", demand.define_demand_balance),
    ("share-targets", policy.define_share_targets),
    ("renegotiation", renegotiation_recourse.define),  # extensive form only: deferral and termination per future
    ("cash-floor", cash.define_cash_floor),
    ("nonanticipativity", nonanticipativity.define_nonanticipativity),  # a scenario tree's ties (stages only)
    ("objective", objective.define_objective),
)


def new_context(portfolio: Portfolio, *, allow_unmet: bool, elastic: bool = False, probability=None,
                cvar: tuple[float, float] | None = None, cash_risk: CashRisk | None = None,
                nodes=None) -> Context:
    """An empty linopy model and the portfolio's option sets, ready for the families."""
    sup = portfolio.supply
    return Context(
        portfolio=portfolio,
        model=linopy.Model(force_dim_names=True),
        allow_unmet=allow_unmet,
        elastic=elastic,
        own=pd.Index(sup.index[sup["kind"] == "own"], name="supply"),
        lease=pd.Index(sup.index[sup["kind"] == "lease"], name="supply"),
        contract=pd.Index(sup.index[sup["kind"] == "contract"], name="supply"),
        probability=probability,
        cvar=cvar,
        cash_risk=cash_risk,
        nodes=nodes,
    )


def create_model(portfolio: Portfolio, *, allow_unmet: bool, elastic: bool = False, probability=None,
                 cvar: tuple[float, float] | None = None, cash_risk: CashRisk | None = None,
                 nodes=None) -> Context:
    """A linopy model of the portfolio's least-cost plan (see docs/formulation.md).

    ``elastic`` adds penalised slacks to every hard constraint family (for diagnosing infeasibility).
    ``probability`` (over ``future``; the portfolio's uncertain arrays carry that dimension) makes it the
    extensive form of the two-stage stochastic plan, ``cvar`` = (ω, α) risk-averse, ``cash_risk`` a soft
    cash floor and/or a CVaR limit on the funding gap (docs/stochastic.md); ``nodes`` (future, period), a
    scenario tree's node numbers, makes it multi-stage: every decision of a period is tied across the
    futures of its node (nonanticipativity.py)."""
    ctx = new_context(portfolio, allow_unmet=allow_unmet, elastic=elastic, probability=probability, cvar=cvar,
                      cash_risk=cash_risk, nodes=nodes)
    for _, family in FAMILIES:
        family(ctx)
    return ctx
