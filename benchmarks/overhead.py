"""Experiment overhead on Ray: tune against Ray Tune, same Ray, same machine, same run.

    python benchmarks/overhead.py                      # all three workloads
    python benchmarks/overhead.py --workloads many_trials

Workloads (trainables do no work besides reporting, so what is measured is the system's overhead):
- many_trials: 500 trials x 1 result;
- many_results: 10 trials x 1,000 results;
- asha: 100 trials x 100 results under ASHA (grace_period=1, reduction_factor=4, max_t=100), with
  the same reported values on both sides; the script checks the stopping decisions are the same.

Ray Tune runs with ``reuse_actors=True`` (its fastest setting); tune reuses actors by default.
Both get the machine's CPUs (1 CPU per trial). Ray is started once, before either side runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import ray
from ray import tune as ray_tune
from ray.tune.schedulers import ASHAScheduler as RayASHA

import tune

ASHA = {"max_t": 100, "grace_period": 1, "reduction_factor": 4}


def one_result(config: dict[str, Any]) -> None:
    tune.report({"loss": config["x"]})


def thousand_results(config: dict[str, Any]) -> None:
    for step in range(1000):
        tune.report({"loss": config["x"] / (step + 1)})


def asha_curve(config: dict[str, Any]) -> None:
    for step in range(1, 101):
        tune.report({"loss": ((config["index"] * 37) % 100) / 100 + 1 / step})


def ray_one_result(config: dict[str, Any]) -> None:
    ray_tune.report({"loss": config["x"]})


def ray_thousand_results(config: dict[str, Any]) -> None:
    for step in range(1000):
        ray_tune.report({"loss": config["x"] / (step + 1)})


def ray_asha_curve(config: dict[str, Any]) -> None:
    for step in range(1, 101):
        ray_tune.report({"loss": ((config["index"] * 37) % 100) / 100 + 1 / step})


def run_ours(
    trainable: Callable[[dict[str, Any]], None], space: dict[str, Any], storage: str, **tune_config: Any
) -> tuple[float, Any]:
    start = time.perf_counter()
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(metric="loss", mode="min", **tune_config),
        run_config=tune.RunConfig(storage_path=storage, verbose=0),
    )
    results = tuner.fit()
    return time.perf_counter() - start, results


def run_ray(
    trainable: Callable[[dict[str, Any]], None], space: dict[str, Any], storage: str, **tune_config: Any
) -> tuple[float, Any]:
    start = time.perf_counter()
    tuner = ray_tune.Tuner(
        trainable,
        param_space=space,
        tune_config=ray_tune.TuneConfig(metric="loss", mode="min", reuse_actors=True, **tune_config),
        run_config=ray_tune.RunConfig(storage_path=storage, verbose=0),
    )
    results = tuner.fit()
    return time.perf_counter() - start, results


def iterations_by_index(results: Any) -> list[int]:
    rows = sorted((result.config["index"], result.metrics["training_iteration"]) for result in results)
    return [iterations for _, iterations in rows]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=["many_trials", "many_results", "asha"])
    arguments = parser.parse_args(argv)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    ray.init(include_dashboard=False, log_to_driver=False)
    storage = tempfile.mkdtemp(prefix="tune-overhead-")
    rows = []
    for workload in arguments.workloads:
        if workload == "many_trials":
            space = {"x": tune.uniform(0, 1)}
            ours, _ = run_ours(one_result, space, storage, num_samples=500)
            theirs, _ = run_ray(ray_one_result, {"x": ray_tune.uniform(0, 1)}, storage, num_samples=500)
            rows.append(("500 trials x 1 result", ours, theirs, 500 / ours, 500 / theirs, "trials/s", ""))
        elif workload == "many_results":
            ours, _ = run_ours(thousand_results, {"x": tune.uniform(0, 1)}, storage, num_samples=10)
            theirs, _ = run_ray(ray_thousand_results, {"x": ray_tune.uniform(0, 1)}, storage, num_samples=10)
            rows.append(("10 trials x 1,000 results", ours, theirs, 10_000 / ours, 10_000 / theirs, "results/s", ""))
        elif workload == "asha":
            ours, our_results = run_ours(
                asha_curve,
                {"index": tune.grid_search(list(range(100)))},
                storage,
                scheduler=tune.schedulers.ASHAScheduler(**ASHA),
            )
            theirs, their_results = run_ray(
                ray_asha_curve, {"index": ray_tune.grid_search(list(range(100)))}, storage, scheduler=RayASHA(**ASHA)
            )
            rows.append(("100 trials x 100 results, ASHA", ours, theirs, 100 / ours, 100 / theirs, "trials/s", ""))
            # In parallel, which trial reaches a rung first depends on timing on both sides; one trial
            # at a time, the order is fixed and the stopping decisions must be the same.
            _, our_results = run_ours(
                asha_curve, {"index": tune.grid_search(list(range(100)))}, storage,
                scheduler=tune.schedulers.ASHAScheduler(**ASHA), max_concurrent_trials=1,
            )  # fmt: skip
            _, their_results = run_ray(
                ray_asha_curve, {"index": ray_tune.grid_search(list(range(100)))}, storage,
                scheduler=RayASHA(**ASHA), max_concurrent_trials=1,
            )  # fmt: skip
            ours_stops, their_stops = iterations_by_index(our_results), iterations_by_index(their_results)
            if ours_stops != their_stops:
                raise SystemExit(f"ASHA stopped trials at different iterations:\n{ours_stops}\n{their_stops}")
            print(f"ASHA, one trial at a time: identical stopping iterations for all 100 trials "
                  f"({sum(i < 100 for i in ours_stops)} stopped early)")  # fmt: skip
        else:
            raise SystemExit(f"unknown workload {workload!r}")
    print(f"{'workload':<32} | {'tune (s)':>8} | {'ray.tune (s)':>12} | {'speed-up':>8} | throughput tune / ray.tune")
    for name, ours, theirs, our_rate, their_rate, unit, note in rows:
        print(
            f"{name:<32} | {ours:>8.2f} | {theirs:>12.2f} | {theirs / ours:>7.1f}x | "
            f"{our_rate:,.0f} / {their_rate:,.0f} {unit} {note}"
        )


if __name__ == "__main__":
    main()
