"""No bad input gives a silent wrong result ([inputs], [inputs2]).

Every case feeds one bad input — a configuration override, a damaged file, a bad argument to the
Python API, an action outside the Gymnasium environment's action space, a stage run alone that would
replace a good file — and asserts the error type and that the message names the field or the file;
file cases also assert that no file changed.  Valid inputs at the edges (no sample, no server, huge
gains) get a correct result instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from dirs.system import Scenario, evaluate
from dirs.system.params import ParameterError

ROOT = Path(__file__).resolve().parent.parent
N, M = 6, 2


# ------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """A tiny scenario with every kind of file the pipeline reads, written to one directory."""
    from dirs.baselines.env import ObsStats
    from dirs.baselines.maddpg import MADDPGPolicy, StackedActors
    from dirs.learn.agents import InputScaler, Policy, build_net
    from dirs.learn.anysize import AnySizePolicy
    from dirs.learn.anysize import build_net as build_anysize

    d = tmp_path_factory.mktemp("instance")
    sc = Scenario.generate(N, M, seed=3, name="tiny")
    train, test = sc.sample_channels(8, 1), sc.sample_channels(4, 2)
    sc.save(d / "scenario.json")
    np.savez(d / "channels.npz", train=train, test=test)
    decisions = np.zeros((4, N), dtype=np.int64)
    decisions[:, 0] = 1
    c = evaluate(decisions, test, sc.params)
    np.savez(
        d / "optimum.npz",
        decisions=decisions,
        objective=c.objective,
        lower_bound=c.objective * 0.99,
        time=c.time,
        energy=c.energy,
        solve_ms=np.ones(4),
    )
    np.savez(d / "demos.npz", gains=train[:5], decisions=np.ones((5, N), dtype=np.int64))
    Policy(build_net(N, M, [8], seed=0), InputScaler.fit(train), sc.params).save(d / "policy")
    MADDPGPolicy(
        StackedActors(M, N, [8]), ObsStats.fit(train), {"num_iotds": N, "num_servers": M, "actor_hidden": [8]}
    ).save(d / "maddpg")
    AnySizePolicy(build_anysize({"hidden": 8, "rounds": 3, "max_rounds": 40}), {"train_s": 1.0}).save(d / "anysize")
    return {"dir": d, "scenario": sc, "train": train, "test": test}


@pytest.fixture
def work(instance, tmp_path):
    """A private copy of the instance's files (each case damages one of them)."""
    shutil.copytree(instance["dir"], tmp_path / "inst")
    return tmp_path / "inst"


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- configuration
CONFIG_CASES = [
    (["+scenario.num_iotd=100"], ["scenario.num_iotd", "scenario.num_iotds", "'+' cannot add keys"]),
    (["scenario.num_iotd=100"], ["scenario.num_iotd", "scenario.num_iotds"]),
    (["++scenario.kapa=1e-27"], ["scenario.kapa", "scenario.kappa"]),
    (["~scenario.nonsense"], ["scenario.nonsense"]),
    (["num_iotds=5"], ["num_iotds", "scenario.num_iotds"]),
    (["+dirs.hiden=[3]"], ["dirs.hiden", "dirs.hidden"]),
    (["+dirs.variants.x.imitaton=false"], ["dirs.variants.x.imitaton", "dirs.variants.x.imitation"]),
    (["seed.offset=1"], ["seed.offset"]),
    (["+baseline.ddpg.noise=0.1"], ["baseline.ddpg.noise", "baseline.ddpg.noise_sigma"]),
    (["seed=-1"], ["seed: must be an integer >= 0"]),
    (["profile.seeds=[0,-2]"], ["profile.seeds"]),
    (["scenario.kappa=1e300"], ["scenario.kappa", "local energy"]),
    (["scenario.local_cpu_hz=1e-300"], ["scenario.local_cpu_hz", "local time"]),
    (["scenario.beta0=1e-300"], ["scenario.beta0", "transmission cost"]),
    (["scenario.data_bits=1e308", "scenario.bandwidth_hz=1e-10"], ["scenario.data_bits", "transmission cost"]),
    (["scenario.noise_w=1e300"], ["scenario.noise_w", "transmission cost"]),
    (["scenario.mec_cpu_hz=1e-300"], ["scenario.mec_cpu_hz", "server compute cost"]),
    (["scenario=xlarge", "scenario.num_train=2000000000"], ["scenario.num_train", "GiB", "memory available"]),
    (["scenario.area_m=inf"], ["scenario.area_m"]),
    (
        ["scenario.server_placement=fixed", "scenario.server_positions=[[1.0,1.0],[2.0,nan]]"],
        ["scenario.server_positions[1]"],
    ),
    (["scenario=huge"], ["scenario/huge", "medium"]),
    (["scenario.num_iotds=[1,"], ["cannot parse override 'scenario.num_iotds=[1,'"]),
    # [inputs2]: profile caps, the hetero family's options, physical ranges
    (["profile.max_test=0"], ["profile.max_test", "null (no bound) or an integer >= 1", "got 0"]),
    (["profile.max_test=-1"], ["profile.max_test", "got -1"]),
    (["profile.max_train=0"], ["profile.max_train", "got 0"]),
    (["scenario=hetero", "scenario.options.tasks={}"], ["scenario.options.tasks", "'~scenario.options.tasks'"]),
    (["scenario=hetero", "scenario.options={}"], ["scenario.options", "'~scenario.options'"]),
    (
        ["scenario=hetero", "scenario.options.tasks.cpu_cycles.high=1e300"],
        ["scenario.options.tasks.cpu_cycles.high", "physically meaningful range [1, 1e+15]"],
    ),
    (
        ["scenario=hetero", "scenario.options.tasks.data_bits.high=1e300"],
        ["scenario.options.tasks.data_bits.high", "[1, 1e+12]"],
    ),
    (
        ["scenario=hetero", "scenario.options.tasks.cpu_cycles.low=0"],
        ["scenario.options.tasks.cpu_cycles.low", "> 0"],
    ),
    (
        ["scenario=hetero", "scenario.options.tasks.cpu_cycles=5"],
        ["scenario.options.tasks.cpu_cycles", "distribution dict", "got 5"],
    ),
    (["scenario=hetero", "scenario.options.tasks=5"], ["scenario.options.tasks", "mapping of field"]),
    (
        ["scenario=hetero", "scenario.options.tasks.cpu_cycles.dist=normal"],
        ["scenario.options.tasks.cpu_cycles.dist", "'uniform'"],
    ),
    (
        ["scenario=hetero", "+scenario.options.tasks.speed={dist: fixed, value: 1}"],
        ["scenario.options.tasks", "speed", "cpu_cycles"],
    ),
    (
        ["scenario=hetero", "+scenario.options.servers.mec_cpu_hz={dist: uniform, low: 1e9, high: 1e300}"],
        ["scenario.options.servers.mec_cpu_hz.high", "1e+14"],
    ),
    (["scenario=hetero", "scenario.options.task_mode=hourly"], ["scenario.options.task_mode", "'per-slot'"]),
    (["scenario=hetero", "+scenario.options.weights=1"], ["scenario.options", "weights", "task_mode"]),
    (["+scenario.options.tasks={}"], ["scenario.options", "paper family takes no options"]),
    (["scenario.family=nope"], ["scenario.family", "'nope'", "hetero", "paper"]),
    (["scenario.cpu_cycles=1e300"], ["scenario.cpu_cycles", "local time", "<= 1e+100"]),
    (["scenario.phi_t=1e300"], ["scenario.phi_t", "local cost"]),
    (["scenario.phi_e=1e9"], ["scenario.phi_e", "[0, 1e+06]"]),
    (["scenario.mec_cpu_hz=1e20"], ["scenario.mec_cpu_hz", "[1000, 1e+14]"]),
    (["scenario.data_bits=1e13"], ["scenario.data_bits", "[1, 1e+12]"]),
]


