"""Bayesian optimisation with a Gaussian process: the searcher around the model and the acquisition."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tune_search._vector import VectorSearcher


class GPSearch(VectorSearcher):
    """Gaussian-process Bayesian optimisation (Matérn-5/2 ARD kernel, log expected improvement).

    Each suggestion fits the model to the completed trials and proposes the point of the unit
    cube with the largest log expected improvement. Details that matter in practice:

    - **Start.** ``points_to_evaluate`` first, then ``n_initial_points`` scrambled Sobol' points
      (more while fewer than two trials have finished), then the model.
    - **Parameters.** Every domain is a coordinate of the unit cube, in which its prior is uniform:
      log scales and normal domains are modelled in their own scale. Integers and quantised floats
      are relaxed to the continuum while the acquisition is optimised, then rounded to the middle of
      their level's stretch and the neighbouring levels tried; the model only ever sees those codes.
      Categorical parameters get an overlap kernel (a lengthscale per parameter, distance 0 or 1)
      and are optimised by trying every category. Parameters inside a ``choice``'s categories are
      modelled only while their category is chosen. ``sample_from`` and ``grid_search`` are refused.
    - **Parallel trials.** Pending trials are "fantasised" at the model's mean without noise
      (kriging believer): the latent uncertainty there collapses to nothing (with the fitted noise
      it stayed as large as the noise, and EI kept pointing at the running trial). Where the model
      is already sure, fantasies alone leave EI peaked just beside them, so log EI is also lowered
      near each running trial by ``log(1 - s)``, ``s`` a Gaussian similarity 1/500 of each
      lengthscale wide (exact agreement in categorical parameters): copies and near-copies are
      excluded, and a batch can still refine the optimum together (wider penalties cost regret).
      Integers and quantised floats get a quarter of their lengthscale: a running trial's
      neighbouring levels are distinct configs, and spreading a batch over them pays.
    - **Discrete spaces.** When every parameter is an integer, quantised or categorical one, a
      suggestion is a config not tried yet while the acquisition's candidates hold one; else one
      not running. Repeating an evaluated config mostly re-measured the incumbent (its EI stays
      highest under the fitted noise), sequentially too: this rule changes sequential suggestions in
      such spaces, and nowhere else.
    - **Cost.** A fit is O(n³) in the observations; beyond ``max_observations`` (default 300) the
      model uses the best half of that number and a seeded random sample of the rest. Hyperparameters
      start from the previous fit and the prior's median (plus draws from the prior for the first
      fit); a suggestion at 300 observations takes about a second on one core. Numerical libraries
      (OpenBLAS) that start more threads than the machine has free cores slow these small matrix
      operations by an order of magnitude: set ``OPENBLAS_NUM_THREADS=1`` on a busy machine.
    - **Failures.** Failed trials and NaN/inf values are not modelled and never the best value.

    The state (JSON) holds every observation, the pending points and the last hyperparameters, so a
    restored searcher continues exactly.
    """

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        n_initial_points: int = 10,
        max_observations: int = 300,
    ) -> None:
        if n_initial_points < 1:
            raise ValueError(f"GPSearch: n_initial_points must be >= 1, got {n_initial_points}")
        if max_observations < 10:
            raise ValueError(f"GPSearch: max_observations must be >= 10, got {max_observations}")
        self._n_initial = n_initial_points
        self._max_observations = max_observations
        self._hyperparameters: list[float] | None = None
        super().__init__(space, metric, mode, points_to_evaluate, seed)

    def _next_point(self, trial_id: str, index: int, rng: np.random.Generator) -> np.ndarray:
        if len(self.encoding) == 0:  # constants only: nothing to model
            return np.empty(0)
        startup = index - len(self._points)
        x, y = self._observations()
        if startup < self._n_initial or len(y) < 2:
            return self._sobol_point(startup)
        return self._model_point(x, y, rng)

    def _sobol_point(self, position: int) -> np.ndarray:
        from scipy.stats import qmc  # here, not at import: scipy.stats takes half a second to load

        engine = qmc.Sobol(len(self.encoding), scramble=True, rng=self._rng(0, 0))
        count = 1 << max(position, 1).bit_length()  # a power of two, so the sequence stays balanced
        return np.asarray(engine.random(count)[position])

    def _model_point(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from tune_search._gp._acquisition import maximise_log_ei
        from tune_search._gp._model import GaussianProcess, Hyperparameters, fit_hyperparameters

        novelty = self._novelty(x)  # from every observation, also those the fit leaves out
        x, y = self._subset(x, y, rng)
        standardised = _warp(y)
        categorical = self.encoding.categorical
        previous = (
            None if self._hyperparameters is None else Hyperparameters.from_vector(np.array(self._hyperparameters))
        )
        hyper = fit_hyperparameters(x, standardised, categorical, rng, previous, restarts=2)
        self._hyperparameters = hyper.to_json()
        model = GaussianProcess(x, standardised, categorical, hyper)
        best = float(np.min(standardised))
        pending = np.unique(np.array(list(self._pending.values())).reshape(-1, x.shape[1]), axis=0)
        if len(pending):
            # Kriging believer: each pending trial is assumed to return the model's mean, which the
            # incumbent must then beat too (else a fantasy better than the best would attract the
            # next suggestion to the very same place). The fantasy is of the latent function, without
            # noise: with the fitted noise variance, conditioning on it left the variance there as
            # high as the noise, and the point where EI peaked kept (nearly) the largest EI, so
            # suggestions repeated their running trials.
            believed, _ = model.predict(pending)
            exact = np.concatenate([np.zeros(len(x), dtype=bool), np.ones(len(pending), dtype=bool)])
            model = GaussianProcess(
                np.vstack([x, pending]), np.concatenate([standardised, believed]), categorical, hyper, exact
            )
            best = min(best, float(np.min(believed)))
        incumbents = x[np.argsort(standardised, kind="stable")[:5]]
        categories = np.where(self.encoding.categorical, self.encoding.levels, 0)
        return maximise_log_ei(model, best, rng, self._codes, incumbents, self._canonical, pending, categories, novelty)

    def _novelty(self, observations: np.ndarray) -> Callable[[np.ndarray], np.ndarray] | None:
        """In a space of discrete parameters only: 2 for a config not tried yet, 1 for one observed
        and not running, 0 for a running one (the acquisition proposes the best rank it finds).

        There a config's value is known, up to noise, once it has run; with the noise the model fits,
        EI stays highest at the incumbent, and the search re-measured it over and over (and, with
        trials in flight, proposed a running config again even past the penalty, when every other
        config looked hopeless). Every discrete coordinate of a point lies on a level code and the
        inactive ones on 0.5 (:meth:`_snap`, :meth:`_canonical`), so equal configs are equal rows.
        None (no ranks) when a coordinate is continuous.
        """
        if any(codes is None for codes in self._codes):
            return None
        observed = {row.tobytes() for row in observations}
        running = {point.tobytes() for point in self._pending.values()}

        def novelty(points: np.ndarray) -> np.ndarray:
            keys = [np.ascontiguousarray(row).tobytes() for row in points]
            return np.array([0 if key in running else 1 if key in observed else 2 for key in keys])

        return novelty

    def _subset(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """At most ``max_observations``: the best half of them, and a random sample of the others."""
        if len(y) <= self._max_observations:
            return x, y
        order = np.argsort(y, kind="stable")
        keep = self._max_observations // 2
        rest = rng.choice(order[keep:], size=self._max_observations - keep, replace=False)
        chosen = np.sort(np.concatenate([order[:keep], rest]))
        return x[chosen], y[chosen]

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "hyperparameters": self._hyperparameters}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        hyper = state["hyperparameters"]
        self._hyperparameters = None if hyper is None else [float(value) for value in hyper]


def _warp(values: np.ndarray) -> np.ndarray:
    """Values made closer to normal, then standardised: the GP's outputs.

    Objectives of hyperparameter searches are heavy-tailed (a diverged run's loss dwarfs the
    differences between good configs); standardised as they are, the few huge values set the scale
    and the model cannot tell the good configs apart. A Yeo-Johnson power transform with its
    exponent fitted by maximum likelihood (as HEBO does) compresses the tail; it is monotone, so the
    best value stays the best.
    """
    from scipy.stats import yeojohnson  # here, not at import: scipy.stats takes half a second to load

    scale = float(np.std(values))
    if scale == 0 or len(values) < 3:
        return values - float(np.mean(values))
    scaled = (values - float(np.mean(values))) / scale
    warped = np.asarray(yeojohnson(scaled)[0], dtype=float)
    spread = float(np.std(warped))
    if not np.all(np.isfinite(warped)) or spread == 0:
        return scaled
    return (warped - float(np.mean(warped))) / spread
