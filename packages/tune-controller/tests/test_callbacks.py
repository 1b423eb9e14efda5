import tempfile
from pathlib import Path

import pytest

from tune_controller import Callback, FailureConfig, MaximumIterationStopper, RunConfig
from tune_schedulers import FIFOScheduler
from tune_search import grid_search
from tune_trial import Checkpoint, TrialStatus, TuneError, get_checkpoint, report


class Recorder(Callback):
    """Records every hook, with the trial's id where the hook is about one trial."""

    def __init__(self):
        self.calls = []
        self.info = {}

    def setup(self, **info):
        self.info = info
        self.calls.append(("setup",))

    def on_trial_start(self, iteration, trials, trial, **info):
        self.calls.append(("start", trial.trial_id))

    def on_trial_restore(self, iteration, trials, trial, **info):
        self.calls.append(("restore", trial.trial_id, Path(trial.checkpoint.path).name))

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        assert Path(checkpoint.path).parent == info["trial_dir"]  # already in the trial's directory
        self.calls.append(("checkpoint", trial.trial_id, Path(checkpoint.path).name))

    def on_trial_save(self, iteration, trials, trial, **info):
        self.calls.append(("save", trial.trial_id))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.calls.append(("result", trial.trial_id, result["training_iteration"]))

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.calls.append(("recover", trial.trial_id, trial.status))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.calls.append(("complete", trial.trial_id))

    def on_trial_error(self, iteration, trials, trial, **info):
        self.calls.append(("error", trial.trial_id, "ValueError: for good" in trial.error))

    def on_experiment_end(self, trials, **info):
        self.calls.append(("end", len(trials)))

    def of(self, trial_id):
        return [call[0:1] + call[2:] for call in self.calls if call[1:2] == (trial_id,)]


def checkpointing(config):
    """Two checkpointed steps; the first run of trial "crash" dies after step 1, "broken" always fails."""
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    for step in range(start + 1, 3):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"step": step}, checkpoint=Checkpoint.from_directory(directory))
        if config["kind"] == "crash" and checkpoint is None:
            raise OSError("lost the node")
    if config["kind"] == "broken":
        raise ValueError("for good")


def test_every_hook_is_called_in_ray_tunes_order(run):
    recorder = Recorder()
    results = run(
        checkpointing,
        {"kind": grid_search(["fine", "crash", "broken"])},
        run_config=RunConfig(callbacks=[recorder], failure_config=FailureConfig(max_failures=1)),
    )
    fine, crash, broken = (result.trial_id for result in results)
    # Checkpoint directories are numbered per trial (from 0), not by training iteration.
    saved = [("checkpoint", "checkpoint_000000"), ("save",), ("result", 1)]
    saved2 = [("checkpoint", "checkpoint_000001"), ("save",), ("result", 2)]
    assert recorder.of(fine) == [("start",), *saved, *saved2, ("complete",)]
    assert recorder.of(crash) == [
        ("start",),
        *saved,
        ("recover", TrialStatus.PENDING),  # retried: the scheduler and searcher are not told
        ("start",),
        ("restore", "checkpoint_000000"),
        *saved2,
        ("complete",),
    ]
    # "broken" fails at its end on both runs; the retry restores from its latest checkpoint.
    assert recorder.of(broken) == [
        ("start",),
        *saved,
        *saved2,
        ("recover", TrialStatus.PENDING),
        ("start",),
        ("restore", "checkpoint_000001"),
        ("error", True),
    ]
    assert recorder.calls[0] == ("setup",)
    assert recorder.calls[-1] == ("end", 3)


def test_setup_hears_the_experiments_shape(run):
    recorder = Recorder()
    stopper = MaximumIterationStopper(2)
    run(
        lambda config: report({"loss": 1.0}),
        {"a": grid_search([1, 2, 3])},
        num_samples=2,
        metric="loss",
        mode="min",
        run_config=RunConfig(callbacks=[recorder], stop=stopper),
    )
    info = recorder.info
    assert info["stop"] is stopper
    assert (info["num_samples"], info["total_num_samples"]) == (2, 6)  # the grid repeated twice
    assert (info["metric"], info["mode"]) == ("loss", "min")
    assert Path(info["experiment_dir"]).is_dir()


