"""Bad input fails early with a clear message, a non-zero exit, and no output file written.

Each case runs a real stage through the ``python -m dirs`` entry point (in-process, for speed;
one case also as a real subprocess) in a scratch directory.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dirs.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    returncode: int
    stderr: str


@pytest.fixture
def run_stage(monkeypatch, capsys):
    monkeypatch.setenv("DIRS_CONF_DIR", str(ROOT / "conf"))

    def run(cwd: Path, *args: str) -> Result:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([*args, "tracking.enabled=false"])
        return Result(code, capsys.readouterr().err)

    return run


def test_subprocess_exit_code_and_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DIRS_CONF_DIR": str(ROOT / "conf"), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "dirs", "generate_scenario", "scenario.num_iotds=0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "scenario.num_iotds: must be >= 1" in proc.stderr
    assert not list(tmp_path.rglob("*.json"))


def outputs(cwd: Path) -> list[Path]:
    return [p for p in cwd.rglob("*") if p.is_file() and p.suffix in (".json", ".npz", ".csv")]


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["scenario.num_iotds=0"], "scenario.num_iotds: must be >= 1"),
        (["scenario.num_servers=0"], "scenario.num_servers: must be >= 1"),
        (["scenario=large", "scenario.num_iotds=5"], "num_servers <= num_iotds"),
        (["scenario.bandwidth_hz=0"], "scenario.bandwidth_hz: must be > 0"),
        (["scenario.max_power_w=-1.5"], "scenario.max_power_w: must be > 0"),
        (["scenario.noise_w=0"], "scenario.noise_w: must be > 0"),
        (["scenario.mec_cpu_hz=-1e9"], "scenario.mec_cpu_hz: must be > 0"),
        (["scenario.phi_t=0", "scenario.phi_e=0"], "phi_t"),
        (["scenario.placement=spiral"], "expected one of [uniform, gaussian, levy]"),
        (["scenario.num_iotds=thirty"], "scenario.num_iotds"),
        (["scenario=medium", "scenario.server_positions=[[1,1]]"], "scenario.server_positions"),
    ],
)
def test_bad_configuration(run_stage, tmp_path, overrides, message):
    proc = run_stage(tmp_path, "generate_scenario", *overrides)
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr
    assert outputs(tmp_path) == []


def _scenario(run_stage, tmp_path):
    proc = run_stage(tmp_path, "generate_scenario", "profile=smoke")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "data/scenarios/medium/seed0"


def test_scenario_file_of_another_format_version(run_stage, tmp_path):
    d = _scenario(run_stage, tmp_path)
    data = json.loads((d / "scenario.json").read_text())
    data["format_version"] = 99
    (d / "scenario.json").write_text(json.dumps(data))
    proc = run_stage(tmp_path, "solve_optimum", "profile=smoke")
    assert proc.returncode == 2 and "format_version 99 is not supported" in proc.stderr
    assert not (tmp_path / "results/evaluations/medium/seed0/optimum.npz").exists()


def test_channels_whose_shape_disagrees(run_stage, tmp_path):
    d = _scenario(run_stage, tmp_path)
    np.savez(d / "channels.npz", train=np.ones((4, 31, 2)), test=np.ones((4, 31, 2)))
    proc = run_stage(tmp_path, "solve_optimum", "profile=smoke")
    assert proc.returncode == 2 and "disagrees with the scenario" in proc.stderr
    assert not (tmp_path / "results/evaluations/medium/seed0/optimum.npz").exists()


@pytest.mark.parametrize("bad", [np.nan, -1e-6, np.inf])
def test_nan_or_negative_gains(run_stage, tmp_path, bad):
    d = _scenario(run_stage, tmp_path)
    with np.load(d / "channels.npz") as z:
        train, test = z["train"], z["test"].copy()
    test[2, 3, 1] = bad
    np.savez(d / "channels.npz", train=train, test=test)
    proc = run_stage(tmp_path, "solve_optimum", "profile=smoke")
    assert proc.returncode == 2 and "channel gains must be finite and > 0" in proc.stderr
    assert "(2, 3, 1)" in proc.stderr


def test_unwritable_results_directory(run_stage, tmp_path):
    (tmp_path / "blocker").write_text("a file where a directory should be")
    proc = run_stage(tmp_path, "generate_scenario", "paths.data_dir=blocker/data")
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "blocker" in proc.stderr


def test_unknown_stage(run_stage, tmp_path):
    proc = run_stage(tmp_path, "train_everything")
    assert proc.returncode == 2 and "unknown stage" in proc.stderr


def test_more_demonstrations_than_training_samples(run_stage, tmp_path):
    _scenario(run_stage, tmp_path)
    proc = run_stage(tmp_path, "generate_demos", "profile=smoke", "search.num_demos=100000")
    assert proc.returncode == 2 and "search.num_demos: 100000 demonstrations need" in proc.stderr
    assert not list((tmp_path / "data").rglob("demos.npz"))


@pytest.mark.parametrize(
    "override,message",
    [
        ("search.online.beta=2.5", "search.online.beta: Lévy exponent must lie in (0, 2]"),
        ("search.online.th=1.5", "search.online.th: crossover threshold must lie in [0, 1]"),
        ("search.demo.population=0", "search.demo.population: must be >= 1"),
        ("search.demonstrator=teacher", "expected one of [levy, oracle]"),
    ],
)
def test_bad_search_settings(run_stage, tmp_path, override, message):
    proc = run_stage(tmp_path, "generate_demos", override)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert outputs(tmp_path) == []


@pytest.mark.parametrize("hidden", ["[]", "[300,0]", "[-5]"])
def test_inconsistent_layer_sizes(run_stage, tmp_path, hidden):
    proc = run_stage(tmp_path, "pretrain_agents", f"dirs.hidden={hidden}")
    assert proc.returncode == 2 and "dirs.hidden: hidden layer sizes must be" in proc.stderr, proc.stderr


def test_policy_used_on_a_scenario_of_another_size(tmp_path):
    from dirs.learn import load_policy
    from dirs.learn.agents import InputScaler, Policy, build_net
    from dirs.system import ParameterError, Scenario

    sc = Scenario.generate(30, 2, seed=0)
    gains = sc.sample_channels(16, 0)
    Policy(build_net(30, 2, None, seed=0), InputScaler.fit(gains), sc.params).save(tmp_path / "p")
    pol = load_policy(tmp_path / "p")
    assert pol.decide(gains).shape == (16, 30)
    other = Scenario.generate(40, 3, seed=0).sample_channels(4, 0)
    with pytest.raises(ParameterError, match=r"gains: expected shape \(T, 30, 2\), got \(4, 40, 3\)"):
        pol.decide(other)
