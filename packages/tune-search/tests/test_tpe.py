"""TPESearch: conformance, learning, conditional spaces, parallel trials and bad input."""

import json
import math

import numpy as np
import pytest

from tune_search import (
    RandomSearch,
    TPESearch,
    choice,
    grid_search,
    lograndint,
    loguniform,
    qrandint,
    randint,
    uniform,
)
from tune_search.testing import SearcherConformance


class TestTPESearch(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return TPESearch(seed=seed, n_startup_trials=8)


class TestIndependentTPESearch(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return TPESearch(seed=seed, n_startup_trials=8, multivariate=False)


def _quadratic(config):
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.7) ** 2 + (math.log10(config["lr"]) + 2) ** 2 / 9


SPACE = {"x": uniform(0, 1), "y": uniform(0, 1), "lr": loguniform(1e-4, 1)}


def _best(searcher, count=60, loss=_quadratic):
    best = math.inf
    for index in range(count):
        config = searcher.suggest(f"t{index}")
        value = loss(config)
        best = min(best, value)
        searcher.on_trial_complete(f"t{index}", {"loss": value})
    return best


@pytest.mark.parametrize("multivariate", [True, False])
def test_it_finds_better_configs_than_random_search(multivariate):
    seeds = range(3)
    tpe = [_best(TPESearch(SPACE, "loss", "min", seed=seed, multivariate=multivariate)) for seed in seeds]
    random = [_best(RandomSearch(SPACE, "loss", "min", seed=seed)) for seed in seeds]
    assert np.median(tpe) < np.median(random) / 3


def test_mode_max_maximises():
    def run(mode, sign):
        searcher = TPESearch(SPACE, "score", mode, seed=0)
        configs = []
        for index in range(60):
            configs.append(searcher.suggest(f"t{index}"))
            searcher.on_trial_complete(f"t{index}", {"score": sign * _quadratic(configs[-1])})
        return configs

    maximised = run("max", -1.0)
    assert maximised == run("min", 1.0)  # maximising -f is minimising f, suggestion by suggestion
    assert max(-_quadratic(config) for config in maximised) > -0.05


def test_it_learns_which_category_of_a_conditional_space_is_better():
    space = {
        "opt": choice(
            [
                {"name": "sgd", "lr": loguniform(1e-4, 1e-1), "momentum": uniform(0, 1)},
                {"name": "adam", "lr": loguniform(1e-5, 1e-2)},
            ]
        ),
        "width": randint(1, 9),
    }

    def loss(config):
        opt = config["opt"]
        if opt["name"] == "sgd":
            return 1.0 + abs(opt["momentum"] - 0.9)
        return abs(math.log10(opt["lr"]) + 3) + abs(config["width"] - 4) / 10

    searcher = TPESearch(space, "loss", "min", seed=1)
    configs = []
    for index in range(80):
        config = searcher.suggest(f"t{index}")
        assert set(config["opt"]) == ({"name", "lr", "momentum"} if config["opt"]["name"] == "sgd" else {"name", "lr"})
        configs.append(config)
        searcher.on_trial_complete(f"t{index}", {"loss": loss(config)})
    late = configs[-30:]
    assert sum(config["opt"]["name"] == "adam" for config in late) >= 24
    assert min(loss(config) for config in late) < 0.2


def test_pending_trials_get_different_suggestions():
    searcher = TPESearch(SPACE, "loss", "min", seed=2, n_startup_trials=10)
    _best(searcher, 20)
    batch = [searcher.suggest(f"p{index}") for index in range(8)]
    xs = sorted(config["x"] for config in batch)
    assert len(set(xs)) == 8
    assert max(xs) - min(xs) > 0.02  # spread out, not the same point 8 times


def test_nan_and_failed_trials_are_never_the_best():
    searcher = TPESearch({"x": uniform(0, 1)}, "loss", "min", seed=3, n_startup_trials=4)
    xs = []
    for index in range(40):
        config = searcher.suggest(f"t{index}")
        xs.append(config["x"])
        if config["x"] < 0.2:  # a loss of -inf or NaN would be "best" if it were believed
            searcher.on_trial_complete(f"t{index}", {"loss": -math.inf if index % 2 else math.nan})
        elif config["x"] < 0.3:
            searcher.on_trial_complete(f"t{index}", error=True)
        else:
            searcher.on_trial_complete(f"t{index}", {"loss": config["x"]})
    state = searcher.get_state()
    assert None in [loss for _, loss in state["finished"]]  # failures are stored as the worst
    assert json.loads(json.dumps(state)) == state
    below, _, _ = searcher._split()
    assert below.min() >= 0.3  # the model's "good" trials are real ones
    assert sum(0.3 <= x < 0.5 for x in xs[-15:]) >= 6  # near the true best more often than chance (3)


def test_it_goes_on_suggesting_when_every_finished_trial_failed():
    """The good set is empty then: the prior is all its model has."""
    searcher = TPESearch({"x": uniform(0, 1), "k": choice("ab")}, "loss", "min", seed=0, n_startup_trials=2)
    for index in range(12):
        config = searcher.suggest(f"t{index}")
        assert 0 <= config["x"] < 1
        assert config["k"] in ("a", "b")
        searcher.on_trial_complete(f"t{index}", {"loss": math.nan} if index % 2 else None, error=not index % 2)
    below, _, above = searcher._split()
    assert len(below) == 0
    assert len(above) == 12


def test_points_to_evaluate_come_first_and_are_checked():
    points = [{"x": 0.5, "y": 0.5, "lr": 0.01}, {"x": 0.25}]
    searcher = TPESearch(SPACE, "loss", "min", points_to_evaluate=points, seed=0)
    first, second = searcher.suggest("a"), searcher.suggest("b")
    assert first == points[0]
    assert second["x"] == 0.25
    with pytest.raises(ValueError, match=r"points_to_evaluate\[1\]: lr: 5.0 is outside \[0.0001, 1\]"):
        TPESearch(SPACE, "loss", "min", points_to_evaluate=[{"x": 0.1}, {"lr": 5}])


def test_grid_search_is_refused_naming_the_parameter_and_who_can():
    with pytest.raises(ValueError, match=r"layers: TPESearch does not support grid_search; use BasicVariantGenerator"):
        TPESearch({"layers": grid_search([1, 2]), "x": uniform(0, 1)}, "loss", "min")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_startup_trials": -1}, "n_startup_trials must be an integer >= 0"),
        ({"n_ei_candidates": 0}, "n_ei_candidates must be an integer >= 1"),
        ({"prior_weight": -1.0}, "prior_weight must be > 0"),
        ({"prior_weight": 0.0}, "prior_weight must be > 0"),
        ({"prior_weight": math.inf}, "prior_weight must be > 0"),
        ({"pending_penalty": math.nan}, "pending_penalty must be >= 0"),
        ({"pending_penalty": "wide"}, "pending_penalty must be >= 0"),
        ({"max_above": 0}, "max_above must be an integer >= 1"),
        ({"rank_weights": "yes"}, "rank_weights must be True or False"),
    ],
)
def test_bad_settings_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        TPESearch(**arguments)


