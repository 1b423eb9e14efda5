"""The driver loop: ask the searcher, obey the scheduler, drive the executor, keep every result."""

from __future__ import annotations

import functools
import json
import logging
import shutil
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from tune_controller._callback import Callback
from tune_controller._checkpoints import CheckpointKeeper
from tune_controller._config import CheckpointConfig, FailureConfig
from tune_controller._events import TrialCheckpointed, TrialEnded, TrialEvent, TrialReported
from tune_controller._executor import Executor
from tune_controller._journal import (
    ExperimentState,
    JournalReader,
    JournalWriter,
    decode_config,
    encode_config,
)
from tune_controller._result_grid import Result
from tune_controller._session import TrialLaunch
from tune_controller._stoppers import Stopper
from tune_controller._storage import ExperimentStorage, ExperimentSyncer
from tune_controller._wrappers import ResourceRequest, resources_for
from tune_schedulers import TrialScheduler
from tune_search import FINISHED, Searcher
from tune_trial import (
    ChangeResources,
    Checkpoint,
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
_SNAPSHOT_SHARE = 0.05
"""At most this share of the loop's time goes to snapshotting the searcher's and scheduler's state."""
_NEEDS_CHECKPOINTS = (
    "this scheduler needs a trainable that saves checkpoints "
    "(tune.report(metrics, checkpoint=Checkpoint.from_directory(...)))"
)


class TuneController:
    """Runs one experiment to its end and returns one :class:`Result` per trial.

    Per event the loop does constant work: trials are looked up by id, and only the few waiting
    trials (created on demand, when a slot is free) are offered to the scheduler.

    Durability: every record of a loop turn goes to the journal, and the journal is committed,
    before the controller tells any trial what to do (answers, stops, checkpoint deletions wait in
    an outbox until then). Per trial the controller keeps its last result and a few numbers; every
    result is in the journal, where the ResultGrid reads it back.
    """

    def __init__(
        self,
        *,
        storage: ExperimentStorage,
        experiment_name: str,
        trainable_name: str,
        executor: Executor,
        searcher: Searcher,
        scheduler: TrialScheduler,
        max_trials: int | None,
        resources: ResourceRequest,
        max_concurrent_trials: int | None,
        time_budget_s: float | None,
        stopper: Stopper,
        trial_name_creator: Callable[[Trial], str] | None = None,
        trial_dirname_creator: Callable[[Trial], str] | None = None,
        failure_config: FailureConfig,
        checkpoint_config: CheckpointConfig,
        callbacks: Sequence[Callback],
        journal: JournalWriter,
        id_prefix: str,
        syncer: ExperimentSyncer | None = None,
    ) -> None:
        self._storage = storage
        self._syncer = syncer
        self._experiment_dir = storage.local_dir
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
        self._checkpoint_config = checkpoint_config
        self._checkpoints = CheckpointKeeper(checkpoint_config)
        self._callbacks = list(callbacks)
        self._trials: list[Trial] = []
        self._by_id: dict[str, Trial] = {}
        # Per trial, the result that came with its latest checkpoint: where a restart resumes.
        self._resume_points: dict[str, dict[str, Any]] = {}
        # Per trial, the number its next run's first checkpoint directory gets (TrialLaunch.checkpoint_index).
        self._checkpoint_indices: dict[str, int] = {}
        self._waiting: dict[str, Trial] = {}
        self._next_up: Trial | None = None  # chosen by the scheduler, waiting for resources to free up
        self._running: set[str] = set()
        self._pausing: set[str] = set()
        # Trials pausing to restart differently: from another's checkpoint, or with other resources.
        self._restarts: dict[str, Exploit | ChangeResources] = {}
        self._stopping: set[str] = set()
        self._uploading: dict[str, int] = {}  # per trial, checkpoints reported but not in remote storage yet
        # Paused trials whose exploit waits for the source's first checkpoint to reach the storage, by source.
        self._exploits_waiting: dict[str, list[tuple[Trial, Exploit]]] = {}
        self._searcher_finished = False
        self._id_prefix = id_prefix
        self._iteration = 0
        self._journal = journal
        self._outbox: list[Callable[[], None]] = []  # what to tell executors once the journal is committed
        self._snapshot_due = 0.0  # monotonic time of the next allowed snapshot
        self._reader = JournalReader(storage, checkpoint_config)

    # -- restoring ---------------------------------------------------------------------------

    def restore(
        self, state: ExperimentState, *, resume_unfinished: bool, resume_errored: bool, restart_errored: bool
    ) -> None:
        """Continue the experiment ``state`` was read from: trials as the journal left them, the
        searcher and the scheduler as they were at its last commit."""
        self._checkpoints = state.checkpoints
        for entry in state.trials.values():
            trial = entry.trial
            self._trials.append(trial)
            self._by_id[trial.trial_id] = trial
            self._names[trial.trial_id] = entry.name
            self._trial_dirs[trial.trial_id] = self._experiment_dir / entry.dirname
            if entry.resume_point:
                self._resume_points[trial.trial_id] = entry.resume_point
            self._checkpoint_indices[trial.trial_id] = entry.next_checkpoint_index
        self._searcher_finished = state.searcher_finished
        if state.snapshot is not None:
            self._searcher.set_state(state.snapshot["searcher"])
            self._scheduler.set_state(state.snapshot["scheduler"])
        self._replay(state.tail)
        for trial in self._trials:
            if not trial.status.is_finished:
                self._scheduler.on_trial_add(trial)  # the restore protocol: known trials change nothing
                if resume_unfinished:
                    self._requeue(trial, state.trials[trial.trial_id].ending)
                else:
                    self._scheduler_hook("remove", trial)
                    self._terminate(trial, tell_scheduler=False)
            elif trial.status is TrialStatus.ERROR and (resume_errored or restart_errored):
                if restart_errored:
                    self._journal.append({"t": "reset", "id": trial.trial_id})
                    trial.checkpoint = trial.last_result = None
                    self._resume_points.pop(trial.trial_id, None)
                    self._checkpoints.forget(trial.trial_id)
                trial.error = None
                self._set_status(trial, TrialStatus.PENDING)
                self._waiting[trial.trial_id] = trial
                self._scheduler.on_trial_add(trial)
        self._journal.commit()

    def _requeue(self, trial: Trial, ending: Mapping[str, Any] | None) -> None:
        """A trial that was running, pausing or waiting when the driver died waits to run again,
        unless it was being stopped; one being paused is paused, with its pending restart done."""
        if trial.status is TrialStatus.RUNNING and ending is not None and ending["d"] == Decision.STOP.value:
            self._terminate(trial, tell_scheduler=False)
            return
        if trial.status is TrialStatus.RUNNING and ending is not None:
            if "exploit" in ending:
                self._carry_out_restart(trial, Exploit(ending["exploit"]["source"], decode_config(ending["exploit"])))
            elif "resources" in ending:
                self._carry_out_restart(trial, ChangeResources(Resources.from_json(ending["resources"])))
            self._set_status(trial, TrialStatus.PAUSED)
        elif trial.status is TrialStatus.RUNNING:
            self._set_status(trial, TrialStatus.PENDING)
        self._waiting[trial.trial_id] = trial

    def _replay(self, records: Sequence[dict[str, Any]]) -> None:
        """Feed the searcher and the scheduler what they heard after their last snapshot, in order.

        Their answers are not acted on again: what the controller did about them is in the journal.
        """
        last: dict[str, Mapping[str, Any] | None] = {}
        for record in records:
            kind = record["t"]
            trial = self._by_id.get(record.get("id", ""))
            if kind == "trial" and trial is not None:
                self._searcher.suggest(trial.trial_id)
                self._scheduler.on_trial_add(trial)
            elif kind == "result" and trial is not None:
                last[trial.trial_id] = record["r"]
                if record["d"]:
                    self._scheduler.on_trial_result(trial, record["r"])
                    self._scheduler.pop_decisions()
                    self._searcher.on_trial_result(trial.trial_id, record["r"])
            elif kind == "hook" and trial is not None:
                _call_hook(self._scheduler, record["h"], trial, last.get(trial.trial_id, trial.last_result))
            elif kind == "status" and trial is not None and record["s"] in ("TERMINATED", "ERROR"):
                final = last.get(trial.trial_id, trial.last_result)
                self._searcher.on_trial_complete(trial.trial_id, final, error=record["s"] == "ERROR")
            elif kind == "no_more" and record["scheduler"]:
                self._scheduler.on_no_more_trials()
                self._scheduler.pop_decisions()

    def run(self) -> list[Result]:
        started = time.monotonic()
        self._decision_points = _decision_points(self._scheduler.milestones(), self._stopper.decision_points())
        if isinstance(self._resources, Resources):  # before any trial starts (per trial when config-dependent)
            self._executor.check_feasible(self._next_trial_id(), self._resources)
        self._snapshot()
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
                self._commit()  # before waiting: stops decided while filling slots go out now
                for event in self._executor.poll(_POLL_TIMEOUT_S):
                    self._handle(event)
                self._commit()
                self._notify("on_step_end")
        finally:
            try:
                self._commit()
                self._snapshot()
            finally:
                self._journal.close()
                self._executor.shutdown()
        for callback in self._callbacks:
            callback.on_experiment_end(self._trials)
        return [self._result(trial) for trial in self._trials]

    # -- starting trials ---------------------------------------------------------------------

    def _fill_slots(self) -> None:
        while self._max_concurrent is None or len(self._running) < self._max_concurrent:
            if isinstance(self._resources, Resources) and not self._executor.can_start(self._resources):
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
        resources = resources_for(self._resources, trial_id, suggestion)
        self._executor.check_feasible(trial_id, resources)
        trial = Trial(trial_id=trial_id, config=suggestion, resources=resources)
        self._name(trial)
        self._journal.append(
            {
                "t": "trial",
                "id": trial_id,
                **encode_config(suggestion),
                "resources": trial.resources.to_json(),
                "name": self._names[trial_id],
                "dir": self._trial_dirs[trial_id].name,
            }
        )
        self._trials.append(trial)
        self._by_id[trial_id] = trial
        self._waiting[trial_id] = trial
        self._scheduler.on_trial_add(trial)
        return True

    def _no_more_trials(self) -> None:
        self._searcher_finished = True
        self._journal.append({"t": "no_more", "scheduler": True})
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
                    if not self._carry_out_restart(trial, decision):
                        del self._waiting[trial_id]
                elif decision is Decision.STOP:
                    del self._waiting[trial_id]
                    self._terminate(trial, tell_scheduler=False)
            elif running and decision is not Decision.CONTINUE:
                if isinstance(decision, (Exploit, ChangeResources)):
                    self._plan_restart(trial, decision)
                self._mark(trial_id, Decision.STOP if decision is Decision.STOP else Decision.PAUSE)
                self._stop(trial_id)

    def _next_trial_id(self) -> str:
        return f"{self._id_prefix}_{len(self._trials):05d}"

    def _start(self, trial: Trial) -> None:
        del self._waiting[trial.trial_id]
        resume_point = self._resume_points.get(trial.trial_id, {})
        self._set_status(trial, TrialStatus.RUNNING)
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
            storage=self._storage.remote,
            start_iteration=int(resume_point.get(result_keys.TRAINING_ITERATION, 0)),
            time_offset_s=float(resume_point.get(result_keys.TIME_TOTAL_S, 0.0)),
            decision_points=self._decision_points,
            checkpoint_index=self._checkpoint_indices.get(trial.trial_id, 0),
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
        elif isinstance(event, TrialCheckpointed):
            self._on_checkpointed(trial, event)
        else:
            self._on_ended(trial, event)

    def _on_result(self, trial: Trial, event: TrialReported) -> None:
        result = event.result
        decided = trial.trial_id not in self._stopping and trial.trial_id not in self._pausing
        record: dict[str, Any] = {"t": "result", "id": trial.trial_id, "r": result, "d": decided}
        trial.last_result = result
        if event.checkpoint is not None:
            record["ckpt"] = self._storage.relative(event.checkpoint)
        self._journal.append(record)
        if event.uploading:
            self._uploading[trial.trial_id] = self._uploading.get(trial.trial_id, 0) + 1
        if event.checkpoint is not None or event.uploading:
            # The session numbers its checkpoints one by one from the launch's index; one whose upload is
            # lost keeps its number too (the next run may not write into what it left).
            self._checkpoint_indices[trial.trial_id] = self._checkpoint_indices.get(trial.trial_id, 0) + 1
        if event.checkpoint is not None:
            self._register_checkpoint(trial, event.checkpoint, result)
        if trial.trial_id in self._stopping or trial.trial_id in self._pausing:
            # Reported after the decision to end it: kept, but no longer decided upon.
            self._notify("on_trial_result", trial=trial, result=result)
            if event.awaits_decision:
                self._decide(trial.trial_id, Decision.STOP)
            return
        action = self._scheduler.on_trial_result(trial, result)
        self._carry_out_other_decisions()
        self._searcher.on_trial_result(trial.trial_id, result)
        self._notify("on_trial_result", trial=trial, result=result)
        decision = action if isinstance(action, Decision) else self._plan_restart(trial, action)
        if self._stopper(trial.trial_id, result):
            self._restarts.pop(trial.trial_id, None)
            self._mark(trial.trial_id, Decision.STOP)
            self._scheduler_hook("remove", trial)
            self._carry_out_other_decisions()
            decision = Decision.STOP
        elif decision is not Decision.CONTINUE:
            self._mark(trial.trial_id, decision)
        if event.awaits_decision:
            self._decide(trial.trial_id, decision)
        elif decision is not Decision.CONTINUE:
            self._stop(trial.trial_id)

    def _on_checkpointed(self, trial: Trial, event: TrialCheckpointed) -> None:
        """A checkpoint reached remote storage: from now on a retry or a restore may rely on it."""
        self._uploading[trial.trial_id] = self._uploading.get(trial.trial_id, 1) - 1
        self._journal.append({"t": "ckpt", "id": trial.trial_id, "path": event.path, "r": event.result})
        self._register_checkpoint(trial, self._storage.checkpoint(event.path), event.result)
        self._carry_out_waiting_exploits(trial.trial_id)

    def _register_checkpoint(self, trial: Trial, checkpoint: Checkpoint, result: dict[str, Any]) -> None:
        """``checkpoint`` (journaled with ``result``) is where the trial resumes from now; older ones
        beyond ``num_to_keep`` are deleted once the journal says so."""
        trial.checkpoint = checkpoint
        for path in self._checkpoints.add(trial.trial_id, checkpoint, result):
            deleted = self._storage.relative(Checkpoint(path, remote=checkpoint.remote))
            self._journal.append({"t": "ckpt_del", "id": trial.trial_id, "path": deleted})
            if self._syncer is not None:
                self._outbox.append(functools.partial(self._syncer.delete_later, deleted))
            else:
                self._outbox.append(functools.partial(shutil.rmtree, path, ignore_errors=True))
        self._resume_points[trial.trial_id] = result
        self._notify("on_checkpoint", trial=trial, checkpoint=checkpoint)
        self._notify("on_trial_save", trial=trial)

    def _has_checkpoint(self, trial: Trial) -> bool:
        """Whether the trial has a checkpoint, or one on its way to remote storage."""
        return trial.checkpoint is not None or self._uploading.get(trial.trial_id, 0) > 0

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
            if not self._has_checkpoint(trial):
                raise TuneError(
                    f"{scheduler} asked to restart trial {trial.trial_id} with other resources, but it has "
                    f"reported no checkpoint: {_NEEDS_CHECKPOINTS}"
                )
            return
        source = self._by_id[request.source_trial_id]
        if not self._has_checkpoint(source):
            raise TuneError(
                f"{scheduler} asked trial {trial.trial_id} to exploit trial {source.trial_id}, which has reported "
                f"no checkpoint: {_NEEDS_CHECKPOINTS}"
            )

    def _carry_out_restart(self, trial: Trial, request: Exploit | ChangeResources) -> bool:
        """Set the paused ``trial`` up to restart as asked; False when the exploit has to wait for the
        source's first checkpoint, still uploading (the trial may not run until then)."""
        if isinstance(request, ChangeResources):
            trial.resources = request.resources
            self._journal.append({"t": "restart", "id": trial.trial_id, "resources": request.resources.to_json()})
            logger.info("Trial %s restarts with %s", trial.trial_id, request.resources.as_dict())
            return True
        source = self._by_id[request.source_trial_id]
        if source.checkpoint is None:
            if self._uploading.get(source.trial_id, 0) > 0:
                self._exploits_waiting.setdefault(source.trial_id, []).append((trial, request))
                return False
            # Its upload failed, or its process died, since the request was checked.
            logger.warning(
                "Trial %s does not exploit trial %s: its checkpoint never reached the storage",
                trial.trial_id,
                source.trial_id,
            )
            return True
        trial.config = dict(request.config)
        trial.checkpoint = source.checkpoint
        self._checkpoints.pin(source.checkpoint)
        self._resume_points[trial.trial_id] = self._resume_points[source.trial_id]
        self._journal.append(
            {
                "t": "restart",
                "id": trial.trial_id,
                **encode_config(trial.config),
                "ckpt": self._storage.relative(source.checkpoint),
                "resume": self._resume_points[trial.trial_id],
            }
        )
        logger.info("Trial %s exploits trial %s with config %s", trial.trial_id, source.trial_id, trial.config)
        return True

    def _carry_out_waiting_exploits(self, source_id: str) -> None:
        """The source has a checkpoint in the storage now, or never will: the trials waiting to
        exploit it restart (from it, or as they were) and may run again."""
        for trial, request in self._exploits_waiting.pop(source_id, []):
            if self._carry_out_restart(trial, request):
                self._waiting[trial.trial_id] = trial

    def _on_ended(self, trial: Trial, event: TrialEnded) -> None:
        trial_id = trial.trial_id
        self._running.discard(trial_id)
        self._uploading.pop(trial_id, None)  # the session waits for its uploads; a dead actor's are lost
        stopped_by_us = trial_id in self._stopping
        self._stopping.discard(trial_id)
        if event.error is not None:
            self._on_failure(trial, event.error, event.exception)
        elif trial_id in self._pausing:
            self._pausing.discard(trial_id)
            request = self._restarts.pop(trial_id, None)
            may_run = request is None or self._carry_out_restart(trial, request)
            self._set_status(trial, TrialStatus.PAUSED)
            if may_run:
                self._waiting[trial_id] = trial
        else:
            self._terminate(trial, tell_scheduler=not stopped_by_us)
        self._carry_out_waiting_exploits(trial_id)

    def _terminate(self, trial: Trial, tell_scheduler: bool) -> None:
        """A trial is done for good without error: tell the scheduler, the searcher and the callbacks."""
        self._set_status(trial, TrialStatus.TERMINATED)
        if tell_scheduler:
            self._scheduler_hook("complete", trial)
        self._searcher.on_trial_complete(trial.trial_id, trial.last_result)
        self._notify("on_trial_complete", trial=trial)

    def _end_waiting_trials(self) -> None:
        """Terminate the trials still waiting: they were not started, or not resumed, and never will be."""
        for trial_id in list(self._waiting):
            trial = self._waiting.pop(trial_id)
            self._scheduler_hook("remove", trial)
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
            self._set_status(trial, TrialStatus.PENDING, failures=trial.num_failures)
            self._waiting[trial.trial_id] = trial
            self._notify("on_trial_recover", trial=trial)
            return
        trial.error = error
        self._set_status(trial, TrialStatus.ERROR, failures=trial.num_failures, error=error)
        self._scheduler_hook("error", trial)
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
        if not self._searcher_finished:
            self._journal.append({"t": "no_more", "scheduler": False})
        self._searcher_finished = True
        self._end_waiting_trials()
        for trial_id in self._running - self._stopping:
            self._pausing.discard(trial_id)
            self._restarts.pop(trial_id, None)
            self._mark(trial_id, Decision.STOP)
            self._stop(trial_id)

    # -- journal and outbox ------------------------------------------------------------------

    def _set_status(self, trial: Trial, status: TrialStatus, **details: Any) -> None:
        trial.set_status(status)
        self._journal.append({"t": "status", "id": trial.trial_id, "s": status.value, **details})

    def _mark(self, trial_id: str, decision: Decision) -> None:
        """A running trial is to stop or pause once its run ends; journaled, so that a restore ends
        it (or pauses it, with its pending restart) instead of letting it run on."""
        (self._stopping if decision is Decision.STOP else self._pausing).add(trial_id)
        record: dict[str, Any] = {"t": "ending", "id": trial_id, "d": decision.value}
        request = self._restarts.get(trial_id)
        if isinstance(request, Exploit):
            record["exploit"] = {"source": request.source_trial_id, **encode_config(request.config)}
        elif isinstance(request, ChangeResources):
            record["resources"] = request.resources.to_json()
        self._journal.append(record)

    def _scheduler_hook(self, hook: str, trial: Trial) -> None:
        """Tell the scheduler a trial is over, and journal it so a restore can replay it."""
        self._journal.append({"t": "hook", "id": trial.trial_id, "h": hook})
        _call_hook(self._scheduler, hook, trial, trial.last_result)

    def _decide(self, trial_id: str, decision: Decision) -> None:
        self._outbox.append(lambda: self._executor.decide(trial_id, decision))

    def _stop(self, trial_id: str) -> None:
        self._outbox.append(lambda: self._executor.stop(trial_id))

    def _commit(self) -> None:
        """Make the turn's records durable, then carry out what waited for them."""
        if self._journal.commit() and time.monotonic() >= self._snapshot_due:
            self._snapshot()
        outbox, self._outbox = self._outbox, []
        for action in outbox:
            action()

    def _snapshot(self) -> None:
        """Write the searcher's and the scheduler's state, rarely enough that its cost, which grows
        with the number of trials (ASHA's rungs), stays a small share of the loop's time."""
        started = time.monotonic()
        states = {"searcher": self._searcher.get_state(), "scheduler": self._scheduler.get_state()}
        try:
            self._journal.snapshot(states)
        except (TypeError, ValueError) as error:  # the first snapshot is taken before any trial starts
            owner = self._searcher if "searcher" in _unserializable(states) else self._scheduler
            raise TuneError(
                f"{type(owner).__name__}.get_state() must return JSON-able data (the experiment's journal "
                f"keeps it for Tuner.restore): {error}"
            ) from error
        finished = time.monotonic()
        self._snapshot_due = finished + (finished - started) * (1 - _SNAPSHOT_SHARE) / _SNAPSHOT_SHARE

    # -- helpers -----------------------------------------------------------------------------

    def _notify(self, hook: str, **kwargs: Any) -> None:
        trial = kwargs.get("trial")
        if trial is not None:
            kwargs["trial_dir"] = self._trial_dir(trial)
            kwargs["trial_name"] = self._names[trial.trial_id]
        for callback in self._callbacks:
            getattr(callback, hook)(self._iteration, self._trials, **kwargs)

    def _result(self, trial: Trial) -> Result:
        return Result.of(
            trial, self._storage.trial_path(self._trial_dir(trial).name), self._reader, self._storage.filesystem
        )


def _decision_points(milestones: Collection[int] | None, stops: Collection[int] | None) -> frozenset[int] | None:
    """Iterations at which a trial must wait for the driver: where the scheduler may decide, and where
    the stopper may stop it. ``None`` from either means every result waits (the trial then stops
    exactly where the condition says, as in Ray Tune, instead of running ahead of it)."""
    if milestones is None or stops is None:
        return None
    return frozenset(milestones) | frozenset(stops)


def _unserializable(states: Mapping[str, Any]) -> list[str]:
    names = []
    for name, state in states.items():
        try:
            json.dumps(state)
        except (TypeError, ValueError):
            names.append(name)
    return names


def _call_hook(scheduler: TrialScheduler, hook: str, trial: Trial, last_result: Mapping[str, Any] | None) -> None:
    if hook == "complete":
        scheduler.on_trial_complete(trial, last_result)
    elif hook == "error":
        scheduler.on_trial_error(trial)
    else:
        scheduler.on_trial_remove(trial)
