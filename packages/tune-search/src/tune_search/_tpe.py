"""Tree-structured Parzen Estimator (TPE): Bayesian optimisation with two density models.

The finished trials are split into the best ``gamma(n)`` ("below") and the rest ("above"); each
set gets a Parzen estimator, l(x) and g(x), and the next config is, out of candidates drawn from
l(x), the one with the largest l(x) / g(x) -- the expected improvement under TPE's model. All of it
happens in the unit cube of :class:`UnitEncoding`, where every domain's prior is uniform.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tune_search._encoding import UnitEncoding, encoding_for
from tune_search._parzen import ParzenEstimator, level_index
from tune_search._random import RandomSearch
from tune_search._searcher import Suggestion
from tune_search._space import SearchSpace
from tune_search._tpe_batch import pending_log_penalty
from tune_trial import as_number


def default_gamma(finished: int) -> int:
    """How many of ``finished`` trials form the "below" set: 10%, at most 25 (Optuna's rule)."""
    return min(math.ceil(0.1 * finished), 25)


class TPESearch(RandomSearch):
    """TPE over the unit cube, multivariate by default, with conditional spaces and parallel trials.

    - ``multivariate=True`` models the parameters that are always active together (the
      unconditional ones; those of one category of a choice) jointly, with product kernels, so it
      sees interactions; ``False`` models every parameter on its own (classic TPE).
    - ``rank_weights``: the good model weights its kernels by rank, 1, 1/2, 1/3, ... from the best
      (``False``: equally, as Optuna and hyperopt do). The good set is a tenth of the trials, and
      equal weights make its worst member pull candidates as hard as the incumbent; leaning on the
      incumbent converges faster, sequentially and even more with trials in flight, where each
      result reaches the suggestions late (docs/benchmarks.md).
    - The first ``n_startup_trials`` suggestions are random (after ``points_to_evaluate``); the
      model takes over once they have all been made and one has finished. (Waiting for all of them
      to *finish* would only add random suggestions while they run.)
    - ``prior_weight``: the uniform prior is one more kernel of both models, with this weight (> 0:
      it keeps a model defined while its set is empty, e.g. when every finished trial failed).
    - Trials in flight: ``pending_penalty`` (local penalisation, see ``_tpe_batch``) discounts
      candidates close to a running trial -- a copy of one is excluded -- at this fraction of the
      good model's median bandwidth (in continuous coordinates; in ordinal ones the whole bandwidth,
      at least one level), so a batch spreads over the promising region instead of
      repeating one point; 0 turns it off. ``constant_liar`` also puts running trials into the
      bad ("above") set (Optuna's and hyperopt's remedy; off by default: it pushes the batch out of
      the region the model favours, measured in docs/benchmarks.md). With nothing in flight
      neither changes anything.
    - Failed trials, and trials whose metric is NaN or infinite, count as the worst ones: the model
      learns to avoid where they were.
    - In a space of discrete parameters only (integers, quantised floats, choices; no conditions),
      multivariate TPE does not propose a config it has already suggested (finished or running)
      while a new one is among its candidates: repeating one teaches the model nothing, and once
      l(x) has narrowed, its best candidates are mostly the good configs already evaluated.
    - Cost: the below set is at most ``gamma``'s 25 trials; the above set is capped at the
      ``max_above`` most recent ones (Optuna weights old ones down for the same reason: the
      region worth modelling moves), so a suggestion costs the same at 1,000 or 100,000 trials
      apart from one O(n) partition of the losses.
    """

    needs_metric = True

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        *,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 48,
        multivariate: bool = True,
        prior_weight: float = 1.0,
        constant_liar: bool = False,
        pending_penalty: float = 0.25,
        rank_weights: bool = True,
        gamma: Callable[[int], int] = default_gamma,
        max_above: int = 500,
    ) -> None:
        for name, value, least in (
            ("n_startup_trials", n_startup_trials, 0),
            ("n_ei_candidates", n_ei_candidates, 1),
            ("max_above", max_above, 1),
        ):
            if not isinstance(value, int) or value < least:
                raise ValueError(f"TPESearch: {name} must be an integer >= {least}, got {value!r}")
        # the prior is what keeps l(x) and g(x) defined while the good or the bad set is empty (every
        # finished trial failed, or the first model suggestion has no bad trials yet)
        prior, penalty = as_number(prior_weight), as_number(pending_penalty)
        if prior is None or not math.isfinite(prior) or prior <= 0:
            raise ValueError(f"TPESearch: prior_weight must be > 0, got {prior_weight!r}")
        if penalty is None or not math.isfinite(penalty) or penalty < 0:
            raise ValueError(f"TPESearch: pending_penalty must be >= 0, got {pending_penalty!r}")
        if not isinstance(rank_weights, bool):
            raise ValueError(f"TPESearch: rank_weights must be True or False, got {rank_weights!r}")
        self._n_startup = n_startup_trials
        self._n_candidates = n_ei_candidates
        self._multivariate = multivariate
        self._prior_weight = prior
        self._constant_liar = constant_liar
        self._pending_penalty = penalty
        self._rank_weights = rank_weights
        self._gamma = gamma
        self._max_above = max_above
        self._encoding: UnitEncoding | None = None
        self._units = np.empty((0, 0))
        self._losses = np.empty(0)
        self._finished = 0
        """Rows ``[:_finished]``: per finished trial, in order, its unit vector and loss (inf for
        failures; minimised). The arrays grow by doubling, so telling a result is O(1) amortised."""
        self._pending: dict[str, NDArray[np.float64]] = {}
        self._distinct = False
        """Whether suggestions avoid configs suggested before (a discrete space, see the class docstring)."""
        self._tried: set[bytes] | None = None
        """The levels of every config suggested so far (:meth:`_tried_levels`), built on first use."""
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        encoding = encoding_for(space, type(self).__name__, self._points)
        self._encoding = encoding
        discrete = all(codes is not None for codes in encoding.codes)
        self._distinct = discrete and self._multivariate and not encoding.conditional
        self._tried = None

    def suggest(self, trial_id: str) -> Suggestion:
        space = self._require_space("suggest")
        encoding = self._require_encoding()
        index = self._suggested
        self._suggested += 1
        rng = self._rng(index)
        if index < len(self._presets):
            config = space.resolve(rng, self._preset(index))
        else:
            suggested = self._finished + len(self._pending)
            if suggested < self._n_startup or not self._finished or not len(encoding):
                unit = rng.random(len(encoding))
            else:
                unit = self._sample(encoding, rng)
            config = encoding.decode(unit, rng)
        unit = encoding.encode(config)
        self._pending[trial_id] = unit
        if self._tried is not None:
            self._tried.update(self._level_keys(unit[None]))
        return config

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        unit = self._pending.pop(trial_id, None)
        if unit is None:
            return
        loss = None if error else self._loss(result)
        self._record(unit, math.inf if loss is None else loss)

    def _record(self, unit: NDArray[np.float64], loss: float) -> None:
        done = self._finished
        if done == len(self._losses):
            capacity = max(16, 2 * done)
            units = np.full((capacity, len(unit)), np.nan)
            if done:
                units[:done] = self._units[:done]
            self._units = units
            self._losses = np.concatenate([self._losses[:done], np.full(capacity - done, np.inf)])
        self._units[self._finished] = unit
        self._losses[self._finished] = loss
        self._finished += 1

    # -- the model ----------------------------------------------------------------------------

    def _split(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The below set's unit vectors and losses, and the above set's unit vectors (running trials
        join it as liars)."""
        losses = self._losses[: self._finished]
        finished = int(np.isfinite(losses).sum())
        below_count = min(self._gamma(finished), finished)
        below = np.argpartition(losses, below_count - 1)[:below_count] if below_count else np.empty(0, dtype=int)
        is_above = np.ones(len(losses), dtype=bool)
        is_above[below] = False
        above = np.flatnonzero(is_above)[-self._max_above :]
        units = self._units[: self._finished]
        above_units = units[above]
        if self._constant_liar and self._pending:
            above_units = np.vstack([above_units, np.asarray(list(self._pending.values()))])
        chosen = np.sort(below)
        return units[chosen], losses[chosen], above_units

    def _sample(self, encoding: UnitEncoding, rng: np.random.Generator) -> NDArray[np.float64]:
        below, below_losses, above = self._split()
        pending = np.asarray(list(self._pending.values())) if self._pending_penalty and self._pending else None
        good_losses = below_losses if self._rank_weights else None
        groups = encoding.groups if self._multivariate else tuple((index,) for index in range(len(encoding)))
        unit = np.full(len(encoding), np.nan)
        for group in groups:
            columns = np.asarray(group)
            if encoding.parent[columns[0]] >= 0 and not encoding.active(unit)[columns[0]]:
                continue  # the parameters of a category this suggestion does not choose
            unit[columns] = self._sample_group(encoding, columns, below, good_losses, above, pending, rng)
        return unit

    def _sample_group(
        self,
        encoding: UnitEncoding,
        columns: NDArray[np.int64],
        below: NDArray[np.float64],
        below_losses: NDArray[np.float64] | None,
        above: NDArray[np.float64],
        pending: NDArray[np.float64] | None,
        rng: np.random.Generator,
    ) -> NDArray[np.float64]:
        """The best of ``n_ei_candidates`` draws from l(x) for these coordinates, by l(x) / g(x),
        discounted near the running trials (``pending``) that are active in them. With
        ``below_losses``, l(x)'s kernels are weighted by their rank among the below set's."""
        levels, categorical = encoding.levels[columns], encoding.categorical[columns]
        codes = [encoding.codes[column] for column in columns]

        def active(units: NDArray[np.float64]) -> NDArray[np.bool_]:
            return np.asarray(~np.isnan(units[:, columns]).any(axis=1))

        def rows_of(units: NDArray[np.float64]) -> NDArray[np.float64]:
            return units[active(units)][:, columns]

        def model(units: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> ParzenEstimator:
            return ParzenEstimator.fit(
                rows_of(units), levels, categorical, weights=weights, prior_weight=self._prior_weight, codes=codes
            )

        weights = None if below_losses is None else rank_weights(below_losses[active(below)])
        good, bad = model(below, weights), model(above)
        candidates = good.sample(rng, self._n_candidates)
        score = good.log_pdf(candidates) - bad.log_pdf(candidates)
        if self._distinct:  # then this group is the whole space
            tried = self._tried_levels()
            new = np.array([key not in tried for key in self._level_keys(candidates)])
            if new.any():
                score[~new] = -np.inf
        running = rows_of(pending) if pending is not None else None
        if running is not None and len(running):
            score = score + pending_log_penalty(candidates, running, good, self._pending_penalty)
        best: NDArray[np.float64] = candidates[int(np.argmax(score))]
        return best

    def _tried_levels(self) -> set[bytes]:
        if self._tried is None:
            width = len(self._require_encoding())
            units = [self._units[: self._finished].reshape(-1, width), *(unit[None] for unit in self._pending.values())]
            self._tried = set(self._level_keys(np.vstack(units)))
        return self._tried

    def _level_keys(self, units: NDArray[np.float64]) -> list[bytes]:
        """Each row's levels (in a space whose coordinates all have level codes), as hashable keys."""
        codes = self._require_encoding().codes
        levels = np.column_stack(
            [level_index(code, units[:, column]) for column, code in enumerate(codes) if code is not None]
        )
        return [row.tobytes() for row in levels]

    def _require_encoding(self) -> UnitEncoding:
        assert self._encoding is not None, "check_space sets the encoding with the space"
        return self._encoding

    # -- state ----------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "finished": [
                [json_vector(unit), json_number(loss)]
                for unit, loss in zip(self._units[: self._finished], self._losses[: self._finished], strict=True)
            ],
            "pending": {trial_id: json_vector(unit) for trial_id, unit in self._pending.items()},
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        finished = state["finished"]
        self._units = np.array([vector(unit) for unit, _ in finished]).reshape(len(finished), -1)
        self._losses = np.array([math.inf if loss is None else float(loss) for _, loss in finished], dtype=float)
        self._finished = len(finished)
        self._pending = {trial_id: vector(unit) for trial_id, unit in state["pending"].items()}
        self._tried = None


def rank_weights(losses: NDArray[np.float64]) -> NDArray[np.float64]:
    """1, 1/2, 1/3, ... by rank of ``losses`` (lowest first; ties in order), scaled to mean 1 so the
    prior keeps its share of the mixture."""
    ranks = np.empty(len(losses))
    ranks[np.argsort(losses, kind="stable")] = np.arange(1, len(losses) + 1)
    weights = 1.0 / ranks
    return np.asarray(weights * len(weights) / weights.sum()) if len(weights) else weights


def json_vector(unit: NDArray[np.float64]) -> list[float | None]:
    """A unit vector for JSON: NaN (inactive) becomes null."""
    return [None if math.isnan(value) else value for value in unit.tolist()]


def json_number(loss: float) -> float | None:
    return None if math.isinf(loss) else loss


def vector(values: Sequence[float | None]) -> NDArray[np.float64]:
    return np.array([math.nan if value is None else value for value in values], dtype=float)
