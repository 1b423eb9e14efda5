"""OptunaSearch: tune's spaces, Optuna's own spaces, multi-objective, state, bad input."""

import json
import math
import sys

import optuna
import pytest

from tune_search import (
    OptunaSearch,
    choice,
    lograndint,
    loguniform,
    qloguniform,
    qrandint,
    randint,
    randn,
    sample_from,
    uniform,
)
from tune_search.testing import SearcherConformance

optuna.logging.set_verbosity(optuna.logging.WARNING)


class TestOptunaSearch(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return OptunaSearch(seed=seed)


class TestOptunaSearchWithNSGAII(SearcherConformance):
    """A genetic sampler that keeps its generations in the trials' system attributes."""

    samples_uniformly = False

    def make_searcher(self, seed):
        return OptunaSearch(sampler=optuna.samplers.NSGAIISampler(population_size=8, seed=seed))


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
class TestOptunaSearchWithQMC(SearcherConformance):
    def make_searcher(self, seed):
        return OptunaSearch(sampler=optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False))


def _complete(searcher, trial_id, loss):
    searcher.on_trial_complete(trial_id, {"loss": loss})


def test_each_domain_becomes_its_optuna_distribution():
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "x": uniform(-1, 1),
        "units": randint(1, 9),
        "log_units": lograndint(1, 1024),
        "step": qrandint(8, 64, 8),
        "act": choice(["relu", {"name": "gelu"}]),
        "noise": randn(0, 1),
        "decay": qloguniform(1e-4, 1e-1, 1e-4),
    }
    searcher = OptunaSearch(space, metric="loss", mode="min", seed=0)
    config = searcher.suggest("t0")
    distributions = searcher.study.trials[0].distributions
    assert distributions["lr"] == optuna.distributions.FloatDistribution(1e-4, math.nextafter(1e-1, 0), log=True)
    assert distributions["units"] == optuna.distributions.IntDistribution(1, 8)
    assert distributions["log_units"] == optuna.distributions.IntDistribution(1, 1023, log=True)
    assert distributions["step"] == optuna.distributions.IntDistribution(8, 64, step=8)
    assert distributions["act"] == optuna.distributions.CategoricalDistribution([0, 1])
    # no normal distribution and no step on a log scale in Optuna: searched on the unit quantile
    assert distributions["noise"] == optuna.distributions.FloatDistribution(0.0, 1.0)
    assert distributions["decay"] == optuna.distributions.FloatDistribution(0.0, 1.0)
    assert config["act"] in ("relu", {"name": "gelu"})
    assert math.isclose(config["decay"] / 1e-4, round(config["decay"] / 1e-4))


def test_a_conditional_tune_space_suggests_only_the_chosen_categorys_parameters():
    space = {
        "optimizer": choice(
            [
                {"name": "sgd", "lr": loguniform(1e-4, 1e-1), "momentum": uniform(0, 1)},
                {"name": "adam", "lr": loguniform(1e-5, 1e-2)},
            ]
        ),
        "epochs": 3,
    }
    point = {"optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}}
    searcher = OptunaSearch(space, metric="loss", mode="min", seed=0, points_to_evaluate=[point])
    assert searcher.suggest("t0") == {**point, "epochs": 3}
    _complete(searcher, "t0", 1.0)
    for index in range(1, 16):
        optimizer = searcher.suggest(f"t{index}")["optimizer"]
        assert set(optimizer) == ({"name", "lr", "momentum"} if optimizer["name"] == "sgd" else {"name", "lr"})
        _complete(searcher, f"t{index}", optimizer["lr"])
        params = searcher.study.trials[index].params
        expected = (
            {"optimizer", "optimizer[0].lr", "optimizer[0].momentum"}
            if optimizer["name"] == "sgd"
            else {"optimizer", "optimizer[1].lr"}
        )
        assert set(params) == expected  # Optuna sees the conditional space as it is
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: no value for \['optimizer\[0\].momentum'\]"):
        OptunaSearch(
            space,
            metric="loss",
            mode="min",
            points_to_evaluate=[{"optimizer": {"name": "sgd", "lr": 0.01}}],
            evaluated_rewards=[1.0],
        )


def test_points_to_evaluate_come_first_and_are_checked():
    space = {"model": {"act": choice(["relu", "tanh"]), "noise": randn(0, 1)}, "x": uniform(0, 1), "epochs": 3}
    points = [{"model": {"act": "tanh", "noise": 0.5}, "x": 0.25}, {"x": 0.75}]
    searcher = OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=points, seed=0)
    first = searcher.suggest("t0")
    assert first["model"]["act"] == "tanh"
    assert math.isclose(first["model"]["noise"], 0.5)
    assert first["x"] == 0.25
    assert first["epochs"] == 3
    assert searcher.suggest("t1")["x"] == 0.75  # the rest of a partial point is sampled
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: model\.act: 'sigmoid' is not one of"):
        OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=[{"model": {"act": "sigmoid"}}])
    with pytest.raises(ValueError, match=r"points_to_evaluate\[1\]: x: 2.0 is outside"):
        OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=[{"x": 0.5}, {"x": 2.0}])
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: model\.width is not a parameter"):
        OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=[{"model": {"width": 3}}])


