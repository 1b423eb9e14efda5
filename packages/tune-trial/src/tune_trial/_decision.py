"""What a scheduler tells the controller to do with a trial after one of its results."""

from __future__ import annotations

from enum import Enum


class Decision(str, Enum):
    """A scheduler's verdict on a trial.

    Schedulers that need more than these three (PBT's exploit) return the request as data next to
    the verdict; they never act on a trial themselves.
    """

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"
