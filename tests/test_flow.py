"""Min-cost-flow optimum for identical tasks (docs/design.md §3.2, dirs/solvers/flow.py).

Differential tests against the slot assignment (:func:`dirs.solvers.oracle._assign_one`) and brute
force, and the negative-cycle certificate on suboptimal decisions.
"""

import itertools

import numpy as np
import pytest

from dirs.solvers import flow
from dirs.solvers.flow import (
    apply_cycle,
    cancel_negative_cycles,
    decision_objective,
    negative_cycle,
    solve_flow_one,
)
from dirs.solvers.oracle import _assign_one, solve_exact
from dirs.system import ParameterError, SystemParams

KINDS = ("mixed", "ties", "huge_capacity", "all_local", "all_offload", "tight")


def random_costs(rng, kind: str, n: int, m: int):
    """(tx, local, slot_unit) of one random identical-task sample of the given ``kind``."""
    local = rng.uniform(0.5, 2.0, n)
    rel = 10.0 ** rng.uniform(-6, 3, m)  # slot_unit relative to the costs: 1e-6 .. 1e3
    if kind == "ties":  # costs and slot units on a grid: savings tie with slot costs and each other
        local = np.full(n, 2.0)
        tx = rng.integers(0, 10, (n, m)) / 4.0
        slot = rng.choice([0.25, 0.5, 1.0], m)
        tx[rng.random(n) < 0.3] = tx[0]  # identical IoTDs
        return tx, local, slot
    if kind == "all_local":  # every saving ≤ 0
        tx = local[:, None] * rng.uniform(1.0, 3.0, (n, m))
        tx[rng.random((n, m)) < 0.2] = np.inf
        return tx, local, rel * local.mean()
    if kind == "all_offload":  # big savings, nearly free servers
        tx = local[:, None] * rng.uniform(0.0, 0.05, (n, m))
        return tx, local, 10.0 ** rng.uniform(-6, -4, m) * local.mean()
    if kind == "huge_capacity":  # some servers with (almost) unlimited slots
        tx = local[:, None] * rng.uniform(0.0, 1.5, (n, m))
        rel[rng.random(m) < 0.5] = 1e-6
        return tx, local, rel * local.mean()
    if kind == "tight":  # slot costs of the order of the savings: balancing matters
        tx = local[:, None] * rng.uniform(0.0, 1.0, (n, m))
        return tx, local, 10.0 ** rng.uniform(-3, 0, m) * local.mean()
    tx = local[:, None] * rng.uniform(0.0, 2.0, (n, m))
    tx[rng.random((n, m)) < 0.05] = np.inf
    return tx, local, rel * local.mean()


def assert_same_objective(tx, local, slot, a, b):
    fa, fb = decision_objective(tx, local, slot, a), decision_objective(tx, local, slot, b)
    assert fa == pytest.approx(fb, rel=1e-9, abs=0.0)


def brute_force(tx, local, slot):
    n, m = tx.shape
    every = np.array(list(itertools.product(range(m + 1), repeat=n)), dtype=np.int64)  # (D, N)
    cost = np.concatenate([local[:, None], tx], axis=1)
    base = cost[np.arange(n), every].sum(axis=1)
    counts = (every[:, :, None] == np.arange(1, m + 1)).sum(axis=1)
    return float((base + (slot * counts * counts).sum(axis=1)).min())


