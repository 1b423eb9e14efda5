"""What the adapters to other libraries' searchers share.

An adapter sees our nested space as flat, named parameters (``model.layers[0].units``; a parameter
inside a choice's category is conditional on it, ``opt[0].lr``), hands those to the other library,
and turns the values it gets back into a config through the space's own ``resolve``: constants,
nesting and conditional branches come out exactly as with every other searcher.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tune_search._domains import Categorical, Domain
from tune_search._paths import Path, format_path
from tune_search._space import SearchSpace
from tune_trial import as_number


def require_extra(module: str, extra: str, searcher: str) -> None:
    """Import ``module`` or say which extra of tune-search provides it."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{searcher} needs {module}, which is not installed: pip install 'tune-search[{extra}]'"
        ) from error


@dataclass(frozen=True)
class FlatParameter:
    """One domain of our space as another library sees it: a name, and where it is active."""

    name: str
    """The key as errors write it (``opt[0].lr`` for a parameter inside a choice's category)."""
    key: Path
    domain: Domain
    parent: str | None
    """The name of the choice whose category holds this parameter; None when unconditional."""
    category: int | None
    """The category of that choice that makes this parameter active."""


MISSING: Any = object()


@dataclass(frozen=True)
class FlatSpace:
    """Our space as flat, named parameters; choices with parameters inside make theirs conditional."""

    space: SearchSpace
    parameters: tuple[FlatParameter, ...]
    """In the space's order: a choice comes before the parameters inside its categories."""
    _unused_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0), compare=False)
    """``resolve`` wants a generator; every active domain is given a value, so it never draws from it."""

    @classmethod
    def of(cls, space: SearchSpace) -> FlatSpace:
        parameters = []
        for key, domain in space.domains:
            condition = space.conditions.get(key)
            parent = None if condition is None else format_path(condition.parent)
            category = None if condition is None else condition.category
            parameters.append(FlatParameter(format_path(key), key, domain, parent, category))
        return cls(space, tuple(parameters))

    def children(self, parent: str | None, category: int | None) -> list[FlatParameter]:
        """The parameters directly inside ``parent``'s ``category`` (the unconditional ones for None)."""
        return [p for p in self.parameters if p.parent == parent and p.category == category]

    def collect(self, pick: Callable[[FlatParameter], Any]) -> dict[str, Any]:
        """A value by name for each parameter active under the choices picked before it.

        ``pick`` gives a parameter's value (a category for a choice), or ``MISSING`` to leave it
        out (and with it whatever its categories hold).
        """
        values: dict[str, Any] = {}
        chosen: dict[str, int] = {}
        for parameter in self.parameters:
            if parameter.parent is not None and chosen.get(parameter.parent) != parameter.category:
                continue
            value = pick(parameter)
            if value is MISSING:
                continue
            values[parameter.name] = value
            if isinstance(parameter.domain, Categorical):
                try:
                    chosen[parameter.name] = parameter.domain.index(value)
                except ValueError as error:
                    raise ValueError(f"{parameter.name}: {error}") from None
        return values

    def absent(self, values: Mapping[str, Any]) -> list[str]:
        """The names of the parameters ``values`` makes active but gives no value."""
        missing: list[str] = []

        def pick(parameter: FlatParameter) -> Any:
            if parameter.name in values:
                return values[parameter.name]
            missing.append(parameter.name)
            return MISSING

        self.collect(pick)
        return missing

    def config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The config for a value per active parameter name (a category for a choice)."""
        fixed = {p.key: values[p.name] for p in self.parameters if p.name in values}
        return self.space.resolve(self._unused_rng, fixed)

    def point(self, index: int, point: Mapping[str, Any]) -> dict[str, Any]:
        """The values a ``points_to_evaluate`` entry (a nested, possibly partial config) gives, by name.

        Values the point gives for constants of the space are left out: the other library only
        searches the parameters.
        """
        if not isinstance(point, Mapping):
            raise ValueError(f"points_to_evaluate[{index}]: must be a dict like a config, got {type(point).__name__}")
        try:
            assignment = self.space.assignment(point)
            return self.collect(lambda parameter: assignment.get(parameter.key, MISSING))
        except ValueError as error:
            raise ValueError(f"points_to_evaluate[{index}]: {error}") from None


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
        number = as_number(value)
        if number is None:
            raise TypeError(f"{searcher}: trial {trial_id} reported {metric}={value!r}, which is not a number")
        if not math.isfinite(number):
            return None
        values.append(number)
    return values
