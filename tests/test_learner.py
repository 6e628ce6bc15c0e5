"""DIRS learner: agents, vote through the policy, prioritised replay (eq. 15), imitation, online
training (determinism, checkpoint/resume), save/load."""

import numpy as np
import pytest
import torch

from dirs.learn import load_policy
from dirs.learn.agents import InputScaler, Policy, build_net, hidden_layers
from dirs.learn.replay import PrioritisedReplay
from dirs.learn.training import Trainer, TrainSettings, accuracy, set_determinism
from dirs.solvers.costs import cost_tables
from dirs.solvers.oracle import solve_exact_tables
from dirs.system import Scenario, SystemParams


@pytest.fixture(scope="module")
def small():
    """A small fixed instance (N=10, M=2) with train/validation channel samples and exact labels."""
    sc = Scenario.generate(10, 2, params=SystemParams(mec_cpu_hz=4e9), seed=3, server_placement="kmeans")
    rng = np.random.default_rng(0)
    train, val = sc.sample_channels(400, rng), sc.sample_channels(64, rng)
    return sc, train, val, solve_exact_tables(cost_tables(train, sc.params))


def trainer(sc, train, **kw):
    set_determinism(1)
    s = TrainSettings(**{"batch": 64, "pretrain_steps": 50, "validate_every": 100, **kw})
    return Trainer(s, InputScaler.fit(train), sc.params, sc.num_iotds, sc.num_servers, seed=7)


@pytest.mark.parametrize("n,expected", [(30, [80, 60]), (180, [260, 200]), (200, [300, 250]), (100, [150, 125])])
def test_paper_layer_sizes(n, expected):
    assert hidden_layers(n) == expected
    net = build_net(n, 3, None, 0)
    assert net.sizes == [n, *expected, n]
    assert net.weights[0].shape == (3, n, expected[0])  # stacked: (M, in, out)


def test_stacked_forward_equals_per_agent_mlps():
    net = build_net(6, 3, [5, 4], 0)
    x = torch.randn(3, 7, 6)
    out = net(x)
    for j in range(3):
        h = x[j]
        for k, (w, b) in enumerate(zip(net.weights, net.biases)):
            h = h @ w[j] + b[j]
            h = torch.relu(h) if k < 2 else h
        torch.testing.assert_close(out[j], h)


@pytest.mark.parametrize("shape", [(3, 40, [8, 6]), (2, 6, [30, 10]), (4, 12, [12, 12])])
def test_inference_layout_keeps_the_forward(shape):
    """Policy's weights stored for batch-1 speed ((M, out, in) when out < in) compute the same logits."""
    m, n, hidden = shape
    net = build_net(n, m, hidden, 1)
    pol = Policy(net, InputScaler(np.zeros((n, m)), np.ones((n, m))), None)
    transposed = [w.stride(-1) != 1 for w, _ in pol._layers]
    assert transposed == [o < i for i, o in zip(net.sizes[:-1], net.sizes[1:])]
    x = torch.randn(m, 5, n)
    with torch.inference_mode():
        torch.testing.assert_close(pol.logits(x), net(x), rtol=1e-5, atol=1e-6)


def test_policy_votes_local_when_every_agent_is_below_half(small):
    sc, train, *_ = small
    net = build_net(sc.num_iotds, sc.num_servers, [8, 8], 0)
    with torch.no_grad():
        net.biases[-1].fill_(-50.0)  # every output ≈ 0 < 0.5
    pol = Policy(net, InputScaler.fit(train), sc.params)
    assert np.all(pol.decide(train[:5]) == 0)
    with torch.no_grad():
        net.biases[-1][1].fill_(50.0)  # agent 2 says "to me" for everyone
    assert np.all(pol.decide(train[:5]) == 2)


