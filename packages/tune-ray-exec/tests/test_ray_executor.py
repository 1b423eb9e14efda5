import os
import signal
import tempfile
from pathlib import Path

import pytest

from tune_controller import FailureConfig, RunConfig, TuneConfig, Tuner, with_resources
from tune_ray_exec import RayExecutor
from tune_schedulers import ResourceChangingScheduler, TrialScheduler
from tune_search import choice, grid_search, uniform
from tune_trial import Checkpoint, Decision, Resources, get_checkpoint, get_context, report


def _fit(tmp_path, trainable, param_space=None, reuse_actors=True, run_config=None, **tune_config):
    run_config = run_config or RunConfig()
    run_config.storage_path = str(tmp_path)
    run_config.verbose = 0
    tuner = Tuner(
        trainable,
        param_space=param_space or {},
        tune_config=TuneConfig(**tune_config),
        run_config=run_config,
        executor=RayExecutor(reuse_actors=reuse_actors),
    )
    return tuner.fit()


def quadratic(config):
    for i in range(10):
        report({"loss": (config["x"] - 0.3) ** 2 + 1 / (i + 1)})


def test_the_walking_skeleton_slice_runs_on_ray(tmp_path):
    results = _fit(
        tmp_path,
        quadratic,
        {"x": uniform(0, 1), "y": choice(["a", "b"])},
        num_samples=20,
        metric="loss",
        mode="min",
    )
    assert results.num_terminated == 20
    assert all(len(result.metrics_history) == 10 for result in results)
    assert results.get_best_result().metrics["loss"] == min(r.metrics["loss"] for r in results)


def report_pid(config):
    report({"pid": os.getpid(), "trial": get_context().get_trial_id()})


def test_actors_are_reused_across_trials(tmp_path):
    results = _fit(tmp_path, report_pid, num_samples=10)
    pids = {result.metrics["pid"] for result in results}
    assert len(pids) <= 2  # 2 CPUs: never more than two actors alive, and none replaced
    assert os.getpid() not in pids


def test_without_reuse_every_trial_gets_a_new_actor(tmp_path):
    results = _fit(tmp_path, report_pid, num_samples=3, reuse_actors=False)
    assert len({result.metrics["pid"] for result in results}) == 3


def test_a_user_exception_reaches_the_result_without_rays_wrapper(tmp_path):
    def exploding(config):
        raise ZeroDivisionError("learning rate too high")

    results = _fit(tmp_path, exploding, {"x": grid_search([1, 2])})
    assert results.num_errors == 2
    error = results.errors[0]
    assert "exploding" in error
    assert "ZeroDivisionError: learning rate too high" in error
    assert "ray::" not in error
    assert "RayTaskError" not in error


class StopAtThird(TrialScheduler):
    def milestones(self):
        return {3}

    def on_trial_result(self, trial, result):
        return Decision.STOP if result["training_iteration"] == 3 else Decision.CONTINUE


def test_a_decision_at_a_milestone_stops_the_remote_trial_there(tmp_path):
    results = _fit(tmp_path, quadratic, {"x": uniform(0, 1)}, num_samples=4, scheduler=StopAtThird())
    assert [len(result.metrics_history) for result in results] == [3, 3, 3, 3]


def dies_once(config):
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    for step in range(start + 1, 4):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"step": step, "pid": os.getpid()}, checkpoint=Checkpoint.from_directory(directory))
        if step == 2 and checkpoint is None:
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_actor_is_retried_from_the_latest_checkpoint(tmp_path):
    run_config = RunConfig(failure_config=FailureConfig(max_failures=1))
    # The base scheduler sees every result before the trial goes on, so the driver surely has the
    # step-2 checkpoint when the process dies (a trial running ahead could die with it unsent).
    (result,) = _fit(tmp_path, dies_once, run_config=run_config, scheduler=TrialScheduler())
    assert result.error is None
    steps = [entry["step"] for entry in result.metrics_history]
    assert steps == [1, 2, 3]  # resumed after step 2, from its checkpoint
    assert result.metrics_history[0]["pid"] != result.metrics_history[-1]["pid"]


def test_a_request_the_cluster_can_never_meet_names_the_trial_and_resource():
    executor = RayExecutor()
    executor.setup(quadratic)
    try:
        with pytest.raises(ValueError, match=r"Trial t9 needs 4 GPU but the Ray cluster has 0 in all"):
            executor.check_feasible("t9", Resources(cpu=1, gpu=4))
    finally:
        executor.shutdown()


def report_cpus(config):
    report({"cpus": get_context().get_trial_resources().cpu, "pid": os.getpid()})


def test_trials_get_the_cpus_they_ask_for_and_wait_for_them(tmp_path):
    results = _fit(tmp_path, with_resources(report_cpus, {"cpu": 2}), {"x": grid_search([1, 2, 3])})
    assert [result.metrics["cpus"] for result in results] == [2.0, 2.0, 2.0]
    assert len({result.metrics["pid"] for result in results}) == 1  # one 2-CPU actor, reused


def grows(config):
    checkpoint = get_checkpoint()
    step = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    while step < 3:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            cpus = get_context().get_trial_resources().cpu
            report({"step": step, "cpus": cpus}, checkpoint=Checkpoint.from_directory(directory))


def test_a_trial_resized_on_ray_gets_an_actor_of_the_new_size(tmp_path):
    # Alone on 2 CPUs, the trial grows to both after its first result: a new 2-CPU actor, which the
    # idle 1-CPU actor must not starve.
    (result,) = _fit(tmp_path, grows, scheduler=ResourceChangingScheduler())
    history = [(entry["step"], entry["cpus"]) for entry in result.metrics_history]
    assert history == [(1, 1.0), (2, 2.0), (3, 2.0)]
