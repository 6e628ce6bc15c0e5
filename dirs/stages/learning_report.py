"""Stage: Table II, Fig. 3 and Fig. 5 from the learner's per-seed outputs (paper §V-B/C, medium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dirs.common import write_csv_atomic, write_text_atomic
from dirs.tracking import stage_run


def _as_list(x) -> list:
    return [x] if isinstance(x, (str, Path)) else list(x)


def learning_report(cfg, *, table2, pretrain_losses, curves, table2_out, fig3_csv, fig5_csv, fig3_png, fig5_png,
                    table2_md=None) -> None:
    """Aggregate Table II over seeds (CSV + Markdown beside the paper's values) and draw Fig. 3
    (agents' pre-training loss) and Fig. 5 (average reward during online training)."""
    from dirs.report.learning import fig3_frame, fig5_frame, plot_fig3, plot_fig5, table2_frame, table2_markdown

    with stage_run("learning_report", cfg) as run:
        t2 = table2_frame([pd.read_csv(p) for p in _as_list(table2)])
        write_csv_atomic(table2_out, t2)
        if table2_md:
            write_text_atomic(table2_md, table2_markdown(t2))
        f3 = fig3_frame({str(p): pd.read_csv(p) for p in _as_list(pretrain_losses)})
        write_csv_atomic(fig3_csv, f3)
        plot_fig3(f3, fig3_png)
        f5 = fig5_frame({str(p): pd.read_csv(p) for p in _as_list(curves)})
        write_csv_atomic(fig5_csv, f5)
        plot_fig5(f5, fig5_png)
        for p in (table2_out, table2_md, fig3_csv, fig5_csv, fig3_png, fig5_png):
            if p:
                run.log_artifact(p)


def report_paths(cfg) -> dict[str, Any]:
    """Inputs (every seed of the profile, figure scenario) and outputs of :func:`learning_report`."""
    res, sc = Path(cfg.paths.results_dir), str(cfg.dirs.figure_scenario)
    seeds = [int(s) for s in cfg.profile.seeds]
    models = lambda v, f: [res / "models" / sc / f"seed{k}" / v / f for k in seeds]  # noqa: E731
    return {
        "table2": [res / "evaluations" / sc / f"seed{k}" / "imitation.csv" for k in seeds],
        "pretrain_losses": models("dirs", "pretrain_loss.csv"),
        "curves": [p for v in ("ensemble-egreedy", "ensemble-levy", "dirs") for p in models(v, "training.csv")],
        "table2_out": res / "tables" / "table2.csv", "table2_md": res / "tables" / "table2.md",
        "fig3_csv": res / "tables" / "fig3.csv",
        "fig5_csv": res / "tables" / "fig5.csv", "fig3_png": res / "figures" / "fig3.png",
        "fig5_png": res / "figures" / "fig5.png",
    }


STAGES = {"learning_report": (learning_report, report_paths)}
