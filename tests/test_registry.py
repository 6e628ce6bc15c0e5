"""The method registry, the code-dependency walk and the per-stage config slices ([extend])."""

import sys
import textwrap

import numpy as np
import pytest
from omegaconf.errors import ConfigAttributeError, ConfigKeyError

from dirs.codedeps import closure, code_inputs
from dirs.config import compose
from dirs.methods import Method, method_of_row, register, registry, row_label
from dirs.stages import config_slice, get, restrict
from dirs.system import Scenario
from dirs.system.params import ParameterError

BUILTIN = {
    "optimum": "reference",
    "local": "heuristic",
    "remote": "heuristic",
    "random": "heuristic",
    "greedy": "heuristic",
    "pso": "search",
    "pso-seeded": "search",
    "de": "search",
    "de-seeded": "search",
    "levy": "search",
    "levy-greedy": "search",
    "ac": "drl",
    "ddpg": "drl",
    "maddpg": "drl",
}


def test_every_builtin_method_is_registered_once_with_its_kind():
    cfg = compose([])
    reg = registry(cfg)
    for name, kind in BUILTIN.items():
        assert reg[name].kind == kind, name
    variants = {n for n, m in reg.items() if m.kind == "dirs"}
    assert variants == set(cfg.dirs.variants)  # DIRS variants come from conf/dirs/paper.yaml
    assert reg["dirs"].file == "policy_dirs.csv" and reg["greedy"].file == "greedy.csv"
    assert method_of_row("dirs+repair", reg).name == "dirs"
    assert method_of_row("maddpg_capacity", reg).name == "maddpg"
    assert row_label("dirs-last", reg) == "DIRS (final weights)"
    with pytest.raises(ParameterError, match="no registered method writes the row 'nope'"):
        method_of_row("nope", reg)


@pytest.mark.parametrize("name", ["local", "remote", "random", "greedy", "optimum", "levy"])
def test_registered_builders_decide_valid_decisions(name):
    cfg = compose(["scenario=medium"])
    sc = Scenario.generate(12, 3, seed=1, name="t")
    gains = sc.sample_channels(4, 2)
    m = registry(cfg)[name]
    a = np.asarray(m.build(cfg, sc.params, np.random.default_rng([0, *m.stream]))(gains))
    assert a.shape == (4, 12) and a.min() >= 0 and a.max() <= 3


def test_registering_a_name_twice_from_another_function_fails():
    @register("twice-test", label="t", kind="heuristic")
    def first(cfg, params, rng):
        return lambda g: np.zeros(g.shape[:-1], dtype=int)

    with pytest.raises(ParameterError, match="registered twice"):

        @register("twice-test", label="t", kind="heuristic")
        def second(cfg, params, rng):
            return first(cfg, params, rng)


def test_a_method_from_a_users_module_is_found_through_plugins(tmp_path, monkeypatch):
    (tmp_path / "my_sched.py").write_text(
        textwrap.dedent("""
        from dirs.methods import register

        @register("nearest-test", label="Nearest server", kind="heuristic")
        def nearest(cfg, params, rng):
            return lambda gains: gains.argmax(-1) + 1
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = compose(["plugins=[my_sched]"])
    m = registry(cfg)["nearest-test"]
    assert isinstance(m, Method) and m.module == "my_sched" and m.label == "Nearest server"
    with pytest.raises(ParameterError, match="plugins: cannot import module 'no_such_mod'"):
        registry(compose(["plugins=[no_such_mod]"]))
    sys.modules.pop("my_sched", None)


def test_code_inputs_are_the_import_closure():
    learner = {str(p) for p in code_inputs("dirs.stages.learner")}
    scenario = {str(p) for p in code_inputs("dirs.stages.scenario")}
    assert "dirs/learn/vote.py" in learner and "dirs/stages/learner.py" in learner
    assert "dirs/learn/vote.py" not in scenario and "dirs/solvers/reference.py" not in scenario
    assert {"dirs/__init__.py", "dirs/stages/__init__.py", "dirs/system/__init__.py"} <= scenario
    # a lazy import inside a function counts: evaluate_policy imports dirs.stages.evaluate lazily
    assert "dirs/stages/evaluate.py" in learner
    with pytest.raises(ValueError, match="no such file"):
        closure("dirs.no_such_module")


def test_code_walk_follows_relative_and_lazy_imports(tmp_path):
    pkg = tmp_path / "dirs"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from . import b\n\ndef f():\n    from dirs.c import thing\n")
    (pkg / "sub" / "b.py").write_text("import numpy\n")
    (pkg / "c.py").write_text("thing = 1\n")
    (pkg / "d.py").write_text("")
    names = {p.relative_to(tmp_path).as_posix() for p in closure("dirs.sub.a", root=pkg)}
    assert names == {"dirs/__init__.py", "dirs/sub/__init__.py", "dirs/sub/a.py", "dirs/sub/b.py", "dirs/c.py"}


def test_config_slice_holds_only_what_the_stage_reads():
    cfg = compose(["scenario=large", "seed=3"])
    stage = get("generate_demos")
    s = config_slice(cfg, stage.all_reads())
    assert set(s) == {"seed", "scenario", "search"}
    assert set(s["search"]) == {"num_demos", "demo", "start", "demonstrator"}
    train = config_slice(cfg, get("train_agents").all_reads(variant="dirs"))
    assert set(train["dirs"]["variants"]) == {"dirs"} and "variant" not in train["dirs"]
    assert "profile" not in train and "paths" not in train and "tracking" not in train
    # one seed or three: the key of a seed-0 job is the same
    assert config_slice(compose(["profile.seeds=[0]"]), stage.all_reads()) == config_slice(
        compose([]), stage.all_reads()
    )


def test_a_stage_cannot_read_a_key_outside_its_slice():
    cfg = compose(["scenario=medium"])
    small = restrict(cfg, get("generate_demos"))
    assert small.search.num_demos == cfg.search.num_demos and small.tracking.enabled == cfg.tracking.enabled
    with pytest.raises((ConfigAttributeError, ConfigKeyError)):
        _ = small.dirs
    with pytest.raises((ConfigAttributeError, ConfigKeyError)):
        _ = small.search.pso_particles
