"""Quickstart: tune a linear classifier on scikit-learn's handwritten digits, each trial on Ray.

Run it from the repository root after installing the packages (see the README):

    python examples/quickstart.py

Each trial trains an ``SGDClassifier`` for a few epochs with ``partial_fit`` and reports the
validation accuracy after every epoch; the progress table shows the trials as they run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tune

EPOCHS = 8


def train_digits(config: dict[str, Any]) -> None:
    features, labels = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(features, labels, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    model = SGDClassifier(
        loss="log_loss",
        alpha=config["alpha"],
        penalty=config["penalty"],
        learning_rate=config["learning_rate"],
        eta0=config["eta0"],
        random_state=0,
    )
    classes = np.unique(labels)
    for _ in range(EPOCHS):
        model.partial_fit(x_train, y_train, classes=classes)
        tune.report({"accuracy": model.score(x_valid, y_valid)})


def main() -> None:
    tuner = tune.Tuner(
        train_digits,
        param_space={
            "alpha": tune.loguniform(1e-6, 1e-1),
            "penalty": tune.choice(["l2", "l1", "elasticnet"]),
            "learning_rate": tune.choice(["constant", "invscaling", "adaptive"]),
            "eta0": tune.loguniform(1e-4, 1e-1),
        },
        tune_config=tune.TuneConfig(
            num_samples=12,
            metric="accuracy",
            mode="max",
            search_alg=tune.search.BasicVariantGenerator(random_state=42),  # the same 12 configs every run
        ),
        run_config=tune.RunConfig(name="quickstart_digits"),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print(f"Best validation accuracy: {best.metrics['accuracy']:.4f}")
    print(f"Best config: {best.config}")


if __name__ == "__main__":
    main()
