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
    uploading: bool = False
    """A checkpoint came with the result and is being uploaded; a ``TrialCheckpointed`` follows."""


@dataclass(frozen=True)
class TrialCheckpointed:
    """A checkpoint reported with ``result`` is now in the experiment's remote storage, at ``path``
    (relative to the experiment's directory). Only for remote storage, where uploads run in the
    background: a local checkpoint is in place when its ``TrialReported`` is sent."""

    trial_id: str
    path: str
    result: dict[str, Any]


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


TrialEvent = TrialReported | TrialCheckpointed | TrialEnded
