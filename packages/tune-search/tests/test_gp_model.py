"""The Gaussian-process pieces of GPSearch: kernel gradients, the fit, log EI and its maximiser."""

import math

import numpy as np
import pytest
import scipy.optimize
from scipy.stats import norm

from tune_search._gp._acquisition import (
    _log_ei_with_gradient,
    log_expected_improvement,
    log_h,
    maximise_log_ei,
    pending_log_penalty,
)
from tune_search._gp._model import (
    GaussianProcess,
    _lengthscale_prior,
    _negative_log_posterior,
    fit_hyperparameters,
    squared_differences,
)


def _data(seed, n=30):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    x[:, 2] = (rng.integers(0, 3, n) + 0.5) / 3  # a categorical coordinate with three codes
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + (x[:, 2] > 0.5)
    return x, (y - y.mean()) / y.std(), np.array([False, False, True])


def test_the_marginal_likelihood_gradient_matches_finite_differences():
    x, y, categorical = _data(0)
    squared = squared_differences(x, x, categorical)
    prior = _lengthscale_prior(3)
    for theta in np.random.default_rng(1).normal(scale=0.7, size=(4, 5)):
        value, gradient = _negative_log_posterior(theta, squared, y, prior)
        numeric = scipy.optimize.approx_fprime(theta, lambda t: _negative_log_posterior(t, squared, y, prior)[0], 1e-6)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-4 * max(1.0, abs(value)))


def test_log_h_is_exact_where_the_direct_formula_is_and_finite_far_below():
    z = np.array([-30.0, -10.0, -3.0, -1.0, -0.2, 0.0, 2.0, 25.0])
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    accurate = z > -5  # below, the direct formula cancels to garbage
    np.testing.assert_allclose(log_h(z)[accurate], direct[accurate], rtol=1e-10)
    far = log_h(np.array([-1e3, -1e6, -1e10]))
    assert np.all(np.isfinite(far))
    assert np.all(np.diff(log_h(np.linspace(-1e4, 10, 2001))) > 0)  # strictly increasing, no plateau
    # the asymptote -z²/2 - log(2π)/2 - 2 log|z| (relative error O(1/z²))
    np.testing.assert_allclose(
        far,
        -0.5 * np.array([1e3, 1e6, 1e10]) ** 2 - 0.5 * math.log(2 * math.pi) - 2 * np.log([1e3, 1e6, 1e10]),
        rtol=1e-6,
    )


def test_log_ei_gradient_matches_finite_differences():
    x, y, categorical = _data(2)
    gp = GaussianProcess(x, y, categorical, fit_hyperparameters(x, y, categorical, np.random.default_rng(0)))
    for point in np.random.default_rng(3).random((5, 3)):
        point[2] = 0.5

        def value(free, point=point):
            return _log_ei_with_gradient(gp, np.array([[*free, point[2]]]), float(y.min()))[0][0]

        _, gradient = _log_ei_with_gradient(gp, point[None, :], float(y.min()))
        numeric = scipy.optimize.approx_fprime(point[:2], value, 1e-7)
        np.testing.assert_allclose(gradient[0, :2], numeric, rtol=1e-3, atol=1e-5)
        assert gradient[0, 2] == 0.0  # categorical coordinates have no gradient


def test_the_pending_penalty_excludes_copies_fades_with_distance_and_has_the_right_gradient():
    counts = np.array([0, 0, 3])  # two ordered coordinates, then one of 3 categories
    pending = np.array([[0.3, 0.6, 0.5], [0.8, 0.2, 1 / 6]])
    widths = np.array([0.1, 0.2, 1.0])
    values, _ = pending_log_penalty(pending, pending, widths, counts)
    assert np.all(values < -27)  # a copy of a running trial: the floor, log 1e-12
    other_category = pending_log_penalty(np.array([[0.3, 0.6, 5 / 6]]), pending, widths, counts)[0]
    assert other_category[0] == pytest.approx(0.0, abs=1e-9)  # another category is another config
    away = np.array([[0.3 + step, 0.6, 0.5] for step in (0.05, 0.1, 0.3)])
    assert np.all(np.diff(pending_log_penalty(away, pending, widths, counts)[0]) > 0)
    for point in np.random.default_rng(5).random((5, 3)):
        point[2] = 0.5

        def value(free, point=point):
            return pending_log_penalty(np.array([[*free, point[2]]]), pending, widths, counts)[0][0]

        _, gradient = pending_log_penalty(point[None, :], pending, widths, counts)
        numeric = scipy.optimize.approx_fprime(point[:2], value, 1e-7)
        np.testing.assert_allclose(gradient[0, :2], numeric, rtol=1e-4, atol=1e-6)
        assert gradient[0, 2] == 0.0


def test_exact_observations_leave_no_variance_where_noisy_ones_leave_the_noise():
    x, y, categorical = _data(6)
    hyper = fit_hyperparameters(x, y, categorical, np.random.default_rng(0))
    fantasy = np.array([[0.37, 0.42, 0.5]])
    gp = GaussianProcess(x, y, categorical, hyper)
    believed, _ = gp.predict(fantasy)
    noisy = GaussianProcess(np.vstack([x, fantasy]), np.concatenate([y, believed]), categorical, hyper)
    exact = GaussianProcess(
        np.vstack([x, fantasy]), np.concatenate([y, believed]), categorical, hyper, np.arange(len(x) + 1) == len(x)
    )
    assert exact.predict(fantasy)[1][0] <= 2e-6  # the smallest noise a fit allows, 1e-6, and jitter
    assert exact.predict(fantasy)[1][0] < noisy.predict(fantasy)[1][0]
    np.testing.assert_allclose(exact.predict(fantasy)[0], believed, atol=1e-6)


def test_the_fit_predicts_held_out_points_and_finds_the_irrelevant_dimensions():
    rng = np.random.default_rng(4)
    x = rng.random((60, 3))
    y = np.sin(5 * x[:, 0])  # only the first coordinate matters
    hyper = fit_hyperparameters(x, (y - y.mean()) / y.std(), np.zeros(3, dtype=bool), rng)
    lengthscales = np.exp(hyper.log_lengthscales)
    assert lengthscales[0] < 0.5 * min(lengthscales[1], lengthscales[2])
    gp = GaussianProcess(x, (y - y.mean()) / y.std(), np.zeros(3, dtype=bool), hyper)
    test = rng.random((20, 3))
    mean, variance = gp.predict(test)
    expected = (np.sin(5 * test[:, 0]) - y.mean()) / y.std()
    assert np.max(np.abs(mean - expected)) < 0.05
    assert np.all(variance < 0.01)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_maximiser_returns_valid_codes_and_beats_random_points(seed):
    x, y, categorical = _data(seed)
    rng = np.random.default_rng(seed)
    gp = GaussianProcess(x, y, categorical, fit_hyperparameters(x, y, categorical, rng))
    levels = [None, np.array([0.1, 0.3, 0.5, 0.7, 0.9]), np.array([1 / 6, 0.5, 5 / 6])]
    point = maximise_log_ei(gp, float(y.min()), rng, levels, x[np.argsort(y)[:3]])
    assert np.all((point >= 0) & (point <= 1))
    assert point[1] in levels[1]
    assert point[2] in levels[2]
    best = log_expected_improvement(*gp.predict(point[None, :]), float(y.min()))[0]
    random = rng.random((2000, 3))
    random[:, 1] = levels[1][rng.integers(0, 5, 2000)]
    random[:, 2] = levels[2][rng.integers(0, 3, 2000)]
    assert best >= np.max(log_expected_improvement(*gp.predict(random), float(y.min())))
