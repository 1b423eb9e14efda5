"""Mistakes in a Tuner's inputs are refused before any trial starts, naming the culprit."""

import sys
import threading

import pytest

from tune_controller import InProcessExecutor, RunConfig, Trainable, TuneConfig, Tuner, with_parameters, with_resources
from tune_search import Searcher, uniform
from tune_trial import TrialStatus, TuneError, get_context, report


def quadratic(config):
    report({"loss": (config["x"] - 0.3) ** 2})


def test_something_that_is_not_a_trainable_is_refused():
    with pytest.raises(TypeError, match="trainable must be a function taking a config dict, got int"):
        Tuner(42)

    class NotATrainable:
        def __init__(self, config):
            pass

    with pytest.raises(TypeError, match=r"trainable .*NotATrainable is a class but not a subclass of .*Trainable"):
        Tuner(NotATrainable)


def test_a_ray_trainable_class_gets_a_hint():
    # Stands in for ray.tune.Trainable (this package's tests run without Ray): what counts is where it lives.
    RayTrainable = type("Trainable", (), {"__module__": "ray.tune.trainable.trainable"})  # noqa: N806

    class Ported(RayTrainable):
        def step(self):
            return {}

    with pytest.raises(TypeError, match=r"a ray.tune.Trainable: subclass tune.Trainable instead"):
        Tuner(Ported)


def test_a_function_that_cannot_take_the_config_alone_is_refused():
    def needs_data(config, data):
        pass

    with pytest.raises(TypeError, match=r"needs_data\(config, data\) cannot be called with the config dict alone"):
        Tuner(needs_data)
    with pytest.raises(TypeError, match=r"takes no arguments|cannot be called with the config dict alone"):
        Tuner(lambda: None)
    Tuner(with_parameters(needs_data, data=[1]))  # the wrapper takes the config alone
    Tuner(lambda config, *args, **kwargs: None)


def test_with_parameters_refuses_parameters_the_trainable_does_not_take():
    def train(config, data):
        pass

    with pytest.raises(TypeError, match=r"with_parameters: .*train\(config, data\) does not accept \['dataset'\]"):
        with_parameters(train, dataset=[1])

    class Model(Trainable):
        def setup(self, config, data=None):
            pass

    with pytest.raises(TypeError, match=r"Model.setup\(self, config, data=None\) does not accept \['weights'\]"):
        with_parameters(Model, weights=[1])


def test_an_unpicklable_config_value_is_named_by_its_full_path():
    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"param_space\['lock'\] cannot be pickled"):
        Tuner(quadratic, param_space={"lock": lock})
    space = {"x": uniform(0, 1), "model": {"layers": [{"units": 8}, {"units": 16, "hook": lock}]}}
    with pytest.raises(TypeError, match=r"param_space\['model'\]\['layers'\]\[1\]\['hook'\] cannot be pickled"):
        Tuner(quadratic, param_space=space)


def test_a_storage_path_that_is_not_writable_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TuneError, match=f"storage_path '{blocker}' is not writable"):
        Tuner(quadratic, run_config=RunConfig(storage_path=str(blocker), verbose=0)).fit()


def test_a_storage_uri_without_pyarrow_names_the_extra_instead_of_becoming_a_local_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed: importing it raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.fs", None)
    uri = "s3://bucket/experiments"
    expected = rf"storage_path '{uri}' needs pyarrow.*pip install 'tune-controller\[storage\]'"
    with pytest.raises(TuneError, match=expected):
        Tuner(quadratic, run_config=RunConfig(storage_path=uri, verbose=0)).fit()
    assert not any(tmp_path.iterdir())


def test_a_storage_uri_pyarrow_cannot_open_is_named(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")  # the extra tune-controller[storage]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TuneError, match="storage_path 'nosuchscheme://x/y': not a storage URI pyarrow can open"):
        Tuner(quadratic, run_config=RunConfig(storage_path="nosuchscheme://x/y", verbose=0)).fit()
    assert not any(tmp_path.iterdir())


class ModelBased(Searcher):
    needs_metric = True

    def suggest(self, trial_id):
        return {"x": 0.5}


def test_a_searcher_that_needs_a_metric_says_so_before_any_trial_starts(run):
    started = []
    with pytest.raises(ValueError, match=r"ModelBased needs a metric and a mode .* TuneConfig"):
        run(lambda config: started.append(1), search_alg=ModelBased())
    assert started == []
    (result,) = run(quadratic, search_alg=ModelBased(), metric="loss", mode="min", num_samples=1)
    assert result.metrics["loss"] == pytest.approx(0.04)


def test_a_trainable_that_raises_is_an_error_and_the_others_go_on(run):
    def half_broken(config):
        report({"x": config["x"]})
        if config["x"] > 0.5:
            raise RuntimeError(f"diverged at {config['x']}")

    results = run(half_broken, {"x": uniform(0, 1)}, num_samples=8)
    broken = [result for result in results if result.config["x"] > 0.5]
    assert results.num_errors == len(broken)
    assert results.num_terminated == 8 - len(broken)
    for result in broken:
        assert result.status is TrialStatus.ERROR
        assert f"RuntimeError: diverged at {result.config['x']}" in result.error
        assert "half_broken" in result.error  # the user's frame is in the traceback
        assert "_session.py" not in result.error  # the executor's are not


class Sized(Trainable):
    def setup(self, config, data=None):
        self.data = data

    def step(self):
        return {"size": len(self.data), "cpus": get_context().get_trial_resources().cpu, "done": True}


def test_class_trainables_take_parameters_and_resources(tmp_path):
    trainable = with_resources(with_parameters(Sized, data=list(range(7))), {"cpu": 2})
    assert issubclass(trainable, Sized)
    assert trainable.__name__ == "Sized"
    (result,) = Tuner(
        trainable,
        tune_config=TuneConfig(),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
        executor=InProcessExecutor(num_cpus=2),
    ).fit()
    assert (result.metrics["size"], result.metrics["cpus"]) == (7, 2.0)
