"""Quasi-random search: low-discrepancy points cover the space more evenly than random draws."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from tune_search._random import RandomSearch
from tune_search._searcher import Suggestion

if TYPE_CHECKING:
    from scipy.stats import qmc


class QuasiRandomSearch(RandomSearch):
    """Scrambled Sobol' or Halton points, one dimension per parameter.

    Each parameter maps its coordinate through its domain's quantile function, so integer, log-scale,
    quantised and categorical parameters are covered evenly in their own scale. ``sample_from``
    parameters are computed from the rest, as everywhere else. Sobol' sequences are most even at
    powers of two trials.
    """

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        method: Literal["sobol", "halton"] = "sobol",
    ) -> None:
        if method not in ("sobol", "halton"):
            raise ValueError(f"QuasiRandomSearch: method must be 'sobol' or 'halton', got {method!r}")
        self._method = method
        self._engine: qmc.QMCEngine | None = None
        self._drawn = 0
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def suggest(self, trial_id: str) -> Suggestion:
        space = self._require_space("suggest")
        index = self._suggested
        self._suggested += 1
        fixed = self._preset(index)
        free = [(path, domain) for path, domain in space.domains if path not in fixed]
        if free:
            point = self._next_point(len(space.domains))
            positions = {path: i for i, (path, _) in enumerate(space.domains)}
            fixed.update({path: domain.from_unit(point[positions[path]]) for path, domain in free})
        return space.resolve(self._rng(index), fixed)

    def _next_point(self, dimensions: int) -> list[float]:
        if self._engine is None:
            from scipy.stats import qmc  # here, not at import: scipy.stats takes half a second to load

            rng = self._rng(0, 0)  # a stream of its own, apart from the per-suggestion ones
            kind = qmc.Sobol if self._method == "sobol" else qmc.Halton
            self._engine = kind(dimensions, scramble=True, rng=rng)
            if self._drawn:  # (scipy's Sobol' fails to fast-forward by zero)
                self._engine.fast_forward(self._drawn)
        with warnings.catch_warnings():
            # Sobol' warns when a draw is not a power of two; one point at a time is the point here.
            warnings.filterwarnings("ignore", message=".*balance properties.*", category=UserWarning)
            point: list[float] = self._engine.random(1)[0].tolist()
        self._drawn += 1
        return point

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "method": self._method, "drawn": self._drawn}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._method = state["method"]
        self._drawn = int(state["drawn"])
        self._engine = None  # rebuilt and fast-forwarded on the next suggestion
