"""The Executor contract: where and how trials run, as the controller sees it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from tune_controller._events import TrialEvent
from tune_controller._session import TrialLaunch
from tune_trial import Decision, Resources

TrainableFunction = Callable[[dict[str, Any]], Any]

RESOURCES_ATTRIBUTE = "__tune_resources__"
"""Where ``with_resources`` records a trainable's per-trial resources."""


class Executor(ABC):
    """Runs trials and streams their events back.

    The controller calls :meth:`setup` once, then starts trials while :meth:`can_start` allows,
    and drains events with :meth:`poll`. Every started trial ends with exactly one ``TrialEnded``.
    """

    @abstractmethod
    def setup(self, trainable: TrainableFunction) -> None:
        """Prepare to run ``trainable`` (ship it to workers once, not once per trial)."""

    @abstractmethod
    def total_resources(self) -> Resources:
        """Everything the executor can run trials on (after ``setup``)."""

    @abstractmethod
    def can_start(self, resources: Resources) -> bool:
        """Whether a trial needing ``resources`` could start now."""

    @abstractmethod
    def check_feasible(self, trial_id: str, resources: Resources) -> None:
        """Raise ``ValueError`` naming the trial and the resource if it can never be satisfied."""

    @abstractmethod
    def start(self, launch: TrialLaunch, resources: Resources) -> None:
        """Start (or resume, when ``launch.checkpoint`` is set) a trial."""

    @abstractmethod
    def poll(self, timeout: float) -> list[TrialEvent]:
        """Every event ready now; waits up to ``timeout`` seconds when there is none."""

    @abstractmethod
    def decide(self, trial_id: str, decision: Decision) -> None:
        """Answer a ``TrialReported`` that had ``awaits_decision`` set."""

    @abstractmethod
    def stop(self, trial_id: str) -> None:
        """Ask a trial to stop; its ``TrialEnded(stopped=True)`` follows."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop everything still running and release workers."""
