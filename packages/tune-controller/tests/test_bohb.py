"""BOHB through the controller: TuneBOHB suggests, HyperBandForBOHB pauses, resumes and stops."""

import tempfile
from pathlib import Path

from tune_schedulers import HyperBandForBOHB
from tune_search import TuneBOHB, uniform
from tune_trial import Checkpoint, TrialStatus, get_checkpoint, report


def training(config):
    checkpoint = get_checkpoint()
    step = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    while step < 9:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            loss = (config["x"] - 0.7) ** 2 + 1 / step
            report({"loss": loss}, checkpoint=Checkpoint.from_directory(directory))


def test_bohb_runs_with_hyperband_for_bohb_in_process(run):
    searcher = TuneBOHB(seed=0, bohb_config={"min_points_in_model": 3})
    results = run(
        training,
        {"x": uniform(0, 1)},
        metric="loss",
        mode="min",
        search_alg=searcher,
        scheduler=HyperBandForBOHB(max_t=9, reduction_factor=3),
        num_samples=30,
        max_concurrent_trials=4,
    )
    assert len(results) == 30
    assert all(result.status is TrialStatus.TERMINATED for result in results)
    iterations = sorted(result.metrics["training_iteration"] for result in results)
    assert iterations[0] < 9
    assert iterations[-1] == 9
    budgets = searcher.get_state()["budgets"]
    assert {budget for budget, _ in budgets} >= {1.0, 3.0, 9.0}  # the searcher saw every rung's results
    best = results.get_best_result()
    assert abs(best.config["x"] - 0.7) < 0.15
