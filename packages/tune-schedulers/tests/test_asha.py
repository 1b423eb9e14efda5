"""ASHA against a plain transcription of Ray Tune's rule, and the promotion variant's behaviour."""

import math
import random

import pytest

from tune_schedulers import ASHAScheduler, PromotionASHAScheduler, RunningQuantile
from tune_trial import Decision, Trial, TrialStatus


def numpy_percentile(values, percent):
    """``numpy.nanpercentile(values, percent)``, method "linear", step by step in pure Python."""
    finite = sorted(value for value in values if not math.isnan(value))
    if not finite:
        return math.nan
    virtual = (len(finite) - 1) * (percent / 100)
    below = math.floor(virtual)
    if virtual >= len(finite) - 1:
        return finite[-1]
    a, b, gamma = finite[below], finite[below + 1], virtual - below
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


class ReferenceASHA:
    """Ray Tune's AsyncHyperBandScheduler (one bracket), transcribed: a full percentile per decision."""

    def __init__(self, max_t, grace_period, rf, sign):
        count = int(math.log(max_t / grace_period) / math.log(rf) + 1)
        self.rungs = [(grace_period * rf**k, {}) for k in reversed(range(count))]
        self.max_t, self.rf, self.sign = max_t, rf, sign

    def on_result(self, trial_id, time, value):
        if time >= self.max_t:
            return "STOP"
        reward = self.sign * value
        for milestone, recorded in self.rungs:
            if time < milestone or trial_id in recorded:
                continue
            cutoff = numpy_percentile(list(recorded.values()), (1 - 1 / self.rf) * 100) if recorded else None
            recorded[trial_id] = reward
            return "STOP" if cutoff is not None and reward < cutoff else "CONTINUE"
        return "CONTINUE"


@pytest.mark.parametrize("rf", [2, 3, 4])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_decisions_match_ray_tunes_rule_on_random_streams(rf, mode):
    rng = random.Random(rf)
    fast = ASHAScheduler(metric="m", mode=mode, max_t=64, grace_period=1, reduction_factor=rf)
    reference = ReferenceASHA(64, 1, rf, 1 if mode == "max" else -1)
    trials = [Trial(f"t{i}", {}) for i in range(300)]
    for trial in trials:
        fast.on_trial_add(trial)
    live = {trial.trial_id: 0 for trial in trials}
    while live:
        trial_id = rng.choice(sorted(live))
        live[trial_id] += 1
        value = round(rng.gauss(0, 1), 2)  # rounding makes ties, the hard case for a strict comparison
        expected = reference.on_result(trial_id, live[trial_id], value)
        actual = fast.on_trial_result(Trial(trial_id, {}), {"m": value, "training_iteration": live[trial_id]})
        assert actual.value == expected, (trial_id, live[trial_id])
        if expected == "STOP":
            del live[trial_id]


def test_the_running_quantile_is_numpys_linear_percentile():
    rng = random.Random(0)
    for rf in (2, 3, 4, 7):
        quantile = RunningQuantile((1 - 1 / rf) * 100 / 100)
        values = []
        for _ in range(500):
            value = rng.choice([rng.random(), round(rng.random(), 1)])
            quantile.add(value)
            values.append(value)
            assert quantile.value() == numpy_percentile(values, (1 - 1 / rf) * 100)


def test_milestones_are_the_rungs_and_max_t():
    assert ASHAScheduler(max_t=100, grace_period=1, reduction_factor=4).milestones() == {1, 4, 16, 64, 100}
    assert ASHAScheduler(time_attr="time_total_s").milestones() is None  # not counted in reports


def test_non_finite_metrics_are_the_worst_and_stay_out_of_the_cutoff():
    scheduler = ASHAScheduler(metric="loss", mode="min", max_t=10, grace_period=1, reduction_factor=2)
    for index, loss in enumerate([1.0, 2.0]):
        scheduler.on_trial_add(trial := Trial(f"t{index}", {}))
        scheduler.on_trial_result(trial, {"loss": loss, "training_iteration": 1})
    scheduler.on_trial_add(diverged := Trial("diverged", {}))
    assert scheduler.on_trial_result(diverged, {"loss": math.inf, "training_iteration": 1}) is Decision.STOP
    scheduler.on_trial_add(good := Trial("good", {}))
    # The cutoff is the median of 1.0 and 2.0 only: the inf was left out.
    assert scheduler.on_trial_result(good, {"loss": 1.4, "training_iteration": 1}) is Decision.CONTINUE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grace_period": 0}, "grace_period must be > 0"),
        ({"max_t": 5, "grace_period": 10}, r"max_t \(5\) must be >= grace_period \(10\)"),
        ({"reduction_factor": 1}, "reduction_factor must be > 1"),
        ({"brackets": 0}, "brackets must be >= 1"),
        ({"mode": "lowest"}, "mode must be 'min' or 'max'"),
    ],
)
def test_bad_arguments_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ASHAScheduler(**kwargs)


def test_a_missing_time_attribute_is_an_error_naming_the_trial():
    scheduler = ASHAScheduler(metric="loss", mode="min", time_attr="epoch")
    scheduler.on_trial_add(trial := Trial("t3", {}))
    with pytest.raises(ValueError, match=r"trial t3 reported a result without 'epoch'"):
        scheduler.on_trial_result(trial, {"loss": 1.0, "training_iteration": 1})


def test_a_missing_mode_is_an_error_saying_where_to_set_it():
    scheduler = ASHAScheduler(metric="loss")
    scheduler.on_trial_add(trial := Trial("t0", {}))
    with pytest.raises(ValueError, match=r"needs mode 'min' or 'max'.*TuneConfig"):
        scheduler.on_trial_result(trial, {"loss": 1.0, "training_iteration": 1})


def _start(scheduler, candidates):
    chosen = scheduler.choose_trial_to_run(candidates)
    chosen.set_status(TrialStatus.RUNNING)
    return chosen


def test_promotion_pauses_at_rungs_and_resumes_the_best_when_it_ranks_high_enough():
    scheduler = PromotionASHAScheduler(metric="loss", mode="min", max_t=9, grace_period=1, reduction_factor=3)
    trials = [Trial(f"t{i}", {}) for i in range(3)]
    for trial, loss in zip(trials, [0.5, 0.1, 0.9], strict=True):
        scheduler.on_trial_add(trial)
        assert _start(scheduler, [trial]) is trial
        assert scheduler.on_trial_result(trial, {"loss": loss, "training_iteration": 1}) is Decision.PAUSE
        trial.set_status(TrialStatus.PAUSED)
    newcomer = Trial("t3", {})
    scheduler.on_trial_add(newcomer)
    # Three results in rung 1: the top third (one trial) may go on, and the best is t1.
    assert _start(scheduler, [*trials, newcomer]) is trials[1]
    assert scheduler.on_trial_result(trials[1], {"loss": 0.1, "training_iteration": 2}) is Decision.CONTINUE
    # No other paused trial ranks in the top third now: the new trial starts instead.
    assert _start(scheduler, [trials[0], trials[2], newcomer]) is newcomer
    assert scheduler.on_trial_result(trials[1], {"loss": 0.1, "training_iteration": 3}) is Decision.PAUSE
    assert scheduler.on_trial_result(trials[1], {"loss": 0.1, "training_iteration": 9}) is Decision.STOP
