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
