"""Replaying one trial's PBT schedule: the config changes that produced a good trial, on a single trial."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from tune_schedulers._metrics import require
from tune_schedulers._scheduler import TrialScheduler
from tune_trial import Action, Decision, Exploit, Trial, result_keys


class PopulationBasedTrainingReplay(TrialScheduler):
    """Trains one trial with the hyperparameter schedule a PBT run found for one of its trials.

    ``policy_file`` is a PBT policy log (``PopulationBasedTraining.write_policy``, or Ray Tune's
    ``pbt_policy_<trial>.txt``); ``policy`` is the same as a list. The trial must start from the
    schedule's initial config (``param_space=replay.config``). At each recorded step the trial
    restarts from its own latest checkpoint with the next config (an ``Exploit`` of itself).
    """

    def __init__(
        self, policy_file: str | os.PathLike[str] | None = None, policy: Sequence[Sequence[Any]] | None = None
    ) -> None:
        super().__init__()
        changes: Sequence[Sequence[Any]]
        if policy is not None and policy_file is None:
            changes = list(policy)
        elif policy_file is not None and policy is None:
            changes = _read_policy(Path(policy_file).expanduser())
        else:
            raise ValueError("PopulationBasedTrainingReplay: give either policy_file or policy")
        self.config, self._schedule = _schedule(changes)
        self._next = 0
        self._trial_id: str | None = None

    def milestones(self) -> Collection[int]:
        return {step for step, _ in self._schedule}

    def on_trial_add(self, trial: Trial) -> None:
        if self._trial_id == trial.trial_id:
            return  # re-added after a restore
        if self._trial_id is not None:
            raise ValueError("PopulationBasedTrainingReplay replays one schedule on one trial: set num_samples=1")
        if self._schedule and dict(trial.config) != self.config:
            raise ValueError(
                f"PopulationBasedTrainingReplay: trial {trial.trial_id} starts from {dict(trial.config)}, not from "
                f"the schedule's initial config {self.config}: pass param_space=replay.config"
            )
        self._trial_id = trial.trial_id

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Action:
        step = int(require(trial, result, result_keys.TRAINING_ITERATION, type(self).__name__))
        if self._next >= len(self._schedule) or step < self._schedule[self._next][0]:
            return Decision.CONTINUE
        _, config = self._schedule[self._next]
        self._next += 1
        return Exploit(trial.trial_id, config)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "next": self._next, "trial_id": self._trial_id}

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._next = int(state["next"])
        self._trial_id = state["trial_id"]


def _read_policy(path: Path) -> list[list[Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"PopulationBasedTrainingReplay: cannot read policy file {str(path)!r}: {error}") from error
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as error:
        raise ValueError(f"PopulationBasedTrainingReplay: {str(path)!r} is not a PBT policy file: {error}") from None


def _schedule(changes: Sequence[Sequence[Any]]) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """The initial config and the (step, config) changes of the lineage that ends the log.

    Read backwards, as Ray Tune does: each change must continue the one after it (its trial is the
    next change's source); where the chain breaks, earlier lines belong to an overwritten lineage.
    """
    schedule: list[tuple[int, dict[str, Any]]] = []
    initial: dict[str, Any] = {}
    following_source = None
    for change in reversed(changes):
        if len(change) != 6:
            raise ValueError(f"PopulationBasedTrainingReplay: a policy line has 6 fields, got {list(change)!r}")
        source, trial, _, trial_step, source_config, new_config = change
        if following_source is not None and trial != following_source:
            break
        following_source = source
        initial = dict(source_config)
        schedule.append((int(trial_step), dict(new_config)))
    return initial, list(reversed(schedule))
