"""The heterogeneous-task scenario family ([hetero]): it generalises the paper's setting, stores
per-slot tasks beside the gains, and every stage prices each sample with its own tasks."""

import numpy as np
import pandas as pd
import pytest

from dirs import io
from dirs.config import compose
from dirs.solvers.oracle import solve_exact
from dirs.solvers.reference import reference_optimum
from dirs.stages import get, restrict
from dirs.system import evaluate
from dirs.system.families import family
from dirs.system.params import ParameterError

SMALL = [
    "scenario=hetero",
    "scenario.num_iotds=12",
    "scenario.num_servers=3",
    "scenario.num_train=24",
    "scenario.num_test=6",
    "tracking.enabled=false",
]


def _generate(overrides, seed=0, tasks=None):
    from omegaconf import open_dict

    cfg = compose([*SMALL, *overrides, f"seed={seed}"])
    if tasks is not None:
        with open_dict(cfg):
            cfg.scenario.options.tasks = tasks
    return family(str(cfg.scenario.family))(cfg, np.random.default_rng([seed, 0xC4A]))


def test_identical_tasks_reproduce_the_paper_instance_and_the_exact_oracle():
    paper_cfg = compose(
        [
            "scenario=xlarge",
            "scenario.num_iotds=12",
            "scenario.num_servers=3",
            "scenario.num_train=24",
            "scenario.num_test=6",
            "scenario.name=hetero",
        ]
    )
    paper_sc, paper = family("paper")(paper_cfg, np.random.default_rng([0, 0xC4A]))
    fixed = {"cpu_cycles": {"dist": "fixed", "value": 1.0e9}, "data_bits": {"dist": "fixed", "value": 8.0e5}}
    sc, arrays = _generate([], tasks=fixed)
    np.testing.assert_array_equal(sc.users, paper_sc.users)
    np.testing.assert_array_equal(arrays["test"], paper["test"])  # same positions, same fading
    ref = reference_optimum(arrays["test"], sc.params)
    assert ref.exact
    np.testing.assert_array_equal(ref.decisions, solve_exact(paper["test"], paper_sc.params))


def test_per_slot_tasks_are_stored_beside_the_gains_and_applied_to_their_split(tmp_path):
    cfg = compose(
        [*SMALL, "scenario.options.task_mode=per-slot", f"paths.data_dir={tmp_path}", f"paths.results_dir={tmp_path}"]
    )
    stage = get("generate_scenario")
    paths = stage.paths(cfg)
    stage.fn(restrict(cfg, stage), **paths)
    with np.load(paths["channels"]) as z:
        assert z["test_cpu_cycles"].shape == (6, 12) and z["train_data_bits"].shape == (24, 12)
        assert np.ptp(z["test_cpu_cycles"], axis=0).max() > 0  # redrawn every slot
    sc, gains = io.load_split(paths["channels"], "test", io.load_scenario(paths["scenario"]))
    assert sc.params.num_samples == 6
    # the split's params price every sample with its own tasks: same as one sample at a time
    a = np.zeros(gains.shape[:2], dtype=int) + 1
    whole = evaluate(a, gains, sc.params).objective
    one = [evaluate(a[t], gains[t], sc.params.sample(t)).objective for t in range(6)]
    np.testing.assert_allclose(whole, one)


def test_fixed_tasks_live_in_the_scenario_params():
    sc, arrays = _generate([])
    f = np.asarray(sc.params.cpu_cycles)
    assert f.shape == (12,) and 0.2e9 <= f.min() and f.max() <= 2e9 and np.ptp(f) > 0
    assert set(arrays) == {"train", "test"}


@pytest.mark.parametrize(
    "override,tasks,match",
    [
        ("scenario.options.task_mode=hourly", None, "scenario.options.task_mode"),
        (None, {"cpu_cycles": {"dist": "normal", "low": 1, "high": 2}}, "cpu_cycles.dist"),
        (None, {"cpu_cycles": {"dist": "uniform", "low": 2e9, "high": 1e9}}, "cpu_cycles"),
        (None, {"speed": {"dist": "fixed", "value": 3}}, "speed"),
    ],
)
def test_bad_family_options_are_refused_by_name(override, tasks, match):
    with pytest.raises(ParameterError, match=match):
        _generate([override] if override else [], tasks=tasks)


def test_corrupt_per_slot_task_array_is_refused(tmp_path):
    sc, arrays = _generate(["scenario.options.task_mode=per-slot"])
    arrays["test_cpu_cycles"] = arrays["test_cpu_cycles"][:, :5]
    path = tmp_path / "channels.npz"
    np.savez(path, **arrays)
    with pytest.raises(ParameterError, match="test_cpu_cycles"):
        io.load_split(path, "test", sc)


def test_hetero_table_reports_nrr_time_and_solver_gap(tmp_path):
    from dirs.report.experiments import hetero_table

    evals, optima = [], []
    for inst in ("hetero-medium", "hetero-medium-perslot"):
        d = tmp_path / "evaluations" / inst / "seed0"
        d.mkdir(parents=True)
        for m, nrr in (("greedy", 0.99), ("optimum", 1.0)):
            pd.DataFrame(
                [
                    {
                        "method": m,
                        "n_samples": 4,
                        "objective": 1 / nrr,
                        "objective_std": 0,
                        "time": 1,
                        "energy": 1,
                        "nrr_opt": nrr,
                        "nrr_opt_min": nrr - 0.01,
                        "decision_ms": 1.0,
                        "decision_batched_ms": 1.0,
                        "train_s": np.nan,
                    }
                ]
            ).to_csv(d / f"{m}.csv", index=False)
            evals.append(d / f"{m}.csv")
        np.savez(
            d / "optimum.npz",
            objective=np.array([1.0, 2.0]),
            lower_bound=np.array([1.0, 2.0 - 2e-7]),
            solve_ms=np.array([3.0, 5.0]),
        )
        optima.append(d / "optimum.npz")
    t = hetero_table(
        evals,
        optima,
        {"hetero-medium": "medium", "hetero-medium-perslot": "medium-perslot"},
        ["greedy", "optimum"],
        tmp_path / "h.csv",
        tmp_path / "h.md",
        "t",
        labels={"greedy": "Greedy", "optimum": "Certified optimum"},
    )
    assert list(t.variant) == ["medium", "medium", "medium-perslot", "medium-perslot"]
    assert t.gap_max.max() == pytest.approx(1e-7) and t.solve_ms_p90.max() == pytest.approx(4.8)
    assert "Certified optimum per instance" in (tmp_path / "h.md").read_text()
