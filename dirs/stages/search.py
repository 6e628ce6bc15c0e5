"""Stages of the search family: imitation demonstrations (paper Alg. 2) and Fig. 4.

* ``generate_demos``: K = ``search.num_demos`` demonstrations (h, a*) from the first K training
  channel samples, labelled by the configured demonstrator — the Lévy flight with the demonstration
  settings (small β, larger P and G_max) started from ``search.start``, or the exact optimum —
  with their NRR against the reference (stored and logged to MLflow; exact on identical tasks, within
  ``SCREENING_REL_GAP`` of the optimum on heterogeneous ones).
* ``plot_fig4``: fitness vs iteration of the classic (eq. 18) and the proposed (Alg. 4) Lévy flight
  on the medium scenario, mean and 95% band over channel samples, exact optimum as a line.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from dirs import io
from dirs.common import write_csv_atomic
from dirs.paths import experiment_path, instance_path, scenario_files
from dirs.solvers.costs import cost_tables
from dirs.solvers.levy import levy_flight, levy_kwargs, start_decisions
from dirs.solvers.reference import SCREENING_REL_GAP, reference_decisions
from dirs.stages import Stage
from dirs.stages.evaluate import load_instance, rows_of
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)

#: Samples per Lévy flight call in the demonstration stage (one MLflow step each).
CHUNK = 64


def demonstrate(cfg, gains: np.ndarray, params, run=None) -> tuple[np.ndarray, np.ndarray]:
    """Demonstration decisions ``(K, N)`` for ``gains`` ``(K, N, M)`` and their exact-allocation
    objective ``(K,)``, by ``cfg.search.demonstrator``.  Deterministic in ``cfg.seed``."""
    se = cfg.search
    tables = cost_tables(gains, params)
    if str(getattr(se.demonstrator, "value", se.demonstrator)) == "oracle":
        decisions = reference_decisions(tables)
        return decisions, tables.objective(decisions)
    rng = np.random.default_rng([int(cfg.seed), 0xDE305])
    start = start_decisions(se.start, gains, params, tables, rng)
    d = se.demo
    decisions = np.empty(gains.shape[:2], dtype=np.int64)
    for step, lo in enumerate(range(0, len(gains), CHUNK)):
        hi = min(lo + CHUNK, len(gains))
        res = levy_flight(
            gains[lo:hi],
            rows_of(params, slice(lo, hi)),
            start[lo:hi],
            rng=rng,
            tables=tables.take(slice(lo, hi)),
            **levy_kwargs(d),
        )
        decisions[lo:hi] = res.decisions
        if run is not None:
            run.log_metrics({"levy_objective_mean": float(res.objective.mean()), "samples_done": hi}, step=step)
        log.info("demonstrations %d/%d", hi, len(gains))
    return decisions, tables.objective(decisions)


def generate_demos(cfg, *, scenario: str | Path, channels: str | Path, demos: str | Path) -> None:
    """Demonstrations (gains, decisions, nrr) → ``demos.npz`` (see module docstring)."""
    with stage_run("generate_demos", cfg) as run:
        sc, train = load_instance(scenario, channels, "train")
        k = int(cfg.search.num_demos)
        if k > len(train):
            raise ParameterError(
                f"search.num_demos: {k} demonstrations need as many training channel samples, but "
                f"{channels} has {len(train)} (scenario.num_train)"
            )
        gains, params = train[:k], rows_of(sc.params, slice(0, k))
        t0 = time.perf_counter()
        decisions, objective = demonstrate(cfg, gains, params, run)
        elapsed = time.perf_counter() - t0
        tables = cost_tables(gains, params)
        optimum = reference_decisions(tables, rel_gap=SCREENING_REL_GAP)  # diagnostics only
        opt_obj = tables.objective(optimum)
        nrr = opt_obj / objective
        io.write_npz_with_provenance(
            demos,
            io.provenance(scenario=scenario, channels=channels),
            gains=gains,
            decisions=decisions,
            nrr=nrr,
            objective=objective,
            optimum_objective=opt_obj,
        )
        agree = float((decisions == optimum).mean())
        run.log_metrics(
            {
                "nrr_mean": float(nrr.mean()),
                "nrr_min": float(nrr.min()),
                "label_agreement_with_optimum": agree,
                "seconds": elapsed,
                "ms_per_demo": 1e3 * elapsed / max(len(gains), 1),
            }
        )
        log.info(
            "%s seed %d: %d demonstrations by %s, NRR vs optimum mean %.5f min %.5f, "
            "%.1f%% labels equal the optimum's, %.2f ms/demo",
            sc.name,
            cfg.seed,
            len(gains),
            getattr(cfg.search.demonstrator, "value", cfg.search.demonstrator),
            nrr.mean(),
            nrr.min(),
            100 * agree,
            1e3 * elapsed / max(len(gains), 1),
        )


def fig4_histories(
    cfg, gains: np.ndarray, params, variants=("classic", "proposed")
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-iteration best objective ``(G_max + 1, T)`` of the classic and the proposed Lévy flight
    from the same initial population, and the exact optimum ``(T,)``."""
    se = cfg.search
    f = se.fig4
    tables = cost_tables(gains, params)
    start = start_decisions(se.fig4_start, gains, params, tables, np.random.default_rng([int(cfg.seed), 0xF16]))
    out = {}
    for variant in variants:
        kw = {**levy_kwargs(f), "variant": variant}
        res = levy_flight(gains, params, start, rng=np.random.default_rng([int(cfg.seed), 0xF164]), tables=tables, **kw)
        out[variant] = res.history
    return out, tables.objective(reference_decisions(tables))


