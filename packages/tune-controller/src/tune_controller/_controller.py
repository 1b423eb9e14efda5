"""The driver loop: ask the searcher, obey the scheduler, drive the executor, keep every result."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from tune_controller._callback import Callback
from tune_controller._checkpoints import CheckpointKeeper
from tune_controller._config import CheckpointConfig, FailureConfig
from tune_controller._events import TrialEnded, TrialEvent, TrialReported
from tune_controller._executor import Executor
from tune_controller._result_grid import Result
from tune_controller._session import TrialLaunch
from tune_controller._stoppers import Stopper
from tune_schedulers import TrialScheduler
from tune_search import FINISHED, Searcher
from tune_trial import (
    ChangeResources,
    Decision,
    Exploit,
    Resources,
    Trial,
    TrialContext,
    TrialStatus,
    TuneError,
    result_keys,
)

logger = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 1.0
_NEEDS_CHECKPOINTS = (
    "this scheduler needs a trainable that saves checkpoints "
    "(tune.report(metrics, checkpoint=Checkpoint.from_directory(...)))"
)


class TuneController:
    """Runs one experiment to its end and returns one :class:`Result` per trial.

    Per event the loop does constant work: trials are looked up by id, and only the few waiting
    trials (created on demand, when a slot is free) are offered to the scheduler.
    """

    def __init__(
        self,
        *,
        experiment_dir: Path,
        experiment_name: str,
        trainable_name: str,
        executor: Executor,
        searcher: Searcher,
        scheduler: TrialScheduler,
        max_trials: int | None,
        resources: Resources,
        max_concurrent_trials: int | None,
        time_budget_s: float | None,
        stopper: Stopper,
        trial_name_creator: Callable[[Trial], str] | None = None,
        trial_dirname_creator: Callable[[Trial], str] | None = None,
        failure_config: FailureConfig,
        checkpoint_config: CheckpointConfig,
        callbacks: Sequence[Callback],
    ) -> None:
        self._experiment_dir = experiment_dir
        self._experiment_name = experiment_name
        self._trainable_name = trainable_name
        self._executor = executor
        self._searcher = searcher
        self._scheduler = scheduler
        self._max_trials = max_trials
        self._resources = resources
        self._max_concurrent = max_concurrent_trials
        self._time_budget_s = time_budget_s
        self._stopper = stopper
        self._name_creator = trial_name_creator
        self._dirname_creator = trial_dirname_creator
        self._names: dict[str, str] = {}
        self._trial_dirs: dict[str, Path] = {}
        self._failure_config = failure_config
        self._checkpoints = CheckpointKeeper(checkpoint_config)
        self._callbacks = list(callbacks)
        self._trials: list[Trial] = []
        self._by_id: dict[str, Trial] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        # Per trial, the result that came with its latest checkpoint: where a restart resumes.
        self._resume_points: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, Trial] = {}
        self._next_up: Trial | None = None  # chosen by the scheduler, waiting for resources to free up
        self._running: set[str] = set()
        self._pausing: set[str] = set()
        # Trials pausing to restart differently: from another's checkpoint, or with other resources.
        self._restarts: dict[str, Exploit | ChangeResources] = {}
        self._stopping: set[str] = set()
        self._searcher_finished = False
        self._id_prefix = uuid.uuid4().hex[:5]
        self._iteration = 0

    def run(self) -> list[Result]:
        started = time.monotonic()
        self._decision_points = _decision_points(self._scheduler.milestones(), self._stopper.decision_points())
        self._executor.check_feasible(self._next_trial_id(), self._resources)  # before any trial starts
        try:
            while True:
                self._iteration += 1
                self._notify("on_step_begin")
                if self._time_budget_s is not None and time.monotonic() - started >= self._time_budget_s:
                    self._end_experiment(f"time budget of {self._time_budget_s:.1f} s reached")
                elif not self._searcher_finished and self._stopper.stop_all():
                    self._end_experiment(f"{type(self._stopper).__name__}.stop_all() said so")
                else:
                    self._fill_slots()
                if not self._running:
                    if self._waiting and not self._searcher_finished:
                        raise TuneError(
                            f"{type(self._scheduler).__name__}.choose_trial_to_run() chose none of the "
                            f"{len(self._waiting)} waiting trials while none runs: the experiment cannot go on"
                        )
                    if not self._waiting and not self._searcher_finished:
                        raise TuneError(
                            f"{type(self._searcher).__name__}.suggest() answered None (ask later) while no "
                            "trial runs: nothing can ever change its answer"
                        )
                    if self._waiting:
                        logger.info("%d waiting trials were not chosen to run again; ending them", len(self._waiting))
                        self._end_waiting_trials()
                    break
                for event in self._executor.poll(_POLL_TIMEOUT_S):
                    self._handle(event)
                self._notify("on_step_end")
        finally:
            self._executor.shutdown()
        for callback in self._callbacks:
            callback.on_experiment_end(self._trials)
        return [self._result(trial) for trial in self._trials]

    # -- starting trials ---------------------------------------------------------------------

    def _fill_slots(self) -> None:
        while self._max_concurrent is None or len(self._running) < self._max_concurrent:
            if not self._executor.can_start(self._resources):
                return
            trial = self._next_up or self._choose_or_create()
            if trial is None:
                return
            if not self._executor.can_start(trial.resources):
                self._next_up = trial  # chosen, but it needs more than is free now: it goes first later
                return
            self._next_up = None
            self._start(trial)

    def _choose_or_create(self) -> Trial | None:
        trial = self._choose() if self._waiting else None
        if trial is None:
            # The scheduler wants none of the waiting trials now: offer it one new trial, then ask
            # again (if there is none, the scheduler has just heard so and may release waiting ones).
            self._create_trial()
            trial = self._choose() if self._waiting else None
        return trial

    def _choose(self) -> Trial | None:
        return self._scheduler.choose_trial_to_run(list(self._waiting.values()))

    def _create_trial(self) -> bool:
        if self._searcher_finished:
            return False
        if self._max_trials is not None and len(self._trials) >= self._max_trials:
            self._no_more_trials()
            return False
        trial_id = self._next_trial_id()
        suggestion = self._searcher.suggest(trial_id)
        if suggestion == FINISHED:
            self._no_more_trials()
            return False
        if suggestion is None:
            return False
        assert isinstance(suggestion, dict)
        self._executor.check_feasible(trial_id, self._resources)
        trial = Trial(trial_id=trial_id, config=suggestion, resources=self._resources)
        self._name(trial)
        self._trials.append(trial)
        self._by_id[trial_id] = trial
        self._history[trial_id] = []
        self._waiting[trial_id] = trial
        self._scheduler.on_trial_add(trial)
        return True

    def _no_more_trials(self) -> None:
        self._searcher_finished = True
        self._scheduler.on_no_more_trials()
        self._carry_out_other_decisions()

    def _carry_out_other_decisions(self) -> None:
        """Apply what the scheduler decided about trials other than the one it was asked about."""
        for trial_id, decision in self._scheduler.pop_decisions():
            trial = self._by_id[trial_id]
            running = trial_id in self._running and trial_id not in self._stopping
            if trial_id in self._waiting:
                if isinstance(decision, (Exploit, ChangeResources)):
                    self._check_restart(trial, decision)
                    self._carry_out_restart(trial, decision)
                elif decision is Decision.STOP:
                    del self._waiting[trial_id]
                    self._terminate(trial, tell_scheduler=False)
            elif running and decision is not Decision.CONTINUE:
                if isinstance(decision, (Exploit, ChangeResources)):
                    self._plan_restart(trial, decision)
                (self._stopping if decision is Decision.STOP else self._pausing).add(trial_id)
                self._executor.stop(trial_id)

    def _next_trial_id(self) -> str:
        return f"{self._id_prefix}_{len(self._trials):05d}"

    def _start(self, trial: Trial) -> None:
        del self._waiting[trial.trial_id]
        resume_point = self._resume_points.get(trial.trial_id, {})
        trial.set_status(TrialStatus.RUNNING)
        self._running.add(trial.trial_id)
        launch = TrialLaunch(
            trial_id=trial.trial_id,
            config=dict(trial.config),
            context=TrialContext(
                trial_id=trial.trial_id,
                trial_name=self._names[trial.trial_id],
                trial_dir=str(self._trial_dir(trial)),
                experiment_name=self._experiment_name,
                resources=trial.resources,
            ),
            checkpoint=trial.checkpoint,
            start_iteration=int(resume_point.get(result_keys.TRAINING_ITERATION, 0)),
            time_offset_s=float(resume_point.get(result_keys.TIME_TOTAL_S, 0.0)),
            decision_points=self._decision_points,
        )
        self._trial_dir(trial).mkdir(parents=True, exist_ok=True)
        self._executor.start(launch, trial.resources)
        self._notify("on_trial_start", trial=trial)
        if trial.checkpoint is not None:
            self._notify("on_trial_restore", trial=trial)

    def _trial_dir(self, trial: Trial) -> Path:
        return self._trial_dirs[trial.trial_id]

    def _name(self, trial: Trial) -> None:
        """Name the trial and its directory, once, with the user's creators if given."""
        default = f"{self._trainable_name}_{trial.trial_id}"
        self._names[trial.trial_id] = self._name_creator(trial) if self._name_creator else default
        dirname = self._dirname_creator(trial) if self._dirname_creator else default
        if not dirname or "/" in dirname or "\\" in dirname or dirname in (".", ".."):
            raise ValueError(f"trial_dirname_creator gave {dirname!r} for trial {trial.trial_id}: not a directory name")
        self._trial_dirs[trial.trial_id] = self._experiment_dir / dirname

    # -- handling events ---------------------------------------------------------------------

    def _handle(self, event: TrialEvent) -> None:
        trial = self._by_id[event.trial_id]
        if isinstance(event, TrialReported):
            self._on_result(trial, event)
        else:
            self._on_ended(trial, event)

    def _on_result(self, trial: Trial, event: TrialReported) -> None:
        result = event.result
        trial.last_result = result
        if event.checkpoint is not None:
            trial.checkpoint = event.checkpoint
            self._checkpoints.add(trial.trial_id, event.checkpoint, result)
            self._resume_points[trial.trial_id] = result
        self._history[trial.trial_id].append(result)
        if event.checkpoint is not None:
            self._notify("on_checkpoint", trial=trial, checkpoint=event.checkpoint)
            self._notify("on_trial_save", trial=trial)
        if trial.trial_id in self._stopping or trial.trial_id in self._pausing:
            # Reported after the decision to end it: kept, but no longer decided upon.
            self._notify("on_trial_result", trial=trial, result=result)
            if event.awaits_decision:
                self._executor.decide(trial.trial_id, Decision.STOP)
            return
        action = self._scheduler.on_trial_result(trial, result)
        self._carry_out_other_decisions()
        self._searcher.on_trial_result(trial.trial_id, result)
        self._notify("on_trial_result", trial=trial, result=result)
        decision = action if isinstance(action, Decision) else self._plan_restart(trial, action)
        if self._stopper(trial.trial_id, result):
            self._restarts.pop(trial.trial_id, None)
            self._stopping.add(trial.trial_id)
            self._scheduler.on_trial_remove(trial)
            self._carry_out_other_decisions()
            decision = Decision.STOP
        elif decision is Decision.STOP:
            self._stopping.add(trial.trial_id)
        elif decision is Decision.PAUSE:
            self._pausing.add(trial.trial_id)
        if event.awaits_decision:
            self._executor.decide(trial.trial_id, decision)
        elif decision is not Decision.CONTINUE:
            self._executor.stop(trial.trial_id)

    def _plan_restart(self, trial: Trial, request: Exploit | ChangeResources) -> Decision:
        """Pause ``trial`` now; once its run has ended, it restarts as ``request`` says."""
        self._check_restart(trial, request)
        self._restarts[trial.trial_id] = request
        return Decision.PAUSE

    def _check_restart(self, trial: Trial, request: Exploit | ChangeResources) -> None:
        """Refuse, at the first request, what cannot work: no checkpoint to restart from, or
        resources the executor can never provide."""
        scheduler = type(self._scheduler).__name__
        if isinstance(request, ChangeResources):
            self._executor.check_feasible(trial.trial_id, request.resources)
            if trial.checkpoint is None:
                raise TuneError(
                    f"{scheduler} asked to restart trial {trial.trial_id} with other resources, but it has "
                    f"reported no checkpoint: {_NEEDS_CHECKPOINTS}"
                )
            return
        source = self._by_id[request.source_trial_id]
        if source.checkpoint is None:
            raise TuneError(
                f"{scheduler} asked trial {trial.trial_id} to exploit trial {source.trial_id}, which has reported "
                f"no checkpoint: {_NEEDS_CHECKPOINTS}"
            )

    def _carry_out_restart(self, trial: Trial, request: Exploit | ChangeResources) -> None:
        if isinstance(request, ChangeResources):
            trial.resources = request.resources
            logger.info("Trial %s restarts with %s", trial.trial_id, request.resources.as_dict())
            return
        source = self._by_id[request.source_trial_id]
        trial.config = dict(request.config)
        trial.checkpoint = source.checkpoint
        if source.checkpoint is not None:
            self._checkpoints.pin(source.checkpoint)
        self._resume_points[trial.trial_id] = self._resume_points[source.trial_id]
        logger.info("Trial %s exploits trial %s with config %s", trial.trial_id, source.trial_id, trial.config)

    def _on_ended(self, trial: Trial, event: TrialEnded) -> None:
        trial_id = trial.trial_id
        self._running.discard(trial_id)
        stopped_by_us = trial_id in self._stopping
        self._stopping.discard(trial_id)
        if event.error is not None:
            self._on_failure(trial, event.error, event.exception)
        elif trial_id in self._pausing:
            self._pausing.discard(trial_id)
            request = self._restarts.pop(trial_id, None)
            if request is not None:
                self._carry_out_restart(trial, request)
            trial.set_status(TrialStatus.PAUSED)
            self._waiting[trial_id] = trial
        else:
            self._terminate(trial, tell_scheduler=not stopped_by_us)

    def _terminate(self, trial: Trial, tell_scheduler: bool) -> None:
        """A trial is done for good without error: tell the scheduler, the searcher and the callbacks."""
        trial.set_status(TrialStatus.TERMINATED)
        if tell_scheduler:
            self._scheduler.on_trial_complete(trial, trial.last_result)
        self._searcher.on_trial_complete(trial.trial_id, trial.last_result)
        self._notify("on_trial_complete", trial=trial)

    def _end_waiting_trials(self) -> None:
        """Terminate the trials still waiting: they were not started, or not resumed, and never will be."""
        for trial_id in list(self._waiting):
            trial = self._waiting.pop(trial_id)
            self._scheduler.on_trial_remove(trial)
            self._terminate(trial, tell_scheduler=False)
        self._carry_out_other_decisions()

    def _on_failure(self, trial: Trial, error: str, exception: BaseException | None = None) -> None:
        trial.num_failures += 1
        self._pausing.discard(trial.trial_id)
        self._restarts.pop(trial.trial_id, None)
        allowed = self._failure_config.max_failures
        if not self._failure_config.fail_fast and (allowed < 0 or trial.num_failures <= allowed):
            logger.warning(
                "Trial %s failed (failure %d); retrying from %s:\n%s",
                trial.trial_id,
                trial.num_failures,
                trial.checkpoint or "the start",
                error,
            )
            trial.set_status(TrialStatus.PENDING)
            self._waiting[trial.trial_id] = trial
            self._notify("on_trial_recover", trial=trial)
            return
        trial.error = error
        trial.set_status(TrialStatus.ERROR)
        self._scheduler.on_trial_error(trial)
        self._carry_out_other_decisions()
        self._searcher.on_trial_complete(trial.trial_id, trial.last_result, error=True)
        self._notify("on_trial_error", trial=trial)
        if self._failure_config.fail_fast == "raise":
            # Ray Tune's debugging mode: the trainable's own exception reaches the caller of fit().
            raise exception or TuneError(f"Trial {trial.trial_id} failed (fail_fast='raise'):\n{error}")
        if self._failure_config.fail_fast:
            self._end_experiment(f"trial {trial.trial_id} failed and fail_fast is set")

    def _end_experiment(self, reason: str) -> None:
        """Stop every running trial and start no new one."""
        logger.info("Ending the experiment: %s", reason)
        self._searcher_finished = True
        self._end_waiting_trials()
        for trial_id in self._running - self._stopping:
            self._stopping.add(trial_id)
            self._pausing.discard(trial_id)
            self._restarts.pop(trial_id, None)
            self._executor.stop(trial_id)

    # -- helpers -----------------------------------------------------------------------------

    def _notify(self, hook: str, **kwargs: Any) -> None:
        trial = kwargs.get("trial")
        if trial is not None:
            kwargs["trial_dir"] = self._trial_dir(trial)
        for callback in self._callbacks:
            getattr(callback, hook)(self._iteration, self._trials, **kwargs)

    def _result(self, trial: Trial) -> Result:
        return Result(
            trial_id=trial.trial_id,
            config=dict(trial.config),
            metrics=dict(trial.last_result or {}),
            path=str(self._trial_dir(trial)),
            checkpoint=trial.checkpoint,
            best_checkpoints=self._checkpoints.best(trial.trial_id),
            error=trial.error,
            status=trial.status,
            metrics_history=tuple(self._history[trial.trial_id]),
        )


def _decision_points(milestones: Collection[int] | None, stops: Collection[int] | None) -> frozenset[int] | None:
    """Iterations at which a trial must wait for the driver: where the scheduler may decide, and where
    the stopper may stop it. ``None`` from either means every result waits (the trial then stops
    exactly where the condition says, as in Ray Tune, instead of running ahead of it)."""
    if milestones is None or stops is None:
        return None
    return frozenset(milestones) | frozenset(stops)
