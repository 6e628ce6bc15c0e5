"""Certified optimum for heterogeneous tasks (docs/design.md §9): brute force, HiGHS, identical tasks,
per-sample (T, N) task fields, and the task sampler."""

import itertools

import numpy as np
import pytest
from conftest import random_instance

from dirs.solvers.certified import solve_certified, solve_certified_tables
from dirs.solvers.certified.tangent import solve_tangent_milp
from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy, remote
from dirs.solvers.local_search import improve
from dirs.solvers.oracle import solve_exact
from dirs.system import ParameterError, Scenario, SystemParams, evaluate
from dirs.system.tasks import sample_servers, sample_tasks


def hetero_instance(rng, n_max=7, m_max=3, samples=1):
    """A random heterogeneous instance: per-IoTD cycles, data and local CPU, per-server capacity."""
    sc, gains = random_instance(rng, n_max=n_max, m_max=m_max, samples=samples, identical=False)
    n = sc.num_iotds
    params = sc.params.replace(data_bits=rng.uniform(4e5, 8e6, size=n), local_cpu_hz=rng.uniform(0.5e9, 2e9, size=n))
    return sc, gains, params


def brute_force(gains, params):
    n, m = gains.shape
    every = np.array(list(itertools.product(range(m + 1), repeat=n)))
    obj = evaluate(every, np.broadcast_to(gains, (len(every), n, m)), params).objective
    return obj.min()


@pytest.mark.parametrize("seed", range(30))
def test_certified_equals_brute_force(seed):
    rng = np.random.default_rng(7000 + seed)
    sc, gains, params = hetero_instance(rng)
    best = brute_force(gains[0], params)
    # seeds alternate between the own branch and bound and the HiGHS core (every core sent there);
    # HiGHS's bound is lowered by its tolerances (~1e-7 of the core), so it certifies 1e-6, not 0
    own = seed % 2 == 1
    rel_gap = 0.0 if own else 1e-6
    sol = solve_certified(gains, params, rel_gap=rel_gap, core_milp_above=1 << 30 if own else 0)
    assert sol.objective[0] == pytest.approx(best, rel=1e-9)
    assert sol.objective[0] == pytest.approx(evaluate(sol.decisions, gains, params).objective[0], rel=1e-12)
    assert sol.lower_bound[0] <= best * (1 + 1e-12)
    assert sol.root_bound[0] <= best * (1 + 1e-12)
    assert sol.proven[0] and sol.gap[0] <= max(rel_gap, 1e-9)


@pytest.mark.parametrize("n,m,seed", [(20, 4, 0), (30, 3, 1), (25, 2, 2)])
def test_certified_agrees_with_highs_tangent_milp(n, m, seed):
    rng = np.random.default_rng(seed)
    params = SystemParams(
        mec_cpu_hz=rng.uniform(5e9, 15e9, size=m),
        cpu_cycles=rng.uniform(0.2e9, 2e9, size=n),
        data_bits=rng.uniform(4e5, 8e6, size=n),
    )
    sc = Scenario.generate(n, m, params=params, seed=seed)
    gains = sc.sample_channels(2, rng)
    tables = cost_tables(gains, params)
    sol = solve_certified_tables(tables, rel_gap=1e-9)
    for t in range(2):
        ref = solve_tangent_milp(tables, t, time_limit_s=60)
        assert ref.converged
        assert sol.objective[t] == pytest.approx(ref.objective, rel=1e-6)
        assert sol.lower_bound[t] <= ref.objective * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_identical_tasks_reproduce_the_exact_oracle(seed):
    rng = np.random.default_rng(300 + seed)
    sc, gains = random_instance(rng, n_max=14, m_max=4, samples=3)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    for mode in ("assignment", "bb"):
        sol = solve_certified(gains, sc.params, rel_gap=0.0, identical=mode)
        np.testing.assert_allclose(sol.objective, opt, rtol=1e-9)
        assert np.all(sol.lower_bound <= opt * (1 + 1e-12))
    assert np.all(sol.proven)


def test_paper_scale_identical_tasks_branch_and_bound_matches_assignment():
    sc = Scenario.generate(60, 3, params=SystemParams(mec_cpu_hz=10e9), seed=5)
    gains = sc.sample_channels(3, 1)
    opt = evaluate(solve_exact(gains, sc.params), gains, sc.params).objective
    sol = solve_certified(gains, sc.params, rel_gap=1e-12, identical="bb")
    np.testing.assert_allclose(sol.objective, opt, rtol=1e-9)


