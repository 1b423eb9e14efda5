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


def test_constant_grid_search_shares_random_values_within_a_repeat():
    searcher = _searcher(
        {"a": grid_search([1, 2]), "x": uniform(0, 1)}, num_samples=2, constant_grid_search=True
    )
    configs = _drain(searcher)
    assert configs[0]["x"] == configs[1]["x"] != configs[2]["x"] == configs[3]["x"]


def test_same_seed_same_configs_and_state_round_trip_continues_identically():
    space = {"x": uniform(0, 1), "y": uniform(-5, 5)}
    reference = _drain(_searcher(space, 10, random_state=7))
    assert reference == _drain(_searcher(space, 10, random_state=7))
    assert reference != _drain(_searcher(space, 10, random_state=8))

    first = _searcher(space, 10, random_state=7)
    head = [first.suggest(f"t{i}") for i in range(4)]
    second = _searcher(space, 10, random_state=1)
    second.set_state(first.get_state())
    tail = [second.suggest(f"t{i}") for i in range(4, 10)]
    assert head + tail == reference


def test_points_to_evaluate_come_first_and_fill_in_the_rest():
    searcher = _searcher({"x": uniform(0, 1), "y": uniform(0, 1)}, 3, points_to_evaluate=[{"x": 0.5}])
    configs = _drain(searcher)
    assert configs[0]["x"] == 0.5
    assert 0 <= configs[0]["y"] < 1
    assert len(configs) == 3


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


def test_suggest_before_set_search_properties_is_an_error():
    with pytest.raises(RuntimeError, match="before set_search_properties"):
        BasicVariantGenerator().suggest("t0")
