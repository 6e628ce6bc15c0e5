"""Learning results: Table II (imitation accuracy), Fig. 3 (agents' loss), Fig. 5 (average reward).

Frames are built from the per-seed CSVs of the learner stages (:mod:`dirs.stages.learner`); seeds
are aggregated as mean and 95% confidence interval (Student t) where there is more than one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dirs.common import atomic_path
from dirs.report.tables import mean_ci


def _ci95(x: pd.Series) -> float:
    """Half-width of the 95% Student-t interval of the mean (0 for one value)."""
    return mean_ci(x.dropna().to_numpy(dtype=float))[1]


def table2_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Table II: mean (± 95% CI) train/test accuracy per demo count and loss, over seeds."""
    df = pd.concat(frames, ignore_index=True)
    g = df.groupby(["loss", "demos"], sort=True)
    out = g[["train_accuracy", "test_accuracy"]].mean()
    out["train_ci95"] = g["train_accuracy"].apply(_ci95)
    out["test_ci95"] = g["test_accuracy"].apply(_ci95)
    out["seeds"] = g["seed"].nunique()
    return out.reset_index()


def table2_markdown(table: pd.DataFrame) -> str:
    """Table II as Markdown: train/test accuracy (%) mean ± 95% CI beside the paper's printed values."""
    from dirs.report.paper import TABLE2

    lines = [
        "| loss | demonstrations | train accuracy (%) | test accuracy (%) | paper train / test (%) |",
        "|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        paper = TABLE2.get(str(r["loss"]), {}).get(int(r["demos"]))
        ref = f"{paper[0]:.1f} / {paper[1]:.1f}" if paper else "–"
        cell = lambda m, c: f"{100 * m:.1f} ± {100 * c:.1f}" if c == c and c > 0 else f"{100 * m:.1f}"  # noqa: E731
        lines.append(
            f"| {r['loss']} | {int(r['demos'])} | {cell(r['train_accuracy'], r['train_ci95'])} | "
            f"{cell(r['test_accuracy'], r['test_ci95'])} | {ref} |"
        )
    return "# Table II: imitation accuracy vs demonstrations and loss (medium)\n\n" + "\n".join(lines) + "\n"


def _seed_of(path: str) -> int:
    m = re.search(r"seed(\d+)", path)
    return int(m.group(1)) if m else 0


def _variant_of(path: str) -> str:
    return Path(path).parent.name


def fig3_frame(losses: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Fig. 3: loss of agent 1 and agent 2 per pre-training iteration, mean over seeds."""
    df = pd.concat([f.assign(seed=_seed_of(p)) for p, f in losses.items()], ignore_index=True)
    cols = [c for c in ("loss_agent1", "loss_agent2") if c in df]
    return df.groupby("iteration")[cols].mean().reset_index()


def fig5_frame(curves: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Fig. 5: average reward per training step (refinement) of each variant, mean and CI over seeds."""
    rows = []
    for p, f in curves.items():
        f = f.dropna(subset=["step"])
        rows.append(f[["step", "slot", "avg_reward"]].assign(variant=_variant_of(p), seed=_seed_of(p)))
    df = pd.concat(rows, ignore_index=True)
    g = df.groupby(["variant", "step"])
    out = g[["slot", "avg_reward"]].mean()
    out["avg_reward_ci95"] = g["avg_reward"].apply(_ci95)
    return out.reset_index()


def _save(fig, png: str | Path, pdf: str | Path | None = None) -> None:
    png = Path(png)
    for path in (png, Path(pdf) if pdf else png.with_suffix(".pdf")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150, bbox_inches="tight")


def plot_fig3(frame: pd.DataFrame, png: str | Path, pdf: str | Path | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for j, col in enumerate(c for c in ("loss_agent1", "loss_agent2") if c in frame):
        ax.plot(frame["iteration"], frame[col], label=f"agent {j + 1}")
    ax.set_xlabel("pre-training iteration")
    ax.set_ylabel("training loss L1 (BCE + λ1‖θ‖², nats)")
    ax.set_title("Fig. 3: imitation loss of agents 1 and 2 (medium)")
    ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, png, pdf)
    plt.close(fig)


def plot_fig5(
    frame: pd.DataFrame, png: str | Path, pdf: str | Path | None = None, labels: Mapping[str, str] | None = None
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for variant, f in frame.groupby("variant", sort=False):
        ax.plot(f["step"], f["avg_reward"], label=(labels or {}).get(variant, variant))
        ax.fill_between(
            f["step"], f["avg_reward"] - f["avg_reward_ci95"], f["avg_reward"] + f["avg_reward_ci95"], alpha=0.2
        )
    ax.set_xlabel("training step (refinement, every ϕ slots)")
    ax.set_ylabel("average reward 1/objective (1/cost unit)")
    ax.set_title("Fig. 5: average reward during online training (medium)")
    ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, png, pdf)
    plt.close(fig)
