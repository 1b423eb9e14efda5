"""What the adapters to other libraries' searchers share.

An adapter sees our nested space as flat, named parameters (``model.layers[0].units``), hands those
to the other library, and turns the values it gets back into a config through the space's own
``resolve``: constants, nesting and lists come out exactly as with every other searcher.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tune_search._domains import Domain
from tune_search._paths import Path, format_path
from tune_search._space import SearchSpace


def require_extra(module: str, extra: str, searcher: str) -> None:
    """Import ``module`` or say which extra of tune-search provides it."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{searcher} needs {module}, which is not installed: pip install 'tune-search[{extra}]'"
        ) from error


@dataclass(frozen=True)
class FlatSpace:
    """Our space as flat parameters, each named by its path."""

    space: SearchSpace
    parameters: tuple[tuple[str, Path, Domain], ...]
    _unused_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0), compare=False)
    """``resolve`` wants a generator; every domain is given a value, so it never draws from it."""

    @classmethod
    def of(cls, space: SearchSpace) -> FlatSpace:
        parameters: list[tuple[str, Path, Domain]] = []
        named: dict[str, Path] = {}
        for path, domain in space.domains:
            name = format_path(path)
            if name in named:
                raise ValueError(f"{name}: two parameters have this name ({named[name]} and {path}); rename a key")
            named[name] = path
            parameters.append((name, path, domain))
        return cls(space, tuple(parameters))

    def config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The config for one value per parameter name."""
        return self.space.resolve(self._unused_rng, {path: values[name] for name, path, _ in self.parameters})

    def point(self, index: int, point: Mapping[str, Any]) -> dict[str, Any]:
        """The values a ``points_to_evaluate`` entry (a nested config) gives, by parameter name.

        Keys that are neither parameters nor constants of the space are refused; each adapter checks
        the values as it converts them.
        """
        where = f"points_to_evaluate[{index}]"
        if not isinstance(point, Mapping):
            raise ValueError(f"{where}: must be a dict like a config, got {type(point).__name__}")
        domain_paths = {path for _, path, _ in self.parameters}
        for path in _leaf_paths(point, domain_paths):
            if not self.space.contains(path):
                raise ValueError(f"{where}: {format_path(path)} is not a parameter of the space")
        values: dict[str, Any] = {}
        for name, path, _ in self.parameters:
            found, value = _lookup(point, path)
            if not found:
                continue
            values[name] = value
        return values


def checked(domain: Domain) -> Callable[[Any], Any]:
    """An encoder that passes a value as it is, once the domain confirms it can take it."""

    def encode(value: Any) -> Any:
        domain.to_unit(value)
        return value

    return encode


def finite_values(
    searcher: str, trial_id: str, result: Mapping[str, Any] | None, metrics: Sequence[str]
) -> list[float] | None:
    """The objective values of a finished trial, or None when it counts as failed.

    A missing, NaN or infinite value makes the trial a failure for the model (never its best
    point); a value that is not a number at all is a bug in the trainable and is raised.
    """
    if result is None:
        return None
    values = []
    for metric in metrics:
        value = result.get(metric)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{searcher}: trial {trial_id} reported {metric}={value!r}, which is not a number")
        if not math.isfinite(value):
            return None
        values.append(float(value))
    return values


def _lookup(point: Mapping[str, Any], path: Path) -> tuple[bool, Any]:
    node: Any = point
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, node


def _leaf_paths(node: Any, stop_at: set[Path], prefix: Path = ()) -> list[Path]:
    """Paths of the point's leaves, not descending into a parameter's own value (a dict choice)."""
    if prefix in stop_at:
        return [prefix]
    if isinstance(node, Mapping) and node:
        return [path for key, child in node.items() for path in _leaf_paths(child, stop_at, (*prefix, key))]
    if isinstance(node, list) and node:
        return [path for index, child in enumerate(node) for path in _leaf_paths(child, stop_at, (*prefix, index))]
    return [prefix]
