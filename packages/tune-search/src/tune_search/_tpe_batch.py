"""Parallel TPE: how a suggestion keeps its distance from the trials still running.

With trials in flight, each suggestion is made from the same results as the ones before it, so
TPE's argmax of l(x) / g(x) lands on (nearly) the same point again and again: a batch of copies.
The classic remedy, the constant liar, puts the running trials into the bad set; that lowers l / g
in the whole neighbourhood of every running trial -- usually the most promising region, since that
is where TPE sent them -- and at the scale of g's kernels, which are wide. The search then drifts
away from the incumbent while its trials run, and converges late (NAS-Bench-201's optimum within 100
evaluations, over 30 seeds: 11 sequentially; with 8 in flight, 4 with the liar and 12 with the
penalty below; docs/benchmarks.md).

Local penalisation (González et al., 2016, for GP-BO) leaves the model alone and multiplies the
acquisition of a candidate ``x`` by ``1 - k(x, p)`` for each running trial ``p``, where ``k`` is a
similarity that is 1 at ``p`` and fades with distance. Here ``k`` is a Gaussian in the numerical
coordinates whose width is a fraction of the good model's median bandwidth there -- the scale at
which l(x) itself tells points apart, so two suggestions closer than that would be near-duplicates --
times exact agreement in the categorical coordinates (a different category is a different config).
A copy of a running trial is thereby excluded, its close neighbours discounted, and the rest of the
good region left as attractive as the model says.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tune_search._parzen import ParzenEstimator

_SMALLEST = 1e-12
"""The floor of ``1 - k``: an exact copy scores ~ -27.6 per running trial instead of minus infinity,
so if every candidate copies one, the least-copied still wins."""


def pending_log_penalty(
    candidates: NDArray[np.float64], pending: NDArray[np.float64], good: ParzenEstimator, scale: float
) -> NDArray[np.float64]:
    """``sum_p log(1 - k(x, p))`` for each candidate row ``x`` and running trial row ``p``.

    ``good`` is the model the candidates were drawn from (its bandwidths set the scale, its levels
    say which columns are categorical); ``scale`` is the width as a fraction of its median bandwidth.
    """
    levels = good.levels
    numerical = np.flatnonzero(levels == 0)
    widths = scale * (np.median(good.sigmas[:, numerical], axis=0) if len(good.points) else np.ones(numerical.size))
    z = (candidates[:, None, numerical] - pending[None, :, numerical]) / widths
    similarity = np.exp(-0.5 * np.einsum("cpd,cpd->cp", z, z))
    for column in np.flatnonzero(levels > 0):
        count = levels[column]
        chosen = np.minimum(np.floor(candidates[:, column] * count), count - 1)
        running = np.minimum(np.floor(pending[:, column] * count), count - 1)
        similarity = similarity * (chosen[:, None] == running[None, :])
    return np.asarray(np.log(np.maximum(1.0 - similarity, _SMALLEST)).sum(axis=1))
