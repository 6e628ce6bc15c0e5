"""Stages of the DIRS learner: imitation pre-training, online ensemble training, evaluation,
Table II (imitation accuracy), and the learning figures (Fig. 3, Fig. 5).

Models live in ``results/models/<scenario>/seed<k>/<variant>/`` (variants: ``dirs.variants``):
``pretrained.pt`` (trainer state after Alg. 2) and ``pretrain_loss.csv``; ``policy.pt`` +
``policy.json`` (the trained policy, :func:`dirs.learn.load_policy`) and ``training.csv`` (one row per
ϕ-slot period: reward, average reward, agents' losses, validation NRR).  Online training checkpoints
to ``results/checkpoints/<scenario>/seed<k>/<variant>/online.pt`` every ``dirs.checkpoint_every``
slots and resumes from it (bit-identical) when restarted with the same inputs and config.

The last ``dirs.validation_samples`` training samples are the fixed validation set; online training
runs over the other training samples (one pass, T_DRL = their number).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dirs import io
from dirs.common import atomic_path, write_csv_atomic
from dirs.config import flatten
from dirs.evaluation import COLUMNS, measure
from dirs.learn.agents import InputScaler, Policy, StackedAgents
from dirs.learn.training import Trainer, TrainSettings, accuracy, set_determinism
from dirs.paths import evaluation_file, instance_path, model_dir, optimum_file, scenario_files
from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.reference import SCREENING_REL_GAP, reference_decisions
from dirs.stages import RUNTIME_KEYS, Stage
from dirs.stages.evaluate import load_instance, rows_of
from dirs.system import Scenario, evaluate
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ helpers
def variant_of(cfg, params: dict | None) -> tuple[str, Any]:
    name = str((params or {}).get("variant", ""))
    if name not in cfg.dirs.variants:
        raise ParameterError(f"dirs.variant: unknown variant {name!r}; defined: {sorted(cfg.dirs.variants)}")
    return name, cfg.dirs.variants[name]


def settings(cfg, variant) -> TrainSettings:
    """The run's :class:`TrainSettings`, built from the configuration schema."""
    return TrainSettings.from_config(cfg.dirs, variant, cfg.search.online)


