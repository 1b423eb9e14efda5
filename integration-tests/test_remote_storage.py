"""An experiment on Ray whose only storage is an S3 server: no file system shared by driver and trials.

The S3 server is moto's, on this machine, spoken to over HTTP by the driver and by the Ray actors
alike. Between the runs the driver's local staging directory is wiped, so every checkpoint a
trial resumes from has to come back from the S3 bucket.
"""

import shutil
import tempfile
from pathlib import Path

import pyarrow.fs as pyarrow_fs  # tune-hpo installs tune-controller[storage]
import pytest
from moto.server import ThreadedMotoServer  # the integration tests' own dependency (noxfile: wheelhouse)

KEY, SECRET, BUCKET = "testing", "testing", "experiments"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"{host}:{port}"
        s3 = pyarrow_fs.S3FileSystem(
            access_key=KEY,
            secret_key=SECRET,
            endpoint_override=endpoint,
            scheme="http",
            region="us-east-1",
            allow_bucket_creation=True,
        )
        s3.create_dir(BUCKET)
        yield endpoint, s3
    finally:
        server.stop()


def steps(config):
    """Counts to 5, a checkpoint per step. First run: fails after step 2 (retried from its checkpoint),
    then after step 3 (for good: max_failures is spent); a restore resumes it from step 3."""
    import tune

    context = tune.get_context()
    checkpoint = tune.get_checkpoint()
    step, restored_from = 0, 0
    if checkpoint is not None:
        # Downloaded from S3 into a directory of this process, not read from the driver's staging copy.
        staging = Path(context.get_trial_dir()).parent
        assert staging not in Path(checkpoint.path).parents, checkpoint.path
        step = restored_from = int((Path(checkpoint.path) / "step").read_text())
    marker = Path(config["markers"]) / context.get_trial_id()
    attempt = len(list(marker.parent.glob(f"{marker.name}.*"))) + 1
    (marker.parent / f"{marker.name}.{attempt}").touch()
    while step < 5:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            metrics = {"step": step, "restored_from": restored_from, "attempt": attempt}
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        if (attempt, step) in ((1, 2), (2, 3)):
            raise RuntimeError(f"failing at step {step} on attempt {attempt}")


def test_retries_and_restore_use_checkpoints_from_s3_only(ray_instance, s3_endpoint, tmp_path):
    import tune

    endpoint, s3 = s3_endpoint
    storage = f"s3://{KEY}:{SECRET}@{BUCKET}/runs?endpoint_override={endpoint}&scheme=http&region=us-east-1"
    markers = tmp_path / "markers"
    markers.mkdir()
    tuner = tune.Tuner(
        steps,
        param_space={"x": tune.grid_search([1, 2]), "markers": str(markers)},
        run_config=tune.RunConfig(
            name="s3",
            storage_path=storage,
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=1),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
        ),
    )
    first = tuner.fit()
    assert first.num_errors == 2
    for result in first:
        assert [r["restored_from"] for r in result.metrics_history] == [0, 0, 2]  # the retry resumed at step 2
        assert [metrics["step"] for _, metrics in result.best_checkpoints] == [3, 2]
        assert result.path.startswith(f"{BUCKET}/runs/s3/")
        stored = {Path(info.path).name for info in s3.get_file_info(pyarrow_fs.FileSelector(result.path))}
        # Numbered per trial: steps 1 and 2 in 0 and 1, step 3 (the retry's) in 2.
        assert {"checkpoint_000001", "checkpoint_000002", "result.json"} <= stored
        assert "checkpoint_000000" not in stored  # num_to_keep=2
    # The driver's machine is gone: only the bucket remains.
    shutil.rmtree(Path(first[0].journal._storage.local_dir))

    experiment = storage.replace("/runs?", "/runs/s3?")
    assert tune.Tuner.can_restore(experiment)
    restored = tune.Tuner.restore(experiment, steps, resume_errored=True)
    assert {result.metrics["step"] for result in restored.get_results()} == {3}
    grid = restored.fit()
    assert grid.num_errors == 0, grid.errors
    for result in grid:
        assert [r["step"] for r in result.metrics_history] == [1, 2, 3, 4, 5]
        assert [r["restored_from"] for r in result.metrics_history] == [0, 0, 2, 3, 3]
        assert result.checkpoint.path.endswith("checkpoint_000004")  # numbered on from the journal's 2
        with result.checkpoint.as_directory() as directory:
            assert (Path(directory) / "step").read_text() == "5"
