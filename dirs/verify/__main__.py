"""``python -m dirs.verify certificates [--results results] [--data data] [--max-samples K]``.

Re-verifies the ``lower_bound`` of every stored ``optimum.npz`` independently
(:mod:`dirs.verify.stored`) and reports, per instance, the samples checked and the failures.  Exit
status 1 when a stored certificate is invalid or a check failed, 0 otherwise (also when there is no
results directory: then there is nothing to verify, and it says so), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _certificates(args) -> int:
    from dirs.verify.stored import find_optima, save_failures, verify_optimum

    results, data = Path(args.results), Path(args.data)
    if not (results / "evaluations").is_dir():
        print(f"no results to verify: {results / 'evaluations'} does not exist")
        return 0
    found = find_optima(results)
    if args.instances:
        keep = {s.strip() for s in args.instances.split(",") if s.strip()}
        found = [f for f in found if f[0] in keep]
    if not found:
        print(f"no optimum.npz under {results / 'evaluations'}: nothing to verify")
        return 0
    print(
        f"verifying {len(found)} optimum file(s) under {results} against {data} "
        f"({'all samples' if not args.max_samples else f'at most {args.max_samples} samples each'}; "
        f"independent MILP up to N = {args.milp_max_n}, {args.milp_time_limit:g} s per sample)"
    )
    reports = []
    bad = 0
    for name, seed, path in found:
        t0 = time.perf_counter()
        rep = verify_optimum(
            name,
            seed,
            path,
            data,
            max_samples=args.max_samples,
            milp_time_limit_s=args.milp_time_limit,
            milp_max_n=args.milp_max_n,
        )
        reports.append(rep)
        wall = time.perf_counter() - t0
        if rep.error:
            bad += 1
            print(f"{name} seed{seed}: ERROR {rep.error}")
            continue
        fails = rep.failures
        bad += len(fails)
        proven = sum(c.ind_proven for c in rep.checks)
        worst = max((c.bound_excess_rel for c in rep.checks), default=float("nan"))
        print(
            f"{name} seed{seed}: {len(rep.checks)} of {rep.samples_total} samples checked, "
            f"{len(fails)} failure(s), {rep.invalid} invalid certificate(s); independent bound proven on "
            f"{proven}; max (lower bound − best feasible)/feasible {worst:.2e}; {wall:.1f} s"
            + (f"  [{rep.note}]" if rep.note else "")
        )
        for c in fails:
            print(f"  FAIL {c.describe()}")
    if args.out and any(r.failures for r in reports):
        path = save_failures(args.out, reports, data)
        print(f"failing samples written to {path}")
    print(f"{'FAILED' if bad else 'OK'}: {bad} failure(s) over {sum(len(r.checks) for r in reports)} samples")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dirs.verify", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("certificates", help="re-verify the lower bounds of stored optimum.npz files")
    p.add_argument("--results", default="results", help="results root (default: results)")
    p.add_argument("--data", default="data", help="data root (default: data)")
    p.add_argument("--max-samples", type=int, default=None, help="at most this many samples per file (evenly spaced)")
    p.add_argument("--instances", default="", help="comma-separated instance names (default: all)")
    p.add_argument("--milp-time-limit", type=float, default=10.0, help="independent MILP seconds per sample")
    p.add_argument("--milp-max-n", type=int, default=250, help="largest N given to the independent MILP")
    p.add_argument("--out", default="", help="write failing samples to this .npz (shared/cases layout)")
    args = parser.parse_args(argv)
    return _certificates(args)


if __name__ == "__main__":
    sys.exit(main())
