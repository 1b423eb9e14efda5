"""What executors tell the controller about running trials.

Events are plain picklable data so they can cross a process boundary (a Ray actor) unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tune_trial import Checkpoint


@dataclass(frozen=True)
class TrialReported:
    """One ``report`` call. When ``awaits_decision`` is set the trial is blocked until
    the controller answers with :meth:`Executor.decide`."""

    trial_id: str
    result: dict[str, Any]
    checkpoint: Checkpoint | None
    awaits_decision: bool


@dataclass(frozen=True)
class TrialEnded:
    """The trial's run is over: it returned, was stopped on request, or raised.

    ``error`` holds the user's traceback, with the executor's own frames cut off; ``exception`` the
    exception itself when it could be pickled (``FailureConfig(fail_fast="raise")`` re-raises it).
    """

    trial_id: str
    stopped: bool = False
    error: str | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)


TrialEvent = TrialReported | TrialEnded
