"""Each search-space primitive, with Ray Tune's bounds conventions."""

import math

import numpy as np
import pytest

from tune_search import (
    Float,
    Integer,
    choice,
    lograndint,
    loguniform,
    parse_space,
    qlograndint,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    uniform,
)


def _draw(domain, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return [domain.sample(rng) for _ in range(n)]


def _roughly_equal_counts(values, expected_keys):
    """Each key occurs, and no count is more than 10% off an even share (seeded: no flakiness)."""
    share = len(values) / len(expected_keys)
    return set(values) == expected_keys and all(abs(values.count(key) - share) < 0.1 * share for key in expected_keys)


def test_uniform_is_half_open_and_fills_its_interval():
    values = _draw(uniform(-1.0, 2.0))
    assert all(-1.0 <= value < 2.0 for value in values)
    assert min(values) < -0.99
    assert max(values) > 1.99


def test_quniform_rounds_to_multiples_and_reaches_the_upper_bound():
    assert sorted(set(_draw(quniform(0.1, 0.3, 0.1)))) == [0.1, 0.2, 0.3]


def test_loguniform_is_uniform_in_the_exponent_whatever_the_base():
    values = _draw(loguniform(1e-4, 1e-1, base=2))
    assert all(1e-4 <= value < 1e-1 for value in values)
    decades = [math.floor(math.log10(value)) for value in values]
    assert _roughly_equal_counts(decades, {-4, -3, -2})


def test_qloguniform_gives_multiples_of_q_within_bounds():
    values = _draw(qloguniform(1, 1000, 1))
    assert all(1 <= value <= 1000 and value == round(value) for value in values)


def test_randn_and_qrandn_follow_their_mean_and_quantum():
    assert abs(np.mean(_draw(randn(5.0, 0.1))) - 5.0) < 0.01
    assert all(value % 0.5 == 0 for value in _draw(qrandn(0, 2, 0.5)))


def test_randint_excludes_its_upper_bound():
    assert sorted(set(_draw(randint(3, 6)))) == [3, 4, 5]


def test_qrandint_includes_its_upper_bound_unless_q_is_one():
    assert sorted(set(_draw(qrandint(1, 10, 3)))) == [3, 6, 9]
    assert sorted(set(_draw(qrandint(0, 12, 4)))) == [0, 4, 8, 12]
    assert sorted(set(_draw(qrandint(0, 3, 1)))) == [0, 1, 2]


def test_lograndint_favours_small_values_and_excludes_the_upper_bound():
    values = _draw(lograndint(1, 100))
    assert set(values) <= set(range(1, 100))
    assert sum(value < 10 for value in values) > sum(value >= 10 for value in values) * 0.8


def test_qlograndint_gives_multiples_of_q_up_to_the_upper_bound():
    assert sorted(set(_draw(qlograndint(1, 100, 25)))) == [25, 50, 75, 100]


def test_integers_are_python_ints():
    assert all(type(value) is int for value in _draw(randint(0, 5), n=10) + _draw(qlograndint(2, 64, 2), n=10))


def test_choice_draws_every_category_equally():
    assert _roughly_equal_counts(_draw(choice(["a", "b", None])), {"a", "b", None})


def test_domains_can_be_inspected():
    domain = qloguniform(1e-3, 1.0, 1e-3)
    assert isinstance(domain, Float)
    assert (domain.low, domain.high, domain.log, domain.q) == (1e-3, 1.0, True, 1e-3)
    assert qrandint(0, 10, 2) == Integer(0, 10, log=False, q=2)
    assert choice([1, 2]).categories == (1, 2)


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        (uniform(1, 1), "low must be < high, got low=1, high=1"),
        (uniform(0, float("inf")), "bounds must be finite numbers"),
        (loguniform(-1, 1), "log-scale bounds must be > 0, got low=-1"),
        (quniform(0, 1, 0), "q must be > 0, got 0"),
        (quniform(0.05, 1, 0.1), "low=0.05 is not a multiple of q=0.1"),
        (randn(0, 0), "sd > 0"),
        (qrandn(0, 1, -1), "q must be > 0"),
        (randint(5, 1), "low must be < high"),
        (randint(1.5, 3), "bounds must be integers"),
        (qrandint(4, 5, 3), "no multiple of q=3 lies between low=4 and high=5"),
        (qrandint(0, 10, 0.5), "q must be a positive integer"),
        (lograndint(0, 10), "log-scale bounds must be > 0"),
        (qlograndint(0, 10, 2), "log-scale bounds must be > 0"),
        (choice([]), "needs at least one category"),
    ],
)
def test_every_bad_argument_is_named_with_the_parameter_path(domain, message):
    with pytest.raises(ValueError, match="^opt.knob: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_space({"opt": {"knob": domain}})
