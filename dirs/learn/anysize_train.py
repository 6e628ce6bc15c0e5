"""Training of the any-size scheduler (:mod:`dirs.learn.anysize`) by imitation of the exact optimum.

Data: a mixture of random deployments — sizes (N, M) with N/M log-uniform, IoTD placements
(uniform / gaussian / levy), server placements (k-means, or fixed random coordinates), task sizes
(D, F per scenario, the paper's Table IV ranges), weights (φT, φE) ∈ {(1, 1), (1.5, 0.5), (0.5, 1.5)}
and server capacities (equal, or per-server heterogeneous) — each with a few channel samples labelled
by :func:`dirs.solvers.oracle.solve_exact_tables`.  Everything is drawn from ``numpy`` Generators
seeded by the settings' seed, so the data set is a pure function of the settings.

Loss: cross-entropy of the model's logits over {local, 1..M} after every refinement round against
the optimal decisions, plus a slot loss that pulls every used server's price into the interval the
optimal prices lie in, [κ_j (n*_j − ½), κ_j (n*_j + ½)] for the optimum's load n*_j (later rounds weigh
more).  The weights with the best held-out NRR are kept (model selection).  One step = one scenario's minibatch (all its
samples share N and M, so the step is a handful of batched tensor operations).

Checkpoints: every ``checkpoint_every`` steps the network, the optimiser and the step are written
atomically to ``checkpoint_path``; a restarted run with the same settings regenerates the same data,
loads the checkpoint and continues bit-identically (every step's randomness comes from a Generator
seeded by (seed, step), not from a running stream).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dirs.common import atomic_path
from dirs.learn.anysize import AnySizePolicy, Problem, build_net, decide_prices, problem_from_tables, server_loads
from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.oracle import solve_exact_tables
from dirs.system import Scenario, SystemParams
from dirs.system.params import ParameterError

PHI_CHOICES = ((1.0, 1.0), (1.5, 0.5), (0.5, 1.5))


@dataclass
class AnySizeSettings:
    """Every knob of :func:`train_anysize` (defaults: the model in ``results/models/anysize``)."""

    seed: int = 0
    """Seeds the data mixture, the initial weights and every step's minibatch choice."""
    hidden: int = 32
    """Width of the server-update MLP's two hidden layers."""
    rounds: int = 8
    """R: refinement rounds of the price network (training and, by default, decisions)."""
    tau: float = 0.03
    """Logit temperature in units of the mean κ (the loss's sharpness)."""
    init_step: float = 0.7
    """Step fraction toward the best response of the untrained network (output bias)."""
    max_rounds: int = 80
    """Decisions: keep refining after ``rounds`` rounds, up to this many, until they settle (0: exactly
    ``rounds``); stored with the model."""
    patience: int = 4
    """Decisions: stop once they have not changed (or only flipped back to those of the round before)
    for this many consecutive rounds."""
    detach_rounds: bool = True
    """Cut the gradient between rounds (each round learns to improve on the state it is given)."""
    steps: int = 1500
    """Optimiser steps (one scenario's minibatch each)."""
    batch: int = 16
    """Samples per step (all from one scenario); also the samples drawn per training scenario."""
    lr: float = 1e-3
    """Adam learning rate (cosine-decayed to lr/20 over ``steps``)."""
    grad_clip: float = 1.0
    """Global gradient-norm clip."""
    scenarios: int = 400
    """Training scenarios in the mixture (each with ``batch`` labelled channel samples)."""
    val_scenarios: int = 24
    """Held-out scenarios (drawn from the same mixture with another seed) for the logged NRR."""
    num_servers: tuple[int, int] = (2, 20)
    """M range (inclusive), uniform."""
    ratio: tuple[float, float] = (3.0, 40.0)
    """N/M range, log-uniform."""
    num_iotds: tuple[int, int] = (20, 400)
    """N range (inclusive); N = clip(round(M · ratio)) and N ≥ M."""
    placements: tuple[str, ...] = ("uniform", "gaussian", "levy")
    """IoTD placements, uniform choice."""
    fixed_server_prob: float = 0.2
    """Probability of fixed (random uniform) server coordinates instead of k-means."""
    data_bits: tuple[float, float] = (4e5, 8e6)
    """D range (bits), log-uniform (50 kB … 1000 kB)."""
    cpu_cycles: tuple[float, float] = (0.5e9, 2e9)
    """F range (cycles), log-uniform."""
    mec_cpu_hz: tuple[float, float] = (8e9, 16e9)
    """F_j^max range (Hz), log-uniform per scenario."""
    hetero_capacity_prob: float = 0.25
    """Probability that a scenario's servers get individual capacities (each log-uniform in the range)."""
    slot_weight: float = 5.0
    """Weight of the slot loss: Huber distance, in slots, of π_j/κ_j outside [n*_j − ½, n*_j + ½]
    (n*_j = the optimum's load on server j; the optimal prices lie in that interval)."""
    round_weight_power: float = 1.0
    """Round r's loss weight ∝ (r + 1)^power (0: equal weights)."""
    select_best: bool = True
    """Keep the weights with the best held-out NRR seen at the evaluations (model selection)
    instead of the last ones."""
    checkpoint_every: int = 100
    """Steps between checkpoints (when a checkpoint path is given)."""
    eval_every: int = 100
    """Steps between held-out evaluations (logged as ``val_nrr``)."""

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnySizeSettings:
        """Settings from the config's ``anysize`` mapping (only the fields that differ from the
        defaults), every field checked (:meth:`validate`); errors name ``anysize.<field>``."""
        if not isinstance(data, dict):
            raise ParameterError(f"anysize: expected a mapping of settings, got {type(data).__name__} {data!r}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ParameterError(
                f"anysize.{unknown[0]}: unknown any-size setting(s) {unknown}; allowed: {sorted(known)}"
            )
        out = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in data.items()}
        settings = cls(**out)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Every field of its type and inside its range; raises :class:`ParameterError` naming
        ``anysize.<field>`` and what is allowed (so that training never starts on bad settings)."""
        from dirs.learn.anysize import check_hparams

        for name, low in _INT_MIN.items():
            _check_int(name, getattr(self, name), low)
        for name in ("detach_rounds", "select_best"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"anysize.{name}: expected true or false, got {getattr(self, name)!r}")
        for name, (low, high, closed) in _FLOAT_RANGES.items():
            _check_float(name, getattr(self, name), low, high, closed)
        try:
            check_hparams({k: getattr(self, k) for k in HPARAM_FIELDS}, key="anysize")
        except ParameterError as exc:
            raise ParameterError(str(exc)) from None
        _check_mixture(self)


HPARAM_FIELDS = ("hidden", "rounds", "tau", "init_step", "max_rounds", "patience")
#: Integer settings and their smallest allowed value.
_INT_MIN = {
    "seed": 0,
    "hidden": 1,
    "rounds": 1,
    "max_rounds": 0,
    "patience": 0,
    "steps": 1,
    "batch": 1,
    "scenarios": 1,
    "val_scenarios": 1,
    "checkpoint_every": 1,
    "eval_every": 1,
}
#: Number settings: (low, high, closed at low).
_FLOAT_RANGES = {
    "lr": (0.0, 1.0, False),
    "grad_clip": (0.0, math.inf, False),
    "fixed_server_prob": (0.0, 1.0, True),
    "hetero_capacity_prob": (0.0, 1.0, True),
    "slot_weight": (0.0, math.inf, True),
    "round_weight_power": (-math.inf, math.inf, True),
}
PLACEMENTS = ("uniform", "gaussian", "levy")


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(f"anysize.{name}: expected an integer >= {low}, got {value!r}")


def _check_float(name: str, value: Any, low: float, high: float, closed: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low <= value if closed else low < value) and value <= high
    if not ok:
        where = f"{'[' if closed else '('}{low:g}, {high:g}]"
        raise ParameterError(f"anysize.{name}: expected a finite number in {where}, got {value!r}")


def _check_pair(name: str, value: Any, integer: bool, low: float, high: float = math.inf, unit: str = "") -> None:
    """A (lo, hi) range setting: two numbers with low <= lo <= hi <= high."""
    kinds = (int, np.integer) if integer else (int, float)
    ok = isinstance(value, tuple) and len(value) == 2
    ok = ok and all(isinstance(v, kinds) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not (ok and low <= value[0] <= value[1] <= high):
        bound = "" if math.isinf(high) else f" <= {high:g}"
        what = f"{'integers' if integer else 'numbers'}{f' ({unit})' if unit else ''}"
        shown = list(value) if isinstance(value, tuple) else value
        raise ParameterError(
            f"anysize.{name}: expected [lo, hi], {what} with {low:g} <= lo <= hi{bound}, got {shown!r}"
        )


def _check_mixture(s: AnySizeSettings) -> None:
    """The training mixture: sizes with N >= M >= 1, placements, physical task and capacity ranges."""
    from dirs.system.params import PHYSICAL_RANGES

    _check_pair("num_servers", s.num_servers, True, 1)
    _check_pair("num_iotds", s.num_iotds, True, 1)
    _check_pair("ratio", s.ratio, False, 1e-9)
    if s.num_iotds[1] < s.num_servers[1]:
        raise ParameterError(
            f"anysize.num_iotds: the largest N ({s.num_iotds[1]}) must be >= the largest M "
            f"(anysize.num_servers = {list(s.num_servers)}): every training scenario needs N >= M"
        )
    for name in ("data_bits", "cpu_cycles", "mec_cpu_hz"):
        low, high, unit = PHYSICAL_RANGES[name]
        _check_pair(name, getattr(s, name), False, low, high, unit)
    bad = [p for p in s.placements if p not in PLACEMENTS] if isinstance(s.placements, tuple) else [s.placements]
    if bad or not s.placements:
        raise ParameterError(
            f"anysize.placements: expected a non-empty list out of {list(PLACEMENTS)}, got {s.placements!r}"
        )


@dataclass
class Batch:
    """One scenario's labelled samples: normalised problem + optimal decisions + cost tables."""

    problem: Problem
    labels: torch.Tensor
    """(T, N) optimal decisions."""
    tables: CostTables
    gains: np.ndarray
    """(T, N, M) the channel gains."""
    params: SystemParams
    """The scenario's system parameters."""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def opt_loads(self) -> torch.Tensor:
        """(T, M) the optimum's load Σ ŝ_i on every server."""
        return server_loads(self.problem, self.labels)


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=size))


