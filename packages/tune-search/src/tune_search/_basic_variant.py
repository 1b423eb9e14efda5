"""Random and grid search, with Ray Tune's ``num_samples`` semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tune_search._paths import Path
from tune_search._searcher import FINISHED, Searcher, Suggestion
from tune_search._space import SearchSpace, parse_space


class BasicVariantGenerator(Searcher):
    """Every grid point ``num_samples`` times, random parameters sampled for each.

    Suggestion ``k`` draws from its own child of the seed's ``SeedSequence``, so the sequence is
    reproducible and the state is just a counter: restoring mid-search continues exactly.
    With ``constant_grid_search`` the random parameters are drawn once per repeat of the grid and
    shared by its points, so grid values are compared on equal terms.
    """

    def __init__(
        self,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        max_concurrent: int = 0,
        constant_grid_search: bool = False,
        random_state: int | None = None,
    ) -> None:
        super().__init__()
        if max_concurrent < 0:
            raise ValueError(f"BasicVariantGenerator: max_concurrent must be >= 0, got {max_concurrent}")
        self._points = [dict(point) for point in points_to_evaluate or ()]
        self._max_concurrent = max_concurrent
        self._constant_grid_search = constant_grid_search
        self._entropy = int(np.random.SeedSequence(random_state).entropy)  # type: ignore[arg-type]
        self._space: SearchSpace | None = None
        self._num_samples = 1
        self._suggested = 0
        self._live: set[str] = set()

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        super().set_search_properties(metric, mode, space)
        self._space = parse_space(space)
        self._num_samples = int(spec.get("num_samples", 1))
        return True

    def max_trials(self, num_samples: int) -> int | None:
        if num_samples < 0:
            return None
        return num_samples * (self._space.grid_size if self._space else 1)

    def suggest(self, trial_id: str) -> Suggestion:
        if self._space is None:
            raise RuntimeError("BasicVariantGenerator.suggest() called before set_search_properties()")
        limit = self.max_trials(self._num_samples)
        if limit is not None and self._suggested >= limit:
            return FINISHED
        if self._max_concurrent and len(self._live) >= self._max_concurrent:
            return None
        index = self._suggested
        repeat, grid_index = divmod(index, self._space.grid_size)
        fixed: dict[Path, Any] = {}
        if self._space.grids:
            fixed.update(_nth(self._space, grid_index))
        if index < len(self._points):
            fixed.update(_flatten(self._points[index]))
        stream = repeat if self._constant_grid_search else index
        rng = np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=(stream,)))
        config = self._space.resolve(rng, fixed)
        self._suggested += 1
        self._live.add(trial_id)
        return config

    def on_trial_complete(
        self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False
    ) -> None:
        self._live.discard(trial_id)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "entropy": self._entropy,
            "suggested": self._suggested,
            "live": sorted(self._live),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._entropy = int(state["entropy"])
        self._suggested = int(state["suggested"])
        self._live = set(state["live"])


def _nth(space: SearchSpace, index: int) -> dict[Path, Any]:
    """The ``index``-th grid point without enumerating the ones before it."""
    point: dict[Path, Any] = {}
    for path, values in reversed(space.grids):
        index, position = divmod(index, len(values))
        point[path] = values[position]
    return point


def _flatten(point: Mapping[str, Any], prefix: Path = ()) -> dict[Path, Any]:
    flat: dict[Path, Any] = {}
    for key, value in point.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, (*prefix, key)))
        else:
            path: Path = (*prefix, key)
            flat[path] = value
    return flat
