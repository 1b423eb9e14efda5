"""Parzen estimators over the unit cube: the density models of TPE and BOHB.

A model is a weighted mixture of product kernels, one per observation, plus (optionally) the prior,
which in the unit cube is uniform for every domain. Numerical coordinates get Gaussian kernels
truncated to ``[0, 1]``; categorical ones a table that puts most of the kernel's mass on the observed
category and spreads the rest uniformly: each other category gets ``1 / (n + 1)`` of the observed
one's weight, so kernels sharpen as the evidence grows, as numerical bandwidths shrink (Optuna's
categorical kernel does the same). Integer and quantised coordinates are ordinal: given their
levels' codes, a Gaussian kernel gives each level the mass it puts on the level's cell (the stretch
of the unit interval nearest its code), draws land on codes, and the prior gives each level its
cell's width. Scored as point densities instead, the kernels of the many observations that share a
level are spikes at its code which candidates drawn near (not on) it never see, so g(x) would
vanish from l(x) / g(x) and TPE would keep proposing the configs it has already evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ParzenEstimator:
    """A mixture density over some coordinates of the unit cube.

    ``points`` (n, d) are the kernel centres (no NaN), ``sigmas`` (n, d) the numerical bandwidths
    (ignored in categorical columns), ``levels`` (d,) the number of categories of categorical columns
    (0 elsewhere). The prior is component ``n`` with weight ``prior_weight`` (relative to the
    observations' ``weights``).
    """

    points: Array
    sigmas: Array
    weights: Array
    levels: NDArray[np.int64]
    prior_weight: float
    codes: tuple[Array | None, ...]
    """Per column, the codes of an ordinal column's levels (ascending); None elsewhere."""
    categorical_base: float = 1.0
    """Weight each category gets in a categorical kernel besides the observed one (which gets 1)."""

    @classmethod
    def fit(
        cls,
        points: Array,
        levels: NDArray[np.int64],
        categorical: NDArray[np.bool_],
        weights: Array | None = None,
        prior_weight: float = 1.0,
        bandwidth_factor: float = 1.0,
        rule: Literal["neighbours", "normal_reference"] = "neighbours",
        min_bandwidth: float | None = None,
        codes: Sequence[Array | None] = (),
    ) -> ParzenEstimator:
        """A model of ``points`` whose numerical bandwidths follow the spacing of the data.

        Each kernel's bandwidth in a coordinate is the larger gap to its neighbours there (the
        outermost ones look inwards only; a lone kernel measures to the interval's ends), clipped
        from below by ``1 / min(100, n + 2)`` -- a bandwidth that shrinks as evidence grows, but
        never to a spike -- and from above by 1. This is the rule Optuna's TPE uses, here in unit
        coordinates, so log scales and integer rounding come for free.

        ``rule="normal_reference"`` gives every kernel the bandwidth ``1.06 * std * n ** (-1 / (d + 4))``
        of its coordinate (Scott's rule, which BOHB's KDE uses), clipped from below by
        ``min_bandwidth``. ``bandwidth_factor`` widens every kernel (BOHB samples from a widened
        model). ``codes`` makes the numerical columns that have them ordinal (see the module's
        docstring).
        """
        count, dims = points.shape
        sigmas = np.ones((count, dims))
        numerical = np.flatnonzero(~categorical)
        if count and numerical.size and rule == "normal_reference":
            spread = points[:, numerical].std(axis=0) if count > 1 else np.ones(numerical.size)
            widths = np.broadcast_to(1.06 * spread * count ** (-1.0 / (dims + 4)), (count, numerical.size))
            floor = 1e-3 if min_bandwidth is None else min_bandwidth
            sigmas[:, numerical] = np.clip(widths * bandwidth_factor, floor, 1.0)
        elif count and numerical.size:
            values = points[:, numerical]
            order = np.argsort(values, axis=0, kind="stable")
            ordered = np.take_along_axis(values, order, axis=0)
            padded = np.vstack([np.zeros((1, numerical.size)), ordered, np.ones((1, numerical.size))])
            gaps = np.maximum(padded[1:-1] - padded[:-2], padded[2:] - padded[1:-1])
            if count >= 2:  # the outermost kernels look inwards only: the ends are not data
                gaps[0], gaps[-1] = ordered[1] - ordered[0], ordered[-1] - ordered[-2]
            widths = np.empty_like(gaps)
            np.put_along_axis(widths, order, gaps, axis=0)
            floor = 1.0 / min(100.0, count + 2.0) if min_bandwidth is None else min_bandwidth
            sigmas[:, numerical] = np.clip(widths * bandwidth_factor, floor, 1.0)
        return cls(
            points=points,
            sigmas=sigmas,
            weights=np.ones(count) if weights is None else weights,
            levels=np.where(categorical, levels, 0),
            prior_weight=prior_weight,
            categorical_base=1.0 / (count + 1),
            codes=tuple(None if categorical[column] or not codes else codes[column] for column in range(dims)),
        )

    def _log_mixture_weights(self) -> Array:
        weights = np.append(self.weights, self.prior_weight)
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(weights / weights.sum()))

    def sample(self, rng: np.random.Generator, size: int) -> Array:
        """``size`` points drawn from the mixture."""
        from scipy.special import ndtr, ndtri  # here, not at import: keeps `import tune_search` light

        count, dims = self.points.shape
        probabilities = np.exp(self._log_mixture_weights())
        component = rng.choice(count + 1, size=size, p=probabilities / probabilities.sum())
        from_prior = component == count
        kernel = np.minimum(component, max(count - 1, 0))
        draws = rng.random((size, dims))
        result: Array = draws.copy()  # prior draws: uniform
        for column in range(dims):
            if not count:
                break
            level_count = int(self.levels[column])
            if level_count:
                centre = np.floor(self.points[kernel, column] * level_count)
                base = self.categorical_base
                stay = draws[:, column] < 1.0 / (1.0 + level_count * base)
                others = rng.integers(0, level_count, size)  # the uniform part, centre included
                level = np.where(stay, centre, others)
                sampled = (level + 0.5) / level_count
            else:
                mu = self.points[kernel, column]
                sigma = self.sigmas[kernel, column]
                low, high = ndtr(-mu / sigma), ndtr((1.0 - mu) / sigma)
                quantile = low + draws[:, column] * (high - low)
                sampled = np.clip(mu + sigma * ndtri(np.clip(quantile, 1e-300, 1 - 1e-16)), 0.0, 1.0)
            result[:, column] = np.where(from_prior, result[:, column], sampled)
        for column, codes in enumerate(self.codes):
            if codes is not None:
                result[:, column] = codes[level_index(codes, result[:, column])]
        return result

    def log_pdf(self, x: Array) -> Array:
        """The log density at each row of ``x`` (m, d)."""
        from scipy.special import ndtr

        count, dims = self.points.shape
        log_weights = self._log_mixture_weights()
        prior = np.zeros(len(x))
        terms = np.zeros((len(x), count))
        for column in range(dims):
            level_count = int(self.levels[column])
            if level_count:
                level = np.minimum(np.floor(x[:, column] * level_count), level_count - 1)
                prior -= np.log(level_count)
                if count:
                    same = level[:, None] == np.floor(self.points[None, :, column] * level_count)
                    base = self.categorical_base
                    terms += np.log(np.where(same, 1.0 + base, base) / (1.0 + level_count * base))
                continue
            codes = self.codes[column]
            if codes is not None:
                edges = np.concatenate([[0.0], (codes[1:] + codes[:-1]) / 2, [1.0]])
                cell = level_index(codes, x[:, column])
                prior += np.log(edges[cell + 1] - edges[cell])
            if not count:
                continue
            mu = self.points[:, column]
            sigma = self.sigmas[:, column]
            inside = np.log(np.maximum(ndtr((1.0 - mu) / sigma) - ndtr(-mu / sigma), 1e-300))
            if codes is not None:  # per distinct cell (candidates share many), then spread to the rows
                cells, row_cell = np.unique(cell, return_inverse=True)
                z_low = (edges[cells, None] - mu) / sigma
                z_high = (edges[cells + 1, None] - mu) / sigma
                # a cell above a kernel's centre as the difference of upper tails, which keeps its
                # digits far out where both lower tails round to 1
                flip = np.where(z_low > 0, -1.0, 1.0)
                cell_mass = np.abs(ndtr(flip * z_high) - ndtr(flip * z_low))
                terms += (np.log(np.maximum(cell_mass, 1e-300)) - inside)[row_cell]
            else:
                z = (x[:, column, None] - mu) / sigma
                terms += -0.5 * z * z - _LOG_SQRT_2PI - np.log(sigma) - inside
        every = np.concatenate([terms + log_weights[:count], (prior + log_weights[count])[:, None]], axis=1)
        top = every.max(axis=1, keepdims=True)  # log-sum-exp, shifted so the largest term is exp(0)
        top[~np.isfinite(top)] = 0.0
        return np.asarray(np.log(np.exp(every - top).sum(axis=1)) + top[:, 0])


def level_index(codes: Array, x: Array) -> NDArray[np.intp]:
    """The level whose code is nearest each of ``x``: its cell's edges are halfway between codes."""
    return np.searchsorted((codes[1:] + codes[:-1]) / 2, x)
