"""The any-size learned scheduler ([anysize]): equivariance, any (N, M), persistence, determinism,
checkpoint/resume, input validation, and a small training run that beats Remote and Local."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dirs.learn import load_policy
from dirs.learn.anysize import KIND, AnySizePolicy, build_net, load_anysize, problem_from_tables
from dirs.learn.anysize_train import AnySizeSettings, make_dataset, train_anysize
from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.heuristics import remote
from dirs.solvers.oracle import solve_exact_tables
from dirs.system import ParameterError, Scenario, SystemParams

TINY = dict(
    steps=20,
    scenarios=6,
    val_scenarios=2,
    batch=4,
    num_iotds=(10, 40),
    num_servers=(2, 4),
    rounds=3,
    checkpoint_every=10,
    eval_every=10,
)


def tiny_settings(**over) -> AnySizeSettings:
    return AnySizeSettings(**{**TINY, **over})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small model trained on the mixture (N ≤ 120, M ≤ 8), saved to a directory."""
    out = tmp_path_factory.mktemp("anysize")
    settings = AnySizeSettings(
        steps=150,
        scenarios=40,
        val_scenarios=4,
        batch=8,
        num_iotds=(10, 120),
        num_servers=(2, 8),
        rounds=6,
        eval_every=50,
        seed=3,
    )
    policy = train_anysize(settings, out, progress=False)
    return policy, out


def scenario(n, m, seed=0, **params):
    sc = Scenario.generate(n, m, params=SystemParams(mec_cpu_hz=10e9, **params), seed=seed)
    return sc, sc.sample_channels(6, seed + 1)


def test_permuting_iotds_permutes_decisions(trained):
    policy, _ = trained
    sc, gains = scenario(60, 5, seed=1)
    perm = np.random.default_rng(0).permutation(60)
    a = policy.decide(gains, sc.params)
    b = policy.decide(gains[:, perm], sc.params)
    np.testing.assert_array_equal(b, a[:, perm])


def test_permuting_servers_permutes_labels(trained):
    policy, _ = trained
    caps = np.array([6e9, 8e9, 10e9, 12e9, 9e9])
    sc, gains = scenario(60, 5, seed=2)
    perm = np.random.default_rng(1).permutation(5)
    a = policy.decide(gains, sc.params.replace(mec_cpu_hz=caps))
    b = policy.decide(gains[:, :, perm], sc.params.replace(mec_cpu_hz=caps[perm]))
    # server perm[k] of the original is server k of the permuted problem
    relabel = np.concatenate([[0], perm + 1])
    np.testing.assert_array_equal(relabel[b], a)


@pytest.mark.parametrize("n,m", [(5, 1), (30, 2), (120, 7), (40, 12), (500, 30)])
def test_one_model_any_size(trained, n, m):
    policy, _ = trained
    sc, gains = scenario(n, m, seed=n + m)
    a = policy.decide(gains, sc.params)
    assert a.shape == (6, n) and a.dtype == np.int64
    assert a.min() >= 0 and a.max() <= m
    # adaptive refinement stops per sample: a batch decides exactly like its samples one by one
    one_by_one = np.stack([policy.decide(g, sc.params) for g in gains])
    np.testing.assert_array_equal(one_by_one, a)


def test_heterogeneous_tasks_and_per_sample_tables(trained):
    policy, _ = trained
    rng = np.random.default_rng(5)
    sc, gains = scenario(40, 4, seed=5)
    hetero = sc.params.replace(cpu_cycles=rng.uniform(0.5e9, 2e9, 40), data_bits=rng.uniform(4e5, 8e6, 40))
    a = policy.decide(gains, hetero)
    assert a.shape == (6, 40)
    tb = cost_tables(gains, hetero)
    per_sample = CostTables(
        tx=tb.tx,
        local=np.tile(tb.local, (6, 1)),
        sqrt_f=np.tile(tb.sqrt_f, (6, 1)),
        mec_cpu_hz=tb.mec_cpu_hz,
        phi_t=tb.phi_t,
    )
    np.testing.assert_array_equal(policy.decide_tables(per_sample), a)
    assert problem_from_tables(per_sample).cost.shape == (6, 40, 4)


def test_save_load_round_trip(trained, tmp_path):
    policy, out = trained
    info = json.loads((out / "policy.json").read_text())
    assert info["kind"] == KIND and info["format_version"] == 1 and info["hparams"]["rounds"] == 6
    assert "train_s" in info["meta"] and info["meta"]["settings"]["seed"] == 3
    loaded = load_policy(out)
    assert isinstance(loaded, AnySizePolicy)
    sc, gains = scenario(80, 6, seed=7)
    np.testing.assert_array_equal(loaded.decide(gains, sc.params), policy.decide(gains, sc.params))
    policy.save(tmp_path / "again")
    again = load_anysize(tmp_path / "again" / "policy.pt")
    np.testing.assert_array_equal(again.decide(gains, sc.params), policy.decide(gains, sc.params))


