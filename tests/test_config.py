"""Every config composes; wrong types and values fail at compose time naming the key."""

from pathlib import Path

import pytest

from dirs.config import compose, config_dir, load_frozen, save_frozen, system_params
from dirs.system import ParameterError

GROUPS = {p.name: sorted(f.stem for f in p.glob("*.yaml")) for p in config_dir().iterdir() if p.is_dir()}


@pytest.mark.parametrize("group,option", [(g, o) for g, opts in GROUPS.items() for o in opts])
def test_every_config_composes(group, option):
    cfg = compose([f"{group}={option}"])
    system_params(cfg)


@pytest.mark.parametrize("profile", GROUPS["profile"])
@pytest.mark.parametrize("scenario", GROUPS["scenario"])
def test_profiles_and_scenarios_compose(profile, scenario):
    cfg = compose([f"profile={profile}", f"scenario={scenario}"])
    assert cfg.scenario.name == scenario and cfg.profile.name == profile


def test_stable_override_keys():
    cfg = compose(
        ["scenario=large", "scenario.num_iotds=50", "scenario.num_servers=4", "scenario.placement=gaussian", "seed=9"]
    )
    assert (cfg.scenario.num_iotds, cfg.scenario.num_servers, cfg.seed) == (50, 4, 9)
    assert cfg.scenario.placement.value == "gaussian"


@pytest.mark.parametrize(
    "override,key",
    [
        ("scenario.placement=spiral", "scenario.placement"),
        ("scenario.num_iotds=many", "scenario.num_iotds"),
        ("seed=abc", "seed"),
        ("scenario=huge", "scenario"),
        ("scenario.num_iotds=0", "scenario.num_iotds"),
        ("scenario.bandwidth_hz=-1", "scenario.bandwidth_hz"),
    ],
)
def test_bad_overrides_name_the_key(override, key):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        compose([override])


def test_frozen_round_trip(tmp_path: Path):
    cfg = compose(["scenario=xlarge", "seed=2"])
    save_frozen(cfg, tmp_path / "c.yaml")
    back = load_frozen(tmp_path / "c.yaml")
    assert back.scenario.num_iotds == 200 and back.seed == 2


@pytest.mark.parametrize(
    "overrides, train, test",
    [
        (["profile=smoke", "scenario=hetero", "scenario.num_test=100", "scenario.num_train=5000"], 64, 16),
        (["scenario=hetero", "scenario.num_test=100", "scenario.num_train=5000"], 5000, 100),
        (["profile=smoke", "profile.max_test=null", "scenario.num_test=100"], 64, 100),
    ],
)
def test_profile_caps_sample_counts(overrides, train, test):
    """profile.max_train / max_test bound the splits after every override (an experiment's own)."""
    cfg = compose(overrides)
    assert (cfg.scenario.num_train, cfg.scenario.num_test) == (train, test)


@pytest.mark.parametrize("key", ["train", "test"])
def test_zero_cap_is_refused(key):
    with pytest.raises(ParameterError, match=f"scenario.num_{key}"):
        compose([f"profile.max_{key}=0"])
