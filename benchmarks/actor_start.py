"""Where a cold experiment's fixed cost goes on Ray: starting an actor and its first call.

    python benchmarks/actor_start.py               # 3 runs, each a fresh driver process and Ray instance
    python benchmarks/actor_start.py --repeat 5

``benchmarks/overhead.py`` times whole experiments; its "cold" runs pay a fixed cost before their first
trial runs, and Ray Tune pays it too. This script takes that cost apart on bare Ray actors (a probe
class with nothing to import), two at a time as both systems start them on 2 CPUs, in two cases:

- **prestarted worker**: right after ``ray.init``, Ray has started one idle worker process per CPU;
  an actor created then takes one of them (a script's first ``fit`` gets these);
- **fresh worker**: once those are used up (a process that ran an actor never serves another), every
  new actor waits for Ray to start a worker process (overhead.py's cold runs, after the idle actors
  of the previous experiment were let go, are in this case, Ray Tune's runs too).

For each it measures, from ``.remote()`` on the driver: when the actor's ``__init__`` runs (worker
process start, actor class load), when its first method call runs (the call carries an argument, as
tune's first call to a trial actor does), when the driver has the reply, then a second call's round
trip, and, inside the worker, the CPU time spent between ``__init__`` and the first call and the
modules imported meanwhile: Ray builds its serialization context for the job in each process at the
first (de)serialization, and that registers serializers for pydantic and pyarrow, importing both
(pyarrow imports numpy). Then one actor imports ``tune`` and the other ``ray.tune``: what each
system's trial code adds in the worker on top of what Ray loaded.

The driver's own first serialization (Ray builds the same context there, once per driver process) is
measured first in each run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import ray

_BOOT_WAIT_S = 5.0
"""How long to let Ray's prestarted workers finish booting before the prestarted case."""


class Probe:
    """Remembers when it was constructed; its methods say when they ran and what the worker did."""

    def __init__(self) -> None:
        self.init_at = time.time()
        self.init_cpu = time.process_time()  # the whole process's CPU time so far: its start included
        self.modules_at_init = set(sys.modules)

    def first(self, payload: list[int]) -> dict[str, Any]:
        called_at, called_cpu = time.time(), time.process_time()
        new = sorted({name.partition(".")[0] for name in set(sys.modules) - self.modules_at_init})
        return {"init_at": self.init_at, "cpu_at_init": self.init_cpu, "called_at": called_at,
                "cpu_init_to_call": called_cpu - self.init_cpu, "imported_before_call": new}  # fmt: skip

    def ping(self) -> None:
        pass

    def import_module(self, name: str) -> dict[str, float] | None:
        """Import what a trial of one system needs, after Ray's own imports, and time it; ``None``
        where it cannot be imported (``ray.tune`` needs pydantic, which plain ``ray`` lacks)."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            importlib.import_module(name)
        except ImportError:
            return None
        return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def start_two(trial_modules: tuple[str, str]) -> list[dict[str, Any]]:
    probe = ray.remote(num_cpus=1)(Probe)
    created_at = time.time()
    actors = [probe.remote() for _ in trial_modules]
    calls = [actor.first.remote([1, 2, 3]) for actor in actors]
    rows = []
    for actor, call, module in zip(actors, calls, trial_modules, strict=True):
        row = ray.get(call)
        replied_at = time.time()
        start = time.perf_counter()
        ray.get(actor.ping.remote())
        second_call = time.perf_counter() - start
        imported = ray.get(actor.import_module.remote(module))
        timing = {}
        if imported is not None:
            timing = {f"import {module}": imported["wall"], f"import {module} cpu": imported["cpu"]}
        rows.append({
            "create_to_init": row["init_at"] - created_at,
            "cpu_at_init": row["cpu_at_init"],
            "init_to_first_call": row["called_at"] - row["init_at"],
            "cpu_init_to_first_call": row["cpu_init_to_call"],
            "first_call_to_reply": replied_at - row["called_at"],
            "create_to_first_reply": replied_at - created_at,
            "second_call": second_call,
            "imported_before_call": row["imported_before_call"],
            **timing,
        })  # fmt: skip
    for actor in actors:
        ray.kill(actor)
    return rows


def wait_for_cpus(total: float) -> None:
    """Until killed actors' CPUs are back: a new actor must not wait for them in its timings."""
    deadline = time.monotonic() + 60
    while ray.available_resources().get("CPU", 0.0) < total:  # type: ignore[no-untyped-call]
        if time.monotonic() > deadline:
            raise SystemExit("the killed probe actors did not give their CPUs back within 60 s")
        time.sleep(0.05)


