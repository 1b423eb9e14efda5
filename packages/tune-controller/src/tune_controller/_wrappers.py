"""``with_parameters`` and ``with_resources``: what a trainable needs besides its config."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from tune_controller._executor import TrainableFunction
from tune_trial import Resources

_RESOURCES_ATTRIBUTE = "__tune_resources__"


def with_parameters(trainable: Callable[..., Any], **parameters: Any) -> TrainableFunction:
    """``trainable(config, **parameters)`` as a trainable of ``config`` alone.

    The parameters (a dataset, a model) travel with the trainable, which executors ship once per
    experiment (``RayExecutor`` puts it in Ray's object store once, and each actor fetches it once),
    never once per trial.
    """
    if not callable(trainable):
        raise TypeError(f"with_parameters: trainable must be callable, got {type(trainable).__name__}")

    @functools.wraps(trainable)
    def with_parameters_applied(config: dict[str, Any]) -> Any:
        return trainable(config, **parameters)

    resources = getattr(trainable, _RESOURCES_ATTRIBUTE, None)
    if resources is not None:
        setattr(with_parameters_applied, _RESOURCES_ATTRIBUTE, resources)
    return with_parameters_applied


def with_resources(trainable: TrainableFunction, resources: Resources | Mapping[str, float]) -> TrainableFunction:
    """Run each trial of ``trainable`` with ``resources`` (``{"cpu": 2, "gpu": 1}`` or a Resources).

    On Ray a trial with GPUs sees only its own through ``CUDA_VISIBLE_DEVICES``; a request the cluster
    can never meet is refused before the first trial starts, naming the resource.
    """
    if not callable(trainable):
        raise TypeError(f"with_resources: trainable must be callable, got {type(trainable).__name__}")
    parsed = resources if isinstance(resources, Resources) else Resources.from_dict(resources)

    @functools.wraps(trainable)
    def with_resources_applied(config: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return trainable(config, *args, **kwargs)  # passes with_parameters' parameters through

    setattr(with_resources_applied, _RESOURCES_ATTRIBUTE, parsed)
    return with_resources_applied


def trial_resources(trainable: TrainableFunction) -> Resources:
    """The resources ``with_resources`` attached to ``trainable`` (1 CPU by default)."""
    resources = getattr(trainable, _RESOURCES_ATTRIBUTE, None)
    return resources if isinstance(resources, Resources) else Resources()
