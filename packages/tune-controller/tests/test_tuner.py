import tempfile
import threading
from pathlib import Path

import pytest

from tune_controller import Callback, FailureConfig, RunConfig, TuneConfig, Tuner
from tune_schedulers import TrialScheduler
from tune_search import choice, grid_search, uniform
from tune_trial import Checkpoint, Decision, TrialStatus, TuneError, get_checkpoint, report


def quadratic(config):
    for i in range(10):
        report({"loss": (config["x"] - 0.3) ** 2 + 1 / (i + 1)})


def test_the_walking_skeleton_slice_runs_without_ray(run):
    results = run(
        quadratic,
        {"x": uniform(0, 1), "y": choice(["a", "b"])},
        num_samples=20,
        metric="loss",
        mode="min",
    )
    assert len(results) == 20
    assert results.num_terminated == 20
    assert all(result.metrics["training_iteration"] == 10 for result in results)
    best = results.get_best_result()
    assert best.metrics["loss"] == min(result.metrics["loss"] for result in results)
    assert set(best.config) == {"x", "y"}


def test_grid_search_runs_every_point_num_samples_times(run):
    results = run(lambda config: {"v": config["a"]}, {"a": grid_search([1, 2, 3])}, num_samples=2)
    assert sorted(result.metrics["v"] for result in results) == [1, 1, 2, 2, 3, 3]


def test_a_failing_trial_is_an_error_with_its_traceback_and_the_others_go_on(run):
    def sometimes_broken(config):
        report({"loss": 1.0})
        if config["x"] == 2:
            raise RuntimeError("diverged")

    results = run(sometimes_broken, {"x": grid_search([1, 2, 3])})
    assert results.num_errors == 1
    assert results.num_terminated == 2
    (failed,) = [result for result in results if result.error]
    assert failed.status is TrialStatus.ERROR
    assert "sometimes_broken" in failed.error
    assert "RuntimeError: diverged" in failed.error
    assert failed.metrics["loss"] == 1.0  # what it reported before failing is kept


def test_a_failed_trial_is_retried_from_its_latest_checkpoint(run):
    attempts = []

    def flaky(config):
        start = 0
        checkpoint = get_checkpoint()
        if checkpoint is not None:
            start = int((Path(checkpoint.path) / "step").read_text())
        attempts.append(start)
        for step in range(start + 1, 5):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "step").write_text(str(step))
                report({"step": step}, checkpoint=Checkpoint.from_directory(directory))
            if step == 2 and len(attempts) == 1:
                raise OSError("node lost")

    results = run(flaky, run_config=RunConfig(failure_config=FailureConfig(max_failures=1)))
    (result,) = results
    assert attempts == [0, 2]
    assert result.error is None
    assert result.metrics["step"] == 4
    assert result.metrics["training_iteration"] == 4  # iterations continue from the checkpoint
    assert [entry["step"] for entry in result.metrics_history] == [1, 2, 3, 4]


def test_without_retries_left_the_trial_errors(run):
    def always_broken(config):
        raise ValueError("bad")

    results = run(always_broken, run_config=RunConfig(failure_config=FailureConfig(max_failures=2)))
    assert results.num_errors == 1
    assert results[0].trial_id  # known even though the trial never reported
    assert "ValueError: bad" in results.errors[0]


def test_fail_fast_stops_the_experiment_with_the_traceback(run):
    started = []

    def broken(config):
        started.append(1)
        raise ValueError("fail fast please")

    results = run(
        broken,
        num_samples=3,
        max_concurrent_trials=1,
        run_config=RunConfig(failure_config=FailureConfig(fail_fast=True)),
    )
    assert started == [1]  # no trial started after the first failure
    assert "ValueError: fail fast please" in results.errors[0]


def test_a_stop_dict_ends_each_trial_once_a_threshold_is_reached(run):
    def endless(config):
        while True:
            report({"loss": 1.0})

    results = run(endless, num_samples=2, run_config=RunConfig(stop={"training_iteration": 3}))
    assert [len(result.metrics_history) for result in results] == [3, 3]  # exactly there, not run ahead
    assert all(result.status is TrialStatus.TERMINATED for result in results)


def test_a_stop_function_sees_the_trial_and_its_result(run):
    def endless(config):
        while True:
            report({"loss": 1.0})

    seen = set()

    def stop(trial_id, result):
        seen.add(trial_id)
        return result["training_iteration"] >= 2

    results = run(endless, num_samples=2, run_config=RunConfig(stop=stop))
    assert seen == {result.trial_id for result in results}
    assert [len(result.metrics_history) for result in results] == [2, 2]


def test_a_stop_on_a_metric_stops_the_trial_at_the_first_result_reaching_it(run):
    def rising(config):
        for step in range(1000):
            report({"accuracy": step / 10})

    results = run(rising, num_samples=2, run_config=RunConfig(stop={"accuracy": 0.5}))
    assert [result.metrics["accuracy"] for result in results] == [0.5, 0.5]


def test_sampling_forever_ends_with_the_time_budget(run):
    def endless(config):
        while True:
            report({"loss": config["x"]})

    results = run(endless, {"x": uniform(0, 1)}, num_samples=-1, time_budget_s=0.3)
    assert len(results) >= 1
    assert all(result.status is TrialStatus.TERMINATED for result in results)


class StopAtSecondIteration(TrialScheduler):
    def milestones(self):
        return {2}

    def on_trial_result(self, trial, result):
        return Decision.STOP if result["training_iteration"] == 2 else Decision.CONTINUE


