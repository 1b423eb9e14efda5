import json
import pickle

import pytest

from tune_trial import PlacementGroupFactory, Resources


def test_as_dict_uses_ray_names_and_drops_zeros():
    resources = Resources(cpu=2, gpu=0, custom={"TPU": 1})
    assert resources.as_dict() == {"CPU": 2.0, "TPU": 1.0}
    assert Resources.from_dict(resources.as_dict()) == resources


def test_equal_resources_hash_equal_and_survive_pickling():
    first = Resources(cpu=1, custom={"a": 1, "b": 2})
    second = Resources(cpu=1, custom={"b": 2, "a": 1})
    assert first == second
    assert hash(first) == hash(second)
    assert pickle.loads(pickle.dumps(first)) == first


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"cpu": -1}, "cpu"), ({"gpu": float("nan")}, "gpu"), ({"custom": {"TPU": -2}}, "TPU")],
)
def test_negative_or_nan_amounts_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=rf"'{name}' must be a non-negative number"):
        Resources(**kwargs)


def test_a_placement_group_factory_takes_the_sum_of_its_bundles():
    factory = PlacementGroupFactory([{"CPU": 1}, {"cpu": 2, "GPU": 1, "TPU": 4}], strategy="SPREAD")
    assert factory.bundles == ({"CPU": 1.0}, {"CPU": 2.0, "GPU": 1.0, "TPU": 4.0})
    assert (factory.cpu, factory.gpu, factory.custom) == (3.0, 1.0, {"TPU": 4.0})
    assert factory.required_resources == {"CPU": 3.0, "GPU": 1.0, "TPU": 4.0}
    assert factory.head_bundle == Resources(cpu=1)
    assert isinstance(factory, Resources)


def test_placement_group_factories_differ_from_plain_resources_and_by_layout():
    packed = PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}])
    assert packed == PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}])
    assert hash(packed) == hash(PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}]))
    assert packed != Resources(cpu=2)  # same totals, but an actor of one is no use to the other
    assert packed != PlacementGroupFactory([{"CPU": 2}])
    assert packed != PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD")
    assert pickle.loads(pickle.dumps(packed)) == packed


@pytest.mark.parametrize(
    ("bundles", "strategy", "message"),
    [
        ([], "PACK", "non-empty list"),
        ({"CPU": 1}, "PACK", "non-empty list"),
        ([{"CPU": 1}], "TIGHT", "strategy must be one of"),
        ([{"CPU": 1}, {}], "PACK", "bundle 1 is empty"),
        ([{"CPU": 1}, {"GPU": -1}], "PACK", "bundle 1: Resources: 'gpu' must be a non-negative number"),
    ],
)
def test_bad_placement_group_factories_are_refused_naming_the_bundle(bundles, strategy, message):
    with pytest.raises(ValueError, match=message):
        PlacementGroupFactory(bundles, strategy=strategy)


def test_only_the_first_bundle_may_be_empty():
    assert PlacementGroupFactory([{}, {"CPU": 2}]).head_bundle.as_dict() == {}


@pytest.mark.parametrize(
    "request_",
    [
        Resources(cpu=2, gpu=1, memory=2**30, custom={"TPU": 1}),
        PlacementGroupFactory([{"CPU": 1}, {"CPU": 2, "GPU": 1}], strategy="STRICT_SPREAD"),
        PlacementGroupFactory([{}, {"CPU": 1}]),
    ],
)
def test_json_round_trip_keeps_the_exact_request(request_):
    rebuilt = Resources.from_json(json.loads(json.dumps(request_.to_json())))
    assert type(rebuilt) is type(request_)
    assert rebuilt == request_
    if isinstance(request_, PlacementGroupFactory):
        assert rebuilt.bundles == request_.bundles
        assert rebuilt.strategy == request_.strategy
