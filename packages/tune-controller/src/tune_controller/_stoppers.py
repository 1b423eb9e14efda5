"""Stoppers: conditions that end trials, or the whole experiment, from their results.

The ``stop`` of ``RunConfig`` may be a Stopper, a ``{metric: threshold}`` dict or a function of
``(trial_id, result)``; :func:`as_stopper` turns each into a Stopper. A stopper also says at which
iterations it may stop a trial (``decision_points``), so trials run ahead between them instead of
waiting for the driver at every result.
"""

from __future__ import annotations

import datetime
import logging
import math
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Mapping
from typing import Any

from tune_trial import as_number, result_keys

logger = logging.getLogger(__name__)


class Stopper:
    """Base class: override ``__call__`` (one trial) and/or ``stop_all`` (the experiment)."""

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        """Whether the trial that reported ``result`` should stop."""
        return False

    def stop_all(self) -> bool:
        """Whether the whole experiment should stop now."""
        return False

    def decision_points(self) -> Collection[int] | None:
        """Iterations at which ``__call__`` may say stop; ``None``: any result (the safe default)."""
        return None


class NoopStopper(Stopper):
    """Never stops anything."""

    def decision_points(self) -> Collection[int]:
        return ()


class FunctionStopper(Stopper):
    """Stops a trial when ``function(trial_id, result)`` is true."""

    def __init__(self, function: Callable[[str, Mapping[str, Any]], bool]) -> None:
        if not callable(function):
            raise TypeError(f"FunctionStopper needs a callable, got {type(function).__name__}")
        self._function = function

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        return bool(self._function(trial_id, result))


class ThresholdStopper(Stopper):
    """Ray Tune's ``stop={"metric": threshold}``: stop a trial once any ``result[metric] >= threshold``."""

    def __init__(self, thresholds: Mapping[str, float]) -> None:
        self.thresholds = dict(thresholds)
        self._warned = False

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        if not self._warned:
            self._warn_once_about_unknown_keys(result)
        for key, threshold in self.thresholds.items():
            value = as_number(result.get(key))
            if value is not None and not math.isnan(value) and value >= threshold:
                return True
        return False

    def _warn_once_about_unknown_keys(self, result: Mapping[str, Any]) -> None:
        unknown = sorted(key for key in self.thresholds if key not in result)
        if unknown:
            self._warned = True
            logger.warning(
                "RunConfig.stop names %s, which trial results do not have (they have: %s): "
                "those conditions never stop a trial",
                ", ".join(repr(key) for key in unknown),
                ", ".join(sorted(result)),
            )

    def decision_points(self) -> Collection[int] | None:
        if set(self.thresholds) == {result_keys.TRAINING_ITERATION}:
            return {math.ceil(self.thresholds[result_keys.TRAINING_ITERATION])}
        return None


class MaximumIterationStopper(Stopper):
    """Stops each trial after ``max_iter`` results."""

    def __init__(self, max_iter: int) -> None:
        if max_iter < 1:
            raise ValueError(f"MaximumIterationStopper: max_iter must be >= 1, got {max_iter}")
        self.max_iter = max_iter
        self._counts: defaultdict[str, int] = defaultdict(int)

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        self._counts[trial_id] += 1
        return self._counts[trial_id] >= self.max_iter

    def decision_points(self) -> Collection[int]:
        return {self.max_iter}


