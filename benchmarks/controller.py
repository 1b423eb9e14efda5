"""The driver loop's cost and memory: time per result and peak memory as trials and results grow.

    python benchmarks/controller.py                          # 1k x 10, 1k x 100, 10k x 100
    python benchmarks/controller.py --sizes 1000x100 --peer  # and Ray Tune's driver on the same workload

Each size runs in a fresh interpreter with the in-process executor (2 CPUs, so two trials at a
time), a trainable that only reports, and the default loggers off, so what is measured is the
controller: journal writes, scheduler and searcher calls, bookkeeping. Time per result is the
driver process's CPU time (user + system, trial threads included: they only report) over the
results, which a loaded machine does not inflate as it does wall time. Peak memory is the process's
peak RSS (``ru_maxrss``) less its RSS once everything is imported; every result stays on disk in the
journal, so memory should grow with the number of trials (a few numbers each), not with results.
"Best over all results" times ``ResultGrid.get_best_result(scope="all")``, which scans the journal.

The peer (``--peer``) is Ray Tune 2.60's driver on the same workload (FIFO, 2 CPUs, actors reused),
its peak RSS measured the same way; Ray Tune keeps results in memory and trials run in actors, so
its time per result includes the round trips tune's in-process executor does not make.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

RUN = """
import json, os, resource, sys, time
trials, results, storage = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
from tune_controller import InProcessExecutor, RunConfig, TuneConfig, Tuner
from tune_search import uniform
from tune_trial import report

def curve(config):
    for step in range(1, results + 1):
        report({"loss": config["x"] / step})

usage = resource.getrusage(resource.RUSAGE_SELF)
baseline, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
started = time.perf_counter()
grid = Tuner(
    curve,
    param_space={"x": uniform(0, 1)},
    tune_config=TuneConfig(metric="loss", mode="min", num_samples=trials),
    run_config=RunConfig(name="bench", storage_path=storage, verbose=0),
    executor=InProcessExecutor(num_cpus=2),
).fit()
elapsed = time.perf_counter() - started
assert grid.num_terminated == trials
usage = resource.getrusage(resource.RUSAGE_SELF)
peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
scan = time.perf_counter()
best = grid.get_best_result(scope="all")
scan = time.perf_counter() - scan
assert best.metrics["training_iteration"] == results
journal = os.path.getsize(os.path.join(storage, "bench", "journal.jsonl"))
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_kib": peak - baseline, "scan": scan, "journal": journal}))
"""

RAY_RUN = """
import json, os, resource, sys, time
trials, results, storage = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
import ray
from ray import tune

def curve(config):
    for step in range(1, results + 1):
        tune.report({"loss": config["x"] / step})

ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
try:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    baseline, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    grid = tune.Tuner(
        curve,
        param_space={"x": tune.uniform(0, 1)},
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=trials, reuse_actors=True),
        run_config=tune.RunConfig(name="bench", storage_path=storage, verbose=0),
    ).fit()
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
    scan = time.perf_counter()
    grid.get_best_result(scope="all")
    scan = time.perf_counter() - scan
finally:
    ray.shutdown()
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_kib": peak - baseline, "scan": scan, "journal": 0}))
"""


def measure(code: str, trials: int, results: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as storage:
        completed = subprocess.run(
            [sys.executable, "-c", code, str(trials), str(results), storage],
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1000x10", "1000x100", "10000x100"], help="TRIALSxRESULTS")
    parser.add_argument("--peer", action="store_true", help="also run Ray Tune's driver on each size")
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "| driver | trials | results | total results | wall (s) | driver CPU µs/result | peak memory (MiB) "
        "| KiB/trial | journal (MiB) | best over all results (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in arguments.sizes:
        trials, results = (int(part) for part in size.split("x"))
        drivers = [("tune", RUN)] + ([("ray.tune", RAY_RUN)] if arguments.peer else [])
        for name, code in drivers:
            figures = measure(code, trials, results)
            total = trials * results
            print(
                f"| {name} | {trials:,} | {results} | {total:,} | {figures['seconds']:.1f} "
                f"| {figures['cpu'] / total * 1e6:.1f} | {figures['peak_kib'] / 1024:.1f} "
                f"| {figures['peak_kib'] / trials:.2f} | {figures['journal'] / 2**20:.1f} | {figures['scan']:.2f} |",
                flush=True,
            )
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    print(f"load average after: {os.getloadavg()[0]:.1f}; CPU time of the runs: {cpu:.0f} s")


if __name__ == "__main__":
    main()
