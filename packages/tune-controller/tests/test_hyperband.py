"""Synchronous HyperBand through the controller: pausing, resuming, and stopping paused losers."""

import tempfile
from pathlib import Path

from tune_schedulers import HyperBandScheduler
from tune_search import grid_search
from tune_trial import Checkpoint, TrialStatus, get_checkpoint, report


def counting(config):
    checkpoint = get_checkpoint()
    step = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    while step < 9:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"score": config["quality"] * step}, checkpoint=Checkpoint.from_directory(directory))


def test_hyperband_pauses_at_milestones_resumes_the_best_and_stops_the_rest(run):
    scheduler = HyperBandScheduler(max_t=9, reduction_factor=3)
    results = run(
        counting,
        {"quality": grid_search([float(q) for q in range(1, 12)])},
        metric="score",
        mode="max",
        scheduler=scheduler,
        max_concurrent_trials=2,
    )
    assert all(result.status is TrialStatus.TERMINATED for result in results)
    steps = {result.config["quality"]: result.metrics["training_iteration"] for result in results}
    # s_max_1 = 3 brackets: 3 trials at full budget, 5 from 3 iterations, then a 9-trial one from 1.
    assert [steps[q] for q in (1.0, 2.0, 3.0)] == [9, 9, 9]
    assert sorted(steps[q] for q in (4.0, 5.0, 6.0, 7.0, 8.0)) == [3, 3, 3, 9, 9]
    assert steps[7.0] == steps[8.0] == 9  # the best of the bracket went on
    # The 9-trial bracket got only 3 trials (the grid ran out): halved as planned, 9 -> 3 -> 1.
    assert [steps[q] for q in (9.0, 10.0, 11.0)] == [3, 3, 9]
    for result in results:
        iterations = [entry["training_iteration"] for entry in result.metrics_history]
        assert iterations == list(range(1, len(iterations) + 1))  # resumed where it paused, no repeats
