"""Class Trainables, checkpoint frequency, and which checkpoints are kept."""

import tempfile
from pathlib import Path

import pytest

from tune_controller import CheckpointConfig, RunConfig, Trainable
from tune_schedulers import TrialScheduler
from tune_search import grid_search
from tune_trial import Checkpoint, Decision, TrialStatus, report

CLEANED_UP = []


class Counter(Trainable):
    def setup(self, config):
        self.total = config.get("start", 0)
        self.restored_from = None

    def step(self):
        self.total += 1
        return {"total": self.total, "restored": self.restored_from, "done": self.iteration + 1 >= 5}

    def save_checkpoint(self, checkpoint_dir):
        return {"total": self.total}

    def load_checkpoint(self, checkpoint):
        self.total = checkpoint["total"]
        self.restored_from = checkpoint["total"]

    def cleanup(self):
        CLEANED_UP.append(self.config.get("start", 0))


def test_a_class_trainable_steps_until_done_and_cleans_up(run):
    CLEANED_UP.clear()
    results = run(Counter, {"start": grid_search([0, 100])})
    assert [result.metrics["total"] for result in results] == [5, 105]
    assert all(len(result.metrics_history) == 5 for result in results)
    assert sorted(CLEANED_UP) == [0, 100]


class PauseAtThree(TrialScheduler):
    def __init__(self):
        super().__init__()
        self.paused = False

    def milestones(self):
        return {3}

    def on_trial_result(self, trial, result):
        if result["training_iteration"] == 3 and not self.paused:
            self.paused = True
            return Decision.PAUSE
        return Decision.CONTINUE


def test_checkpoint_frequency_lets_a_paused_class_trainable_resume_from_its_state(run):
    results = run(
        Counter,
        scheduler=PauseAtThree(),
        run_config=RunConfig(checkpoint_config=CheckpointConfig(checkpoint_frequency=2)),
    )
    (result,) = results
    history = [(entry["training_iteration"], entry["total"], entry["restored"]) for entry in result.metrics_history]
    # Paused after step 3; resumed from the step-2 checkpoint: step 3 again, then 4 and 5.
    assert history == [(1, 1, None), (2, 2, None), (3, 3, None), (3, 3, 2), (4, 4, 2), (5, 5, 2)]
    assert result.status is TrialStatus.TERMINATED


class Broken(Trainable):
    def step(self):
        raise ArithmeticError("step failed")


def test_a_failing_step_is_the_trials_error(run):
    (result,) = run(Broken)
    assert "ArithmeticError: step failed" in result.error
    assert "in step" in result.error


def scored(config):
    for step, score in enumerate([0.5, 0.9, 0.1, 0.7, 0.3], start=1):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"score": score}, checkpoint=Checkpoint.from_directory(directory))


def test_only_the_best_checkpoints_and_the_latest_are_kept(run):
    config = CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="score", checkpoint_score_order="max")
    (result,) = run(scored, run_config=RunConfig(checkpoint_config=config))
    on_disk = sorted(path.name for path in Path(result.path).glob("checkpoint_*"))
    assert on_disk == ["checkpoint_000001", "checkpoint_000004"]  # the best (0.9) and the latest (0.3)
    assert [metrics["score"] for _, metrics in result.best_checkpoints] == [0.9, 0.3]
    assert result.checkpoint.path.endswith("checkpoint_000004")


def test_without_a_score_the_most_recent_are_kept(run):
    (result,) = run(scored, run_config=RunConfig(checkpoint_config=CheckpointConfig(num_to_keep=3)))
    assert sorted(path.name for path in Path(result.path).glob("checkpoint_*")) == [
        "checkpoint_000002",
        "checkpoint_000003",
        "checkpoint_000004",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_to_keep": 0}, "num_to_keep must be >= 1"),
        ({"checkpoint_score_order": "best"}, "checkpoint_score_order must be 'min' or 'max'"),
        ({"checkpoint_frequency": -1}, "checkpoint_frequency must be >= 0"),
    ],
)
def test_bad_checkpoint_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CheckpointConfig(**kwargs)


class Adder(Trainable):
    def setup(self, config):
        self.total = 0
        self.cleaned = False

    def step(self):
        self.total += self.config["by"]
        return {"total": self.total}

    def save_checkpoint(self, checkpoint_dir):
        return {"total": self.total}

    def load_checkpoint(self, state):
        self.total = state["total"]

    def cleanup(self):
        self.cleaned = True


def test_a_trainable_can_be_driven_by_hand_as_in_ray_tune(tmp_path):
    trainable = Adder({"by": 2})
    assert trainable.get_config() == {"by": 2}
    first = trainable.train()
    assert (first["total"], first["training_iteration"], first["done"]) == (2, 1, False)
    assert first["time_this_iter_s"] >= 0
    trainable.train()
    checkpoint = trainable.save(str(tmp_path / "saved"))
    assert checkpoint.path == str(tmp_path / "saved")

    restored = Adder({"by": 2})
    restored.restore(checkpoint.path)
    assert (restored.total, restored.iteration) == (4, 2)
    assert restored.train()["training_iteration"] == 3
    restored.stop()
    assert restored.cleaned


class Wide(Trainable):
    @classmethod
    def default_resource_request(cls, config):
        return {"cpu": config["width"]}

    def step(self):
        from tune_trial import get_context

        return {"cpus": get_context().get_trial_resources().cpu, "done": True}


def test_a_class_says_what_its_trials_need_and_with_resources_overrides_it(run):
    from tune_controller import InProcessExecutor, with_resources

    results = run(Wide, {"width": grid_search([1, 3])}, executor=InProcessExecutor(num_cpus=3))
    assert [result.metrics["cpus"] for result in results] == [1.0, 3.0]
    (result,) = run(with_resources(Wide, {"cpu": 2}), {"width": 3}, executor=InProcessExecutor(num_cpus=3))
    assert result.metrics["cpus"] == 2.0
