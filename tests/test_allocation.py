"""Exact resource allocation (docs/design.md §2): closed-form power, CPU split, feasibility."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import lambertw

from dirs.system import SystemParams, evaluate
from dirs.system.allocation import lambertw0, optimal_power


@pytest.mark.parametrize("z", [-1 / np.e + 1e-12, -0.2, 0.0, 0.5, 2.9, 3.1, 10.0, 1e3, 1e6, 1e9, 1e14])
def test_lambertw0_matches_scipy(z):
    assert lambertw0(np.array([z]))[0] == pytest.approx(lambertw(z).real, rel=1e-12, abs=1e-7)


@pytest.mark.parametrize("phi_t,phi_e", [(1.0, 1.0), (1.5, 0.5), (0.5, 1.5), (2.0, 0.01)])
@pytest.mark.parametrize("x", [1e-2, 1.0, 1e2, 1e4, 1e6, 1e8, 1e10])
def test_closed_form_power_equals_bounded_minimiser(phi_t, phi_e, x):
    d, b, pmax = 8e5, 1e6, 1.5

    def g(p):
        return d * (phi_t + phi_e * p) / (b * np.log2(1 + p * x))

    ref = minimize_scalar(g, bounds=(1e-15, pmax), method="bounded", options={"xatol": 1e-15})
    p = optimal_power(np.array(x), phi_t, phi_e, pmax)
    assert 0 < p <= pmax
    assert g(p) <= ref.fun * (1 + 1e-9)  # never worse than the numerical minimiser
    assert g(p) == pytest.approx(ref.fun, rel=1e-7)  # the minimiser stops short at the P_max bound


def test_phi_e_zero_uses_max_power():
    assert np.all(optimal_power(np.array([1.0, 1e6]), 1.0, 0.0, 1.5) == 1.5)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    m=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    phi_t=st.floats(0.05, 3.0),
    phi_e=st.floats(0.0, 3.0),
    log_gain=st.floats(-14, -2),
    heterogeneous=st.booleans(),
)
# found by CI: a subnormal φE overflowed c = φT x / φE and gave NaN power (now the φE → 0 limit)
@example(n=1, m=1, seed=0, phi_t=1.0, phi_e=2.2250738585e-313, log_gain=-11.0, heterogeneous=False)
def test_every_allocation_is_feasible(n, m, seed, phi_t, phi_e, log_gain, heterogeneous):
    rng = np.random.default_rng(seed)
    params = SystemParams(
        phi_t=phi_t,
        phi_e=phi_e,
        mec_cpu_hz=rng.uniform(1e9, 2e10, size=m),
        cpu_cycles=rng.uniform(1e8, 3e9, size=n) if heterogeneous else 1e9,
        max_power_w=rng.uniform(0.1, 2.0, size=n),
    )
    gains = 10.0 ** (log_gain + rng.uniform(-2, 2, size=(3, n, m)))
    a = rng.integers(0, m + 1, size=(3, n))
    c = evaluate(a, gains, params, return_allocation=True)
    off = a > 0
    p = c.power_w
    assert np.all(p[off] > 0)
    assert np.all(p[off] <= np.broadcast_to(params.max_power_w, p.shape)[off] * (1 + 1e-12))
    for j in range(1, m + 1):
        used = np.where(a == j, c.cpu_hz, 0.0).sum(-1)
        assert np.all(used <= params.mec_cpu_hz[j - 1] * (1 + 1e-9))
    assert np.all(np.isfinite(c.objective)) and np.all(c.objective > 0)


def test_evaluate_matches_plain_formulas(rng):
    """evaluate() against a plain per-IoTD transcription of eqs. 2-9 with the exact allocation."""
    params = SystemParams(mec_cpu_hz=np.array([5e9, 8e9]), cpu_cycles=np.array([1e9, 2e9, 0.5e9, 1e9]))
    gains = 10.0 ** rng.uniform(-7, -4, size=(4, 2))
    a = np.array([0, 1, 2, 1])
    c = evaluate(a, gains, params, return_allocation=True)
    total_t = total_e = 0.0
    f = params.cpu_cycles
    for i in range(4):
        if a[i] == 0:
            t = f[i] / 1e9
            e = params.kappa * 1e9**3 * t
        else:
            j = a[i] - 1
            x = gains[i, j] / params.noise_w
            p = c.power_w[i]
            r = params.bandwidth_hz * np.log2(1 + p * x)
            share = params.mec_cpu_hz[j] * np.sqrt(f[i]) / sum(np.sqrt(f[k]) for k in range(4) if a[k] == a[i])
            t = params.data_bits / r + f[i] / share
            e = p * params.data_bits / r
        total_t += t
        total_e += e
    assert c.time == pytest.approx(total_t, rel=1e-12)
    assert c.energy == pytest.approx(total_e, rel=1e-12)
    assert c.objective == pytest.approx(total_t + total_e, rel=1e-12)
