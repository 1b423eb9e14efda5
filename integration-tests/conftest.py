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
