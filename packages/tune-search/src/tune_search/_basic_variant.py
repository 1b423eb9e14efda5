"""Grid and random search together, with Ray Tune's ``num_samples`` semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tune_search._random import RandomSearch
from tune_search._searcher import FINISHED, Suggestion


class BasicVariantGenerator(RandomSearch):
    """Every grid point ``num_samples`` times, the random parameters drawn for each.

    As in Ray Tune: the grid is swept once per sample (the first grid parameter, by path, varies
    fastest); each of ``points_to_evaluate`` replaces one sample, and the grid parameters a point
    sets are not swept for it; ``num_samples=-1`` samples until the experiment is stopped. With
    ``constant_grid_search`` the random parameters are drawn once per sample and shared by its grid
    points, so grid values are compared on equal terms.
    """

    supports_grid_search = True

    def __init__(
        self,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        max_concurrent: int = 0,
        constant_grid_search: bool = False,
        random_state: int | None = None,
    ) -> None:
        if max_concurrent < 0:
            raise ValueError(f"BasicVariantGenerator: max_concurrent must be >= 0, got {max_concurrent}")
        super().__init__(points_to_evaluate=points_to_evaluate, seed=random_state)
        self._max_concurrent = max_concurrent
        self._constant_grid_search = constant_grid_search
        self._num_samples = 1
        self._sample = 0
        self._position = 0
        self._live: set[str] = set()

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        accepted = super().set_search_properties(metric, mode, space)
        self._num_samples = int(spec.get("num_samples", self._num_samples))
        return accepted

    def _num_sweeps(self, num_samples: int) -> int | None:
        return None if num_samples < 0 else max(num_samples, len(self._points))

    def max_trials(self, num_samples: int) -> int | None:
        sweeps = self._num_sweeps(num_samples)
        if sweeps is None or self.space is None:
            return sweeps
        return sum(self.space.grid_size(self._preset(sample).keys()) for sample in range(sweeps))

    def suggest(self, trial_id: str) -> Suggestion:
        space = self._require_space("suggest")
        sweeps = self._num_sweeps(self._num_samples)
        if sweeps is not None and self._sample >= sweeps:
            return FINISHED
        if self._max_concurrent and len(self._live) >= self._max_concurrent:
            return None
        preset = self._preset(self._sample)
        fixed = {**space.grid_point(self._position, preset.keys()), **preset}
        stream = self._sample if self._constant_grid_search else self._suggested
        config = space.resolve(self._rng(stream), fixed)
        self._suggested += 1
        self._position += 1
        if self._position >= space.grid_size(preset.keys()):
            self._sample, self._position = self._sample + 1, 0
        self._live.add(trial_id)
        return config

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        self._live.discard(trial_id)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "num_samples": self._num_samples,
            "sample": self._sample,
            "position": self._position,
            "live": sorted(self._live),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._num_samples = int(state["num_samples"])
        self._sample = int(state["sample"])
        self._position = int(state["position"])
        self._live = set(state["live"])
