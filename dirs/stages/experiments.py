"""Stages that turn the per-seed evaluations into tables and figures (paper §V; ours).

Each experiment (``conf/experiment/<id>.yaml``) names its ``report`` kind, its instances and the rows
it shows (``methods:``); the workflow hands the stage every evaluation CSV of those rows on every
instance and seed, ``params["variants"]`` (instance → variant name) and ``params["labels"]`` (row →
display label, from the method registry).  Outputs are named after the experiment id.
"""

from __future__ import annotations

import logging

from dirs.report import experiments as rep
from dirs.report import paper
from dirs.stages import Stage, workflow_only
from dirs.tracking import stage_run

log = logging.getLogger(__name__)

#: The paper's printed values by experiment id (shown beside our rows; none for our own tables).
PAPER_VALUES = {"table3": paper.TABLE3, "table4": paper.TABLE4}


def _rows(cfg) -> list[str]:
    return [str(m) for m in cfg.experiment.methods]


def make_quality_table(cfg, *, evaluations, table, markdown, params: dict) -> None:
    """Tables III/IV (report ``quality``): objective, time, energy, NRR vs the optimum and vs PSO."""
    with stage_run("make_quality_table", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        t = rep.quality_table(
            evaluations,
            dict(params["variants"]),
            _rows(cfg),
            PAPER_VALUES.get(str(cfg.experiment.id), {}),
            table,
            markdown,
            cfg.experiment.title,
            labels=dict(params["labels"]),
        )
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def make_cost_table(cfg, *, evaluations, table, markdown, params: dict) -> None:
    """Table V (report ``cost``): training time, decision time, time, energy, NRR per method."""
    with stage_run("make_cost_table", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        t = rep.cost_table(
            evaluations,
            dict(params["variants"]),
            _rows(cfg),
            table,
            markdown,
            cfg.experiment.title,
            labels=dict(params["labels"]),
        )
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def plot_time_energy(cfg, *, evaluations, figure, pdf, data, params: dict) -> None:
    """Fig. 6 (report ``time_energy``): total time and energy per variant, grouped bars per row."""
    with stage_run("plot_time_energy", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        rep.fig6(
            evaluations, dict(params["variants"]), _rows(cfg), figure, data, labels=dict(params["labels"]), pdf=pdf
        )
        run.log_artifact(figure)


def plot_objective_vs_n(cfg, *, evaluations, figure, pdf, data, params: dict) -> None:
    """Fig. 7 (report ``objective_vs_n``): mean objective against N, one line per row."""
    with stage_run("plot_objective_vs_n", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        rep.fig7(
            evaluations,
            dict(params["variants"]),
            {k: int(v[0]) for k, v in dict(params["sizes"]).items()},
            _rows(cfg),
            figure,
            data,
            labels=dict(params["labels"]),
            pdf=pdf,
        )
        run.log_artifact(figure)


def make_ablation(cfg, *, evaluations, table, markdown) -> None:
    """Allocation ablation (report ``allocation``): mean ± 95% CI over seeds of every ``allocation.csv``."""
    with stage_run("make_ablation", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        t = rep.allocation_table(evaluations, table, markdown, cfg.experiment.title)
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def plot_scale(cfg, *, evaluations, figure, pdf, data, table, markdown, params: dict) -> None:
    """Scale study (report ``scale``): decision / training cost and NRR vs N and M, power-law fits."""
    with stage_run("plot_scale", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        sizes = {inst: tuple(nm) for inst, nm in dict(params["sizes"]).items()}
        d = rep.scale_study(evaluations, sizes, figure, data, table, markdown, cfg.experiment.title, pdf=pdf)
        run.log_artifact(figure)
        run.log_artifact(markdown)
        log.info("\n%s", d.to_string(index=False))


def make_hetero_table(cfg, *, evaluations, optima, table, markdown, params: dict) -> None:
    """Table ``hetero`` (report ``hetero``): NRR (mean, worst) and decision time per instance × row,
    and the certified solver's gap and time distribution (``optimum.npz`` of every instance and seed)."""
    with stage_run("make_hetero_table", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        t = rep.hetero_table(
            evaluations,
            optima,
            dict(params["variants"]),
            _rows(cfg),
            table,
            markdown,
            cfg.experiment.title,
            labels=dict(params["labels"]),
        )
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


_READS = ("experiment",)
# These stages need the whole experiment's evaluations: run alone they point to Snakemake.
STAGES = {
    name: Stage(fn, workflow_only(name), reads=_READS, per_instance=False)
    for name, fn in {
        "make_quality_table": make_quality_table,
        "make_cost_table": make_cost_table,
        "plot_time_energy": plot_time_energy,
        "plot_objective_vs_n": plot_objective_vs_n,
        "make_ablation": make_ablation,
        "make_hetero_table": make_hetero_table,
        "plot_scale": plot_scale,
    }.items()
}
