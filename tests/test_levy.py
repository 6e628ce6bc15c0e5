"""Lévy flight search (Alg. 4, eq. 18) and the Mantegna steps it draws."""

import math

import numpy as np
import pytest
from conftest import random_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from dirs.common import mantegna_sigma, mantegna_steps
from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy, remote
from dirs.solvers.levy import (
    equal_shares,
    init_population,
    levy_flight,
    normalised_gains,
    price_allocation,
)
from dirs.solvers.oracle import solve_exact
from dirs.system import evaluate
from dirs.system.params import ParameterError


def mantegna_tail_theory(beta: float, x: float) -> float:
    """P(|d| > x) for large x: d = u/|v|^(1/β) exceeds x iff |v| < (|u|/x)^β, and the N(0,1)
    density near 0 is 1/√(2π), so P ≈ √(2/π) E|u|^β x^(−β) with
    E|u|^β = σ^β 2^(β/2) Γ((β+1)/2) / √π."""
    s = mantegna_sigma(beta)
    moment = s**beta * 2 ** (beta / 2) * math.gamma((beta + 1) / 2) / math.sqrt(math.pi)
    return math.sqrt(2 / math.pi) * moment * x ** (-beta)


@pytest.mark.parametrize("beta", [0.5, 1.0, 1.5])
@pytest.mark.parametrize("x", [10.0, 30.0])
def test_mantegna_tail_fraction_matches_theory(beta, x):
    d = np.abs(mantegna_steps(beta, 400_000, np.random.default_rng(7)))
    empirical = (d > x).mean()
    assert empirical == pytest.approx(mantegna_tail_theory(beta, x), rel=0.12)


def test_smaller_beta_has_heavier_tails():
    rng = np.random.default_rng(3)
    fractions = [(np.abs(mantegna_steps(b, 200_000, rng)) > 10).mean() for b in (0.5, 1.0, 1.5, 1.9)]
    assert all(a > b for a, b in zip(fractions, fractions[1:]))
    # and the tail decays as x^(−β): the log-log slope between x = 10 and x = 100
    d = np.abs(mantegna_steps(1.0, 400_000, rng))
    slope = math.log((d > 100).mean() / (d > 10).mean()) / math.log(10)
    assert slope == pytest.approx(-1.0, abs=0.1)


VARIANT_ALLOC = [("proposed", "exact"), ("classic", "exact"), ("proposed", "search"), ("classic", "search")]


@pytest.mark.parametrize("variant,allocation", VARIANT_ALLOC)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_greedy_selection_never_worsens_and_result_is_feasible(variant, allocation, seed):
    rng = np.random.default_rng(seed)
    sc, gains = random_instance(rng, n_max=12, m_max=3, samples=4)
    start = rng.integers(0, sc.num_servers + 1, size=gains.shape[:2])
    res = levy_flight(
        gains,
        sc.params,
        start,
        population=4,
        iterations=6,
        beta=float(rng.uniform(0.3, 2.0)),
        variant=variant,
        allocation=allocation,
        rng=seed,
    )
    t, n, m = gains.shape
    # history: best objective per iteration never increases (eq. 23)
    assert res.history.shape == (7, t)
    assert np.all(np.diff(res.history, axis=0) <= 0)
    assert np.allclose(res.history[-1], res.objective)
    # decisions in range
    assert res.decisions.shape == (t, n) and np.issubdtype(res.decisions.dtype, np.integer)
    assert res.decisions.min() >= 0 and res.decisions.max() <= m
    exact = evaluate(res.decisions, gains, sc.params).objective
    if allocation == "exact":
        np.testing.assert_allclose(res.objective, exact, rtol=1e-12)
        assert np.all(res.objective <= evaluate(start, gains, sc.params).objective * (1 + 1e-12))
    else:
        # the searched (f, p) satisfy the constraints and price to the reported objective ...
        priced = price_allocation(res.decisions, res.cpu_hz, res.power_w, gains, sc.params)
        np.testing.assert_allclose(priced, res.objective, rtol=1e-12)
        # ... which the closed-form allocation of the same decision can only improve on
        assert np.all(exact <= res.objective * (1 + 1e-12))
        start_f = equal_shares(start, sc.params.per_server("mec_cpu_hz", m))
        start_p = np.where(start > 0, sc.params.per_iotd("max_power_w", n), 0.0)
        start_obj = price_allocation(start, start_f, start_p, gains, sc.params)
        assert np.all(res.objective <= start_obj * (1 + 1e-12))


