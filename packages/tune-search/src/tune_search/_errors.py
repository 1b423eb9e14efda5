"""Errors of tune-search."""

from tune_trial import TuneError


class SearchFinishedError(TuneError):
    """``ask()`` on a searcher that will never suggest again (its grid or budget is exhausted)."""


class SearcherBusyError(TuneError):
    """``ask()`` on a searcher that asks to wait (for example a concurrency limit is reached)."""
