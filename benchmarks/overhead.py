"""Experiment overhead on Ray: tune against Ray Tune, same Ray, same machine, same run.

    python benchmarks/overhead.py                      # all three workloads
    python benchmarks/overhead.py --workloads many_trials --repeat 5

Workloads (trainables do no work besides reporting, so what is measured is the system's overhead):
- many_trials: 500 trials x 1 result;
- many_results: 10 trials x 1,000 results;
- asha: 100 trials x 100 results under ASHA (grace_period=1, reduction_factor=4, max_t=100), with
  the same reported values on both sides; the script checks the stopping decisions are the same.

Ray Tune runs with ``reuse_actors=True`` (its fastest setting); tune reuses actors by default.
Both get 2 CPUs (1 per trial) of one local Ray instance, started once before either side runs.
Each run of a workload times tune twice in a row, then Ray Tune: "cold" is tune's first experiment
after its idle actors were let go (``release_idle_actors()``), so it starts its actors as Ray Tune
does; "warm" is the next experiment, which finds the actors the previous one left idle. Idle actors
are let go before Ray Tune runs too. Every result of every trial is checked to reach the driver.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import ray
from ray import tune as ray_tune
from ray.tune.schedulers import ASHAScheduler as RayASHA

import tune
from tune_ray_exec import release_idle_actors

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


def check_every_result_arrived(results: Any, expected: int) -> None:
    for result in results:
        if len(result.metrics_history) != expected:
            raise SystemExit(f"trial {result.trial_id}: {len(result.metrics_history)} results, expected {expected}")


def cold_warm_theirs(
    storage: str, ours: Any, space: dict, theirs: Any, their_space: dict, expected_results: int | None, **settings: Any
) -> tuple[float, float, float]:
    """tune cold (its idle actors let go first, so it starts actors as Ray Tune does), tune warm (the
    actors the cold run left idle), then Ray Tune with the whole machine; ``settings`` go to both sides,
    except a ``scheduler`` factory, called afresh for each run."""
    make_scheduler = settings.pop("scheduler", None)
    times = []
    release_idle_actors()
    for _ in ("cold", "warm"):
        scheduler = {"scheduler": make_scheduler(tune.schedulers.ASHAScheduler)} if make_scheduler else {}
        elapsed, results = run_ours(ours, space, storage, **scheduler, **settings)
        if expected_results is not None:
            check_every_result_arrived(results, expected_results)
        times.append(elapsed)
    release_idle_actors()
    scheduler = {"scheduler": make_scheduler(RayASHA)} if make_scheduler else {}
    their_time, _ = run_ray(theirs, their_space, storage, **scheduler, **settings)
    return times[0], times[1], their_time


def many_trials(storage: str) -> tuple[float, float, float]:
    return cold_warm_theirs(
        storage, one_result, {"x": tune.uniform(0, 1)}, ray_one_result, {"x": ray_tune.uniform(0, 1)}, 1,
        num_samples=500,
    )  # fmt: skip


def many_results(storage: str) -> tuple[float, float, float]:
    return cold_warm_theirs(
        storage, thousand_results, {"x": tune.uniform(0, 1)}, ray_thousand_results, {"x": ray_tune.uniform(0, 1)},
        1000, num_samples=10,
    )  # fmt: skip


def asha(storage: str) -> tuple[float, float, float]:
    return cold_warm_theirs(
        storage, asha_curve, {"index": tune.grid_search(list(range(100)))},
        ray_asha_curve, {"index": ray_tune.grid_search(list(range(100)))}, None,
        scheduler=lambda scheduler_class: scheduler_class(**ASHA),
    )  # fmt: skip


def check_asha_decisions(storage: str) -> None:
    """In parallel, which trial reaches a rung first depends on timing on both sides; one trial at a
    time, the order is fixed and the stopping decisions must be the same."""
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
    for result in our_results:  # every result of every trial reached the driver
        check_every_result_arrived([result], result.metrics["training_iteration"])
    print(f"ASHA, one trial at a time: identical stopping iterations for all 100 trials "
          f"({sum(i < 100 for i in ours_stops)} stopped early)")  # fmt: skip


WORKLOADS = {
    "many_trials": ("500 trials x 1 result", many_trials),
    "many_results": ("10 trials x 1,000 results", many_results),
    "asha": ("100 trials x 100 results, ASHA", asha),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each workload (default 3)")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # A Ray instance of our own (not whatever cluster this machine may run), started once for both sides.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        storage = tempfile.mkdtemp(prefix="tune-overhead-")
        print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if "asha" in arguments.workloads:
            check_asha_decisions(storage)
        header = f"{'workload':<32} | {'tune cold':>9} | {'tune warm':>9} | {'ray.tune':>8} | cold x | warm x"
        print(header)
        summary = []
        for workload in arguments.workloads:
            name, run = WORKLOADS[workload]
            cold_ratios, warm_ratios = [], []
            for _ in range(arguments.repeat):
                cold, warm, theirs = run(storage)
                cold_ratios.append(theirs / cold)
                warm_ratios.append(theirs / warm)
                print(
                    f"{name:<32} | {cold:>8.2f}s | {warm:>8.2f}s | {theirs:>7.2f}s | "
                    f"{theirs / cold:>5.1f}x | {theirs / warm:>5.1f}x",
                    flush=True,
                )
            summary.append((name, statistics.median(cold_ratios), statistics.median(warm_ratios)))
        print("load average (1, 5, 15 min) after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print(f"median speed-up over {arguments.repeat} runs (ray.tune time / tune time, measured in the same run):")
        for name, cold_ratio, warm_ratio in summary:
            print(f"  {name:<32} cold {cold_ratio:5.1f}x   warm {warm_ratio:5.1f}x")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
