"""An exact running quantile: numpy's default ("linear") percentile, in O(log n) per insertion.

Ray Tune's ASHA recomputes ``np.nanpercentile`` over a whole rung at every milestone crossing, which
makes filling a rung of n trials O(n²). Here two heaps keep the order statistics the percentile
needs: ``below`` (a max-heap, negated) holds the ``floor(h) + 1`` smallest values and ``above`` the
rest, where ``h = (n - 1) * q`` is numpy's virtual index. The interpolation repeats numpy's float
operations step by step, so the cutoffs are bit-identical and decisions match the reference rule.
"""

from __future__ import annotations

import heapq
import math


class RunningQuantile:
    """The ``q``-quantile (``0 <= q <= 1``) of the finite values added so far."""

    __slots__ = ("_above", "_below", "_q")

    def __init__(self, q: float) -> None:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be in [0, 1], got {q}")
        self._q = q
        self._below: list[float] = []  # negated: a max-heap of the smallest values
        self._above: list[float] = []

    def __len__(self) -> int:
        return len(self._below) + len(self._above)

    def add(self, value: float) -> None:
        """Add a finite value."""
        if self._below and value > -self._below[0]:
            heapq.heappush(self._above, value)
        else:
            heapq.heappush(self._below, -value)
        target = self._below_size(len(self))
        while len(self._below) > target:
            heapq.heappush(self._above, -heapq.heappop(self._below))
        while len(self._below) < target:
            heapq.heappush(self._below, -heapq.heappop(self._above))

    def _below_size(self, count: int) -> int:
        return min(math.floor((count - 1) * self._q) + 1, count)

    def value(self) -> float | None:
        """The quantile, as ``numpy.percentile(values, q * 100)`` computes it; None when empty."""
        count = len(self)
        if count == 0:
            return None
        virtual = (count - 1) * self._q
        previous = -self._below[0]
        if virtual >= count - 1 or not self._above:
            return previous
        following = self._above[0]
        gamma = virtual - math.floor(virtual)
        difference = following - previous
        if gamma >= 0.5:  # numpy's lerp switches formula here, for accuracy near b
            return following - difference * (1 - gamma)
        return previous + difference * gamma
