import pytest
import ray


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance per test module (starting Ray takes seconds), stopped afterwards so
    that later tests, such as the integration tests' own Ray drivers, have the machine to themselves."""
    started = not ray.is_initialized()
    if started:
        # address="local": a new instance of our own, even if a cluster on this machine is reachable.
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()
