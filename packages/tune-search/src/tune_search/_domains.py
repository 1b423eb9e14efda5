"""Search-space primitives: what a parameter may take and how to draw it.

Every domain maps a point of the unit interval to a value (:meth:`Domain.from_unit`), so random
search, quasi-random search and model-based searchers share one definition of each distribution:
random sampling is ``from_unit`` of a uniform draw. :meth:`Domain.to_unit` goes back, so a
model-based searcher can work in the unit cube, where every domain's prior is uniform (a normal
domain through its cumulative distribution function), and read observed values into it. Discrete
domains say how many values they have (:attr:`Domain.levels`); a value maps to the middle of the
stretch of the unit interval that gives it. Domains are frozen dataclasses whose fields (bounds,
``log``, ``q``, categories) can be inspected to convert them.

Arguments are checked when a space is handed to a searcher, not here: only then is the parameter's
path known, so the error can name it (``model.layers[1].units: low must be < high``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_STANDARD_NORMAL = statistics.NormalDist()


class Domain:
    """A distribution over the values of one parameter."""

    def from_unit(self, u: float) -> Any:
        """The value at quantile ``u`` in ``[0, 1)`` of this domain's distribution."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """Where ``value`` lies in the unit interval: ``from_unit(to_unit(v)) == v`` for every value ``v``.

        Raises ``ValueError`` for a value the domain cannot take (out of bounds, not a category).
        """
        raise NotImplementedError

    @property
    def levels(self) -> int | None:
        """How many distinct values the domain has; None when it is continuous."""
        return None

    @property
    def categorical(self) -> bool:
        """Whether values are unordered labels (a model must not assume neighbours are alike)."""
        return False

    def sample(self, rng: np.random.Generator) -> Any:
        return self.from_unit(float(rng.random()))

    def problems(self) -> list[str]:
        """What is wrong with this domain's arguments (empty when it is valid)."""
        return []


@dataclass(frozen=True)
class Float(Domain):
    """A real number in ``[low, high)``, uniform or (``log=True``) log-uniform.

    With ``q`` the value is rounded to a multiple of ``q``, which makes ``high`` reachable; both
    bounds must then be multiples of ``q`` (as in Ray Tune).
    """

    low: float
    high: float
    log: bool = False
    q: float | None = None

    def problems(self) -> list[str]:
        found = _bound_problems(self.low, self.high, self.log)
        found += _quantisation_problems(self.q)
        if not found and self.q is not None:
            for name, bound in (("low", self.low), ("high", self.high)):
                if not math.isclose(bound / self.q, round(bound / self.q)):
                    found.append(f"{name}={bound} is not a multiple of q={self.q}")
        return found

    def from_unit(self, u: float) -> float:
        value = _scale(self.low, self.high, self.log, u)
        if self.q is None:
            return value
        return float(np.clip(round(value / self.q) * self.q, self.low, self.high))

    def to_unit(self, value: Any) -> float:
        value = _number(value)
        tolerance = 1e-9 * (self.high - self.low)
        if not self.low - tolerance <= value <= self.high + tolerance:
            raise ValueError(f"{value!r} is outside [{self.low}, {self.high}]")
        value = min(max(value, self.low), self.high)
        if self.q is None:
            return _unscale(self.low, self.high, self.log, value)
        snapped = round(value / self.q) * self.q
        cell = (max(snapped - self.q / 2, self.low), min(snapped + self.q / 2, self.high))
        return sum(_unscale(self.low, self.high, self.log, edge) for edge in cell) / 2

    @property
    def levels(self) -> int | None:
        return None if self.q is None else round(self.high / self.q) - round(self.low / self.q) + 1


