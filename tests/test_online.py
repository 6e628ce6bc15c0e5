"""Time-coupled MEC ([online], docs/design.md §11): simulator bookkeeping, reduction to the paper's
one-slot problem, common random numbers, the environment, and the drift-plus-penalty controller."""

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium.utils.env_checker import check_env

from dirs.online import DriftPlusPenalty, Local, OnlineConfig, Remote, Simulator, growth_test, myopic, run
from dirs.online.config import HETERO_TASKS
from dirs.online.controllers import Controller
from dirs.online.env import ENV_ID
from dirs.online.exogenous import Exogenous, TraceExogenous
from dirs.online.metrics import stability_limit
from dirs.online.slot import price, slot_tables
from dirs.online.sweep import v_sweep
from dirs.solvers.reference import reference_optimum
from dirs.system import ParameterError, Scenario, SystemParams, evaluate

ROOT = Path(__file__).resolve().parents[1]


class Scripted(Controller):
    """Plays a fixed decision sequence (one row per slot)."""

    name = "scripted"

    def __init__(self, rows):
        super().__init__()
        self.rows = np.asarray(rows, dtype=np.int64)

    def act(self, state):
        return self.rows[state.t]


def small(n=4, m=1, mec=20e9, phi_e=1.0, seed=3):
    """A small deployment: one central server (or k-means servers for m > 1)."""
    params = SystemParams(mec_cpu_hz=mec, phi_e=phi_e)
    if m == 1:
        return Scenario.generate(n, 1, params=params, seed=seed, server_placement="fixed", server_positions=[[25, 25]])
    return Scenario.generate(n, m, params=params, seed=seed, server_placement="kmeans")


# ------------------------------------------------------------------------ hand-computed trace
def test_hand_computed_five_slot_trace():
    """N = 2, M = 1, τ = 1 s, φE = 0 (cost = time), P_max h / σ² = 3 so an offloaded task transmits
    D / (2B) seconds; F^max = 2 GHz, f0 = 1 GHz. Every number below is worked out by hand in
    docs/design.md §11.9."""
    params = SystemParams(phi_e=0.0, mec_cpu_hz=2e9, bandwidth_hz=1e6, max_power_w=1.5, noise_w=1e-12)
    sc = Scenario(users=np.zeros((2, 2)), servers=np.zeros((1, 2)), params=params)
    arrivals = np.array([[1, 1], [1, 0], [0, 2], [1, 0], [0, 0], [0, 0]])  # slots 0..5
    cpu = np.ones((6, 2, 2)) * 1e9
    bits = np.ones((6, 2, 2)) * 2e6
    cpu[0, 0, 0] = 2e9  # task a of IoTD 0 (local: 2 s)
    bits[3, 0, 0] = 1e6  # task c of IoTD 0
    cpu[2, 1, 1], bits[2, 1, 1] = 4e9, 4e6  # task r, the second arrival of IoTD 1 in slot 2
    trace = TraceExogenous(arrivals, bits, cpu, np.full((6, 2, 1), 2e-12))  # 5 slots played, slot 5 observed
    sim = Simulator(sc, OnlineConfig(slot_s=1.0), exogenous=trace)
    decisions = [[0, 1], [1, 1], [0, 1], [1, 1], [1, 0]]
    res = run(sim, Scripted(decisions), 5)
    tr = res.traj
    np.testing.assert_allclose(tr["cost"], [3.5, 1.5, 1.5, 7.0, 0.0], rtol=1e-12)
    np.testing.assert_array_equal(tr["served"], [2, 1, 1, 2, 0])
    np.testing.assert_array_equal(tr["backlog"], [2, 3, 3, 4, 2])
    np.testing.assert_array_equal(tr["completed"], [0, 2, 0, 2, 0])
    np.testing.assert_allclose(tr["work_s"], [0.0, 1.5, 1.5, 1.0, 6.0], rtol=1e-12)
    np.testing.assert_allclose(tr["server_work_s"], [0.0, 0.0, 0.0, 0.0, 1.5], rtol=1e-12)
    np.testing.assert_allclose(tr["drift_b"], [0.75, 0.75, 0.75, 9.625, 1.5], rtol=1e-12)
    np.testing.assert_allclose(tr["lyapunov"], [0.625, 1.125, 0.25, 12.375, 6.375], rtol=1e-12)
    assert res.completed == 4 and res.delay_sum_slots == 2 + 2 + 3 + 2
    assert math.isclose(res.delay_sum_s, 2.0 + 1.5 + 2.5 + 1.5, rel_tol=1e-12)
    assert res.totals == {"arrived": 6, "completed": 4, "in_system": 2, "dropped": 0}
    np.testing.assert_allclose(sim.state.work_s, [0.5, 3.5], rtol=1e-12)
    np.testing.assert_allclose(sim.state.server_work_s, [0.5], rtol=1e-12)
    with pytest.raises(ParameterError, match="slots"):
        sim.step(np.zeros(2, dtype=np.int64))  # playing slot 5 would need a slot 6
    assert sim.t == 5 and sim.totals["completed"] == 4  # refused before any change


