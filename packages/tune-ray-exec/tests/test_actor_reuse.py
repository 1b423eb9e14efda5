import os
import uuid
from pathlib import Path

import pytest
import ray

from tune_controller import RunConfig, Trainable, TrialEnded, TrialLaunch, TrialReported, TuneConfig, Tuner
from tune_ray_exec import RayExecutor, release_idle_actors
from tune_schedulers import ASHAScheduler
from tune_trial import Decision, Resources, TrialContext, report


def report_pid(config):
    report({"pid": os.getpid()})


def _fit(tmp_path, trainable, **tune_config):
    tuner = Tuner(
        trainable,
        tune_config=TuneConfig(**tune_config),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
        executor=RayExecutor(),
    )
    return tuner.fit()


def test_the_next_experiment_in_this_process_reuses_the_idle_actors(tmp_path):
    release_idle_actors()
    first = {result.metrics["pid"] for result in _fit(tmp_path, report_pid, num_samples=6)}
    second = {result.metrics["pid"] for result in _fit(tmp_path, report_pid, num_samples=6)}
    assert second <= first


def test_idle_actors_make_way_for_any_other_work_on_the_cluster(tmp_path):
    _fit(tmp_path, report_pid, num_samples=4)  # leaves idle actors holding the 2 CPUs

    @ray.remote(num_cpus=2)
    def needs_the_whole_machine():
        return "placed"

    # Ray reports the task as unmet demand and the parked actors go; without that it would wait forever.
    assert ray.get(needs_the_whole_machine.remote(), timeout=120) == "placed"


def test_a_fit_that_fails_before_its_first_trial_does_not_keep_the_idle_actors(tmp_path):
    _fit(tmp_path, report_pid, num_samples=4)  # leaves idle actors holding the 2 CPUs
    with pytest.raises(ValueError, match="needs a metric"):
        _fit(tmp_path, report_pid, scheduler=ASHAScheduler())  # refused after the executor's setup

    @ray.remote(num_cpus=2)
    def needs_the_whole_machine():
        return "placed"

    assert ray.get(needs_the_whole_machine.remote(), timeout=120) == "placed"


def _launch(trial_id, tmp_path, decision_points):
    context = TrialContext(trial_id, trial_id, str(tmp_path / trial_id), experiment_name="pipelining")
    return TrialLaunch(trial_id=trial_id, config={}, context=context, decision_points=decision_points)


def reports_three_times(config):
    for _ in range(3):
        report({"pid": os.getpid()})


def _events_until_ended(executor, trial_ids):
    events = []
    while not all(any(isinstance(e, TrialEnded) and e.trial_id == t for e in events) for t in trial_ids):
        events += executor.poll(timeout=5.0)
    return events


def test_a_trial_stopped_at_a_decision_point_frees_its_slot_for_a_successor_on_its_actor(tmp_path):
    # Both CPUs per trial: one slot. Once trial a is told to stop while it waits for that decision,
    # the slot is free before a's end has come back, and b is queued behind a on the same actor.
    release_idle_actors()
    whole = Resources(cpu=2)
    executor = RayExecutor()
    executor.setup(reports_three_times)
    try:
        executor.start(_launch("a", tmp_path, decision_points={1}), whole)
        first = []
        while not first:
            first = executor.poll(timeout=5.0)
        assert [type(event) for event in first] == [TrialReported]
        assert first[0].awaits_decision
        assert not executor.can_start(whole)
        executor.decide("a", Decision.STOP)
        assert executor.can_start(whole)
        executor.start(_launch("b", tmp_path, decision_points=()), whole)
        events = first + _events_until_ended(executor, ["a", "b"])
    finally:
        executor.shutdown()
    by_trial = {trial: [e for e in events if e.trial_id == trial] for trial in ("a", "b")}
    assert [type(e) for e in by_trial["a"]] == [TrialReported, TrialEnded]
    assert by_trial["a"][-1].stopped
    assert by_trial["a"][-1].error is None
    assert [type(e) for e in by_trial["b"]] == [TrialReported] * 3 + [TrialEnded]
    assert by_trial["b"][-1].error is None
    assert by_trial["a"][0].result["pid"] == by_trial["b"][0].result["pid"]  # the same actor


def test_the_users_ray_is_left_running_and_usable_after_fit(tmp_path):
    _fit(tmp_path, report_pid, num_samples=2)
    assert ray.is_initialized()
    assert ray.get(ray.put("still here")) == "still here"


def test_after_ray_is_restarted_the_next_experiment_does_not_use_the_old_actors(tmp_path):
    _fit(tmp_path, report_pid, num_samples=2)
    ray.shutdown()  # the idle actors go with it; the pool must not hand their handles out again
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    results = _fit(tmp_path, report_pid, num_samples=2)
    assert results.num_errors == 0, results.errors  # a dead actor's handle would fail its trial
    assert results.num_terminated == 2


def test_max_concurrent_trials_caps_the_actors_in_use(tmp_path):
    release_idle_actors()
    results = _fit(tmp_path, report_pid, num_samples=4, max_concurrent_trials=1)
    assert results.num_terminated == 4
    assert len({result.metrics["pid"] for result in results}) == 1  # 2 CPUs, but one trial at a time


class CleansUp(Trainable):
    """Reused through reset_config; its cleanup leaves a file named after the instance."""

    def setup(self, config):
        self.instance = uuid.uuid4().hex

    def step(self):
        return {"instance": self.instance, "done": True}

    def reset_config(self, new_config):
        return True

    def cleanup(self):
        (Path(self.config["marks"]) / self.instance).write_text("")


def test_every_reused_trainable_instance_is_cleaned_up_once_its_actor_goes(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    release_idle_actors()
    tuner = Tuner(
        CleansUp,
        param_space={"marks": str(marks)},
        tune_config=TuneConfig(num_samples=6, reuse_actors=True),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
        executor=RayExecutor(),
    )
    results = tuner.fit()
    assert not results.errors
    instances = {result.metrics["instance"] for result in results}
    assert len(instances) < 6  # instances were reused across trials
    release_idle_actors()  # kills the idle actors, each holding the last instance it kept
    assert {path.name for path in marks.iterdir()} == instances
