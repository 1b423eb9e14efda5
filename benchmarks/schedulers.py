"""Scheduler decision cost at 1k, 10k and 100k trials: ours, and Ray Tune's driven the same way.

    python benchmarks/schedulers.py                         # every workload, every size
    python benchmarks/schedulers.py --workloads asha --sizes 1000 10000
    python benchmarks/schedulers.py --peer-max 100000       # Ray Tune at 100k too (minutes for ASHA)

Workloads (values are Gaussian; the script fails unless our decisions equal Ray Tune's):
- asha: n trials each report once, at iteration 1, ASHA's first rung (grace_period=1,
  reduction_factor=4, max_t=100): every report is a rung decision.
- median: n trials report iterations 1 to 3 in turn (all at 1, then all at 2...), median stopping
  with grace_period=1 on training_iteration: every report past the grace period is a decision.
- hyperband, pbt: ours only. Ray Tune's HyperBand and PBT act through its TuneController (they stop,
  pause and clone trials themselves), so they cannot be driven outside a Ray Tune experiment; ours
  are pure decision makers. HyperBand: n trials through successive halving (max_t=27, eta=3) to
  the end of their brackets; PBT: n trials report iterations 1 to 4, perturbation_interval=2.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tune_schedulers import ASHAScheduler, HyperBandScheduler, MedianStoppingRule, PopulationBasedTraining
from tune_schedulers.testing import Simulation
from tune_trial import Trial, TrialStatus

Run = Callable[[int, int], tuple[float, int, list[str]]]  # (size, seed) -> (seconds, decisions, log)


@dataclass(frozen=True)
class _RayTrial:
    """The part of Ray Tune's Trial its schedulers read."""

    trial_id: str


class _NoController:
    """What Ray Tune's MedianStoppingRule asks of its controller when samples are too few."""

    def get_live_trials(self) -> list[Any]:
        return []


def _values(size: int, seed: int, per_trial: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(per_trial)] for _ in range(size)]


def asha_ours(size: int, seed: int) -> tuple[float, int, list[str]]:
    scheduler = ASHAScheduler(metric="loss", mode="min", max_t=100, grace_period=1, reduction_factor=4)
    trials = [Trial(f"t{index}", {}) for index in range(size)]
    values = _values(size, seed)
    start = time.perf_counter()
    log = []
    for trial, (value,) in zip(trials, values, strict=True):
        scheduler.on_trial_add(trial)
        log.append(scheduler.on_trial_result(trial, {"loss": value, "training_iteration": 1}).value)
    return time.perf_counter() - start, len(log), log


def asha_ray(size: int, seed: int) -> tuple[float, int, list[str]]:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    scheduler = AsyncHyperBandScheduler(metric="loss", mode="min", max_t=100, grace_period=1, reduction_factor=4)
    trials = [_RayTrial(f"t{index}") for index in range(size)]
    values = _values(size, seed)
    start = time.perf_counter()
    log = []
    for trial, (value,) in zip(trials, values, strict=True):
        scheduler.on_trial_add(None, trial)
        log.append(scheduler.on_trial_result(None, trial, {"loss": value, "training_iteration": 1}))
    return time.perf_counter() - start, len(log), log


def median_ours(size: int, seed: int) -> tuple[float, int, list[str]]:
    scheduler = MedianStoppingRule(time_attr="training_iteration", metric="loss", mode="min", grace_period=1)
    trials = [Trial(f"t{index}", {}, status=TrialStatus.RUNNING) for index in range(size)]
    values = _values(size, seed, per_trial=3)
    for trial in trials:
        scheduler.on_trial_add(trial)
    start = time.perf_counter()
    log, live = [], set(range(size))
    for iteration in (1, 2, 3):
        for index in sorted(live):
            result = {"loss": values[index][iteration - 1], "training_iteration": iteration}
            decision = scheduler.on_trial_result(trials[index], result).value
            log.append(decision)
            if decision == "STOP":
                live.discard(index)
    return time.perf_counter() - start, len(log), log


