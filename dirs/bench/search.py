"""``search``: Lévy flight, PSO, DE and heuristics on one scenario: NRR vs the exact optimum and time."""

from __future__ import annotations

import sys
import time

import numpy as np

from dirs.bench.common import SCENARIOS, _print


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


def _args(q) -> None:
    q.add_argument("--scenario", default="large", choices=SCENARIOS)
    q.add_argument("--samples", type=int, default=50, help="channel samples for the fast methods")
    q.add_argument("--swarm-samples", type=int, default=5, help="channel samples for PSO")
    q.add_argument("--de-samples", type=int, default=3, help="channel samples for DE (one SciPy run each)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. search.de_recombination=0.1")


def _run(args) -> None:
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


COMMANDS = {
    "search": ("Lévy flight, PSO, DE and heuristics: NRR vs the exact optimum and time", _args, _run),
}
