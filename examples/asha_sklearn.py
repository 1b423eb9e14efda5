"""ASHA on a scikit-learn neural network: stop the configurations that fall behind, early, on Ray.

Each trial trains an ``MLPClassifier`` on scikit-learn's handwritten digits one epoch at a time
(``partial_fit``) and reports its validation accuracy. ASHA stops a trial at a rung (1, 3, 9...
epochs) when it is not in the top third of the trials that reached that rung, so most of the epoch
budget goes to the promising configurations. The data is shipped to the trials once with
``tune.with_parameters``, not pickled into every trial.

    python examples/asha_sklearn.py                       # 30 configurations, up to 27 epochs
    python examples/asha_sklearn.py --samples 8 --max-epochs 9
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import tune


def load_data() -> dict[str, np.ndarray]:
    features, labels = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(features, labels, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    return {"x_train": x_train, "y_train": y_train, "x_valid": x_valid, "y_valid": y_valid}


def train_mlp(config: dict[str, Any], data: dict[str, np.ndarray], max_epochs: int) -> None:
    model = MLPClassifier(
        hidden_layer_sizes=(config["width"],) * config["depth"],
        alpha=config["alpha"],
        learning_rate_init=config["learning_rate"],
        batch_size=64,
        random_state=0,
    )
    classes = np.unique(data["y_train"])
    warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch per partial_fit call, on purpose
    for _ in range(max_epochs):
        model.partial_fit(data["x_train"], data["y_train"], classes=classes)
        tune.report({"accuracy": model.score(data["x_valid"], data["y_valid"])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=30, help="configurations to try")
    parser.add_argument("--max-epochs", type=int, default=27, help="epochs of the trials ASHA never stops")
    arguments = parser.parse_args()

    scheduler = tune.schedulers.ASHAScheduler(max_t=arguments.max_epochs, grace_period=1, reduction_factor=3)
    tuner = tune.Tuner(
        tune.with_parameters(train_mlp, data=load_data(), max_epochs=arguments.max_epochs),
        param_space={
            "width": tune.choice([16, 32, 64, 128]),
            "depth": tune.randint(1, 3),
            "alpha": tune.loguniform(1e-6, 1e-1),
            "learning_rate": tune.loguniform(1e-4, 1e-1),
        },
        tune_config=tune.TuneConfig(
            metric="accuracy",
            mode="max",
            scheduler=scheduler,
            num_samples=arguments.samples,
            search_alg=tune.search.BasicVariantGenerator(random_state=0),
        ),
        run_config=tune.RunConfig(name="asha_sklearn", verbose=0),
    )
    results = tuner.fit()
    epochs = sum(len(result.metrics_history) for result in results)
    best = results.get_best_result()
    print(f"Epochs trained: {epochs} of {arguments.samples * arguments.max_epochs} without early stopping")
    print(f"Best validation accuracy: {best.metrics['accuracy']:.4f} after {len(best.metrics_history)} epochs")
    print(f"Best config: {best.config}")


if __name__ == "__main__":
    main()
