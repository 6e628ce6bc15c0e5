"""Stages that turn the per-seed evaluations into the paper's Tables III–V and Figs. 6–7."""

from __future__ import annotations

import logging

from dirs.report import experiments as rep
from dirs.report import paper
from dirs.tracking import stage_run

log = logging.getLogger(__name__)

QUALITY_METHODS = ["dirs", "dirs+repair", "dirs-last", "pso", "greedy", "remote", "optimum"]


def _variants(params: dict) -> dict[str, str]:
    return dict(params["variants"])  # instance → variant


def _quality_table(stage: str, paper_values, cfg, evaluations, table, markdown, params: dict) -> None:
    with stage_run(stage, cfg) as run:
        t = rep.quality_table(evaluations, _variants(params), QUALITY_METHODS, paper_values, table, markdown,
                              cfg.experiment.title)
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def make_table3(cfg, *, evaluations, table, markdown, params: dict) -> None:
    _quality_table("make_table3", paper.TABLE3, cfg, evaluations, table, markdown, params)


def make_table4(cfg, *, evaluations, table, markdown, params: dict) -> None:
    _quality_table("make_table4", paper.TABLE4, cfg, evaluations, table, markdown, params)


def make_table5(cfg, *, evaluations, table, markdown, params: dict) -> None:
    methods = ["dirs", "dirs+repair", "dirs-last", "ac", "ddpg", "maddpg", "pso", "pso-seeded", "de", "de-seeded",
               "levy", "levy-greedy", "greedy", "remote", "optimum"]
    with stage_run("make_table5", cfg) as run:
        t = rep.cost_table(evaluations, _variants(params), methods, table, markdown, cfg.experiment.title)
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def plot_fig6(cfg, *, evaluations, figure, data, params: dict) -> None:
    with stage_run("plot_fig6", cfg) as run:
        rep.fig6(evaluations, _variants(params), ["dirs", "greedy", "optimum"], figure, data)
        run.log_artifact(figure)


def plot_fig7(cfg, *, evaluations, figure, data, params: dict) -> None:
    with stage_run("plot_fig7", cfg) as run:
        rep.fig7(evaluations, _variants(params), dict(params["sizes"]),
                 ["dirs", "maddpg", "remote", "random", "local", "greedy", "optimum"], figure, data)
        run.log_artifact(figure)


def make_ablation(cfg, *, evaluations, table, markdown) -> None:
    """Allocation ablation (ours): mean ± 95% CI over seeds of every ``allocation.csv``."""
    with stage_run("make_ablation", cfg) as run:
        t = rep.allocation_table(evaluations, table, markdown, cfg.experiment.title)
        run.log_artifact(markdown)
        log.info("\n%s", t.to_string(index=False))


def plot_scale(cfg, *, evaluations, figure, data, table, markdown, params: dict) -> None:
    """Scale study (ours): decision / training cost and NRR vs N and M, with power-law fits."""
    with stage_run("plot_scale", cfg) as run:
        sizes = {inst: tuple(nm) for inst, nm in dict(params["sizes"]).items()}
        d = rep.scale_study(evaluations, sizes, figure, data, table, markdown, cfg.experiment.title)
        run.log_artifact(figure)
        run.log_artifact(markdown)
        log.info("\n%s", d.to_string(index=False))


def _workflow_only(name: str):
    def paths(cfg):
        from dirs.system.params import ParameterError

        raise ParameterError(
            f"{name} aggregates every instance and seed of its experiment; build it with "
            f"`snakemake --cores 8 {name.split('_')[-1]}`"
        )

    return paths


# These stages need the whole experiment's evaluations: run alone they point to Snakemake.
STAGES = {name: (fn, _workflow_only(name)) for name, fn in {
    "make_table3": make_table3, "make_table4": make_table4, "make_table5": make_table5,
    "plot_fig6": plot_fig6, "plot_fig7": plot_fig7, "make_ablation": make_ablation,
    "plot_scale": plot_scale}.items()}
