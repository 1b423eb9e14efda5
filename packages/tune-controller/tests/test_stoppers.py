"""Stoppers, alone and through the Tuner."""

import datetime
import logging

import pytest

from tune_controller import (
    CombinedStopper,
    ExperimentPlateauStopper,
    MaximumIterationStopper,
    RunConfig,
    Stopper,
    TimeoutStopper,
    TrialPlateauStopper,
)
from tune_search import grid_search, uniform
from tune_trial import TrialStatus, report


def endless(config):
    step = 0
    while True:
        step += 1
        report({"loss": config.get("level", 1.0) + 1 / step, "flat": 0.5})


def test_maximum_iteration_stops_each_trial_exactly_there(run):
    results = run(endless, num_samples=3, run_config=RunConfig(stop=MaximumIterationStopper(5)))
    assert [len(result.metrics_history) for result in results] == [5, 5, 5]


def test_trial_plateau_stops_a_trial_whose_metric_stopped_moving(run):
    stopper = TrialPlateauStopper("flat", std=0.01, num_results=3, grace_period=4)
    results = run(endless, num_samples=2, run_config=RunConfig(stop=stopper))
    assert [len(result.metrics_history) for result in results] == [4, 4]


def test_trial_plateau_waits_for_the_threshold():
    stopper = TrialPlateauStopper("loss", std=1.0, num_results=2, grace_period=2, metric_threshold=0.5, mode="min")
    assert [stopper("t", {"loss": value}) for value in (0.9, 0.8, 0.6, 0.4)] == [False, False, False, True]


def test_experiment_plateau_ends_the_whole_experiment(run):
    stopper = ExperimentPlateauStopper("flat", std=0.001, top=3, mode="min", patience=1)
    results = run(endless, num_samples=-1, run_config=RunConfig(stop=stopper))
    assert all(result.status is TrialStatus.TERMINATED for result in results)
    assert stopper.stop_all()


def test_timeout_ends_an_endless_search(run):
    results = run(endless, {"level": uniform(0, 1)}, num_samples=-1, run_config=RunConfig(stop=TimeoutStopper(0.2)))
    assert len(results) >= 1
    assert all(result.status is TrialStatus.TERMINATED for result in results)


def test_combined_stoppers_all_see_every_result(run):
    counting = MaximumIterationStopper(100)
    stopper = CombinedStopper(MaximumIterationStopper(3), counting)
    results = run(endless, num_samples=2, run_config=RunConfig(stop=stopper))
    assert [len(result.metrics_history) for result in results] == [3, 3]
    assert dict(counting._counts) == {result.trial_id: 3 for result in results}
    assert stopper.decision_points() == {3, 100}


class StopLowLevels(Stopper):
    def __call__(self, trial_id, result):
        return result["loss"] < 0.6


def test_a_custom_stopper_sees_every_result(run):
    stopper = CombinedStopper(StopLowLevels(), MaximumIterationStopper(10))
    results = run(endless, {"level": grid_search([0.0, 2.0])}, run_config=RunConfig(stop=stopper))
    lengths = {result.config["level"]: len(result.metrics_history) for result in results}
    assert lengths == {0.0: 2, 2.0: 10}  # 0 + 1/2 is the first loss under 0.6; level 2 never gets there


def test_a_stop_dict_on_a_metric_no_trial_reports_is_warned_about_once(run, caplog):
    with caplog.at_level(logging.WARNING, logger="tune_controller"):
        run(
            lambda config: [report({"loss": 1.0}) for _ in range(3)],
            num_samples=2,
            run_config=RunConfig(stop={"accuracy": 0.9}),
        )
    warnings = [record.message for record in caplog.records if "RunConfig.stop names" in record.message]
    assert len(warnings) == 1
    assert "'accuracy'" in warnings[0]
    assert "loss" in warnings[0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MaximumIterationStopper(0), "max_iter must be >= 1"),
        (lambda: TrialPlateauStopper("loss", num_results=1), "num_results must be >= 2"),
        (lambda: TrialPlateauStopper("loss", metric_threshold=1.0), "metric_threshold needs mode"),
        (lambda: ExperimentPlateauStopper("loss", mode="best"), "mode must be 'min' or 'max'"),
        (lambda: TimeoutStopper(datetime.timedelta(0)), "timeout must be > 0"),
        (lambda: RunConfig(stop=42) and __import__("tune_controller").Tuner(endless, run_config=RunConfig(stop=42)),
         "RunConfig.stop must be a Stopper, a dict or a function"),
    ],
)  # fmt: skip
def test_bad_stoppers_are_refused_when_built(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
