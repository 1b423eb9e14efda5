"""The median stopping rule against a plain transcription of Ray Tune's."""

import random
import statistics

import pytest

from tune_schedulers import MedianStoppingRule
from tune_trial import Decision, Trial, TrialStatus


class ReferenceMedian:
    """Ray Tune's MedianStoppingRule (hard stop, no pending trials), keeping every result."""

    def __init__(self, grace_period, min_samples, mode):
        self.grace_period, self.min_samples = grace_period, min_samples
        self.better = min if mode == "min" else max
        self.results = {}

    def on_result(self, trial_id, time, value):
        self.results.setdefault(trial_id, []).append((time, value))
        if time < self.grace_period:
            return "CONTINUE"
        means = []
        for other, results in self.results.items():
            if other == trial_id or results[-1][0] < time:
                continue
            scoped = [v for t, v in results if self.grace_period <= t <= time]
            if scoped:
                # Added one by one, left to right, like the rule's running sums: np.mean's pairwise
                # sum and Python 3.12+'s compensated sum() can differ in the last bit, which matters
                # for exact ties.
                total = 0.0
                for value in scoped:
                    total += value
                means.append(total / len(scoped))
        if len(means) < self.min_samples:
            return "CONTINUE"
        median = statistics.median(means)
        best = self.better(v for _, v in self.results[trial_id])
        return "STOP" if self.better(median, best) != best else "CONTINUE"


@pytest.mark.parametrize("mode", ["min", "max"])
def test_decisions_match_ray_tunes_rule_with_continuous_times(mode):
    rng = random.Random(1)
    rule = MedianStoppingRule(time_attr="time_total_s", metric="m", mode=mode, grace_period=2.0)
    reference = ReferenceMedian(2.0, 3, mode)
    clocks = {f"t{i}": 0.0 for i in range(40)}
    trials = {trial_id: Trial(trial_id, {}, status=TrialStatus.RUNNING) for trial_id in clocks}
    for trial in trials.values():
        rule.on_trial_add(trial)
    while clocks:
        trial_id = rng.choice(sorted(clocks))
        clocks[trial_id] += rng.uniform(0.2, 1.5)
        value = rng.gauss(int(trial_id[1:]) % 7, 1)
        expected = reference.on_result(trial_id, clocks[trial_id], value)
        result = {"m": value, "time_total_s": clocks[trial_id]}
        assert rule.on_trial_result(trials[trial_id], result).value == expected
        if expected == "STOP" or clocks[trial_id] > 12:
            del clocks[trial_id]


def test_a_trial_with_only_nan_results_is_stopped_once_there_is_a_median():
    rule = MedianStoppingRule(time_attr="training_iteration", metric="loss", mode="min", grace_period=1)
    for index in range(3):
        rule.on_trial_add(trial := Trial(f"t{index}", {}))
        rule.on_trial_result(trial, {"loss": 1.0, "training_iteration": 1})
    rule.on_trial_add(diverged := Trial("diverged", {}))
    assert rule.on_trial_result(diverged, {"loss": float("nan"), "training_iteration": 1}) is Decision.STOP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grace_period": -1}, "grace_period must be >= 0"),
        ({"min_samples_required": 0}, "min_samples_required must be >= 1"),
        ({"min_time_slice": -1}, "min_time_slice must be >= 0"),
    ],
)
def test_bad_arguments_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MedianStoppingRule(**kwargs)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_the_iteration_index_decides_as_ray_tunes_rule(mode):
    rng = random.Random(2)
    rule = MedianStoppingRule(time_attr="training_iteration", metric="m", mode=mode, grace_period=2)
    reference = ReferenceMedian(2, 3, mode)
    trials = {f"t{i}": Trial(f"t{i}", {}, status=TrialStatus.RUNNING) for i in range(60)}
    iterations = dict.fromkeys(trials, 0)
    for trial in trials.values():
        rule.on_trial_add(trial)
    while iterations:
        trial_id = rng.choice(sorted(iterations))
        iterations[trial_id] += 1
        value = round(rng.gauss(int(trial_id[1:]) % 5, 1), 1)
        expected = reference.on_result(trial_id, iterations[trial_id], value)
        result = {"m": value, "training_iteration": iterations[trial_id]}
        assert rule.on_trial_result(trials[trial_id], result).value == expected
        if expected == "STOP" or iterations[trial_id] >= 15:
            del iterations[trial_id]


def test_a_trial_restarted_from_a_checkpoint_forgets_the_undone_results():
    rule = MedianStoppingRule(time_attr="training_iteration", metric="loss", mode="min", grace_period=1)
    for index in range(3):
        rule.on_trial_add(trial := Trial(f"t{index}", {}, status=TrialStatus.RUNNING))
        for iteration in (1, 2, 3):
            rule.on_trial_result(trial, {"loss": 1.0, "training_iteration": iteration})
    rule.on_trial_add(restarted := Trial("restarted", {}, status=TrialStatus.RUNNING))
    for iteration in (1, 2, 3):
        rule.on_trial_result(restarted, {"loss": 0.5, "training_iteration": iteration})
    # Resumed from its iteration-1 checkpoint: iterations 2 and 3 are reported again, worse.
    assert rule.on_trial_result(restarted, {"loss": 0.9, "training_iteration": 2}) is Decision.CONTINUE
    assert rule._histories["restarted"].times == [1, 2]
    assert len(rule._means_at[2]) == 4  # one entry per trial at iteration 2, not a duplicate
