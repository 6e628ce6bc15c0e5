"""Heuristic baselines (docs/design.md §5) and the single-move local search."""

import numpy as np
import pytest
from conftest import random_instance

from dirs.solvers.heuristics import HEURISTICS, capacity_rule, greedy, remote
from dirs.solvers.local_search import improve
from dirs.solvers.oracle import solve_exact
from dirs.system import Scenario, SystemParams, evaluate


@pytest.mark.parametrize("name", sorted(HEURISTICS))
def test_heuristics_are_feasible_and_never_beat_the_optimum(name, rng):
    sc, gains = random_instance(rng, n_max=20, m_max=4, samples=8)
    a = HEURISTICS[name](gains, sc.params, np.random.default_rng(0))
    assert a.shape == gains.shape[:2]
    assert a.min() >= 0 and a.max() <= sc.num_servers
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    assert np.all(evaluate(a, gains, sc.params).objective >= opt * (1 - 1e-12))


def test_remote_uses_strongest_server_and_respects_capacity():
    params = SystemParams(mec_cpu_hz=np.array([3e9, 5e9]))  # at most 3 and 5 IoTDs at f0 = 1e9
    sc = Scenario.generate(12, 2, params=params, seed=0)
    gains = sc.sample_channels(4, 1)
    a = remote(gains, params)
    best = gains.argmax(-1) + 1
    assert np.all((a == 0) | (a == best))
    assert np.all((a == 1).sum(-1) <= 3) and np.all((a == 2).sum(-1) <= 5)
    # the IoTDs kept on a server are its strongest
    for t in range(4):
        for j in (1, 2):
            kept = gains[t, a[t] == j, j - 1]
            dropped = gains[t, (a[t] == 0) & (best[t] == j), j - 1]
            if kept.size and dropped.size:
                assert kept.min() >= dropped.max()


def test_capacity_rule_keeps_feasible_decisions_unchanged():
    params = SystemParams(mec_cpu_hz=np.array([10e9, 10e9]))
    gains = np.full((1, 6, 2), 1e-5)
    a = np.array([[1, 1, 2, 2, 0, 1]])
    np.testing.assert_array_equal(capacity_rule(a, gains, params), a)


def test_greedy_is_near_optimal_on_paper_scale():
    sc = Scenario.generate(180, 8, params=SystemParams(mec_cpu_hz=10e9), seed=1)
    gains = sc.sample_channels(20, 2)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    nrr = opt / evaluate(greedy(gains, sc.params), gains, sc.params).objective
    assert nrr.mean() > 0.99


def test_local_search_never_worsens(rng):
    sc, gains = random_instance(rng, n_max=15, m_max=3, samples=6, identical=False)
    a = rng.integers(0, sc.num_servers + 1, size=gains.shape[:2])
    b = improve(a, gains, sc.params)
    before = evaluate(a, gains, sc.params).objective
    after = evaluate(b, gains, sc.params).objective
    assert np.all(after <= before * (1 + 1e-12))
