"""Evaluation table of the any-size scheduler: NRR vs the exact optimum, and batch-1 decision times.

``python -m dirs.learn.anysize_eval --model results/models/anysize`` generates every scenario itself
(:meth:`dirs.system.Scenario.generate`, fixed seeds), draws fresh test channel samples, solves them
exactly (:func:`dirs.solvers.oracle.solve_exact_tables`) and prints, per scenario, the mean NRR =
objective(optimum) / objective(method) of the model (no repair), Greedy, Remote and Local; then the
median batch-1 decision time of the model, ``solve_exact`` and ``greedy`` (same process, one thread,
cost tables included in every method's time) on xlarge and on the zero-shot 2000 × 50 case.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy, greedy_tables, remote
from dirs.solvers.oracle import solve_exact, solve_exact_tables
from dirs.system import Scenario, SystemParams


@dataclass(frozen=True)
class Case:
    """One evaluation scenario."""

    name: str
    num_iotds: int
    num_servers: int
    samples: int
    placement: str = "uniform"
    server_placement: str = "kmeans"
    server_positions: tuple | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    note: str = ""

    def scenario(self) -> Scenario:
        return Scenario.generate(
            self.num_iotds,
            self.num_servers,
            placement=self.placement,
            server_placement=self.server_placement,
            server_positions=self.server_positions,
            params=SystemParams(**self.params),
            seed=self.seed,
            name=self.name,
        )


def cases(samples: int = 500, scale_samples: int = 50) -> list[Case]:
    """The scenarios of the table (fixed seeds; ``samples`` test samples each, ``scale_samples`` for the
    scale study)."""
    large = {"mec_cpu_hz": 10e9}
    out = [
        Case(
            "medium",
            30,
            2,
            samples,
            server_placement="fixed",
            server_positions=((10, 10), (40, 40)),
            params={"mec_cpu_hz": 15e9},
            seed=101,
        ),
        Case("large", 180, 8, samples, params=large, seed=102),
        Case("xlarge", 200, 10, samples, params=large, seed=103),
        Case("large-gaussian", 180, 8, samples, placement="gaussian", params=large, seed=104),
        Case("large-levy", 180, 8, samples, placement="levy", params=large, seed=105),
        Case("large-D1000kB", 180, 8, samples, params={**large, "data_bits": 8e6}, seed=106),
    ]
    out += [Case(f"M10-N{n}", n, 10, samples, params=large, seed=110 + n) for n in (50, 100, 200, 300)]
    for n in (200, 500, 1000, 2000):
        for m in (10, 20, 50):
            note = "zero-shot" if (n, m) == (2000, 50) else ("outside training N" if n > 400 else "")
            out.append(Case(f"scale-{n}x{m}", n, m, scale_samples, params=large, seed=1000 + n + m, note=note))
    return out


def evaluate_case(case: Case, methods: dict[str, Callable], rng_seed: int = 7) -> dict[str, Any]:
    """Mean NRR (and its minimum) of every method on fresh samples of ``case``."""
    sc = case.scenario()
    gains = sc.sample_channels(case.samples, np.random.default_rng([rng_seed, case.seed]))
    tables = cost_tables(gains, sc.params)
    opt = tables.objective(solve_exact_tables(tables))
    row: dict[str, Any] = {
        "case": case.name,
        "N": case.num_iotds,
        "M": case.num_servers,
        "samples": case.samples,
        "note": case.note,
    }
    for name, fn in methods.items():
        ratio = opt / tables.objective(fn(gains, sc.params, tables))
        row[name] = float(ratio.mean())
        row[name + "_min"] = float(ratio.min())
    return row


def batch1_time(fn: Callable[[np.ndarray], Any], gains: np.ndarray, repeats: int) -> float:
    """Median wall time (ms) of ``fn`` on one ``(N, M)`` sample, over ``repeats`` samples."""
    fn(gains[0])
    times = []
    for k in range(repeats):
        g = gains[k % len(gains)]
        t0 = time.perf_counter()
        fn(g)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def timing_rows(policy, repeats: int = 30) -> list[dict[str, Any]]:
    """Batch-1 decision times (ms) of the model, ``solve_exact`` and ``greedy`` on xlarge and 2000 × 50."""
    rows = []
    for n, m, seed in ((200, 10, 103), (2000, 50, 2050)):
        sc = Scenario.generate(n, m, params=SystemParams(mec_cpu_hz=10e9), seed=seed)
        gains = sc.sample_channels(repeats, np.random.default_rng(seed))
        p = sc.params
        rows.append(
            {
                "case": f"{n}x{m}",
                "anysize_ms": batch1_time(lambda g, p=p: policy.decide(g, p), gains, repeats),
                "exact_ms": batch1_time(lambda g, p=p: solve_exact(g, p), gains, repeats),
                "greedy_ms": batch1_time(lambda g, p=p: greedy(g, p), gains, repeats),
            }
        )
    return rows


def methods_for(policy) -> dict[str, Callable]:
    """name → f(gains, params, tables) for the table's columns."""
    return {
        "anysize": lambda g, p, tb: policy.decide_tables(tb),
        "greedy": lambda g, p, tb: greedy_tables(tb),
        "remote": lambda g, p, tb: remote(g, p),
        "local": lambda g, p, tb: np.zeros(tb.tx.shape[:2], dtype=np.int64),
    }