@pytest.mark.parametrize("overrides,names", CONFIG_CASES, ids=[" ".join(o) for o, _ in CONFIG_CASES])
def test_bad_configuration(overrides, names):
    from dirs.config import compose

    with pytest.raises(ParameterError) as err:
        compose(overrides, conf_dir=ROOT / "conf")
    msg = str(err.value)
    assert "\n" not in msg
    for name in names:
        assert name in msg, msg


def test_plus_on_a_dict_entry_of_a_known_type_is_not_refused_by_the_key_check():
    """``dirs.variants`` is a free-form dict: a new entry's known fields pass the key check."""
    from dirs.config import unknown_key

    assert unknown_key("dirs.variants.mine.imitation") is None
    assert unknown_key("scenario.num_iotds") is None
    assert unknown_key("scenario.num_iotd") is not None


def test_memory_estimate_against_a_given_budget():
    from dirs.config import compose, validate_memory

    cfg = compose(["scenario.num_train=8", "scenario.num_test=4"], conf_dir=ROOT / "conf")
    need = (8 + 4) * 30 * 2 * 8
    validate_memory(cfg, available=need)  # fits exactly
    with pytest.raises(ParameterError, match=r"scenario.num_train: .*\(8 \+ 4\)\*30\*2\*8"):
        validate_memory(cfg, available=need - 1)


HETERO_SMALL = [
    "scenario=hetero",
    "scenario.num_iotds=8",
    "scenario.num_servers=2",
    "scenario.num_train=6",
    "scenario.num_test=4",
]


def test_removing_the_task_distributions_gives_identical_tasks():
    """The way to clear a mapping that '{}' cannot clear: '~key' (a valid input, a correct result)."""
    from dirs.config import compose
    from dirs.system.families import family

    cfg = compose([*HETERO_SMALL, "~scenario.options.tasks"], conf_dir=ROOT / "conf")
    sc, arrays = family("hetero")(cfg, np.random.default_rng(0))
    assert np.ndim(sc.params.cpu_cycles) == 0 and sc.params.identical_tasks and set(arrays) == {"train", "test"}
    widest = compose([*HETERO_SMALL, "scenario.options.tasks.cpu_cycles.high=1e15"], conf_dir=ROOT / "conf")
    assert widest.scenario.options.tasks.cpu_cycles.high == 1e15  # the top of the physical range is allowed


@pytest.mark.parametrize(
    "value,expected",
    [("profile.seeds=[0]", ["profile.seeds=[0]"]), (["a=1", "b=2"], ["a=1", "b=2"]), (None, []), ([], [])],
    ids=["one-string", "list", "none", "empty"],
)
def test_workflow_overrides_a_string_is_one_override(value, expected):
    from dirs.config import compose, workflow_overrides

    assert workflow_overrides(value) == expected
    if expected == ["profile.seeds=[0]"]:
        assert list(compose(workflow_overrides(value), conf_dir=ROOT / "conf").profile.seeds) == [0]


@pytest.mark.parametrize(
    "value,names",
    [({"profile.seeds": [0]}, ["overrides:", "dict"]), (["profile.seeds=[0]", 3], ["overrides[1]", "int"])],
    ids=["mapping", "not-a-string"],
)
def test_workflow_overrides_of_another_type_are_named(value, names):
    from dirs.config import workflow_overrides

    with pytest.raises(ParameterError) as err:
        workflow_overrides(value)
    for name in names:
        assert name in str(err.value), str(err.value)


# ----------------------------------------------------------------------------------------- CLI
def _cli(tmp_path: Path, *args: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DIRS_CONF_DIR": str(ROOT / "conf"),
        "PYTHONPATH": str(ROOT),
    }
    if debug:
        env["DIRS_DEBUG"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dirs",
            *args,
            f"paths.data_dir={tmp_path / 'data'}",
            f"paths.results_dir={tmp_path / 'results'}",
            "tracking.enabled=false",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    "args,names",
    [
        (["generate_scenario", "+scenario.num_iotd=100"], ["scenario.num_iotd", "scenario.num_iotds"]),
        (["generate_scenario", "seed=-1"], ["seed"]),
    ],
    ids=["plus-typo", "negative-seed"],
)
def test_cli_bad_configuration_one_line_exit_2(tmp_path, args, names):
    proc = _cli(tmp_path, *args, "scenario=medium", "scenario.num_train=8", "scenario.num_test=4")
    assert proc.returncode == 2, proc.stderr
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in lines[0]
    assert not (tmp_path / "data").exists()