def _as_list(x):
    return [x] if isinstance(x, (str, Path)) else list(x)


def plot_fig4(cfg, *, scenario, channels, figure: str | Path, data: str | Path, pdf: str | Path | None = None) -> None:
    """Fig. 4 → ``figure`` (PNG; the PDF beside it) and its data CSV ``data``.

    ``scenario``/``channels``: one instance or a list (e.g. every seed of medium); the first
    ``search.fig4_samples`` training samples of each are pooled.
    """
    from dirs.report.figures import fig4_data
    from dirs.report.figures import plot_fig4 as draw

    variants = [str(v) for v in cfg.experiment.methods]
    with stage_run("plot_levy_fitness", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        hists: dict[str, list] = {v: [] for v in variants}
        optima = []
        for i, (s_path, c_path) in enumerate(zip(_as_list(scenario), _as_list(channels))):
            sc = io.load_scenario(s_path)
            gains = io.load_channels(c_path, "train", sc)[: int(cfg.search.fig4_samples)]
            sub = cfg.copy()
            sub.seed = int(cfg.seed) + i  # distinct search streams per instance
            h, opt = fig4_histories(sub, gains, sc.params, variants)
            for k in hists:
                hists[k].append(h[k])
            optima.append(opt)
        frame = fig4_data({k: np.concatenate(v, axis=1) for k, v in hists.items()}, np.concatenate(optima))
        write_csv_atomic(data, frame)
        png = Path(figure)
        draw(frame, png, Path(pdf) if pdf else png.with_suffix(".pdf"))
        last = frame[frame.iteration == frame.iteration.max()].set_index("variant")
        for variant, row in last.iterrows():
            run.log_metrics(
                {
                    f"{variant}.final_ratio_to_optimum": float(row.ratio_to_optimum),
                    f"{variant}.final_objective": float(row.objective),
                }
            )
        for path in (png, png.with_suffix(".pdf"), data):
            run.log_artifact(path)
        log.info("fig4: final objective/optimum %s", last.ratio_to_optimum.to_dict())


def _demo_paths(cfg):
    return {**scenario_files(cfg), "demos": instance_path(cfg, "demos")}


def _fig4_paths(cfg):
    exp = str(cfg.experiment.id) if cfg.experiment.id != "none" else "fig4"
    return {
        **scenario_files(cfg),
        "figure": experiment_path(cfg, "figure", exp),
        "pdf": experiment_path(cfg, "figure_pdf", exp),
        "data": experiment_path(cfg, "figure_data", exp),
    }


STAGES = {
    "generate_demos": Stage(
        generate_demos, _demo_paths, reads=("search.num_demos", "search.demo", "search.start", "search.demonstrator")
    ),
    "plot_levy_fitness": Stage(
        plot_fig4,
        _fig4_paths,
        per_instance=False,
        reads=("seed", "experiment", "search.fig4", "search.fig4_samples", "search.fig4_start"),
    ),
}