# ------------------------------------------------------------------------ conservation, Little
def _check_conservation(sim, controller, slots):
    state = sim.reset()
    controller.reset(state)
    arrived, completed, dropped = int(state.arrivals.sum()), 0, sim.slot_dropped
    for _ in range(slots):
        state, info = sim.step(controller.act(state), controller.time_weights(state))
        arrived += int(state.arrivals.sum())
        completed += info.completed
        dropped += sim.slot_dropped
        assert arrived == completed + int(state.backlog.sum()) + dropped
    assert sim.totals == {
        "arrived": arrived,
        "completed": completed,
        "in_system": int(state.backlog.sum()),
        "dropped": dropped,
    }
    return dropped


def test_conservation_exact_every_slot_with_drops_poisson_and_mobility():
    sc = small(n=5, m=2, mec=10e9)
    cfg = OnlineConfig(arrival="poisson", rate=0.9, buffer_limit=3, mobility="gauss-markov", fading_rho=0.8)
    assert _check_conservation(Simulator(sc, cfg, seed=1), Local(), 400) > 0  # overloaded: the buffer drops
    assert (
        _check_conservation(Simulator(sc, cfg.replace(buffer_limit=None), seed=1), DriftPlusPenalty(0.5, "greedy"), 300)
        == 0
    )


def test_littles_law_within_two_percent():
    sc = small(n=4)
    for ctrl, slots in ((Local(), 10000), (Remote(), 4000)):
        s = run(Simulator(sc, OnlineConfig(rate=0.3, mobility="gauss-markov"), seed=5), ctrl, slots).summary()
        assert s["bounded"] and abs(s["little_ratio"] - 1.0) < 0.02, (ctrl.name, s["little_ratio"])
        assert s["delay_mean_s"] > 0 and s["delay_p95_s"] >= s["delay_mean_s"]


# ------------------------------------------------------------------------ reduction to the paper
def test_reduces_to_the_paper_one_task_per_slot_completed_in_the_slot():
    """λ = 1 (Bernoulli) and a slot longer than any task: every IoTD serves one task per slot and it
    completes within the slot; the slot's cost is evaluate() of the one-shot problem, the queues stay
    empty, and drift-plus-penalty (w ≡ 1) decides exactly the one-shot reference optimum."""
    sc = small(n=6, m=2, mec=8e9)
    sim = Simulator(sc, OnlineConfig(rate=1.0, slot_s=1e6), seed=2)
    state = sim.state
    dpp, rng = DriftPlusPenalty(0.01, rel_gap=1e-9), np.random.default_rng(0)
    for _ in range(6):
        assert state.ready.all() and not state.work_s.any()
        params = sc.params.replace(data_bits=state.data_bits, cpu_cycles=state.cpu_cycles)
        a = dpp.act(state)
        ref = reference_optimum(state.gains, params, rel_gap=1e-9)
        assert dpp.time_weights(state) is None
        np.testing.assert_array_equal(a, ref.decisions[0])
        a_rand = rng.integers(0, 3, size=6)
        one_shot = evaluate(a_rand, state.gains, params)
        next_state, info = sim.step(a_rand)
        assert math.isclose(info.cost, float(one_shot.objective), rel_tol=1e-12)
        assert math.isclose(info.time_s, float(one_shot.time), rel_tol=1e-12)
        assert info.completed == 6 and math.isclose(info.delays_s.sum(), info.time_s, rel_tol=1e-9)  # c in slot units
        state = next_state


