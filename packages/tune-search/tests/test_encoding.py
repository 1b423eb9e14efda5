"""The unit encoding: domains both ways, conditional (nested) spaces, and unit vectors of configs."""

import numpy as np
import pytest

from tune_search import (
    BasicVariantGenerator,
    QuasiRandomSearch,
    RandomSearch,
    UnitEncoding,
    choice,
    grid_search,
    lograndint,
    loguniform,
    parse_space,
    qlograndint,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    sample_from,
    uniform,
)

DOMAINS = {
    "uniform": uniform(-2, 3),
    "loguniform": loguniform(1e-5, 1e-1),
    "quniform": quniform(0.0, 0.5, 0.1),
    "qloguniform": qloguniform(1e-4, 1e-1, 1e-4),
    "randn": randn(1.0, 2.0),
    "qrandn": qrandn(0.0, 1.0, 0.5),
    "randint": randint(8, 64),
    "qrandint": qrandint(8, 64, 8),
    "lograndint": lograndint(1, 1024),
    "qlograndint": qlograndint(2, 256, 2),
    "choice": choice(["relu", "tanh", {"name": "gelu"}]),
}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_to_unit_inverts_from_unit(name):
    domain = DOMAINS[name]
    for u in np.linspace(0.0, 0.999, 137):
        value = domain.from_unit(float(u))
        back = domain.to_unit(value)
        assert 0.0 <= back <= 1.0
        again = domain.from_unit(back)
        assert again == (value if domain.categorical else pytest.approx(value, rel=1e-9)), (u, value, back)
        if domain.levels is None and getattr(domain, "q", None) is None:
            assert back == pytest.approx(u, abs=1e-9)  # continuous domains: the very same point


def test_levels_and_categorical_describe_each_domain():
    assert DOMAINS["uniform"].levels is None
    assert DOMAINS["randn"].levels is None
    assert DOMAINS["quniform"].levels == 6
    assert DOMAINS["randint"].levels == 56
    assert DOMAINS["qrandint"].levels == 8  # 8, 16, ..., 64 inclusive
    assert DOMAINS["lograndint"].levels == 1023
    assert DOMAINS["qlograndint"].levels == 128
    assert DOMAINS["choice"].levels == 3
    assert [name for name, domain in DOMAINS.items() if domain.categorical] == ["choice"]
    values = {DOMAINS["qrandint"].from_unit(u) for u in np.linspace(0, 0.9999, 500)}
    assert len(values) == DOMAINS["qrandint"].levels


def test_a_discrete_value_maps_to_the_middle_of_its_cell():
    assert randint(0, 4).to_unit(1) == pytest.approx(0.375)
    assert choice(["a", "b"]).to_unit("b") == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("domain", "value", "message"),
    [
        (uniform(0, 1), 2.0, r"2.0 is outside \[0, 1\]"),
        (randint(0, 4), 4, r"4 is outside \[0, 3\]"),
        (choice(["a"]), "b", r"'b' is not one of the categories \['a'\]"),
        (uniform(0, 1), "x", r"expected a finite number, got 'x'"),
        (randn(), float("nan"), r"expected a finite number"),
    ],
)
def test_values_a_domain_cannot_take_are_refused(domain, value, message):
    with pytest.raises(ValueError, match=message):
        domain.to_unit(value)


OPTIMISERS = {
    "opt": choice(
        [
            {"name": "sgd", "lr": loguniform(1e-4, 1e-1), "momentum": uniform(0, 1)},
            {
                "name": "adam",
                "lr": loguniform(1e-5, 1e-2),
                "beta": choice([0.9, {"kind": "swept", "b": uniform(0, 1)}]),
            },
            "none",
        ]
    ),
    "width": randint(1, 5),
}


def _resolved(searcher, count=60):
    searcher.set_search_properties("loss", "min", OPTIMISERS)
    configs = []
    for index in range(count):
        config = searcher.suggest(f"t{index}")
        searcher.on_trial_complete(f"t{index}", {"loss": 0.0})
        configs.append(config)
    return configs


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomSearch(seed=0),
        lambda: BasicVariantGenerator(random_state=0),
        lambda: QuasiRandomSearch(seed=0),
    ],
)
def test_domains_inside_a_chosen_category_are_resolved_like_ray_tune(make):
    configs = _resolved(make()) if not isinstance(make(), BasicVariantGenerator) else None
    if configs is None:
        searcher = make()
        searcher.set_search_properties("loss", "min", OPTIMISERS, num_samples=60)
        configs = [searcher.suggest(f"t{index}") for index in range(60)]
    kinds = set()
    for config in configs:
        opt = config["opt"]
        assert 1 <= config["width"] < 5
        if opt == "none":
            kinds.add("none")
        elif opt["name"] == "sgd":
            assert set(opt) == {"name", "lr", "momentum"}
            assert 1e-4 <= opt["lr"] < 1e-1
            assert 0 <= opt["momentum"] < 1
            kinds.add("sgd")
        else:
            assert set(opt) == {"name", "lr", "beta"}
            assert 1e-5 <= opt["lr"] < 1e-2
            beta = opt["beta"]
            assert beta == 0.9 or (set(beta) == {"kind", "b"} and 0 <= beta["b"] < 1)
            kinds.add("adam, swept" if isinstance(beta, dict) else "adam")
    assert kinds == {"none", "sgd", "adam", "adam, swept"}


