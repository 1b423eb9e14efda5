"""Population based training of a numpy softmax classifier, with checkpoints, on Ray.

A population of models trains on scikit-learn's handwritten digits with plain numpy gradient
descent (learning rate and momentum are the hyperparameters). Every few epochs PBT copies the
checkpoint of a model from the top of the population over one from the bottom and perturbs its
hyperparameters, so good weights and good settings spread while training goes on. A checkpoint is
the model's weights and velocity in an ``.npz`` file; the trial reports which trial wrote the
checkpoint it started from, so the exploits can be counted from the results.

    python examples/pbt_numpy.py                          # 8 models, 24 epochs
    python examples/pbt_numpy.py --population 4 --epochs 8
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tune

PERTURBATION_INTERVAL = 4


def load_data() -> dict[str, np.ndarray]:
    features, labels = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(features, labels, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    return {"x_train": x_train, "y_train": y_train, "x_valid": x_valid, "y_valid": y_valid}


def softmax_gradient(weights: np.ndarray, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    logits = features @ weights
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(len(labels)), labels] -= 1.0
    gradient: np.ndarray = features.T @ probabilities / len(labels)
    return gradient


def train_softmax(config: dict[str, Any], data: dict[str, np.ndarray], epochs: int) -> None:
    features = np.hstack([data["x_train"], np.ones((len(data["x_train"]), 1))])  # a bias column
    valid = np.hstack([data["x_valid"], np.ones((len(data["x_valid"]), 1))])
    weights, velocity, epoch, writer = np.zeros((features.shape[1], 10)), np.zeros((features.shape[1], 10)), 0, ""
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:  # resumed, or exploiting another trial: its weights, with this trial's config
        with np.load(Path(checkpoint.path) / "model.npz") as saved:
            weights, velocity = saved["weights"], saved["velocity"]
            epoch, writer = int(saved["epoch"]), str(saved["writer"])
    rng = np.random.default_rng(epoch)
    me = tune.get_context().get_trial_id()
    while epoch < epochs:
        epoch += 1
        for batch in np.array_split(rng.permutation(len(features)), 8):
            velocity = config["momentum"] * velocity - config["lr"] * softmax_gradient(
                weights, features[batch], data["y_train"][batch]
            )
            weights = weights + velocity
        accuracy = float(np.mean((valid @ weights).argmax(axis=1) == data["y_valid"]))
        with tempfile.TemporaryDirectory() as directory:
            np.savez(Path(directory) / "model.npz", weights=weights, velocity=velocity, epoch=epoch, writer=me)
            metrics = {"accuracy": accuracy, "lr": config["lr"], "exploited": writer not in ("", me)}
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        writer = me


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=24)
    arguments = parser.parse_args()

    pbt = tune.schedulers.PopulationBasedTraining(
        time_attr="training_iteration",
        perturbation_interval=PERTURBATION_INTERVAL,
        hyperparam_mutations={"lr": tune.loguniform(1e-4, 1.0), "momentum": [0.0, 0.5, 0.9, 0.99]},
        # Models wait for each other at every perturbation point, so they are compared at the same epoch
        # even with fewer CPUs than models (asynchronously, a model that finishes before the others reach
        # a perturbation point is never compared with them).
        synch=True,
        seed=0,
    )
    tuner = tune.Tuner(
        tune.with_parameters(train_softmax, data=load_data(), epochs=arguments.epochs),
        param_space={"lr": tune.loguniform(1e-4, 1.0), "momentum": tune.choice([0.0, 0.5, 0.9, 0.99])},
        tune_config=tune.TuneConfig(
            metric="accuracy",
            mode="max",
            scheduler=pbt,
            num_samples=arguments.population,
            search_alg=tune.search.BasicVariantGenerator(random_state=0),
        ),
        run_config=tune.RunConfig(name="pbt_numpy", verbose=0, checkpoint_config=tune.CheckpointConfig(num_to_keep=2)),
    )
    results = tuner.fit()
    exploits = sum(entry["exploited"] for result in results for entry in result.metrics_history)
    best = results.get_best_result()
    print(f"Exploits: {exploits}")
    print(f"Best validation accuracy: {best.metrics['accuracy']:.4f} with lr={best.metrics['lr']:.4g}")
    print(f"Best checkpoint: {best.checkpoint.path if best.checkpoint else None}")


if __name__ == "__main__":
    main()
