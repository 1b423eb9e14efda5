"""Reading a scheduler's metric and time attribute out of a result, with the rules all schedulers share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tune_trial import Trial


def require(trial: Trial, result: Mapping[str, Any], key: str, scheduler: str) -> Any:
    """``result[key]``, or a ``ValueError`` naming the trial, the key and what the result has."""
    if key not in result:
        known = ", ".join(sorted(str(name) for name in result)) or "nothing"
        raise ValueError(
            f"{scheduler}: trial {trial.trial_id} reported a result without {key!r} (it has: {known}); "
            f"report {key!r} in every result, or configure the scheduler with a metric the trial reports"
        )
    return result[key]


def reward(value: Any, sign: float) -> float:
    """The metric as a reward (higher is better): ``sign`` is +1 for mode max, -1 for min.

    NaN and infinite values are the worst possible reward, ``-inf``: a trial that diverged is never
    mistaken for the best one.
    """
    number = float(value)
    return sign * number if math.isfinite(number) else -math.inf


def mode_sign(mode: str | None, scheduler: str) -> float:
    if mode not in ("min", "max"):
        raise ValueError(
            f"{scheduler} needs mode 'min' or 'max' (got {mode!r}): pass it to the scheduler or to TuneConfig"
        )
    return 1.0 if mode == "max" else -1.0


def read_result(
    scheduler: str, trial: Trial, result: Mapping[str, Any], metric: str | None, mode: str | None, time_attr: str
) -> tuple[float, float, float]:
    """``(value, sign, time)``: the metric, +1 for mode max or -1 for min, and the time attribute.

    Anything missing is a ``ValueError`` that names the trial, the key and where to set it.
    """
    if metric is None:
        raise ValueError(f"{scheduler} needs a metric: pass it to the scheduler or to TuneConfig")
    sign = mode_sign(mode, scheduler)
    value = float(require(trial, result, metric, scheduler))
    return value, sign, float(require(trial, result, time_attr, scheduler))
