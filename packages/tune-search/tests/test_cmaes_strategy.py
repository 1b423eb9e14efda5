"""The CMA-ES strategy behind CMAESSearch: convergence, box, integer margin, restarts, state."""

import json

import numpy as np
import pytest

from tune_search._cmaes._strategy import CMAES, Discrete, reflect

CODES = (np.arange(10) + 0.5) / 10  # an integer with ten levels


def _minimise(strategy, function, evaluations, seed=0, after_tell=None):
    rng = np.random.default_rng(seed)
    best, used = np.inf, 0
    while used < evaluations:
        points = [strategy.ask(rng) for _ in range(strategy.run.population)]
        values = [function(strategy.to_unit(point)) for point in points]
        used += len(points)
        best = min(best, *values)
        strategy.tell(points, values, rng)
        if after_tell is not None:
            after_tell(strategy)
    return best


def _sphere(unit):
    return float(np.sum((unit - 0.3) ** 2))


def _rosenbrock(unit):
    x = 4 * unit - 2
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def _rastrigin(unit):
    x = 10.24 * unit - 5.12
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))


def test_reflection_keeps_the_unit_interval_and_mirrors_outside_it():
    inside = np.linspace(0, 1, 11)
    np.testing.assert_allclose(reflect(inside), inside)
    np.testing.assert_allclose(reflect(np.array([-0.2, 1.2, 2.3, -1.7])), [0.2, 0.8, 0.3, 0.3])


@pytest.mark.parametrize(
    ("function", "dimensions", "budget", "target"), [(_sphere, 5, 1500, 1e-10), (_rosenbrock, 4, 4000, 1e-8)]
)
def test_it_converges_on_smooth_problems(function, dimensions, budget, target):
    assert _minimise(CMAES(dimensions, {}, restart=None), function, budget) < target


def test_an_optimum_on_the_boundary_is_reached_through_reflection():
    assert _minimise(CMAES(3, {}, restart=None), lambda unit: float(np.sum(unit)), 1500) < 1e-6


def test_ipop_restarts_double_the_population_and_help_on_a_multimodal_problem():
    populations = []
    strategy = CMAES(4, {}, restart="ipop")
    best = _minimise(strategy, _rastrigin, 12000, after_tell=lambda s: populations.append(s.run.population))
    assert strategy.restarts >= 2
    assert sorted(set(populations)) == [8 * 2**k for k in range(strategy.restarts + 1)]
    without = _minimise(CMAES(4, {}, restart=None), _rastrigin, 12000)
    assert best <= without
    assert best < 3.0


def test_bipop_alternates_large_and_small_runs():
    strategy = CMAES(4, {}, restart="bipop")
    populations = []
    _minimise(strategy, _rastrigin, 20000, after_tell=lambda s: populations.append((s.restarts, s.run.population)))
    runs = dict(populations)
    assert strategy.restarts >= 3
    assert any(population > 8 for population in runs.values())
    assert strategy.small_budget > 0  # a small-population run has finished


def test_integers_with_margin_reach_the_optimum_and_keep_a_chance_to_move():
    target = np.array([2, 8, 5, 0])

    def integer_problem(unit):
        levels = np.floor(unit * 10)
        return float(np.sum((levels - target) ** 2))

    def check_margin(strategy):
        run = strategy.run
        margin = 1 / (4 * run.population)
        sds = run.sigma * run.scaling * np.sqrt(np.diag(run.covariance))
        for index, levels in strategy.discrete.items():
            samples = run.mean[index] + sds[index] * np.random.default_rng(index).standard_normal(40000)
            current = np.searchsorted(levels.thresholds, run.mean[index])
            leave = np.mean(np.searchsorted(levels.thresholds, samples) != current)
            assert leave >= 0.8 * margin  # a Monte-Carlo estimate of at least `margin`

    strategy = CMAES(4, {index: Discrete(CODES) for index in range(4)}, restart=None)
    assert _minimise(strategy, integer_problem, 800, after_tell=check_margin) == 0.0


def test_mixed_integer_problems_converge_in_the_continuous_part():
    def mixed(unit):
        return float((unit[0] - 0.33) ** 2 + (unit[1] - 0.71) ** 2 + (np.floor(unit[2] * 10) - 7) ** 2)

    assert _minimise(CMAES(3, {2: Discrete(CODES)}, restart=None), mixed, 900) < 1e-8


def test_the_json_state_continues_identically():
    first = CMAES(3, {2: Discrete(CODES)}, restart="ipop")
    _minimise(first, _sphere, 200)
    second = CMAES(3, {2: Discrete(CODES)}, restart="ipop")
    second.load_json(json.loads(json.dumps(first.to_json())))
    assert _minimise(first, _sphere, 200, seed=5) == _minimise(second, _sphere, 200, seed=5)
    np.testing.assert_array_equal(first.run.mean, second.run.mean)


def test_a_generation_must_be_complete():
    strategy = CMAES(2, {})
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="a generation has 6 points, got 1"):
        strategy.tell([strategy.ask(rng)], [1.0], rng)
