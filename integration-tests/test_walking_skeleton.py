"""The walking skeleton's experiment, end to end through the meta-package on real Ray."""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]

SLICE = """
import ray
import tune

def trainable(config):
    for i in range(10):
        tune.report({"loss": (config["x"] - 0.3) ** 2 + 1 / (i + 1)})

{setup}
tuner = tune.Tuner(
    trainable,
    param_space={"x": tune.uniform(0, 1), "y": tune.choice(["a", "b"])},
    tune_config=tune.TuneConfig(num_samples=20, metric="loss", mode="min"),
)
results = tuner.fit()
best = results.get_best_result()
assert results.num_terminated == 20, results.errors
assert all(len(result.metrics_history) == 10 for result in results)
assert best.metrics["loss"] == min(result.metrics["loss"] for result in results)
print("BEST", best.config)
{check}
"""


def _slice(setup, check):
    return SLICE.replace("{setup}", setup).replace("{check}", check)


def test_tune_starts_a_local_ray_when_none_is_running(run_script):
    output = run_script(
        _slice(
            setup="assert not ray.is_initialized()",
            check="assert ray.is_initialized(), 'tune should have started Ray'",
        )
    )
    assert "BEST {'x':" in output
    assert "== Status: 20 trials (20 TERMINATED) ==" in output


def test_tune_joins_the_cluster_the_user_connected_to(run_script):
    output = run_script(
        _slice(
            setup=(
                "from ray.cluster_utils import Cluster\n"
                "cluster = Cluster(initialize_head=True, head_node_args={'num_cpus': 2})\n"
                "ray.init(address=cluster.address)\n"
                "node_ids = {node['NodeID'] for node in ray.nodes()}"
            ),
            check=(
                "assert {node['NodeID'] for node in ray.nodes()} == node_ids, 'tune started another Ray'\n"
                "assert ray.get_runtime_context().gcs_address == cluster.address\n"
                "ray.shutdown()\n"
                "cluster.shutdown()"
            ),
        )
    )
    assert "BEST {'x':" in output


def test_the_quickstart_finds_a_good_digits_classifier(run_script):
    output = run_script(REPOSITORY / "examples" / "quickstart.py")
    accuracy = float(output.split("Best validation accuracy: ")[1].split()[0])
    assert accuracy > 0.9  # seeded: the same 12 configurations every run
    assert "Best config: {" in output
