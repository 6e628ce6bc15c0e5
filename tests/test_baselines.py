"""DRL baselines (docs/design.md §5): the Gymnasium environment, AC / DDPG (stable-baselines3), MADDPG."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import dirs.baselines
from dirs.baselines import ENV_ID, MECOffloadEnv, ObsStats, decode_scores, load_baseline
from dirs.baselines.maddpg import CentralCritic, StackedActors
from dirs.config import compose
from dirs.solvers.heuristics import random_decision, remote
from dirs.solvers.oracle import solve_exact
from dirs.stages.baselines import train
from dirs.system import Scenario, evaluate
from dirs.system.params import ParameterError

ALGOS = ["ac", "ddpg", "maddpg"]
#: Interactions of the short training runs (a few hundred at most, docs/design.md's smoke rule).
SHORT = 300


@pytest.fixture(scope="module")
def small():
    """10 IoTDs, 2 servers: Random (uniform choice + capacity rule) reaches only ≈ 0.5 of the optimum."""
    sc = Scenario.generate(10, 2, seed=0, name="small")
    return sc, sc.sample_channels(SHORT, 1), sc.sample_channels(100, 2)


@pytest.fixture(scope="module")
def cfg():
    # one update per interaction: the short run's few hundred interactions must suffice
    return compose(
        [
            "scenario=medium",
            "scenario.num_iotds=10",
            "scenario.num_servers=2",
            f"scenario.num_train={SHORT}",
            "seed=0",
            "baseline.ddpg.train_freq=1",
            "baseline.maddpg.train_freq=1",
        ]
    )


@pytest.fixture(scope="module")
def trained(small, cfg):
    torch.set_num_threads(1)
    sc, train_gains, _ = small
    return {algo: train(algo, sc, train_gains, cfg) for algo in ALGOS}


@pytest.mark.parametrize("action_type", ["discrete", "box"])
def test_check_env_passes(small, action_type):
    sc, gains, _ = small
    check_env(MECOffloadEnv(sc, gains[:16], action_type=action_type))
    env = gym.make(ENV_ID, scenario=sc, channels=gains[:16], action_type=action_type)
    check_env(env.unwrapped)
    assert isinstance(env.unwrapped, MECOffloadEnv)


def test_env_loads_scenario_files_and_prices_decisions(tmp_path, small):
    sc, gains, test = small
    sc.save(tmp_path / "scenario.json")
    np.savez(tmp_path / "channels.npz", train=gains, test=test)
    env = gym.make(
        ENV_ID, scenario=tmp_path / "scenario.json", channels=tmp_path / "channels.npz", split="test", shuffle=False
    )
    obs, info = env.reset(seed=3)
    assert obs.shape == (10, 2) and obs.dtype == np.float32 and info["index"] == 0
    a = remote(test[0], sc.params)
    _, reward, terminated, truncated, info = env.step(a)
    assert terminated and not truncated
    assert info["objective"] == pytest.approx(evaluate(a[None], test[:1], sc.params).objective[0])
    assert reward == pytest.approx(0.0, abs=1e-9)  # Remote is the reward's reference
    # a worse decision gets a negative reward; the option picks a sample
    env.reset(options={"index": 5})
    _, reward, *_, info = env.step(np.zeros(10, dtype=np.int64))
    assert info["index"] == 5 and reward < 0


def test_env_cycles_through_every_sample_once_per_pass(small):
    sc, gains, _ = small
    env = MECOffloadEnv(sc, gains[:20])
    seen = [env.reset(seed=0 if k == 0 else None)[1]["index"] for k in range(20)]
    assert sorted(seen) == list(range(20))


def test_env_rejects_bad_settings(small):
    sc, gains, _ = small
    with pytest.raises(ParameterError, match="action_type"):
        MECOffloadEnv(sc, gains, action_type="continuous")
    with pytest.raises(ParameterError, match="reference"):
        MECOffloadEnv(sc, gains, reference="pso")
    with pytest.raises(ParameterError, match="shape"):
        MECOffloadEnv(sc, gains[:, :5])


def test_box_scores_decode_by_argmax():
    scores = np.array([[[0.1, 0.9, -1.0], [1.0, 0.0, 0.5]]])
    np.testing.assert_array_equal(decode_scores(scores), [[1, 0]])


def test_obs_stats_standardise_training_gains(small):
    _, gains, _ = small
    z = ObsStats.fit(gains).transform(gains)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1.0, atol=1e-4)


def test_stacked_actors_match_independent_per_server_networks():
    torch.manual_seed(0)
    actors = StackedActors(3, 7, [11, 5])
    obs = torch.randn(4, 7, 3)
    out = actors(obs)
    for j in range(3):
        x = obs[:, :, j]
        for k, (w, b) in enumerate(zip(actors.weights, actors.biases)):
            x = x @ w[j] + b[j]
            x = torch.sigmoid(x) if k == len(actors.weights) - 1 else torch.relu(x)
        torch.testing.assert_close(out[:, :, j], x)


def test_critic_per_agent_q_replaces_only_that_agents_actions():
    torch.manual_seed(0)
    critic = CentralCritic(6, 3, [16, 8])
    obs, act, mu = torch.randn(5, 6, 3), torch.rand(5, 6, 3), torch.rand(5, 6, 3)
    q = critic.q_per_agent(obs, act, mu)
    for j in range(3):
        joint = act.clone()
        joint[:, :, j] = mu[:, :, j]
        torch.testing.assert_close(q[j], critic(obs, joint))


@pytest.mark.parametrize("algo", ALGOS)
def test_short_training_beats_random_on_held_out_samples(algo, small, trained):
    sc, _, test = small
    opt = evaluate(solve_exact(test, sc.params), test, sc.params).objective
    nrr = lambda a: float(np.mean(opt / evaluate(a, test, sc.params).objective))  # noqa: E731
    learned = nrr(trained[algo].decide(test))
    rand = nrr(random_decision(test, sc.params, np.random.default_rng(0)))
    assert learned > rand + 0.05, (algo, learned, rand)
    assert trained[algo].meta["interactions"] == SHORT and trained[algo].meta["train_s"] > 0


@pytest.mark.parametrize("algo", ALGOS)
def test_save_load_gives_identical_decisions(algo, small, trained, tmp_path):
    _, _, test = small
    trained[algo].save(tmp_path / algo)
    again = load_baseline(tmp_path / algo)
    assert again.meta["algo"] == algo
    np.testing.assert_array_equal(again.decide(test), trained[algo].decide(test))
    np.testing.assert_array_equal(again.decide(test[0]), trained[algo].decide(test)[0])


@pytest.mark.parametrize("algo", ALGOS)
def test_same_seed_same_policy(algo, small, cfg):
    sc, train_gains, test = small
    short = compose(
        [
            "scenario=medium",
            "scenario.num_iotds=10",
            "scenario.num_servers=2",
            "baseline.interactions=40",
            "baseline.ddpg.learning_starts=10",
            "baseline.maddpg.learning_starts=10",
            "baseline.maddpg.train_freq=2",
            "seed=4",
        ]
    )
    a = train(algo, sc, train_gains, short).decide(test)
    b = train(algo, sc, train_gains, short).decide(test)
    np.testing.assert_array_equal(a, b)


def test_baseline_config_is_validated():
    with pytest.raises(ParameterError, match="baseline.reference"):
        compose(["baseline.reference=pso"])
    with pytest.raises(ParameterError, match="baseline.interactions"):
        compose(["baseline.interactions=0"])
    with pytest.raises(ParameterError, match="baseline.algorithms"):  # no such key: the registry decides
        compose(["baseline.algorithms=[ac,ppo]"])
    with pytest.raises(ParameterError, match="unknown method 'ppo'"):
        train("ppo", None, None, None)


def test_registered_on_import():
    assert dirs.baselines.ENV_ID in gym.registry
