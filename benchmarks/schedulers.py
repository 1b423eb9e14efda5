"""Scheduler decision cost: ours against Ray Tune's, driven the same way in the same process.

    python benchmarks/schedulers.py                 # 1k, 10k and 100k trials
    python benchmarks/schedulers.py --sizes 1000 10000

Workload ("fill a rung"): n trials each report once, at iteration 1, which is ASHA's first rung
milestone (grace_period=1, reduction_factor=4, max_t=100). Every report is a rung decision, so the
cost of computing the rung's cutoff dominates: Ray Tune recomputes a percentile over the whole rung
each time (O(n) per decision), ours keeps a running quantile (O(log n)). The reported values are
the same for both, and the script checks that every decision is identical.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ray.tune.schedulers import AsyncHyperBandScheduler as RayASHA

from tune_schedulers import ASHAScheduler
from tune_trial import Trial


@dataclass(frozen=True)
class _RayTrial:
    """The part of Ray Tune's Trial its ASHA reads."""

    trial_id: str


def fill_a_rung_ours(values: Sequence[float]) -> tuple[float, list[str]]:
    scheduler = ASHAScheduler(metric="loss", mode="min", max_t=100, grace_period=1, reduction_factor=4)
    trials = [Trial(f"t{index}", {}) for index in range(len(values))]
    start = time.perf_counter()
    decisions = []
    for trial, value in zip(trials, values, strict=True):
        scheduler.on_trial_add(trial)
        decisions.append(scheduler.on_trial_result(trial, {"loss": value, "training_iteration": 1}).value)
    return time.perf_counter() - start, decisions


def fill_a_rung_ray(values: Sequence[float]) -> tuple[float, list[str]]:
    scheduler = RayASHA(metric="loss", mode="min", max_t=100, grace_period=1, reduction_factor=4)
    trials = [_RayTrial(f"t{index}") for index in range(len(values))]
    start = time.perf_counter()
    decisions = []
    for trial, value in zip(trials, values, strict=True):
        scheduler.on_trial_add(None, trial)
        decisions.append(scheduler.on_trial_result(None, trial, {"loss": value, "training_iteration": 1}))
    return time.perf_counter() - start, decisions


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    rows = []
    for size in arguments.sizes:
        rng = random.Random(arguments.seed)
        values = [round(rng.gauss(0, 1), 3) for _ in range(size)]  # rounded: ties happen, as in real metrics
        runs: dict[str, tuple[float, list[str]]] = {}
        drivers: dict[str, Callable[[Sequence[float]], tuple[float, list[str]]]] = {
            "tune": fill_a_rung_ours,
            "ray.tune": fill_a_rung_ray,
        }
        for name, driver in drivers.items():
            runs[name] = driver(values)
        identical = runs["tune"][1] == runs["ray.tune"][1]
        stops = runs["tune"][1].count("STOP")
        rows.append((size, runs["tune"][0], runs["ray.tune"][0], identical, stops))
    print(f"{'trials':>8} | {'tune (s)':>9} | {'ray.tune (s)':>12} | {'speed-up':>8} | {'µs/decision tune':>16} | "
          f"{'µs/decision ray':>15} | identical decisions (STOPs)")  # fmt: skip
    for size, ours, theirs, identical, stops in rows:
        print(
            f"{size:>8} | {ours:>9.3f} | {theirs:>12.3f} | {theirs / ours:>7.0f}x | {ours / size * 1e6:>16.1f} | "
            f"{theirs / size * 1e6:>15.1f} | {'yes' if identical else 'NO'} ({stops})"
        )
    if not all(row[3] for row in rows):
        raise SystemExit("decisions differ from Ray Tune's")


if __name__ == "__main__":
    main()