def one_run() -> dict[str, Any]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        ray.put(None)
        driver = {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}
        time.sleep(_BOOT_WAIT_S)
        prestarted = start_two(("tune", "ray.tune"))
        wait_for_cpus(2.0)
        fresh = start_two(("tune", "ray.tune"))
        return {"driver_first_serialization": driver, "prestarted": prestarted, "fresh": fresh}
    finally:
        ray.shutdown()


ROWS = [
    ("create_to_init", "`.remote()` → `__init__` runs (worker process start, class load)"),
    ("cpu_at_init", "  CPU time of the worker process until `__init__`"),
    ("init_to_first_call", "`__init__` → first call runs (Ray's serialization context)"),
    ("cpu_init_to_first_call", "  CPU time of the worker process meanwhile"),
    ("first_call_to_reply", "first call runs → driver has its reply"),
    ("create_to_first_reply", "`.remote()` → first reply (all of the above)"),
    ("second_call", "second call's round trip"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs, each in a fresh process (default 3)")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one_run:
        print(json.dumps(one_run()))
        return
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    runs = []
    for _ in range(arguments.repeat):
        # A fresh driver process each time: the driver's first serialization happens once per process.
        output = subprocess.run(
            [sys.executable, __file__, "--one-run"], check=True, capture_output=True, text=True, timeout=300
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    print("load average (1, 5, 15 min) after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def median(case: str, key: str) -> float:
        return statistics.median(row[key] for run in runs for row in run[case])

    print(f"medians over {arguments.repeat} runs x 2 actors, seconds")
    print(f"{'step':<66} | prestarted |   fresh")
    for key, label in ROWS:
        print(f"{label:<66} | {median('prestarted', key):>10.3f} | {median('fresh', key):>7.3f}")
    for module in ("tune", "ray.tune"):  # one actor of each pair imports each
        for case in ("prestarted", "fresh"):
            wall = [row[f"import {module}"] for run in runs for row in run[case] if f"import {module}" in row]
            cpu = [row[f"import {module} cpu"] for run in runs for row in run[case] if f"import {module}" in row]
            if not wall:
                print(f"import {module} in the worker ({case}): cannot be imported here")
                continue
            print(f"import {module} in the worker, after Ray's imports ({case}): "
                  f"{statistics.median(wall):.3f} s ({statistics.median(cpu):.3f} s CPU)")  # fmt: skip
    driver = [run["driver_first_serialization"] for run in runs]
    print(f"driver's first serialization in a process: {statistics.median(d['wall'] for d in driver):.3f} s "
          f"({statistics.median(d['cpu'] for d in driver):.3f} s CPU)")  # fmt: skip
    imported = sorted({name for run in runs for case in ("prestarted", "fresh") for row in run[case]
                       for name in row["imported_before_call"]})  # fmt: skip
    print("top-level modules a worker imported between __init__ and its first call:", ", ".join(imported))
    # Two actors start side by side on 2 CPUs: a fresh worker's CPU time before its first trial can
    # run is the least wall time a cold experiment spends before its first trial, on an idle machine.
    ray_floor = median("fresh", "cpu_at_init") + median("fresh", "cpu_init_to_first_call")
    for module in ("tune", "ray.tune"):
        cpus = [row[f"import {module} cpu"] for run in runs for row in run["fresh"] if f"import {module} cpu" in row]
        if not cpus:
            continue
        cpu = statistics.median(cpus)
        print(f"CPU time a fresh worker spends before a {module} trial can run: {ray_floor:.3f} s of Ray's "
              f"+ {cpu:.3f} s importing {module} = {ray_floor + cpu:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
