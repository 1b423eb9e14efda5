"""HyperOptSearch: hyperopt's TPE behind the Searcher contract (extra ``tune-search[hyperopt]``).

hyperopt suggests from a ``Trials`` object of plain documents; the adapter keeps one in memory,
asks ``hyperopt.tpe.suggest`` for one document at a time (seeded per suggestion from the searcher's
seed, so the state is the documents and a counter), and evaluates it into a config with
``hyperopt.space_eval``. hyperopt's own spaces, conditional ones included (``hp.choice`` between
dicts that hold parameters of their own), are used as they are; tune's spaces are converted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tune_search._adapters import FlatParameter, FlatSpace, checked, finite_values, require_extra
from tune_search._domains import Categorical, Domain, Float, Integer, Normal
from tune_search._paths import Path, format_path
from tune_search._searcher import Searcher, Suggestion
from tune_search._space import SearchSpace, parse_space


class HyperOptSearch(Searcher):
    """Suggests configurations with hyperopt's Tree-structured Parzen Estimator.

    ``space`` is tune's search space (or left out, to take the Tuner's ``param_space``) or a
    hyperopt space built with ``hyperopt.hp``. ``points_to_evaluate`` are configs for a tune space
    and hyperopt assignments (``{label: value}``, a choice given by its index) for a hyperopt space;
    either way each point gives every parameter it makes active. The first ``n_initial_points``
    trials are random; ``gamma`` is the share of trials TPE counts as good.
    """

    supports_sample_from = False

    def __init__(
        self,
        space: Mapping[str, Any] | Any | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        n_initial_points: int = 20,
        random_state_seed: int | None = None,
        gamma: float = 0.25,
    ) -> None:
        require_extra("hyperopt", "hyperopt", "HyperOptSearch")
        import hyperopt

        super().__init__(metric, mode)
        if n_initial_points < 0:
            raise ValueError(f"HyperOptSearch: n_initial_points must be >= 0, got {n_initial_points}")
        if not 0 < gamma < 1:
            raise ValueError(f"HyperOptSearch: gamma must be between 0 and 1, got {gamma}")
        self._algorithm = functools.partial(
            hyperopt.tpe.suggest, n_startup_jobs=n_initial_points, gamma=gamma, verbose=False
        )
        self._points = [dict(point) for point in points_to_evaluate or ()]
        self._entropy = int(np.random.SeedSequence(random_state_seed).entropy)  # type: ignore[arg-type]
        self._suggested = 0
        self._flat: FlatSpace | None = None
        self._parameters: dict[str, _Parameter] = {}
        self._expression: Any = None
        self._domain: Any = None
        self._conditions: dict[str, Any] = {}
        self._trials = hyperopt.Trials()
        self._documents: dict[int, dict[str, Any]] = {}
        self._running: dict[str, int] = {}
        self._queued: list[dict[str, Any]] = []
        self._saved_trials: list[Mapping[str, Any]] | None = None
        if space is not None and _is_native(space):
            self.space = parse_space({})  # tune's part is empty: the parameters are hyperopt's
            self._compile(space)
            self._queued = [self._native_point(index, point) for index, point in enumerate(self._points)]
        elif space is not None:
            super().set_search_properties(metric, mode, space)

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        if not super().set_search_properties(metric, mode, space, **spec):
            return False
        if self.metric is None or self.mode is None:
            raise ValueError(
                "HyperOptSearch needs a metric and a mode: pass them to HyperOptSearch(...) or to TuneConfig(...)"
            )
        return True

    def check_space(self, space: SearchSpace) -> None:
        super().check_space(space)
        flat = FlatSpace.of(space)
        parameters = {parameter.name: _Parameter.of(parameter) for parameter in flat.parameters}
        if parameters:  # hyperopt cannot compile an empty space; suggest() gives the constants then
            self._compile(_expressions(flat, parameters))
        queued = []
        for index, point in enumerate(self._points):
            encoded = {}
            for name, value in flat.point(index, point).items():
                try:
                    encoded[name] = parameters[name].encode(value)
                except ValueError as error:
                    raise ValueError(f"points_to_evaluate[{index}]: {name}: {error}") from None
            queued.append(self._native_point(index, encoded))
        self._flat, self._parameters, self._queued = flat, parameters, queued

    def _compile(self, space: Any) -> None:
        import hyperopt
        from hyperopt.pyll_utils import expr_to_config

        self._expression = space
        self._domain = hyperopt.Domain(lambda config: config, space)
        labels: dict[str, Any] = {}
        expr_to_config(hyperopt.pyll.as_apply(space), None, labels)
        self._conditions = {label: entry["conditions"] for label, entry in labels.items()}
        if self._saved_trials is not None:
            self._restore_documents(self._saved_trials)

    def _native_point(self, index: int, point: Mapping[str, Any]) -> dict[str, Any]:
        """A hyperopt assignment, checked: known labels, and a value for every label it makes active."""
        unknown = sorted(set(point) - set(self._conditions))
        if unknown:
            raise ValueError(f"points_to_evaluate[{index}]: {unknown} are not labels of the hyperopt space")
        active = self._active(point)
        missing = sorted(label for label in active if label not in point)
        if missing:
            raise ValueError(f"points_to_evaluate[{index}]: no value for {missing}, which this point makes active")
        return {label: point[label] for label in active}

    def _active(self, assignment: Mapping[str, Any]) -> list[str]:
        """The labels in play under ``assignment``: those whose choice conditions it meets."""
        return [
            label
            for label, conditions in self._conditions.items()
            if any(all(assignment.get(c.name) == c.val for c in conjunction) for conjunction in conditions)
        ]

    # -- the search -----------------------------------------------------------------------------

    def suggest(self, trial_id: str) -> Suggestion:
        import hyperopt

        self._require_space("suggest")
        if self.metric is None or self.mode is None:
            raise RuntimeError("HyperOptSearch.suggest() needs a metric and a mode")
        if self._flat is not None and not self._parameters:  # constants only
            return self._flat.config({})
        tid = len(self._documents)
        if self._suggested < len(self._queued):
            assignment = self._queued[self._suggested]
            document = self._new_document(tid, {label: [assignment[label]] for label in assignment})
        else:
            seed = int(np.random.SeedSequence(self._entropy, spawn_key=(self._suggested,)).generate_state(1)[0])
            (document,) = self._algorithm([tid], self._domain, self._trials, seed)
        self._suggested += 1
        vals = self._insert(document)["misc"]["vals"]
        self._running[trial_id] = tid
        assignment = {label: values[0] for label, values in vals.items() if values}
        if self._flat is None:
            config = hyperopt.space_eval(self._expression, assignment)
            if not isinstance(config, dict):
                raise TypeError(f"HyperOptSearch: the hyperopt space must evaluate to a dict, got {config!r}")
            return config
        return self._flat.config({name: self._parameters[name].decode(value) for name, value in assignment.items()})

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        """Record the loss; an error, or a missing, NaN or infinite metric, is a failed trial."""
        import hyperopt

        tid = self._running.pop(trial_id, None)
        if tid is None or self.metric is None:
            return  # not a trial this searcher suggested
        values = None if error else finite_values("HyperOptSearch", trial_id, result, [self.metric])
        document = self._documents[tid]
        if values is None:
            document["state"] = hyperopt.JOB_STATE_ERROR
            document["result"] = {"status": hyperopt.STATUS_FAIL}
        else:
            document["state"] = hyperopt.JOB_STATE_DONE
            document["result"] = {"loss": values[0] if self.mode == "min" else -values[0], "status": hyperopt.STATUS_OK}
        self._trials.refresh()

    def _new_document(self, tid: int, vals: Mapping[str, list[Any]]) -> dict[str, Any]:
        """A trial document giving ``vals`` (each label's value in a list, empty where inactive)."""
        labels = {label: list(vals.get(label, [])) for label in self._conditions}
        misc = {
            "tid": tid,
            "cmd": self._domain.cmd,
            "workdir": self._domain.workdir,
            "idxs": {label: [tid] if values else [] for label, values in labels.items()},
            "vals": labels,
        }
        (document,) = self._trials.new_trial_docs([tid], [None], [self._domain.new_result()], [misc])
        return dict(document)

    def _insert(self, document: dict[str, Any]) -> dict[str, Any]:
        """Add a new document; hyperopt stores a converted copy, which is the one to update later."""
        self._trials.insert_trial_docs([document])
        self._trials.refresh()
        stored: dict[str, Any] = self._trials.trials[-1]
        self._documents[stored["tid"]] = stored
        return stored

    # -- state ----------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "entropy": self._entropy,
            "suggested": self._suggested,
            "running": dict(self._running),
            "trials": [
                {
                    "tid": tid,
                    "state": doc["state"],
                    "result": doc["result"],
                    "vals": {
                        label: [_plain(value) for value in values] for label, values in doc["misc"]["vals"].items()
                    },
                }
                for tid, doc in self._documents.items()
            ],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._entropy = int(state["entropy"])
        self._suggested = int(state["suggested"])
        self._running = {trial_id: int(tid) for trial_id, tid in state["running"].items()}
        self._saved_trials = list(state["trials"])
        if self._domain is not None:  # else once the space is known
            self._restore_documents(self._saved_trials)

    def _restore_documents(self, saved_trials: Sequence[Mapping[str, Any]]) -> None:
        import hyperopt

        self._trials = hyperopt.Trials()
        self._documents = {}
        for saved in saved_trials:
            stored = self._insert(self._new_document(int(saved["tid"]), saved["vals"]))
            stored["state"], stored["result"] = saved["state"], saved["result"]
        self._trials.refresh()
        self._saved_trials = None


@dataclass(frozen=True)
class _Parameter:
    """One of our domains as a hyperopt expression, and how values cross between them.

    Every domain has a hyperopt counterpart with the same prior: integers are quantised uniform
    (or log-uniform) draws rounded to ints, as hyperopt's own ``uniformint``; categories go by
    index, so any Python object can be a choice.
    """

    expression: Any
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]

    @classmethod
    def of(cls, parameter: FlatParameter) -> _Parameter:
        from hyperopt import hp

        name, domain = parameter.name, parameter.domain
        if isinstance(domain, Categorical):
            indices = hp.choice(name, list(range(len(domain.categories))))
            return cls(indices, domain.categories.__getitem__, domain.index)
        encode = checked(domain)
        if isinstance(domain, Float):
            low, high = (math.log(domain.low), math.log(domain.high)) if domain.log else (domain.low, domain.high)
            if domain.q is not None:
                family = hp.qloguniform if domain.log else hp.quniform
                return cls(family(name, low, high, domain.q), float, encode)
            below_high = math.nextafter(domain.high, -math.inf)  # ours excludes the upper bound

            def decode(value: Any) -> float:
                return min(float(value), below_high)

            return cls((hp.loguniform if domain.log else hp.uniform)(name, low, high), decode, encode)
        if isinstance(domain, Normal):
            if domain.q is None:
                return cls(hp.normal(name, domain.mean, domain.sd), float, encode)
            return cls(hp.qnormal(name, domain.mean, domain.sd, domain.q), float, encode)
        assert isinstance(domain, Integer)
        first, last, q = domain.from_unit(0.0), domain.from_unit(1.0), domain.q or 1
        if domain.log:
            expression = hp.qloguniform(name, math.log(first), math.log(last), q)
        else:
            expression = hp.quniform(name, first, last, q)
        return cls(expression, _to_int, encode)


