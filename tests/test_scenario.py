"""Scenarios, channels, parameter validation."""

import json

import numpy as np
import pytest

from dirs.system import FORMAT_VERSION, ParameterError, Scenario, SystemParams


@pytest.mark.parametrize("placement", ["uniform", "gaussian", "levy"])
@pytest.mark.parametrize("servers", ["kmeans", "fixed"])
def test_round_trip(tmp_path, placement, servers):
    pos = [[10.0, 10.0], [40.0, 40.0]] if servers == "fixed" else None
    sc = Scenario.generate(25, 2, placement=placement, server_placement=servers, server_positions=pos, seed=7)
    assert np.all((sc.users >= 0) & (sc.users <= sc.area_m))
    sc.save(tmp_path / "s.json")
    back = Scenario.load(tmp_path / "s.json")
    np.testing.assert_array_equal(back.users, sc.users)
    np.testing.assert_array_equal(back.servers, sc.servers)
    assert back.params == sc.params and back.placement == placement


def test_same_seed_same_scenario_and_channels():
    a = Scenario.generate(30, 3, seed=5)
    b = Scenario.generate(30, 3, seed=5)
    np.testing.assert_array_equal(a.users, b.users)
    np.testing.assert_array_equal(a.sample_channels(4, 9), b.sample_channels(4, 9))


def test_channel_statistics():
    sc = Scenario.generate(5, 2, seed=0)
    g = sc.sample_channels(20000, 1)
    assert g.shape == (20000, 5, 2)
    d2 = np.maximum(((sc.users[:, None] - sc.servers[None]) ** 2).sum(-1), 1.0)
    np.testing.assert_allclose(g.mean(0), sc.params.beta0 / d2, rtol=0.05)  # E[Exp(1)] = 1


def test_levy_placement_is_heavier_tailed_than_gaussian():
    lev = Scenario.generate(2000, 1, placement="levy", seed=1).users
    gau = Scenario.generate(2000, 1, placement="gaussian", seed=1).users
    spread = lambda u: np.median(np.abs(u - 25.0))  # noqa: E731
    assert spread(lev) < spread(gau)  # more mass near the centre …
    assert (np.abs(lev - 25.0) > 20).mean() > (np.abs(gau - 25.0) > 20).mean() * 0.5  # … and a tail


def test_format_version_is_checked(tmp_path):
    sc = Scenario.generate(4, 1, seed=0)
    data = sc.to_dict()
    data["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "s.json").write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="format_version"):
        Scenario.load(tmp_path / "s.json")


def test_channels_shape_must_match(tmp_path):
    sc = Scenario.generate(4, 2, seed=0)
    np.savez(tmp_path / "c.npz", test=np.ones((3, 5, 2)))
    with pytest.raises(ParameterError, match="disagrees"):
        sc.load_channels(tmp_path / "c.npz")


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"bandwidth_hz": 0.0}, "bandwidth_hz"),
        ({"max_power_w": -1.0}, "max_power_w"),
        ({"noise_w": 0.0}, "noise_w"),
        ({"mec_cpu_hz": -5.0}, "mec_cpu_hz"),
        ({"phi_t": 0.0, "phi_e": 0.0}, "phi_t"),
        ({"phi_e": -1.0}, "phi_e"),
        ({"data_bits": float("nan")}, "data_bits"),
        ({"cpu_cycles": [[[1.0]]]}, "cpu_cycles"),  # (T, N) is a per-sample array; 3-D is not
    ],
)
def test_bad_parameters_raise_clear_errors(changes, match):
    with pytest.raises(ParameterError, match=match):
        SystemParams(**changes)


def test_array_sizes_checked_against_scenario():
    with pytest.raises(ParameterError, match="mec_cpu_hz"):
        Scenario.generate(6, 2, params=SystemParams(mec_cpu_hz=[1e9, 2e9, 3e9]), seed=0)


def test_bad_gains_rejected():
    from dirs.system import evaluate

    g = np.full((1, 3, 2), 1e-5)
    g[0, 1, 0] = np.nan
    with pytest.raises(ParameterError, match="gains"):
        evaluate(np.array([[1, 1, 2]]), g, SystemParams())
    with pytest.raises(ParameterError, match="0..2"):
        evaluate(np.array([[3, 1, 2]]), np.full((1, 3, 2), 1e-5), SystemParams())
