"""The meta-package's Tuner: tune-controller's, with trials on Ray by default."""

from __future__ import annotations

from tune_controller import Executor
from tune_controller import Tuner as _ControllerTuner
from tune_ray_exec import RayExecutor


class Tuner(_ControllerTuner):
    """Ray Tune's ``Tuner``: each trial runs in a Ray actor.

    Ray is started for you when ``ray.init()`` was not called; pass ``executor=`` to run elsewhere
    (``tune_controller.InProcessExecutor()`` runs trials on threads, without Ray).
    """

    def _default_executor(self) -> Executor:
        return RayExecutor(reuse_actors=self._tune_config.reuse_actors)
