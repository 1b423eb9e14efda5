"""The examples run as users run them, from the installed packages."""

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_asha_embedded_in_a_plain_loop_stops_most_models_early(run_script):
    output = run_script(EXAMPLES / "asha_without_ray.py")
    trained, budget = (int(word) for word in output.split("Epochs trained: ")[1].split()[:3:2])
    assert budget == 50 * 27
    assert trained < budget / 2  # ASHA with reduction factor 3 keeps roughly a third at each rung
    assert float(output.split("accuracy=")[1].split()[0]) > 0.9  # seeded: the same run every time


def _value(output, label):
    """The first word after ``label`` in an example's output."""
    return output.split(label)[1].split()[0]


def test_asha_stops_most_of_the_scikit_learn_networks_early_and_keeps_a_good_one(run_script):
    output = run_script([EXAMPLES / "asha_sklearn.py", "--samples", "8", "--max-epochs", "9"])
    trained, budget = (int(word) for word in output.split("Epochs trained: ")[1].split()[:3:2])
    assert budget == 8 * 9
    assert trained < budget * 0.8  # rungs at 1 and 3 epochs: at least the worst third stops at each
    assert float(_value(output, "Best validation accuracy: ")) > 0.9


def test_pbt_on_a_numpy_model_exploits_checkpoints(run_script):
    output = run_script([EXAMPLES / "pbt_numpy.py", "--population", "4", "--epochs", "8"])
    assert int(_value(output, "Exploits: ")) >= 1
    assert float(_value(output, "Best validation accuracy: ")) > 0.85
    assert "checkpoint_" in _value(output, "Best checkpoint: ")


EXISTING_CLUSTER = """
import os, subprocess, sys, tempfile

# A private temp dir: the cluster's address file must not capture other Ray drivers on this machine.
os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="ray", dir="/tmp")
from ray.cluster_utils import Cluster

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})  # one node: each start costs ~30 s here
try:
    subprocess.run([sys.executable, EXAMPLE, "--address", cluster.address, "--samples", "6"], check=True)
finally:
    cluster.shutdown()
"""


def test_an_experiment_runs_on_an_existing_cluster_and_leaves_it_running(run_script):
    example = EXAMPLES / "existing_cluster.py"
    output = run_script(EXISTING_CLUSTER.replace("EXAMPLE", repr(str(example))))
    assert "nodes=1 CPUs=2" in output
    assert "Trials finished: 6 of 6" in output
    assert "Nodes used: 1 (all on the cluster: True)" in output


def test_an_experiment_whose_driver_was_killed_is_restored_losing_nothing(run_script, tmp_path):
    output = run_script([EXAMPLES / "restore_after_crash.py", "--crash-after", "8", "--storage", tmp_path / "runs"])
    assert "Driver exit status: -9" in output
    # Committed once per loop turn: the results of the turn the kill interrupted (one per running trial,
    # as each result waits for the driver's verdict) are missing, and are reported again by their trials,
    # resumed from the checkpoints that were committed. The one killing the driver is no trial's first.
    assert int(_value(output, "Results in the journal after the crash: ")) >= 8 - 2
    assert "Trials finished: 6 of 6" in output
    assert int(_value(output, "Trials resumed from a checkpoint: ")) >= 1
    assert "Iterations run twice: 0" in output
    assert "Best config: {'x': 0.3}" in output
