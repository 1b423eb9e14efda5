"""``with_parameters`` and ``with_resources``: what a trainable needs besides its config.

Both take a function trainable or a class :class:`Trainable`; for a class they return a subclass
carrying the parameters or resources, so that the result is still a Trainable the Tuner recognises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tune_controller._executor import RESOURCES_ATTRIBUTE, TrainableFunction
from tune_controller._trainable import Trainable
from tune_controller._validation import check_parameters
from tune_trial import Resources

_T = TypeVar("_T", bound=Trainable)


def with_parameters(trainable: Any, **parameters: Any) -> Any:
    """``trainable(config, **parameters)`` as a trainable of ``config`` alone; for a class
    Trainable, ``setup(config, **parameters)`` (as in Ray Tune).

    The parameters (a dataset, a model) travel with the trainable, which executors ship once per
    experiment (``RayExecutor`` puts it in Ray's object store once, and each actor fetches it once),
    never once per trial. Parameters the trainable does not accept are refused here.
    """
    if not callable(trainable):
        raise TypeError(f"with_parameters: trainable must be callable, got {type(trainable).__name__}")
    check_parameters(trainable, parameters)
    if isinstance(trainable, type) and issubclass(trainable, Trainable):
        return _subclass(trainable, _tune_parameters={**trainable._tune_parameters, **parameters})

    @functools.wraps(trainable)
    def with_parameters_applied(config: dict[str, Any]) -> Any:
        return trainable(config, **parameters)

    resources = getattr(trainable, RESOURCES_ATTRIBUTE, None)
    if resources is not None:
        setattr(with_parameters_applied, RESOURCES_ATTRIBUTE, resources)
    return with_parameters_applied


ResourceRequest = Resources | Callable[[dict[str, Any]], "Resources | Mapping[str, float]"]
"""What a trial asks for: fixed resources, or a function of the trial's config that says."""


def with_resources(trainable: Any, resources: Resources | Mapping[str, float] | Callable[[dict[str, Any]], Any]) -> Any:
    """Run each trial of ``trainable`` (a function or a class Trainable) with ``resources``
    (``{"cpu": 2, "gpu": 1}``, a Resources, or a function of the trial's config returning either,
    as in Ray Tune: ``lambda config: {"gpu": 1 if config["model"] == "big" else 0}``).

    On Ray a trial with GPUs sees only its own through ``CUDA_VISIBLE_DEVICES``; a request the cluster
    can never meet is refused before the first trial starts, naming the resource.
    """
    if not callable(trainable):
        raise TypeError(f"with_resources: trainable must be callable, got {type(trainable).__name__}")
    parsed: ResourceRequest = Resources.from_dict(resources) if isinstance(resources, Mapping) else resources
    if isinstance(trainable, type) and issubclass(trainable, Trainable):
        return _subclass(trainable, **{RESOURCES_ATTRIBUTE: parsed})

    @functools.wraps(trainable)
    def with_resources_applied(config: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return trainable(config, *args, **kwargs)  # passes with_parameters' parameters through

    setattr(with_resources_applied, RESOURCES_ATTRIBUTE, parsed)
    return with_resources_applied


def _subclass(cls: type[_T], **attributes: Any) -> type[_T]:
    """``cls`` with class attributes added, under the same name (trial names and logs show it)."""
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, **attributes}
    return type(cls.__name__, (cls,), namespace)


def trial_resources(trainable: TrainableFunction) -> ResourceRequest:
    """The resources ``with_resources`` attached to ``trainable`` (1 CPU by default)."""
    resources = getattr(trainable, RESOURCES_ATTRIBUTE, None)
    return resources if isinstance(resources, Resources) or callable(resources) else Resources()


def resources_for(request: ResourceRequest, trial_id: str, config: dict[str, Any]) -> Resources:
    """The resources of one trial: ``request`` itself, or what it answers for the trial's config."""
    if isinstance(request, Resources):
        return request
    answer = request(config)
    if isinstance(answer, Resources):
        return answer
    if isinstance(answer, Mapping):
        return Resources.from_dict(answer)
    raise TypeError(
        f"Trial {trial_id}: the with_resources function returned {type(answer).__name__}; "
        "return a dict such as {'cpu': 1, 'gpu': 0} or a Resources"
    )
