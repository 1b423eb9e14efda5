"""Trial statuses and the transitions between them.

The table is the single source of truth for every component: the controller validates each move
against it, and the scheduler conformance kit checks that decisions only ask for legal moves.
"""

from __future__ import annotations

from enum import Enum


class TrialStatus(str, Enum):
    """Where a trial is in its life."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"

    @property
    def is_finished(self) -> bool:
        """Finished trials never run again (unless a restore is asked to restart errored ones)."""
        return self in (TrialStatus.TERMINATED, TrialStatus.ERROR)


_LEGAL_TRANSITIONS: dict[TrialStatus, frozenset[TrialStatus]] = {
    # A pending trial can be started, or ended without running (experiment stopped, budget spent).
    TrialStatus.PENDING: frozenset({TrialStatus.RUNNING, TrialStatus.TERMINATED, TrialStatus.ERROR}),
    # A running trial that fails may be retried: RUNNING -> PENDING goes back to the queue.
    TrialStatus.RUNNING: frozenset(
        {TrialStatus.PAUSED, TrialStatus.TERMINATED, TrialStatus.ERROR, TrialStatus.PENDING}
    ),
    TrialStatus.PAUSED: frozenset(
        {TrialStatus.RUNNING, TrialStatus.PENDING, TrialStatus.TERMINATED, TrialStatus.ERROR}
    ),
    TrialStatus.TERMINATED: frozenset(),
    # Restoring an experiment with ``restart_errored`` sends an errored trial back to the queue.
    TrialStatus.ERROR: frozenset({TrialStatus.PENDING}),
}


def is_legal_transition(current: TrialStatus, new: TrialStatus) -> bool:
    """Whether a trial in ``current`` may move to ``new``."""
    return new in _LEGAL_TRANSITIONS[current]


def legal_transitions(current: TrialStatus) -> frozenset[TrialStatus]:
    """The statuses a trial in ``current`` may move to."""
    return _LEGAL_TRANSITIONS[current]
