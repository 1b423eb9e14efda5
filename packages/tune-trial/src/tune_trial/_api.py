"""The in-trial API: the only functions training code needs to import.

Whichever executor runs the trial binds a :class:`TrialSession` to a context variable for the
duration of the trial; these functions forward to it. Training code therefore depends on this
standard-library-only package and nothing else, and runs unchanged in-process or in a Ray actor.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from tune_trial._checkpoint import Checkpoint
from tune_trial._context import TrialContext
from tune_trial._errors import NoActiveTrialError


class TrialSession(Protocol):
    """What an executor provides to the trial it runs."""

    def report(self, metrics: Mapping[str, Any], checkpoint: Checkpoint | None = None) -> None: ...

    def get_checkpoint(self) -> Checkpoint | None: ...

    def get_context(self) -> TrialContext: ...


_active_session: contextvars.ContextVar[TrialSession | None] = contextvars.ContextVar(
    "tune_trial_session", default=None
)


@contextlib.contextmanager
def bind_session(session: TrialSession) -> Iterator[None]:
    """Make ``session`` the target of the in-trial API in the current context (an executor's job)."""
    token = _active_session.set(session)
    try:
        yield
    finally:
        _active_session.reset(token)


def _session(function_name: str) -> TrialSession:
    session = _active_session.get()
    if session is None:
        raise NoActiveTrialError(
            f"{function_name}() was called outside a trial: call it from a trainable that a Tuner "
            "(or another executor of tune trials) is running"
        )
    return session


def report(metrics: Mapping[str, Any], checkpoint: Checkpoint | None = None) -> None:
    """Report ``metrics`` for the current iteration, optionally with a checkpoint.

    When a checkpoint is given, its directory has been copied to the trial's storage by the time
    this returns. The call may block while the scheduler decides about this trial, and stops the
    trial (by raising an exception the executor handles) when the trial was told to stop.
    """
    _session("report").report(metrics, checkpoint)


def get_checkpoint() -> Checkpoint | None:
    """The checkpoint this trial was started or restored from, if any."""
    return _session("get_checkpoint").get_checkpoint()


def get_context() -> TrialContext:
    """The running trial's id, name, directory, experiment and resources."""
    return _session("get_context").get_context()