def test_resolving_a_category_never_shares_or_changes_the_template():
    space = parse_space(OPTIMISERS)
    first = space.resolve(np.random.default_rng(1), {("opt",): OPTIMISERS["opt"].categories[0]})
    second = space.resolve(np.random.default_rng(2), {("opt",): OPTIMISERS["opt"].categories[0]})
    assert first["opt"] is not second["opt"]
    assert first["opt"]["lr"] != second["opt"]["lr"]
    assert OPTIMISERS["opt"].categories[0]["lr"] is not None
    assert not isinstance(first["opt"]["lr"], type(OPTIMISERS["width"]))


def test_sample_from_inside_and_outside_a_category_sees_resolved_values():
    space = parse_space(
        {
            "opt": choice([{"lr": uniform(1, 2), "double": sample_from(lambda spec: spec.config.opt.lr * 2)}]),
            "copy": sample_from(lambda spec: spec.config.opt.lr),
        }
    )
    config = space.resolve(np.random.default_rng(0))
    assert config["opt"]["double"] == 2 * config["opt"]["lr"]
    assert config["copy"] == config["opt"]["lr"]


def test_conditional_parameters_are_named_by_category_in_errors():
    with pytest.raises(ValueError, match=r"opt\[1\]\.lr: low must be < high"):
        parse_space({"opt": choice([{"lr": uniform(0, 1)}, {"lr": uniform(1, 0)}])})
    with pytest.raises(ValueError, match=r"opt\[0\]\.g: grid_search inside a choice's category is not supported"):
        parse_space({"opt": choice([{"g": grid_search([1, 2])}])})


def test_points_to_evaluate_choose_the_category_their_value_fits():
    points = [
        {"opt": {"name": "adam", "lr": 0.001, "beta": {"kind": "swept", "b": 0.25}}, "width": 2},
        {"opt": {"name": "sgd"}},  # partial: the rest is drawn
        {"opt": "none"},
    ]
    searcher = RandomSearch(OPTIMISERS, "loss", "min", points_to_evaluate=points, seed=0)
    first, second, third = (searcher.suggest(f"t{index}") for index in range(3))
    assert first == points[0]
    assert second["opt"]["name"] == "sgd"
    assert 1e-4 <= second["opt"]["lr"] < 1e-1
    assert third["opt"] == "none"
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: opt: \{'name': 'rmsprop'\} fits none"):
        RandomSearch(OPTIMISERS, "loss", "min", points_to_evaluate=[{"opt": {"name": "rmsprop"}}])
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\]: nope is not a parameter of the space"):
        RandomSearch(OPTIMISERS, "loss", "min", points_to_evaluate=[{"opt": "none", "nope": 1}])


def test_the_encoding_describes_coordinates_activity_and_groups():
    encoding = UnitEncoding(parse_space(OPTIMISERS))
    assert encoding.names == (
        "opt",
        "opt[0].lr",
        "opt[0].momentum",
        "opt[1].lr",
        "opt[1].beta",
        "opt[1].beta[1].b",
        "width",
    )
    assert encoding.levels.tolist() == [3, 0, 0, 0, 2, 0, 4]
    assert encoding.categorical.tolist() == [True, False, False, False, True, False, False]
    assert encoding.parent.tolist() == [-1, 0, 0, 0, 0, 4, -1]
    assert encoding.groups == ((0, 6), (1, 2), (3, 4), (5,))
    # sgd chosen: its two coordinates; adam with the swept beta: lr, beta and b
    assert encoding.active([0.1, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5]).tolist() == [1, 1, 1, 0, 0, 0, 1]
    batch = encoding.active([[0.5, 0, 0, 0, 0.9, 0, 0], [0.5, 0, 0, 0, 0.1, 0, 0], [np.nan] * 7])
    assert batch.tolist() == [[1, 0, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 0, 1], [1, 0, 0, 0, 0, 0, 1]]


def test_decode_then_encode_returns_the_same_point_and_ignores_inactive_coordinates():
    encoding = UnitEncoding(parse_space(OPTIMISERS))
    rng = np.random.default_rng(0)
    for _ in range(50):
        unit = rng.random(len(encoding))
        config = encoding.decode(unit, rng)
        point = encoding.encode(config)
        active = encoding.active(unit)
        assert np.array_equal(~np.isnan(point), active)
        assert encoding.decode(np.where(active, point, 0.123), rng) == config
        continuous = active & (encoding.levels == 0)
        assert np.allclose(point[continuous], unit[continuous])


def test_decode_draws_unset_coordinates_and_encode_names_bad_values():
    encoding = UnitEncoding(
        parse_space({"x": uniform(0, 1), "y": randint(0, 3), "z": sample_from(lambda s: s.config.y)})
    )
    config = encoding.decode([0.5, np.nan], np.random.default_rng(0))
    assert config["x"] == 0.5
    assert config["z"] == config["y"] in (0, 1, 2)
    assert np.isnan(encoding.encode({"x": 0.25})[1])
    with pytest.raises(ValueError, match=r"^y: 7 is outside \[0, 2\]"):
        encoding.encode({"x": 0.25, "y": 7})
    with pytest.raises(ValueError, match=r"has 2 coordinates"):
        encoding.decode([0.5], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"g: grid_search has no place in a unit encoding"):
        UnitEncoding(parse_space({"g": grid_search([1])}))