# ------------------------------------------------------------------ differential: flow vs assignment
@pytest.mark.parametrize("seed", range(360))
def test_flow_equals_assignment(seed):
    rng = np.random.default_rng([seed, 7])
    kind = KINDS[seed % len(KINDS)]
    # N: uniform on 1..300 half the time, log-uniform (mostly small) otherwise
    n = int(rng.integers(1, 301)) if rng.random() < 0.5 else int(np.rint(10.0 ** rng.uniform(0, np.log10(300))))
    m = int(rng.integers(1, 21))
    tx, local, slot = random_costs(rng, kind, n, m)
    if seed % 5 == 0:  # the tolerances are relative: any unit of cost
        unit = 10.0 ** rng.uniform(-8, 8)
        tx, local, slot = tx * unit, local * unit, slot * unit
    a = solve_flow_one(tx, local, slot)
    assert a.shape == (n,) and a.dtype == np.int64 and a.min() >= 0 and a.max() <= m
    with np.errstate(invalid="ignore"):  # _assign_one casts −inf (a server nobody can reach) to int
        b = _assign_one(tx, local, slot)
    assert_same_objective(tx, local, slot, a, b)
    assert not np.any(np.isinf(tx[np.arange(n)[a > 0], a[a > 0] - 1]))
    if kind == "all_local":
        assert np.all(a == 0)
    if kind == "all_offload":
        assert np.all(a > 0)
    # the pruned, integer-scaled flow alone is already optimal: pruning is exact (the repair below
    # would otherwise hide a pruning error)
    saving = local[:, None] - tx
    raw = flow._solve_scaled(saving, *flow._pruned_arcs(tx, local, saving, slot), slot)
    assert_same_objective(tx, local, slot, raw, b)
    # the certificate accepts both exact solutions
    assert negative_cycle(tx, local, slot, a) is None
    assert negative_cycle(tx, local, slot, b) is None


@pytest.mark.parametrize("seed", range(60))
def test_flow_equals_brute_force(seed):
    rng = np.random.default_rng([seed, 11])
    n, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    tx, local, slot = random_costs(rng, KINDS[seed % len(KINDS)], n, m)
    a = solve_flow_one(tx, local, slot)
    assert decision_objective(tx, local, slot, a) == pytest.approx(brute_force(tx, local, slot), rel=1e-9)


def test_solve_exact_uses_the_flow_and_matches_the_assignment():
    from dirs.solvers.costs import cost_tables
    from dirs.system import Scenario

    sc = Scenario.generate(150, 6, params=SystemParams(mec_cpu_hz=[5e9, 10e9, 20e9, 40e9, 80e9, 300e9]), seed=4)
    gains = sc.sample_channels(4, 1)
    tables = cost_tables(gains, sc.params)
    a = solve_exact(gains, sc.params)
    slot = tables.phi_t * tables.sqrt_f[0] ** 2 / tables.mec_cpu_hz
    for t in range(4):
        b = _assign_one(tables.tx[t], tables.local, slot)
        assert_same_objective(tables.tx[t], tables.local, slot, a[t], b)


# ------------------------------------------------------------------ the certificate and the repair
@pytest.mark.parametrize("seed", range(40))
def test_certificate_detects_perturbed_decisions(seed):
    rng = np.random.default_rng([seed, 13])
    kind = ("mixed", "tight", "huge_capacity", "ties")[seed % 4]
    n, m = int(rng.integers(2, 60)), int(rng.integers(1, 8))
    tx, local, slot = random_costs(rng, kind, n, m)
    best = solve_flow_one(tx, local, slot)
    f_best = decision_objective(tx, local, slot, best)
    bad = best.copy()
    moved = rng.choice(n, size=int(rng.integers(1, min(n, 5) + 1)), replace=False)
    bad[moved] = (bad[moved] + rng.integers(1, m + 1, moved.size)) % (m + 1)
    finite = np.isfinite(np.concatenate([local[:, None], tx], axis=1)[np.arange(n), bad])
    bad[~finite] = 0  # never onto an infinite-cost server
    f_bad = decision_objective(tx, local, slot, bad)
    found = negative_cycle(tx, local, slot, bad)
    if f_bad > f_best * (1 + 1e-9):
        assert found is not None
        cycle, cost = found
        assert cost < 0
        # the cycle's cost is exactly the objective change of applying its moves
        after = apply_cycle(tx, local, slot, bad, cycle)
        assert decision_objective(tx, local, slot, after) - f_bad == pytest.approx(cost, rel=1e-9, abs=1e-12)
    fixed, rounds = cancel_negative_cycles(tx, local, slot, bad)
    assert decision_objective(tx, local, slot, fixed) == pytest.approx(f_best, rel=1e-9)
    assert (rounds > 0) == (found is not None)


