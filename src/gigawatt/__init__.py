"""gigawatt: plan and stress-test the compute portfolio of an AI lab.

The public API follows the data flow: ``read`` a scenario file, ``validate`` it, build a ``Portfolio``,
``optimize`` it into a ``Plan``, then finance, simulate and report.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "read", "validate", "load_scenario"]


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
