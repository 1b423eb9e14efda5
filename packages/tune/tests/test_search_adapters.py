"""Ray Tune's OptunaSearch and HyperOptSearch examples, ported by changing only their imports.

The code inside each test is Ray Tune's documented usage; only ``executor=`` is added so the trials
run on threads (fast, no Ray) instead of Ray actors.
"""

import json

import optuna
from hyperopt import hp

import tune
from tune.search import ConcurrencyLimiter
from tune.search.hyperopt import HyperOptSearch
from tune.search.optuna import OptunaSearch
from tune_controller import InProcessExecutor


def evaluate(step, width, height):
    return (0.1 + width * step / 100) ** (-1) + height * 0.1


def objective(config):
    for step in range(config["steps"]):
        score = evaluate(step, config["width"], config["height"])
        tune.report({"iterations": step, "mean_loss": score})


def run(searcher, tmp_path, num_samples, param_space=None):
    tuner = tune.Tuner(
        objective,
        tune_config=tune.TuneConfig(search_alg=searcher, num_samples=num_samples),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
        param_space=param_space or {},
        executor=InProcessExecutor(num_cpus=2),
    )
    return tuner.fit()


def test_optuna_with_a_tune_space(tmp_path):
    search_space = {"steps": 5, "width": tune.uniform(0, 20), "height": tune.uniform(-100, 100)}
    searcher = OptunaSearch(metric="mean_loss", mode="min", seed=0)
    algo = ConcurrencyLimiter(searcher, max_concurrent=2)
    results = run(algo, tmp_path, num_samples=12, param_space=search_space)
    assert len(results) == 12
    assert not results.errors
    best = results.get_best_result("mean_loss", "min")
    assert -100 <= best.config["height"] < 100
    assert len(searcher.study.trials) == 12
    assert {trial.state for trial in searcher.study.trials} == {optuna.trial.TrialState.COMPLETE}


def test_optuna_define_by_run(tmp_path):
    def define_by_run_func(trial):
        activation = trial.suggest_categorical("activation", ["relu", "tanh"])
        trial.suggest_float("width", 0, 20)
        trial.suggest_float("height", -100, 100)
        if activation == "relu":
            trial.suggest_float("mult", 1, 2)
        return {"steps": 5}

    searcher = OptunaSearch(space=define_by_run_func, metric="mean_loss", mode="min", seed=1)
    results = run(searcher, tmp_path, num_samples=10)
    assert len(results) == 10
    for result in results:
        assert result.config["steps"] == 5
        assert ("mult" in result.config) == (result.config["activation"] == "relu")


def test_optuna_multi_objective(tmp_path):
    def multi_objective(config):
        for step in range(config["steps"]):
            loss = evaluate(step, config["width"], config["height"])
            tune.report({"iterations": step, "loss": loss, "gain": config["width"] * 0.1})

    search_space = {"steps": 5, "width": tune.uniform(0, 20), "height": tune.uniform(-100, 100)}
    searcher = OptunaSearch(metric=["loss", "gain"], mode=["min", "max"], seed=2)
    algo = ConcurrencyLimiter(searcher, max_concurrent=4)
    tuner = tune.Tuner(
        multi_objective,
        tune_config=tune.TuneConfig(search_alg=algo, num_samples=8),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
        param_space=search_space,
        executor=InProcessExecutor(num_cpus=2),
    )
    results = tuner.fit()
    assert results.get_best_result("loss", "min").config["width"] >= 0
    assert len(searcher.study.best_trials) >= 1  # the Pareto front
    assert all(len(trial.values) == 2 for trial in searcher.study.trials)


def test_hyperopt_with_its_own_space_and_a_best_point(tmp_path):
    space = {
        "steps": 5,
        "width": hp.uniform("width", 0, 20),
        "height": hp.uniform("height", -100, 100),
        "activation": hp.choice("activation", ["relu", "tanh"]),
    }
    current_best_params = [{"width": 10, "height": 0, "activation": 0}]  # activation: the index of "relu"
    hyperopt_search = HyperOptSearch(
        space, metric="mean_loss", mode="min", points_to_evaluate=current_best_params, random_state_seed=0
    )
    results = run(hyperopt_search, tmp_path, num_samples=10)
    assert len(results) == 10
    configs = [result.config for result in results]
    assert {"steps": 5, "width": 10, "height": 0, "activation": "relu"} in configs


def test_hyperopt_conditional_space(tmp_path):
    conditional_space = {
        "activation": hp.choice(
            "activation",
            [{"activation": "relu", "mult": hp.uniform("mult", 1, 2)}, {"activation": "tanh"}],
        ),
        "width": hp.uniform("width", 0, 20),
        "height": hp.uniform("height", -100, 100),
        "steps": 5,
    }
    searcher = HyperOptSearch(conditional_space, metric="mean_loss", mode="min", random_state_seed=1)
    results = run(searcher, tmp_path, num_samples=10)
    for result in results:
        activation = result.config["activation"]
        assert ("mult" in activation) == (activation["activation"] == "relu")


def test_hyperopt_with_a_tune_space(tmp_path):
    search_space = {"steps": 5, "width": tune.uniform(0, 20), "height": tune.randint(-100, 100)}
    searcher = HyperOptSearch(metric="mean_loss", mode="min", n_initial_points=4, random_state_seed=2)
    results = run(searcher, tmp_path, num_samples=8, param_space=search_space)
    assert len(results) == 8
    assert all(isinstance(result.config["height"], int) for result in results)


def _restore_from_the_first_snapshot(make_searcher, tmp_path):
    """Fit, then restore as if the driver had died right after its first snapshot, and fit again.

    The restored searcher gets the state of a fresh searcher and the controller replays every
    suggestion and result after it; it must end in the state the first run ended in.
    """
    from tune_controller import Tuner

    def trainable(config):
        tune.report({"loss": (config["x"] - 0.3) ** 2})

    def tuner():
        return Tuner(
            trainable,
            param_space={"x": tune.uniform(0, 1), "act": tune.choice(["relu", "tanh"])},
            tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=8, search_alg=make_searcher()),
            run_config=tune.RunConfig(name="adapter", storage_path=str(tmp_path), verbose=0),
            executor=InProcessExecutor(num_cpus=1),
        )

    first = tuner()
    first.fit()
    final_state = first._tune_config.search_alg.get_state()
    experiment = tmp_path / "adapter"
    state = json.loads((experiment / "state.json").read_text())
    fresh = make_searcher()
    fresh.set_search_properties("loss", "min", {"x": tune.uniform(0, 1), "act": tune.choice(["relu", "tanh"])})
    state.update(records=1, searcher=fresh.get_state())
    (experiment / "state.json").write_text(json.dumps(state))
    restored = Tuner.restore(str(experiment), trainable, executor=InProcessExecutor(num_cpus=1))
    restored.fit()
    return final_state, restored._tune_config.search_alg.get_state()


def test_optuna_search_survives_tuner_restore(tmp_path):
    final, restored = _restore_from_the_first_snapshot(lambda: OptunaSearch(seed=3), tmp_path)
    assert len(final["study"]["trials"]) == 8
    assert restored["study"]["trials"] == final["study"]["trials"]


def test_hyperopt_search_survives_tuner_restore(tmp_path):
    final, restored = _restore_from_the_first_snapshot(
        lambda: HyperOptSearch(n_initial_points=3, random_state_seed=3), tmp_path
    )
    assert len(final["trials"]) == 8
    assert restored["trials"] == final["trials"]
