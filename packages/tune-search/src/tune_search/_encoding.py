"""A search space as points of the unit cube: the shared input of model-based searchers.

Each domain of a space is one coordinate in ``[0, 1]``, mapped to a value by the domain's own
quantile function (:meth:`Domain.from_unit`), so a model that samples uniformly in the cube samples
from the user's prior, log scales and integer rounding included. Flat-vector searchers (GP-BO,
CMA-ES) move whole vectors and let :meth:`UnitEncoding.decode` ignore the coordinates of parameters
whose category is not chosen; per-parameter searchers (TPE) use :meth:`UnitEncoding.active` and
:attr:`UnitEncoding.groups` to model only the parameters that took part in a trial. ``sample_from``
parameters are not coordinates: they are computed from the decoded values, as everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tune_search._domains import Categorical, Domain, Float, Integer
from tune_search._paths import Path, format_path
from tune_search._space import SearchSpace

_BELOW_ONE = 1.0 - 1e-9
"""Where decoding clips from above: a float domain's upper bound is exclusive, as when sampling."""


class UnitEncoding:
    """Maps the configs of a space to unit vectors and back.

    A vector has one coordinate per domain, in the order of ``space.domains`` (a choice before the
    parameters nested in its categories). ``NaN`` marks a coordinate with no value: a parameter that
    is inactive, or one a partial config leaves unset.
    """

    def __init__(self, space: SearchSpace) -> None:
        if space.grids:
            raise ValueError(
                f"{format_path(space.grids[0][0])}: grid_search has no place in a unit encoding; "
                "use BasicVariantGenerator for grids"
            )
        self.space = space
        self.keys: tuple[Path, ...] = tuple(key for key, _ in space.domains)
        self.domains: tuple[Domain, ...] = tuple(domain for _, domain in space.domains)
        self.names: tuple[str, ...] = tuple(format_path(key) for key in self.keys)
        """The parameters' keys as error messages write them (``opt[0].lr`` inside a choice's category)."""
        self.levels: NDArray[np.int64] = np.array([domain.levels or 0 for domain in self.domains], dtype=np.int64)
        """How many values each coordinate's domain has; 0 when it is continuous."""
        self.categorical: NDArray[np.bool_] = np.array([domain.categorical for domain in self.domains], dtype=bool)
        self.codes: tuple[NDArray[np.float64] | None, ...] = tuple(level_codes(domain) for domain in self.domains)
        """Per coordinate, the codes of its domain's levels (:func:`level_codes`); None when it is continuous."""
        position = {key: index for index, key in enumerate(self.keys)}
        conditions = [space.conditions.get(key) for key in self.keys]
        self.parent: NDArray[np.int64] = np.array(
            [-1 if condition is None else position[condition.parent] for condition in conditions], dtype=np.int64
        )
        """The coordinate of the choice each parameter is nested in; -1 when it is unconditional."""
        self.category: NDArray[np.int64] = np.array(
            [-1 if condition is None else condition.category for condition in conditions], dtype=np.int64
        )
        """The category of that choice which activates the parameter; -1 when unconditional."""
        self.conditional = bool((self.parent >= 0).any())
        signatures: dict[tuple[int, int], list[int]] = {}
        for index in range(len(self.keys)):
            signatures.setdefault((int(self.parent[index]), int(self.category[index])), []).append(index)
        self.groups: tuple[tuple[int, ...], ...] = tuple(tuple(members) for members in signatures.values())
        """Coordinates that are always active together (same choice and category), the unconditional ones first."""

    def __len__(self) -> int:
        return len(self.keys)

    def active(self, unit: ArrayLike) -> NDArray[np.bool_]:
        """Which coordinates take part, for one vector ``(d,)`` or a batch ``(n, d)``.

        A nested parameter is active when its choice is active and the choice's coordinate falls in
        the parameter's category; an unset (NaN) choice activates none of its categories.
        """
        points = np.asarray(unit, dtype=float)
        batch = np.atleast_2d(points)
        mask = np.ones(batch.shape, dtype=bool)
        for index in np.flatnonzero(self.parent >= 0):
            parent = int(self.parent[index])
            with np.errstate(invalid="ignore"):
                chosen = np.minimum(np.floor(batch[:, parent] * self.levels[parent]), self.levels[parent] - 1)
            mask[:, index] = mask[:, parent] & (chosen == self.category[index])
        return mask if points.ndim == 2 else mask[0]

    def decode(self, unit: ArrayLike, rng: np.random.Generator) -> dict[str, Any]:
        """The config at ``unit``; active coordinates that are NaN are drawn from ``rng``.

        Coordinates of inactive parameters are ignored, so a flat-vector searcher may put anything
        there. ``sample_from`` functions run on the decoded values.
        """
        point = np.asarray(unit, dtype=float)
        if point.shape != (len(self.keys),):
            raise ValueError(f"a unit vector for this space has {len(self.keys)} coordinates, got shape {point.shape}")
        fixed = {
            key: domain.from_unit(min(max(value, 0.0), _BELOW_ONE))
            for key, domain, value in zip(self.keys, self.domains, point.tolist(), strict=True)
            if not math.isnan(value)
        }
        return self.space.resolve(rng, fixed)

    def encode(self, config: Mapping[str, Any]) -> NDArray[np.float64]:
        """The unit vector of a (possibly partial) config: NaN where a parameter is inactive or unset.

        Raises ``ValueError`` naming the parameter path of a value the space cannot hold.
        """
        values = self.space.assignment(config)
        point = np.full(len(self.keys), np.nan)
        for index, (key, domain) in enumerate(zip(self.keys, self.domains, strict=True)):
            if key in values:
                try:
                    point[index] = domain.to_unit(values[key])
                except ValueError as error:
                    raise ValueError(f"{format_path(key)}: {error}") from None
        point[~self.active(point)] = np.nan
        return point


MOST_LEVELS = 1000
"""Discrete domains with more levels are treated as continuous (decoding still rounds)."""


def level_codes(domain: Domain) -> NDArray[np.float64] | None:
    """The unit codes of a discrete domain's levels, ascending; None for continuous (or huge) ones.

    A code is where :meth:`Domain.to_unit` puts the level's value: the middle of its stretch.
    """
    levels = domain.levels
    if levels is None or levels > MOST_LEVELS:
        return None
    if isinstance(domain, Categorical):
        return (np.arange(levels) + 0.5) / levels
    if isinstance(domain, Integer):
        q = domain.q or 1
        values: list[float] = [domain.from_unit(0.0) + q * step for step in range(levels)]
    else:
        assert isinstance(domain, Float)
        assert domain.q is not None
        values = [(round(domain.low / domain.q) + step) * domain.q for step in range(levels)]
    return np.array(sorted({domain.to_unit(value) for value in values}))


def encoding_for(space: SearchSpace, searcher: str, points: Sequence[Mapping[str, Any]] = ()) -> UnitEncoding:
    """``space``'s encoding for ``searcher``, refusing at set-up -- not mid-run, after trials have
    started -- a space it cannot encode, or a preset (``points_to_evaluate``) holding a value the space
    cannot (named by its index and parameter path)."""
    try:
        encoding = UnitEncoding(space)
    except ValueError as error:
        raise ValueError(f"{error} ({searcher} cannot use it)") from None
    for index, point in enumerate(points):
        try:
            encoding.encode(point)
        except ValueError as error:
            raise ValueError(f"points_to_evaluate[{index}]: {error}") from None
    return encoding
