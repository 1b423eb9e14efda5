"""ASHA embedded in a plain training loop: no Ray, no controller, only tune-trial and tune-schedulers.

Fifty SGD classifiers with different regularisation and learning rates train on scikit-learn's
digits, one epoch at a time with ``partial_fit``. After every epoch each model reports its
validation accuracy to the scheduler, which stops the ones that fall behind at its rungs.

    python -m pip install ./packages/tune-trial ./packages/tune-schedulers scikit-learn
    python examples/asha_without_ray.py
"""

from __future__ import annotations

import random

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from tune_schedulers import ASHAScheduler
from tune_trial import Decision, Trial, TrialStatus

MAX_EPOCHS = 27
NUM_MODELS = 50


def main() -> None:
    features, labels = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(features, labels, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    classes = np.unique(labels)

    rng = random.Random(0)
    scheduler = ASHAScheduler(metric="accuracy", mode="max", max_t=MAX_EPOCHS, grace_period=1, reduction_factor=3)
    models: dict[str, SGDClassifier] = {}
    trials: list[Trial] = []
    for index in range(NUM_MODELS):
        config = {"alpha": 10 ** rng.uniform(-6, -1), "eta0": 10 ** rng.uniform(-4, 0)}
        trial = Trial(f"sgd_{index:02d}", config)
        scheduler.on_trial_add(trial)
        trial.set_status(TrialStatus.RUNNING)
        trials.append(trial)
        models[trial.trial_id] = SGDClassifier(
            loss="log_loss", alpha=config["alpha"], learning_rate="constant", eta0=config["eta0"], random_state=0
        )

    epochs_trained = 0
    for epoch in range(1, MAX_EPOCHS + 1):
        for trial in [trial for trial in trials if trial.status is TrialStatus.RUNNING]:
            model = models[trial.trial_id]
            model.partial_fit(x_train, y_train, classes=classes)
            epochs_trained += 1
            result = {"accuracy": model.score(x_valid, y_valid), "training_iteration": epoch}
            trial.last_result = result
            if scheduler.on_trial_result(trial, result) is Decision.STOP:
                trial.set_status(TrialStatus.TERMINATED)

    best = max(trials, key=lambda trial: trial.last_result["accuracy"] if trial.last_result else 0.0)
    assert best.last_result is not None
    print(f"Epochs trained: {epochs_trained} of {NUM_MODELS * MAX_EPOCHS} without early stopping")
    print(f"Models trained to the end: {sum(t.last_result['training_iteration'] == MAX_EPOCHS for t in trials)}")
    print(f"Best: {best.trial_id} {best.config} accuracy={best.last_result['accuracy']:.4f}")


if __name__ == "__main__":
    main()