def test_the_above_set_is_capped_at_the_most_recent_trials():
    searcher = TPESearch({"x": uniform(0, 1)}, "loss", "min", seed=0, max_above=50, n_startup_trials=300)
    _best(searcher, 300, loss=lambda config: config["x"])
    below, below_losses, above = searcher._split()
    assert len(below) == len(below_losses) == 25
    assert len(above) == 50
    np.testing.assert_array_equal(below_losses, below[:, 0])  # each good trial with its own loss


def test_rank_weights_lean_on_the_best_and_keep_the_priors_share():
    from tune_search._tpe import rank_weights

    weights = rank_weights(np.array([0.3, 0.1, 0.2, 0.1]))
    np.testing.assert_allclose(weights / weights[1], [1 / 4, 1, 1 / 3, 1 / 2])  # ties: first come first
    assert weights.mean() == pytest.approx(1.0)
    assert rank_weights(np.empty(0)).shape == (0,)


def test_the_good_model_weights_its_trials_by_rank(monkeypatch):
    from tune_search import _tpe

    fitted = []
    fit = _tpe.ParzenEstimator.fit

    def spy(points, levels, categorical, weights=None, **options):
        fitted.append((points, weights))
        return fit(points, levels, categorical, weights=weights, **options)

    def good_model(**settings):
        searcher = TPESearch({"x": uniform(0, 1)}, "loss", "min", seed=0, n_startup_trials=30, **settings)
        _best(searcher, 30, loss=lambda config: config["x"])
        fitted.clear()
        searcher.suggest("next")
        return fitted[0]  # the good model is fitted first

    monkeypatch.setattr(_tpe.ParzenEstimator, "fit", spy)
    points, weights = good_model()
    assert len(points) == 3  # gamma(30)
    order = np.argsort(points[:, 0])  # the loss is x: the smallest x is the best trial
    np.testing.assert_allclose(weights[order], np.array([1, 1 / 2, 1 / 3]) * 3 / (1 + 1 / 2 + 1 / 3))
    assert good_model(rank_weights=False)[1] is None  # equal weights


