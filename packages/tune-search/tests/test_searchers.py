"""RandomSearch, QuasiRandomSearch, the wrappers and the ask/tell facade."""

import math

import pytest

from tune_search import (
    CMAESSearch,
    ConcurrencyLimiter,
    GPSearch,
    QuasiRandomSearch,
    RandomSearch,
    Repeater,
    Searcher,
    SearcherBusyError,
    SearchFinishedError,
    TPESearch,
    TuneBOHB,
    choice,
    grid_search,
    randint,
    sample_from,
    uniform,
)


def test_ask_tell_in_a_plain_loop():
    searcher = RandomSearch({"x": uniform(-1, 1)}, metric="loss", mode="min", seed=0)
    best = math.inf
    for _ in range(20):
        trial_id, config = searcher.ask()
        loss = config["x"] ** 2
        searcher.tell(trial_id, {"loss": loss})
        best = min(best, loss)
    assert best < 0.05


class Recording(Searcher):
    def __init__(self):
        super().__init__(metric="loss", mode="min")
        self.completed = []

    def suggest(self, trial_id):
        return {"x": 1}

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.completed.append((trial_id, result, error))


def test_tell_records_nan_and_inf_as_failures_and_accepts_a_bare_value():
    searcher = Recording()
    searcher.set_search_properties(None, None, {"x": 1})
    first, _ = searcher.ask()
    searcher.tell(first, float("nan"))
    second, _ = searcher.ask()
    searcher.tell(second, {"loss": float("inf")})
    third, _ = searcher.ask()
    searcher.tell(third, 0.5)
    assert [(error, result) for _, result, error in searcher.completed][2] == (False, {"loss": 0.5})
    assert [error for _, _, error in searcher.completed] == [True, True, False]


def test_ask_says_why_it_cannot_answer():
    limited = ConcurrencyLimiter(RandomSearch({"x": uniform(0, 1)}, seed=0), max_concurrent=1)
    limited.ask()
    with pytest.raises(SearcherBusyError, match="tell\\(\\) their results first"):
        limited.ask()


def test_ask_after_the_grid_is_exhausted_raises():
    from tune_search import BasicVariantGenerator

    searcher = BasicVariantGenerator()
    searcher.set_search_properties(None, None, {"a": grid_search([1])}, num_samples=1)
    searcher.ask()
    with pytest.raises(SearchFinishedError):
        searcher.ask()


def test_a_searcher_given_a_space_refuses_a_second_one():
    searcher = RandomSearch({"x": uniform(0, 1)})
    assert searcher.set_search_properties("loss", "min", {"y": uniform(0, 1)}) is False
    assert searcher.set_search_properties("loss", "min", {}) is True
    assert (searcher.metric, searcher.mode) == ("loss", "min")


def test_random_search_refuses_grids_naming_the_parameter():
    with pytest.raises(ValueError, match=r"model\.depth: RandomSearch does not support grid_search"):
        RandomSearch({"model": {"depth": grid_search([1, 2])}})


def test_sobol_points_cover_every_stratum_of_each_dimension():
    searcher = QuasiRandomSearch({"x": uniform(0, 1), "y": uniform(0, 1)}, seed=0)
    configs = [searcher.ask()[1] for _ in range(16)]
    for name in ("x", "y"):
        assert sorted(int(config[name] * 16) for config in configs) == list(range(16))


def test_quasi_random_handles_integers_categories_and_sample_from():
    searcher = QuasiRandomSearch(
        {"n": randint(0, 4), "c": choice("abcd"), "twice": sample_from(lambda spec: spec.config.n * 2)},
        seed=1,
        method="halton",
    )
    configs = [searcher.ask()[1] for _ in range(64)]
    assert {config["n"] for config in configs} == {0, 1, 2, 3}
    assert {config["c"] for config in configs} == set("abcd")
    assert all(config["twice"] == 2 * config["n"] for config in configs)


def test_quasi_random_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="method must be 'sobol' or 'halton'"):
        QuasiRandomSearch(method="lhs")


