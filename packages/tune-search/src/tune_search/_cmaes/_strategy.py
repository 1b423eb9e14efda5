"""CMA-ES on the unit cube, with integer margins and IPOP/BIPOP restarts, as plain numpy.

The strategy follows Hansen's tutorial ("The CMA evolution strategy: a tutorial", 2016), with
negative ("active") recombination weights. Three additions make it fit hyperparameter search:

- **Box.** Samples live in an unbounded internal space; a continuous coordinate reaches the unit
  interval through reflection at 0 and 1 (a triangle wave), so every sample is feasible and the
  strategy sees a continuous, unbounded problem whose optimum is mirrored, not clipped.
- **Discrete coordinates** (integers, quantised floats) are read off thresholds between the codes of
  their levels, and a margin (Hamano et al., 2022, "CMA-ES with margin") keeps the probability of
  leaving the current level at least ``margin``: without it the step size collapses on a plateau
  and the coordinate stays fixed forever. The correction moves the mean and widens a diagonal
  scaling ``A`` of those coordinates only.
- **Restarts.** When a run has converged (flat values, a negligible step, a degenerate covariance)
  a new one starts from a random mean: IPOP doubles the population each time (Auger & Hansen, 2005);
  BIPOP alternates those runs with small-population, small-step ones, whichever has used fewer
  evaluations so far (Hansen, 2009).

Every piece of state is a plain array or number, so it round-trips through JSON.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

RestartStrategy = Literal["ipop", "bipop"] | None
_STANDARD_NORMAL = statistics.NormalDist()


def reflect(internal: np.ndarray) -> np.ndarray:
    """The unit-interval point of an internal coordinate: mirrored at 0 and 1, periodically."""
    return np.asarray(1.0 - np.abs(np.mod(internal, 2.0) - 1.0))


@dataclass
class Discrete:
    """The codes of a discrete coordinate's levels (ascending) and the thresholds between them."""

    codes: np.ndarray

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray((self.codes[1:] + self.codes[:-1]) / 2)

    def decode(self, internal: float) -> float:
        return float(self.codes[int(np.searchsorted(self.thresholds, internal))])


@dataclass
class Run:
    """One CMA-ES run: its distribution, evolution paths and population size."""

    mean: np.ndarray
    sigma: float
    population: int
    covariance: np.ndarray
    scaling: np.ndarray
    path_sigma: np.ndarray
    path_c: np.ndarray
    generation: int = 0
    best_history: list[float] = field(default_factory=list)
    evaluations: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "sigma": self.sigma,
            "population": self.population,
            "covariance": self.covariance.tolist(),
            "scaling": self.scaling.tolist(),
            "path_sigma": self.path_sigma.tolist(),
            "path_c": self.path_c.tolist(),
            "generation": self.generation,
            "best_history": list(self.best_history),
            "evaluations": self.evaluations,
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> Run:
        return cls(
            mean=np.array(state["mean"], dtype=float),
            sigma=float(state["sigma"]),
            population=int(state["population"]),
            covariance=np.array(state["covariance"], dtype=float),
            scaling=np.array(state["scaling"], dtype=float),
            path_sigma=np.array(state["path_sigma"], dtype=float),
            path_c=np.array(state["path_c"], dtype=float),
            generation=int(state["generation"]),
            best_history=[float(value) for value in state["best_history"]],
            evaluations=int(state["evaluations"]),
        )