def test_per_sample_task_arrays_equal_per_sample_solves():
    rng = np.random.default_rng(11)
    n, m, t_ = 12, 3, 4
    sc = Scenario.generate(n, m, params=SystemParams(mec_cpu_hz=[6e9, 9e9, 12e9]), seed=2)
    gains = sc.sample_channels(t_, rng)
    tasks = sample_tasks(
        {
            "cpu_cycles": {"dist": "uniform", "low": 0.2e9, "high": 2e9},
            "data_bits": {"dist": "loguniform", "low": 4e5, "high": 8e6},
            "local_cpu_hz": {"dist": "fixed", "value": 1e9},
        },
        n,
        rng,
        size=t_,
    )
    params = sc.params.replace(**tasks)
    assert params.num_samples == t_ and params.per_iotd("cpu_cycles", n).shape == (t_, n)
    tables = cost_tables(gains, params)
    assert tables.local.shape == (t_, n) and tables.sqrt_f.shape == (t_, n)
    sol = solve_certified(gains, params, rel_gap=1e-9)
    a_rand = rng.integers(0, m + 1, size=(t_, n))
    batch_eval = evaluate(a_rand, gains, params).objective
    np.testing.assert_allclose(tables.objective(a_rand), batch_eval, rtol=1e-12)
    for t in range(t_):
        one = params.sample(t)
        assert one.num_samples is None
        ref = solve_certified(gains[t : t + 1], one, rel_gap=1e-9)
        assert sol.objective[t] == pytest.approx(ref.objective[0], rel=1e-9)
        assert batch_eval[t] == pytest.approx(evaluate(a_rand[t], gains[t], one).objective, rel=1e-12)
        # heuristics see the same per-sample tasks
        np.testing.assert_array_equal(greedy(gains, params)[t], greedy(gains[t : t + 1], one)[0])
        np.testing.assert_array_equal(remote(gains, params)[t], remote(gains[t : t + 1], one)[0])
    start = greedy(gains, params)
    assert np.all(
        evaluate(improve(start, gains, params), gains, params).objective
        <= evaluate(start, gains, params).objective * (1 + 1e-12)
    )
    # the searches price per-sample tasks like evaluate() (exact and searched allocation)
    from dirs.solvers.levy import levy_flight
    from dirs.solvers.swarm import pso

    for allocation in ("exact", "search"):
        res = levy_flight(gains, params, start, population=3, iterations=3, rng=0, allocation=allocation)
        if allocation == "exact":
            np.testing.assert_allclose(res.objective, evaluate(res.decisions, gains, params).objective, rtol=1e-12)
        assert np.all(res.objective >= sol.objective * (1 - 1e-9))
    res = pso(gains, params, particles=4, iterations=3, rng=0, seeded=True)
    np.testing.assert_allclose(res.objective, evaluate(res.decisions, gains, params).objective, rtol=1e-12)


def test_per_sample_fields_must_match_the_samples():
    sc = Scenario.generate(5, 2, seed=0)
    gains = sc.sample_channels(3, 0)
    params = sc.params.replace(cpu_cycles=np.full((4, 5), 1e9))
    with pytest.raises(ParameterError, match="cpu_cycles"):
        evaluate(np.zeros((3, 5), dtype=int), gains, params)
    with pytest.raises(ParameterError, match="cpu_cycles"):
        cost_tables(gains, params)
    with pytest.raises(ParameterError, match="data_bits"):
        SystemParams(data_bits=np.ones((2, 3, 4)))
    with pytest.raises(ParameterError, match="data_bits"):
        SystemParams(cpu_cycles=np.ones((3, 5)), data_bits=np.ones((4, 5))).check_sizes(5, 2)


def test_the_certified_root_bounds_the_optimum():
    rng = np.random.default_rng(5)
    sc, gains, params = hetero_instance(rng, n_max=9, m_max=3, samples=3)
    b = solve_certified_tables(cost_tables(gains, params), node_limit=1)  # the root alone
    c = solve_certified(gains, params, rel_gap=0.0)
    assert np.all(b.lower_bound <= c.objective * (1 + 1e-12))
    assert np.all(c.objective <= b.objective * (1 + 1e-12))
    np.testing.assert_allclose(b.objective, evaluate(b.decisions, gains, params).objective, rtol=1e-12)


