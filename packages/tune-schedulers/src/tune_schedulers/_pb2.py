"""PB2 (Parker-Holder et al., 2020): PBT whose explore step is a GP bandit instead of random jitter.

Needs numpy and scipy: ``pip install "tune-schedulers[pb2]"``. Imported only when ``PB2`` is used,
so ``import tune_schedulers`` stays free of them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from tune_schedulers._pbt import PopulationBasedTraining
from tune_trial import Decision, Exploit, Trial


class _Interval:
    """A continuous bound, usable as a mutation spec (``from_unit``) by the PBT machinery."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def from_unit(self, u: float) -> float:
        return self.low + u * (self.high - self.low)


class PB2(PopulationBasedTraining):
    """Population Based Bandits: the bottom quantile exploits the top as in PBT, and its new
    hyperparameters are those that maximise a GP-UCB acquisition of the reward's improvement.

    The GP sees (time, hyperparameters) -> change of the metric over the last perturbation interval,
    with a time-varying squared-exponential kernel (old observations count less), and conditions on
    the configurations other trials are running now, so parallel explorations spread out. Only the
    keys of ``hyperparam_bounds`` (``{"lr": [1e-4, 1e-1]}``) are explored; the rest are copied from the
    exploited trial. The GP is fitted on the latest ``max_observations`` observations, so its cost
    stays bounded however long the experiment runs.
    """

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        perturbation_interval: float = 60.0,
        hyperparam_bounds: Mapping[str, tuple[float, float] | list[float]] | None = None,
        quantile_fraction: float = 0.25,
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        synch: bool = False,
        seed: int | None = None,
        max_observations: int = 256,
    ) -> None:
        if not hyperparam_bounds:
            raise ValueError("PB2: hyperparam_bounds is required, e.g. {'lr': [1e-4, 1e-1]}")
        intervals = {}
        for key, bounds in hyperparam_bounds.items():
            if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2):
                raise ValueError(f"PB2: hyperparam_bounds[{key!r}] must be [low, high], got {bounds!r}")
            low, high = (float(bound) for bound in bounds)
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"PB2: hyperparam_bounds[{key!r}] needs finite low < high, got {bounds!r}")
            intervals[key] = _Interval(low, high)
        super().__init__(
            time_attr=time_attr,
            metric=metric,
            mode=mode,
            perturbation_interval=perturbation_interval,
            hyperparam_mutations=intervals,
            quantile_fraction=quantile_fraction,
            custom_explore_fn=custom_explore_fn,
            synch=synch,
            seed=seed,
        )
        self._intervals = intervals
        self._observations: deque[tuple[float, list[float], float]] = deque(maxlen=max_observations)
        self._now = 0.0

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision | Exploit:
        self._now = float(result.get(self.time_attr, self._now))
        return super().on_trial_result(trial, result)

    def _rank(self, trial_id: str, value: float) -> None:
        before = self._scores.get(trial_id)
        if before is not None and math.isfinite(value):
            self._observations.append((self._now, self._unit_params(self._configs[trial_id]), value - before))
        super()._rank(trial_id, value)

    def _unit_params(self, config: Mapping[str, Any]) -> list[float]:
        return [
            min(max((float(config.get(key, interval.low)) - interval.low) / (interval.high - interval.low), 0.0), 1.0)
            for key, interval in self._intervals.items()
        ]

    def _explore(self, config: Mapping[str, Any]) -> dict[str, Any]:
        pending = [self._unit_params(self._configs[trial_id]) for trial_id in sorted(self._live)]
        point = _select(list(self._observations), self._now, pending, len(self._intervals), self._random.random)
        explored = dict(config)
        for (key, interval), u in zip(self._intervals.items(), point, strict=True):
            explored[key] = interval.from_unit(u)
        if self.custom_explore_fn is not None:
            explored = self.custom_explore_fn(explored)
            if explored is None:
                raise ValueError("PB2: custom_explore_fn returned None instead of a config")
        return explored

    def get_state(self) -> dict[str, Any]:
        observations = [[time, params, delta] for time, params, delta in self._observations]
        return {**super().get_state(), "observations": observations, "now": self._now}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._observations.clear()
        self._observations.extend((float(t), list(p), float(d)) for t, p, d in state["observations"])
        self._now = float(state["now"])


