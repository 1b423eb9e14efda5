"""Changing a trial's resources while it runs: a wrapper around any scheduler."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from tune_schedulers._scheduler import FIFOScheduler, TrialScheduler
from tune_trial import Action, ChangeResources, Decision, Resources, Trial

AllocationFunction = Callable[[Trial, Mapping[str, Any], Resources, int], Resources | None]
"""``(trial, result, total_resources, live_trials) -> new resources``, or None to keep them."""


class DistributeResources:
    """Share the cluster's CPUs and GPUs evenly among the live trials, never below a trial's request.

    Like Ray Tune's default, it only grows a trial's resources (freed resources go to the trials
    still running); ``increase_by`` grows in steps of that many CPUs and GPUs at a time.
    """

    def __init__(self, increase_by: Resources | None = None) -> None:
        self.increase_by = increase_by

    def __call__(self, trial: Trial, result: Mapping[str, Any], total: Resources, live_trials: int) -> Resources | None:
        share_cpu = math.floor(total.cpu / max(live_trials, 1))
        share_gpu = math.floor(total.gpu / max(live_trials, 1))
        cpu, gpu = trial.resources.cpu, trial.resources.gpu
        if self.increase_by is not None:
            step_cpu, step_gpu = self.increase_by.cpu, self.increase_by.gpu
            cpu = cpu + step_cpu * max(0, math.floor((share_cpu - cpu) / step_cpu)) if step_cpu else cpu
            gpu = gpu + step_gpu * max(0, math.floor((share_gpu - gpu) / step_gpu)) if step_gpu else gpu
        else:
            cpu, gpu = max(cpu, share_cpu), max(gpu, share_gpu)
        if (cpu, gpu) == (trial.resources.cpu, trial.resources.gpu):
            return None
        return Resources(cpu=cpu, gpu=gpu, memory=trial.resources.memory, custom=trial.resources.custom)


class ResourceChangingScheduler(TrialScheduler):
    """Wraps ``base_scheduler`` and, where it lets a trial continue, may give the trial new resources.

    ``resources_allocation_function(trial, result, total_resources, live_trials)`` returns the
    trial's new resources (or None); the default is :class:`DistributeResources`. A change is a
    ``ChangeResources`` request: the controller pauses the trial and restarts it from its latest
    checkpoint with the new resources, which the trial reads from ``get_context()``. Every other
    decision is the base scheduler's. The trainable must save checkpoints.
    """

    def __init__(
        self,
        base_scheduler: TrialScheduler | None = None,
        resources_allocation_function: AllocationFunction | None = None,
    ) -> None:
        self.base_scheduler = base_scheduler or FIFOScheduler()
        super().__init__(self.base_scheduler.metric, self.base_scheduler.mode)
        self.allocate: AllocationFunction = resources_allocation_function or DistributeResources()
        self._total = Resources()
        self._live: set[str] = set()

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        """Also receives ``total_resources`` (the executor's) from the controller."""
        if "total_resources" in spec:
            self._total = spec["total_resources"]
        accepted = self.base_scheduler.set_search_properties(metric, mode, **spec)
        self.metric, self.mode = self.base_scheduler.metric, self.base_scheduler.mode
        return accepted

    def milestones(self) -> Collection[int] | None:
        return None  # a change can be due at any result

    def on_trial_add(self, trial: Trial) -> None:
        self._live.add(trial.trial_id)
        self.base_scheduler.on_trial_add(trial)

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Action:
        decision = self.base_scheduler.on_trial_result(trial, result)
        if decision is not Decision.CONTINUE:
            return decision
        resources = self.allocate(trial, result, self._total, len(self._live))
        if resources is None or resources == trial.resources:
            return Decision.CONTINUE
        return ChangeResources(resources)

    def on_trial_complete(self, trial: Trial, result: Mapping[str, Any] | None) -> None:
        self._live.discard(trial.trial_id)
        self.base_scheduler.on_trial_complete(trial, result)

    def on_trial_error(self, trial: Trial) -> None:
        self._live.discard(trial.trial_id)
        self.base_scheduler.on_trial_error(trial)

    def on_trial_remove(self, trial: Trial) -> None:
        self._live.discard(trial.trial_id)
        self.base_scheduler.on_trial_remove(trial)

    def on_no_more_trials(self) -> None:
        self.base_scheduler.on_no_more_trials()

    def pop_decisions(self) -> list[tuple[str, Action]]:
        return self.base_scheduler.pop_decisions()

    def choose_trial_to_run(self, candidates: Sequence[Trial]) -> Trial | None:
        return self.base_scheduler.choose_trial_to_run(candidates)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "base": self.base_scheduler.get_state(),
            "total": self._total.as_dict(),
            "live": sorted(self._live),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self.base_scheduler.set_state(state["base"])
        self._total = Resources.from_dict(state["total"])
        self._live = set(state["live"])
