"""Helpers shared by the benchmarks: scenario sizes, a timing loop, a table printer."""

from __future__ import annotations

import time

import numpy as np

SCENARIOS = ("medium", "large", "xlarge")


def _scenario(name: str, seed: int = 0):
    from dirs.config import compose
    from dirs.system.families import paper_scenario

    return paper_scenario(compose([f"scenario={name}", f"seed={seed}"]))


def _median_time(fn, inputs) -> float:
    """Median seconds of ``fn(x)`` over ``inputs`` (a fresh input each repetition)."""
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _print(rows: list[dict], formats: dict | None = None) -> None:
    import pandas as pd

    formats = {k: (lambda v, f=f: format(v, f)) for k, f in (formats or {}).items()}
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}", formatters=formats))