def random_scenario(rng: np.random.Generator, s: AnySizeSettings) -> Scenario:
    """One deployment of the training mixture."""
    m = int(rng.integers(s.num_servers[0], s.num_servers[1] + 1))
    ratio = float(_loguniform(rng, *s.ratio))
    n = int(np.clip(round(m * ratio), max(s.num_iotds[0], m), s.num_iotds[1]))
    phi_t, phi_e = PHI_CHOICES[int(rng.integers(len(PHI_CHOICES)))]
    if rng.random() < s.hetero_capacity_prob:
        fmax: Any = _loguniform(rng, *s.mec_cpu_hz, size=m)
    else:
        fmax = float(_loguniform(rng, *s.mec_cpu_hz))
    params = SystemParams(
        data_bits=float(_loguniform(rng, *s.data_bits)),
        cpu_cycles=float(_loguniform(rng, *s.cpu_cycles)),
        mec_cpu_hz=fmax,
        phi_t=phi_t,
        phi_e=phi_e,
    )
    placement = s.placements[int(rng.integers(len(s.placements)))]
    fixed = rng.random() < s.fixed_server_prob
    positions = rng.uniform(0.0, 50.0, size=(m, 2)).tolist() if fixed else None
    return Scenario.generate(
        n,
        m,
        placement=placement,
        server_placement="fixed" if fixed else "kmeans",
        server_positions=positions,
        params=params,
        seed=int(rng.integers(2**31 - 1)),
    )


