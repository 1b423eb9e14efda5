"""Reported values as numbers.

A training loop reports numpy scalars (``np.float32(loss)``, ``np.int64(step)``) as often as Python
numbers, and they reach searchers, stoppers and progress reports unconverted. ``isinstance(value,
(int, float))`` is false for most of them, so a check written that way silently treats a good
result as a missing one; every reader of a metric goes through :func:`as_number` instead.
"""

from __future__ import annotations

import numbers


def as_number(value: object) -> float | None:
    """``value`` as a float if it is a real number -- Python's, or any type registered as
    ``numbers.Real`` (numpy's scalars are) -- else None. NaN and infinities are numbers here;
    a bool is not (a flag such as ``done`` is not a metric value)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