def test_task_sampler_shapes_ranges_and_errors():
    rng = np.random.default_rng(0)
    spec = {
        "cpu_cycles": {"dist": "uniform", "low": 0.2e9, "high": 2e9},
        "data_bits": {"dist": "loguniform", "low": 4e5, "high": 8e6},
        "local_cpu_hz": {"dist": "fixed", "value": 1.5e9},
    }
    one = sample_tasks(spec, 50, rng)
    assert one["cpu_cycles"].shape == (50,) and np.all((one["cpu_cycles"] >= 0.2e9) & (one["cpu_cycles"] <= 2e9))
    assert np.all((one["data_bits"] >= 4e5) & (one["data_bits"] <= 8e6))
    assert np.all(one["local_cpu_hz"] == 1.5e9)
    per_slot = sample_tasks(spec, 50, rng, size=7)
    assert per_slot["data_bits"].shape == (7, 50)
    SystemParams(**per_slot).check_sizes(50, 1, 7)
    srv = sample_servers({"mec_cpu_hz": {"dist": "uniform", "low": 5e9, "high": 15e9}}, 4, rng)
    assert srv["mec_cpu_hz"].shape == (4,)
    with pytest.raises(ParameterError, match="cpu_cycles.dist"):
        sample_tasks({"cpu_cycles": {"dist": "normal", "low": 1, "high": 2}}, 3, rng)
    with pytest.raises(ParameterError, match="data_bits: low must be <= high"):
        sample_tasks({"data_bits": {"dist": "uniform", "low": 5, "high": 2}}, 3, rng)
    with pytest.raises(ParameterError, match="local_cpu_hz.value"):
        sample_tasks({"local_cpu_hz": {"dist": "fixed", "value": -1}}, 3, rng)
    with pytest.raises(ParameterError, match="cpu_cycles"):
        sample_tasks({"cpu_cycles": {"dist": "uniform", "low": 1}}, 3, rng)
    with pytest.raises(ParameterError, match="unknown field"):
        sample_tasks({"mec_cpu_hz": {"dist": "fixed", "value": 1e9}}, 3, rng)
    with pytest.raises(ParameterError, match="unknown field"):
        sample_servers({"cpu_cycles": {"dist": "fixed", "value": 1e9}}, 3, rng)


def test_certified_option_errors_name_the_setting():
    sc = Scenario.generate(4, 2, seed=0)
    gains = sc.sample_channels(1, 0)
    with pytest.raises(ParameterError, match="rel_gap"):
        solve_certified(gains, sc.params, rel_gap=-1)
    with pytest.raises(ParameterError, match="identical"):
        solve_certified(gains, sc.params, identical="simplex")
    with pytest.raises(ParameterError, match="start"):
        solve_certified(gains, sc.params, start=np.zeros((2, 4), dtype=int))


@pytest.mark.parametrize("seed", range(12))
def test_dual_and_granularity_bounds_are_valid(seed):
    """q(λ) (any λ) and q(λ*) + Σ_j β_j (any charge split θ) never exceed the brute-force optimum."""
    from dirs.solvers.certified.bounds import server_bound as _server_bound
    from dirs.solvers.certified.dual import DualProblem
    from dirs.solvers.certified.dual import maximise as _dual
    from dirs.solvers.certified.problem import TAU_START as _TAU_START
    from dirs.solvers.certified.problem import TAU_STOP as _TAU_STOP

    rng = np.random.default_rng(900 + seed)
    sc, gains, params = hetero_instance(rng, n_max=8, m_max=3)
    best = brute_force(gains[0], params)
    tables = cost_tables(gains, params)
    c, sf = tables.options()[0], tables.sqrt_f_tn[0]
    s = sf / sf.mean()
    w = tables.phi_t / tables.mec_cpu_hz * sf.mean() ** 2
    gam = c / s[:, None]
    spread = float(np.median(np.abs(gam)))
    m = w.size
    d = _dual(DualProblem(gam, s, 0.0, np.zeros(m), w), rng.uniform(0, 5, m), _TAU_START * spread, _TAU_STOP * spread)
    assert d.bound <= best * (1 + 1e-12)
    red = d.reduced(s)
    n = s.size
    every = np.array(list(itertools.product(range(m + 1), repeat=n)))
    obj = tables.objective(every[:, None, :])[:, 0]
    o = d.x.argmin(1)
    for theta in (0.0, 0.3, 0.5, 0.75, 0.99):
        gran = _server_bound(red, d.x, s, w, d.lam, theta)
        beta = gran.beta
        assert np.all(beta >= 0) and d.bound + beta.sum() <= best * (1 + 1e-12)
        # forcing IoTD i to k ≠ o_i: q + r_ik + Σ_{j ∉ {o_i, k}} β_j + the two shifted subset
        # problems bounds those solutions
        beta0 = np.concatenate(([0.0], beta))
        for i in range(n):
            for k in range(m + 1):
                if k != o[i]:
                    bound = d.bound + red[i, k] + beta.sum() - beta0[o[i]] - beta0[k]
                    bound += gran.shifted(o[i] - 1, -s[i], np.inf) if o[i] > 0 else 0.0
                    bound += gran.shifted(k - 1, s[i], np.inf) if k > 0 else 0.0
                    assert bound <= obj[every[:, i] == k].min() * (1 + 1e-12)
    # any other multipliers give a smaller q
    for lam in rng.uniform(0, 5, size=(5, m)):
        x = gam.copy()
        x[:, 1:] += lam
        q = float(s @ x.min(1) - lam @ (lam / (4 * w)))
        assert q <= d.bound + 1e-9 * abs(d.bound)


