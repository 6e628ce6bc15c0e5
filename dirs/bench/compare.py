"""``compare``: DIRS against every peer on one trained scenario, in one process."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from dirs.bench.common import _median_time, _print


def bench_compare(
    scenario: str = "xlarge",
    seed: int = 0,
    samples: int = 200,
    repeats: int = 50,
    swarm_samples: int = 3,
    results_dir: str = "results",
    data_dir: str = "data",
    threads: int = 1,
    skip_slow: bool = False,
) -> tuple[list[dict], dict]:
    """Every method on the same fresh channel samples of one trained scenario, in one process.

    NRR vs the exact optimum on ``samples`` fresh samples (``swarm_samples`` for PSO/DE); decision
    time per sample: median over ``repeats`` single fresh samples (batch 1) and one batched call.
    DIRS comes from ``results/models/<scenario>/seed<k>/dirs`` (train it with Snakemake first);
    AC, DDPG, MADDPG are included when their models exist.
    """
    import torch

    from dirs.config import compose
    from dirs.learn import load_policy
    from dirs.solvers.heuristics import greedy, remote
    from dirs.solvers.levy import levy_flight
    from dirs.solvers.oracle import solve_exact
    from dirs.solvers.swarm import differential_evolution_search, pso
    from dirs.system import Scenario, evaluate

    torch.set_num_threads(int(threads))  # 1 (default): batch-1 latency without thread hand-off
    sc = Scenario.load(f"{data_dir}/scenarios/{scenario}/seed{seed}/scenario.json")
    model_dir = Path(results_dir) / "models" / scenario / f"seed{seed}"
    if not (model_dir / "dirs").is_dir():
        raise SystemExit(
            f"no trained DIRS model at {model_dir / 'dirs'}: run "
            f"`snakemake --cores 2 results/evaluations/{scenario}/seed{seed}/policy_dirs.csv` first"
        )
    policy = load_policy(model_dir / "dirs")
    p = sc.params
    rng = np.random.default_rng(12345)
    gains = sc.sample_channels(samples, rng)  # fresh: never seen in training or testing
    singles = [sc.sample_channels(1, rng) for _ in range(repeats)]  # (1, N, M) each
    opt = evaluate(solve_exact(gains, p), gains, p).objective
    methods = {
        "dirs": lambda g: policy.decide(g),
        "dirs+repair": lambda g: policy.decide(g, repair=True),
        "oracle": lambda g: solve_exact(g, p),
        "greedy": lambda g: greedy(g, p),
        "remote": lambda g: remote(g, p),
        "levy (P=5, G=10, from Remote)": lambda g: levy_flight(g, p, rng=rng).decisions,
    }
    se = compose([]).search  # the workflow's PSO budget (conf/search/default.yaml)
    pso_name = f"pso ({se.pso_particles} x {se.pso_budgets[-1]})"
    slow = (
        {}
        if skip_slow
        else {
            pso_name: lambda g: (
                pso(g, p, particles=int(se.pso_particles), iterations=int(se.pso_budgets[-1]), rng=rng).decisions
            ),
            # about the paper's PSO time per decision (1.86 s, Table V); more budget barely helps here
            "pso (100 x 1000)": lambda g: pso(g, p, particles=100, iterations=1000, rng=rng).decisions,
            "de (popsize 2, 50 gen.)": lambda g: differential_evolution_search(g, p, maxiter=50, rng=rng).decisions,
        }
    )
    from dirs.baselines import load_baseline

    for algo in ("ac", "ddpg", "maddpg"):
        if (model_dir / algo / "meta.json").is_file():
            pol = load_baseline(model_dir / algo)
            methods[algo] = pol.decide
    anysize_dir = Path(results_dir) / "models" / "anysize"
    if (anysize_dir / "policy.json").is_file():  # the one any-size model (stage train_anysize)
        anysize = load_policy(anysize_dir).with_params(p)
        methods["anysize"] = anysize.decide
    rows = []
    for name, fn in {**methods, **slow}.items():
        k = swarm_samples if name in slow else samples
        g = gains[:k]
        t0 = time.perf_counter()
        a = fn(g)
        batched = (time.perf_counter() - t0) / k
        nrr = opt[:k] / evaluate(a, g, p).objective
        b1 = _median_time(lambda x: fn(x), singles[: (swarm_samples if name in slow else repeats)])
        e1 = _median_time(lambda x: evaluate(fn(x), x, p), singles[:5]) if name.startswith("dirs") else float("nan")
        rows.append(
            {
                "method": name,
                "nrr_mean": float(nrr.mean()),
                "nrr_min": float(nrr.min()),
                "batch1_ms": 1e3 * b1,
                "decide+evaluate_ms": 1e3 * e1,
                "batched_ms": 1e3 * batched,
            }
        )
    by = {r["method"]: r["batch1_ms"] for r in rows}
    ratios = (
        {}
        if skip_slow
        else {
            "PSO / DIRS": by[pso_name] / by["dirs"],
            "PSO at the paper's time scale (100 x 1000) / DIRS": by["pso (100 x 1000)"] / by["dirs"],
        }
    )
    ratios |= {
        "oracle / DIRS": by["oracle"] / by["dirs"],
        "Greedy / DIRS": by["greedy"] / by["dirs"],
    }
    if "anysize" in by:
        ratios |= {"oracle / any-size": by["oracle"] / by["anysize"], "Greedy / any-size": by["greedy"] / by["anysize"]}
    return rows, ratios


def _args(c) -> None:
    c.add_argument("--scenario", default="xlarge")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--samples", type=int, default=200)
    c.add_argument("--repeats", type=int, default=50)
    c.add_argument("--swarm-samples", type=int, default=3)
    c.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of the DIRS/DRL forward passes (1 = the workflow's setting; "
        "2+ pays off for large N·M, e.g. the scale study's N = 2000, M = 50)",
    )
    c.add_argument("--skip-slow", action="store_true", help="leave out PSO and DE (minutes per sample at large N·M)")


def _run(args) -> None:
    rows, ratios = bench_compare(
        args.scenario,
        args.seed,
        args.samples,
        args.repeats,
        args.swarm_samples,
        threads=args.threads,
        skip_slow=args.skip_slow,
    )
    print(
        f"{args.scenario} seed {args.seed}: NRR vs the exact optimum on fresh samples; batch-1 decision "
        f"time = median over fresh single samples (torch {args.threads} thread(s))"
    )
    _print(
        rows,
        {"nrr_mean": ".5f", "nrr_min": ".5f", "batch1_ms": ".3f", "decide+evaluate_ms": ".3f", "batched_ms": ".3f"},
    )
    print("\ndecision-time ratios (batch 1, same run): " + ", ".join(f"{k} = {v:.3g}x" for k, v in ratios.items()))


COMMANDS = {"compare": ("DIRS against every peer on one trained scenario, one process", _args, _run)}
