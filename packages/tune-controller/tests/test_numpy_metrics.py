"""Training loops report numpy scalars (``np.float32(loss)``): every reader of a metric takes them as
the numbers they are. A check for ``(int, float)`` used to read them as missing values."""

import numpy as np

from tune_controller import CheckpointConfig, ExperimentPlateauStopper, RunConfig, ThresholdStopper
from tune_search import TPESearch, uniform
from tune_trial import report


def float32_quadratic(config):
    for iteration in range(1, 11):
        report({"loss": np.float32((config["x"] - 0.3) ** 2 + 1 / iteration), "score": np.float32(iteration)})


def test_an_experiment_reporting_float32_metrics_stops_ranks_and_learns_from_them(run):
    searcher = TPESearch(n_startup_trials=4, seed=0)
    results = run(
        float32_quadratic,
        {"x": uniform(0, 1)},
        num_samples=8,
        metric="loss",
        mode="min",
        search_alg=searcher,
        max_concurrent_trials=1,
        run_config=RunConfig(stop={"score": 4}),
    )
    assert all(result.metrics["training_iteration"] == 4 for result in results)  # the threshold stopped them
    best = results.get_best_result()
    assert best.metrics["loss"] == min(result.metrics["loss"] for result in results)
    losses = [loss for _, loss in searcher.get_state()["finished"]]
    assert len(losses) == 8
    assert None not in losses, "a float32 loss was recorded as a failure"


def test_stoppers_and_checkpoint_scores_read_numpy_scalars():
    assert ThresholdStopper({"score": 3})("t", {"score": np.float32(3.0)})
    assert not ThresholdStopper({"score": 3})("t", {"score": np.int64(2)})
    plateau = ExperimentPlateauStopper("loss", std=0.01, top=2, patience=1)
    for value in (np.float32(0.5), np.float32(0.5), np.float32(0.5)):
        plateau("t", {"loss": value})
    assert plateau.stop_all()
    assert CheckpointConfig(checkpoint_score_attribute="acc").score({"acc": np.float32(0.75)}, order=0) == 0.75