def test_ordinal_kernels_are_distributions_over_the_levels():
    from tune_search._encoding import level_codes
    from tune_search._parzen import ParzenEstimator

    codes = level_codes(lograndint(1, 30))  # cells of unequal widths
    assert codes is not None
    observed = codes[[3] * 30 + [20]][:, None]
    model = ParzenEstimator.fit(observed, np.array([0]), np.array([False]), codes=[codes])
    masses = np.exp(model.log_pdf(codes[:, None]))
    assert math.isclose(masses.sum(), 1.0, rel_tol=1e-9)
    assert np.argmax(masses) == 3
    assert masses[3] > 0.5
    draws = model.sample(np.random.default_rng(0), 500)[:, 0]
    assert np.isin(draws, codes).all()
    assert np.mean(draws == codes[3]) > 0.5


def _table_loss(config):
    return abs(config["a"] - 3) + abs(config["b"] - 6) + (config["c"] != "z")


TABLE = {"a": randint(0, 10), "b": qrandint(0, 18, 2), "c": choice(["x", "y", "z"])}


def _suggest(searcher, start, count, loss=_table_loss):
    configs = []
    for index in range(start, start + count):
        config = searcher.suggest(f"t{index}")
        configs.append(tuple(config.values()))
        searcher.on_trial_complete(f"t{index}", {"loss": loss(config)})
    return configs


def test_in_a_discrete_space_it_does_not_propose_a_config_twice():
    searcher = TPESearch(TABLE, "loss", "min", seed=0, n_startup_trials=10)
    configs = _suggest(searcher, 0, 10)
    configs += _suggest(searcher, 10, 60)
    assert len(set(configs[10:])) == 60
    assert not set(configs[10:]) & set(configs[:10])
    # the same after a round trip through JSON (the record of what was tried is rebuilt)
    restored = TPESearch(TABLE, "loss", "min", seed=0)
    restored.set_state(json.loads(json.dumps(searcher.get_state())))
    assert not set(_suggest(restored, 70, 20)) & set(configs)
    # without the rule (independent TPE), the good configs come back
    independent = TPESearch(TABLE, "loss", "min", seed=0, multivariate=False)
    assert len(set(_suggest(independent, 0, 70))) < 60


def test_a_running_config_is_not_proposed_again():
    searcher = TPESearch(TABLE, "loss", "min", seed=1)
    _suggest(searcher, 0, 30)
    running = [tuple(searcher.suggest(f"r{index}").values()) for index in range(20)]
    assert len(set(running)) == 20


