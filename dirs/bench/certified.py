"""``certified``: the certified optimum on heterogeneous per-slot tasks: gap, time, nodes, NRR."""

from __future__ import annotations

import sys

import numpy as np

from dirs.bench.common import SCENARIOS

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
    from dirs.solvers.certified import solve_certified_tables
    from dirs.solvers.certified.tangent import solve_tangent_milp
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


def _args(cf) -> None:
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


def _run(args) -> None:
    import pandas as pd

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
    print(pd.DataFrame(rows).set_index("size").T.to_string(float_format=lambda v: f"{v:.4g}"))


COMMANDS = {
    "certified": ("certified optimum on heterogeneous per-slot tasks: gap, time, nodes, NRR", _args, _run),
}
