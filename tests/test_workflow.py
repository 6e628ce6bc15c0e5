"""End to end: the smoke DAG in a temporary copy of the workflow, MLflow in a temporary store."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def copy_workflow(dest: Path) -> Path:
    """The files a workflow run needs, copied into ``dest`` (created if missing)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "conf", "dirs"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DIRS_"))}
    return subprocess.run([SNAKEMAKE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


#: The smoke profile's experiments without Fig. 6: the fixture first runs without it, records the
#: dry run that adds it (only Fig. 6's own jobs may be planned), then completes the DAG.
WITHOUT_FIG6 = "profile.experiments=[{}]".format(
    ",".join(
        e
        for e in yaml.safe_load((ROOT / "conf/profile/smoke.yaml").read_text())["profile"]["experiments"]
        if e != "fig6"
    )
)
PLANNED = re.compile(r"^(?:local)?rule (\w+):$", re.M)
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$", re.M)


def planned_jobs(out: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run plans (target rules without wildcards included)."""
    jobs = []
    for block in re.split(r"\n(?=\[|(?:local)?rule \w+:)", out):
        m = PLANNED.search(block)
        if m:
            w = WILDCARDS.search(block)
            jobs.append((m.group(1), w.group(1) if w else ""))
    return jobs


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    wd = copy_workflow(tmp_path_factory.mktemp("wf"))
    proc = snakemake(wd, "--cores", "2", "--config", "profile=smoke", f'overrides=["{WITHOUT_FIG6}"]')
    assert proc.returncode == 0, proc.stderr[-5000:]
    added = snakemake(wd, "-n", "--config", "profile=smoke")
    assert added.returncode == 0, added.stderr[-3000:]
    (wd / "added_fig6.txt").write_text(added.stdout + added.stderr)
    proc = snakemake(wd, "--cores", "2", "--config", "profile=smoke")
    assert proc.returncode == 0, proc.stderr[-5000:]
    return wd


@pytest.mark.slow
def test_smoke_outputs(smoke_run):
    for scenario in ("medium", "large", "xlarge"):
        ev = smoke_run / f"results/evaluations/{scenario}/seed0"
        table = pd.concat([pd.read_csv(ev / f"{m}.csv") for m in ("optimum", "local", "remote", "random", "greedy")])
        assert list(table.method) == ["optimum", "local", "remote", "random", "greedy"]
        assert (table.nrr_opt <= 1 + 1e-12).all()
        assert table.set_index("method").loc["optimum", "nrr_opt"] == pytest.approx(1.0)
        assert (smoke_run / f"data/scenarios/{scenario}/seed0/channels.npz").is_file()
        assert (ev / "greedy.csv.provenance.json").is_file()  # every evaluation knows its inputs


@pytest.mark.slow
def test_smoke_baselines(smoke_run):
    from dirs.baselines import load_baseline

    for algo in ("ac", "ddpg", "maddpg"):
        table = pd.read_csv(smoke_run / f"results/evaluations/xlarge/seed0/{algo}.csv")
        assert list(table.method) == [algo, f"{algo}_capacity"]
        assert (table.nrr_opt <= 1 + 1e-12).all() and (table.train_s > 0).all()
        policy = load_baseline(smoke_run / f"results/models/xlarge/seed0/{algo}")
        assert policy.meta["interactions"] == 48


@pytest.mark.slow
def test_smoke_runs_logged_to_mlflow(smoke_run):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{smoke_run / 'results/mlflow/mlflow.db'}")
    exp = client.get_experiment_by_name("dirs-smoke")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("dirs.kind") == "pipeline"]
    assert len(parents) == 2 and {p.info.status for p in parents} == {"FINISHED"}  # one per invocation
    ids = {p.info.run_id for p in parents}
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") in ids]
    assert len(children) == len(runs) - 2  # every job's run hangs under its invocation's parent
    stages = {r.data.tags["dirs.stage"] for r in children}
    assert {"generate_scenario", "solve_optimum", "evaluate_method"} <= stages
    assert {"train_baseline", "evaluate_baseline"} <= stages
    trained = [r for r in children if r.data.tags["dirs.stage"] == "train_baseline"]
    assert {r.data.tags["dirs.algo"] for r in trained} == {"ac", "ddpg", "maddpg"}
    assert all("train_s" in r.data.metrics for r in trained)
    assert all(r.info.status == "FINISHED" for r in children)
    greedy = [r for r in children if r.data.tags.get("dirs.method") == "greedy"]
    assert greedy and all("nrr_opt" in r.data.metrics for r in greedy)
    assert all(
        r.info.run_name.startswith("evaluate_method ") and r.info.run_name.endswith(" seed0 greedy") for r in greedy
    )
    per_instance = [r for r in children if "dirs.scenario" in r.data.tags]
    assert all(r.data.params["scenario.num_train"] == "64" for r in per_instance)
    assert exp.tags.get("mlflow.experimentKind") == "custom_model_development"  # the UI opens on the runs table


@pytest.mark.slow
def test_second_dry_run_has_nothing_to_do(smoke_run):
    proc = snakemake(smoke_run, "-n", "--config", "profile=smoke")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_smoke_demos_and_fig4(smoke_run):
    import numpy as np
    from mlflow.tracking import MlflowClient

    for scenario in ("medium", "large", "xlarge"):
        with np.load(smoke_run / f"data/demos/{scenario}/seed0/demos.npz") as z:
            assert z["gains"].shape[0] == z["decisions"].shape[0] == z["nrr"].shape[0] == 8
            assert (z["nrr"] <= 1 + 1e-12).all() and z["nrr"].mean() > 0.97
    for name in ("fig4.png", "fig4.pdf", "fig4.csv"):
        assert (smoke_run / "results/figures" / name).stat().st_size > 0
    client = MlflowClient(f"sqlite:///{smoke_run / 'results/mlflow/mlflow.db'}")
    exp = client.get_experiment_by_name("dirs-smoke")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    demos = [r for r in runs if r.data.tags.get("dirs.stage") == "generate_demos"]
    assert {"medium", "large", "xlarge"} <= {r.data.tags["dirs.scenario"] for r in demos}
    assert all("nrr_mean" in r.data.metrics for r in demos)
    assert any(r.data.tags.get("dirs.stage") == "plot_levy_fitness" for r in runs)


@pytest.mark.slow
def test_smoke_learner_outputs(smoke_run):
    import numpy as np
    from mlflow.tracking import MlflowClient

    from dirs.learn import load_policy
    from dirs.system import Scenario

    for scenario in ("medium", "large", "xlarge"):
        for variant in ("dirs",):  # the smoke profile builds dirs only (dirs.models); same rules
            table = pd.read_csv(smoke_run / f"results/evaluations/{scenario}/seed0/policy_{variant}.csv")
            assert set(table.method) >= {variant, f"{variant}+repair", f"{variant}-imitation-only"}
            assert ((table.nrr_opt > 0) & (table.nrr_opt <= 1 + 1e-12)).all()
            assert (table.set_index("method").loc[[variant, f"{variant}+repair"], "train_s"] > 0).all()
        pol = load_policy(smoke_run / f"results/models/{scenario}/seed0/dirs")
        sc = Scenario.load(smoke_run / f"data/scenarios/{scenario}/seed0/scenario.json")
        gains = sc.load_channels(smoke_run / f"data/scenarios/{scenario}/seed0/channels.npz", "test")
        assert pol.decide(gains).shape == gains.shape[:2]
    for name in ("fig3.png", "fig3.pdf", "fig5.png", "fig5.pdf"):
        assert (smoke_run / "results/figures" / name).stat().st_size > 0
    t2 = pd.read_csv(smoke_run / "results/tables/table2.csv")
    assert set(t2.loss) == {"L1", "LD"} and t2.train_accuracy.between(0, 1).all()
    f5 = pd.read_csv(smoke_run / "results/figures/fig5.csv")
    assert set(f5.variant) == {"dirs", "ensemble-levy", "ensemble-egreedy"}
    assert not (smoke_run / "results/checkpoints").exists() or not any(
        (smoke_run / "results/checkpoints").rglob("*.pt")
    )
    client = MlflowClient(f"sqlite:///{smoke_run / 'results/mlflow/mlflow.db'}")
    exp = client.get_experiment_by_name("dirs-smoke")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    train = [r for r in runs if r.data.tags.get("dirs.stage") == "train_agents"]
    policies = {(p.parts[-4], p.parts[-2]) for p in (smoke_run / "results/models").glob("*/seed0/*/policy.pt")}
    assert len(policies) >= 9  # medium x 3 variants, large, xlarge, Fig. 6/7 and scale instances
    assert {(r.data.tags["dirs.scenario"], r.data.tags["dirs.variant"]) for r in train} == policies
    assert all(r.info.status == "FINISHED" for r in train)
    assert all({"avg_reward", "loss_agent1", "val_nrr"} <= set(r.data.metrics) for r in train)
    history = MlflowClient(f"sqlite:///{smoke_run / 'results/mlflow/mlflow.db'}").get_metric_history(
        train[0].info.run_id, "avg_reward"
    )
    assert len(history) > 1
    assert np.isfinite([m.value for m in history]).all()


TABLES = ("table2", "table3", "table4", "table5", "ablation")
FIGURES = ("fig3", "fig4", "fig5", "fig6", "fig7", "scale")


@pytest.mark.slow
def test_smoke_builds_every_table_and_figure(smoke_run):
    for name in TABLES:
        assert pd.read_csv(smoke_run / f"results/tables/{name}.csv").shape[0] > 0, name
        assert (smoke_run / f"results/tables/{name}.md").read_text().count("|") > 10, name
    for name in FIGURES:
        for ext in ("png", "pdf", "csv"):
            assert (smoke_run / f"results/figures/{name}.{ext}").stat().st_size > 0, (name, ext)
    ablation = pd.read_csv(smoke_run / "results/tables/ablation.csv")
    assert {"exact", "search"} <= set(ablation.allocation)
    assert ((ablation.nrr_opt > 0) & (ablation.nrr_opt <= 1 + 1e-12)).all()


@pytest.mark.slow
def test_smoke_report_shows_every_table_and_figure(smoke_run):
    proc = snakemake(smoke_run, "--report", "results/report.html", "--config", "profile=smoke")
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (smoke_run / "results/report.html").read_text()
    for name in [f"{t}.md" for t in TABLES] + [f"{f}.png" for f in FIGURES]:
        assert name in html, name


def dry_run(wd, *config, pure_mtime=False):
    """Jobs a dry run plans. ``pure_mtime``: plain make semantics (``--max-checksum-file-size 0``);
    by default Snakemake 9 skips an input whose mtime changed but whose stored checksum did not."""
    flags = ("--max-checksum-file-size", "0") if pure_mtime else ()
    proc = snakemake(wd, "-n", *flags, "--config", "profile=smoke", *config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return planned_jobs(proc.stdout + proc.stderr)


@pytest.mark.slow
def test_adding_an_experiment_plans_only_its_own_jobs(smoke_run):
    jobs = planned_jobs((smoke_run / "added_fig6.txt").read_text())
    assert jobs, "adding fig6 planned nothing"
    others = [
        (r, w)
        for r, w in jobs
        if r not in ("plot_time_energy", "fig6", "experiments", "all", "evaluations")
        and "scenario=large-time-sensitive" not in w
    ]
    assert others == [], others  # only fig6's instance, its table job and the aggregate targets


@pytest.mark.slow
def test_three_seeds_plan_no_job_of_seed_0(smoke_run):
    jobs = dry_run(smoke_run, 'overrides=["profile.seeds=[0,1,2]"]')
    assert jobs and not [j for j in jobs if "seed=0" in j[1]]


def _touched(wd, rel, edit=None):
    """Dry run after touching (or editing) ``rel`` in the copy; the file is restored afterwards. A
    plain touch leaves the content unchanged, which Snakemake 9 recognises by its stored checksum
    and reruns nothing; the touch case is therefore checked with make's mtime semantics."""
    path = wd / rel
    text, st = path.read_text(), path.stat()
    try:
        if edit is None:
            os.utime(path)
            return dry_run(wd, pure_mtime=True)
        path.write_text(edit(text))
        return dry_run(wd)
    finally:
        path.write_text(text)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


#: Rules whose jobs never import the learner (their code inputs are their stage's import closure).
NEVER_LEARNER = {"generate_scenario", "solve_optimum", "evaluate_method", "generate_demos"}


@pytest.mark.slow
def test_touching_a_module_reruns_exactly_its_importers(smoke_run):
    from dirs.codedeps import closure
    from dirs.config import compose
    from dirs.methods import registry as methods
    from dirs.stages import registry

    jobs = _touched(smoke_run, "dirs/learn/vote.py")
    rules = {r for r, _ in jobs}
    path = smoke_run / "dirs/learn/vote.py"
    st = path.stat()
    os.utime(path)
    try:  # the same touch under Snakemake's default checksum check: the content did not change
        assert dry_run(smoke_run) == []
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    def imports_vote(module):
        return any(p.name == "vote.py" and p.parent.name == "learn" for p in closure(module))

    importers = {name for name, s in registry().items() if imports_vote(s.module)}
    for m in methods(compose([])).values():  # a job's code is its stage's closure and its method's
        if m.kind in ("drl", "learned") and imports_vote(m.module):
            importers |= {"train_baseline", "evaluate_baseline"} if m.kind == "drl" else {"evaluate_learned"}
    assert {"train_agents", "evaluate_policy", "pretrain_agents"} <= rules
    assert not rules & NEVER_LEARNER, rules & NEVER_LEARNER
    # every planned job imports vote.py or consumes an output of one that does (tables, targets)
    consumers = {
        "make_quality_table",
        "make_cost_table",
        "plot_time_energy",
        "plot_objective_vs_n",
        "plot_scale",
        "make_ablation",
        "make_imitation_table",
        "plot_pretrain_loss",
        "plot_training_reward",
        "make_hetero_table",
    }
    targets = {
        "all",
        "experiments",
        "evaluations",
        "table2",
        "table3",
        "table4",
        "table5",
        "fig3",
        "fig4",
        "fig5",
        "fig6",
        "fig7",
        "ablation",
        "scale",
        "hetero",
    }
    assert rules - importers - consumers - targets == set(), rules - importers - consumers - targets


@pytest.mark.slow
def test_docstring_edit_reruns_only_the_modules_importers(smoke_run):
    jobs = _touched(smoke_run, "dirs/solvers/swarm.py", lambda t: t.replace('"""', '"""Edited. ', 1))
    methods = {w.split("method=")[-1] for r, w in jobs if r == "evaluate_method"}
    assert methods and methods <= {"pso", "pso-seeded", "de", "de-seeded", "levy", "levy-greedy"}, methods
    assert not {r for r, _ in jobs} & {"generate_scenario", "solve_optimum", "generate_demos", "train_agents"}


@pytest.mark.slow
def test_editing_one_scenario_value_reruns_only_its_stages(smoke_run):
    """Last test of the module: it edits the smoke copy's conf/."""
    path = smoke_run / "conf/scenario/medium.yaml"
    path.write_text(path.read_text().replace("mec_cpu_hz: 15.0e9", "mec_cpu_hz: 14.0e9"))
    jobs = dry_run(smoke_run)
    planned = {re.search(r"scenario=([A-Za-z0-9_.-]+)", w).group(1) for _, w in jobs if "scenario=" in w}
    assert planned == {"medium"}, planned
    assert "generate_scenario" in {r for r, _ in jobs}
