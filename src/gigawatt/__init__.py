"""gigawatt: plan and stress-test the compute portfolio of an AI lab.

The public API follows the data flow (docs/api.md)::

    import gigawatt as gw
    portfolio = gw.load("examples/minimal.yaml")   # read + validate
    plan = gw.solve(portfolio)                     # least-cost plan with its finance
    plan.stats.capacity()                          # pandas tables, unit in .attrs["unit"]
    plan.write("runs/minimal"); gw.read_run("runs/minimal")
    gw.simulate(plan, draws=1000); gw.write_report("runs/minimal")

Names resolve on first use (module ``__getattr__``), so ``import gigawatt`` loads nothing heavy.
"""

from __future__ import annotations

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first access)
_LAZY = {
    "load": "gigawatt.api", "solve": "gigawatt.api", "read_run": "gigawatt.api", "simulate": "gigawatt.api",
    "write_report": "gigawatt.api", "Plan": "gigawatt.api",
    "Portfolio": "gigawatt.portfolio", "RiskResult": "gigawatt.risk.result",
    "GigawattError": "gigawatt.errors", "ScenarioError": "gigawatt.errors", "InfeasibleError": "gigawatt.errors",
}

__all__ = ["__version__", "load", "solve", "read_run", "simulate", "write_report", "Plan", "Portfolio", "RiskResult",
           "GigawattError", "ScenarioError", "InfeasibleError", "read", "validate", "load_scenario"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gigawatt' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def read(path, *, scenario=None, overrides=None, sets=None):
    """Read a scenario YAML file (imports, named scenario, --set) into a :class:`~gigawatt.scenario.load.Resolved`."""
    from gigawatt.scenario.load import read as _read

    return _read(path, scenario=scenario, overrides=overrides, sets=sets)


def validate(resolved):
    """Validate a resolved scenario against the schema; raise :class:`~gigawatt.errors.ScenarioError`."""
    from gigawatt.scenario.validate import validate as _validate

    return _validate(resolved)


def load_scenario(path, *, scenario=None, sets=None):
    """read + validate in one call: the validated :class:`~gigawatt.scenario.schema.Scenario` and its source map."""
    resolved = read(path, scenario=scenario, sets=sets)
    return validate(resolved), resolved
