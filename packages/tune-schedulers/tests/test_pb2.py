"""PB2: the GP bandit explores where the reward improves most; errors name the bound."""

import random

import pytest

from tune_schedulers import PB2
from tune_schedulers._pb2 import _select
from tune_schedulers.testing import SchedulerConformance


class TestPB2(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return PB2(
            time_attr="training_iteration",
            metric=metric,
            mode=mode,
            perturbation_interval=3,
            hyperparam_bounds={"scale": [0.5, 1.5]},
            seed=0,
        )


def test_the_bandit_picks_where_improvement_was_largest():
    rng = random.Random(0)
    # The reward improved most where the hyperparameter was near 0.8 (in unit coordinates).
    observations = [(t, [u], -((u - 0.8) ** 2)) for t in range(1, 6) for u in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    (chosen,) = _select(observations, now=6.0, pending=[], dimensions=1, uniform=rng.random)
    assert 0.65 < chosen < 0.95


def test_trials_running_elsewhere_push_the_choice_away_from_them():
    observations = [(t, [u], 0.0) for t in range(1, 4) for u in (0.1, 0.5, 0.9)]  # nothing learnt: explore
    alone = _select(observations, 4.0, pending=[], dimensions=1, uniform=random.Random(1).random)[0]
    crowded = _select(observations, 4.0, pending=[[alone]], dimensions=1, uniform=random.Random(1).random)[0]
    assert abs(crowded - alone) > 0.1


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (None, "hyperparam_bounds is required"),
        ({"lr": [1.0]}, r"hyperparam_bounds\['lr'\] must be \[low, high\]"),
        ({"lr": [1.0, 0.1]}, r"hyperparam_bounds\['lr'\] needs finite low < high"),
    ],
)
def test_bad_bounds_are_refused_naming_the_key(bounds, message):
    with pytest.raises(ValueError, match=message):
        PB2(hyperparam_bounds=bounds)
