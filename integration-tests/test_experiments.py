"""Full experiments through ``import tune`` on a local Ray: searchers, schedulers, checkpoints, failures.

Every trainable here keeps its state in checkpoints that also name the trial that wrote them, so a test
can tell a resume (own checkpoint) from an exploit (another trial's) from the results alone.
"""

import json
import math
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import tune


def _restored_state():
    """The state in the checkpoint this trial was started from, or a fresh one."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return {"step": 0, "value": 0.0, "writer": None}
    return json.loads((Path(checkpoint.path) / "state.json").read_text())


def _report_with_checkpoint(metrics, state):
    state = {**state, "writer": tune.get_context().get_trial_id()}
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "state.json").write_text(json.dumps(state))
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


def accumulate(config):
    """Adds ``rate`` to a value each step: a higher rate is better, and the value survives restarts."""
    state = _restored_state()
    restored_from = state["writer"]
    while state["step"] < config["steps"]:
        state["step"] += 1
        state["value"] += config["rate"]
        metrics = {"step": state["step"], "value": state["value"], "rate": config["rate"]}
        _report_with_checkpoint({**metrics, "restored_from": restored_from}, state)
        restored_from = None


def test_pbt_exploits_copy_the_better_trials_checkpoint_and_explore_its_config(fit):
    # Synchronous PBT: trials wait for each other at every perturbation point, so the weak and the strong
    # trial are compared whatever the machine's speed (asynchronously, a trial that finishes before the
    # other reaches a perturbation point leaves nobody to compare with, in Ray Tune as here).
    pbt = tune.schedulers.PopulationBasedTraining(
        time_attr="training_iteration",
        perturbation_interval=2,
        hyperparam_mutations={"rate": [0.01, 0.1, 1.0, 2.0]},
        quantile_fraction=0.5,
        synch=True,
        seed=0,
    )
    results = fit(
        accumulate,
        param_space={"rate": tune.grid_search([1.0, 0.01, 1.0, 0.01]), "steps": 8},
        metric="value",
        mode="max",
        scheduler=pbt,
    )
    assert results.num_errors == 0, results.errors
    trial_ids = {result.trial_id for result in results}
    exploits = [
        entry
        for result in results
        for entry in result.metrics_history
        if entry["restored_from"] not in (None, result.trial_id)
    ]
    assert exploits, "no trial exploited another"
    assert all(entry["restored_from"] in trial_ids and entry["rate"] in (0.01, 0.1, 1.0, 2.0) for entry in exploits)
    # A weak trial that exploited a strong one carries on from the strong one's value: at 0.01 a step,
    # it could never reach 1.0 on its own.
    weak_starters = [result for result in results if result.metrics_history[0]["rate"] == 0.01]
    assert any(result.metrics["value"] > 1.0 for result in weak_starters)
    assert all(result.metrics["step"] == 8 for result in results)
    # Exploits decided at the last step restart a trial that has nothing left to do: no result shows them.
    assert pbt.num_perturbations >= len(exploits)


def test_hyperband_pauses_trials_at_its_milestones_and_resumes_the_best_from_their_checkpoints(fit):
    hyperband = tune.schedulers.HyperBandScheduler(time_attr="training_iteration", max_t=9, reduction_factor=3)
    results = fit(
        accumulate,
        param_space={"rate": tune.grid_search([0.1 * i for i in range(1, 10)]), "steps": 9},
        metric="value",
        mode="max",
        scheduler=hyperband,
    )
    assert results.num_errors == 0, results.errors
    resumed = [result for result in results if result.trial_id in {e["restored_from"] for e in result.metrics_history}]
    assert resumed, "no trial was paused and resumed from its own checkpoint"
    for result in resumed:
        steps = [entry["step"] for entry in result.metrics_history]
        assert steps == list(range(1, len(steps) + 1))  # nothing repeated or skipped across the pause
    lengths = sorted(len(result.metrics_history) for result in results)
    assert lengths[0] < 9, "HyperBand stopped no trial early"
    assert lengths[-1] == 9
    assert results.get_best_result().config["rate"] == pytest.approx(0.9)  # the best trial is never halved


def fails_once(config):
    """Raises at step 3 of its first attempt; a retry starts from the checkpoint of step 2."""
    state = _restored_state()
    restored_from = state["writer"]
    while state["step"] < 6:
        state["step"] += 1
        if state["step"] == 3 and restored_from is None:
            raise RuntimeError("simulated crash at step 3")
        _report_with_checkpoint({"step": state["step"], "restored_from": restored_from}, state)
        restored_from = None


def test_a_trial_that_raises_is_retried_from_its_latest_checkpoint(fit):
    results = fit(
        fails_once,
        param_space={"x": tune.grid_search([1, 2])},
        run_config=tune.RunConfig(failure_config=tune.FailureConfig(max_failures=1)),
    )
    assert results.num_errors == 0, results.errors
    for result in results:
        steps = [entry["step"] for entry in result.metrics_history]
        assert steps == [1, 2, 3, 4, 5, 6]
        assert result.metrics_history[2]["restored_from"] == result.trial_id  # step 3 came after the retry


def test_a_trial_that_keeps_failing_ends_in_error_with_its_traceback_and_the_others_finish(fit):
    def sometimes_broken(config):
        if config["x"] == 2:
            raise ValueError("x=2 is broken")
        tune.report({"score": config["x"]})

    results = fit(
        sometimes_broken,
        param_space={"x": tune.grid_search([1, 2, 3])},
        run_config=tune.RunConfig(failure_config=tune.FailureConfig(max_failures=1)),
    )
    assert results.num_errors == 1
    assert results.num_terminated == 2
    (error,) = results.errors
    assert "ValueError: x=2 is broken" in error
    assert "sometimes_broken" in error  # the user's frame is in the traceback


def test_num_samples_minus_one_samples_until_the_time_budget_is_spent(fit):
    def short(config):
        for step in range(3):
            tune.report({"loss": (config["x"] - 0.5) ** 2, "step": step})

    budget = 10.0  # well above the seconds two new actors take to start on a loaded machine
    started = time.monotonic()
    space = {"x": tune.uniform(0, 1)}
    results = fit(short, param_space=space, num_samples=-1, time_budget_s=budget, metric="loss", mode="min")
    elapsed = time.monotonic() - started
    assert elapsed >= budget
    assert elapsed < budget + 60  # ended by the budget, not by running out of samples (there is no end)
    assert len(results) >= 3  # kept sampling after the first trials ended (a trial takes milliseconds)
    assert results.num_errors == 0, results.errors
    assert len({result.config["x"] for result in results}) == len(results)  # every trial a fresh sample
    assert math.isfinite(results.get_best_result().metrics["loss"])


class Counter(tune.Trainable):
    """A class Trainable that says, in every result, which process and which instance ran it."""

    def setup(self, config):
        self.total = 0.0
        self.resets = 0
        self.pid = os.getpid()
        self.instance = uuid.uuid4().hex  # not id(self): a collected instance's address can be reused

    def step(self):
        self.total += self.config["rate"]
        return {"total": self.total, "pid": self.pid, "instance": self.instance, "resets": self.resets}

    def reset_config(self, new_config):
        self.resets += 1
        self.config = new_config
        self.total = 0.0
        return True


def test_a_class_trainable_on_reused_actors_is_reset_not_rebuilt(fit):
    results = fit(
        Counter,
        param_space={"rate": tune.grid_search([1, 2, 3, 4, 5, 6])},
        run_config=tune.RunConfig(stop={"training_iteration": 3}),
        reuse_actors=True,
    )
    assert results.num_terminated == 6, results.errors
    for result in results:
        # reset_config gave each trial a clean total and its own config, on whichever instance ran it.
        assert [entry["total"] for entry in result.metrics_history] == [result.config["rate"] * i for i in (1, 2, 3)]
    processes = {result.metrics["pid"] for result in results}
    assert len(processes) < len(results)  # actors were reused: six trials, at most two at a time
    assert os.getpid() not in processes  # each trial ran in an actor, not in the driver
    per_process = {}
    for result in results:
        per_process.setdefault(result.metrics["pid"], []).append(result)
    for trials in per_process.values():
        # One instance per actor: built once (setup), then reset for each later trial it ran.
        assert len({trial.metrics["instance"] for trial in trials}) == 1
        assert sorted(trial.metrics["resets"] for trial in trials) == list(range(len(trials)))
