"""BOHB's searcher (Falkner et al., 2018): TPE-style density models fitted per budget.

HyperBand (``tune_schedulers.HyperBandForBOHB``) runs trials for different budgets (iterations);
this searcher records each trial's result at every budget it reaches, and models the largest budget
that has enough results, because results at larger budgets are the more faithful ones. A fraction
of suggestions stays random, which is what keeps BOHB's worst case close to HyperBand's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tune_search._encoding import UnitEncoding, encoding_for
from tune_search._parzen import ParzenEstimator
from tune_search._random import RandomSearch
from tune_search._searcher import Suggestion
from tune_search._space import SearchSpace
from tune_search._tpe import json_number, json_vector, vector
from tune_trial import as_number

_DEFAULTS: dict[str, float | int | None] = {
    "min_points_in_model": None,
    "top_n_percent": 15,
    "num_samples": 64,
    "random_fraction": 1 / 3,
    "bandwidth_factor": 3.0,
    "min_bandwidth": 1e-3,
}


class TuneBOHB(RandomSearch):
    """The model-based half of BOHB; pair it with ``tune_schedulers.HyperBandForBOHB``.

    ``bohb_config`` takes the settings of BOHB's reference implementation (the names Ray Tune passes
    on): ``min_points_in_model`` (default: number of parameters + 1), ``top_n_percent`` (15: the good
    set), ``num_samples`` (64 candidates), ``random_fraction`` (1/3), ``bandwidth_factor`` (3: how
    much wider the sampling model is than the scoring one) and ``min_bandwidth`` (1e-3). Results
    are read from ``on_trial_result`` at each value of ``time_attr`` (the budget; a result with the
    metric but without a budget is refused, as BOHB cannot place it). The models are
    :class:`~tune_search._parzen.ParzenEstimator` with BOHB's normal-reference bandwidths, the
    same estimator :class:`TPESearch` uses. ``max_concurrent`` > 0 makes ``suggest`` answer None
    while that many trials run.
    """

    needs_metric = True

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        bohb_config: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        max_concurrent: int = 0,
        time_attr: str = "training_iteration",
    ) -> None:
        unknown = sorted(set(bohb_config or {}) - set(_DEFAULTS))
        if unknown:
            raise ValueError(f"TuneBOHB: unknown bohb_config keys {unknown}; known: {sorted(_DEFAULTS)}")
        settings = {**_DEFAULTS, **(bohb_config or {})}
        self._min_points = settings["min_points_in_model"]
        self._top_percent = float(settings["top_n_percent"])
        self._num_samples = int(settings["num_samples"])
        self._random_fraction = float(settings["random_fraction"])
        self._bandwidth_factor = float(settings["bandwidth_factor"])
        self._min_bandwidth = float(settings["min_bandwidth"])
        for name, ok in (
            ("top_n_percent", 0 < self._top_percent < 100),
            ("num_samples", self._num_samples >= 1),
            ("random_fraction", 0 <= self._random_fraction <= 1),
            ("bandwidth_factor", self._bandwidth_factor > 0),
            ("min_bandwidth", self._min_bandwidth > 0),
            ("min_points_in_model", self._min_points is None or int(self._min_points) >= 1),
            ("max_concurrent", max_concurrent >= 0),
        ):
            if not ok:
                value = max_concurrent if name == "max_concurrent" else settings[name]
                raise ValueError(f"TuneBOHB: {name}={value!r} is out of range")
        self._max_concurrent = max_concurrent
        self.time_attr = time_attr
        self._encoding: UnitEncoding | None = None
        self._live: dict[str, NDArray[np.float64]] = {}
        self._budgets: dict[float, dict[str, tuple[NDArray[np.float64], float]]] = {}
        """budget -> trial id -> (unit vector, loss at that budget; inf for NaN/inf results)."""
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        self._encoding = encoding_for(space, type(self).__name__, self._points)

    def suggest(self, trial_id: str) -> Suggestion:
        space = self._require_space("suggest")
        encoding = self._encoding
        assert encoding is not None, "check_space sets the encoding with the space"
        if self._max_concurrent and len(self._live) >= self._max_concurrent:
            return None
        index = self._suggested
        self._suggested += 1
        rng = self._rng(index)
        if index < len(self._presets):
            config = space.resolve(rng, self._preset(index))
        else:
            observed = self._model_budget(len(encoding))
            if observed is None or rng.random() < self._random_fraction or not len(encoding):
                unit = rng.random(len(encoding))
            else:
                unit = self._sample(encoding, observed, rng)
            config = encoding.decode(unit, rng)
        self._live[trial_id] = encoding.encode(config)
        return config

    def on_trial_result(self, trial_id: str, result: Mapping[str, Any]) -> None:
        unit = self._live.get(trial_id)
        if unit is None or self.metric is None or self.metric not in result:
            return
        budget = as_number(result.get(self.time_attr))
        if budget is None:  # learning nothing from it would quietly turn BOHB into random search
            raise ValueError(
                f"TuneBOHB: the result of trial {trial_id!r} has no number for {self.time_attr!r}, the budget "
                "it was evaluated at, which BOHB models results by: report it (HyperBandForBOHB's trials do; "
                "with tell(), pass a dict holding it)"
            )
        loss = self._loss(result)
        self._budgets.setdefault(budget, {})[trial_id] = (unit, math.inf if loss is None else loss)

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        if result is not None and not error:
            self.on_trial_result(trial_id, result)
        self._live.pop(trial_id, None)

    def _model_budget(self, dims: int) -> list[tuple[NDArray[np.float64], float]] | None:
        """The results at the largest budget with more than ``min_points_in_model`` of them."""
        least = dims + 1 if self._min_points is None else int(self._min_points)
        for budget in sorted(self._budgets, reverse=True):
            observed = list(self._budgets[budget].values())
            if sum(math.isfinite(loss) for _, loss in observed) > least:
                return observed
        return None

    def _sample(
        self, encoding: UnitEncoding, observed: list[tuple[NDArray[np.float64], float]], rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """BOHB's acquisition: the best of ``num_samples`` draws from a widened good model, by l(x)/g(x).

        The good set is the best ``top_n_percent`` and the bad set the rest, each at least
        ``min_points_in_model`` strong (they overlap when results are few, as in BOHB). Inactive
        coordinates of conditional spaces are modelled as they were last set: a flat vector, as
        BOHB's KDE sees it.
        """
        units = np.nan_to_num(np.array([unit for unit, _ in observed]), nan=0.5)
        losses = np.array([loss for _, loss in observed])
        order = np.argsort(losses, kind="stable")
        least = len(encoding) + 1 if self._min_points is None else int(self._min_points)
        # failed trials (inf) sort last: they may fill the bad set, never the good one
        good_count = min(max(least, int(self._top_percent * len(order) / 100)), int(np.isfinite(losses).sum()))
        bad_count = max(least, int((100 - self._top_percent) * len(order) / 100))
        good, bad = units[order[:good_count]], units[order[-bad_count:]]

        def model(points: NDArray[np.float64], factor: float = 1.0) -> ParzenEstimator:
            return ParzenEstimator.fit(
                points,
                encoding.levels,
                encoding.categorical,
                prior_weight=0.0,
                bandwidth_factor=factor,
                rule="normal_reference",
                min_bandwidth=self._min_bandwidth,
            )

        candidates = model(good, self._bandwidth_factor).sample(rng, self._num_samples)
        score = model(good).log_pdf(candidates) - model(bad).log_pdf(candidates)
        best: NDArray[np.float64] = candidates[int(np.argmax(score))]
        return best

    # -- state ----------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "live": {trial_id: json_vector(unit) for trial_id, unit in self._live.items()},
            "budgets": [
                [
                    budget,
                    [[trial_id, json_vector(unit), json_number(loss)] for trial_id, (unit, loss) in trials.items()],
                ]
                for budget, trials in self._budgets.items()
            ],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._live = {trial_id: vector(unit) for trial_id, unit in state["live"].items()}
        self._budgets = {
            float(budget): {
                trial_id: (vector(unit), math.inf if loss is None else float(loss)) for trial_id, unit, loss in trials
            }
            for budget, trials in state["budgets"]
        }
