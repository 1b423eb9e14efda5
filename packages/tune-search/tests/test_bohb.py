"""TuneBOHB: conformance, per-budget models, settings and state."""

import json
import math

import numpy as np
import pytest

from tune_search import RandomSearch, TuneBOHB, choice, loguniform, uniform
from tune_search._parzen import ParzenEstimator
from tune_search.testing import SearcherConformance


class TestTuneBOHB(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return TuneBOHB(seed=seed)


SPACE = {"x": uniform(0, 1), "y": uniform(0, 1), "lr": loguniform(1e-4, 1), "act": choice(["a", "b", "c"])}


def _loss(config, budget=9):
    return (
        (config["x"] - 0.3) ** 2
        + (config["y"] - 0.7) ** 2
        + (math.log10(config["lr"]) + 2) ** 2 / 9
        + (config["act"] != "b") * 0.3
        + 1 / budget
    )


def _run(searcher, count=60, start=0):
    best = math.inf
    for index in range(start, start + count):
        trial_id = f"t{index}"
        config = searcher.suggest(trial_id)
        for budget in (1, 3, 9) if index % 3 == 0 else (1,):  # like HyperBand: few trials reach 9
            searcher.on_trial_result(trial_id, {"loss": _loss(config, budget), "training_iteration": budget})
        best = min(best, _loss(config))
        searcher.on_trial_complete(trial_id, {"loss": _loss(config, budget), "training_iteration": budget})
    return best


def test_it_finds_better_configs_than_random_search():
    seeds = range(3)
    bohb = [_run(TuneBOHB(SPACE, metric="loss", mode="min", seed=seed)) for seed in seeds]
    random = [_run(RandomSearch(SPACE, "loss", "min", seed=seed)) for seed in seeds]
    assert np.median(bohb) < np.median(random)


def test_the_model_uses_the_largest_budget_with_enough_results():
    searcher = TuneBOHB(SPACE, metric="loss", mode="min", seed=0)
    _run(searcher, 15)  # 15 results at budget 1, 5 at budgets 3 and 9: not more than 4 parameters + 1
    assert len(searcher._model_budget(4)) == 15
    _run(searcher, 3, start=15)
    assert len(searcher._model_budget(4)) == 6  # now budget 9 has more than 5


def test_settings_are_checked_by_name():
    with pytest.raises(ValueError, match=r"unknown bohb_config keys \['top_n'\]"):
        TuneBOHB(bohb_config={"top_n": 10})
    with pytest.raises(ValueError, match=r"random_fraction=2 is out of range"):
        TuneBOHB(bohb_config={"random_fraction": 2})


def test_max_concurrent_asks_to_wait_and_state_round_trips():
    searcher = TuneBOHB(SPACE, metric="score", mode="max", seed=1, max_concurrent=2)
    assert isinstance(searcher.suggest("a"), dict)
    assert isinstance(searcher.suggest("b"), dict)
    assert searcher.suggest("c") is None
    searcher.on_trial_result("a", {"score": float("nan"), "training_iteration": 1})
    searcher.on_trial_complete("a", {"score": 1.0, "training_iteration": 2})
    state = json.loads(json.dumps(searcher.get_state()))
    restored = TuneBOHB(SPACE, metric="score", mode="max", seed=1, max_concurrent=2)
    restored.set_state(state)
    assert restored.get_state() == state
    assert restored._budgets[1.0]["a"][1] == math.inf  # a NaN result is the worst, never the best
    assert restored._budgets[2.0]["a"][1] == -1.0  # maximised: stored as a loss
    assert restored.suggest("d") == searcher.suggest("d")


def test_failed_trials_never_enter_the_good_model(monkeypatch):
    """Most results at the model's budget failed (NaN): the good set holds finite ones only."""
    presets = [{"x": x} for x in np.linspace(0.0, 0.29, 10)] + [{"x": x} for x in np.linspace(0.55, 0.65, 80)]
    searcher = TuneBOHB(
        {"x": uniform(0, 1)},
        metric="acc",
        mode="max",
        seed=0,
        bohb_config={"random_fraction": 0.0},
        points_to_evaluate=presets,
    )
    for index in range(len(presets)):
        config = searcher.suggest(f"t{index}")
        accuracy = 1 - config["x"] if config["x"] < 0.5 else math.nan  # the right half diverges
        searcher.on_trial_complete(f"t{index}", {"acc": accuracy, "training_iteration": 1})
    fitted = []
    fit = ParzenEstimator.fit.__func__
    monkeypatch.setattr(
        ParzenEstimator,
        "fit",
        classmethod(lambda cls, points, *a, **k: fitted.append(points) or fit(cls, points, *a, **k)),
    )
    searcher.suggest("next")
    good = fitted[0][:, 0]
    assert len(good) >= 2  # min_points_in_model: one parameter + 1
    assert (good < 0.5).all(), "a failed trial's point is in the good model"


def test_a_result_without_its_budget_is_refused_naming_the_trial():
    searcher = TuneBOHB({"x": uniform(0, 1)}, metric="loss", mode="min", seed=0)
    trial_id, _ = searcher.ask()
    with pytest.raises(ValueError, match=r"trial 'ask_00000' has no number for 'training_iteration'"):
        searcher.tell(trial_id, 0.5)
    searcher.on_trial_result(trial_id, {"other_metric": 1.0})  # without the metric: nothing to learn, no error
