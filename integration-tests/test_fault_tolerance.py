"""A worker node lost mid-experiment on a multi-node Ray cluster: its trials resume elsewhere."""

NODE_LOSS = """
import tempfile
from pathlib import Path

import psutil
import ray
from ray.cluster_utils import Cluster

import tune

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
doomed = cluster.add_node(num_cpus=2)
spare = cluster.add_node(num_cpus=2)
ray.init(address=cluster.address)
cluster.wait_for_nodes()


def train(config):
    checkpoint = tune.get_checkpoint()
    step = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    while step < 6:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            node = ray.get_runtime_context().get_node_id()
            tune.report({"step": step, "node": node}, checkpoint=tune.Checkpoint.from_directory(directory))


class LoseTheNodeOfTheFirstTrialAtStepTwo(tune.Callback):
    def __init__(self):
        self.lost = None

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.lost is None and result["step"] == 2:
            self.lost = result["node"]
            node = next(node for node in cluster.list_all_nodes() if node.node_id == self.lost)
            # A machine that goes away takes every process with it: the raylet and its workers.
            raylet = psutil.Process(node.all_processes["raylet"][0].process.pid)
            workers = raylet.children(recursive=True)
            cluster.remove_node(node, allow_graceful=False)
            for worker in workers:
                worker.kill()


loser = LoseTheNodeOfTheFirstTrialAtStepTwo()
try:
    results = tune.Tuner(
        train,
        param_space={"x": tune.grid_search([1, 2, 3, 4])},
        tune_config=tune.TuneConfig(scheduler=tune.schedulers.TrialScheduler()),  # every result seen in order
        run_config=tune.RunConfig(callbacks=[loser], failure_config=tune.FailureConfig(max_failures=2), verbose=0),
    ).fit()
finally:  # a cluster left running would capture every later ray.init() on this machine
    ray.shutdown()
    cluster.shutdown()
assert results.num_errors == 0, results.errors
assert all(result.metrics["step"] == 6 for result in results)
moved = [result for result in results if {e["node"] for e in result.metrics_history} >= {loser.lost}]
assert moved, "no trial ran on the lost node"
for result in moved:
    assert result.metrics["node"] != loser.lost  # finished elsewhere
    steps = [entry["step"] for entry in result.metrics_history]
    assert steps[-1] == 6
print("MOVED", len(moved))
"""


def test_trials_on_a_lost_node_resume_from_their_checkpoints_on_another(run_script):
    output = run_script(NODE_LOSS)
    assert "MOVED" in output
