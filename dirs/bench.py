"""Benchmarks that print figures (no assertions): ``python -m dirs.bench <what> [options]``.

``search``: for one scenario (``--scenario``), NRR vs the exact optimum and time per sample of the
Lévy flight (proposed with the online and the demonstration settings, from Remote and from Greedy;
classic), PSO and DE (textbook and seeded, at each configured budget), Random, Remote and Greedy.

``oracle``: for medium / large / xlarge, the exact oracle's median time per sample (one sample per
call, fresh channel samples) and ``evaluate``'s time per sample in a batch (median of repeats,
fresh random decisions each repeat), plus Greedy's for scale.

``ceiling``: how far the paper's agents and vote can go at all on one scenario: the agents (paper
layer sizes, or ``--hidden``) imitate the *exact optimum* on many fresh samples (far beyond the
paper's budget), and NRR vs the optimum on held-out samples is printed during training for the
paper's vote (threshold 0.5) and for lower thresholds, with the number of IoTDs voted local.

``certified``: for medium / large / xlarge-sized heterogeneous instances (per-slot tasks), the
certified optimum's proven gap, solve time per sample, nodes and core size, and Greedy / Remote NRR
against it; ``--milp`` adds the tangent-cut HiGHS MILP's time on the same samples.

``layout``: DIRS's batch-1 forward pass with every layer's weights stored ``(M, in, out)`` against
the layout :func:`dirs.learn.agents.inference_layout` picks, per layer and in total, for the
paper's xlarge agents and the scale study's N = 2000, M = 50 agents (random weights, fresh inputs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

SCENARIOS = ("medium", "large", "xlarge")


def _scenario(name: str, seed: int = 0):
    from dirs.config import compose
    from dirs.system.families import paper_scenario

    return paper_scenario(compose([f"scenario={name}", f"seed={seed}"]))


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


def bench_search(
    scenario: str = "large",
    samples: int = 50,
    swarm_samples: int = 5,
    de_samples: int = 3,
    seed: int = 0,
    overrides: tuple[str, ...] = (),
) -> list[dict]:
    """Rows (method, settings, n, nrr mean/min, ms per sample) for the ``search`` subcommand.

    Settings come from the composed config (``conf/search/default.yaml``).  Channel samples are
    fresh (not the pipeline's); vectorised methods are timed on the whole batch (time / sample).
    """
    from dirs.config import compose
    from dirs.solvers.costs import cost_tables
    from dirs.solvers.heuristics import greedy_tables, random_decision, remote
    from dirs.solvers.levy import levy_flight, start_decisions
    from dirs.solvers.oracle import solve_exact_tables
    from dirs.solvers.swarm import differential_evolution_search, pso

    cfg = compose([f"scenario={scenario}", f"seed={seed}", *overrides])
    se = cfg.search
    from dirs.system.families import paper_scenario

    sc = paper_scenario(cfg)
    gains = sc.sample_channels(samples, np.random.default_rng([seed, 0xBE4C]))
    tables = cost_tables(gains, sc.params)
    t0 = time.perf_counter()
    opt = tables.objective(solve_exact_tables(tables))
    t_opt = (time.perf_counter() - t0) / samples
    rows: list[dict] = []

    def row(method, settings, decide, n=samples):
        t0 = time.perf_counter()
        res = decide(n)
        dt = (time.perf_counter() - t0) / n
        obj = res if isinstance(res, np.ndarray) and res.ndim == 1 else tables_n(n).objective(res)
        nrr = opt[:n] / obj
        rows.append(
            {
                "method": method,
                "settings": settings,
                "n": n,
                "nrr_mean": float(nrr.mean()),
                "nrr_min": float(nrr.min()),
                "ms_per_sample": 1e3 * dt,
            }
        )
        print(f"  {method:<22} {settings:<34} NRR {nrr.mean():.5f}  {1e3 * dt:10.3f} ms", file=sys.stderr, flush=True)

    def tables_n(n):
        if n == samples:
            return tables
        from dirs.solvers.costs import CostTables

        return CostTables(
            tx=tables.tx[:n], local=tables.local, sqrt_f=tables.sqrt_f, mec_cpu_hz=tables.mec_cpu_hz, phi_t=tables.phi_t
        )

    rows.append(
        {
            "method": "exact optimum",
            "settings": "assignment",
            "n": samples,
            "nrr_mean": 1.0,
            "nrr_min": 1.0,
            "ms_per_sample": 1e3 * t_opt,
        }
    )
    rng = np.random.default_rng([seed, 1])
    row("random", "uniform + capacity rule", lambda n: random_decision(gains[:n], sc.params, rng))
    row("remote", "strongest gain + capacity", lambda n: remote(gains[:n], sc.params))
    row("greedy", "marginal cost", lambda n: greedy_tables(tables_n(n)))

    def levy(settings, start, variant="proposed"):
        def run(n):
            st = start_decisions(start, gains[:n], sc.params, tables_n(n), rng)
            return levy_flight(
                gains[:n],
                sc.params,
                st,
                population=settings.population,
                iterations=settings.iterations,
                beta=settings.beta,
                th=settings.th,
                variant=variant,
                rng=np.random.default_rng([seed, 2]),
                tables=tables_n(n),
            ).objective

        return run

    def desc(s):
        return f"P={s.population} G={s.iterations} b={s.beta} th={s.th}"

    on, demo = se.online, se.demo
    row("levy proposed", f"online {desc(on)}, remote", levy(on, "remote"))
    row("levy proposed", f"online {desc(on)}, greedy", levy(on, "greedy"))
    row("levy classic", f"online {desc(on)}, remote", levy(on, "remote", "classic"))
    row("levy classic", f"online {desc(on)}, random", levy(on, "random", "classic"))
    row("levy proposed", f"online {desc(on)}, random", levy(on, "random"))
    default_start = str(getattr(se.start, "value", se.start))
    for start in dict.fromkeys([default_start, "remote", "best"]):
        tag = " (default demos)" if start == default_start else ""
        row("levy proposed" + tag, f"demo {desc(demo)}, {start}", levy(demo, start))
    for seeded in (False, True):
        kind = "seeded" if seeded else "textbook"
        for b in se.pso_budgets:
            row(
                f"pso {kind}",
                f"{se.pso_particles} particles, {b} iters",
                lambda n, b=b, seeded=seeded: (
                    pso(
                        gains[:n],
                        sc.params,
                        particles=se.pso_particles,
                        iterations=b,
                        seeded=seeded,
                        rng=seed,
                        tables=tables_n(n),
                    ).objective
                ),
                n=min(swarm_samples, samples),
            )
        for b in se.de_budgets:
            row(
                f"de {kind}",
                f"popsize {se.de_popsize}, CR {se.de_recombination}, {b} gens",
                lambda n, b=b, seeded=seeded: (
                    differential_evolution_search(
                        gains[:n],
                        sc.params,
                        popsize=se.de_popsize,
                        maxiter=b,
                        seeded=seeded,
                        rng=seed,
                        tables=tables_n(n),
                        recombination=se.de_recombination,
                        mutation=tuple(se.de_mutation),
                    ).objective
                ),
                n=min(de_samples, samples),
            )
    return rows


def _median_time(fn, inputs) -> float:
    """Median seconds of ``fn(x)`` over ``inputs`` (a fresh input each repetition)."""
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


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


#: Heterogeneous per-slot tasks of the ``certified`` benchmark (docs/design.md §9): cycles ~ U[0.2, 2]·1e9,
#: data ~ U[50, 1000] kB (1 kB = 8000 bits).
HETERO_TASKS = {
    "cpu_cycles": {"dist": "uniform", "low": 0.2e9, "high": 2e9},
    "data_bits": {"dist": "uniform", "low": 50 * 8e3, "high": 1000 * 8e3},
}
#: Proven relative gap asked for per size (the [hetero] targets).
CERTIFIED_GAPS = {"medium": 1e-6, "large": 1e-6, "xlarge": 1e-4}


def hetero_instance(name: str, samples: int, seed: int = 0):
    """(scenario, gains (T, N, M), params with per-slot (T, N) tasks) of a heterogeneous instance
    sized like the paper's ``name`` scenario (medium: fixed servers (10, 10), (40, 40) at 15 GHz;
    large 180×8 and xlarge 200×10: k-means servers at 10 GHz)."""
    from dirs.system import Scenario, SystemParams
    from dirs.system.tasks import sample_tasks

    sizes = {"medium": (30, 2, 15e9), "large": (180, 8, 10e9), "xlarge": (200, 10, 10e9)}
    n, m, fmax = sizes[name]
    kw = {"server_placement": "fixed", "server_positions": [(10, 10), (40, 40)]} if name == "medium" else {}
    sc = Scenario.generate(n, m, params=SystemParams(mec_cpu_hz=fmax), seed=seed, name=f"hetero-{name}", **kw)
    rng = np.random.default_rng([seed, 0x4E7])
    gains = sc.sample_channels(samples, rng)
    params = sc.params.replace(**sample_tasks(HETERO_TASKS, n, rng, size=samples))
    return sc, gains, params


def bench_certified(
    sizes: tuple[str, ...] = SCENARIOS,
    samples: int = 20,
    seed: int = 0,
    rel_gap: float | None = None,
    time_limit_s: float = 60.0,
    milp: bool = False,
    milp_samples: int = 3,
    milp_time_limit_s: float = 60.0,
) -> list[dict]:
    """Certified optimum (:func:`dirs.solvers.certified.solve_certified`) on heterogeneous per-slot
    instances: proven gap, solve time per sample, nodes, core size, Greedy / Remote NRR against it;
    with ``milp`` the tangent-cut HiGHS MILP on the first ``milp_samples`` samples."""
    from dirs.solvers.certified import solve_certified_tables, solve_tangent_milp
    from dirs.solvers.costs import cost_tables
    from dirs.solvers.heuristics import greedy_tables, remote

    rows = []
    for name in sizes:
        sc, gains, params = hetero_instance(name, samples, seed)
        tables = cost_tables(gains, params)
        gap_target = CERTIFIED_GAPS[name] if rel_gap is None else rel_gap
        sol = solve_certified_tables(tables, rel_gap=gap_target, time_limit_s=time_limit_s)
        t = sol.solve_time_s
        nrr_greedy = sol.objective / tables.objective(greedy_tables(tables))
        nrr_remote = sol.objective / tables.objective(remote(gains, params))
        row = {
            "size": f"{name} ({sc.num_servers}x{sc.num_iotds})",
            "samples": samples,
            "rel_gap": gap_target,
            "proven": int(sol.proven.sum()),
            "gap_max": float(sol.gap.max()),
            "gap_median": float(np.median(sol.gap)),
            "root_gap_median": float(np.median((sol.objective - sol.root_bound) / sol.objective)),
            "time_median_s": float(np.median(t)),
            "time_p90_s": float(np.quantile(t, 0.9)),
            "time_max_s": float(t.max()),
            "nodes_median": float(np.median(sol.nodes)),
            "core_median": float(np.median(sol.free_iotds)),
            "core_max": int(sol.free_iotds.max()),
            "nrr_greedy": float(nrr_greedy.mean()),
            "nrr_greedy_min": float(nrr_greedy.min()),
            "nrr_remote": float(nrr_remote.mean()),
        }
        if milp:
            k = min(milp_samples, samples)
            res = [solve_tangent_milp(tables, i, time_limit_s=milp_time_limit_s) for i in range(k)]
            secs = np.array([r.seconds for r in res])
            row.update(
                {
                    "milp_samples": k,
                    "milp_converged": sum(r.converged for r in res),
                    "milp_time_median_s": float(np.median(secs)),
                    "milp/certified time": float(np.median(secs / t[:k])),
                    "milp_obj/certified_obj_max": float(max(r.objective / o for r, o in zip(res, sol.objective[:k]))),
                }
            )
        rows.append(row)
        print(f"  {name}: done ({samples} samples)", file=sys.stderr, flush=True)
    return rows


def bench_layout(
    shapes: tuple[str, ...] = ("10x200:300,250", "50x2000:64,64"), repeats: int = 200, threads: int = 1
) -> list[dict]:
    """Batch-1 forward time (median over fresh inputs) per layer and in total, in both layouts.

    ``shapes``: ``"MxN:h1,h2"`` (M agents of N inputs and outputs with hidden sizes h1, h2).
    """
    import torch

    from dirs.learn.agents import build_net, inference_layout, stacked_forward

    torch.set_num_threads(int(threads))
    rows = []
    for shape in shapes:
        servers, rest = shape.split("x")
        iotds, hidden = rest.split(":")
        net = build_net(int(iotds), int(servers), [int(h) for h in hidden.split(",")], seed=0)
        plain = [(w.detach().contiguous(), b.detach()) for w, b in zip(net.weights, net.biases)]
        chosen = [(inference_layout(w), b) for w, b in plain]
        rng = torch.Generator().manual_seed(0)
        with torch.inference_mode():
            for k, ((w, b), (wc, _)) in enumerate(zip(plain, chosen)):
                xs = [torch.randn(w.shape[0], 1, w.shape[1], generator=rng) for _ in range(repeats)]
                t_plain = _median_time(lambda x: torch.baddbmm(b, x, w), xs)
                t_chosen = _median_time(lambda x: torch.baddbmm(b, x, wc), xs)
                stored = "(M, out, in)" if wc.stride(-1) != 1 else "(M, in, out)"
                rows.append(
                    {
                        "agents": shape,
                        "layer": f"{k}: {w.shape[1]} -> {w.shape[2]}",
                        "chosen": stored,
                        "ms (M, in, out)": 1e3 * t_plain,
                        "ms chosen": 1e3 * t_chosen,
                        "speed-up": t_plain / t_chosen,
                    }
                )
            xs = [torch.randn(int(servers), 1, int(iotds), generator=rng) for _ in range(repeats)]
            t_plain = _median_time(lambda x: stacked_forward(plain, x), xs)
            t_chosen = _median_time(lambda x: stacked_forward(chosen, x), xs)
            rows.append(
                {
                    "agents": shape,
                    "layer": "forward",
                    "chosen": "per layer",
                    "ms (M, in, out)": 1e3 * t_plain,
                    "ms chosen": 1e3 * t_chosen,
                    "speed-up": t_plain / t_chosen,
                }
            )
    return rows


def bench_ceiling(
    scenario: str = "medium",
    samples: int = 20000,
    steps: int = 8000,
    test: int = 500,
    hidden: tuple[int, ...] | None = None,
    batch: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    thresholds: tuple[float, ...] = (0.5, 0.4, 0.3, 0.2),
    reports: int = 4,
) -> list[dict]:
    """Supervised imitation of the exact optimum (L_D, Adam, uniform minibatches) with ample data.

    Isolates what limits DIRS's NRR: not the demonstrator (labels are exact), not the budget
    (``samples`` and ``steps`` ≫ the paper's), but what agent j can know from its own gains h_j
    and the vote's 0.5 threshold.
    """
    import torch

    from dirs.learn.agents import InputScaler, Policy, build_net, targets
    from dirs.learn.training import bce_per_entry, set_determinism
    from dirs.learn.vote import vote_stacked
    from dirs.solvers.oracle import solve_exact
    from dirs.system import evaluate

    set_determinism(1)
    sc = _scenario(scenario, seed)
    p = sc.params
    rng = np.random.default_rng([seed, 0xCE11])
    gains, test_gains = sc.sample_channels(samples, rng), sc.sample_channels(test, rng)
    decisions, test_opt = solve_exact(gains, p), evaluate(solve_exact(test_gains, p), test_gains, p).objective
    scaler = InputScaler.fit(gains)
    net = build_net(sc.num_iotds, sc.num_servers, list(hidden) if hidden else None, seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    x, y = scaler(gains), targets(decisions, sc.num_servers)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    report_at = {s for s in (25, 100, 500) if s < steps} | {max(1, steps * k // reports) for k in range(1, reports + 1)}
    for step in range(1, steps + 1):
        idx = torch.randint(0, samples, (batch,), generator=gen)
        loss = bce_per_entry(net(x[:, idx]), y[:, idx]).mean(-1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in report_at:
            probs = Policy(net, scaler, p).probabilities(test_gains)  # (M, T, N)
            row = {"step": step, "train_loss": float(loss.detach()) / sc.num_servers}
            for th in thresholds:
                a = vote_stacked(probs, threshold=th)  # the paper's vote at th = 0.5
                row[f"nrr (th {th:g})"] = float((test_opt / evaluate(a, test_gains, p).objective).mean())
                row[f"local/sample (th {th:g})"] = float((a == 0).sum(1).mean())
            rows.append(row)
    return rows


def _print(rows: list[dict], formats: dict | None = None) -> None:
    import pandas as pd

    formats = {k: (lambda v, f=f: format(v, f)) for k, f in (formats or {}).items()}
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}", formatters=formats))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dirs.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("oracle", help="exact oracle and evaluate() timings")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--batch", type=int, default=500)
    q = sub.add_parser("search", help="Lévy flight, PSO, DE and heuristics: NRR vs the exact optimum and time")
    q.add_argument("--scenario", default="large", choices=SCENARIOS)
    q.add_argument("--samples", type=int, default=50, help="channel samples for the fast methods")
    q.add_argument("--swarm-samples", type=int, default=5, help="channel samples for PSO")
    q.add_argument("--de-samples", type=int, default=3, help="channel samples for DE (one SciPy run each)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. search.de_recombination=0.1")
    c = sub.add_parser("compare", help="DIRS against every peer on one trained scenario, one process")
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
    ce = sub.add_parser("ceiling", help="the paper's agents imitating the exact optimum with ample data: NRR ceiling")
    ce.add_argument("--scenario", default="medium", choices=SCENARIOS)
    ce.add_argument("--samples", type=int, default=20000, help="training samples labelled by the exact optimum")
    ce.add_argument("--steps", type=int, default=8000, help="Adam steps (minibatch 256)")
    ce.add_argument("--hidden", type=int, nargs="*", default=None, help="hidden sizes (default: the paper's)")
    ce.add_argument("--seed", type=int, default=0)
    lay = sub.add_parser("layout", help="DIRS forward pass: weight storage (M, in, out) vs the chosen layout")
    lay.add_argument(
        "--shapes",
        nargs="+",
        default=["10x200:300,250", "50x2000:64,64"],
        help="agents as MxN:h1,h2 (default: the paper's xlarge; the scale study's largest)",
    )
    lay.add_argument("--repeats", type=int, default=200)
    lay.add_argument("--threads", type=int, default=1)
    cf = sub.add_parser("certified", help="certified optimum on heterogeneous per-slot tasks: gap, time, nodes, NRR")
    cf.add_argument("--sizes", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    cf.add_argument("--samples", type=int, default=20)
    cf.add_argument("--seed", type=int, default=0)
    cf.add_argument(
        "--rel-gap",
        type=float,
        default=None,
        help="proven relative gap asked for (default: 1e-6 medium/large, 1e-4 xlarge)",
    )
    cf.add_argument("--time-limit", type=float, default=60.0, help="seconds per sample")
    cf.add_argument("--milp", action="store_true", help="also the tangent-cut HiGHS MILP (time ratio)")
    cf.add_argument("--milp-samples", type=int, default=3)
    cf.add_argument("--milp-time-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.what == "certified":
        print(
            "certified optimum, heterogeneous per-slot tasks (cycles U[0.2, 2]e9, data U[50, 1000] kB); "
            "times per sample on a shared machine"
        )
        rows = bench_certified(
            tuple(args.sizes),
            args.samples,
            args.seed,
            args.rel_gap,
            args.time_limit,
            args.milp,
            args.milp_samples,
            args.milp_time_limit,
        )
        import pandas as pd

        print(pd.DataFrame(rows).set_index("size").T.to_string(float_format=lambda v: f"{v:.4g}"))
    if args.what == "ceiling":
        print(
            f"{args.scenario}: agents imitate the exact optimum on {args.samples} samples, {args.steps} steps; "
            "NRR vs the optimum on 500 held-out samples (paper vote: th 0.5)"
        )
        _print(
            bench_ceiling(
                args.scenario, args.samples, args.steps, hidden=tuple(args.hidden or ()) or None, seed=args.seed
            ),
            {"train_loss": ".4f"},
        )
    if args.what == "layout":
        print(f"DIRS batch-1 forward, median over {args.repeats} fresh inputs, torch {args.threads} thread(s)")
        _print(bench_layout(tuple(args.shapes), args.repeats, args.threads), {"speed-up": ".2f"})
    if args.what == "compare":
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
    if args.what == "search":
        print(
            f"search on {args.scenario}: NRR = optimum objective / method objective (mean, min); "
            "ms per sample (batched where the method is vectorised); timings on a shared machine"
        )
        _print(
            bench_search(
                args.scenario, args.samples, args.swarm_samples, args.de_samples, args.seed, tuple(args.overrides)
            ),
            {"nrr_mean": ".5f", "nrr_min": ".5f", "ms_per_sample": ".3f"},
        )
    if args.what == "oracle":
        print("exact oracle: median ms per sample (batch 1); evaluate: µs per sample in a batch of", args.batch)
        _print(bench_oracle(args.samples, args.batch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