def test_dirs_policies_still_load_through_dispatch(tmp_path):
    from dirs.learn.agents import InputScaler, Policy
    from dirs.learn.agents import build_net as build_dirs_net

    sc, gains = scenario(12, 2, seed=8)
    pol = Policy(build_dirs_net(12, 2, [16, 16], seed=0), InputScaler.fit(gains), sc.params)
    pol.save(tmp_path)
    assert "kind" not in json.loads((tmp_path / "policy.json").read_text())
    loaded = load_policy(tmp_path)
    assert isinstance(loaded, Policy)
    np.testing.assert_array_equal(loaded.decide(gains), pol.decide(gains))


def test_params_required_and_bound(trained):
    policy, _ = trained
    sc, gains = scenario(30, 3, seed=9)
    with pytest.raises(ParameterError, match="with_params"):
        policy.decide(gains)
    bound = policy.with_params(sc.params)
    np.testing.assert_array_equal(bound.decide(gains), policy.decide(gains, sc.params))
    assert policy.params is None  # binding returns a copy


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0, -1e-6])
def test_decide_rejects_bad_gains(trained, bad):
    policy, _ = trained
    sc, gains = scenario(30, 3, seed=10)
    g = gains.copy()
    g[1, 4, 2] = bad
    with pytest.raises(ParameterError, match="finite and > 0"):
        policy.decide(g, sc.params)


def test_decide_rejects_bad_shape(trained):
    policy, _ = trained
    sc, gains = scenario(30, 3, seed=11)
    with pytest.raises(ParameterError, match="shape"):
        policy.decide(gains[0, :, 0], sc.params)


def test_same_seed_same_weights():
    a = build_net({"hidden": 16, "rounds": 3}, seed=4).state_dict()
    b = build_net({"hidden": 16, "rounds": 3}, seed=4).state_dict()
    c = build_net({"hidden": 16, "rounds": 3}, seed=5).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    s = tiny_settings()
    p1 = train_anysize(s, None, progress=False)
    p2 = train_anysize(s, None, progress=False)
    for k, v in p1.net.state_dict().items():
        assert torch.equal(v, p2.net.state_dict()[k])


class _Interrupt(Exception):
    pass


def test_resume_from_checkpoint_equals_uninterrupted(tmp_path):
    s = tiny_settings()
    full = train_anysize(s, None, progress=False)
    ckpt = tmp_path / "ckpt.pt"
    seen = []

    def crash_after_checkpoint(step, metrics):
        seen.append(step)
        if step == 11:  # the step-10 checkpoint is on disk
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_anysize(s, None, progress=False, checkpoint_path=ckpt, log_metrics=crash_after_checkpoint)
    assert ckpt.is_file() and seen[-1] == 11
    resumed_steps = []
    resumed = train_anysize(
        s, None, progress=False, checkpoint_path=ckpt, log_metrics=lambda step, m: resumed_steps.append(step)
    )
    assert resumed_steps[0] == 11 and resumed_steps[-1] == s.steps
    for k, v in full.net.state_dict().items():
        assert torch.equal(v, resumed.net.state_dict()[k]), k
    with pytest.raises(ValueError, match="other settings"):
        train_anysize(tiny_settings(lr=1e-2), None, progress=False, checkpoint_path=ckpt)


def test_training_beats_remote_and_local_on_held_out(trained):
    policy, _ = trained
    settings = AnySizeSettings(batch=8, num_iotds=(10, 120), num_servers=(2, 8), seed=99)
    held_out = make_dataset(settings, 12, stream=5)
    ratios = {"anysize": [], "remote": [], "local": []}
    for b in held_out:
        tb = b.tables
        opt = tb.objective(solve_exact_tables(tb))
        ratios["anysize"].append(opt / tb.objective(policy.decide_tables(tb)))
        ratios["local"].append(opt / tb.objective(np.zeros(tb.tx.shape[:2], dtype=np.int64)))
        ratios["remote"].append(opt / tb.objective(remote(b.gains, b.params)))
    mean = {k: float(np.mean(np.concatenate(v))) for k, v in ratios.items()}
    assert mean["anysize"] > mean["remote"] + 0.005, mean
    assert mean["anysize"] > mean["local"] + 0.1, mean
    assert mean["anysize"] > 0.98, mean
