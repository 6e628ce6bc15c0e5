"""``certify-fuzz``: the reference's certificates cross-checked on random instances at scale.

Every instance (:func:`dirs.verify.fuzz.make_instance`, classes in :data:`dirs.verify.fuzz.CLASSES`)
is solved by :func:`dirs.solvers.reference.reference_optimum` and by the independent reference
(:mod:`dirs.verify.independent`: brute force where (M+1)^N is small, its own HiGHS model otherwise);
the counts by class are printed and the failing instances are written to an ``.npz`` in the layout of
``shared/cases/`` (so they can become regression cases).  Exit status 1 if any certificate is invalid
(a lower bound above a feasible cost).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np


def _args(p) -> None:
    from dirs.verify.fuzz import CLASSES

    p.add_argument("--instances", type=int, default=1000, help="number of instances (default 1000)")
    p.add_argument("--max-n", type=int, default=40, help="largest N (default 40)")
    p.add_argument("--max-m", type=int, default=6, help="largest M (default 6)")
    p.add_argument("--seed", type=int, default=0, help="run seed; instance k is default_rng([seed, k])")
    p.add_argument("--start", type=int, default=0, help="first instance index (default 0)")
    p.add_argument("--rel-gap", type=float, default=1e-6, help="gap asked of reference_optimum (default 1e-6)")
    p.add_argument("--time-limit", type=float, default=60.0, help="reference_optimum's limit per instance (s)")
    p.add_argument("--milp-time-limit", type=float, default=60.0, help="independent MILP's limit per instance (s)")
    p.add_argument("--small-fraction", type=float, default=0.3, help="share of brute-force-sized instances")
    p.add_argument("--classes", default="", help=f"comma-separated subset of: {', '.join(CLASSES)}")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument(
        "--out",
        default=str(Path(tempfile.gettempdir()) / "certify_fuzz_failures.npz"),
        help="where the failing instances go (default: <tmp>/certify_fuzz_failures.npz)",
    )
    p.add_argument("--records", default="", help="optional JSON-lines file of every record")


def _jobs(args):
    from dirs.verify.fuzz import CLASSES

    classes = [c.strip() for c in args.classes.split(",") if c.strip()] or list(CLASSES)
    unknown = sorted(set(classes) - set(CLASSES))
    if unknown:
        raise SystemExit(f"error: --classes: unknown class(es) {unknown}; known: {', '.join(CLASSES)}")
    make = dict(max_n=args.max_n, max_m=args.max_m, small_fraction=args.small_fraction)
    check = dict(rel_gap=args.rel_gap, time_limit_s=args.time_limit, milp_time_limit_s=args.milp_time_limit)
    for k in range(args.start, args.start + args.instances):
        yield (args.seed, k, {**make, "cls": classes[k % len(classes)]}, check)


def table(records) -> list[dict]:
    """Counts by instance class (and a total row)."""
    by = defaultdict(list)
    for r in records:
        by[r.cls].append(r)
    rows = []
    for cls, rs in sorted(by.items()) + [("TOTAL", list(records))]:
        ok = [r for r in rs if not r.error]
        rows.append(
            {
                "class": cls,
                "instances": len(rs),
                "invalid_cert": sum(r.invalid for r in rs),
                "decision_excess": sum(r.decision_excess for r in rs),
                "pricing": sum(r.pricing_disagreement for r in rs),
                "errors": sum(bool(r.error) for r in rs),
                "brute_force": sum(r.ind_method == "brute-force" for r in ok),
                "unproven_ind": sum(not r.ind_proven for r in ok),
                "max_bound_excess": max((r.bound_excess_rel for r in ok), default=float("nan")),
                "max_decision_excess": max((r.decision_excess_rel for r in ok), default=float("nan")),
                "max_pricing": max((r.pricing_rel for r in ok), default=float("nan")),
                "cert_ms_med": float(np.median([r.cert_ms for r in ok])) if ok else float("nan"),
                "cert_ms_max": max((r.cert_ms for r in ok), default=float("nan")),
                "ind_ms_med": float(np.median([r.ind_ms for r in ok])) if ok else float("nan"),
                "ind_ms_max": max((r.ind_ms for r in ok), default=float("nan")),
            }
        )
    return rows


def _run(args) -> int:
    import pandas as pd
    from tqdm import tqdm

    from dirs.verify.fuzz import make_instance, run_one, save_cases

    jobs = list(_jobs(args))
    t0 = time.perf_counter()
    records = []
    sink = open(args.records, "w") if args.records else None  # noqa: SIM115 - closed below
    bar = tqdm(total=len(jobs), desc="certify-fuzz", unit="inst", file=sys.stderr)
    try:
        if args.workers > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(args.workers) as pool:
                results = pool.imap_unordered(run_one, jobs, chunksize=1)
                for rec in results:
                    records.append(rec)
                    _progress(bar, rec, records, sink)
        else:
            for job in jobs:
                rec = run_one(job)
                records.append(rec)
                _progress(bar, rec, records, sink)
    finally:
        bar.close()
        if sink:
            sink.close()
    wall = time.perf_counter() - t0
    records.sort(key=lambda r: r.index)
    print(
        f"certify-fuzz: seed {args.seed}, instances {args.start}..{args.start + len(jobs) - 1}, "
        f"max N {args.max_n}, max M {args.max_m}, rel_gap {args.rel_gap:g}, {args.workers} worker(s), {wall:.1f} s"
    )
    formats = {c: "{:.2e}".format for c in ("max_bound_excess", "max_decision_excess", "max_pricing")}
    formats.update({c: "{:.1f}".format for c in ("cert_ms_med", "cert_ms_max", "ind_ms_med", "ind_ms_max")})
    print(pd.DataFrame(table(records)).to_string(index=False, formatters=formats))
    failing = [r for r in records if r.failed]
    for r in failing:
        print("FAIL", r.summary())
    if failing:
        by_key = {(a[0], a[1]): a for a in jobs}
        cases = []
        for r in failing:
            seed, k, make, _ = by_key[(r.seed, r.index)]
            cases.append((make_instance(seed, k, **make), r))
        path = save_cases(args.out, cases)
        print(f"{len(failing)} failing instance(s) written to {path} (reproduce: make_instance(seed, index, cls=...))")
    invalid = sum(r.invalid for r in records)
    print(f"invalid certificates: {invalid} of {len(records)}")
    return 1 if invalid else 0


def _progress(bar, rec, records, sink) -> None:
    bar.update(1)
    bar.set_postfix(invalid=sum(r.invalid for r in records), failed=sum(r.failed for r in records), refresh=False)
    if rec.failed:
        bar.write("FAIL " + rec.summary())
    if sink:
        sink.write(json.dumps(rec.to_dict(), default=float) + "\n")
        sink.flush()


COMMANDS = {
    "certify-fuzz": ("cross-check the reference's certificates on random instances (issue [certify])", _args, _run)
}
