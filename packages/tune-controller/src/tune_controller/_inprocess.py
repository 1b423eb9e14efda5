"""Runs trials on threads of the driver's own process: for tests, debugging, and machines without Ray."""

from __future__ import annotations

import os
import queue
import threading

from tune_controller._events import TrialEnded, TrialEvent
from tune_controller._executor import Executor, TrainableFunction
from tune_controller._session import TrialLaunch, TrialRunSession
from tune_controller._trainable import release_kept_trainables
from tune_trial import Decision, Resources


class InProcessExecutor(Executor):
    """One thread per running trial, limited by a CPU count (the machine's, by default).

    Trials share the interpreter, so CPU-bound pure-Python trainables do not run in parallel; the
    point is a faithful, dependency-free run of the same controller logic that drives Ray.
    """

    def __init__(self, num_cpus: float | None = None) -> None:
        self._num_cpus = float(num_cpus if num_cpus is not None else os.cpu_count() or 1)
        self._used_cpus = 0.0
        self._trainable: TrainableFunction | None = None
        self._sessions: dict[str, TrialRunSession] = {}
        self._resources: dict[str, Resources] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._wakeups: queue.SimpleQueue[str] = queue.SimpleQueue()

    def setup(self, trainable: TrainableFunction) -> None:
        self._trainable = trainable

    def total_resources(self) -> Resources:
        return Resources(cpu=self._num_cpus)

    def can_start(self, resources: Resources) -> bool:
        return self._used_cpus + resources.cpu <= self._num_cpus

    def check_feasible(self, trial_id: str, resources: Resources) -> None:
        if resources.cpu > self._num_cpus:
            raise ValueError(
                f"Trial {trial_id} needs {resources.cpu:g} CPUs but the in-process executor has {self._num_cpus:g}"
            )
        missing = [name for name in resources.as_dict() if name not in ("CPU", "memory")]
        if missing:
            raise ValueError(
                f"Trial {trial_id} needs {', '.join(missing)}, which the in-process executor does "
                "not provide; run it on Ray (tune-ray-exec)"
            )

    def start(self, launch: TrialLaunch, resources: Resources) -> None:
        if self._trainable is None:
            raise RuntimeError("InProcessExecutor.start() called before setup()")
        trial_id = launch.trial_id
        session = TrialRunSession(launch, on_event=lambda: self._wakeups.put(trial_id))
        thread = threading.Thread(target=session.run, args=(self._trainable,), name=f"trial-{trial_id}", daemon=True)
        self._sessions[trial_id] = session
        self._resources[trial_id] = resources
        self._threads[trial_id] = thread
        self._used_cpus += resources.cpu
        thread.start()

    def poll(self, timeout: float) -> list[TrialEvent]:
        try:
            ready = {self._wakeups.get(timeout=timeout)}
        except queue.Empty:
            return []
        while True:
            try:
                ready.add(self._wakeups.get_nowait())
            except queue.Empty:
                break
        events: list[TrialEvent] = []
        for trial_id in ready:
            session = self._sessions.get(trial_id)
            if session is None:
                continue
            batch = session.take_events(timeout=0)
            events.extend(batch)
            if any(isinstance(event, TrialEnded) for event in batch):
                self._release(trial_id)
        return events

    def _release(self, trial_id: str) -> None:
        del self._sessions[trial_id]
        self._used_cpus -= self._resources.pop(trial_id).cpu
        self._threads.pop(trial_id).join()

    def decide(self, trial_id: str, decision: Decision) -> None:
        self._sessions[trial_id].decide(decision)

    def stop(self, trial_id: str) -> None:
        session = self._sessions.get(trial_id)
        if session is not None:
            session.request_stop()

    def shutdown(self) -> None:
        for session in self._sessions.values():
            session.request_stop()
        for thread in self._threads.values():
            thread.join()
        self._sessions.clear()
        self._threads.clear()
        self._resources.clear()
        # Trials ran in this process: the class Trainables kept for reuse would outlive the experiment.
        release_kept_trainables()
        self._used_cpus = 0.0
