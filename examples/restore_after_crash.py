"""Restore an experiment after its driver was killed: nothing reported is lost, nothing finished reruns.

The script runs an experiment in a child driver process that is killed with SIGKILL (no cleanup, no
chance to save anything: as when the machine goes down) at a given result. Then it restores the
experiment from its directory with ``tune.Tuner.restore`` and finishes it. Every trial records where
it started from, so the output shows which trials resumed from a checkpoint and that none started
over.

    python examples/restore_after_crash.py
    python examples/restore_after_crash.py --crash-after 10 --storage /tmp/experiments
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tune

NAME = "restore_demo"
STEPS = 6


def train(config: dict[str, Any]) -> None:
    checkpoint = tune.get_checkpoint()
    step = json.loads((Path(checkpoint.path) / "state.json").read_text())["step"] if checkpoint else 0
    while step < STEPS:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "state.json").write_text(json.dumps({"step": step}))
            metrics = {"loss": (config["x"] - 0.3) ** 2 + 1 / step, "started_at": checkpoint is not None}
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


class PowerCut(tune.Stopper):
    """Kills this driver with SIGKILL at a trial's ``results``-th result or the first after it that is
    not a trial's first: a crash, not an orderly stop.

    A stopper rather than a callback: one that may stop a trial at any result (``decision_points``
    left at ``None``) makes each result wait for the driver's verdict, so a trial sends its next
    result only once the driver has committed the last one, and its checkpoint, to the journal. However fast the trials
    run, the one reporting when the power goes has a committed checkpoint to resume from.
    ``Tuner.restore`` restores the experiment's stopper too: the restoring driver, another process,
    gets this one back and must not be killed by it.
    """

    def __init__(self, results: int) -> None:
        self.results = results
        self.driver = os.getpid()

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        self.results -= 1
        if self.results <= 0 and result["training_iteration"] > 1 and os.getpid() == self.driver:
            os.kill(os.getpid(), signal.SIGKILL)
        return False


def run_until_the_crash(storage: str, results: int) -> None:
    tune.Tuner(
        train,
        param_space={"x": tune.grid_search([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])},
        tune_config=tune.TuneConfig(metric="loss", mode="min", max_concurrent_trials=2),
        run_config=tune.RunConfig(name=NAME, storage_path=storage, stop=PowerCut(results), verbose=0),
    ).fit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crash-after", type=int, default=14, help="results before the driver is killed (at least)")
    parser.add_argument("--storage", default=None, help="where experiments go (default: a new temporary directory)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    storage = arguments.storage or tempfile.mkdtemp(prefix="tune-restore-")
    if arguments.child:
        run_until_the_crash(storage, arguments.crash_after)
        return

    # The driver runs in its own process group, so that the Ray processes it starts go down with it.
    command = [sys.executable, __file__, "--child", "--storage", storage, "--crash-after", str(arguments.crash_after)]
    driver = subprocess.Popen(command, start_new_session=True)
    driver.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(driver.pid, signal.SIGKILL)  # whatever of its Ray instance outlived it
    print(f"Driver exit status: {driver.returncode} (SIGKILL is {-signal.SIGKILL})")

    path = Path(storage) / NAME
    assert tune.Tuner.can_restore(path), f"{path} holds no experiment"
    before = tune.Tuner.restore(path, train).get_results()  # what the journal holds; runs nothing
    print(f"Results in the journal after the crash: {sum(len(r.metrics_history) for r in before)}")

    results = tune.Tuner.restore(path, train).fit()
    resumed = sum(any(entry["started_at"] for entry in result.metrics_history) for result in results)
    repeated = sum(
        len(result.metrics_history) - len({entry["training_iteration"] for entry in result.metrics_history})
        for result in results
    )
    print(f"Trials finished: {results.num_terminated} of {len(results)}")
    print(f"Trials resumed from a checkpoint: {resumed}")
    print(f"Iterations run twice: {repeated}")
    print(f"Best config: {results.get_best_result().config}")


if __name__ == "__main__":
    main()
