"""HyperOptSearch: tune's spaces, hyperopt's own (conditional) spaces, state, bad input."""

import json
import sys

import pytest
from hyperopt import hp

from tune_search import (
    HyperOptSearch,
    choice,
    lograndint,
    loguniform,
    qloguniform,
    qrandint,
    qrandn,
    randint,
    sample_from,
    uniform,
)
from tune_search.testing import SearcherConformance

# hyperopt 0.3.0's TPE sets NumPy array shapes in place, which NumPy 2.5 deprecates: its warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:Setting the shape on a NumPy array:DeprecationWarning")


class TestHyperOptSearch(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return HyperOptSearch(random_state_seed=seed, n_initial_points=10)


def _complete(searcher, trial_id, loss):
    searcher.on_trial_complete(trial_id, {"loss": loss})


def conditional_space():
    """Ray Tune's documented hyperopt example: the optimiser's own parameters only where chosen."""
    return {
        "activation": hp.choice("activation", ["relu", "tanh"]),
        "optimizer": hp.choice(
            "optimizer",
            [
                {"name": "sgd", "lr": hp.loguniform("sgd_lr", -6, -1), "momentum": hp.uniform("momentum", 0, 1)},
                {"name": "adam", "lr": hp.loguniform("adam_lr", -8, -2)},
            ],
        ),
        "width": hp.uniformint("width", 1, 20),
    }


def test_a_conditional_hyperopt_space():
    searcher = HyperOptSearch(conditional_space(), metric="loss", mode="min", random_state_seed=0, n_initial_points=5)
    names = set()
    for index in range(25):
        config = searcher.suggest(f"t{index}")
        optimizer = config["optimizer"]
        names.add(optimizer["name"])
        assert set(optimizer) == ({"name", "lr", "momentum"} if optimizer["name"] == "sgd" else {"name", "lr"})
        assert config["activation"] in ("relu", "tanh")
        assert 1 <= config["width"] <= 20
        _complete(searcher, f"t{index}", optimizer["lr"] if optimizer["name"] == "adam" else 1.0)
    assert names == {"sgd", "adam"}
    # only the chosen branch's labels are recorded, as hyperopt does itself
    vals = searcher._documents[24]["misc"]["vals"]
    branch = vals["optimizer"][0]
    assert bool(vals["sgd_lr"]) == (branch == 0)
    assert bool(vals["adam_lr"]) == (branch == 1)


def test_points_for_a_hyperopt_space_are_assignments_with_choice_indices():
    point = {"activation": 1, "optimizer": 1, "adam_lr": 0.01, "width": 4}
    searcher = HyperOptSearch(conditional_space(), metric="loss", mode="max", points_to_evaluate=[point])
    assert searcher.suggest("t0") == {"activation": "tanh", "optimizer": {"name": "adam", "lr": 0.01}, "width": 4}
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: no value for \['momentum', 'sgd_lr'\]"):
        HyperOptSearch(conditional_space(), points_to_evaluate=[{"activation": 0, "optimizer": 0, "width": 3}])
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: \['depth'\] are not labels"):
        HyperOptSearch(conditional_space(), points_to_evaluate=[{**point, "depth": 3}])


def test_a_conditional_tune_space_becomes_a_conditional_hyperopt_space():
    space = {
        "optimizer": choice(
            [
                {"name": "sgd", "lr": loguniform(1e-4, 1e-1), "momentum": uniform(0, 1)},
                {"name": "adam", "lr": loguniform(1e-5, 1e-2)},
            ]
        ),
        "epochs": 3,
    }
    point = {"optimizer": {"name": "adam", "lr": 1e-3}}
    searcher = HyperOptSearch(
        space, metric="loss", mode="min", random_state_seed=0, n_initial_points=4, points_to_evaluate=[point]
    )
    assert searcher.suggest("t0") == {**point, "epochs": 3}
    _complete(searcher, "t0", 1.0)
    names = set()
    for index in range(1, 16):
        optimizer = searcher.suggest(f"t{index}")["optimizer"]
        names.add(optimizer["name"])
        assert set(optimizer) == ({"name", "lr", "momentum"} if optimizer["name"] == "sgd" else {"name", "lr"})
        _complete(searcher, f"t{index}", optimizer["lr"])
        vals = searcher._documents[index]["misc"]["vals"]
        assert bool(vals["optimizer[0].momentum"]) == (optimizer["name"] == "sgd")  # only active labels recorded
    assert names == {"sgd", "adam"}
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: no value for \['optimizer\[0\].momentum'\]"):
        HyperOptSearch(
            space, metric="loss", mode="min", points_to_evaluate=[{"optimizer": {"name": "sgd", "lr": 0.01}}]
        )


def test_each_domain_becomes_its_hyperopt_expression():
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "x": uniform(-1, 1),
        "units": randint(1, 9),
        "log_units": lograndint(1, 1024),
        "step": qrandint(8, 64, 8),
        "act": choice(["relu", {"name": "gelu"}]),
        "noise": qrandn(0, 1, 0.5),
        "decay": qloguniform(1e-4, 1e-1, 1e-4),
        "model": {"depth": 3},
    }
    searcher = HyperOptSearch(space, metric="loss", mode="min", random_state_seed=0)
    # each expression is float(hyperopt_param(label, distribution)), or a switch over one
    kinds = {
        name: parameter.expression.pos_args[0].pos_args[1].name for name, parameter in searcher._parameters.items()
    }
    assert kinds == {
        "lr": "loguniform",
        "x": "uniform",
        "units": "quniform",
        "log_units": "qloguniform",
        "step": "quniform",
        "act": "randint",  # hp.choice draws its index
        "noise": "qnormal",
        "decay": "qloguniform",
    }
    for index in range(30):
        config = searcher.suggest(f"t{index}")
        assert type(config["units"]) is int
        assert 1 <= config["units"] <= 8
        assert type(config["log_units"]) is int
        assert 1 <= config["log_units"] <= 1023
        assert config["step"] % 8 == 0
        assert 8 <= config["step"] <= 64
        assert config["act"] in ("relu", {"name": "gelu"})
        assert config["model"] == {"depth": 3}
        _complete(searcher, f"t{index}", config["x"] ** 2)


