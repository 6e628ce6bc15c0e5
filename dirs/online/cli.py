"""Command line of the time-coupled model (docs/design.md §11.8): ``python -m dirs.online <command>``.

* ``speed`` — simulator slots per second (Local decisions; controller time excluded);
* ``run`` — one controller's long-run metrics;
* ``sweep`` — the V sweep with the (B + δ)/V bound (:mod:`dirs.online.sweep`);
* ``stability`` — the stability limit per controller (:func:`dirs.online.metrics.stability_limit`).

Common options: ``--size`` (medium | large | xlarge), ``--seed``, ``--rate``, ``--config`` (a YAML file of
:class:`dirs.online.config.OnlineConfig` fields). A bad option prints one ``error: …`` line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from dirs.online.config import SIZES, OnlineConfig, make_scenario
from dirs.online.controllers import CONTROLLERS, Local, make_controller
from dirs.online.metrics import run, stability_limit
from dirs.online.sim import Simulator
from dirs.online.sweep import format_sweep, v_sweep
from dirs.system.params import ParameterError


def _config(args) -> OnlineConfig:
    data = {}
    if args.config:
        import yaml

        with open(args.config) as fh:
            data = yaml.safe_load(fh) or {}
    cfg = OnlineConfig.from_dict(data)
    return cfg.replace(rate=args.rate) if args.rate is not None else cfg


def _speed(args, sc, cfg) -> None:
    sim = Simulator(sc, cfg, seed=args.seed)
    t0 = time.perf_counter()
    res = run(sim, Local(), args.slots)
    wall = time.perf_counter() - t0
    s = res.summary()
    print(
        f"{args.size}: N={sc.num_iotds} M={sc.num_servers}, {args.slots} slots, rate {cfg.rate}, mobility "
        f"{cfg.mobility}, rho {cfg.fading_rho}: simulator {res.sim_s:.1f} s ({args.slots / res.sim_s:.0f} slots/s), "
        f"wall {wall:.1f} s with bookkeeping; conservation {res.totals}"
    )
    print(json.dumps({k: round(v, 6) for k, v in s.items()}))


def _run(args, sc, cfg) -> None:
    ctrl = make_controller(args.controller, **_ctrl_options(args))
    res = run(Simulator(sc, cfg, seed=args.seed), ctrl, args.slots)
    print(json.dumps({"controller": ctrl.name, **{k: round(v, 6) for k, v in res.summary().items()}}))


def _ctrl_options(args) -> dict:
    return {"v": args.v, "rel_gap": args.rel_gap} if args.controller.startswith("dpp") else {"rel_gap": args.rel_gap}


def _sweep(args, sc, cfg) -> None:
    rows = v_sweep(sc, cfg, args.vs, slots=args.slots, solver=args.solver, seed=args.seed, rel_gap=args.rel_gap)
    print(f"{args.size}: rate {cfg.rate}, {args.slots} slots, solver {args.solver}, rel_gap {args.rel_gap}")
    print(format_sweep(rows))


def _stability(args, sc, cfg) -> None:
    for name in args.controllers:
        opts = _ctrl_options(argparse.Namespace(controller=name, v=args.v, rel_gap=args.rel_gap))
        t0 = time.perf_counter()
        lim = stability_limit(
            sc,
            cfg,
            lambda name=name, opts=opts: make_controller(name, **opts),
            slots=args.slots,
            tol=args.tol,
            seed=args.seed,
        )
        probes = " ".join(f"{r:.3f}:{'ok' if b else 'X'}" for r, _, b in lim.probes)
        print(
            f"{name:14s} limit {lim.rate:.3f} (first unbounded {lim.upper:.3f}; {time.perf_counter() - t0:.0f} s) probes {probes}"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dirs.online", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("speed", "run", "sweep", "stability"):
        s = sub.add_parser(name)
        s.add_argument("--size", default="medium", choices=SIZES)
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--rate", type=float, default=None)
        s.add_argument("--config", default=None, help="YAML file of OnlineConfig fields")
        s.add_argument("--slots", type=int, default=100_000 if name == "speed" else 2000)
        s.add_argument("--rel-gap", dest="rel_gap", type=float, default=1e-3)
        s.add_argument("--v", type=float, default=1.0)
    sub.choices["run"].add_argument("--controller", default="dpp", choices=sorted(CONTROLLERS))
    sub.choices["sweep"].add_argument("--vs", type=float, nargs="+", default=[0.03, 0.1, 0.3, 1.0, 3.0, 10.0])
    sub.choices["sweep"].add_argument("--solver", default="certified", choices=["certified", "greedy"])
    st = sub.choices["stability"]
    st.add_argument(
        "--controllers", nargs="+", default=["local", "remote", "myopic", "dpp"], choices=sorted(CONTROLLERS)
    )
    st.add_argument("--tol", type=float, default=0.02)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
        sc = make_scenario(args.size, args.seed)
        cfg = _config(args)
        {"speed": _speed, "run": _run, "sweep": _sweep, "stability": _stability}[args.command](args, sc, cfg)
    except (ParameterError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


__all__ = ["main", "parser"]