@pytest.mark.parametrize("seed", range(12))
def test_repair_from_a_random_decision_reaches_the_optimum(seed):
    rng = np.random.default_rng([seed, 17])
    n, m = int(rng.integers(1, 80)), int(rng.integers(1, 10))
    tx, local, slot = random_costs(rng, ("mixed", "tight", "huge_capacity")[seed % 3], n, m)
    cost = np.concatenate([local[:, None], tx], axis=1)
    start = rng.integers(0, m + 1, n)
    start[~np.isfinite(cost[np.arange(n), start])] = 0
    fixed, _ = cancel_negative_cycles(tx, local, slot, start)
    assert_same_objective(tx, local, slot, fixed, _assign_one(tx, local, slot))


def test_rounding_losses_are_repaired(monkeypatch):
    """If the scaled solve returned a poor decision, the certificate would still end at the optimum."""
    rng = np.random.default_rng(3)
    tx, local, slot = random_costs(rng, "tight", 120, 9)
    monkeypatch.setattr(flow, "_solve_scaled", lambda saving, *_: np.zeros(saving.shape[0], dtype=np.int64))
    a = solve_flow_one(tx, local, slot)
    assert_same_objective(tx, local, slot, a, _assign_one(tx, local, slot))


def test_near_ties_below_the_integer_resolution():
    """Savings that differ by far less than the scaled unit: the float certificate decides."""
    rng = np.random.default_rng(5)
    n, m = 200, 6
    local = np.full(n, 1.0)
    tx = 0.5 + rng.integers(0, 3, (n, m)) * 1e-17 + rng.uniform(0, 1e-15, (n, m))
    slot = np.full(m, 1e-3) * (1 + rng.uniform(0, 1e-14, m))
    a = solve_flow_one(tx, local, slot)
    assert_same_objective(tx, local, slot, a, _assign_one(tx, local, slot))
    assert negative_cycle(tx, local, slot, a) is None


# ------------------------------------------------------------------ edge cases and errors
def test_empty_sizes():
    assert solve_flow_one(np.zeros((0, 3)), np.zeros(0), np.ones(3)).shape == (0,)
    a = solve_flow_one(np.zeros((5, 0)), np.ones(5), np.zeros(0))
    assert a.shape == (5,) and np.all(a == 0)
    assert negative_cycle(np.zeros((5, 0)), np.ones(5), np.zeros(0), a) is None
    params = SystemParams()
    assert solve_exact(np.ones((3, 0, 2)), params).shape == (3, 0)
    assert solve_exact(np.ones((0, 2)), params).shape == (0,)
    assert np.all(solve_exact(np.ones((3, 4, 0)), params) == 0)


def test_servers_nobody_should_use():
    local = np.ones(30)
    tx = np.column_stack([np.full(30, 0.2), np.full(30, 5.0), np.full(30, np.inf)])
    a = solve_flow_one(tx, local, np.array([0.01, 1e-6, 1e-6]))
    assert np.all(a == 1)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((np.ones(3), np.ones(3), np.ones(1)), "tx"),
        ((np.ones((3, 2)), np.ones(2), np.ones(2)), "local"),
        ((np.ones((3, 2)), np.ones(3), np.ones(3)), "slot_unit"),
        ((np.ones((3, 2)), np.ones(3), np.array([1.0, 0.0])), "slot_unit"),
        ((np.ones((3, 2)), np.array([1.0, np.nan, 1.0]), np.ones(2)), "local"),
        ((np.full((3, 2), np.nan), np.ones(3), np.ones(2)), "tx"),
    ],
)
def test_bad_inputs_name_the_argument(args, name):
    with pytest.raises(ParameterError, match=name):
        solve_flow_one(*args)


def test_bad_decision_is_rejected():
    with pytest.raises(ParameterError, match="decision"):
        negative_cycle(np.ones((3, 2)), np.ones(3), np.ones(2), np.array([0, 3, 1]))