def _tiny_instance_files(tmp_path: Path) -> Path:
    d = tmp_path / "data" / "scenarios" / "medium" / "seed0"
    d.mkdir(parents=True)
    sc = Scenario.generate(N, M, seed=0, name="medium")
    sc.save(d / "scenario.json")
    np.savez(d / "channels.npz", train=sc.sample_channels(8, 0), test=sc.sample_channels(4, 1))
    return d


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "DIRS_DEBUG=1"])
def test_cli_truncated_channels_named_and_nothing_written(tmp_path, debug):
    d = _tiny_instance_files(tmp_path)
    raw = (d / "channels.npz").read_bytes()
    (d / "channels.npz").write_bytes(raw[: len(raw) // 2])
    before = hashes(tmp_path)
    proc = _cli(
        tmp_path, "solve_optimum", "scenario=medium", "scenario.num_train=8", "scenario.num_test=4", debug=debug
    )
    assert proc.returncode == 2, proc.stderr
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "channels.npz" in lines[0] and "corrupt or truncated" in lines[0], proc.stderr
    assert ("Traceback" in proc.stderr) is debug
    assert hashes(tmp_path) == before


def test_cli_unexpected_exception_line():
    from dirs.__main__ import error_line

    try:
        {}["missing"]
    except KeyError as exc:
        line = error_line("solve_optimum", exc)
    assert line == "error: solve_optimum failed: KeyError: 'missing' (set DIRS_DEBUG=1 for the traceback)"


# --------------------------------------------------------------------------------------- files
def _json_edit(fn):
    def mutate(path: Path) -> None:
        data = json.loads(path.read_text())
        fn(data)
        path.write_text(json.dumps(data))

    return mutate


def _npz_edit(fn):
    def mutate(path: Path) -> None:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        fn(arrays)
        path.unlink()
        np.savez(path, **arrays)

    return mutate


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not what it should be\n" * 10)


def _set(d, key, value):
    d[key] = value


def _load_scenario(inst, d):
    from dirs.io import load_scenario

    load_scenario(d / "scenario.json")


def _load_channels(split="test"):
    def load(inst, d):
        from dirs.io import load_channels

        load_channels(d / "channels.npz", split, inst["scenario"])

    return load


def _load_optimum(inst, d):
    from dirs.io import load_optimum

    load_optimum(d / "optimum.npz", 4, N, M)


def _load_demos(inst, d):
    from dirs.io import load_demos

    load_demos(d / "demos.npz", N, M)


def _load_policy(inst, d):
    from dirs.learn.agents import load_policy

    load_policy(d / "policy")


def _load_maddpg(inst, d):
    from dirs.baselines import load_baseline

    load_baseline(d / "maddpg")


def _load_anysize(inst, d):
    from dirs.learn.anysize import load_anysize

    load_anysize(d / "anysize")


def _load_any_policy(inst, d):
    from dirs.learn import load_policy

    load_policy(d / "anysize")


def _torch_edit(fn):
    def mutate(path: Path) -> None:
        import torch

        state = torch.load(path, weights_only=True)
        fn(state)
        torch.save(state, path)

    return mutate


def _nan_weight(state):
    state["l1.weight"][0, 0] = float("nan")


def _dirs_weights(path: Path) -> None:
    shutil.copyfile(path.parent.parent / "policy" / "policy.pt", path)


def _hparam(key, value):
    return _json_edit(lambda d: d["hparams"].__setitem__(key, value))


def _bad_gain(value):
    def fn(a):
        a["test"] = a["test"].copy()
        a["test"][1, 2, 0] = value

    return fn


def _objective(value):
    def fn(a):
        a["objective"] = a["objective"].copy()
        a["objective"][2] = value

    return fn


FILE_CASES = {
    # scenario.json
    "scenario-no-params": ("scenario.json", _json_edit(lambda d: d.pop("params")), _load_scenario, ["params"]),
    "scenario-no-users": ("scenario.json", _json_edit(lambda d: d.pop("users")), _load_scenario, ["users"]),
    "scenario-truncated": ("scenario.json", _truncate, _load_scenario, ["not a valid scenario JSON"]),
    "scenario-a-list": ("scenario.json", lambda p: p.write_text("[1, 2]"), _load_scenario, ["JSON object"]),
    "scenario-nan-position": (
        "scenario.json",
        _json_edit(lambda d: d["users"][3].__setitem__(0, float("nan"))),
        _load_scenario,
        ["users[3]", "finite"],
    ),
    "scenario-3d-servers": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "servers", [[1, 2, 3], [4, 5, 6]])),
        _load_scenario,
        ["servers", "(M >= 1, 2)"],
    ),
    "scenario-unknown-param": (
        "scenario.json",
        _json_edit(lambda d: d["params"].__setitem__("kapa", 1.0)),
        _load_scenario,
        ["params.", "kapa"],
    ),
    "scenario-negative-kappa": (
        "scenario.json",
        _json_edit(lambda d: d["params"].__setitem__("kappa", -1.0)),
        _load_scenario,
        ["params.kappa"],
    ),
    "scenario-params-string": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "params", "defaults")),
        _load_scenario,
        ["params"],
    ),
    "scenario-bad-area": ("scenario.json", _json_edit(lambda d: _set(d, "area_m", -5)), _load_scenario, ["area_m"]),
    "scenario-format-99": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "format_version", 99)),
        _load_scenario,
        ["format_version 99"],
    ),
    "scenario-per-iotd-length": (
        "scenario.json",
        _json_edit(lambda d: d["params"].__setitem__("data_bits", [8e5] * (N + 1))),
        _load_scenario,
        ["data_bits", f"N={N}"],
    ),
    # scenario.json: what it declares about the instance ([inputs2])
    "scenario-format-1": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "format_version", 1)),
        _load_scenario,
        ["format_version 1 is not supported", "regenerate"],
    ),
    "scenario-no-task-mode": ("scenario.json", _json_edit(lambda d: d.pop("task_mode")), _load_scenario, ["task_mode"]),
    "scenario-no-family": ("scenario.json", _json_edit(lambda d: d.pop("family")), _load_scenario, ["family"]),
    "scenario-task-mode-unknown": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "task_mode", "hourly")),
        _load_scenario,
        ["task_mode", "'hourly'", "'per-slot'"],
    ),
    "scenario-task-fields-unknown": (
        "scenario.json",
        _json_edit(lambda d: (_set(d, "task_mode", "per-slot"), _set(d, "task_fields", ["speed"]))),
        _load_scenario,
        ["task_fields", "speed", "cpu_cycles"],
    ),
    "scenario-task-fields-but-fixed": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "task_fields", ["cpu_cycles"])),
        _load_scenario,
        ["task_fields", "'fixed'"],
    ),
    "scenario-task-fields-string": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "task_fields", "cpu_cycles")),
        _load_scenario,
        ["task_fields", "list"],
    ),
    "scenario-config-string": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "config", "medium")),
        _load_scenario,
        ["config", "object"],
    ),
    # channels.npz
    "channels-undeclared-task-array": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test_cpu_cycles", np.full((4, N), 2e9))),
        _load_channels(),
        ["test_cpu_cycles", "does not declare", "scenario.json"],
    ),
    "channels-truncated": ("channels.npz", _truncate, _load_channels(), ["corrupt or truncated"]),
    "channels-garbage": ("channels.npz", _garbage, _load_channels(), ["corrupt or truncated"]),
    "channels-no-split": ("channels.npz", _npz_edit(lambda a: a.pop("test")), _load_channels(), ["'test'"]),
    "channels-wrong-n": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test", np.ones((4, N + 1, M)))),
        _load_channels(),
        ["test", "disagrees with the scenario"],
    ),
    "channels-wrong-m": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "train", np.ones((4, N, M + 1)))),
        _load_channels("train"),
        ["train", "disagrees with the scenario"],
    ),
    "channels-2d": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test", np.ones((N, M)))),
        _load_channels(),
        ["test", "shape"],
    ),
    "channels-empty": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test", np.ones((0, N, M)))),
        _load_channels(),
        ["test", "no samples"],
    ),
    "channels-nan": ("channels.npz", _npz_edit(_bad_gain(np.nan)), _load_channels(), ["(1, 2, 0)", "finite and > 0"]),
    "channels-negative": ("channels.npz", _npz_edit(_bad_gain(-1e-6)), _load_channels(), ["(1, 2, 0)"]),
    "channels-zero": ("channels.npz", _npz_edit(_bad_gain(0.0)), _load_channels(), ["(1, 2, 0)"]),
    "channels-inf": ("channels.npz", _npz_edit(_bad_gain(np.inf)), _load_channels(), ["(1, 2, 0)"]),
    "channels-strings": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test", np.full((4, N, M), "x"))),
        _load_channels(),
        ["test", "numeric"],
    ),
    # optimum.npz
    "optimum-decision-above-m": (
        "optimum.npz",
        _npz_edit(lambda a: a["decisions"].__setitem__((1, 1), M + 1)),
        _load_optimum,
        ["decisions", f"0..{M}"],
    ),
    "optimum-decision-negative": (
        "optimum.npz",
        _npz_edit(lambda a: a["decisions"].__setitem__((0, 0), -1)),
        _load_optimum,
        ["decisions", f"0..{M}"],
    ),
    "optimum-float-decisions": (
        "optimum.npz",
        _npz_edit(lambda a: _set(a, "decisions", a["decisions"] + 0.5)),
        _load_optimum,
        ["decisions", "integers"],
    ),
    "optimum-decisions-shape": (
        "optimum.npz",
        _npz_edit(lambda a: _set(a, "decisions", a["decisions"][:, :-1])),
        _load_optimum,
        ["decisions", "shape"],
    ),
    "optimum-objective-nan": ("optimum.npz", _npz_edit(_objective(np.nan)), _load_optimum, ["objective", "entry 2"]),
    "optimum-objective-zero": ("optimum.npz", _npz_edit(_objective(0.0)), _load_optimum, ["objective", "entry 2"]),
    "optimum-objective-length": (
        "optimum.npz",
        _npz_edit(lambda a: _set(a, "objective", a["objective"][:3])),
        _load_optimum,
        ["objective", "(4,)"],
    ),
    "optimum-no-objective": ("optimum.npz", _npz_edit(lambda a: a.pop("objective")), _load_optimum, ["objective"]),
    "optimum-bound-above": (
        "optimum.npz",
        _npz_edit(lambda a: _set(a, "lower_bound", a["objective"] * 1.5)),
        _load_optimum,
        ["lower_bound"],
    ),
    "optimum-truncated": ("optimum.npz", _truncate, _load_optimum, ["corrupt or truncated"]),
    # demos.npz
    "demos-empty": (
        "demos.npz",
        _npz_edit(lambda a: (_set(a, "gains", a["gains"][:0]), _set(a, "decisions", a["decisions"][:0]))),
        _load_demos,
        ["gains", "no samples"],
    ),
    "demos-decision-above-m": (
        "demos.npz",
        _npz_edit(lambda a: a["decisions"].__setitem__((2, 3), M + 1)),
        _load_demos,
        ["decisions", f"0..{M}"],
    ),
    "demos-count-mismatch": (
        "demos.npz",
        _npz_edit(lambda a: _set(a, "decisions", a["decisions"][:3])),
        _load_demos,
        ["decisions", "shape"],
    ),
    "demos-wrong-n": (
        "demos.npz",
        _npz_edit(lambda a: _set(a, "gains", np.ones((5, N - 1, M)))),
        _load_demos,
        ["gains", "disagrees"],
    ),
    "demos-negative-gain": (
        "demos.npz",
        _npz_edit(lambda a: a["gains"].__setitem__((0, 0, 1), -3.0)),
        _load_demos,
        ["gains", "(0, 0, 1)"],
    ),
    "demos-no-decisions": ("demos.npz", _npz_edit(lambda a: a.pop("decisions")), _load_demos, ["decisions"]),
    # policy (DIRS)
    "policy-json-no-params": ("policy/policy.json", _json_edit(lambda d: d.pop("params")), _load_policy, ["params"]),
    "policy-json-truncated": ("policy/policy.json", _truncate, _load_policy, ["not a valid policy JSON"]),
    "policy-layers-mismatch": (
        "policy/policy.json",
        _json_edit(lambda d: _set(d, "layers", [N, 9, N])),
        _load_policy,
        ["policy.pt", "weights[0]"],
    ),
    "policy-layers-not-n": (
        "policy/policy.json",
        _json_edit(lambda d: _set(d, "layers", [N + 1, 8, N])),
        _load_policy,
        ["layers"],
    ),
    "policy-format": (
        "policy/policy.json",
        _json_edit(lambda d: _set(d, "format_version", 7)),
        _load_policy,
        ["format_version 7"],
    ),
    "policy-pt-truncated": ("policy/policy.pt", _truncate, _load_policy, ["corrupt or unreadable"]),
    "policy-pt-garbage": ("policy/policy.pt", _garbage, _load_policy, ["corrupt or unreadable"]),
    # any-size policy ([inputs2]): as strict as the DIRS loader
    "anysize-pt-truncated": ("anysize/policy.pt", _truncate, _load_anysize, ["corrupt or unreadable"]),
    "anysize-pt-empty": ("anysize/policy.pt", lambda p: p.write_bytes(b""), _load_anysize, ["corrupt or unreadable"]),
    "anysize-pt-garbage": ("anysize/policy.pt", _garbage, _load_any_policy, ["corrupt or unreadable"]),
    "anysize-pt-nan": ("anysize/policy.pt", _torch_edit(_nan_weight), _load_anysize, ["l1.weight", "NaN or inf"]),
    "anysize-pt-dirs-weights": (
        "anysize/policy.pt",
        _dirs_weights,
        _load_anysize,
        ["not the weights of an any-size model", "missing tensor(s)"],
    ),
    "anysize-pt-missing-tensor": (
        "anysize/policy.pt",
        _torch_edit(lambda st: st.pop("out.bias")),
        _load_anysize,
        ["out.bias"],
    ),
    "anysize-json-truncated": ("anysize/policy.json", _truncate, _load_anysize, ["not a valid any-size policy JSON"]),
    "anysize-json-no-hparams": (
        "anysize/policy.json",
        _json_edit(lambda d: d.pop("hparams")),
        _load_anysize,
        ["hparams"],
    ),
    "anysize-json-zero-rounds": (
        "anysize/policy.json",
        _json_edit(lambda d: d["hparams"].update(rounds=0, max_rounds=0)),
        _load_anysize,
        ["hparams.rounds", ">= 1"],
    ),
    "anysize-json-negative-hidden": ("anysize/policy.json", _hparam("hidden", -4), _load_anysize, ["hparams.hidden"]),
    "anysize-json-unknown-hparam": (
        "anysize/policy.json",
        _hparam("width", 3),
        _load_anysize,
        ["hparams", "unknown ['width']", "declared"],
    ),
    "anysize-json-string-tau": ("anysize/policy.json", _hparam("tau", "hot"), _load_anysize, ["hparams.tau"]),
    "anysize-json-init-step-2": ("anysize/policy.json", _hparam("init_step", 2.0), _load_anysize, ["init_step"]),
    "anysize-json-hidden-mismatch": (
        "anysize/policy.json",
        _hparam("hidden", 16),
        _load_anysize,
        ["policy.pt", "l1.weight", "shape"],
    ),
    "anysize-json-format": (
        "anysize/policy.json",
        _json_edit(lambda d: _set(d, "format_version", 7)),
        _load_any_policy,
        ["format_version 7"],
    ),
    "anysize-json-meta-list": (
        "anysize/policy.json",
        _json_edit(lambda d: _set(d, "meta", [1])),
        _load_anysize,
        ["meta"],
    ),
    # baseline (MADDPG)
    "maddpg-meta-unknown-algo": (
        "maddpg/meta.json",
        _json_edit(lambda d: _set(d, "algo", "ppo")),
        _load_maddpg,
        ["algo", "ppo", "maddpg"],
    ),
    "maddpg-meta-no-algo": ("maddpg/meta.json", _json_edit(lambda d: d.pop("algo")), _load_maddpg, ["algo"]),
    "maddpg-meta-stats-shape": (
        "maddpg/meta.json",
        _json_edit(lambda d: _set(d, "obs_stats", {"mean": [[0.0] * M] * (N - 1), "std": [[1.0] * M] * (N - 1)})),
        _load_maddpg,
        ["obs_stats", "mean/std"],
    ),
    "maddpg-meta-hidden-mismatch": (
        "maddpg/meta.json",
        _json_edit(lambda d: _set(d, "actor_hidden", [9])),
        _load_maddpg,
        ["model.pt", "mismatched"],
    ),
    "maddpg-model-truncated": ("maddpg/model.pt", _truncate, _load_maddpg, ["model.pt", "corrupt"]),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_bad_file(instance, work, case):
    rel, mutate, load, names = FILE_CASES[case]
    target = work / rel
    mutate(target)
    before = hashes(work)
    with pytest.raises(ParameterError) as err:
        load(instance, work)
    msg = str(err.value)
    assert "\n" not in msg
    from dirs.io import InputFileError

    assert isinstance(err.value, InputFileError) and err.value.path.parent in (target.parent, target.parent.parent)
    assert str(err.value.path) in msg
    for name in names:
        assert name in msg, msg
    assert hashes(work) == before


