"""The median stopping rule (Golovin et al., 2017), with Ray Tune's parameters and rule."""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tune_schedulers._metrics import read_result
from tune_schedulers._scheduler import TrialScheduler
from tune_schedulers._sorted import SortedList
from tune_trial import Decision, Trial, TrialStatus, result_keys


@dataclass
class _History:
    """A trial's results reduced to what the rule reads: two floats per result, not result dicts."""

    times: list[float] = field(default_factory=list)
    sums: list[float] = field(default_factory=list)  # running sums of the metric from grace_period on
    counts: list[int] = field(default_factory=list)
    best: float = math.nan  # best finite metric value so far

    def running_mean(self, time: float) -> float:
        """The mean metric over results with ``grace_period <= t <= time`` (NaN if none)."""
        return self.mean_at_index(bisect.bisect_right(self.times, time) - 1)

    def mean_at_index(self, index: int) -> float:
        if index < 0 or self.counts[index] == 0:
            return math.nan
        return self.sums[index] / self.counts[index]


class MedianStoppingRule(TrialScheduler):
    """Stops a trial whose best result so far is worse than the median of the other trials' running means.

    At time ``t`` (``time_attr``) past ``grace_period``, the trial's best metric value is compared
    with the median, over the other trials that reached ``t``, of their mean metric between
    ``grace_period`` and ``t``; strictly worse stops it (or pauses it, with ``hard_stop=False``).
    With fewer than ``min_samples_required`` such trials, the trial goes on, or yields its slot to a
    waiting trial when it has run ``min_time_slice`` since it last did.

    Memory is a few floats per result (Ray Tune keeps every result dict). With
    ``time_attr="training_iteration"`` the running means at each iteration are kept sorted, so a
    decision costs about O(sqrt n); with other time attributes (reported at arbitrary times) a
    decision reads the trials that reached ``t``: linear in their number, with a small constant.
    A trial restarted from a checkpoint drops the results after it from its history. Non-finite values
    never count as a trial's best and stay out of running means (a running mean they enter is
    not finite, and is skipped as in Ray Tune).
    """

    needs_metric = True

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        grace_period: float = 60.0,
        min_samples_required: int = 3,
        min_time_slice: float = 0,
        hard_stop: bool = True,
    ) -> None:
        super().__init__(metric, mode)
        name = type(self).__name__
        if grace_period < 0:
            raise ValueError(f"{name}: grace_period must be >= 0, got {grace_period}")
        if min_samples_required < 1:
            raise ValueError(f"{name}: min_samples_required must be >= 1, got {min_samples_required}")
        if min_time_slice < 0:
            raise ValueError(f"{name}: min_time_slice must be >= 0, got {min_time_slice}")
        self.time_attr = time_attr
        self.grace_period = grace_period
        self.min_samples_required = min_samples_required
        self.min_time_slice = min_time_slice
        self.hard_stop = hard_stop
        self._histories: dict[str, _History] = {}
        self._stopped: set[str] = set()
        self._last_pause: dict[str, float] = {}
        self._trials: dict[str, Trial] = {}
        # With training_iteration, every trial that reached iteration t reported at t: the running
        # means at each t can be kept sorted, and a decision is a lookup instead of a scan.
        self._means_at: dict[float, SortedList] | None = {} if time_attr == result_keys.TRAINING_ITERATION else None

    def on_trial_add(self, trial: Trial) -> None:
        self._trials[trial.trial_id] = trial

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision:
        value, sign, time = read_result(type(self).__name__, trial, result, self.metric, self.mode, self.time_attr)
        if trial.trial_id in self._stopped:
            return Decision.CONTINUE  # paused by the rule once (hard_stop=False): runs on unjudged
        history = self._record(trial.trial_id, time, value, sign)
        if time < self.grace_period:
            return Decision.CONTINUE
        means = self._others_means(trial.trial_id, time)
        enough = len(means) >= self.min_samples_required
        median = _median(means) if enough else math.nan
        own = history.running_mean(time)
        if self._means_at is not None and math.isfinite(own):  # after reading the others' means
            self._means_at.setdefault(time, SortedList()).add((own, trial.trial_id))
        if not enough:
            return self._on_insufficient_samples(trial, time)
        best = history.best if math.isfinite(history.best) else -sign * math.inf
        if sign * median > sign * best:
            self._stopped.add(trial.trial_id)
            return Decision.STOP if self.hard_stop else Decision.PAUSE
        return Decision.CONTINUE

    def _others_means(self, trial_id: str, time: float) -> Sequence[float] | SortedList:
        """The finite running means at ``time`` of the other trials that reached it."""
        if self._means_at is not None:
            return self._means_at.get(time) or SortedList()
        return [
            mean
            for other_id, other in self._histories.items()
            if other_id != trial_id and other.times[-1] >= time
            if math.isfinite(mean := other.running_mean(time))
        ]

    def _record(self, trial_id: str, time: float, value: float, sign: float) -> _History:
        history = self._histories.setdefault(trial_id, _History())
        if history.times and time <= history.times[-1]:
            # Restarted from a checkpoint: the results after it belong to a past that was undone.
            self._truncate(trial_id, history, time)
        in_scope = time >= self.grace_period
        history.times.append(time)
        history.sums.append((history.sums[-1] if history.sums else 0.0) + (value if in_scope else 0.0))
        history.counts.append((history.counts[-1] if history.counts else 0) + in_scope)
        if math.isfinite(value) and not (math.isfinite(history.best) and sign * value <= sign * history.best):
            history.best = value
        return history

    def _truncate(self, trial_id: str, history: _History, time: float) -> None:
        keep = bisect.bisect_left(history.times, time)
        if self._means_at is not None:
            for index in range(keep, len(history.times)):
                mean = history.mean_at_index(index)
                if math.isfinite(mean) and history.times[index] >= self.grace_period:
                    self._means_at[history.times[index]].remove((mean, trial_id))
        del history.times[keep:], history.sums[keep:], history.counts[keep:]

    def _on_insufficient_samples(self, trial: Trial, time: float) -> Decision:
        due = time - self._last_pause.get(trial.trial_id, -math.inf) > self.min_time_slice
        if due and any(other.status in (TrialStatus.PENDING, TrialStatus.PAUSED) for other in self._trials.values()):
            self._last_pause[trial.trial_id] = time
            return Decision.PAUSE
        return Decision.CONTINUE

    def _forget(self, trial_id: str) -> None:
        self._trials.pop(trial_id, None)

    def get_state(self) -> dict[str, Any]:
        histories = {
            trial_id: {"times": h.times, "sums": h.sums, "counts": h.counts, "best": _json_float(h.best)}
            for trial_id, h in self._histories.items()
        }
        return {
            **super().get_state(),
            "histories": histories,
            "stopped": sorted(self._stopped),
            "last_pause": self._last_pause,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._histories = {
            trial_id: _History(list(h["times"]), list(h["sums"]), list(h["counts"]), _float(h["best"]))
            for trial_id, h in state["histories"].items()
        }
        self._stopped = set(state["stopped"])
        self._last_pause = dict(state["last_pause"])
        if self._means_at is not None:
            self._means_at = {}
            for trial_id, history in self._histories.items():
                for index, time in enumerate(history.times):
                    mean = history.mean_at_index(index)
                    if time >= self.grace_period and math.isfinite(mean):
                        self._means_at.setdefault(time, SortedList()).add((mean, trial_id))


def _median(values: Sequence[float] | SortedList) -> float:
    """``statistics.median`` of plain floats, or of a SortedList of ``(mean, trial_id)`` pairs."""
    if isinstance(values, SortedList):
        middle, odd = divmod(len(values), 2)
        if odd:
            return float(values[middle][0])
        return float((values[middle - 1][0] + values[middle][0]) / 2)
    return statistics.median(values)


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)
