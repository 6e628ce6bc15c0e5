"""Seeded random instances and the cross-check of the reference's certificates (issue [certify]).

:func:`make_instance` draws one single-sample instance of a *class* (:data:`CLASSES`): broad and
wide (log-uniform) task, server and weight ranges, and degenerate classes — duplicated IoTDs (exact
ties), duplicated servers and equal costs, near-ties between local and offloading, a server nobody
should use, all-local and all-offload optima, identical tasks, only D and C heterogeneous, identical
F or φ; and per-slot instances (2–3 samples with ``(T, N)`` task fields, solved as one batch like the
``solve_optimum`` stage does; tasks heterogeneous, or identical within each slot only).  Gains follow docs/design.md §1: h = β0 · l / max(d², 1 m²), l ~ Exp(1), positions uniform
in the area.  Instance ``(seed, index)`` is reproducible on its own (its generator is
``default_rng([seed, index])``).

:func:`check_instance` runs :func:`dirs.solvers.reference.reference_optimum` and the independent
reference (:mod:`dirs.verify.independent`: brute force for small instances, its own HiGHS model
otherwise) and returns a :class:`Record` with the flags

* ``bound_above_feasible`` — the certified lower bound exceeds the cost of a feasible decision (the
  independent one or the certified decision itself, priced independently) by more than
  :data:`BOUND_TOL` relative: an invalid certificate;
* ``bound_above_own_decision`` — the same against the certified decision alone;
* ``decision_excess`` — the certified objective exceeds the independent lower bound · (1 + the
  certified gap) by more than :data:`BOUND_TOL` relative plus the independent bound's own safety
  margin;
* ``pricing_disagreement`` — :func:`dirs.system.evaluate` and the independent pricing of the same
  decision differ by more than :data:`PRICE_TOL` relative (the certified decision, the independent one,
  and the certified ``objective`` as reported).

:func:`save_cases` writes failing instances in the layout of ``shared/cases/`` (``case<k>_gains``,
``case<k>_better_decision``, one array per ``SystemParams`` field, plus ``case<k>_info``, a JSON string).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from dirs.system.params import SystemParams
from dirs.verify import independent

#: Instance classes, in the order a run cycles through them.
CLASSES = (
    "broad",
    "wide",
    "paper",
    "dup-iotds",
    "dup-servers",
    "equal-costs",
    "near-tie",
    "useless-server",
    "all-local",
    "all-offload",
    "identical",
    "dc-only",
    "same-f",
    "same-phi",
    "per-slot",
    "per-slot-identical",
)
#: Relative tolerance of the bound checks (the two pricings agree to ~1e-15).
BOUND_TOL = 1e-9
#: Relative tolerance of the pricing agreement.
PRICE_TOL = 1e-9
_AREA_M = 50.0
_KB = 8000.0  # bits per kB (1 kB = 1000 bytes)
FIELDS = tuple(f.name for f in fields(SystemParams))


@dataclass(frozen=True)
class Instance:
    """One instance: a single channel sample, or a per-slot batch of 2–3 samples."""

    cls: str
    seed: int
    index: int
    gains: np.ndarray
    """(N, M) channel gains, or (T, N, M) for a per-slot instance (task fields (T, N))."""
    params: SystemParams

    @property
    def n(self) -> int:
        return int(self.gains.shape[-2])

    @property
    def m(self) -> int:
        return int(self.gains.shape[-1])

    @property
    def samples(self) -> int:
        return 1 if self.gains.ndim == 2 else int(self.gains.shape[0])

    def sample_gains(self, t: int) -> np.ndarray:
        """(N, M) gains of sample ``t``."""
        return self.gains if self.gains.ndim == 2 else self.gains[t]

    def sample_params(self, t: int) -> SystemParams:
        """The params of sample ``t``: per-sample ``(T, N)`` fields cut to their row ``t``."""
        if self.gains.ndim == 2:
            return self.params
        rows = {}
        for f in fields(SystemParams):
            v = getattr(self.params, f.name)
            if isinstance(v, np.ndarray) and v.ndim == 2:
                rows[f.name] = v[t]
        return self.params.replace(**rows)


# ------------------------------------------------------------------------------------ generator
def _loguniform(rng, low, high, size=None):
    return np.exp(rng.uniform(math.log(low), math.log(high), size))


def _gains(rng, n, m, beta0=1e-3, area=_AREA_M, far=(), samples=None):
    """(N, M) gains (or (T, N, M) with ``samples``: fixed positions, fading redrawn per sample)."""
    users = rng.uniform(0.0, area, size=(n, 2))
    servers = rng.uniform(0.0, area, size=(m, 2))
    for j in far:  # far outside the area
        servers[j] = area * (20.0 + 10.0 * rng.random(2))
    d2 = np.maximum(((users[:, None, :] - servers[None, :, :]) ** 2).sum(-1), 1.0)
    shape = (n, m) if samples is None else (samples, n, m)
    fading = np.maximum(rng.exponential(1.0, size=shape), np.finfo(np.float64).tiny)
    return beta0 * fading / d2


def _size(rng, min_n, max_n, max_m, small_fraction, cap):
    m = int(rng.integers(1, max_m + 1))
    if rng.random() < small_fraction:  # small enough for brute force
        top = 1
        while top < max_n and (m + 1) ** (top + 1) <= cap:
            top += 1
        n = int(rng.integers(1, top + 1))
    else:
        n = int(rng.integers(min(min_n, max_n), max_n + 1))
    return n, m


def _broad(rng, n, m):
    return dict(
        data_bits=rng.uniform(50, 1000, n) * _KB,
        cpu_cycles=rng.uniform(0.2e9, 2e9, n),
        local_cpu_hz=rng.uniform(0.5e9, 1.5e9, n),
        mec_cpu_hz=rng.uniform(8e9, 20e9, m),
        phi_t=float(rng.uniform(0.5, 1.5)),
        phi_e=float(rng.uniform(0.5, 1.5)),
    )


def _wide(rng, n, m):
    return dict(
        data_bits=_loguniform(rng, 10 * _KB, 10_000 * _KB, n),
        cpu_cycles=_loguniform(rng, 2e7, 2e10, n),
        local_cpu_hz=_loguniform(rng, 2e8, 5e9, n),
        bandwidth_hz=_loguniform(rng, 1e5, 1e7, n),
        max_power_w=rng.uniform(0.05, 3.0, n),
        kappa=_loguniform(rng, 1e-28, 1e-26, n),
        mec_cpu_hz=_loguniform(rng, 1e9, 1e11, m),
        phi_t=float(_loguniform(rng, 0.05, 20.0)),
        phi_e=0.0 if rng.random() < 0.15 else float(_loguniform(rng, 0.01, 20.0)),
    )


def _near_tie(rng, fields_, gains):
    """Rescale D of about half the IoTDs so that offloading to one server, at some load, costs exactly
    what running locally costs (transmission cost is linear in D)."""
    params = SystemParams(**fields_)
    prob = independent.price(gains, params)
    n, m = gains.shape
    d = np.array(np.broadcast_to(fields_["data_bits"], (n,)), dtype=np.float64)
    for i in np.flatnonzero(rng.random(n) < 0.5):
        j = int(rng.integers(m))
        others = np.delete(prob.root, i)
        load = float(others[rng.random(n - 1) < rng.random()].sum()) if n > 1 else 0.0
        target = prob.local[i] - prob.weight[j] * ((load + prob.root[i]) ** 2 - load**2)
        if target > 0 and np.isfinite(prob.tx[i, j]) and prob.tx[i, j] > 0:
            d[i] = d[i] * target / prob.tx[i, j]
    fields_["data_bits"] = d
    return fields_


def _dup_iotds(rng, f, gains, n, m):
    """Exact copies of some IoTDs (gains row and every field): exact ties."""
    if n > 1:
        src = rng.integers(0, n, size=n)
        src = np.where(rng.random(n) < 0.5, src, np.arange(n))
        gains = gains[src]
        for k in ("data_bits", "cpu_cycles", "local_cpu_hz"):
            f[k] = f[k][src]
    return f, gains


def _dup_servers(rng, f, gains, n, m):
    """Exact copies of some servers (gains column and capacity)."""
    if m > 1:
        src = np.where(rng.random(m) < 0.5, rng.integers(0, m, size=m), np.arange(m))
        gains = gains[:, src]
        f["mec_cpu_hz"] = f["mec_cpu_hz"][src]
    return f, gains


def _equal_costs(rng, f, gains, n, m):
    """Every server the same to every IoTD; groups of equal tasks."""
    gains = np.repeat(gains[:, :1], m, axis=1)
    f["mec_cpu_hz"] = np.full(m, f["mec_cpu_hz"][0])
    groups = rng.integers(0, max(1, n // 3), size=n)
    for k in ("data_bits", "cpu_cycles", "local_cpu_hz"):
        f[k] = f[k][groups]
    return f, gains[groups]


def _all_local(rng, f, gains, n, m):
    f["data_bits"] = f["data_bits"] * 10.0
    return f, gains * 1e-4


def _all_offload(rng, f, gains, n, m):
    f["local_cpu_hz"] = rng.uniform(0.05e9, 0.15e9, n)
    f["mec_cpu_hz"] = rng.uniform(60e9, 120e9, m)
    return f, gains * 10.0


def _identical(rng, f, gains, n, m):
    f["cpu_cycles"] = float(f["cpu_cycles"][0]) if rng.random() < 0.5 else 1e9
    return f, gains


def _same_f(rng, f, gains, n, m):
    f["mec_cpu_hz"] = float(f["mec_cpu_hz"][0])
    return f, gains


def _same_phi(rng, f, gains, n, m):
    f["phi_t"] = f["phi_e"] = 1.0
    return f, gains


#: What each degenerate class does to the fields and gains drawn for it (after the gains).
_AFTER_GAINS = {
    "dup-iotds": _dup_iotds,
    "dup-servers": _dup_servers,
    "equal-costs": _equal_costs,
    "all-local": _all_local,
    "all-offload": _all_offload,
    "identical": _identical,
    "same-f": _same_f,
    "same-phi": _same_phi,
    "near-tie": lambda rng, f, gains, n, m: (_near_tie(rng, f, gains), gains),
}


def _fields(rng, cls: str, n: int, m: int) -> tuple[dict, float]:
    """The raw fields of a class (before its degenerate transform) and the side of the area."""
    if cls == "wide":
        f = _wide(rng, n, m)
        return f, float(_loguniform(rng, 10.0, 500.0))
    if cls in ("paper", "dc-only"):
        f = dict(
            data_bits=rng.uniform(50, 1000, n) * _KB,
            cpu_cycles=rng.uniform(0.2e9, 2e9, n),
            mec_cpu_hz=float(rng.choice([10e9, 15e9])),
        )
        if cls == "paper":
            f["phi_t"], f["phi_e"] = [(1.0, 1.0), (1.5, 0.5), (0.5, 1.5)][int(rng.integers(3))]
        return f, _AREA_M
    return _broad(rng, n, m), _AREA_M


def _per_slot(rng, cls: str, f: dict, n: int, m: int):
    """Tasks redrawn every slot (docs/design.md §9): (T, N) task fields and (T, N, M) gains."""
    t_ = int(rng.integers(2, 4))
    f["data_bits"] = rng.uniform(50, 1000, (t_, n)) * _KB
    if cls == "per-slot":
        f["cpu_cycles"] = rng.uniform(0.2e9, 2e9, (t_, n))
    else:  # identical within each slot, different across slots
        f["cpu_cycles"] = np.repeat(rng.uniform(0.2e9, 2e9, (t_, 1)), n, axis=1)
    return f, _gains(rng, n, m, samples=t_)


def make_instance(
    seed: int,
    index: int,
    cls: str | None = None,
    *,
    max_n: int = 40,
    max_m: int = 6,
    min_n: int = 1,
    small_fraction: float = 0.3,
    brute_force_cap: int = independent.BRUTE_FORCE_CAP,
) -> Instance:
    """Instance ``index`` of run ``seed`` (class ``cls``, default: :data:`CLASSES` in turn).

    M is uniform on 1..``max_m``; N is, with probability ``small_fraction``, uniform on the sizes whose
    (M+1)^N ≤ ``brute_force_cap``, else uniform on ``min_n``..``max_n``.
    """
    rng = np.random.default_rng([int(seed), int(index)])
    cls = CLASSES[index % len(CLASSES)] if cls is None else cls
    if cls not in CLASSES:
        raise ValueError(f"unknown instance class {cls!r}; known: {', '.join(CLASSES)}")
    n, m = _size(rng, min_n, max_n, max_m, small_fraction, brute_force_cap)
    f, area = _fields(rng, cls, n, m)
    if cls.startswith("per-slot"):  # solved as one batch, like the solve_optimum stage
        f, gains = _per_slot(rng, cls, f, n, m)
        return Instance(cls, int(seed), int(index), gains, SystemParams(**f))
    far: tuple[int, ...] = ()
    if cls == "useless-server":  # a tiny capacity, or far outside the area
        j = int(rng.integers(m))
        if rng.random() < 0.5:
            f["mec_cpu_hz"][j] = _loguniform(rng, 1e6, 1e8)
        else:
            far = (j,)
    gains = _gains(rng, n, m, area=area, far=far)
    if cls in _AFTER_GAINS:
        f, gains = _AFTER_GAINS[cls](rng, f, gains, n, m)
    return Instance(cls, int(seed), int(index), gains, SystemParams(**f))


# ------------------------------------------------------------------------------------ the check
@dataclass
class Record:
    """The cross-check of one instance (every float relative to nothing unless named ``rel``)."""

    cls: str
    seed: int
    index: int
    n: int
    m: int
    sample: int = -1
    """the sample of a per-slot instance this record describes (-1: a single-sample instance)."""
    samples: int = 1
    cert_objective: float = math.nan
    cert_lower_bound: float = math.nan
    cert_gap: float = math.nan
    cert_ms: float = math.nan
    ind_objective: float = math.nan
    ind_lower_bound: float = math.nan
    ind_margin: float = 0.0
    ind_method: str = ""
    ind_proven: bool = False
    ind_ms: float = math.nan
    ind_cost_of_cert: float = math.nan
    """the certified decision priced independently."""
    best_feasible: float = math.nan
    bound_excess_rel: float = math.nan
    """(certified lower bound − best feasible cost) / best feasible cost (> 0 is invalid)."""
    decision_excess_rel: float = math.nan
    """(certified objective − independent bound · (1 + certified gap)) / certified objective."""
    pricing_rel: float = math.nan
    """largest relative difference between evaluate() / the reported objective and own pricing."""
    bound_above_feasible: bool = False
    bound_above_own_decision: bool = False
    decision_excess: bool = False
    pricing_disagreement: bool = False
    error: str = ""
    cert_decision: np.ndarray | None = field(default=None, repr=False)
    better_decision: np.ndarray | None = field(default=None, repr=False)

    @property
    def invalid(self) -> bool:
        """An invalid certificate: a lower bound above a feasible cost."""
        return self.bound_above_feasible or self.bound_above_own_decision

    @property
    def failed(self) -> bool:
        return self.invalid or self.decision_excess or self.pricing_disagreement or bool(self.error)

    def summary(self) -> str:
        flags = [
            k
            for k in ("bound_above_feasible", "bound_above_own_decision", "decision_excess", "pricing_disagreement")
            if getattr(self, k)
        ] + ([f"error: {self.error}"] if self.error else [])
        return (
            f"{self.cls} seed={self.seed} index={self.index}"
            + (f" sample={self.sample}/{self.samples}" if self.sample >= 0 else "")
            + f" N={self.n} M={self.m}: "
            f"certified obj={self.cert_objective:.12g} lb={self.cert_lower_bound:.12g} gap={self.cert_gap:.2e}; "
            f"independent ({self.ind_method}) obj={self.ind_objective:.12g} lb={self.ind_lower_bound:.12g}; "
            f"bound excess {self.bound_excess_rel:.2e}, decision excess {self.decision_excess_rel:.2e}, "
            f"pricing {self.pricing_rel:.1e} [{', '.join(flags) or 'ok'}]"
        )

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if not isinstance(v, np.ndarray) and v is not None}
        d["invalid"] = self.invalid
        return d


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def check_instance(
    inst: Instance,
    *,
    rel_gap: float = 1e-6,
    time_limit_s: float = 60.0,
    brute_force_cap: int = independent.BRUTE_FORCE_CAP,
    milp_time_limit_s: float = 60.0,
) -> Record:
    """Cross-check :func:`reference_optimum` on ``inst`` against the independent reference.

    A per-slot instance (gains ``(T, N, M)``, task fields ``(T, N)``) is solved in one call, as the
    ``solve_optimum`` stage does, and every sample is checked; the record is that of the worst sample
    (a failing one first, then the largest bound excess), with ``sample`` naming it.
    """
    from dirs.solvers.reference import reference_optimum

    rec = Record(inst.cls, inst.seed, inst.index, inst.n, inst.m)
    t0 = time.perf_counter()
    try:
        with independent._quiet_stdout():
            ref = reference_optimum(inst.gains, inst.params, rel_gap=rel_gap, time_limit_s=time_limit_s)
    except Exception as exc:  # noqa: BLE001 - recorded, counted, reported
        rec.error = f"{type(exc).__name__}: {exc}"
        return rec
    cert_ms = (time.perf_counter() - t0) * 1e3 / inst.samples
    worst = None
    for t in range(inst.samples):
        r = Record(inst.cls, inst.seed, inst.index, inst.n, inst.m, sample=t if inst.gains.ndim == 3 else -1)
        r.samples = inst.samples
        r.cert_ms = cert_ms
        _compare(r, inst, t, ref, brute_force_cap, milp_time_limit_s)
        if worst is None or (r.failed, r.bound_excess_rel) > (worst.failed, worst.bound_excess_rel):
            worst = r
    return worst


def _compare(rec: Record, inst: Instance, t: int, ref, brute_force_cap: int, milp_time_limit_s: float) -> None:
    """Fill ``rec`` with the checks of sample ``t`` of ``inst`` against ``ref`` (module docstring)."""
    from dirs.system import evaluate

    gains, params = inst.sample_gains(t), inst.sample_params(t)
    prob = independent.price(gains, params)
    cert_a = np.asarray(ref.decisions[t], dtype=np.int64)
    rec.cert_decision = cert_a
    rec.cert_objective = float(ref.objective[t])
    rec.cert_lower_bound = float(ref.lower_bound[t])
    rec.cert_gap = float(ref.gap[t])

    t0 = time.perf_counter()
    sol = independent.solve(
        prob, brute_force_cap=brute_force_cap, start=cert_a, time_limit_s=milp_time_limit_s, gap=1e-9
    )
    rec.ind_ms = (time.perf_counter() - t0) * 1e3
    rec.ind_objective, rec.ind_lower_bound = sol.objective, sol.lower_bound
    rec.ind_margin = 0.0 if not np.isfinite(sol.raw_bound) else max(0.0, sol.raw_bound - sol.lower_bound)
    rec.ind_method, rec.ind_proven = sol.method, sol.proven

    own_cert = float(prob.objective(cert_a))
    rec.ind_cost_of_cert = own_cert
    if own_cert < sol.objective:
        better, best = cert_a, own_cert
    else:
        better, best = sol.decision, sol.objective
    rec.better_decision = np.asarray(better, dtype=np.int64)
    rec.best_feasible = best
    lb = rec.cert_lower_bound
    rec.bound_excess_rel = (lb - best) / abs(best)
    rec.bound_above_feasible = bool(lb > best + BOUND_TOL * abs(best))
    rec.bound_above_own_decision = bool(lb > own_cert + BOUND_TOL * abs(own_cert))
    # Only a proven independent bound can convict a decision: its own remaining gap (HiGHS's gap and
    # the safety margin, ~1e-8) is added to the tolerance.
    own_gap = max(0.0, sol.objective - sol.lower_bound)
    limit = sol.lower_bound * (1 + rec.cert_gap) + BOUND_TOL * abs(rec.cert_objective) + own_gap
    rec.decision_excess_rel = (rec.cert_objective - sol.lower_bound * (1 + rec.cert_gap)) / abs(rec.cert_objective)
    rec.decision_excess = bool(sol.proven and rec.cert_objective > limit)

    decisions = np.stack([cert_a, np.asarray(sol.decision, dtype=np.int64)])
    if inst.gains.ndim == 3:  # the per-slot path of evaluate: the whole batch, this sample's rows
        every = np.repeat(np.asarray(ref.decisions)[None], 2, axis=0)
        every[:, t] = decisions
        evals = np.array([evaluate(every[k], inst.gains, inst.params).objective[t] for k in range(2)])
    else:
        evals = evaluate(decisions, np.broadcast_to(gains, (2,) + gains.shape), params).objective
    own = prob.objective(decisions)
    rec.pricing_rel = max(
        _rel(float(evals[0]), own[0]), _rel(float(evals[1]), own[1]), _rel(rec.cert_objective, own[0])
    )
    rec.pricing_disagreement = bool(rec.pricing_rel > PRICE_TOL)


def run_one(args: tuple) -> Record:
    """``check_instance(make_instance(seed, index, **make), **check)`` — a picklable unit of work."""
    seed, index, make, check = args
    return check_instance(make_instance(seed, index, **make), **check)


# ------------------------------------------------------------------------------------ save
def save_cases(path: str | Path, cases: list[tuple[Instance, Record]]) -> Path:
    """Write ``cases`` in the key layout of ``shared/cases/certified_bound_counterexamples.npz``."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    for k, (inst, rec) in enumerate(cases):
        key = f"case{k}"
        t = max(rec.sample, 0)
        params = inst.sample_params(t)
        arrays[f"{key}_gains"] = np.asarray(inst.sample_gains(t))
        better = rec.better_decision if rec.better_decision is not None else np.zeros(inst.n, dtype=np.int64)
        arrays[f"{key}_better_decision"] = np.asarray(better, dtype=np.int64)
        if rec.cert_decision is not None:
            arrays[f"{key}_certified_decision"] = np.asarray(rec.cert_decision, dtype=np.int64)
        for name in FIELDS:
            arrays[f"{key}_{name}"] = np.asarray(getattr(params, name), dtype=np.float64)
        arrays[f"{key}_info"] = np.asarray(json.dumps(rec.to_dict(), default=float))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def load_cases(path: str | Path) -> list[tuple[np.ndarray, np.ndarray, SystemParams, dict]]:
    """``(gains, better_decision, params, info)`` of every case in ``path``."""
    z = np.load(path)
    keys = sorted({k.split("_", 1)[0] for k in z.files if k.startswith("case")}, key=lambda s: int(s[4:]))
    out = []
    for key in keys:
        params = {
            f: (float(z[f"{key}_{f}"]) if z[f"{key}_{f}"].ndim == 0 else np.asarray(z[f"{key}_{f}"]))
            for f in FIELDS
            if f"{key}_{f}" in z.files
        }
        info = json.loads(str(z[f"{key}_info"])) if f"{key}_info" in z.files else {}
        out.append((z[f"{key}_gains"], z[f"{key}_better_decision"], SystemParams(**params), info))
    return out


__all__ = [
    "BOUND_TOL",
    "CLASSES",
    "Instance",
    "PRICE_TOL",
    "Record",
    "check_instance",
    "load_cases",
    "make_instance",
    "run_one",
    "save_cases",
]