def test_a_scheduler_decision_at_its_milestone_stops_the_trial_exactly_there(run):
    results = run(quadratic, {"x": uniform(0, 1)}, num_samples=3, scheduler=StopAtSecondIteration())
    assert [result.metrics["training_iteration"] for result in results] == [2, 2, 2]


class PauseOnceAtSecondIteration(TrialScheduler):
    def __init__(self):
        super().__init__()
        self.paused = set()

    def milestones(self):
        return {2}

    def on_trial_result(self, trial, result):
        if result["training_iteration"] == 2 and trial.trial_id not in self.paused:
            self.paused.add(trial.trial_id)
            return Decision.PAUSE
        return Decision.CONTINUE


def test_a_paused_trial_resumes_from_its_checkpoint(run):
    def counting(config):
        checkpoint = get_checkpoint()
        start = int((Path(checkpoint.path) / "n").read_text()) if checkpoint else 0
        for n in range(start + 1, 5):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "n").write_text(str(n))
                report({"n": n}, checkpoint=Checkpoint.from_directory(directory))

    results = run(counting, num_samples=2, scheduler=PauseOnceAtSecondIteration())
    for result in results:
        assert [entry["n"] for entry in result.metrics_history] == [1, 2, 3, 4]
        assert result.status is TrialStatus.TERMINATED


class Recorder(Callback):
    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def setup(self, **info):
        self.calls.append(("setup", info["metric"]))

    def on_trial_start(self, iteration, trials, trial, **info):
        self.calls.append(("start", trial.trial_id))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.calls.append(("result", trial.trial_id))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.calls.append(("complete", trial.trial_id))

    def on_experiment_end(self, trials, **info):
        self.calls.append(("end", len(trials)))


def test_callbacks_hear_every_step_of_a_trial(run):
    recorder = Recorder()
    results = run(
        lambda config: [report({"loss": 1.0}) for _ in range(2)],
        metric="loss",
        mode="min",
        run_config=RunConfig(callbacks=[recorder]),
    )
    trial_id = results[0].trial_id
    assert recorder.calls == [
        ("setup", "loss"),
        ("start", trial_id),
        ("result", trial_id),
        ("result", trial_id),
        ("complete", trial_id),
        ("end", 1),
    ]


def test_bad_input_is_refused_before_any_trial_starts(tmp_path):
    with pytest.raises(TypeError, match="trainable must be a function"):
        Tuner(42)
    with pytest.raises(TypeError, match=r"param_space\['lock'\] cannot be pickled"):
        Tuner(quadratic, param_space={"lock": threading.Lock()})
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'lowest'"):
        TuneConfig(mode="lowest")
    with pytest.raises(ValueError, match="num_samples must be a positive number or -1"):
        TuneConfig(num_samples=0)
    blocker = tmp_path / "file"
    blocker.write_text("")
    tuner = Tuner(quadratic, run_config=RunConfig(storage_path=str(blocker), verbose=0))
    with pytest.raises(TuneError, match="is not writable"):
        tuner.fit()


def test_get_results_before_fit_is_an_error():
    with pytest.raises(TuneError, match="fit\\(\\) has not run yet"):
        Tuner(quadratic).get_results()


def test_get_best_result_by_best_ever_value(run):
    def up_then_down(config):
        for value in (config["peak"], 0.0):
            report({"score": value})

    results = run(up_then_down, {"peak": grid_search([5.0, 9.0])}, metric="score", mode="max")
    assert results.get_best_result(scope="all").config["peak"] == 9.0
    with pytest.raises(TuneError, match="no trial reported a numeric value for 'missing'"):
        results.get_best_result(metric="missing")


def test_results_as_dataframes(run):
    def rising(config):
        for step in range(3):
            report({"score": config["model"]["depth"] * step})

    results = run(rising, {"model": {"depth": grid_search([1, 2])}})
    frame = results.get_dataframe()
    assert list(frame["config/model/depth"]) == [1, 2]
    assert list(frame["score"]) == [2, 4]
    best_rows = results.get_dataframe(filter_metric="score", filter_mode="min")
    assert list(best_rows["score"]) == [0, 0]
    history = results[1].metrics_dataframe
    assert list(history["score"]) == [0, 2, 4]
    with pytest.raises(ValueError, match="give both filter_metric and filter_mode"):
        results.get_dataframe(filter_metric="score")


def test_a_scheduler_that_needs_a_metric_says_so_before_any_trial_starts(run):
    from tune_schedulers import ASHAScheduler

    started = []
    with pytest.raises(ValueError, match=r"AsyncHyperBandScheduler needs a metric and a mode .* TuneConfig"):
        run(lambda config: started.append(1), scheduler=ASHAScheduler())
    assert started == []


def test_trials_can_be_named_and_given_directories(run):
    def named(config):
        report({"name": __import__("tune_trial").get_context().get_trial_name()})

    results = run(
        named,
        {"lr": grid_search([0.1, 0.2])},
        trial_name_creator=lambda trial: f"lr={trial.config['lr']}",
        trial_dirname_creator=lambda trial: f"trial_lr_{trial.config['lr']}",
    )
    assert [result.metrics["name"] for result in results] == ["lr=0.1", "lr=0.2"]
    assert [result.path.rsplit("/", 1)[-1] for result in results] == ["trial_lr_0.1", "trial_lr_0.2"]
    with pytest.raises(ValueError, match=r"trial_dirname_creator gave '../escape' for trial \w+"):
        run(named, trial_dirname_creator=lambda trial: "../escape")
