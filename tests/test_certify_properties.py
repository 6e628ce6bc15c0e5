"""Properties of the reference's certificates (issue [certify]), with hypothesis: the lower bound is below
the cost of any feasible decision, the objective is never above Greedy's, and renumbering IoTDs or
servers moves neither the bound nor the objective by more than the proven gap."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dirs.methods import lookup
from dirs.solvers.reference import reference_optimum
from dirs.system import SystemParams, evaluate
from dirs.verify import independent

REL_GAP = 1e-6
TOL = 1e-9
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw, max_n=12, max_m=4):
    """(gains (N, M), params): heterogeneous D, C, f0 per IoTD, F per server, φ; optionally exact
    duplicates of IoTDs or servers (ties)."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    log_gain = rng.uniform(-9.0, -4.0, size=(n, m))
    gains = 10.0**log_gain
    fields = dict(
        data_bits=rng.uniform(4e5, 8e6, n),
        cpu_cycles=rng.uniform(0.2e9, 2e9, n),
        local_cpu_hz=rng.uniform(0.5e9, 1.5e9, n),
        mec_cpu_hz=rng.uniform(draw(st.sampled_from([1e9, 8e9])), 20e9, m),
        phi_t=draw(st.floats(0.1, 2.0)),
        phi_e=draw(st.sampled_from([0.0, 0.5, 1.0, 1.5])),
    )
    if draw(st.booleans()) and n > 1:  # duplicated IoTDs: exact ties
        src = np.where(rng.random(n) < 0.5, rng.integers(0, n, n), np.arange(n))
        gains = gains[src]
        for k in ("data_bits", "cpu_cycles", "local_cpu_hz"):
            fields[k] = fields[k][src]
    if draw(st.booleans()) and m > 1:  # duplicated servers
        src = np.where(rng.random(m) < 0.5, rng.integers(0, m, m), np.arange(m))
        gains = gains[:, src]
        fields["mec_cpu_hz"] = fields["mec_cpu_hz"][src]
    return gains, SystemParams(**fields)


def _ref(gains, params):
    ref = reference_optimum(gains, params, rel_gap=REL_GAP)
    return float(ref.objective[0]), float(ref.lower_bound[0]), ref.decisions[0]


@SETTINGS
@given(inst=instances(), data=st.data())
def test_lower_bound_below_every_sampled_feasible_decision(inst, data):
    gains, params = inst
    n, m = gains.shape
    obj, lb, dec = _ref(gains, params)
    assert lb <= obj * (1 + TOL)
    np.testing.assert_allclose(evaluate(dec, gains, params).objective, obj, rtol=1e-12)
    picks = data.draw(st.lists(st.lists(st.integers(0, m), min_size=n, max_size=n), min_size=1, max_size=20))
    decisions = np.array(picks + [[0] * n] + [list(np.argmax(gains, 1) + 1)], dtype=np.int64)
    # neighbours of the reference decision: where a bad bound would hide
    rng = np.random.default_rng(len(picks))
    for _ in range(20):
        nb = dec.copy()
        flip = rng.integers(0, n, size=int(rng.integers(1, 3)))
        nb[flip] = rng.integers(0, m + 1, size=len(flip))
        decisions = np.vstack([decisions, nb])
    prob = independent.price(gains, params)
    if (m + 1) ** n <= 50_000:  # and the best of all (independent brute force)
        decisions = np.vstack([decisions, independent.brute_force(prob).decision])
    costs = evaluate(decisions, np.broadcast_to(gains, (len(decisions), n, m)), params).objective
    own = prob.objective(decisions)
    np.testing.assert_allclose(own, costs, rtol=1e-9)
    worst = int(np.argmin(costs))
    assert lb <= costs.min() * (1 + TOL), (lb, costs.min(), decisions[worst])


@SETTINGS
@given(inst=instances(max_n=20, max_m=5))
def test_objective_never_above_greedy(inst):
    gains, params = inst
    obj, lb, _ = _ref(gains, params)
    greedy = lookup("greedy").build(None, params, np.random.default_rng(0))(gains[None])
    g = float(evaluate(greedy, gains[None], params).objective[0])
    assert obj <= g * (1 + TOL), (obj, g)
    assert lb <= g * (1 + TOL)


@SETTINGS
@given(inst=instances(max_n=16, max_m=4), perm_seed=st.integers(0, 2**32 - 1))
def test_renumbering_iotds_or_servers_keeps_bound_and_objective(inst, perm_seed):
    gains, params = inst
    n, m = gains.shape
    rng = np.random.default_rng(perm_seed)
    pi, sigma = rng.permutation(n), rng.permutation(m)
    permuted = params.replace(
        data_bits=np.asarray(params.data_bits)[pi],
        cpu_cycles=np.asarray(params.cpu_cycles)[pi],
        local_cpu_hz=np.asarray(params.local_cpu_hz)[pi],
        mec_cpu_hz=np.asarray(params.mec_cpu_hz)[sigma],
    )
    obj, lb, _ = _ref(gains, params)
    obj2, lb2, dec2 = _ref(gains[pi][:, sigma], permuted)
    # the same optimum lies in both certified intervals [lb, obj]
    assert max(lb, lb2) <= min(obj, obj2) * (1 + TOL), (lb, obj, lb2, obj2)
    gap = max((obj - lb) / obj, (obj2 - lb2) / obj2, REL_GAP)
    assert abs(obj - obj2) <= gap * max(obj, obj2) * (1 + TOL), (obj, obj2)
    assert abs(lb - lb2) <= gap * max(obj, obj2) * (1 + TOL), (lb, lb2)
    # the permuted decision, mapped back, is feasible for the original at the same cost
    inv_sigma = np.concatenate([[0], sigma + 1])
    back = np.empty(n, dtype=np.int64)
    back[pi] = inv_sigma[dec2]
    np.testing.assert_allclose(evaluate(back, gains, params).objective, obj2, rtol=1e-12)
