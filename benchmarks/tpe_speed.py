"""How long one TPE suggestion takes with 100, 1,000 and 10,000 finished trials: ours vs Optuna's.

    python benchmarks/tpe_speed.py [--repeats 20] [--sizes 100 1000 10000] [--in-flight 8]

Both searchers get the same history of random trials on a 6-parameter space (floats, a log-scale
float, an integer, a categorical) and are timed on the next ``--repeats`` suggestions, each told its
result before the next (so the history grows by ``repeats``). Peers in the same run: Optuna's
TPESampler, multivariate and independent (its default), with ``study.ask(fixed_distributions)``.
With ``--in-flight K``, ``K - 1`` more trials are suggested first and left running throughout, so
every timed suggestion also deals with them (ours penalises candidates near them; Optuna 5's
constant liar counts them as bad trials).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np
import optuna

from tune_search import TPESearch, choice, loguniform, randint, uniform

SPACE = {
    "x0": uniform(-5, 10),
    "x1": uniform(0, 15),
    "x2": uniform(0, 1),
    "lr": loguniform(1e-5, 1e-1),
    "units": randint(8, 257),
    "act": choice(["relu", "tanh", "gelu"]),
}
DISTRIBUTIONS = {
    "x0": optuna.distributions.FloatDistribution(-5, 10),
    "x1": optuna.distributions.FloatDistribution(0, 15),
    "x2": optuna.distributions.FloatDistribution(0, 1),
    "lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
    "units": optuna.distributions.IntDistribution(8, 256),
    "act": optuna.distributions.CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def loss(config: dict) -> float:
    return (
        (config["x0"] - 1) ** 2 / 10
        + (config["x1"] - 5) ** 2 / 10
        + config["x2"]
        + (math.log10(config["lr"]) + 3) ** 2
        + abs(config["units"] - 64) / 64
        + (config["act"] != "gelu")
    )


def history(size: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{name: domain.sample(rng) for name, domain in SPACE.items()} for _ in range(size)]


def time_ours(configs: list[dict], repeats: int, in_flight: int) -> list[float]:
    filler = TPESearch(SPACE, "loss", "min", points_to_evaluate=configs, seed=0)
    for index in range(len(configs)):
        filler.suggest(f"h{index}")
        filler.on_trial_complete(f"h{index}", {"loss": loss(configs[index])})
    searcher = TPESearch(SPACE, "loss", "min", seed=0)
    searcher.set_state(filler.get_state())  # the same history, with the model switched on
    for index in range(in_flight - 1):
        searcher.suggest(f"running{index}")
    times = []
    for index in range(repeats):
        start = time.perf_counter()
        config = searcher.suggest(f"s{index}")
        times.append(time.perf_counter() - start)
        assert isinstance(config, dict)
        searcher.on_trial_complete(f"s{index}", {"loss": loss(config)})
    return times


def time_optuna(configs: list[dict], repeats: int, in_flight: int, multivariate: bool) -> list[float]:
    sampler = optuna.samplers.TPESampler(seed=0, multivariate=multivariate)
    study = optuna.create_study(sampler=sampler)
    study.add_trials(
        [
            optuna.trial.create_trial(params=config, distributions=DISTRIBUTIONS, value=loss(config))
            for config in configs
        ]
    )
    for _ in range(in_flight - 1):
        study.ask(fixed_distributions=DISTRIBUTIONS)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        trial = study.ask(fixed_distributions=DISTRIBUTIONS)
        times.append(time.perf_counter() - start)
        study.tell(trial, loss(trial.params))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--in-flight", type=int, default=1, help="trials running during each suggestion (it included)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; median ms per suggestion"
        f" with {args.in_flight} in flight"
    )
    print(f"{'trials':>7} | {'ours':>7} | {'Optuna mv':>9} | {'ratio':>6} | {'Optuna indep':>12} | {'ratio':>6}")
    for size in args.sizes:
        configs = history(size, seed=size)
        ours = statistics.median(time_ours(configs, args.repeats, args.in_flight)) * 1e3
        multivariate = statistics.median(time_optuna(configs, args.repeats, args.in_flight, multivariate=True)) * 1e3
        independent = statistics.median(time_optuna(configs, args.repeats, args.in_flight, multivariate=False)) * 1e3
        print(
            f"{size:>7} | {ours:>7.2f} | {multivariate:>9.2f} | {multivariate / ours:>5.1f}x"
            f" | {independent:>12.2f} | {independent / ours:>5.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
