"""Walking nested spaces: constants, lists, sample_from, grids and the errors that name paths."""

import numpy as np
import pytest

from tune_search import grid_search, parse_space, randint, sample_from, uniform


def test_nested_dicts_and_lists_resolve_and_constants_pass_through():
    space = parse_space({"model": {"layers": [{"units": randint(8, 16)}, 3]}, "name": "fixed", "fn": len})
    config = space.resolve(np.random.default_rng(0))
    assert 8 <= config["model"]["layers"][0]["units"] < 16
    assert config["model"]["layers"][1] == 3
    assert config["name"] == "fixed"
    assert config["fn"] is len


def test_resolving_never_changes_the_space():
    template = {"a": {"b": uniform(0, 1)}}
    space = parse_space(template)
    space.resolve(np.random.default_rng(0))
    assert isinstance(template["a"]["b"], type(uniform(0, 1)))


def test_sample_from_sees_the_parameters_it_depends_on_in_any_order():
    space = parse_space(
        {
            "double": sample_from(lambda spec: spec.config.half * 2),
            "half": uniform(0, 1),
            "quad": sample_from(lambda spec: spec.config["double"] * 2),
            "nested": {"copy": sample_from(lambda spec: spec.config.get("half"))},
        }
    )
    config = space.resolve(np.random.default_rng(1))
    assert config["double"] == config["half"] * 2
    assert config["quad"] == config["half"] * 4
    assert config["nested"]["copy"] == config["half"]


def test_a_failing_sample_from_names_its_path():
    space = parse_space({"a": {"b": sample_from(lambda spec: 1 / 0)}})
    with pytest.raises(ValueError, match=r"a\.b: sample_from function raised ZeroDivisionError"):
        space.resolve(np.random.default_rng(0))


def test_a_cycle_of_sample_from_functions_is_reported():
    space = parse_space({"a": sample_from(lambda spec: spec.config.b), "b": sample_from(lambda spec: spec.config.a)})
    with pytest.raises(ValueError, match=r"a, b: sample_from functions depend on each other in a cycle"):
        space.resolve(np.random.default_rng(0))


def test_a_sample_from_depending_on_a_missing_parameter_names_it():
    space = parse_space({"a": sample_from(lambda spec: spec.config.missing)})
    with pytest.raises(ValueError, match=r"a: sample_from function raised AttributeError: missing"):
        space.resolve(np.random.default_rng(0))


def test_sample_from_needs_a_callable():
    with pytest.raises(ValueError, match=r"x: sample_from\(\) needs a callable"):
        parse_space({"x": sample_from(42)})


def test_the_first_grid_parameter_by_path_varies_fastest_as_in_ray_tune():
    space = parse_space({"b": {"c": grid_search(["x", "y", "z"])}, "a": grid_search([1, 2])})
    assert space.grid_size() == 6
    points = [space.grid_point(index) for index in range(6)]
    assert [(point[("a",)], point[("b", "c")]) for point in points] == [
        (1, "x"), (2, "x"), (1, "y"), (2, "y"), (1, "z"), (2, "z"),
    ]  # fmt: skip
    assert space.grid_size(fixed=[("a",)]) == 3


def test_grid_search_needs_a_non_empty_list():
    with pytest.raises(ValueError, match=r"g\[0\]: grid_search needs a non-empty list"):
        parse_space({"g": [grid_search([])]})


class ForeignDomain:
    """Stands for another library's search-space object (hyperopt's, Ray Tune's…)."""


ForeignDomain.__module__ = "hyperopt.pyll.base"


def test_another_librarys_search_space_objects_are_refused():
    with pytest.raises(ValueError, match=r"opt\.lr: hyperopt\.pyll\.base\.ForeignDomain is another library's"):
        parse_space({"opt": {"lr": ForeignDomain()}})


def test_a_space_must_be_a_dict():
    with pytest.raises(ValueError, match="param_space must be a dict, got list"):
        parse_space([uniform(0, 1)])
