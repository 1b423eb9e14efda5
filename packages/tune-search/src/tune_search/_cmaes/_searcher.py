"""CMA-ES as a searcher: generations handed out trial by trial, in any order, many at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from tune_search._cmaes._strategy import CMAES, Discrete, RestartStrategy
from tune_search._space import SearchSpace
from tune_search._vector import VectorSearcher


class CMAESSearch(VectorSearcher):
    """CMA-ES with IPOP or BIPOP restarts, for continuous and integer parameters.

    - **Space.** Floats (uniform, log, normal) are continuous coordinates of the unit cube, reached
      through reflection at its faces. Integers and quantised floats are discrete coordinates with a
      margin (CMA-ES with margin, Hamano et al. 2022) that keeps the chance of leaving the current
      level at least ``margin`` (default ``1 / (dimensions * population)``), so the search does not
      freeze on a plateau. Categorical parameters (``choice``) have no order for a Gaussian to move
      along: they are refused at ``set_search_properties``, naming the parameter (GPSearch handles them),
      as are ``sample_from`` and ``grid_search``. With ``categorical="random"`` they are drawn
      uniformly at random instead, apart from the strategy (what Optuna's CmaEsSampler does).
    - **Generations and parallel trials.** Each suggestion is a new sample of the current
      generation's distribution; the distribution is updated as soon as ``population`` samples of
      that generation have finished, whatever their order, and the following suggestions come from
      the updated one. Asking for more trials than a generation holds is fine: the extra samples come
      from the same distribution, and those that finish after their generation was updated are kept
      as observations (they count for the best value) but not used for the update, which assumes
      samples of one distribution. A failed trial (error, missing/NaN/inf metric) does not count: the
      generation waits for another sample.
    - **Restarts.** ``restart_strategy="ipop"`` (default) restarts a converged run from a random
      mean with twice the population; ``"bipop"`` interleaves small-population, small-step runs;
      ``None`` never restarts.
    - ``points_to_evaluate`` are evaluated first and recorded, outside the generations.

    The state (JSON) holds the distribution, the evolution paths, the generation's finished samples,
    the pending samples and every observation.
    """

    supports_categorical = False

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        sigma0: float = 1 / 6,
        population: int | None = None,
        restart_strategy: RestartStrategy = "ipop",
        margin: float | None = None,
        categorical: Literal["refuse", "random"] = "refuse",
    ) -> None:
        if not 0 < sigma0 <= 1:
            raise ValueError(f"CMAESSearch: sigma0 is a fraction of each parameter's range, in (0, 1]; got {sigma0}")
        if population is not None and population < 2:
            raise ValueError(f"CMAESSearch: population must be >= 2, got {population}")
        if restart_strategy not in ("ipop", "bipop", None):
            raise ValueError(f"CMAESSearch: restart_strategy must be 'ipop', 'bipop' or None, got {restart_strategy!r}")
        if margin is not None and not 0 < margin < 0.5:
            raise ValueError(f"CMAESSearch: margin must be in (0, 0.5), got {margin}")
        if categorical not in ("refuse", "random"):
            raise ValueError(f"CMAESSearch: categorical must be 'refuse' or 'random', got {categorical!r}")
        self.supports_categorical = categorical == "random"  # type: ignore[misc]
        self._sigma0 = sigma0
        self._population = population
        self._restart_strategy: RestartStrategy = restart_strategy
        self._margin = margin
        self._strategy: CMAES | None = None
        self._samples: dict[str, tuple[tuple[int, int], np.ndarray]] = {}
        """Pending samples: trial id -> ((run, generation), internal point)."""
        self._finished: list[tuple[np.ndarray, float]] = []
        """The current generation's finished samples and their values."""
        self._updates = 0
        self._ordered = np.empty(0, dtype=int)
        """The coordinates the strategy moves: all but categorical ones."""
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)  # refuses categorical parameters (by default), naming them
        self._ordered = np.flatnonzero(~self.encoding.categorical)
        position = {int(index): place for place, index in enumerate(self._ordered)}
        discrete = {
            position[index]: Discrete(codes)
            for index, codes in enumerate(self._codes)
            if codes is not None and index in position
        }
        self._strategy = (
            CMAES(len(self._ordered), discrete, self._sigma0, self._population, self._restart_strategy, self._margin)
            if len(self._ordered)
            else None
        )

    @property
    def _tag(self) -> tuple[int, int]:
        assert self._strategy is not None
        return self._strategy.restarts, self._strategy.run.generation

    def _next_point(self, trial_id: str, index: int, rng: np.random.Generator) -> np.ndarray:
        point = rng.random(len(self.encoding))  # categorical coordinates (categorical="random") stay uniform
        if self._strategy is not None:
            internal = self._strategy.ask(rng)
            self._samples[trial_id] = (self._tag, internal)
            point[self._ordered] = self._strategy.to_unit(internal)
        return point

    def _on_observation(self, trial_id: str, point: np.ndarray, value: float) -> None:
        sample = self._samples.pop(trial_id, None)
        if sample is None or self._strategy is None or sample[0] != self._tag:
            return  # a preset, or a sample of a generation already updated
        self._finished.append((sample[1], value))
        if len(self._finished) == self._strategy.run.population:
            points, values = zip(*self._finished, strict=True)
            self._strategy.tell(list(points), list(values), self._rng(1, self._updates))
            self._updates += 1
            self._finished = []

    def _on_failure(self, trial_id: str, point: np.ndarray) -> None:
        self._samples.pop(trial_id, None)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "strategy": None if self._strategy is None else self._strategy.to_json(),
            "samples": {
                trial_id: {"run": tag[0], "generation": tag[1], "point": internal.tolist()}
                for trial_id, (tag, internal) in self._samples.items()
            },
            "finished": [{"point": internal.tolist(), "value": value} for internal, value in self._finished],
            "updates": self._updates,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        if self._strategy is not None and state["strategy"] is not None:
            self._strategy.load_json(state["strategy"])
        self._samples = {
            trial_id: ((int(entry["run"]), int(entry["generation"])), np.array(entry["point"], dtype=float))
            for trial_id, entry in state["samples"].items()
        }
        self._finished = [(np.array(entry["point"], dtype=float), float(entry["value"])) for entry in state["finished"]]
        self._updates = int(state["updates"])
