"""with_parameters and with_resources."""

import pytest

from tune_controller import InProcessExecutor, with_parameters, with_resources
from tune_search import grid_search
from tune_trial import Resources, get_context, report


def test_parameters_reach_every_trial_without_being_in_the_config(run):
    dataset = list(range(1000))

    def train(config, data):
        report({"total": sum(data) * config["scale"]})

    results = run(with_parameters(train, data=dataset), {"scale": grid_search([1, 2])})
    assert sorted(result.metrics["total"] for result in results) == [499500, 999000]
    assert all(set(result.config) == {"scale"} for result in results)


def test_each_trial_gets_the_resources_it_asked_for(run):
    def train(config):
        report({"cpus": get_context().get_trial_resources().cpu})

    trainable = with_resources(train, {"cpu": 2})
    results = run(trainable, {"x": grid_search([1, 2, 3])}, executor=InProcessExecutor(num_cpus=4))
    assert [result.metrics["cpus"] for result in results] == [2.0, 2.0, 2.0]


def test_resources_survive_with_parameters(run):
    def train(config, offset):
        report({"cpus": get_context().get_trial_resources().cpu + offset})

    trainable = with_parameters(with_resources(train, Resources(cpu=3)), offset=0)
    (result,) = run(trainable, executor=InProcessExecutor(num_cpus=4))
    assert result.metrics["cpus"] == 3.0


def test_a_request_the_executor_can_never_meet_fails_before_any_trial(run):
    ran = []

    def train(config):
        ran.append(config)

    with pytest.raises(ValueError, match=r"Trial \w+ needs 8 CPUs but the in-process executor has 2$"):
        run(with_resources(train, {"cpu": 8}), executor=InProcessExecutor(num_cpus=2))
    assert ran == []


def test_resources_can_depend_on_the_config_as_in_ray_tune(run):
    def train(config):
        report({"cpus": get_context().get_trial_resources().cpu})

    trainable = with_resources(train, lambda config: {"cpu": config["width"]})
    results = run(trainable, {"width": grid_search([1, 2, 3])}, executor=InProcessExecutor(num_cpus=3))
    assert [result.metrics["cpus"] for result in results] == [1.0, 2.0, 3.0]


def test_a_config_dependent_request_the_executor_can_never_meet_names_the_trial(run):
    ran = []

    def train(config):
        ran.append(config)

    trainable = with_resources(train, lambda config: {"cpu": config["width"]})
    with pytest.raises(ValueError, match=r"Trial \w+ needs 8 CPUs but the in-process executor has 2$"):
        run(trainable, {"width": grid_search([8])}, executor=InProcessExecutor(num_cpus=2))
    assert ran == []
    with pytest.raises(TypeError, match=r"Trial \w+: the with_resources function returned int"):
        run(with_resources(train, lambda config: 3), executor=InProcessExecutor(num_cpus=2))
