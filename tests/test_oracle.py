"""Exact optimum (docs/design.md §3) against brute force; bounds for heterogeneous tasks."""

import itertools

import numpy as np
import pytest
from conftest import random_instance

from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy
from dirs.solvers.oracle import relaxation_lower_bound, solve_bounded, solve_exact
from dirs.system import ParameterError, evaluate


def brute_force(gains, params):
    n, m = gains.shape
    every = np.array(list(itertools.product(range(m + 1), repeat=n)))
    obj = evaluate(every, np.broadcast_to(gains, (len(every), n, m)), params).objective
    return obj.min()


@pytest.mark.parametrize("seed", range(60))
def test_oracle_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    sc, gains = random_instance(rng, n_max=7, m_max=3, samples=1)
    a = solve_exact(gains, sc.params)
    assert a.shape == (1, sc.num_iotds)
    best = brute_force(gains[0], sc.params)
    assert evaluate(a, gains, sc.params).objective[0] == pytest.approx(best, rel=1e-10)


def test_cost_tables_objective_equals_evaluate(rng):
    sc, gains = random_instance(rng, n_max=9, m_max=4, samples=5, identical=False)
    a = rng.integers(0, sc.num_servers + 1, size=(5, sc.num_iotds))
    tables = cost_tables(gains, sc.params)
    np.testing.assert_allclose(tables.objective(a), evaluate(a, gains, sc.params).objective, rtol=1e-12)


def test_oracle_rejects_heterogeneous_tasks(rng):
    sc, gains = random_instance(rng, identical=False)
    if sc.params.identical_tasks:
        pytest.skip("drew identical tasks")
    with pytest.raises(ParameterError, match="cpu_cycles"):
        solve_exact(gains, sc.params)


@pytest.mark.parametrize("seed", range(15))
def test_bounded_solution_brackets_the_optimum(seed):
    rng = np.random.default_rng(1000 + seed)
    sc, gains = random_instance(rng, n_max=6, m_max=3, samples=1, identical=False)
    sol = solve_bounded(gains, sc.params)
    best = brute_force(gains[0], sc.params)
    assert sol.lower_bound[0] <= best * (1 + 1e-9)
    assert sol.objective[0] >= best * (1 - 1e-9)
    assert sol.objective[0] == pytest.approx(evaluate(sol.decisions, gains, sc.params).objective[0])
    assert 0 <= sol.gap[0] < 0.5


def test_relaxation_bound_below_exact_optimum(rng):
    sc, gains = random_instance(rng, n_max=12, m_max=3, samples=4)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    lb = relaxation_lower_bound(cost_tables(gains, sc.params))
    assert np.all(lb <= opt * (1 + 1e-9))
    assert np.all(lb >= 0.5 * opt)


def test_optimum_beats_greedy_on_paper_scale():
    from dirs.system import Scenario, SystemParams

    sc = Scenario.generate(180, 8, params=SystemParams(mec_cpu_hz=10e9), seed=3)
    gains = sc.sample_channels(20, 0)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    gr = evaluate(greedy(gains, sc.params), gains, sc.params).objective
    assert np.all(opt <= gr * (1 + 1e-12))
    assert 260 < opt.mean() < 310  # docs/design.md §5a sanity range for the large scenario