def test_points_for_a_tune_space_are_configs_and_must_be_complete():
    space = {"model": {"act": choice(["relu", "tanh"]), "width": randint(1, 10)}, "x": uniform(0, 1)}
    point = {"model": {"act": "tanh", "width": 3}, "x": 0.5}
    searcher = HyperOptSearch(space, metric="loss", mode="min", points_to_evaluate=[point])
    assert searcher.suggest("t0") == point
    with pytest.raises(
        ValueError, match=r"points_to_evaluate\[0\]: no value for \['x'\], which this point makes active"
    ):
        HyperOptSearch(space, metric="loss", mode="min", points_to_evaluate=[{"model": {"act": "tanh", "width": 3}}])
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: model\.width: 10 is outside"):
        HyperOptSearch(
            space, metric="loss", mode="min", points_to_evaluate=[{**point, "model": {"act": "relu", "width": 10}}]
        )


def test_failures_and_non_finite_results_are_failed_trials():
    searcher = HyperOptSearch({"x": uniform(0, 1)}, metric="loss", mode="min", random_state_seed=0)
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
    assert all(document["result"] == {"status": "fail"} for document in searcher._documents.values())
    assert searcher._trials.losses() == []  # failed trials are left out of what TPE models


def test_max_mode_is_a_negated_loss_and_state_round_trips_with_running_trials():
    space = {"x": uniform(0, 1)}
    searcher = HyperOptSearch(space, metric="score", mode="max", random_state_seed=3, n_initial_points=3)
    for index in range(5):
        config = searcher.suggest(f"t{index}")
        searcher.on_trial_complete(f"t{index}", {"score": config["x"]})
    running = searcher.suggest("t5")
    assert searcher._documents[0]["result"]["loss"] == -searcher._documents[0]["misc"]["vals"]["x"][0]
    state = json.loads(json.dumps(searcher.get_state()))
    restored = HyperOptSearch(space, metric="score", mode="max", random_state_seed=4, n_initial_points=3)
    restored.set_state(state)
    restored.on_trial_complete("t5", {"score": running["x"]})
    searcher.on_trial_complete("t5", {"score": running["x"]})
    assert [restored.suggest(f"t{i}") for i in range(6, 9)] == [searcher.suggest(f"t{i}") for i in range(6, 9)]


def test_bad_arguments_are_refused():
    with pytest.raises(
        ValueError, match=r"needs a metric and a mode: pass them to HyperOptSearch\(...\) or to TuneConfig"
    ):
        HyperOptSearch().set_search_properties(None, None, {"x": uniform(0, 1)})
    with pytest.raises(ValueError, match="n_initial_points must be >= 0"):
        HyperOptSearch(n_initial_points=-1)
    with pytest.raises(ValueError, match=r"b\.c: the space mixes tune's domains with hyperopt expressions \(a\)"):
        HyperOptSearch({"a": hp.uniform("a", 0, 1), "b": {"c": uniform(0, 1)}})
    with pytest.raises(ValueError, match="lr: HyperOptSearch does not support sample_from"):
        HyperOptSearch({"lr": sample_from(lambda spec: 1)}, metric="loss", mode="min")
    searcher = HyperOptSearch(conditional_space(), metric="loss", mode="min")
    assert not searcher.set_search_properties("loss", "min", {"x": uniform(0, 1)})


def test_without_hyperopt_the_error_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "hyperopt", None)
    with pytest.raises(ImportError, match=r"pip install 'tune-search\[hyperopt\]'"):
        HyperOptSearch()
