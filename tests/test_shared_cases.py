"""Inputs found by outside checks (``shared/cases/``, copied into ``tests/cases/``): each must pass.

``certified_bound_counterexamples.npz``: single-sample heterogeneous instances on which the certified
reference once returned a "proven" lower bound above the cost of another feasible decision (the
near-fixing step priced an IoTD's cheapest option as a move and excluded it).
``certified_bound_highs_presolve.npz`` (found by ``python -m dirs.bench certify-fuzz``, class ``wide``,
seed 0, index 3217): HiGHS with presolve returned an "optimal" core whose dual bound was above the
value of its own solution (a wrong certificate 9.3e-5 above the optimum); the core now runs without
presolve and checks HiGHS's bound against a point of its own model. Every file of that kind found beside the repository (``../shared/cases``) is
checked too, so a newly filed case is a test without an edit here.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from dirs.solvers.reference import reference_optimum
from dirs.system import evaluate
from dirs.system.params import SystemParams

HERE = Path(__file__).parent / "cases"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
FIELDS = [f.name for f in fields(SystemParams)]


def _cases():
    files = {p.name: p for p in sorted(HERE.glob("certified_bound_*.npz"))}
    if SHARED.is_dir():
        files.update({p.name: p for p in sorted(SHARED.glob("certified_bound_*.npz"))})
    for path in files.values():
        z = np.load(path)
        keys = sorted({k.split("_", 1)[0] for k in z.files if k.startswith("case")})
        for key in keys:
            params = {
                f: (float(z[f"{key}_{f}"]) if z[f"{key}_{f}"].ndim == 0 else np.asarray(z[f"{key}_{f}"]))
                for f in FIELDS
                if f"{key}_{f}" in z.files
            }
            yield pytest.param(
                z[f"{key}_gains"], z[f"{key}_better_decision"], SystemParams(**params), id=f"{path.stem}-{key}"
            )


@pytest.mark.parametrize(("gains", "better", "params"), list(_cases()))
def test_certificate_below_every_feasible_cost(gains, better, params):
    rel_gap = 1e-6
    ref = reference_optimum(gains, params, rel_gap=rel_gap)
    cost = float(evaluate(better[None], gains[None], params).objective[0])
    assert ref.lower_bound[0] <= cost * (1 + 1e-12), (ref.lower_bound[0], cost)
    assert ref.objective[0] <= cost * (1 + rel_gap), (ref.objective[0], cost)
    assert ref.gap[0] <= rel_gap


@pytest.mark.parametrize(("gains", "better", "params"), list(_cases()))
def test_root_fixing_keeps_the_better_decision(gains, better, params):
    """The root's reduced-cost fixing bounds every option the stored decision uses by its cost."""
    from dirs.solvers.certified.bounds import best_server_bound, fix_options
    from dirs.solvers.certified.dual import DualProblem, maximise
    from dirs.solvers.certified.problem import TAU_START, Sample
    from dirs.solvers.costs import cost_tables

    tables = cost_tables(gains[None], params)
    sample = Sample.from_costs(tables.options()[0], tables.sqrt_f_tn[0], tables.phi_t / tables.mec_cpu_hz, 1e-6, 60)
    cost = sample.objective(better)
    lam0 = 2.0 * sample.w * np.bincount(better, weights=sample.s, minlength=sample.m + 1)[1:]
    whole = DualProblem(sample.gam, sample.s, 0.0, np.zeros(sample.m), sample.w)
    root = maximise(whole, lam0, TAU_START * sample.spread, sample.tau_stop)
    red = root.reduced(sample.s)
    gran = best_server_bound(red, root.x, sample.s, sample.w, root.lam)
    for ub in (cost * (1 + 1e-4), cost * (1 + 3e-4)):  # incumbents worse than the stored decision
        excl, fix_bound = fix_options(root.bound, red, gran, ub, 1e-6 * ub)
        rows = np.arange(better.size)
        assert np.all(fix_bound[rows, better] <= cost * (1 + 1e-12))
        assert not excl[rows, better].any()
