"""Stages: Table II, Fig. 3 and Fig. 5 from the learner's per-seed outputs (paper §V-B/C).

* ``make_imitation_table`` (report ``imitation``, Table II): every seed's ``imitation.csv`` → mean ±
  95% CI over seeds, CSV and Markdown beside the paper's values;
* ``plot_pretrain_loss`` (report ``pretrain_loss``, Fig. 3): the pre-training loss of agents 1 and 2 of
  the experiment's DIRS variant;
* ``plot_training_reward`` (report ``training_reward``, Fig. 5): the average reward during online
  training of every DIRS variant the experiment lists.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dirs.common import write_csv_atomic, write_text_atomic
from dirs.stages import Stage, workflow_only
from dirs.tracking import stage_run


def _as_list(x) -> list:
    return [x] if isinstance(x, (str, Path)) else list(x)


def make_imitation_table(cfg, *, evaluations, table, markdown) -> None:
    """Table II over seeds (CSV + Markdown beside the paper's values)."""
    from dirs.report.learning import table2_frame, table2_markdown

    with stage_run("make_imitation_table", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        t2 = table2_frame([pd.read_csv(p) for p in _as_list(evaluations)])
        write_csv_atomic(table, t2)
        write_text_atomic(markdown, table2_markdown(t2))
        run.log_artifact(markdown)


def plot_pretrain_loss(cfg, *, losses, figure, pdf, data) -> None:
    """Fig. 3: agents' pre-training loss against the iteration, mean over seeds."""
    from dirs.report.learning import fig3_frame, plot_fig3

    with stage_run("plot_pretrain_loss", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        f3 = fig3_frame({str(p): pd.read_csv(p) for p in _as_list(losses)})
        write_csv_atomic(data, f3)
        plot_fig3(f3, figure, pdf)
        run.log_artifact(figure)


def plot_training_reward(cfg, *, curves, figure, pdf, data, params: dict) -> None:
    """Fig. 5: average reward during online training of each variant, mean and 95% band over seeds."""
    from dirs.report.learning import fig5_frame, plot_fig5

    with stage_run("plot_training_reward", cfg, tags={"dirs.experiment": cfg.experiment.id}) as run:
        f5 = fig5_frame({str(p): pd.read_csv(p) for p in _as_list(curves)})
        write_csv_atomic(data, f5)
        plot_fig5(f5, figure, pdf, labels=dict(params["labels"]))
        run.log_artifact(figure)


STAGES = {
    "make_imitation_table": Stage(
        make_imitation_table, workflow_only("make_imitation_table"), reads=("experiment",), per_instance=False
    ),
    "plot_pretrain_loss": Stage(
        plot_pretrain_loss, workflow_only("plot_pretrain_loss"), reads=("experiment",), per_instance=False
    ),
    "plot_training_reward": Stage(
        plot_training_reward, workflow_only("plot_training_reward"), reads=("experiment",), per_instance=False
    ),
}
