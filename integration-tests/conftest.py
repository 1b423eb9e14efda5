import os
import subprocess
import sys
from pathlib import Path

import pytest

# Taken at collection, before any test in this session starts Ray: ray.init() writes variables such
# as RAY_AUTH_MODE into os.environ, which must not leak into the fresh drivers started below.
ENVIRONMENT_BEFORE_RAY = dict(os.environ)


@pytest.fixture
def driver_environment(tmp_path):
    """The environment of a fresh driver process: this session's before Ray, with ``HOME`` in ``tmp_path``."""
    return {**ENVIRONMENT_BEFORE_RAY, "HOME": str(tmp_path)}


@pytest.fixture
def run_script(tmp_path, driver_environment):
    """Run Python code in a fresh interpreter (its own Ray driver), with results under ``tmp_path``."""

    def run(code_or_path, timeout=300):
        if isinstance(code_or_path, list):  # a script with its command-line arguments
            arguments = [str(argument) for argument in code_or_path]
        else:
            arguments = [str(code_or_path)] if isinstance(code_or_path, Path) else ["-c", code_or_path]
        environment = driver_environment
        completed = subprocess.run(
            [sys.executable, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
            env=environment,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        return completed.stdout

    return run


@pytest.fixture(scope="session")
def ray_instance():
    """One local Ray for the experiments run inside this test process (starting Ray takes seconds).

    ``address="local"``: an instance of our own even when some cluster on this machine is reachable.
    Stopped at the end of the session; tests that start their own drivers (``run_script``) don't need it.
    """
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def fit(ray_instance, tmp_path):
    """Run an experiment through the meta-package on the session's Ray, quietly, under ``tmp_path``."""
    import tune

    def run(trainable, param_space=None, run_config=None, **tune_config):
        run_config = run_config or tune.RunConfig()
        run_config.storage_path = str(tmp_path)
        run_config.verbose = 0
        tuner = tune.Tuner(
            trainable, param_space=param_space or {}, tune_config=tune.TuneConfig(**tune_config), run_config=run_config
        )
        return tuner.fit()

    return run
