import math

import numpy as np
import pytest

from tune_search import choice, grid_search, loguniform, parse_space, randint, sample_from, uniform
from tune_search._domains import Normal


def _samples(domain, n=2000, seed=0):
    space = parse_space({"p": domain})
    rng = np.random.default_rng(seed)
    return [space.resolve(rng)["p"] for _ in range(n)]


def test_uniform_stays_in_its_half_open_interval():
    values = _samples(uniform(-1.0, 2.0))
    assert all(-1.0 <= value < 2.0 for value in values)
    assert min(values) < -0.9
    assert max(values) > 1.9


def test_loguniform_spreads_over_orders_of_magnitude():
    values = _samples(loguniform(1e-4, 1e-1))
    assert all(1e-4 <= value < 1e-1 for value in values)
    decades = {math.floor(math.log10(value)) for value in values}
    assert decades == {-4, -3, -2}


def test_randint_excludes_its_upper_bound():
    assert set(_samples(randint(3, 6))) == {3, 4, 5}


def test_choice_draws_every_category():
    assert set(_samples(choice(["a", "b", None]))) == {"a", "b", None}


def test_normal_is_centred_on_its_mean():
    assert abs(np.mean(_samples(Normal(5.0, 0.1))) - 5.0) < 0.01


def test_nested_dicts_and_lists_resolve_and_constants_pass_through():
    space = parse_space({"model": {"layers": [{"units": randint(8, 16)}, 3]}, "name": "fixed", "fn": len})
    config = space.resolve(np.random.default_rng(0))
    assert 8 <= config["model"]["layers"][0]["units"] < 16
    assert config["model"]["layers"][1] == 3
    assert config["name"] == "fixed"
    assert config["fn"] is len


def test_sample_from_sees_the_parameters_it_depends_on_in_any_order():
    space = parse_space(
        {
            "double": sample_from(lambda spec: spec.config.half * 2),
            "half": uniform(0, 1),
            "quad": sample_from(lambda spec: spec.config["double"] * 2),
        }
    )
    config = space.resolve(np.random.default_rng(1))
    assert config["double"] == config["half"] * 2
    assert config["quad"] == config["half"] * 4


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"model": {"layers": [{"units": randint(5, 1)}]}}, r"model\.layers\[0\]\.units: low must be < high"),
        ({"lr": loguniform(0, 1)}, r"lr: log-scale bounds must be > 0"),
        ({"act": choice([])}, r"act: choice\(\) needs at least one category"),
        ({"g": grid_search([])}, r"g: grid_search needs a non-empty list"),
        ({"s": Normal(0, -1)}, r"s: sd must be > 0"),
    ],
)
def test_bad_domains_are_named_by_their_path(space, message):
    with pytest.raises(ValueError, match=message):
        parse_space(space)


def test_a_failing_sample_from_names_its_path():
    space = parse_space({"a": {"b": sample_from(lambda spec: 1 / 0)}})
    with pytest.raises(ValueError, match=r"a\.b: sample_from function raised ZeroDivisionError"):
        space.resolve(np.random.default_rng(0))


def test_a_cycle_of_sample_from_functions_is_reported():
    space = parse_space(
        {"a": sample_from(lambda spec: spec.config.b), "b": sample_from(lambda spec: spec.config.a)}
    )
    with pytest.raises(ValueError, match=r"a, b: sample_from functions depend on each other in a cycle"):
        space.resolve(np.random.default_rng(0))


def test_grid_points_vary_the_last_parameter_fastest():
    space = parse_space({"a": grid_search([1, 2]), "b": {"c": grid_search(["x", "y", "z"])}})
    assert space.grid_size == 6
    points = [(point[("a",)], point[("b", "c")]) for point in space.grid_points()]
    assert points == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
