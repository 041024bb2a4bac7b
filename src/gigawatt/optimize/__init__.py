"""The planner: build the linear program (linopy), solve it (HiGHS), explain infeasibility.

Only this package imports linopy. See docs/formulation.md for every variable and constraint.
"""

from gigawatt.optimize.run import optimize

__all__ = ["optimize"]