class CountingScheduler(FIFOScheduler):
    def __init__(self):
        super().__init__()
        self.results = 0

    def on_trial_result(self, trial, result):
        self.results += 1
        return super().on_trial_result(trial, result)


def test_the_scheduler_hears_a_result_before_the_callbacks(run):
    scheduler = CountingScheduler()
    seen = []

    class Watcher(Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            seen.append((result["training_iteration"], scheduler.results))

    run(
        lambda config: [report({"loss": 1.0}) for _ in range(3)],
        scheduler=scheduler,
        run_config=RunConfig(callbacks=[Watcher()]),
    )
    assert seen == [(1, 1), (2, 2), (3, 3)]


def endless_unless_first(config):
    if config["i"] == 0:
        raise ValueError("first trial broke")
    while True:
        report({"loss": 1.0})


def test_fail_fast_ends_the_experiment_and_returns_the_grid(run):
    recorder = Recorder()
    results = run(
        endless_unless_first,
        {"i": grid_search([0, 1, 2])},
        max_concurrent_trials=2,
        run_config=RunConfig(callbacks=[recorder], failure_config=FailureConfig(fail_fast=True, max_failures=3)),
    )
    assert results.num_errors == 1  # no retries under fail_fast
    assert "ValueError: first trial broke" in results.errors[0]
    assert all(result.status is TrialStatus.TERMINATED for result in results if not result.error)
    assert ("recover",) not in [call[:1] for call in recorder.calls]


def test_fail_fast_raise_raises_the_trainables_own_exception(run):
    with pytest.raises(ValueError, match="first trial broke"):
        run(
            endless_unless_first,
            {"i": grid_search([0, 1])},
            run_config=RunConfig(failure_config=FailureConfig(fail_fast="raise")),
        )


def test_an_unpicklable_exception_is_raised_as_a_tune_error_with_its_traceback(run):
    class UnpicklableError(Exception):
        def __reduce__(self):
            raise TypeError("no pickling")

    def broken(config):
        raise UnpicklableError("local class")

    with pytest.raises(TuneError, match=r"(?s)fail_fast='raise'.*UnpicklableError: local class"):
        run(broken, run_config=RunConfig(failure_config=FailureConfig(fail_fast="RAISE")))


def test_fail_fast_takes_a_bool_or_raise():
    with pytest.raises(ValueError, match="fail_fast must be a bool or 'raise', got 'loudly'"):
        FailureConfig(fail_fast="loudly")


def test_max_concurrent_trials_caps_the_running_trials(run):
    from tune_controller import InProcessExecutor

    running, peak = set(), []

    class Concurrency(Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            running.add(trial.trial_id)
            peak.append(len(running))

        def on_trial_complete(self, iteration, trials, trial, **info):
            running.discard(trial.trial_id)

    results = run(
        lambda config: [report({"loss": 1.0}) for _ in range(3)],
        num_samples=6,
        max_concurrent_trials=2,
        executor=InProcessExecutor(num_cpus=4),
        run_config=RunConfig(callbacks=[Concurrency()]),
    )
    assert results.num_terminated == 6
    assert max(peak) == 2  # two start in the first turn, never a third while they run


def test_checkpoint_metadata_travels_with_the_reported_checkpoint(run):
    seen = []

    class Reader(Callback):
        def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
            seen.append(checkpoint.get_metadata())

    def train(config):
        with tempfile.TemporaryDirectory() as directory:
            checkpoint = Checkpoint.from_directory(directory)
            checkpoint.set_metadata({"epoch": 1})
            report({"loss": 1.0}, checkpoint=checkpoint)

    (result,) = run(train, run_config=RunConfig(callbacks=[Reader()]))
    assert seen == [{"epoch": 1}]
    assert result.checkpoint.get_metadata() == {"epoch": 1}
