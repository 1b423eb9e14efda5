"""The in-trial session both executors use: it turns ``report`` calls into events.

The trial runs in its own thread (in this process, or inside a Ray actor). Each ``report`` appends
an event to a bounded buffer that the executor drains in batches. The trial blocks only when a
decision about it is due (the scheduler declared this iteration a milestone) or the buffer is full.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

from tune_controller._events import TrialCheckpointed, TrialEnded, TrialEvent, TrialReported
from tune_controller._storage import CheckpointUploader, RemoteStorage, checkpoint_dirname
from tune_trial import Checkpoint, Decision, TrialContext, bind_session, result_keys

_SESSION_KEYS = result_keys.AUTO_FILLED_KEYS - {result_keys.DONE}
"""Keys ``report`` fills in, which a trial may not report itself (``done`` it may)."""


class TrialStopped(BaseException):
    """Unwinds a trial's code after it was told to stop or pause.

    A ``BaseException`` so that a trainable's ``except Exception`` does not swallow it.
    """


@dataclass(frozen=True)
class TrialLaunch:
    """Everything an executor needs to start (or resume) one trial."""

    trial_id: str
    config: dict[str, Any]
    context: TrialContext
    checkpoint: Checkpoint | None = None
    start_iteration: int = 0
    time_offset_s: float = 0.0
    decision_points: Collection[int] | None = None
    """Iterations at which the trial waits for a decision; ``None`` waits at every one."""
    storage: RemoteStorage | None = None
    """The experiment's remote storage, where checkpoints are uploaded; None when ``trial_dir`` is
    the storage itself."""
    checkpoint_index: int = 0
    """The number the run's first checkpoint directory gets (then one more for each): past every
    number the trial used before, so a restart from an earlier iteration never writes into an old
    checkpoint."""


class TrialRunSession:
    """Implements :class:`tune_trial.TrialSession` for one run of one trial."""

    def __init__(
        self,
        launch: TrialLaunch,
        max_buffered: int = 256,
        on_event: Callable[[], None] | None = None,
    ) -> None:
        self._launch = launch
        self._decision_points = None if launch.decision_points is None else frozenset(launch.decision_points)
        self._max_buffered = max_buffered
        self._on_event = on_event
        self._condition = threading.Condition()
        self._events: list[TrialEvent] = []
        self._verdict: Decision | None = None
        self._stop_requested = False
        self._ended = False
        self._iteration = launch.start_iteration
        self._checkpoint_index = launch.checkpoint_index
        self._started = time.monotonic()
        self._last_report = self._started
        storage = launch.storage
        self._uploader = None if storage is None else CheckpointUploader(storage, self._uploaded)
        self._restored: Checkpoint | None = None
        self._download_dir: str | None = None

    # -- the trial's side -------------------------------------------------------------------

    def get_context(self) -> TrialContext:
        return self._launch.context

    def get_checkpoint(self) -> Checkpoint | None:
        """The checkpoint to resume from, as a local directory: a remote one is downloaded once,
        here, where the trial runs (no node needs the files of another)."""
        checkpoint = self._launch.checkpoint
        if checkpoint is None or checkpoint.remote is None:
            return checkpoint
        if self._restored is None:
            self._download_dir = tempfile.mkdtemp(prefix=f"restore_{self._launch.trial_id}_")
            self._restored = Checkpoint(checkpoint.to_directory(self._download_dir))
        return self._restored

    def report(self, metrics: Mapping[str, Any], checkpoint: Checkpoint | None = None) -> None:
        clashes = sorted(set(metrics) & _SESSION_KEYS)
        if clashes:
            raise ValueError(
                f"Trial {self._launch.trial_id}: report() got {clashes}, which the session fills in "
                "itself; rename these metrics"
            )
        self._iteration += 1
        now = time.monotonic()
        result = {
            **metrics,
            result_keys.TRAINING_ITERATION: self._iteration,
            result_keys.TIME_THIS_ITER_S: now - self._last_report,
            result_keys.TIME_TOTAL_S: self._launch.time_offset_s + now - self._started,
            result_keys.TIMESTAMP: time.time(),
            result_keys.TRIAL_ID: self._launch.trial_id,
        }
        self._last_report = now
        kept = self._persist(checkpoint) if checkpoint is not None else None
        due = self._decision_points is None or self._iteration in self._decision_points
        if kept is not None and self._uploader is not None:
            self._uploader.raise_failure()
            self._push(TrialReported(self._launch.trial_id, result, None, awaits_decision=due, uploading=True))
            # In the background: the trial trains on while the driver hears of it once it is there. Submitted
            # after the result went out, so the driver always hears of the result before of its upload.
            self._uploader.submit(Path(kept.path), f"{Path(kept.path).parent.name}/{Path(kept.path).name}", result)
        else:
            self._push(TrialReported(self._launch.trial_id, result, kept, awaits_decision=due))
        if due:
            self._await_verdict()
        elif self._stop_requested:
            raise TrialStopped

    def _persist(self, checkpoint: Checkpoint) -> Checkpoint:
        """Copy the checkpoint into the trial directory before ``report`` returns."""
        target = Path(self._launch.context.trial_dir) / checkpoint_dirname(self._checkpoint_index)
        self._checkpoint_index += 1
        if Path(checkpoint.path).resolve() != target.resolve():
            # Only a run the journal never heard of (its process died before the driver got the report)
            # can have left this directory: none of its files belong to the new checkpoint.
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(checkpoint.path, target)
        return Checkpoint(target)

    def _uploaded(self, path: str, result: dict[str, Any]) -> None:
        self._push(TrialCheckpointed(self._launch.trial_id, path, result))

    def _push(self, event: TrialEvent) -> None:
        with self._condition:
            while len(self._events) >= self._max_buffered and not self._stop_requested:
                self._condition.wait()
            self._events.append(event)
            self._condition.notify_all()
        if self._on_event is not None:
            self._on_event()

    def _await_verdict(self) -> None:
        with self._condition:
            while self._verdict is None and not self._stop_requested:
                self._condition.wait()
            verdict, self._verdict = self._verdict, None
        if self._stop_requested or verdict is not Decision.CONTINUE:
            raise TrialStopped

    # -- the executor's side ----------------------------------------------------------------

    def run(self, trainable: Callable[[dict[str, Any]], Any]) -> None:
        """Run ``trainable`` to its end with this session bound; always ends with a TrialEnded."""
        trial_id = self._launch.trial_id
        ending: TrialEnded
        try:
            with bind_session(self):
                output = trainable(self._launch.config)
                if isinstance(output, Mapping):
                    self.report(output)  # Ray Tune's convention: a returned dict is a final result
        except TrialStopped:
            ending = TrialEnded(trial_id, stopped=True)
        except BaseException as error:
            ending = TrialEnded(trial_id, error=_user_traceback(error), exception=_portable(error))
        else:
            ending = TrialEnded(trial_id)
        try:
            self._close_storage()  # a paused trial resumes from what it uploaded: all of it is there first
        except Exception as error:
            if ending.error is None:
                ending = TrialEnded(trial_id, error="".join(traceback.format_exception_only(type(error), error)))
        finally:
            self._push(ending)
            with self._condition:
                self._ended = True
                self._condition.notify_all()

    def _close_storage(self) -> None:
        if self._download_dir is not None:
            shutil.rmtree(self._download_dir, ignore_errors=True)
        if self._uploader is not None:
            self._uploader.close()

    def take_events(self, timeout: float | None, linger_s: float = 0.0) -> list[TrialEvent]:
        """Everything reported since the last call; waits up to ``timeout`` for at least one event.

        With ``linger_s``, a batch that needs no prompt answer is held up to that long for more
        events: across a process boundary every call is a round trip, and results that await no
        decision lose nothing by arriving together. A report awaiting a decision or carrying a
        checkpoint (what a retry after a crash resumes from), the trial's end, or a half-full buffer
        returns at once.
        """
        with self._condition:
            if not self._events and not self._ended:
                self._condition.wait(timeout)
            if linger_s > 0 and self._events:
                deadline = time.monotonic() + linger_s
                while not self._needs_prompt_delivery() and (remaining := deadline - time.monotonic()) > 0:
                    self._condition.wait(remaining)
            events, self._events = self._events, []
            self._condition.notify_all()
            return events

    def _needs_prompt_delivery(self) -> bool:
        last = self._events[-1]
        return (
            self._ended
            or isinstance(last, (TrialEnded, TrialCheckpointed))
            or (isinstance(last, TrialReported) and (last.awaits_decision or last.checkpoint is not None))
            or len(self._events) * 2 >= self._max_buffered
        )

    def decide(self, decision: Decision) -> None:
        """Answer the report that is waiting for a decision."""
        with self._condition:
            self._verdict = decision
            self._condition.notify_all()

    def request_stop(self) -> None:
        """Stop the trial at its next ``report`` (or now, if it is waiting in one)."""
        with self._condition:
            self._stop_requested = True
            self._condition.notify_all()


def _portable(error: BaseException) -> BaseException | None:
    """``error`` if it survives pickling (events may cross a process boundary), else None: the
    traceback text then stands for it."""
    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:
        return None
    return error


def _user_traceback(error: BaseException) -> str:
    """The traceback from the user's code down, without the frames of :meth:`TrialRunSession.run`."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code is TrialRunSession.run.__code__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))