def make_batch(sc: Scenario, samples: int, rng: np.random.Generator | int) -> Batch:
    """``samples`` channel samples of ``sc`` with their exact optimum."""
    gains = sc.sample_channels(samples, rng)
    tables = cost_tables(gains, sc.params)
    labels = solve_exact_tables(tables)
    return Batch(
        problem_from_tables(tables),
        torch.from_numpy(labels),
        tables,
        gains,
        sc.params,
        {"N": sc.num_iotds, "M": sc.num_servers, "placement": sc.placement},
    )


def make_dataset(s: AnySizeSettings, count: int, stream: int) -> list[Batch]:
    """``count`` labelled scenarios of the mixture; ``stream`` separates training from held-out data."""
    rng = np.random.default_rng([s.seed, stream])
    return [make_batch(random_scenario(rng, s), s.batch, rng) for _ in range(count)]


def imitation_loss(net, batch: Batch, settings: AnySizeSettings) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Weighted cross-entropy of every round's logits against the optimum; also returns the prices."""
    prices = net(batch.problem, detach=settings.detach_rounds)
    w = np.array([(r + 1.0) ** settings.round_weight_power for r in range(len(prices))])
    w = w / w.sum()
    loss = 0.0
    target = batch.labels.reshape(-1)
    n_opt = batch.opt_loads
    used = (n_opt > 0).to(n_opt.dtype)
    for wr, p in zip(w, prices):
        logits = net.logits(batch.problem, p)
        loss = loss + float(wr) * torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target)
        if settings.slot_weight > 0:
            dev = torch.relu((p / batch.problem.kappa - n_opt).abs() - 0.5)
            hub = torch.where(dev < 1.0, 0.5 * dev * dev, dev - 0.5)
            loss = loss + float(wr) * settings.slot_weight * (used * hub).sum() / used.sum().clamp(min=1)
    return loss, prices


