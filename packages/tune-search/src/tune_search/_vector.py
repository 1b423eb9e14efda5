"""What searchers that move whole unit vectors (GP-BO, CMA-ES) share: trials in and out of the cube.

A suggestion is a point of the unit cube (:class:`~tune_search.UnitEncoding`) decoded into a config;
a completed trial is its point and its value, sign-flipped for ``mode="max"`` so that the models
always minimise. Failed trials, and results whose metric is missing, NaN or infinite, are failures:
they leave the pending set and never enter the model, so they can never be the best value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tune_search._encoding import UnitEncoding, encoding_for
from tune_search._random import RandomSearch
from tune_search._space import SearchSpace


class VectorSearcher(RandomSearch):
    """Bookkeeping of pending and observed unit vectors, and their JSON state.

    Subclasses decide where the next vector lies (:meth:`_next_point`); ``points_to_evaluate`` come
    first, through :class:`RandomSearch` (values a preset leaves out are drawn at random).
    """

    supports_sample_from = False
    needs_metric = True

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        self._encoding: UnitEncoding | None = None
        self._codes: list[np.ndarray | None] = []
        self._pending: dict[str, np.ndarray] = {}
        self._observed_ids: list[str] = []
        self._observed_points: list[np.ndarray] = []
        self._observed_values: list[float] = []
        self._failures = 0
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        self._encoding = encoding_for(space, type(self).__name__, self._points)
        self._codes = list(self._encoding.codes)

    @property
    def encoding(self) -> UnitEncoding:
        assert self._encoding is not None, "set_search_properties() builds the encoding"
        return self._encoding

    def suggest(self, trial_id: str) -> dict[str, Any]:
        space = self._require_space("suggest")
        index = self._suggested
        self._suggested += 1
        rng = self._rng(index)
        if index < len(self._points):
            config = space.resolve(rng, self._preset(index))
            point = self._canonical(np.nan_to_num(self.encoding.encode(config), nan=0.5))
        else:
            point = self._canonical(self._snap(self._next_point(trial_id, index, rng)))
            config = self.encoding.decode(point, rng)
        self._pending[trial_id] = point
        return config

    def _next_point(self, trial_id: str, index: int, rng: np.random.Generator) -> np.ndarray:
        """Where the next trial (not a preset) lies in the unit cube."""
        raise NotImplementedError

    def _snap(self, point: np.ndarray) -> np.ndarray:
        """``point`` with each discrete coordinate on the code of its level, as observations are."""
        snapped = np.array(point, dtype=float)
        for index, codes in enumerate(self._codes):
            if codes is not None:
                snapped[index] = codes[np.argmin(np.abs(codes - snapped[index]))]
        return snapped

    def _canonical(self, points: np.ndarray) -> np.ndarray:
        """``points`` with inactive coordinates (those of categories not chosen) set to 0.5.

        Two configs that differ only in parameters neither of them uses are the same config; giving
        those coordinates one value makes them the same point, and the distance between configs
        that differ in a choice comes from the choice's coordinate.
        """
        canonical = np.array(points, dtype=float)
        if self.encoding.conditional:
            canonical[~self.encoding.active(canonical)] = 0.5
        return canonical

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        point = self._pending.pop(trial_id, None)
        if point is None:
            return  # not ours (or already told): nothing to learn
        signed = None if error else self._loss(result)
        if signed is None:
            self._failures += 1
            self._on_failure(trial_id, point)
            return
        self._observed_ids.append(trial_id)
        self._observed_points.append(point)
        self._observed_values.append(signed)
        self._on_observation(trial_id, point, signed)

    def _on_observation(self, trial_id: str, point: np.ndarray, value: float) -> None:
        """A trial finished with a finite value (minimised); subclasses update their models."""

    def _on_failure(self, trial_id: str, point: np.ndarray) -> None:
        """A trial failed or reported no finite value."""

    def _observations(self) -> tuple[np.ndarray, np.ndarray]:
        dimensions = len(self.encoding)
        points = np.array(self._observed_points, dtype=float).reshape(-1, dimensions)
        return points, np.array(self._observed_values, dtype=float)

    # -- state --------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "pending": {trial_id: point.tolist() for trial_id, point in self._pending.items()},
            "observations": [
                {"trial_id": trial_id, "point": point.tolist(), "value": value}
                for trial_id, point, value in zip(
                    self._observed_ids, self._observed_points, self._observed_values, strict=True
                )
            ],
            "failures": self._failures,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._pending = {trial_id: np.array(point, dtype=float) for trial_id, point in state["pending"].items()}
        observations = state["observations"]
        self._observed_ids = [entry["trial_id"] for entry in observations]
        self._observed_points = [np.array(entry["point"], dtype=float) for entry in observations]
        self._observed_values = [float(entry["value"]) for entry in observations]
        self._failures = int(state["failures"])