def test_replay_sampling_follows_eq15():
    buf = PrioritisedReplay(8, 3, 2, eps_agent=0.08, eps_demo=0.02)
    g = np.ones((8, 3, 2))
    buf.add(g[:3], np.zeros((3, 3), int), demo=True)
    buf.add(g[3:], np.zeros((5, 3), int), demo=False)
    delta = np.array([0.0, 0.5, 1.0, 0.0, 0.1, 0.2, 0.3, 2.0])
    buf.update(np.arange(8), delta)
    w = delta + np.where(np.arange(8) < 3, 0.02, 0.08)
    np.testing.assert_allclose(buf.probabilities(), w / w.sum())
    idx = buf.sample(400_000, np.random.default_rng(1))
    freq = np.bincount(idx, minlength=8) / len(idx)
    np.testing.assert_allclose(freq, w / w.sum(), atol=3e-3)


def test_replay_overwrites_oldest_agent_data_first():
    buf = PrioritisedReplay(4, 2, 1)
    g = np.arange(6, dtype=float)[:, None, None] * np.ones((6, 2, 1))
    buf.add(g[:2], np.zeros((2, 2), int), demo=True)
    buf.add(g[2:4], np.zeros((2, 2), int), demo=False)
    buf.add(g[4:5], np.zeros((1, 2), int), demo=False)  # replaces the agent entry g=2
    assert sorted(buf.gains[:, 0, 0]) == [0, 1, 3, 4] and buf.is_demo.sum() == 2
    buf.add(g[5:6], np.zeros((1, 2), int), demo=False)  # replaces the agent entry g=3
    assert sorted(buf.gains[:, 0, 0]) == [0, 1, 4, 5]


def test_imitation_reaches_high_accuracy(small):
    sc, train, val, labels = small
    tr = trainer(sc, train, lr=3e-3)
    losses = tr.pretrain(train[:256], labels[:256], steps=300)
    assert losses.shape == (300, 2) and losses[-20:].mean() < 0.5 * losses[:5].mean()
    assert accuracy(tr.net, tr.scaler, train[:256], labels[:256]) >= 0.9


@pytest.mark.parametrize("exploration", ["levy", "epsilon_greedy"])
def test_training_is_deterministic_and_resumes_bit_identically(small, exploration):
    sc, train, val, labels = small
    slots = train[:200]
    tables = cost_tables(slots, sc.params)
    vt = cost_tables(val, sc.params)
    validation = (val, vt, vt.objective(solve_exact_tables(vt)))

    def run(stop=None, state=None):
        tr = trainer(sc, train, exploration=exploration, refine_every=4)
        if state is None:
            tr.pretrain(train[:64], labels[:64], steps=10)
        else:
            tr.load_state_dict(state)
        saved = {}
        tr.train_online(
            slots,
            tables,
            validation=validation,
            stop_after=stop,
            checkpoint=lambda t: saved.setdefault("s", t.state_dict()),
            checkpoint_every=80,
        )
        return tr, saved

    a, _ = run()
    b, _ = run()
    _, saved = run(stop=120)  # "killed" after 120 slots; last checkpoint at slot 80
    assert saved["s"]["slot"] == 80
    c, _ = run(state=saved["s"])
    for other in (b, c):
        for k, v in a.net.state_dict().items():
            assert torch.equal(v, other.net.state_dict()[k]), k
        assert a.history == other.history
    np.testing.assert_array_equal(a.decide(val), c.decide(val))


def test_save_load_identical_decisions(small, tmp_path):
    sc, train, val, labels = small
    tr = trainer(sc, train)
    tr.pretrain(train[:64], labels[:64], steps=20)
    pol = tr.policy({"variant": "test"})
    pol.save(tmp_path)
    loaded = load_policy(tmp_path)
    assert loaded.meta["variant"] == "test"
    for repair in (False, True):
        np.testing.assert_array_equal(pol.decide(val, repair=repair), loaded.decide(val, repair=repair))
    np.testing.assert_array_equal(loaded.decide(val[0]), loaded.decide(val[:1])[0])  # batch of one sample


def test_repair_never_worse(small):
    sc, train, val, labels = small
    pol = trainer(sc, train).policy()
    vt = cost_tables(val, sc.params)
    assert np.all(vt.objective(pol.decide(val, repair=True)) <= vt.objective(pol.decide(val)) + 1e-12)


