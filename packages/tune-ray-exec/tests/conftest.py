import pytest
import ray


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    """One local Ray instance for the whole session: starting Ray takes seconds."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()
