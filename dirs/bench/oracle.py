"""``oracle``: the exact oracle's median time per sample (medium / large / xlarge) and ``evaluate``'s."""

from __future__ import annotations

import time

import numpy as np

from dirs.bench.common import SCENARIOS, _print, _scenario


def bench_oracle(samples: int = 100, batch: int = 500, repeats: int = 7) -> list[dict]:
    from dirs.solvers.heuristics import greedy
    from dirs.solvers.oracle import solve_exact
    from dirs.system import evaluate

    rows = []
    for name in SCENARIOS:
        sc = _scenario(name)
        rng = np.random.default_rng(2024)
        gains = sc.sample_channels(samples, rng)
        solve_exact(gains[0], sc.params)  # warm-up
        t_oracle = []
        for t in range(samples):
            t0 = time.perf_counter()
            solve_exact(gains[t], sc.params)
            t_oracle.append(time.perf_counter() - t0)
        t_greedy = []
        for t in range(min(samples, 30)):
            t0 = time.perf_counter()
            greedy(gains[t], sc.params)
            t_greedy.append(time.perf_counter() - t0)
        t_eval = []
        for _ in range(repeats):
            g = sc.sample_channels(batch, rng)
            a = rng.integers(0, sc.num_servers + 1, size=(batch, sc.num_iotds))
            t0 = time.perf_counter()
            evaluate(a, g, sc.params)
            t_eval.append((time.perf_counter() - t0) / batch)
        rows.append(
            {
                "scenario": f"{name} ({sc.num_servers}x{sc.num_iotds})",
                "oracle_ms": 1e3 * float(np.median(t_oracle)),
                "oracle_p90_ms": 1e3 * float(np.quantile(t_oracle, 0.9)),
                "greedy_ms": 1e3 * float(np.median(t_greedy)),
                "evaluate_us": 1e6 * float(np.median(t_eval)),
            }
        )
    return rows


def _args(p) -> None:
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--batch", type=int, default=500)


def _run(args) -> None:
    print("exact oracle: median ms per sample (batch 1); evaluate: µs per sample in a batch of", args.batch)
    _print(bench_oracle(args.samples, args.batch))


COMMANDS = {"oracle": ("exact oracle and evaluate() timings", _args, _run)}
