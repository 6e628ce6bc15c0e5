"""Randomized cross-check of the reference's certificates (issue [certify]; dirs/verify/).

Every run draws fresh instances (a new seed each run; ``DIRS_FUZZ_SEED=<seed>`` reproduces one) over
every class of :data:`dirs.verify.fuzz.CLASSES` — broad and wide ranges and the degenerate classes
(duplicated IoTDs and servers, equal costs, near-ties, a useless server, all-local, all-offload,
identical tasks, only D and C heterogeneous, identical F or φ, per-slot task batches) — and checks
:func:`dirs.solvers.reference.reference_optimum` against the independent reference: brute force for
small instances, the independent HiGHS model for N up to 40.  Any lower bound above a feasible cost,
any decision above the optimum by more than the proven gap, or any pricing disagreement fails, and the
message names the seed, the instances and where they were saved.

The independent reference is itself checked here: on the brute-force instances its own MILP must find
the brute-force optimum and keep its (lowered) bound below it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from dirs.verify import independent
from dirs.verify.fuzz import CLASSES, check_instance, make_instance, save_cases

SEED = int(os.environ.get("DIRS_FUZZ_SEED", secrets.randbits(31)))
REL_GAP = 1e-6
#: (instances, make_instance options) of the two parts: brute force (N ≤ 8 mostly; the cap bounds
#: (M+1)^N) and the independent MILP (N 9..40; the symmetric classes, hard for both solvers, to 20).
SMALL = dict(max_n=8, max_m=6, small_fraction=1.0, brute_force_cap=300_000)
LARGE = dict(min_n=9, max_n=40, max_m=6, small_fraction=0.0)
HARD = ("equal-costs", "dup-servers")


def _report(part: str, failures, started: float) -> str:
    path = Path(tempfile.gettempdir()) / f"certify_fuzz_failures_seed{SEED}_{part}.npz"
    save_cases(path, failures)
    lines = [r.summary() for _, r in failures]
    return (
        f"{len(failures)} failing instance(s) ({part}, fuzz seed {SEED}; reproduce with DIRS_FUZZ_SEED={SEED} or "
        f"dirs.verify.fuzz.make_instance({SEED}, index, cls=..., **options)); saved to {path} "
        f"({time.perf_counter() - started:.0f} s):\n" + "\n".join(lines)
    )


def _run(part: str, count: int, options_of) -> None:
    started = time.perf_counter()
    failures = []
    offset = 0 if part == "brute-force" else 1_000_000  # disjoint instance streams per part
    for k in range(count):
        index = offset + k
        cls = CLASSES[k % len(CLASSES)]
        options = options_of(cls)
        inst = make_instance(SEED, index, cls, **options)
        cap = options.get("brute_force_cap", 0)  # 0: the independent MILP on every instance
        rec = check_instance(inst, rel_gap=REL_GAP, time_limit_s=20.0, milp_time_limit_s=20.0, brute_force_cap=cap)
        if part == "brute-force":
            assert rec.ind_method == "brute-force", rec.summary()
        if rec.failed:
            failures.append((inst, rec))
    assert not failures, _report(part, failures, started)


def test_certificates_against_brute_force():
    """Instances small enough for brute force, every class 15 times (240 with 16 classes)."""
    _run("brute-force", 15 * len(CLASSES), lambda cls: dict(SMALL))


def test_certificates_against_the_independent_milp():
    """Instances with 9 ≤ N ≤ 40 (N ≤ 20 for the symmetric classes), every class 8 times (128)."""
    _run("milp", 8 * len(CLASSES), lambda cls: {**LARGE, "max_n": 20 if cls in HARD else 40})


@pytest.mark.parametrize("k", range(6))
def test_the_independent_milp_matches_brute_force(k):
    """The independent reference checks itself: its MILP equals brute force, its bound stays below."""
    rng = np.random.default_rng([SEED, 77, k])
    for j in range(8):
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        inst = make_instance(SEED, 2_000_000 + 8 * k + j, cls, **SMALL)
        prob = independent.price(inst.sample_gains(0), inst.sample_params(0))
        bf = independent.brute_force(prob)
        sol = independent.solve_milp(prob, time_limit_s=30.0)
        msg = f"fuzz seed {SEED}, {cls} index {2_000_000 + 8 * k + j}: brute {bf.objective!r}, milp {sol}"
        assert sol.proven, msg
        assert sol.objective == pytest.approx(bf.objective, rel=1e-12), msg
        assert sol.lower_bound <= bf.objective, msg
        assert sol.lower_bound >= bf.objective * (1 - 1e-7), msg
        fixed = independent.solve_milp(prob, time_limit_s=30.0, fix=True)
        assert fixed.objective == pytest.approx(bf.objective, rel=1e-12) and fixed.lower_bound <= bf.objective, msg