class TrialPlateauStopper(Stopper):
    """Stops a trial whose last ``num_results`` values of ``metric`` vary by less than ``std``.

    Not before ``grace_period`` results; with ``metric_threshold`` only once the metric is at least
    that good (``mode`` says which way is better).
    """

    def __init__(
        self,
        metric: str,
        std: float = 0.01,
        num_results: int = 4,
        grace_period: int = 4,
        metric_threshold: float | None = None,
        mode: str | None = None,
    ) -> None:
        if num_results < 2:
            raise ValueError(f"TrialPlateauStopper: num_results must be >= 2, got {num_results}")
        if metric_threshold is not None and mode not in ("min", "max"):
            raise ValueError("TrialPlateauStopper: metric_threshold needs mode 'min' or 'max'")
        self.metric, self.std, self.num_results = metric, std, num_results
        self.grace_period, self.metric_threshold, self.mode = grace_period, metric_threshold, mode
        self._recent: defaultdict[str, deque[float]] = defaultdict(lambda: deque(maxlen=num_results))
        self._counts: defaultdict[str, int] = defaultdict(int)

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        if self.metric not in result:
            raise ValueError(
                f"TrialPlateauStopper: trial {trial_id} reported no {self.metric!r} (it has: {sorted(result)})"
            )
        value = float(result[self.metric])
        self._counts[trial_id] += 1
        recent = self._recent[trial_id]
        recent.append(value)
        if self._counts[trial_id] < self.grace_period or len(recent) < self.num_results:
            return False
        if self.metric_threshold is not None:
            good_enough = value <= self.metric_threshold if self.mode == "min" else value >= self.metric_threshold
            if not good_enough:
                return False
        return statistics.pstdev(recent) < self.std


class ExperimentPlateauStopper(Stopper):
    """Stops the experiment when the ``top`` best values of ``metric`` vary by less than ``std``
    for ``patience`` results in a row."""

    def __init__(self, metric: str, std: float = 0.001, top: int = 10, mode: str = "min", patience: int = 0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ExperimentPlateauStopper: mode must be 'min' or 'max', got {mode!r}")
        if top < 2:
            raise ValueError(f"ExperimentPlateauStopper: top must be >= 2, got {top}")
        if patience < 0:
            raise ValueError(f"ExperimentPlateauStopper: patience must be >= 0, got {patience}")
        self.metric, self.std, self.top, self.mode, self.patience = metric, std, top, mode, patience
        self._best: list[float] = []
        self._plateau_results = 0

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        value = as_number(result.get(self.metric))
        if value is not None and math.isfinite(value):
            self._best = sorted([*self._best, value], reverse=self.mode == "max")[: self.top]
            plateau = len(self._best) == self.top and statistics.pstdev(self._best) <= self.std
            self._plateau_results = self._plateau_results + 1 if plateau else 0
        return False

    def stop_all(self) -> bool:
        return self._plateau_results > self.patience

    def decision_points(self) -> Collection[int]:
        return ()  # it ends the experiment, never holds a trial back


class TimeoutStopper(Stopper):
    """Stops the experiment ``timeout`` (seconds or a ``timedelta``) after its first check."""

    def __init__(self, timeout: float | datetime.timedelta) -> None:
        seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
        if not seconds > 0:
            raise ValueError(f"TimeoutStopper: timeout must be > 0, got {timeout!r}")
        self.timeout_s = seconds
        self._deadline: float | None = None

    def stop_all(self) -> bool:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.timeout_s
        return now >= self._deadline

    def decision_points(self) -> Collection[int]:
        return ()


class CombinedStopper(Stopper):
    """Stops what any of ``stoppers`` stops."""

    def __init__(self, *stoppers: Stopper) -> None:
        self.stoppers = stoppers

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        # Every stopper sees every result (some count them): ask them all, then combine.
        verdicts = [stopper(trial_id, result) for stopper in self.stoppers]
        return any(verdicts)

    def stop_all(self) -> bool:
        verdicts = [stopper.stop_all() for stopper in self.stoppers]
        return any(verdicts)

    def decision_points(self) -> Collection[int] | None:
        points: set[int] = set()
        for stopper in self.stoppers:
            own = stopper.decision_points()
            if own is None:
                return None
            points |= set(own)
        return points


def as_stopper(stop: Stopper | Mapping[str, float] | Callable[[str, Mapping[str, Any]], bool] | None) -> Stopper:
    """What ``RunConfig(stop=...)`` accepts, as a Stopper."""
    if stop is None:
        return NoopStopper()
    if isinstance(stop, Stopper):
        return stop
    if isinstance(stop, Mapping):
        return ThresholdStopper(stop)
    if callable(stop):
        return FunctionStopper(stop)
    raise TypeError(f"RunConfig.stop must be a Stopper, a dict or a function, got {type(stop).__name__}")
