"""OptunaSearch: any Optuna sampler behind the Searcher contract (extra ``tune-search[optuna]``).

The study lives in memory and is driven with Optuna's ask/tell. Optuna's storages are not JSON, so
the state is the study's trials (parameters, distributions, values, the attributes samplers keep
in them, e.g. CMA-ES's optimizer) plus the NumPy random states the sampler holds; a restore
replays the trials into a fresh in-memory study and puts the random states back, so the search
continues exactly where it was. Pruning is left to tune's schedulers: trials report no
intermediate values to Optuna.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tune_search._adapters import FlatParameter, FlatSpace, checked, finite_values, require_extra
from tune_search._domains import Categorical, Domain, Float, Integer
from tune_search._searcher import Searcher, Suggestion
from tune_search._space import SearchSpace, parse_space

if TYPE_CHECKING:
    import optuna

DefineByRun = Callable[["optuna.Trial"], "dict[str, Any] | None"]


class OptunaSearch(Searcher):
    """Suggests configurations with an Optuna sampler (``TPESampler`` unless told otherwise).

    ``space`` may be tune's search space (or left out, to take the Tuner's ``param_space``), a dict
    of Optuna distributions, or a define-by-run function ``space(trial)`` that calls
    ``trial.suggest_*`` and may return a dict of constants to add to the config. Parameter names
    with ``/`` become nested keys, as in Ray Tune.

    ``metric`` and ``mode`` may be lists for multi-objective search. ``evaluated_rewards`` gives the
    results of ``points_to_evaluate`` already known, so they are told to the sampler instead of run.
    ``seed`` seeds the default sampler; a sampler you pass carries its own seed. The study is kept
    in memory (``study_name`` names it; Ray Tune's ``storage`` is not supported): :attr:`study`
    gives it to Optuna's analysis and plotting functions.
    """

    supports_sample_from = False

    def __init__(
        self,
        space: Mapping[str, Any] | DefineByRun | None = None,
        metric: str | Sequence[str] | None = None,
        mode: str | Sequence[str] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        study_name: str | None = None,
        storage: None = None,
        seed: int | None = None,
        evaluated_rewards: Sequence[float | Sequence[float]] | None = None,
    ) -> None:
        require_extra("optuna", "optuna", "OptunaSearch")
        import optuna

        objectives = _objectives(metric, mode)
        super().__init__(
            metric if isinstance(metric, str) else None, mode if isinstance(mode, str) and not objectives else None
        )
        self._objectives = objectives
        if storage is not None:
            raise ValueError(
                "OptunaSearch keeps its study in memory and its state in tune's journal (replayed on restore); "
                "an Optuna storage is not supported: leave storage out"
            )
        if sampler is not None and seed is not None:
            raise ValueError("OptunaSearch: pass the seed to your sampler, not to OptunaSearch")
        self._sampler = sampler or optuna.samplers.TPESampler(seed=seed)
        self._study_name = study_name
        self._points = [dict(point) for point in points_to_evaluate or ()]
        self._rewards = list(evaluated_rewards) if evaluated_rewards is not None else None
        if self._rewards is not None and len(self._rewards) != len(self._points):
            raise ValueError(
                f"OptunaSearch: evaluated_rewards has {len(self._rewards)} entries for "
                f"{len(self._points)} points_to_evaluate; give one per point"
            )
        self._define_by_run: DefineByRun | None = None
        self._native: dict[str, optuna.distributions.BaseDistribution] | None = None
        self._flat: FlatSpace | None = None
        self._parameters: dict[str, _Parameter] = {}
        self._study: optuna.Study | None = None
        self._storage: optuna.storages.InMemoryStorage | None = None
        self._running: dict[str, int] = {}
        self._records: dict[int, dict[str, Any]] = {}
        """Finished trials as the state holds them, by number: they never change, so encode them once."""
        self._replay: Mapping[str, Any] | None = None
        if space is not None and not isinstance(space, Mapping):
            if not callable(space):
                raise TypeError(
                    "OptunaSearch: space must be a dict (tune's domains or Optuna distributions) or a "
                    f"define-by-run function, got {type(space).__name__}"
                )
            if self._rewards is not None:
                raise ValueError(
                    "OptunaSearch: evaluated_rewards needs a space of distributions; a define-by-run "
                    "function only tells its distributions when it runs"
                )
            self._define_by_run = space
        elif space is not None and _is_native(space):
            self._native = _native_distributions(space)
        if isinstance(space, Mapping) and self._native is None:
            super().set_search_properties(None, None, space)
        elif space is not None:
            # tune's part of the space is empty: the parameters are Optuna's. A param_space given to
            # the Tuner as well is then refused as a second space, as for any searcher with a space.
            self.space = parse_space({})
        self._setup()

    # -- setting up -----------------------------------------------------------------------------

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        if not super().set_search_properties(metric, mode, space, **spec):
            return False
        self._setup()
        if self._study is None:
            raise ValueError(
                "OptunaSearch needs a metric and a mode: pass them to OptunaSearch(...) or to TuneConfig(...)"
            )
        return True

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        flat = FlatSpace.of(space)
        self._parameters = {parameter.name: _Parameter.of(parameter.domain) for parameter in flat.parameters}
        self._flat = flat
        for index, point in enumerate(self._points):
            self._encode_point(index, point)  # refuses a bad point now rather than at its turn

    def _setup(self) -> None:
        """Create the study once the space and the objectives are known."""
        import optuna

        if self._study is not None or self.space is None:
            return
        objectives = self._objectives or ([(self.metric, self.mode)] if self.metric and self.mode else [])
        if not objectives:
            return
        self._objectives = objectives
        storage = optuna.storages.InMemoryStorage()  # ours, to reach the study's attributes publicly
        study = optuna.create_study(
            storage=storage,
            study_name=self._study_name,
            sampler=self._sampler,
            directions=["minimize" if mode == "min" else "maximize" for _, mode in objectives],
        )
        if self._replay is not None:
            _replay(study, storage, self._replay)
        else:
            for index, point in enumerate(self._points):
                if self._rewards is None:
                    study.enqueue_trial(self._encode_point(index, point))
                else:
                    params = self._encode_point(index, point, complete=True)
                    study.add_trial(self._evaluated_trial(index, params, self._rewards[index]))
        self._study, self._storage, self._records = study, storage, {}

    def _encode_point(self, index: int, point: Mapping[str, Any], complete: bool = False) -> dict[str, Any]:
        """A ``points_to_evaluate`` entry as Optuna parameters (``complete``: every active one)."""
        if self._flat is None:  # Optuna's own names and values
            unknown = sorted(set(point) - set(self._native)) if self._native is not None else []
            if unknown:
                raise ValueError(f"points_to_evaluate[{index}]: {unknown} are not parameters of the space")
            return dict(point)
        values = self._flat.point(index, point)
        absent = self._flat.absent(values) if complete else []
        if absent:
            raise ValueError(f"points_to_evaluate[{index}]: no value for {absent}, which this point makes active")
        encoded = {}
        for name, value in values.items():
            try:
                encoded[name] = self._parameters[name].encode(value)
            except ValueError as error:
                raise ValueError(f"points_to_evaluate[{index}]: {name}: {error}") from None
        return encoded

    def _evaluated_trial(
        self, index: int, params: dict[str, Any], reward: float | Sequence[float]
    ) -> optuna.trial.FrozenTrial:
        import optuna

        distributions = self._native or {name: parameter.distribution for name, parameter in self._parameters.items()}
        missing = sorted(set(distributions) - set(params)) if self._native else []
        if missing:
            raise ValueError(f"points_to_evaluate[{index}]: no value for {missing}; evaluated_rewards needs them all")
        values = [reward] if isinstance(reward, (int, float)) else list(reward)
        if len(values) != len(self._objectives) or not all(math.isfinite(value) for value in values):
            raise ValueError(
                f"evaluated_rewards[{index}]: expected {len(self._objectives)} finite value(s), got {reward!r}"
            )
        return optuna.trial.create_trial(
            params=params, distributions={name: distributions[name] for name in params}, values=values
        )

    # -- the search -----------------------------------------------------------------------------

    def suggest(self, trial_id: str) -> Suggestion:
        import optuna

        study = self._require_study("suggest")
        if self._define_by_run is not None:
            trial = study.ask()
            try:
                constants = self._define_by_run(trial)
                if constants is not None and not isinstance(constants, Mapping):
                    raise TypeError(
                        f"the define-by-run space function must return a dict of constants or None, "
                        f"got {type(constants).__name__}"
                    )
            except BaseException:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            config = _unflatten({**trial.params, **(constants or {})})
        elif self._native is not None:
            trial = study.ask(self._native)
            config = _unflatten(trial.params)
        else:
            assert self._flat is not None
            trial = study.ask()

            def pick(parameter: FlatParameter) -> Any:
                converted = self._parameters[parameter.name]
                return converted.decode(_suggest(trial, parameter.name, converted.distribution))

            config = self._flat.config(self._flat.collect(pick))
        self._running[trial_id] = trial.number
        return config

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        """Tell the study; an error, or a missing, NaN or infinite metric, is a failed trial."""
        import optuna

        number = self._running.pop(trial_id, None)
        if number is None or self._study is None:
            return  # not a trial this searcher suggested
        metrics = [metric for metric, _ in self._objectives]
        values = None if error else finite_values("OptunaSearch", trial_id, result, metrics)
        if values is None:
            self._study.tell(number, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(number, values)

    def _require_study(self, caller: str) -> optuna.Study:
        if self._study is None:
            self._require_space(caller)
            raise RuntimeError(f"OptunaSearch.{caller}() needs a metric and a mode")
        return self._study

    @property
    def study(self) -> optuna.Study:
        """The in-memory study, for Optuna's analysis and visualisation functions."""
        return self._require_study("study")

    # -- state ----------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        state = {**super().get_state(), "running": dict(self._running), "objectives": self._objectives}
        if self._study is None or self._storage is None:
            return {**state, "study": None}
        study_id = self._storage.get_study_id_from_name(self._study.study_name)
        return {
            **state,
            "study": {
                "sampler": type(self._sampler).__name__,
                "system_attrs": self._storage.get_study_system_attrs(study_id),
                "random_states": [_encode_random_state(rng) for rng in _random_states(self._sampler)],
                "trials": [self._record(trial) for trial in self._study.get_trials(deepcopy=False)],
            },
        }

    def _record(self, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
        record = self._records.get(trial.number)
        if record is None:
            record = _encode_trial(trial)
            if trial.state.is_finished():
                self._records[trial.number] = record
        return record

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._running = {trial_id: int(number) for trial_id, number in state["running"].items()}
        self._objectives = [(metric, mode) for metric, mode in state["objectives"]]
        study = state["study"]
        if study is None:
            return
        sampler = type(self._sampler).__name__
        if study["sampler"] != sampler:
            raise ValueError(f"OptunaSearch.set_state: the state was saved with {study['sampler']}, not {sampler}")
        generators = _random_states(self._sampler)
        if len(generators) != len(study["random_states"]):
            raise ValueError(
                f"OptunaSearch.set_state: the saved {sampler} had {len(study['random_states'])} random "
                f"states, this one has {len(generators)}: construct the sampler as before"
            )
        for rng, saved in zip(generators, study["random_states"], strict=True):
            rng.set_state(_decode_random_state(saved))
        self._replay = study
        self._study = None  # a fresh study, built from the replayed trials
        self._setup()


@dataclass(frozen=True)
class _Parameter:
    """One of our domains as an Optuna distribution, and how values cross between them.

    Uniform and log-uniform floats and integers, steps and categories have exact Optuna
    counterparts. Optuna has no normal distribution and no step on a log scale, so those domains
    are searched on their unit quantile (``Domain.from_unit``): a monotone map that keeps the
    prior (uniform in the quantile is the domain's own distribution), so a model over it is sound.
    Categories go by index, so any Python object can be a choice.
    """

    distribution: optuna.distributions.BaseDistribution
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]

    @classmethod
    def of(cls, domain: Domain) -> _Parameter:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        def same(value: Any) -> Any:
            return value

        if isinstance(domain, Categorical):
            indices = CategoricalDistribution(range(len(domain.categories)))
            return cls(indices, domain.categories.__getitem__, domain.index)
        if isinstance(domain, Float) and not (domain.log and domain.q is not None):
            if domain.q is None:  # ours excludes the upper bound, Optuna's includes it
                high = math.nextafter(domain.high, -math.inf)
                return cls(FloatDistribution(domain.low, high, log=domain.log), same, checked(domain))
            return cls(FloatDistribution(domain.low, domain.high, step=domain.q), same, checked(domain))
        if isinstance(domain, Integer) and not (domain.log and domain.q is not None):
            low, high = domain.from_unit(0.0), domain.from_unit(1.0)
            return cls(IntDistribution(low, high, log=domain.log, step=domain.q or 1), same, checked(domain))
        return cls(FloatDistribution(0.0, 1.0), domain.from_unit, domain.to_unit)


def _suggest(trial: optuna.Trial, name: str, distribution: optuna.distributions.BaseDistribution) -> Any:
    """Ask the trial for a parameter of ``distribution`` (suggesting only active parameters lets the
    sampler see a conditional space as it is)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, FloatDistribution):
        low, high, step, log = distribution.low, distribution.high, distribution.step, distribution.log
        return trial.suggest_float(name, low, high, step=step, log=log)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(
            name, distribution.low, distribution.high, step=distribution.step, log=distribution.log
        )
    assert isinstance(distribution, CategoricalDistribution)
    return trial.suggest_categorical(name, distribution.choices)


def _objectives(metric: str | Sequence[str] | None, mode: str | Sequence[str] | None) -> list[tuple[str, str]]:
    """The (metric, mode) pairs of a multi-objective search; empty for a single objective."""
    if isinstance(metric, str) or metric is None:
        if mode is not None and not isinstance(mode, str):
            raise ValueError(f"OptunaSearch: a list of modes needs a list of metrics, got metric={metric!r}")
        return []
    metrics, modes = list(metric), [mode] * len(metric) if isinstance(mode, str) else list(mode or [])
    if len(modes) != len(metrics) or not metrics:
        raise ValueError(f"OptunaSearch: give one mode per metric, got metric={metrics!r}, mode={mode!r}")
    for name, direction in zip(metrics, modes, strict=True):
        if direction not in ("min", "max"):
            raise ValueError(f"OptunaSearch: mode for {name!r} must be 'min' or 'max', got {direction!r}")
    return list(zip(metrics, modes, strict=True))


def _is_native(space: Mapping[str, Any]) -> bool:
    from optuna.distributions import BaseDistribution

    return bool(space) and any(isinstance(value, BaseDistribution) for value in space.values())


def _native_distributions(space: Mapping[str, Any]) -> dict[str, optuna.distributions.BaseDistribution]:
    from optuna.distributions import BaseDistribution

    for name, value in space.items():
        if not isinstance(value, BaseDistribution):
            raise ValueError(
                f"{name}: a space of Optuna distributions must hold only distributions, got {type(value).__name__}; "
                "use a define-by-run function to add constants"
            )
    return dict(space)


def _unflatten(params: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a/b": 1}`` -> ``{"a": {"b": 1}}``: Optuna names are flat, configs may nest."""
    config: dict[str, Any] = {}
    for name, value in params.items():
        *parents, leaf = name.split("/")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return config


def _random_states(sampler: Any) -> list[np.random.RandomState]:
    """The NumPy random states a sampler (and the samplers inside it) draws from, in a fixed order.

    Optuna has no public way to read or set a sampler's random state; its samplers keep them in
    ``LazyRandomState`` attributes, so this looks for those (and for plain ``RandomState`` ones).
    """
    from optuna.samplers import BaseSampler
    from optuna.samplers._lazy_random_state import LazyRandomState

    found: list[np.random.RandomState] = []
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for _, value in sorted(vars(node).items()):
            if isinstance(value, np.random.RandomState):
                found.append(value)
            elif isinstance(value, LazyRandomState):
                found.append(value.rng)
            elif isinstance(value, BaseSampler):
                visit(value)

    visit(sampler)
    return found


def _encode_random_state(rng: np.random.RandomState) -> list[Any]:
    name, keys, position, has_gauss, cached_gaussian = rng.get_state(legacy=True)
    return [name, np.asarray(keys).tolist(), int(position), int(has_gauss), float(cached_gaussian)]


def _decode_random_state(saved: Sequence[Any]) -> tuple[str, np.ndarray[Any, Any], int, int, float]:
    name, keys, position, has_gauss, cached_gaussian = saved
    return name, np.asarray(keys, dtype=np.uint32), int(position), int(has_gauss), float(cached_gaussian)


def _encode_trial(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    from optuna.distributions import distribution_to_json

    return {
        "state": trial.state.name,
        "params": trial.params,
        "distributions": {name: distribution_to_json(d) for name, d in trial.distributions.items()},
        "values": trial.values,
        "system_attrs": trial.system_attrs,
        "user_attrs": trial.user_attrs,
    }


def _replay(study: optuna.Study, storage: optuna.storages.BaseStorage, saved: Mapping[str, Any]) -> None:
    """Give a fresh study the saved attributes and trials, in their order (so their numbers match)."""
    import optuna
    from optuna.distributions import json_to_distribution

    study_id = storage.get_study_id_from_name(study.study_name)
    for key, value in saved["system_attrs"].items():
        storage.set_study_system_attr(study_id, key, value)
    for trial in saved["trials"]:
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState[trial["state"]],
                params=trial["params"],
                distributions={name: json_to_distribution(text) for name, text in trial["distributions"].items()},
                values=trial["values"],
                system_attrs=trial["system_attrs"],
                user_attrs=trial["user_attrs"],
            )
        )
