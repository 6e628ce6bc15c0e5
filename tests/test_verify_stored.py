"""``python -m dirs.verify certificates`` (dirs/verify/stored.py, issue [certify]) on a tiny results tree
built by the stages themselves: sound certificates pass, a tampered lower bound is caught and named,
per-slot tasks are priced per sample, and a checkout without results/ is not an error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dirs.config import compose
from dirs.stages import get, restrict
from dirs.verify.__main__ import main
from dirs.verify.fuzz import load_cases
from dirs.verify.stored import find_optima, pick_samples, verify_optimum, verify_tree

SMALL = [
    "scenario=hetero",
    "scenario.num_iotds=10",
    "scenario.num_servers=3",
    "scenario.num_train=4",
    "scenario.num_test=5",
    "tracking.enabled=false",
]


def _run(stage_name, cfg):
    stage = get(stage_name)
    stage.fn(restrict(cfg, stage), **stage.paths(cfg))
    return stage.paths(cfg)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """data/ and results/ with two instances: fixed tasks and per-slot tasks."""
    root = tmp_path_factory.mktemp("certs")
    common = [f"paths.data_dir={root}/data", f"paths.results_dir={root}/results"]
    for name, extra in (("hetero-tiny", []), ("hetero-tiny-perslot", ["scenario.options.task_mode=per-slot"])):
        cfg = compose([*SMALL, *common, *extra, f"scenario.name={name}", "seed=0"])
        _run("generate_scenario", cfg)
        _run("solve_optimum", cfg)
    return root


def test_sound_certificates_pass(tree, capsys):
    found = find_optima(tree / "results")
    assert [(n, s) for n, s, _ in found] == [("hetero-tiny", 0), ("hetero-tiny-perslot", 0)]
    reports = verify_tree(tree / "results", tree / "data", milp_time_limit_s=10)
    for rep in reports:
        assert not rep.error and not rep.note, (rep.error, rep.note)
        assert rep.samples_total == 5 and len(rep.checks) == 5
        assert not rep.failures, [c.describe() for c in rep.failures]
        for c in rep.checks:
            assert c.ind_method == "milp" and c.ind_proven
            assert c.stored_lower_bound <= c.best_feasible * (1 + 1e-9)
            assert c.own_cost == pytest.approx(c.stored_objective, rel=1e-9)
    assert main(["certificates", "--results", str(tree / "results"), "--data", str(tree / "data")]) == 0
    out = capsys.readouterr().out
    assert "hetero-tiny seed0: 5 of 5 samples checked, 0 failure(s)" in out
    assert "hetero-tiny-perslot seed0: 5 of 5 samples checked, 0 failure(s)" in out and "OK" in out


def test_a_lower_bound_above_a_feasible_cost_is_caught(tree, tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(tree / "results", results)
    path = results / "evaluations" / "hetero-tiny-perslot" / "seed0" / "optimum.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["lower_bound"] = arrays["lower_bound"].copy()
    arrays["lower_bound"][3] = arrays["objective"][3] * (1 + 1e-6)  # above the stored decision's cost
    np.savez(path, **arrays)
    rep = verify_optimum("hetero-tiny-perslot", 0, path, tree / "data", max_samples=3)
    assert [c.sample for c in rep.checks] == [0, 2, 4]  # evenly spaced: sample 3 not among them
    assert not rep.failures
    rep = verify_optimum("hetero-tiny-perslot", 0, path, tree / "data")
    assert [c.sample for c in rep.failures] == [3] and rep.invalid == 1
    assert rep.failures[0].bound_above_feasible and rep.failures[0].bound_excess_rel > 5e-7
    out = tmp_path / "failures.npz"
    code = main(["certificates", "--results", str(results), "--data", str(tree / "data"), "--out", str(out)])
    assert code == 1
    text = capsys.readouterr().out
    assert "hetero-tiny-perslot seed0: 5 of 5 samples checked, 1 failure(s), 1 invalid" in text
    assert "FAIL sample 3" in text and "FAILED" in text
    (gains, better, params, info), *rest = load_cases(out)
    assert not rest and info["sample"] == 3 and gains.shape == (10, 3) and np.asarray(params.cpu_cycles).shape == (10,)


def test_missing_results_or_data_is_reported_not_fatal(tree, tmp_path, capsys):
    assert main(["certificates", "--results", str(tmp_path / "nothing"), "--data", str(tree / "data")]) == 0
    assert "no results to verify" in capsys.readouterr().out
    rep = verify_optimum("hetero-tiny", 0, tree / "results/evaluations/hetero-tiny/seed0/optimum.npz", tmp_path)
    assert "missing" in rep.error


def test_pick_samples():
    assert list(pick_samples(5, None)) == [0, 1, 2, 3, 4]
    assert list(pick_samples(500, 4)) == [0, 166, 333, 499]
    assert list(pick_samples(3, 10)) == [0, 1, 2]