def test_online_training_improves_validation_nrr(small):
    """From a random network, Lévy-refined online training (no imitation) raises the validation NRR."""
    sc, train, val, _ = small
    tr = trainer(sc, train, refine_every=2, steps_per_refine=2, validate_every=100, lr=3e-3)
    tables = cost_tables(train, sc.params)
    vt = cost_tables(val, sc.params)
    opt = vt.objective(solve_exact_tables(vt))
    before = float(np.mean(opt / vt.objective(tr.decide(val))))
    hist = tr.train_online(train, tables, validation=(val, vt, opt))
    after = [h["val_nrr"] for h in hist if "val_nrr" in h]
    assert after[-1] > before + 0.02, (before, after)


def test_unknown_exploration_is_rejected():
    from dirs.system.params import ParameterError

    with pytest.raises(ParameterError, match="exploration"):
        TrainSettings(exploration="boltzmann")


def test_refine_repair_stores_local_optima(small):
    from dirs.solvers.local_search import move_deltas

    sc, train, *_ = small
    tr = trainer(sc, train, refine_repair=True)
    tables = cost_tables(train[:3], sc.params)
    for t in range(3):
        one = cost_tables(train[t : t + 1], sc.params)
        best = tr.explore(train[t : t + 1], np.zeros((1, sc.num_iotds), int), one)
        assert move_deltas(best[None], one).min() > -1e-9 * np.abs(tables.local).sum()


def test_non_finite_loss_stops_training_with_a_clear_error():
    """A diverging update (here: NaN weights) raises instead of writing a broken model."""
    from dirs.config import compose
    from dirs.stages.learner import make_trainer
    from dirs.system.families import paper_scenario

    cfg = compose(["profile=smoke", "scenario.num_iotds=6", "scenario.num_servers=2"])
    sc = paper_scenario(cfg)
    train = sc.sample_channels(40, 0)
    trainer = make_trainer(cfg, "dirs", cfg.dirs.variants["dirs"], sc, train)
    trainer.buffer.add(train[:8], np.zeros((8, 6), dtype=np.int64), demo=True)
    with torch.no_grad():
        for p in trainer.net.parameters():
            p.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="training diverged: non-finite L1 loss"):
        trainer.update("L1")


def test_model_selection_keeps_the_best_validated_weights(small):
    """``select="best"`` returns the snapshot of the highest validation NRR (seen in pre-training or
    online), ``"last"`` the current weights; the snapshot survives a checkpoint round trip."""
    sc, train, val, labels = small
    tr = trainer(sc, train, pretrain_validate_every=10, refine_every=2, validate_every=50, lr=3e-3)
    vt = cost_tables(val, sc.params)
    validation = (val, vt, vt.objective(solve_exact_tables(vt)))
    tr.pretrain(train[:64], labels[:64], validation=validation)
    tr.train_online(train[64:264], cost_tables(train[64:264], sc.params), validation=validation)
    seen = [h["val_nrr"] for h in tr.pretrain_history + tr.history if "val_nrr" in h]
    assert len(seen) == 5 + 4 and tr.best["val_nrr"] == max(seen)

    def nrr(pol):
        return float(np.mean(validation[2] / vt.objective(pol.decide(val))))

    best, last = tr.policy(select="best"), tr.policy(select="last")
    assert nrr(best) == pytest.approx(max(seen)) and nrr(last) == pytest.approx(seen[-1])
    assert best.meta["selected_at"] == tr.best["at"] and best.meta["val_nrr_selected"] == max(seen)
    assert last.meta["selected"] == "last"
    clone = trainer(sc, train)
    clone.load_state_dict(tr.state_dict())
    np.testing.assert_array_equal(clone.policy(select="best").decide(val), best.decide(val))
    with pytest.raises(Exception, match="select"):
        tr.policy(select="median")


def test_model_selection_setting_is_validated():
    from dirs.config import compose
    from dirs.system.params import ParameterError

    with pytest.raises(ParameterError, match=r"dirs.select: unknown value 'median'; allowed: \['best', 'last'\]"):
        compose(["dirs.select=median"])
