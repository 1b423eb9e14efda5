"""A conformance kit for searchers: every searcher, ours or a user's, passes the same checks.

Subclass :class:`SearcherConformance` in a pytest module and implement ``make_searcher``; pytest
collects the inherited ``test_*`` methods::

    from tune_search import RandomSearch
    from tune_search.testing import SearcherConformance

    class TestRandomSearch(SearcherConformance):
        def make_searcher(self, seed):
            return RandomSearch(seed=seed)

The kit hands the searcher its space through ``set_search_properties`` (as a controller would),
drives it with ``suggest``/``on_trial_complete`` on a deterministic objective, and checks types,
bounds, quantisation, log scale, nested and conditional spaces, seeded determinism, the JSON state
round trip mid-search, failed and non-finite results, and errors that name the parameter path. It needs pytest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from tune_search._domains import (
    choice,
    lograndint,
    loguniform,
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
from tune_search._searcher import FINISHED, Searcher


def conformance_space(categorical: bool = True) -> dict[str, Any]:
    """Every kind of domain, nested in dicts and lists, with constants alongside.

    Without ``categorical`` (for searchers that refuse ``choice``) the choice is a constant.
    """
    return {
        "lr": loguniform(1e-5, 1e-1),
        "momentum": uniform(0.1, 0.9),
        "dropout": quniform(0.0, 0.5, 0.1),
        "decay": qloguniform(1e-4, 1e-1, 1e-4),
        "noise": randn(0.0, 1.0),
        "coarse_noise": qrandn(0.0, 1.0, 0.5),
        "units": randint(8, 64),
        "units_q": qrandint(8, 64, 8),
        "units_log": lograndint(1, 1024),
        "units_log_q": qlograndint(2, 256, 2),
        "activation": choice(["relu", "tanh", "gelu"]) if categorical else "gelu",
        "model": {"layers": [{"width": randint(1, 4)}, {"width": randint(1, 4)}], "name": "mlp"},
        "epochs": 10,
    }


def objective(config: Mapping[str, Any]) -> float:
    """A deterministic loss over the conformance space, so model-based searchers have a signal."""
    return float(
        (math.log10(config["lr"]) + 3) ** 2
        + (config["momentum"] - 0.6) ** 2
        + config["dropout"]
        + abs(config["noise"])
        + config["units"] / 64
        + (config["activation"] != "gelu")
    )


def _multiple(value: float, q: float) -> bool:
    return math.isclose(value / q, round(value / q), abs_tol=1e-9)


class SearcherConformance:
    """The checks; subclasses provide ``make_searcher``."""

    num_configs: ClassVar[int] = 48
    samples_uniformly: ClassVar[bool] = True
    """Random-like searchers spread samples over each domain; model-based ones concentrate them."""

    def make_searcher(self, seed: int) -> Searcher:
        """A new searcher seeded with ``seed`` and not yet given a space."""
        raise NotImplementedError

    # -- helpers ----------------------------------------------------------------------------

    def _configured(self, seed: int, space: dict[str, Any] | None = None) -> Searcher:
        searcher = self.make_searcher(seed)
        space = space or conformance_space(type(searcher).supports_categorical)
        accepted = searcher.set_search_properties("loss", "min", space, num_samples=-1)
        assert accepted, f"{type(searcher).__name__} refused a space although it had none"
        return searcher

    def _drive(
        self,
        searcher: Searcher,
        count: int,
        start: int = 0,
        loss: Callable[[Mapping[str, Any]], Any] = objective,
    ) -> list[dict[str, Any]]:
        """Suggest ``count`` configs, completing each before the next, like a sequential loop; each
        result carries a ``training_iteration``, as the controller's do (BOHB's budget)."""
        configs = []
        for index in range(start, start + count):
            trial_id = f"t{index:04d}"
            config = searcher.suggest(trial_id)
            assert config not in (None, FINISHED), f"suggest() gave {config!r} with nothing running"
            assert isinstance(config, dict)
            configs.append(config)
            searcher.on_trial_complete(trial_id, {"loss": loss(config), "training_iteration": 1})
        return configs

    # -- the checks -------------------------------------------------------------------------

    def test_values_respect_type_bounds_quantisation_and_log_scale(self) -> None:
        configs = self._drive(self._configured(seed=1), self.num_configs)
        for config in configs:
            assert isinstance(config["lr"], float)
            assert 1e-5 <= config["lr"] < 1e-1
            assert 0.1 <= config["momentum"] < 0.9
            assert 0.0 <= config["dropout"] <= 0.5
            assert _multiple(config["dropout"], 0.1)
            assert 1e-4 <= config["decay"] <= 1e-1
            assert _multiple(config["decay"], 1e-4)
            assert isinstance(config["noise"], float)
            assert _multiple(config["coarse_noise"], 0.5)
            for name, low, high in (
                ("units", 8, 63),
                ("units_q", 8, 64),
                ("units_log", 1, 1023),
                ("units_log_q", 2, 256),
            ):
                assert type(config[name]) is int, name
                assert low <= config[name] <= high, name
            assert config["units_q"] % 8 == 0
            assert config["units_log_q"] % 2 == 0
            assert config["activation"] in ("relu", "tanh", "gelu")
            assert all(1 <= layer["width"] < 4 for layer in config["model"]["layers"])
            assert config["model"]["name"] == "mlp"
            assert config["epochs"] == 10
        if self.samples_uniformly:
            below_midpoint = sum(config["lr"] < 1e-3 for config in configs) / len(configs)
            assert 0.25 < below_midpoint < 0.75, "log-uniform values should split evenly around 1e-3"
            if type(self.make_searcher(0)).supports_categorical:
                assert len({config["activation"] for config in configs}) == 3

    def test_nested_and_conditional_spaces_resolve(self) -> None:
        deep = choice([1, 2]) if type(self.make_searcher(0)).supports_categorical else randint(1, 3)
        space: dict[str, Any] = {"outer": {"inner": [uniform(0, 1), {"deep": deep}]}}
        if type(self.make_searcher(0)).supports_sample_from:
            space["double"] = sample_from(lambda spec: spec.config.outer.inner[0] * 2)
        searcher = self._configured(seed=2, space=space)
        for config in self._drive(searcher, 8, loss=lambda config: config["outer"]["inner"][0]):
            inner = config["outer"]["inner"]
            assert 0 <= inner[0] < 1
            assert inner[1]["deep"] in (1, 2)
            if "double" in space:
                assert config["double"] == inner[0] * 2

    def test_a_space_of_constants_only_gives_its_constants(self) -> None:
        space = {"epochs": 3, "model": {"name": "mlp"}}
        configs = self._drive(self._configured(seed=11, space=space), 12, loss=lambda config: 1.0)  # past startup
        assert configs == [space] * 12

    def test_the_same_seed_gives_the_same_configs(self) -> None:
        first = self._drive(self._configured(seed=3), 12)
        assert first == self._drive(self._configured(seed=3), 12)
        assert first != self._drive(self._configured(seed=4), 12)

    def test_a_state_round_trip_mid_search_continues_identically(self) -> None:
        original = self._configured(seed=5)
        self._drive(original, 10)
        state = json.loads(json.dumps(original.get_state()))  # must be JSON-able
        restored = self._configured(seed=6)
        restored.set_state(state)
        assert self._drive(restored, 10, start=10) == self._drive(original, 10, start=10)

    def test_failures_and_non_finite_results_do_not_break_the_search(self) -> None:
        """Errors and missing, NaN or infinite metrics are failures for the model; the search goes on,
        and a state taken among them still continues identically."""
        outcomes: list[dict[str, float] | None] = [
            {"loss": math.nan, "training_iteration": 1},
            {"loss": math.inf, "training_iteration": 1},
            {"loss": -math.inf, "training_iteration": 1},
            {"training_iteration": 1},
            None,
        ]
        original = self._configured(seed=8)
        for index in range(16):
            trial_id = f"t{index:04d}"
            config = original.suggest(trial_id)
            assert isinstance(config, dict), f"suggest() gave {config!r} with nothing running"
            if index % 2 == 0:
                original.on_trial_complete(trial_id, {"loss": objective(config), "training_iteration": 1})
            elif index % 7 == 0:
                original.on_trial_complete(trial_id, {"loss": objective(config), "training_iteration": 1}, error=True)
            else:
                original.on_trial_complete(trial_id, outcomes[index % len(outcomes)])
        restored = self._configured(seed=9)
        restored.set_state(json.loads(json.dumps(original.get_state())))
        assert self._drive(restored, 8, start=16) == self._drive(original, 8, start=16)

    def test_bad_spaces_are_refused_naming_the_parameter_path(self) -> None:
        for space, message in (
            (
                {"model": {"layers": [{"units": randint(5, 1)}]}},
                r"model\.layers\[0\]\.units: low must be < high",
            ),
            ({"opt": {"lr": loguniform(0, 1)}}, r"opt\.lr: log-scale bounds must be > 0"),
            ({"act": choice([])}, r"act: choice\(\) needs at least one category"),
            ({"drop": quniform(0, 1, -0.1)}, r"drop: q must be > 0"),
        ):
            with pytest.raises(ValueError, match=message):
                self.make_searcher(0).set_search_properties("loss", "min", space)

    def test_grid_search_is_accepted_only_where_supported(self) -> None:
        searcher = self.make_searcher(0)
        space = {"layers": {"grid_search": [1, 2]}, "lr": uniform(0, 1)}
        if type(searcher).supports_grid_search:
            assert searcher.set_search_properties("loss", "min", space)
        else:
            with pytest.raises(ValueError, match=r"layers: \w+ does not support grid_search"):
                searcher.set_search_properties("loss", "min", space)

    def test_categorical_parameters_are_refused_only_where_unsupported(self) -> None:
        searcher = self.make_searcher(0)
        space = {"model": {"activation": choice(["relu", "tanh"])}, "lr": uniform(0, 1)}
        if type(searcher).supports_categorical:
            assert searcher.set_search_properties("loss", "min", space)
        else:
            with pytest.raises(ValueError, match=r"model\.activation: \w+ does not support categorical parameters"):
                searcher.set_search_properties("loss", "min", space)

    def test_numpy_scalar_metrics_are_results_like_python_numbers(self) -> None:
        """Training loops report ``np.float32`` losses: a searcher learns from them exactly as from
        the same values as Python floats (not as failures, which a check for ``(int, float)`` makes them)."""
        as_float32 = self._drive(self._configured(seed=10), 24, loss=lambda config: np.float32(objective(config)))
        as_python = self._drive(self._configured(seed=10), 24, loss=lambda config: float(np.float32(objective(config))))
        assert as_float32 == as_python

    def test_ask_and_tell_drive_it_without_a_controller(self) -> None:
        searcher = self._configured(seed=7)
        for _ in range(4):
            trial_id, config = searcher.ask()
            searcher.tell(trial_id, {"loss": objective(config), "training_iteration": 1})
