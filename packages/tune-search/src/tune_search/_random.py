"""Random search: every parameter drawn independently, reproducibly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tune_search._paths import Path
from tune_search._searcher import Searcher, Suggestion
from tune_search._space import SearchSpace


class RandomSearch(Searcher):
    """Draws every parameter from its domain, after the ``points_to_evaluate`` presets.

    Suggestion ``k`` draws from its own child of the seed's ``SeedSequence``: the sequence is
    reproducible, and the state is a counter, so a restored searcher continues exactly.
    """

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(metric, mode)
        self._points = [dict(point) for point in points_to_evaluate or ()]
        self._presets: list[dict[Path, Any]] = []
        self._entropy = int(np.random.SeedSequence(seed).entropy)  # type: ignore[arg-type]
        self._suggested = 0
        if space is not None:
            self.set_search_properties(metric, mode, space)

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        self._presets = []
        for index, point in enumerate(self._points):
            try:
                self._presets.append(space.assignment(point))
            except ValueError as error:
                raise ValueError(f"points_to_evaluate[{index}]: {error}") from None

    def suggest(self, trial_id: str) -> Suggestion:
        space = self._require_space("suggest")
        index = self._suggested
        self._suggested += 1
        return space.resolve(self._rng(index), self._preset(index))

    def _preset(self, index: int) -> dict[Path, Any]:
        """The values ``points_to_evaluate`` fixes for suggestion (or sample) ``index``."""
        return dict(self._presets[index]) if index < len(self._presets) else {}

    def _rng(self, *stream: int) -> np.random.Generator:
        """A generator of its own for each ``stream`` key, derived from the seed."""
        return np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=stream))

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "entropy": self._entropy, "suggested": self._suggested}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._entropy = int(state["entropy"])
        self._suggested = int(state["suggested"])
