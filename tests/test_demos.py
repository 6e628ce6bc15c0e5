"""Stages generate_demos and plot_fig4 on the smoke sizes (MLflow off), and the figure helpers."""

import numpy as np
import pandas as pd
import pytest

from dirs.config import compose
from dirs.report.figures import fig4_data, mean_ci
from dirs.stages.scenario import generate_scenario
from dirs.stages.search import generate_demos, plot_fig4
from dirs.system import Scenario


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    d = tmp_path_factory.mktemp("inst")
    cfg = compose(
        ["profile=smoke", "tracking.enabled=false", f"paths.data_dir={d}/data", f"paths.results_dir={d}/results"]
    )
    paths = {"scenario": d / "scenario.json", "channels": d / "channels.npz"}
    generate_scenario(cfg, **paths)
    return cfg, paths, d


@pytest.mark.parametrize("demonstrator,start", [("levy", "greedy"), ("levy", "remote"), ("oracle", "greedy")])
def test_generate_demos_writes_labelled_training_samples(instance, demonstrator, start):
    cfg, paths, d = instance
    cfg = cfg.copy()
    cfg.search.demonstrator, cfg.search.start = demonstrator, start
    out = d / f"demos_{demonstrator}_{start}.npz"
    generate_demos(cfg, **paths, demos=out)
    sc = Scenario.load(paths["scenario"])
    train = sc.load_channels(paths["channels"], "train")
    k = cfg.search.num_demos
    with np.load(out) as z:
        gains, decisions, nrr = z["gains"], z["decisions"], z["nrr"]
    assert gains.shape == (k, sc.num_iotds, sc.num_servers) and decisions.shape == (k, sc.num_iotds)
    np.testing.assert_array_equal(gains, train[:k])
    assert decisions.min() >= 0 and decisions.max() <= sc.num_servers
    assert np.all(nrr <= 1 + 1e-12) and nrr.shape == (k,)
    if demonstrator == "oracle":
        np.testing.assert_allclose(nrr, 1.0)
    else:
        assert nrr.mean() > 0.97
    # deterministic in the seed
    again = d / "again.npz"
    generate_demos(cfg, **paths, demos=again)
    with np.load(again) as z:
        np.testing.assert_array_equal(z["decisions"], decisions)


def test_plot_fig4_writes_png_pdf_and_data(instance):
    cfg, paths, d = instance
    cfg = cfg.copy()
    cfg.experiment.methods = ["classic", "proposed"]  # the Lévy flight variants of conf/experiment/fig4.yaml
    fig = d / "figs" / "fig4.png"
    plot_fig4(
        cfg,
        scenario=[paths["scenario"]] * 2,
        channels=[paths["channels"]] * 2,
        figure=fig,
        data=d / "figs" / "fig4.csv",
    )
    assert fig.stat().st_size > 0 and fig.with_suffix(".pdf").stat().st_size > 0
    frame = pd.read_csv(d / "figs" / "fig4.csv")
    assert set(frame.variant) == {"classic", "proposed"}
    assert (frame.n_samples == 2 * cfg.search.fig4_samples).all()
    for _, f in frame.groupby("variant"):
        assert np.all(np.diff(f.objective.to_numpy()) <= 1e-12)  # greedy selection: never worse
        assert (f.ratio_to_optimum >= 1 - 1e-12).all()
        assert (f.objective_lo <= f.objective).all() and (f.objective <= f.objective_hi).all()
    start = frame[frame.iteration == 0].set_index("variant").objective
    assert start["classic"] == pytest.approx(start["proposed"])  # both curves share the start


def test_mean_ci_matches_student_t():
    from scipy import stats

    x = np.random.default_rng(0).normal(size=(3, 40))
    m, lo, hi = mean_ci(x, axis=1)
    ref = stats.t.interval(0.95, 39, loc=x.mean(1), scale=stats.sem(x, axis=1))
    np.testing.assert_allclose(lo, ref[0]) and np.testing.assert_allclose(hi, ref[1])
    np.testing.assert_allclose(m, x.mean(1))


def test_fig4_data_ratio_is_relative_to_the_optimum():
    hist = np.array([[4.0, 6.0], [2.0, 3.0]])
    frame = fig4_data({"proposed": hist}, np.array([2.0, 3.0]))
    np.testing.assert_allclose(frame.ratio_to_optimum, [2.0, 1.0])
