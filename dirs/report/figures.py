"""Figures of the paper's experiments (matplotlib, Agg) and the helpers every figure shares.

Shared helpers: :func:`mean_ci` (mean and Student-t 95% confidence interval of the mean),
:func:`plot_band` (a mean line with its CI band), :func:`save_figure` (PNG + PDF, each written
atomically).  One ``plot_<id>`` function per figure; each also returns the data it drew.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dirs.common import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def mean_ci(values: np.ndarray, axis: int = -1, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of ``values`` along ``axis`` and its confidence band (mean, lo, hi)
    (:func:`dirs.report.tables.t_interval`); with a single value the band collapses to the mean."""
    from dirs.report.tables import t_interval

    mean, half = t_interval(values, axis, level)
    return mean, mean - half, mean + half


def plot_band(ax, x, mean, lo, hi, *, label: str, color=None, marker=None, alpha: float = 0.2):
    """Draw ``mean`` against ``x`` with a shaded band [lo, hi]; returns the line."""
    (line,) = ax.plot(x, mean, label=label, color=color, marker=marker, markersize=3)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0)
    return line


def save_figure(fig, png: str | Path, pdf: str | Path | None = None, dpi: int = 200) -> list[Path]:
    """Save ``fig`` as PNG (and PDF: ``pdf`` or the PNG's stem + .pdf), each atomically; closes it."""
    plt = _pyplot()
    png = Path(png)
    pdf = Path(pdf) if pdf is not None else png.with_suffix(".pdf")
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return [png, pdf]


def fig4_data(histories: dict[str, np.ndarray], optimum: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Long table of Fig. 4: per variant and iteration, mean objective (fitness) and its CI, and
    the mean ratio objective/optimum with its CI.  histories: variant → (G_max + 1, T)."""
    opt = np.asarray(optimum, dtype=np.float64)
    rows = []
    for variant, hist in histories.items():
        h = np.asarray(hist, dtype=np.float64)
        m, lo, hi = mean_ci(h, axis=1, level=level)
        rm, rlo, rhi = mean_ci(h / opt[None, :], axis=1, level=level)
        for g in range(h.shape[0]):
            rows.append(
                {
                    "variant": variant,
                    "iteration": g,
                    "objective": m[g],
                    "objective_lo": lo[g],
                    "objective_hi": hi[g],
                    "ratio_to_optimum": rm[g],
                    "ratio_lo": rlo[g],
                    "ratio_hi": rhi[g],
                    "optimum": float(opt.mean()),
                    "n_samples": h.shape[1],
                }
            )
    return pd.DataFrame(rows)


def plot_fig4(data: pd.DataFrame, png: str | Path, pdf: str | Path | None = None, *, title: str | None = None):
    """Fig. 4: fitness (objective, lower is better) vs iteration for the classic and the proposed
    Lévy flight, mean with 95% band over channel samples; the exact optimum as a dashed line.
    Left: objective; right: objective / optimum."""
    plt = _pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    labels = {"classic": "classic Lévy flight (eq. 18)", "proposed": "proposed Lévy flight (Alg. 4)"}
    for variant, frame in data.groupby("variant", sort=False):
        label = labels.get(variant, variant)
        plot_band(ax, frame.iteration, frame.objective, frame.objective_lo, frame.objective_hi, label=label)
        plot_band(ax2, frame.iteration, frame.ratio_to_optimum, frame.ratio_lo, frame.ratio_hi, label=label)
    ax.axhline(float(data.optimum.iloc[0]), color="k", linestyle="--", linewidth=1, label="exact optimum")
    ax2.axhline(1.0, color="k", linestyle="--", linewidth=1, label="exact optimum")
    n = int(data.n_samples.iloc[0])
    ax.set(
        xlabel="iteration G",
        ylabel=r"fitness: objective $\sum_i \Phi_i$ (s + J)",
        title=title or f"mean and 95% CI over {n} channel samples",
    )
    ax2.set(xlabel="iteration G", ylabel="objective / exact optimum (–)", title="relative to the optimum")
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, png, pdf)
