"""``layout`` and ``ceiling``: DIRS's batch-1 forward pass per weight layout; the paper agents' NRR ceiling."""

from __future__ import annotations

import numpy as np

from dirs.bench.common import SCENARIOS, _median_time, _print, _scenario


def bench_layout(
    shapes: tuple[str, ...] = ("10x200:300,250", "50x2000:64,64"), repeats: int = 200, threads: int = 1
) -> list[dict]:
    """Batch-1 forward time (median over fresh inputs) per layer and in total, in both layouts.

    ``shapes``: ``"MxN:h1,h2"`` (M agents of N inputs and outputs with hidden sizes h1, h2).
    """
    import torch

    from dirs.learn.agents import build_net, inference_layout, stacked_forward

    torch.set_num_threads(int(threads))
    rows = []
    for shape in shapes:
        servers, rest = shape.split("x")
        iotds, hidden = rest.split(":")
        net = build_net(int(iotds), int(servers), [int(h) for h in hidden.split(",")], seed=0)
        plain = [(w.detach().contiguous(), b.detach()) for w, b in zip(net.weights, net.biases)]
        chosen = [(inference_layout(w), b) for w, b in plain]
        rng = torch.Generator().manual_seed(0)
        with torch.inference_mode():
            for k, ((w, b), (wc, _)) in enumerate(zip(plain, chosen)):
                xs = [torch.randn(w.shape[0], 1, w.shape[1], generator=rng) for _ in range(repeats)]
                t_plain = _median_time(lambda x: torch.baddbmm(b, x, w), xs)
                t_chosen = _median_time(lambda x: torch.baddbmm(b, x, wc), xs)
                stored = "(M, out, in)" if wc.stride(-1) != 1 else "(M, in, out)"
                rows.append(
                    {
                        "agents": shape,
                        "layer": f"{k}: {w.shape[1]} -> {w.shape[2]}",
                        "chosen": stored,
                        "ms (M, in, out)": 1e3 * t_plain,
                        "ms chosen": 1e3 * t_chosen,
                        "speed-up": t_plain / t_chosen,
                    }
                )
            xs = [torch.randn(int(servers), 1, int(iotds), generator=rng) for _ in range(repeats)]
            t_plain = _median_time(lambda x: stacked_forward(plain, x), xs)
            t_chosen = _median_time(lambda x: stacked_forward(chosen, x), xs)
            rows.append(
                {
                    "agents": shape,
                    "layer": "forward",
                    "chosen": "per layer",
                    "ms (M, in, out)": 1e3 * t_plain,
                    "ms chosen": 1e3 * t_chosen,
                    "speed-up": t_plain / t_chosen,
                }
            )
    return rows


def bench_ceiling(
    scenario: str = "medium",
    samples: int = 20000,
    steps: int = 8000,
    test: int = 500,
    hidden: tuple[int, ...] | None = None,
    batch: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    thresholds: tuple[float, ...] = (0.5, 0.4, 0.3, 0.2),
    reports: int = 4,
) -> list[dict]:
    """Supervised imitation of the exact optimum (L_D, Adam, uniform minibatches) with ample data.

    Isolates what limits DIRS's NRR: not the demonstrator (labels are exact), not the budget
    (``samples`` and ``steps`` ≫ the paper's), but what agent j can know from its own gains h_j
    and the vote's 0.5 threshold.
    """
    import torch

    from dirs.learn.agents import InputScaler, Policy, build_net, targets
    from dirs.learn.training import bce_per_entry, set_determinism
    from dirs.learn.vote import vote_stacked
    from dirs.solvers.oracle import solve_exact
    from dirs.system import evaluate

    set_determinism(1)
    sc = _scenario(scenario, seed)
    p = sc.params
    rng = np.random.default_rng([seed, 0xCE11])
    gains, test_gains = sc.sample_channels(samples, rng), sc.sample_channels(test, rng)
    decisions, test_opt = solve_exact(gains, p), evaluate(solve_exact(test_gains, p), test_gains, p).objective
    scaler = InputScaler.fit(gains)
    net = build_net(sc.num_iotds, sc.num_servers, list(hidden) if hidden else None, seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    x, y = scaler(gains), targets(decisions, sc.num_servers)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    report_at = {s for s in (25, 100, 500) if s < steps} | {max(1, steps * k // reports) for k in range(1, reports + 1)}
    for step in range(1, steps + 1):
        idx = torch.randint(0, samples, (batch,), generator=gen)
        loss = bce_per_entry(net(x[:, idx]), y[:, idx]).mean(-1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in report_at:
            probs = Policy(net, scaler, p).probabilities(test_gains)  # (M, T, N)
            row = {"step": step, "train_loss": float(loss.detach()) / sc.num_servers}
            for th in thresholds:
                a = vote_stacked(probs, threshold=th)  # the paper's vote at th = 0.5
                row[f"nrr (th {th:g})"] = float((test_opt / evaluate(a, test_gains, p).objective).mean())
                row[f"local/sample (th {th:g})"] = float((a == 0).sum(1).mean())
            rows.append(row)
    return rows


def _ceiling_args(ce) -> None:
    ce.add_argument("--scenario", default="medium", choices=SCENARIOS)
    ce.add_argument("--samples", type=int, default=20000, help="training samples labelled by the exact optimum")
    ce.add_argument("--steps", type=int, default=8000, help="Adam steps (minibatch 256)")
    ce.add_argument("--hidden", type=int, nargs="*", default=None, help="hidden sizes (default: the paper's)")
    ce.add_argument("--seed", type=int, default=0)


def _ceiling_run(args) -> None:
    print(
        f"{args.scenario}: agents imitate the exact optimum on {args.samples} samples, {args.steps} steps; "
        "NRR vs the optimum on 500 held-out samples (paper vote: th 0.5)"
    )
    _print(
        bench_ceiling(args.scenario, args.samples, args.steps, hidden=tuple(args.hidden or ()) or None, seed=args.seed),
        {"train_loss": ".4f"},
    )


def _layout_args(lay) -> None:
    lay.add_argument(
        "--shapes",
        nargs="+",
        default=["10x200:300,250", "50x2000:64,64"],
        help="agents as MxN:h1,h2 (default: the paper's xlarge; the scale study's largest)",
    )
    lay.add_argument("--repeats", type=int, default=200)
    lay.add_argument("--threads", type=int, default=1)


def _layout_run(args) -> None:
    print(f"DIRS batch-1 forward, median over {args.repeats} fresh inputs, torch {args.threads} thread(s)")
    _print(bench_layout(tuple(args.shapes), args.repeats, args.threads), {"speed-up": ".2f"})


COMMANDS = {
    "ceiling": (
        "the paper's agents imitating the exact optimum with ample data: NRR ceiling",
        _ceiling_args,
        _ceiling_run,
    ),
    "layout": ("DIRS forward pass: weight storage (M, in, out) vs the chosen layout", _layout_args, _layout_run),
}
