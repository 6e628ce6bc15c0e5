"""Snakemake profiles (workflow/profiles/): they parse, resolve per-rule resources, and the tracking
store warns when a SLURM job would write to the embedded SQLite file."""

import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_workflow import copy_workflow

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
HAS_SLURM_PLUGIN = importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None


def profile(name: str) -> dict:
    return yaml.safe_load((ROOT / "workflow/profiles" / name / "config.yaml").read_text())


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("wf"))


def snakemake(cwd, *args):
    proc = subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout + proc.stderr


def test_slurm_profile_names_existing_rules(workflow_copy):
    rules = set(snakemake(workflow_copy, "--list-rules").split())
    cfg = profile("slurm")
    assert cfg["executor"] == "slurm"
    unknown = set(cfg["set-resources"]) - rules
    assert not unknown, f"set-resources names rules that do not exist: {sorted(unknown)}"
    for rule, res in {"default": cfg["default-resources"], **cfg["set-resources"]}.items():
        assert set(res) <= {"runtime", "mem_mb", "cpus_per_task", "slurm_partition", "slurm_account"}, rule


@pytest.mark.parametrize(
    "name",
    [
        "default",
        pytest.param(
            "slurm",
            marks=pytest.mark.skipif(
                not HAS_SLURM_PLUGIN, reason="optional extra `cluster` (snakemake-executor-plugin-slurm) not installed"
            ),
        ),
    ],
)
def test_profile_dry_run(workflow_copy, name):
    out = snakemake(workflow_copy, "-n", "--profile", f"workflow/profiles/{name}", "--config", "profile=smoke")
    assert "evaluate_method" in out
    if name == "slurm":
        res = profile("slurm")["set-resources"]["evaluate_method"]
        assert f"runtime={res['runtime']}" in out and f"mem_mb={res['mem_mb']}" in out


def test_sqlite_store_warns_inside_slurm_job(monkeypatch, caplog, tmp_path):
    from dirs import tracking

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "_warned_sqlite", False)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    with caplog.at_level(logging.WARNING, logger="dirs.tracking"):
        assert tracking.tracking_uri(tmp_path).startswith("sqlite:///")
    assert "4242" in caplog.text and "MLFLOW_TRACKING_URI" in caplog.text

    caplog.clear()
    monkeypatch.setattr(tracking, "_warned_sqlite", False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    with caplog.at_level(logging.WARNING, logger="dirs.tracking"):
        assert tracking.tracking_uri(tmp_path) == "http://127.0.0.1:5000"
    assert caplog.text == ""
