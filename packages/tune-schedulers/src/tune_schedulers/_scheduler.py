"""The TrialScheduler contract: pure decisions about trials, given their results.

A scheduler never calls into a controller or an executor. It is told about trials and results and
answers with a :class:`~tune_trial.Decision`, so it can be embedded in a plain training loop.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from tune_trial import Action, Decision, Trial


class TrialScheduler:
    """Base class of every scheduler; the defaults let every trial run to its end."""

    CONTINUE = Decision.CONTINUE
    PAUSE = Decision.PAUSE
    STOP = Decision.STOP

    def __init__(self, metric: str | None = None, mode: str | None = None) -> None:
        if mode not in (None, "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'min' or 'max', got {mode!r}")
        self.metric = metric
        self.mode = mode

    needs_metric: ClassVar[bool] = False
    """Whether decisions read the metric: then a metric and a mode are required before trials start."""

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        """Receive the experiment's metric and mode where the scheduler was given none.

        A scheduler that needs them and still has none raises here, before any trial starts.
        """
        if self.metric is None:
            self.metric = metric
        if self.mode is None:
            self.mode = mode
        if self.needs_metric and (self.metric is None or self.mode not in ("min", "max")):
            raise ValueError(
                f"{type(self).__name__} needs a metric and a mode ('min' or 'max'), got metric={self.metric!r}, "
                f"mode={self.mode!r}: pass them to the scheduler or to TuneConfig"
            )
        return True

    def milestones(self) -> Collection[int] | None:
        """Iterations at which this scheduler may decide something other than CONTINUE.

        ``None`` means any result may matter, so an executor delivers every result before the
        trial goes on. An empty collection means no decision is ever due: trials may run ahead,
        with results streamed back in batches.
        """
        return None

    def on_trial_add(self, trial: Trial) -> None:
        """A new trial joined the experiment.

        After :meth:`set_state`, a controller adds its unfinished trials again: for a trial the
        state already knows, this must change nothing.
        """

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Action:
        """A trial reported; say what it should do next: a Decision, or a request as data (PBT's
        ``Exploit``, ``ChangeResources``) that the controller carries out."""
        return Decision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: Mapping[str, Any] | None) -> None:
        """A trial finished by itself (its trainable returned)."""
        self._forget(trial.trial_id)

    def on_trial_error(self, trial: Trial) -> None:
        """A trial failed."""
        self._forget(trial.trial_id)

    def on_trial_remove(self, trial: Trial) -> None:
        """A trial was stopped by someone other than this scheduler (a stopper, the user)."""
        self._forget(trial.trial_id)

    def _forget(self, trial_id: str) -> None:
        """The trial is over, however it ended: drop what is kept about it (nothing, by default)."""

    def on_no_more_trials(self) -> None:
        """The searcher will add no more trials: stop waiting for groups to fill (synchronous HyperBand)."""

    def pop_decisions(self) -> list[tuple[str, Action]]:
        """Decisions about other trials, made since the last call (then forgotten).

        A decision about one trial can settle others: when synchronous HyperBand halves a bracket,
        its paused losers are stopped; when synchronous PBT perturbs, paused trials exploit others.
        The controller asks after every result and carries them out, running or waiting.
        """
        return []

    def choose_trial_to_run(self, candidates: Sequence[Trial]) -> Trial | None:
        """Which of the waiting trials (pending or paused, oldest first) to start next.

        ``None`` means none of these now: a controller then creates a new trial, if its searcher has
        one, and asks again. Waiting trials that are never chosen are ended with the experiment.
        """
        return candidates[0] if candidates else None

    def get_state(self) -> dict[str, Any]:
        """JSON-able state, enough for :meth:`set_state` to continue with identical decisions."""
        return {"metric": self.metric, "mode": self.mode}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.metric = state["metric"]
        self.mode = state["mode"]


class FIFOScheduler(TrialScheduler):
    """Runs trials in the order they were added, each to its end."""

    def milestones(self) -> Collection[int]:
        return ()
