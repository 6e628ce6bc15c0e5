"""Allocation ablation: the closed form is never beaten by a searched allocation; the table
aggregates seeds per (method, allocation)."""

import numpy as np
import pandas as pd
import pytest
from conftest import random_instance

from dirs.report.experiments import allocation_table
from dirs.solvers.levy import equal_shares, levy_flight, price_allocation
from dirs.stages.ablation import ABLATION_COLUMNS
from dirs.system import evaluate


@pytest.mark.parametrize("trial", range(6))
def test_closed_form_allocation_never_worse_than_searched(trial):
    rng = np.random.default_rng(100 + trial)
    sc, gains = random_instance(rng, n_max=12, m_max=4, samples=4)
    res = levy_flight(gains, sc.params, population=4, iterations=8, allocation="search", rng=rng)
    exact = evaluate(res.decisions, gains, sc.params).objective
    assert np.all(exact <= res.objective * (1 + 1e-12))
    m = gains.shape[-1]
    a = res.decisions
    naive = price_allocation(
        a,
        equal_shares(a, sc.params.per_server("mec_cpu_hz", m)),
        np.where(a > 0, sc.params.per_iotd("max_power_w", a.shape[-1]), 0.0),
        gains,
        sc.params,
    )
    assert np.all(exact <= naive * (1 + 1e-12))


def test_allocation_table_mean_and_ci_over_seeds(tmp_path):
    files = []
    for seed, nrr in ((0, 0.98), (1, 0.99), (2, 1.0)):
        d = tmp_path / "evaluations" / "large" / f"seed{seed}"
        d.mkdir(parents=True)
        rows = [
            ["levy", "exact", 5, 100.0, 1.0, 1.0, 1.0, 2.0, 1.0],
            ["levy", "search", 5, 101.0, 1.0, nrr, nrr, 4.0, 2.0],
        ]
        pd.DataFrame(rows, columns=ABLATION_COLUMNS).to_csv(d / "allocation.csv", index=False)
        files.append(d / "allocation.csv")
    t = allocation_table(files, tmp_path / "a.csv", tmp_path / "a.md", "ablation")
    search = t[t.allocation == "search"].iloc[0]
    assert search.n_seeds == 3 and search.nrr_opt == pytest.approx(0.99)
    assert search.nrr_opt_ci > 0 and t[t.allocation == "exact"].iloc[0].nrr_opt_ci == 0
    md = (tmp_path / "a.md").read_text()
    assert "Lévy flight (from Remote)" in md and "0.9900 ±" in md