def test_weighted_slot_tables_price_the_weighted_allocation():
    """tables.objective(a) = Σ φT w_i T_i + φE E_i under the weighted CPU split and power (eq. 11.6),
    plus Σ_j π_j W_j / F_j^max with server prices (eq. 11.8); with w ≡ 1 both are the paper's (evaluate)."""
    rng = np.random.default_rng(4)
    sc = small(n=7, m=3, mec=6e9)
    params = sc.params.replace(data_bits=rng.uniform(4e5, 8e6, 7), cpu_cycles=rng.uniform(0.2e9, 2e9, 7))
    gains = sc.sample_channels(1, rng)[0]
    w, prices = rng.uniform(1.0, 5.0, 7), rng.uniform(0.0, 2.0, 3)
    for _ in range(5):
        a = rng.integers(0, 4, size=7)
        p = price(a, gains, params, w)
        weighted = float((params.phi_t * w * p.time_s + params.phi_e * p.energy_j).sum())
        assert math.isclose(float(slot_tables(gains, params, w).objective(a[None])[0]), weighted, rel_tol=1e-12)
        server = float(prices @ (p.cycles_on / params.per_server("mec_cpu_hz", 3)))  # Σ_j π_j W_j / F_j^max
        with_prices = float(slot_tables(gains, params, w, prices).objective(a[None])[0])
        assert server > 0 and math.isclose(with_prices, weighted + server, rel_tol=1e-12)
        p1 = price(a, gains, params)
        assert math.isclose(float(p1.cost.sum()), float(evaluate(a, gains, params).objective), rel_tol=1e-12)
        assert math.isclose(
            float(slot_tables(gains, params).objective(a[None])[0]), float(p1.cost.sum()), rel_tol=1e-12
        )


# ------------------------------------------------------------------------ common random numbers
def _exogenous(sim, controller, slots):
    state = sim.reset()
    seen = []
    for _ in range(slots):
        seen.append((state.arrivals.copy(), state.positions.copy(), state.gains.copy()))
        state, _ = sim.step(controller.act(state), controller.time_weights(state))
    return seen, state.backlog


