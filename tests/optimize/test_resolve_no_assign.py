"""Resolver.solve(assign=False): the re-solves of the binding confirmation report status and objective
without writing a solution back into the linopy model."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ROOT

from gigawatt.optimize.build import create_model
from gigawatt.optimize.resolve import Resolver
from gigawatt.portfolio import Portfolio


def test_objective_without_assignment_equals_the_assigned_one_and_the_model_keeps_its_solution():
    p = Portfolio.from_file(ROOT / "examples" / "minimal.yaml")
    ctx = create_model(p, allow_unmet=True)
    resolver = Resolver(max_structures=1)
    try:
        first, _ = resolver.solve(ctx, method="simplex")
        assert first.objective == pytest.approx(float(ctx.model.objective.value), rel=1e-12)
        name = next(iter(ctx.model.variables))
        before = ctx.model.variables[name].solution.copy()
        # raise every demand by 10%: the optimum moves, the model's stored solution must not
        con = ctx.model.constraints["Workload-demand"]
        rhs = con.rhs
        con.update(rhs=rhs * 1.1)
        second, how = resolver.solve(ctx, method="simplex", assign=False)
        assert second.status == "ok" and second.termination == "optimal" and how == "update"
        assert second.objective > first.objective
        assert float(ctx.model.objective.value) == pytest.approx(first.objective, rel=1e-12)
        np.testing.assert_array_equal(ctx.model.variables[name].solution.values, before.values)
        third, _ = resolver.solve(ctx, method="simplex")  # the same problem, assigned: the same objective
        assert third.objective == pytest.approx(second.objective, rel=1e-9)
        assert float(ctx.model.objective.value) == pytest.approx(second.objective, rel=1e-9)
    finally:
        resolver.close()