def test_batch_mode_waits_for_the_whole_batch():
    limiter = ConcurrencyLimiter(RandomSearch({"x": uniform(0, 1)}, seed=0), max_concurrent=2, batch=True)
    assert isinstance(limiter.suggest("a"), dict)
    assert isinstance(limiter.suggest("b"), dict)
    assert limiter.suggest("c") is None
    limiter.on_trial_complete("a", {"loss": 1})
    assert limiter.suggest("c") is None  # "b" still runs: the batch is not complete
    limiter.on_trial_complete("b", {"loss": 1})
    assert isinstance(limiter.suggest("c"), dict)


def test_without_batch_mode_a_slot_frees_at_each_completion():
    limiter = ConcurrencyLimiter(RandomSearch({"x": uniform(0, 1)}, seed=0), max_concurrent=2)
    limiter.suggest("a")
    limiter.suggest("b")
    limiter.on_trial_complete("a", {"loss": 1})
    assert isinstance(limiter.suggest("c"), dict)


def test_repeater_evaluates_each_config_several_times_and_reports_the_mean():
    inner = Recording()
    repeater = Repeater(inner, repeat=3)
    repeater.set_search_properties("loss", "min", {"x": 1})
    configs = [repeater.suggest(f"t{i}") for i in range(3)]
    assert [config["__trial_index__"] for config in configs] == [0, 1, 2]
    repeater.on_trial_complete("t0", {"loss": 1.0})
    repeater.on_trial_complete("t1", {"loss": 2.0})
    assert inner.completed == []
    repeater.on_trial_complete("t2", {"loss": 6.0})
    assert inner.completed == [("t0", {"loss": 3.0}, False)]


def test_repeater_leaves_failures_out_of_the_mean_and_reports_an_all_failed_group_as_an_error():
    inner = Recording()
    repeater = Repeater(inner, repeat=2, set_index=False)
    repeater.set_search_properties("loss", "min", {"x": 1})
    for trial_id in ("a", "b", "c", "d"):
        repeater.suggest(trial_id)
    repeater.on_trial_complete("a", {"loss": 4.0})
    repeater.on_trial_complete("b", None, error=True)
    repeater.on_trial_complete("c", {"loss": float("nan")})
    repeater.on_trial_complete("d", None, error=True)
    assert inner.completed == [("a", {"loss": 4.0}, False), ("c", None, True)]


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: ConcurrencyLimiter(RandomSearch(), 0), "max_concurrent must be >= 1"),
    (lambda: Repeater(RandomSearch(), 0), "repeat must be >= 1"),
])  # fmt: skip
def test_wrapper_arguments_are_checked(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


class NeedsMetric(Searcher):
    needs_metric = True

    def suggest(self, trial_id):
        return {"x": 1}


def test_a_searcher_that_needs_a_metric_refuses_to_start_without_one():
    with pytest.raises(ValueError, match=r"NeedsMetric needs a metric and a mode .* got metric=None, mode=None"):
        NeedsMetric().set_search_properties(None, None, {"x": uniform(0, 1)})
    with pytest.raises(ValueError, match=r"NeedsMetric needs a metric and a mode .* got metric='loss', mode=None"):
        ConcurrencyLimiter(NeedsMetric(), 2).set_search_properties("loss", None, {"x": uniform(0, 1)})
    searcher = NeedsMetric(metric="loss", mode="min")  # its own metric and mode are enough
    assert searcher.set_search_properties(None, None, {"x": uniform(0, 1)})


@pytest.mark.parametrize("factory", [TPESearch, TuneBOHB])
def test_model_based_searchers_refuse_to_run_without_a_metric(factory):
    with pytest.raises(ValueError, match=r"needs a metric and a mode \('min' or 'max'\) to learn from results"):
        factory(seed=0).set_search_properties(None, None, {"x": uniform(0, 1)})


@pytest.mark.parametrize("searcher_class", [TPESearch, GPSearch, CMAESSearch, TuneBOHB])
def test_a_preset_the_space_cannot_hold_is_refused_at_set_up(searcher_class):
    """Before any trial runs, naming the preset and the parameter, not halfway through the presets."""
    with pytest.raises(ValueError, match=r"points_to_evaluate\[1\]: x: 5\.0 is outside"):
        searcher_class({"x": uniform(0, 1)}, metric="loss", mode="min", points_to_evaluate=[{"x": 0.5}, {"x": 5.0}])