def median_ray(size: int, seed: int) -> tuple[float, int, list[str]]:
    from ray.tune.schedulers import MedianStoppingRule as RayMedian

    scheduler = RayMedian(time_attr="training_iteration", metric="loss", mode="min", grace_period=1)
    trials = [_RayTrial(f"t{index}") for index in range(size)]
    values = _values(size, seed, per_trial=3)
    controller = _NoController()
    for trial in trials:
        scheduler.on_trial_add(controller, trial)
    start = time.perf_counter()
    log, live = [], set(range(size))
    for iteration in (1, 2, 3):
        for index in sorted(live):
            result = {"loss": values[index][iteration - 1], "training_iteration": iteration}
            decision = scheduler.on_trial_result(controller, trials[index], result)
            log.append(decision)
            if decision == "STOP":
                live.discard(index)
    return time.perf_counter() - start, len(log), log


_CONTRACT = ("on_trial_add", "on_trial_result", "on_trial_complete", "choose_trial_to_run", "pop_decisions",
             "on_no_more_trials")  # fmt: skip


def _simulate(scheduler: Any, size: int, concurrency: int, max_iterations: int) -> tuple[float, int, list[str]]:
    """Drive ``scheduler`` through the kit's simulated experiment; the time spent inside its methods.

    Only the scheduler's own time counts: the simulated controller's bookkeeping is not its cost.
    """
    spent = [0.0]
    for name in _CONTRACT:
        method = getattr(scheduler, name)

        def timed(*args: Any, _method: Any = method) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(scheduler, name, timed)
    simulation = Simulation(scheduler, "loss", 1.0, num_trials=size, concurrency=concurrency,
                            max_iterations=max_iterations)  # fmt: skip
    log = simulation.run(max_steps=10_000_000)
    return spent[0], len(log), [entry[2] for entry in log]


def hyperband_ours(size: int, seed: int) -> tuple[float, int, list[str]]:
    scheduler = HyperBandScheduler(metric="loss", mode="min", max_t=27, reduction_factor=3)
    return _simulate(scheduler, size, concurrency=64, max_iterations=27)


def pbt_ours(size: int, seed: int) -> tuple[float, int, list[str]]:
    scheduler = PopulationBasedTraining(
        time_attr="training_iteration",
        metric="loss",
        mode="min",
        perturbation_interval=2,
        hyperparam_mutations={"scale": [0.8, 0.9, 1.0, 1.1, 1.2]},
        seed=seed,
    )
    return _simulate(scheduler, size, concurrency=64, max_iterations=4)


WORKLOADS: dict[str, tuple[Run, Run | None]] = {
    "asha": (asha_ours, asha_ray),
    "median": (median_ours, median_ray),
    "hyperband": (hyperband_ours, None),
    "pbt": (pbt_ours, None),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--peer-max", type=int, default=10_000, help="largest size Ray Tune is run at")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    print(f"{'workload':<10} | {'trials':>7} | {'decisions':>9} | {'tune (s)':>8} | {'ray.tune (s)':>12} | "
          f"{'speed-up':>8} | {'µs/decision tune':>16} | {'µs/decision ray':>15} | identical")  # fmt: skip
    failed = False
    for name in arguments.workloads:
        ours, theirs = WORKLOADS[name]
        for size in arguments.sizes:
            seconds, decisions, log = ours(size, arguments.seed)
            row = f"{name:<10} | {size:>7} | {decisions:>9} | {seconds:>8.3f} | "
            if theirs is not None and size <= arguments.peer_max:
                their_seconds, their_decisions, their_log = theirs(size, arguments.seed)
                identical = log == their_log
                failed |= not identical
                row += (
                    f"{their_seconds:>12.3f} | {their_seconds / seconds:>7.0f}x | {seconds / decisions * 1e6:>16.1f} | "
                    f"{their_seconds / their_decisions * 1e6:>15.1f} | {'yes' if identical else 'NO'}"
                )
            else:
                row += f"{'-':>12} | {'-':>8} | {seconds / decisions * 1e6:>16.1f} | {'-':>15} | -"
            print(row, flush=True)
    if failed:
        raise SystemExit("decisions differ from Ray Tune's")


if __name__ == "__main__":
    main()
