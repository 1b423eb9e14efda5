"""CMAESSearch: conformance, known problems, generations with many pending trials, bad input."""

import json
import math

import pytest

from tune_search import CMAESSearch, choice, grid_search, qrandint, randint, sample_from, uniform
from tune_search.testing import SearcherConformance


class TestCMAESSearchConformance(SearcherConformance):
    samples_uniformly = False

    def make_searcher(self, seed):
        return CMAESSearch(seed=seed)


SPACE = {"x": uniform(-5, 5), "y": uniform(-5, 5)}


def quadratic(config):
    return (config["x"] - 1.5) ** 2 + 2 * (config["y"] + 0.5) ** 2 + 0.5 * config["x"] * config["y"]


def _run(searcher, function, budget):
    values = []
    for _ in range(budget):
        trial_id, config = searcher.ask()
        values.append(function(config))
        searcher.tell(trial_id, values[-1])
    return values


def _minimum_of_quadratic():
    # gradient: 2(x - 1.5) + 0.5 y = 0, 4(y + 0.5) + 0.5 x = 0
    x = (3 + 0.25) / (2 - 0.0625)  # from substituting y = -0.5 - x / 8
    y = -0.5 - x / 8
    return quadratic({"x": x, "y": y})


@pytest.mark.parametrize("seed", [0, 1])
def test_it_reaches_the_minimum_of_a_quadratic(seed):
    searcher = CMAESSearch(SPACE, metric="loss", mode="min", seed=seed)
    assert min(_run(searcher, quadratic, 200)) - _minimum_of_quadratic() < 1e-4


def test_it_maximises_with_integers_through_the_margin():
    space = {"x": uniform(0, 1), "units": randint(1, 20), "batch": qrandint(16, 256, 16)}

    def score(config):  # best at x=0.3, units=7, batch=128
        return -((config["x"] - 0.3) ** 2) - (config["units"] - 7) ** 2 - ((config["batch"] - 128) / 16) ** 2

    values = _run(CMAESSearch(space, metric="score", mode="max", seed=2), score, 200)
    assert max(values) > -1e-3


def test_many_pending_trials_are_served_and_a_generation_updates_once_complete():
    searcher = CMAESSearch(SPACE, metric="loss", mode="min", seed=3, population=6)
    batch = [searcher.ask() for _ in range(10)]  # more than a generation: four extra samples
    assert len({(config["x"], config["y"]) for _, config in batch}) == 10
    for trial_id, config in batch[:5]:
        searcher.tell(trial_id, quadratic(config))
    assert searcher.get_state()["strategy"]["run"]["generation"] == 0
    searcher.tell(batch[5][0], quadratic(batch[5][1]))
    assert searcher.get_state()["strategy"]["run"]["generation"] == 1
    for trial_id, config in batch[6:]:  # finished after their generation was updated: recorded only
        searcher.tell(trial_id, quadratic(config))
    state = searcher.get_state()
    assert state["strategy"]["run"]["generation"] == 1
    assert len(state["observations"]) == 10
    assert state["finished"] == []


def test_failed_trials_do_not_count_towards_a_generation():
    searcher = CMAESSearch(SPACE, metric="loss", mode="min", seed=4, population=4)
    for index in range(6):
        trial_id, config = searcher.ask()
        searcher.tell(trial_id, math.nan if index % 2 else quadratic(config))
    assert searcher.get_state()["strategy"]["run"]["generation"] == 0  # 3 finite values of 6
    trial_id, config = searcher.ask()
    searcher.tell(trial_id, quadratic(config))
    state = searcher.get_state()
    assert state["strategy"]["run"]["generation"] == 1
    assert state["failures"] == 3
    assert all(math.isfinite(entry["value"]) for entry in state["observations"])


def test_the_state_with_pending_samples_continues_identically():
    first = CMAESSearch(SPACE, metric="loss", mode="min", seed=5, population=4)
    _run(first, quadratic, 9)
    pending = [first.ask() for _ in range(3)]
    second = CMAESSearch(SPACE, metric="loss", mode="min", seed=77, population=4)
    second.set_state(json.loads(json.dumps(first.get_state())))
    for searcher in (first, second):
        for trial_id, config in pending:
            searcher.tell(trial_id, quadratic(config))
    assert _run(first, quadratic, 12) == _run(second, quadratic, 12)


def test_points_to_evaluate_come_first():
    searcher = CMAESSearch(SPACE, metric="loss", mode="min", points_to_evaluate=[{"x": 1.0, "y": 2.0}])
    assert searcher.ask()[1] == {"x": 1.0, "y": 2.0}


def test_spaces_it_cannot_search_are_refused_naming_the_parameter():
    with pytest.raises(
        ValueError, match=r"opt\.act: CMAESSearch does not support categorical parameters \(choice\); GPSearch, TPE"
    ):
        CMAESSearch({"x": uniform(0, 1), "opt": {"act": choice(["relu", "tanh"])}}, metric="loss", mode="min")
    with pytest.raises(ValueError, match=r"twice: CMAESSearch does not support sample_from"):
        CMAESSearch({"x": uniform(0, 1), "twice": sample_from(lambda spec: 2)}, metric="loss", mode="min")
    with pytest.raises(ValueError, match=r"layers: CMAESSearch does not support grid_search"):
        CMAESSearch({"layers": grid_search([1, 2])}, metric="loss", mode="min")
    with pytest.raises(ValueError, match="restart_strategy must be 'ipop', 'bipop' or None"):
        CMAESSearch(restart_strategy="sometimes")
    with pytest.raises(ValueError, match="sigma0 is a fraction"):
        CMAESSearch(sigma0=2.0)


def test_categorical_random_draws_categories_apart_from_the_strategy():
    space = {"x": uniform(-5, 5), "y": uniform(-5, 5), "act": choice(["relu", "tanh", "gelu"])}
    searcher = CMAESSearch(space, metric="loss", mode="min", seed=6, categorical="random")
    values, seen = [], set()
    for _ in range(150):
        trial_id, config = searcher.ask()
        seen.add(config["act"])
        values.append(quadratic(config) + (config["act"] != "gelu"))
        searcher.tell(trial_id, values[-1])
    assert seen == {"relu", "tanh", "gelu"}
    assert min(values) - _minimum_of_quadratic() < 1e-2
    with pytest.raises(ValueError, match="categorical must be 'refuse' or 'random'"):
        CMAESSearch(categorical="ignore")
