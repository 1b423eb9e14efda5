"""The Ray actor that hosts trials, one after another when actors are reused."""

from __future__ import annotations

import threading
from typing import Any

import ray

from tune_controller import TrainableFunction, TrialEvent, TrialLaunch, TrialRunSession
from tune_trial import Decision

_LINGER_S = 0.05
"""How long a batch of results that await no decision may wait for more before it is sent."""


class TrialActor:
    """Runs one trial at a time on a thread, and hands its events out in batches.

    The actor is threaded (``max_concurrency`` > 1) so the driver's long-poll for events waits on
    one thread while ``decide`` and ``stop`` arrive on another. Threaded actors do not keep call
    order, so ``start`` itself returns the trial's first batch of events (nothing can poll a trial
    that has not started), and a ``stop`` that overtakes its ``start`` is remembered.
    """

    def __init__(self) -> None:
        self._trainable: TrainableFunction | None = None
        self._trainable_key: str | None = None
        self._lock = threading.Lock()
        self._sessions: dict[str, TrialRunSession] = {}
        self._stopped_early: set[str] = set()
        self._thread: threading.Thread | None = None

    def start(self, trainable_box: list[Any], launch: TrialLaunch, timeout: float) -> list[TrialEvent]:
        """Start a trial and return its first events.

        The trainable arrives as an object reference inside a list, so Ray does not resolve it on
        every call; the actor fetches it once and keeps it while later trials use the same one.
        """
        reference = trainable_box[0]
        if reference.hex() != self._trainable_key:
            self._trainable = ray.get(reference)
            self._trainable_key = reference.hex()
        assert self._trainable is not None
        if self._thread is not None:
            self._thread.join()  # the previous trial has ended: its TrialEnded was delivered
        session = TrialRunSession(launch)
        with self._lock:
            self._sessions = {launch.trial_id: session}
            if launch.trial_id in self._stopped_early:
                self._stopped_early.discard(launch.trial_id)
                session.request_stop()
        self._thread = threading.Thread(
            target=session.run, args=(self._trainable,), name=f"trial-{launch.trial_id}", daemon=True
        )
        self._thread.start()
        return session.take_events(timeout, linger_s=_LINGER_S)

    def take_events(self, trial_id: str, timeout: float) -> list[TrialEvent]:
        return self._sessions[trial_id].take_events(timeout, linger_s=_LINGER_S)

    def decide(self, trial_id: str, decision: Decision) -> None:
        self._sessions[trial_id].decide(decision)

    def stop(self, trial_id: str) -> None:
        with self._lock:
            session = self._sessions.get(trial_id)
            if session is None:
                self._stopped_early.add(trial_id)
            else:
                session.request_stop()
