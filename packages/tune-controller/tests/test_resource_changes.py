"""A trial restarted with more resources resumes from its checkpoint and sees them."""

import tempfile
from pathlib import Path

from tune_controller import InProcessExecutor
from tune_schedulers import ResourceChangingScheduler
from tune_search import grid_search
from tune_trial import Checkpoint, get_checkpoint, get_context, report


def reports_its_cpus(config):
    checkpoint = get_checkpoint()
    step = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    while step < 4:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            cpus = get_context().get_trial_resources().cpu
            report({"step": step, "cpus": cpus}, checkpoint=Checkpoint.from_directory(directory))


def test_trials_get_the_free_cpus_and_continue_where_they_were(run):
    results = run(
        reports_its_cpus,
        {"x": grid_search([1, 2])},
        scheduler=ResourceChangingScheduler(),
        executor=InProcessExecutor(num_cpus=4),
        max_concurrent_trials=2,
    )
    for result in results:
        steps = [entry["step"] for entry in result.metrics_history]
        cpus = [entry["cpus"] for entry in result.metrics_history]
        assert steps == [1, 2, 3, 4]  # restarted from its checkpoint each time: nothing redone
        assert cpus[0] == 1.0
        assert cpus[1] >= 2.0  # after its first result: its share of 4 CPUs (2, or 4 once alone)
        assert cpus == sorted(cpus)  # only ever grown
