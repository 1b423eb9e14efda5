"""Run an experiment on a Ray cluster that is already running: connect first, then tune as usual.

Start a cluster (``ray start --head`` on one machine, ``ray start --address=HEAD:6379`` on the
others; or any cluster launcher), then from a machine that can reach it:

    python examples/existing_cluster.py --address HEAD:6379

``ray.init(address=...)`` connects this driver; ``tune.Tuner`` then runs its trials on that cluster
and leaves it running when the experiment ends. Each trial reports the node it ran on, so the
output shows how the trials spread over the cluster's nodes.
"""

from __future__ import annotations

import argparse
import collections
from typing import Any

import ray

import tune


def trainable(config: dict[str, Any]) -> None:
    node = ray.get_runtime_context().get_node_id()
    for step in range(1, 6):
        tune.report({"loss": (config["x"] - 0.3) ** 2 + 1 / step, "node": node})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", required=True, help="the cluster's address, e.g. HEAD:6379")
    parser.add_argument("--samples", type=int, default=8)
    arguments = parser.parse_args()

    ray.init(address=arguments.address)
    nodes = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    print(f"Connected to {arguments.address}: nodes={len(nodes)} CPUs={ray.cluster_resources().get('CPU', 0):g}")
    tuner = tune.Tuner(
        trainable,
        param_space={"x": tune.uniform(0, 1)},
        tune_config=tune.TuneConfig(num_samples=arguments.samples, metric="loss", mode="min"),
        run_config=tune.RunConfig(name="existing_cluster", verbose=0),
    )
    results = tuner.fit()
    trials_per_node = collections.Counter(result.metrics["node"] for result in results)
    print(f"Trials finished: {results.num_terminated} of {arguments.samples}")
    print(f"Trials per node: {sorted(trials_per_node.values(), reverse=True)}")
    print(f"Nodes used: {len(trials_per_node)} (all on the cluster: {set(trials_per_node) <= nodes})")
    print(f"Best config: {results.get_best_result().config}")
    # The cluster is the user's: the experiment left it running, and this driver only disconnects.
    ray.shutdown()


if __name__ == "__main__":
    main()
