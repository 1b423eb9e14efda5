"""tune-ray-exec: run tune trials as Ray actors, from a laptop to a cluster."""

from importlib.metadata import version

from tune_ray_exec._executor import RayExecutor
from tune_ray_exec._pool import release_idle_actors

__version__ = version("tune-ray-exec")

__all__ = ["RayExecutor", "release_idle_actors"]
