"""A training stage killed with SIGKILL at several points and rerun gives the outputs of an
uninterrupted run, bit for bit (CPU), because online training checkpoints atomically and resumes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from dirs.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
# the smoke profile caps training at 64 samples (profile.max_train): lift the cap so that online
# training runs ~2000 slots with ~40 checkpoints, long enough to be killed between any two of them
BASE = [
    "profile=smoke",
    "profile.max_train=null",
    "scenario.num_train=2000",
    "dirs.checkpoint_every=50",
    "dirs.validate_every=500",
    "tracking.enabled=false",
]
TIMING_KEYS = {"online_s", "train_s", "pretrain_s"}


def _stage(cwd: Path, stage: str, *overrides: str) -> None:
    cwd_before = os.getcwd()
    os.chdir(cwd)
    try:
        assert main([stage, *BASE, *overrides]) == 0
    finally:
        os.chdir(cwd_before)


def _launch(cwd: Path, results: str) -> subprocess.Popen:
    env = {**os.environ, "DIRS_CONF_DIR": str(ROOT / "conf")}
    return subprocess.Popen(
        [sys.executable, "-m", "dirs", "train_agents", *BASE, f"paths.results_dir={results}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _strip_timing(meta):
    """``meta`` without timings and without the paths of its provenance records (the two runs live in
    different directories; the inputs' digests must still agree)."""
    if isinstance(meta, dict):
        return {k: _strip_timing(v) for k, v in meta.items() if k not in TIMING_KEYS and k != "path"}
    return meta


def _assert_identical(a, b, where="policy.pt"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f"{where}[{k}]")
    else:
        assert a == b, where


@pytest.mark.slow
def test_sigkill_at_five_points_then_rerun_is_bit_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRS_CONF_DIR", str(ROOT / "conf"))
    for stage in ("generate_scenario", "generate_demos", "pretrain_agents"):
        _stage(tmp_path, stage)
    shutil.copytree(tmp_path / "results", tmp_path / "killed")
    _stage(tmp_path, "train_agents")  # the uninterrupted reference, in results/

    ckpt = tmp_path / "killed/checkpoints/medium/seed0/dirs/online.pt"
    policy = tmp_path / "killed/models/medium/seed0/dirs/policy.pt"
    kills = 0
    for writes_before_kill in (0, 1, 1, 2, 1):  # 0: killed while starting up, before any checkpoint
        had_checkpoint = ckpt.exists()
        proc = _launch(tmp_path, "killed")
        seen = ckpt.stat().st_mtime_ns if had_checkpoint else None
        writes, deadline = 0, time.monotonic() + 300
        while writes < writes_before_kill and proc.poll() is None and time.monotonic() < deadline:
            try:
                now = ckpt.stat().st_mtime_ns
            except FileNotFoundError:  # not yet written, or removed by a finished run: no write
                now = None
            if now is not None and now != seen:
                writes, seen = writes + 1, now
            time.sleep(0.002)
        if writes_before_kill == 0:
            time.sleep(1.0)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate()
            kills += 1
            if had_checkpoint and writes_before_kill:  # it got as far as writing: it must have resumed
                assert "resuming dirs from checkpoint" in err, err[-3000:]
            assert not policy.exists(), "a killed run must not leave a finished-looking policy"
    assert kills >= 5
    proc = _launch(tmp_path, "killed")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "resuming dirs from checkpoint" in err

    ref_dir = tmp_path / "results/models/medium/seed0/dirs"
    got_dir = tmp_path / "killed/models/medium/seed0/dirs"
    ref = torch.load(ref_dir / "policy.pt", weights_only=True)
    got = torch.load(got_dir / "policy.pt", weights_only=True)
    _assert_identical(ref, got)
    assert (ref_dir / "training.csv").read_bytes() == (got_dir / "training.csv").read_bytes()
    ref_meta = json.loads((ref_dir / "policy.json").read_text())
    got_meta = json.loads((got_dir / "policy.json").read_text())
    assert _strip_timing(ref_meta) == _strip_timing(got_meta)
    assert not ckpt.exists()  # removed once the stage has finished
    pd.testing.assert_frame_equal(pd.read_csv(ref_dir / "training.csv"), pd.read_csv(got_dir / "training.csv"))