# -- the GP bandit --------------------------------------------------------------------------------


def _kernel(a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Time-varying squared exponential: column 0 is time, the rest are hyperparameters in [0, 1]."""
    variance, lengthscale, forgetting = np.exp(theta[0]), np.exp(theta[1]), 1 / (1 + np.exp(-theta[2]))
    distance = ((a[:, None, 1:] - b[None, :, 1:]) ** 2).sum(-1)
    elapsed = np.abs(a[:, None, 0] - b[None, :, 0])
    return np.asarray(variance * np.exp(-distance / (2 * lengthscale**2)) * (1 - forgetting) ** (elapsed / 2))


def _negative_log_likelihood(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    noise = np.exp(theta[3])
    covariance = _kernel(x, x, theta) + (noise + 1e-8) * np.eye(len(x))
    try:
        factor = cho_factor(covariance, lower=True)
    except np.linalg.LinAlgError:
        return 1e10
    alpha = cho_solve(factor, y)
    return float(0.5 * y @ alpha + np.log(np.diag(factor[0])).sum() + 0.5 * len(x) * np.log(2 * np.pi))


def _select(
    observations: list[tuple[float, list[float], float]],
    now: float,
    pending: list[list[float]],
    dimensions: int,
    uniform: Callable[[], float],
) -> list[float]:
    """The hyperparameters (in unit coordinates) maximising UCB at time ``now``."""
    if len(observations) < 2:
        return [uniform() for _ in range(dimensions)]
    times = np.array([time for time, _, _ in observations] + [now])
    scale = max(times.max() - times.min(), 1e-9)
    x = np.array([[(time - times.min()) / scale, *params] for time, params, _ in observations])
    y = np.array([delta for _, _, delta in observations])
    y = (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)
    start = np.array([0.0, np.log(0.3), -2.0, np.log(0.1)])
    theta = minimize(_negative_log_likelihood, start, args=(x, y), method="L-BFGS-B",
                     bounds=[(-5, 5), (-4, 2), (-8, 3), (-8, 2)]).x  # fmt: skip
    t_now = (now - times.min()) / scale
    known = np.vstack([x, [[t_now, *params] for params in pending]]) if pending else x
    noise = np.exp(theta[3]) + 1e-8
    factor = cho_factor(_kernel(x, x, theta) + noise * np.eye(len(x)), lower=True)
    pending_factor = cho_factor(_kernel(known, known, theta) + noise * np.eye(len(known)), lower=True)
    alpha = cho_solve(factor, y)
    kappa = math.sqrt(0.2 + max(0.0, math.log(0.4 * len(observations))))

    def negative_ucb(params: np.ndarray) -> float:
        point = np.array([[t_now, *params]])
        mean = float((_kernel(point, x, theta) @ alpha)[0])
        cross = _kernel(point, known, theta)
        variance = float(_kernel(point, point, theta)[0, 0] - (cross @ cho_solve(pending_factor, cross.T))[0, 0])
        # The mean comes from what was observed; the spread also shrinks where other trials run now.
        return -(mean + kappa * math.sqrt(max(variance, 0.0)))

    candidates = [[uniform() for _ in range(dimensions)] for _ in range(64)]
    best = min(candidates, key=lambda params: negative_ucb(np.array(params)))
    polished = minimize(negative_ucb, np.array(best), method="L-BFGS-B", bounds=[(0.0, 1.0)] * dimensions)
    return [float(value) for value in np.clip(polished.x, 0.0, 1.0)]
