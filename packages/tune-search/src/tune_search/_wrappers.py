"""Searchers that wrap another: a concurrency limit, and repeated evaluations averaged."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tune_search._searcher import Searcher, Suggestion
from tune_search._space import SearchSpace
from tune_trial import as_number


class _Wrapper(Searcher):
    """Forwards the contract to the wrapped searcher; subclasses change what they need."""

    def __init__(self, searcher: Searcher) -> None:
        super().__init__(searcher.metric, searcher.mode)
        self.searcher = searcher
        self.space = searcher.space
        self.supports_grid_search = searcher.supports_grid_search  # type: ignore[misc]
        self.supports_sample_from = searcher.supports_sample_from  # type: ignore[misc]

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        accepted = self.searcher.set_search_properties(metric, mode, space, **spec)
        self.metric, self.mode, self.space = self.searcher.metric, self.searcher.mode, self.searcher.space
        return accepted

    def check_space(self, space: SearchSpace) -> None:
        self.searcher.check_space(space)

    def max_trials(self, num_samples: int) -> int | None:
        return self.searcher.max_trials(num_samples)

    def on_trial_result(self, trial_id: str, result: Mapping[str, Any]) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "searcher": self.searcher.get_state()}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self.searcher.set_state(state["searcher"])


class ConcurrencyLimiter(_Wrapper):
    """At most ``max_concurrent`` live trials from ``searcher``.

    With ``batch=True``, once the limit is reached no new trial is suggested until the whole batch
    has completed, so a model-based searcher sees full batches of results.
    """

    def __init__(self, searcher: Searcher, max_concurrent: int, batch: bool = False) -> None:
        if max_concurrent < 1:
            raise ValueError(f"ConcurrencyLimiter: max_concurrent must be >= 1, got {max_concurrent}")
        super().__init__(searcher)
        self.max_concurrent = max_concurrent
        self.batch = batch
        self._live: set[str] = set()
        self._draining = False

    def suggest(self, trial_id: str) -> Suggestion:
        if self._draining and self._live:
            return None
        self._draining = False
        if len(self._live) >= self.max_concurrent:
            self._draining = self.batch
            return None
        suggestion = self.searcher.suggest(trial_id)
        if isinstance(suggestion, dict):
            self._live.add(trial_id)
        return suggestion

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        self._live.discard(trial_id)
        self.searcher.on_trial_complete(trial_id, result, error)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "live": sorted(self._live), "draining": self._draining}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._live = set(state["live"])
        self._draining = bool(state["draining"])


@dataclass
class _Group:
    """One suggestion of the wrapped searcher and the trials that repeat it."""

    trial_id: str
    config: dict[str, Any]
    members: list[str] = field(default_factory=list)
    scores: dict[str, float | None] = field(default_factory=dict)


class Repeater(_Wrapper):
    """Evaluates each configuration ``repeat`` times and tells the searcher the mean.

    Useful when the objective is noisy (different seeds, data splits). With ``set_index`` each
    repetition's config has ``__trial_index__`` (0 … repeat-1). Failed repetitions are left out of
    the mean; when all fail, the searcher hears of an error. ``num_samples`` should be a multiple
    of ``repeat``.
    """

    def __init__(self, searcher: Searcher, repeat: int = 1, set_index: bool = True) -> None:
        if repeat < 1:
            raise ValueError(f"Repeater: repeat must be >= 1, got {repeat}")
        super().__init__(searcher)
        self.repeat = repeat
        self.set_index = set_index
        self._groups: dict[str, _Group] = {}
        self._group_of: dict[str, str] = {}
        self._open: str | None = None

    def suggest(self, trial_id: str) -> Suggestion:
        group = self._groups.get(self._open) if self._open else None
        if group is None or len(group.members) >= self.repeat:
            suggestion = self.searcher.suggest(trial_id)
            if not isinstance(suggestion, dict):
                return suggestion
            group = _Group(trial_id, suggestion)
            self._groups[trial_id] = group
            self._open = trial_id
        config = dict(group.config)
        if self.set_index:
            config["__trial_index__"] = len(group.members)
        group.members.append(trial_id)
        self._group_of[trial_id] = group.trial_id
        return config

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        group = self._groups[self._group_of.pop(trial_id)]
        value = None if error or result is None or self.metric is None else result.get(self.metric)
        group.scores[trial_id] = as_number(value)
        if len(group.scores) < self.repeat:
            return
        del self._groups[group.trial_id]
        scores = [score for score in group.scores.values() if score is not None and math.isfinite(score)]
        if scores and self.metric is not None:
            self.searcher.on_trial_complete(group.trial_id, {self.metric: sum(scores) / len(scores)})
        else:
            self.searcher.on_trial_complete(group.trial_id, None, error=True)

    def get_state(self) -> dict[str, Any]:
        groups = [
            {"trial_id": g.trial_id, "config": g.config, "members": g.members, "scores": g.scores}
            for g in self._groups.values()
        ]
        return {**super().get_state(), "groups": groups, "open": self._open}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._groups = {entry["trial_id"]: _Group(**entry) for entry in state["groups"]}
        self._group_of = {member: g.trial_id for g in self._groups.values() for member in g.members}
        self._open = state["open"]
