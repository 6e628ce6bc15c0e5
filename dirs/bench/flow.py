"""``flow``: the min-cost-flow optimum (docs/design.md §3.2) against the slot assignment, per sample.

Median ms per sample at batch 1 of :func:`dirs.solvers.flow.solve_flow_one` and of
:func:`dirs.solvers.oracle._assign_one` on the same precomputed cost tables, their ratio measured in
the same run, and the largest relative objective difference between the two (both exact: ~1e-16).
Both are single-threaded (OR-Tools' cost-scaling flow, SciPy's assignment, small NumPy arrays), so
the figures do not depend on ``OMP_NUM_THREADS``.
"""

from __future__ import annotations

import time

import numpy as np

from dirs.bench.common import _print, _scenario


def _cases(seed: int):
    """(label, scenario) of the benchmark: the paper's xlarge (k-means servers at 10 GHz), its size with
    default :class:`SystemParams` (15 GHz), and N = 2000, M = 50 at 10 and 300 GHz per server (uniform
    IoTDs in a 50 m square, k-means servers, Rayleigh fading)."""
    from dirs.system import Scenario, SystemParams

    def make(n: int, m: int, params: SystemParams) -> Scenario:
        return Scenario.generate(n, m, params=params, placement="uniform", area_m=50.0, seed=seed, name="flow")

    return [
        ("xlarge", _scenario("xlarge", seed)),
        ("200x10 default", make(200, 10, SystemParams())),
        ("2000x50", make(2000, 50, SystemParams(mec_cpu_hz=10e9))),
        ("2000x50", make(2000, 50, SystemParams(mec_cpu_hz=300e9))),
    ]


def _timed(fn, *args) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def bench_flow(samples: int = 20, slow_samples: int = 2, seed: int = 0) -> list[dict]:
    """One row per case: median flow and assignment ms per sample, their ratio, the oracle's (which
    picks one of the two by size, :func:`dirs.solvers.oracle.solve_identical_one`), the max relative
    objective difference.  The assignment runs on the first ``samples`` samples, except at 300 GHz
    per server (seconds per sample) where it runs on the first ``slow_samples``."""
    from dirs.solvers.costs import cost_tables
    from dirs.solvers.flow import decision_objective, solve_flow_one
    from dirs.solvers.oracle import _assign_one, solve_identical_one

    if samples < 1 or slow_samples < 1:
        raise ValueError(f"samples, slow_samples: must be >= 1, got {samples}, {slow_samples}")
    rows = []
    for label, sc in _cases(seed):
        fmax = float(np.max(sc.params.per_server("mec_cpu_hz", sc.num_servers)))
        tables = cost_tables(sc.sample_channels(samples, np.random.default_rng([seed, 0xF10])), sc.params)
        slot_unit = tables.phi_t * tables.sqrt_f[0] ** 2 / tables.mec_cpu_hz
        n_assign = samples if fmax < 100e9 else min(slow_samples, samples)
        solve_flow_one(tables.tx[0], tables.local, slot_unit)  # warm-up (imports, allocator)
        t_flow, t_assign, t_used, rel = [], [], [], []
        for t in range(samples):
            a, dt = _timed(solve_flow_one, tables.tx[t], tables.local, slot_unit)
            t_flow.append(dt)
            t_used.append(_timed(solve_identical_one, tables.tx[t], tables.local, slot_unit)[1])
            if t < n_assign:
                b, dt = _timed(_assign_one, tables.tx[t], tables.local, slot_unit)
                t_assign.append(dt)
                fa = decision_objective(tables.tx[t], tables.local, slot_unit, a)
                fb = decision_objective(tables.tx[t], tables.local, slot_unit, b)
                rel.append(abs(fa - fb) / abs(fb))
        flow_ms, assign_ms = 1e3 * float(np.median(t_flow)), 1e3 * float(np.median(t_assign))
        rows.append(
            {
                "case": f"{label} ({sc.num_servers}x{sc.num_iotds}, {fmax / 1e9:g} GHz)",
                "flow_ms": flow_ms,
                "flow_p90_ms": 1e3 * float(np.quantile(t_flow, 0.9)),
                "assign_ms": assign_ms,
                "speedup": assign_ms / flow_ms,
                "oracle_ms": 1e3 * float(np.median(t_used)),
                "max_rel_diff": max(rel),
                "samples": f"{samples}/{n_assign}",
            }
        )
    return rows


def _positive(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _args(p) -> None:
    p.add_argument("--samples", type=_positive, default=20, help="channel samples per case (flow; assignment too)")
    p.add_argument(
        "--slow-samples", type=_positive, default=2, help="samples of the assignment at 300 GHz (about 30 s each)"
    )
    p.add_argument("--seed", type=int, default=0)


def _run(args) -> None:
    print("exact optimum, batch 1: median ms per sample, min-cost flow vs slot assignment (samples: flow/assignment)")
    _print(bench_flow(args.samples, args.slow_samples, args.seed), {"max_rel_diff": ".1e"})


COMMANDS = {"flow": ("min-cost-flow optimum vs slot assignment: time and objective", _args, _run)}
