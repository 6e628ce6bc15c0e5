"""Re-verify the certificates stored in ``results/evaluations/<instance>/seed<k>/optimum.npz``.

``solve_optimum`` (:mod:`dirs.stages.evaluate`) writes, per test sample of
``data/scenarios/<instance>/seed<k>/``, the reference ``decisions``, their ``objective`` and a proven
``lower_bound``.  For every stored sample checked here (all, or ``max_samples`` evenly spaced) the
sample is priced with :mod:`dirs.verify.independent` (per-slot task arrays applied, docs/design.md
§9) and

* a **feasible cost** is found without the solver: the stored decision priced independently, then
  polished by single-IoTD moves and pair exchanges, and, up to ``milp_max_n`` IoTDs (default 250:
  every paper size), the independent MILP (reduced-cost fixing from its own relaxation bound;
  ``milp_time_limit_s`` per sample; its incumbent counts even when it stops early).  A stored ``lower_bound`` above that cost (by more than
  1e-9 relative) is an **invalid certificate**;
* an **independent lower bound** is the MILP's (when it runs) or the continuous relaxation's
  (:func:`dirs.verify.independent.relaxation_bound`, always valid, often loose): where the MILP proves
  its bound, a stored objective above it · (1 + the stored gap) is a **decision excess**;
* the stored objective is compared with the independent price of the stored decision
  (**pricing disagreement** above 1e-9 relative).

``python -m dirs.verify certificates [--results results] [--data data] [--max-samples K]`` runs it over
a results tree and reports per instance; no ``results/`` directory is not an error.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dirs.verify import independent

#: Relative tolerance of the bound and pricing checks.
TOL = 1e-9


@dataclass
class SampleCheck:
    """One stored sample, re-verified."""

    sample: int
    n: int
    m: int
    stored_objective: float
    stored_lower_bound: float
    own_cost: float
    """the stored decision priced independently."""
    best_feasible: float
    ind_lower_bound: float
    ind_method: str
    """``milp`` (proven or not) or ``relaxation``."""
    ind_proven: bool
    seconds: float
    bound_above_feasible: bool = False
    decision_excess: bool = False
    pricing_disagreement: bool = False
    better_decision: np.ndarray | None = field(default=None, repr=False)

    @property
    def bound_excess_rel(self) -> float:
        """(stored lower bound − best feasible cost) / best feasible cost (> 0: invalid)."""
        return (self.stored_lower_bound - self.best_feasible) / abs(self.best_feasible)

    @property
    def failed(self) -> bool:
        return self.bound_above_feasible or self.decision_excess or self.pricing_disagreement

    def describe(self) -> str:
        flags = [k for k in ("bound_above_feasible", "decision_excess", "pricing_disagreement") if getattr(self, k)]
        return (
            f"sample {self.sample}: stored objective {self.stored_objective:.12g}, lower bound "
            f"{self.stored_lower_bound:.12g}; independent feasible {self.best_feasible:.12g}, bound "
            f"{self.ind_lower_bound:.12g} ({self.ind_method}{'' if self.ind_proven else ', unproven'}); "
            f"bound excess {self.bound_excess_rel:.2e} [{', '.join(flags) or 'ok'}]"
        )


@dataclass
class InstanceReport:
    """Every checked sample of one ``optimum.npz``."""

    instance: str
    seed: int
    optimum: Path
    samples_total: int = 0
    checks: list[SampleCheck] = field(default_factory=list)
    note: str = ""
    """stale provenance, missing inputs, … (empty when all is well)."""
    error: str = ""

    @property
    def failures(self) -> list[SampleCheck]:
        return [c for c in self.checks if c.failed]

    @property
    def invalid(self) -> int:
        return sum(c.bound_above_feasible for c in self.checks)


def find_optima(results: str | Path) -> list[tuple[str, int, Path]]:
    """``(instance, seed, path)`` of every ``<results>/evaluations/<instance>/seed<k>/optimum.npz``."""
    out = []
    for path in sorted(Path(results).glob("evaluations/*/seed*/optimum.npz")):
        seed_dir = path.parent
        try:
            seed = int(seed_dir.name[4:])
        except ValueError:
            continue
        out.append((seed_dir.parent.name, seed, path))
    return out


def pick_samples(total: int, max_samples: int | None) -> np.ndarray:
    """All sample indices, or ``max_samples`` of them evenly spaced (first and last included)."""
    if not max_samples or max_samples >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, int(max_samples)).round().astype(np.int64))


def check_sample(
    gains: np.ndarray,
    params,
    sample: int | None,
    decision: np.ndarray,
    objective: float,
    lower_bound: float,
    *,
    milp_time_limit_s: float = 10.0,
    milp_max_n: int = 250,
) -> SampleCheck:
    """Re-verify one stored sample (module docstring); ``sample`` picks per-slot task rows."""
    t0 = time.perf_counter()
    prob = independent.price(gains, params, sample)
    decision = np.asarray(decision, dtype=np.int64)
    own = float(prob.objective(decision))
    best_a, best = independent.improve(prob, decision)
    if own < best:
        best_a, best = decision, own
    lb, method, proven = -math.inf, "relaxation", False
    own_gap = math.inf
    if prob.n <= milp_max_n and milp_time_limit_s > 0:
        sol = independent.solve_milp(prob, start=best_a, time_limit_s=milp_time_limit_s, fix=True, gap=1e-9)
        if sol.objective < best:
            best_a, best = sol.decision, sol.objective
        lb, method, proven = sol.lower_bound, "milp", sol.proven
        own_gap = max(0.0, sol.objective - sol.lower_bound)
    if not proven:
        rb = independent.relaxation_bound(prob)
        if rb > lb:
            lb, method = rb, "relaxation"
    chk = SampleCheck(
        sample=-1 if sample is None else int(sample),
        n=prob.n,
        m=prob.m,
        stored_objective=float(objective),
        stored_lower_bound=float(lower_bound),
        own_cost=own,
        best_feasible=float(best),
        ind_lower_bound=float(lb),
        ind_method=method,
        ind_proven=proven,
        seconds=time.perf_counter() - t0,
    )
    chk.bound_above_feasible = bool(lower_bound > best + TOL * abs(best))
    gap = (objective - lower_bound) / abs(objective)
    chk.decision_excess = bool(proven and objective > lb * (1 + gap) + TOL * abs(objective) + own_gap)
    chk.pricing_disagreement = bool(abs(objective - own) > TOL * abs(own))
    if chk.failed:
        chk.better_decision = np.asarray(best_a, dtype=np.int64)
    return chk


def verify_optimum(
    instance: str,
    seed: int,
    optimum: str | Path,
    data: str | Path,
    *,
    max_samples: int | None = None,
    milp_time_limit_s: float = 10.0,
    milp_max_n: int = 250,
    progress=None,
) -> InstanceReport:
    """Re-verify one ``optimum.npz`` against ``<data>/scenarios/<instance>/seed<seed>/``."""
    from dirs import io

    optimum = Path(optimum)
    rep = InstanceReport(instance, int(seed), optimum)
    base = Path(data) / "scenarios" / instance / f"seed{seed}"
    scenario, channels = base / "scenario.json", base / "channels.npz"
    if not (scenario.is_file() and channels.is_file()):
        rep.error = f"missing {scenario} or {channels}: the instance's data is not in {data}"
        return rep
    try:
        sc, gains = io.load_split(channels, "test", io.load_scenario(scenario))
        with np.load(optimum) as z:  # read raw: an invalid file is what we look for, not a reason to stop
            stored = {k: np.asarray(z[k]) for k in ("decisions", "objective", "lower_bound") if k in z.files}
    except Exception as exc:  # noqa: BLE001 - reported per instance
        rep.error = f"{type(exc).__name__}: {exc}"
        return rep
    if "lower_bound" not in stored or "decisions" not in stored or "objective" not in stored:
        rep.error = f"{optimum}: no decisions/objective/lower_bound arrays"
        return rep
    t_ = len(gains)
    if stored["decisions"].shape != gains.shape[:2] or stored["lower_bound"].shape != (t_,):
        rep.error = (
            f"{optimum}: decisions {stored['decisions'].shape} / lower_bound {stored['lower_bound'].shape} "
            f"do not match the test split {gains.shape[:2]}"
        )
        return rep
    try:
        io.check_provenance(io.read_npz_provenance(optimum), optimum, scenario=scenario, channels=channels)
    except Exception as exc:  # noqa: BLE001 - a stale file is still checked, and said so
        rep.note = f"provenance: {exc}"
    rep.samples_total = t_
    params = sc.params
    per_slot = params.num_samples is not None
    for t in pick_samples(t_, max_samples):
        rep.checks.append(
            check_sample(
                gains[t],
                params,
                int(t) if per_slot else None,
                stored["decisions"][t],
                float(stored["objective"][t]),
                float(stored["lower_bound"][t]),
                milp_time_limit_s=milp_time_limit_s,
                milp_max_n=milp_max_n,
            )
        )
        rep.checks[-1].sample = int(t)
        if progress is not None:
            progress()
    return rep


def save_failures(path: str | Path, reports: list[InstanceReport], data: str | Path) -> Path | None:
    """Failing samples in the layout of ``shared/cases/`` (one case per sample); None if none."""
    import json
    from dataclasses import fields as dc_fields

    from dirs import io
    from dirs.system.params import SystemParams

    names = [f.name for f in dc_fields(SystemParams)]
    arrays: dict[str, np.ndarray] = {}
    k = 0
    for rep in reports:
        if not rep.failures:
            continue
        base = Path(data) / "scenarios" / rep.instance / f"seed{rep.seed}"
        sc, gains = io.load_split(base / "channels.npz", "test", io.load_scenario(base / "scenario.json"))
        for chk in rep.failures:
            params = sc.params.sample(chk.sample) if sc.params.num_samples is not None else sc.params
            arrays[f"case{k}_gains"] = gains[chk.sample]
            arrays[f"case{k}_better_decision"] = chk.better_decision
            for name in names:
                arrays[f"case{k}_{name}"] = np.asarray(getattr(params, name), dtype=np.float64)
            info = {"instance": rep.instance, "seed": rep.seed, "sample": chk.sample, "check": chk.describe()}
            arrays[f"case{k}_info"] = np.asarray(json.dumps(info))
            k += 1
    if not arrays:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def verify_tree(results: str | Path, data: str | Path, *, instances=None, **options) -> list[InstanceReport]:
    """:func:`verify_optimum` of every stored optimum under ``results`` (``instances``: names to keep)."""
    found = find_optima(results)
    if instances:
        found = [f for f in found if f[0] in set(instances)]
    return [verify_optimum(name, seed, path, data, **options) for name, seed, path in found]


__all__ = [
    "InstanceReport",
    "SampleCheck",
    "check_sample",
    "find_optima",
    "pick_samples",
    "save_failures",
    "verify_optimum",
    "verify_tree",
]
