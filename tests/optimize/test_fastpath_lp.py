"""The numbers the fast path pushes (optimize/fastpath.py) make HiGHS hold exactly the LP a cold build gives
for the same task: cost, column bounds, matrix, row bounds, compared array by array with ``getLp()``; and the
warm re-solve's objective equals a cold solve's. For every kind of --vary key (each reaches some families by
its own shortcut: the objective's factors, a right-hand side, a variable's mask, or linopy on the scratch
model), on the test scenario, examples/minimal.yaml and the reference's bench grid. The sabotage tests show
the comparison fails when a family's numbers are wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "risk"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_helpers import SCENARIO  # noqa: E402
from test_resolve import VARY, _scenario  # noqa: E402

from gigawatt.optimize import lpnumbers  # noqa: E402
from gigawatt.optimize.build import create_model  # noqa: E402
from gigawatt.optimize.fastpath import FastPath  # noqa: E402
from gigawatt.portfolio import Portfolio  # noqa: E402
from gigawatt.sweep.manifest import build, resolve_task  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ["sites.texas.build_cost=9 million USD/MW,13 million USD/MW",
           "contracts.cloudco_reserved.chips=20000,65000"]
REFERENCE = ["sites.milam.build_cost=10.3 million USD/MW,14 million USD/MW", "horizon.discount_rate=10%,6%"]
# the reference's other families: a share target (linopy on the scratch model), a site's power envelope (a
# right-hand side), its energy price (the objective)
REFERENCE_MORE = ["policy.share_targets.stargate_2030.min_share=75%,60%",
                  "sites.milam.power_max=[{2025: 0 MW, 2026: 300 MW, 2027: 1200 MW, 2028: 1200 MW, 2029: 1200 MW, "
                  "2030: 1200 MW, 2031: 1200 MW, 2032: 1200 MW, 2033: 1200 MW}, {2025: 0 MW, 2026: 200 MW, "
                  "2027: 900 MW, 2028: 1500 MW, 2029: 1500 MW, 2030: 1500 MW, 2031: 1500 MW, 2032: 1500 MW, "
                  "2033: 1500 MW}]",
                  "sites.milam.energy_price=60 USD/MWh,85 USD/MWh"]


def _portfolios(scenario: Path, vary: list[str]) -> list:
    manifest = build(scenario, vary=vary)
    out = []
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        out.append(Portfolio.from_scenario(sc, resolved))
    return out


def _arrays(lp) -> dict:
    """An LP's numbers: costs, bounds and the matrix (CSC, explicit zeros dropped)."""
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    mat = (scipy.sparse.csc_array(parts, shape=shape) if a.format_.name == "kColwise"
           else scipy.sparse.csr_array(parts, shape=shape).tocsc())
    mat.eliminate_zeros()
    mat.sort_indices()
    out = {k: np.asarray(getattr(lp, k)) for k in ("col_cost_", "col_lower_", "col_upper_", "row_lower_",
                                                   "row_upper_")}
    out.update(a_data=mat.data, a_indices=mat.indices, a_indptr=mat.indptr, offset=np.asarray(lp.offset_),
               sense=np.asarray(int(lp.sense_)))
    return out


def _cold(p, allow_unmet: bool):
    """The task's LP handed to HiGHS by a cold create_model, and that model solved from scratch."""
    import highspy
    from linopy.solvers import Highs

    h = Highs._build_solver_model(create_model(p, allow_unmet=allow_unmet).model, set_names=False)
    h.setOptionValue("output_flag", False)
    lp = h.getLp()
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return lp, h.getInfo().objective_function_value


def assert_same_lp(fast, cold, label: str) -> None:
    a, b = _arrays(fast), _arrays(cold)
    for k in b:
        assert a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), f"{label}: {k} differs"


def _check(portfolios, label: str, fp: FastPath | None = None, after_load=None) -> list[list[str]]:
    """Every task through the fast path (loaded on the first), its HiGHS LP and objective against cold's."""
    cfg = portfolios[0].scenario.config.solve
    allow, method = bool(cfg.allow_unmet), cfg.method
    fp = fp or FastPath()
    fp.load(portfolios[0], allow_unmet=allow, method=method)
    if after_load is not None:
        after_load()
    rebuilt = []
    for i, p in enumerate(portfolios):
        _, result, _, families = fp.solve(p, allow_unmet=allow, method=method)
        rebuilt.append(families)
        lp, objective = _cold(p, allow)
        assert_same_lp(fp.highs.getLp(), lp, f"{label} task {i} ({families})")
        assert fp.highs.getInfo().objective_function_value == pytest.approx(objective, rel=1e-9, abs=1e-9), label
    fp.close()
    return rebuilt


@pytest.mark.parametrize("kind", sorted(VARY))
def test_fast_path_lp_equals_cold_for_every_vary_kind(tmp_path, kind):
    rebuilt = _check(_portfolios(_scenario(tmp_path), [VARY[kind]]), kind)
    assert rebuilt[0] == []  # the base's own numbers: nothing to rebuild


def test_fast_path_lp_equals_cold_on_the_minimal_example():
    rebuilt = _check(_portfolios(ROOT / "examples" / "minimal.yaml", MINIMAL), "minimal")
    assert {"objective", "contract-capacity"} <= set().union(*map(set, rebuilt)), rebuilt