def test_evaluated_rewards_are_told_not_run():
    space = {"x": uniform(0, 1), "act": choice(["relu", "tanh"])}
    points = [{"x": 0.1, "act": "relu"}, {"x": 0.9, "act": "tanh"}]
    searcher = OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=points, evaluated_rewards=[1.0, 2.0])
    trials = searcher.study.trials
    assert [trial.state for trial in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert [trial.value for trial in trials] == [1.0, 2.0]
    assert searcher.suggest("t0") not in points
    with pytest.raises(ValueError, match="evaluated_rewards has 1 entries for 2 points_to_evaluate"):
        OptunaSearch(space, metric="loss", mode="min", points_to_evaluate=points, evaluated_rewards=[1.0])
    with pytest.raises(ValueError, match="define-by-run"):
        OptunaSearch(lambda trial: None, points_to_evaluate=points, evaluated_rewards=[1.0, 2.0])


def test_a_define_by_run_space_as_in_ray_tune():
    def space(trial):
        activation = trial.suggest_categorical("activation", ["relu", "tanh"])
        if activation == "relu":
            trial.suggest_float("model/width", 1, 10, log=True)
        return {"epochs": 5}

    searcher = OptunaSearch(space, metric="loss", mode="min", seed=1, points_to_evaluate=[{"activation": "relu"}])
    first = searcher.suggest("t0")
    assert first["activation"] == "relu"
    assert 1 <= first["model"]["width"] <= 10
    assert first["epochs"] == 5
    _complete(searcher, "t0", 1.0)
    for index in range(1, 20):
        config = searcher.suggest(f"t{index}")
        assert ("model" in config) == (config["activation"] == "relu")
        _complete(searcher, f"t{index}", 0.0 if config["activation"] == "tanh" else 1.0)
    # the same space handed to the Tuner as well is refused as a second space
    assert not searcher.set_search_properties("loss", "min", {"x": uniform(0, 1)})
    assert searcher.set_search_properties("loss", "min", {})


def test_a_define_by_run_function_returning_something_else_fails_its_trial():
    searcher = OptunaSearch(lambda trial: [trial.suggest_float("x", 0, 1)], metric="loss", mode="min")
    with pytest.raises(TypeError, match="must return a dict of constants or None, got list"):
        searcher.suggest("t0")
    assert searcher.study.trials[0].state == optuna.trial.TrialState.FAIL


def test_a_dict_of_optuna_distributions():
    space = {
        "x": optuna.distributions.FloatDistribution(0, 1),
        "opt/name": optuna.distributions.CategoricalDistribution(["sgd", "adam"]),
    }
    searcher = OptunaSearch(
        space, metric="loss", mode="max", seed=0, points_to_evaluate=[{"x": 0.5, "opt/name": "adam"}]
    )
    assert searcher.suggest("t0") == {"x": 0.5, "opt": {"name": "adam"}}
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: \['y'\] are not parameters of the space"):
        OptunaSearch(space, metric="loss", mode="max", points_to_evaluate=[{"y": 0.5}])
    with pytest.raises(ValueError, match="b: a space of Optuna distributions must hold only distributions"):
        OptunaSearch({"a": optuna.distributions.FloatDistribution(0, 1), "b": 3})


def test_multi_objective_search():
    space = {"x": uniform(0, 1)}
    searcher = OptunaSearch(space, metric=["loss", "cost"], mode=["min", "max"], seed=0)
    assert searcher.study.directions == [optuna.study.StudyDirection.MINIMIZE, optuna.study.StudyDirection.MAXIMIZE]
    for index in range(12):
        config = searcher.suggest(f"t{index}")
        searcher.on_trial_complete(f"t{index}", {"loss": config["x"], "cost": config["x"] ** 2})
    assert all(trial.values == [trial.params["x"], trial.params["x"] ** 2] for trial in searcher.study.trials)
    state = json.loads(json.dumps(searcher.get_state()))
    restored = OptunaSearch(space, metric=["loss", "cost"], mode=["min", "max"])
    restored.set_state(state)
    assert restored.suggest("t12") == searcher.suggest("t12")
    with pytest.raises(ValueError, match="give one mode per metric"):
        OptunaSearch(metric=["loss", "cost"], mode=["min"])
    with pytest.raises(ValueError, match="mode for 'cost' must be 'min' or 'max'"):
        OptunaSearch(metric=["loss", "cost"], mode=["min", "best"])


def test_failures_and_non_finite_results_are_failed_trials():
    searcher = OptunaSearch({"x": uniform(0, 1)}, metric="loss", mode="min", seed=0)
    outcomes = [
        ({"loss": float("nan")}, False),
        ({"loss": float("inf")}, False),
        ({"loss": 1.0}, True),
        ({}, False),
        (None, False),
    ]
    for index, (result, error) in enumerate(outcomes):
        searcher.suggest(f"t{index}")
        searcher.on_trial_complete(f"t{index}", result, error=error)
    assert {trial.state for trial in searcher.study.trials} == {optuna.trial.TrialState.FAIL}
    searcher.suggest("t9")
    with pytest.raises(TypeError, match="trial t9 reported loss='low', which is not a number"):
        searcher.on_trial_complete("t9", {"loss": "low"})
    trial_id, _ = searcher.ask()
    searcher.tell(trial_id, float("-inf"))
    assert searcher.study.trials[-1].state == optuna.trial.TrialState.FAIL


def test_a_state_taken_while_trials_run_lets_them_finish_after_restore():
    space = {"x": uniform(0, 1)}
    searcher = OptunaSearch(space, metric="loss", mode="min", seed=0, points_to_evaluate=[{"x": 0.5}, {"x": 0.25}])
    searcher.suggest("t0")
    _complete(searcher, "t0", 0.5)
    running = searcher.suggest("t1")
    state = json.loads(json.dumps(searcher.get_state()))
    restored = OptunaSearch(space, metric="loss", mode="min", seed=7, points_to_evaluate=[{"x": 0.5}, {"x": 0.25}])
    restored.set_state(state)
    assert len(restored.study.trials) == 2  # the points were replayed, not enqueued again
    _complete(restored, "t1", running["x"])
    assert [trial.value for trial in restored.study.trials] == [0.5, 0.25]
    assert restored.suggest("t2") == searcher.suggest("t2")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="pass the seed to your sampler"):
        OptunaSearch(sampler=optuna.samplers.RandomSampler(), seed=1)
    with pytest.raises(
        ValueError, match=r"needs a metric and a mode: pass them to OptunaSearch\(...\) or to TuneConfig"
    ):
        OptunaSearch().set_search_properties(None, None, {"x": uniform(0, 1)})
    with pytest.raises(TypeError, match="space must be a dict"):
        OptunaSearch(space=3)
    tpe_state = OptunaSearch({"x": uniform(0, 1)}, metric="loss", mode="min").get_state()
    with pytest.raises(ValueError, match="saved with TPESampler, not RandomSampler"):
        OptunaSearch(
            {"x": uniform(0, 1)}, metric="loss", mode="min", sampler=optuna.samplers.RandomSampler()
        ).set_state(tpe_state)
    with pytest.raises(ValueError, match=r"lr: OptunaSearch does not support sample_from"):
        OptunaSearch({"lr": sample_from(lambda spec: 1)}, metric="loss", mode="min")


def test_without_optuna_the_error_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install 'tune-search\[optuna\]'"):
        OptunaSearch()


def test_ray_tunes_argument_order_and_an_unsupported_storage():
    searcher = OptunaSearch(None, "loss", "min", None, optuna.samplers.RandomSampler(seed=0), "my-study")
    searcher.set_search_properties(None, None, {"x": uniform(0, 1)})
    assert searcher.study.study_name == "my-study"
    with pytest.raises(ValueError, match="an Optuna storage is not supported"):
        OptunaSearch(storage=optuna.storages.InMemoryStorage())
