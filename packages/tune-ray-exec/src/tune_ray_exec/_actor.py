"""The Ray actor that hosts trials, one after another when actors are reused."""

from __future__ import annotations

import threading
from typing import Any

import ray

from tune_controller import (
    TrainableFunction,
    TrialEnded,
    TrialEvent,
    TrialLaunch,
    TrialRunSession,
    release_kept_trainables,
)
from tune_trial import Decision

_LINGER_S = 0.05
"""How long a batch of results that await no decision may wait for more before it is sent."""


class TrialActor:
    """Runs one trial at a time on a thread, and hands its events out in batches.

    The actor is threaded (``max_concurrency`` > 1) so the driver's long-poll for events waits on
    one thread while ``decide`` and ``stop`` arrive on another. Threaded actors do not keep call
    order, so ``start`` itself returns the trial's first batch of events (nothing can poll a trial
    that has not started), and a ``stop`` that overtakes its ``start`` is remembered.

    A trial told to stop or pause at a decision point is still unwinding when the driver already
    queues its successor here: ``start`` waits for the previous trial's thread, and each trial's
    session stays until its ``TrialEnded`` has been handed out.
    """

    def __init__(self) -> None:
        self._trainable: TrainableFunction | None = None
        self._trainable_key: str | None = None
        self._lock = threading.Lock()
        self._sessions: dict[str, TrialRunSession] = {}
        self._stopped_early: set[str] = set()
        self._thread: threading.Thread | None = None

    def start(self, trainable_box: list[Any] | None, launch: TrialLaunch, timeout: float) -> list[TrialEvent]:
        """Start a trial and return its first events.

        The trainable arrives as an object reference inside a list, so Ray does not resolve it on
        every call; the actor fetches it once and keeps it. ``None`` means the one it already has.
        """
        if trainable_box is not None and trainable_box[0].hex() != self._trainable_key:
            self._trainable = ray.get(trainable_box[0])
            self._trainable_key = trainable_box[0].hex()
        assert self._trainable is not None, "the driver sent no trainable to a new actor"
        if self._thread is not None:
            self._thread.join()  # the previous trial has ended, or is unwinding after a stop
        session = TrialRunSession(launch)
        with self._lock:
            self._sessions[launch.trial_id] = session
            if launch.trial_id in self._stopped_early:
                self._stopped_early.discard(launch.trial_id)
                session.request_stop()
        self._thread = threading.Thread(
            target=session.run, args=(self._trainable,), name=f"trial-{launch.trial_id}", daemon=True
        )
        self._thread.start()
        return self.take_events(launch.trial_id, timeout)

    def take_events(self, trial_id: str, timeout: float) -> list[TrialEvent]:
        events = self._sessions[trial_id].take_events(timeout, linger_s=_LINGER_S)
        if events and isinstance(events[-1], TrialEnded):
            with self._lock:
                del self._sessions[trial_id]
        return events

    def decide(self, trial_id: str, decision: Decision) -> None:
        self._sessions[trial_id].decide(decision)

    def release_kept_trainables(self) -> None:
        """Clean up the class Trainable instances kept here for reuse, before the actor is killed
        (``ray.kill`` skips ``atexit``, so without this their ``cleanup`` would never run)."""
        release_kept_trainables()

    def stop(self, trial_id: str) -> None:
        with self._lock:
            session = self._sessions.get(trial_id)
            if session is None:
                self._stopped_early.add(trial_id)
            else:
                session.request_stop()