def _expressions(
    flat: FlatSpace, parameters: Mapping[str, _Parameter], parent: str | None = None, category: int | None = None
) -> dict[str, Any]:
    """The hyperopt space of the parameters inside ``parent``'s ``category`` (all unconditional ones
    for None): a choice whose categories hold parameters becomes an ``hp.choice`` between their
    spaces, so hyperopt knows which parameters each category makes active."""
    from hyperopt import hp

    space = {}
    for parameter in flat.children(parent, category):
        domain = parameter.domain
        if isinstance(domain, Categorical) and any(other.parent == parameter.name for other in flat.parameters):
            options = [_expressions(flat, parameters, parameter.name, index) for index in range(len(domain.categories))]
            space[parameter.name] = hp.choice(parameter.name, options)
        else:
            space[parameter.name] = parameters[parameter.name].expression
    return space


def _plain(value: Any) -> Any:
    """A NumPy scalar (hyperopt's documents hold them) as the Python number JSON can write."""
    return value.item() if isinstance(value, np.generic) else value


def _to_int(value: Any) -> int:
    return round(float(value))


def _is_native(space: Any) -> bool:
    """Whether ``space`` is made of hyperopt expressions (and then of nothing of tune's)."""
    from hyperopt.pyll import Apply

    kinds: dict[str, list[Path]] = {"hyperopt": [], "tune": []}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, Apply):
            kinds["hyperopt"].append(path)
        elif isinstance(node, Domain):
            kinds["tune"].append(path)
        elif isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(space, ())
    if kinds["hyperopt"] and kinds["tune"]:
        raise ValueError(
            f"{format_path(kinds['tune'][0])}: the space mixes tune's domains with hyperopt expressions "
            f"({format_path(kinds['hyperopt'][0])}); use one kind"
        )
    return bool(kinds["hyperopt"])
