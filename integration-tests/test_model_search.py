"""TPE and ASHA tune a real scikit-learn model on Ray; the results are analysed as dataframes."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tune

MAX_EPOCHS = 9
SAMPLES = 12


def train_sgd(config, data):
    model = SGDClassifier(
        loss="log_loss",
        alpha=config["alpha"],
        penalty=config["penalty"],
        learning_rate="constant",
        eta0=config["eta0"],
        random_state=0,
    )
    classes = np.unique(data["y_train"])
    for _ in range(MAX_EPOCHS):
        model.partial_fit(data["x_train"], data["y_train"], classes=classes)
        tune.report({"accuracy": model.score(data["x_valid"], data["y_valid"])})


@pytest.fixture(scope="module")
def results(ray_instance, tmp_path_factory):
    features, labels = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(features, labels, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    data = {
        "x_train": scaler.transform(x_train),
        "y_train": y_train,
        "x_valid": scaler.transform(x_valid),
        "y_valid": y_valid,
    }
    tuner = tune.Tuner(
        tune.with_parameters(train_sgd, data=data),
        param_space={
            "alpha": tune.loguniform(1e-6, 1e-1),
            "penalty": tune.choice(["l2", "l1"]),
            "eta0": tune.loguniform(1e-4, 1.0),
        },
        tune_config=tune.TuneConfig(
            metric="accuracy",
            mode="max",
            num_samples=SAMPLES,
            # Four random configurations, then TPE's model proposes (keeping away from the trials in flight).
            search_alg=tune.search.TPESearch(seed=0, n_startup_trials=4),
            scheduler=tune.schedulers.ASHAScheduler(max_t=MAX_EPOCHS, grace_period=1, reduction_factor=3),
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path_factory.mktemp("results")), verbose=0),
    )
    return tuner.fit()


def test_tpe_and_asha_find_a_good_model_and_stop_the_others_early(results):
    assert len(results) == SAMPLES
    assert results.num_errors == 0, results.errors
    epochs = sorted(len(result.metrics_history) for result in results)
    assert epochs[-1] == MAX_EPOCHS
    assert sum(epochs) < SAMPLES * MAX_EPOCHS * 0.7  # ASHA keeps about a third at each rung
    assert set(epochs) <= {1, 3, MAX_EPOCHS}  # trials end only at ASHA's rungs or at max_t
    best = results.get_best_result()
    assert best.metrics["accuracy"] > 0.9
    assert len(best.metrics_history) == MAX_EPOCHS


def test_results_analysed_as_dataframes(results):
    frame = results.get_dataframe()
    assert len(frame) == SAMPLES
    assert {"accuracy", "training_iteration", "trial_id", "config/alpha", "config/penalty", "config/eta0"} <= set(
        frame.columns
    )
    assert frame["accuracy"].max() == pytest.approx(max(result.metrics["accuracy"] for result in results))
    assert sorted(frame["training_iteration"]) == sorted(len(result.metrics_history) for result in results)

    best_rows = results.get_dataframe(filter_metric="accuracy", filter_mode="max")
    assert (best_rows["accuracy"].to_numpy() >= frame["accuracy"].to_numpy()).all()
    by_penalty = best_rows.groupby("config/penalty")["accuracy"].max()
    assert by_penalty.max() == pytest.approx(results.get_best_result(scope="all").metrics_dataframe["accuracy"].max())

    best = results.get_best_result()
    history = best.metrics_dataframe
    assert list(history["training_iteration"]) == list(range(1, MAX_EPOCHS + 1))
    assert history["accuracy"].iloc[-1] == pytest.approx(best.metrics["accuracy"])
