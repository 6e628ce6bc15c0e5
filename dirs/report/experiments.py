"""Tables III–V and Figs. 6–7 from the per-seed evaluation CSVs (paper §V-D).

Every table carries the exact optimum and Greedy, the NRR against the optimum (per-sample mean),
the NRR against PSO (the paper's definition: NRR_opt(method) / NRR_opt(PSO), i.e. how the method's
reward compares with PSO's on the same scale), and the paper's printed value.  Numbers are mean ±
95% CI over seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from dirs.report import paper
from dirs.report.figures import _pyplot, save_figure
from dirs.report.tables import aggregate, load_rows, to_markdown, write_table

#: Display names of the methods (CSV row names → table labels).
LABELS = {
    "optimum": "Exact optimum", "greedy": "Greedy", "remote": "Remote", "random": "Random", "local": "Local",
    "dirs": "DIRS", "dirs+repair": "DIRS + repair", "pso": "PSO", "pso-seeded": "PSO (seeded)",
    "de": "DE", "de-seeded": "DE (seeded)", "levy": "Lévy flight (from Remote)",
    "levy-greedy": "Lévy flight (from Greedy)", "ac": "AC (A2C)", "ddpg": "DDPG", "maddpg": "MADDPG",
}


def instance_of(path: str | Path) -> tuple[str, int]:
    """(instance, seed) of ``results/evaluations/<instance>/seed<k>/<file>.csv``."""
    p = Path(path)
    return p.parent.parent.name, int(p.parent.name.removeprefix("seed"))


def stack(evaluations: Sequence[str | Path], variants: Mapping[str, str]) -> pd.DataFrame:
    """All rows of all CSVs, with ``instance``, ``seed`` and ``variant`` columns, plus ``nrr_pso``."""
    files: dict[tuple[str, int], list] = {}
    for path in evaluations:
        files.setdefault(instance_of(path), []).append(path)
    rows = load_rows(files)
    rows["variant"] = rows["instance"].map(lambda i: variants.get(i, i))
    pso = rows[rows.method == "pso"].set_index(["instance", "seed"])["nrr_opt"]
    key = pd.MultiIndex.from_frame(rows[["instance", "seed"]])
    rows["nrr_pso"] = rows["nrr_opt"].to_numpy() / pso.reindex(key).to_numpy()
    return rows


def _select(rows: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    rows = rows[rows.method.isin(methods)].copy()
    rows["order"] = rows.method.map({m: k for k, m in enumerate(methods)})
    return rows.sort_values(["order"], kind="stable")


def quality_table(evaluations, variants: Mapping[str, str], methods: Sequence[str],
                  paper_values: Mapping[str, Mapping[str, float]], csv_path, md_path, title: str) -> pd.DataFrame:
    """Tables III and IV: objective, time, energy, NRR (vs optimum, vs PSO) per variant × method."""
    rows = _select(stack(evaluations, variants), methods)
    metrics = ["objective", "time", "energy", "nrr_opt", "nrr_pso"]
    table = aggregate(rows, metrics, by=("variant", "method"))
    order = {v: k for k, v in enumerate(dict.fromkeys(variants.values()))}
    table = table.sort_values("variant", key=lambda s: s.map(order), kind="stable")
    for key in ("objective", "time", "energy", "nrr"):
        table[f"paper_{key}"] = [paper_values.get(v, {}).get(key) if m == "dirs" else None
                                 for v, m in zip(table.variant, table.method)]
    table["method"] = table.method.map(lambda m: LABELS.get(m, m))
    md = to_markdown(table, {"objective": 2, "time": 2, "energy": 2, "nrr_opt": 4, "nrr_pso": 4},
                     keep=("variant", "method"),
                     extra=("paper_objective", "paper_time", "paper_energy", "paper_nrr"))
    write_table(table, md, csv_path, md_path, title)
    return table


def cost_table(evaluations, variants, methods, csv_path, md_path, title: str) -> pd.DataFrame:
    """Table V: training time, decision time per sample, time, energy, NRR per method."""
    rows = _select(stack(evaluations, variants), methods)
    rows["decision_s"] = rows["decision_ms"] / 1e3
    metrics = ["train_s", "decision_s", "time", "energy", "objective", "nrr_opt", "nrr_pso"]
    table = aggregate(rows, metrics, by=("method",))
    for key in ("train_s", "inference_s", "time", "energy"):
        table[f"paper_{key}"] = [paper.TABLE5.get(m, {}).get(key) for m in table.method]
    table["method"] = table.method.map(lambda m: LABELS.get(m, m))
    md = to_markdown(table, {"train_s": 1, "decision_s": 5, "time": 2, "energy": 2, "objective": 2,
                             "nrr_opt": 4, "nrr_pso": 4}, keep=("method",),
                     extra=("paper_train_s", "paper_inference_s", "paper_time", "paper_energy"))
    write_table(table, md, csv_path, md_path, title)
    return table


def fig6(evaluations, variants, methods, png, data_csv) -> pd.DataFrame:
    """Fig. 6: total time (s) and energy (J) per task type, grouped bars per method, 95% CI."""
    rows = _select(stack(evaluations, variants), methods)
    table = aggregate(rows, ["time", "energy", "objective"], by=("variant", "method"))
    from dirs.common import write_csv_atomic

    write_csv_atomic(data_csv, table)
    plt = _pyplot()
    kinds = list(dict.fromkeys(variants.values()))
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(kinds))
    for ax, metric, unit in ((axes[0], "time", "total time (s)"), (axes[1], "energy", "total energy (J)")):
        for k, m in enumerate(methods):
            sub = table[table.method == m].set_index("variant").reindex(kinds)
            ax.bar(x + (k - (len(methods) - 1) / 2) * width, sub[metric], width, yerr=sub[f"{metric}_ci"],
                   label=LABELS.get(m, m), capsize=3)
        ax.set_xticks(x, [k.replace("-", " ") for k in kinds])
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Fig. 6: time and energy by task sensitivity (large: M = 8, N = 180)")
    fig.tight_layout()
    save_figure(fig, png)
    return table


def fig7(evaluations, variants, sizes: Mapping[str, int], methods, png, data_csv) -> pd.DataFrame:
    """Fig. 7: mean objective vs number of IoTDs N at M = 10, one line per method, 95% CI band."""
    rows = _select(stack(evaluations, variants), methods)
    rows["num_iotds"] = rows.instance.map(sizes)
    table = aggregate(rows, ["objective", "nrr_opt"], by=("num_iotds", "method")).sort_values(["method", "num_iotds"])
    from dirs.common import write_csv_atomic

    write_csv_atomic(data_csv, table)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    for m in methods:
        sub = table[table.method == m].sort_values("num_iotds")
        if sub.empty:
            continue
        style = dict(linestyle="--", color="black") if m == "optimum" else {}
        ax.errorbar(sub.num_iotds, sub.objective, yerr=sub.objective_ci, marker="o", markersize=3,
                    capsize=2, label=LABELS.get(m, m), **style)
    ax.set_xlabel("number of IoTDs N")
    ax.set_ylabel("objective Σ φT·T + φE·E (s + J)")
    ax.set_title("Fig. 7: objective vs N (M = 10 servers)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, png)
    return table


#: Display names of the allocation ablation's methods.
ABLATION_LABELS = {"levy": "Lévy flight (from Remote)", "dirs": "DIRS (vote)", "dirs+levy": "DIRS + Lévy refinement"}


def allocation_table(evaluations, csv_path, md_path, title: str) -> pd.DataFrame:
    """Allocation ablation: objective, NRR vs the optimum and decision time per (method, allocation)."""
    files: dict[tuple[str, int], list] = {}
    for path in evaluations:
        files.setdefault(instance_of(path), []).append(path)
    rows = load_rows(files)
    table = aggregate(rows, ["objective", "nrr_opt", "nrr_opt_min", "decision_ms"], by=("instance", "method", "allocation"))
    table["method"] = table.method.map(lambda m: ABLATION_LABELS.get(m, m))
    md = to_markdown(table, {"objective": 2, "nrr_opt": 4, "nrr_opt_min": 4, "decision_ms": 2},
                     keep=("instance", "method", "allocation"))
    md += ("\n`exact`: f and p in closed form for the decision (ours, DESIGN §2); `search`: f and p searched "
           "with the decision (the paper's x = [a, f, p], eq. 19); `equal shares, P_max`: the start allocation "
           "of that search. NRR: per-sample objective(optimum) / objective(method), mean and worst sample; "
           "decision time: median per sample at batch 1, allocation included.\n")
    write_table(table, md, csv_path, md_path, title)
    return table