class CMAES:
    """Ask for internal points, tell their values a generation at a time; restarts happen in ``tell``.

    ``discrete`` maps coordinate indices to their levels. Values are minimised.
    """

    def __init__(
        self,
        dimensions: int,
        discrete: dict[int, Discrete],
        sigma0: float = 0.3,
        population: int | None = None,
        restart: RestartStrategy = "ipop",
        margin: float | None = None,
        mean: np.ndarray | None = None,
    ) -> None:
        if dimensions < 1:
            raise ValueError("CMA-ES needs at least one dimension")
        self.dimensions = dimensions
        self.discrete = discrete
        self.sigma0 = sigma0
        self.default_population = population or 4 + int(3 * math.log(dimensions))
        self.restart = restart
        self.margin_override = margin
        self.restarts = 0
        self.large_population = self.default_population  # BIPOP: the population of the last large run
        self.large_budget = 0  # BIPOP: evaluations spent by the large-population runs (the first too)
        self.small_budget = 0
        self.run = self._new_run(np.full(dimensions, 0.5) if mean is None else mean, sigma0, self.default_population)

    # -- the interface ------------------------------------------------------------------------

    def ask(self, rng: np.random.Generator) -> np.ndarray:
        """A new internal point from the current distribution."""
        run = self.run
        eigenvalues, eigenvectors = np.linalg.eigh(run.covariance)
        root = eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))
        step = root @ rng.standard_normal(self.dimensions)
        return np.asarray(run.mean + run.sigma * run.scaling * step)

    def to_unit(self, internal: np.ndarray) -> np.ndarray:
        """The point of the unit cube an internal point stands for."""
        unit = reflect(internal)
        for index, levels in self.discrete.items():
            unit[index] = levels.decode(float(internal[index]))
        return unit

    def tell(self, points: list[np.ndarray], values: list[float], rng: np.random.Generator) -> None:
        """Update with one full generation (``population`` points); start a new run if this one ended."""
        run = self.run
        if len(points) != run.population:
            raise ValueError(f"a generation has {run.population} points, got {len(points)}")
        self._update(run, np.array(points), np.array(values, dtype=float))
        if self.restart is not None and self._converged(run, np.array(values, dtype=float)):
            self._start_next_run(rng)

    # -- internals ----------------------------------------------------------------------------

    def _new_run(self, mean: np.ndarray, sigma: float, population: int) -> Run:
        d = self.dimensions
        return Run(
            mean=np.array(mean, dtype=float),
            sigma=sigma,
            population=population,
            covariance=np.eye(d),
            scaling=np.ones(d),
            path_sigma=np.zeros(d),
            path_c=np.zeros(d),
        )

    def _margin(self, population: int) -> float:
        return self.margin_override if self.margin_override is not None else 1.0 / (self.dimensions * population)

    def _update(self, run: Run, points: np.ndarray, values: np.ndarray) -> None:
        d, lam = self.dimensions, run.population
        weights, mu, mu_eff = _weights(d, lam)
        c_sigma, d_sigma, c_c, c_1, c_mu = _learning_rates(d, mu_eff)
        expected_norm = math.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d))

        order = np.argsort(values, kind="stable")
        steps = (points[order] - run.mean) / (run.sigma * run.scaling)  # y_i ~ N(0, C)
        eigenvalues, eigenvectors = np.linalg.eigh(run.covariance)
        eigenvalues = np.maximum(eigenvalues, 1e-20)
        inverse_root = eigenvectors @ np.diag(eigenvalues**-0.5) @ eigenvectors.T

        step_w = weights[:mu] @ steps[:mu]
        run.mean = run.mean + run.sigma * run.scaling * step_w
        run.path_sigma = (1 - c_sigma) * run.path_sigma + math.sqrt(c_sigma * (2 - c_sigma) * mu_eff) * (
            inverse_root @ step_w
        )
        norm_sigma = float(np.linalg.norm(run.path_sigma))
        correction = math.sqrt(1 - (1 - c_sigma) ** (2 * (run.generation + 1)))
        h_sigma = 1.0 if norm_sigma / correction < (1.4 + 2 / (d + 1)) * expected_norm else 0.0
        run.path_c = (1 - c_c) * run.path_c + h_sigma * math.sqrt(c_c * (2 - c_c) * mu_eff) * step_w

        # Negative weights act on steps rescaled to the norm of a typical step, so the covariance
        # stays positive definite however far a bad sample lay.
        adjusted = weights.copy()
        negative = weights < 0
        mahalanobis = np.sum((steps[negative] @ inverse_root.T) ** 2, axis=1)
        adjusted[negative] *= d / np.maximum(mahalanobis, 1e-20)
        rank_mu = (adjusted[:, None] * steps).T @ steps
        delta = (1 - h_sigma) * c_c * (2 - c_c)
        run.covariance = (
            (1 + c_1 * delta - c_1 - c_mu * weights.sum()) * run.covariance
            + c_1 * np.outer(run.path_c, run.path_c)
            + c_mu * rank_mu
        )
        run.covariance = (run.covariance + run.covariance.T) / 2
        run.sigma *= math.exp(min(1.0, (c_sigma / d_sigma) * (norm_sigma / expected_norm - 1)))
        run.generation += 1
        run.evaluations += lam
        run.best_history.append(float(values[order[0]]))
        if self.discrete:
            self._apply_margin(run)

    def _apply_margin(self, run: Run) -> None:
        """Keep each discrete coordinate's chance of leaving its level at least ``margin``.

        At an end level (one threshold) the mean moves towards the threshold until the tail beyond it
        holds ``margin``; at an inner level each side's tail gets at least ``margin / 2``, by moving the
        mean and widening the coordinate's scaling ``A`` (sigma and C stay as they are, so the other
        coordinates are unaffected).
        """
        alpha = self._margin(run.population)
        diagonal = np.sqrt(np.diag(run.covariance))
        for index, levels in self.discrete.items():
            thresholds = levels.thresholds
            if not len(thresholds):
                continue
            mean = float(run.mean[index])
            sd = run.sigma * run.scaling[index] * diagonal[index]
            position = int(np.searchsorted(thresholds, mean))
            lower = float(thresholds[position - 1]) if position > 0 else None
            upper = float(thresholds[position]) if position < len(thresholds) else None
            if lower is None or upper is None:
                edge = upper if lower is None else lower
                assert edge is not None  # a level has at least one threshold (two levels or more)
                distance = abs(mean - edge)
                allowed = sd * _STANDARD_NORMAL.inv_cdf(1 - alpha)
                if distance > allowed:
                    run.mean[index] = edge - allowed if lower is None else edge + allowed
                continue
            below = _STANDARD_NORMAL.cdf((lower - mean) / sd)
            above = _STANDARD_NORMAL.cdf((mean - upper) / sd)
            if min(below, above) >= alpha / 2:
                continue
            below, above = max(below, alpha / 2), max(above, alpha / 2)
            z_below, z_above = -_STANDARD_NORMAL.inv_cdf(below), -_STANDARD_NORMAL.inv_cdf(above)
            new_sd = (upper - lower) / (z_below + z_above)
            run.mean[index] = lower + z_below * new_sd
            run.scaling[index] = new_sd / (run.sigma * diagonal[index])

    def _converged(self, run: Run, values: np.ndarray) -> bool:
        d, lam = self.dimensions, run.population
        history = 10 + math.ceil(30 * d / lam)
        recent = run.best_history[-history:]
        scale = max(1.0, abs(float(np.min(values))))
        if len(recent) >= history and max(*recent, *values) - min(*recent, *values) < 1e-12 * scale:
            return True  # no change in values for many generations
        if float(np.ptp(values)) == 0.0 and run.generation > 1:
            return True  # a flat generation: nothing left to rank
        spread = run.sigma * run.scaling * np.sqrt(np.diag(run.covariance))
        continuous = [index for index in range(d) if index not in self.discrete]
        if continuous and float(np.max(spread[continuous])) < 1e-10:
            return True  # the step is below any meaningful difference of the unit cube
        eigenvalues = np.linalg.eigvalsh(run.covariance)
        return bool(eigenvalues[0] <= 0 or eigenvalues[-1] / eigenvalues[0] > 1e14)

    def _start_next_run(self, rng: np.random.Generator) -> None:
        finished = self.run
        self.restarts += 1
        mean = rng.random(self.dimensions)
        if self.restart == "ipop":
            self.run = self._new_run(mean, self.sigma0, finished.population * 2)
            return
        # BIPOP: account the finished run to its regime, then run the regime that has spent less.
        if finished.population >= self.large_population:
            self.large_budget += finished.evaluations
        else:
            self.small_budget += finished.evaluations
        if self.restarts == 1 or self.small_budget >= self.large_budget:
            self.large_population *= 2
            self.run = self._new_run(mean, self.sigma0, self.large_population)
        else:
            u = float(rng.random())
            ratio = self.large_population / self.default_population
            population = max(int(self.default_population * (0.5 * ratio) ** (u * u)), self.default_population)
            self.run = self._new_run(mean, self.sigma0 * 10 ** (-2 * u), population)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run.to_json(),
            "restarts": self.restarts,
            "large_population": self.large_population,
            "large_budget": self.large_budget,
            "small_budget": self.small_budget,
        }

    def load_json(self, state: dict[str, Any]) -> None:
        self.run = Run.from_json(state["run"])
        self.restarts = int(state["restarts"])
        self.large_population = int(state["large_population"])
        self.large_budget = int(state["large_budget"])
        self.small_budget = int(state["small_budget"])