@pytest.mark.parametrize(
    "missing,load",
    [
        ("scenario.json", _load_scenario),
        ("channels.npz", _load_channels()),
        ("optimum.npz", _load_optimum),
        ("demos.npz", _load_demos),
        ("policy/policy.pt", _load_policy),
        ("maddpg/meta.json", _load_maddpg),
        ("anysize/policy.pt", _load_anysize),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_missing_file_is_named(instance, work, missing, load):
    (work / missing).unlink()
    before = hashes(work)
    with pytest.raises(FileNotFoundError, match=missing.rsplit("/", 1)[-1]):
        load(instance, work)
    assert hashes(work) == before


def test_missing_policy_directory_is_named_not_its_parent(work):
    from dirs.learn import load_policy
    from dirs.learn.anysize import load_anysize

    for load in (load_policy, load_anysize):
        with pytest.raises(FileNotFoundError, match=r"inst/nope: no such policy directory"):
            load(work / "nope")


def test_sb3_model_truncated(instance, work):
    from dirs.baselines import MECOffloadEnv, load_baseline
    from dirs.baselines.sb3 import SB3Policy, build_model
    from dirs.config import compose

    bl = compose(["scenario.num_train=8", "scenario.num_test=4"], conf_dir=ROOT / "conf").baseline
    env = MECOffloadEnv(instance["scenario"], instance["train"])
    model = build_model("ac", env, bl.ac, seed=0)
    SB3Policy("ac", model, env.obs_stats, {"num_iotds": N, "num_servers": M}).save(work / "ac")
    pol = load_baseline(work / "ac")
    assert pol.decide(instance["test"]).shape == (4, N)
    with pytest.raises(ParameterError, match="gains"):
        pol.decide(np.zeros((4, N, M)))
    _truncate(work / "ac" / "model.zip")
    before = hashes(work)
    with pytest.raises(ParameterError, match=r"model\.zip: corrupt or unreadable ac model"):
        load_baseline(work / "ac")
    assert hashes(work) == before


# ---------------------------------------------------------------------------------- provenance
def test_provenance_mismatch_names_both_files(instance, work, tmp_path):
    from dirs.io import InputFileError, check_provenance, provenance, read_npz_provenance, write_npz_with_provenance

    out = tmp_path / "optimum.npz"
    write_npz_with_provenance(out, provenance(channels=work / "channels.npz"), objective=np.ones(4))
    check_provenance(read_npz_provenance(out), out, channels=work / "channels.npz")  # unchanged input: fine
    _npz_edit(_bad_gain(2.0))(work / "channels.npz")  # the input changes after the derived file was made
    with pytest.raises(InputFileError) as err:
        check_provenance(read_npz_provenance(out), out, channels=work / "channels.npz")
    assert str(out) in str(err.value) and str(work / "channels.npz") in str(err.value)


def test_derived_file_without_provenance(instance, work):
    from dirs.io import InputFileError, check_provenance, read_npz_provenance

    recorded = read_npz_provenance(work / "optimum.npz")
    assert recorded is None
    with pytest.raises(InputFileError, match=r"optimum\.npz: has no provenance record"):
        check_provenance(recorded, work / "optimum.npz", channels=work / "channels.npz")


def test_csv_edited_after_its_sidecar(instance, work, tmp_path):
    import pandas as pd

    from dirs.io import InputFileError, check_provenance, provenance, read_csv_provenance, write_csv_with_provenance

    out = tmp_path / "table.csv"
    write_csv_with_provenance(out, pd.DataFrame({"a": [1, 2]}), provenance(scenario=work / "scenario.json"))
    check_provenance(read_csv_provenance(out), out, scenario=work / "scenario.json")
    out.write_text(out.read_text() + "3\n")
    with pytest.raises(InputFileError, match="file_sha256"):
        read_csv_provenance(out)


def test_json_provenance_of_other_input(instance, work, tmp_path):
    from dirs.io import InputFileError, check_provenance, provenance, read_json_provenance, write_json_with_provenance

    out = tmp_path / "summary.json"
    write_json_with_provenance(out, {"x": 1}, provenance(scenario=work / "scenario.json"))
    with pytest.raises(InputFileError, match=r"summary\.json: provenance has no entry 'channels'"):
        check_provenance(read_json_provenance(out), out, channels=work / "channels.npz")


def test_write_together_replaces_nothing_when_a_writer_fails(tmp_path):
    from dirs.io import write_together

    a, b = tmp_path / "scenario.json", tmp_path / "model"
    a.write_text("old a")
    b.mkdir()
    (b / "w.pt").write_text("old b")
    before = hashes(tmp_path)

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_together({a: lambda tmp: tmp.write_text("new a"), b / "x.npz": fail})
    assert hashes(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["model", "scenario.json"]

    def new_dir(tmp: Path) -> None:
        tmp.mkdir()
        (tmp / "w.pt").write_text("new b")

    write_together({a: lambda tmp: tmp.write_text("new a"), b: new_dir})
    assert a.read_text() == "new a" and (b / "w.pt").read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "scenario.json"]


def test_digest_follows_the_file_contents(tmp_path):
    from dirs.io import digest

    p = tmp_path / "f.bin"
    p.write_bytes(b"one")
    first = digest(p)
    assert first == hashlib.sha256(b"one").hexdigest()
    p.write_bytes(b"two!")  # a different size: a new cache key
    assert digest(p) == hashlib.sha256(b"two!").hexdigest()


# ---------------------------------------------------------------------------------- Python API
def _gains_with(inst, value, where=(1, 3, 1)):
    g = inst["test"].copy()
    g[where] = value
    return g


@pytest.fixture(scope="module")
def policies(instance):
    from dirs.baselines import load_baseline
    from dirs.learn.agents import load_policy

    return {"dirs": load_policy(instance["dir"] / "policy"), "maddpg": load_baseline(instance["dir"] / "maddpg")}


@pytest.mark.parametrize("which", ["dirs", "maddpg"])
@pytest.mark.parametrize(
    "make,names",
    [
        (lambda inst: _gains_with(inst, np.nan), ["gains", "(1, 3, 1)", "finite and > 0"]),
        (lambda inst: _gains_with(inst, -1.0), ["gains", "(1, 3, 1)"]),
        (lambda inst: _gains_with(inst, 0.0), ["gains", "(1, 3, 1)"]),
        (lambda inst: _gains_with(inst, np.inf), ["gains", "(1, 3, 1)"]),
        (lambda inst: inst["test"][:, :-1], ["gains", f"expected shape (T, {N}, {M})"]),
        (lambda inst: inst["test"][..., :1], ["gains", f"expected shape (T, {N}, {M})"]),
        (lambda inst: inst["test"][0, 0], ["gains", "expected shape"]),
        (lambda inst: inst["test"][None], ["gains", "expected shape"]),
        (lambda inst: "abc", ["gains", "numeric", "'abc'"]),
        (lambda inst: [[1.0, 2.0], [3.0]], ["gains", "numeric"]),
    ],
    ids=["nan", "negative", "zero", "inf", "fewer-iotds", "fewer-servers", "1d", "4d", "string", "ragged"],
)
def test_policy_decide_refuses_bad_gains(instance, policies, which, make, names):
    g = make(instance)
    with pytest.raises(ParameterError) as err:
        policies[which].decide(g)
    for name in names:
        assert name in str(err.value), str(err.value)


def test_policy_decide_single_sample_still_works(instance, policies):
    for pol in policies.values():
        assert pol.decide(instance["test"][0]).shape == (N,)
        assert pol.decide(instance["test"]).shape == (4, N)


def test_repair_refuses_bad_gains_too(instance, policies):
    with pytest.raises(ParameterError, match="gains"):
        policies["dirs"].decide(_gains_with(instance, np.nan), repair=True)


# ---------------------------------------------------------------------------- Gymnasium environment
@pytest.fixture(scope="module")
def envs(instance):
    from dirs.baselines import MECOffloadEnv

    return {t: MECOffloadEnv(instance["scenario"], instance["train"], action_type=t) for t in ("discrete", "box")}


def _scores(value=None, where=(2, 1), shape=(N, M + 1), dtype=np.float32):
    a = np.zeros(shape, dtype=dtype)
    if value is not None:
        a[where] = value
    return a


ENV_CASES = {
    "discrete-minus-one": ("discrete", lambda: np.array([-1] + [0] * (N - 1)), ["0..2", "IoTD 0", "-1"]),
    "discrete-above-m": ("discrete", lambda: np.array([0] * (N - 1) + [M + 1]), ["0..2", f"IoTD {N - 1}"]),
    "discrete-floats": ("discrete", lambda: np.full(N, 1.7), ["integers", "float64"]),
    "discrete-integral-floats": ("discrete", lambda: np.ones(N, dtype=np.float32), ["integers", "float32"]),
    "discrete-too-long": ("discrete", lambda: np.zeros(N + 1, dtype=np.int64), [f"shape ({N},)"]),
    "discrete-2d": ("discrete", lambda: np.zeros((1, N), dtype=np.int64), [f"shape ({N},)"]),
    "discrete-scalar": ("discrete", lambda: np.int64(1), [f"shape ({N},)"]),
    "discrete-list-of-floats": ("discrete", lambda: [0.0] * N, ["integers"]),
    "discrete-bools": ("discrete", lambda: np.ones(N, dtype=bool), ["integers", "bool"]),
    "box-wrong-shape": ("box", lambda: _scores(shape=(N, M)), [f"({N}, {M + 1})"]),
    "box-nan": ("box", lambda: _scores(np.nan), ["finite scores in [-1, 1]", "(2, 1)"]),
    "box-inf": ("box", lambda: _scores(-np.inf), ["(2, 1)"]),
    "box-above-one": ("box", lambda: _scores(1.5), ["[-1, 1]", "(2, 1)"]),
    "box-ints": ("box", lambda: np.zeros((N, M + 1), dtype=np.int64), ["float scores", "int64"]),
    "box-flat": ("box", lambda: np.zeros(N * (M + 1), dtype=np.float32), [f"({N}, {M + 1})"]),
}


@pytest.mark.parametrize("case", list(ENV_CASES))
def test_env_refuses_actions_outside_its_space(envs, case):
    kind, make, names = ENV_CASES[case]
    env = envs[kind]
    env.reset(options={"index": 0})
    with pytest.raises(ParameterError) as err:
        env.step(make())
    msg = str(err.value)
    assert "action space" in msg and str(env.action_space) in msg, msg
    for name in names:
        assert name in msg, msg


def test_env_accepts_what_sb3_and_gymnasium_send(envs):
    """MultiDiscrete: int64 arrays (SB3) and samples; Box: float32 samples in [-1, 1]."""
    for _kind, env in envs.items():
        env.reset(options={"index": 1})
        _, reward, done, _, info = env.step(env.action_space.sample())
        assert done and np.isfinite(reward) and info["objective"] > 0
    envs["discrete"].reset(options={"index": 2})
    assert envs["discrete"].step(np.zeros(N, dtype=np.int64))[4]["objective"] > 0


# ------------------------------------------------------------------------ per-slot task files
@pytest.fixture(scope="module")
def perslot(tmp_path_factory):
    """A hetero instance with per-slot tasks, written by the generate_scenario stage."""
    from dirs.config import compose
    from dirs.stages import get, restrict

    d = tmp_path_factory.mktemp("perslot")
    cfg = compose(
        [*HETERO_SMALL, "scenario.options.task_mode=per-slot", f"paths.data_dir={d}", "tracking.enabled=false"],
        conf_dir=ROOT / "conf",
    )
    stage = get("generate_scenario")
    paths = stage.paths(cfg)
    stage.fn(restrict(cfg, stage), **paths)
    return paths["scenario"].parent


def _rename(old, new):
    return _npz_edit(lambda a: _set(a, new, a.pop(old)))


PERSLOT_CASES = {
    "renamed-field": ("channels.npz", _rename("test_cpu_cycles", "test_cpu_cycle"), "test", ["test_cpu_cycle"]),
    "stripped-test-tasks": (
        "channels.npz",
        _npz_edit(lambda a: [a.pop(k) for k in [k for k in a if k.startswith("test_")]]),
        "test",
        ["lacks the per-slot task array(s)", "test_cpu_cycles", "test_data_bits"],
    ),
    "stripped-train-field": (
        "channels.npz",
        _npz_edit(lambda a: a.pop("train_data_bits")),
        "train",
        ["train_data_bits"],
    ),
    "added-field": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test_kappa", np.full(a["test_cpu_cycles"].shape, 1e-27))),
        "test",
        ["test_kappa", "does not declare"],
    ),
    "declaration-removed": (
        "scenario.json",
        _json_edit(lambda d: (_set(d, "task_fields", []), _set(d, "task_mode", "fixed"))),
        "test",
        ["does not declare", "test_cpu_cycles"],
    ),
    "declaration-shrunk": (
        "scenario.json",
        _json_edit(lambda d: _set(d, "task_fields", ["data_bits"])),
        "test",
        ["test_cpu_cycles", "does not declare"],
    ),
    "task-size-out-of-range": (
        "channels.npz",
        _npz_edit(lambda a: a["test_cpu_cycles"].__setitem__((1, 2), 1e300)),
        "test",
        ["test_cpu_cycles", "physically meaningful range"],
    ),
    "task-array-wrong-shape": (
        "channels.npz",
        _npz_edit(lambda a: _set(a, "test_data_bits", a["test_data_bits"][:, :3])),
        "test",
        ["test_data_bits", "(T, N)"],
    ),
}


@pytest.mark.parametrize("case", list(PERSLOT_CASES))
def test_per_slot_task_file_that_disagrees_with_its_declaration(perslot, tmp_path, case):
    """scenario.json records the family, the task mode and the per-slot fields: a channels file that
    lacks, renames or adds one is refused (it would otherwise be priced with the default tasks)."""
    from dirs.io import InputFileError, load_scenario, load_split

    work = shutil.copytree(perslot, tmp_path / "inst")
    rel, mutate, split, names = PERSLOT_CASES[case]
    mutate(work / rel)
    before = hashes(work)
    with pytest.raises(InputFileError) as err:
        load_split(work / "channels.npz", split, load_scenario(work / "scenario.json"))
    msg = str(err.value)
    assert "\n" not in msg and str(work / "channels.npz") in msg, msg
    for name in names:
        assert name in msg, msg
    assert hashes(work) == before


def test_per_slot_declaration_is_recorded_and_applied(perslot):
    from dirs.io import load_scenario, load_split

    info = json.loads((perslot / "scenario.json").read_text())
    assert (info["family"], info["task_mode"]) == ("hetero", "per-slot")
    assert sorted(info["task_fields"]) == ["cpu_cycles", "data_bits"]
    assert info["config"]["scenario"]["num_iotds"] == 8 and info["config"]["seed"] == 0
    sc, gains = load_split(perslot / "channels.npz", "test", load_scenario(perslot / "scenario.json"))
    assert sc.params.num_samples == len(gains) == 4 and np.shape(sc.params.cpu_cycles) == (4, 8)


def test_gym_environment_from_files_prices_the_per_slot_tasks(perslot):
    """A path given to the environment loads the split's own tasks (not the scenario's defaults)."""
    from dirs.baselines import MECOffloadEnv

    env = MECOffloadEnv(perslot / "scenario.json", perslot / "channels.npz", split="test")
    assert env.scenario.params.num_samples == 4 and env.tables.local.shape == (4, 8)


# ------------------------------------------------------------------- any-size and evaluate API
@pytest.fixture(scope="module")
def anysize_policy(instance):
    from dirs.learn.anysize import load_anysize

    return load_anysize(instance["dir"] / "anysize")


@pytest.mark.parametrize(
    "call,names",
    [
        (lambda pol, inst: pol.decide("abc", inst["scenario"].params), ["gains", "numeric", "'abc'"]),
        (lambda pol, inst: pol.decide(inst["test"], {"mec_cpu_hz": 1e10}), ["params", "SystemParams", "dict"]),
        (lambda pol, inst: pol.decide(inst["test"], inst["scenario"].params, rounds=0), ["rounds", ">= 1"]),
        (lambda pol, inst: pol.decide(_gains_with(inst, np.nan), inst["scenario"].params), ["gains", "(1, 3, 1)"]),
        (lambda pol, inst: pol.decide(inst["test"][0, 0], inst["scenario"].params), ["gains", "shape"]),
        (
            lambda pol, inst: pol.decide(inst["test"], inst["scenario"].params.replace(cpu_cycles=np.ones(N + 1))),
            ["cpu_cycles", f"N={N}"],
        ),
        (
            lambda pol, inst: pol.decide(inst["test"], inst["scenario"].params.replace(cpu_cycles=np.ones((3, N)))),
            ["cpu_cycles", "T=4"],
        ),
        (lambda pol, inst: pol.logits(inst["test"], [1, 2]), ["params", "list"]),
    ],
    ids=[
        "string-gains",
        "dict-params",
        "zero-rounds",
        "nan-gain",
        "1d-gains",
        "params-of-other-n",
        "params-of-other-t",
        "logits-list-params",
    ],
)
def test_anysize_decide_refuses_bad_gains_and_params(instance, anysize_policy, call, names):
    with pytest.raises(ParameterError) as err:
        call(anysize_policy, instance)
    for name in names:
        assert name in str(err.value), str(err.value)


def test_anysize_decide_at_the_edges_gives_correct_results(instance, anysize_policy):
    """No sample or no IoTD: an empty array (as DIRS's Policy.decide); no server: every IoTD local;
    gains so large that every transmission costs 0 (exact ties between servers): the optimum."""
    from dirs.solvers.oracle import solve_exact
    from dirs.system import SystemParams

    pol, sc, g = anysize_policy, instance["scenario"], instance["test"]
    assert pol.decide(g[:0], sc.params).shape == (0, N)
    assert pol.decide(np.ones((3, 0, M)), SystemParams()).shape == (3, 0)
    np.testing.assert_array_equal(pol.decide(np.ones((3, N, 0)), sc.params), np.zeros((3, N), dtype=np.int64))
    for value in (1e300, 1e-4):  # every IoTD and server alike: the optimum splits them evenly
        same = np.full((2, 30, 2), value)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warning either: h/σ² = inf is the infinite-SNR limit
            a = pol.decide(same, SystemParams())
        best = evaluate(solve_exact(same, SystemParams()), same, SystemParams()).objective
        np.testing.assert_allclose(evaluate(a, same, SystemParams()).objective, best)


def test_dirs_policy_decide_refuses_other_params_and_decides_no_sample(instance, policies):
    with pytest.raises(ParameterError, match=r"params: expected a SystemParams .* got dict"):
        policies["dirs"].decide(instance["test"], repair=True, params={"mec_cpu_hz": 1e10})
    assert policies["dirs"].decide(instance["test"][:0]).shape == (0, N)


@pytest.mark.parametrize(
    "call,names",
    [
        (lambda inst: evaluate(np.zeros((4, N), dtype=int), "abc", inst["scenario"].params), ["gains", "'abc'"]),
        (lambda inst: evaluate(np.zeros((4, N), dtype=int), None, inst["scenario"].params), ["gains", "None"]),
        (lambda inst: evaluate(np.zeros((4, N), dtype=int), inst["test"], {"phi_t": 1.0}), ["params", "dict"]),
        (lambda inst: evaluate(np.ones((4, N), dtype=int), np.ones((4, N, 0)), inst["scenario"].params), ["0..0"]),
    ],
    ids=["string-gains", "none-gains", "dict-params", "offload-with-no-server"],
)
def test_evaluate_refuses_what_is_not_gains_or_params(instance, call, names):
    with pytest.raises(ParameterError) as err:
        call(instance)
    for name in names:
        assert name in str(err.value), str(err.value)


def test_evaluate_with_no_server_or_no_iotd_is_the_local_cost(instance):
    from dirs.system import SystemParams, local_cost

    sc = instance["scenario"]
    c = evaluate(np.zeros((3, N), dtype=int), np.ones((3, N, 0)), sc.params)
    np.testing.assert_allclose(c.objective, N * local_cost(sc.params)[0])
    assert evaluate(np.zeros((2, 0), dtype=int), np.ones((2, 0, M)), SystemParams()).objective.tolist() == [0, 0]


def test_garbage_trainer_state_is_named(tmp_path):
    """pretrained.pt / last.pt of the DIRS learner: a garbage file is one error naming it."""
    from dirs.io import InputFileError
    from dirs.stages.learner import _load_state

    path = tmp_path / "pretrained.pt"
    _garbage(path)
    with pytest.raises(InputFileError, match=r"pretrained\.pt: corrupt or unreadable trainer state"):
        _load_state(path)
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match=r"pretrained\.pt: corrupt or unreadable trainer state"):
        _load_state(path)