@pytest.mark.parametrize("variant,allocation", VARIANT_ALLOC)
def test_same_seed_same_result(variant, allocation, rng):
    sc, gains = random_instance(rng, n_max=15, m_max=4, samples=5)
    kw = dict(population=3, iterations=5, variant=variant, allocation=allocation)
    a = levy_flight(gains, sc.params, None, rng=11, **kw)
    b = levy_flight(gains, sc.params, None, rng=np.random.default_rng(11), **kw)
    np.testing.assert_array_equal(a.decisions, b.decisions)
    np.testing.assert_array_equal(a.history, b.history)


def test_reusing_precomputed_tables_gives_the_same_result(rng):
    sc, gains = random_instance(rng, n_max=15, m_max=4, samples=5)
    a = levy_flight(gains, sc.params, rng=3)
    b = levy_flight(gains, sc.params, rng=3, tables=cost_tables(gains, sc.params))
    np.testing.assert_array_equal(a.decisions, b.decisions)
    with pytest.raises(ParameterError, match="tables"):
        levy_flight(gains, sc.params, tables=cost_tables(gains[:2], sc.params))


def test_default_start_is_remote_and_member_zero_is_the_start(rng):
    sc, gains = random_instance(rng, n_max=10, m_max=3, samples=3)
    res = levy_flight(gains, sc.params, population=1, iterations=0, rng=0)
    np.testing.assert_array_equal(res.decisions, remote(gains, sc.params))
    pop = init_population(greedy(gains, sc.params), 6, normalised_gains(gains), 1.5, np.random.default_rng(0))
    assert pop.shape == (6,) + gains.shape[:2]
    np.testing.assert_array_equal(pop[0], greedy(gains, sc.params))


def test_search_improves_a_random_start_on_medium_scale():
    from dirs.system import Scenario, SystemParams

    sc = Scenario.generate(30, 2, params=SystemParams(mec_cpu_hz=15e9), seed=4)
    gains = sc.sample_channels(20, 5)
    start = np.random.default_rng(0).integers(0, 3, size=gains.shape[:2])
    res = levy_flight(gains, sc.params, start, population=10, iterations=40, beta=1.0, rng=0)
    before = evaluate(start, gains, sc.params).objective
    assert np.all(res.objective <= before)
    assert (res.objective < before).mean() > 0.9
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    assert np.all(res.objective >= opt * (1 - 1e-12))


def test_normalised_gains_rows_sum_to_one_over_servers(rng):
    _, gains = random_instance(rng, samples=3)
    h = normalised_gains(gains)
    np.testing.assert_allclose(h[..., 1:].sum(-1), 1.0)
    np.testing.assert_allclose(h[..., 0], 1.0 / gains.shape[-1])


@pytest.mark.parametrize(
    "kw,key",
    [
        (dict(beta=0.0), "beta"),
        (dict(beta=2.5), "beta"),
        (dict(th=1.5), "th"),
        (dict(population=0), "population"),
        (dict(iterations=-1), "iterations"),
        (dict(variant="foo"), "variant"),
        (dict(allocation="bar"), "allocation"),
    ],
)
def test_bad_settings_fail_naming_the_key(kw, key, rng):
    sc, gains = random_instance(rng, samples=1)
    with pytest.raises(ParameterError, match=key):
        levy_flight(gains, sc.params, **kw)


def test_price_allocation_rejects_infeasible_shares(rng):
    sc, gains = random_instance(rng, n_max=6, m_max=2, samples=1)
    a = np.ones(gains.shape[:2], dtype=np.int64)
    f = np.full(a.shape, 1e12)
    p = np.full(a.shape, 0.1)
    with pytest.raises(ParameterError, match="cpu_hz"):
        price_allocation(a, f, p, gains, sc.params)
    with pytest.raises(ParameterError, match="power_w"):
        price_allocation(
            a, equal_shares(a, sc.params.per_server("mec_cpu_hz", gains.shape[-1])), p * 100, gains, sc.params
        )
