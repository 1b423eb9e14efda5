"""Checkpointing to S3: how long ``report`` holds a trial, tune against Ray Tune, same Ray, same run.

    python benchmarks/storage.py                       # 2 trials x 10 reports, 16 MiB checkpoints
    python benchmarks/storage.py --reports 20 --mib 32 --step-s 0.2

The storage is an S3 server on this machine (moto, ``pip install 'moto[server]'``), reached over HTTP
by the Ray actors of both sides, so neither has a shared file system to fall back on. Each trial
"trains" for ``--step-s`` seconds (a sleep: the time a GPU step leaves the CPU idle), then reports
with a checkpoint of ``--mib`` MiB of random bytes. Ray Tune uploads the checkpoint inside
``report``; tune copies it to a local staging directory and uploads it from a background thread.
Printed: the time trials spent inside ``report`` (mean, max), the experiment's wall time, and the
ratios. Every side's checkpoints are checked to be in the bucket at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.fs
import ray
from moto.server import ThreadedMotoServer
from ray import tune as ray_tune

import tune

BUCKET = "benchmark"


def _checkpoint_dir(directory: str, mib: int) -> str:
    (Path(directory) / "weights.bin").write_bytes(os.urandom(mib * 2**20))
    return directory


def checkpointing(api: Any) -> Callable[[dict[str, Any]], None]:
    """The trainable both sides run; ``api`` is ``tune`` or ``ray.tune`` (the same report/Checkpoint API)."""

    def train(config: dict[str, Any]) -> None:
        last = 0.0
        for step in range(config["reports"]):
            time.sleep(config["step_s"])
            with tempfile.TemporaryDirectory() as directory:
                checkpoint = api.Checkpoint.from_directory(_checkpoint_dir(directory, config["mib"]))
                started = time.perf_counter()
                api.report({"step": step, "report_s": last}, checkpoint=checkpoint)
                last = time.perf_counter() - started

    return train


def _report_times(histories: list[list[dict[str, Any]]]) -> list[float]:
    """Each result carries how long the previous report took (the last report's own time is lost)."""
    return [entry["report_s"] for history in histories for entry in history[1:]]


def run_ours(s3: Any, space: dict[str, Any]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    grid = tune.Tuner(
        checkpointing(tune),
        param_space=space,
        run_config=tune.RunConfig(name="ours", storage_path=f"{BUCKET}/ours", storage_filesystem=s3, verbose=0),
    ).fit()
    wall = time.perf_counter() - started
    assert not grid.errors, grid.errors
    return wall, _report_times([result.metrics_history for result in grid])


def run_theirs(s3: Any, space: dict[str, Any]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    grid = ray_tune.Tuner(
        checkpointing(ray_tune),
        param_space=space,
        tune_config=ray_tune.TuneConfig(reuse_actors=True),
        run_config=ray_tune.RunConfig(name="theirs", storage_path=f"{BUCKET}/theirs", storage_filesystem=s3, verbose=0),
    ).fit()
    wall = time.perf_counter() - started
    assert not grid.errors, grid.errors
    return wall, _report_times([result.metrics_dataframe.to_dict("records") for result in grid])


def count_checkpoints(s3: Any, prefix: str) -> int:
    infos = s3.get_file_info(pyarrow.fs.FileSelector(f"{BUCKET}/{prefix}", recursive=True))
    return sum(1 for info in infos if info.base_name == "weights.bin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--mib", type=int, default=16)
    parser.add_argument("--step-s", type=float, default=0.2)
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = pyarrow.fs.S3FileSystem(
        access_key="bench",
        secret_key="bench",
        endpoint_override=f"{host}:{port}",
        scheme="http",
        region="us-east-1",
        allow_bucket_creation=True,
    )
    s3.create_dir(BUCKET)
    space = {
        "x": tune.grid_search([1, 2]),
        "reports": arguments.reports,
        "mib": arguments.mib,
        "step_s": arguments.step_s,
    }
    ray_space = {**space, "x": ray_tune.grid_search([1, 2])}
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        sides: list[tuple[str, Callable[[], tuple[float, list[float]]]]] = [
            ("tune", lambda: run_ours(s3, space)),
            ("Ray Tune", lambda: run_theirs(s3, ray_space)),
        ]
        rows = {name: run() for name, run in sides}
        expected = 2 * arguments.reports
        assert count_checkpoints(s3, "ours") == expected, "tune: checkpoints missing from the bucket"
        assert count_checkpoints(s3, "theirs") == expected, "Ray Tune: checkpoints missing from the bucket"
    finally:
        ray.shutdown()
        server.stop()
    setup = f"{arguments.mib} MiB checkpoints, {arguments.step_s} s steps"
    print(f"2 trials x {arguments.reports} reports, {setup}, S3 (moto on this machine)")
    print(f"{'':10} {'report() mean ms':>17} {'report() max ms':>16} {'wall s':>8}")
    for name, (wall, times) in rows.items():
        print(f"{name:10} {statistics.mean(times) * 1e3:17.1f} {max(times) * 1e3:16.1f} {wall:8.2f}")
    (our_wall, our_times), (their_wall, their_times) = rows["tune"], rows["Ray Tune"]
    print(
        f"Ray Tune / tune: report() {statistics.mean(their_times) / statistics.mean(our_times):.1f}x, "
        f"wall {their_wall / our_wall:.2f}x"
    )


if __name__ == "__main__":
    main()
