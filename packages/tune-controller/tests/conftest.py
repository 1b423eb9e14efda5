import pytest

from tune_controller import InProcessExecutor, RunConfig, TuneConfig, Tuner


@pytest.fixture
def run(tmp_path):
    """Run an experiment in-process, quietly, under a temporary storage path."""

    def run_experiment(trainable, param_space=None, executor=None, **tune_config):
        run_config = tune_config.pop("run_config", RunConfig())
        run_config.storage_path = str(tmp_path)
        run_config.verbose = 0
        tuner = Tuner(
            trainable,
            param_space=param_space or {},
            tune_config=TuneConfig(**tune_config),
            run_config=run_config,
            executor=executor or InProcessExecutor(num_cpus=2),
        )
        return tuner.fit()

    return run_experiment
