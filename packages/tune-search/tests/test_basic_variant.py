"""BasicVariantGenerator: Ray Tune's num_samples, grid and points_to_evaluate semantics."""

import pytest

from tune_search import FINISHED, BasicVariantGenerator, grid_search, uniform


def _drain(searcher, limit=1000):
    configs = []
    for index in range(limit):
        suggestion = searcher.suggest(f"t{index}")
        if suggestion == FINISHED:
            return configs
        configs.append(suggestion)
    raise AssertionError("the searcher never finished")


def _searcher(space, num_samples, **kwargs):
    searcher = BasicVariantGenerator(**kwargs)
    searcher.set_search_properties("loss", "min", space, num_samples=num_samples)
    return searcher


def test_every_grid_point_runs_num_samples_times():
    searcher = _searcher({"a": grid_search([1, 2, 3]), "x": uniform(0, 1)}, num_samples=2)
    configs = _drain(searcher)
    assert searcher.max_trials(2) == 6
    assert [config["a"] for config in configs] == [1, 2, 3, 1, 2, 3]
    assert len({config["x"] for config in configs}) == 6


def test_constant_grid_search_shares_random_values_within_a_sweep():
    searcher = _searcher({"a": grid_search([1, 2]), "x": uniform(0, 1)}, num_samples=2, constant_grid_search=True)
    configs = _drain(searcher)
    assert configs[0]["x"] == configs[1]["x"] != configs[2]["x"] == configs[3]["x"]


def test_each_point_replaces_one_sample_and_fixes_the_grid_values_it_sets():
    # Ray Tune's documented example: 4 samples, three presets, a 3-point grid on "a".
    space = {"a": grid_search([1, 2, 3]), "b": uniform(0, 1)}
    points = [{"a": 2, "b": 2}, {"a": 1}, {"b": 2}]
    searcher = _searcher(space, 4, points_to_evaluate=points)
    configs = _drain(searcher)
    assert searcher.max_trials(4) == 8
    assert [config["a"] for config in configs] == [2, 1, 1, 2, 3, 1, 2, 3]
    assert configs[0]["b"] == 2
    assert [config["b"] for config in configs[2:5]] == [2, 2, 2]
    assert all(0 <= config["b"] < 1 for config in configs[1:2] + configs[5:])


def test_more_points_than_samples_are_all_evaluated():
    configs = _drain(_searcher({"x": uniform(0, 1)}, 1, points_to_evaluate=[{"x": 0.1}, {"x": 0.2}]))
    assert [config["x"] for config in configs] == [0.1, 0.2]


def test_a_point_naming_an_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: y is not a parameter of the space"):
        _searcher({"x": uniform(0, 1)}, 1, points_to_evaluate=[{"y": 1}])


def test_num_samples_minus_one_samples_without_end():
    searcher = _searcher({"a": grid_search([1, 2]), "x": uniform(0, 1)}, num_samples=-1)
    assert searcher.max_trials(-1) is None
    configs = [searcher.suggest(f"t{index}") for index in range(500)]
    assert [config["a"] for config in configs[:4]] == [1, 2, 1, 2]
    assert FINISHED not in configs


def test_same_seed_same_configs_and_state_round_trip_continues_identically():
    space = {"x": uniform(0, 1), "g": grid_search(["p", "q", "r"])}
    reference = _drain(_searcher(space, 4, random_state=7))
    assert reference == _drain(_searcher(space, 4, random_state=7))
    first = _searcher(space, 4, random_state=7)
    head = [first.suggest(f"t{i}") for i in range(5)]
    second = _searcher(space, 4, random_state=1)
    second.set_state(first.get_state())
    assert head + _drain(second) == reference


def test_max_concurrent_asks_to_wait_until_a_trial_completes():
    searcher = _searcher({"x": uniform(0, 1)}, 5, max_concurrent=2)
    assert isinstance(searcher.suggest("a"), dict)
    assert isinstance(searcher.suggest("b"), dict)
    assert searcher.suggest("c") is None
    searcher.on_trial_complete("a", {"loss": 1.0})
    assert isinstance(searcher.suggest("c"), dict)


def test_save_and_restore_through_a_file(tmp_path):
    space = {"x": uniform(0, 1)}
    first = _searcher(space, 5, random_state=3)
    first.suggest("t0")
    first.save(tmp_path / "searcher.json")
    second = _searcher(space, 5)
    second.restore(tmp_path / "searcher.json")
    assert second.suggest("t1") == first.suggest("t1")


def test_suggest_before_a_space_is_given_is_an_error():
    with pytest.raises(RuntimeError, match="needs a search space"):
        BasicVariantGenerator().suggest("t0")