def test_anysize_training_that_diverges_writes_no_model(instance, work, monkeypatch):
    import dirs.learn.anysize_train as train_mod

    settings = train_mod.AnySizeSettings(
        steps=2, scenarios=2, val_scenarios=1, batch=2, num_iotds=(6, 10), num_servers=(2, 3), eval_every=2
    )
    monkeypatch.setattr(train_mod, "nrr", lambda net, batches: float("nan"))
    before = hashes(work)
    with pytest.raises(ParameterError, match=r"anysize: training diverged.*was not replaced"):
        train_mod.train_anysize(settings, work / "anysize", progress=False)
    assert hashes(work) == before


# ----------------------------------------------------------------------------- stages run alone
@pytest.fixture
def stage(monkeypatch, capsys, tmp_path):
    """``stage(*args)`` runs ``python -m dirs`` in-process in ``tmp_path``: (exit status, error lines)."""
    from dirs.__main__ import main

    monkeypatch.setenv("DIRS_CONF_DIR", str(ROOT / "conf"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def run(*args: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        code = main([*args, "tracking.enabled=false"])
        return code, _error_lines(capsys.readouterr().err)

    return run


TINY = ["scenario=medium", "scenario.num_iotds=6", "scenario.num_train=8", "scenario.num_test=4"]


@pytest.mark.parametrize(
    "override,names",
    [
        ("anysize.steps=-5", ["anysize.steps", "integer >= 1"]),
        ("+anysize.num_servers=[0,2]", ["anysize.num_servers", "1 <= lo"]),
        ("anysize.batch=0", ["anysize.batch"]),
        ("anysize.num_iotds=[60,10]", ["anysize.num_iotds", "lo <= hi"]),
        ("anysize.num_iotds=[2,10]", ["anysize.num_iotds", "largest M"]),
        ("+anysize.lr=-1", ["anysize.lr", "(0, 1]"]),
        ("+anysize.cpu_cycles=[-1e9,2e9]", ["anysize.cpu_cycles", "CPU cycles"]),
        ("+anysize.rounds=0", ["anysize.rounds"]),
        ("+anysize.placements=[spiral]", ["anysize.placements", "levy"]),
        ("+anysize.stepz=3", ["anysize.stepz", "unknown", "steps"]),
    ],
)
def test_train_anysize_with_bad_settings_keeps_the_model(stage, tmp_path, override, names):
    model = tmp_path / "results/models/anysize"
    model.mkdir(parents=True)
    (model / "policy.json").write_text('{"kind": "anysize"}')
    (model / "policy.pt").write_bytes(b"a trained model")
    before = hashes(tmp_path / "results")
    code, lines = stage("train_anysize", "profile=smoke", override)
    assert code == 2 and len(lines) == 1, lines
    for name in names:
        assert name in lines[0], lines[0]
    assert hashes(tmp_path / "results") == before


@pytest.fixture
def solved(stage, tmp_path):
    """A tiny instance with its optimum, written by the stages; returns its directories."""
    assert stage("generate_scenario", *TINY)[0] == 0
    assert stage("solve_optimum", *TINY)[0] == 0
    return tmp_path / "data/scenarios/medium/seed0", tmp_path / "results"


@pytest.mark.parametrize(
    "damage,names",
    [
        (lambda m: _truncate(m / "policy.pt"), ["policy.pt", "corrupt or unreadable"]),
        (lambda m: (m / "policy.pt").write_bytes(b""), ["policy.pt", "empty or truncated file"]),
        (lambda m: _truncate(m / "policy.json"), ["policy.json", "not a valid"]),
        (lambda m: shutil.rmtree(m), ["results/models/anysize: no such policy directory"]),
    ],
    ids=["truncated-pt", "empty-pt", "truncated-json", "no-directory"],
)
def test_evaluate_learned_with_a_damaged_model(stage, solved, instance, damage, names):
    _, results = solved
    shutil.copytree(instance["dir"] / "anysize", results / "models/anysize")
    damage(results / "models/anysize")
    before = hashes(results)
    code, lines = stage("evaluate_learned", *TINY, "evaluation.method=anysize")
    assert code == 2 and len(lines) == 1, lines
    assert "cannot write" not in lines[0]
    for name in names:
        assert name in lines[0], lines[0]
    assert hashes(results) == before


def test_evaluate_method_names_the_stage_of_a_dirs_variant(stage, solved):
    code, lines = stage("evaluate_method", *TINY, "evaluation.method=dirs")
    assert code == 2 and "evaluate_policy" in lines[0] and "dirs.variant=dirs" in lines[0], lines
    code, lines = stage("evaluate_method", *TINY, "evaluation.method=nope")
    assert code == 2 and lines[0].startswith("error: evaluation.method: unknown method 'nope'"), lines


PLUGIN_OK = """
from dirs.methods import register


@register("{name}", label="Strongest server", kind="heuristic")
def strongest(cfg, params, rng):
    return lambda gains: gains.argmax(-1) + 1
"""


def test_a_plugin_method_runs_standalone(stage, solved, tmp_path):
    (tmp_path / "standalone_plugin.py").write_text(PLUGIN_OK.format(name="strongest-standalone"))
    code, lines = stage(
        "evaluate_method", *TINY, "plugins=[standalone_plugin]", "evaluation.method=strongest-standalone"
    )
    assert code == 0, lines
    assert (solved[1] / "evaluations/medium/seed0/strongest-standalone.csv").is_file()


@pytest.mark.parametrize(
    "body,names",
    [
        ("raise RuntimeError('boom at import')", ["RuntimeError: boom at import"]),
        ("import numpy.nonexistent_module_x", ["ModuleNotFoundError"]),
        ("x = 1 / 0", ["ZeroDivisionError"]),
    ],
    ids=["runtime-error", "import-error", "zero-division"],
)
def test_a_plugin_that_fails_on_import_is_named(stage, solved, tmp_path, body, names):
    module = f"broken_plugin_{abs(hash(body)) % 10**8}"
    (tmp_path / f"{module}.py").write_text(body + "\n")
    before = hashes(solved[1])
    for args in (
        ("evaluate_method", *TINY, f"plugins=[{module}]", "evaluation.method=greedy"),
        ("generate_scenario", *TINY, "scenario.family=mine", f"plugins=[{module}]"),
    ):
        code, lines = stage(*args)
        assert code == 2 and len(lines) == 1, lines
        for name in [f"plugins: cannot import module '{module}'", *names]:
            assert name in lines[0], lines[0]
    assert hashes(solved[1]) == before


def test_a_standalone_stage_does_not_replace_an_instance_it_would_change(stage, solved, tmp_path):
    data, results = solved
    before = hashes(tmp_path)
    code, lines = stage("generate_scenario", *TINY, "scenario.num_iotds=7")
    assert code == 2 and len(lines) == 1, lines
    for name in ("scenario.json", "scenario.num_iotds=6 there, 7 in this run", "--force"):
        assert name in lines[0], lines[0]
    assert hashes(tmp_path) == before
    assert stage("generate_scenario", *TINY)[0] == 0  # the same configuration: replaced freely
    assert stage("generate_scenario", *TINY, "scenario.num_iotds=7", "--force")[0] == 0
    assert json.loads((data / "scenario.json").read_text())["config"]["scenario"]["num_iotds"] == 7
    # a consumer with the instance's original configuration notices the replaced instance
    before = hashes(results)
    code, lines = stage("solve_optimum", *TINY)
    assert code == 2 and len(lines) == 1, lines
    for name in ("scenario.json", "scenario.num_iotds=7", "replaced outside the workflow", "--forcerun"):
        assert name in lines[0], lines[0]
    assert hashes(results) == before


@pytest.fixture
def root_logging():
    """run_from_snakemake configures the root logger (as in a Snakemake job): restore it afterwards."""
    import logging

    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


def test_a_workflow_job_notices_an_instance_replaced_outside_the_workflow(stage, solved, tmp_path, root_logging):
    """What Snakemake runs (run_from_snakemake, with the job's config slice as its rerun key) checks
    the slice the instance records: a job of the workflow's configuration refuses the replaced one."""
    from types import SimpleNamespace

    from dirs.config import compose
    from dirs.io import InputFileError
    from dirs.stages import config_slice, get, run_from_snakemake

    data, results = solved
    cfg = compose([*TINY, "tracking.enabled=false"], conf_dir=ROOT / "conf")

    def job(inputs, outputs, slice_):
        params = {"config": slice_, "stage_module": "dirs.stages.evaluate"}
        return SimpleNamespace(
            rule="solve_optimum",
            log=[],
            params=SimpleNamespace(items=lambda: params.items()),
            input=SimpleNamespace(**inputs, items=lambda: inputs.items()),
            output=SimpleNamespace(**outputs, items=lambda: outputs.items()),
        )

    slice_ = config_slice(cfg, get("solve_optimum").all_reads())
    inputs = {"scenario": str(data / "scenario.json"), "channels": str(data / "channels.npz")}
    out = {"optimum": str(tmp_path / "optimum.npz")}
    run_from_snakemake(job(inputs, out, slice_))  # the instance the workflow generated: fine
    assert stage("generate_scenario", *TINY, "scenario.num_iotds=7", "--force")[0] == 0
    out = {"optimum": str(tmp_path / "again.npz")}
    with pytest.raises(InputFileError, match=r"scenario\.json: was generated with scenario\.num_iotds=7"):
        run_from_snakemake(job(inputs, out, slice_))
    assert not (tmp_path / "again.npz").exists()


# -------------------------------------------------------------------------- leftover temporaries
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_writers_are_removed_at_the_next_write(tmp_path):
    from dirs.common import _OWNER, atomic_path
    from dirs.io import write_together

    target = tmp_path / "channels.npz"
    dead, old = _dead_pid(), 0.0
    stale = [
        f".channels.npz.{_OWNER}-{dead}.abcdefgh.tmp",  # write_together's temporary
        f"..channels.npz.{_OWNER}-{dead}.abcdefgh.tmp.{_OWNER}-{dead}.ijklmnop.tmp.tmp",  # its own temporary
        f".channels.npz.{_OWNER}-{dead}.qrstuvwx.old",  # a backup a kill left between two renames
        ".channels.npz.a1b2c3d4.tmp.npz",  # an older version's temporary (no writer tag)
        f".channels.npz.otherhost-{os.getpid()}.zzzzzzzz.tmp",  # another host's, an hour old
    ]
    kept = [
        f".channels.npz.{_OWNER}-{os.getpid()}.livelive.tmp",  # a live writer (this process)
        ".channels.npz.otherhost-1.freshfsh.tmp",  # another host's, recent
        f".channels.npz.provenance.json.{_OWNER}-{dead}.abcdefgh.tmp",  # another target's
        "channels.npz.backup",  # not a temporary
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 1000)
    os.utime(tmp_path / stale[-1], (old, old))
    write_together({target: lambda tmp: tmp.write_bytes(b"new")})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "channels.npz"])
    (tmp_path / f".scenario.json.{_OWNER}-{dead}.abcdefgh.tmp.json").write_text("{")
    with atomic_path(tmp_path / "scenario.json") as tmp:
        tmp.write_text("{}")
    assert not list(tmp_path.glob(".scenario.json.*"))


def test_a_killed_writer_leaves_temporaries_that_the_next_write_removes(tmp_path):
    """SIGKILL in the middle of write_together (as in a large generate_scenario): the targets are
    untouched, the temporaries stay until the same files are written again."""
    import signal
    import time

    from dirs.io import write_together

    (tmp_path / "scenario.json").write_text("old")
    code = (
        "import sys, time; from pathlib import Path; from dirs.io import write_together\n"
        "def slow(tmp):\n    tmp.write_bytes(b'x' * 10**6)\n    Path(sys.argv[1], 'ready').touch()\n    time.sleep(60)\n"
        "write_together({Path(sys.argv[1], 'scenario.json'): lambda t: t.write_text('new'),"
        " Path(sys.argv[1], 'channels.npz'): slow})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while not (tmp_path / "ready").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(left) == 2 and (tmp_path / "scenario.json").read_text() == "old", left
    write_together(
        {
            tmp_path / "scenario.json": lambda t: t.write_text("v2"),
            tmp_path / "channels.npz": lambda t: t.write_text("c"),
        }
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["channels.npz", "ready", "scenario.json"]


def test_dirs_training_that_diverges_writes_no_model(instance, work):
    """A DIRS policy with a non-finite weight (training diverged) replaces no model."""
    import torch

    from dirs.learn.agents import load_policy
    from dirs.stages.learner import save_policy_together

    pol = load_policy(work / "policy")
    with torch.no_grad():
        pol.net.weights[0][0, 0, 0] = float("nan")
    before = hashes(work)
    with pytest.raises(ParameterError, match=r"dirs: training diverged.*policy was not replaced"):
        save_policy_together(pol, work / "policy")
    assert hashes(work) == before


def test_an_unreadable_anysize_checkpoint_starts_training_afresh(tmp_path):
    """A garbage checkpoint only costs the time it would have saved: the result is an uninterrupted run's."""
    import torch

    from dirs.learn.anysize_train import AnySizeSettings, train_anysize

    settings = AnySizeSettings(
        steps=2, scenarios=2, val_scenarios=1, batch=2, num_iotds=(6, 10), num_servers=(2, 3), eval_every=2
    )
    ckpt = tmp_path / "ckpt.pt"
    _garbage(ckpt)
    resumed = train_anysize(settings, None, progress=False, checkpoint_path=ckpt)
    fresh = train_anysize(settings, None, progress=False)
    for k, v in fresh.net.state_dict().items():
        assert torch.equal(v, resumed.net.state_dict()[k]), k
