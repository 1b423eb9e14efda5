import pickle

import pytest

from tune_trial import Resources


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
