"""No bad input gives a silent wrong result ([inputs]).

Every case feeds one bad input — a configuration override, a damaged file, a bad argument to the
Python API, an action outside the Gymnasium environment's action space — and asserts the error type
and that the message names the field or the file; file cases also assert that no file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
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
    # channels.npz
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
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_missing_file_is_named(instance, work, missing, load):
    (work / missing).unlink()
    before = hashes(work)
    with pytest.raises(FileNotFoundError, match=missing.rsplit("/", 1)[-1]):
        load(instance, work)
    assert hashes(work) == before


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
    ],
    ids=["nan", "negative", "zero", "inf", "fewer-iotds", "fewer-servers", "1d", "4d"],
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