def format_table(rows: list[dict[str, Any]], times: list[dict[str, Any]]) -> str:
    lines = [
        f"{'case':<18} {'N':>5} {'M':>3} {'T':>4}  {'anysize':>8} {'(min)':>7} {'greedy':>8} "
        f"{'remote':>7} {'local':>7}  note"
    ]
    for r in rows:
        lines.append(
            f"{r['case']:<18} {r['N']:>5} {r['M']:>3} {r['samples']:>4}  {r['anysize']:>8.5f} "
            f"{r['anysize_min']:>7.4f} {r['greedy']:>8.5f} {r['remote']:>7.4f} {r['local']:>7.4f}  {r['note']}"
        )
    lines.append("")
    lines.append(f"{'batch-1 time (ms)':<18} {'anysize':>9} {'exact':>9} {'greedy':>9}")
    for t in times:
        lines.append(f"{t['case']:<18} {t['anysize_ms']:>9.3f} {t['exact_ms']:>9.3f} {t['greedy_ms']:>9.3f}")
    return "\n".join(lines)


def hetero_rows(policy, cases=(("medium", 1e-6, 40), ("large", 1e-6, 12), ("xlarge", 1e-4, 20)), seed: int = 7):
    """The model, Greedy and Remote on heterogeneous per-slot tasks (never in its training mixture)
    against the certified optimum (:func:`dirs.solvers.certified.solve_certified`) on the instances
    of ``python -m dirs.bench certified``: ``(size, proven gap, fresh samples)`` per case."""
    from dirs.bench.certified import hetero_instance
    from dirs.solvers.certified import solve_certified
    from dirs.solvers.heuristics import greedy, remote
    from dirs.system import evaluate

    rows = []
    for size, gap, k in cases:
        _, gains, params = hetero_instance(size, k, seed=seed)
        sol = solve_certified(gains, params, rel_gap=gap, time_limit_s=120)
        row = {
            "case": f"hetero-{size}-perslot",
            "samples": k,
            "gap_max": float(((sol.objective - sol.lower_bound) / sol.objective).max()),
        }
        for name, fn in (
            ("anysize", lambda g, p=params: policy.decide(g, p)),
            ("greedy", lambda g, p=params: greedy(g, p)),
            ("remote", lambda g, p=params: remote(g, p)),
        ):
            nrr = sol.objective / evaluate(fn(gains), gains, params).objective
            row[name], row[f"{name}_min"] = float(nrr.mean()), float(nrr.min())
        rows.append(row)
        print(
            f"{row['case']}: {k} samples, proven gap <= {row['gap_max']:.1e}; any-size {row['anysize']:.5f} "
            f"(min {row['anysize_min']:.4f}), Greedy {row['greedy']:.5f}, Remote {row['remote']:.5f}",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="NRR / time table of the any-size scheduler")
    ap.add_argument("--model", default="results/models/anysize", help="directory of the saved model")
    ap.add_argument("--samples", type=int, default=500, help="test samples per scenario")
    ap.add_argument("--scale-samples", type=int, default=50, help="test samples per scale case")
    ap.add_argument("--rounds", type=int, default=None, help="override the model's refinement rounds")
    ap.add_argument(
        "--max-rounds",
        type=int,
        default=None,
        help="override the adaptive limit of refinement rounds (0: exactly --rounds)",
    )
    ap.add_argument(
        "--patience",
        type=int,
        default=None,
        help="override the rounds without a change of decision that end the refinement",
    )
    ap.add_argument("--only", nargs="*", default=None, help="case names to run (default: all)")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument(
        "--hetero", action="store_true", help="only the heterogeneous per-slot cases, against the certified optimum"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from dirs.learn import load_policy

    policy = load_policy(args.model)
    if args.hetero:
        hetero_rows(policy)
        return
    if args.rounds is not None:
        policy.net.rounds = int(args.rounds)
    if args.max_rounds is not None:
        policy.net.max_rounds = int(args.max_rounds)
    if args.patience is not None:
        policy.net.patience = int(args.patience)
    rows = []
    for case in cases(args.samples, args.scale_samples):
        if args.only and case.name not in args.only:
            continue
        rows.append(evaluate_case(case, methods_for(policy)))
        print(f"{case.name}: anysize {rows[-1]['anysize']:.5f} greedy {rows[-1]['greedy']:.5f}", flush=True)
    times = [] if args.no_timing else timing_rows(policy)
    print(format_table(rows, times))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"rows": rows, "times": times, "model": str(args.model)}, indent=2))


if __name__ == "__main__":
    main()