def test_when_every_config_was_tried_it_repeats_one():
    searcher = TPESearch({"a": randint(0, 2), "b": choice(["x", "y"])}, "loss", "min", seed=0, n_startup_trials=2)
    configs = _suggest(searcher, 0, 12, loss=lambda config: config["a"] + (config["b"] == "x"))
    assert len(set(configs)) == 4


def _batch(searcher, count=8):
    return [searcher.suggest(f"p{index}") for index in range(count)]


@pytest.mark.parametrize("settings", [{"pending_penalty": 0.0}, {"constant_liar": True}, {"pending_penalty": 1.0}])
def test_batch_settings_change_nothing_when_no_trial_is_in_flight(settings):
    space = {**SPACE, "opt": choice(["adam", "sgd", "rmsprop"])}

    def configs(searcher):
        seen = []
        for index in range(40):
            config = searcher.suggest(f"t{index}")
            seen.append(config)
            searcher.on_trial_complete(f"t{index}", {"loss": _quadratic(config) + (config["opt"] == "sgd")})
        return seen

    assert configs(TPESearch(space, "loss", "min", seed=4, **settings)) == configs(
        TPESearch(space, "loss", "min", seed=4)
    )


def test_a_batch_never_repeats_a_running_config_in_a_small_categorical_space():
    space = {"a": choice(["x", "y", "z"]), "b": choice([1, 2, 3]), "c": choice(["u", "v"])}

    def loss(config):
        return (config["a"] != "x") + (config["b"] != 2) + 0.5 * (config["c"] != "u")

    searcher = TPESearch(space, "loss", "min", seed=0)
    _best(searcher, 30, loss=loss)  # the model now favours one config, which the batch gets once
    batch = _batch(searcher)
    assert len({tuple(config.values()) for config in batch}) == 8
    assert {"a": "x", "b": 2, "c": "u"} in batch


def test_the_startup_ends_once_its_trials_are_suggested_and_one_has_finished():
    def fifth(n_startup_trials, told):
        searcher = TPESearch(SPACE, "loss", "min", seed=5, n_startup_trials=n_startup_trials)
        batch = _batch(searcher, 4)
        for index in range(told):
            searcher.on_trial_complete(f"p{index}", {"loss": _quadratic(batch[index])})
        return searcher.suggest("fifth")

    random_fifth = fifth(n_startup_trials=100, told=1)
    assert fifth(n_startup_trials=4, told=0) == random_fifth  # nothing finished: still random
    assert fifth(n_startup_trials=4, told=1) != random_fifth  # the model, while three still run


def test_the_penalty_is_no_finer_than_one_level_in_ordinal_coordinates():
    from tune_search._encoding import level_codes
    from tune_search._parzen import ParzenEstimator
    from tune_search._tpe_batch import pending_log_penalty

    codes = level_codes(randint(0, 5))  # five levels, 0.2 apart in the unit interval
    assert codes is not None
    observed = np.repeat(codes[[1, 2, 3]], 10)[:, None]  # narrow kernels: the bandwidth floor, 1/32
    running = codes[[2]][:, None]
    candidates = codes[[1, 2, 4]][:, None]  # a neighbour, a copy, two levels away
    ordinal = ParzenEstimator.fit(observed, np.array([0]), np.array([False]), codes=[codes])
    continuous = ParzenEstimator.fit(observed, np.array([0]), np.array([False]))
    by_level = pending_log_penalty(candidates, running, ordinal, scale=0.25)
    by_value = pending_log_penalty(candidates, running, continuous, scale=0.25)
    assert by_level[1] == by_value[1] < -20  # a copy is out either way
    assert by_level[0] < math.log(0.5)  # the neighbouring level is discounted...
    assert by_value[0] > -1e-6  # ...where a continuous value that far away is not
    assert by_level[0] < by_level[2] < 0
