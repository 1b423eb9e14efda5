"""Population based training (Jaderberg et al., 2017), as exploit requests the controller carries out."""

from __future__ import annotations

import copy
import json
import math
import os
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tune_schedulers._metrics import read_result, reward
from tune_schedulers._scheduler import TrialScheduler
from tune_schedulers._sorted import SortedList
from tune_trial import Action, Decision, Exploit, Trial

Mutations = Mapping[str, Any]
"""Per config key: a list of values, a domain (anything with ``from_unit``, e.g. ``tune.uniform``),
a function of no arguments returning a value, or a nested dict of the same."""


class PopulationBasedTraining(TrialScheduler):
    """PBT with Ray Tune's parameters and explore rules, asynchronous or (``synch=True``) synchronous.

    Every ``perturbation_interval`` (of ``time_attr``, after ``burn_in_period``) a trial's score is
    ranked among the population's latest scores. A trial in the bottom ``quantile_fraction`` is told
    to exploit a trial drawn from the top: the controller pauses it and restarts it from that
    trial's latest checkpoint, with the top trial's config explored:

    - a list: with ``resample_probability`` (or if the current value is not in the list) a random
      element, otherwise the neighbouring element, up or down;
    - a domain or a function: with ``resample_probability`` a new sample, otherwise the current value
      times a random one of ``perturbation_factors`` (kept an int for ints);
    - then ``custom_explore_fn(config)``, if given.

    With ``synch=True`` a trial that reaches the next synchronisation point pauses until every live
    trial has; then the whole bottom quantile exploits at once and the trials resume. The last trial
    to arrive goes on without a pause (Ray Tune pauses it too). Waiting trials run least progress
    first, as in Ray Tune.

    Trials must save checkpoints (``report(..., checkpoint=...)``). Ranking uses a sorted list, so a
    perturbation costs about O(sqrt n), not a sort of the population. Randomness comes from a
    generator seeded with ``seed`` and is part of the state, so decisions replay after a restore.
    """

    needs_metric = True

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        perturbation_interval: float = 60.0,
        burn_in_period: float = 0.0,
        hyperparam_mutations: Mutations | None = None,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: tuple[float, float] = (1.2, 0.8),
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        synch: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(metric, mode)
        name = type(self).__name__
        if not hyperparam_mutations and custom_explore_fn is None:
            raise ValueError(f"{name}: give hyperparam_mutations, custom_explore_fn, or both")
        if perturbation_interval <= 0:
            raise ValueError(f"{name}: perturbation_interval must be > 0, got {perturbation_interval}")
        if not 0 <= quantile_fraction <= 0.5:
            raise ValueError(f"{name}: quantile_fraction must be in [0, 0.5], got {quantile_fraction}")
        if not 0 <= resample_probability <= 1:
            raise ValueError(f"{name}: resample_probability must be in [0, 1], got {resample_probability}")
        _check_mutations(hyperparam_mutations or {}, "hyperparam_mutations")
        self.time_attr = time_attr
        self.perturbation_interval = perturbation_interval
        self.burn_in_period = burn_in_period
        self.hyperparam_mutations = dict(hyperparam_mutations or {})
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.perturbation_factors = perturbation_factors
        self.custom_explore_fn = custom_explore_fn
        self.synch = synch
        self._next_sync = perturbation_interval
        self._decisions: list[tuple[str, Decision | Exploit]] = []
        self._random = random.Random(seed)
        self._scores: dict[str, float] = {}  # trial id -> latest ranked score (finite rewards only)
        self._ranking = SortedList()  # (score, trial id)
        self._last_perturbation: dict[str, float] = {}
        self._configs: dict[str, dict[str, Any]] = {}
        self._live: set[str] = set()
        self._steps: dict[str, int] = {}  # training iteration at each trial's latest perturbation check
        self._policies: dict[str, list[list[Any]]] = {}
        self.num_perturbations = 0

    def on_trial_add(self, trial: Trial) -> None:
        self._configs.setdefault(trial.trial_id, copy.deepcopy(dict(trial.config)))
        self._live.add(trial.trial_id)
        self._last_perturbation.setdefault(trial.trial_id, 0.0)

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision | Exploit:
        raw, sign, time = read_result(type(self).__name__, trial, result, self.metric, self.mode, self.time_attr)
        value = reward(raw, sign)
        trial_id = trial.trial_id
        if time < self.burn_in_period or time - self._last_perturbation.get(trial_id, 0.0) < self.perturbation_interval:
            return Decision.CONTINUE
        self._last_perturbation[trial_id] = time
        self._steps[trial_id] = int(result.get("training_iteration", 0))
        self._rank(trial_id, value)
        if not self.synch:
            return self._exploit_if_bottom(trial_id) or Decision.CONTINUE
        if any(self._last_perturbation.get(other, 0.0) < self._next_sync for other in self._live if other != trial_id):
            return Decision.PAUSE  # wait until every live trial has reached the synchronisation point
        # Everyone is here: the bottom exploits the top, all at once. Paused trials hear it through
        # pop_decisions and are resumed by choose_trial_to_run; the trial that arrived last goes on.
        own = None
        for other in sorted(self._live):
            exploit = self._exploit_if_bottom(other)
            if other == trial_id:
                own = exploit
            elif exploit is not None:
                self._decisions.append((other, exploit))
        latest = max(self._last_perturbation[other] for other in self._live)
        self._next_sync = max(self._next_sync + self.perturbation_interval, latest)
        return own or Decision.CONTINUE

    def _exploit_if_bottom(self, trial_id: str) -> Exploit | None:
        """An exploit request if ``trial_id`` ranks in the bottom quantile (or is unranked: non-finite)."""
        lower, upper = self._quantile_bounds()
        score = self._scores.get(trial_id)
        bottom = score is None or self._ranking.rank((score, trial_id)) < lower
        if not bottom or upper == 0:
            return None
        _, source = self._ranking[len(self._ranking) - 1 - self._random.randrange(upper)]
        self.num_perturbations += 1
        config = self._explore(self._configs[source])
        # The trial's lineage is now the source's, plus this change (Ray Tune's policy log format).
        change = [
            source,
            trial_id,
            self._steps.get(source, 0),
            self._steps.get(trial_id, 0),
            self._configs[source],
            config,
        ]
        self._policies[trial_id] = [*self._policies.get(source, []), copy.deepcopy(change)]
        self._configs[trial_id] = config
        return Exploit(source, copy.deepcopy(config))

    def policy(self, trial_id: str) -> list[list[Any]]:
        """The config changes that led to ``trial_id``'s current state, oldest first, each
        ``[source_id, trial_id, source_step, trial_step, source_config, new_config]`` (the lines of
        Ray Tune's ``pbt_policy_*.txt``): what :class:`PopulationBasedTrainingReplay` replays."""
        return copy.deepcopy(self._policies.get(trial_id, []))

    def write_policy(self, trial_id: str, path: str | os.PathLike[str]) -> None:
        """Write :meth:`policy` as a policy file, one JSON list per line, as Ray Tune does."""
        with open(path, "w", encoding="utf-8") as file:
            for change in self._policies.get(trial_id, []):
                file.write(json.dumps(change) + "\n")

    def pop_decisions(self) -> list[tuple[str, Action]]:
        decisions: list[tuple[str, Action]] = list(self._decisions)
        self._decisions = []
        return decisions

    def choose_trial_to_run(self, candidates: Sequence[Trial]) -> Trial | None:
        """The waiting trial with the least progress (Ray Tune's fair share); in synchronous mode,
        only trials short of the synchronisation point."""
        eligible = [
            trial
            for trial in candidates
            if not self.synch or self._last_perturbation.get(trial.trial_id, 0.0) < self._next_sync
        ]
        return min(eligible, key=lambda trial: self._last_perturbation.get(trial.trial_id, 0.0), default=None)

    def _rank(self, trial_id: str, value: float) -> None:
        previous = self._scores.pop(trial_id, None)
        if previous is not None:
            self._ranking.remove((previous, trial_id))
        if math.isfinite(value):
            self._scores[trial_id] = value
            self._ranking.add((value, trial_id))

    def _quantile_bounds(self) -> tuple[int, int]:
        """How many trials form the bottom and the top quantile (equal sizes, as in Ray Tune)."""
        count = len(self._ranking)
        if count <= 1:
            return 0, 0
        size = math.ceil(count * self.quantile_fraction)
        if size > count / 2:
            size = math.floor(count / 2)
        return size, size

    def _explore(self, config: Mapping[str, Any]) -> dict[str, Any]:
        explored = _explore(
            config,
            self.hyperparam_mutations,
            self._random,
            self.resample_probability,
            self.perturbation_factors,
        )
        if self.custom_explore_fn is not None:
            explored = self.custom_explore_fn(explored)
            if explored is None:
                raise ValueError(f"{type(self).__name__}: custom_explore_fn returned None instead of a config")
        return explored

    def _forget(self, trial_id: str) -> None:
        """Finished trials leave the population: only live trials are ranked or waited for."""
        score = self._scores.pop(trial_id, None)
        if score is not None:
            self._ranking.remove((score, trial_id))
        self._live.discard(trial_id)

    def get_state(self) -> dict[str, Any]:
        version, internal, gauss = self._random.getstate()
        return {
            **super().get_state(),
            "scores": self._scores,
            "last_perturbation": self._last_perturbation,
            "configs": self._configs,
            "live": sorted(self._live),
            "steps": self._steps,
            "policies": self._policies,
            "next_sync": self._next_sync,
            "decisions": [[trial_id, _encode(decision)] for trial_id, decision in self._decisions],
            "num_perturbations": self.num_perturbations,
            "random": [version, list(internal), gauss],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._scores = {trial_id: float(score) for trial_id, score in state["scores"].items()}
        self._ranking = SortedList()
        for trial_id, score in self._scores.items():
            self._ranking.add((score, trial_id))
        self._last_perturbation = dict(state["last_perturbation"])
        self._configs = {trial_id: dict(config) for trial_id, config in state["configs"].items()}
        self._live = set(state["live"])
        self._steps = {trial_id: int(step) for trial_id, step in state["steps"].items()}
        self._policies = {trial_id: list(changes) for trial_id, changes in state["policies"].items()}
        self._next_sync = float(state["next_sync"])
        self._decisions = [(trial_id, _decode(decision)) for trial_id, decision in state["decisions"]]
        self.num_perturbations = int(state["num_perturbations"])
        version, internal, gauss = state["random"]
        self._random.setstate((version, tuple(internal), gauss))


def _encode(decision: Decision | Exploit) -> Any:
    if isinstance(decision, Exploit):
        return {"source_trial_id": decision.source_trial_id, "config": dict(decision.config)}
    return decision.value


def _decode(encoded: Any) -> Decision | Exploit:
    if isinstance(encoded, dict):
        return Exploit(encoded["source_trial_id"], encoded["config"])
    return Decision(encoded)


def _check_mutations(mutations: Mutations, path: str) -> None:
    for key, spec in mutations.items():
        where = f"{path}[{key!r}]"
        if isinstance(spec, Mapping):
            _check_mutations(spec, where)
        elif isinstance(spec, (list, tuple)):
            if not spec:
                raise ValueError(f"{where}: an empty list cannot be explored")
        elif not (hasattr(spec, "from_unit") or callable(spec)):
            raise ValueError(
                f"{where}: {type(spec).__name__} is not a mutation spec; use a list of values, a search-space "
                "domain (tune.uniform, tune.choice…), a function returning a value, or a dict of these"
            )


def _explore(
    config: Mapping[str, Any],
    mutations: Mutations,
    rng: random.Random,
    resample_probability: float,
    factors: Sequence[float],
) -> dict[str, Any]:
    explored = copy.deepcopy(dict(config))
    for key, spec in mutations.items():
        current = config.get(key)
        if isinstance(spec, Mapping):
            explored[key] = _explore(current or {}, spec, rng, resample_probability, factors)
        elif isinstance(spec, (list, tuple)):
            if rng.random() < resample_probability or current not in spec:
                explored[key] = rng.choice(spec)
            else:
                index = list(spec).index(current) + rng.choice((-1, 1))
                explored[key] = spec[min(max(index, 0), len(spec) - 1)]
        elif rng.random() < resample_probability or not isinstance(current, (int, float)):
            explored[key] = spec.from_unit(rng.random()) if hasattr(spec, "from_unit") else spec()
        else:
            perturbed = current * rng.choice(factors)
            explored[key] = int(perturbed) if isinstance(current, int) and not isinstance(current, bool) else perturbed
    return explored