def split_train(cfg, gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(online slots, validation samples) of the training samples."""
    v = int(cfg.dirs.validation_samples)
    if v >= len(gains):
        raise ParameterError(f"dirs.validation_samples: {v} leaves no training sample of {len(gains)}")
    return gains[:-v], gains[-v:]


def validation_set(cfg, sc: Scenario, train: np.ndarray) -> tuple[np.ndarray, CostTables, np.ndarray]:
    """(gains, cost tables, reference objectives) of the fixed validation samples (``sc``: the train
    split's scenario, whose params may hold per-slot task arrays)."""
    val = split_train(cfg, train)[1]
    tables = cost_tables(val, rows_of(sc.params, slice(len(train) - len(val), None)))
    return val, tables, tables.objective(reference_decisions(tables, rel_gap=SCREENING_REL_GAP))


def make_trainer(cfg, variant_name: str, variant, sc: Scenario, train: np.ndarray) -> Trainer:
    set_determinism(cfg.dirs.threads)
    torch.manual_seed(int(cfg.seed))
    meta = {
        "variant": variant_name,
        "scenario": sc.name,
        "seed": int(cfg.seed),
        "imitation": bool(variant.imitation),
        "demonstrator": str(variant.demonstrator),
        "exploration": str(variant.exploration),
    }
    return Trainer(
        settings(cfg, variant),
        InputScaler.fit(split_train(cfg, train)[0]),
        sc.params,
        sc.num_iotds,
        sc.num_servers,
        int(cfg.seed),
        meta,
    )


def load_demos(
    cfg, variant, sc: Scenario, train: np.ndarray, demos: str | Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``dirs.num_demos`` demonstrations: the demos file (Lévy) or the reference optimum."""
    k = int(cfg.dirs.num_demos)
    if str(variant.demonstrator) == "oracle":
        g = split_train(cfg, train)[0][:k]
        return g, reference_decisions(cost_tables(g, rows_of(sc.params, slice(0, len(g)))))
    if demos is None:
        raise ParameterError("demos: the levy demonstrator needs the generate_demos output (demos.npz)")
    g, a = io.load_demos(demos, sc.num_iotds, sc.num_servers)
    if len(g) < k:
        log.warning("demos file %s has %d demonstrations, fewer than dirs.num_demos=%d: using all", demos, len(g), k)
    return g[:k], a[:k]


def _fingerprint(cfg, variant_name: str, *files) -> str:
    runtime = tuple(RUNTIME_KEYS)
    flat = {k: v for k, v in flatten(cfg).items() if not k.startswith(runtime)}
    h = hashlib.sha256(json.dumps(flat, sort_keys=True, default=str).encode())
    h.update(variant_name.encode())
    for f in files:
        if f is not None and Path(f).is_file():
            h.update(Path(f).read_bytes())
    return h.hexdigest()


def require_finite(net, target: Path) -> None:
    """Training succeeded (every weight finite); otherwise nothing is written and ``target`` stays."""
    bad = [k for k, v in net.state_dict().items() if not bool(torch.isfinite(v).all())]
    if bad:
        raise ParameterError(
            f"dirs: training diverged (non-finite weights {bad[:4]}); {target} was not replaced (lower dirs.lr)"
        )


def save_policy_together(pol: Policy, directory: Path) -> None:
    """``policy.pt`` and ``policy.json`` of ``pol`` in ``directory``, written together (both or neither),
    only when every weight is finite."""
    import shutil
    import tempfile

    require_finite(pol.net, directory)
    from dirs.common import remove_leftovers, temp_prefix

    directory.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(directory)
    with tempfile.TemporaryDirectory(prefix=temp_prefix(directory), suffix=".tmp", dir=directory.parent) as tmp:
        pol.save(tmp)
        io.write_together(
            {
                directory / name: (lambda dst, src=Path(tmp) / name: shutil.copyfile(src, dst))
                for name in ("policy.pt", "policy.json")
            }
        )


def _save_state(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_state(path: Path, needs: str = "net") -> dict:
    """A trainer state (``pretrained.pt``, ``last.pt``; an online checkpoint with ``needs="trainer"``):
    our own file, incl. NumPy arrays; unreadable, or without ``needs``: one error naming it."""
    path = io._require_file(path, "trainer state")
    try:
        state = torch.load(path, weights_only=False)
    except Exception as exc:  # noqa: BLE001 — torch's unpickler raises many types (UnpicklingError, EOFError, …)
        first = str(exc).splitlines()[0] if str(exc).strip() else "empty or truncated file"
        raise io.InputFileError(
            path, f"corrupt or unreadable trainer state ({type(exc).__name__}: {first}); rerun the stage that wrote it"
        ) from None
    if not isinstance(state, dict) or not isinstance(state.get(needs), dict):
        raise io.InputFileError(path, f"not a trainer state: expected a dict with the entry {needs!r}")
    return state


def checkpoint_path(cfg, variant_name: str) -> Path:
    return instance_path(cfg, "checkpoint", name=variant_name)


# ------------------------------------------------------------------ stages
def pretrain_agents(cfg, *, scenario, channels, pretrained, losses, demos=None, params=None) -> None:
    """Imitation pre-training (Alg. 2, L1) → trainer state ``pretrained.pt`` and ``pretrain_loss.csv``."""
    name, variant = variant_of(cfg, params)
    demos = demos or None
    if not variant.imitation:
        raise ParameterError(f"dirs.variants.{name}.imitation: variant {name!r} has no imitation pre-training")
    with stage_run("pretrain_agents", cfg, tags={"dirs.variant": name}) as run:
        sc_train, train = load_instance(scenario, channels, "train")
        sc = io.load_scenario(scenario)
        trainer = make_trainer(cfg, name, variant, sc, train)
        g, a = load_demos(cfg, variant, sc_train, train, demos)
        if demos:
            io.check_provenance(io.read_npz_provenance(demos), demos, scenario=scenario, channels=channels)
        t0 = time.perf_counter()
        trainer.pretrain(
            g,
            a,
            loss="L1",
            progress=True,
            validation=validation_set(cfg, sc_train, train),
            on_step=lambda k, losses: run.log_metrics(
                {f"pretrain.loss_agent{j + 1}": float(v) for j, v in enumerate(losses)}, step=k + 1
            ),
        )
        elapsed = time.perf_counter() - t0
        for row in trainer.pretrain_history:
            if "val_nrr" in row:
                run.log_metrics({"pretrain.val_nrr": row["val_nrr"]}, step=int(row["iteration"]))
        acc = accuracy(trainer.net, trainer.scaler, g, a)
        trainer.meta["pretrain_s"] = elapsed
        trainer.meta["provenance"] = io.provenance(
            scenario=scenario, channels=channels, **({"demos": demos} if demos else {})
        )
        trainer.meta["num_demos"] = int(len(g))
        require_finite(trainer.net, Path(pretrained))
        _save_state(Path(pretrained), trainer.state_dict())
        write_csv_atomic(losses, pd.DataFrame(trainer.pretrain_history))
        run.log_metrics({"pretrain_s": elapsed, "train_accuracy": acc})
        run.log_artifact(losses)
        log.info(
            "pre-trained %s on %s seed %d: %d demos, %d steps, %.1f s, train accuracy %.4f",
            name,
            sc.name,
            cfg.seed,
            len(g),
            cfg.dirs.pretrain_steps,
            elapsed,
            acc,
        )


def train_agents(
    cfg, *, scenario, channels, policy, curve, last=None, pretrained=None, params=None, stop_after: int | None = None
) -> None:
    """Online ensemble training (Alg. 1 + 3) → ``policy.pt`` / ``policy.json`` and ``training.csv``.

    The policy is the weights chosen by ``dirs.select`` (``best``: the best validation NRR of all
    pre-training and online validations; ``last``: the final weights); ``last.pt`` holds the final
    weights either way (evaluated as ``<variant>-last``).  Resumes from
    ``results/checkpoints/.../online.pt`` when it matches the inputs and config.
    """
    name, variant = variant_of(cfg, params)
    pretrained = pretrained or None  # Snakemake passes [] for "no such input"
    if variant.imitation and pretrained is None:
        raise ParameterError(f"pretrained: variant {name!r} uses imitation and needs pretrained.pt")
    with stage_run("train_agents", cfg, tags={"dirs.variant": name}) as run:
        sc_train, train = load_instance(scenario, channels, "train")
        sc = io.load_scenario(scenario)  # the agents keep the scenario's own params (per-slot tasks are data)
        slots, val = split_train(cfg, train)
        trainer = make_trainer(cfg, name, variant, sc, train)
        if variant.imitation:
            state = _load_state(Path(pretrained))
            io.check_provenance(
                state.get("meta", {}).get("provenance"), pretrained, scenario=scenario, channels=channels
            )
            trainer.load_state_dict(state)
            trainer.slot = 0
        ckpt = checkpoint_path(cfg, name)
        fp = _fingerprint(cfg, name, scenario, channels, pretrained)
        online_s_before = 0.0
        state = {}
        if ckpt.is_file():
            try:
                state = _load_state(ckpt, needs="trainer")
            except ParameterError as exc:  # a checkpoint only saves time: start afresh
                log.warning("ignoring unreadable checkpoint: %s", exc)
        if state:
            if state.get("fingerprint") == fp:
                trainer.load_state_dict(state["trainer"])
                online_s_before = float(state.get("online_s", 0.0))
                log.info("resuming %s from checkpoint %s at slot %d", name, ckpt, trainer.slot)
            else:
                log.info("ignoring stale checkpoint %s (different inputs or config)", ckpt)
        tables = cost_tables(slots, rows_of(sc_train.params, slice(0, len(slots))))
        validation = validation_set(cfg, sc_train, train)
        t0 = time.perf_counter()

        def save_ckpt(tr: Trainer) -> None:
            _save_state(
                ckpt,
                {"fingerprint": fp, "trainer": tr.state_dict(), "online_s": online_s_before + time.perf_counter() - t0},
            )

        def log_row(row: dict) -> None:
            step = int(row["slot"])
            run.log_metrics({k: v for k, v in row.items() if k != "slot"}, step=step)

        trainer.train_online(
            slots,
            tables,
            validation=validation,
            on_step=log_row,
            checkpoint=save_ckpt,
            checkpoint_every=int(cfg.dirs.checkpoint_every),
            stop_after=stop_after,
            progress=True,
        )
        if stop_after is not None and trainer.slot < len(slots):
            save_ckpt(trainer)
            return
        online_s = online_s_before + time.perf_counter() - t0
        pre_s = float(trainer.meta.get("pretrain_s", 0.0))
        out = Path(policy).parent
        frame = pd.DataFrame(trainer.history)
        times = {"online_s": online_s, "train_s": pre_s + online_s}
        final = dict(times)
        if "val_nrr" in frame:
            final["final_val_nrr"] = float(frame["val_nrr"].dropna().iloc[-1])
        pol = trainer.policy(
            {
                **times,
                "slots": int(len(slots)),
                "steps": int(trainer.step),
                "settings": dict(vars(trainer.s)),
                "val_nrr_last": final.get("final_val_nrr"),
            },
            select=str(cfg.dirs.select),
        )
        pol.meta["provenance"] = io.provenance(
            scenario=scenario, channels=channels, **({"pretrained": pretrained} if pretrained else {})
        )
        save_policy_together(pol, out)
        if last is not None:
            _save_state(
                Path(last),
                {
                    "net": {k: v.detach().clone() for k, v in trainer.net.state_dict().items()},
                    "meta": {"val_nrr": final.get("final_val_nrr"), "slot": trainer.slot},
                },
            )
        write_csv_atomic(curve, frame)
        if "val_nrr_selected" in pol.meta:
            final["selected_val_nrr"] = float(pol.meta["val_nrr_selected"])
        run.log_metrics(final)
        run.set_tag("dirs.selected_at", str(pol.meta.get("selected_at")))
        run.log_artifact(curve)
        ckpt.unlink(missing_ok=True)
        log.info(
            "trained %s on %s seed %d: %d slots, %d steps, %.1f s online (+%.1f s pre-training), val NRR "
            "%s at the end; policy = %s (%s, val NRR %s)",
            name,
            sc.name,
            cfg.seed,
            len(slots),
            trainer.step,
            online_s,
            pre_s,
            final.get("final_val_nrr"),
            pol.meta.get("selected"),
            pol.meta.get("selected_at"),
            pol.meta.get("val_nrr_selected", final.get("final_val_nrr")),
        )


def evaluate_policy(
    cfg, *, scenario, channels, optimum, policy, table, last=None, pretrained=None, params=None
) -> None:
    """The trained policy, with and without repair, on the test samples; also the final weights
    (``<variant>-last``, when the policy is a selected snapshot) and the weights after imitation only."""
    from dirs.learn import load_policy
    from dirs.stages.evaluate import load_reference

    name, _ = variant_of(cfg, params)
    pretrained = pretrained or None
    with stage_run("evaluate_policy", cfg, tags={"dirs.variant": name}) as run:
        torch.set_num_threads(1)  # batch-1 latency: one thread avoids thread start-up costs
        sc, gains = load_instance(scenario, channels)
        opt = load_reference(optimum, scenario, channels, len(gains), sc)["objective"]
        pol = load_policy(Path(policy).parent)
        io.check_provenance(
            pol.meta.get("provenance"), Path(policy).with_suffix(".json"), scenario=scenario, channels=channels
        )
        train_s = float(pol.meta.get("train_s", float("nan")))
        k = int(cfg.evaluation.timing_samples)
        rows = []
        p = sc.params  # the test split's params (per-slot task sizes, where the family has them)
        for label, repair in ((name, False), (f"{name}+repair", True)):
            decide = lambda g, r=repair: pol.decide(g, repair=r, params=p)  # noqa: E731
            single = None
            if p.num_samples is not None:  # per-slot tasks: sample t is repaired with its own tasks
                single = lambda t, r=repair: lambda g: pol.decide(g, repair=r, params=p.sample(t))  # noqa: E731
            extra = {"decide_eval_ms": decide_eval_ms(decide, gains, p, k, single)}
            rows.append(
                measure(label, decide, gains, p, opt, timing_samples=k, train_s=train_s, extra=extra, single=single)
            )

        def weights(path) -> tuple[Policy, dict]:
            state = _load_state(Path(path))
            net = StackedAgents(pol.num_iotds, pol.num_servers, pol.net.sizes[1:-1])
            try:
                net.load_state_dict(state["net"])
            except (RuntimeError, KeyError, TypeError) as exc:
                raise io.InputFileError(
                    path,
                    f"net: the weights do not fit the policy's layers {pol.net.sizes} ({str(exc).splitlines()[0]})",
                ) from None
            return Policy(net, pol.scaler, sc.params), state.get("meta", {})

        if last is not None and pol.meta.get("selected", "last") != "last":
            fin, _ = weights(last)
            rows.append(measure(f"{name}-last", fin.decide, gains, sc.params, opt, timing_samples=k, train_s=train_s))
        if pretrained is not None:
            pre, pre_meta = weights(pretrained)
            rows.append(
                measure(
                    f"{name}-imitation-only",
                    pre.decide,
                    gains,
                    sc.params,
                    opt,
                    timing_samples=k,
                    train_s=float(pre_meta.get("pretrain_s", float("nan"))),
                )
            )
        frame = pd.DataFrame(rows, columns=COLUMNS + ["decide_eval_ms"])
        io.write_csv_with_provenance(table, frame, io.provenance(optimum=optimum, policy=policy))
        for row in rows:  # "dirs+repair.nrr_opt" is logged as "dirs_repair.nrr_opt" (dirs.tracking.metric_name)
            run.log_metrics(
                {f"{row['method']}.nrr_opt": row["nrr_opt"], f"{row['method']}.decision_ms": row["decision_ms"]}
            )
        run.log_artifact(table)
        log.info(
            "\n%s",
            frame[["method", "objective", "nrr_opt", "decision_ms", "decide_eval_ms", "train_s"]].to_string(
                index=False
            ),
        )


def decide_eval_ms(decide, gains: np.ndarray, params, timing_samples: int, single=None) -> float:
    """Median ms of ``decide`` + :func:`dirs.system.evaluate` on single samples (batch 1); ``single(t)``
    is the decide function of sample ``t`` when ``params`` hold per-sample task arrays."""
    times = []
    for t in range(min(int(timing_samples), len(gains))):
        g = gains[t : t + 1]
        one = decide if single is None else single(t)
        p = params if params.num_samples is None else params.sample(t)
        t0 = time.perf_counter()
        evaluate(one(g), g, p)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)) if times else float("nan")


def imitation_table(cfg, *, scenario, channels, demos, table, params=None) -> None:
    """Table II: imitation accuracy (train / held-out) vs demo count × loss {L1, L_D} (T_D steps each).

    Training demonstrations: the first K of the demos file; held-out: ``dirs.table2_holdout`` further
    training samples labelled by the same demonstrator (:func:`dirs.stages.search.demonstrate`).
    """
    from dirs.stages.search import demonstrate

    name, variant = variant_of(cfg, params)
    with stage_run("imitation_table", cfg, tags={"dirs.variant": name}) as run:
        sc_train, train = load_instance(scenario, channels, "train")
        sc = io.load_scenario(scenario)
        g, a = io.load_demos(demos, sc.num_iotds, sc.num_servers)
        io.check_provenance(io.read_npz_provenance(demos), demos, scenario=scenario, channels=channels)
        counts = [int(c) for c in cfg.dirs.table2_demo_counts]
        if max(counts) > len(g):
            raise ParameterError(
                f"dirs.table2_demo_counts: {max(counts)} exceeds the {len(g)} demonstrations of {demos}"
            )
        lo = len(g)
        hold_g = split_train(cfg, train)[0][lo : lo + int(cfg.dirs.table2_holdout)]
        if len(hold_g) == 0:
            raise ParameterError(f"dirs.table2_holdout: no training samples left after the {lo} demonstrations")
        hold_a, _ = demonstrate(cfg, hold_g, rows_of(sc_train.params, slice(lo, lo + len(hold_g))))
        rows = []
        for count in counts:
            for loss in ("L1", "LD"):
                trainer = make_trainer(cfg, name, variant, sc, train)
                t0 = time.perf_counter()
                hist = trainer.pretrain(g[:count], a[:count], loss=loss)
                row = {
                    "demos": count,
                    "loss": loss,
                    "steps": len(hist),
                    "train_accuracy": accuracy(trainer.net, trainer.scaler, g[:count], a[:count]),
                    "test_accuracy": accuracy(trainer.net, trainer.scaler, hold_g, hold_a),
                    "final_loss": float(hist[-1].mean()) if len(hist) else float("nan"),
                    "seconds": time.perf_counter() - t0,
                    "seed": int(cfg.seed),
                }
                rows.append(row)
                run.log_metrics(
                    {
                        f"{loss}.{count}.train_accuracy": row["train_accuracy"],
                        f"{loss}.{count}.test_accuracy": row["test_accuracy"],
                    }
                )
                log.info(
                    "Table II %s demos=%d: train %.4f test %.4f",
                    loss,
                    count,
                    row["train_accuracy"],
                    row["test_accuracy"],
                )
        write_csv_atomic(table, pd.DataFrame(rows))
        run.log_artifact(table)


# ------------------------------------------------------------------ default paths (python -m dirs)
def _model(cfg) -> Path:
    return model_dir(cfg, str(cfg.dirs.variant))


def _pretrain_paths(cfg):
    d = _model(cfg)
    return {
        **scenario_files(cfg),
        "demos": instance_path(cfg, "demos"),
        "pretrained": d / "pretrained.pt",
        "losses": d / "pretrain_loss.csv",
    }


def _train_paths(cfg):
    d = _model(cfg)
    v = cfg.dirs.variants[cfg.dirs.variant]
    return {
        **scenario_files(cfg),
        "pretrained": d / "pretrained.pt" if v.imitation else None,
        "policy": d / "policy.pt",
        "curve": d / "training.csv",
        "last": d / "last.pt",
    }


def _eval_paths(cfg):
    d = _model(cfg)
    v = cfg.dirs.variants[cfg.dirs.variant]
    return {
        **scenario_files(cfg),
        "optimum": optimum_file(cfg),
        "policy": d / "policy.pt",
        "last": d / "last.pt",
        "pretrained": d / "pretrained.pt" if v.imitation else None,
        "table": evaluation_file(cfg, f"policy_{cfg.dirs.variant}.csv"),
    }


#: What training reads: the DIRS settings of its own variant (not the other variants' definitions,
#: nor Table II's settings) and the online Lévy refinement.
_TRAIN_READS = (
    "dirs",
    "!dirs.variants",
    "!dirs.variant",
    "!dirs.table2_demo_counts",
    "!dirs.table2_holdout",
    "dirs.variants.{variant}",
    "search.online",
)

STAGES = {
    "pretrain_agents": Stage(pretrain_agents, _pretrain_paths, reads=_TRAIN_READS),
    "train_agents": Stage(train_agents, _train_paths, reads=_TRAIN_READS),
    "evaluate_policy": Stage(
        evaluate_policy, _eval_paths, reads=("dirs.variants.{variant}", "evaluation.timing_samples")
    ),
    "imitation_table": Stage(
        imitation_table,
        lambda cfg: {
            **scenario_files(cfg),
            "demos": instance_path(cfg, "demos"),
            "table": evaluation_file(cfg, "imitation.csv"),
        },
        reads=("dirs", "!dirs.variants", "!dirs.variant", "dirs.variants.{variant}", "search"),
    ),
}
