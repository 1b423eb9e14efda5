"""tune-controller features whose data crosses the actor boundary: callback hooks around checkpoints and
retries, the trainable's own exception under fail_fast="raise", class Trainables with parameters and resources."""

import tempfile
from pathlib import Path

import pytest

from tune_controller import (
    Callback,
    FailureConfig,
    RunConfig,
    Trainable,
    TuneConfig,
    Tuner,
    with_parameters,
    with_resources,
)
from tune_ray_exec import RayExecutor
from tune_search import grid_search
from tune_trial import Checkpoint, get_checkpoint, get_context, report


def _fit(tmp_path, trainable, param_space=None, run_config=None, **tune_config):
    run_config = run_config or RunConfig()
    run_config.storage_path = str(tmp_path)
    run_config.verbose = 0
    return Tuner(
        trainable,
        param_space=param_space or {},
        tune_config=TuneConfig(**tune_config),
        run_config=run_config,
        executor=RayExecutor(),
    ).fit()


class Hooks(Callback):
    def __init__(self):
        self.calls = []

    def on_trial_start(self, iteration, trials, trial, **info):
        self.calls.append("start")

    def on_trial_restore(self, iteration, trials, trial, **info):
        self.calls.append(f"restore {Path(trial.checkpoint.path).name}")

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        self.calls.append(f"checkpoint {Path(checkpoint.path).name}")

    def on_trial_save(self, iteration, trials, trial, **info):
        self.calls.append("save")

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.calls.append(f"result {result['training_iteration']}")

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.calls.append("recover")

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.calls.append("complete")


def crashes_once(config):
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    for step in range(start + 1, 3):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"step": step}, checkpoint=Checkpoint.from_directory(directory))
        if checkpoint is None:
            raise OSError("lost the node")


def test_hooks_around_checkpoints_and_retries_on_ray(tmp_path):
    hooks = Hooks()
    run_config = RunConfig(callbacks=[hooks], failure_config=FailureConfig(max_failures=1))
    (result,) = _fit(tmp_path, crashes_once, run_config=run_config)
    assert result.error is None
    assert hooks.calls == [
        "start",
        "checkpoint checkpoint_000000",
        "save",
        "result 1",
        "recover",
        "start",
        "restore checkpoint_000000",
        "checkpoint checkpoint_000001",
        "save",
        "result 2",
        "complete",
    ]


class DivergedError(Exception):
    """A user's exception class: it must reach fit()'s caller through the actor as itself."""


def diverges(config):
    report({"loss": 1.0})
    raise DivergedError(f"lr={config['lr']} diverged")


def test_fail_fast_raise_brings_the_trainables_exception_back_from_the_actor(tmp_path):
    with pytest.raises(DivergedError, match="lr=1 diverged"):
        _fit(
            tmp_path,
            diverges,
            {"lr": grid_search([1])},
            run_config=RunConfig(failure_config=FailureConfig(fail_fast="raise")),
        )


class Sized(Trainable):
    def setup(self, config, data=None):
        self.data = data

    def step(self):
        resources = get_context().get_trial_resources()
        return {"size": len(self.data) * self.config["k"], "cpus": resources.cpu, "done": True}


def test_a_class_trainable_with_parameters_and_resources_on_ray(tmp_path):
    trainable = with_resources(with_parameters(Sized, data=list(range(1000))), {"cpu": 2})
    results = _fit(tmp_path, trainable, {"k": grid_search([1, 2])})
    assert [(result.metrics["size"], result.metrics["cpus"]) for result in results] == [(1000, 2.0), (2000, 2.0)]


def report_cpus(config):
    report({"cpus": get_context().get_trial_resources().cpu})


def test_resources_that_depend_on_the_config_on_ray(tmp_path):
    trainable = with_resources(report_cpus, lambda config: {"cpu": config["width"]})
    results = _fit(tmp_path, trainable, {"width": grid_search([1, 2])})
    assert [result.metrics["cpus"] for result in results] == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"Trial \w+ needs 3 CPU"):
        _fit(tmp_path, trainable, {"width": grid_search([3])})