def nrr(net, batches: list[Batch]) -> float:
    """Mean over samples of objective(optimum) / objective(model) on labelled ``batches``."""
    vals = []
    with torch.no_grad():
        for b in batches:
            a = decide_prices(b.problem, net(b.problem)[-1]).numpy()
            vals.append(b.tables.objective(b.labels.numpy()) / b.tables.objective(a))
    return float(np.mean(np.concatenate(vals)))


def _save_checkpoint(
    path: Path, net, opt, sched, step: int, settings: AnySizeSettings, elapsed: float, best: dict[str, Any]
) -> None:
    state = {
        "net": net.state_dict(),
        "opt": opt.state_dict(),
        "sched": sched.state_dict(),
        "step": step,
        "settings": settings.to_dict(),
        "elapsed": elapsed,
        "best": best,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint (our own file); unreadable or incomplete: one error naming it."""
    from dirs.io import InputFileError

    keys = ("net", "opt", "sched", "step", "settings", "elapsed", "best")
    try:
        state = torch.load(path, weights_only=False)  # our own file (optimiser state, settings)
    except Exception as exc:  # noqa: BLE001 — torch raises many types on garbage
        raise InputFileError(path, f"corrupt or unreadable training checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or any(k not in state for k in keys):
        raise InputFileError(path, f"not a training checkpoint (needs {list(keys)})")
    return state


def _resume(ckpt: Path | None, settings: AnySizeSettings, net, opt, sched) -> tuple[int, float, dict[str, Any]]:
    """(first step, seconds already spent, best snapshot) — from ``ckpt`` when it exists (same settings)."""
    fresh = 0, 0.0, {"val_nrr": -1.0, "step": 0, "state": None}
    if ckpt is None or not ckpt.is_file():
        return fresh
    try:
        state = _load_checkpoint(ckpt)
    except ParameterError as exc:  # a checkpoint only saves time: start afresh
        logging.getLogger(__name__).warning("ignoring unreadable checkpoint: %s", exc)
        return fresh
    if state["settings"] != settings.to_dict():
        raise ValueError(f"{ckpt}: checkpoint was written with other settings; remove it or use them")
    net.load_state_dict(state["net"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    return int(state["step"]), float(state["elapsed"]), state["best"]


def train_anysize(
    settings: AnySizeSettings,
    out_dir: str | Path | None,
    *,
    log_metrics: Callable[[int, dict[str, float]], None] | None = None,
    progress: bool = True,
    checkpoint_path: str | Path | None = None,
) -> AnySizePolicy:
    """Train one any-size model on the mixture of ``settings`` and save it to ``out_dir`` (if given).

    ``log_metrics(step, {...})`` receives ``loss`` every step and ``val_nrr`` every ``eval_every``
    steps (e.g. an MLflow logger); ``progress`` shows a tqdm bar; ``checkpoint_path`` enables
    checkpoints every ``checkpoint_every`` steps and resumes from an existing one (same settings).
    """
    settings.validate()  # before anything runs or is written
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    torch.manual_seed(settings.seed)
    net = build_net({k: getattr(settings, k) for k in HPARAM_FIELDS}, settings.seed)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(settings.steps, 1), eta_min=settings.lr / 20)
    ckpt = Path(checkpoint_path) if checkpoint_path is not None else None
    start, elapsed0, best = _resume(ckpt, settings, net, opt, sched)

    t_data = time.perf_counter()
    train = make_dataset(settings, settings.scenarios, stream=1)
    val = make_dataset(settings, settings.val_scenarios, stream=2)
    data_s = time.perf_counter() - t_data

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=settings.steps, initial=start, desc="anysize", unit="step")
    net.train()
    last_loss = float("nan")
    for step in range(start, settings.steps):
        rng = np.random.default_rng([settings.seed, 3, step])
        batch = train[int(rng.integers(len(train)))]
        loss, _ = imitation_loss(net, batch, settings)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), settings.grad_clip)
        opt.step()
        sched.step()
        last_loss = float(loss.detach())
        metrics = {"loss": last_loss}
        done = step + 1
        if done % settings.eval_every == 0 or done == settings.steps:
            net.eval()
            metrics["val_nrr"] = nrr(net, val)
            if metrics["val_nrr"] > best["val_nrr"]:
                best = {
                    "val_nrr": metrics["val_nrr"],
                    "step": done,
                    "state": {k: v.detach().clone() for k, v in net.state_dict().items()},
                }
            net.train()
        if log_metrics is not None:
            log_metrics(done, metrics)
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: f"{v:.5f}" for k, v in metrics.items()})
        if ckpt is not None and (done % settings.checkpoint_every == 0 or done == settings.steps):
            _save_checkpoint(ckpt, net, opt, sched, done, settings, elapsed0 + time.perf_counter() - t_start, best)
    if bar is not None:
        bar.close()
    meta = {"train_s": elapsed0 + time.perf_counter() - t_start, "data_s": data_s, "final_loss": last_loss}
    policy = AnySizePolicy(net, _select(net, val, best, settings, meta))
    _check_trained(policy, out_dir)
    if out_dir is not None:
        policy.save(out_dir)
    return policy


def _select(net, val: list[Batch], best: dict[str, Any], settings: AnySizeSettings, meta: dict) -> dict[str, Any]:
    """Keep the best held-out snapshot (``select_best``) in ``net``; returns the model's meta data."""
    net.eval()
    final_val = nrr(net, val)
    chosen = settings.select_best and best["state"] is not None and best["val_nrr"] > final_val
    if chosen:
        net.load_state_dict(best["state"])
    return {
        "settings": settings.to_dict(),
        **meta,
        "val_nrr": nrr(net, val),
        "final_step_val_nrr": final_val,
        "selected_step": best["step"] if chosen else settings.steps,
        "train_samples": settings.scenarios * settings.batch,
        "torch": torch.__version__,
    }


def _check_trained(policy: AnySizePolicy, out_dir) -> None:
    """Training succeeded: finite weights, loss and held-out NRR; otherwise nothing is written."""
    bad = [k for k, v in policy.net.state_dict().items() if not bool(torch.isfinite(v).all())]
    numbers = {k: policy.meta[k] for k in ("final_loss", "val_nrr")}
    if bad or not all(math.isfinite(v) for v in numbers.values()):
        kept = f"; {out_dir} was not replaced" if out_dir is not None else ""
        raise ParameterError(
            f"anysize: training diverged (non-finite weights {bad[:4]} or metrics {numbers}); lower anysize.lr "
            f"or anysize.grad_clip{kept}"
        )


def main(argv: list[str] | None = None) -> None:
    """``python -m dirs.learn.anysize_train --out DIR [--steps K] [--seed S] [--checkpoint PATH]``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/models/anysize")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="override settings fields, e.g. steps=2000 rounds=8"
    )
    args = ap.parse_args(argv)
    import json

    fields = {f.name: f for f in dataclasses.fields(AnySizeSettings)}
    over: dict[str, Any] = {}
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in fields:
            raise SystemExit(f"unknown setting {k!r}; allowed: {sorted(fields)}")
        over[k] = json.loads(v)
    settings = AnySizeSettings.from_dict({**AnySizeSettings().to_dict(), **over})
    pol = train_anysize(settings, args.out, checkpoint_path=args.checkpoint)
    print(json.dumps({k: v for k, v in pol.meta.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