def _weights(d: int, lam: int) -> tuple[np.ndarray, int, float]:
    """Recombination weights, positive for the best ``mu`` and negative (active CMA) for the rest."""
    raw = math.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    mu = lam // 2
    positive, negative = raw[:mu], raw[mu:]
    mu_eff = positive.sum() ** 2 / (positive**2).sum()
    mu_eff_minus = negative.sum() ** 2 / (negative**2).sum() if len(negative) and negative.any() else 0.0
    _, _, _, c_1, c_mu = _learning_rates(d, mu_eff)
    alpha_mu = 1 + c_1 / c_mu if c_mu > 0 else 1.0
    alpha_mu_eff = 1 + 2 * mu_eff_minus / (mu_eff + 2)
    alpha_posdef = (1 - c_1 - c_mu) / (d * c_mu) if c_mu > 0 else 1.0
    weights = np.empty(lam)
    weights[:mu] = positive / positive.sum()
    negative_sum = -negative.sum()
    scale = min(alpha_mu, alpha_mu_eff, alpha_posdef) / negative_sum if negative_sum > 0 else 0.0
    weights[mu:] = negative * scale
    return weights, mu, float(mu_eff)


def _learning_rates(d: int, mu_eff: float) -> tuple[float, float, float, float, float]:
    c_sigma = (mu_eff + 2) / (d + mu_eff + 5)
    d_sigma = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (d + 1)) - 1) + c_sigma
    c_c = (4 + mu_eff / d) / (d + 4 + 2 * mu_eff / d)
    c_1 = 2 / ((d + 1.3) ** 2 + mu_eff)
    c_mu = min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((d + 2) ** 2 + mu_eff))
    return c_sigma, d_sigma, c_c, c_1, c_mu
