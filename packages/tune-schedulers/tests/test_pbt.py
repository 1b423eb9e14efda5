"""PopulationBasedTraining: who exploits whom, and how configs are explored."""

import math
import random

import pytest

from tune_schedulers import PopulationBasedTraining
from tune_schedulers._pbt import _explore
from tune_trial import Decision, Exploit, Trial


class Unit:
    """Stands for a tune_search domain: anything with ``from_unit``."""

    def from_unit(self, u):
        return round(u, 6)


def _population(scheduler, scores, time=10):
    trials = [Trial(f"t{i}", {"lr": 0.1 * (i + 1), "batch": 32}) for i in range(len(scores))]
    decisions = []
    for trial in trials:
        scheduler.on_trial_add(trial)
    for trial, score in zip(trials, scores, strict=True):
        decisions.append(scheduler.on_trial_result(trial, {"acc": score, "training_iteration": time}))
    return trials, decisions


def _pbt(**kwargs):
    arguments = {
        "time_attr": "training_iteration",
        "metric": "acc",
        "mode": "max",
        "perturbation_interval": 5,
        "hyperparam_mutations": {"lr": Unit(), "batch": [16, 32, 64]},
        "seed": 0,
    }
    return PopulationBasedTraining(**{**arguments, **kwargs})


def test_the_bottom_quantile_exploits_the_top_with_an_explored_config():
    scheduler = _pbt(quantile_fraction=0.25)
    # Reports arrive best first, so each later, worse trial is ranked in the bottom quarter.
    _trials, decisions = _population(scheduler, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    exploits = [decision for decision in decisions if isinstance(decision, Exploit)]
    assert exploits
    for decision in exploits:
        assert decision.source_trial_id in {"t0", "t1"}  # the top quarter of those ranked so far
        assert decision.config["batch"] in (16, 32, 64)
    assert decisions[0] is Decision.CONTINUE  # alone, the first trial has nobody to exploit


def test_no_decision_before_the_interval_or_the_burn_in():
    scheduler = _pbt(burn_in_period=20)
    _, decisions = _population(scheduler, [0.9, 0.1, 0.1, 0.1], time=10)
    assert decisions == [Decision.CONTINUE] * 4


def test_a_nan_score_counts_as_the_bottom():
    scheduler = _pbt()
    _population(scheduler, [0.9, 0.8, 0.7])
    diverged = Trial("diverged", {"lr": 1.0, "batch": 32})
    scheduler.on_trial_add(diverged)
    decision = scheduler.on_trial_result(diverged, {"acc": math.nan, "training_iteration": 10})
    assert isinstance(decision, Exploit)


def test_explore_follows_ray_tunes_rules():
    rng = random.Random(0)
    config = {"lr": 1.0, "depth": 4, "opt": "adam", "nested": {"m": 0.5}}
    mutations = {"lr": Unit(), "depth": lambda: 7, "opt": ["sgd", "adam", "rmsprop"], "nested": {"m": [0.5, 0.9]}}
    seen = {"lr": set(), "depth": set(), "opt": set(), "m": set()}
    for _ in range(200):
        explored = _explore(config, mutations, rng, 0.25, (1.2, 0.8))
        seen["lr"].add(explored["lr"])
        seen["depth"].add(explored["depth"])
        seen["opt"].add(explored["opt"])
        seen["m"].add(explored["nested"]["m"])
    assert {1.2, 0.8} <= seen["lr"]  # perturbed by a factor, or resampled from the domain
    assert seen["depth"] == {3, 4, 7}  # int(4 * 0.8), int(4 * 1.2), or a new sample
    assert seen["opt"] == {"sgd", "adam", "rmsprop"}  # neighbours, or resampled
    assert seen["m"] == {0.5, 0.9}
    assert config["lr"] == 1.0  # the source config is left as it was


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hyperparam_mutations": None}, "give hyperparam_mutations, custom_explore_fn, or both"),
        ({"hyperparam_mutations": {"lr": 0.5}}, r"hyperparam_mutations\['lr'\]: float is not a mutation spec"),
        ({"hyperparam_mutations": {"opt": []}}, r"hyperparam_mutations\['opt'\]: an empty list"),
        ({"quantile_fraction": 0.6}, "quantile_fraction must be in"),
        ({"perturbation_interval": 0}, "perturbation_interval must be > 0"),
        ({"resample_probability": 2}, "resample_probability must be in"),
    ],
)
def test_bad_arguments_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _pbt(**kwargs)


def test_custom_explore_fn_must_return_a_config():
    scheduler = _pbt(custom_explore_fn=lambda config: None)
    with pytest.raises(ValueError, match="custom_explore_fn returned None"):
        _population(scheduler, [0.9, 0.1])


def test_synchronous_pbt_waits_for_everyone_then_the_bottom_exploits_at_once():
    scheduler = _pbt(synch=True, quantile_fraction=0.5)
    trials = [Trial(f"t{i}", {"lr": 0.1, "batch": 32}) for i in range(4)]
    for trial in trials:
        scheduler.on_trial_add(trial)
    decisions = [
        scheduler.on_trial_result(trial, {"acc": acc, "training_iteration": 5})
        for trial, acc in zip(trials, [0.1, 0.9, 0.8, 0.2], strict=True)
    ]
    assert decisions[:3] == [Decision.PAUSE] * 3  # waiting for the fourth
    assert isinstance(decisions[3], Exploit)  # the last to arrive is in the bottom half: it exploits
    others = scheduler.pop_decisions()
    assert [(trial_id, type(decision)) for trial_id, decision in others] == [("t0", Exploit)]
    assert {decisions[3].source_trial_id, others[0][1].source_trial_id} <= {"t1", "t2"}
    assert scheduler.pop_decisions() == []
    # All are short of the next synchronisation point (10) now: any may run, least progress first.
    assert scheduler.choose_trial_to_run(trials) is trials[0]
    scheduler.on_trial_result(trials[1], {"acc": 0.9, "training_iteration": 10})
    assert scheduler.choose_trial_to_run([trials[1]]) is None  # it reached the next point: it waits