@dataclass(frozen=True)
class Normal(Domain):
    """A real number from a normal distribution (unbounded); ``q`` rounds it to a multiple of ``q``."""

    mean: float = 0.0
    sd: float = 1.0
    q: float | None = None

    def problems(self) -> list[str]:
        found = _quantisation_problems(self.q)
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd > 0):
            found.append(f"needs a finite mean and sd > 0, got mean={self.mean}, sd={self.sd}")
        return found

    def from_unit(self, u: float) -> float:
        u = min(max(u, 1e-12), 1 - 1e-12)  # the quantile function is infinite at 0 and 1
        value = self.mean + self.sd * _STANDARD_NORMAL.inv_cdf(u)
        return value if self.q is None else round(value / self.q) * self.q

    def to_unit(self, value: Any) -> float:
        value = _number(value)
        if self.q is None:
            return _STANDARD_NORMAL.cdf((value - self.mean) / self.sd)
        snapped = round(value / self.q) * self.q
        edges = (snapped - self.q / 2, snapped + self.q / 2)
        return sum(_STANDARD_NORMAL.cdf((edge - self.mean) / self.sd) for edge in edges) / 2


@dataclass(frozen=True)
class Integer(Domain):
    """An integer from ``low`` (inclusive) to ``high`` (exclusive), uniform or (``log=True``) log-uniform.

    With ``q`` the value is a multiple of ``q`` between the bounds, ``high`` included when ``q > 1``
    (Ray Tune's ``qrandint`` convention).
    """

    low: int
    high: int
    log: bool = False
    q: int | None = None

    def _index_bounds(self) -> tuple[int, int]:
        """The values as multiples of ``q``: ``[first, stop)`` in units of ``q``."""
        q = self.q or 1
        first = _grid_index(self.low, q, math.ceil)
        last = _grid_index(self.high, q, math.floor)
        return first, last + (0 if q == 1 else 1)

    def problems(self) -> list[str]:
        found = (
            [f"bounds must be integers, got low={self.low!r}, high={self.high!r}"]
            if not (_is_int(self.low) and _is_int(self.high))
            else []
        )
        found += _bound_problems(self.low, self.high, self.log)
        if self.q is not None and not (_is_int(self.q) and self.q > 0):
            found.append(f"q must be a positive integer, got {self.q!r}")
        if not found and self.q is not None:
            first, stop = self._index_bounds()
            if stop <= first:
                found.append(f"no multiple of q={self.q} lies between low={self.low} and high={self.high}")
            elif self.log and first <= 0:
                found.append(f"log scale with q={self.q} needs low >= q, got low={self.low}")
        return found

    def from_unit(self, u: float) -> int:
        first, stop = self._index_bounds()
        index = math.floor(_scale(first, stop, self.log, u))
        return (self.q or 1) * min(max(index, first), stop - 1)

    def to_unit(self, value: Any) -> float:
        first, stop = self._index_bounds()
        index = round(_number(value) / (self.q or 1))
        if not first <= index < stop:
            raise ValueError(f"{value!r} is outside [{self.from_unit(0.0)}, {self.from_unit(1.0)}]")
        return (_unscale(first, stop, self.log, index) + _unscale(first, stop, self.log, index + 1)) / 2

    @property
    def levels(self) -> int:
        first, stop = self._index_bounds()
        return stop - first


@dataclass(frozen=True)
class Categorical(Domain):
    """One of a fixed list of values, each equally likely."""

    categories: tuple[Any, ...]

    def problems(self) -> list[str]:
        return [] if self.categories else ["choice() needs at least one category"]

    def from_unit(self, u: float) -> Any:
        return self.categories[min(int(u * len(self.categories)), len(self.categories) - 1)]

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.categories)

    def index(self, value: Any) -> int:
        """The position of ``value`` among the categories (the very object first, then an equal one)."""
        for position, category in enumerate(self.categories):
            if category is value:
                return position
        for position, category in enumerate(self.categories):
            try:
                if bool(category == value):
                    return position
            except Exception:  # objects whose == is elementwise or refuses to compare are simply not equal
                continue
        raise ValueError(f"{value!r} is not one of the categories {list(self.categories)!r}")

    @property
    def levels(self) -> int:
        return len(self.categories)

    @property
    def categorical(self) -> bool:
        return True


