"""PSO and DE baselines (docs/design.md §5) on the decision space."""

import numpy as np
import pytest
from conftest import random_instance

from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy
from dirs.solvers.oracle import solve_exact
from dirs.solvers.swarm import SWARMS, differential_evolution_search, initial_population, pso
from dirs.system import Scenario, SystemParams, evaluate
from dirs.system.params import ParameterError

BUDGET = {"pso": 60, "de": 30}


@pytest.fixture(scope="module")
def medium_like():
    sc = Scenario.generate(30, 2, params=SystemParams(mec_cpu_hz=15e9), seed=2)
    return sc, sc.sample_channels(3, 9)


@pytest.mark.parametrize("name", sorted(SWARMS))
@pytest.mark.parametrize("seeded", [False, True])
def test_improves_on_initial_population_and_is_consistent(name, seeded, medium_like):
    sc, gains = medium_like
    res = SWARMS[name](gains, sc.params, BUDGET[name], seeded, 0)
    t, n = gains.shape[:2]
    assert res.decisions.shape == (t, n)
    assert res.decisions.min() >= 0 and res.decisions.max() <= sc.num_servers
    np.testing.assert_allclose(res.objective, evaluate(res.decisions, gains, sc.params).objective, rtol=1e-12)
    assert np.all(np.diff(res.history, axis=0) <= 0)
    assert np.all(res.objective <= res.initial)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    assert np.all(res.objective >= opt * (1 - 1e-12))
    if seeded:  # Greedy is in the initial population
        assert np.all(res.initial <= evaluate(greedy(gains, sc.params), gains, sc.params).objective * (1 + 1e-12))
    else:  # a random start leaves room: every sample must improve
        assert np.all(res.objective < res.initial)


@pytest.mark.parametrize("name", sorted(SWARMS))
def test_same_seed_same_result(name, rng):
    sc, gains = random_instance(rng, n_max=10, m_max=3, samples=2)
    a = SWARMS[name](gains, sc.params, 5, False, 4)
    b = SWARMS[name](gains, sc.params, 5, False, np.random.default_rng(4))
    np.testing.assert_array_equal(a.decisions, b.decisions)
    np.testing.assert_array_equal(a.history, b.history)


def test_seeded_initial_population_holds_the_heuristics(rng):
    sc, gains = random_instance(rng, n_max=10, m_max=3, samples=3)
    tables = cost_tables(gains, sc.params)
    pop = initial_population(7, gains, sc.params, tables, True, np.random.default_rng(0))
    assert pop.shape == (7,) + gains.shape[:2]
    np.testing.assert_array_equal(pop[0], greedy(gains, sc.params))


def test_single_sample_shapes(rng):
    sc, gains = random_instance(rng, n_max=8, m_max=2, samples=1)
    res = pso(gains[0], sc.params, particles=5, iterations=3, rng=0)
    assert res.decisions.shape == gains.shape[1:2] and np.ndim(res.objective) == 0


@pytest.mark.parametrize(
    "fn,kw,key",
    [
        (pso, dict(particles=1), "particles"),
        (pso, dict(iterations=-1), "iterations"),
        (differential_evolution_search, dict(popsize=0), "popsize"),
        (differential_evolution_search, dict(maxiter=0), "maxiter"),
    ],
)
def test_bad_budgets_fail_naming_the_key(fn, kw, key, rng):
    sc, gains = random_instance(rng, samples=1)
    with pytest.raises(ParameterError, match=key):
        fn(gains, sc.params, **kw)
