"""The root of every error this project raises, so callers can catch them all in one clause."""


class TuneError(Exception):
    """Base class for errors raised by any tune package."""


class TrialTransitionError(TuneError):
    """A trial was asked to move to a status its current status cannot lead to."""


class NoActiveTrialError(TuneError):
    """An in-trial function (``report``, ``get_checkpoint``…) was called outside a running trial."""
