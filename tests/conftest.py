import os

import numpy as np
import pytest
from hypothesis import settings

# CI gates on a reproducible example set; explore with HYPOTHESIS_PROFILE=dev (random examples)
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from dirs.system import Scenario, SystemParams  # noqa: E402 (after the hypothesis profile)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_instance(rng, n_max=7, m_max=3, samples=2, identical=True):
    """A small random scenario with varied capacities and weights, and its channel samples."""
    m = int(rng.integers(1, m_max + 1))
    n = int(rng.integers(m, n_max + 1))
    params = SystemParams(
        mec_cpu_hz=rng.uniform(0.5e9, 8e9, size=m),
        phi_t=float(rng.uniform(0.2, 2.0)),
        phi_e=float(rng.choice([0.0, rng.uniform(0.1, 2.0)])),
        data_bits=float(rng.uniform(2e5, 2e6)),
        cpu_cycles=1e9 if identical else rng.uniform(0.3e9, 2e9, size=n),
    )
    sc = Scenario.generate(n, m, params=params, seed=int(rng.integers(1 << 30)), server_placement="kmeans")
    return sc, sc.sample_channels(samples, rng)
