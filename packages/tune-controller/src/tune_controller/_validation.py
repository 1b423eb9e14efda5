"""Checks of a Tuner's inputs, made before any trial starts, so that a mistake costs nothing and the
error names the culprit (the trainable's signature, the config key) instead of failing in a trial."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import cloudpickle

from tune_controller._trainable import Trainable


def check_trainable(trainable: object) -> None:
    """Refuse what cannot run as a trial: a class that is not a :class:`Trainable`, something not
    callable, or a function that cannot take the config as its only argument."""
    if isinstance(trainable, type):
        if issubclass(trainable, Trainable):
            return
        hint = (
            " (a ray.tune.Trainable: subclass tune.Trainable instead, the methods are the same)"
            if any(base.__module__.startswith("ray.") for base in trainable.__mro__)
            else ""
        )
        raise TypeError(
            f"Tuner: trainable {trainable.__qualname__} is a class but not a subclass of "
            f"tune_controller.Trainable{hint}; subclass it, or pass a function of the config"
        )
    if not callable(trainable):
        raise TypeError(f"Tuner: trainable must be a function taking a config dict, got {type(trainable).__name__}")
    try:
        # follow_wrapped=False: with_parameters' wrapper takes the config alone, whatever it wraps.
        signature = inspect.signature(trainable, follow_wrapped=False)
    except (TypeError, ValueError):  # builtins and C callables may have no signature: let them run
        return
    try:
        signature.bind({})
    except TypeError:
        name = getattr(trainable, "__qualname__", type(trainable).__name__)
        raise TypeError(
            f"Tuner: trainable {name}{signature} cannot be called with the config dict alone; pass its other "
            "arguments with with_parameters(trainable, name=value, ...)"
        ) from None


def check_parameters(trainable: Any, parameters: Mapping[str, Any]) -> None:
    """``with_parameters``: the parameters must fit the trainable's signature after the config
    (after ``setup``'s config for a class)."""
    is_class = isinstance(trainable, type)
    function: Any = trainable.setup if is_class else trainable
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    leading: tuple[Any, ...] = (None, {}) if is_class else ({},)
    try:
        signature.bind(*leading, **parameters)
    except TypeError as error:
        name = getattr(function, "__qualname__", type(function).__name__)
        raise TypeError(f"with_parameters: {name}{signature} does not accept {sorted(parameters)}: {error}") from None


def check_picklable(param_space: Mapping[str, Any]) -> None:
    """Trials may run in other processes: find a value that cannot be pickled now, and name its
    full key path (``param_space['model']['layers'][1]``), not just the top-level key."""
    try:
        cloudpickle.dumps(param_space)
    except Exception:
        path, error = _unpicklable(param_space, "param_space")
        raise TypeError(f"{path} cannot be pickled ({error}); trials could not receive it") from error


def _unpicklable(value: Any, path: str) -> tuple[str, Exception]:
    """The deepest path under ``value`` that fails to pickle, and the error it gives."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, Mapping):
        children = list(value.items())
    elif isinstance(value, (list, tuple)):
        children = list(enumerate(value))
    for key, child in children:
        try:
            cloudpickle.dumps(child)
        except Exception:
            return _unpicklable(child, f"{path}[{key!r}]")
    try:
        cloudpickle.dumps(value)
    except Exception as error:
        return path, error
    raise AssertionError(f"{path} pickles after all")  # only reached if pickling is not deterministic
