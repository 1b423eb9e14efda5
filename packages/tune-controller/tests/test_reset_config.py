"""Reusing a class Trainable's instance between trials through ``reset_config`` (``reuse_actors``)."""

import pytest

from tune_controller import RunConfig, Trainable
from tune_search import grid_search

EVENTS = []


class Tracked(Trainable):
    """Records, per instance, its setup, resets and cleanups; ``accept`` says whether resets succeed."""

    accept = True

    def setup(self, config):
        self.number = sum(1 for event in EVENTS if event[0] == "setup")
        self.total = 0
        EVENTS.append(("setup", self.number, config["rate"]))

    def step(self):
        self.total += self.config["rate"]
        return {"total": self.total, "instance": self.number, "id": self.trial_id, "done": self.iteration + 1 >= 2}

    def reset_config(self, new_config):
        EVENTS.append(("reset", self.number, new_config["rate"]))
        self.total = 0
        return self.accept

    def cleanup(self):
        EVENTS.append(("cleanup", self.number, self.config["rate"]))


class Refusing(Tracked):
    accept = False


class NoReset(Trainable):
    def setup(self, config):
        self.number = sum(1 for event in EVENTS if event[0] == "setup")
        EVENTS.append(("setup", self.number, config["rate"]))

    def step(self):
        return {"instance": self.number, "done": True}

    def cleanup(self):
        EVENTS.append(("cleanup", self.number, self.config["rate"]))


class FailsOnTwo(Tracked):
    def step(self):
        if self.config["rate"] == 2:
            raise ValueError("rate 2 fails")
        return super().step()


@pytest.fixture(autouse=True)
def _clear_events():
    EVENTS.clear()


def _cleanups():
    return sorted(event[1] for event in EVENTS if event[0] == "cleanup")


def test_one_instance_serves_every_trial_through_reset_config(run):
    results = run(Tracked, {"rate": grid_search([1, 2, 3])}, max_concurrent_trials=1)
    assert EVENTS == [
        ("setup", 0, 1),
        ("reset", 0, 2),
        ("reset", 0, 3),
        ("cleanup", 0, 3),  # once, when the executor shut down at the end of fit
    ]
    for result in results:
        # Fresh state and the trial's own config, id and iteration count on the reused instance.
        assert [entry["total"] for entry in result.metrics_history] == [result.config["rate"] * i for i in (1, 2)]
        assert [entry["training_iteration"] for entry in result.metrics_history] == [1, 2]
        assert result.metrics["id"] == result.metrics["trial_id"]
        assert result.metrics["instance"] == 0


def test_reset_config_returning_false_builds_a_new_instance(run):
    results = run(Refusing, {"rate": grid_search([1, 2, 3])}, max_concurrent_trials=1)
    assert [result.metrics["instance"] for result in results] == [0, 1, 2]
    assert [event for event in EVENTS if event[0] == "setup"] == [("setup", 0, 1), ("setup", 1, 2), ("setup", 2, 3)]
    assert _cleanups() == [0, 1, 2]


def test_a_class_without_reset_config_is_never_reused(run):
    results = run(NoReset, {"rate": grid_search([1, 2, 3])}, max_concurrent_trials=1)
    assert [result.metrics["instance"] for result in results] == [0, 1, 2]
    assert _cleanups() == [0, 1, 2]


def test_without_reuse_actors_every_trial_gets_a_new_instance(run):
    results = run(Tracked, {"rate": grid_search([1, 2])}, max_concurrent_trials=1, reuse_actors=False)
    assert [result.metrics["instance"] for result in results] == [0, 1]
    assert not [event for event in EVENTS if event[0] == "reset"]
    assert _cleanups() == [0, 1]


def test_the_instance_of_an_errored_trial_is_not_kept(run):
    results = run(FailsOnTwo, {"rate": grid_search([1, 2, 3])}, max_concurrent_trials=1)
    assert [result.error is not None for result in results] == [False, True, False]
    # Trial 1's instance went to trial 2, which failed: it was cleaned up, and trial 3 built a new one.
    assert results[2].metrics["instance"] == 1
    assert _cleanups() == [0, 1]


def test_a_stopped_trials_instance_is_reused(run):
    results = run(
        Tracked,
        {"rate": grid_search([1, 2])},
        max_concurrent_trials=1,
        run_config=RunConfig(stop={"training_iteration": 1}),
    )
    assert [result.metrics["instance"] for result in results] == [0, 0]
    assert [len(result.metrics_history) for result in results] == [1, 1]
    assert _cleanups() == [0]
