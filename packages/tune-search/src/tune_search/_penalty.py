"""Local penalisation (González et al., 2016): how a suggestion keeps its distance from running trials.

With trials in flight, a model-based searcher makes each suggestion from the same results as the
ones before it, and its acquisition's best point is (nearly) the same again. Local penalisation
leaves the model alone and adds ``sum_p log(1 - s(x, p))`` to the log acquisition of a candidate
``x``, for each running trial ``p``: ``s`` is a similarity that is 1 at ``p`` and fades with
distance -- a Gaussian in the ordered coordinates, times agreement in the categorical ones (another
category is another config). TPESearch (``_tpe_batch``) and GPSearch (``_gp._acquisition``) share it
and choose its widths each from their own model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SMALLEST = 1e-12
"""The floor of ``1 - s``: an exact copy scores ~ -27.6 per running trial instead of minus infinity,
so if every candidate copies one, the least-copied still wins."""


def similarity(
    points: NDArray[np.float64], pending: NDArray[np.float64], widths: NDArray[np.float64], counts: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``s(x, p)`` for each row ``x`` of ``points`` and ``p`` of ``pending``, shape (x, p), and the
    scaled differences ``z = (x - p) / width`` in the ordered coordinates, shape (x, p, ordered).

    ``counts`` holds each categorical coordinate's number of categories and 0 for ordered ones, whose
    ``widths`` set the Gaussian (the categorical ones' widths are not read).
    """
    ordered = np.flatnonzero(counts == 0)
    z = (points[:, None, ordered] - pending[None, :, ordered]) / widths[ordered]
    result = np.exp(-0.5 * np.einsum("cpd,cpd->cp", z, z))
    for column in np.flatnonzero(counts > 0):
        count = counts[column]
        chosen = np.minimum(np.floor(points[:, column] * count), count - 1)
        running = np.minimum(np.floor(pending[:, column] * count), count - 1)
        result = result * (chosen[:, None] == running[None, :])
    return result, z


def log_penalty(similarities: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_p log(1 - s(x, p))`` per row ``x``, from :func:`similarity`'s first result."""
    return np.asarray(np.log(np.maximum(1.0 - similarities, SMALLEST)).sum(axis=1))