@dataclass(frozen=True)
class Function(Domain):
    """A value computed from the rest of the config (``sample_from``).

    ``func`` receives a spec whose ``config`` attribute is the config resolved so far, so one
    parameter can depend on another.
    """

    func: Callable[[Any], Any]

    def problems(self) -> list[str]:
        return [] if callable(self.func) else [f"sample_from() needs a callable, got {self.func!r}"]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _bound_problems(low: float, high: float, log: bool) -> list[str]:
    if not all(isinstance(b, (int, float, np.number)) and math.isfinite(b) for b in (low, high)):
        return [f"bounds must be finite numbers, got low={low!r}, high={high!r}"]
    found = [] if low < high else [f"low must be < high, got low={low}, high={high}"]
    if log and low <= 0:
        found.append(f"log-scale bounds must be > 0, got low={low}")
    return found


def _quantisation_problems(q: float | None) -> list[str]:
    if q is None or (isinstance(q, (int, float, np.number)) and math.isfinite(q) and q > 0):
        return []
    return [f"q must be > 0, got {q!r}"]


def _scale(low: float, high: float, log: bool, u: float) -> float:
    if log:  # exp(log(low)) can round below low: model-based searchers do propose the bounds
        return min(max(math.exp(math.log(low) + u * (math.log(high) - math.log(low))), low), high)
    return low + u * (high - low)


def _unscale(low: float, high: float, log: bool, value: float) -> float:
    """The inverse of :func:`_scale`."""
    if log:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _grid_index(bound: float, q: float, round_inwards: Callable[[float], int]) -> int:
    """``bound`` in units of ``q``, rounded towards the inside of the domain unless it is a multiple."""
    scaled = bound / q
    nearest = round(scaled)
    return nearest if math.isclose(scaled, nearest) else round_inwards(scaled)


# -- the functions users write in a param_space, with Ray Tune's names and conventions -----------


def uniform(lower: float, upper: float) -> Float:
    """A float drawn uniformly from ``[lower, upper)``."""
    return Float(lower, upper)


def quniform(lower: float, upper: float, q: float) -> Float:
    """``uniform`` rounded to a multiple of ``q`` (``upper`` becomes reachable)."""
    return Float(lower, upper, q=q)


def loguniform(lower: float, upper: float, base: float = 10) -> Float:
    """A float whose logarithm is uniform between ``log(lower)`` and ``log(upper)``.

    ``base`` is accepted for Ray Tune compatibility; a log-uniform distribution is the same in
    every base, so it does not change the result.
    """
    return Float(lower, upper, log=True)


def qloguniform(lower: float, upper: float, q: float, base: float = 10) -> Float:
    """``loguniform`` rounded to a multiple of ``q``."""
    return Float(lower, upper, log=True, q=q)


def randn(mean: float = 0.0, sd: float = 1.0) -> Normal:
    """A float from a normal distribution."""
    return Normal(mean, sd)


def qrandn(mean: float, sd: float, q: float) -> Normal:
    """``randn`` rounded to a multiple of ``q``."""
    return Normal(mean, sd, q)


def randint(lower: int, upper: int) -> Integer:
    """An integer from ``lower`` (inclusive) to ``upper`` (exclusive)."""
    return Integer(lower, upper)


def qrandint(lower: int, upper: int, q: int = 1) -> Integer:
    """A multiple of ``q`` from ``lower`` to ``upper``, both inclusive (``upper`` exclusive when ``q == 1``)."""
    return Integer(lower, upper, q=q)


def lograndint(lower: int, upper: int, base: float = 10) -> Integer:
    """An integer from ``lower`` to ``upper`` (exclusive), log-uniformly (``base`` as in ``loguniform``)."""
    return Integer(lower, upper, log=True)


def qlograndint(lower: int, upper: int, q: int, base: float = 10) -> Integer:
    """A multiple of ``q``, log-uniformly, from ``lower`` to ``upper`` (inclusive when ``q > 1``)."""
    return Integer(lower, upper, log=True, q=q)


def choice(categories: Sequence[Any]) -> Categorical:
    """One of ``categories``, uniformly."""
    return Categorical(tuple(categories))


def sample_from(func: Callable[[Any], Any]) -> Function:
    """A value computed by ``func(spec)`` from the partially resolved config (``spec.config``)."""
    return Function(func)


def grid_search(values: Sequence[Any]) -> dict[str, list[Any]]:
    """Try every one of ``values`` (each combined with every other grid parameter's values)."""
    return {"grid_search": list(values)}
