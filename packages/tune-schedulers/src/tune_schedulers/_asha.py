"""Asynchronous successive halving (ASHA), in its stopping and its promotion variants."""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tune_schedulers._metrics import read_result, reward
from tune_schedulers._quantile import RunningQuantile
from tune_schedulers._scheduler import TrialScheduler
from tune_trial import Decision, Trial, TrialStatus


class _Rung:
    """The rewards recorded at one milestone, with the running cutoff quantile."""

    __slots__ = ("cutoff", "milestone", "recorded")

    def __init__(self, milestone: int, quantile: float) -> None:
        self.milestone = milestone
        self.recorded: dict[str, float] = {}  # trial id -> reward (NaN for non-finite rewards)
        self.cutoff = RunningQuantile(quantile)

    def record(self, trial_id: str, value: float) -> None:
        self.recorded[trial_id] = value if math.isfinite(value) else math.nan
        if math.isfinite(value):  # NaN and inf are ignored by the quantile, as nanpercentile does
            self.cutoff.add(value)


class _Bracket:
    """Rungs at ``grace_period * rf**(k + s)`` up to ``max_t``, highest first (Ray Tune's layout)."""

    def __init__(self, grace_period: int, max_t: int, reduction_factor: float, s: int) -> None:
        self.reduction_factor = reduction_factor
        count = int(math.log(max_t / grace_period) / math.log(reduction_factor) - s + 1)
        quantile = (1 - 1 / reduction_factor) * 100 / 100  # numpy's nanpercentile divides by 100
        self.rungs = [_Rung(int(grace_period * reduction_factor ** (k + s)), quantile) for k in reversed(range(count))]


class AsyncHyperBandScheduler(TrialScheduler):
    """ASHA, stopping variant (Li et al., 2020), with Ray Tune's parameters and decision rule.

    When a trial first reaches a rung's milestone (``time_attr >= milestone``), it is stopped if its
    reward is strictly below the ``1 - 1/reduction_factor`` quantile (linear interpolation, NaN
    ignored) of the rewards recorded at that rung before it; either way its reward is recorded.
    Trials reaching ``max_t`` stop. Cutoffs are kept by running quantiles, so a decision costs
    O(log n) in the rung's size instead of Ray's O(n), with bit-identical results.

    Non-finite metrics are the worst reward (stopped wherever a cutoff exists) and are left out of
    the quantile; a result missing the metric or ``time_attr`` is an error naming the trial.
    With ``brackets > 1`` trials are spread over brackets as in Ray Tune, by a seeded generator.
    """

    needs_metric = True

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: int = 100,
        grace_period: int = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
        stop_last_trials: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__(metric, mode)
        name = type(self).__name__
        if grace_period <= 0:
            raise ValueError(f"{name}: grace_period must be > 0, got {grace_period}")
        if max_t < grace_period:
            raise ValueError(f"{name}: max_t ({max_t}) must be >= grace_period ({grace_period})")
        if reduction_factor <= 1:
            raise ValueError(f"{name}: reduction_factor must be > 1, got {reduction_factor}")
        if brackets < 1:
            raise ValueError(f"{name}: brackets must be >= 1, got {brackets}")
        self.time_attr = time_attr
        self.max_t = max_t
        self.grace_period = grace_period
        self.reduction_factor = reduction_factor
        self.stop_last_trials = stop_last_trials
        self._brackets = [_Bracket(grace_period, max_t, reduction_factor, s) for s in range(brackets)]
        self._bracket_of: dict[str, int] = {}
        self._random = random.Random(seed)

    def milestones(self) -> Collection[int] | None:
        if self.time_attr != "training_iteration":
            return None  # other time attributes do not map to report counts: see every result
        return {rung.milestone for bracket in self._brackets for rung in bracket.rungs} | {self.max_t}

    def on_trial_add(self, trial: Trial) -> None:
        if trial.trial_id in self._bracket_of:
            return  # re-added after a restore
        # Brackets with more rungs are likelier, with weights e**(size - largest), as in Ray Tune.
        sizes = [len(bracket.rungs) for bracket in self._brackets]
        weights = [math.e ** (size - max(sizes)) for size in sizes]
        self._bracket_of[trial.trial_id] = self._random.choices(range(len(sizes)), weights)[0]

    def _reward_and_time(self, trial: Trial, result: Mapping[str, Any]) -> tuple[float, float]:
        value, sign, time = read_result(type(self).__name__, trial, result, self.metric, self.mode, self.time_attr)
        return reward(value, sign), time

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision:
        value, time = self._reward_and_time(trial, result)
        if time >= self.max_t and self.stop_last_trials:
            return Decision.STOP
        bracket = self._brackets[self._bracket_of[trial.trial_id]]
        for rung in bracket.rungs:
            if time >= rung.milestone and trial.trial_id in rung.recorded and not self.stop_last_trials:
                return Decision.CONTINUE  # decided at this rung already (milestones descend)
            if time < rung.milestone or trial.trial_id in rung.recorded:
                continue
            cutoff = rung.cutoff.value()
            rung.record(trial.trial_id, value)
            return Decision.STOP if cutoff is not None and value < cutoff else Decision.CONTINUE
        return Decision.CONTINUE

    def _forget(self, trial_id: str) -> None:
        self._bracket_of.pop(trial_id, None)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "bracket_of": dict(self._bracket_of),
            "rungs": [[rung.recorded for rung in bracket.rungs] for bracket in self._brackets],
            "random": _random_state(self._random),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._bracket_of = dict(state["bracket_of"])
        for bracket, recorded_rungs in zip(self._brackets, state["rungs"], strict=True):
            for index, recorded in enumerate(recorded_rungs):
                rung = _Rung(bracket.rungs[index].milestone, bracket.rungs[index].cutoff._q)
                for trial_id, value in recorded.items():
                    rung.record(trial_id, value)
                bracket.rungs[index] = rung
        self._random.setstate(_random_from_state(state["random"]))