@pytest.mark.parametrize("seed", range(10))
def test_subset_min_equals_enumeration(seed):
    from dirs.solvers.certified.bounds import subset_min as _subset_min

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    kap = rng.uniform(0, 0.3, n) * (rng.random(n) < 0.8)
    sig = rng.uniform(0.4, 1.4, n) * rng.choice([-1, 1], n)
    delta, w = float(rng.normal(0, 1.5)), float(rng.uniform(0.05, 0.5))
    every = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)
    ref = (every @ kap + w * (delta + every @ sig) ** 2).min()
    val, chosen = _subset_min(delta, kap, sig, w)
    assert val == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert kap[chosen].sum() + w * (delta + sig[chosen].sum()) ** 2 == pytest.approx(val, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", range(40))
def test_fixing_never_excludes_an_option_of_a_better_decision(seed):
    """Every fix_bound[i, k] is ≤ the best objective with a_i = k (staying at the cheapest option
    included: pricing it as a move once excluded tied IoTDs' cheapest option, shared/cases), so no
    decision better than the incumbent by the tolerance uses an excluded option."""
    from dirs.solvers.certified.bounds import best_server_bound, fix_options
    from dirs.solvers.certified.dual import DualProblem, maximise
    from dirs.solvers.certified.problem import TAU_START, Sample

    rng = np.random.default_rng(5100 + seed)
    sc, gains, params = hetero_instance(rng, n_max=8, m_max=3)
    if seed % 3 == 0:  # exact ties: duplicated IoTDs
        params = params.replace(
            data_bits=np.repeat(np.asarray(params.per_iotd("data_bits", sc.num_iotds))[:1], sc.num_iotds)
        )
        gains = gains.copy()
        gains[:, 1::2] = gains[:, :1]
    tables = cost_tables(gains, params)
    sample = Sample.from_costs(tables.options()[0], tables.sqrt_f_tn[0], tables.phi_t / tables.mec_cpu_hz, 0.0, 60)
    n, m = sample.n, sample.m
    every = np.array(list(itertools.product(range(m + 1), repeat=n)))
    obj = tables.objective(every[:, None, :])[:, 0]
    lam0 = rng.uniform(0, 3, m)
    root = maximise(
        DualProblem(sample.gam, sample.s, 0.0, np.zeros(m), sample.w), lam0, TAU_START * sample.spread, sample.tau_stop
    )
    red = root.reduced(sample.s)
    gran = best_server_bound(red, root.x, sample.s, sample.w, root.lam)
    for slack in (0.0, 1e-4, 1e-2, 0.1, 0.5):
        ub = obj.min() * (1 + slack)
        excl, fix_bound = fix_options(root.bound, red, gran, ub, 1e-9 * ub)
        for i in range(n):
            for k in range(m + 1):
                best_ik = obj[every[:, i] == k].min()
                assert fix_bound[i, k] <= best_ik * (1 + 1e-12), (i, k)
                if excl[i, k]:
                    assert best_ik >= ub - 1e-9 * ub * (1 + 1e-9)
