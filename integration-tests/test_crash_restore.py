"""The driver of a Ray experiment is SIGKILLed mid-run; Tuner.restore continues it losing nothing."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tune_search import BasicVariantGenerator, uniform

# What the user's script holds: the trainable and the experiment's settings. Each trial saves a
# checkpoint with every result and records where it (re)started, in the STARTS file.
EXPERIMENT = """
import json, os, sys, tempfile, time
import ray
import tune

STARTS = os.environ["STARTS"]


def climb(config):
    checkpoint = tune.get_checkpoint()
    start = 0
    if checkpoint is not None:
        with open(os.path.join(checkpoint.path, "state.json")) as file:
            start = json.load(file)["step"]
    with open(STARTS, "a") as file:
        file.write(f"{tune.get_context().get_trial_id()} {start}\\n")
    for step in range(start + 1, 9):
        time.sleep(0.1)  # the work of one step
        with tempfile.TemporaryDirectory() as directory:
            with open(os.path.join(directory, "state.json"), "w") as file:
                json.dump({"step": step}, file)
            tune.report({"score": config["x"] * step}, checkpoint=tune.Checkpoint.from_directory(directory))
"""

DRIVER = (
    EXPERIMENT
    + """
ray.init(address="local", num_cpus=2, include_dashboard=False)
try:
    tune.Tuner(
        climb,
        param_space={"x": tune.uniform(0, 1)},
        tune_config=tune.TuneConfig(
            metric="score",
            mode="max",
            num_samples=6,
            search_alg=tune.search.BasicVariantGenerator(random_state=0),
            scheduler=tune.schedulers.ASHAScheduler(max_t=8, grace_period=2, reduction_factor=2, brackets=1),
        ),
        run_config=tune.RunConfig(name="crash", storage_path=sys.argv[1], verbose=0),
    ).fit()
finally:
    ray.shutdown()
"""
)

RESTORE = (
    EXPERIMENT
    + """
ray.init(address="local", num_cpus=2, include_dashboard=False)
try:
    tuner = tune.Tuner.restore(sys.argv[1], climb)
    results = tuner.fit()
finally:
    ray.shutdown()
summary = {
    "trials": [
        {"id": r.trial_id, "status": r.status.value, "config": r.config, "history": r.metrics_history}
        for r in results
    ],
    "rungs": tuner._tune_config.scheduler.get_state()["rungs"][0],
}
with open(sys.argv[2], "w") as file:
    json.dump(summary, file)
"""
)


def journal_records(path: Path) -> list[dict]:
    """Complete lines only: the driver may be writing the last one."""
    if not path.exists():
        return []
    records = []
    for line in path.read_bytes().splitlines(keepends=True):
        if line.endswith(b"\n"):
            records.append(json.loads(line))
    return records


def starts(path: Path) -> list[tuple[str, int]]:
    words = path.read_text().split() if path.exists() else []
    return [(words[i], int(words[i + 1])) for i in range(0, len(words), 2)]


@pytest.mark.parametrize("kill_at", [4, 14])
def test_a_ray_driver_killed_mid_run_is_restored_losing_nothing(tmp_path, driver_environment, kill_at):
    environment = {**driver_environment, "STARTS": str(tmp_path / "starts.txt")}
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    journal = tmp_path / "crash" / "journal.jsonl"
    driver = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=environment, cwd=tmp_path)
    deadline = time.monotonic() + 300
    try:
        while sum(record["t"] == "result" for record in journal_records(journal)) < kill_at:
            assert driver.poll() is None, f"the driver ended before {kill_at} results"
            assert time.monotonic() < deadline, "the driver made no progress"
            time.sleep(0.01)
        # The driver dies with every process it started (its local Ray instance, the trials' actors),
        # as when its machine goes down. Ray's fate sharing ends most of them by itself within seconds,
        # but an actor that outlives its driver a moment could still write to the trial's directory.
        ray_processes = psutil.Process(driver.pid).children(recursive=True)
        os.kill(driver.pid, signal.SIGKILL)
        for process in ray_processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(ray_processes, timeout=60)
    finally:
        driver.kill()
        driver.wait()
    assert driver.returncode == -signal.SIGKILL

    before = journal_records(journal)
    reported = {(r["id"], r["r"]["training_iteration"], r["r"]["score"]) for r in before if r["t"] == "result"}
    status: dict[str, str] = {}
    for record in before:
        if record["t"] == "status":
            status[record["id"]] = record["s"]
        elif record["t"] == "ending" and record["d"] == "STOP":
            status[record["id"]] = "STOPPING"
    latest_checkpoint = {r["id"]: r["r"]["training_iteration"] for r in before if r["t"] == "result" and "ckpt" in r}
    started_before = len(starts(tmp_path / "starts.txt"))

    script = tmp_path / "restore.py"
    script.write_text(RESTORE)
    summary_file = tmp_path / "summary.json"
    completed = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "crash"), str(summary_file)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
    summary = json.loads(summary_file.read_text())
    trials = summary["trials"]

    # Every result reported before the kill is in the restored experiment.
    after = {(t["id"], entry["training_iteration"], entry["score"]) for t in trials for entry in t["history"]}
    assert reported <= after
    # The searcher continued: six distinct trials, their configs those of the seeded searcher in order.
    assert len({t["id"] for t in trials}) == 6
    assert all(t["status"] == "TERMINATED" for t in trials)
    searcher = BasicVariantGenerator(random_state=0)
    searcher.set_search_properties("score", "max", {"x": uniform(0, 1)}, num_samples=6)
    assert [t["config"] for t in trials] == [searcher.suggest(str(i)) for i in range(6)]
    # Finished trials did not run again; running ones resumed from their latest checkpoint.
    restarted = dict(starts(tmp_path / "starts.txt")[started_before:])
    for trial_id, state in status.items():
        if state in ("TERMINATED", "STOPPING"):
            assert trial_id not in restarted
        elif state == "RUNNING":
            assert restarted[trial_id] == latest_checkpoint.get(trial_id, 0)
    # ASHA kept every milestone result it had seen (trials that ended never report them again).
    rung_of = {4: 1, 2: 2}  # rungs are listed highest milestone first: 8, 4, 2
    for record in before:
        iteration = record["r"]["training_iteration"] if record["t"] == "result" else None
        if iteration in rung_of and record["d"]:
            assert summary["rungs"][rung_of[iteration]][record["id"]] == record["r"]["score"]
