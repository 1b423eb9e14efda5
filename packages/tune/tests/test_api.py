import importlib

import pytest

import tune
import tune_controller
import tune_search
import tune_trial
from tune_ray_exec import RayExecutor


def test_ray_tune_names_are_here():
    for name in (
        "Tuner",
        "TuneConfig",
        "RunConfig",
        "FailureConfig",
        "Checkpoint",
        "ResultGrid",
        "Result",
        "Callback",
        "report",
        "get_checkpoint",
        "get_context",
        "uniform",
        "loguniform",
        "randint",
        "choice",
        "grid_search",
        "sample_from",
    ):
        assert hasattr(tune, name), name
    assert tune.schedulers.FIFOScheduler is not None
    assert tune.search.BasicVariantGenerator is tune_search.BasicVariantGenerator


def test_the_in_trial_api_is_tune_trials_own():
    assert tune.report is tune_trial.report
    assert tune.get_checkpoint is tune_trial.get_checkpoint


def test_the_meta_tuner_runs_trials_on_ray_by_default_and_honours_reuse_actors():
    tuner = tune.Tuner(lambda config: None, tune_config=tune.TuneConfig(reuse_actors=False))
    assert isinstance(tuner, tune_controller.Tuner)
    executor = tuner._default_executor()
    assert isinstance(executor, RayExecutor)
    assert executor._reuse_actors is False


def test_the_distribution_is_named_so_pip_cannot_confuse_it_with_the_unrelated_tune_on_pypi():
    from importlib.metadata import distribution

    assert distribution("tune-hpo").read_text("top_level.txt") in (None, "tune\n")
    assert tune.__version__ == tune_trial.__version__


def test_create_scheduler_builds_every_registered_scheduler_by_ray_tunes_names():
    from tune.schedulers._create import _SCHEDULERS

    kwargs = {"metric": "loss", "mode": "min"}
    special = {
        "pbt": {**kwargs, "hyperparam_mutations": {"lr": [0.1, 0.01]}},
        "pb2": {**kwargs, "hyperparam_bounds": {"lr": [0.001, 0.1]}},
        "fifo": {},
        "resource_changing": {},
    }
    for name, class_name in _SCHEDULERS.items():
        if name == "pbt_replay":
            continue  # needs a policy file: built in the test below
        scheduler = tune.create_scheduler(name.upper(), **special.get(name, kwargs))
        assert isinstance(scheduler, getattr(tune.schedulers, class_name)), name
    assert isinstance(tune.schedulers.create_scheduler("asha", **kwargs), tune.schedulers.ASHAScheduler)


def test_create_scheduler_builds_a_pbt_replay_from_a_policy_file(tmp_path):
    policy = tmp_path / "pbt_policy_a.txt"
    policy.write_text('["b", "a", 3, 4, {"lr": 0.1}, {"lr": 0.2}]\n')
    replay = tune.create_scheduler("pbt_replay", policy_file=str(policy))
    assert isinstance(replay, tune.schedulers.PopulationBasedTrainingReplay)
    assert replay.config == {"lr": 0.1}


def test_create_scheduler_refuses_unknown_names_and_arguments_ray_tune_would_drop():
    with pytest.raises(ValueError, match=r"unknown scheduler 'ashaa'.*async_hyperband"):
        tune.create_scheduler("ashaa")
    with pytest.raises(TypeError, match="grace_perod"):
        tune.create_scheduler("asha", metric="loss", mode="min", grace_perod=3)


def test_create_searcher_builds_registered_searchers_and_names_those_tune_lacks():
    from tune.search._create import _SEARCHERS

    for name, (module, class_name) in _SEARCHERS.items():
        assert isinstance(tune.create_searcher(name), getattr(importlib.import_module(module), class_name)), name
    assert isinstance(tune.create_searcher("optuna"), tune.search.optuna.OptunaSearch)
    assert isinstance(tune.search.create_searcher("random"), tune.search.BasicVariantGenerator)
    with pytest.raises(ValueError, match=r"'ax' .*docs/migration\.md"):
        tune.create_searcher("ax")
    with pytest.raises(TypeError, match="num_sampels"):
        tune.create_searcher("random", num_sampels=3)


def test_ray_tunes_documented_module_paths_exist():
    from tune.schedulers.pb2 import PB2
    from tune.schedulers.resource_changing_scheduler import DistributeResources
    from tune.search.basic_variant import BasicVariantGenerator

    assert PB2 is tune.schedulers.PB2
    assert DistributeResources is tune.schedulers.DistributeResources
    assert BasicVariantGenerator is tune_search.BasicVariantGenerator
    assert tune.TuneContext is tune_trial.TrialContext
    assert tune.search.grid_search is tune.grid_search


def test_tunes_own_gp_and_cmaes_searchers_have_modules_of_their_own():
    from tune.search.cmaes import CMAESSearch
    from tune.search.gp import GPSearch

    assert GPSearch is tune.search.GPSearch is tune_search.GPSearch
    assert CMAESSearch is tune.search.CMAESSearch is tune_search.CMAESSearch
