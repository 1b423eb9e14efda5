"""Search-space primitives: what a parameter may take and how to draw it.

A domain is inspectable (type, bounds, log scale, quantisation, categories) so model-based searchers
can convert it to their own representation; sampling is one method, so random and grid searchers
share it. Bounds are checked when a space is handed to a searcher, not here, because only then is the
parameter's path known and the error can name it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class Domain:
    """A distribution over the values of one parameter."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def problems(self) -> list[str]:
        """What is wrong with this domain's arguments (empty when it is valid)."""
        return []


@dataclass(frozen=True)
class Float(Domain):
    """A real number in ``[low, high)``; on a log scale when ``log_base`` is set.

    ``q`` rounds samples to multiples of ``q``, which makes ``high`` reachable.
    """

    low: float
    high: float
    log_base: float | None = None
    q: float | None = None

    def problems(self) -> list[str]:
        found = _quantisation_problems(self.q)
        if not self.low < self.high:
            found.append(f"low must be < high, got low={self.low}, high={self.high}")
        if self.log_base is not None:
            if self.low <= 0:
                found.append(f"log-scale bounds must be > 0, got low={self.low}")
            if not (self.log_base > 0 and self.log_base != 1):
                found.append(f"log base must be > 0 and != 1, got {self.log_base}")
        return found

    def sample(self, rng: np.random.Generator) -> float:
        if self.log_base is None:
            value = float(rng.uniform(self.low, self.high))
        else:
            log = math.log(self.log_base)
            exponent = rng.uniform(math.log(self.low) / log, math.log(self.high) / log)
            value = float(self.log_base**exponent)
        return _quantise(value, self.q)


@dataclass(frozen=True)
class Normal(Domain):
    """A real number drawn from a normal distribution (unbounded); ``q`` rounds it."""

    mean: float = 0.0
    sd: float = 1.0
    q: float | None = None

    def problems(self) -> list[str]:
        found = _quantisation_problems(self.q)
        if not self.sd > 0:
            found.append(f"sd must be > 0, got {self.sd}")
        return found

    def sample(self, rng: np.random.Generator) -> float:
        return _quantise(float(rng.normal(self.mean, self.sd)), self.q)


@dataclass(frozen=True)
class Integer(Domain):
    """An integer in ``[low, high)``; on a log scale when ``log_base`` is set.

    With ``q`` the value is a multiple of ``q``.
    """

    low: int
    high: int
    log_base: float | None = None
    q: int | None = None

    def problems(self) -> list[str]:
        found = _quantisation_problems(self.q)
        if not self.low < self.high:
            found.append(f"low must be < high, got low={self.low}, high={self.high}")
        if self.log_base is not None and self.low <= 0:
            found.append(f"log-scale bounds must be > 0, got low={self.low}")
        return found

    def sample(self, rng: np.random.Generator) -> int:
        if self.log_base is not None:
            value = int(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
            value = min(max(value, self.low), self.high - 1)
        else:
            value = int(rng.integers(self.low, self.high))
        if self.q is not None:
            value = int(round(value / self.q) * self.q)
        return value


@dataclass(frozen=True)
class Categorical(Domain):
    """One of a fixed list of values, each equally likely."""

    categories: tuple[Any, ...]

    def problems(self) -> list[str]:
        return [] if self.categories else ["choice() needs at least one category"]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.categories[int(rng.integers(len(self.categories)))]


@dataclass(frozen=True)
class Function(Domain):
    """A value computed from the rest of the config (``sample_from``).

    ``func`` receives a spec whose ``config`` attribute is the config resolved so far, so one
    parameter can depend on another.
    """

    func: Callable[[Any], Any]

    def problems(self) -> list[str]:
        return [] if callable(self.func) else [f"sample_from() needs a callable, got {self.func!r}"]


def _quantisation_problems(q: float | None) -> list[str]:
    return [] if q is None or q > 0 else [f"q must be > 0, got {q}"]


def _quantise(value: float, q: float | None) -> float:
    return value if q is None else round(value / q) * q


def uniform(lower: float, upper: float) -> Float:
    """A float drawn uniformly from ``[lower, upper)``."""
    return Float(lower, upper)


def loguniform(lower: float, upper: float, base: float = 10) -> Float:
    """A float whose logarithm is uniform on ``[log(lower), log(upper))``."""
    return Float(lower, upper, log_base=base)


def randint(lower: int, upper: int) -> Integer:
    """An integer from ``lower`` (inclusive) to ``upper`` (exclusive)."""
    return Integer(lower, upper)


def choice(categories: Sequence[Any]) -> Categorical:
    """One of ``categories``, uniformly."""
    return Categorical(tuple(categories))


def sample_from(func: Callable[[Any], Any]) -> Function:
    """A value computed by ``func(spec)`` from the partially resolved config (``spec.config``)."""
    return Function(func)


def grid_search(values: Sequence[Any]) -> dict[str, list[Any]]:
    """Try every one of ``values`` (each combined with every other grid parameter's values)."""
    return {"grid_search": list(values)}