@pytest.mark.parametrize("vary", [REFERENCE, *[[v] for v in REFERENCE_MORE]], ids=lambda v: v[0].split("=")[0])
def test_fast_path_lp_equals_cold_on_the_reference(vary):
    _check(_portfolios(ROOT / "scenarios" / "openai.yaml", vary), "reference")


def test_shortcuts_are_taken_on_the_bench_grids(tmp_path):
    """The objective by its factors, contract capacity and demand by their right-hand sides, the dispatch
    variable by its mask: no linopy rebuild (the scratch model is never made)."""
    fp = FastPath()
    _check(_portfolios(ROOT / "examples" / "minimal.yaml", MINIMAL), "minimal", fp)
    assert fp.fast_cost and fp.scratch is None
    _check(_portfolios(_scenario(tmp_path), [VARY["demand"]]), "demand", fp)
    assert fp.scratch is None


@pytest.mark.parametrize("sabotage", ["cost", "rhs", "coefficient push"])
def test_the_comparison_fails_when_a_family_is_wrong(tmp_path, monkeypatch, sabotage):
    """Wrong numbers on purpose, in the objective's cost vector, a right-hand side, or the pushes of a family
    rebuilt by linopy: the LP differs from cold's and the check says so."""
    import gigawatt.optimize.fastpath as fastpath

    def cost():
        real = lpnumbers.CostLabels.cost
        monkeypatch.setattr(lpnumbers.CostLabels, "cost", lambda self, f, n: real(self, f, n) * (1 + 1e-12))

    def rhs():
        real = lpnumbers.layout

        def wrong(value, *args):
            out = real(value, *args)
            return out + 1e-9 if out.dtype.kind == "f" else out

        monkeypatch.setattr(fastpath, "layout", wrong)

    def coefficient_push():
        real = fastpath.FastPath._push
        monkeypatch.setattr(fastpath.FastPath, "_push",
                            lambda self, pushes: real(self, {**pushes, "coeffs": pushes["coeffs"][:-1]}))

    vary, after_load = {"cost": ([VARY["discount rate"]], cost), "rhs": ([VARY["contract capacity"]], rhs),
                        # the site-power rows' coefficients (linopy on the scratch model)
                        "coefficient push": (["accelerators.h100.all_in_power=1 kW,1.4 kW"], coefficient_push),
                        }[sabotage]
    with pytest.raises(AssertionError, match="differs"):
        _check(_portfolios(_scenario(tmp_path, SCENARIO), vary), sabotage, after_load=after_load)


@pytest.mark.parametrize("kind", ["discount rate", "contract capacity", "demand", "power envelope"])
def test_without_shortcuts_linopy_rebuilds_give_the_same_lp(tmp_path, kind):
    """The shortcuts off (as when load finds they do not reproduce the base's numbers): the objective and the
    right-hand sides' families are built again by linopy on the scratch model, with the same LP as cold."""
    fp = FastPath()

    def off():
        fp.fast_cost = False
        for family, fns in fp.rhs_fns.items():
            fp.reads[family] |= fp.rhs_reads[family]
            fns.clear()

    _check(_portfolios(_scenario(tmp_path), [VARY[kind]]), kind, fp, after_load=off)
    assert fp.scratch is not None


def test_a_structural_fallback_leaves_no_trace_in_the_scratch_model(tmp_path, monkeypatch):
    """A family rebuilt by linopy that turns out to build another structure (Fallback) must not leave its
    rows or variables in the scratch model: the next task of the base's structure, rebuilding the same
    family, gets exactly the cold LP (it used to find the failed task's constraints still there)."""
    from gigawatt.optimize import fastpath
    from gigawatt.optimize.fastpath import Fallback

    ps = _portfolios(_scenario(tmp_path), [VARY["lead time"]])  # site power's bounds: linopy on the scratch
    cfg = ps[0].scenario.config.solve
    allow, method = bool(cfg.allow_unmet), cfg.method
    fp = FastPath()
    fp.load(ps[0], allow_unmet=allow, method=method)
    real = list(fastpath.FAMILIES)

    def with_an_extra_row(name, family):
        def build(ctx):
            family(ctx)
            var = ctx.model.variables[list(ctx.model.variables)[0]]
            ctx.model.add_constraints(var.sum() >= 0, name=f"extra-{name}")  # another structure
        return build

    monkeypatch.setattr(fastpath, "FAMILIES", [(n, with_an_extra_row(n, f)) for n, f in real])
    with pytest.raises(Fallback, match="now builds"):
        fp.solve(ps[1], allow_unmet=allow, method=method)
    scratch = fp.scratch  # gone, or as the base: every variable with the base's entries and no row
    base = fp.ctx.model.variables
    assert scratch is None or (not list(scratch.constraints) and all(
        np.array_equal(scratch.variables[v].labels.values, base[v].labels.values) for v in base))
    monkeypatch.setattr(fastpath, "FAMILIES", real)
    _, _, _, families = fp.solve(ps[1], allow_unmet=allow, method=method)
    assert families, "the task must rebuild a family"
    assert_same_lp(fp.highs.getLp(), _cold(ps[1], allow)[0], "after a fallback")
    fp.close()
