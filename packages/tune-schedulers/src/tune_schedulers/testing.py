"""A conformance kit for schedulers: every scheduler, ours or a user's, passes the same checks.

Subclass :class:`SchedulerConformance` in a pytest module and implement ``make_scheduler``::

    from tune_schedulers import ASHAScheduler
    from tune_schedulers.testing import SchedulerConformance

    class TestASHA(SchedulerConformance):
        def make_scheduler(self, metric, mode):
            return ASHAScheduler(metric=metric, mode=mode, max_t=27, grace_period=1, reduction_factor=3)

The kit drives the scheduler through a deterministic simulated experiment, as a controller would:
trials are created on demand, started when ``choose_trial_to_run`` picks them, advanced one
iteration at a time, and paused, stopped or completed as decided. It checks that every decision is
a legal move, that a JSON state round trip mid-experiment gives identical later decisions, that
min and max modes are symmetric, and that missing and NaN metrics are handled as documented.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from tune_schedulers._scheduler import TrialScheduler
from tune_trial import ChangeResources, Decision, Exploit, Trial, TrialStatus

DecisionLog = list[tuple[str, int, str]]


def learning_curve(trial_index: int, iteration: int) -> float:
    """A loss that falls with iterations, at a different level and pace for every trial."""
    level = ((trial_index * 7919) % 101) / 101
    pace = 0.5 + ((trial_index * 104729) % 89) / 89
    return level + 1.0 / (1.0 + pace * iteration)


@dataclass
class Simulation:
    """A controller in miniature: ``concurrency`` slots, ``num_trials`` trials, one step at a time."""

    scheduler: TrialScheduler
    metric: str
    sign: float  # +1 reports the loss, -1 its negation (for a max-mode metric)
    num_trials: int = 24
    concurrency: int = 4
    max_iterations: int = 27
    trials: list[Trial] = field(default_factory=list)
    waiting: list[Trial] = field(default_factory=list)
    running: list[Trial] = field(default_factory=list)
    iteration: dict[str, int] = field(default_factory=dict)
    log: DecisionLog = field(default_factory=list)
    by_id: dict[str, Trial] = field(default_factory=dict)
    exhausted: bool = False

    def _create(self) -> bool:
        if len(self.trials) >= self.num_trials:
            if not self.exhausted:
                self.exhausted = True
                self.scheduler.on_no_more_trials()
                self._carry_out_other_decisions()
            return False
        trial = Trial(f"trial_{len(self.trials):03d}", {"index": len(self.trials), "scale": 1.0})
        self.trials.append(trial)
        self.by_id[trial.trial_id] = trial
        self.waiting.append(trial)
        self.iteration[trial.trial_id] = 0
        self.scheduler.on_trial_add(trial)
        return True

    def _choose(self) -> Trial | None:
        chosen = self.scheduler.choose_trial_to_run(list(self.waiting))
        assert chosen is None or any(chosen is trial for trial in self.waiting), (
            f"choose_trial_to_run returned {chosen!r}, which was not among the candidates"
        )
        return chosen

    def _fill(self) -> None:
        while len(self.running) < self.concurrency:
            chosen = self._choose() if self.waiting else None
            if chosen is None:
                # Offer a new trial, then ask again: if there is none, the scheduler has just heard
                # so (on_no_more_trials) and may release waiting trials, as a controller does.
                self._create()
                chosen = self._choose() if self.waiting else None
            if chosen is None:
                return
            self.waiting.remove(chosen)
            chosen.set_status(TrialStatus.RUNNING)  # raises on an illegal move
            self.running.append(chosen)

    def _carry_out_other_decisions(self) -> None:
        for trial_id, decision in self.scheduler.pop_decisions():
            other = self._trial(trial_id)
            assert other in self.waiting, f"the scheduler decided {decision!r} for {trial_id}, which is not waiting"
            if isinstance(decision, Exploit):
                self._exploit(other, decision)
            elif decision is Decision.STOP:
                self.waiting.remove(other)
                other.set_status(TrialStatus.TERMINATED)
                self.log.append((trial_id, self.iteration[trial_id], "STOPPED BY SCHEDULER"))

    def _trial(self, trial_id: str) -> Trial:
        return self.by_id[trial_id]

    def _exploit(self, trial: Trial, exploit: Exploit) -> None:
        source = self._trial(exploit.source_trial_id)
        entry = f"EXPLOIT {source.trial_id} {sorted(exploit.config.items())}"
        self.log.append((trial.trial_id, self.iteration[trial.trial_id], entry))
        trial.config = dict(exploit.config)  # carried out at once: resume from the source's state
        self.iteration[trial.trial_id] = self.iteration[source.trial_id]

    def step(self) -> bool:
        """Advance every running trial by one iteration; False once the experiment is over."""
        self._fill()
        if not self.running:
            return False
        for trial in list(self.running):
            iteration = self.iteration[trial.trial_id] + 1
            self.iteration[trial.trial_id] = iteration
            loss = learning_curve(trial.config["index"], iteration) * trial.config.get("scale", 1.0)
            result = {self.metric: self.sign * loss, "training_iteration": iteration}
            trial.last_result = result
            decision = self.scheduler.on_trial_result(trial, result)
            if isinstance(decision, Exploit):
                self._exploit(trial, decision)
                self._carry_out_other_decisions()
                continue
            if isinstance(decision, ChangeResources):
                self.log.append((trial.trial_id, iteration, f"RESOURCES {decision.resources.as_dict()}"))
                trial.resources = decision.resources  # carried out at once: resumed with them
                continue
            assert isinstance(decision, Decision), f"on_trial_result returned {decision!r}"
            self.log.append((trial.trial_id, iteration, decision.value))
            self._carry_out_other_decisions()
            if decision is Decision.CONTINUE and iteration < self.max_iterations:
                continue
            self.running.remove(trial)
            if decision is Decision.PAUSE:
                trial.set_status(TrialStatus.PAUSED)
                self.waiting.append(trial)
            else:
                trial.set_status(TrialStatus.TERMINATED)
                if decision is Decision.CONTINUE:  # ran to its end by itself
                    self.scheduler.on_trial_complete(trial, result)
        return True

    def run(self, max_steps: int = 10_000) -> DecisionLog:
        for _ in range(max_steps):
            if not self.step():
                return self.log
        raise AssertionError(f"the simulated experiment did not end within {max_steps} steps")


class SchedulerConformance:
    """The checks; subclasses provide ``make_scheduler``."""

    uses_metric: ClassVar[bool] = True
    """False for schedulers that ignore the metric (FIFO): no error is expected when it is missing."""
    num_trials: ClassVar[int] = 24
    """Trials in the simulated experiment (1 for schedulers that run a single trial)."""

    def make_scheduler(self, metric: str, mode: str) -> TrialScheduler:
        raise NotImplementedError

    def _simulation(self, metric: str = "loss", mode: str = "min") -> Simulation:
        scheduler = self.make_scheduler(metric, mode)
        scheduler.set_search_properties(metric, mode)
        return Simulation(scheduler, metric, sign=1.0 if mode == "min" else -1.0, num_trials=self.num_trials)

    def test_decisions_are_legal_moves_and_every_trial_ends(self) -> None:
        simulation = self._simulation()
        simulation.run()
        assert simulation.log, "no result was ever reported"
        for trial in simulation.trials:
            assert trial.status in (TrialStatus.TERMINATED, TrialStatus.PAUSED), trial

    def test_a_state_round_trip_mid_experiment_gives_identical_later_decisions(self) -> None:
        reference = self._simulation().run()
        interrupted = self._simulation()
        for _ in range(len(reference) // 8):  # about halfway through, in steps
            interrupted.step()
        state = json.loads(json.dumps(interrupted.scheduler.get_state()))  # must be JSON-able
        restored = self.make_scheduler("loss", "min")
        restored.set_state(state)
        for trial in interrupted.trials:  # a restoring controller adds its unfinished trials again
            if not trial.status.is_finished:
                restored.on_trial_add(trial)
        interrupted.scheduler = restored
        assert interrupted.run() == reference

    def test_min_and_max_modes_are_symmetric(self) -> None:
        assert self._simulation("loss", "min").run() == self._simulation("score", "max").run()

    def test_a_result_without_the_metric_is_an_error_naming_the_trial_and_key(self) -> None:
        scheduler = self.make_scheduler("loss", "min")
        trial = Trial("trial_without_loss", {"index": 0, "scale": 1.0})
        scheduler.on_trial_add(trial)
        trial.set_status(TrialStatus.RUNNING)
        report: Callable[[], Any] = lambda: scheduler.on_trial_result(  # noqa: E731
            trial, {"accuracy": 0.5, "training_iteration": 1}
        )
        if not self.uses_metric:
            assert report() is Decision.CONTINUE
            return
        with pytest.raises(ValueError, match=r"trial_without_loss .*'loss'"):
            report()

    def test_a_nan_metric_is_treated_as_the_worst_value(self) -> None:
        decisions = []
        for bad in (math.nan, 1e300):
            simulation = self._simulation()
            for _ in range(6):
                simulation.step()
            simulation._fill()  # start whatever the scheduler wants to run next
            assert simulation.running, "no trial is running after six steps"
            trial = simulation.running[0]
            iteration = simulation.iteration[trial.trial_id] + 1
            decisions.append(
                simulation.scheduler.on_trial_result(trial, {"loss": bad, "training_iteration": iteration})
            )
        assert decisions[0] == decisions[1]
