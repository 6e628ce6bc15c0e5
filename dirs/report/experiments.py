"""Tables III–V and Figs. 6–7 from the per-seed evaluation CSVs (paper §V-D).

Every table carries the exact optimum and Greedy, the NRR against the optimum (per-sample mean),
the NRR against PSO (the paper's definition: NRR_opt(method) / NRR_opt(PSO), i.e. how the method's
reward compares with PSO's on the same scale), and the paper's printed value.  Numbers are mean ±
95% CI over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dirs.report import paper
from dirs.report.figures import _pyplot, save_figure
from dirs.report.tables import aggregate, load_rows, to_markdown, write_table


def instance_of(path: str | Path) -> tuple[str, int]:
    """(instance, seed) of ``results/evaluations/<instance>/seed<k>/<file>.csv``."""
    p = Path(path)
    return p.parent.parent.name, int(p.parent.name.removeprefix("seed"))


def load_evaluations(evaluations: Sequence[str | Path]) -> pd.DataFrame:
    """All rows of the evaluation CSVs ``evaluations``, with ``instance`` and ``seed`` columns."""
    files: dict[tuple[str, int], list] = {}
    for path in evaluations:
        files.setdefault(instance_of(path), []).append(path)
    return load_rows(files)


def stack(evaluations: Sequence[str | Path], variants: Mapping[str, str]) -> pd.DataFrame:
    """All rows of all CSVs, with ``instance``, ``seed`` and ``variant`` columns, plus ``nrr_pso``."""
    rows = load_evaluations(evaluations)
    rows["variant"] = rows["instance"].map(lambda i: variants.get(i, i))
    pso = rows[rows.method == "pso"].set_index(["instance", "seed"])["nrr_opt"]
    key = pd.MultiIndex.from_frame(rows[["instance", "seed"]])
    rows["nrr_pso"] = rows["nrr_opt"].to_numpy() / pso.reindex(key).to_numpy()
    return rows


def _select(rows: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    rows = rows[rows.method.isin(methods)].copy()
    rows["order"] = rows.method.map({m: k for k, m in enumerate(methods)})
    return rows.sort_values(["order"], kind="stable")


def quality_table(
    evaluations,
    variants: Mapping[str, str],
    methods: Sequence[str],
    paper_values: Mapping[str, Mapping[str, float]],
    csv_path,
    md_path,
    title: str,
    labels: Mapping[str, str],
) -> pd.DataFrame:
    """Tables III and IV: objective, time, energy, NRR (vs optimum, vs PSO) per variant × method."""
    rows = _select(stack(evaluations, variants), methods)
    metrics = ["objective", "time", "energy", "nrr_opt", "nrr_pso"]
    table = aggregate(rows, metrics, by=("variant", "method"))
    order = {v: k for k, v in enumerate(dict.fromkeys(variants.values()))}
    table = table.sort_values("variant", key=lambda s: s.map(order), kind="stable")
    for key in ("objective", "time", "energy", "nrr"):
        table[f"paper_{key}"] = [
            paper_values.get(v, {}).get(key) if m == "dirs" else None for v, m in zip(table.variant, table.method)
        ]
    table["method"] = table.method.map(lambda m: labels.get(m, m))
    md = to_markdown(
        table,
        {"objective": 2, "time": 2, "energy": 2, "nrr_opt": 4, "nrr_pso": 4},
        keep=("variant", "method"),
        extra=("paper_objective", "paper_time", "paper_energy", "paper_nrr"),
    )
    write_table(table, md, csv_path, md_path, title)
    return table


def cost_table(
    evaluations, variants, methods, csv_path, md_path, title: str, labels: Mapping[str, str]
) -> pd.DataFrame:
    """Table V: training time, decision time per sample, time, energy, NRR per method."""
    rows = _select(stack(evaluations, variants), methods)
    rows["decision_s"] = rows["decision_ms"] / 1e3
    metrics = ["train_s", "decision_s", "time", "energy", "objective", "nrr_opt", "nrr_pso"]
    table = aggregate(rows, metrics, by=("method",))
    for key in ("train_s", "inference_s", "time", "energy"):
        table[f"paper_{key}"] = [paper.TABLE5.get(m, {}).get(key) for m in table.method]
    table["method"] = table.method.map(lambda m: labels.get(m, m))
    md = to_markdown(
        table,
        {"train_s": 1, "decision_s": 5, "time": 2, "energy": 2, "objective": 2, "nrr_opt": 4, "nrr_pso": 4},
        keep=("method",),
        extra=("paper_train_s", "paper_inference_s", "paper_time", "paper_energy"),
    )
    write_table(table, md, csv_path, md_path, title)
    return table


def fig6(evaluations, variants, methods, png, data_csv, labels: Mapping[str, str], pdf=None) -> pd.DataFrame:
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
            ax.bar(
                x + (k - (len(methods) - 1) / 2) * width,
                sub[metric],
                width,
                yerr=sub[f"{metric}_ci"],
                label=labels.get(m, m),
                capsize=3,
            )
        ax.set_xticks(x, [k.replace("-", " ") for k in kinds])
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Fig. 6: time and energy by task sensitivity (large: M = 8, N = 180)")
    fig.tight_layout()
    save_figure(fig, png, pdf)
    return table


def fig7(
    evaluations, variants, sizes: Mapping[str, int], methods, png, data_csv, labels: Mapping[str, str], pdf=None
) -> pd.DataFrame:
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
        ax.errorbar(
            sub.num_iotds,
            sub.objective,
            yerr=sub.objective_ci,
            marker="o",
            markersize=3,
            capsize=2,
            label=labels.get(m, m),
            **style,
        )
    ax.set_xlabel("number of IoTDs N")
    ax.set_ylabel("objective Σ φT·T + φE·E (s + J)")
    ax.set_title("Fig. 7: objective vs N (M = 10 servers)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, png, pdf)
    return table


#: Display names of the allocation ablation's methods.
ABLATION_LABELS = {"levy": "Lévy flight (from Remote)", "dirs": "DIRS (vote)", "dirs+levy": "DIRS + Lévy refinement"}


def allocation_table(evaluations, csv_path, md_path, title: str) -> pd.DataFrame:
    """Allocation ablation: objective, NRR vs the optimum and decision time per (method, allocation)."""
    rows = load_evaluations(evaluations)
    table = aggregate(
        rows, ["objective", "nrr_opt", "nrr_opt_min", "decision_ms"], by=("instance", "method", "allocation")
    )
    table["method"] = table.method.map(lambda m: ABLATION_LABELS.get(m, m))
    md = to_markdown(
        table,
        {"objective": 2, "nrr_opt": 4, "nrr_opt_min": 4, "decision_ms": 2},
        keep=("instance", "method", "allocation"),
    )
    md += (
        "\n`exact`: f and p in closed form for the decision (ours, docs/design.md §2); `search`: f and p searched "
        "with the decision (the paper's x = [a, f, p], eq. 19); `equal shares, P_max`: the start allocation "
        "of that search. NRR: per-sample objective(optimum) / objective(method), mean and worst sample; "
        "decision time: median per sample at batch 1, allocation included.\n"
    )
    write_table(table, md, csv_path, md_path, title)
    return table


#: Scale study: (label, method row, column) of each measured cost.
SCALE_COSTS = {
    "dirs_decision_ms": ("dirs", "decision_ms"),
    "oracle_decision_ms": ("optimum", "decision_ms"),
    "greedy_decision_ms": ("greedy", "decision_ms"),
    "dirs_train_s": ("dirs", "train_s"),
    "dirs_nrr": ("dirs", "nrr_opt"),
    "dirs_repair_nrr": ("dirs+repair", "nrr_opt"),
}


def fit_power_law(n: np.ndarray, m: np.ndarray, cost: np.ndarray) -> dict[str, float]:
    """Least-squares fit of cost ≈ c · N^a · M^b on log scales; a or b is NaN when N or M does not vary.

    Returns ``{"exp_n": a, "exp_m": b, "r2": R²}`` (all NaN with fewer than two finite points).
    """
    n, m, cost = (np.asarray(v, dtype=np.float64) for v in (n, m, cost))
    ok = np.isfinite(cost) & (cost > 0)
    n, m, y = n[ok], m[ok], np.log(cost[ok])
    out = {"exp_n": float("nan"), "exp_m": float("nan"), "r2": float("nan")}
    if y.size < 2:
        return out
    cols, names = [np.ones_like(y)], []
    for name, v in (("exp_n", n), ("exp_m", m)):
        if np.unique(v).size > 1:
            cols.append(np.log(v))
            names.append(name)
    x = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    out.update(dict(zip(names, (float(c) for c in coef[1:]))))
    resid = y - x @ coef
    tss = float(((y - y.mean()) ** 2).sum())
    out["r2"] = 1.0 - float((resid**2).sum()) / tss if tss > 0 else float("nan")
    return out


def scale_study(
    evaluations, sizes: Mapping[str, Sequence[int]], png, data_csv, csv_path, md_path, title: str, pdf=None
) -> pd.DataFrame:
    """Scale study: per (N, M) the decision times of DIRS, the exact oracle and Greedy, DIRS's
    training time and NRR (mean ± 95% CI over seeds), a power-law fit of each cost in N and M, and a
    three-panel figure (decision time, training time, NRR vs N; one line per M)."""
    rows = load_evaluations(evaluations)
    per_seed = []
    for (inst, seed), grp in rows.groupby(["instance", "seed"], sort=False):
        by = grp.set_index("method")
        rec = {"instance": inst, "seed": seed, "num_iotds": int(sizes[inst][0]), "num_servers": int(sizes[inst][1])}
        for key, (method, col) in SCALE_COSTS.items():
            rec[key] = float(by.loc[method, col]) if method in by.index and col in by else float("nan")
        per_seed.append(rec)
    per_seed = pd.DataFrame(per_seed)
    data = aggregate(per_seed, list(SCALE_COSTS), by=("num_servers", "num_iotds")).sort_values(
        ["num_servers", "num_iotds"]
    )
    from dirs.common import write_csv_atomic

    write_csv_atomic(data_csv, data)
    fits = pd.DataFrame(
        [
            {"cost": key, **fit_power_law(per_seed.num_iotds, per_seed.num_servers, per_seed[key])}
            for key in SCALE_COSTS
            if not key.endswith("nrr")
        ]
    )
    largest = data.sort_values(["num_iotds", "num_servers"]).iloc[-1]
    md = to_markdown(
        data,
        {k: (4 if k.endswith("nrr") else 3 if k.endswith("ms") else 1) for k in SCALE_COSTS},
        keep=("num_iotds", "num_servers"),
    )
    md += "\nPower-law fit cost ≈ c · N^a · M^b (least squares on log scales, every seed):\n\n"
    md += "| cost | a (N) | b (M) | R² |\n|---|---|---|---|\n"
    md += "".join(f"| {r.cost} | {r.exp_n:.2f} | {r.exp_m:.2f} | {r.r2:.3f} |\n" for r in fits.itertuples())
    md += (
        f"\nLargest instance N = {int(largest.num_iotds)}, M = {int(largest.num_servers)}: DIRS decision "
        f"{largest.dirs_decision_ms:.3f} ms, exact oracle {largest.oracle_decision_ms:.3f} ms, "
        f"DIRS NRR {largest.dirs_nrr:.4f}.\n"
    )
    write_table(fits, md, csv_path, md_path, title)

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (m, sub) in enumerate(data.groupby("num_servers")):
        c = colors[k % len(colors)]
        for key, style, label in (
            ("dirs_decision_ms", "-", "DIRS"),
            ("oracle_decision_ms", "--", "exact oracle"),
            ("greedy_decision_ms", ":", "Greedy"),
        ):
            axes[0].errorbar(
                sub.num_iotds,
                sub[key],
                yerr=sub[f"{key}_ci"],
                linestyle=style,
                marker="o",
                markersize=3,
                capsize=2,
                color=c,
                label=f"{label}, M = {m}",
            )
        axes[1].errorbar(
            sub.num_iotds,
            sub.dirs_train_s,
            yerr=sub.dirs_train_s_ci,
            marker="o",
            markersize=3,
            capsize=2,
            color=c,
            label=f"M = {m}",
        )
        axes[2].errorbar(
            sub.num_iotds,
            sub.dirs_nrr,
            yerr=sub.dirs_nrr_ci,
            marker="o",
            markersize=3,
            capsize=2,
            color=c,
            label=f"DIRS, M = {m}",
        )
        axes[2].errorbar(
            sub.num_iotds,
            sub.dirs_repair_nrr,
            yerr=sub.dirs_repair_nrr_ci,
            marker="s",
            markersize=3,
            capsize=2,
            linestyle="--",
            color=c,
            label=f"DIRS + repair, M = {m}",
        )
    sizes_n = sorted(int(v) for v in data.num_iotds.unique())
    for ax, ylabel, log in (
        (axes[0], "decision time per sample (ms, batch 1)", True),
        (axes[1], "DIRS training time (s)", True),
        (axes[2], "NRR vs exact optimum", False),
    ):
        ax.set_xlabel("number of IoTDs N")
        ax.set_ylabel(ylabel)
        ax.set_xscale("log")
        ax.set_xticks(sizes_n, [str(v) for v in sizes_n])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=6, ncol=1)
    axes[1].legend(fontsize=7)
    axes[2].legend(fontsize=6)
    fig.suptitle("Scale study: cost of deciding and learning vs N and M (this machine)")
    fig.tight_layout()
    save_figure(fig, png, pdf)
    return data


def hetero_table(
    evaluations,
    optima,
    variants: Mapping[str, str],
    methods: Sequence[str],
    csv_path,
    md_path,
    title: str,
    labels: Mapping[str, str],
) -> pd.DataFrame:
    """Table ``hetero`` (ours): per instance (size × task mode) each row's NRR against the certified
    optimum (mean, and the worst sample over every seed), its batch-1 decision time, and the
    certified solver's proven relative gap and solve time per sample over every sample and seed."""
    rows = _select(load_evaluations(evaluations), methods)
    rows["variant"] = rows["instance"].map(lambda i: variants.get(i, i))
    table = aggregate(rows, ["nrr_opt", "decision_ms"], by=("variant", "method"))
    worst = rows.groupby(["variant", "method"], sort=False)["nrr_opt_min"].min().rename("nrr_worst")
    table = table.merge(worst.reset_index(), on=["variant", "method"], how="left")
    solver = []
    for path in optima:
        inst, seed = instance_of(path)
        with np.load(path) as z:
            gap = (z["objective"] - z["lower_bound"]) / z["objective"]
            solver.append({"variant": variants.get(inst, inst), "seed": seed, "gap": gap, "ms": z["solve_ms"]})
    stats = []
    for variant, grp in pd.DataFrame(solver).groupby("variant", sort=False):
        gap, ms = np.concatenate(list(grp.gap)), np.concatenate(list(grp.ms))
        stats.append(
            {
                "variant": variant,
                "solver_samples": int(gap.size),
                "gap_median": float(np.median(gap)),
                "gap_max": float(gap.max()),
                "solve_ms_median": float(np.median(ms)),
                "solve_ms_p90": float(np.percentile(ms, 90)),
                "solve_ms_max": float(ms.max()),
            }
        )
    stats = pd.DataFrame(stats)
    table = table.merge(stats, on="variant", how="left")
    order = {v: k for k, v in enumerate(dict.fromkeys(variants.values()))}
    table = table.sort_values("variant", key=lambda s: s.map(order), kind="stable")
    table["method"] = table.method.map(lambda m: labels.get(m, m))
    md = to_markdown(
        table.drop(columns=[c for c in stats.columns if c != "variant"]),
        {"nrr_opt": 4, "decision_ms": 3},
        keep=("variant", "method"),
        extra=("nrr_worst",),
    )
    md += (
        "\nNRR is measured against the best decision the certified solver found; the optimum lies "
        "between its proven lower bound and that decision, so each sample's NRR against the optimum "
        "is between NRR · (1 − gap) and NRR (gap: the proven relative gap below).\n"
    )
    md += "\nCertified optimum per instance (every test sample of every seed):\n\n"
    md += "| instance | samples | gap median | gap max | solve ms median | p90 | max |\n|---|---|---|---|---|---|---|\n"
    md += "".join(
        f"| {r.variant} | {r.solver_samples} | {r.gap_median:.1e} | {r.gap_max:.1e} | "
        f"{r.solve_ms_median:.1f} | {r.solve_ms_p90:.1f} | {r.solve_ms_max:.1f} |\n"
        for r in stats.itertuples()
    )
    write_table(table, md, csv_path, md_path, title)
    return table
