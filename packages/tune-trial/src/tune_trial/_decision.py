"""What a scheduler tells the controller to do with a trial after one of its results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tune_trial._resources import Resources


class Decision(str, Enum):
    """A scheduler's verdict on a trial.

    Schedulers that need more than these three (PBT's exploit) return the request as data next to
    the verdict; they never act on a trial themselves.
    """

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"


@dataclass(frozen=True)
class Exploit:
    """A scheduler's request (PBT's exploit step): pause this trial, then restart it from the latest
    checkpoint of ``source_trial_id`` with ``config``.

    The controller carries it out; the scheduler only states it, so it stays a pure decision maker.
    """

    source_trial_id: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class ChangeResources:
    """A scheduler's request (ResourceChangingScheduler): pause this trial, then restart it from its
    latest checkpoint with ``resources``."""

    resources: Resources


Action = Decision | Exploit | ChangeResources
"""Everything ``TrialScheduler.on_trial_result`` may answer."""