def test_common_random_numbers_across_controllers_and_buffer_limits():
    sc = small(n=5, m=2, mec=10e9)
    cfg = OnlineConfig(rate=0.6, mobility="gauss-markov", fading_rho=0.9, block_slots=64)
    a, back_a = _exogenous(Simulator(sc, cfg, seed=7), Local(), 150)
    b, back_b = _exogenous(Simulator(sc, cfg.replace(buffer_limit=2), seed=7), Remote(), 150)
    for (arr1, pos1, g1), (arr2, pos2, g2) in zip(a, b):
        np.testing.assert_array_equal(arr1, arr2)
        np.testing.assert_array_equal(pos1, pos2)
        np.testing.assert_array_equal(g1, g2)
    assert not np.array_equal(back_a, back_b)  # the decisions differ, the exogenous process does not
    c, _ = _exogenous(Simulator(sc, cfg, seed=8), Local(), 5)
    assert not np.array_equal(a[0][2], c[0][2])  # another seed, another process
    d, _ = _exogenous(Simulator(sc, cfg.replace(block_slots=7), seed=7), Local(), 150)
    for (arr1, pos1, g1), (arr2, pos2, g2) in zip(a, d):  # the block size changes nothing but rounding
        np.testing.assert_array_equal(arr1, arr2)
        np.testing.assert_allclose(pos1, pos2, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(g1, g2, rtol=1e-9)


def test_fading_and_mobility_statistics():
    """|g|² ~ Exp(1) in every slot with lag-1 correlation ρ² of the power; positions stay in the area
    and move by about σ_v τ per axis and slot."""
    sc = small(n=40, m=2, mec=10e9)
    rho = 0.8
    block = Exogenous(
        sc, OnlineConfig(rate=0.1, fading_rho=rho, mobility="gauss-markov", speed_mps=2.0), 1
    ).next_block()
    power = block.gains / (sc.params.beta0 / np.maximum(((block.positions[:, :, None] - sc.servers) ** 2).sum(-1), 1))
    assert abs(power.mean() - 1.0) < 0.03
    corr = np.corrcoef(power[1:].ravel(), power[:-1].ravel())[0, 1]
    assert abs(corr - rho**2) < 0.03
    assert block.positions.min() >= 0 and block.positions.max() <= sc.area_m
    step = np.diff(block.positions, axis=0)
    assert 0.5 < np.median(np.abs(step)) / (2.0 * 0.5 * 0.6745) < 1.2


# ------------------------------------------------------------------------ environment
def test_env_checker_passes_and_actions_are_checked():
    sc = small(n=5, m=2, mec=10e9)
    for kwargs in ({}, {"reward": "dpp", "allocation": "dpp", "v": 0.5}):
        env = gym.make(
            ENV_ID, scenario=sc, config=OnlineConfig(rate=0.6, mobility="gauss-markov"), horizon=30, **kwargs
        )
        check_env(env.unwrapped, skip_render_check=True)
    env = env.unwrapped
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and info["seed"] == 3
    total, truncated = 0.0, False
    while not truncated:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += reward
        assert not terminated
    assert env.sim.t == 30 and np.isfinite(total)
    for bad, match in ((np.zeros(5), "integers"), (np.zeros(4, dtype=int), r"shape \(5,\)"), (np.full(5, 3), "0..2")):
        with pytest.raises(ParameterError, match=match):
            env.step(bad)


def test_env_dpp_reward_telescopes():
    """With reward='dpp' the return is −(Σ P + L(end)/V), L = ½ (Σ β² + Σ Z²) (the drift terms telescope
    from L(0) = 0)."""
    sc = small(n=4)
    env = gym.make(ENV_ID, scenario=sc, config=OnlineConfig(rate=0.8), horizon=50, reward="dpp", v=0.25).unwrapped
    env.reset(seed=0)
    total, cost = 0.0, 0.0
    for _ in range(50):
        _, r, _, _, info = env.step(np.zeros(4, dtype=np.int64))
        total, cost = total + r, cost + info["cost"]
    lyap = env.sim.state.lyapunov
    assert lyap > 0 and math.isclose(total, -(cost + lyap / 0.25), rel_tol=1e-9)


# ------------------------------------------------------------------------ controllers, stability
def test_reference_controller_stable_where_local_is_not():
    sc = small(n=4)
    cfg = OnlineConfig(rate=0.8)  # Local's limit is τ f0 / E[F] = 0.5 / 1.1 ≈ 0.45
    local = run(Simulator(sc, cfg, seed=0), Local(), 1500).summary()
    dpp = run(Simulator(sc, cfg, seed=0), DriftPlusPenalty(1.0), 1500).summary()
    assert not local["bounded"] and dpp["bounded"]
    assert dpp["backlog_mean"] < 0.05 * local["backlog_mean"]
    assert 0 <= dpp["gap_mean"] < math.inf  # a proven per-slot gap


def test_local_stability_limit_matches_its_work_rate():
    """Local serves F / f0 seconds per task, so its limit is τ f0 / E[F] (= 0.4545 here); the bisection
    with the growth test finds it within its resolution."""
    sc = small(n=4)
    lim = stability_limit(sc, OnlineConfig(), Local, slots=6000, lo=0.2, hi=0.8, tol=0.02)
    expected = 0.5 * 1e9 / 1.1e9
    assert expected - 0.06 <= lim.rate <= expected + 0.01 and lim.upper >= expected - 0.04
    assert [p[2] for p in lim.probes][0] is False  # hi = 0.8 is beyond it


def test_growth_test_separates_linear_growth_from_a_stationary_backlog():
    rng = np.random.default_rng(0)
    assert not growth_test(np.arange(2000) * 0.3 + rng.normal(0, 5, 2000)).bounded
    assert growth_test(20 + rng.normal(0, 5, 2000).clip(-20)).bounded
    with pytest.raises(ParameterError, match="backlog"):
        growth_test(np.ones(3))


def test_v_sweep_cost_falls_toward_the_myopic_optimum_within_the_bound():
    sc = small(n=4, mec=8e9)
    rows = v_sweep(sc, OnlineConfig(rate=0.6), [0.05, 0.5, 5.0], slots=1200, seed=1)
    dpp, my = rows[:-1], rows[-1]
    assert math.isinf(my.v) and my.bounded and all(r.bounded for r in dpp)
    costs = [r.cost for r in dpp]
    assert costs[0] > costs[1] > costs[2] >= my.cost * (1 - 1e-3)
    assert costs[2] - my.cost < 0.1 * (costs[0] - my.cost)
    for r in dpp:  # eq. 11.9 with p* = the (stable) myopic optimum's cost
        assert r.cost <= r.bound and r.gap >= 0 and r.drift_b > 0


def test_dpp_with_the_any_size_model_and_greedy():
    torch = pytest.importorskip("torch")
    from dirs.learn.anysize import AnySizeNet, AnySizePolicy

    sc = small(n=6, m=2, mec=10e9)
    policy = AnySizePolicy(AnySizeNet(generator=torch.Generator().manual_seed(0)))
    ref = run(Simulator(sc, OnlineConfig(rate=0.5), seed=0), DriftPlusPenalty(1.0), 200).summary()
    assert ref["gap_mean"] >= 0
    for ctrl in (DriftPlusPenalty(1.0, "anysize", policy=policy), DriftPlusPenalty(1.0, "greedy")):
        s = run(Simulator(sc, OnlineConfig(rate=0.5), seed=0), ctrl, 200).summary()
        assert s["bounded"] and ref["cost"] <= s["cost"] * 1.05  # near the certified slot solutions
        assert math.isnan(s["gap_mean"])  # no proven gap


def test_myopic_ignores_the_queues():
    sc = small(n=5, m=2, mec=10e9)
    sim = Simulator(sc, OnlineConfig(rate=0.9), seed=4)
    state = sim.state
    for _ in range(30):  # everything to server 1: devices and server 1 fall behind
        state, _ = sim.step(np.ones(5, dtype=np.int64))
    assert state.work_s.max() > 0 and state.server_work_s.max() > 0
    m, d = myopic(), DriftPlusPenalty(1e-3)
    params = state.served_params()
    ref = reference_optimum(state.served_gains(), params, rel_gap=1e-3)
    np.testing.assert_array_equal(m.act(state)[state.ready], ref.decisions[0])
    assert m.time_weights(state) is None and d.act(state).shape == (5,)
    w = d.time_weights(state)
    np.testing.assert_allclose(w[state.ready], 1 + state.work_s[state.ready] / (1e-3 * sc.params.phi_t))
    tables, _ = d.slot_problem(state)
    plain = slot_tables(state.served_gains(), params, w[state.ready])
    extra = (
        params.per_iotd("cpu_cycles", len(params.data_bits))[:, None]
        * state.server_work_s
        / 1e-3
        / sc.params.mec_cpu_hz
    )
    np.testing.assert_allclose(tables.tx[0], plain.tx[0] + extra, rtol=1e-12)


# ------------------------------------------------------------------------ inputs
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate": 1.5}, "rate"),
        ({"arrival": "uniform"}, r"arrival: unknown value 'uniform'; allowed: \['bernoulli', 'poisson'\]"),
        ({"mobility": "walk"}, "mobility"),
        ({"fading_rho": 1.0}, "fading_rho"),
        ({"buffer_limit": 0}, "buffer_limit"),
        ({"tasks": {"cpu_cycles": {"dist": "uniform", "low": 1e9, "high": 2e9}}}, "tasks"),
        ({"tasks": {**HETERO_TASKS, "data_bits": {"dist": "normal"}}}, "data_bits.dist"),
    ],
)
def test_bad_config_names_the_field(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        OnlineConfig(**kwargs)


def test_bad_controller_and_decisions_name_the_argument():
    with pytest.raises(ParameterError, match="solver"):
        DriftPlusPenalty(1.0, "exact")
    with pytest.raises(ParameterError, match="v:"):
        DriftPlusPenalty(0.0)
    with pytest.raises(ParameterError, match="policy"):
        DriftPlusPenalty(1.0, "anysize")
    with pytest.raises(ParameterError, match="unknown key"):
        OnlineConfig.from_dict({"rates": 0.3})
    sim = Simulator(small(n=3), OnlineConfig(rate=1.0))
    with pytest.raises(ParameterError, match=r"0\.\.1"):
        sim.step(np.array([0, 2, 0]))
    with pytest.raises(ParameterError, match="time_weights"):
        sim.step(np.zeros(3, dtype=np.int64), np.array([1.0, -1.0, 1.0]))


def test_default_tasks_are_the_hetero_family():
    spec = yaml.safe_load((ROOT / "conf/scenario/hetero.yaml").read_text())["options"]["tasks"]
    assert {
        k: {kk: (float(vv) if kk != "dist" else vv) for kk, vv in v.items()} for k, v in spec.items()
    } == HETERO_TASKS
