"""Aggregate per-seed evaluation CSVs into the paper's tables: mean ± 95% CI over seeds.

Every evaluation stage writes one CSV per (instance, seed) with the columns of
:data:`dirs.evaluation.COLUMNS` (one row per method).  Here they are stacked, averaged over seeds
with a Student-t 95% confidence interval, and written as CSV (numbers) and Markdown (mean ± CI,
beside the paper's printed value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from dirs.common import atomic_path, write_csv_atomic


def t_interval(values, axis: int = -1, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` along ``axis`` and the half-width of its Student-t ``level`` confidence
    interval (0 with a single value) — the one CI of every table and figure."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[axis]
    mean = v.mean(axis)
    if n < 2:
        return mean, np.zeros_like(mean)
    return mean, stats.t.ppf(0.5 + level / 2, n - 1) * v.std(axis, ddof=1) / np.sqrt(n)


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and CI half-width of the finite ``values`` (NaN, NaN when there are none)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return float("nan"), float("nan")
    mean, half = t_interval(v, level=level)
    return float(mean), float(half)


def load_rows(files: Mapping[tuple[str, int], Iterable[str | Path]]) -> pd.DataFrame:
    """Stack evaluation CSVs; ``files`` maps (instance, seed) to that instance's CSV paths."""
    frames = []
    for (instance, seed), paths in files.items():
        for path in paths:
            df = pd.read_csv(path)
            df.insert(0, "seed", seed)
            df.insert(0, "instance", instance)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def aggregate(rows: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("instance", "method")) -> pd.DataFrame:
    """Mean and 95% CI half-width of each metric over seeds: columns ``<m>`` and ``<m>_ci``."""
    out = []
    for keys, grp in rows.groupby(list(by), sort=False):
        rec = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        rec["n_seeds"] = int(grp["seed"].nunique())
        for m in metrics:
            if m in grp:
                rec[m], rec[f"{m}_ci"] = mean_ci(grp[m].to_numpy(dtype=float))
        out.append(rec)
    return pd.DataFrame(out)


def fmt(mean: float, ci: float, digits: int = 2) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(ci) or ci == 0:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {ci:.{digits}f}"


def to_markdown(
    table: pd.DataFrame, metrics: Mapping[str, int], keep: Sequence[str] = (), extra: Sequence[str] = ()
) -> str:
    """Markdown with ``mean ± CI`` cells; ``metrics`` maps column → decimals."""
    cols = list(keep) + list(metrics) + list(extra)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in table.iterrows():
        cells = [str(int(r[k])) if isinstance(r[k], float) and float(r[k]).is_integer() else str(r[k]) for k in keep]
        cells += [fmt(r.get(m, np.nan), r.get(f"{m}_ci", np.nan), d) for m, d in metrics.items()]
        cells += [
            ("–" if pd.isna(r.get(e)) else (f"{r[e]:.4g}" if isinstance(r[e], float) else str(r[e]))) for e in extra
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, markdown: str, csv_path: str | Path, md_path: str | Path, title: str = "") -> None:
    write_csv_atomic(csv_path, table)
    with atomic_path(md_path) as tmp:
        tmp.write_text((f"# {title}\n\n" if title else "") + markdown)