ASHAScheduler = AsyncHyperBandScheduler
"""Ray Tune's alias."""


class PromotionASHAScheduler(AsyncHyperBandScheduler):
    """ASHA, promotion variant (Li et al., 2020): trials pause at each rung and the best are resumed.

    A trial reaching a rung's milestone records its reward there and pauses. When a slot frees up,
    the scheduler promotes (resumes) the best paused trial that ranks in the top ``1/reduction_factor``
    of its rung, looking from the highest rung down; otherwise it starts a new trial. Trials stop at
    ``max_t``. The trainable must checkpoint: a paused trial resumes from its latest checkpoint.
    Ray Tune has only the stopping variant; Syne Tune calls this one ``type="promotion"``.

    Each rung keeps its paused trials in a heap and its promoted rewards sorted, so choosing costs
    O(log n), however many trials wait.
    """

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: int = 100,
        grace_period: int = 1,
        reduction_factor: float = 4,
    ) -> None:
        super().__init__(time_attr, metric, mode, max_t, grace_period, reduction_factor)
        rungs = self._brackets[0].rungs
        self._promoted: list[list[float]] = [[] for _ in rungs]  # sorted rewards of promoted trials
        self._waiting: list[list[tuple[float, str]]] = [[] for _ in rungs]  # heaps of (-reward, id)
        self._paused_at: dict[str, int] = {}  # trial id -> index of the rung it waits at

    def on_trial_add(self, trial: Trial) -> None:
        self._bracket_of[trial.trial_id] = 0

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision:
        value, time = self._reward_and_time(trial, result)
        if time >= self.max_t:
            return Decision.STOP
        for index, rung in enumerate(self._brackets[0].rungs):
            if time < rung.milestone:
                continue
            if trial.trial_id in rung.recorded:
                break  # recorded here already: it was promoted past this rung
            rung.record(trial.trial_id, value)
            self._paused_at[trial.trial_id] = index
            heapq.heappush(self._waiting[index], (-_sortable(value), trial.trial_id))
            return Decision.PAUSE
        return Decision.CONTINUE

    def choose_trial_to_run(self, candidates: Sequence[Trial]) -> Trial | None:
        offered: dict[str, Trial] | None = None
        for index, heap in enumerate(self._waiting):
            while heap and self._paused_at.get(heap[0][1]) != index:
                heapq.heappop(heap)  # no longer waiting here (promoted or removed)
            if not heap or not self._promotable(index, -heap[0][0]):
                continue
            offered = offered if offered is not None else {trial.trial_id: trial for trial in candidates}
            trial = offered.get(heap[0][1])
            if trial is not None:
                heapq.heappop(heap)
                del self._paused_at[trial.trial_id]
                bisect.insort(self._promoted[index], self._brackets[0].rungs[index].recorded[trial.trial_id])
                return trial
        return next((trial for trial in candidates if trial.status is TrialStatus.PENDING), None)

    def _promotable(self, index: int, value: float) -> bool:
        """Whether a paused reward ranks in the top ``1/rf`` of rung ``index``, counting the promoted."""
        if not math.isfinite(value):
            return False
        promoted = self._promoted[index]
        better_promoted = len(promoted) - bisect.bisect_right(promoted, value)
        return better_promoted < math.floor(len(self._brackets[0].rungs[index].recorded) / self.reduction_factor)

    def _forget(self, trial_id: str) -> None:
        super()._forget(trial_id)
        self._paused_at.pop(trial_id, None)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "promoted": self._promoted, "paused_at": dict(self._paused_at)}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._promoted = [list(values) for values in state["promoted"]]
        self._paused_at = dict(state["paused_at"])
        self._waiting = [[] for _ in self._promoted]
        rungs = self._brackets[0].rungs
        for trial_id, index in self._paused_at.items():
            self._waiting[index].append((-_sortable(rungs[index].recorded[trial_id]), trial_id))
        for heap in self._waiting:
            heapq.heapify(heap)


def _sortable(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _random_state(generator: random.Random) -> list[Any]:
    version, internal, gauss = generator.getstate()
    return [version, list(internal), gauss]


def _random_from_state(state: Sequence[Any]) -> tuple[Any, ...]:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
